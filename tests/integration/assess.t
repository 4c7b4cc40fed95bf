#!/bin/sh
# "m365-direct assess" from a client's seat, against a real branch: a
# child Squid running the shipped snippets (configs/squid/m365-direct.conf,
# -sslbump.conf, -auth.conf: the helper, SslBump that splices Microsoft
# 365, no proxy authentication for it) in front of a parent Squid at "head
# office" across a WAN link that tc netem delays by $DELAY_MS, HTTPS
# origins with certificates from a test "public" CA, the client in a
# namespace of its own whose names come from its own hosts file, the data
# installed by "m365-direct update" from a file:// mirror, and a City
# database written with MaxMind's writer for the front doors.
#
#   client ns --veth--> branch ns: child Squid -- DIRECT --> origin
#   (assess)                        |
#                                   '--veth, netem--> WAN ns: parent Squid --> origin
#
#   1. The correct configuration: every Microsoft 365 host passes
#      authentication, inspection and path (compared with the control,
#      then with --direct); the control's extra round trip is the netem
#      delay within $TOLERANCE_MS; front doors located, the far one warned.
#   2. Three broken configurations, each a FAIL with the right reason:
#      the helper snippets left out (Microsoft 365 authenticated, bumped,
#      through the parent), authentication before the helper rule (407),
#      SslBump bumping everything (issuer: the bump CA).
# When the kernel has no sch_netem the netem test point is skipped (TAP)
# and a userspace relay (delay_relay.py) delays the link instead.
# Runs in private network namespaces (lib-squid.sh); TAP output.
#
#   prove -v -e '' tests/integration/assess.t        (as root)
#   LS_KEEP=1 ...  keeps the temp dir (configs, logs, JSON) afterwards.
# shellcheck disable=SC2086
set -u

M365_ROOT=$(cd "$(dirname "$0")/../.." && pwd) || exit 1
cd "$M365_ROOT" || exit 1
. tests/integration/lib-squid.sh

PLAN=49
DELAY_MS=40             # the WAN link's added round trip
TOLERANCE_MS=15         # the control's extra round trip: DELAY_MS +- this
TRIES=5
# The sample m365-direct assess takes from tests/data/worldwide-c2025.json
# (wildcards filled with "contoso"), and the control.
SAMPLE="outlook.cloud.microsoft contoso.sharepoint.com contoso.protection.outlook.com
 teams.cloud.microsoft office.live.com"
CONTROL=www.example.com
LS_HOSTS="$LS_HOSTS $SAMPLE"
LS_TLS_NAMES="$SAMPLE"

if [ -z "${LS_IN_NETNS:-}" ]; then
    for b in ext_m365_acl m365-direct; do
        if [ ! -x "${M365_BUILD:-build/rel}/$b" ]; then
            echo "1..1"
            echo "not ok 1 - built: no ${M365_BUILD:-build/rel}/$b (run make)"
            exit 1
        fi
    done
    if ! squid -v 2>/dev/null | grep -q -- '--with-openssl'; then
        echo "1..0 # SKIP this Squid has no OpenSSL (SslBump needs squid-openssl)"
        exit 0
    fi
    for t in /usr/lib/squid/security_file_certgen /usr/lib/squid/basic_ncsa_auth; do
        [ -x "$t" ] || { echo "1..0 # SKIP $t not installed"; exit 0; }
    done
    for t in openssl tc unshare mount; do
        command -v "$t" >/dev/null 2>&1 || { echo "1..0 # SKIP $t not installed"; exit 0; }
    done
fi
ls_enter_netns "$M365_ROOT/tests/integration/assess.t" "$@"

B=${M365_BUILD:-build/rel}
CLI="$M365_ROOT/$B/m365-direct"
PKI="$LS_DIR/pki"
PY=$LS_PY
echo "1..$PLAN"

# ------------------------------------------------------------- set-up ---
ls_make_pki "$PKI" || { echo "Bail out! could not make the test CAs"; exit 1; }
ls_make_client_netns || { echo "Bail out! could not make the client namespace"; exit 1; }
ls_make_wan_netns || { echo "Bail out! could not make the WAN namespace"; exit 1; }
# The addresses the client resolves the hosts to, on our loopback so that
# a direct connection from the client reaches our origin: each in its
# set's ranges, except office.live.com's (not in the data's ranges).
for a in 13.107.136.10 40.92.0.10 52.112.0.10 198.51.100.7; do
    ip -4 addr add "$a/32" dev lo || { echo "Bail out! ip addr add $a"; exit 1; }
done
cat >"$LS_DIR/client-hosts" <<EOF
127.0.0.1 localhost
13.107.6.152 outlook.cloud.microsoft
2603:1006::10 outlook.cloud.microsoft
13.107.136.10 contoso.sharepoint.com
40.92.0.10 contoso.protection.outlook.com
52.112.0.10 teams.cloud.microsoft
198.51.100.7 office.live.com
192.0.2.10 $CONTROL
EOF

# The WAN link: netem when the kernel has it, else the relay.
NETEM_WHY=""
if ! _tc=$(tc qdisc add dev m365w root netem delay "${DELAY_MS}ms" 2>&1); then
    NETEM_WHY="the kernel lacks sch_netem (tc: $(printf '%s' "$_tc" | head -n 1))"
fi

# Origins: one in our namespace (what the branch reaches directly), one
# in the WAN namespace (what head office reaches), the same certificate.
LS_ORIGIN_PORTS="80 tls:443"
LS_ORIGIN_TLS_CERT="$PKI/origin.pem"
ls_start_origin || { echo "Bail out! origin server did not start"; exit 1; }
ip netns exec "$LS_WAN_NS" "$PY" "$M365_ROOT/tests/integration/origin.py" \
    --tls-cert "$PKI/origin.pem" 80 tls:443 >"$LS_DIR/origin-wan.log" 2>&1 &
LS_PIDS="$LS_PIDS $!"

# start_squid NAME URL [ip netns exec NS]: squid -N with $LS_DIR/NAME/squid.conf,
# in our namespace or the one given; waits for URL.  Sets NAME_PID.
start_squid() {
    _n=$1 _u=$2
    shift 2
    chown -R proxy:proxy "$LS_DIR/$_n"
    "$@" squid -n "$LS_NS$_n" -N -f "$LS_DIR/$_n/squid.conf" >"$LS_DIR/$_n/squid.out" 2>&1 &
    _pid=$!
    LS_PIDS="$LS_PIDS $_pid"
    eval "$(echo "$_n" | tr '[:lower:]' '[:upper:]')_PID=$_pid"
    if ! ls_wait_http "$_u" 20 "$_pid"; then
        ls_say "$_n Squid did not start; squid.out and cache.log:"
        cat "$LS_DIR/$_n/squid.out" "$LS_DIR/$_n/cache.log" 2>/dev/null | tail -n 20 | sed 's/^/#   /'
        return 1
    fi
}

PARENT_PORT=$(ls_free_port)
{
    ls_squid_common parent "$PARENT_PORT" | sed "s/^http_port 127.0.0.1:/http_port 10.98.0.2:/"
    echo "http_access allow all"
} >"$LS_DIR/parent/squid.conf"
start_squid parent "http://10.98.0.2:$PARENT_PORT/" ip netns exec "$LS_WAN_NS" ||
    { echo "Bail out! parent Squid did not start"; exit 1; }
PEER="10.98.0.2 parent $PARENT_PORT"
if [ -n "$NETEM_WHY" ]; then
    RELAY_PORT=$(ls_free_port)
    "$PY" "$M365_ROOT/tests/integration/delay_relay.py" 127.0.0.1 "$RELAY_PORT" \
        10.98.0.2 "$PARENT_PORT" $((DELAY_MS / 2)) >"$LS_DIR/relay.log" 2>&1 &
    LS_PIDS="$LS_PIDS $!"
    PEER="127.0.0.1 parent $RELAY_PORT"
    ls_wait_http "http://127.0.0.1:$RELAY_PORT/" 10 ||
        { echo "Bail out! delay_relay.py did not start"; exit 1; }
fi

# The data, installed the way a branch does it: update from a mirror.
mkdir -p "$LS_DIR/mirror/version" "$LS_DIR/mirror/endpoints"
printf '{"instance": "Worldwide", "latest": "2025061200"}\n' >"$LS_DIR/mirror/version/Worldwide"
cp tests/data/worldwide-c2025.json "$LS_DIR/mirror/endpoints/Worldwide"
printf 'base_url = file://%s/mirror\n' "$LS_DIR" >"$LS_DIR/m365-direct.conf"
# root's update refuses a state directory another user could swap (the
# test directory is proxy's, as lib-squid.sh makes it): root's, as /var/lib
chown root:root "$LS_DIR"
if [ -d "$LS_DIR/state" ]; then chown -R root:root "$LS_DIR/state"; fi
_up=$("$CLI" -c "$LS_DIR/m365-direct.conf" --state-dir "$LS_DIR/state" update 2>&1)
check $? "m365-direct update installs the data from the mirror" "$_up"
chown -R proxy:proxy "$LS_DIR/state"
cp "$M365_ROOT/$B/ext_m365_acl" "$LS_DIR/bin/ext_m365_acl" && chmod 755 "$LS_DIR/bin/ext_m365_acl"
HCMD="$LS_DIR/bin/ext_m365_acl -c $LS_DIR/m365-direct.conf --state-dir $LS_DIR/state"
mkdir -p "$LS_DIR/snip"
for f in m365-direct m365-direct-sslbump m365-direct-auth; do
    _esc=$(printf '%s\n' "$HCMD" | sed 's/[\\|&]/\\&/g')
    sed "s|/usr/lib/squid/ext_m365_acl|$_esc|" "configs/squid/$f.conf" >"$LS_DIR/snip/$f.conf"
done
printf 'alice:%s\n' "$(openssl passwd -apr1 wonderland)" >"$LS_DIR/htpasswd"
ls_make_certdb "$LS_DIR/certdb" || { echo "Bail out! security_file_certgen -c failed"; exit 1; }

# The front doors' locations.  The office is in Berlin.
GEO="$LS_DIR/city.mmdb"
GEO_WHY=""
if ! perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null; then
    GEO_WHY="MaxMind::DB::Writer::Tree not installed (libmaxmind-db-writer-perl)"
elif ! perl tests/integration/make_city_db.pl "$GEO" \
    13.107.6.152/31=52.3676,4.9041,Amsterdam,NL \
    2603:1006::/40=52.3676,4.9041,Amsterdam,NL \
    13.107.136.0/22=-33.8688,151.2093,Sydney,AU \
    40.92.0.0/15=51.5074,-0.1278,London,GB \
    52.112.0.0/14=50.1109,8.6821,Frankfurt,DE >"$LS_DIR/mmdb.log" 2>&1; then
    GEO_WHY="make_city_db.pl failed: $(head -n 3 "$LS_DIR/mmdb.log")"
fi
{
    cat "$LS_DIR/m365-direct.conf"
    if [ -z "$GEO_WHY" ]; then
        echo "geo_database = $GEO"
        echo "office_location = 52.5200, 13.4050"
        echo "assess_max_distance_km = 1000"
    fi
} >"$LS_DIR/client.conf"
cat "$PKI/bump-ca.crt" >"$LS_DIR/private-ca.pem"

# child_conf VARIANT: the branch's Squid.  Every variant has the same
# ports, bump CA, parent and authentication; they differ in the rules.
#   good       the shipped snippets in the documented order, then the
#              site's own rules
#   nohelper   no m365 snippet at all: authentication, bump everything,
#              everything to the parent (the branch before m365-direct)
#   authfirst  the site's authentication rule before the snippets
#   bumpall    the helper and auth snippets, but the site's own
#              "ssl_bump bump all" instead of the SslBump snippet
CHILD_PORT=$(ls_free_port)
child_conf() {
    ls_squid_common child "$CHILD_PORT" |
        sed "s|^http_port 127.0.0.1:$CHILD_PORT\$|http_port 10.99.0.1:$CHILD_PORT ssl-bump tls-cert=$PKI/bump-ca.pem generate-host-certificates=on dynamic_cert_mem_cache_size=4MB|"
    cat <<EOF
sslcrtd_program /usr/lib/squid/security_file_certgen -s $LS_DIR/certdb -M 4MB
sslcrtd_children 3 startup=1 idle=1
tls_outgoing_options cafile=$PKI/public-ca.pem
logformat m365tls %ts.%03tu %rm %ru %>Hs %Ss %Sh %<a %ssl::bump_mode %ssl::>sni %{m365}note %{m365_auth}note %un
access_log stdio:$LS_DIR/child/tls.log logformat=m365tls
acl localnet src 10.99.0.0/24
auth_param basic program /usr/lib/squid/basic_ncsa_auth $LS_DIR/htpasswd
auth_param basic realm m365-test
acl authenticated proxy_auth REQUIRED
cache_peer $PEER 0 no-query no-digest default name=parent
EOF
    case $1 in
    good) cat <<EOF
include $LS_DIR/snip/m365-direct.conf
include $LS_DIR/snip/m365-direct-sslbump.conf
include $LS_DIR/snip/m365-direct-auth.conf
http_access allow localnet authenticated
EOF
        ;;
    nohelper) cat <<EOF
acl step1 at_step SslBump1
ssl_bump peek step1
ssl_bump bump all
never_direct allow all
http_access allow localnet authenticated
EOF
        ;;
    authfirst) cat <<EOF
http_access allow localnet authenticated
include $LS_DIR/snip/m365-direct.conf
include $LS_DIR/snip/m365-direct-sslbump.conf
include $LS_DIR/snip/m365-direct-auth.conf
EOF
        ;;
    bumpall) cat <<EOF
include $LS_DIR/snip/m365-direct.conf
include $LS_DIR/snip/m365-direct-auth.conf
acl step1 at_step SslBump1
ssl_bump peek step1
ssl_bump bump all
http_access allow localnet authenticated
EOF
        ;;
    esac
    echo "http_access deny all"
}

# branch VARIANT: (re)starts the child Squid with that configuration.
branch() {
    [ -n "${CHILD_PID:-}" ] && ls_stop_pid "$CHILD_PID"
    CHILD_PID=""
    child_conf "$1" >"$LS_DIR/child/squid.conf"
    start_squid child "http://10.99.0.1:$CHILD_PORT/"
}

# assess NAME ARGS...: m365-direct assess in the client namespace, with
# the client's hosts file as /etc/hosts (a private mount namespace), the
# test public CA as the public roots and the bump CA as the other trust;
# JSON in $LS_DIR/NAME.json, its rows in $LS_DIR/NAME.rows (assess_rows.py),
# the exit status in ARC.
PROXY="http://alice:wonderland@10.99.0.1:$CHILD_PORT"
assess() {
    _name=$1
    shift
    ip netns exec "$LS_CLIENT_NS" unshare -m sh -c \
        'mount --bind "$0" /etc/hosts && exec "$@"' "$LS_DIR/client-hosts" \
        "$CLI" -c "$LS_DIR/client.conf" --state-dir "$LS_DIR/state" assess \
        --public-ca-file "$PKI/public-ca.pem" --ca-file "$LS_DIR/private-ca.pem" \
        --tries "$TRIES" "$@" >"$LS_DIR/$_name.out" 2>"$LS_DIR/$_name.err"
    ARC=$?
    case " $* " in
    *" --json "*) "$PY" tests/integration/assess_rows.py "$LS_DIR/$_name.out" >"$LS_DIR/$_name.rows" ;;
    *) : >"$LS_DIR/$_name.rows" ;;
    esac
}

# row NAME HOST CHECK: "RESULT reason" of that row.
row() {
    awk -v h="$2" -v c="$(printf '%s' "$3" | tr ' ' _)" \
        '$1 == "ROW" && $2 == h && $3 == c { $1 = $2 = $3 = ""; sub(/^ */, ""); print }' \
        "$LS_DIR/$1.rows"
}

# want NAME CHECK RESULT PATTERN DESC [HOSTS]: every host (default: the
# sample) has that check with RESULT and a reason matching the ERE PATTERN.
want() {
    _r=$1 _c=$2 _w=$3 _p=$4 _d=$5
    _bad=""
    for h in ${6:-$SAMPLE}; do
        _l=$(row "$_r" "$h" "$_c")
        case $_l in
        "$_w "*) printf '%s\n' "${_l#* }" | grep -Eq -- "$_p" || _bad="$_bad
$h: $_l" ;;
        *) _bad="$_bad
$h: ${_l:-<no row>}" ;;
        esac
    done
    if [ -z "$_bad" ]; then
        ok "$_d"
    else
        not_ok "$_d"
        diag "wanted $_w, reason /$_p/:$_bad"
    fi
}

# show NAME: the text output of a run, as diagnostics for a reader.
show() {
    sed 's/^/#   /' "$LS_DIR/$1.out"
}

# text NAME DESC: the same run in text form: exit 1 and a summary line
# that ends in FAIL; shown.
text() {
    assess "$1" --proxy "$PROXY"
    check "$([ "$ARC" = 1 ] && grep -Eq '^summary: [0-9]+ PASS, [0-9]+ WARN, [1-9][0-9]* FAIL, .*: FAIL$' \
        "$LS_DIR/$1.out" && echo 0)" "$2" "exit $ARC" "$(cat "$LS_DIR/$1.out" "$LS_DIR/$1.err")"
    show "$1"
}

# ======================================================= 1. correct ===
if [ -n "$NETEM_WHY" ]; then
    echo "ok $((T + 1)) # SKIP $NETEM_WHY: the WAN link's $DELAY_MS ms come from delay_relay.py instead"
    T=$((T + 1))
else
    _q=$(tc qdisc show dev m365w)
    check "$(printf '%s' "$_q" | grep -q "netem .*delay ${DELAY_MS}" && echo 0)" \
        "tc netem delays the WAN link by $DELAY_MS ms" "$_q"
fi

branch good || { echo "Bail out! the child Squid (shipped snippets) did not start"; exit 1; }
assess good --proxy "$PROXY" --json
check "$([ "$ARC" = 0 ] && echo 0)" "correct configuration: exit 0 (nothing failed)" \
    "exit $ARC" "$(cat "$LS_DIR/good.err")" "$(cat "$LS_DIR/good.rows")"
_hosts=$(awk '$1 == "ROW" && $3 == "authentication" && $2 != "'$CONTROL'" { print $2 }' \
    "$LS_DIR/good.rows" | tr '\n' ' ')
check "$([ "$_hosts" = "$(echo $SAMPLE) " ] && echo 0)" \
    "the sample: one Optimize host per service area with names, then Allow hosts ($_hosts)" \
    "wanted: $(echo $SAMPLE)"
want good authentication PASS 'no credentials asked \(CONNECT 200\)' \
    "correct: every Microsoft 365 host PASSes authentication (no 407)"
want good inspection PASS 'issuer CN = m365-test-public-ca, a chain the public roots verify' \
    "correct: every Microsoft 365 host PASSes inspection (the origin's chain, public roots)"
want good path PASS 'less than the control www.example.com .*leaves locally' \
    "correct: every Microsoft 365 host PASSes path (shorter round trip than the control)"
want good authentication INFO '407 Proxy Authentication Required \(Basic\)' \
    "correct: the control is asked for credentials (INFO)" "$CONTROL"
want good inspection INFO 'TLS inspected: issuer CN = m365-test-bump-ca' \
    "correct: the control is inspected, by the bump CA (INFO)" "$CONTROL"
want good freshness PASS 'version 2025061200, instance Worldwide; fetched .* ago' \
    "correct: the data in use is fresh (installed by update)" data
_extra=$(awk '$1 == "EXTRA" { print $2 }' "$LS_DIR/good.rows")
_ok=$(awk -v e="$_extra" -v d="$DELAY_MS" -v t="$TOLERANCE_MS" \
    'BEGIN { print (e != "none" && e + 0 >= d - t && e + 0 <= d + t) ? 0 : 1 }')
check "$_ok" "correct: the control's extra round trip ${_extra} ms is the WAN link's $DELAY_MS ms +- $TOLERANCE_MS" \
    "$(grep '^FIG .* round_trip_ms' "$LS_DIR/good.rows")"
LATENCY_GOOD=$_extra
# The route each took, as the child Squid logged it.
_direct=$(awk '$6 == "HIER_DIRECT" && $8 == "splice" { print $3 }' "$LS_DIR/child/tls.log" | sort -u | tr '\n' ' ')
_parent=$(awk '$6 == "FIRSTUP_PARENT" && $8 == "bump" { print $3 }' "$LS_DIR/child/tls.log" | sort -u | tr '\n' ' ')
check "$(for h in $SAMPLE; do printf '%s' "$_direct" | grep -q "$h:443" || echo x; done | grep -q x || printf '%s' "$_parent" | grep -q "$CONTROL" && echo 0)" \
    "correct: Squid spliced each Microsoft 365 host DIRECT, bumped the control via the parent" \
    "spliced direct: $_direct" "bumped via parent: $_parent"

if [ -n "$GEO_WHY" ]; then
    for _i in 1 2 3; do
        echo "ok $((T + 1)) # SKIP front doors: $GEO_WHY"
        T=$((T + 1))
    done
else
    want good "front door" PASS '13\.107\.6\.152 Amsterdam NL 576 km, optimize 13\.107\.6\.152/31; 2603:1006::10 Amsterdam NL 576 km, optimize 2603:1006::/40' \
        "front door: outlook.cloud.microsoft, IPv4 and IPv6, Amsterdam 576 km from the office, in Optimize ranges" \
        outlook.cloud.microsoft
    want good "front door" WARN 'Sydney AU 16095 km.*farther than 1000 km' \
        "front door: contoso.sharepoint.com in Sydney, farther than assess_max_distance_km (WARN)" \
        contoso.sharepoint.com
    want good "front door" INFO '198\.51\.100\.7 \(location unknown\), not in the data.s Optimize/Allow ranges' \
        "front door: office.live.com outside the data's ranges, no location (INFO for an Allow host)" \
        office.live.com
fi

# The same with --direct: the path compared with a direct connection.
assess gooddirect --proxy "$PROXY" --direct --json
check "$([ "$ARC" = 0 ] && echo 0)" "correct, --direct: exit 0" "exit $ARC" "$(cat "$LS_DIR/gooddirect.err")"
want gooddirect path PASS 'through the proxy, [0-9.]+ ms direct: leaves locally' \
    "correct, --direct: every Microsoft 365 host's round trip through the proxy is the direct one's"
want gooddirect inspection PASS 'issuer CN = m365-test-public-ca, a chain the public roots verify, the same as direct' \
    "correct, --direct: every chain is the one a direct connection gets"
# The text form, for the README and a reader.
assess goodtext --proxy "$PROXY"
check "$([ "$ARC" = 0 ] && grep -q '^summary: .* 0 FAIL, .*: WARN$' "$LS_DIR/goodtext.out" && echo 0)" \
    "correct, text: one table and a summary line (0 FAIL; the far front door warns)" \
    "$(cat "$LS_DIR/goodtext.out")"
show goodtext
_pw=$(grep -c wonderland "$LS_DIR/goodtext.out" "$LS_DIR/good.out" | awk -F: '{ s += $2 } END { print s }')
check "$([ "$_pw" = 0 ] && echo 0)" "the proxy's password is never printed" "$_pw lines name it"

# The environment's proxy when --proxy is not given.
ip netns exec "$LS_CLIENT_NS" unshare -m sh -c \
    'mount --bind "$0" /etc/hosts && exec "$@"' "$LS_DIR/client-hosts" \
    env https_proxy="$PROXY" "$CLI" -c "$LS_DIR/client.conf" --state-dir "$LS_DIR/state" assess \
    --public-ca-file "$PKI/public-ca.pem" --ca-file "$LS_DIR/private-ca.pem" --tries 1 \
    --host outlook.cloud.microsoft --json >"$LS_DIR/env.out" 2>&1
_rc=$?
check "$([ $_rc = 0 ] && grep -q '"proxy":"http://10.99.0.1:'"$CHILD_PORT"'/","proxy_from":"https_proxy"' "$LS_DIR/env.out" && echo 0)" \
    "https_proxy from the environment, --host: the one host, exit 0" "exit $_rc" "$(head -c 600 "$LS_DIR/env.out")"

# ================================================= 2. broken configs ===
# (a) No m365 snippet: Microsoft 365 is authenticated, bumped, and goes
#     through the parent like everything else.
if branch nohelper; then
    assess nohelper --proxy "$PROXY" --json
    check "$([ "$ARC" = 1 ] && echo 0)" "helper snippets left out: exit 1 (FAIL)" "exit $ARC" \
        "$(cat "$LS_DIR/nohelper.err")"
    want nohelper authentication FAIL '407 Proxy Authentication Required.*must not need proxy credentials' \
        "helper left out: authentication FAIL (407 for Microsoft 365)"
    want nohelper inspection FAIL 'TLS inspected: issuer CN = m365-test-bump-ca, a chain only .*private-ca.pem verifies' \
        "helper left out: inspection FAIL naming the issuer (the bump CA)"
    want nohelper path FAIL 'no less than the control www.example.com.*the same path as other traffic' \
        "helper left out: path FAIL (the control's path: through the parent)"
    _x=$(awk '$1 == "EXTRA" { print $2 }' "$LS_DIR/nohelper.rows")
    _ok=$(awk -v e="$_x" -v t="$TOLERANCE_MS" 'BEGIN { print (e != "none" && e + 0 < t && e + 0 > -t) ? 0 : 1 }')
    check "$_ok" "helper left out: the control is no slower than Microsoft 365 (${_x} ms)"
    assess nohelperdirect --proxy "$PROXY" --direct --json
    want nohelperdirect path FAIL 'through the proxy, [0-9.]+ ms direct \(\+[0-9.]+ ms\): not local egress' \
        "helper left out, --direct: path FAIL (slower than direct by the WAN link)"
    want nohelperdirect inspection FAIL 'TLS inspected: issuer CN = m365-test-bump-ca' \
        "helper left out, --direct: inspection FAIL"
    _hp=$(awk '$6 == "FIRSTUP_PARENT" && $8 == "bump" { print $3 }' "$LS_DIR/child/tls.log" | grep -c 'outlook.cloud.microsoft')
    check "$([ "$_hp" -gt 0 ] && echo 0)" "helper left out: Squid did bump Microsoft 365 via the parent ($_hp)"
    text nohelpertext "helper left out, text: exit 1, the summary says FAIL"
else
    fail_n=10
    while [ $fail_n -gt 0 ]; do not_ok "helper left out: Squid did not start"; fail_n=$((fail_n - 1)); done
fi

# (b) Authentication before the snippets' rules: 407 for Microsoft 365.
if branch authfirst; then
    assess authfirst --proxy "$PROXY" --json
    check "$([ "$ARC" = 1 ] && echo 0)" "authentication before the helper rule: exit 1 (FAIL)" "exit $ARC"
    want authfirst authentication FAIL '407 Proxy Authentication Required.*must not need proxy credentials' \
        "authentication first: authentication FAIL (407 for Microsoft 365)"
    want authfirst inspection PASS 'a chain the public roots verify' \
        "authentication first: with credentials, still spliced (inspection PASS: ssl_bump asks the helper itself)"
    want authfirst path FAIL 'no less than the control www.example.com' \
        "authentication first: path FAIL (the routing note is never set: through the parent)"
    _s=$(awk '$1 == "SUMMARY" { print $4 }' "$LS_DIR/authfirst.rows")
    check "$([ "$_s" = $((2 * $(echo $SAMPLE | wc -w))) ] && echo 0)" \
        "authentication first: the FAILs are the authentication and path rows ($_s)" \
        "$(grep ' FAIL ' "$LS_DIR/authfirst.rows")"
    text authfirsttext "authentication first, text: exit 1, the summary says FAIL"
else
    for _i in 1 2 3 4 5 6; do not_ok "authentication first: Squid did not start"; done
fi

# (c) SslBump bumping everything: Microsoft 365 inspected.
if branch bumpall; then
    assess bumpall --proxy "$PROXY" --json
    check "$([ "$ARC" = 1 ] && echo 0)" "SslBump bumping everything: exit 1 (FAIL)" "exit $ARC"
    want bumpall inspection FAIL 'TLS inspected: issuer CN = m365-test-bump-ca' \
        "bump everything: inspection FAIL naming the issuer (the bump CA)"
    want bumpall authentication PASS 'no credentials asked' \
        "bump everything: authentication still PASSes (the auth snippet)"
    want bumpall path PASS 'leaves locally' \
        "bump everything: the path still PASSes (bumped, but direct)"
    _s=$(awk '$1 == "SUMMARY" { print $4 }' "$LS_DIR/bumpall.rows")
    check "$([ "$_s" = "$(echo $SAMPLE | wc -w)" ] && echo 0)" \
        "bump everything: the FAILs are the $(echo $SAMPLE | wc -w) inspection rows ($_s)" \
        "$(grep ' FAIL ' "$LS_DIR/bumpall.rows")"
    text bumpalltext "bump everything, text: exit 1, the summary says FAIL"
else
    for _i in 1 2 3 4 5 6; do not_ok "bump everything: Squid did not start"; done
fi

# ============================================================ bounds ===
# A proxy that accepts and never answers: every step times out, the run
# ends within its bound, and says so.
SILENT=$(ls_free_port)
"$PY" -c 'import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.99.0.1", '"$SILENT"')); s.listen(64)
c = []
while True:
    c.append(s.accept()[0])' >/dev/null 2>&1 &
LS_PIDS="$LS_PIDS $!"
sleep 0.3
_t0=$(date +%s)
assess silent --proxy "http://10.99.0.1:$SILENT" --host outlook.cloud.microsoft --tries 2 --timeout 1 --json
_t=$(($(date +%s) - _t0))
want silent authentication FAIL 'no answer from the proxy: .*[Tt]imeout' \
    "a proxy that never answers: authentication FAIL (timed out)" outlook.cloud.microsoft
check "$([ "$ARC" = 1 ] && [ "$_t" -le 15 ] && echo 0)" \
    "a proxy that never answers: exit 1 within 15 s (took $_t s; --timeout 1)" "exit $ARC"

# Usage errors: exit 2, the reason on stderr.
usage() {
    _d=$1 _p=$2
    shift 2
    _e=$("$CLI" -c "$LS_DIR/client.conf" --state-dir "$LS_DIR/state" assess "$@" 2>&1 >/dev/null)
    _rc=$?
    check "$([ $_rc = 2 ] && printf '%s' "$_e" | grep -q -- "$_p" && echo 0)" "$_d" "exit $_rc" "$_e"
}
usage "usage: --host that is not direct is refused (exit 2)" "not a Microsoft 365 endpoint" \
    --host www.example.com
usage "usage: --control that goes direct is refused (exit 2)" "goes direct by the data in use" \
    --control outlook.office365.com
usage "usage: more than 16 --host (exit 2)" "at most 16" \
    $(for i in $(seq 17); do printf -- '--host outlook.office.com '; done)
usage "usage: --tries 11 is out of bounds (exit 2)" "assess_tries" --tries 11
usage "usage: a socks proxy cannot answer CONNECT (exit 2)" "only http:// and https://" \
    --proxy socks5://10.99.0.1:1080

echo "# the control's extra round trip (correct configuration): ${LATENCY_GOOD:-?} ms; WAN link: $DELAY_MS ms (${NETEM_WHY:-tc netem})"
if [ "$T" != "$PLAN" ]; then
    echo "# ran $T tests, planned $PLAN"
fi
[ "$FAILS" = 0 ]
