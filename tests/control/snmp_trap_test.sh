#!/usr/bin/env bash
# End to end on the real binaries (issue 7 "must show"): sipedge-control with a
# startup file that configures an unreachable registrar, the HTTP /metrics
# listener and an SNMPv2c trap receiver; Debian's snmptrapd on 127.0.0.1 with a
# private config; curl scrapes /metrics; sipedgectl prints `metrics` raw.
# Checks: the trap with its varbinds in snmptrapd's output, the scrape (200,
# text format 0.0.4, the trap counter), 404, and that the community never
# shows in replies, running-config or logs. Loopback only; every wait bounded;
# both daemons are stopped by PID. Exits 77 when snmptrapd or curl is missing.
#   snmp_trap_test.sh <sipedge-control> <sipedgectl>
set -u
CTL_BIN=$1
CTLI=$2
command -v curl >/dev/null || { echo "curl missing: skipped"; exit 77; }
TRAPD=$(command -v snmptrapd || ls /usr/sbin/snmptrapd 2>/dev/null) || { echo "snmptrapd missing: skipped"; exit 77; }

DIR=$(mktemp -d /tmp/sipedge-ops-e2e.XXXXXX)
TPID= CPID=
cleanup() {
  [ -n "$CPID" ] && kill "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null
  [ -n "$TPID" ] && kill "$TPID" 2>/dev/null && wait "$TPID" 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- snmptrapd:"; cat "$DIR/trapd.out"; echo "--- sipedge-control:"; cat "$DIR/ctl.err"; exit 1; }

free_port() { python3 -c "import socket,sys; s=socket.socket(socket.AF_INET, getattr(socket, sys.argv[1])); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])" "$1"; }
TRAP_PORT=$(free_port SOCK_DGRAM)
HTTP_PORT=$(free_port SOCK_STREAM)
COMM=e2eC0mmunity

printf 'authCommunity log %s\ndoNotRetainNotificationLogs yes\n' "$COMM" > "$DIR/snmptrapd.conf"
SNMP_PERSISTENT_DIR=$DIR "$TRAPD" -f -Lo -C -c "$DIR/snmptrapd.conf" -On -n -M /nonexistent -m "" \
  "udp:127.0.0.1:$TRAP_PORT" > "$DIR/trapd.out" 2>&1 &
TPID=$!
for _ in $(seq 50); do grep -q "NET-SNMP version" "$DIR/trapd.out" && break; sleep 0.1; done
grep -q "NET-SNMP version" "$DIR/trapd.out" || fail "snmptrapd did not start"

cat > "$DIR/edge.conf" <<CONF
add trunk acme
set trunk acme server 1 127.0.0.1:9
set trunk acme identity 100 password pw contact sip:100@127.0.0.1
set trunk acme trap-registration-failures 1
set trunk acme trap-registration-interval 30
set global metrics-http 127.0.0.1:$HTTP_PORT
set global snmp-trap-receiver 127.0.0.1:$TRAP_PORT community $COMM
CONF
"$CTL_BIN" --config "$DIR/edge.conf" --socket "$DIR/ctl.sock" --secrets "$DIR/secrets" --verbose 2> "$DIR/ctl.err" &
CPID=$!
for _ in $(seq 50); do [ -S "$DIR/ctl.sock" ] && break; sleep 0.1; done
[ -S "$DIR/ctl.sock" ] || fail "sipedge-control did not start"

# The first REGISTER goes out within the 10 s start-up spread and times out
# (nothing sends it): one failure = one trap (N = 1). Bounded: 40 s.
for _ in $(seq 400); do grep -q "32473.1.0.1" "$DIR/trapd.out" && break; sleep 0.1; done
TRAPLINE=$(grep "OID: .1.3.6.1.4.1.32473.1.0.1" "$DIR/trapd.out" | head -1)
[ -n "$TRAPLINE" ] || fail "no trap received"
for want in '.1.3.6.1.4.1.32473.1.1.1.0 = STRING: "acme"' '.1.3.6.1.4.1.32473.1.1.2.0 = STRING: "100"' \
            '.1.3.6.1.4.1.32473.1.1.3.0 = STRING: "127.0.0.1:9"' '.1.3.6.1.4.1.32473.1.1.4.0 = Gauge32: 1' \
            '.1.3.6.1.4.1.32473.1.1.5.0 = STRING: "timeout"'; do
  grep -qF "$want" <<<"$TRAPLINE" || fail "trap lacks $want"
done
echo "trap received by snmptrapd:"; echo "  $TRAPLINE"

HDRS=$(curl -s -m 5 -D - -o "$DIR/scrape.txt" "http://127.0.0.1:$HTTP_PORT/metrics") || fail "scrape failed"
grep -q "^HTTP/1.1 200" <<<"$HDRS" || fail "scrape status: $HDRS"
grep -qi "^Content-Type: text/plain; version=0.0.4" <<<"$HDRS" || fail "content type: $HDRS"
grep -qx 'sipedge_trunk_running{trunk="acme"} 1' "$DIR/scrape.txt" || fail "scrape lacks trunk_running"
grep -qx 'sipedge_snmp_traps_total{result="sent"} [1-9][0-9]*' "$DIR/scrape.txt" || fail "scrape lacks the trap counter"
grep -q '^sipedge_notices_total{trunk="acme",kind="registration-failures"} [1-9]' "$DIR/scrape.txt" || fail "no notice counter"
echo "scraped over HTTP: $(wc -l < "$DIR/scrape.txt") lines, e.g."; grep -E '^sipedge_(snmp_traps_total|notices_total|server_health.*failed)' "$DIR/scrape.txt" | sed 's/^/  /'
CODE=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/nope")
[ "$CODE" = 404 ] || fail "/nope answered $CODE"

"$CTLI" --socket "$DIR/ctl.sock" metrics > "$DIR/ctl-metrics.txt" || fail "sipedgectl metrics"
grep -qx 'sipedge_trunks 1' "$DIR/ctl-metrics.txt" || fail "sipedgectl metrics is not raw text"
"$CTLI" --socket "$DIR/ctl.sock" show running-config > "$DIR/rc.txt" || fail "running-config"
grep -qx "set global snmp-trap-receiver 127.0.0.1:$TRAP_PORT stored-community" "$DIR/rc.txt" || fail "running-config lacks the receiver"
"$CTLI" --socket "$DIR/ctl.sock" set global snmp-trap-receiver 127.0.0.1:$TRAP_PORT community $COMM >/dev/null || fail "set receiver"
if grep -q "$COMM" "$DIR/rc.txt" "$DIR/ctl.err" "$DIR/scrape.txt" "$DIR/ctl-metrics.txt"; then fail "community leaked"; fi
echo "PASS"
