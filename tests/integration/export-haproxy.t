#!/bin/sh
# HAProxy agreement test: the maps of "m365-direct export haproxy", loaded by
# a real HAProxy through the frontends we ship (configs/haproxy/), must route
# every probe (build/rel/tools/probes: names, apexes, subdomains, glued-on
# look-alikes, first/last/outside addresses of every prefix, IPv4-mapped
# forms; plus a few hostile extras) exactly as "m365-direct check" answers
# without a port: DIRECT to be_m365_direct, anything else to be_default.
# For the three real data files and a policy with overlapping extra_direct
# and never_direct entries, through HTTP mode (absolute-form, CONNECT, Host
# header) and TCP mode (TLS SNI, as an SNI router); TCP mode as shipped,
# where the destination address and the SNI must both be direct, with
# faked SNIs towards real Microsoft 365 and other addresses on loopback;
# then again after "m365-direct
# haproxy-push" of other data into the running HAProxy (no reload), after a
# restart from the rewritten files, and the push's errors.
#
# Runs as root in private network and PID namespaces (unshare): servers
# listen on 127.0.0.1 there only, and everything started dies with the
# namespace.  TAP output.
#
#   prove -v -e '' tests/integration/export-haproxy.t
#   M365_BUILD=build/san prove -e '' tests/integration/export-haproxy.t
#   HX_KEEP=1 ...  keeps the temp dir (configs, maps, answers) afterwards.
set -u

M365_ROOT=$(cd "$(dirname "$0")/../.." && pwd) || exit 1
cd "$M365_ROOT" || exit 1
B=${M365_BUILD:-build/rel}
CLI="$M365_ROOT/$B/m365-direct"
PROBES="$M365_ROOT/$B/tools/probes"
PY=/usr/bin/python3
DATA="$M365_ROOT/tests/data"
PLAN=79

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY \
    no_proxy NO_PROXY 2>/dev/null || true

# ------------------------------------------------------------- outside ---
if [ -z "${HX_IN_NS:-}" ]; then
    for f in "$CLI" "$PROBES"; do
        if [ ! -x "$f" ]; then
            echo "1..1"
            echo "not ok 1 - built: no $f (run make all $B/tools/probes)"
            exit 1
        fi
    done
    why=""
    [ "$(id -u)" = 0 ] || why="needs root for private namespaces (unshare)"
    for t in haproxy unshare ip openssl socat; do
        [ -n "$why" ] || command -v "$t" >/dev/null 2>&1 || why="$t not installed"
    done
    [ -n "$why" ] || [ -x "$PY" ] || why="$PY not installed"
    if [ -n "$why" ]; then
        echo "1..0 # SKIP $why"
        exit 0
    fi
    W=$(mktemp -d /tmp/m365hx.XXXXXX) || exit 1
    # --mount-proc: LeakSanitizer (make SAN=1) reads /proc of its own PID
    # namespace
    HX_IN_NS=1 HX_DIR=$W unshare --net --pid --mount-proc --fork \
        --kill-child /bin/sh "$0" "$@"
    rc=$?
    if [ -n "${HX_KEEP:-}" ]; then
        echo "# kept $W" >&2
    else
        rm -rf "$W"
    fi
    exit $rc
fi

# -------------------------------------------------- inside the namespace ---
# We are PID 1 of a fresh PID namespace: when this script ends, the kernel
# kills every HAProxy and helper it started.
W=$HX_DIR
ip link set lo up || { echo "Bail out! cannot bring up lo"; exit 1; }
HTTP_PORT=3128          # fe_m365_http (the shipped snippet)
TLS_PORT=8443           # fe_m365_tls (the shipped snippet)
# 9001/9002: HTTP origins behind be_m365_direct/be_default (HTTP instance)
# 9003/9004: TLS origins behind be_m365_direct/be_default (TCP instance)

T=0
FAILS=0
PID_http=""
PID_tcp=""
ok() { T=$((T + 1)); echo "ok $T - $1"; }
not_ok() { T=$((T + 1)); FAILS=$((FAILS + 1)); echo "not ok $T - $1"; }
diag() { printf '%s\n' "$@" | sed 's/^/#   /'; }
check() {
    _st=$1 _d=$2
    shift 2
    if [ "$_st" = 0 ]; then ok "$_d"; else not_ok "$_d"; [ $# -gt 0 ] && diag "$@"; fi
}

echo "1..$PLAN"

# --- the probe client ------------------------------------------------------
cat >"$W/client.py" <<'EOF'
# client.py MODE PORT [ADDR] < PROBES: one request per probe through
# HAProxy at ADDR (127.0.0.1);
# prints "PROBE<TAB>WANT<TAB>GOT" for each disagreement, then "checked N".
# PROBES lines: PROBE<TAB>direct|proxy.
#   abs      GET http://PROBE/ (an explicit proxy's plain HTTP)
#   connect  CONNECT PROBE:443, upper-cased (an explicit proxy's HTTPS)
#   host     GET / with Host: PROBE:8080 (a transparent or reverse proxy)
#   tls      a TLS ClientHello with SNI PROBE (host names only)
# The origins behind the two backends answer "x-route: direct" or
# "x-route: default"; anything else (an error, a 400) is a disagreement.
import socket, ssl, sys, threading

mode, port = sys.argv[1], int(sys.argv[2])
addr = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
probes, out, lock = [], [], threading.Lock()
for line in sys.stdin:
    p, _, want = line.rstrip("\n").partition("\t")
    if p:
        probes.append((p, want))
skipped = 0
if mode == "tls":
    names = [(p, w) for (p, w) in probes
             if ":" not in p and not p.replace(".", "").isdigit()]
    sendable = []
    for p, w in names:
        try:
            p.encode("idna")
            sendable.append((p, w))
        except UnicodeError:
            skipped += 1        # Python cannot put it in an SNI
    probes = sendable
ROUTE = {"direct": "direct", "default": "proxy"}


def request(p):
    a = "[%s]" % p if ":" in p else p
    if mode == "abs":
        return "GET http://%s/ HTTP/1.1\r\nHost: %s\r\n\r\n" % (a, a)
    if mode == "connect":
        a = a.upper()
        return "CONNECT %s:443 HTTP/1.1\r\nHost: %s:443\r\n\r\n" % (a, a)
    return "GET / HTTP/1.1\r\nHost: %s:8080\r\n\r\n" % a


def read_response(f):
    status = f.readline()
    if not status:
        return None, True
    route, length, close = None, 0, False
    while True:
        h = f.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        k, _, v = h.decode("latin1").partition(":")
        k, v = k.strip().lower(), v.strip()
        if k == "x-route":
            route = v
        elif k == "content-length":
            length = int(v)
        elif k == "connection" and v.lower() == "close":
            close = True
    if length:
        f.read(length)
    if route is None:
        route = status.decode("latin1").strip()
    return route, close


def note(p, want, route):
    got = ROUTE.get(route, route)
    if got != want:
        with lock:
            out.append("%s\t%s\t%s" % (p, want, got))


def http_worker(items):
    s = f = None
    for p, want in items:
        for attempt in (1, 2):
            try:
                if s is None:
                    s = socket.create_connection(("127.0.0.1", port), timeout=10)
                    f = s.makefile("rb")
                s.sendall(request(p).encode("latin1"))
                route, close = read_response(f)
                if route is None:
                    raise OSError("connection closed")
                break
            except OSError as e:
                route, close = "error: %s" % e, True
                if s is not None:
                    s.close()
                s = None
        if close and s is not None:
            s.close()
            s = None
        note(p, want, route)


def tls_worker(items):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for p, want in items:
        try:
            with socket.create_connection((addr, port), timeout=10) as s:
                with ctx.wrap_socket(s, server_hostname=p) as t:
                    t.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n"
                              b"Connection: close\r\n\r\n")
                    route, _ = read_response(t.makefile("rb"))
        except (OSError, ValueError) as e:
            route = "error: %s" % e
        note(p, want, route)


work = tls_worker if mode == "tls" else http_worker
threads = [threading.Thread(target=work, args=(probes[i::4],))
           for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for line in sorted(out):
    print(line)
print("checked %d%s" % (len(probes),
      " (%d not sendable as SNI)" % skipped if skipped else ""))
EOF

# --- a fake runtime API, for what a real HAProxy 2.6 cannot show ----------
# stub.py SOCKET VERSION DIR: answers "show info" with VERSION, "show map"
# with the maps of DIR, and "Permission denied" to everything else (what a
# runtime API refusing map changes says).
cat >"$W/stub.py" <<'EOF'
import os, socket, sys
path, version, d = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(16)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    data = b""
    while b"\n" not in data:
        x = c.recv(65536)
        if not x:
            break
        data += x
    cmd = data.split(b"\n")[0].decode()
    if cmd == "show info":
        ans = "Name: HAProxy\nVersion: %s\nPid: 1\n\n" % version
    elif cmd == "show map":
        ans = "# id (file) description\n" + "".join(
            "%d (%s/%s) pattern loaded from file\n" % (i, d, f)
            for i, f in enumerate(sorted(os.listdir(d))) if f.endswith(".map"))
    else:
        ans = "Permission denied\n\n"
    c.sendall(ans.encode())
    c.close()
EOF

# --- HAProxy: the shipped frontends with test backends and origins --------
if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -nodes -subj /CN=m365-direct-test -days 2 -keyout "$W/key.pem" \
    -out "$W/cert.pem" >/dev/null 2>&1; then
    echo "Bail out! openssl could not make a test certificate"
    exit 1
fi
cat "$W/cert.pem" "$W/key.pem" >"$W/tls.pem"

# conf_common NAME: global and defaults of instance NAME.
conf_common() {
    cat <<EOF
global
    stats socket $W/$1.sock mode 600 level admin
    stats timeout 10s
defaults
    mode http
    timeout connect 5s
    timeout client 10s
    timeout server 10s
EOF
}

cat >"$W/backends-http.cfg" <<EOF
backend be_m365_direct
    server origin 127.0.0.1:9001
backend be_default
    server origin 127.0.0.1:9002
frontend origin_direct
    bind 127.0.0.1:9001
    http-request return status 200 content-type text/plain string direct hdr x-route direct
frontend origin_default
    bind 127.0.0.1:9002
    http-request return status 200 content-type text/plain string default hdr x-route default
EOF
cat >"$W/backends-tcp.cfg" <<EOF
backend be_m365_direct
    mode tcp
    server origin 127.0.0.1:9003
backend be_default
    mode tcp
    server origin 127.0.0.1:9004
frontend origin_direct_tls
    bind 127.0.0.1:9003 ssl crt $W/tls.pem
    http-request return status 200 content-type text/plain string direct hdr x-route direct
frontend origin_default_tls
    bind 127.0.0.1:9004 ssl crt $W/tls.pem
    http-request return status 200 content-type text/plain string default hdr x-route default
EOF

# make_confs MAPDIR: the two instances' configuration files, using the
# shipped snippets with ONLY the map directory and the bind line replaced;
# the TCP one as an SNI router (m365_sni_is_destination always_true), as
# these clients all connect to 127.0.0.1, which no map lists: the SNI
# alone decides, and every SNI probe must get check's answer.  The
# destination mode has tests of its own below.
make_confs() {
    conf_common http >"$W/global-http.cfg"
    conf_common tcp >"$W/global-tcp.cfg"
    sed -e "s|/etc/haproxy/m365-direct/|$1/|g" \
        -e "s|^    bind :3128\$|    bind 127.0.0.1:$HTTP_PORT|" \
        configs/haproxy/m365-direct-http.cfg >"$W/snippet-http.cfg"
    sed -e "s|/etc/haproxy/m365-direct/|$1/|g" \
        -e "s|^    bind :443\$|    bind 127.0.0.1:$TLS_PORT|" \
        -e "s|^    acl m365_sni_is_destination always_false\$|    acl m365_sni_is_destination always_true|" \
        configs/haproxy/m365-direct-tcp.cfg >"$W/snippet-tcp.cfg"
    [ "$(grep -c "$1/m365-" "$W/snippet-http.cfg")" = 8 ] &&
        [ "$(grep -o "$1/m365-[a-z-]*.map" "$W/snippet-tcp.cfg" | sort -u | wc -l)" = 8 ] &&
        grep -q "bind 127.0.0.1:$HTTP_PORT\$" "$W/snippet-http.cfg" &&
        grep -q "bind 127.0.0.1:$TLS_PORT\$" "$W/snippet-tcp.cfg" &&
        grep -q "^    acl m365_sni_is_destination always_true\$" "$W/snippet-tcp.cfg"
}

haproxy_args() {
    echo "-f $W/global-$1.cfg -f $W/snippet-$1.cfg -f $W/backends-$1.cfg"
}

# haproxy_check: "haproxy -c" of both instances, clean (no warning).
haproxy_check() {
    for i in http tcp; do
        # shellcheck disable=SC2046
        _o=$(haproxy -c $(haproxy_args $i) 2>&1)
        if [ "$_o" != "Configuration file is valid" ]; then
            printf '%s\n' "$i: $_o"
            return 1
        fi
    done
    return 0
}

wait_port() {
    "$PY" - "$1" <<'EOF'
import socket, sys, time
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
EOF
}

start_haproxy() {
    rm -f "$W/$1.sock"
    # shellcheck disable=SC2046
    haproxy -db $(haproxy_args "$1") >"$W/haproxy-$1.log" 2>&1 &
    eval "PID_$1=$!"
    wait_port "$2"
}

stop_haproxy() {
    eval "_p=\${PID_$1:-}"
    [ -n "$_p" ] || return 0
    kill "$_p" 2>/dev/null
    wait "$_p" 2>/dev/null
    eval "PID_$1="
}

# start_both MAPDIR
start_both() {
    make_confs "$1" && start_haproxy http $HTTP_PORT &&
        start_haproxy tcp $TLS_PORT && wait_port 9003 && wait_port 9001
}

stop_both() {
    stop_haproxy http
    stop_haproxy tcp
}

# --- probes and their answers ----------------------------------------------
# Hostile extras the generator does not make; their answers come from
# "m365-direct check".  13.107.6.152 is in the Worldwide data.
LONG=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
EXTRAS="OUTLOOK.OFFICE365.COM Outlook.Office365.Com. ::d6b:698
2002:d6b:698::1 ::ffff:d6b:698 2603:1006:0:0::10 013.107.6.152
13.107.6.152x 13.107.6.152. 256.1.1.1 1.2.3 a..b.sharepoint.com
$LONG.sharepoint.com foo_bar.sharepoint.com -.sharepoint.com
x.sharepoint.com.evil.net autodiscover.contoso.onmicrosoft.com"

# probes: the test tool, without LeakSanitizer (a short-lived test tool
# that does not free its probe list at exit; the product code keeps leak
# detection).
probes() {
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "$PROBES" "$@"
}

# answers OUT DATA [CONF]: probes of DATA (and CONF's entries), with the
# matcher's answers, plus the extras answered by check.
answers() {
    _out=$1 _data=$2 _conf=${3:-}
    shift 2
    if [ -n "$_conf" ]; then
        probes -c "$_conf" "$_data" >"$_out" || return 1
    else
        probes "$_data" >"$_out" || return 1
    fi
    for h in $EXTRAS; do
        if [ -n "$_conf" ]; then
            _j=$("$CLI" -c "$_conf" --data "$_data" check "$h" --json)
        else
            _j=$("$CLI" -c /dev/null --data "$_data" check "$h" --json)
        fi || return 1
        case $_j in
        *'"direct":true'*) printf '%s\tdirect\n' "$h" ;;
        *'"direct":false'*) printf '%s\tproxy\n' "$h" ;;
        *) return 1 ;;
        esac
    done >>"$_out"
}

# agree DESC MODE PORT ANSWERS [ADDR]: one request per probe; any
# disagreement fails and is named.
agree() {
    _d=$1 _m=$2 _port=$3 _a=$4
    "$PY" "$W/client.py" "$_m" "$_port" ${5:-} <"$_a" >"$W/got" 2>"$W/got.err"
    _rc=$?
    _sum=$(tail -n 1 "$W/got")
    _bad=$(grep -vc '^checked ' "$W/got")
    case $_sum in
    "checked 0"*) _rc=1 ;;
    checked*) ;;
    *) _rc=1 ;;
    esac
    if [ $_rc = 0 ] && [ "$_bad" = 0 ]; then
        ok "$_d: $_sum probes agree with check"
    else
        not_ok "$_d: $_bad disagree ($_sum)"
        diag "probe / check says / HAProxy did:"
        grep -v '^checked ' "$W/got" | head -n 25 | sed 's/^/#     /'
        [ -s "$W/got.err" ] && diag "$(tail -n 5 "$W/got.err")"
    fi
}

# file_entries FILE: entry lines (not comments) of a map.
file_entries() {
    grep -vc '^#' "$1"
}

# show_counts SOCKET DIR: for each map of DIR, "show map" lists as many
# entries as the file has.  Prints the differences.
show_counts() {
    _r=0
    for f in "$2"/m365-*.map; do
        _n=$(echo "show map $f" | socat - "UNIX-CONNECT:$1" | grep -c '^0x')
        _want=$(file_entries "$f")
        if [ "$_n" != "$_want" ]; then
            echo "$f: show map lists $_n, the file has $_want"
            _r=1
        fi
    done
    return $_r
}

cat >"$W/policy.conf" <<'EOF'
# extra_direct and never_direct overlapping each other and the data
extra_direct = intranet.example.net
extra_direct = *.apps.example.net
extra_direct = *cdn.example.org
extra_direct = host?.example.com
extra_direct = build.*.example.com
extra_direct = 192.0.2.0/24
extra_direct = 2001:db8:1::/48
extra_direct = 2002::/16
never_direct = special.sharepoint.com
never_direct = *.teams.microsoft.com
never_direct = outlook.office365.com
never_direct = autodiscover.*.onmicrosoft.com
never_direct = *cdn.onenote.net
never_direct = secret.apps.example.net
never_direct = host7.example.com
never_direct = build.x.*.example.com
never_direct = 13.107.6.153
never_direct = 52.96.0.0/12
never_direct = 192.0.2.128/25
never_direct = ::ffff:192.0.2.7
never_direct = 2603:1006::/48
never_direct = 2002:d6b:698::/48
EOF

# --------------------------------------- export, load, probe x 4 ---
# run_set NAME DATA [CONF]: 7 test points.
run_set() {
    _name=$1 _data=$2 _conf=${3:-/dev/null}
    _maps="$W/maps-$_name"
    _e=$("$CLI" -c "$_conf" --data "$_data" export haproxy -o "$_maps" 2>&1)
    _st=$?
    _n=0
    _hdr=0
    for f in "$_maps"/m365-*.map; do
        [ -f "$f" ] && _n=$((_n + 1))
        head -n 1 "$f" | grep -q '^# Generated by m365-direct' || _hdr=1
        grep -q '^# Ports are not expressed' "$f" || _hdr=1
    done
    [ $_st = 0 ] && [ "$_n" = 8 ] && [ $_hdr = 0 ]
    check $? "$_name: export haproxy writes 8 maps with headers ($(cat "$_maps"/*.map | grep -vc '^#') entries)" \
        "exit $_st, $_n maps, headers $_hdr: $_e"

    "$CLI" -c "$_conf" --data "$_data" export haproxy -o "$W/again" >/dev/null 2>&1
    _d=$(diff -r "$_maps" "$W/again" 2>&1)
    check $? "$_name: the export is deterministic" "$_d"
    rm -rf "$W/again"

    make_confs "$_maps" && _o=$(haproxy_check)
    check $? "$_name: haproxy -c is clean with both shipped frontends" "$_o"

    if ! answers "$W/answers-$_name" "$_data" "$_conf"; then
        echo "Bail out! probes or check failed for $_name"
        exit 1
    fi
    if ! start_both "$_maps"; then
        for m in absolute-form CONNECT Host SNI; do
            not_ok "$_name: HAProxy did not start ($m)"
        done
        diag "$(tail -n 5 "$W"/haproxy-*.log)"
        stop_both
        return
    fi
    agree "$_name: HTTP absolute-form" abs $HTTP_PORT "$W/answers-$_name"
    agree "$_name: HTTP CONNECT" connect $HTTP_PORT "$W/answers-$_name"
    agree "$_name: HTTP Host header" host $HTTP_PORT "$W/answers-$_name"
    agree "$_name: TLS SNI (TCP mode)" tls $TLS_PORT "$W/answers-$_name"
    stop_both
}

run_set worldwide-c2022 "$DATA/worldwide-c2022.json"
run_set worldwide-c2025 "$DATA/worldwide-c2025.json"
run_set china-c2025 "$DATA/china-c2025.json"
run_set policy "$DATA/worldwide-c2025.json" "$W/policy.conf"

# ------------------------ TCP mode: the destination and the SNI together ---
# The shipped TCP frontend as written (m365_sni_is_destination
# always_false), bound on every address, so that dst is the address the
# client connected to: Microsoft 365 and other addresses on our loopback,
# as transparent interception would see them.  Then the same with
# always_true (an SNI router).  The policy maps: 13.107.6.153 is
# never_direct there, 13.107.6.152 and 2603:1006:1400::5 are direct,
# special.sharepoint.com is never_direct, foo.sharepoint.com direct.
for a in 13.107.6.152 13.107.6.153 198.51.100.7; do
    ip -4 addr add "$a/32" dev lo
done
for a in 2603:1006:1400::5 2001:db8::7; do
    ip -6 addr add "$a/128" dev lo nodad
done
# make_tcp_conf MAPDIR MODE: the TCP instance on 0.0.0.0 and [::].
make_tcp_conf() {
    make_confs "$1" &&
        sed -e "s|/etc/haproxy/m365-direct/|$1/|g" \
            -e "s|^    bind :443\$|    bind 0.0.0.0:$TLS_PORT\\n    bind [::]:$TLS_PORT v6only|" \
            -e "s|^    acl m365_sni_is_destination always_false\$|    acl m365_sni_is_destination $2|" \
            configs/haproxy/m365-direct-tcp.cfg >"$W/snippet-tcp.cfg" &&
        grep -q "^    acl m365_sni_is_destination $2\$" "$W/snippet-tcp.cfg" &&
        grep -q "^    bind \[::\]:$TLS_PORT v6only\$" "$W/snippet-tcp.cfg"
}
# want_tcp WANT ADDR SNI DESC: a TLS connection to ADDR with SNI ("-":
# none; openssl sends an address as SNI too, which Python will not)
# reaches be_m365_direct (WANT direct) or be_default (proxy).
want_tcp() {
    case $2 in
    *:*) _c="[$2]:$TLS_PORT" ;;
    *) _c="$2:$TLS_PORT" ;;
    esac
    if [ "$3" = - ]; then set -- "$1" "$2" "$3" "$4" -noservername
    else set -- "$1" "$2" "$3" "$4" -servername "$3"; fi
    _r=$(printf 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
        timeout 10 openssl s_client -quiet -connect "$_c" "$5" ${6:+"$6"} 2>/dev/null |
        tr -d '\r' | sed -n 's/^x-route: //p')
    case $_r in
    direct) _got=direct ;;
    default) _got=proxy ;;
    *) _got="no answer ($_r)" ;;
    esac
    check "$([ "$_got" = "$1" ] && echo 0)" "TCP $MODE_NAME: $4 -> $1" "got: $_got"
}

make_tcp_conf "$W/maps-policy" always_false && start_haproxy tcp $TLS_PORT && wait_port 9003
check $? "TCP frontend as shipped (destination mode) on 0.0.0.0 and [::] started" \
    "$(tail -n 5 "$W/haproxy-tcp.log")"
MODE_NAME="destination known"
want_tcp direct 13.107.6.152 - "no SNI to 13.107.6.152"
want_tcp direct 2603:1006:1400::5 - "no SNI to 2603:1006:1400::5"
want_tcp direct 13.107.6.152 foo.sharepoint.com "SNI foo.sharepoint.com to 13.107.6.152"
want_tcp direct 2603:1006:1400::5 Foo.SharePoint.com. \
    "SNI Foo.SharePoint.com. to 2603:1006:1400::5"
want_tcp proxy 198.51.100.7 foo.sharepoint.com \
    "SNI foo.sharepoint.com to 198.51.100.7 (faked SNI)"
want_tcp proxy 2001:db8::7 foo.sharepoint.com \
    "SNI foo.sharepoint.com to 2001:db8::7 (faked SNI, IPv6)"
want_tcp proxy 127.0.0.1 foo.sharepoint.com \
    "SNI foo.sharepoint.com to 127.0.0.1 (HAProxy's own address)"
want_tcp proxy 13.107.6.152 www.example.com "SNI www.example.com to 13.107.6.152"
want_tcp proxy 2603:1006:1400::5 www.example.com \
    "SNI www.example.com to 2603:1006:1400::5"
want_tcp proxy 13.107.6.152 special.sharepoint.com \
    "SNI special.sharepoint.com (never_direct) to 13.107.6.152"
want_tcp proxy 13.107.6.153 foo.sharepoint.com \
    "SNI foo.sharepoint.com to 13.107.6.153 (never_direct address)"
want_tcp proxy 13.107.6.153 - "no SNI to 13.107.6.153 (never_direct address)"
want_tcp proxy 198.51.100.7 - "no SNI to 198.51.100.7"
# an SNI that is an address is looked up as one; numeric names are none
want_tcp direct 13.107.6.152 2603:1006:1400::5 "SNI 2603:1006:1400::5 to 13.107.6.152"
want_tcp proxy 13.107.6.152 13.107.6.152. "SNI 13.107.6.152. (no address, no name)"
want_tcp proxy 13.107.6.152 198.51.100.7 "SNI 198.51.100.7 to 13.107.6.152"
want_tcp proxy 13.107.6.152 0x0d.107.6.152 "SNI 0x0d.107.6.152 (numeric: no name)"
stop_haproxy tcp

make_tcp_conf "$W/maps-policy" always_true && start_haproxy tcp $TLS_PORT && wait_port 9003
check $? "TCP frontend in SNI router mode (always_true) started" \
    "$(tail -n 5 "$W/haproxy-tcp.log")"
MODE_NAME="SNI router"
want_tcp direct 198.51.100.7 foo.sharepoint.com \
    "SNI foo.sharepoint.com to 198.51.100.7 (the SNI is the destination)"
want_tcp direct 127.0.0.1 foo.sharepoint.com "SNI foo.sharepoint.com to 127.0.0.1"
want_tcp proxy 13.107.6.152 www.example.com "SNI www.example.com to 13.107.6.152"
want_tcp proxy 127.0.0.1 special.sharepoint.com "SNI special.sharepoint.com (never_direct)"
want_tcp direct 13.107.6.152 - "no SNI to 13.107.6.152 (dst decides)"
want_tcp proxy 127.0.0.1 - "no SNI to 127.0.0.1"
stop_haproxy tcp

# Every SNI probe towards a direct destination: the SNI's own answer.
make_tcp_conf "$W/maps-worldwide-c2025" always_false && start_haproxy tcp $TLS_PORT &&
    wait_port 9003
check $? "TCP frontend as shipped with the c2025 maps started"
agree "c2025, destination mode, every SNI to 13.107.6.152" tls $TLS_PORT \
    "$W/answers-worldwide-c2025" 13.107.6.152
stop_haproxy tcp

# ------------------------------------------------ haproxy-push, live ---
LIVE="$W/live"
"$CLI" -c /dev/null --data "$DATA/worldwide-c2022.json" export haproxy -o "$LIVE" >/dev/null 2>&1
start_both "$LIVE" || { echo "Bail out! HAProxy did not start for the push tests"; exit 1; }
# haproxy_pid NAME: the pid HAProxy reports (we share its PID namespace)
haproxy_pid() {
    echo 'show info' | socat - "UNIX-CONNECT:$W/$1.sock" | sed -n 's/^Pid: //p'
}
P_HTTP=$(haproxy_pid http)
P_TCP=$(haproxy_pid tcp)

# the union of both files' probes, answered from either file
probes "$DATA/worldwide-c2022.json" "$DATA/worldwide-c2025.json" >"$W/u22"
probes "$DATA/worldwide-c2025.json" "$DATA/worldwide-c2022.json" >"$W/u25"
CHANGED=$(paste "$W/u22" "$W/u25" | awk -F '\t' '$1 != $3 { print "misaligned"; exit } $2 != $4 { n++ } END { print n + 0 }')
case $CHANGED in
misaligned | 0) not_ok "c2022 and c2025 answer differently for some probes ($CHANGED)" ;;
*) ok "c2022 and c2025 answer differently for $CHANGED of $(wc -l <"$W/u22") probes" ;;
esac
agree "before the push (c2022 loaded): HTTP absolute-form" abs $HTTP_PORT "$W/u22"

# push c2025 into both instances
"$CLI" -c /dev/null --data "$DATA/worldwide-c2025.json" export haproxy -o "$W/ref25" >/dev/null 2>&1
_o=$("$CLI" -c /dev/null --data "$DATA/worldwide-c2025.json" haproxy-push \
    --socket "$W/http.sock" --dir "$LIVE" 2>&1)
_st=$?
_cnt=0
for f in "$W"/ref25/m365-*.map; do
    printf '%s\n' "$_o" | grep -qx "$(basename "$f"): $(file_entries "$f") entries (version [0-9]*)" || _cnt=1
done
[ $_st = 0 ] && [ $_cnt = 0 ] && printf '%s\n' "$_o" | grep -q '^replaced 8 maps live'
check $? "haproxy-push c2025 (HTTP instance): exit 0, each map's show-map count reported" "exit $_st" "$_o"
_d=$(diff -r "$W/ref25" "$LIVE" 2>&1)
check $? "haproxy-push rewrote the files (identical to export haproxy)" "$_d"
_d=$(show_counts "$W/http.sock" "$LIVE")
check $? "show map (socat) lists as many entries as each file has" "$_d"
_o=$("$CLI" -c /dev/null --data "$DATA/worldwide-c2025.json" haproxy-push \
    --socket "$W/tcp.sock" --dir "$LIVE" 2>&1)
check $? "haproxy-push c2025 (TCP instance): exit 0" "$_o"
[ -n "$P_HTTP" ] && [ "$P_HTTP" = "$PID_http" ] && [ "$(haproxy_pid http)" = "$P_HTTP" ] &&
    [ -n "$P_TCP" ] && [ "$P_TCP" = "$PID_tcp" ] && [ "$(haproxy_pid tcp)" = "$P_TCP" ]
check $? "the same HAProxy processes answer (pids $P_HTTP, $P_TCP): no reload, no restart"
agree "after the push (c2025 live): HTTP absolute-form" abs $HTTP_PORT "$W/u25"
agree "after the push (c2025 live): HTTP CONNECT" connect $HTTP_PORT "$W/u25"
agree "after the push (c2025 live): HTTP Host header" host $HTTP_PORT "$W/u25"
agree "after the push (c2025 live): TLS SNI" tls $TLS_PORT "$W/u25"

# push the policy (never_direct, extra_direct, regexes) into both
_o=$("$CLI" -c "$W/policy.conf" --data "$DATA/worldwide-c2025.json" haproxy-push \
    --socket "$W/http.sock" --dir "$LIVE" 2>&1) &&
    _o="$_o
$("$CLI" -c "$W/policy.conf" --data "$DATA/worldwide-c2025.json" haproxy-push \
        --socket "$W/tcp.sock" --dir "$LIVE" 2>&1)"
check $? "haproxy-push of the policy into both instances: exit 0" "$_o"
agree "after the policy push: HTTP absolute-form" abs $HTTP_PORT "$W/answers-policy"
agree "after the policy push: TLS SNI" tls $TLS_PORT "$W/answers-policy"

# a map far over 15 KB goes in several commands; HAProxy must get it whole
{
    echo "never_direct = bulk0777.bulk.example"
    i=1
    while [ $i -le 3000 ]; do
        printf 'extra_direct = bulk%04d.bulk.example\n' $i
        i=$((i + 1))
    done
} >"$W/bulk.conf"
_o=$("$CLI" -c "$W/bulk.conf" --data "$DATA/worldwide-c2025.json" haproxy-push \
    --socket "$W/http.sock" --dir "$LIVE" 2>&1)
_st=$?
_size=$(wc -c <"$LIVE/m365-direct-names.map")
[ $_st = 0 ] && [ "$_size" -gt 45000 ] &&
    printf '%s\n' "$_o" | grep -q "^m365-direct-names.map: 30[0-9][0-9] entries"
check $? "haproxy-push of a $_size-byte map (many 15 KB commands): exit 0, all entries shown" "exit $_st" "$_o"
{
    for h in bulk0001.bulk.example bulk1500.bulk.example bulk3000.bulk.example \
        bulk0777.bulk.example bulk3001.bulk.example xbulk0001.bulk.example \
        outlook.office365.com; do
        case $("$CLI" -c "$W/bulk.conf" --data "$DATA/worldwide-c2025.json" check "$h" --json) in
        *'"direct":true'*) printf '%s\tdirect\n' "$h" ;;
        *) printf '%s\tproxy\n' "$h" ;;
        esac
    done
} >"$W/answers-bulk"
agree "after the bulk push: HTTP absolute-form" abs $HTTP_PORT "$W/answers-bulk"

# a restart reads the rewritten files and agrees with what was pushed
stop_haproxy http
start_haproxy http $HTTP_PORT
check $? "HAProxy restarts from the rewritten files"
agree "after a restart: HTTP absolute-form (bulk policy)" abs $HTTP_PORT "$W/answers-bulk"

# ------------------------------------------------------ push errors ---
sums() { cat "$LIVE"/m365-*.map | cksum; }
before=$(sums)
_o=$("$CLI" -c /dev/null --data "$DATA/china-c2025.json" haproxy-push \
    --socket "$W/missing.sock" --dir "$LIVE" 2>&1)
_st=$?
[ $_st = 1 ] && printf '%s\n' "$_o" | grep -q 'no such socket' &&
    printf '%s\n' "$_o" | grep -q 'nothing changed' && [ "$(sums)" = "$before" ]
check $? "a missing socket: exit 1, said clearly, files untouched" "exit $_st" "$_o"

_o=$("$CLI" -c /dev/null --data "$DATA/china-c2025.json" haproxy-push \
    --socket "$W/http.sock" --dir "$W/elsewhere" 2>&1)
_st=$?
[ $_st = 1 ] && printf '%s\n' "$_o" | grep -q 'none of the maps' &&
    [ ! -e "$W/elsewhere" ]
check $? "maps HAProxy does not use: exit 1, said clearly, nothing written" "exit $_st" "$_o"

# stub_push VERSION: haproxy-push of china-c2025 against the stub.
stub_push() {
    rm -f "$W/stub.sock"
    "$PY" "$W/stub.py" "$W/stub.sock" "$1" "$LIVE" >"$W/stub.out" 2>&1 &
    _sp=$!
    _i=0
    while [ ! -S "$W/stub.sock" ] && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
    "$CLI" -c /dev/null --data "$DATA/china-c2025.json" haproxy-push \
        --socket "$W/stub.sock" --dir "$LIVE"
    _r=$?
    kill "$_sp" 2>/dev/null
    wait "$_sp" 2>/dev/null
    return $_r
}
before=$(sums)
_o=$(stub_push 2.6.12 2>&1)
_st=$?
[ $_st = 1 ] && printf '%s\n' "$_o" | grep -q 'Permission denied' &&
    printf '%s\n' "$_o" | grep -q 'level admin' &&
    printf '%s\n' "$_o" | grep -q 'nothing changed' && [ "$(sums)" = "$before" ]
check $? "a runtime API refusing map changes: exit 1, says level admin, files untouched" "exit $_st" "$_o"

"$CLI" -c /dev/null --data "$DATA/china-c2025.json" export haproxy -o "$W/refcn" >/dev/null 2>&1
_o=$(stub_push 2.2.9 2>&1)
_st=$?
_d=$(diff -r "$W/refcn" "$LIVE" 2>&1)
[ $_st = 1 ] && [ "$(printf '%s\n' "$_o" | wc -l)" = 1 ] &&
    printf '%s\n' "$_o" | grep -q '2.2.9.*reload' && [ -z "$_d" ]
check $? "HAProxy 2.2: exit 1, files rewritten, one line saying a reload is needed" "exit $_st" "$_o" "$_d"

"$CLI" -c /dev/null haproxy-push --dir "$LIVE" >/dev/null 2>&1
_st=$?
"$CLI" -c /dev/null haproxy-push --socket "$W/http.sock" --dir "$LIVE" --timeout x >/dev/null 2>&1
_st2=$?
[ $_st = 2 ] && [ $_st2 = 2 ]
check $? "usage errors (no --socket, a bad --timeout): exit 2"

# the running HAProxy kept the bulk maps through all of that
agree "after the failed pushes: HTTP absolute-form (bulk policy still live)" abs $HTTP_PORT "$W/answers-bulk"

stop_both
[ "$T" = "$PLAN" ] || echo "# ran $T tests, planned $PLAN"
[ $FAILS = 0 ]
