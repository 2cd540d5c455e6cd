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

# written_after <since> <file>...: waits (2 s at most) until every existing
# <file> was modified after <since> (`date +%s.%N`). sipp with -trace_counts
# -fd 1 rewrites its counts every second (tls_uas.py its JSON every 0.2 s):
# a dump after <since> holds everything that happened before it. Files whose
# writer is gone are waited for until the bound.
written_after() {
    local since=$1 f i stale
    shift
    for i in $(seq 1 20); do
        stale=0
        for f in "$@"; do
            [ -e "$f" ] || continue
            awk -v m="$(stat -c %.3Y "$f")" -v s="$since" 'BEGIN { exit !(m <= s) }' && stale=1
        done
        [ "$stale" = 0 ] && return 0
        sleep 0.1
    done
    return 1
}
