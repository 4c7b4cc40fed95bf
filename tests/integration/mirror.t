#!/usr/bin/perl
# m365-direct mirror -o DIR (a fleet polls one machine instead of
# Microsoft): the mirror host updates over HTTPS from
# tests/integration/endpoints_server.py (the stand-in for Microsoft's
# service, certificates from a test CA made here), writes its cache with
# "mirror", and branch state directories update from that directory, by
# file:// and by HTTPS from the same server serving the directory as static
# files (its static_root).  A branch must install byte for byte the data
# the mirror host has, under the same version; a second mirror run changes
# nothing; a directory that cannot be written is a one-line error, exit 1,
# and what it held stays whole.  TAP output.
#
#   prove -v -e '' tests/integration/mirror.t      (from the repo root)
#   M365_KEEP=1 ...  keeps the temp dir and says where
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use Tap;
use Stand;
use Cwd qw(getcwd);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);

$SIG{$_} = sub { exit 1 } for qw(INT TERM HUP);
chdir(dirname(__FILE__) . '/../..') or die "chdir: $!";
my $ROOT   = getcwd();
my $B      = $ENV{M365_BUILD} || 'build/rel';
my $CLI    = "$ROOT/$B/m365-direct";
my $PY     = '/usr/bin/python3';
my $SERVER = "$ROOT/tests/integration/endpoints_server.py";
my $WW     = "$ROOT/tests/data/worldwide-c2025.json";
my $WW22   = "$ROOT/tests/data/worldwide-c2022.json";
my $TMP    = tempdir('m365-mirror-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{M365_KEEP});
diag("temp dir kept: $TMP") if $ENV{M365_KEEP};
# 'nobody' must reach the state directories (the unwritable case runs as it)
chmod 0755, $TMP;
my ($V1, $V2) = ('2025110700', '2025112000');

{
    my $why;
    if (!-x $CLI) {
        $why = "$CLI is built (run make)";
    } elsif (`$CLI --help 2>&1` !~ /\bmirror -o DIR\b/) {
        $why = "$CLI --help lists the mirror command";
    } elsif (!-x $PY) {
        $why = "$PY is installed";
    } elsif (system('openssl version >/dev/null 2>&1') != 0) {
        $why = 'the openssl command is installed';
    }
    if ($why) {
        print "1..1\nnot ok 1 - $why\n";
        exit 1;
    }
}
delete @ENV{qw(http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
    no_proxy NO_PROXY)};

# run(@argv): { rc, out, err, cmd }, at most 60 s
sub run {
    my (@argv) = @_;
    return run_cmd(argv => [@argv]);
}
sub show { my ($r) = @_; return ("command: $r->{cmd}", "exit $r->{rc}", "stdout: $r->{out}", "stderr: $r->{err}") }

# ------------------------------------------------------------ certificates
ok(make_ca($TMP, 'ca', 'm365-direct mirror test CA', "$TMP/openssl.log")
    && make_cert($TMP, 'server', 'ca', 'IP:127.0.0.1', "$TMP/openssl.log"),
    'openssl made a test CA and a server certificate for 127.0.0.1', slurp("$TMP/openssl.log"));

# ------------------------------------------------------------------ server
my $CONTROL = "$TMP/control.json";
my $SLOG    = "$TMP/server.log";
sub control {
    my (%c) = @_;
    spew("$CONTROL.tmp", JSON::PP->new->canonical->encode(\%c));
    rename("$CONTROL.tmp", $CONTROL) or die;
}
my $M = "$TMP/mirror";           # what the mirror host writes, the server serves
control(latest => $V1, data => $WW, static_root => $M);
my $PORT;
{
    my $ports = start_server(python => $PY, server => $SERVER,
        control => $CONTROL, log => $SLOG, dir => $TMP,
        listen => [ "good=tls,$TMP/server.pem,$TMP/server.key" ]);
    $PORT = $ports ? $ports->{good} : undef;
    if (!$PORT) {
        print "not ok 2 - endpoints_server.py started\n1..2\n";
        diag(slurp("$TMP/server.out"));
        exit 1;
    }
}
my $MSFT   = "https://127.0.0.1:$PORT";         # the stand-in for Microsoft
my $STATIC = "https://127.0.0.1:$PORT/static";  # a web server serving $M

# ----------------------------------------------------------------- helpers
sub state { my $d = "$TMP/$_[0]"; mkdir $d unless -d $d; chmod 0755, $d; return $d }
sub update {
    my ($dir, $base) = @_;
    return run($CLI, '-c', '/dev/null', '--state-dir', $dir, 'update', '--base-url', $base,
        '--ca-file', "$TMP/ca.pem", '--retry-delay', '0.05', '--timeout', '5');
}
sub mirror { my ($dir, $out, @pre) = @_; return run(@pre, $CLI, '-c', '/dev/null', '--state-dir', $dir, 'mirror', '-o', $out) }
sub installed { my $l = readlink("$_[0]/endpoints.json") // ''; return $l =~ /^endpoints-(\d{10})-(\w+)\.json$/ ? "$1 $2" : "(none: '$l')" }
sub ident { my @s = stat($_[0]); return @s ? "$s[1] $s[9] " . ($s[2] & 07777) : 'missing' }
sub oneline { my ($r) = @_; my @l = split /\n/, $r->{err}; return @l == 1 ? $l[0] : undef }
my $VERSION_RE = sub { my $v = shift; qr/\A\{"instance":"Worldwide","latest":"$v"\}\n\z/ };

# ------------------------------------------------- the mirror host, V1
my $A = state('hq');
my $r = update($A, $MSFT);
ok($r->{rc} == 0 && installed($A) eq "$V1 Worldwide",
    "mirror host: update over HTTPS from the stand-in installs $V1", show($r));

$r = mirror($A, $M);
my $line = oneline($r);
ok($r->{rc} == 0 && $r->{out} eq '' && defined $line
    && $line eq "m365-direct: mirrored Worldwide version $V1 (64 endpoint sets) to $M: "
        . 'endpoints/Worldwide written, version/Worldwide written',
    'mirror -o DIR: exit 0, one line on stderr naming the version and both files written', show($r));
ok(slurp("$M/endpoints/Worldwide") eq slurp("$A/endpoints.json") && slurp($WW) eq slurp("$M/endpoints/Worldwide"),
    'DIR/endpoints/Worldwide is the cached data byte for byte');
my $vtext = slurp("$M/version/Worldwide");
my $vjson = eval { decode_json($vtext) };
ok($vtext =~ $VERSION_RE->($V1) && ref $vjson eq 'HASH' && $vjson->{latest} eq $V1,
    "DIR/version/Worldwide is the web service's answer: latest $V1", "got: $vtext");
my @modes = map { sprintf('%s %04o', $_, (stat("$M/$_"))[2] & 07777) }
    ('.', 'version', 'endpoints', 'version/Worldwide', 'endpoints/Worldwide');
ok(join(',', @modes) eq '. 0755,version 0755,endpoints 0755,version/Worldwide 0644,endpoints/Worldwide 0644',
    'directories 0755, files 0644 (a web server and every branch can read them)', @modes);
opendir(my $dh, "$M/endpoints") or die;
my @left = grep { !/^\.\.?\z/ && $_ ne 'Worldwide' } readdir $dh;
ok(!@left, 'no temporary file left beside the data', @left);

# ------------------------------------------------- branches from the mirror
my $BF = state('branch-file');
$r = update($BF, "file://$M");
ok($r->{rc} == 0 && installed($BF) eq "$V1 Worldwide" && slurp("$BF/endpoints.json") eq slurp("$A/endpoints.json"),
    "branch (base_url = file://DIR): update installs the mirror host's data, version $V1", show($r),
    'installed: ' . installed($BF));
my $BH = state('branch-https');
my $mark = () = split /\n/, slurp($SLOG);
$r = update($BH, $STATIC);
my @log = split /\n/, slurp($SLOG);
my @reqs = grep { ($_->{kind} // '') eq 'static' } map { eval { decode_json($_) } || {} }
    @log[$mark .. $#log];
my @paths = map { $_->{path} } @reqs;
ok($r->{rc} == 0 && installed($BH) eq "$V1 Worldwide" && slurp("$BH/endpoints.json") eq slurp("$A/endpoints.json")
    && "@paths" eq '/static/version/Worldwide /static/endpoints/Worldwide',
    'branch (base_url = https://… serving DIR): the same data and version, from /version then /endpoints '
    . '(query strings ignored by the static server)', show($r), "requests: @paths");
$r = run($CLI, '-c', '/dev/null', '--state-dir', $BF, 'status', '--json');
my $st = eval { decode_json($r->{out}) } || {};
ok(($st->{version} // '') eq $V1 && ($st->{instance} // '') eq 'Worldwide' && ($st->{source} // '') eq 'cache',
    "branch status: cache, Worldwide, version $V1", show($r));

# ------------------------------------------------- idempotent
my %before = map { $_ => ident("$M/$_") } qw(version/Worldwide endpoints/Worldwide);
sleep 1.1;      # a rewrite would show in the mtime
$r = mirror($A, $M);
$line = oneline($r);
my %after = map { $_ => ident("$M/$_") } qw(version/Worldwide endpoints/Worldwide);
ok($r->{rc} == 0 && defined $line && $line =~ /endpoints\/Worldwide unchanged, version\/Worldwide unchanged\z/
    && join(',', %before{sort keys %before}) eq join(',', %after{sort keys %after})
    && slurp("$M/version/Worldwide") eq $vtext,
    'a second mirror run: exit 0, says unchanged, leaves both files as they were (same inode, mtime, bytes)',
    show($r), map { "$_: $before{$_} -> $after{$_}" } sort keys %before);
$r = update($BF, "file://$M");
ok($r->{rc} == 0 && $r->{err} =~ /Worldwide version $V1 is current/,
    'the branch then finds its version current', show($r));

# ------------------------------------------------- V2 flows through
control(latest => $V2, data => $WW22, static_root => $M);
$r = update($A, $MSFT);
ok($r->{rc} == 0 && installed($A) eq "$V2 Worldwide", "mirror host installs $V2", show($r));
my $old_data = slurp("$M/endpoints/Worldwide");
$r = mirror($A, $M);
$line = oneline($r);
ok($r->{rc} == 0 && defined $line && $line =~ /version $V2 \(107 endpoint sets\).*endpoints\/Worldwide written, version\/Worldwide written\z/
    && slurp("$M/version/Worldwide") =~ $VERSION_RE->($V2) && slurp("$M/endpoints/Worldwide") eq slurp($WW22),
    "mirror writes $V2: new data and version", show($r));
$r = update($BF, "file://$M");
ok($r->{rc} == 0 && installed($BF) eq "$V2 Worldwide" && slurp("$BF/endpoints.json") eq slurp($WW22)
    && $r->{out} =~ /\S/,
    "branch (file://) installs $V2 with its change report", show($r));
$r = update($BH, $STATIC);
ok($r->{rc} == 0 && installed($BH) eq "$V2 Worldwide" && slurp("$BH/endpoints.json") eq slurp($WW22),
    "branch (https://) installs $V2", show($r));

# ------------------------------------------------- failures
# An older mirror that an unprivileged user may not write: V1 still in it.
my $RO = "$TMP/mirror-ro";
mkdir $RO or die;
mkdir "$RO/$_" or die for qw(version endpoints);
spew("$RO/version/Worldwide", $vtext);
spew("$RO/endpoints/Worldwide", $old_data);
chmod 0644, "$RO/version/Worldwide", "$RO/endpoints/Worldwide";
my @as_other;
if ($> == 0) {
    @as_other = ('setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups');
    chmod 0755, $RO, "$RO/version", "$RO/endpoints";
} else {
    chmod 0555, $RO, "$RO/version", "$RO/endpoints";
}
$r = mirror($A, $RO, @as_other);
$line = oneline($r);
ok($r->{rc} == 1 && defined $line
    && $line =~ m{\Am365-direct: mirror failed: \Q$RO\E/endpoints/\.Worldwide\.[A-Za-z0-9]{6}: create: Permission denied\z}
    && slurp("$RO/endpoints/Worldwide") eq $old_data && slurp("$RO/version/Worldwide") eq $vtext,
    'a directory that cannot be written: exit 1, one line naming it and the reason; its files stay whole '
    . ($> == 0 ? '(run as nobody)' : '(mode 0555)'), show($r));
$r = mirror($A, "$RO/new", @as_other);
$line = oneline($r);
ok($r->{rc} == 1 && defined $line && $line eq "m365-direct: mirror failed: $RO/new: Permission denied"
    && !-e "$RO/new",
    'a directory that cannot be made: exit 1, one line', show($r));
spew("$TMP/a-file", "x\n");
$r = mirror($A, "$TMP/a-file");
$line = oneline($r);
ok($r->{rc} == 1 && defined $line && $line eq "m365-direct: mirror failed: $TMP/a-file: not a directory"
    && slurp("$TMP/a-file") eq "x\n",
    '-o naming a file: exit 1, "not a directory", the file untouched', show($r));
$r = mirror(state('empty'), "$TMP/never");
$line = oneline($r);
ok($r->{rc} == 1 && defined $line
    && $line eq "m365-direct: mirror failed: no cached data in $TMP/empty (run m365-direct update first)"
    && !-e "$TMP/never",
    'no cache: exit 1, says to run update first, writes nothing (the bundled snapshot has no version)', show($r));
my $NV = state('not-ours');
spew("$NV/endpoints.json", slurp($WW));
$r = mirror($NV, "$TMP/never");
$line = oneline($r);
ok($r->{rc} == 1 && defined $line && $line =~ /is not data installed by m365-direct update: its version is unknown\z/
    && !-e "$TMP/never",
    'a cache that is not a link to a versioned file: exit 1, version unknown, nothing written', show($r));
my $BAD = state('broken');
spew("$BAD/endpoints-2025110700-Worldwide.json", '[{"id": 1, "category": "Optimize"');
symlink('endpoints-2025110700-Worldwide.json', "$BAD/endpoints.json") or die;
$r = mirror($BAD, "$TMP/never");
ok($r->{rc} == 1 && !-e "$TMP/never" && $r->{err} =~ /mirror failed: .*endpoints\.json: /,
    'cached data that does not load is never passed on: exit 1', show($r));
$r = run($CLI, '-c', '/dev/null', '--state-dir', $A, 'mirror');
ok($r->{rc} == 2 && $r->{err} =~ /-o DIR is required/ && $r->{err} =~ /^usage: .* mirror -o DIR$/m,
    'mirror without -o: usage, exit 2', show($r));
$r = run($CLI, '-c', '/dev/null', '--data', $WW, 'mirror', '-o', "$TMP/never");
ok($r->{rc} == 2 && $r->{err} =~ /--data does not apply/ && !-e "$TMP/never",
    'mirror with --data: exit 2 (only the cache has a version)', show($r));
$r = run($CLI, '-c', '/dev/null', '--state-dir', $A, 'mirror', '-o', $M, 'extra');
ok($r->{rc} == 2 && $r->{err} =~ /unexpected argument/, 'an extra argument: exit 2', show($r));

tap_done();
