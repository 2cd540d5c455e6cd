#!/usr/bin/env bash
# Header self-containment (issue 13): every project header compiles on its
# own (`#include "x.h"` and nothing else), so no header depends on what its
# includers happened to include first. One compiler run per header, two at
# a time. Usage: headers.sh <source root> <c++ compiler>
# Exit 0: all compile; 1: some do not (each named with the first errors).
set -u
root=${1:?source root}
cxx=${2:-c++}
cd "$root" || exit 1
flags="-std=c++20 -fsyntax-only -march=x86-64-v2 -Wall -Wno-volatile -I$root"
for p in libdpdk libhs libcares openssl; do
    pkg-config --exists "$p" 2>/dev/null && flags="$flags $(pkg-config --cflags "$p")"
done
list=$(git ls-files 'base/*.h' 'sipparse/*.h' 'failover/*.h' 'dns/*.h' 'dataplane/*.h' 'control/*.h' 'stream/*.h' 'tools/*.h' 2>/dev/null ||
       find base sipparse failover dns dataplane control stream tools -name '*.h')
[ -n "$list" ] || { echo "no headers found"; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export cxx flags out
printf '%s\n' $list | xargs -P 2 -I{} sh -c '
    h={}
    if ! printf "#include \"%s\"\n" "$h" | $cxx $flags -x c++ - -o /dev/null 2>"$out/$(echo "$h" | tr / _).err"; then
        echo "$h" >>"$out/failed"
    fi'
n=$(printf '%s\n' $list | wc -l)
if [ -s "$out/failed" ]; then
    while read -r h; do
        echo "FAIL $h does not compile on its own:"
        head -5 "$out/$(echo "$h" | tr / _).err" | sed 's/^/    /'
    done <"$out/failed"
    echo "$(wc -l <"$out/failed") of $n headers are not self-contained"
    exit 1
fi
echo "ok: $n headers compile on their own"
