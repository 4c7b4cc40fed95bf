#!/bin/sh
# Squid integration test: a real Squid 5 runs our helper through the snippet
# we ship (configs/squid/m365-direct.conf) and must send Microsoft 365 traffic
# DIRECT and everything else to its parent, for plain requests and CONNECT,
# host names, IPv4 and IPv6 literals, and keep doing so after the helper is
# killed.  Runs in a private network namespace (see lib-squid.sh); TAP output.
#
#   prove -v -e '' tests/integration/squid.t       (as root, from anywhere)
#   M365_BUILD=build/san prove -e '' tests/integration/squid.t
#   LS_KEEP=1 ...  keeps the temp dir (logs, configs) for a look afterwards.
set -u

M365_ROOT=$(cd "$(dirname "$0")/../.." && pwd) || exit 1
cd "$M365_ROOT" || exit 1
. tests/integration/lib-squid.sh

PLAN=36

if [ -z "${LS_IN_NETNS:-}" ]; then
    if ! HELPER=$(ls_find_helper); then
        echo "1..1"
        echo "not ok 1 - helper built: no ${M365_BUILD:-build/rel}/ext_m365_acl or build/ext_m365_acl (run make)"
        exit 1
    fi
fi
# Re-run this script inside a fresh network namespace (returns only there).
ls_enter_netns "$M365_ROOT/tests/integration/squid.t" "$@"

HELPER=$(ls_find_helper) || { echo "Bail out! helper vanished"; exit 1; }
DATA="$M365_ROOT/tests/data/worldwide-c2025.json"

echo "1..$PLAN"


# want_note DESC METHOD LOGGED_URL M365 CATEGORY: the helper's notes as logged.
want_note() {
    _line=$(ls_logline "$2" "$3")
    _got=$(printf '%s\n' "$_line" | awk '{ print $8 " " $9 }')
    if [ "$_got" = "$4 $5" ]; then
        ok "$1: notes m365=$4 m365_category=$5"
    else
        not_ok "$1: notes m365=$4 m365_category=$5"
        diag "access.log: ${_line:-<none>}"
    fi
}

# ---------------------------------------------------------------- config ---
# The helper's own configuration: one extra_direct, one never_direct.
cat >"$LS_DIR/m365-direct.conf" <<'EOF'
# test configuration for ext_m365_acl
extra_direct = intranet.example.net
never_direct = special.sharepoint.com
EOF
cp "$DATA" "$LS_DIR/endpoints.json"
chown -R proxy:proxy "$LS_DIR"

# 1-2: squid -k parse.  First the shipped file untouched (as an admin would
# include it, with a parent of their own), then the test Squid's config.
cat >"$LS_DIR/parse-shipped.conf" <<EOF
http_port 127.0.0.1:3128
pid_filename $LS_DIR/parse.pid
cache_log $LS_DIR/parse-cache.log
include $M365_ROOT/configs/squid/m365-direct.conf
http_access allow localhost
http_access deny all
cache_peer proxy.example.net parent 3128 0 no-query default
EOF
# parse_clean DESC CONF: "squid -k parse" exits 0 and prints no ERROR,
# WARNING or FATAL line.
parse_clean() {
    _out=$(squid -n "${LS_NS}parse" -k parse -f "$2" 2>&1)
    _rc=$?
    _bad=$(printf '%s\n' "$_out" | grep -E 'ERROR|WARNING|FATAL|Bungled|UNRECOGNIZED|unrecognized')
    if [ $_rc = 0 ] && [ -z "$_bad" ]; then
        ok "$1"
    else
        not_ok "$1"
        diag "exit $_rc" "$_out"
    fi
}
parse_clean "squid -k parse: shipped configs/squid/m365-direct.conf is clean" \
    "$LS_DIR/parse-shipped.conf"

ls_start_origin || { echo "Bail out! origin server did not start"; exit 1; }
ls_start_parent || { echo "Bail out! parent Squid did not start"; exit 1; }
# The child Squid includes configs/squid/m365-direct.conf exactly as shipped,
# except that sed (ls_make_snippet) replaces the installed helper path
# /usr/lib/squid/ext_m365_acl by our build plus these test options:
#   <temp>/bin/ext_m365_acl -c <test conf> --data <test data> --state-dir <empty>
# The shipped line itself supplies concurrency=50 and --concurrency.
if ! ls_start_child "$HELPER" -c "$LS_DIR/m365-direct.conf" \
    --data "$LS_DIR/endpoints.json" --state-dir "$LS_DIR/state"; then
    echo "Bail out! child Squid (with ext_m365_acl) did not start"
    exit 1
fi
parse_clean "squid -k parse: test Squid config (shipped snippet, helper path replaced) is clean" \
    "$LS_DIR/child/squid.conf"

if grep -q -- '--concurrency' "$LS_DIR/child/m365-direct.conf" &&
    grep -q 'concurrency=[1-9]' "$LS_DIR/child/m365-direct.conf"; then
    ok "snippet runs the helper with concurrency=N and --concurrency"
else
    not_ok "snippet runs the helper with concurrency=N and --concurrency"
fi

# ------------------------------------------------------------- plain GET ---
want_route DIRECT "GET outlook.office365.com (Optimize)" \
    GET http://outlook.office365.com/t-get http://outlook.office365.com/t-get
want_note "GET outlook.office365.com" GET http://outlook.office365.com/t-get direct optimize
want_route DIRECT "GET foo.sharepoint.com (*.sharepoint.com Optimize)" \
    GET http://foo.sharepoint.com/t-get http://foo.sharepoint.com/t-get
want_route DIRECT "GET teams.microsoft.com (Allow)" \
    GET http://teams.microsoft.com/t-get http://teams.microsoft.com/t-get
want_note "GET teams.microsoft.com" GET http://teams.microsoft.com/t-get direct allow
want_route PARENT "GET www.office.com (*.office.com Default)" \
    GET http://www.office.com/t-get http://www.office.com/t-get
want_note "GET www.office.com" GET http://www.office.com/t-get proxy default
want_route PARENT "GET www.example.com (not Microsoft 365)" \
    GET http://www.example.com/t-get http://www.example.com/t-get
want_note "GET www.example.com" GET http://www.example.com/t-get proxy none
want_route PARENT "GET outlook.office365.com:8080 (not an M365 port)" \
    GET http://outlook.office365.com:8080/t-port http://outlook.office365.com:8080/t-port

# ---------------------------------------------------- the helper's config ---
want_route DIRECT "GET intranet.example.net (extra_direct)" \
    GET http://intranet.example.net/t-extra http://intranet.example.net/t-extra
want_note "GET intranet.example.net" GET http://intranet.example.net/t-extra direct custom
want_route PARENT "GET special.sharepoint.com (never_direct beats Optimize)" \
    GET http://special.sharepoint.com/t-never http://special.sharepoint.com/t-never

# --------------------------------------------------------------- CONNECT ---
want_route DIRECT "CONNECT outlook.office365.com:443" \
    CONNECT outlook.office365.com:443 -p http://outlook.office365.com:443/t-connect
want_route DIRECT "CONNECT bar.sharepoint.com:443" \
    CONNECT bar.sharepoint.com:443 -p http://bar.sharepoint.com:443/t-connect
want_route PARENT "CONNECT www.office.com:443 (Default)" \
    CONNECT www.office.com:443 -p http://www.office.com:443/t-connect
want_route PARENT "CONNECT login.example.org:443 (not Microsoft 365)" \
    CONNECT login.example.org:443 -p http://login.example.org:443/t-connect

# ---------------------------------------------------------- IP literals ---
want_route DIRECT "GET IPv6 literal [2603:1006::10] (Exchange Optimize prefix)" \
    GET 'http://[2603:1006::10]/t-v6' 'http://[2603:1006::10]/t-v6'
want_note "GET [2603:1006::10]" GET 'http://[2603:1006::10]/t-v6' direct optimize
want_route DIRECT "CONNECT IPv6 literal [2603:1006::10]:443" \
    CONNECT '[2603:1006::10]:443' -p 'http://[2603:1006::10]:443/t-v6c'
want_route DIRECT "CONNECT IPv6 literal [2603:1006:1400::5]:443 (Allow prefix)" \
    CONNECT '[2603:1006:1400::5]:443' -p 'http://[2603:1006:1400::5]:443/t-v6c'
want_note "CONNECT [2603:1006:1400::5]:443" CONNECT '[2603:1006:1400::5]:443' direct allow
want_route PARENT "GET IPv6 literal [2001:db8::10] (not Microsoft 365)" \
    GET 'http://[2001:db8::10]/t-v6' 'http://[2001:db8::10]/t-v6'
want_route PARENT "CONNECT IPv6 literal [2001:db8::10]:443 (not Microsoft 365)" \
    CONNECT '[2001:db8::10]:443' -p 'http://[2001:db8::10]:443/t-v6c'
want_route DIRECT "GET IPv4 literal 13.107.6.152 (Exchange Optimize prefix)" \
    GET http://13.107.6.152/t-v4 http://13.107.6.152/t-v4
want_route DIRECT "CONNECT IPv4 literal 13.107.6.152:443" \
    CONNECT 13.107.6.152:443 -p http://13.107.6.152:443/t-v4c
want_route PARENT "GET IPv4 literal 192.0.2.10 (not Microsoft 365)" \
    GET http://192.0.2.10/t-v4 http://192.0.2.10/t-v4

# Nothing so far may have made the helper complain to cache.log or Squid
# reject an answer.  (Squid names the helper "external_acl_type #HlprN" in
# its own messages; the helper's stderr goes to cache.log verbatim.)
_bad=$(grep -iE 'error|warning|fatal|\bBH\b|unexpected|exited|crash' \
    "$LS_DIR/child/cache.log")
if [ -z "$_bad" ]; then
    ok "cache.log: no helper errors or warnings"
else
    not_ok "cache.log: no helper errors or warnings"
    diag "$_bad"
fi

# ---------------------------------------------------------- helper killed ---
OLD=$(ls_helper_pids)
OLD_LIST=$(printf '%s\n' "$OLD" | tr '\n' ' ')
if [ -n "$OLD" ] && tr '\0' ' ' <"/proc/$(echo "$OLD" | head -n 1)/cmdline" | grep -q -- '--concurrency'; then
    ok "helper running as a child of Squid with --concurrency (pid ${OLD_LIST% })"
else
    not_ok "helper running as a child of Squid with --concurrency"
    diag "helper pids: ${OLD:-none}"
fi
# Kill exactly the child Squid's helper processes (by pid).
# shellcheck disable=SC2086
[ -n "$OLD" ] && kill -KILL $OLD
sleep 0.5
want_route DIRECT "after helper kill: GET after-kill.sharepoint.com" \
    GET http://after-kill.sharepoint.com/t-kill http://after-kill.sharepoint.com/t-kill
want_route PARENT "after helper kill: GET after-kill.example.org" \
    GET http://after-kill.example.org/t-kill http://after-kill.example.org/t-kill
want_route DIRECT "after helper kill: CONNECT contoso.sharepoint.com:443" \
    CONNECT contoso.sharepoint.com:443 -p http://contoso.sharepoint.com:443/t-kill
NEW=$(ls_helper_pids)
NEW_LIST=$(printf '%s\n' "$NEW" | tr '\n' ' ')
_same=""
for p in $NEW; do
    for q in $OLD; do
        [ "$p" = "$q" ] && _same=$p
    done
done
if [ -n "$NEW" ] && [ -z "$_same" ] && kill -0 "$CHILD_PID" 2>/dev/null; then
    ok "Squid replaced the killed helper (old ${OLD_LIST% }, new ${NEW_LIST% }) and kept running"
else
    not_ok "Squid replaced the killed helper and kept running"
    diag "old: $OLD new: $NEW" "$(tail -n 20 "$LS_DIR/child/cache.log")"
fi

if [ "$T" != "$PLAN" ]; then
    echo "# ran $T tests, planned $PLAN"
fi
if [ "$FAILS" != 0 ]; then
    echo "# child cache.log (last 25 lines):"
    tail -n 25 "$LS_DIR/child/cache.log" | sed 's/^/#   /'
    echo "# child access.log:"
    sed 's/^/#   /' "$LS_DIR/child/access.log"
fi
[ "$FAILS" = 0 ]
