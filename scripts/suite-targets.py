#!/usr/bin/env python3
"""Prints the ninja targets (paths relative to the build dir) that the tests of
the given suites need: each test's program and what meson lists in its
`depends` (the programs it is given as arguments or told to depend on).

  scripts/suite-targets.py BUILD_DIR SUITE [SUITE ...]
  scripts/suite-targets.py --without BUILD_DIR SUITE [SUITE ...]

scripts/test.sh builds only these in the sanitizer build, which runs a few
suites (the rest of that tree is never run there). With --without it prints
the complement for the release build: every target built by default (the
libraries, sipedge, the tools, the benches, every other suite's programs) less
the programs that only those suites' tests need (they run once, under the
sanitizers). A suite name matches a
test in any of its suites ("integration" matches "integration+dns").
Exits 1, printing nothing, when a suite selects no test (a typo would
otherwise build nothing and pass).
"""
import json
import os
import subprocess
import sys


def main():
    args = sys.argv[1:]
    without = bool(args) and args[0] == "--without"
    if without:
        args = args[1:]
    if len(args) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    build = os.path.abspath(args[0])
    want = set(args[1:])
    intro = lambda what: json.loads(subprocess.check_output(["meson", "introspect", build, what]))
    tests, targets = intro("--tests"), intro("--targets")
    by_id = {t["id"]: t for t in targets}
    files, others, found = set(), set(), set()
    for t in tests:
        suites = set()
        for s in t["suite"]:
            suites |= set(s.split(":")[-1].split("+"))
        hit = suites & want
        found |= hit
        needs = set()
        for d in t.get("depends", []):
            needs.update(by_id[d]["filename"] if d in by_id else [])
        prog = t["cmd"][0] if t["cmd"] else ""
        if prog.startswith(build + os.sep):
            needs.add(prog)
        (files if hit else others).update(needs)
    missing = want - found
    if missing:
        print("suite-targets: no test in suite(s) " + ", ".join(sorted(missing)), file=sys.stderr)
        return 1
    if without:
        every = set()
        for t in targets:
            if t.get("build_by_default", True):
                every.update(t["filename"])
        files = every - (files - others)
    for f in sorted(files):
        if f.startswith(build + os.sep):
            print(os.path.relpath(f, build))
    return 0


if __name__ == "__main__":
    sys.exit(main())
