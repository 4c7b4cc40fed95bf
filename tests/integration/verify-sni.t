#!/bin/sh
# ext_m365_acl --verify-sni dns end to end: the real helper against a real
# dnsmasq (--host-record entries with TTLs) and a DNS server that never
# answers (dns_slow.py), on loopback in a private network namespace
# (lib-squid.sh).  The cases are in verify_sni.pl, which this script runs
# inside the namespace.  TAP output.
#
#   prove -v -e '' tests/integration/verify-sni.t       (as root)
#   M365_BUILD=build/san prove -e '' tests/integration/verify-sni.t
set -u

M365_ROOT=$(cd "$(dirname "$0")/../.." && pwd) || exit 1
cd "$M365_ROOT" || exit 1
. tests/integration/lib-squid.sh

if [ -z "${LS_IN_NETNS:-}" ]; then
    if ! _h=$(ls_find_helper); then
        echo "1..1"
        echo "not ok 1 - ext_m365_acl built (run make)"
        exit 1
    fi
    if ! command -v dnsmasq >/dev/null 2>&1; then
        echo "1..0 # SKIP dnsmasq not installed"
        exit 0
    fi
fi
ls_enter_netns "$M365_ROOT/tests/integration/verify-sni.t" "$@"

LS_DIR=$LS_DIR LS_PY=$LS_PY /usr/bin/perl \
    "$M365_ROOT/tests/integration/verify_sni.pl"
