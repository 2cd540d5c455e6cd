#!/usr/bin/env python3
"""proxy_e2e twoport: the 802.1Q switch (vlan_switch.py) forwarded the calls'
frames both ways and dropped nothing untagged or in another VLAN.

usage: switch_check.py <switch counts json>"""
import json, sys
c = json.load(open(sys.argv[1]))
ok = c["to_access"] >= 61 and c["to_trunk"] >= 61 and c["dropped_untagged"] == 0 \
    and c["dropped_other_vlan"] == 0
print(("  ok   " if ok else "  FAIL ") + "802.1Q switch: " + json.dumps(c))
sys.exit(0 if ok else 1)
