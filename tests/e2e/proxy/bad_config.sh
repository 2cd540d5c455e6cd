# tests/e2e/proxy/bad_config.sh: the startup-file check proxy_e2e.sh runs
# first (sourced; helpers in common.sh and ../lib.sh).

# A refused startup file: sipedge names file and line, exits 1 and starts no
# data plane (the EAL is never initialised, so no namespace is needed).
check_bad_config() {
    echo "== bad-config: a refused startup line"
    printf 'set dataplane address 192.0.2.10/24\nadd trunk carrier\nset trunk carrier t1 20\n' \
        >"$WORK/bad.conf"
    local rc=0
    timeout 20 "$SIPEDGE" --config "$WORK/bad.conf" --socket "$WORK/bad.sock" \
        -- --no-huge -m 512 --no-pci --no-shconf -l 0-1 --file-prefix=${P}bad \
        >"$WORK/bad.out" 2>"$WORK/bad.err" || rc=$?
    [ "$rc" = 1 ] && echo "  ok   exit status 1" || fail "bad-config: exit status $rc, expected 1"
    grep -q "bad.conf:3: t1" "$WORK/bad.err" && echo "  ok   error names bad.conf:3" \
        || fail "bad-config: no file:line in: $(cat "$WORK/bad.err")"
    ! grep -q running "$WORK/bad.err" && [ ! -e "$WORK/bad.sock" ] && echo "  ok   nothing started" \
        || fail "bad-config: sipedge started anyway"
}
