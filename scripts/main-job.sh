#!/usr/bin/env bash
# The project's main job until the data plane exists: build (release, in
# build/) when needed, then run sipedge-inspect on the sample capture and
# print a one-line summary. Works from a fresh clone after
# scripts/install-deps.sh. Exit status: 0 when the tool ran (its own exit 1,
# "some message invalid", is expected: the sample holds one on purpose),
# non-zero when the build failed or the tool hit a usage or I/O error.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${SKIP_INSTALL:-0}" = 1 ] || bash scripts/install-deps.sh

capture=tests/data/captures/sample.pcapng
tool=build/control/sipedge-inspect

if [ ! -f build/build.ninja ]; then
  if [ -d build/meson-private ]; then
    meson setup --wipe build --buildtype=release  # a setup that failed half way
  else
    meson setup build --buildtype=release
  fi
fi
ninja -C build control/sipedge-inspect  # no-op when up to date

rc=0
out=$("$tool" --summary "$capture") || rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
  echo "main-job: $tool failed on $capture (exit $rc)" >&2
  exit "$rc"
fi
# One JSON line per message, then {"summary":{...}} (see sipedge-inspect --help).
printf '%s\n' "$out" | sed '$d'
printf '%s\n' "$out" | tail -n 1 | python3 -c '
import json, sys
s = json.load(sys.stdin)["summary"]
print("main-job: %s: %d messages, %d ok, %d invalid, %d incomplete (%d frames)"
      % (sys.argv[1], s["messages"], s["ok"], s["invalid"], s["incomplete"], s["frames"]))
' "$capture"
