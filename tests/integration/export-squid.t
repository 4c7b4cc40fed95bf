#!/bin/sh
# "m365-direct export squid" against a real Squid 5 (squid-openssl): for
# each real data file, a policy with extra_direct and never_direct entries,
# one with every category direct and one with every address direct, the
# files load with "squid -k parse" clean (no ERROR, no WARNING), and a
# loopback Squid whose http_access uses m365_direct and m365_direct_sni
# answers every agreement probe as "m365-direct check" does without a port
# (tests/tools/probes computes that with the real matcher).  Then the
# shipped configs/squid/m365-direct-static.conf routes DIRECT or to the
# parent, and m365-direct-sni.conf makes SslBump splice or terminate by
# the TLS server name.  Runs in a private network namespace (see
# lib-squid.sh); TAP output.
#
#   prove -v -e '' tests/integration/export-squid.t    (as root)
#   M365_BUILD=build/san prove -e '' tests/integration/export-squid.t
#   LS_KEEP=1 ...  keeps the temp dir (exports, probes, logs).
set -u

M365_ROOT=$(cd "$(dirname "$0")/../.." && pwd) || exit 1
cd "$M365_ROOT" || exit 1
. tests/integration/lib-squid.sh

B=${M365_BUILD:-build/rel}
PLAN=68

if [ -z "${LS_IN_NETNS:-}" ]; then
    for t in "$B/m365-direct" "$B/tools/probes"; do
        if [ ! -x "$t" ]; then
            echo "1..1"
            echo "not ok 1 - built: no $t (run make all $B/tools/probes)"
            exit 1
        fi
    done
fi
ls_enter_netns "$M365_ROOT/tests/integration/export-squid.t" "$@"

CLI="$M365_ROOT/$B/m365-direct"
PROBES="$M365_ROOT/$B/tools/probes"
DATA_DIR="$M365_ROOT/tests/data"

echo "1..$PLAN"

# parse_clean DESC CONF: "squid -k parse" exits 0 and prints no error or
# warning of any case ("Warning: empty ACL" is spelt so).
parse_clean() {
    _out=$(squid -n "${LS_NS}parse" -k parse -f "$2" 2>&1)
    _rc=$?
    _bad=$(printf '%s\n' "$_out" | grep -iE 'error|warning|fatal|bungled|unrecognized')
    if [ $_rc = 0 ] && [ -z "$_bad" ]; then
        ok "$1"
    else
        not_ok "$1"
        diag "exit $_rc" "$_bad"
    fi
}

# export_case NAME CONF DATA: exports into $LS_DIR/NAME/out.
export_case() {
    mkdir -p "$LS_DIR/$1"
    if "$CLI" -c "$2" --data "$3" export squid -o "$LS_DIR/$1/out" \
        >"$LS_DIR/$1/export.out" 2>&1; then
        ok "$1: export squid -o DIR"
    else
        not_ok "$1: export squid -o DIR"
        diag "$(cat "$LS_DIR/$1/export.out")"
    fi
}

# agree_case NAME CONF DATA: a Squid with the export; one request per probe.
# m365_direct and m365_direct_sni are each tested in http_access (the
# latter matches the URL host when there is no TLS), and m365_direct_tls
# (both of them): deny_info gives 301 when m365_direct_tls matches, 307
# when both others match but m365_direct_tls does not, 302 or 303 when
# only one does, 403 when none does.
# (deny_info names the last ACL evaluated, an inner one for any-of and
# all-of: so each rule ends with a plain marker ACL that always matches.)
# Squid denies before it would forward, so no request leaves Squid and no
# name is resolved.
agree_case() {
    _ac=$1 _ad="$LS_DIR/$1"
    _ap=$(ls_free_port)
    {
        ls_squid_common "$_ac" "$_ap"
        cat <<EOF
include $_ad/out/m365-direct.conf
include $_ad/out/m365-direct-sni.conf
acl m365t_tls src 127.0.0.1
acl m365t_both src 127.0.0.1
acl m365t_http src 127.0.0.1
acl m365t_sni src 127.0.0.1
deny_info 301:http://tls.invalid/ m365t_tls
deny_info 307:http://both-not-tls.invalid/ m365t_both
deny_info 302:http://http-only.invalid/ m365t_http
deny_info 303:http://sni-only.invalid/ m365t_sni
http_access deny m365_direct_tls m365t_tls
http_access deny m365_direct m365_direct_sni m365t_both
http_access deny m365_direct m365t_http
http_access deny m365_direct_sni m365t_sni
http_access deny all
EOF
    } >"$_ad/squid.conf"
    parse_clean "$_ac: squid -k parse with both fragments is clean" "$_ad/squid.conf"
    if ! "$PROBES" -c "$2" "$3" >"$_ad/probes.txt" 2>"$_ad/probes.err" ||
        [ ! -s "$_ad/probes.txt" ]; then
        not_ok "$_ac: probes"
        diag "$(cat "$_ad/probes.err")"
        return
    fi
    if ! ls_run_squid "$_ac" "$_ap"; then
        not_ok "$_ac: Squid with the export started"
        return
    fi
    _apid=$(eval "echo \$$(echo "$_ac" | tr '[:lower:]-' '[:upper:]_')_PID")
    awk -F'\t' '{ h = $1; if (index(h, ":")) h = "[" h "]"
        printf "url = \"http://%s/\"\noutput = \"/dev/null\"\n", h }' \
        "$_ad/probes.txt" >"$_ad/curl.cfg"
    curl -s -g -m 10 -x "http://127.0.0.1:$_ap" -w '%{http_code}\n' \
        -K "$_ad/curl.cfg" >"$_ad/codes.txt" 2>/dev/null
    ls_stop_pid "$_apid"
    # probe <TAB> check's answer <TAB> HTTP status
    paste "$_ad/probes.txt" "$_ad/codes.txt" | awk -F'\t' -v name="$_ac" '
    {
        n++
        if ($2 == "direct") d++
        got = $3 == "301" ? "direct" : $3 == "403" ? "proxy" : \
            $3 == "302" ? "m365_direct only" : \
            $3 == "303" ? "m365_direct_sni only" : \
            $3 == "307" ? "both but not m365_direct_tls" : "HTTP status " $3
        if (got != $2 && $2 == "direct" && got == "proxy" &&
            ($1 == "0.0.0.0" || $1 == "::" || $1 == "::ffff:0.0.0.0")) {
            # Squid takes the unspecified address for no address: dst
            # never matches it (a stated limit, see export/squid.c)
            lim = lim " " $1
            nl++
            next
        }
        if (got != $2) {
            bad++
            if (bad <= 25)
                printf "#   %s: check says %s, Squid %s\n", $1, $2, got >"/dev/stderr"
        }
    }
    END {
        if (bad == 0 && n > 0 && d > 0 && d < n)
            printf "ok %s: Squid agrees with check on %s%d probes (%d direct, %d proxy)%s\n", \
                name, nl ? n - nl " of " : "all ", n, d, n - d, \
                nl ? "; not on the unspecified" lim ", no address to Squid" : ""
        else
            printf "not %s: %d of %d probes disagree (%d direct)\n", name, bad, n, d
    }' >"$_ad/result" 2>"$_ad/diag"
    _r=$(cat "$_ad/result")
    case $_r in
    "ok "*) ok "${_r#ok }" ;;
    *)
        not_ok "${_r#not }"
        cat "$_ad/diag"
        ;;
    esac
}

# ----------------------------------------------------------- the cases ---
printf '# no policy: the defaults\n' >"$LS_DIR/default.conf"
# extra_direct of every pattern shape dstdomain cannot express, and
# never_direct inside direct wildcards and prefixes; "192.0.2.*" is a name
# pattern that looks like addresses, which must not catch 192.0.2.0/24.
cat >"$LS_DIR/policy.conf" <<'EOF'
extra_direct = intranet.example.net, *.corp.example.net, example.org
extra_direct = *.example.org, *cdn.onenote.net, *-files.sharepoint.com
extra_direct = autodiscover.*.onmicrosoft.com, a?c.example.com
extra_direct = 192.0.2.0/24, 2001:db8:1::/48
never_direct = special.sharepoint.com, *.blocked.sharepoint.com
never_direct = *.lab.corp.example.net, 13.107.6.152, 13.107.137.0/24
never_direct = 2603:1006:10::/48, 2001:db8:1:2::/64, 192.0.2.*
EOF
cat >"$LS_DIR/all.conf" <<'EOF'
direct_categories = optimize, allow, default
EOF
# Every address: Squid reads "0.0.0.0/0" as "all" (IPv6 too, with an
# ERROR), and ::/0 must not cover IPv4 (the matcher's rule).
cat >"$LS_DIR/everywhere.conf" <<'EOF'
extra_direct = 0.0.0.0/0, ::/0
never_direct = 10.0.0.0/8, 2001:db8::/32
EOF
chown -R proxy:proxy "$LS_DIR"

export_case ww2025 "$LS_DIR/default.conf" "$DATA_DIR/worldwide-c2025.json"
export_case ww2022 "$LS_DIR/default.conf" "$DATA_DIR/worldwide-c2022.json"
export_case china "$LS_DIR/default.conf" "$DATA_DIR/china-c2025.json"
export_case policy "$LS_DIR/policy.conf" "$DATA_DIR/worldwide-c2025.json"
export_case all "$LS_DIR/all.conf" "$DATA_DIR/worldwide-c2025.json"
export_case everywhere "$LS_DIR/everywhere.conf" "$DATA_DIR/china-c2025.json"

# Same data and policy, byte-identical files; nothing else left behind.
cp -a "$LS_DIR/policy/out" "$LS_DIR/first"
"$CLI" -c "$LS_DIR/policy.conf" --data "$DATA_DIR/worldwide-c2025.json" \
    export squid -o "$LS_DIR/policy/out" >/dev/null 2>&1
_diff=$(cd "$LS_DIR/first" && for f in *; do
    cmp -s "$f" "$LS_DIR/policy/out/$f" || echo "$f"
done)
_files=$(cd "$LS_DIR/policy/out" && ls -A | tr '\n' ' ')
_want="m365-direct-domains.txt m365-direct-ips.txt m365-direct-regex.txt m365-direct-sni.conf m365-direct.conf m365-never-domains.txt m365-never-ips.txt m365-never-regex.txt "
check "$([ -z "$_diff" ] && [ "$_files" = "$_want" ] && echo 0)" \
    "export is deterministic and writes exactly its eight files" \
    "differ: $_diff" "files: $_files"

# What went where, on the policy case (the agreement below proves it right;
# these say the interesting paths were taken).
P="$LS_DIR/policy/out"
grep -qx 'acl m365_direct all-of m365_direct_any !m365_never' "$P/m365-direct.conf"
check $? "never_direct wins: m365_direct is all-of m365_direct_any !m365_never"
grep -qx 'acl m365_direct_sni all-of m365_direct_sni_any !m365_never_sni' \
    "$P/m365-direct-sni.conf"
check $? "never_direct wins for SNI too"
_want='\.sharepoint\.com$ cdn\.onenote\.net$ ^autodiscover\..*\.onmicrosoft\.com$ ^a.c\.example\.com$ \.corp\.example\.net$'
_miss=""
for r in $_want; do
    grep -qxF -- "$r" "$P/m365-direct-regex.txt" || _miss="$_miss $r"
done
grep -qxF -- '-files\.sharepoint\.com$' "$P/m365-direct-regex.txt" &&
    _miss="$_miss (covered -files kept)"
check "$([ -z "$_miss" ] && echo 0)" \
    "regex only where dstdomain cannot be exact (*.x without x, *cdn, a.*.x, a?c)" \
    "missing or wrong:$_miss"
grep -qx '\.example\.org' "$P/m365-direct-domains.txt" &&
    ! grep -qx 'example\.org' "$P/m365-direct-domains.txt" &&
    ! grep -q 'sharepoint' "$P/m365-direct-domains.txt"
check $? "dstdomain .x only when x is direct too, without x itself"
grep -q '^acl m365_ip_literal ' "$P/m365-direct.conf" &&
    ! grep -q 'ip_literal' "$LS_DIR/ww2025/out/m365-direct.conf"
check $? "address guard written only for an address-like pattern (192.0.2.*)"

# ----------------------------------------------------- the agreement ----
agree_case ww2025 "$LS_DIR/default.conf" "$DATA_DIR/worldwide-c2025.json"
agree_case ww2022 "$LS_DIR/default.conf" "$DATA_DIR/worldwide-c2022.json"
agree_case china "$LS_DIR/default.conf" "$DATA_DIR/china-c2025.json"
agree_case policy "$LS_DIR/policy.conf" "$DATA_DIR/worldwide-c2025.json"
agree_case all "$LS_DIR/all.conf" "$DATA_DIR/worldwide-c2025.json"
agree_case everywhere "$LS_DIR/everywhere.conf" "$DATA_DIR/china-c2025.json"

# ------------------------------------------- the shipped static snippet ---
# configs/squid/m365-direct-static.conf exactly as shipped but for the
# export directory, with the policy case's files.
sed "s|/etc/squid/m365/|$P/|g" "$M365_ROOT/configs/squid/m365-direct-static.conf" \
    >"$LS_DIR/static.conf"
grep -q "^include $P/m365-direct.conf\$" "$LS_DIR/static.conf"
check $? "static snippet includes the exported m365-direct.conf"
cat >"$LS_DIR/parse-static.conf" <<EOF
http_port 127.0.0.1:3128
pid_filename $LS_DIR/parse.pid
cache_log $LS_DIR/parse-cache.log
include $LS_DIR/static.conf
http_access allow localhost
http_access deny all
cache_peer proxy.example.net parent 3128 0 no-query default
EOF
parse_clean "squid -k parse: shipped m365-direct-static.conf is clean" \
    "$LS_DIR/parse-static.conf"

ls_start_origin || { echo "Bail out! origin server did not start"; exit 1; }
ls_start_parent || { echo "Bail out! parent Squid did not start"; exit 1; }
CHILD_PORT=$(ls_free_port)
{
    ls_squid_common child "$CHILD_PORT"
    cat <<EOF
include $LS_DIR/static.conf
http_access allow all
cache_peer 127.0.0.1 parent $PARENT_PORT 0 no-query no-digest default name=parent
EOF
} >"$LS_DIR/child/squid.conf"
ls_run_squid child "$CHILD_PORT" || { echo "Bail out! child Squid did not start"; exit 1; }
parse_clean "squid -k parse: the test Squid with the static snippet is clean" \
    "$LS_DIR/child/squid.conf"

want_route DIRECT "GET outlook.office365.com (Optimize, dstdomain)" \
    GET http://outlook.office365.com/s1 http://outlook.office365.com/s1
want_route DIRECT "GET foo.sharepoint.com (*.sharepoint.com, regex)" \
    GET http://foo.sharepoint.com/s2 http://foo.sharepoint.com/s2
want_route DIRECT "GET teams.microsoft.com (apex of .teams.microsoft.com)" \
    GET http://teams.microsoft.com/s3 http://teams.microsoft.com/s3
want_route PARENT "GET special.sharepoint.com (never_direct in *.sharepoint.com)" \
    GET http://special.sharepoint.com/s4 http://special.sharepoint.com/s4
want_route PARENT "GET www.office.com (Default)" \
    GET http://www.office.com/s5 http://www.office.com/s5
want_route DIRECT "GET intranet.example.net (extra_direct)" \
    GET http://intranet.example.net/s6 http://intranet.example.net/s6
want_route DIRECT "CONNECT outlook.office365.com:443" \
    CONNECT outlook.office365.com:443 -p http://outlook.office365.com:443/s7
want_route DIRECT "GET [2603:1006::10] (Optimize prefix)" \
    GET 'http://[2603:1006::10]/s8' 'http://[2603:1006::10]/s8'
want_route PARENT "GET 13.107.6.152 (never_direct address in an Optimize prefix)" \
    GET http://13.107.6.152/s9 http://13.107.6.152/s9
want_route PARENT "CONNECT [2001:db8::10]:443 (not Microsoft 365)" \
    CONNECT '[2001:db8::10]:443' -p 'http://[2001:db8::10]:443/s10'
_bad=$(grep -iE 'error|warning|fatal' "$LS_DIR/child/cache.log")
check "$([ -z "$_bad" ] && echo 0)" "child cache.log: no errors or warnings" "$_bad"

# ------------------------------------------- ssl_bump splice by SNI -----
# The SslBump part of configs/squid/m365-direct-static.conf as shipped,
# "#" removed, with the policy case's files: SslBump peeks at the TLS
# ClientHello, then splices when m365_direct_tls matches (the destination
# AND the server name are direct) and bumps otherwise.  Its "bump all" is
# run as "terminate all" (bumping would need a real server; the decision is
# the same: not spliced).  openssl s_client sends CONNECT HOST:443 and then
# the SNI we choose, or none (-noservername), an address too; to an IPv6
# literal (which s_client writes without brackets) curl does, with the URL
# host as SNI (none for an address) and --connect-to for the CONNECT host.
# Squid logs the bump mode it chose.
ls_stop_pid "$CHILD_PID"
mkdir -p "$LS_DIR/sni"
# 13.107.6.153 is direct in the policy case (13.107.6.152 is never_direct)
ip -4 addr add 13.107.6.153/32 dev lo
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=m365-test \
    -keyout "$LS_DIR/sni/cert.pem" -out "$LS_DIR/sni/cert.pem" >/dev/null 2>&1
sed -n '/^# With SslBump/,$s/^#\(include\|acl\|ssl_bump\) /\1 /p' "$LS_DIR/static.conf" |
    sed 's/^ssl_bump bump all$/ssl_bump terminate all/' >"$LS_DIR/sni/sslbump.conf"
_want="include $P/m365-direct-sni.conf
acl m365_step1 at_step SslBump1
ssl_bump peek m365_step1
ssl_bump splice m365_direct_tls
ssl_bump terminate all"
check "$([ "$(cat "$LS_DIR/sni/sslbump.conf")" = "$_want" ] && echo 0)" \
    "static snippet: SslBump part peeks, splices on m365_direct_tls, bumps the rest" \
    "$(cat "$LS_DIR/sni/sslbump.conf")"
grep -qx 'acl m365_direct_tls all-of m365_direct m365_direct_sni' "$P/m365-direct-sni.conf"
check $? "m365-direct-sni.conf: m365_direct_tls is all-of m365_direct m365_direct_sni"
grep -q '^acl m365_direct_sni_ips all-of m365_sni_ip_literal m365_direct_ips$' \
    "$P/m365-direct-sni.conf" &&
    ! grep -q '^acl m365_direct_sni_any any-of.* m365_direct_ips' "$P/m365-direct-sni.conf"
check $? "m365_direct_sni takes the destination address only for a server name that is an address"
SNI_PORT=$(ls_free_port)
BUMP_PORT=$(ls_free_port)
{
    ls_squid_common sni "$SNI_PORT"
    cat <<EOF
http_port 127.0.0.1:$BUMP_PORT ssl-bump tls-cert=$LS_DIR/sni/cert.pem generate-host-certificates=off
logformat m365sni %rm %ru %ssl::bump_mode %ssl::>sni
access_log stdio:$LS_DIR/sni/bump.log logformat=m365sni
include $LS_DIR/static.conf
include $LS_DIR/sni/sslbump.conf
http_access allow all
cache_peer 127.0.0.1 parent $PARENT_PORT 0 no-query no-digest default name=parent
EOF
} >"$LS_DIR/sni/squid.conf"
ls_run_squid sni "$SNI_PORT" || { echo "Bail out! SslBump Squid did not start"; exit 1; }
parse_clean "squid -k parse: the static snippet with its SslBump part is clean" \
    "$LS_DIR/sni/squid.conf"
# want_bump MODE SNI CONNECT_HOST DESC: a TLS connection through the
# ssl-bump port with SNI ("-": none) to CONNECT_HOST:443; Squid's choice
# is the bump mode it logged for this very CONNECT.
want_bump() {
    _n=$(wc -l <"$LS_DIR/sni/bump.log" 2>/dev/null || echo 0)
    case $3:$2 in
    "["*:-)     # curl sends no SNI to an address
        curl -s -k -m 5 -x "http://127.0.0.1:$BUMP_PORT" -o /dev/null \
            "https://$3/" 2>/dev/null ;;
    "["*)       # s_client would drop the brackets of the CONNECT host
        curl -s -k -m 5 -x "http://127.0.0.1:$BUMP_PORT" -o /dev/null \
            --connect-to "$2:443:$3:443" "https://$2/" 2>/dev/null ;;
    *:-)
        timeout 10 openssl s_client -proxy "127.0.0.1:$BUMP_PORT" \
            -connect "$3:443" -noservername </dev/null >/dev/null 2>&1 ;;
    *)
        timeout 10 openssl s_client -proxy "127.0.0.1:$BUMP_PORT" \
            -connect "$3:443" -servername "$2" </dev/null >/dev/null 2>&1 ;;
    esac
    _l=""
    _i=0
    while [ -z "$_l" ] && [ $_i -lt 50 ]; do
        _l=$(awk -v n="$_n" -v h="$3:443" -v s="$2" \
            'NR > n && $1 == "CONNECT" && $2 == h && $4 == s' \
            "$LS_DIR/sni/bump.log" | tail -n 1)
        [ -n "$_l" ] || sleep 0.1
        _i=$((_i + 1))
    done
    _got=$(printf '%s\n' "$_l" | awk '{ print $3 }')
    check "$([ "$_got" = "$1" ] && echo 0)" "ssl_bump: $4 -> $1" \
        "bump.log: ${_l:-<none>}"
}
# both identities direct, or the only one there is
want_bump splice outlook.office365.com outlook.office365.com "SNI outlook.office365.com"
want_bump splice foo.sharepoint.com foo.sharepoint.com "SNI foo.sharepoint.com (regex)"
want_bump splice - outlook.office365.com "no SNI, CONNECT outlook.office365.com"
want_bump splice - 13.107.6.153 "no SNI, CONNECT 13.107.6.153 (Optimize address)"
want_bump splice - "[2603:1006::10]" "no SNI, CONNECT [2603:1006::10] (IPv6 literal)"
want_bump splice outlook.office365.com 13.107.6.153 \
    "SNI outlook.office365.com, CONNECT 13.107.6.153"
want_bump splice outlook.office365.com "[2603:1006::10]" \
    "SNI outlook.office365.com, CONNECT [2603:1006::10] (IPv6 literal)"
want_bump splice teams.microsoft.com outlook.office365.com \
    "SNI teams.microsoft.com, CONNECT outlook.office365.com (both direct)"
# neither, or never_direct
want_bump terminate www.example.com www.example.com "SNI www.example.com"
want_bump terminate - www.example.com "no SNI, CONNECT www.example.com"
want_bump terminate - "[2001:db8::10]" "no SNI, CONNECT [2001:db8::10]"
want_bump terminate special.sharepoint.com special.sharepoint.com \
    "SNI special.sharepoint.com (never_direct)"
want_bump terminate - 13.107.6.152 "no SNI, CONNECT 13.107.6.152 (never_direct address)"
# spoofing: a Microsoft 365 SNI towards a foreign destination
want_bump terminate outlook.office365.com www.example.com \
    "SNI outlook.office365.com, CONNECT www.example.com (faked SNI)"
want_bump terminate outlook.office365.com 198.51.100.7 \
    "SNI outlook.office365.com, CONNECT 198.51.100.7 (faked SNI, IPv4)"
want_bump terminate outlook.office365.com "[2001:db8::10]" \
    "SNI outlook.office365.com, CONNECT [2001:db8::10] (faked SNI, IPv6)"
want_bump terminate outlook.office365.com 13.107.6.152 \
    "SNI outlook.office365.com, CONNECT 13.107.6.152 (never_direct address)"
want_bump terminate foo.sharepoint.com special.sharepoint.com \
    "SNI foo.sharepoint.com, CONNECT special.sharepoint.com (never_direct host)"
# ... and a foreign SNI towards a Microsoft 365 destination
want_bump terminate www.example.com outlook.office365.com \
    "SNI www.example.com, CONNECT outlook.office365.com"
want_bump terminate www.example.com 13.107.6.153 \
    "SNI www.example.com, CONNECT 13.107.6.153"
want_bump terminate www.example.com "[2603:1006::10]" \
    "SNI www.example.com, CONNECT [2603:1006::10]"
want_bump terminate special.sharepoint.com outlook.office365.com \
    "SNI special.sharepoint.com (never_direct), CONNECT outlook.office365.com"
# an SNI that is an address (RFC 6066 forbids it) is no name: the
# destination decides, as without an SNI (the stated limit)
want_bump splice 198.51.100.7 13.107.6.153 \
    "SNI 198.51.100.7 (an address), CONNECT 13.107.6.153: as no SNI"
want_bump terminate 13.107.6.153 www.example.com \
    "SNI 13.107.6.153 (an address), CONNECT www.example.com"
_bad=$(grep -iE 'error|warning|fatal' "$LS_DIR/sni/cache.log")
check "$([ -z "$_bad" ] && echo 0)" "SslBump cache.log: no errors or warnings" "$_bad"

# A file where the directory should be: refused, exit 1.
: >"$LS_DIR/a-file"
"$CLI" -c "$LS_DIR/default.conf" --data "$DATA_DIR/china-c2025.json" \
    export squid -o "$LS_DIR/a-file" >"$LS_DIR/err.out" 2>&1
_rc=$?
check "$([ $_rc = 1 ] && grep -q 'not a directory' "$LS_DIR/err.out" && echo 0)" \
    "export squid -o FILE: refused (exit $_rc)" "$(cat "$LS_DIR/err.out")"

if [ "$T" != "$PLAN" ]; then
    echo "# ran $T tests, planned $PLAN"
fi
[ "$FAILS" = 0 ]
