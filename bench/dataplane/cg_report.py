#!/usr/bin/env python3
"""bench/dataplane: the report of proxy_ir.sh and worker_ir.sh from a callgrind
output file: the instructions collected, per unit, and the N costliest
functions (self) per unit.

  cg_report.py <callgrind.out> <unit> <divisor> [top-N]

<divisor>: a number, or "calls:<name>" for the calls made to functions whose
name contains <name> (counted from the file's call records)."""
import re
import subprocess
import sys


def main():
    path, unit, div = sys.argv[1], sys.argv[2], sys.argv[3]
    top = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    names, total, calls, cur = {}, 0, 0, None
    callee = div[len('calls:'):] if div.startswith('calls:') else None
    for line in open(path):
        m = re.match(r'(c?fn)=\((\d+)\)(?: (.*))?', line)
        if m:
            if m.group(3):
                names[m.group(2)] = m.group(3)
            cur = (m.group(1), names.get(m.group(2), ''))
            continue
        if callee and line.startswith('calls=') and cur and cur[0] == 'cfn' and callee in cur[1]:
            calls += int(line.split()[0][6:])
        if line.startswith('summary:') or line.startswith('totals:'):
            total = int(line.split()[1])
    n = calls if callee else int(div)
    if not total:
        sys.exit('callgrind collected nothing (symbols stripped?)')
    if not n:
        sys.exit(f'no {unit}s counted ({div})')
    print(f'{unit}s {n}')
    print(f'ir_total {total}')
    print(f'ir_per_{unit} {total / n:.0f}')
    if top:
        r = subprocess.run(['callgrind_annotate', path], capture_output=True, text=True).stdout
        rows = [l for l in r.splitlines() if re.match(r'\s*[\d,]+ \(', l)][1:top + 1]
        for l in rows:
            c = int(l.split()[0].replace(',', ''))
            fn = l.split(':', 1)[1].split('(')[0] if ':' in l else l
            print(f'  {c / n:8.0f}  {fn.strip()[:90]}')


if __name__ == '__main__':
    main()
