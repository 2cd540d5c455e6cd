#!/usr/bin/env python3
"""examples/ and deploy/ checks.

  examples_test.py configs <sipedge-control> <examples-dir>
      every examples/*.conf loads with `sipedge-control --check --config`, names
      its seed document and section, and its printed running-config loads
      again to the same print (round trip, passwords through --secrets).
  examples_test.py unit <deploy-dir> <binary>
      deploy/sipedge.service passes `systemd-analyze verify` (ExecStart pointed
      at <binary>, since /usr/bin/sipedge is not installed here) without a
      warning about the file, holds the required settings, and
      deploy/sipedge.sysusers passes `systemd-sysusers --dry-run`.
      Exits 77 (skip) when systemd-analyze is absent.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

EXPECTED = {
    "adtran-default.conf": ("seeds/000", "Default SIP Trunk Failover Configuration Example"),
    "adtran-validated.conf": ("seeds/000", "Validated SIP Trunk Failover Configuration Example"),
    "poly-udp.conf": ("seeds/001", "SIP Using UDP and SBC Failover"),
    "poly-tls-reregister.conf": ("seeds/001", "SIP Using TLS, Keep-Alives, and SBC"),
    "cisco-tuned-timers.conf": ("seeds/002", "Retry Count for SIP Invite"),
}

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def configs(ctl, exdir):
    found = sorted(f for f in os.listdir(exdir) if f.endswith(".conf"))
    check(sorted(EXPECTED) == found, f"examples: expected {sorted(EXPECTED)}, found {found}")
    for name in found:
        path = os.path.join(exdir, name)
        text = open(path).read()
        if name in EXPECTED:
            seed, section = EXPECTED[name]
            head = re.sub(r"\s+", " ", " ".join(l.lstrip("# ") for l in text.splitlines() if l.startswith("#")))
            check(seed in head, f"{name}: does not name {seed}")
            check(section in head, f"{name}: does not name section '{section}'")
        with tempfile.TemporaryDirectory(prefix="sipedge-ex-") as d:
            secrets = os.path.join(d, "secrets")
            r1 = run([ctl, "--check", "--config", path, "--secrets", secrets])
            check(r1.returncode == 0, f"{name}: --check rc {r1.returncode}: {r1.stderr.strip()}")
            if r1.returncode != 0:
                continue
            check("add trunk" in r1.stdout, f"{name}: running-config has no trunk")
            check("change-me" not in r1.stdout, f"{name}: a password reached the running-config")
            again = os.path.join(d, "running.conf")
            with open(again, "w") as f:
                f.write(r1.stdout)
            r2 = run([ctl, "--check", "--config", again, "--secrets", secrets])
            check(r2.returncode == 0, f"{name}: reloading the running-config: rc {r2.returncode}: {r2.stderr.strip()}")
            check(r2.stdout == r1.stdout, f"{name}: running-config changed on reload:\n{r1.stdout}\n---\n{r2.stdout}")
            # A typo in the file is refused with file:line (the examples are not lenient).
            bad = os.path.join(d, "bad.conf")
            with open(bad, "w") as f:
                f.write(text + "set trunk nosuch t1 500\n")
            r3 = run([ctl, "--check", "--config", bad])
            check(r3.returncode == 1 and "bad.conf:" in r3.stderr, f"{name}: a bad line was not refused: {r3.stderr}")
        print(f"ok {name}")


def unit(deploy, binary):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        print("systemd-analyze not found: skipped")
        return 77
    src = open(os.path.join(deploy, "sipedge.service")).read()
    for need in ["Type=simple", "RuntimeDirectory=sipedge", "LimitMEMLOCK=infinity", "Restart=on-failure",
                 "--config /etc/sipedge/sipedge.conf", "--socket /run/sipedge/sipedge.sock",
                 "--socket-group sipedge", "Group=sipedge"]:
        check(need in src, f"sipedge.service: missing '{need}'")
    caps = re.search(r"^CapabilityBoundingSet=(.*)$", src, re.M)
    check(caps is not None, "sipedge.service: no CapabilityBoundingSet")
    if caps:
        for cap in ["CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_SYS_RAWIO"]:
            check(cap in caps.group(1).split(), f"sipedge.service: {cap} not in the bounding set")
    with tempfile.TemporaryDirectory(prefix="sipedge-unit-") as d:
        path = os.path.join(d, "sipedge.service")
        with open(path, "w") as f:
            f.write(src.replace("/usr/bin/sipedge ", os.path.abspath(binary) + " "))
        r = run([analyze, "verify", path])
        out = r.stdout + r.stderr
        check(r.returncode == 0, f"systemd-analyze verify rc {r.returncode}: {out}")
        # Unknown or malformed settings are only warnings: refuse them too.
        check("sipedge.service:" not in out, f"systemd-analyze verify warns about the unit: {out}")
        # The check itself catches a broken file.
        with open(path, "w") as f:
            f.write(src.replace("/usr/bin/sipedge ", os.path.abspath(binary) + " ").replace("Type=simple", "Type=bogus"))
        r = run([analyze, "verify", path])
        check("sipedge.service:" in r.stdout + r.stderr, "a bogus Type= was not reported")
    sysusers = shutil.which("systemd-sysusers")
    if sysusers:
        r = run([sysusers, "--dry-run", os.path.abspath(os.path.join(deploy, "sipedge.sysusers"))])
        check(r.returncode == 0, f"systemd-sysusers --dry-run rc {r.returncode}: {r.stderr}")
    print("ok sipedge.service")
    return 0


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("configs", "unit"):
        print(__doc__)
        return 2
    if sys.argv[1] == "configs":
        configs(sys.argv[2], sys.argv[3])
        rc = 0
    else:
        rc = unit(sys.argv[2], sys.argv[3])
    if failures:
        return 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
