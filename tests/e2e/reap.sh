# shellcheck shell=bash
# Sourced by tests/e2e/lib.sh and tests/e2e/pair.sh.

# reap <pid>...: TERM each, wait up to 5 s for them all to go, then KILL what
# is left, then reap them. Bounded: a peer that blocks SIGTERM (sipp was
# seen stuck in a futex with SIGTERM blocked at exit, and an unbounded
# `wait` hung e2e_proxy_sipp until meson's timeout) cannot stall the run.
reap() {
    local k i left
    for k in "$@"; do kill -TERM "$k" 2>/dev/null; done
    for i in $(seq 1 50); do
        left=0
        for k in "$@"; do kill -0 "$k" 2>/dev/null && left=1; done
        [ "$left" = 0 ] && break
        sleep 0.1
    done
    for k in "$@"; do
        if kill -0 "$k" 2>/dev/null; then
            echo "  info pid $k ($(tr '\0' ' ' </proc/$k/cmdline 2>/dev/null | cut -c1-60)) ignored SIGTERM for 5 s: killed"
            kill -KILL "$k" 2>/dev/null
        fi
    done
    for k in "$@"; do wait "$k" 2>/dev/null; done
}
