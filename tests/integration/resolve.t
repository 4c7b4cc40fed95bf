#!/bin/sh
# helper/resolve.c against real DNS servers: a dnsmasq with known records,
# a server that never answers and one that answers late, all on loopback in
# a private network namespace (lib-squid.sh).  Driven through
# tests/tools/resolve_probe, which runs the module in a poll loop the way
# the helper does and prints "ID STATUS [ms=N]" per check.  TAP output.
#
#   prove -v -e '' tests/integration/resolve.t          (as root)
#   M365_BUILD=build/san prove -e '' tests/integration/resolve.t
set -u

M365_ROOT=$(cd "$(dirname "$0")/../.." && pwd) || exit 1
cd "$M365_ROOT" || exit 1
. tests/integration/lib-squid.sh

PLAN=48
B=${M365_BUILD:-build/rel}
PROBE="$M365_ROOT/$B/tools/resolve_probe"
case $B in
/*) PROBE="$B/tools/resolve_probe" ;;
esac

if [ -z "${LS_IN_NETNS:-}" ]; then
    if [ ! -x "$PROBE" ]; then
        echo "1..1"
        echo "not ok 1 - resolve_probe built: no $PROBE (make $B/tools/resolve_probe)"
        exit 1
    fi
    if ! command -v dnsmasq >/dev/null 2>&1; then
        echo "1..0 # SKIP dnsmasq not installed"
        exit 0
    fi
fi
ls_enter_netns "$M365_ROOT/tests/integration/resolve.t" "$@"

echo "1..$PLAN"

DNSLOG="$LS_DIR/dnsmasq.log"
FLOOD=600

# --------------------------------------------------------------- servers ---
SPORT=$(ls_free_port)   # never answers
LPORT=$(ls_free_port)   # answers A queries 600 ms late
while [ "$LPORT" = "$SPORT" ]; do LPORT=$(ls_free_port); done
DPORT=$(ls_free_port)
while [ "$DPORT" = "$SPORT" ] || [ "$DPORT" = "$LPORT" ]; do
    DPORT=$(ls_free_port)
done
DNS="127.0.0.1:$DPORT"

start_slow() {   # PORT ARGS...: dns_slow.py, waits for "ready"
    _p=$1
    shift
    _f="$LS_DIR/slow-$_p.out"
    "$LS_PY" "$M365_ROOT/tests/integration/dns_slow.py" "$_p" "$@" >"$_f" 2>&1 &
    LS_PIDS="$LS_PIDS $!"
    _n=50
    while [ $_n -gt 0 ] && ! grep -q ready "$_f" 2>/dev/null; do
        sleep 0.1
        _n=$((_n - 1))
    done
    grep -q ready "$_f"
}

{
    echo "port=$DPORT"
    echo "listen-address=127.0.0.1"
    echo "bind-interfaces"
    echo "no-resolv"
    echo "no-hosts"
    echo "user=root"
    echo "pid-file="
    echo "log-queries"
    echo "log-facility=$DNSLOG"
    # Authoritative for .test: NXDOMAIN for unknown names, no data for a
    # missing type.  slow.example goes to the server that never answers;
    # anything else is REFUSED (no upstream).
    echo "local=/test/"
    echo "server=/slow.example/127.0.0.1#$SPORT"
    echo "host-record=a.test,13.107.6.152,60"
    echo "host-record=six.test,2603:1006::10,60"
    echo "host-record=both.test,13.107.6.152,2603:1006::10,60"
    echo "host-record=short.test,192.0.2.10,2"
    echo "host-record=zero.test,192.0.2.11"
    echo "host-record=co.test,192.0.2.12,60"
    echo "host-record=hot.test,192.0.2.13,60"
    i=1
    while [ $i -le $FLOOD ]; do
        echo "host-record=f$i.flood.test,192.0.2.77,60"
        i=$((i + 1))
    done
} >"$LS_DIR/dnsmasq.conf"

DNS_PID=""
start_dns() {
    dnsmasq --no-daemon -C "$LS_DIR/dnsmasq.conf" >>"$LS_DIR/dnsmasq.out" 2>&1 &
    DNS_PID=$!
    LS_PIDS="$LS_PIDS $DNS_PID"
    _n=50
    while [ $_n -gt 0 ]; do
        _a=$(echo "0 ready.test 192.0.2.1" | "$PROBE" -s "$DNS" -t 200)
        [ "$_a" = "0 no match" ] && return 0
        sleep 0.1
        _n=$((_n - 1))
    done
    return 1
}
stop_dns() { ls_stop_pid "$DNS_PID"; }

start_slow "$SPORT" never && start_slow "$LPORT" 600 192.0.2.55 && start_dns
check $? "dnsmasq on $DNS, a silent server on $SPORT, a late one on $LPORT" \
    "$(cat "$LS_DIR"/*.out 2>/dev/null)"

# queries NAME TYPE: how many queries dnsmasq logged for NAME.
queries() { grep -c "query\[$2\] $1 from" "$DNSLOG"; }

# line ID FILE: the answer line for ID.
line() { awk -v id="$1" '$1 == id' "$2"; }

# want FILE ID ANSWER DESC: the answer for ID (without " ms=N") is ANSWER.
want() {
    _l=$(line "$2" "$1" | sed 's/ ms=[0-9]*$//')
    check "$([ "$_l" = "$2 $3" ]; echo $?)" "$4: $3" \
        "got: ${_l:-<no answer>}" "all answers:" "$(cat "$1")"
}

# ms FILE ID: the milliseconds the answer for ID took.
ms() { line "$2" "$1" | sed -n 's/.* ms=\([0-9]*\)$/\1/p'; }

OUT="$LS_DIR/out"

# ------------------------------------------------------------- answers ---
cat <<EOF | "$PROBE" -s "$DNS" -t 1000 >"$OUT"
1 a.test 13.107.6.152
2 a.test ::ffff:13.107.6.152
3 six.test 2603:1006::10
4 a.test 13.107.6.153
5 six.test 2603:1006::11
6 six.test 13.107.6.152
7 both.test 13.107.6.152
8 both.test 2603:1006::10
9 nx.test 13.107.6.152
10 x.refused.example 192.0.2.1
11 Upper.test 13.107.6.152
12 13.107.6.152 13.107.6.152
EOF
want "$OUT" 1 "match" "A record"
want "$OUT" 2 "match" "A record vs the IPv4-mapped form ::ffff:13.107.6.152"
want "$OUT" 3 "match" "AAAA record"
want "$OUT" 4 "no match" "address not among the name's (IPv4)"
want "$OUT" 5 "no match" "address not among the name's (IPv6)"
want "$OUT" 6 "no match" "IPv4 address of a name with only AAAA"
want "$OUT" 7 "match" "name with A and AAAA: the IPv4 one"
want "$OUT" 8 "match" "name with A and AAAA: the IPv6 one"
want "$OUT" 9 "no match" "NXDOMAIN"
want "$OUT" 10 "failed" "REFUSED"
want "$OUT" 11 "failed" "a name that is not lower-case is not asked"
want "$OUT" 12 "failed" "an address literal is no name: it does not match itself"
n=$(wc -l <"$OUT")
check "$([ "$n" -eq 12 ]; echo $?)" "one answer per check ($n)"
n=$(grep -ci 'upper\.test' "$DNSLOG")
check "$([ "$n" -eq 0 ]; echo $?)" "the name that is not lower-case went to no server"

# Failures are not cached: the same name again is asked again.
before=$(queries x.refused.example A)
{ echo "1 x.refused.example 192.0.2.1"; sleep 0.3
  echo "2 x.refused.example 192.0.2.1"; } | "$PROBE" -s "$DNS" -t 1000 >"$OUT"
after=$(queries x.refused.example A)
want "$OUT" 2 "failed" "REFUSED again"
check "$([ "$after" -ge $((before + 2)) ]; echo $?)" \
    "a failure is not cached (queries $before -> $after)"

# --------------------------------------------------------------- cache ---
# Answers come from the cache while dnsmasq is dead, within their TTL;
# past it (short.test has TTL 2) nothing is answered from the cache.
{
    echo "1 short.test 192.0.2.10"
    echo "2 nx.test 192.0.2.10"
    echo "3 a.test 13.107.6.152"
    sleep 0.5
    stop_dns
    echo "4 short.test 192.0.2.10"
    echo "5 nx.test 192.0.2.10"
    echo "6 a.test 13.107.6.153"
    sleep 2.6
    echo "7 short.test 192.0.2.10"
    echo "8 a.test 13.107.6.152"
} | "$PROBE" -s "$DNS" -t 500 -e >"$OUT"
want "$OUT" 1 "match" "TTL 2 name"
want "$OUT" 4 "match" "TTL 2 name again, dnsmasq dead: from the cache"
want "$OUT" 5 "no match" "NXDOMAIN again, dnsmasq dead: from the negative cache"
want "$OUT" 6 "no match" "another address of a cached name"
l=$(line 7 "$OUT" | sed 's/ ms=[0-9]*$//')
case $l in
"7 failed" | "7 timeout") ok "TTL expired, dnsmasq dead: not from the cache ($l)" ;;
*) not_ok "TTL expired, dnsmasq dead: not from the cache"; diag "got: $l" ;;
esac
want "$OUT" 8 "match" "TTL 60 name still cached"
start_dns
check $? "dnsmasq restarted"

# TTL 0: answered, not cached.
before=$(queries zero.test A)
{ echo "1 zero.test 192.0.2.11"; sleep 0.3
  echo "2 zero.test 192.0.2.11"; } | "$PROBE" -s "$DNS" -t 1000 >"$OUT"
after=$(queries zero.test A)
want "$OUT" 2 "match" "TTL 0 name, twice"
check "$([ "$after" -eq $((before + 2)) ]; echo $?)" \
    "TTL 0 is not cached: two queries ($before -> $after)"

# ---------------------------------------------------------- coalescing ---
i=1
while [ $i -le 50 ]; do
    echo "$i co.test 192.0.2.12"
    i=$((i + 1))
done | "$PROBE" -s "$DNS" -t 1000 >"$OUT"
n=$(grep -c ' match$' "$OUT")
u=$(awk '{ print $1 }' "$OUT" | sort -u | wc -l)
check "$([ "$n" -eq 50 ] && [ "$u" -eq 50 ]; echo $?)" \
    "50 checks for one name: 50 answers, one each ($n, $u ids)"
n=$(queries co.test A)
check "$([ "$n" -eq 1 ]; echo $?)" "... from one query ($n)"

# ------------------------------------------------------------ timeouts ---
{ echo "1 q.test 192.0.2.1"; sleep 2; } |
    "$PROBE" -s "127.0.0.1:$SPORT" -t 700 -e >"$OUT"
want "$OUT" 1 "timeout" "silent server"
t=$(ms "$OUT" 1)
check "$([ "${t:-0}" -ge 700 ] && [ "${t:-0}" -lt 1200 ]; echo $?)" \
    "... after 700..1200 ms (${t:-?} ms)"
n=$(wc -l <"$OUT")
check "$([ "$n" -eq 1 ]; echo $?)" \
    "... answered once, although c-ares gave up later ($n lines)"

# A late answer (600 ms, timeout 500) still fills the cache.
{ echo "1 late.test 192.0.2.55"; sleep 0.9
  echo "2 late.test 192.0.2.55"; } |
    "$PROBE" -s "127.0.0.1:$LPORT" -t 500 -e >"$OUT"
want "$OUT" 1 "timeout" "answer after 600 ms, timeout 500 ms"
want "$OUT" 2 "match" "... the late answer filled the cache"
t=$(ms "$OUT" 2)
n=$(wc -l <"$OUT")
check "$([ "${t:-1}" -eq 0 ] && [ "$n" -eq 2 ]; echo $?)" \
    "... at once, and nobody was called twice (${t:-?} ms, $n lines)"

# A cached answer does not wait for another name's timeout.
{ echo "0 a.test 13.107.6.152"; sleep 0.3
  echo "1 x.slow.example 192.0.2.1"
  echo "2 a.test 13.107.6.152"; } | "$PROBE" -s "$DNS" -t 800 -e >"$OUT"
order=$(awk '{ printf "%s%s", sep, $1; sep = " " }' "$OUT")
t=$(ms "$OUT" 2)
check "$([ "$order" = "0 2 1" ] && [ "${t:-1}" -eq 0 ]; echo $?)" \
    "cached answer first, the pending one times out after ($order; ${t:-?} ms)" \
    "$(cat "$OUT")"
want "$OUT" 1 "timeout" "name forwarded to the silent server"

# ---------------------------------------------------------------- busy ---
{
    echo "0 a.test 13.107.6.152"
    sleep 0.3
    for i in 1 2 3 4 5; do echo "$i b$i.slow.example 192.0.2.1"; done
    echo "6 a.test 13.107.6.152"
} | "$PROBE" -s "$DNS" -t 600 -i 3 >"$OUT"
nb=$(grep -c ' busy$' "$OUT")
nt=$(grep -c ' timeout$' "$OUT")
check "$([ "$nb" -eq 2 ] && [ "$nt" -eq 3 ]; echo $?)" \
    "max_inflight 3, 5 checks: 3 wait, 2 busy ($nt, $nb)" "$(cat "$OUT")"
want "$OUT" 4 "busy" "the fourth check"
want "$OUT" 6 "match" "a cached answer while max_inflight checks wait"

# --------------------------------------------------------------- flood ---
# 300 distinct names pending at once do not delay an answer from the cache.
{
    echo "0 hot.test 192.0.2.13"
    sleep 0.3
    i=1
    while [ $i -le 300 ]; do
        echo "s$i n$i.slow.example 192.0.2.1"
        i=$((i + 1))
    done
    echo "H hot.test 192.0.2.13"
} | "$PROBE" -s "$DNS" -t 1000 -i 4096 -e >"$OUT"
# (Whatever dnsmasq does with the flood, H's answer is immediate and comes
# before any flood check has timed out.)
h=$(line H "$OUT")
hpos=$(awk '$1 == "H" { print NR }' "$OUT")
tpos=$(awk '/ timeout ms=/ { print NR; exit }' "$OUT")
check "$([ "$h" = "H match ms=0" ] && [ "${hpos:-9999}" -lt "${tpos:-9999}" ]; echo $?)" \
    "a flood of 300 pending names: the cached answer comes at once ($h, line ${hpos:-?})"
n=$(grep -c '^s' "$OUT")
check "$([ "$n" -eq 300 ]; echo $?)" "... and every flood check is answered once ($n)"

# The cache holds at most cache_names (50) names: $FLOOD names answered,
# dnsmasq stopped, the same names again: only cached ones can match.
{
    i=1
    while [ $i -le $FLOOD ]; do
        echo "r$i f$i.flood.test 192.0.2.77"
        [ $((i % 50)) -eq 0 ] && sleep 0.05
        i=$((i + 1))
    done
    sleep 2.5
    stop_dns
    i=1
    while [ $i -le $FLOOD ]; do
        echo "c$i f$i.flood.test 192.0.2.77"
        i=$((i + 1))
    done
} | "$PROBE" -s "$DNS" -t 2000 -c 50 -i 4096 >"$OUT"
n=$(grep -c '^r[0-9]* match$' "$OUT")
check "$([ "$n" -eq $FLOOD ]; echo $?)" "$FLOOD distinct names answered ($n)"
n=$(grep -c '^c[0-9]* match$' "$OUT")
check "$([ "$n" -ge 1 ] && [ "$n" -le 50 ]; echo $?)" \
    "asked again with dnsmasq dead: at most 50 from the cache ($n)"
want "$OUT" "c$FLOOD" "match" "the most recent name is cached"
want "$OUT" c1 "failed" "the oldest was evicted"
start_dns
check $? "dnsmasq restarted"

# ------------------------------------------------------------- options ---
e=$(echo | "$PROBE" -t 0 2>&1)
rc=$?
check "$([ $rc -eq 1 ] && echo "$e" | grep -q 'timeout must be'; echo $?)" \
    "timeout 0 refused (exit $rc: $e)"
e=$(echo | "$PROBE" -s 'not-an-address' 2>&1)
rc=$?
check "$([ $rc -eq 1 ] && echo "$e" | grep -q 'DNS servers'; echo $?)" \
    "a bad server list refused (exit $rc: $e)"

if [ "$T" -ne "$PLAN" ]; then
    echo "# planned $PLAN, ran $T"
fi
exit $((FAILS > 0))
