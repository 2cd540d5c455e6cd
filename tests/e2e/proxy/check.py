#!/usr/bin/env python3
"""proxy_e2e check: "path op value" assertions over one run's files.

usage: check.py <run dir> <assertion>...
Paths: uac.* (the caller's final statistics, uac.csv), edge.* (sipedge's exit
JSON, stats.json), c1.* and c2.* (INVITE/REGISTER/BYE counts of each carrier,
<c>_*_counts.csv). Prints an "ok"/"FAIL" line per assertion and per drop
reason that must stay 0, then sipedge's and the carriers' counters.
Exit 0 when every check holds, 1 otherwise."""
import csv, glob, json, operator, sys
out, asserts = sys.argv[1], sys.argv[2:]
ok = True
def check(cond, what):
    global ok
    print(("  ok   " if cond else "  FAIL ") + what)
    ok = ok and cond
rows = list(csv.reader(open(out + '/uac.csv'), delimiter=';'))
h, last = rows[0], rows[-1]
col = lambda n: int(last[h.index(n)])
data = {'uac': {'created': col('TotalCallCreated'), 'successful': col('SuccessfulCall(C)'),
                'failed': col('FailedCall(C)')}}
try:
    data['edge'] = json.load(open(out + '/stats.json'))
except Exception as e:
    check(False, f"sipedge stats JSON readable ({e})")
    sys.exit(1)
for c in ('c1', 'c2'):
    d = {'invites': 0, 'registers': 0, 'byes': 0}
    files = glob.glob(f"{out}/{c}_*_counts.csv")
    if files:
        r = list(csv.reader(open(files[0]), delimiter=';'))
        for i, n in enumerate(r[0]):
            for k, m in (('invites', '_INVITE_Recv'), ('registers', '_REGISTER_Recv'), ('byes', '_BYE_Recv')):
                if n.endswith(m) and i < len(r[-1]) and r[-1][i]:
                    d[k] += int(r[-1][i])
    data[c] = d
def get(path):
    v = data
    for p in path.split('.'):
        v = v[int(p)] if isinstance(v, list) else v[p]
    return v
ops = {'==': operator.eq, '>=': operator.ge, '<=': operator.le, '>': operator.gt}
for a in asserts:
    lhs, op, rhs = a.split()
    v = sum(get(x) for x in lhs.split('+'))
    check(ops[op](v, int(rhs)), f"{lhs} = {v} {op} {rhs}")
d = data['edge']['drops']
for r in ('sip_parse', 'sip_rewrite', 'sip_foreign_branch', 'txn_exhausted', 'udp_bad_csum',
          'ipv4_bad_csum', 'tx_full', 'mbuf_exhausted', 'timer_exhausted', 'sip_too_big',
          'ipv4_fragment', 'ipv4_frag_malformed', 'ipv4_frag_overlap', 'ipv4_frag_too_many',
          'ipv4_frag_no_room', 'ipv4_frag_timeout'):
    check(d[r] == 0, f"drop {r} == {d[r]}")
e = data['edge']
print("  sipedge:", json.dumps({k: e[k] for k in ('calls', 'transactions', 'control')}))
print("  carriers:", json.dumps({c: data[c] for c in ('c1', 'c2')}))
sys.exit(0 if ok else 1)
