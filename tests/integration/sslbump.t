#!/bin/sh
# Skipping proxy authentication and TLS inspection for Microsoft 365, under
# a real Squid 5 (squid-openssl): the shipped configs/squid/m365-direct.conf,
# m365-direct-sslbump.conf and m365-direct-auth.conf, each used exactly as
# shipped except for the helper's path and test options.
#
#   1. squid -k parse: each snippet as an admin includes it is clean, and
#      the auth snippet refuses to load without the admin's localnet ACL.
#   2. Explicit proxy with "auth_param basic" (basic_ncsa_auth, a test
#      htpasswd) and SslBump on a second port: Microsoft 365 (GET and
#      CONNECT, names and IP literals) needs no credentials, everything
#      else does (407, then 200 with them); a client outside localnet gets
#      nothing.  Through "http_port ... ssl-bump": Microsoft 365 is spliced
#      (the client sees the origin's certificate, issued by the test
#      "public" CA) and goes direct; anything else is bumped (certificate
#      from the bump CA) and goes through the parent; spoofed SNIs are
#      bumped; an unauthenticated CONNECT to Microsoft 365 with a foreign
#      SNI is terminated.
#   3. Interception ("https_port ... intercept ssl-bump", nftables redirect
#      from a client namespace): the same decided on destination IP + SNI,
#      then with --verify-sni dns against a real dnsmasq.
# Runs in a private network namespace (see lib-squid.sh); TAP output.
#
#   prove -v -e '' tests/integration/sslbump.t        (as root)
#   LS_KEEP=1 ...  keeps the temp dir (configs, logs) for a look afterwards.
# $PROBE, $AUTH, $B, $X and $P0 are several words on purpose:
# shellcheck disable=SC2086
set -u

M365_ROOT=$(cd "$(dirname "$0")/../.." && pwd) || exit 1
cd "$M365_ROOT" || exit 1
. tests/integration/lib-squid.sh

PLAN=65
# Test names only the TLS tests use (in the origin's certificate too).
LS_TLS_NAMES="foo.officeapps.live.com bar.officeapps.live.com baz.officeapps.live.com"

if [ -z "${LS_IN_NETNS:-}" ]; then
    if ! ls_find_helper >/dev/null; then
        echo "1..1"
        echo "not ok 1 - helper built: no ${M365_BUILD:-build/rel}/ext_m365_acl (run make)"
        exit 1
    fi
    if ! squid -v 2>/dev/null | grep -q -- '--with-openssl'; then
        echo "1..0 # SKIP this Squid has no OpenSSL (SslBump needs squid-openssl)"
        exit 0
    fi
    for t in /usr/lib/squid/security_file_certgen /usr/lib/squid/basic_ncsa_auth; do
        [ -x "$t" ] || { echo "1..0 # SKIP $t not installed"; exit 0; }
    done
    for t in openssl nft dnsmasq socat; do
        command -v "$t" >/dev/null 2>&1 || { echo "1..0 # SKIP $t not installed"; exit 0; }
    done
fi
ls_enter_netns "$M365_ROOT/tests/integration/sslbump.t" "$@"

HELPER=$(ls_find_helper) || { echo "Bail out! helper vanished"; exit 1; }
DATA="$M365_ROOT/tests/data/worldwide-c2025.json"
PKI="$LS_DIR/pki"
PROBE="$LS_PY $M365_ROOT/tests/integration/tls_probe.py"
PUBLIC_CA=m365-test-public-ca
BUMP_CA=m365-test-bump-ca

echo "1..$PLAN"

# parse_clean DESC CONF: "squid -k parse" exits 0 and prints no ERROR,
# WARNING or FATAL line.
parse_clean() {
    _out=$(squid -n "${LS_NS}parse" -k parse -f "$2" 2>&1)
    _rc=$?
    _bad=$(printf '%s\n' "$_out" | grep -iE 'error|warning|fatal|bungled|unrecognized')
    check "$([ $_rc = 0 ] && [ -z "$_bad" ] && echo 0)" "$1" "exit $_rc" "$_bad"
}

# fail_n N DESC: N failed test points (the cases a Squid that did not start
# would have run), so that the plan still holds.
fail_n() {
    _k=0
    while [ $_k -lt "$1" ]; do
        not_ok "$2"
        _k=$((_k + 1))
    done
}

# snippet NAME HELPER_COMMAND: configs/squid/NAME.conf as shipped, with only
# the installed helper path /usr/lib/squid/ext_m365_acl replaced by
# HELPER_COMMAND, to $LS_DIR/snip/NAME.conf.
snippet() {
    mkdir -p "$LS_DIR/snip"
    _esc=$(printf '%s\n' "$2" | sed 's/[\\|&]/\\&/g')
    sed "s|/usr/lib/squid/ext_m365_acl|$_esc|" "$M365_ROOT/configs/squid/$1.conf" \
        >"$LS_DIR/snip/$1.conf"
}

# tls_squid_common NAME PORT: what every SslBump Squid here adds to
# ls_squid_common: the certificate generator, trust in the test public CA
# for its own connections, and a log of the TLS decisions:
# time method URL status result hierarchy server bump_mode sni m365
# m365_reason m365_auth user
tls_squid_common() {
    ls_squid_common "$1" "$2"
    cat <<EOF
sslcrtd_program /usr/lib/squid/security_file_certgen -s $LS_DIR/certdb-$1 -M 4MB
sslcrtd_children 3 startup=1 idle=1
tls_outgoing_options cafile=$PKI/public-ca.pem
logformat m365tls %ts.%03tu %rm %ru %>Hs %Ss %Sh %<a %ssl::bump_mode %ssl::>sni %{m365}note %{m365_reason}note %{m365_auth}note %un
access_log stdio:$LS_DIR/$1/tls.log logformat=m365tls
EOF
}

# -------------------------------------------------------------- set-up ---
cp "$DATA" "$LS_DIR/endpoints.json"
cp "$HELPER" "$LS_DIR/bin/ext_m365_acl" && chmod 755 "$LS_DIR/bin/ext_m365_acl"
printf '# test configuration for ext_m365_acl: the defaults\n' >"$LS_DIR/m365-direct.conf"
HCMD="$LS_DIR/bin/ext_m365_acl -c $LS_DIR/m365-direct.conf --data $LS_DIR/endpoints.json --state-dir $LS_DIR/state"
ls_make_pki "$PKI" || { echo "Bail out! could not make the test CAs"; exit 1; }
mkdir -p "$LS_DIR/explicit" "$LS_DIR/intercept" "$LS_DIR/verify"
for n in explicit intercept verify; do
    ls_make_certdb "$LS_DIR/certdb-$n" || { echo "Bail out! security_file_certgen -c failed"; exit 1; }
done
printf 'alice:%s\n' "$(openssl passwd -apr1 wonderland)" >"$LS_DIR/htpasswd"
chown -R proxy:proxy "$LS_DIR"

# ------------------------------------------------------------- parsing ---
# The shipped files untouched, as an admin includes them.
parse_conf() {
    cat <<EOF
http_port 127.0.0.1:3128 ssl-bump tls-cert=$PKI/bump-ca.pem generate-host-certificates=on dynamic_cert_mem_cache_size=4MB
https_port 127.0.0.1:3129 intercept ssl-bump tls-cert=$PKI/bump-ca.pem generate-host-certificates=on dynamic_cert_mem_cache_size=4MB
sslcrtd_program /usr/lib/squid/security_file_certgen -s $LS_DIR/certdb-explicit -M 4MB
pid_filename $LS_DIR/parse.pid
cache_log $LS_DIR/parse-cache.log
acl localnet src 10.0.0.0/8 fc00::/7
auth_param basic program /usr/lib/squid/basic_ncsa_auth $LS_DIR/htpasswd
acl authenticated proxy_auth REQUIRED
EOF
    for f in "$@"; do
        echo "include $M365_ROOT/configs/squid/$f.conf"
    done
    cat <<EOF
http_access allow localnet authenticated
http_access deny all
cache_peer proxy.example.net parent 3128 0 no-query default
EOF
}
parse_conf m365-direct m365-direct-auth >"$LS_DIR/parse-auth.conf"
parse_clean "squid -k parse: shipped m365-direct.conf + m365-direct-auth.conf is clean" \
    "$LS_DIR/parse-auth.conf"
parse_conf m365-direct m365-direct-sslbump >"$LS_DIR/parse-bump.conf"
parse_clean "squid -k parse: shipped m365-direct.conf + m365-direct-sslbump.conf is clean" \
    "$LS_DIR/parse-bump.conf"
parse_conf m365-direct m365-direct-sslbump m365-direct-auth >"$LS_DIR/parse-all.conf"
parse_clean "squid -k parse: all three shipped snippets together are clean" \
    "$LS_DIR/parse-all.conf"
# Without the admin's client ACL the auth snippet must not load at all.
grep -v '^acl localnet' "$LS_DIR/parse-auth.conf" >"$LS_DIR/parse-nolocalnet.conf"
_out=$(squid -n "${LS_NS}parse" -k parse -f "$LS_DIR/parse-nolocalnet.conf" 2>&1)
_rc=$?
check "$([ $_rc != 0 ] && printf '%s' "$_out" | grep -q 'ACL not found: localnet' && echo 0)" \
    "without a localnet ACL Squid refuses the auth snippet (no open relay to Microsoft 365)" \
    "exit $_rc" "$(printf '%s\n' "$_out" | tail -n 3)"

# ----------------------------------------------------- origin, parent ---
# The origin: plain HTTP on 80 and 8080, HTTPS with the test public CA's
# certificate on 443, on every test address.
LS_ORIGIN_PORTS="80 8080 tls:443"
LS_ORIGIN_TLS_CERT="$PKI/origin.pem"
ls_start_origin || { echo "Bail out! origin server did not start"; exit 1; }
ls_start_parent || { echo "Bail out! parent Squid did not start"; exit 1; }

# tls_case WANT REASON DESC NAME ROUTE PROBE_ARGS...
#   Runs tls_probe.py (PROBE_ARGS; "--get HOST" fetches / inside) and checks
#   what the client saw and what Squid NAME logged for that connection:
#   WANT splice: the origin's certificate (issuer: the public test CA) and
#                the origin's answer; Squid logged the tunnel with ROUTE;
#   WANT bump:   a certificate from the bump CA and the origin's answer
#                (through Squid); Squid logged the bumped request with ROUTE;
#   WANT terminate: no certificate at all, nothing logged but "terminate";
#   WANT 407:    the CONNECT itself was refused with 407.
#   REASON: the m365_reason note the helper gave, as Squid logged it for
#                this connection ("-": not checked).
#   The probe is $PROBE (tls_probe.py, in the client namespace for
#   interception).
tls_case() {
    _want=$1 _reason=$2 _desc=$3 _sq=$4 _route=$5
    shift 5
    _log="$LS_DIR/$_sq/tls.log"
    _from=$(($(wc -l <"$_log" 2>/dev/null || echo 0) + 1))
    _got=$($PROBE --ca "$PKI/public-ca.pem" --ca "$PKI/bump-ca.crt" "$@" 2>&1)
    case $_want in
    splice) _pat="TCP_TUNNEL $_route .* splice " _okc="issuer=$PUBLIC_CA status=200 body=m365-test-origin" ;;
    bump) _pat="^[^ ]* GET .* TCP_MISS $_route .* bump " _okc="issuer=$BUMP_CA status=200 body=m365-test-origin" ;;
    terminate) _pat=" terminate " _okc="tls=error" ;;
    407) _pat=" 407 TCP_DENIED " _okc="connect=407" ;;
    esac
    _line="" _i=0
    while [ -z "$_line" ] && [ $_i -lt 30 ]; do
        _line=$(tail -n "+$_from" "$_log" 2>/dev/null | grep -E -- "$_pat" | tail -n 1)
        [ -n "$_line" ] || sleep 0.1
        _i=$((_i + 1))
    done
    _good=1
    case $_got in
    *"$_okc"*) ;;
    *) _good=0 ;;
    esac
    [ -n "$_line" ] || _good=0
    # The helper's reason is logged with the step that asked it (the
    # CONNECT at step 2), not necessarily with the tunnel or request line.
    if [ "$_reason" != - ] &&
        ! tail -n "+$_from" "$_log" | awk -v r="$_reason" '$11 == r { f = 1 } END { exit !f }'; then
        _good=0
    fi
    if [ "$_want" = terminate ] &&
        tail -n "+$_from" "$_log" | grep -qE ' (GET|TCP_TUNNEL) '; then
        _good=0      # something got through after all
    fi
    _r=""
    [ "$_want" = splice ] || [ "$_want" = bump ] && _r=", $_route"
    [ "$_reason" != - ] && _r="$_r, m365_reason=$_reason"
    if [ $_good = 1 ]; then
        ok "$_desc -> $_want$_r"
    else
        not_ok "$_desc -> $_want$_r"
        diag "client saw: $_got" "wanted: $_okc" "log ($_sq/tls.log from line $_from):"
        tail -n "+$_from" "$_log" 2>/dev/null | sed 's/^/#     /'
    fi
}

# ====================================== explicit proxy: auth + SslBump ===
# One Squid with all three snippets, in the documented order, before the
# site's own authentication rules: a plain http_port (CONNECT tunnels carry
# plain HTTP there, as in squid.t) and an "http_port ... ssl-bump".
snippet m365-direct "$HCMD --concurrency"
snippet m365-direct-sslbump "$HCMD"
snippet m365-direct-auth ""
grep -q -- "--concurrency --fields sni,host,port\$" "$LS_DIR/snip/m365-direct-sslbump.conf"
check $? "sslbump snippet runs the helper with %ssl::>sni %DST %PORT and --fields sni,host,port"
CHILD_PORT=$(ls_free_port)
BUMP_PORT=$(ls_free_port)
{
    tls_squid_common explicit "$CHILD_PORT"
    cat <<EOF
http_port 127.0.0.1:$BUMP_PORT ssl-bump tls-cert=$PKI/bump-ca.pem generate-host-certificates=on dynamic_cert_mem_cache_size=4MB
# The site's clients: loopback and the client namespace.  Not 192.0.2.10,
# which plays a client from elsewhere.
acl localnet src 127.0.0.1/32 ::1 10.99.0.0/24 fd99::/64
auth_param basic program /usr/lib/squid/basic_ncsa_auth $LS_DIR/htpasswd
auth_param basic realm m365-test
acl authenticated proxy_auth REQUIRED
include $LS_DIR/snip/m365-direct.conf
include $LS_DIR/snip/m365-direct-sslbump.conf
include $LS_DIR/snip/m365-direct-auth.conf
http_access allow localnet authenticated
http_access deny all
cache_peer 127.0.0.1 parent $PARENT_PORT 0 no-query no-digest default name=parent
EOF
} >"$LS_DIR/explicit/squid.conf"
ls_run_squid explicit "$CHILD_PORT" || { echo "Bail out! explicit Squid did not start"; exit 1; }
parse_clean "squid -k parse: the explicit test Squid (auth + SslBump, shipped snippets) is clean" \
    "$LS_DIR/explicit/squid.conf"

# auth_case WANT_CODE WANT_HIER DESC CURL_ARGS... URL: through the plain
# port.  For an https:// URL curl makes a CONNECT (the origin's TLS, the
# test public CA trusted) and WANT_CODE is the proxy's answer to it (and
# 200 also needs the origin's 200 through the tunnel).  WANT_HIER is the
# hierarchy code Squid logged ("-": not checked).
auth_case() {
    _wc=$1 _wh=$2 _d=$3
    shift 3
    _log="$LS_DIR/explicit/tls.log"
    _from=$(($(wc -l <"$_log") + 1))
    _cw=$(curl -s -g -m 15 -x "http://127.0.0.1:$CHILD_PORT" --cacert "$PKI/public-ca.pem" \
        -o "$LS_DIR/body" -w '%{http_connect} %{http_code}' "$@" 2>/dev/null)
    _conn=${_cw% *} _got=${_cw#* }
    for _u in "$@"; do :; done
    case $_u in
    https://*)
        [ "$_conn" = 200 ] && [ "$_got" != 200 ] && _conn="200, then $_got from the origin"
        _got=$_conn ;;
    esac
    _h="" _i=0
    while [ -z "$_h" ] && [ $_i -lt 30 ]; do
        _h=$(tail -n "+$_from" "$_log" | awk -v c="$_wc" '$4 == c { h = $6 } END { print h }')
        [ -n "$_h" ] || sleep 0.1
        _i=$((_i + 1))
    done
    if [ "$_got" = "$_wc" ] && { [ "$_wh" = - ] || [ "$_h" = "$_wh" ]; }; then
        ok "$_d -> $_wc${_h:+ ($_h)}"
    else
        not_ok "$_d -> $_wc${_wh#-}"
        diag "got HTTP $_got, hierarchy ${_h:-?}" "log:"
        tail -n "+$_from" "$_log" | sed 's/^/#     /'
    fi
}
AUTH="--proxy-user alice:wonderland"
# --- Microsoft 365: no credentials, never a 407 ---
auth_case 200 HIER_DIRECT "no credentials: GET outlook.office365.com (Optimize name)" \
    http://outlook.office365.com/a1
auth_case 200 HIER_DIRECT "no credentials: GET teams.microsoft.com (Allow name)" \
    http://teams.microsoft.com/a2
auth_case 200 HIER_DIRECT "no credentials: GET 13.107.6.152 (IPv4 literal, Optimize)" \
    http://13.107.6.152/a3
auth_case 200 HIER_DIRECT "no credentials: GET [2603:1006::10] (IPv6 literal, Optimize)" \
    'http://[2603:1006::10]/a4'
auth_case 200 HIER_DIRECT "no credentials: CONNECT outlook.office365.com:443" \
    https://outlook.office365.com/a5
auth_case 200 HIER_DIRECT "no credentials: CONNECT [2603:1006:1400::5]:443 (Allow prefix)" \
    'https://[2603:1006:1400::5]/a6'
auth_case 200 HIER_DIRECT "no credentials: CONNECT 13.107.6.152:443" \
    https://13.107.6.152/a7
# --- everything else: 407 without, 200 (via the parent) with credentials ---
auth_case 407 - "no credentials: GET www.example.com" http://www.example.com/a8
auth_case 200 FIRSTUP_PARENT "credentials: GET www.example.com" $AUTH http://www.example.com/a9
auth_case 407 - "no credentials: GET www.office.com (Default, not direct)" http://www.office.com/a10
auth_case 407 - "no credentials: GET outlook.office365.com:8080 (not a Microsoft 365 port)" \
    http://outlook.office365.com:8080/a11
auth_case 407 - "no credentials: GET 192.0.2.10" http://192.0.2.10/a12
auth_case 407 - "no credentials: CONNECT www.example.com:443" https://www.example.com/a13
auth_case 200 FIRSTUP_PARENT "credentials: CONNECT www.example.com:443" $AUTH \
    https://www.example.com/a14
auth_case 407 - "wrong password: GET www.example.com" --proxy-user alice:queen \
    http://www.example.com/a15
# --- not an open relay: Microsoft 365 only for localnet ---
auth_case 403 - "a client outside localnet: GET outlook.office365.com (denied, no bypass)" \
    --interface 192.0.2.10 http://outlook.office365.com/a16
auth_case 403 - "a client outside localnet: CONNECT 13.107.6.152:443 (denied, no bypass)" \
    --interface 192.0.2.10 https://13.107.6.152/a17
_n=$(awk '$12 == "skipped"' "$LS_DIR/explicit/tls.log" | wc -l)
check "$([ "$_n" -ge 7 ] && echo 0)" \
    "the requests let in without credentials carry the note m365_auth=skipped ($_n)"

# --- SslBump on the explicit port -----------------------------------------
B="--proxy 127.0.0.1:$BUMP_PORT"
tls_case splice - "explicit, no credentials: CONNECT outlook.office365.com:443, SNI outlook.office365.com" \
    explicit HIER_DIRECT $B --connect outlook.office365.com:443 --sni outlook.office365.com \
    --get outlook.office365.com
tls_case splice - "explicit, no credentials: CONNECT 13.107.6.152:443, no SNI" \
    explicit HIER_DIRECT $B --connect 13.107.6.152:443 --get 13.107.6.152
tls_case splice - "explicit, no credentials: CONNECT [2603:1006::10]:443, no SNI" \
    explicit HIER_DIRECT $B --connect '[2603:1006::10]:443' --get '[2603:1006::10]'
tls_case splice - "explicit, no credentials: CONNECT [2603:1006:1400::5]:443, SNI teams.microsoft.com" \
    explicit HIER_DIRECT $B --connect '[2603:1006:1400::5]:443' --sni teams.microsoft.com \
    --get teams.microsoft.com
tls_case 407 - "explicit, no credentials: CONNECT www.example.com:443" \
    explicit - $B --connect www.example.com:443 --sni www.example.com
tls_case bump - "explicit, credentials: CONNECT www.example.com:443, SNI www.example.com" \
    explicit FIRSTUP_PARENT $B --connect www.example.com:443 --proxy-auth alice:wonderland \
    --sni www.example.com --get www.example.com
_p=$(awk '$2 == "CONNECT" && $3 == "www.example.com:443"' "$LS_DIR/parent/access.log" | tail -n 1)
check "$([ -n "$_p" ] && echo 0)" \
    "bumped traffic reached the parent as a CONNECT tunnel (parent: ${_p:-nothing})"
tls_case splice - "explicit, credentials: CONNECT outlook.office365.com:443, SNI outlook.office365.com" \
    explicit HIER_DIRECT $B --connect outlook.office365.com:443 --proxy-auth alice:wonderland \
    --sni outlook.office365.com --get outlook.office365.com
# --- spoofing: the SNI never widens ---
tls_case bump sni-mismatch \
    "spoof: CONNECT www.example.com:443 (credentials), SNI outlook.office365.com" \
    explicit FIRSTUP_PARENT $B --connect www.example.com:443 --proxy-auth alice:wonderland \
    --sni outlook.office365.com --get outlook.office365.com
# A CONNECT naming Microsoft 365 is let in by the bypass before any
# credentials are looked at (browsers send them only after a 407), so a
# foreign SNI inside is terminated even when credentials came along.
tls_case terminate sni-mismatch \
    "spoof: CONNECT outlook.office365.com:443 (credentials offered), SNI www.example.com" \
    explicit - $B --connect outlook.office365.com:443 --proxy-auth alice:wonderland \
    --sni www.example.com --get www.example.com
# --- the hole: in without credentials as Microsoft 365, then another SNI ---
tls_case terminate - "no credentials: CONNECT outlook.office365.com:443, SNI www.example.com" \
    explicit - $B --connect outlook.office365.com:443 --sni www.example.com --get www.example.com
tls_case terminate - "no credentials: CONNECT 13.107.6.152:443, SNI www.example.com, Host outlook.office365.com inside" \
    explicit - $B --connect 13.107.6.152:443 --sni www.example.com --get outlook.office365.com
tls_case terminate - "no credentials: CONNECT [2603:1006::10]:443, SNI login.example.org, credentials only inside" \
    explicit - $B --connect '[2603:1006::10]:443' --sni login.example.org --get login.example.org \
    --inner-auth alice:wonderland
_term=$(awk '$8 == "terminate" { t++ } END { print t + 0 }' "$LS_DIR/explicit/tls.log")
_leak=$(grep -c 'sni=login.example.org' "$LS_DIR/origin.log")
check "$([ "$_term" -ge 4 ] && [ "$_leak" = 0 ] && echo 0)" \
    "terminated at step 2 ($_term connections): no request of theirs reached any origin" \
    "origin.log lines with sni=login.example.org: $_leak"

_bad=$(grep -iE 'error|warning|fatal|\bBH\b|exited|crash' "$LS_DIR/explicit/cache.log" |
    grep -v 'SNI mismatch')
check "$([ -z "$_bad" ] && echo 0)" "explicit Squid cache.log: no errors or warnings" "$_bad"
ls_stop_pid "$EXPLICIT_PID"

# What the terminate rule adds, shown on the same configuration without it
# (the shipped sslbump snippet minus that one line): Squid 5.7 bumps the
# connection (server first: it connects through the parent on behalf of a
# client that never authenticated) and runs http_access again for each
# decrypted request, which inherits the CONNECT's missing credentials: a
# foreign Host is denied, 403 not 407, even with Proxy-Authorization inside
# the tunnel.  So is a Microsoft 365 Host: the snippet's helper in
# http_access sees the foreign SNI (m365_reason=sni-mismatch) and the
# bypass no longer applies.  The shipped rule closes the connection before
# any of that.
grep -v '^ssl_bump terminate m365_auth_skipped$' "$LS_DIR/snip/m365-direct-sslbump.conf" \
    >"$LS_DIR/snip/noterm.conf"
sed -e "s|$LS_DIR/snip/m365-direct-sslbump.conf|$LS_DIR/snip/noterm.conf|" \
    -e "s|$LS_DIR/explicit/|$LS_DIR/noterm/|g" -e "s|certdb-explicit|certdb-noterm|" \
    -e "s|explicit.m365-test|noterm.m365-test|" "$LS_DIR/explicit/squid.conf" >"$LS_DIR/noterm.conf"
mkdir -p "$LS_DIR/noterm"
mv "$LS_DIR/noterm.conf" "$LS_DIR/noterm/squid.conf"
ls_make_certdb "$LS_DIR/certdb-noterm"
if ! grep -q 'ssl_bump terminate' "$LS_DIR/snip/noterm.conf" &&
    ls_run_squid noterm "$CHILD_PORT"; then
    P0="$PROBE --ca $PKI/public-ca.pem --ca $PKI/bump-ca.crt $B --connect outlook.office365.com:443 --sni www.example.com"
    _a=$($P0 --get www.example.com 2>&1)
    _b=$($P0 --get www.example.com --inner-auth alice:wonderland 2>&1)
    _c=$($P0 --get outlook.office365.com 2>&1)
    case $_a in *"issuer=$BUMP_CA status=403"*) _ra=0 ;; *) _ra=1 ;; esac
    case $_b in *"issuer=$BUMP_CA status=403"*) _rb=0 ;; *) _rb=1 ;; esac
    case $_c in *"issuer=$BUMP_CA status=403"*) _rc=0 ;; *) _rc=1 ;; esac
    check "$([ $_ra$_rb$_rc = 000 ] && echo 0)" \
        "without the terminate rule: bumped, and inside every request is denied (403; foreign Host, with Proxy-Authorization, Microsoft 365 Host)" \
        "foreign: $_a" "foreign + Proxy-Authorization: $_b" "Microsoft 365 Host: $_c"
    ls_stop_pid "$NOTERM_PID"
else
    not_ok "without the terminate rule: Squid started"
fi

# ============================================================ interception ===
# A client namespace behind a veth pair; nftables redirects its TCP 443 to
# Squid's "https_port ... intercept ssl-bump".  Squid resolves names with
# dnsmasq on 127.0.0.1:53 (its own check after a splice), the helper with
# --verify-sni dns asks the same server.  dnsmasq: outlook.office365.com is
# 13.107.6.152 and 2603:1006::10; foo.officeapps.live.com is 192.0.2.10;
# bar.officeapps.live.com is 198.51.100.7; baz.officeapps.live.com is
# forwarded to a server that never answers.
ls_make_client_netns || { echo "Bail out! could not make the client namespace"; exit 1; }
SILENT_PORT=$(ls_free_port)
socat -u UDP4-RECV:"$SILENT_PORT",bind=127.0.0.1 OPEN:/dev/null >/dev/null 2>&1 &
LS_PIDS="$LS_PIDS $!"
cat >"$LS_DIR/dns-hosts" <<'EOF'
13.107.6.152 outlook.office365.com
2603:1006::10 outlook.office365.com
2603:1006:1400::5 teams.microsoft.com
192.0.2.10 foo.officeapps.live.com
198.51.100.7 bar.officeapps.live.com
127.0.0.1 www.example.com login.example.org
EOF
printf '127.0.0.1 localhost\n' >"$LS_DIR/squid-hosts"
chown proxy:proxy "$LS_DIR/dns-hosts" "$LS_DIR/squid-hosts"
ls_start_dnsmasq 53 "$LS_DIR/dns-hosts" \
    "--server=/baz.officeapps.live.com/127.0.0.1#$SILENT_PORT" ||
    { echo "Bail out! dnsmasq did not start"; exit 1; }

# intercept_squid NAME HELPER_OPTIONS...: an intercepting Squid with the
# shipped m365-direct.conf and m365-direct-sslbump.conf (the latter's
# helper with HELPER_OPTIONS added) and the NAT redirect to it.
intercept_squid() {
    _n=$1
    shift
    snippet m365-direct "$HCMD --concurrency"
    snippet m365-direct-sslbump "$HCMD $*"
    _cp=$(ls_free_port)
    INT_PORT=$(ls_free_port)
    XBUMP_PORT=$(ls_free_port)
    {
        tls_squid_common "$_n" "$_cp"
        cat <<EOF
https_port $INT_PORT intercept ssl-bump tls-cert=$PKI/bump-ca.pem generate-host-certificates=on dynamic_cert_mem_cache_size=4MB
# The same snippets for an explicit proxy without authentication.
http_port 127.0.0.1:$XBUMP_PORT ssl-bump tls-cert=$PKI/bump-ca.pem generate-host-certificates=on dynamic_cert_mem_cache_size=4MB
# Names from dnsmasq only (127.0.0.1:53): no test names in the hosts file.
hosts_file $LS_DIR/squid-hosts
acl localnet src 127.0.0.1/32 10.99.0.0/24 fd99::/64
include $LS_DIR/snip/m365-direct.conf
include $LS_DIR/snip/m365-direct-sslbump.conf
http_access allow localnet
http_access deny all
cache_peer 127.0.0.1 parent $PARENT_PORT 0 no-query no-digest default name=parent
EOF
    } >"$LS_DIR/$_n/squid.conf"
    nft delete table inet m365t_nat 2>/dev/null
    ls_run_squid "$_n" "$_cp" && ls_redirect_tls "$INT_PORT"
}

# From now on the probe runs in the client namespace and connects to
# ADDR:443 itself; the network hands it to Squid.
PROBE="ip netns exec ${LS_NS}c $LS_PY $M365_ROOT/tests/integration/tls_probe.py"

if intercept_squid intercept; then
    parse_clean "squid -k parse: the intercepting test Squid (shipped snippets) is clean" \
        "$LS_DIR/intercept/squid.conf"
    tls_case splice - "intercept: 13.107.6.152:443, SNI outlook.office365.com" \
        intercept ORIGINAL_DST --to 13.107.6.152:443 --sni outlook.office365.com \
        --get outlook.office365.com
    tls_case splice - "intercept: [2603:1006::10]:443, SNI outlook.office365.com" \
        intercept ORIGINAL_DST --to '[2603:1006::10]:443' --sni outlook.office365.com \
        --get outlook.office365.com
    tls_case splice - "intercept: 13.107.6.152:443, no SNI" \
        intercept ORIGINAL_DST --to 13.107.6.152:443 --get 13.107.6.152
    _sni=$(grep ' CONNECT 13.107.6.152:443 .* splice ' "$LS_DIR/intercept/tls.log" | tail -n 1 |
        awk '{ print $9 }')
    check "$([ "$_sni" = - ] && echo 0)" \
        "intercept without SNI: Squid logs (and passes the helper) %ssl::>sni as '-' (got '$_sni')"
    tls_case splice - "intercept: [2603:1006::10]:443, no SNI" \
        intercept ORIGINAL_DST --to '[2603:1006::10]:443' --get '[2603:1006::10]'
    tls_case bump - "intercept: 192.0.2.10:443, SNI www.example.com" \
        intercept FIRSTUP_PARENT --to 192.0.2.10:443 --sni www.example.com --get www.example.com
    tls_case bump - "intercept: 192.0.2.10:443, no SNI" \
        intercept FIRSTUP_PARENT --to 192.0.2.10:443 --get 192.0.2.10
    tls_case bump - "intercept: [2001:db8::10]:443, no SNI" \
        intercept FIRSTUP_PARENT --to '[2001:db8::10]:443' --get '[2001:db8::10]'
    tls_case bump sni-mismatch \
        "intercept spoof: 192.0.2.10:443 (not Microsoft 365), SNI outlook.office365.com" \
        intercept FIRSTUP_PARENT --to 192.0.2.10:443 --sni outlook.office365.com \
        --get outlook.office365.com
    tls_case bump sni-mismatch \
        "intercept spoof: 13.107.6.152:443, SNI www.example.com" \
        intercept FIRSTUP_PARENT --to 13.107.6.152:443 --sni www.example.com --get www.example.com
    tls_case bump sni-mismatch \
        "intercept spoof: [2603:1006::10]:443, SNI login.example.org" \
        intercept FIRSTUP_PARENT --to '[2603:1006::10]:443' --sni login.example.org \
        --get login.example.org
    tls_case bump sni-mismatch \
        "intercept, no --verify-sni: 192.0.2.10:443, SNI foo.officeapps.live.com (name-only Allow)" \
        intercept FIRSTUP_PARENT --to 192.0.2.10:443 --sni foo.officeapps.live.com \
        --get foo.officeapps.live.com
    # The SslBump snippet without the auth one, on an explicit port: a
    # CONNECT to Microsoft 365 with a foreign SNI is bumped (no
    # authentication bypass, so nothing to terminate).
    _probe=$PROBE
    PROBE="$LS_PY $M365_ROOT/tests/integration/tls_probe.py"
    X="--proxy 127.0.0.1:$XBUMP_PORT"
    tls_case splice - "explicit, SslBump only: CONNECT outlook.office365.com:443, SNI outlook.office365.com" \
        intercept HIER_DIRECT $X --connect outlook.office365.com:443 --sni outlook.office365.com \
        --get outlook.office365.com
    tls_case bump sni-mismatch "spoof, explicit, SslBump only: CONNECT outlook.office365.com:443, SNI www.example.com" \
        intercept FIRSTUP_PARENT $X --connect outlook.office365.com:443 --sni www.example.com \
        --get www.example.com
    tls_case bump sni-mismatch "spoof, explicit, SslBump only: CONNECT 13.107.6.152:443, SNI login.example.org" \
        intercept FIRSTUP_PARENT $X --connect 13.107.6.152:443 --sni login.example.org \
        --get login.example.org
    tls_case bump sni-mismatch "spoof, explicit, SslBump only: CONNECT www.example.com:443, SNI outlook.office365.com" \
        intercept FIRSTUP_PARENT $X --connect www.example.com:443 --sni outlook.office365.com \
        --get outlook.office365.com
    PROBE=$_probe
    _bad=$(grep -iE 'error|warning|fatal|\bBH\b|exited|crash' "$LS_DIR/intercept/cache.log" |
        grep -v 'SNI mismatch')
    check "$([ -z "$_bad" ] && echo 0)" "intercepting Squid cache.log: no errors or warnings" "$_bad"
    ls_stop_pid "$INTERCEPT_PID"
else
    fail_n 18 "intercept: Squid did not start"
fi

# ------------------------------------------------ with --verify-sni dns ---
if intercept_squid verify --verify-sni dns --dns-server 127.0.0.1:53; then
    parse_clean "squid -k parse: the --verify-sni dns test Squid is clean" \
        "$LS_DIR/verify/squid.conf"
    tls_case splice sni-verified \
        "verify: 192.0.2.10:443, SNI foo.officeapps.live.com, DNS says 192.0.2.10" \
        verify ORIGINAL_DST --to 192.0.2.10:443 --sni foo.officeapps.live.com \
        --get foo.officeapps.live.com
    tls_case bump sni-mismatch \
        "verify: 192.0.2.10:443, SNI bar.officeapps.live.com, DNS says 198.51.100.7" \
        verify FIRSTUP_PARENT --to 192.0.2.10:443 --sni bar.officeapps.live.com \
        --get bar.officeapps.live.com
    tls_case bump dns-timeout \
        "verify: 192.0.2.10:443, SNI baz.officeapps.live.com, DNS silent" \
        verify FIRSTUP_PARENT --to 192.0.2.10:443 --sni baz.officeapps.live.com \
        --get baz.officeapps.live.com
    tls_case bump sni-mismatch \
        "verify: 192.0.2.10:443, SNI outlook.office365.com, DNS says 13.107.6.152" \
        verify FIRSTUP_PARENT --to 192.0.2.10:443 --sni outlook.office365.com \
        --get outlook.office365.com
    tls_case bump sni-mismatch \
        "verify: 13.107.6.152:443, SNI www.example.com (a foreign name stays foreign)" \
        verify FIRSTUP_PARENT --to 13.107.6.152:443 --sni www.example.com --get www.example.com
    tls_case splice - "verify: 13.107.6.152:443, SNI outlook.office365.com" \
        verify ORIGINAL_DST --to 13.107.6.152:443 --sni outlook.office365.com \
        --get outlook.office365.com
    ls_stop_pid "$VERIFY_PID"
else
    fail_n 7 "verify: Squid with the helper's --verify-sni dns did not start"
fi

if [ "$T" != "$PLAN" ]; then
    echo "# ran $T tests, planned $PLAN"
fi
[ "$FAILS" = 0 ]
