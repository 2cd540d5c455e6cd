#!/usr/bin/env python3
"""proxy_e2e multicore: the exit JSON has two workers whose rx_packets,
calls_attempted and handoff_pushed add up to the totals; prints the
per-worker counters.

usage: workers_check.py <stats.json>"""
import json, sys
e = json.load(open(sys.argv[1]))
w = e.get('workers', [])
ok = len(w) == 2
print(("  ok   " if ok else "  FAIL ") + f"workers in the exit JSON: {len(w)} (2 expected)")
for k, tot in (('rx_packets', e['rx']['packets']), ('calls_attempted', e['calls']['attempted']),
               ('handoff_pushed', e['handoff']['pushed'])):
    s = sum(x[k] for x in w)
    print(("  ok   " if s == tot else "  FAIL ") + f"sum of workers' {k} = {s} == total {tot}")
    ok = ok and s == tot
for x in w:
    print("  worker", json.dumps({k: x[k] for k in ('worker', 'rx_packets', 'calls_attempted',
          'sip_responses_rx', 'handoff_pushed', 'handoff_drained', 'arp_shared')}))
sys.exit(0 if ok else 1)
