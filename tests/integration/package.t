#!/bin/sh
# The Debian package (packaging/debian, "make deb"), on this machine, as an
# admin would meet it: built from the tree without touching it, clean under
# lintian, the files, owners and modes it ships; installed with apt-get
# (an older version first, then the upgrade), the system user and the
# state directory it makes, the units it enables (and does not start),
# what systemd-analyze says of them; the service's ExecStart run exactly as
# systemd would run it (its user, no privileges, its umask, its
# environment) against the loopback stand-in for Microsoft's service
# (endpoints_server.py, configured through the conffile), the data then
# readable by Squid's user; a Squid started from the system's own
# /etc/squid/squid.conf with the packaged snippet linked into conf.d the
# documented way, sending Microsoft 365 direct and the rest to a parent
# through the packaged helper; the upgrade keeping the state and an edited
# conffile; remove keeping them, purge leaving no file of the package.
#
# It installs and purges the package m365-direct on this machine (a CI
# machine): it refuses to run where that package is installed already.
# Needs root (TAP skip otherwise, or without dpkg).  TAP output.
#
#   prove -v -e '' tests/integration/package.t    (as root, from anywhere)
#   LS_KEEP=1 ...  keeps the temp dir (logs, configs) for a look afterwards
set -u

M365_ROOT=$(cd "$(dirname "$0")/../.." && pwd) || exit 1
cd "$M365_ROOT" || exit 1
. tests/integration/lib-squid.sh

PKG=m365-direct
V_NEW=$(sed -n 's/^VERSION ?= *//p' Makefile)
V_OLD=0.0.9
ARCH=$(dpkg-architecture -qDEB_HOST_ARCH 2>/dev/null || dpkg --print-architecture 2>/dev/null)
DEB_NEW=build/${PKG}_${V_NEW}_$ARCH.deb
DEB_OLD=build/${PKG}_${V_OLD}_$ARCH.deb
UNIT=/lib/systemd/system/m365-direct-update.service
TIMER=/lib/systemd/system/m365-direct-update.timer
STATE=/var/lib/m365-direct
CONF=/etc/m365-direct/m365-direct.conf
DROPIN_DIR=/etc/systemd/system/m365-direct-update.service.d
SNIPPET_LINK=/etc/squid/conf.d/m365-direct.conf
PROM_DIR=/var/lib/prometheus/node-exporter

if [ -z "${LS_IN_NETNS:-}" ]; then
    case ${M365_BUILD:-build/rel} in
    */san | san)
        # the package is built as a package is, whatever M365_BUILD says:
        # the release suite runs this test, the sanitizer suite would
        # only repeat it
        echo "1..0 # SKIP the package does not depend on M365_BUILD=$M365_BUILD: run with build/rel"
        exit 0
        ;;
    esac
    if [ "$(id -u)" != 0 ]; then
        echo "1..0 # SKIP needs root (installs and purges the package)"
        exit 0
    fi
    if ! command -v dpkg >/dev/null 2>&1; then
        echo "1..0 # SKIP dpkg is absent (not a Debian system)"
        exit 0
    fi
    for t in dpkg-buildpackage apt-get lintian systemd-analyze setpriv runuser setfacl openssl; do
        if ! command -v "$t" >/dev/null 2>&1; then
            echo "1..1"
            echo "not ok 1 - $t is installed (sh tests/install-deps.sh)"
            exit 1
        fi
    done
    if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q 'installed\|config-files'; then
        echo "1..1"
        echo "not ok 1 - the package $PKG is not installed here already (this test installs and purges it; purge it first)"
        exit 1
    fi
fi
# Re-run this script inside a fresh network namespace (returns only there):
# the stand-in, the origin and both Squids live on its loopback.
ls_enter_netns "$M365_ROOT/tests/integration/package.t" "$@"

F=$LS_DIR/feed          # certificates, server, data variants
mkdir -p "$F" "$LS_DIR/debs" "$LS_DIR/mirror"
V1=2025110700

skip() {
    T=$((T + 1))
    echo "ok $T # SKIP $1"
}

# Everything this test put on the system goes, whatever happens: the
# package (purged), the snippet link, the example drop-ins, the test's
# textfile directory and its ACL entry.
pkg_cleanup() {
    _prc=$?
    rm -f "$SNIPPET_LINK"
    if [ -n "${DROPINS_MADE:-}" ]; then
        rm -f "$DROPIN_DIR/on-change.conf" "$DROPIN_DIR/prometheus.conf"
        rmdir "$DROPIN_DIR" 2>/dev/null
    fi
    [ -n "${PROM_ACL_SET:-}" ] && setfacl -x u:m365-direct "$PROM_DIR" 2>/dev/null
    rm -f "$PROM_DIR/m365-direct.prom"
    [ -n "${PROM_MADE:-}" ] && rmdir "$PROM_DIR" /var/lib/prometheus 2>/dev/null
    if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q 'installed\|config-files'; then
        apt_get purge "$PKG" >/dev/null 2>&1
    fi
    (exit "$_prc")
    ls_inner_cleanup
}
trap pkg_cleanup EXIT

# apt_get ARGS...: apt-get as an admin runs it, but never interactively
# (a conffile prompt would read EOF and fail) and waiting for the lock
# another apt-get may hold.
apt_get() {
    DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=300 "$@" </dev/null
}
pkg_version() { dpkg-query -W -f='${Version}' "$PKG" 2>/dev/null; }
pkg_status() { dpkg-query -W -f='${db:Status-Abbrev}' "$PKG" 2>/dev/null | tr -d ' '; }
# stat_line PATH: "mode owner:group PATH" (what the package promises)
stat_line() { stat -c '%a %U:%G %n' "$1" 2>/dev/null || echo "missing $1"; }
# tree_sum DIR...: every file and link under DIR with mode, owner, content
tree_sum() {
    for _d in "$@"; do
        [ -e "$_d" ] || { echo "absent $_d"; continue; }
        find "$_d" \( -type f -o -type l -o -type d \) -print | LC_ALL=C sort | while IFS= read -r _p; do
            if [ -f "$_p" ] && [ ! -L "$_p" ]; then
                printf '%s %s\n' "$(stat -c '%a %U:%G %n' "$_p")" "$(md5sum <"$_p" | cut -d' ' -f1)"
            elif [ -L "$_p" ]; then
                printf '%s -> %s\n' "$_p" "$(readlink "$_p")"
            else
                stat -c '%a %U:%G %n/' "$_p"
            fi
        done
    done
}
PROXY_CONFIGS="/etc/squid /etc/haproxy /etc/nginx"

PLAN=44
echo "1..$PLAN"

# ================================================================ build ===
git_state() { git status --porcelain --untracked-files=all 2>/dev/null; }
GIT_BEFORE=$(git_state)
rm -f "$DEB_NEW" "$DEB_OLD"
_t0=$(date +%s)
make -s deb >"$LS_DIR/make-deb.log" 2>&1
_rc=$?
[ "$_rc" = 0 ] && [ -f "$DEB_NEW" ]
check $? "make deb builds $DEB_NEW ($(($(date +%s) - _t0)) s)" "exit $_rc" "$(tail -n 20 "$LS_DIR/make-deb.log")"
GIT_AFTER=$(git_state)
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    [ "$GIT_BEFORE" = "$GIT_AFTER" ]
    check $? "the source tree is as it was: dpkg-buildpackage ran in a copy (build/deb-src)" \
        "git status before:" "$GIT_BEFORE" "after:" "$GIT_AFTER"
else
    skip "not a git checkout: cannot compare the tree before and after"
fi
make -s deb VERSION=$V_OLD >"$LS_DIR/make-deb-old.log" 2>&1
_rc=$?
[ "$_rc" = 0 ] && [ -f "$DEB_OLD" ] && [ "$(dpkg-deb -f "$DEB_OLD" Version)" = "$V_OLD" ]
check $? "make deb VERSION=$V_OLD builds the older package $DEB_OLD" "exit $_rc" \
    "$(tail -n 20 "$LS_DIR/make-deb-old.log")"
cp "$DEB_NEW" "$DEB_OLD" "$LS_DIR/debs/" 2>/dev/null
chmod 644 "$LS_DIR"/debs/*.deb 2>/dev/null   # apt reads them as _apt

# ============================================================== lintian ===
# Overrides shown (O:, each with its reason), so no --fail-on: that would
# count the overridden tags too.  E: and W: are what must not be there.
lintian --show-overrides "$DEB_NEW" >"$LS_DIR/lintian.out" 2>&1
_rc=$?
grep -v 'running with root privileges' "$LS_DIR/lintian.out" >"$LS_DIR/lintian.txt"
! grep -q '^[EW]: ' "$LS_DIR/lintian.txt" && [ "$_rc" = 0 ]
check $? "lintian: no error, no warning (exit $_rc)" "$(cat "$LS_DIR/lintian.txt")"
diag "lintian says (overrides shown as O:, each with its reason in the override file):" \
    "$(cat "$LS_DIR/lintian.txt")"

# ======================================================== the file list ===
# dpkg-deb -c as "mode owner path", man pages apart (they are checked
# below once man/ is in the tree).
dpkg-deb -c "$DEB_NEW" | awk '{ print $1, $2, $6 }' | grep -v ' \./usr/share/man/' >"$LS_DIR/contents"
cat >"$LS_DIR/contents.want" <<'EOF'
drwxr-xr-x root/root ./
drwxr-xr-x root/root ./etc/
drwxr-xr-x root/root ./etc/m365-direct/
-rw-r--r-- root/root ./etc/m365-direct/m365-direct.conf
drwxr-xr-x root/root ./lib/
drwxr-xr-x root/root ./lib/systemd/
drwxr-xr-x root/root ./lib/systemd/system/
-rw-r--r-- root/root ./lib/systemd/system/m365-direct-update.service
-rw-r--r-- root/root ./lib/systemd/system/m365-direct-update.timer
drwxr-xr-x root/root ./usr/
drwxr-xr-x root/root ./usr/bin/
-rwxr-xr-x root/root ./usr/bin/m365-direct
drwxr-xr-x root/root ./usr/lib/
drwxr-xr-x root/root ./usr/lib/squid/
-rwxr-xr-x root/root ./usr/lib/squid/ext_m365_acl
drwxr-xr-x root/root ./usr/lib/sysusers.d/
-rw-r--r-- root/root ./usr/lib/sysusers.d/m365-direct.conf
drwxr-xr-x root/root ./usr/lib/tmpfiles.d/
-rw-r--r-- root/root ./usr/lib/tmpfiles.d/m365-direct.conf
drwxr-xr-x root/root ./usr/share/
drwxr-xr-x root/root ./usr/share/bash-completion/
drwxr-xr-x root/root ./usr/share/bash-completion/completions/
-rw-r--r-- root/root ./usr/share/bash-completion/completions/m365-direct
drwxr-xr-x root/root ./usr/share/doc/
drwxr-xr-x root/root ./usr/share/doc/m365-direct/
-rw-r--r-- root/root ./usr/share/doc/m365-direct/README.md.gz
-rw-r--r-- root/root ./usr/share/doc/m365-direct/changelog.gz
-rw-r--r-- root/root ./usr/share/doc/m365-direct/copyright
drwxr-xr-x root/root ./usr/share/doc/m365-direct/examples/
-rw-r--r-- root/root ./usr/share/doc/m365-direct/examples/on-change
-rw-r--r-- root/root ./usr/share/doc/m365-direct/examples/on-change.conf
-rw-r--r-- root/root ./usr/share/doc/m365-direct/examples/prometheus.conf
EOF
if [ ! -e man/m365-direct.8 ]; then
    # lintian's no-manual-page, overridden while man/ is not in the tree
    cat >>"$LS_DIR/contents.want" <<'EOF'
drwxr-xr-x root/root ./usr/share/lintian/
drwxr-xr-x root/root ./usr/share/lintian/overrides/
-rw-r--r-- root/root ./usr/share/lintian/overrides/m365-direct
EOF
fi
cat >>"$LS_DIR/contents.want" <<'EOF'
drwxr-xr-x root/root ./usr/share/m365-direct/
drwxr-xr-x root/root ./usr/share/m365-direct/haproxy/
-rw-r--r-- root/root ./usr/share/m365-direct/haproxy/m365-direct-http.cfg
-rw-r--r-- root/root ./usr/share/m365-direct/haproxy/m365-direct-tcp.cfg
drwxr-xr-x root/root ./usr/share/m365-direct/nginx/
-rw-r--r-- root/root ./usr/share/m365-direct/nginx/m365-direct-geoip2.conf
drwxr-xr-x root/root ./usr/share/m365-direct/squid/
-rw-r--r-- root/root ./usr/share/m365-direct/squid/m365-direct-auth.conf
-rw-r--r-- root/root ./usr/share/m365-direct/squid/m365-direct-sslbump.conf
-rw-r--r-- root/root ./usr/share/m365-direct/squid/m365-direct-static.conf
-rw-r--r-- root/root ./usr/share/m365-direct/squid/m365-direct.conf
EOF
diff "$LS_DIR/contents.want" "$LS_DIR/contents" >"$LS_DIR/contents.diff"
check $? "dpkg-deb -c: exactly the expected files, all root-owned, programs 0755, the rest 0644, directories 0755" \
    "$(cat "$LS_DIR/contents.diff")"
diag "dpkg-deb -c $DEB_NEW:" "$(dpkg-deb -c "$DEB_NEW")"
if [ -e man/m365-direct.8 ]; then
    dpkg-deb -c "$DEB_NEW" | awk '{ print $1, $2, $6 }' | grep ' \./usr/share/man/' | grep -v '/$' |
        LC_ALL=C sort >"$LS_DIR/man.list"
    printf '%s\n' '-rw-r--r-- root/root ./usr/share/man/man5/m365-direct.conf.5.gz' \
        '-rw-r--r-- root/root ./usr/share/man/man8/ext_m365_acl.8.gz' \
        '-rw-r--r-- root/root ./usr/share/man/man8/m365-direct.8.gz' >"$LS_DIR/man.want"
    diff "$LS_DIR/man.want" "$LS_DIR/man.list" >"$LS_DIR/man.diff"
    check $? "the three manual pages, compressed, 0644" "$(cat "$LS_DIR/man.diff")"
else
    skip "man/ is not in the tree yet: no manual pages to find in the package"
fi
[ "$(dpkg-deb -f "$DEB_NEW" Version)" = "$V_NEW" ] &&
    [ "$(dpkg-deb --ctrl-tarfile "$DEB_NEW" | tar -xOf - ./conffiles)" = "$CONF" ] &&
    dpkg-deb -f "$DEB_NEW" Depends | grep -q 'systemd | systemd-standalone-sysusers'
check $? "control: version $V_NEW, $CONF the one conffile, depends on systemd-sysusers" \
    "$(dpkg-deb -f "$DEB_NEW")"

# ================================================= install the old one ===
PROXY_BEFORE=$(tree_sum $PROXY_CONFIGS)
# a purge keeps the user: an earlier run on this machine may have made it
if getent passwd m365-direct >/dev/null; then
    USER_WHY="kept from an earlier install, as purge leaves it"
else
    USER_WHY="made by systemd-sysusers now"
fi
apt_get install "$LS_DIR/debs/${PKG}_${V_OLD}_$ARCH.deb" >"$LS_DIR/apt-old.log" 2>&1
_rc=$?
[ "$_rc" = 0 ] && [ "$(pkg_version)" = "$V_OLD" ] && [ "$(pkg_status)" = ii ] &&
    [ "$(/usr/bin/m365-direct --version)" = "m365-direct $V_OLD" ]
check $? "apt-get install ./${PKG}_${V_OLD}_$ARCH.deb: installed, m365-direct --version says $V_OLD" \
    "exit $_rc" "$(tail -n 15 "$LS_DIR/apt-old.log")"
PW=$(getent passwd m365-direct)
_uid=$(printf '%s' "$PW" | cut -d: -f3)
[ -n "$PW" ] && [ "$_uid" -lt 1000 ] && [ "$_uid" -gt 0 ] &&
    [ "$(printf '%s' "$PW" | cut -d: -f6-7)" = "/nonexistent:/usr/sbin/nologin" ] &&
    [ "$(id -gn m365-direct)" = m365-direct ]
check $? "the system user m365-direct (uid $_uid, group m365-direct, no home, no shell; $USER_WHY)" \
    "passwd: $PW"
UID_FIRST=$_uid
[ "$(stat_line $STATE)" = "755 m365-direct:m365-direct $STATE" ]
check $? "the state directory $STATE: owned by m365-direct, mode 0755" "$(stat_line $STATE)"
[ "$(readlink /etc/systemd/system/timers.target.wants/m365-direct-update.timer)" = "$TIMER" ]
check $? "the timer is enabled (timers.target.wants/m365-direct-update.timer -> $TIMER)" \
    "$(ls -l /etc/systemd/system/timers.target.wants/ 2>&1)"
_invoked=$(grep -h 'deb-systemd-invoke\|deb-systemd-helper enable' /var/lib/dpkg/info/$PKG.postinst |
    grep -o "'[^']*'" | sort -u | tr '\n' ' ')
! find /etc/systemd/system -name 'm365-direct-update.service' | grep -q . &&
    [ "$_invoked" = "'m365-direct-update.timer' " ]
check $? "the service is neither enabled nor started by the package: postinst enables and starts only the timer" \
    "units in postinst: $_invoked" "$(find /etc/systemd/system -name 'm365-direct*')"
PROXY_AFTER=$(tree_sum $PROXY_CONFIGS)
[ "$PROXY_BEFORE" = "$PROXY_AFTER" ]
check $? "installing changed nothing in /etc/squid, /etc/haproxy, /etc/nginx: a running proxy is untouched" \
    "$(printf '%s\n' "$PROXY_BEFORE" >"$LS_DIR/p1"; printf '%s\n' "$PROXY_AFTER" >"$LS_DIR/p2"; diff "$LS_DIR/p1" "$LS_DIR/p2")"

# ============================================ the stand-in for Microsoft ===
_ossl() { openssl "$@" >>"$F/openssl.log" 2>&1; }
_ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$F/ca.key" -out "$F/ca.pem" -days 2 -subj "/CN=m365-direct package test CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
    printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
        >"$F/server.ext" &&
    _ossl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$F/server.key" -out "$F/server.csr" -subj "/CN=127.0.0.1" &&
    _ossl x509 -req -in "$F/server.csr" -CA "$F/ca.pem" -CAkey "$F/ca.key" \
        -CAcreateserial -out "$F/server.pem" -days 2 -extfile "$F/server.ext"
_rc=$?
# The data it serves: the real worldwide file, plus test names in Allow set
# 12 (TCP 80,443), so that Squid going direct for them shows the helper
# reads what the unit installed, not its bundled snapshot.
"$LS_PY" - "$M365_ROOT/tests/data/worldwide-c2025.json" "$F/v1.json" <<'EOF'
import json, sys
sets = json.load(open(sys.argv[1]))
s12 = next(s for s in sets if s["id"] == 12)
s12["urls"] += ["login.example.org", "www.example.com"]
json.dump(sets, open(sys.argv[2], "w"), indent=1)
EOF
printf '{"latest": "%s", "data": "%s"}\n' "$V1" "$F/v1.json" >"$F/control.json"
chmod -R a+rX "$F"
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
[ "$_rc" = 0 ] && [ -n "$PORT" ]
check $? "the HTTPS stand-in for Microsoft's service runs on 127.0.0.1:${PORT:-?} (test CA)" \
    "$(cat "$F/openssl.log" "$F/server.out" 2>/dev/null | tail -n 10)"

# The admin's edits, in the conffile: where to fetch, the CA, and on_change
# (one line) mirroring each change to a directory the updater owns.
chown m365-direct:m365-direct "$LS_DIR/mirror"
cat >>"$CONF" <<EOF

# --- package.t: the loopback stand-in for Microsoft's service ---
base_url = https://127.0.0.1:$PORT
ca_file = $F/ca.pem
timeout = 5
retries = 1
retry_delay = 0.1
on_change = /usr/bin/m365-direct mirror -o $LS_DIR/mirror
EOF
/usr/bin/m365-direct config-test >"$LS_DIR/config-test.out" 2>&1
check $? "m365-direct config-test accepts the edited conffile" "$(cat "$LS_DIR/config-test.out")"

# ============================================ the unit's ExecStart, run ===
# run_unit: the installed service's ExecStart as systemd runs it: as its
# User= and Group= with the user's groups, no capability (an empty
# CapabilityBoundingSet=), no new privileges, its UMask=, in /, stdin
# /dev/null, systemd's environment for a system service (PATH, HOME, USER,
# LOGNAME, SHELL, STATE_DIRECTORY for StateDirectory=).  The namespaces of
# ProtectSystem= and friends need a running systemd, which this machine has
# not: systemd-analyze checks those.  Sets RC, ERR.
unit_key() { sed -n "s/^$1=//p" "$UNIT"; }
run_unit() {
    _exec=$(unit_key ExecStart)
    _user=$(unit_key User)
    _group=$(unit_key Group)
    _umask=$(unit_key UMask)
    case $_exec in
    /*) ;;
    *) RC=99 ERR="ExecStart= is not a plain absolute command: '$_exec'"; return ;;
    esac
    # shellcheck disable=SC2086
    (cd / && umask "$_umask" && exec setpriv --reuid="$_user" --regid="$_group" --init-groups \
        --no-new-privs --bounding-set=-all --inh-caps=-all --ambient-caps=-all \
        env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/nonexistent USER="$_user" LOGNAME="$_user" SHELL=/usr/sbin/nologin \
        STATE_DIRECTORY="$STATE" $_exec) </dev/null >"$LS_DIR/unit.out" 2>"$LS_DIR/unit.err"
    RC=$?
    ERR=$(cat "$LS_DIR/unit.err")
}
[ "$(unit_key ExecStart)" = "/usr/bin/m365-direct update" ] && [ "$(unit_key User)" = m365-direct ] &&
    [ "$(unit_key UMask)" = 0022 ]
check $? "the unit runs /usr/bin/m365-direct update as m365-direct, umask 0022" "$(grep -E '^(ExecStart|User|Group|UMask)=' "$UNIT")"
run_unit
installed() { readlink "$STATE/endpoints.json"; }
[ "$RC" = 0 ] && [ "$(installed)" = "endpoints-$V1-Worldwide.json" ] &&
    cmp -s "$STATE/endpoints.json" "$F/v1.json"
check $? "ExecStart as the unit's user: the data from the stand-in is installed ($V1)" "exit $RC" "stderr: $ERR"
_bad=$(find "$STATE" -mindepth 1 \( ! -user m365-direct -o ! -group m365-direct -o \
    \( ! -type l -perm /022 \) \) -printf '%m %u:%g %p\n')
_data=$(stat_line "$STATE/endpoints-$V1-Worldwide.json")
[ -z "$_bad" ] && [ "$_data" = "644 m365-direct:m365-direct $STATE/endpoints-$V1-Worldwide.json" ]
check $? "every file it made is m365-direct's, none group- or world-writable; the data 0644" \
    "$_data" "$_bad" "$(ls -la "$STATE")"
runuser -u proxy -- /usr/bin/m365-direct status --json >"$LS_DIR/status.json" 2>"$LS_DIR/status.err"
grep -q "\"source\":\"cache\"" "$LS_DIR/status.json" && grep -q "\"version\":\"$V1\"" "$LS_DIR/status.json" &&
    printf 'login.example.org 443\n' | runuser -u proxy -- /usr/lib/squid/ext_m365_acl >"$LS_DIR/helper.out" 2>"$LS_DIR/helper.err" &&
    grep -q '^OK m365=direct m365_category=allow' "$LS_DIR/helper.out"
check $? "Squid's user proxy reads it: status shows the cache $V1, the packaged helper answers from it" \
    "status: $(cat "$LS_DIR/status.json" "$LS_DIR/status.err")" "helper: $(cat "$LS_DIR/helper.out" "$LS_DIR/helper.err")"
[ "$(sed -n 's/.*"latest":"\([0-9]*\)".*/\1/p' "$LS_DIR/mirror/version/Worldwide" 2>/dev/null)" = "$V1" ] &&
    cmp -s "$LS_DIR/mirror/endpoints/Worldwide" "$F/v1.json" &&
    [ "$(stat -c %U "$LS_DIR/mirror/endpoints/Worldwide")" = m365-direct ]
check $? "on_change (one conffile line) ran as m365-direct: the mirror holds $V1" \
    "$(ls -lR "$LS_DIR/mirror")" "stderr: $ERR"
run_unit
[ "$RC" = 0 ] && printf '%s\n' "$ERR" | grep -q "Worldwide version $V1 is current"
check $? "run again: the version is current, exit 0" "exit $RC" "stderr: $ERR"

# ============================================================ upgrade ===
CONF_BEFORE=$(md5sum <"$CONF")
STATE_BEFORE=$(tree_sum "$STATE")
apt_get install "$LS_DIR/debs/${PKG}_${V_NEW}_$ARCH.deb" >"$LS_DIR/apt-new.log" 2>&1
_rc=$?
[ "$_rc" = 0 ] && [ "$(pkg_version)" = "$V_NEW" ] && [ "$(/usr/bin/m365-direct --version)" = "m365-direct $V_NEW" ] &&
    [ "$(/usr/lib/squid/ext_m365_acl --version 2>&1)" = "ext_m365_acl $V_NEW" ]
check $? "apt-get install ./${PKG}_${V_NEW}_$ARCH.deb upgrades $V_OLD to $V_NEW (both programs say so)" \
    "exit $_rc" "$(tail -n 15 "$LS_DIR/apt-new.log")" "$(/usr/lib/squid/ext_m365_acl --version 2>&1)"
[ "$(md5sum <"$CONF")" = "$CONF_BEFORE" ] && grep -q "^base_url = https://127.0.0.1:$PORT\$" "$CONF"
check $? "the edited conffile survived the upgrade" "$(tail -n 8 "$CONF")"
[ "$(tree_sum "$STATE")" = "$STATE_BEFORE" ]
check $? "the state directory survived the upgrade, byte for byte, owners and modes" \
    "before:" "$STATE_BEFORE" "after:" "$(tree_sum "$STATE")"
[ "$(id -u m365-direct)" = "$UID_FIRST" ] &&
    [ "$(readlink /etc/systemd/system/timers.target.wants/m365-direct-update.timer)" = "$TIMER" ]
check $? "the same user (uid $UID_FIRST), the timer still enabled" "$(getent passwd m365-direct)"

# ====================================================== systemd-analyze ===
# Documentation=man:… is checked by running man, so only once the manual
# pages are in the tree.
if man -w 8 m365-direct >/dev/null 2>&1; then MANOPT="" MANWHY=""; else MANOPT="--man=no" MANWHY=" (--man=no: the manual pages are not in the tree yet)"; fi
# shellcheck disable=SC2086
systemd-analyze verify $MANOPT "$UNIT" "$TIMER" >"$LS_DIR/verify.out" 2>&1
_rc=$?
[ "$_rc" = 0 ] && [ ! -s "$LS_DIR/verify.out" ]
check $? "systemd-analyze verify: the installed service and timer, no message$MANWHY" \
    "exit $_rc" "$(cat "$LS_DIR/verify.out")"
systemd-analyze security --offline=yes "$UNIT" >"$LS_DIR/security.out" 2>&1
SCORE=$(sed -n 's/.*Overall exposure level for m365-direct-update.service: \([0-9.]*\).*/\1/p' "$LS_DIR/security.out")
[ -n "$SCORE" ] && awk -v s="$SCORE" 'BEGIN { exit !(s < 2.0) }'
check $? "systemd-analyze security: exposure ${SCORE:-?} (below 2.0)" "$(tail -n 5 "$LS_DIR/security.out")"
diag "systemd-analyze security --offline=yes, what is left exposed:" \
    "$(grep -E '✗|Overall' "$LS_DIR/security.out")"
sed -n 's/^OnCalendar=//p; s/^RandomizedDelaySec=//p; s/^Persistent=//p' "$TIMER" | tr '\n' ' ' |
    grep -qx 'hourly 45min true '
check $? "the timer: hourly, a random delay of up to 45 min, persistent" "$(grep -v '^#' "$TIMER")"

# The example drop-ins, installed as their comments say: still valid units.
mkdir -p "$DROPIN_DIR" && DROPINS_MADE=1 &&
    cp /usr/share/doc/m365-direct/examples/on-change.conf /usr/share/doc/m365-direct/examples/prometheus.conf "$DROPIN_DIR/"
# shellcheck disable=SC2086
systemd-analyze verify $MANOPT "$UNIT" >"$LS_DIR/verify-dropins.out" 2>&1
_rc=$?
sh -n /usr/share/doc/m365-direct/examples/on-change 2>>"$LS_DIR/verify-dropins.out" &&
    [ "$_rc" = 0 ] && [ ! -s "$LS_DIR/verify-dropins.out" ]
check $? "systemd-analyze verify with the example drop-ins (on-change.conf, prometheus.conf); the example on-change script parses" \
    "exit $_rc" "$(cat "$LS_DIR/verify-dropins.out")"
systemd-analyze security --offline=yes "$UNIT" 2>&1 | grep 'Overall' | sed 's/^/# with the drop-ins: /'
# prometheus.conf's ExecStopPost=, run as the unit's user into the
# collector's directory, given write access the way its comment says.
if [ ! -d "$PROM_DIR" ]; then
    mkdir -p "$PROM_DIR" && PROM_MADE=1
fi
setfacl -m u:m365-direct:rwx "$PROM_DIR" && PROM_ACL_SET=1
_post=$(sed -n 's/^ExecStopPost=//p' "$DROPIN_DIR/prometheus.conf")
# shellcheck disable=SC2086
(cd / && umask 0022 && exec setpriv --reuid=m365-direct --regid=m365-direct --init-groups \
    --no-new-privs --bounding-set=-all env -i PATH=/usr/sbin:/usr/bin $_post) \
    </dev/null >"$LS_DIR/prom.out" 2>&1
_rc=$?
[ "$_rc" = 0 ] && grep -q "^m365_direct_data_info{source=\"cache\",version=\"$V1\",instance=\"Worldwide\"} 1\$" "$PROM_DIR/m365-direct.prom" &&
    grep -q '^m365_direct_last_update_ok 1$' "$PROM_DIR/m365-direct.prom"
check $? "prometheus.conf's ExecStopPost= as m365-direct writes the textfile: data $V1, last update ok" \
    "command: $_post" "exit $_rc $(cat "$LS_DIR/prom.out")" "$(cat "$PROM_DIR/m365-direct.prom" 2>/dev/null)"
rm -f "$PROM_DIR/m365-direct.prom"
setfacl -x u:m365-direct "$PROM_DIR" && PROM_ACL_SET=""
[ -n "${PROM_MADE:-}" ] && rmdir "$PROM_DIR" /var/lib/prometheus 2>/dev/null && PROM_MADE=""
rm -f "$DROPIN_DIR/on-change.conf" "$DROPIN_DIR/prometheus.conf" && rmdir "$DROPIN_DIR" && DROPINS_MADE=""

# ==================================================== man, completion ===
if [ -e man/ext_m365_acl.8 ]; then
    _m=$(man -w ext_m365_acl 2>&1) && _m2=$(man -w m365-direct 2>&1) && _m5=$(man -w 5 m365-direct.conf 2>&1)
    check $? "man -w finds ext_m365_acl(8), m365-direct(8), m365-direct.conf(5)" "$_m" "${_m2:-}" "${_m5:-}"
else
    skip "man/ is not in the tree yet: man -w ext_m365_acl has no page to find"
fi
# complete WORDS...: what the installed completion offers for the last word
complete_words() {
    bash -c '. /usr/share/bash-completion/completions/m365-direct
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _m365_direct; echo "${COMPREPLY[*]}"' bash "$@"
}
HELP_CMDS=$(/usr/bin/m365-direct --help | sed -n '/^Commands:/,/^Options:/p' | sed -n 's/^  \([a-z][a-z-]*\).*/\1/p' | sort | tr '\n' ' ')
COMP_CMDS=$(complete_words m365-direct "" | tr ' ' '\n' | sort | tr '\n' ' ')
[ "$HELP_CMDS" = "$COMP_CMDS" ] && [ "$(complete_words m365-direct mi)" = mirror ] &&
    [ "$(complete_words m365-direct -c /dev/null export "")" = "squid haproxy pac mmdb" ] &&
    [ "$(complete_words m365-direct update --instance USGovG)" = USGovGCCHigh ]
check $? "bash completion: the commands of --help ($HELP_CMDS), their options and values" \
    "--help: $HELP_CMDS" "completion: $COMP_CMDS" "mi: $(complete_words m365-direct mi)"

# ====================================== Squid, the documented way, live ===
# configs/squid/m365-direct.conf, as the README says: one link into
# /etc/squid/conf.d (the stock squid.conf includes conf.d/*.conf before
# "http_access allow localhost"), then squid -k parse.  The Squid is the
# system's own squid.conf; the test adds only its parent, its hosts file
# and files of its own, in a file that includes it.
ln -s /usr/share/m365-direct/squid/m365-direct.conf "$SNIPPET_LINK"
check $? "ln -s /usr/share/m365-direct/squid/m365-direct.conf $SNIPPET_LINK"
ls_start_origin || { echo "Bail out! origin server did not start"; exit 1; }
ls_start_parent || { echo "Bail out! parent Squid did not start"; exit 1; }
CHILD_PORT=$(sed -n 's/^http_port \([0-9]*\)$/\1/p' /etc/squid/squid.conf | head -n 1)
cat >"$LS_DIR/child/squid.conf" <<EOF
# The system's configuration, with the packaged snippet in conf.d:
include /etc/squid/squid.conf
# What the test adds: the parent, the test's names, its own files.
cache_peer 127.0.0.1 parent $PARENT_PORT 0 no-query default name=parent
hosts_file $LS_DIR/hosts
dns_nameservers 127.0.0.1
visible_hostname child.m365-test.invalid
pid_filename $LS_DIR/child/squid.pid
cache_log $LS_DIR/child/cache.log
logformat m365test %ts.%03tu %rm %ru %>Hs %Ss %Sh %<a %{m365}note %{m365_category}note
access_log stdio:$LS_DIR/child/access.log logformat=m365test
coredump_dir $LS_DIR/child
pinger_enable off
shutdown_lifetime 1 second
EOF
squid -k parse -f "$LS_DIR/child/squid.conf" >"$LS_DIR/parse.out" 2>&1
_rc=$?
[ "$_rc" = 0 ] && ! grep -E 'ERROR|WARNING|FATAL' "$LS_DIR/parse.out" >/dev/null &&
    grep -q "Processing Configuration File: $SNIPPET_LINK" "$LS_DIR/parse.out"
check $? "squid -k parse: the system's squid.conf reads the linked snippet, no ERROR or WARNING" \
    "exit $_rc" "$(grep -v 'Startup:' "$LS_DIR/parse.out" | tail -n 15)"
if ls_run_squid child "$CHILD_PORT"; then
    want_route DIRECT "GET outlook.office365.com (Optimize)" \
        GET http://outlook.office365.com/pkg1 http://outlook.office365.com/pkg1
    want_route DIRECT "GET login.example.org (only in the data the unit installed)" \
        GET http://login.example.org/pkg1 http://login.example.org/pkg1
    want_route DIRECT "CONNECT 13.107.6.152:443 (an Optimize address)" \
        CONNECT 13.107.6.152:443 -p http://13.107.6.152:443/pkg1
    want_route PARENT "GET intranet.example.net (not Microsoft 365)" \
        GET http://intranet.example.net/pkg1 http://intranet.example.net/pkg1
    _exes=""
    for p in $(ls_helper_pids); do
        _exes="$_exes $(readlink "/proc/$p/exe")"
    done
    _exes=$(printf '%s\n' $_exes | sort -u | tr '\n' ' ')
    # (the helper says nothing when it loads the cache at start, but warns
    # when it has to use its bundled snapshot instead)
    [ "$_exes" = "/usr/lib/squid/ext_m365_acl " ] &&
        ! grep -q 'ext_m365_acl: .*\(snapshot\|fail\)' "$LS_DIR/child/cache.log"
    check $? "the helpers Squid runs are the packaged /usr/lib/squid/ext_m365_acl, on the cache in $STATE" \
        "helper executables: $_exes" "$(grep 'ext_m365_acl' "$LS_DIR/child/cache.log" | tail -n 5)"
    ls_stop_pid "$CHILD_PID"
else
    for _i in 1 2 3 4 5; do not_ok "Squid from /etc/squid/squid.conf did not start"; done
fi
rm -f "$SNIPPET_LINK"

# ======================================================= remove, purge ===
dpkg -L "$PKG" | LC_ALL=C sort >"$LS_DIR/dpkg-L"
apt_get remove "$PKG" >"$LS_DIR/apt-remove.log" 2>&1
_rc=$?
[ "$_rc" = 0 ] && [ "$(pkg_status)" = rc ] && [ ! -e /usr/bin/m365-direct ] &&
    [ ! -e /usr/lib/squid/ext_m365_acl ] && [ ! -e "$UNIT" ]
check $? "apt-get remove: the programs and units are gone (status rc)" "exit $_rc" \
    "$(tail -n 10 "$LS_DIR/apt-remove.log")"
[ "$(md5sum <"$CONF")" = "$CONF_BEFORE" ] && [ "$(installed)" = "endpoints-$V1-Worldwide.json" ] &&
    [ "$(tree_sum "$STATE")" = "$STATE_BEFORE" ] && getent passwd m365-direct >/dev/null
check $? "remove keeps the edited configuration, the state directory with its data, the user" \
    "$(ls -la "$STATE" 2>&1)"
apt_get purge "$PKG" >"$LS_DIR/apt-purge.log" 2>&1
_rc=$?
_left=""
while IFS= read -r p; do
    [ -e "$p" ] || [ -L "$p" ] || continue
    # a directory stays when it holds what is not ours (/, /usr/bin, the
    # /lib link): anything of ours left in it is in this list too
    if [ -d "$p" ] && [ -n "$(ls -A "$p/" 2>/dev/null)" ]; then
        continue
    fi
    _left="$_left $p"
done <"$LS_DIR/dpkg-L"
for p in "$STATE" /etc/m365-direct /usr/share/m365-direct /usr/share/doc/m365-direct \
    /etc/systemd/system/timers.target.wants/m365-direct-update.timer \
    /var/lib/systemd/deb-systemd-helper-enabled/m365-direct-update.timer.dsh-also \
    /var/lib/systemd/deb-systemd-helper-enabled/timers.target.wants/m365-direct-update.timer; do
    [ -e "$p" ] || [ -L "$p" ] && _left="$_left $p"
done
[ "$_rc" = 0 ] && [ -z "$(pkg_status)" -o "$(pkg_status)" = un ] && [ -z "$_left" ]
check $? "apt-get purge: no file of the package is left ($(wc -l <"$LS_DIR/dpkg-L") paths of dpkg -L checked), nor the state, the configuration, the timer's links" \
    "exit $_rc, status '$(pkg_status)'" "left:$_left" "$(tail -n 10 "$LS_DIR/apt-purge.log")"
getent passwd m365-direct >/dev/null
check $? "the system user m365-direct stays after purge (Debian keeps system users: a reused uid would inherit what it owned)"
[ "$(tree_sum $PROXY_CONFIGS)" = "$PROXY_BEFORE" ]
check $? "/etc/squid, /etc/haproxy, /etc/nginx are as before the test"

[ "$T" = "$PLAN" ] || echo "# planned $PLAN, ran $T"
[ "$FAILS" = 0 ] && [ "$T" = "$PLAN" ]
