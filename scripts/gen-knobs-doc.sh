#!/usr/bin/env bash
# Regenerates the knob tables of docs/knobs.md from control/knob_table.cc
# (issue 13): builds the small generator (control/knobs_doc_main.cc) in an
# existing meson build directory and rewrites the text between the document's
# "begin generated knobs" and "end generated knobs" markers; the rest of the
# document is left as it is. The ctl_knobs_doc test fails until this is run.
#
#   scripts/gen-knobs-doc.sh [BUILD_DIR]      (default: build)
#   scripts/gen-knobs-doc.sh --check [BUILD_DIR]   exit 1 when docs/knobs.md is stale
set -euo pipefail
cd "$(dirname "$0")/.."
check=()
if [ "${1:-}" = --check ]; then
  check=(--check)
  shift
fi
build=${1:-build}
if [ ! -f "$build/build.ninja" ]; then
  echo "gen-knobs-doc: no meson build in '$build'; run: meson setup $build --buildtype=release" >&2
  exit 2
fi
ninja -C "$build" control/sipedge-knobs-doc
exec "$build/control/sipedge-knobs-doc" "${check[@]}" docs/knobs.md
