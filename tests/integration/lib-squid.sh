# lib-squid.sh - a private Squid pair for the integration tests and the demo.
# POSIX sh; sourced (". tests/integration/lib-squid.sh") from the repo root.
#
# What it builds, all inside a private network namespace created for the run
# (so no connection can ever leave the machine):
#
#   curl --> child Squid (127.0.0.1:CHILD_PORT, runs ext_m365_acl through
#            |               configs/squid/m365-direct.conf)
#            |-- DIRECT ---------------------------------> origin (port 80/443/8080)
#            '-- cache_peer parent --> parent Squid ----> origin
#
# The origin (tests/integration/origin.py) listens on [::] ports 80, 443 and
# 8080.  Test host names resolve to 127.0.0.1 through Squid's hosts_file;
# real Microsoft 365 addresses (LS_M365_ADDRS) and documentation addresses
# (LS_OTHER_ADDRS) are added to the namespace's loopback, so a DIRECT
# connection to 2603:1006:1400::5 reaches our own origin, nothing else.
#
# Usage (see squid.t and tests/demo.sh):
#   . tests/integration/lib-squid.sh
#   ls_enter_netns "$0" "$@"   # re-runs the script inside a fresh netns;
#                              # returns only inside it (or exits)
#   ls_start_origin; ls_start_parent; ls_start_child HELPER [HELPER OPTIONS]
#   ls_fetch [-p] URL; ls_hier METHOD URL_AS_LOGGED ...
# Everything started is stopped by an EXIT trap, and the outer (non-netns)
# process kills whatever is left in the namespace, deletes it and removes the
# temp dir, even when the inner script dies.

LS_NETNS_PREFIX=m365t
# Microsoft 365 addresses used as destinations, from
# tests/data/worldwide-c2025.json: 2603:1006::10 and 13.107.6.152 are in
# Exchange Optimize set 1 (2603:1006::/40, 13.107.6.152/31, TCP 80,443);
# 2603:1006:1400::5 is only in Allow set 46 (2603:1006:1400::/40; note that
# it is NOT inside 2603:1006::/40, which ends at 2603:1006:ff:ffff:...).
LS_M365_ADDRS="2603:1006::10 2603:1006:1400::5 13.107.6.152"
# Addresses that are not Microsoft 365 (RFC 3849 / RFC 5737 documentation).
LS_OTHER_ADDRS="2001:db8::10 192.0.2.10"
# Names resolved (by both Squids) to 127.0.0.1 via hosts_file.
LS_HOSTS="outlook.office365.com teams.microsoft.com foo.sharepoint.com
 bar.sharepoint.com after-kill.sharepoint.com special.sharepoint.com
 contoso.sharepoint.com www.office.com www.example.com login.example.org
 after-kill.example.org intranet.example.net"
LS_ORIGIN_PORTS="80 443 8080"

# Never let a proxy from the environment take part.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY \
    no_proxy NO_PROXY ftp_proxy FTP_PROXY 2>/dev/null || true

M365_ROOT=${M365_ROOT:-$(pwd)}
LS_PY=/usr/bin/python3
LS_PIDS=""

ls_say() { printf '# %s\n' "$*"; }

# ls_find_helper: print the helper to test: $M365_BUILD/ext_m365_acl
# (default build/rel), else build/ext_m365_acl.
ls_find_helper() {
    for c in "${M365_BUILD:-build/rel}/ext_m365_acl" build/ext_m365_acl; do
        if [ -x "$c" ] && [ -f "$c" ]; then
            printf '%s\n' "$c"
            return 0
        fi
    done
    return 1
}

# ls_find_cli: the same for the m365-direct admin command.
ls_find_cli() {
    for c in "${M365_BUILD:-build/rel}/m365-direct" build/m365-direct; do
        if [ -x "$c" ] && [ -f "$c" ]; then
            printf '%s\n' "$c"
            return 0
        fi
    done
    return 1
}

# ls_check_prereqs: print why the private Squid pair cannot run here, or
# nothing (status 0) when it can.
ls_check_prereqs() {
    if [ "$(id -u)" != 0 ]; then
        echo "needs root for a private network namespace (ip netns)"
        return 1
    fi
    for t in ip squid curl; do
        if ! command -v "$t" >/dev/null 2>&1; then
            echo "$t not installed"
            return 1
        fi
    done
    if [ ! -x "$LS_PY" ]; then
        echo "$LS_PY not installed"
        return 1
    fi
    if ! id proxy >/dev/null 2>&1; then
        echo "no 'proxy' user for Squid's cache_effective_user"
        return 1
    fi
    return 0
}

# ls_enter_netns SCRIPT ARGS...: outside a namespace, create one plus a temp
# dir, run "sh SCRIPT ARGS" inside it, clean up and exit with its status.
# Inside (LS_IN_NETNS set), bring up lo, add the test addresses and return.
# When no namespace can be created, print "1..0 # SKIP reason" (TAP) and exit
# 0, unless LS_SKIP_FMT is set to a printf format for the reason.
ls_enter_netns() {
    if [ -n "${LS_IN_NETNS:-}" ]; then
        ls_netns_inside
        return 0
    fi
    _script=$1
    shift
    if ! _why=$(ls_check_prereqs); then
        ls_skip "$_why"
    fi
    LS_NS="$LS_NETNS_PREFIX$$"
    if ! ip netns add "$LS_NS" 2>/dev/null; then
        ls_skip "cannot create a network namespace (ip netns add failed)"
    fi
    LS_DIR=$(mktemp -d /tmp/m365t.XXXXXX) || {
        ip netns del "$LS_NS"
        ls_skip "mktemp failed"
    }
    trap ls_outer_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
    LS_IN_NETNS=$LS_NS LS_DIR=$LS_DIR M365_ROOT=$M365_ROOT \
        ip netns exec "$LS_NS" /bin/sh "$_script" "$@"
    exit $?
}

ls_skip() {
    if [ -n "${LS_SKIP_FMT:-}" ]; then
        # shellcheck disable=SC2059
        printf "$LS_SKIP_FMT" "$1"
        exit 1
    fi
    echo "1..0 # SKIP $1"
    exit 0
}

# Outer cleanup: kill every process still in our namespace (only processes
# this run started can be in it), delete it, remove the temp dir.
ls_outer_cleanup() {
    _rc=$?
    trap - EXIT INT TERM HUP
    if [ -n "${LS_NS:-}" ]; then
        _left=$(ip netns pids "$LS_NS" 2>/dev/null)
        if [ -n "$_left" ]; then
            # shellcheck disable=SC2086
            kill -TERM $_left 2>/dev/null
            _i=0
            while [ -n "$_left" ] && [ $_i -lt 40 ]; do
                sleep 0.1
                _left=$(ip netns pids "$LS_NS" 2>/dev/null)
                _i=$((_i + 1))
            done
            # shellcheck disable=SC2086
            [ -n "$_left" ] && kill -KILL $_left 2>/dev/null
        fi
        ip netns del "$LS_NS" 2>/dev/null
        ls_del_client_netns
        ls_remove_shm
    fi
    if [ -n "${LS_DIR:-}" ] && [ -d "$LS_DIR" ] && [ -z "${LS_KEEP:-}" ]; then
        rm -rf "$LS_DIR"
    elif [ -n "${LS_KEEP:-}" ]; then
        echo "# kept $LS_DIR" >&2
    fi
    exit $_rc
}

# Inside the namespace: loopback up, test addresses on it, temp dir layout,
# inner cleanup trap.
ls_netns_inside() {
    LS_NS=$LS_IN_NETNS
    ip link set lo up || return 1
    for a in $LS_M365_ADDRS $LS_OTHER_ADDRS; do
        case $a in
        *:*) ip -6 addr add "$a/128" dev lo nodad || return 1 ;;
        *) ip -4 addr add "$a/32" dev lo || return 1 ;;
        esac
    done
    mkdir -p "$LS_DIR/bin" "$LS_DIR/state" "$LS_DIR/parent" "$LS_DIR/child"
    {
        echo "127.0.0.1 localhost"
        for h in $LS_HOSTS; do
            echo "127.0.0.1 $h"
        done
    } >"$LS_DIR/hosts"
    # Squid drops root privileges to the 'proxy' user; it (and the helper it
    # starts) must be able to write logs and read everything in here.
    chown -R proxy:proxy "$LS_DIR"
    chmod 755 "$LS_DIR"
    trap ls_inner_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
}

ls_inner_cleanup() {
    _rc=$?
    trap - EXIT INT TERM HUP
    ls_stop_all
    ls_del_client_netns
    exit $_rc
}

# ls_stop_pid PID: TERM, wait up to 5 s, then KILL.
ls_stop_pid() {
    kill -TERM "$1" 2>/dev/null || return 0
    _i=0
    while kill -0 "$1" 2>/dev/null && [ $_i -lt 50 ]; do
        sleep 0.1
        _i=$((_i + 1))
    done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    return 0
}

ls_stop_all() {
    for p in $LS_PIDS; do
        ls_stop_pid "$p"
    done
    LS_PIDS=""
    ls_remove_shm
}

# Remove shared memory segments a killed Squid of this run left behind (only
# names with this run's unique prefix, see ls_run_squid).
ls_remove_shm() {
    [ -n "${LS_NS:-}" ] || return 0
    for f in /dev/shm/"$LS_NS"*; do
        [ -e "$f" ] && rm -f "$f"
    done
    return 0
}

ls_free_port() {
    "$LS_PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# ls_wait_http URL [SECONDS [PID]]: wait until something answers HTTP on URL
# (and give up early when process PID has died).
ls_wait_http() {
    _n=$(( ${2:-15} * 10 ))
    while [ "$_n" -gt 0 ]; do
        if [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null; then
            return 1
        fi
        _c=$(curl -s -o /dev/null -m 2 --noproxy '*' -w '%{http_code}' "$1" 2>/dev/null)
        case $_c in
        000 | "") ;;
        *) return 0 ;;
        esac
        sleep 0.1
        _n=$((_n - 1))
    done
    return 1
}

# ls_start_origin: origin.py on $LS_ORIGIN_PORTS; a port written tls:PORT
# serves HTTPS with the chain and key in $LS_ORIGIN_TLS_CERT (ls_make_pki
# makes one).  Port 80 must stay plain HTTP (the readiness check).
ls_start_origin() {
    _tlsarg=""
    [ -n "${LS_ORIGIN_TLS_CERT:-}" ] && _tlsarg="--tls-cert $LS_ORIGIN_TLS_CERT"
    # shellcheck disable=SC2086
    "$LS_PY" "$M365_ROOT/tests/integration/origin.py" $_tlsarg $LS_ORIGIN_PORTS \
        >"$LS_DIR/origin.log" 2>&1 &
    ORIGIN_PID=$!
    LS_PIDS="$LS_PIDS $ORIGIN_PID"
    ls_wait_http "http://127.0.0.1:80/ready" 10 "$ORIGIN_PID" || {
        ls_say "origin server did not start:"
        sed 's/^/#   /' "$LS_DIR/origin.log"
        return 1
    }
}

# ls_squid_common NAME PORT: the part of squid.conf both Squids share.
ls_squid_common() {
    _d="$LS_DIR/$1"
    cat <<EOF
# Generated by tests/integration/lib-squid.sh for a private test run.
http_port 127.0.0.1:$2
visible_hostname $1.m365-test.invalid
pid_filename $_d/squid.pid
cache_effective_user proxy
cache_log $_d/cache.log
cache_store_log none
logfile_rotate 0
# Squid hierarchy code (%Sh: HIER_DIRECT, FIRSTUP_PARENT, ...) and the
# notes of the m365 helper, one space-separated field each:
# time method URL status result hierarchy server m365 m365_category
logformat m365test %ts.%03tu %rm %ru %>Hs %Ss %Sh %<a %{m365}note %{m365_category}note
access_log stdio:$_d/access.log logformat=m365test
coredump_dir $_d
# No disk cache, no caching at all.
cache deny all
cache_mem 8 MB
# Names come from our hosts_file; no DNS server exists in the namespace.
hosts_file $LS_DIR/hosts
dns_nameservers 127.0.0.1
dns_timeout 2 seconds
connect_timeout 5 seconds
peer_connect_timeout 5 seconds
pinger_enable off
netdb_filename none
icp_port 0
htcp_port 0
snmp_port 0
digest_generation off
max_filedescriptors 1024
shutdown_lifetime 1 second
EOF
}

# ls_run_squid NAME PORT: start "squid -N" (foreground, one process, so its
# helpers are its direct children) with $LS_DIR/NAME/squid.conf.  Each Squid
# gets its own service name (-n): Squid names its POSIX shared memory
# segments (/dev/shm/SERVICE-cf__*.shm, not covered by the network namespace)
# after it, and a second Squid with the default name "squid" dies with
# "shm_open(/squid-cf__metadata.shm): File exists".
ls_run_squid() {
    _d="$LS_DIR/$1"
    chown -R proxy:proxy "$_d"
    squid -n "$LS_NS$1" -N -f "$_d/squid.conf" >"$_d/squid.out" 2>&1 &
    _pid=$!
    LS_PIDS="$LS_PIDS $_pid"
    eval "$(echo "$1" | tr '[:lower:]' '[:upper:]')_PID=$_pid"
    if ! ls_wait_http "http://127.0.0.1:$2/" 20 "$_pid" || ! kill -0 "$_pid" 2>/dev/null; then
        ls_say "$1 Squid did not start; squid.out and cache.log:"
        cat "$_d/squid.out" "$_d/cache.log" 2>/dev/null | tail -n 30 | sed 's/^/#   /'
        return 1
    fi
    return 0
}

ls_start_parent() {
    PARENT_PORT=$(ls_free_port)
    {
        ls_squid_common parent "$PARENT_PORT"
        cat <<EOF
# The parent goes to the origin directly for everything.
http_access allow all
EOF
    } >"$LS_DIR/parent/squid.conf"
    ls_run_squid parent "$PARENT_PORT"
}

# ls_make_snippet HELPER_COMMAND: copy configs/squid/m365-direct.conf, the
# snippet we ship, to $LS_DIR/child/m365-direct.conf, replacing ONLY the
# installed helper path /usr/lib/squid/ext_m365_acl by HELPER_COMMAND (our
# build of the helper plus test options).  Everything else is used exactly as
# shipped.
ls_make_snippet() {
    _esc=$(printf '%s\n' "$1" | sed 's/[\\|&]/\\&/g')
    sed "s|/usr/lib/squid/ext_m365_acl|$_esc|" \
        "$M365_ROOT/configs/squid/m365-direct.conf" >"$LS_DIR/child/m365-direct.conf"
    grep -q "^external_acl_type .*$(printf '%s' "$1" | cut -d' ' -f1)" \
        "$LS_DIR/child/m365-direct.conf"
}

# ls_start_child HELPER [OPTIONS...]: the Squid under test.  The helper binary
# is copied into the temp dir so the unprivileged Squid user can always
# execute it (the checkout may not be readable by 'proxy').
ls_start_child() {
    _h=$1
    shift
    cp "$_h" "$LS_DIR/bin/ext_m365_acl" || return 1
    chmod 755 "$LS_DIR/bin/ext_m365_acl"
    LS_HELPER_CMD="$LS_DIR/bin/ext_m365_acl"
    for o in "$@"; do
        LS_HELPER_CMD="$LS_HELPER_CMD $o"
    done
    ls_make_snippet "$LS_HELPER_CMD" || {
        ls_say "could not substitute the helper path in m365-direct.conf"
        return 1
    }
    CHILD_PORT=$(ls_free_port)
    ls_write_child_conf
    ls_run_squid child "$CHILD_PORT"
}

ls_write_child_conf() {
    {
        ls_squid_common child "$CHILD_PORT"
        cat <<EOF
# The snippet under test (configs/squid/m365-direct.conf, helper path
# replaced), included before the rule that lets clients in, as documented.
include $LS_DIR/child/m365-direct.conf
http_access allow all
# The parent; everything that is not Microsoft 365 goes there.
cache_peer 127.0.0.1 parent $PARENT_PORT 0 no-query no-digest default name=parent
EOF
    } >"$LS_DIR/child/squid.conf"
}

# ls_fetch [-p] URL: fetch URL through the child Squid (-p: through a CONNECT
# tunnel, the way browsers do HTTPS; the tunnel carries plain HTTP here).
# Prints the HTTP status; the body goes to $LS_DIR/body.
ls_fetch() {
    _tun=""
    if [ "$1" = "-p" ]; then
        _tun="-p"
        shift
    fi
    curl -s -g -m 15 $_tun -x "http://127.0.0.1:$CHILD_PORT" \
        -o "$LS_DIR/body" -w '%{http_code}' "$1" 2>/dev/null
    return 0
}

# ls_logline METHOD URL [WHICH]: print the last access.log line of the child
# (or WHICH Squid) for METHOD URL, waiting up to 5 s for it (CONNECT is
# logged when the tunnel closes).
ls_logline() {
    _f="$LS_DIR/${3:-child}/access.log"
    _n=50
    while [ $_n -gt 0 ]; do
        _l=$(awk -v m="$1" -v u="$2" '$2 == m && $3 == u { l = $0 } END { print l }' "$_f" 2>/dev/null)
        if [ -n "$_l" ]; then
            printf '%s\n' "$_l"
            return 0
        fi
        sleep 0.1
        _n=$((_n - 1))
    done
    return 1
}

# ls_hier METHOD URL: the hierarchy code (HIER_DIRECT, FIRSTUP_PARENT, ...)
# the child Squid logged for METHOD URL.
ls_hier() {
    ls_logline "$1" "$2" | awk '{ print $6 }'
}

# ls_helper_pids: pids of the child Squid's m365 helper processes (direct
# children of the child Squid whose command line names ext_m365_acl).
ls_helper_pids() {
    for s in /proc/[0-9]*/stat; do
        _p=${s#/proc/}
        _p=${_p%/stat}
        # field 4 of /proc/PID/stat is the parent pid (comm has no spaces
        # for the processes we care about; skip the rest)
        _pp=$(awk '{ print $4 }' "$s" 2>/dev/null)
        [ "$_pp" = "$CHILD_PID" ] || continue
        if tr '\0' ' ' <"/proc/$_p/cmdline" 2>/dev/null | grep -q ext_m365_acl; then
            echo "$_p"
        fi
    done
}

# --- TLS: test CAs, Squid's certificate database ---------------------------

# ls_make_pki DIR: a test "public" CA (CN m365-test-public-ca, what Squid
# trusts for its own outgoing connections), the origin's certificate issued
# by it for every test name and address (DIR/origin.pem: chain and key, for
# origin.py --tls-cert), and a separate bump CA for Squid
# (CN m365-test-bump-ca; DIR/bump-ca.pem holds certificate and key, for
# tls-cert=).  Clients tell spliced from bumped by the issuer they see.
# Extra names and addresses for the certificate: $LS_TLS_NAMES.
ls_make_pki() {
    _pk=$1
    mkdir -p "$_pk" || return 1
    _san="DNS:localhost"
    for h in $LS_HOSTS ${LS_TLS_NAMES:-}; do
        _san="$_san,DNS:$h"
    done
    # Addresses as IP entries, and as DNS names too ("192.0.2.10",
    # "[2001:db8::10]"): Squid 5.7 checks the certificate of a bumped
    # connection to an IP without SNI only against DNS-type names and the
    # CN (ERR_SECURE_CONNECT_FAIL otherwise), while other clients (curl,
    # Python) want IP entries.
    for a in 127.0.0.1 ::1 $LS_M365_ADDRS $LS_OTHER_ADDRS; do
        case $a in
        *:*) _san="$_san,IP:$a,DNS:[$a]" ;;
        *) _san="$_san,IP:$a,DNS:$a" ;;
        esac
    done
    _ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
    _ca="-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign"
    : >"$_pk/openssl.log"
    # shellcheck disable=SC2086
    if ! openssl req -x509 $_ec $_ca -days 3 -subj /CN=m365-test-public-ca \
        -keyout "$_pk/public-ca.key" -out "$_pk/public-ca.pem" >>"$_pk/openssl.log" 2>&1 ||
        ! openssl req -x509 $_ec -days 2 -subj /CN=m365-test-origin \
            -CA "$_pk/public-ca.pem" -CAkey "$_pk/public-ca.key" \
            -addext "subjectAltName=$_san" -addext basicConstraints=CA:FALSE \
            -addext extendedKeyUsage=serverAuth \
            -keyout "$_pk/origin.key" -out "$_pk/origin.crt" >>"$_pk/openssl.log" 2>&1 ||
        ! openssl req -x509 $_ec $_ca -days 3 -subj /CN=m365-test-bump-ca \
            -keyout "$_pk/bump-ca.key" -out "$_pk/bump-ca.crt" >>"$_pk/openssl.log" 2>&1; then
        ls_say "openssl failed:"
        sed 's/^/#   /' "$_pk/openssl.log"
        return 1
    fi
    cat "$_pk/origin.crt" "$_pk/public-ca.pem" "$_pk/origin.key" >"$_pk/origin.pem" &&
        cat "$_pk/bump-ca.crt" "$_pk/bump-ca.key" >"$_pk/bump-ca.pem" || return 1
    chown -R proxy:proxy "$_pk"
}

# ls_make_certdb DIR: the certificate database security_file_certgen
# (sslcrtd_program) keeps the generated certificates in, owned by Squid's
# user.  DIR must not exist yet.
ls_make_certdb() {
    /usr/lib/squid/security_file_certgen -c -s "$1" -M 4MB >/dev/null 2>&1 &&
        chown -R proxy:proxy "$1"
}

# --- interception: a client namespace behind a veth pair -------------------

# ls_make_client_netns: a second namespace "${LS_NS}c" for the clients of an
# intercepting Squid, linked to ours by a veth pair (ours: m365s,
# 10.99.0.1/24 and fd99::1/64; theirs: m365c, 10.99.0.2 and fd99::2, default
# routes via ours).  Everything the clients send arrives here on m365s,
# where a PREROUTING rule can redirect it; Squid's own connections start
# here and never pass PREROUTING, so they cannot loop.  Run commands there
# with "ip netns exec $LS_CLIENT_NS ...".  Removed by the cleanup traps.
ls_make_client_netns() {
    LS_CLIENT_NS="${LS_NS}c"
    ip netns add "$LS_CLIENT_NS" || return 1
    ip link add m365s type veth peer name m365c netns "$LS_CLIENT_NS" || return 1
    ip addr add 10.99.0.1/24 dev m365s &&
        ip -6 addr add fd99::1/64 dev m365s nodad &&
        ip link set m365s up || return 1
    ip netns exec "$LS_CLIENT_NS" sh -ec '
        ip link set lo up
        ip addr add 10.99.0.2/24 dev m365c
        ip -6 addr add fd99::2/64 dev m365c nodad
        ip link set m365c up
        ip route add default via 10.99.0.1
        ip -6 route add default via fd99::1'
}

# ls_del_client_netns: kill what runs in the client namespace (and in the
# WAN namespace of ls_make_wan_netns), delete them.
ls_del_client_netns() {
    [ -n "${LS_NS:-}" ] || return 0
    for _cns in "${LS_NS}c" "${LS_NS}w"; do
        [ -e "/run/netns/$_cns" ] || continue
        _left=$(ip netns pids "$_cns" 2>/dev/null)
        # shellcheck disable=SC2086
        [ -n "$_left" ] && kill -KILL $_left 2>/dev/null
        ip netns del "$_cns" 2>/dev/null
    done
    return 0
}

# ls_make_wan_netns: a namespace "${LS_NS}w" for what lies beyond the
# branch's WAN link (a parent proxy at head office), linked to ours by a
# veth pair (ours: m365w, 10.98.0.1/24; theirs: m365h, 10.98.0.2/24) that
# "tc qdisc add dev m365w root netem delay ..." can slow down.  Its
# loopback is up; run commands there with "ip netns exec $LS_WAN_NS ...".
# Removed by the cleanup traps.
ls_make_wan_netns() {
    LS_WAN_NS="${LS_NS}w"
    ip netns add "$LS_WAN_NS" || return 1
    ip link add m365w type veth peer name m365h netns "$LS_WAN_NS" || return 1
    ip addr add 10.98.0.1/24 dev m365w && ip link set m365w up || return 1
    ip netns exec "$LS_WAN_NS" sh -ec '
        ip link set lo up
        ip addr add 10.98.0.2/24 dev m365h
        ip link set m365h up'
}

# ls_redirect_tls PORT: nftables NAT in our namespace: TCP port 443 that
# arrives from the client namespace (on m365s), IPv4 and IPv6, goes to
# local PORT (an "https_port ... intercept" Squid).
ls_redirect_tls() {
    nft -f - <<EOF
table inet m365t_nat {
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        iifname "m365s" tcp dport 443 redirect to :$1
    }
}
EOF
}

# --- DNS: dnsmasq answering from a hosts file -------------------------------

# ls_start_dnsmasq PORT HOSTSFILE [DNSMASQ_OPTIONS...]: a real DNS server
# on 127.0.0.1:PORT that answers from HOSTSFILE ("ADDR NAME" lines, re-read
# on SIGHUP) with TTL 1 and forwards nothing unless the options say so
# (e.g. --server=/domain/127.0.0.1#PORT).  Sets DNSMASQ_PID.
ls_start_dnsmasq() {
    _dp=$1 _dh=$2
    shift 2
    dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-poll \
        --listen-address=127.0.0.1 --bind-interfaces --port="$_dp" \
        --addn-hosts="$_dh" --local-ttl=1 --user=root --pid-file= \
        --log-facility=- "$@" >"$LS_DIR/dnsmasq.log" 2>&1 &
    DNSMASQ_PID=$!
    LS_PIDS="$LS_PIDS $DNSMASQ_PID"
    _i=0
    while [ $_i -lt 50 ]; do
        kill -0 "$DNSMASQ_PID" 2>/dev/null || break
        grep -q "read $_dh" "$LS_DIR/dnsmasq.log" 2>/dev/null && return 0
        sleep 0.1
        _i=$((_i + 1))
    done
    ls_say "dnsmasq did not start:"
    sed 's/^/#   /' "$LS_DIR/dnsmasq.log"
    return 1
}

# --- TAP for the shell tests ----------------------------------------------
T=0
FAILS=0
ok() {
    T=$((T + 1))
    echo "ok $T - $1"
}
not_ok() {
    T=$((T + 1))
    FAILS=$((FAILS + 1))
    echo "not ok $T - $1"
}
diag() { printf '%s\n' "$@" | sed 's/^/#   /'; }

# check COND_STATUS DESC [DIAG...]: ok when COND_STATUS is 0
check() {
    _st=$1 _d=$2
    shift 2
    if [ "$_st" = 0 ]; then
        ok "$_d"
    else
        not_ok "$_d"
        [ $# -gt 0 ] && diag "$@"
    fi
}

# want_route WANT DESC METHOD LOGGED_URL [-p] URL
#   WANT: DIRECT or PARENT.  Fetches URL through the child Squid and checks
#   the status (200 from our origin) and the hierarchy code logged.
want_route() {
    _want=$1 _desc=$2 _m=$3 _u=$4
    shift 4
    _code=$(ls_fetch "$@")
    _line=$(ls_logline "$_m" "$_u")
    _hier=$(printf '%s\n' "$_line" | awk '{ print $6 }')
    case $_want:$_hier in
    DIRECT:HIER_DIRECT | PARENT:FIRSTUP_PARENT) _good=1 ;;
    *) _good=0 ;;
    esac
    if [ "$_good" = 1 ] && [ "$_code" = 200 ]; then
        ok "$_desc -> $_want ($_hier, $(printf '%s' "$_line" | awk '{ print $8 "/" $9 }'))"
    else
        not_ok "$_desc -> $_want"
        diag "HTTP status: $_code" "access.log: ${_line:-<no line for $_m $_u>}"
        [ -f "$LS_DIR/body" ] && diag "body: $(head -c 300 "$LS_DIR/body")"
        diag "cache.log (last 10 lines):"
        tail -n 10 "$LS_DIR/child/cache.log" 2>/dev/null | sed 's/^/#     /'
    fi
}
