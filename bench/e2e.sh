#!/bin/sh
# bench/e2e.sh - make bench's end-to-end part (issue 12): what the helper
# costs Squid, and what a data update costs the users, next to the static
# Squid export.  Run by bench/run from the top of the tree, as root (a
# private network namespace, lib-squid.sh); prints its figures and, last,
# "e2e KEY=VALUE ..." lines that bench/run turns into summary rows.
#
#   wrk (keep-alive clients) --> Squid 5.7 (one process, "squid -N")
#                                 |-- DIRECT ----> nginx :80   ("direct")
#                                 '-- parent ----> nginx :8081 ("parent")
#
# Four Squids run side by side, each on its own port, and are measured in
# turn, round after round (interleaved, so noise hits all of them alike):
#   noacl    no m365-direct at all: everything to the parent
#   ttl0     the shipped snippet with ttl=0 negative_ttl=0 cache=0: the
#            helper is asked on every request (ttl=0 alone still lets Squid
#            reuse an answer within the same second)
#   shipped  the shipped snippet as is (ttl=600)
#   static   "m365-direct export squid" and the shipped static snippet
#   echo0    as ttl0, with the bench's echo helper (answers "OK" at once,
#            no notes: all to the parent) instead of ours: what Squid itself
#            spends on asking a helper per request, whoever answers
# Then updates under load: during a steady load, three data changes, the
# way each approach must apply them: ttl0's helpers see a new data file
# (renamed into place) and reload by themselves (--reload-interval 1);
# static exports again and runs "squid -k reconfigure".  Each such run
# has a twin without any change (calm): the requests over 2x the steady
# p99 that the changes add are those of the run with changes minus those
# of its calm twin (the slowest request of a few seconds of load is noise
# even with no change at all), next to how much the calm runs differ
# among themselves; and the helper logs how long each reload kept it from
# answering, the most a reload can add to a request.
#
# Environment: M365_BUILD (build/rel), E2E_ROUNDS (3), E2E_SECONDS (5 per
# measurement), E2E_CONNS (16 connections).
set -u
M365_ROOT=${M365_ROOT:-$(pwd)}
# shellcheck source=tests/integration/lib-squid.sh
. "$M365_ROOT/tests/integration/lib-squid.sh"
# shellcheck disable=SC2034 # ls_skip reads it
LS_SKIP_FMT='e2e: skipped: %s\n'
if [ -z "${LS_IN_NETNS:-}" ]; then
	command -v wrk >/dev/null 2>&1 || ls_skip "wrk not installed"
	command -v nginx >/dev/null 2>&1 || ls_skip "nginx not installed"
fi
ls_enter_netns "$M365_ROOT/bench/e2e.sh" "$@"

ROUNDS=${E2E_ROUNDS:-3}
SECS=${E2E_SECONDS:-5}
CONNS=${E2E_CONNS:-16}
B=${M365_BUILD:-build/rel}
HELPER=$B/ext_m365_acl
CLI=$B/m365-direct
DATA=$M365_ROOT/tests/data/worldwide-c2025.json
ALT=$M365_ROOT/tests/data/worldwide-c2022.json
R=$LS_DIR/results
mkdir -p "$R" "$LS_DIR/data" "$LS_DIR/nginx"
cp "$HELPER" "$LS_DIR/bin/ext_m365_acl" && chmod 755 "$LS_DIR/bin/ext_m365_acl" || exit 1
cp "$B/bench/echo_helper" "$LS_DIR/bin/echo_helper" && chmod 755 "$LS_DIR/bin/echo_helper" || exit 1
cp "$DATA" "$LS_DIR/data/v1.json" && cp "$ALT" "$LS_DIR/data/v2.json" || exit 1
cp "$DATA" "$LS_DIR/data/ttl0.json" && cp "$DATA" "$LS_DIR/data/shipped.json" || exit 1
chmod 644 "$LS_DIR"/data/*.json

# The request mix: Microsoft 365 names (Optimize and Allow), addresses of
# both kinds, other names and addresses.  Every name is in hosts_file.
M365_NAMES="outlook.office365.com teams.microsoft.com login.microsoftonline.com"
i=1
while [ $i -le 12 ]; do
	M365_NAMES="$M365_NAMES tenant$i.sharepoint.com"
	i=$((i + 1))
done
OTHER_NAMES="www.office.com"
i=1
while [ $i -le 12 ]; do
	OTHER_NAMES="$OTHER_NAMES site$i.example.com"
	i=$((i + 1))
done
ADDRS="13.107.6.152 [2603:1006::10] 192.0.2.10 [2001:db8::10]"
{
	echo "127.0.0.1 localhost"
	for h in $M365_NAMES $OTHER_NAMES; do echo "127.0.0.1 $h"; done
} >"$LS_DIR/hosts"
{
	printf 'local hosts = {'
	for h in $M365_NAMES $OTHER_NAMES $ADDRS; do printf ' "%s",' "$h"; done
	cat <<'EOF'
 }
local i = 0
request = function()
	i = i + 1
	local h = hosts[(i % #hosts) + 1]
	return wrk.format("GET", "http://" .. h .. "/", { ["Host"] = h })
end
-- How many requests took longer than us microseconds: wrk gives
-- percentiles only, so the largest p whose percentile is at most us,
-- by bisection, then n * (100 - p) / 100.
local function slower(latency, n, us)
	if us == nil or n == 0 or latency.max <= us then return 0 end
	local lo, hi = 0, 100
	for _ = 1, 60 do
		local mid = (lo + hi) / 2
		if latency:percentile(mid) <= us then lo = mid else hi = mid end
	end
	return math.floor(n * (100 - lo) / 100 + 0.5)
end
done = function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("result rps=%.1f p50=%.3f p99=%.3f p999=%.3f max=%.3f n=%d failed=%d slow=%d\n",
	    summary.requests / (summary.duration / 1e6),
	    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
	    latency:percentile(99.9) / 1000, latency.max / 1000, summary.requests,
	    e.connect + e.read + e.write + e.status + e.timeout,
	    slower(latency, summary.requests, tonumber(os.getenv("E2E_SLOW_US")))))
end
EOF
} >"$LS_DIR/mix.lua"

# The origin: nginx, one worker; the body says which way the request came.
cat >"$LS_DIR/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $LS_DIR/nginx/nginx.pid;
error_log $LS_DIR/nginx/error.log;
events { worker_connections 4096; }
http {
	access_log off;
	keepalive_requests 10000000;
	keepalive_timeout 120s;
	default_type text/plain;
	client_body_temp_path $LS_DIR/nginx;
	server { listen 80 default_server; listen [::]:80 default_server;
		location / { return 200 "direct\n"; } }
	server { listen 127.0.0.1:8081;
		location / { return 200 "parent\n"; } }
}
EOF
nginx -p "$LS_DIR/nginx" -e "$LS_DIR/nginx/error.log" -c "$LS_DIR/nginx/nginx.conf" &
LS_PIDS="$LS_PIDS $!"
ls_wait_http "http://127.0.0.1:8081/" 10 || { cat "$LS_DIR/nginx/error.log"; exit 1; }

# squid_conf NAME PORT: the common part of every Squid's configuration.
squid_conf() {
	cat <<EOF
http_port 127.0.0.1:$2
visible_hostname $1.m365-bench.invalid
pid_filename $LS_DIR/$1/squid.pid
cache_effective_user proxy
cache_log $LS_DIR/$1/cache.log
cache_store_log none
access_log none
logfile_rotate 0
coredump_dir $LS_DIR/$1
cache deny all
cache_mem 8 MB
hosts_file $LS_DIR/hosts
dns_nameservers 127.0.0.1
pinger_enable off
netdb_filename none
icp_port 0
htcp_port 0
snmp_port 0
digest_generation off
max_filedescriptors 4096
shutdown_lifetime 1 second
EOF
}

# start NAME MIDDLE: a Squid whose configuration has MIDDLE (the m365-direct
# part) between the common part and the parent.  Sets PORT_<NAME>.
start() {
	mkdir -p "$LS_DIR/$1"
	_p=$(ls_free_port)
	{
		squid_conf "$1" "$_p"
		printf '%s\n' "$2"
		echo "http_access allow all"
		echo "cache_peer 127.0.0.1 parent 8081 0 no-query no-digest default name=parent"
	} >"$LS_DIR/$1/squid.conf"
	ls_run_squid "$1" "$_p" || exit 1
	eval "PORT_$1=$_p"
}

# helper_snippet DATA_FILE [SED [OPTIONS [PROGRAM]]]: the shipped snippet,
# our helper (or PROGRAM) reading DATA_FILE, edited by SED.
helper_snippet() {
	_prog="$LS_DIR/bin/ext_m365_acl -c /dev/null --data $1 ${3:-}"
	[ -z "${4:-}" ] || _prog=$4
	sed -e "s|/usr/lib/squid/ext_m365_acl|$_prog|" \
	    -e "${2:-s/^//}" "$M365_ROOT/configs/squid/m365-direct.conf" | grep -v '^#'
}
export_static() {
	"$CLI" -c /dev/null --data "$1" export squid -o "$LS_DIR/static/out" >/dev/null &&
		chown -R proxy:proxy "$LS_DIR/static/out"
}

chown -R proxy:proxy "$LS_DIR"
start noacl "never_direct allow all"
start ttl0 "$(helper_snippet "$LS_DIR/data/ttl0.json" \
	's/ttl=600 negative_ttl=600/ttl=0 negative_ttl=0 cache=0/' '--reload-interval 1')"
start shipped "$(helper_snippet "$LS_DIR/data/shipped.json" '')"
mkdir -p "$LS_DIR/static"
export_static "$LS_DIR/data/v1.json" || exit 1
start static "$(sed "s|/etc/squid/m365/|$LS_DIR/static/out/|g" \
	"$M365_ROOT/configs/squid/m365-direct-static.conf" | grep -v '^#')"
start echo0 "$(helper_snippet - \
	's/ttl=600 negative_ttl=600/ttl=0 negative_ttl=0 cache=0/' '' "$LS_DIR/bin/echo_helper")"
CONFIGS="noacl ttl0 shipped static echo0"

# Each Squid routes as it should before anything is measured.
route() {
	curl -s -g -m 10 -x "http://127.0.0.1:$1" "http://$2/"
}
bad=0
_port=""
for c in $CONFIGS; do
	eval "_port=\$PORT_$c"
	for h in outlook.office365.com "[2603:1006::10]" site1.example.com 192.0.2.10; do
		want=parent
		case $c:$h in
		noacl:* | echo0:*) ;;
		*:outlook.* | *:\[2603*) want=direct ;;
		esac
		got=$(route "$_port" "$h")
		[ "$got" = "$want" ] || { echo "e2e: $c: $h went '$got', not $want"; bad=1; }
	done
done
[ "$bad" = 0 ] || exit 1
echo "routes checked: Microsoft 365 direct, others to the parent (noacl: all to the parent)"

# load NAME SECONDS [SLOW_MS]: one wrk run against Squid NAME; its result
# line, whose slow= counts the requests slower than SLOW_MS (0 without).
load() {
	eval "_port=\$PORT_$1"
	E2E_SLOW_US=$(awk -v ms="${3:-}" 'BEGIN { if (ms != "") printf "%d", ms * 1000 }') \
	wrk -t1 -c"$CONNS" -d"$2"s --timeout 10s -s "$LS_DIR/mix.lua" \
	    "http://127.0.0.1:$_port/" | grep '^result '
}
# val KEY: the value of KEY=value on the result line on stdin.
val() { sed -n "s/^result.* $1=\([^ ]*\).*/\1/p"; }
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) exit 1
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
med() { for _f in "$R/$1".*; do val "$2" <"$_f"; done | median; }

for c in $CONFIGS; do load "$c" 1 >/dev/null; done     # warm up
echo "steady load: wrk -t1 -c$CONNS, ${SECS}s each, $ROUNDS rounds interleaved"
r=1
while [ $r -le "$ROUNDS" ]; do
	for c in $CONFIGS; do
		load "$c" "$SECS" >"$R/$c.$r"
		printf '  round %s %-8s %s\n' "$r" "$c" "$(sed 's/^result //' "$R/$c.$r")"
	done
	r=$((r + 1))
done
printf '%-9s %12s %9s %9s %9s %7s\n' config "req/s" "p50 ms" "p99 ms" "max ms" failed
for c in $CONFIGS; do
	printf '%-9s %12s %9s %9s %9s %7s\n' "$c" "$(med "$c" rps)" "$(med "$c" p50)" \
	    "$(med "$c" p99)" "$(med "$c" max)" "$(med "$c" failed)"
done

# change NAME K: the Kth data change, applied as NAME must.
change() {
	if [ $(($2 % 2)) = 1 ]; then _v=v2; else _v=v1; fi
	case $1 in
	ttl0)
		cp "$LS_DIR/data/$_v.json" "$LS_DIR/data/.ttl0.tmp" &&
			mv "$LS_DIR/data/.ttl0.tmp" "$LS_DIR/data/ttl0.json" ;;
	static)
		export_static "$LS_DIR/data/$_v.json" &&
			squid -n "${LS_NS}static" -f "$LS_DIR/static/squid.conf" -k reconfigure ;;
	esac
}
USECS=$((3 * 3 + 2))
# A request "slow" is one over 2x its Squid's steady p99; the same load
# without any change (calm) says how many a run has anyway, so what an
# update adds is the difference, median against median.
SLOW_ttl0=$(awk -v p="$(med ttl0 p99)" 'BEGIN { printf "%.3f", 2 * p }')
SLOW_static=$(awk -v p="$(med static p99)" 'BEGIN { printf "%.3f", 2 * p }')
echo
echo "updates under load: ${USECS}s of load, 3 data changes 3 s apart, and the same load without a change (calm), $ROUNDS rounds interleaved;"
echo "slow: requests over 2x the steady p99 (ttl0 $SLOW_ttl0 ms, static $SLOW_static ms)"
r=1
while [ $r -le "$ROUNDS" ]; do
	for c in ttl0 static; do
		eval "_slow=\$SLOW_$c"
		load "$c" "$USECS" "$_slow" >"$R/calm-$c.$r"
		printf '  round %s %-13s %s\n' "$r" "$c calm" "$(sed 's/^result //' "$R/calm-$c.$r")"
		load "$c" "$USECS" "$_slow" >"$R/upd-$c.$r" &
		_w=$!
		sleep 2
		k=1
		while [ $k -le 3 ]; do
			change "$c" $k || echo "e2e: change $k of $c failed"
			sleep 3
			k=$((k + 1))
		done
		wait "$_w"
		printf '  round %s %-13s %s\n' "$r" "$c changes" "$(sed 's/^result //' "$R/upd-$c.$r")"
	done
	r=$((r + 1))
done
grep -c "reload failed" "$LS_DIR/ttl0/cache.log" | sed 's/^/helper reloads failed: /'
# How long each reload kept the helper from answering: what it can add
# to any request's latency (the helper logs it).
RELOADS=$(sed -n 's/.*ext_m365_acl: loaded .* in \([0-9.]*\) ms$/\1/p' "$LS_DIR/ttl0/cache.log")
RELOAD_MAX=$(printf '%s\n' $RELOADS | sort -g | tail -1)
echo "helper reloads: $(printf '%s\n' $RELOADS | grep -c .), the longest ${RELOAD_MAX:-?} ms, median $(printf '%s\n' $RELOADS | median) ms"
spread() { for _f in "$R/$1".*; do val slow <"$_f"; done | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print hi - lo }'; }
printf '%-16s %10s %9s %10s %9s %7s %6s %6s\n' approach "req/s" "p99 ms" "p99.9 ms" "max ms" failed slow calm
for c in ttl0 static; do
	printf '%-16s %10s %9s %10s %9s %7s %6s %6s\n' "$c" "$(med "upd-$c" rps)" "$(med "upd-$c" p99)" \
	    "$(med "upd-$c" p999)" "$(med "upd-$c" max)" "$(med "upd-$c" failed)" \
	    "$(med "upd-$c" slow)" "$(med "calm-$c" slow)"
done

# For bench/run's summary.
echo "e2e rps_noacl=$(med noacl rps) rps_ttl0=$(med ttl0 rps) rps_shipped=$(med shipped rps)" \
    "rps_static=$(med static rps) rps_echo0=$(med echo0 rps) p99_ttl0=$(med ttl0 p99) p99_static=$(med static p99)" \
    "upd_max_ttl0=$(med upd-ttl0 max) upd_p999_ttl0=$(med upd-ttl0 p999)" \
    "upd_max_static=$(med upd-static max) upd_p999_static=$(med upd-static p999)" \
    "upd_slow_ttl0=$(med upd-ttl0 slow) calm_slow_ttl0=$(med calm-ttl0 slow) calm_max_ttl0=$(med calm-ttl0 max)" \
    "upd_slow_static=$(med upd-static slow) calm_slow_static=$(med calm-static slow)" \
    "slow_ms_ttl0=$SLOW_ttl0 slow_ms_static=$SLOW_static calm_spread_ttl0=$(spread calm-ttl0)" \
    "reload_max_ttl0=${RELOAD_MAX:-0} n_reloads_ttl0=$(printf '%s\n' $RELOADS | grep -c .)" \
    "upd_failed_ttl0=$(for f in "$R"/upd-ttl0.*; do val failed <"$f"; done | awk '{ s += $1 } END { print s + 0 }')" \
    "upd_failed_static=$(for f in "$R"/upd-static.*; do val failed <"$f"; done | awk '{ s += $1 } END { print s + 0 }')"
