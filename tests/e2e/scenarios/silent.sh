# silent-static, silent-static-norecover, silent-dns (sourced by sustained_e2e.sh).
#
# SILENT_RATE calls/s (100) with a 1 s hold for SILENT_SECS (65) s; car1's
# link (the bridge's port to it, lib.sh link_set) goes down at SILENT_DOWN
# (5) s and up again at SILENT_UP (35) s after the caller starts: while down
# nothing reaches car1 or leaves it, without ICMP.
#
# How each check measures:
#  - waited a rollover: the caller's setup time of every call (sipp rtd 1,
#    INVITE first sent -> 200 OK, -trace_rtt -rtt_freq 1), counted when
#    >= the trunk's rollover (read from `show trunk`, default 3 s) less
#    250 ms: sipp's ms clock is read once per loop, a call that waited
#    the 3 s rollover shows 2996 ms; calls not waiting take ~5 ms. The
#    bound is rate x rollover x 1.1.
#  - no call fails at setup: every INVITE answered (a setup time per call);
#    a call failing at teardown is allowed only as a dialog with car1 whose
#    BYE outlived the caller's own timer (see the check), at most rate / 10.
#  - back on car1: the time of the first INVITE car1 receives (its sipp
#    -trace_msg, µs timestamps) after the link came up (epoch taken right
#    before `ip link set ... up`: the delay is never measured short), against monitor-interval x
#    monitor-up-threshold + 1 s (both read from `show trunk`), plus the
#    recover-delay's max if one is set.
#  - the fault took effect: car1 received nothing while its link was down,
#    and at least one call waited a rollover.
#  - the order: car3 (last in the static list, SRV 30) got no INVITE.

silent_run() {  # silent_run <name> <static|dns> <description> <extra config lines...>
    local name=$1 mode=$2 desc=$3; shift 3
    local rate=${SILENT_RATE:-100} secs=${SILENT_SECS:-65} down=${SILENT_DOWN:-5} up=${SILENT_UP:-35}
    begin "$name" "$desc"
    CARRIER_LIFE=$((secs + 60))
    if [ "$mode" = dns ]; then
        dns_ns '@ NAPTR 10 10 "S" "SIP+D2U" "" _sip._udp' \
            '_sip._udp SRV 10 0 5060 car1' '_sip._udp SRV 20 0 5060 car2' '_sip._udp SRV 30 0 5060 car3' \
            'car1 A 192.0.2.21' 'car2 A 192.0.2.22' 'car3 A 192.0.2.23'
        case $? in 0) ;; 77) return 0 ;; *) return ;; esac
    fi
    # car1 answers 200 OK without a 180: a call whose 180 passed just before
    # the link went down and whose 200 did not would wait for Timer C (RFC
    # 3261 16.8, 3 min) at the edge - a provisional-then-silent server, the
    # case of trying-then-dead, not of this one (seen with 180s: one call of
    # 6500 in one run, its INVITE at car1 and never at car2, no answer).
    CARRIER_TRACE=1 carrier 1 c1 answer
    carrier 2 c2 call
    carrier 3 c3 call
    edge_config "$mode" "$@"
    EDGE_DURATION=$((secs + 40)) start_edge || { stop_run; return; }
    if [ "$mode" = dns ]; then
        wait_resolved 192.0.2.23:5060 || { stop_run; return; }
    fi
    local rollover interval upth rdelay
    rollover=$(trunk_knob rollover) interval=$(trunk_knob monitor-interval)
    upth=$(trunk_knob monitor-up-threshold) rdelay=$(trunk_knob recover-delay)
    echo "  knobs: rollover $rollover s, monitor $(trunk_knob monitor), monitor-interval $interval s," \
        "monitor-up-threshold $upth, monitor-down-threshold $(trunk_knob monitor-down-threshold)," \
        "monitor-timeout $(trunk_knob monitor-timeout) s, recover-delay $rdelay"
    # Both probes answered before the calls start: car1 up (bounded, 10 s).
    local i
    for i in $(seq 1 50); do
        ctl --json show servers carrier 2>/dev/null | grep -q '"address":"192.0.2.21:5060"[^}]*"state":"up"' && break
        sleep 0.2
    done
    poll_servers $((secs + 20)) "$out/servers.jsonl"
    uac $((rate * secs)) "$rate"
    sleep_until "$UAC_T0" "$down"; link_set 1 down >"$out/t_down"
    echo "  car1 link down at $(awk -v a="$(cut -d' ' -f1 "$out/t_down")" -v b="$UAC_T0" 'BEGIN{printf "%.2f", a-b}') s"
    sleep_until "$UAC_T0" "$up"; link_set 1 up >"$out/t_up"
    echo "  car1 link up at $(awk -v a="$(cut -d' ' -f1 "$out/t_up")" -v b="$UAC_T0" 'BEGIN{printf "%.2f", a-b}') s"
    uac_wait
    stop_run
    check_py "$SILENT_CHECK" "$rate" "$rollover" "$interval" "$upth" "$rdelay" "$UAC_RC" "$((rate * secs))"
}

# sleep_until <epoch t0> <seconds after t0>
sleep_until() { python3 -c 'import sys, time; time.sleep(max(0.0, float(sys.argv[1]) + float(sys.argv[2]) - time.time()))' "$1" "$2"; }

SILENT_CHECK='
import sys
from sustained_lib import *
out, rate, rollover, interval, upth, rdelay, uac_rc, calls = sys.argv[1:9]
rate, rollover, interval, upth, uac_rc, calls = int(rate), float(rollover), float(interval), int(upth), int(uac_rc), int(calls)
# Link changes: the time just before and just after each `ip link set`.
t_down, t_down_after = epoch(out, "t_down", 0), epoch(out, "t_down", 1)
t_up, t_up_after = epoch(out, "t_up", 0), epoch(out, "t_up", 1)
u = uac_stats(out)
st = [s for _, s in setup_times(out)]
# Every call is set up: its INVITE answered, through a rollover when car1 was silent.
check(u["created"] == calls and len(st) == calls,
      "every call set up: %d created, %d answered (setup time measured) of %d" % (u["created"], len(st), calls))
# A call can still fail at teardown: a BYE of a dialog with car1 sent as car1
# went silent can only be answered by car1 (a dialog does not fail over). The
# edge resends it as soon as car1 answers a probe again (Proxy::revive); a BYE
# sent just before the outage, whose answer was lost, then waited 30 s + the
# probe delay, which can pass the 31.5 s sipp waits itself. Such calls are counted here,
# each checked to be a dialog with car1 aborted on the caller timer after
# its setup; without the resend there were 100 per run.
aborted = aborted_calls(out)
teardown = sum(1 for with_car1 in aborted.values() if with_car1)
check(u["failed"] == teardown and set(u["failed_by"]) <= {"MaxUDPRetrans"},
      "failed calls %d %s: all at teardown, dialogs with car1 (%d)" % (u["failed"], u["failed_by"] or "", teardown))
check(teardown <= rate // 10,
      "calls whose BYE to car1 outlived the caller timer: %d <= rate / 10 = %d" % (teardown, rate // 10))
check(uac_rc == 0 or u["failed"] == teardown, "sipp caller exit status %d" % uac_rc)
check(u["successful"] + u["failed"] == calls, "calls successful %d + failed %d == %d (none left open)"
      % (u["successful"], u["failed"], calls))
waited = [s for s in st if s >= rollover * 1000 - 250]
slow = [s for s in st if 250 <= s < rollover * 1000 - 250]
bound = rate * rollover * 1.1
info("setup times: " + describe(st))
info("setup times of the calls that waited: " + describe(waited))
check(len(waited) >= 1, "the fault was seen: %d call(s) waited a rollover" % len(waited))
check(len(waited) <= bound, "calls that waited a rollover (setup >= %.0f ms - 250): %d <= rate %d x rollover %.0f s x 1.1 = %.0f"
      % (rollover * 1000, len(waited), rate, rollover, bound))
info("calls slower than 250 ms that did not wait a whole rollover: %d %s" % (len(slow), describe(slow) if slow else ""))
m = messages(out, "c1")
rx = [x for x in m if x["dir"] == "recv"]
during = [x for x in rx if t_down_after + 0.05 < x["t"] < t_up]
check(not during, "car1 received nothing while its link was down (%.1f s): %d message(s)" % (t_up - t_down, len(during)))
after_inv = [x for x in rx if x["t"] >= t_up and x["what"] == "INVITE"]
after_opt = [x for x in rx if x["t"] >= t_up and x["what"] == "OPTIONS"]
if after_opt:
    info("first OPTIONS at car1 %.3f s after its link came up" % (after_opt[0]["t"] - t_up))
extra = 0.0
if rdelay not in ("off", "0", ""):
    extra = max(float(x) for x in rdelay.split())
limit = interval * upth + 1 + extra
if after_inv:
    d = after_inv[0]["t"] - t_up
    check(d <= limit, "first INVITE at car1 %.3f s after its link came up <= monitor-interval %.0f x up-threshold %d + 1%s = %.1f s"
          % (d, interval, upth, (" + recover-delay %.0f" % extra) if extra else "", limit))
    info("INVITEs at car1 after it came back: %d" % len(after_inv))
else:
    check(False, "car1 received no INVITE after its link came up (%d OPTIONS)" % len(after_opt))
n3 = counts(out, "c3").get("INVITE_Recv", 0)
check(n3 == 0, "car3 received INVITE %d == 0 (car2 is next in the order while car1 is failed)" % n3)
polls = server_polls(out)
c1 = lambda rows: next((r for r in rows if r["address"].startswith("192.0.2.21:")), None)
gone = next(((t, c1(rows)) for t, rows in polls if t > t_down and c1(rows) and c1(rows)["state"] != "up"), None)
back = next(((t, c1(rows)) for t, rows in polls if t > t_up and c1(rows) and c1(rows)["state"] == "up"), None)
if gone:
    info("show servers (polled every 0.2 s): car1 %s (trigger %s) %.2f s after its link went down"
         % (gone[1]["state"], gone[1]["last_trigger"], gone[0] - t_down))
if back:
    info("show servers: car1 up again (trigger %s) %.2f s after its link came up" % (back[1]["last_trigger"], back[0] - t_up))
for c in ("c1", "c2", "c3"):
    n = counts(out, c)
    info("%s received INVITE %d, OPTIONS %d, BYE %d" % (c, n.get("INVITE_Recv", 0), n.get("OPTIONS_Recv", 0), n.get("BYE_Recv", 0)))
edge_summary(edge_stats(out))
done()
'

run_silent_static() {
    silent_run silent-static static "car1 > car2 > car3 static; car1 silent from 5 s to 35 s of 65 s of calls at 100/s"
}

run_silent_static_norecover() {
    silent_run silent-static-norecover static "silent-static with recover-delay off written out" \
        "set trunk carrier recover-delay off"
}

run_silent_dns() {
    silent_run silent-dns dns "carrier.example (NAPTR -> SRV car1 10, car2 20, car3 30 from knotd); car1 silent from 5 s to 35 s"
}
