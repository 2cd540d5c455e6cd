#!/usr/bin/env python3
"""proxy_e2e big answer: the carrier's 200 OK gets a ~4 KB SDP (40 padding
attribute lines after the rtpmap), fragmented both ways (fragment scenario).

usage: big_answer.py <carrier scenario xml> (rewritten in place)."""
import sys
p = sys.argv[1]
s = open(p).read()
pad = "".join("      a=x-carrier-pad-%02d:%s\n" % (i, "fedcba9876543210" * 5) for i in range(40))
s = s.replace("      a=rtpmap:0 PCMU/8000\n", "      a=rtpmap:0 PCMU/8000\n" + pad, 1)
open(p, "w").write(s)
