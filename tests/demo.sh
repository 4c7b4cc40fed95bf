#!/bin/sh
# make demo: watch a real Squid route Microsoft 365 traffic DIRECT and
# everything else through its parent proxy, using ext_m365_acl.
#
# Runs a private Squid pair (see tests/integration/lib-squid.sh) inside a
# throw-away network namespace, so nothing leaves this machine: the
# "Internet" is a small web server on the namespace's loopback that also
# answers for the real Microsoft 365 addresses used here.  The helper runs on
# the endpoint snapshot built into it (no --data, an empty --state-dir), which
# is what a fresh install uses before the first "m365-direct update".
# Needs root (for the namespace).  Takes a few seconds; stops everything.
set -u

M365_ROOT=$(cd "$(dirname "$0")/.." && pwd) || exit 1
cd "$M365_ROOT" || exit 1
. tests/integration/lib-squid.sh

LS_SKIP_FMT='demo: cannot run the demo here: %s\n'
if [ -z "${LS_IN_NETNS:-}" ]; then
    if ! ls_find_helper >/dev/null; then
        echo "demo: ext_m365_acl is not built yet; run 'make' (or 'make demo') first" >&2
        exit 1
    fi
fi
ls_enter_netns "$M365_ROOT/tests/demo.sh" "$@"

HELPER=$(ls_find_helper) || exit 1
CLI=$(ls_find_cli) || CLI=""

fail() {
    echo "demo: $*" >&2
    for f in child/cache.log parent/cache.log; do
        if [ -f "$LS_DIR/$f" ]; then
            echo "--- last lines of $f:" >&2
            tail -n 15 "$LS_DIR/$f" >&2
        fi
    done
    exit 1
}

# An empty configuration (no extra_direct / never_direct) and an empty state
# directory: the helper falls back to its bundled snapshot.
: >"$LS_DIR/m365-direct.conf"
chown -R proxy:proxy "$LS_DIR"

cat <<'EOF'
m365-direct demo
================
A private Squid ("child", the branch proxy) asks ext_m365_acl about every
request.  Microsoft 365 Optimize/Allow endpoints go DIRECT; everything else
goes to the PARENT (the corporate proxy).  All of this runs in a throw-away
network namespace: the "Internet" is a tiny web server on its loopback.

   curl --> child Squid --DIRECT-------------------------> "Internet"
                        `--PARENT--> parent Squid -------> "Internet"

EOF
printf 'Starting the web server, the parent Squid and the child Squid ... '
ls_start_origin || fail "the test web server did not start"
ls_start_parent || fail "the parent Squid did not start"
ls_start_child "$HELPER" -c "$LS_DIR/m365-direct.conf" \
    --state-dir "$LS_DIR/state" || fail "the child Squid did not start"
echo "done."
echo "  child  Squid: 127.0.0.1:$CHILD_PORT  (includes configs/squid/m365-direct.conf)"
echo "  parent Squid: 127.0.0.1:$PARENT_PORT"
echo

# method | URL as logged | curl arguments | host and port for "m365-direct check"
REQUESTS='GET|http://outlook.office365.com/owa/|http://outlook.office365.com/owa/|outlook.office365.com 80
CONNECT|teams.microsoft.com:443|-p http://teams.microsoft.com:443/|teams.microsoft.com 443
GET|http://contoso.sharepoint.com/sites/demo|http://contoso.sharepoint.com/sites/demo|contoso.sharepoint.com 80
GET|http://[2603:1006::10]/|http://[2603:1006::10]/|2603:1006::10 80
CONNECT|13.107.6.152:443|-p http://13.107.6.152:443/|13.107.6.152 443
GET|http://www.office.com/|http://www.office.com/|www.office.com 80
GET|http://www.example.com/|http://www.example.com/|www.example.com 80
CONNECT|login.example.org:443|-p http://login.example.org:443/|login.example.org 443'

echo "Sending requests through the child Squid:"
echo
printf '  %-7s %-42s %-7s %-17s %s\n' METHOD "URL" ROUTE "HELPER SAID" \
    "$( [ -n "$CLI" ] && echo 'm365-direct check HOST PORT' )"
printf '  %-7s %-42s %-7s %-17s %s\n' ------- \
    ------------------------------------------ ------- ----------------- \
    "$( [ -n "$CLI" ] && echo '---------------------------' )"
echo "$REQUESTS" | while IFS='|' read -r method logged args query; do
    # shellcheck disable=SC2086
    code=$(ls_fetch $args)
    line=$(ls_logline "$method" "$logged")
    hier=$(printf '%s\n' "$line" | awk '{ print $6 }')
    case $hier in
    HIER_DIRECT) route=DIRECT ;;
    *_PARENT) route=PARENT ;;
    "") route="(none)" ;;
    *) route=$hier ;;
    esac
    [ "$code" = 200 ] || route="$route!"
    notes=$(printf '%s\n' "$line" | awk '{ print $8 "/" $9 }')
    check=""
    if [ -n "$CLI" ]; then
        # shellcheck disable=SC2086
        check=$("$CLI" -c "$LS_DIR/m365-direct.conf" --state-dir "$LS_DIR/state" \
            check $query 2>/dev/null | head -n 1 |
            sed -e 's/^.* port [0-9][0-9]*: //' -e 's/^[^ ]*: //')
    fi
    printf '  %-7s %-42s %-7s %-17s %s\n' "$method" "$logged" "$route" "$notes" "$check"
done
echo
cat <<'EOF'
  ROUTE        where the child Squid sent the request (hierarchy code in its
               access.log: HIER_DIRECT = DIRECT, FIRSTUP_PARENT = PARENT);
               a "!" means the request did not get a 200 answer.
  HELPER SAID  the notes ext_m365_acl attached: m365=direct|proxy and the
               Microsoft category (optimize, allow, default, none).
  www.office.com is a Microsoft name, but only in the "Default" category,
  which Microsoft does not ask you to send direct.
EOF
echo

# What the helper told Squid's cache.log (e.g. that its data may be stale).
warn=$(grep 'ext_m365_acl:' "$LS_DIR/child/cache.log" | sed 's/^[0-9\/: |]*//' | sort -u)
if [ -n "$warn" ]; then
    echo "The helper's messages in Squid's cache.log:"
    printf '%s\n' "$warn" | sed 's/^/  /'
    echo
fi
echo "What the child Squid did (its access.log):"
echo "  time           method  URL  status  result  hierarchy  server  m365  category"
grep -v ' GET / 400 ' "$LS_DIR/child/access.log" | sed 's/^/  /'
echo
echo "The Squid snippet used is configs/squid/m365-direct.conf (only the helper"
echo "path was changed).  Stopping everything ..."
ls_stop_all
echo "Done."
