#!/bin/sh
# "m365-direct update" under a running Squid: the child Squid's ext_m365_acl
# reads the cache in a state dir (no --data, --reload-interval 0); each
# update fetches real HTTPS from tests/integration/endpoints_server.py (in
# the same private network namespace, certificate from a test CA made here
# with openssl) and the running helper must answer with the new data without
# a Squid reconfigure or a helper restart.  A cache file the helper cannot
# read (mode 000: the helper runs as 'proxy') or cannot parse must leave the
# routing on the old data, with the failure in cache.log.  TAP output.
#
#   prove -v -e '' tests/integration/update-squid.t    (as root, from anywhere)
#   LS_KEEP=1 ...  keeps the temp dir (logs, configs, state) for a look afterwards.
#
# Squid itself caches helper answers per %DST %PORT (ttl=600 in the shipped
# snippet), so every check below asks about a host:port not asked before;
# what changes between the stages is only the data the helper loaded.
set -u

M365_ROOT=$(cd "$(dirname "$0")/../.." && pwd) || exit 1
cd "$M365_ROOT" || exit 1
. tests/integration/lib-squid.sh

PLAN=26

# The installed "VERSION INSTANCE": endpoints.json links to
# endpoints-VERSION-INSTANCE.json.
installed_version() {
    readlink "$STATE/endpoints.json" |
        sed -n 's/^endpoints-\([0-9]*\)-\(.*\)\.json$/\1 \2/p'
}

if [ -z "${LS_IN_NETNS:-}" ]; then
    if ! ls_find_helper >/dev/null || ! _cli=$(ls_find_cli); then
        echo "1..1"
        echo "not ok 1 - ext_m365_acl and m365-direct built (run make)"
        exit 1
    fi
    if ! "$_cli" --help 2>&1 | grep -q '\bupdate\b'; then
        echo "1..1"
        echo "not ok 1 - $_cli --help lists the update command"
        exit 1
    fi
    if ! command -v openssl >/dev/null 2>&1; then
        echo "1..0 # SKIP openssl not installed"
        exit 0
    fi
fi
# Re-run this script inside a fresh network namespace (returns only there).
ls_enter_netns "$M365_ROOT/tests/integration/update-squid.t" "$@"

HELPER=$(ls_find_helper) || { echo "Bail out! helper vanished"; exit 1; }
CLI=$M365_ROOT/$(ls_find_cli) || { echo "Bail out! m365-direct vanished"; exit 1; }
WW="$M365_ROOT/tests/data/worldwide-c2025.json"
F="$LS_DIR/feed"            # server, certificates, data variants
STATE="$LS_DIR/m365-state"  # the state dir: written by root, read by 'proxy'
# lib-squid.sh gives the temp dir to 'proxy' (Squid writes in its
# subdirectories only); root's update refuses a state directory whose
# parent another user could change (it could swap the state dir for a link
# anywhere), so the parent is root's, as /var/lib is.
chown root:root "$LS_DIR"
mkdir -p "$F" "$STATE"
chmod 755 "$F" "$STATE"
V1=2025110700 V2=2025112000 V3=2025120100

echo "1..$PLAN"



# ------------------------------------------------------------ certificates ---
_ossl() { openssl "$@" >>"$F/openssl.log" 2>&1; }
_ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$F/ca.key" -out "$F/ca.pem" -days 2 -subj "/CN=m365-direct test CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
        >"$F/server.ext" &&
    _ossl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$F/server.key" -out "$F/server.csr" -subj "/CN=127.0.0.1" &&
    _ossl x509 -req -in "$F/server.csr" -CA "$F/ca.pem" -CAkey "$F/ca.key" \
        -CAcreateserial -out "$F/server.pem" -days 2 -extfile "$F/server.ext"
check $? "openssl made a test CA and a server certificate for 127.0.0.1" "$(cat "$F/openssl.log")"

# -------------------------------------------------------------------- data ---
# V1: the real worldwide file (www.example.com and friends are not M365).
# V2: Allow set 12 (TCP 80,443) also lists four test host names.
# V3: V2 without after-kill.example.org.
"$LS_PY" - "$WW" "$F" <<'EOF'
import json, sys
src, out = sys.argv[1], sys.argv[2]
sets = json.load(open(src))
s12 = next(s for s in sets if s["id"] == 12)
s12["urls"] += ["www.example.com", "login.example.org", "intranet.example.net",
                "after-kill.example.org"]
json.dump(sets, open(out + "/v2.json", "w"), indent=1)
s12["urls"].remove("after-kill.example.org")
json.dump(sets, open(out + "/v3.json", "w"), indent=1)
EOF

# ------------------------------------------------------------------ server ---
# control VERSION DATA: what the server announces and serves (atomically)
control() {
    printf '{"latest": "%s", "data": "%s"}\n' "$1" "$2" >"$F/control.json.tmp" &&
        mv "$F/control.json.tmp" "$F/control.json"
}
control "$V1" "$WW"
"$LS_PY" "$M365_ROOT/tests/integration/endpoints_server.py" --control "$F/control.json" \
    --log "$F/server.log" --port-file "$F/ports" \
    --listen "good=tls,$F/server.pem,$F/server.key" >"$F/server.out" 2>&1 &
LS_PIDS="$LS_PIDS $!"
_n=100
while [ ! -s "$F/ports" ] && [ $_n -gt 0 ]; do
    sleep 0.1
    _n=$((_n - 1))
done
PORT=$("$LS_PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["good"])' "$F/ports" 2>/dev/null)
if [ -z "$PORT" ]; then
    echo "Bail out! endpoints_server.py did not start: $(cat "$F/server.out")"
    exit 1
fi
BASE="https://127.0.0.1:$PORT"

# update [ARGS]: m365-direct update over HTTPS into $STATE; sets RC, OUT, ERR
update() {
    "$CLI" -c /dev/null --state-dir "$STATE" update --base-url "$BASE" \
        --ca-file "$F/ca.pem" --retry-delay 0.05 --timeout 5 "$@" \
        >"$F/update.out" 2>"$F/update.err"
    RC=$?
    OUT=$(cat "$F/update.out")
    ERR=$(cat "$F/update.err")
}
endpoint_requests() { grep -c '"kind": "endpoints"' "$F/server.log"; }

# ------------------------------------------------- first install, Squid up ---
update
[ "$RC" = 0 ] && cmp -s "$STATE/endpoints.json" "$WW" && [ "$(installed_version)" = "$V1 Worldwide" ]
check $? "m365-direct update over HTTPS installs V1 into the state dir" "exit $RC" "stderr: $ERR"

cat >"$LS_DIR/m365-direct.conf" <<'EOF'
# test configuration for ext_m365_acl: defaults only
EOF
chown proxy:proxy "$LS_DIR/m365-direct.conf"

ls_start_origin || { echo "Bail out! origin server did not start"; exit 1; }
ls_start_parent || { echo "Bail out! parent Squid did not start"; exit 1; }
# The helper reads the cache in $STATE (no --data) and looks for a new file
# on every request batch.
if ! ls_start_child "$HELPER" -c "$LS_DIR/m365-direct.conf" --state-dir "$STATE" \
    --reload-interval 0; then
    echo "Bail out! child Squid (with ext_m365_acl) did not start"
    exit 1
fi
SQUID_PID=$CHILD_PID

want_route DIRECT "V1: GET outlook.office365.com (Optimize)" \
    GET http://outlook.office365.com/u1 http://outlook.office365.com/u1
want_route PARENT "V1: GET www.example.com (not Microsoft 365 in V1)" \
    GET http://www.example.com/u1 http://www.example.com/u1
HELPERS_BEFORE=$(ls_helper_pids | sort | tr '\n' ' ' | sed 's/ $//')
[ -n "$HELPERS_BEFORE" ]
check $? "helper running (pids $HELPERS_BEFORE)"
LOADS_BEFORE=$(grep -c "loaded cache" "$LS_DIR/child/cache.log")

# ------------------------------------------------------------- V2 installed ---
control "$V2" "$F/v2.json"
update
[ "$RC" = 0 ] && [ "$(installed_version)" = "$V2 Worldwide" ] && cmp -s "$STATE/endpoints.json" "$F/v2.json"
check $? "update installs V2 over HTTPS (exit 0)" "exit $RC" "stderr: $ERR"
printf '%s\n' "$OUT" | grep -qx '+ www.example.com'
check $? "the change report on stdout lists + www.example.com" "stdout: $OUT"

want_route DIRECT "V2: CONNECT www.example.com:443 (now in Allow set 12)" \
    CONNECT www.example.com:443 -p http://www.example.com:443/u2
want_route DIRECT "V2: GET login.example.org (now in Allow set 12)" \
    GET http://login.example.org/u2 http://login.example.org/u2
want_route DIRECT "V2: GET outlook.office365.com:443 still Optimize" \
    GET http://outlook.office365.com:443/u2 http://outlook.office365.com:443/u2

HELPERS_AFTER=$(ls_helper_pids | sort | tr '\n' ' ' | sed 's/ $//')
[ "$HELPERS_AFTER" = "$HELPERS_BEFORE" ] && [ "$CHILD_PID" = "$SQUID_PID" ] && kill -0 "$SQUID_PID"
check $? "the same helper processes answered (reloaded in place, not restarted), same Squid" \
    "helpers before: $HELPERS_BEFORE" "helpers after:  $HELPERS_AFTER"
LOADS_AFTER=$(grep -c "loaded cache" "$LS_DIR/child/cache.log")
[ "$LOADS_AFTER" -gt "$LOADS_BEFORE" ]
check $? "cache.log: the helper logged loading the new cache ($LOADS_BEFORE -> $LOADS_AFTER 'loaded cache' lines)" \
    "$(tail -n 10 "$LS_DIR/child/cache.log")"

# ------------------------------------------- an unreadable new cache file ---
# A new file (new inode, so the helper notices) that 'proxy' may not read:
# V3's content, mode 000.  The helper must keep V2: after-kill.example.org
# is direct in V2 only (not in V1, the bundled snapshot, nor V3).
FAILS_BEFORE=$(grep -c "reload failed" "$LS_DIR/child/cache.log")
cp "$F/v3.json" "$STATE/.unreadable" && chmod 000 "$STATE/.unreadable" &&
    mv "$STATE/.unreadable" "$STATE/endpoints.json"
check $? "cache replaced by an unreadable file (mode 000)"
want_route DIRECT "unreadable cache: GET after-kill.example.org still answered from V2" \
    GET http://after-kill.example.org/u3 http://after-kill.example.org/u3
_n=$(grep -c "reload failed" "$LS_DIR/child/cache.log")
[ "$_n" -gt "$FAILS_BEFORE" ] &&
    grep "reload failed" "$LS_DIR/child/cache.log" | tail -n 1 | grep -q "endpoints.json: Permission denied"
check $? "unreadable cache: cache.log says the reload failed, naming the file and 'Permission denied'" \
    "$(tail -n 10 "$LS_DIR/child/cache.log")"

# ---------------------------------------------- a garbage new cache file ---
FAILS_BEFORE=$(grep -c "reload failed" "$LS_DIR/child/cache.log")
printf '[{"id": 1, "category": "Optimize", "urls": ["outlook.office365.com"' >"$STATE/.garbage" &&
    chmod 644 "$STATE/.garbage" && mv "$STATE/.garbage" "$STATE/endpoints.json"
check $? "cache replaced by a truncated JSON file"
want_route DIRECT "garbage cache: GET intranet.example.net still answered from V2" \
    GET http://intranet.example.net/u4 http://intranet.example.net/u4
want_route PARENT "garbage cache: GET www.office.com still Default" \
    GET http://www.office.com/u4 http://www.office.com/u4
_n=$(grep -c "reload failed" "$LS_DIR/child/cache.log")
[ "$_n" -gt "$FAILS_BEFORE" ]
check $? "garbage cache: cache.log says the reload failed" "$(tail -n 10 "$LS_DIR/child/cache.log")"

# ----------------------------------------------- V3 repairs it, live ---
control "$V3" "$F/v3.json"
_e=$(endpoint_requests)
update
[ "$RC" = 0 ] && [ "$(installed_version)" = "$V3 Worldwide" ] && cmp -s "$STATE/endpoints.json" "$F/v3.json" &&
    [ "$(endpoint_requests)" -gt "$_e" ]
check $? "update over the broken cache installs V3 (exit 0)" "exit $RC" "stderr: $ERR"
want_route PARENT "V3: CONNECT after-kill.example.org:443 (removed in V3)" \
    CONNECT after-kill.example.org:443 -p http://after-kill.example.org:443/u5
want_route DIRECT "V3: CONNECT login.example.org:443 (still in V3)" \
    CONNECT login.example.org:443 -p http://login.example.org:443/u5
_e=$(endpoint_requests)
update
[ "$RC" = 0 ] && [ "$(endpoint_requests)" = "$_e" ] && printf '%s' "$ERR" | grep -q "is current"
check $? "a second update: version current, no /endpoints request" "exit $RC" "stderr: $ERR"

# ------------------------------------------------------------- no reconfigure ---
HELPERS_END=$(ls_helper_pids | sort | tr '\n' ' ' | sed 's/ $//')
[ "$CHILD_PID" = "$SQUID_PID" ] && kill -0 "$SQUID_PID" && [ "$HELPERS_END" = "$HELPERS_BEFORE" ] &&
    ! grep -qi "reconfiguring" "$LS_DIR/child/cache.log"
check $? "no Squid reconfigure and no helper restart during the whole run" \
    "helpers at start: $HELPERS_BEFORE" "helpers at end: $HELPERS_END"
_bad=$(grep -iE '\bBH\b|exited|crash|FATAL|assertion' "$LS_DIR/child/cache.log")
[ -z "$_bad" ]
check $? "cache.log: no BH answers, no helper exits or crashes" "$_bad"
! grep -q '"tls_error"' "$F/server.log" && ! grep -q '"kind": "version".*"client_request_id": null' "$F/server.log"
check $? "server log: no TLS failure, every /version request carried a ClientRequestId" \
    "$(tail -n 5 "$F/server.log")"

if [ "$T" != "$PLAN" ]; then
    echo "# ran $T tests, planned $PLAN"
fi
if [ "$FAILS" != 0 ]; then
    echo "# child cache.log (last 30 lines):"
    tail -n 30 "$LS_DIR/child/cache.log" | sed 's/^/#   /'
    echo "# child access.log:"
    sed 's/^/#   /' "$LS_DIR/child/access.log"
    echo "# server log:"
    sed 's/^/#   /' "$F/server.log" | cut -c1-300
fi
[ "$FAILS" = 0 ] && [ "$T" = "$PLAN" ]
