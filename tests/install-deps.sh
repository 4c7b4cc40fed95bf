#!/bin/sh
# Installs the Debian packages the build and the tests use, when missing:
# apt-get as root, sudo otherwise, else names what is needed.
#   sh tests/install-deps.sh         what make check, demo and bench need
#   sh tests/install-deps.sh fuzz    that and clang with libFuzzer (make fuzz)
set -eu
# libpcre2-dev: only make bench's baseline (one PCRE2 alternation of the
# patterns) links it; the matcher, helper and command do not.
PKGS="build-essential pkg-config libcjson-dev libpcre2-dev libcmocka-dev
      libcurl4-openssl-dev libpsl-dev openssl strace
      squid-openssl curl python3 perl iproute2 procps time
      haproxy socat python3-pacparser libmaxminddb-dev mmdb-bin
      libmaxmind-db-writer-perl
      nginx-light libnginx-mod-http-geoip2 wrk libc-ares-dev dnsmasq nftables
      dpkg-dev debhelper lintian acl man-db mandoc systemd"
if [ "${1:-}" = fuzz ]; then
	# clang-14 only recommends the libFuzzer and sanitizer runtimes
	PKGS="$PKGS clang libclang-rt-14-dev"
fi
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
if [ "$(id -u)" = 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "please install these Debian packages as root:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
# Debian starts a system Squid, HAProxy, nginx and dnsmasq on install; the
# tests run their own.
if command -v systemctl >/dev/null 2>&1; then
	for s in squid haproxy nginx dnsmasq; do
		$SUDO systemctl disable --now "$s" >/dev/null 2>&1 || true
	done
fi
