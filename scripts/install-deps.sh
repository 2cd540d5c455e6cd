#!/usr/bin/env bash
# Installs every Debian 12 package sipedge needs to build, test, fuzz and benchmark.
# Idempotent; run as root. Skips apt entirely when everything is already present.
set -euo pipefail

PKGS=(
  # build
  build-essential pkg-config meson ninja-build python3
  # libraries (see README "Dependencies")
  libdpdk-dev dpdk libhyperscan-dev libc-ares-dev libjemalloc-dev libpcap-dev
  # TLS for the stream transport (stream/, issue 14)
  libssl-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # comparison parsers for bench/ (issue 2)
  libosip2-dev libsofia-sip-ua-dev
  # fuzzing and sanitizers
  clang libclang-rt-14-dev llvm
  # SNMPv2c registration-failure traps (control/snmp_trap.cc links net-snmp);
  # snmptrapd and snmp (snmptrap) receive and send them in tests/control
  libsnmp-dev snmptrapd snmp
  # peers and tools for integration tests
  sip-tester dnsmasq-base knot knot-dnsutils iproute2 tshark valgrind socat jq
  # curl scrapes the metrics listener; systemd-analyze checks deploy/sipedge.service
  curl systemd
  # openssl makes the test CA and carrier certificates of tests/e2e/tls_e2e.sh
  openssl
)

# --peers: also the programs benchmarks compare sipedge with (issue 15,
# bench/peers/): Kamailio 5.6. Not needed to build or test; its service is
# kept from starting (policy-rc.d) — the benchmark starts its own instance.
PEERS=0
[ "${1:-}" = --peers ] && { PEERS=1; PKGS+=(kamailio); }

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing ${missing[*]}; run as root" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
if [ "$PEERS" = 1 ] && [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}"
