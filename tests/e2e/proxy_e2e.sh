#!/usr/bin/env bash
# End-to-end: sipp UAC -> sipedge (DPDK net_af_packet on a veth) -> sipp
# carriers, each in its own network namespace, all joined by a bridge in a
# fifth one. sipedge runs as it does in production: configured by a startup
# file of socket commands, control loop on the main lcore, one worker lcore,
# routes from the failover engine (RCU-published table), worker events back
# to the engine, the engine's REGISTERs sent through the worker.
#
#   caller 192.0.2.1 (sipp uac)   edge 192.0.2.10 (sipedge, DPDK owns the address)
#   car1   192.0.2.21 (primary)   car2 192.0.2.22 (secondary)
#
# TEST-NET-1 addresses only, inside namespaces this script creates; no
# default route anywhere; nothing is sent from the root namespace. Carriers
# are sipp with uas_carrier.xml (REGISTER and INVITE answers chosen per run;
# -trace_counts gives the per-carrier INVITE/REGISTER counts checked below).
# Scenarios, one file each (run_<name> in proxy/<name>.sh, described there):
#   steady     every call through the primary completes
#   silent     the primary swallows packets: rollover on the timer
#   icmp       nothing listens on the primary: ICMP rolls requests over at once
#   503        INVITE 503 from the primary, failover-on-503 on and off
#   failback   the primary silent, then back after recover-delay 4 s
#   validated  validation register: calls only to the server that accepted it
#   fragment   ~4 KB SDPs: reassembled by sipedge, fragmented again
#   runtime    the trunk changed through sipedgectl under load
#   multicore  two workers, per-worker counters add up to the totals
#   twoport    the carrier on port 1 in VLAN 100 (vlan_switch.py), rollover
#              to port 0
#   dns        the trunk's server carrier.example from knotd (NAPTR/SRV)
# Before them: bad-config (proxy/bad_config.sh), a refused startup file.
# Helpers: proxy/common.sh over lib.sh (what differs from lib.sh is listed
# there); the Python programs next to the scenarios (proxy/*.py). The main
# job's live demo is scripts/lab-demo.sh (same topology and helpers).
# Usage: proxy_e2e.sh <sipedge binary> <this directory> [scenario...]
# Exit 0 pass, 1 fail, 77 skip (not root, no ip netns, no sipp).
set -u

SIPEDGE=${1:?sipedge binary}
HERE=${2:?source directory}
shift 2
ALL="steady silent icmp 503 failback validated fragment runtime multicore twoport dns"
SCENARIOS=${*:-steady silent icmp 503 failback validated fragment runtime}

. "$HERE/lib.sh"
. "$HERE/proxy/common.sh"
for f in bad_config $ALL; do . "$HERE/proxy/$f.sh" || { echo "FAIL: proxy/$f.sh does not load"; exit 1; }; done

proxy_init
FAILED=0
check_bad_config
setup_topology || { echo "FAIL: topology"; exit 1; }
for sc in $SCENARIOS; do
    case " $ALL " in
    *" $sc "*) run_$sc ;;
    *) if [ "$sc" = lab ]; then fail "lab moved to scripts/lab-demo.sh"; else fail "unknown scenario $sc"; fi ;;
    esac
done
[ "$FAILED" = 0 ] && echo "PASS" || echo "FAILED"
exit "$FAILED"
