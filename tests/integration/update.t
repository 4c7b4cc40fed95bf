#!/usr/bin/perl
# m365-direct update, status and diff (DESIGN.md §2, §7; the feed issue)
# against a real HTTPS server on 127.0.0.1: tests/integration/endpoints_server.py
# with certificates from a test CA that openssl makes here, serving the real
# endpoint files of tests/data/ and variants generated from them below
# (newer versions, shrunk and poisoned data).  The fault matrix: each fault
# must exit 1, say why in one line on stderr and leave endpoints.json and
# version byte-identical; a SIGKILL in the middle of an install (strace
# holds the process at a syscall) and a failed write must never leave a
# partial file or a version that names data the directory does not have.
# TAP output.
#
#   prove -v -e '' tests/integration/update.t      (from the repo root)
#   M365_BUILD=build/san prove -e '' tests/integration/update.t
#   M365_KEEP=1 ...  keeps the temp dir (state dirs, server log) and says where
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use Tap;
use Stand;
use Cwd qw(getcwd);
use File::Basename qw(dirname);
use File::Copy qw(copy);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);

my $T_START = time;
# END blocks (stop the server, unmount the tmpfs) must run on a signal too
$SIG{$_} = sub { exit 1 } for qw(INT TERM HUP);
chdir(dirname(__FILE__) . '/../..') or die "chdir: $!";
my $ROOT   = getcwd();
my $B      = $ENV{M365_BUILD} || 'build/rel';
my $CLI    = "$ROOT/$B/m365-direct";
my $PY     = '/usr/bin/python3';
my $SERVER = "$ROOT/tests/integration/endpoints_server.py";
my $WW     = "$ROOT/tests/data/worldwide-c2025.json";
my $WW22   = "$ROOT/tests/data/worldwide-c2022.json";
my $CN     = "$ROOT/tests/data/china-c2025.json";
my $TMP    = tempdir('m365-update-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{M365_KEEP});
diag("temp dir kept: $TMP") if $ENV{M365_KEEP};

# The versions the server announces, oldest first.
my ($V1, $V2, $V3, $V4) = ('2025110700', '2025112000', '2025120100', '2025121500');
my $GUID_RE = qr/\A[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\z/;

{
    my $why;
    if (!-x $CLI) {
        $why = "$CLI is built (run make)";
    } elsif (`$CLI --help 2>&1` !~ /\bupdate\b/) {
        $why = "$CLI --help lists the update command";
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

# Never let a proxy from the environment take part (the proxy tests set
# their own).
delete @ENV{qw(http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
    no_proxy NO_PROXY)};


# =========================================================================
# Certificates: a test CA and what it signs, a rogue CA
# =========================================================================
my $PKI = "$TMP/pki";
mkdir $PKI or die;

my $OSSL = "$TMP/openssl.log";
my $pki_ok = make_ca($PKI, 'ca', 'm365-direct test CA', $OSSL)
    && make_ca($PKI, 'rogue', 'rogue CA', $OSSL)
    && make_cert($PKI, 'good', 'ca', 'IP:127.0.0.1,DNS:localhost', $OSSL)
    && make_cert($PKI, 'untrusted', 'rogue', 'IP:127.0.0.1,DNS:localhost', $OSSL)
    && make_cert($PKI, 'wrongname', 'ca', 'DNS:wrong-name.example.invalid', $OSSL);
ok($pki_ok, 'openssl made a test CA, a server certificate for 127.0.0.1 and localhost, '
    . 'one from a rogue CA and one for another name', slurp("$TMP/openssl.log"));
my $CA = "$PKI/ca.pem";

# =========================================================================
# The server
# =========================================================================
my $CONTROL = "$TMP/control.json";
my $SLOG    = "$TMP/server.log";
my ($MOUNTED, %PORT);

END {
    my $rc = $?;
    system('umount', $MOUNTED) if $MOUNTED;
    $? = $rc;
}

spew($CONTROL, '{}');
{
    my $ports = start_server(python => $PY, server => $SERVER,
        control => $CONTROL, log => $SLOG, dir => $TMP, listen => [
            "good=tls,$PKI/good.pem,$PKI/good.key",
            "untrusted=tls,$PKI/untrusted.pem,$PKI/untrusted.key",
            "wrongname=tls,$PKI/wrongname.pem,$PKI/wrongname.key",
            'plain=plain', 'proxy=proxy', 'authproxy=proxy,m365user:s3cret' ]);
    %PORT = %$ports if $ports;
    if (!$PORT{good}) {
        print "1..1\nnot ok 1 - endpoints_server.py started\n";
        diag(slurp("$TMP/server.out"));
        exit 1;
    }
}
my $BASE = "https://127.0.0.1:$PORT{good}";

# The control file, written atomically (the server re-reads it per request).
my %CTL_DEFAULT = (
    latest => $V1, data => $WW,
    redirect_http => "http://127.0.0.1:$PORT{plain}",
    redirect_https => "$BASE/mirror",
);
sub control {
    my (%c) = (%CTL_DEFAULT, @_);
    spew("$CONTROL.tmp", JSON::PP->new->canonical->encode(\%c));
    rename("$CONTROL.tmp", $CONTROL) or die;
}

# The server log: one JSON object per line.
sub log_lines { return grep { length } split /\n/, slurp($SLOG) }
sub log_mark  { return scalar(my @l = log_lines()) }
sub log_since {
    my ($mark) = @_;
    my @l = log_lines();
    return map { eval { decode_json($_) } || { bad => $_ } } @l[$mark .. $#l];
}
# requests of kind (version|endpoints) since mark, on listener (default good)
sub reqs {
    my ($mark, $kind, $listener) = @_;
    return grep { ($_->{kind} // '') eq $kind && ($_->{listener} // '') eq ($listener // 'good') }
        log_since($mark);
}
sub log_excerpt {
    my ($mark) = @_;
    my @l = log_lines();
    @l = @l[$mark .. $#l];
    @l = ('(more lines before)', @l[-20 .. -1]) if @l > 20;
    return map { "server log: $_" } (@l ? @l : ('(no request since the command started)'));
}

# =========================================================================
# Running the command
# =========================================================================
# run(\@argv, env => {...}, umask => N, timeout => S): { rc, out, err, secs, cmd }
sub run {
    my ($argv, %o) = @_;
    return run_cmd(argv => $argv, %o);
}

sub show {
    my ($r, $mark) = @_;
    my $out = $r->{out};
    $out = substr($out, 0, 1500) . "... (" . length($r->{out}) . " bytes)" if length($out) > 1500;
    return ("command: $r->{cmd}", sprintf('exit %d after %.2f s', $r->{rc}, $r->{secs}),
        "stdout: $out", "stderr: $r->{err}", defined $mark ? log_excerpt($mark) : ());
}

# The arguments of an update: -c CONF --state-dir DIR update --base-url
# BASE --ca-file CA --retry-delay 0.05 --timeout 5 ARGS; conf, base and ca
# can be changed (undef: left out).
sub update_argv {
    my ($dir, $args, %o) = @_;
    my $conf = exists $o{conf} ? $o{conf} : '/dev/null';
    my $base = exists $o{base} ? $o{base} : $BASE;
    my $ca   = exists $o{ca} ? $o{ca} : $CA;
    return [ ($o{prefix} ? @{ $o{prefix} } : ()), $CLI, (defined $conf ? ('-c', $conf) : ()),
        '--state-dir', $dir, 'update', (defined $base ? ('--base-url', $base) : ()),
        (defined $ca ? ('--ca-file', $ca) : ()),
        ($o{defaults} // 1 ? ('--retry-delay', '0.05', '--timeout', '5') : ()), @$args ];
}

# Every request must carry the state dir's ClientRequestId; problems are
# collected here and reported by one test point at the end.
my (@GUID_PROBLEMS, %GUIDS_SEEN);
my $GUID_REQUESTS = 0;
sub check_guid {
    my ($dir, $mark, $r) = @_;
    my $id = slurp("$dir/client-request-id") =~ s/\n\z//r;
    for my $e (log_since($mark)) {
        next unless ($e->{kind} // '') =~ /^(version|endpoints)$/;
        $GUID_REQUESTS++;
        my $got = $e->{client_request_id} // '(none)';
        $GUIDS_SEEN{$got}++;
        push @GUID_PROBLEMS, "$r->{cmd}: request $e->{path} carried $got, the state dir has '$id'"
            if $got ne $id;
    }
}

# upd($dir, [args], %o): runs an update, checks the GUIDs it sent
sub upd {
    my ($dir, $args, %o) = @_;
    my $mark = log_mark();
    my $r = run(update_argv($dir, $args || [], %o), %o);
    $r->{mark} = $mark;
    check_guid($dir, $mark, $r);
    return $r;
}

sub cli { return run([ $CLI, @_ ]) }

# =========================================================================
# State directories
# =========================================================================
my $STATES = 0;
sub new_state { my $d = "$TMP/state" . ++$STATES; mkdir $d or die; return $d }
# Copies a state dir's files; endpoints.json stays a link to its version's file.
sub copy_state {
    my ($from, $to) = @_;
    opendir(my $dh, $from) or die;
    for my $f (grep { !/^\./ } readdir $dh) {
        if (-l "$from/$f") {
            symlink(readlink("$from/$f"), "$to/$f") or die "symlink $f: $!";
        } elsif (-f "$from/$f") {
            copy("$from/$f", "$to/$f") or die "copy $f: $!";
        }
    }
}
sub clone_state {
    my ($from) = @_;
    my $to = new_state();
    copy_state($from, $to);
    return $to;
}
sub dir_files {
    my ($d) = @_;
    opendir(my $dh, $d) or return ();
    return sort grep { $_ ne '.' && $_ ne '..' && $_ ne '.lock' } readdir $dh;
}
# The installed "VERSION INSTANCE\n", from the file endpoints.json links to
# (endpoints-VERSION-INSTANCE.json); '' when there is no such link.
sub installed_version {
    my $t = readlink("$_[0]/endpoints.json") // '';
    return $t =~ /^endpoints-(\d{10})-(\w+)\.json\z/ ? "$1 $2\n" : '';
}
sub snap {
    my ($d) = @_;
    return { data => slurp("$d/endpoints.json"), version => installed_version("$d"),
        files => join(' ', dir_files($d)) };
}
# what differs between two snapshots (empty: nothing)
sub changes {
    my ($b, $a) = @_;
    my @why;
    push @why, sprintf('endpoints.json changed (%d -> %d bytes)', length $b->{data}, length $a->{data})
        if $a->{data} ne $b->{data};
    push @why, "version changed: '$b->{version}' -> '$a->{version}'" if $a->{version} ne $b->{version};
    push @why, "files before: $b->{files}; after: $a->{files}" if $a->{files} ne $b->{files};
    return @why;
}
sub one_line { return $_[0] =~ /\A[^\n]+\n\z/ }

# =========================================================================
# Data: the real files and variants made from them
# =========================================================================
my $DATA = "$TMP/data";
mkdir $DATA or die;
my $JSONW = JSON::PP->new->canonical->pretty;
sub load_sets { return decode_json(slurp($_[0])) }
sub set_by_id {
    my ($sets, $id) = @_;
    my ($s) = grep { $_->{id} == $id } @$sets;
    return $s // die "no set $id";
}
sub write_sets { my ($name, $sets) = @_; return spew("$DATA/$name.json", $JSONW->encode($sets)) }

# V2: from the real worldwide file: one name added to and one removed from
# Allow set 2, one prefix added to and one removed from Allow set 46, set 17
# (aka.ms) moved from Default to Allow, set 9's TCP ports changed.
my $V2F = do {
    my $s = load_sets($WW);
    my $s2 = set_by_id($s, 2);
    push @{ $s2->{urls} }, 'm365-test-added.office365.com';
    $s2->{urls} = [ grep { $_ ne 'smtp.office365.com' } @{ $s2->{urls} } ];
    my $s46 = set_by_id($s, 46);
    $s46->{ips} = [ (grep { $_ ne '52.244.37.168/32' } @{ $s46->{ips} }), '51.140.0.0/14' ];
    set_by_id($s, 17)->{category} = 'Allow';
    set_by_id($s, 9)->{tcpPorts} = '443,8443';
    write_sets('v2', $s);
};
# V3: V2 plus one name in Allow set 56.
my $V3F = do {
    my $s = load_sets($V2F);
    push @{ set_by_id($s, 56)->{urls} }, 'm365-test-v3.microsoftonline.com';
    write_sets('v3', $s);
};
# injected($name, $set_id, $field, $entry): V3 with one more entry
sub injected {
    my ($name, $id, $field, $entry) = @_;
    my $s = load_sets($V3F);
    push @{ set_by_id($s, $id)->{$field} }, $entry;
    return write_sets($name, $s);
}

# =========================================================================
# First run, unchanged version, newer version
# =========================================================================
my $MAIN = new_state();
my $GUID;
{
    control(latest => $V1, data => $WW);
    my $r = upd($MAIN);
    my @ep = reqs($r->{mark}, 'endpoints');
    my @ve = reqs($r->{mark}, 'version');
    ok($r->{rc} == 0 && one_line($r->{err})
        && $r->{err} =~ /^m365-direct: installed Worldwide version \Q$V1\E \(was none\b/,
        'first run: exit 0, "installed Worldwide version V (was none ...)" on stderr', show($r, $r->{mark}));
    ok(slurp("$MAIN/endpoints.json") eq slurp($WW),
        'first run: endpoints.json is byte for byte what the server sent', show($r));
    ok(installed_version("$MAIN") eq "$V1 Worldwide\n",
        'first run: endpoints.json links to endpoints-VERSION-INSTANCE.json',
        'link: ' . (readlink("$MAIN/endpoints.json") // 'none'));
    my $raw = slurp("$MAIN/client-request-id");
    ($GUID = $raw) =~ s/\n\z//;
    ok($GUID =~ $GUID_RE, 'first run: client-request-id holds a version-4 GUID (36 chars)', "file: '$raw'");
    ok(@ve == 1 && @ep == 1 && $ve[0]{client_request_id} eq $GUID && $ep[0]{client_request_id} eq $GUID,
        'first run: one /version and one /endpoints request, both with ClientRequestId = the stored GUID',
        log_excerpt($r->{mark}));
    ok(@ep && !grep({ exists $ep[0]{params}{$_} } qw(ServiceAreas TenantName NoIPv6))
        && $ep[0]{path} eq '/endpoints/Worldwide' && $ve[0]{path} eq '/version/Worldwide',
        'first run: default paths, no ServiceAreas/TenantName/NoIPv6 without configuration',
        log_excerpt($r->{mark}));
    ok(@ep && ($ep[0]{user_agent} // '') =~ m{\bm365-direct/\d},
        'User-Agent names m365-direct and its version', 'User-Agent: ' . ($ep[0]{user_agent} // 'none'));
    my @modes = map { sprintf('%s %o', $_, (stat "$MAIN/$_")[2] & 07777) } qw(endpoints.json client-request-id status.json);
    ok(!grep({ !/ 644$/ } @modes), 'installed files are mode 0644 (the helper runs as another user)', @modes);
    my @f = dir_files($MAIN);
    ok("@f" eq "client-request-id endpoints-$V1-Worldwide.json endpoints.json status.json",
        'state dir holds client-request-id, the data file, the endpoints.json link, status.json '
        . 'and nothing else', "files: @f");

    my $before = snap($MAIN);
    my @st0 = stat "$MAIN/endpoints.json";
    $r = upd($MAIN);
    my @st1 = stat "$MAIN/endpoints.json";
    ok($r->{rc} == 0 && one_line($r->{err}) && $r->{err} =~ /^m365-direct: Worldwide version \Q$V1\E is current$/m
        && $r->{out} eq '',
        'same version: exit 0, "Worldwide version V is current", nothing on stdout', show($r, $r->{mark}));
    ok(reqs($r->{mark}, 'version') == 1 && reqs($r->{mark}, 'endpoints') == 0,
        'same version: one /version request, no /endpoints request', log_excerpt($r->{mark}));
    ok(!changes($before, snap($MAIN)) && "@st0[1,9]" eq "@st1[1,9]",
        'same version: endpoints.json not rewritten (same inode and mtime: running helpers do not reload)',
        changes($before, snap($MAIN)), "inode/mtime before @st0[1,9], after @st1[1,9]");

    control(latest => '2025100100', data => $WW);
    $r = upd($MAIN);
    ok($r->{rc} == 0 && reqs($r->{mark}, 'endpoints') == 0 && !changes($before, snap($MAIN)),
        'an older version announced: exit 0, no /endpoints request, nothing changed', show($r, $r->{mark}));

    # newer version: installs and reports the change
    control(latest => $V2, data => $V2F);
    $r = upd($MAIN);
    my @l = split /\n/, $r->{out};
    ok($r->{rc} == 0 && one_line($r->{err})
        && $r->{err} =~ /^m365-direct: installed Worldwide version \Q$V2\E \(was \Q$V1\E\b/
        && slurp("$MAIN/endpoints.json") eq slurp($V2F) && installed_version("$MAIN") eq "$V2 Worldwide\n",
        'newer version: exit 0, installed, "installed ... (was OLD ...)"', show($r, $r->{mark}));
    ok(reqs($r->{mark}, 'endpoints') == 1, 'newer version: one /endpoints request', log_excerpt($r->{mark}));
    my @want = (
        [ qr/^\+ m365-test-added\.office365\.com$/, 'added name' ],
        [ qr/^- smtp\.office365\.com$/, 'removed name' ],
        [ qr/^\+ 51\.140\.0\.0\/14$/, 'added prefix' ],
        [ qr/^- 52\.244\.37\.168\/32$/, 'removed prefix' ],
        [ qr/^\S.*\baka\.ms\b.*default.*allow/i, 'aka.ms moved from Default to Allow' ],
        [ qr/\*\.protection\.outlook\.com.*443.*8443/, 'port change of set 9' ],
    );
    my @miss = map { $_->[1] } grep { my $re = $_->[0]; !grep { $_ =~ $re } @l } @want;
    ok(!@miss, 'newer version: stdout shows added/removed names and prefixes, the move and the port change',
        map({ "missing: $_" } @miss), show($r));
    ok(@l && $l[0] =~ /\d/ && $l[0] =~ /names/ && $l[0] =~ /prefixes/ && $l[0] =~ /moved/i && $l[0] =~ /port/i,
        'change report: the first line is a summary with counts', "first line: " . ($l[0] // ''));
    ok(scalar(grep { /^moved:?$/i } @l) && scalar(grep { /^ports:?$/i } @l)
        && scalar(grep { /\ballow\b.*names/i } @l),
        'change report: sections for a category\'s names, moves and ports', show($r));
    my $d = cli('diff', $WW, $V2F);
    ok($d->{rc} == 0 && $d->{out} eq $r->{out}, 'diff OLD NEW prints the same report as the update',
        "update stdout:\n$r->{out}", show($d));
    $d = cli('diff', $WW, $V2F, '--json');
    my $dj = eval { decode_json($d->{out}) };
    ok($d->{rc} == 0 && ref $dj eq 'HASH' && $d->{out} =~ /m365-test-added\.office365\.com/
        && $d->{out} =~ /smtp\.office365\.com/ && $d->{out} =~ /aka\.ms/,
        'diff --json: one JSON object naming the changes', show($d));
    $d = cli('diff', $V2F, $V2F);
    ok($d->{rc} == 0 && $d->{out} !~ /^[+-] /m, 'diff of a file with itself: exit 0, no +/- lines', show($d));
    $d = cli('diff', $V2F);
    ok($d->{rc} == 2, 'diff with one file: exit 2', show($d));
    $d = cli('diff', $V2F, "$TMP/no-such.json");
    ok($d->{rc} == 1 && $d->{err} =~ /no-such\.json/, 'diff with a missing file: exit 1, the file named', show($d));
}
my $GOOD = clone_state($MAIN);      # V2 installed: the start of every fault case

# ClientRequestId across runs ("restarts") and state dirs
{
    my @all = grep { ($_->{kind} // '') =~ /^(version|endpoints)$/ } log_since(0);
    my @other = grep { ($_->{client_request_id} // '') ne $GUID } @all;
    ok(@all >= 5 && !@other, 'the same ClientRequestId on every request of every run with this state dir ('
        . scalar(@all) . ' requests)', map { "$_->{path}: " . ($_->{client_request_id} // 'none') } @other);
    my $fresh = new_state();
    control(latest => $V1, data => $WW);
    my $r = upd($fresh);
    my $id2 = slurp("$fresh/client-request-id") =~ s/\n\z//r;
    ok($r->{rc} == 0 && $id2 =~ $GUID_RE && $id2 ne $GUID,
        'another state dir gets its own random GUID', "first: $GUID, second: $id2", show($r));
}

# =========================================================================
# The fault matrix
# =========================================================================
my @MATRIX;     # "case -> exit -> message" for the summary at the end

# fault(name, control => {...}, args => [...], err => qr//, then => sub)
# From a copy of $GOOD (V2 installed): the server announces V3; the update
# must exit 1, print one line on stderr matching err, nothing on stdout,
# and leave endpoints.json, version and the file list as they were.
sub fault {
    my ($name, %c) = @_;
    my $dir = clone_state($GOOD);
    control(latest => $V3, data => $V3F, %{ $c{control} || {} });
    my $before = snap($dir);
    my $r = upd($dir, $c{args} || [], %{ $c{opts} || {} });
    my @why = changes($before, snap($dir));
    push @why, "exit $r->{rc}, want 1" if $r->{rc} != 1;
    push @why, 'stderr is not one line' unless one_line($r->{err});
    push @why, "stderr does not match $c{err}" if $r->{err} !~ $c{err};
    push @why, 'stderr does not name the version kept' if $r->{err} !~ /\Q$V2\E/;
    push @why, 'something on stdout' if $r->{out} ne '';
    ok(!@why, "fault: $name -> exit 1, data and version byte-identical, stderr says why", @why, show($r, $r->{mark}));
    push @MATRIX, sprintf('%-42s exit %-2s %.2fs  %s', $name, $r->{rc}, $r->{secs}, $r->{err} =~ s/\n.*//sr);
    $c{then}->($r, $dir) if $c{then};
    return ($r, $dir);
}

fault('HTTP 500 on /endpoints (default 3 retries)', control => { fault => { endpoints => '500' } },
    err => qr/HTTP 500\b.*endpoints\/Worldwide.*3 retries/, then => sub {
        my ($r) = @_;
        my @e = reqs($r->{mark}, 'endpoints');
        ok(@e == 4, 'HTTP 500: retried 3 times (4 /endpoints requests)', 'requests: ' . scalar(@e), log_excerpt($r->{mark}));
    });
fault('HTTP 500 on /endpoints, --retries 0', control => { fault => { endpoints => '500' } },
    args => [ '--retries', '0' ], err => qr/HTTP 500/, then => sub {
        my ($r) = @_;
        ok(reqs($r->{mark}, 'endpoints') == 1, '--retries 0: one /endpoints request', log_excerpt($r->{mark}));
    });
fault('HTTP 503 on /endpoints, backoff', control => { fault => { endpoints => '503' } },
    args => [ '--retries', '3', '--retry-delay', '0.2' ], err => qr/HTTP 503/, then => sub {
        my ($r) = @_;
        my @t = map { $_->{t} } reqs($r->{mark}, 'endpoints');
        my @gap = map { $t[$_] - $t[$_ - 1] } 1 .. $#t;
        # base 0.2 s doubled per retry, times a jitter factor: the third
        # wait is (at 0.5..1.5 jitter) always longer than the first.
        ok(@t == 4 && $gap[0] >= 0.05 && $gap[2] > $gap[0] && $gap[2] < 3,
            'retries back off exponentially with jitter (--retry-delay 0.2: waits '
            . join(', ', map { sprintf '%.2f', $_ } @gap) . ' s)', log_excerpt($r->{mark}));
    });
fault('HTTP 500 on /version', control => { fault => { version => '500' } },
    args => [ '--retries', '2' ], err => qr/HTTP 500\b.*version\/Worldwide/, then => sub {
        my ($r) = @_;
        ok(reqs($r->{mark}, 'version') == 3 && reqs($r->{mark}, 'endpoints') == 0,
            'HTTP 500 on /version: retried (--retries 2: 3 requests), /endpoints never asked', log_excerpt($r->{mark}));
    });
fault('HTTP 404 on /endpoints', control => { fault => { endpoints => '404' } },
    err => qr/HTTP 404/, then => sub {
        my ($r) = @_;
        ok(reqs($r->{mark}, 'endpoints') == 1, 'HTTP 404: not retried', log_excerpt($r->{mark}));
    });

# 429: no retry; the next run does not call /endpoints; --force does.
{
    my ($r, $dir) = fault('HTTP 429 on /endpoints', control => { fault => { endpoints => '429' } },
        err => qr/429/);
    ok(reqs($r->{mark}, 'endpoints') == 1, 'HTTP 429: no retry (one /endpoints request)', log_excerpt($r->{mark}));
    my $st = eval { decode_json(slurp("$dir/status.json")) } || {};
    control(latest => $V3, data => $V3F);
    my $before = snap($dir);
    $r = upd($dir);
    ok($r->{rc} == 1 && reqs($r->{mark}, 'endpoints') == 0 && !changes($before, snap($dir))
        && one_line($r->{err}) && $r->{err} =~ /429/ && $r->{err} =~ /--force/,
        'after a 429: the next run makes no /endpoints request, exits 1 and says why (429, --force)',
        show($r, $r->{mark}));
    push @MATRIX, sprintf('%-42s exit %-2s %.2fs  %s', 'run after a 429', $r->{rc}, $r->{secs}, $r->{err} =~ s/\n.*//sr);
    $r = upd($dir, ['--force']);
    ok($r->{rc} == 0 && reqs($r->{mark}, 'endpoints') == 1 && slurp("$dir/endpoints.json") eq slurp($V3F)
        && installed_version("$dir") eq "$V3 Worldwide\n",
        'after a 429: --force calls /endpoints and installs', show($r, $r->{mark}));
    control(latest => $V4, data => $V2F);
    $r = upd($dir);
    ok($r->{rc} == 0 && reqs($r->{mark}, 'endpoints') == 1 && installed_version("$dir") eq "$V4 Worldwide\n",
        'after a successful install the 429 hold is over: the next newer version is fetched', show($r, $r->{mark}));
}

{
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1) or die;
    my $closed = $s->sockport;
    close $s;
    fault('connection refused', opts => { base => "https://127.0.0.1:$closed" }, args => [ '--retries', '1' ],
        err => qr/connect|refused/i);
}
fault('untrusted certificate (rogue CA)', opts => { base => "https://127.0.0.1:$PORT{untrusted}" },
    err => qr/certificate|SSL|verify|issuer/i, then => sub {
        my ($r) = @_;
        my @tls = grep { ($_->{listener} // '') eq 'untrusted' && $_->{tls_error} } log_since($r->{mark});
        ok(@tls && !reqs($r->{mark}, 'version', 'untrusted'),
            'untrusted certificate: the client refused the handshake, no request was sent', log_excerpt($r->{mark}));
    });
fault('test CA not given (system trust store)', opts => { ca => undef }, err => qr/certificate|SSL|verify|issuer/i);
fault('host-name mismatch', opts => { base => "https://127.0.0.1:$PORT{wrongname}" },
    err => qr/name|match|certificate|SSL/i, then => sub {
        my ($r) = @_;
        ok(!reqs($r->{mark}, 'version', 'wrongname'), 'host-name mismatch: no request was sent', log_excerpt($r->{mark}));
    });
fault('server hangs on /endpoints (--timeout 1)', control => { fault => { endpoints => 'hang' }, hang_seconds => 20 },
    args => [ '--timeout', '1', '--retries', '1' ], err => qr/time|timed out/i, then => sub {
        my ($r) = @_;
        ok($r->{secs} < 6 && reqs($r->{mark}, 'endpoints') == 2,
            sprintf('hang: gave up after %.1f s (--timeout 1, one retry: 2 requests)', $r->{secs}),
            log_excerpt($r->{mark}));
    });
fault('server hangs on /version (--timeout 1)', control => { fault => { version => 'hang' }, hang_seconds => 20 },
    args => [ '--timeout', '1', '--retries', '0' ], err => qr/time|timed out/i);
fault('truncated body', control => { fault => { endpoints => 'truncate' } }, args => [ '--retries', '1' ],
    err => qr/transfer closed|partial|truncat|remaining|short/i);
fault('invalid JSON', control => { fault => { endpoints => 'invalid-json' } }, err => qr/JSON/);
fault('JSON that is not an array', control => { fault => { endpoints => 'not-array' } }, err => qr/array/i);
fault('empty array', control => { fault => { endpoints => 'empty-array' } }, err => qr/empty|no endpoint sets/i);
fault('body over 4 MiB (Content-Length)', control => { fault => { endpoints => 'oversize' } },
    err => qr/larger|too large|size|exceed/i);
fault('body over 4 MiB (chunked, no length)', control => { fault => { endpoints => 'oversize-chunked' } },
    err => qr/larger|too large|size|exceed/i);
fault('body over 4 MiB once gunzipped (gzip bomb)', control => { fault => { endpoints => 'oversize-gzip' } },
    err => qr/larger|too large|size|exceed/i);
fault('redirect to http://', control => { fault => { endpoints => 'redirect-http' } },
    err => qr/redirect|protocol|http\b|scheme/i, then => sub {
        my ($r) = @_;
        ok(!grep({ ($_->{listener} // '') eq 'plain' } log_since($r->{mark})),
            'redirect to http://: the plain-HTTP server was never contacted', log_excerpt($r->{mark}));
    });
fault('redirect to https:// with a rogue certificate',
    control => { fault => { endpoints => 'redirect-https' }, redirect_https => "https://127.0.0.1:$PORT{untrusted}/mirror" },
    err => qr/certificate|SSL|verify|issuer/i);
fault('/version: latest is not a version', control => { version_body => '{"instance":"Worldwide","latest":"../../x"}' },
    err => qr/version|latest/i, then => sub {
        ok(reqs($_[0]{mark}, 'endpoints') == 0, 'bad /version answer: /endpoints not asked', log_excerpt($_[0]{mark}));
    });
fault('/version: latest is a number', control => { version_body => '{"instance":"Worldwide","latest":2025120100}' },
    err => qr/version|latest/i);
fault('/version: not JSON', control => { version_body => "<html>maintenance</html>\n" }, err => qr/version|JSON/i);
fault('/version: 11 digits', control => { version_body => '{"instance":"Worldwide","latest":"20251201001"}' },
    err => qr/version|latest/i);
fault('/version: body over 4 KiB',
    control => { version_body => '{"instance":"Worldwide","latest":"2025120100"' . (' ' x 5000) . '}' },
    err => qr/version|larger|size/i);

# versions that are no date, or too far ahead: refused, --force or not,
# before any /endpoints request (a bogus one believed once made every real
# version look old forever)
sub version_in_days {
    my @t = gmtime(time + $_[0] * 86400);
    return sprintf('%04d%02d%02d00', $t[5] + 1900, $t[4] + 1, $t[3]);
}
{
    my $far = version_in_days(40);
    for my $v ([ '9999999999', 'not a YYYYMMDDNN date' ], [ '2025023000', 'not a YYYYMMDDNN date' ],
        [ '2025130100', 'not a YYYYMMDDNN date' ], [ '1999123100', 'not a YYYYMMDDNN date' ],
        [ $far, 'more than 31 days in the future' ]) {
        my ($latest, $why) = @$v;
        for my $force ([], ['--force']) {
            my $with = @$force ? ', --force' : '';
            fault("/version: latest $latest ($why$with)", control => { latest => $latest }, args => $force,
                err => qr{/version/Worldwide announced version \Q$latest\E: \Q$why\E; keeping version}, then => sub {
                    ok(reqs($_[0]{mark}, 'endpoints') == 0, "/version $latest$with: /endpoints not asked",
                        log_excerpt($_[0]{mark}));
                });
        }
    }
    my $near = version_in_days(30);
    my $dir = clone_state($GOOD);
    control(latest => $near, data => $V3F);
    my $r = upd($dir);
    ok($r->{rc} == 0 && installed_version($dir) eq "$near Worldwide\n",
        "a version 30 days ahead ($near) is taken", show($r, $r->{mark}));
}

# relabel($dir, $version): the installed data of $dir as if installed as
# $version (an older release did so with a bogus /version answer)
sub relabel {
    my ($dir, $version) = @_;
    my $old = readlink("$dir/endpoints.json") // die;
    my $new = "endpoints-$version-Worldwide.json";
    rename("$dir/$old", "$dir/$new") or die;
    symlink($new, "$dir/.relabel") or die;
    rename("$dir/.relabel", "$dir/endpoints.json") or die;
}
for my $bogus ('9999999999', version_in_days(400)) {
    my $dir = clone_state($GOOD);
    relabel($dir, $bogus);
    control(latest => $V3, data => $V3F);
    my $r = upd($dir);
    ok($r->{rc} == 0 && one_line($r->{err}) && installed_version($dir) eq "$V3 Worldwide\n"
        && slurp("$dir/endpoints.json") eq slurp($V3F)
        && $r->{err} =~ /installed Worldwide version \Q$V3\E \(was \Q$bogus\E, .*the installed version \Q$bogus\E was ignored/
        && !-e "$dir/endpoints-$bogus-Worldwide.json",
        "a bogus version installed ($bogus) does not wedge updates: the real one installs, the bogus file goes",
        show($r, $r->{mark}));
    control(latest => $V4, data => $V2F);
    $r = upd($dir);
    ok($r->{rc} == 0 && installed_version($dir) eq "$V4 Worldwide\n", "after it ($bogus): the next version too",
        show($r, $r->{mark}));
}

# rollback protection: an older version only with --force, and said
{
    my $dir = clone_state($GOOD);
    control(latest => $V1, data => $WW);
    my $before = snap($dir);
    my $r = upd($dir);
    ok($r->{rc} == 0 && one_line($r->{err})
        && $r->{err} =~ /^m365-direct: Worldwide version \Q$V2\E is current; refusing version \Q$V1\E older than installed \Q$V2\E; --force to roll back$/
        && reqs($r->{mark}, 'endpoints') == 0 && !changes($before, snap($dir)) && $r->{out} eq '',
        'an older version announced: refused ("refusing version X older than installed Y; --force to roll back"), '
        . 'no /endpoints request, nothing changed', changes($before, snap($dir)), show($r, $r->{mark}));
    $r = upd($dir, ['--force']);
    ok($r->{rc} == 0 && installed_version($dir) eq "$V1 Worldwide\n" && slurp("$dir/endpoints.json") eq slurp($WW)
        && $r->{err} =~ /installed Worldwide version \Q$V1\E \(was \Q$V2\E, .*rolled back\)/,
        '--force rolls back to the older version, and says so', show($r, $r->{mark}));
}

# positive cases on the same server
{
    my $dir = clone_state($GOOD);
    control(latest => $V3, data => $V3F, fault => { endpoints => 'flaky' }, flaky_count => 2);
    my $r = upd($dir);
    my @e = reqs($r->{mark}, 'endpoints');
    ok($r->{rc} == 0 && @e == 3 && slurp("$dir/endpoints.json") eq slurp($V3F),
        '500 twice, then 200: installed on the third /endpoints request', show($r, $r->{mark}));

    $dir = clone_state($GOOD);
    control(latest => $V3, data => $V3F, fault => { endpoints => 'gzip' });
    $r = upd($dir);
    ok($r->{rc} == 0 && slurp("$dir/endpoints.json") eq slurp($V3F),
        'a gzip-encoded answer installs the decoded bytes', show($r, $r->{mark}));

    $dir = clone_state($GOOD);
    control(latest => $V3, data => $V3F, fault => { endpoints => 'redirect-https' });
    $r = upd($dir);
    ok($r->{rc} == 0 && slurp("$dir/endpoints.json") eq slurp($V3F)
        && scalar(grep { ($_->{path} // '') eq '/mirror/endpoints/Worldwide' } log_since($r->{mark})),
        'a redirect to https:// (same trusted server) is followed and installs', show($r, $r->{mark}));

    $dir = clone_state($GOOD);
    control(latest => $V3, data => $V3F, fault => { endpoints => 'pad:' . 4 * 1024 * 1024 });
    $r = upd($dir);
    ok($r->{rc} == 0 && length(slurp("$dir/endpoints.json")) == 4 * 1024 * 1024,
        'a body of exactly 4 MiB (the cap) installs', show($r, $r->{mark}));

    $dir = clone_state($GOOD);
    control(latest => $V3, data => $V3F);
    $r = upd($dir, [], base => "https://localhost:$PORT{good}");
    ok($r->{rc} == 0 && installed_version("$dir") eq "$V3 Worldwide\n",
        'https://localhost:PORT (certificate SAN DNS:localhost) works', show($r, $r->{mark}));
}

# =========================================================================
# Validation: schema, shrink, poison
# =========================================================================
{
    my @bad = (
        [ 'invalid-cidr.json', qr/set 1\b.*13\.107\.6\.300\/31/ ],
        [ 'host-bits.json',    qr/set 7\b.*40\.96\.0\.1\/13/ ],
        [ 'bad-category.json', qr/set 31\b.*Optimise/ ],
        [ 'pattern-scheme.json', qr/set 64\b.*https:/ ],
        [ 'id-string.json',    qr/set #1\b/ ],
        [ 'truncated.json',    qr/JSON/ ],
    );
    for my $b (@bad) {
        fault("schema: tests/data/bad/$b->[0]", control => { data => "$ROOT/tests/data/bad/$b->[0]" },
            err => $b->[1]);
    }
}
{
    my $s = load_sets($V3F);
    my $n = 0;
    my @keep = grep { $_->{category} ne 'Default' || $n++ < 5 } @$s;
    my $shrunk = write_sets('shrunk', \@keep);
    my ($r, $dir) = fault('shrink to ' . scalar(@keep) . ' of 64 sets', control => { data => $shrunk },
        err => qr/half|shrink|fewer|smaller/i);
    $r = upd($dir, ['--force']);
    ok($r->{rc} == 0 && slurp("$dir/endpoints.json") eq slurp($shrunk) && installed_version("$dir") eq "$V3 Worldwide\n",
        'shrink: --force installs it', show($r, $r->{mark}));

    # only the names shrink: every set kept, the Default sets' URLs gone
    $s = load_sets($V3F);
    for (grep { $_->{category} eq 'Default' } @$s) { delete $_->{urls} }
    my $names = write_sets('shrunk-names', $s);
    fault('names shrink below half (sets kept)', control => { data => $names }, err => qr/half|shrink|fewer|names/i);

    $s = load_sets($V3F);
    for (@$s) { $_->{ips} = [ @{ $_->{ips} }[0] ] if $_->{ips} && @{ $_->{ips} } }
    my $prefixes = write_sets('shrunk-prefixes', $s);
    fault('prefixes shrink below half (sets and names kept)', control => { data => $prefixes },
        err => qr/half|shrink|fewer|prefix/i);
}
{
    # [ set id, field, entry, why ]; set 1 and 31 are Optimize, 2, 12, 46, 56
    # and 64 Allow
    my @poison = (
        [ 1,  'urls', '*',               'only a wildcard' ],
        [ 46, 'urls', '*.*',             'only wildcards and dots' ],
        [ 12, 'urls', '**',              'only wildcards' ],
        [ 46, 'urls', '*.com',           'public suffix' ],
        [ 1,  'urls', '*.co.uk',         'public suffix (two labels)' ],
        [ 56, 'urls', '*.microsoft',     'public suffix (brand TLD)' ],
        [ 64, 'urls', '*.CoM',           'public suffix, upper case' ],
        [ 46, 'urls', '*com',            'public suffix without the dot' ],
        [ 2,  'urls', '*.*.com',         'wildcards over a public suffix' ],
        [ 46, 'urls', '*.github.io',     'private-section public suffix: anyone registers names there' ],
        [ 1,  'urls', '*.s3.amazonaws.com', 'private-section public suffix (three labels)' ],
        [ 46, 'urls', 'autodiscover.*.herokuapp.com', 'private-section public suffix, inner wildcard' ],
        [ 2,  'urls', '*cdn.workers.dev', 'private-section public suffix, wildcard inside a label' ],
        [ 56, 'urls', '*.ngrok.io',      'private-section public suffix' ],
        [ 64, 'urls', '*.duckdns.org',   'private-section public suffix (dynamic DNS)' ],
        [ 46, 'urls', '*.cloudapp.net',  'private-section public suffix, Microsoft\'s but not in Allow' ],
        [ 46, 'urls', '*.0.1',           'a numeric last label: an IPv4 address to resolvers' ],
        [ 1,  'urls', '*.0x1f',          'a hex last label' ],
        [ 46, 'ips',  '0.0.0.0/0',       'IPv4 /0' ],
        [ 46, 'ips',  '4.0.0.0/7',       'IPv4 shorter than /8' ],
        [ 46, 'ips',  '1.0.0.0/8',       'IPv4 shorter than /12 (min_prefix_v4)' ],
        [ 31, 'ips',  '20.0.0.0/11',     'IPv4 shorter than /12 (min_prefix_v4)' ],
        [ 46, 'ips',  '2400::/16',       'IPv6 shorter than /32 (min_prefix_v6)' ],
        [ 46, 'ips',  '2603:1000::/31',  'IPv6 shorter than /32 (min_prefix_v6)' ],
        [ 1,  'ips',  '10.0.0.0/8',      'private' ],
        [ 46, 'ips',  '10.20.30.0/24',   'inside private' ],
        [ 46, 'ips',  '172.16.0.0/12',   'private' ],
        [ 46, 'ips',  '172.0.0.0/8',     'contains private 172.16/12' ],
        [ 46, 'ips',  '192.168.1.0/24',  'private' ],
        [ 31, 'ips',  '127.0.0.1/32',    'loopback' ],
        [ 46, 'ips',  '169.254.169.254/32', 'link-local' ],
        [ 46, 'ips',  '224.0.0.0/4',     'multicast' ],
        [ 46, 'ips',  '239.255.255.250/32', 'multicast' ],
        [ 46, 'ips',  '192.0.2.0/24',    'documentation' ],
        [ 46, 'ips',  '198.51.100.7/32', 'documentation' ],
        [ 46, 'ips',  '203.0.113.0/24',  'documentation' ],
        [ 46, 'ips',  '192.0.0.0/16',    'contains documentation 192.0.2/24' ],
        [ 46, 'ips',  '0.0.0.0/8',       'unspecified/this network' ],
        [ 1,  'ips',  '::/0',            'IPv6 /0' ],
        [ 46, 'ips',  '2000::/3',        'IPv6 shorter than /16' ],
        [ 46, 'ips',  '2c00::/15',       'IPv6 shorter than /16' ],
        [ 46, 'ips',  '::1/128',         'IPv6 loopback' ],
        [ 46, 'ips',  '::/128',          'IPv6 unspecified' ],
        [ 46, 'ips',  'fe80::/10',       'IPv6 link-local' ],
        [ 46, 'ips',  'fe80::/9',        'contains IPv6 link-local' ],
        [ 46, 'ips',  'fc00::/7',        'IPv6 unique local (private)' ],
        [ 46, 'ips',  'fd12:3456::/32',  'inside IPv6 unique local' ],
        [ 46, 'ips',  'ff02::1/128',     'IPv6 multicast' ],
        [ 46, 'ips',  '2001:db8::/32',   'IPv6 documentation' ],
        [ 46, 'ips',  '2001:db8:1::/48', 'inside IPv6 documentation' ],
        [ 46, 'ips',  '2001:d00::/24',   'contains IPv6 documentation' ],
        [ 46, 'ips',  '::ffff:0:0/96',   'IPv4-mapped: every IPv4 address' ],
        [ 46, 'ips',  '::ffff:10.0.0.0/104', 'IPv4-mapped private' ],
    );
    my $i = 0;
    for my $p (@poison) {
        my ($id, $field, $entry, $why) = @$p;
        my $f = injected('poison' . ++$i, $id, $field, $entry);
        fault("poison: $entry in set $id ($why)", control => { data => $f },
            err => qr/\bset $id\b.*\Q$entry\E|\Q$entry\E.*\bset $id\b/i);
    }
    # (The same entries in a Default set are not tested either way: the
    # contract speaks of Optimize and Allow only.)
}

# =========================================================================
# Usage and configuration errors: exit 2, nothing touched, no request
# =========================================================================
{
    my $badconf = spew("$TMP/bad-update.conf", "no_ipv6 = maybe\n");
    my @cases = (
        [ 'unknown option', [ '--bogus' ] ],
        [ 'an extra argument', [ 'extra' ] ],
        [ 'http:// base URL', [], base => "http://127.0.0.1:$PORT{plain}" ],
        [ 'ftp:// base URL', [], base => 'ftp://127.0.0.1/' ],
        [ 'unknown instance', [ '--instance', 'Mars' ] ],
        [ '--retries abc', [ '--retries', 'abc' ] ],
        [ '--timeout 0', [ '--timeout', '0' ] ],
        [ '--retry-delay -1', [ '--retry-delay', '-1' ] ],
        [ '--base-url without a value', [ '--base-url' ], base => undef ],
        [ 'config error (no_ipv6 = maybe)', [], conf => $badconf ],
    );
    for my $c (@cases) {
        my ($name, $args, %o) = @$c;
        my $dir = clone_state($GOOD);
        control(latest => $V3, data => $V3F);
        my $before = snap($dir);
        my $r = upd($dir, $args, %o);
        my @why = changes($before, snap($dir));
        ok($r->{rc} == 2 && !@why && $r->{err} ne '' && $r->{out} eq ''
            && !grep({ ($_->{kind} // '') ne '' || $_->{tls} } log_since($r->{mark})),
            "usage: $name -> exit 2, message, no request, nothing touched", @why, show($r, $r->{mark}));
        push @MATRIX, sprintf('%-42s exit %-2s %.2fs  %s', "usage: $name", $r->{rc}, $r->{secs}, $r->{err} =~ s/\n.*//sr);
    }
    my $r = cli('--data', $WW, '--state-dir', clone_state($GOOD), 'update', '--base-url', $BASE);
    ok($r->{rc} == 2, 'update with --data: exit 2 (update writes the cache)', show($r));
}

# =========================================================================
# Configuration keys, query parameters, instances, file://, proxies
# =========================================================================
{
    my $conf = spew("$TMP/update.conf", <<"EOF");
# update settings only from the configuration file
base_url = $BASE
ca_file = $CA
instance = Worldwide
timeout = 5
retries = 1
retry_delay = 0.05
tenant = contoso
service_areas = Exchange, SharePoint
no_ipv6 = yes
EOF
    my $dir = clone_state($GOOD);
    control(latest => $V3, data => $V3F);
    my $r = upd($dir, [], conf => $conf, base => undef, ca => undef, defaults => 0);
    my ($e) = reqs($r->{mark}, 'endpoints');
    my $p = $e ? $e->{params} : {};
    ok($r->{rc} == 0 && installed_version("$dir") eq "$V3 Worldwide\n",
        'config file: base_url, ca_file, instance, timeout, retries, retry_delay are used', show($r, $r->{mark}));
    ok(($p->{ServiceAreas} // '') eq 'Exchange,SharePoint' && ($p->{TenantName} // '') eq 'contoso'
        && ($p->{NoIPv6} // '') eq 'true' && ($p->{ClientRequestId} // '') eq $GUID,
        'config file: /endpoints gets ServiceAreas=Exchange,SharePoint, TenantName=contoso, NoIPv6=true',
        'query: ' . ($e ? $e->{query} : 'no /endpoints request'));

    $dir = clone_state($GOOD);
    control(latest => $V3, data => $V3F, fault => { endpoints => '500' });
    $r = upd($dir, [], conf => $conf, base => undef, ca => undef, defaults => 0);
    ok($r->{rc} == 1 && reqs($r->{mark}, 'endpoints') == 2, 'config file: retries = 1 gives 2 /endpoints requests',
        show($r, $r->{mark}));

    $dir = clone_state($GOOD);
    control(latest => $V3, data => $V3F, fault => { endpoints => '500' });
    $r = upd($dir, [ '--retries', '0' ], conf => $conf, base => undef, ca => undef, defaults => 0);
    ok($r->{rc} == 1 && reqs($r->{mark}, 'endpoints') == 1, 'the command line wins over the config file (--retries 0)',
        show($r, $r->{mark}));

    # another instance, in its own state dir
    $dir = new_state();
    control(latest => $V1, data => $WW, data_by_instance => { China => $CN });
    $r = upd($dir, [ '--instance', 'China' ]);
    my @paths = map { $_->{path} } grep { ($_->{kind} // '') ne '' } log_since($r->{mark});
    ok($r->{rc} == 0 && "@paths" eq '/version/China /endpoints/China' && slurp("$dir/endpoints.json") eq slurp($CN)
        && installed_version("$dir") eq "$V1 China\n" && $r->{err} =~ /installed China version/,
        '--instance China: /version/China, /endpoints/China, version file "V China"', show($r, $r->{mark}));

    # the guards' keys: a public suffix list holding Azure China's
    # platforms (tests/data/psl-azure-china.dat) makes the China data
    # install with a warning, which status repeats; the Worldwide instance
    # refuses the same data
    my $psl = "$ROOT/tests/data/psl-azure-china.dat";
    my $pconf = spew("$TMP/psl.conf", "public_suffix_list = $psl\n");
    $dir = new_state();
    control(latest => $V1, data => $WW, data_by_instance => { China => $CN });
    $r = upd($dir, [ '--instance', 'China' ], conf => $pconf);
    my @l = split /\n/, $r->{err};
    ok($r->{rc} == 0 && @l == 2 && $l[0] =~ /^m365-direct: update: warning: accepted as Microsoft's own platforms, though the public suffix list \(\Q$psl\E\).*"\*\.chinacloudapp\.cn" \(set 7\)/
        && $l[1] =~ /installed China version/ && slurp("$dir/endpoints.json") eq slurp($CN),
        'public_suffix_list with Azure China on it: China data installed, the warning names the list, pattern and set',
        show($r, $r->{mark}));
    my $s = cli('-c', $pconf, '--state-dir', $dir, 'status');
    ok($s->{rc} == 0 && $s->{out} =~ /^guards:\s+pass \(public suffix list: \Q$psl\E\)$/m
        && $s->{out} =~ /^guards warning:\s+accepted .*"\*\.chinacloudsites\.cn" \(set 7\)/m,
        'status: the guards pass the China data, with the list and the warning', show($s));
    $s = cli('--state-dir', $dir, 'status', '--json');
    my $j = eval { decode_json($s->{out}) } || {};
    ok($s->{rc} == 0 && ($j->{guards}{pass} // 0) && ($j->{guards}{warning} // 'x') eq ''
        && ($j->{guards}{public_suffix_list} // '') ne '',
        'status --json with the default list: the guards pass, no warning, the list named', show($s));
    $dir = new_state();
    control(latest => $V1, data => $CN);
    $r = upd($dir, [], conf => $pconf);
    ok($r->{rc} == 1 && one_line($r->{err}) && !-e "$dir/endpoints.json"
        && $r->{err} =~ /set 7: urls: "\*\.azure-mobile\.cn": fixed part "azure-mobile\.cn" is a public suffix of the private section: anyone can register names under it \(\Q$psl\E\)/,
        'the same data as Worldwide\'s: refused, naming the set, the pattern and the list', show($r, $r->{mark}));

    # min_prefix_v4/v6 relax the prefix-length guard (down to /8, /16)
    my $wide = injected('wide-prefixes', 46, 'ips', '1.0.0.0/8');
    my $wide6 = do { my $x = load_sets($wide); push @{ set_by_id($x, 46)->{ips} }, '2400::/16'; write_sets('wide6', $x) };
    my $mconf = spew("$TMP/min.conf", "min_prefix_v4 = 8\nmin_prefix_v6 = 16\n");
    $dir = clone_state($GOOD);
    control(latest => $V3, data => $wide6);
    $r = upd($dir, [], conf => $mconf);
    ok($r->{rc} == 0 && slurp("$dir/endpoints.json") eq slurp($wide6),
        'min_prefix_v4 = 8, min_prefix_v6 = 16: 1.0.0.0/8 and 2400::/16 in an Allow set install', show($r, $r->{mark}));
    my $bconf = spew("$TMP/min-bad.conf", "min_prefix_v4 = 7\n");
    $r = upd(clone_state($GOOD), [], conf => $bconf);
    ok($r->{rc} == 2 && $r->{err} =~ /min_prefix_v4: "7" is not a number from 8 to 32/,
        'min_prefix_v4 = 7: a configuration error (exit 2), the floor is /8', show($r));
}
{
    # file:// (an air-gapped mirror): plain files, no query
    my $m = "$TMP/mirror";
    mkdir $m; mkdir "$m/version"; mkdir "$m/endpoints";
    spew("$m/version/Worldwide", qq({"instance": "Worldwide", "latest": "$V1"}\n));
    copy($WW, "$m/endpoints/Worldwide") or die;
    my $dir = new_state();
    my $r = upd($dir, [], base => "file://$m", ca => undef);
    ok($r->{rc} == 0 && slurp("$dir/endpoints.json") eq slurp($WW) && installed_version("$dir") eq "$V1 Worldwide\n",
        'file:// base: installs from {base}/version/Worldwide and {base}/endpoints/Worldwide', show($r));
    $r = upd($dir, [], base => "file://$m", ca => undef);
    ok($r->{rc} == 0 && $r->{err} =~ /is current/, 'file:// base: the same version is current', show($r));
    spew("$m/version/Worldwide", qq({"instance": "Worldwide", "latest": "$V2"}\n));
    copy(injected('mirror-poison', 46, 'urls', '*.com'), "$m/endpoints/Worldwide") or die;
    my $before = snap($dir);
    $r = upd($dir, [], base => "file://$m", ca => undef);
    ok($r->{rc} == 1 && !changes($before, snap($dir)) && $r->{err} =~ /\*\.com/,
        'file:// base: poisoned data is refused too', show($r));
    unlink "$m/endpoints/Worldwide";
    $r = upd($dir, [], base => "file://$m", ca => undef);
    ok($r->{rc} == 1 && !changes($before, snap($dir)) && $r->{err} =~ /endpoints\/Worldwide/,
        'file:// base: a missing endpoints file fails and names it', show($r));
    push @MATRIX, sprintf('%-42s exit %-2s %.2fs  %s', 'file:// endpoints file missing', $r->{rc}, $r->{secs}, $r->{err} =~ s/\n.*//sr);
}
{
    # proxies
    my $dir = clone_state($GOOD);
    control(latest => $V3, data => $V3F);
    my $r = upd($dir, [ '--proxy', "http://127.0.0.1:$PORT{proxy}" ]);
    my @c = grep { ($_->{method} // '') eq 'CONNECT' } log_since($r->{mark});
    ok($r->{rc} == 0 && @c && $c[0]{target} eq "127.0.0.1:$PORT{good}" && installed_version("$dir") eq "$V3 Worldwide\n",
        '--proxy: the requests go through the proxy (CONNECT) and install', show($r, $r->{mark}));

    $dir = clone_state($GOOD);
    $r = upd($dir, [], env => { https_proxy => "http://127.0.0.1:$PORT{proxy}" });
    @c = grep { ($_->{method} // '') eq 'CONNECT' } log_since($r->{mark});
    ok($r->{rc} == 0 && @c > 0, 'https_proxy from the environment is honoured', show($r, $r->{mark}));

    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1) or die;
    my $dead = $s->sockport;
    close $s;
    $dir = clone_state($GOOD);
    $r = upd($dir, [], env => { https_proxy => "http://127.0.0.1:$dead", no_proxy => '127.0.0.1' });
    ok($r->{rc} == 0, 'no_proxy is honoured (a dead https_proxy is bypassed for 127.0.0.1)', show($r, $r->{mark}));

    fault('proxy demands authentication, none given', args => [ '--proxy', "http://127.0.0.1:$PORT{authproxy}" ],
        err => qr/407|proxy|auth/i);
    $dir = clone_state($GOOD);
    $r = upd($dir, [ '--proxy', "http://m365user:s3cret\@127.0.0.1:$PORT{authproxy}" ]);
    @c = grep { ($_->{method} // '') eq 'CONNECT' && ($_->{status} // 0) == 200 } log_since($r->{mark});
    ok($r->{rc} == 0 && @c && $c[0]{auth} eq 'm365user:s3cret', 'proxy authentication (user:password in --proxy)',
        show($r, $r->{mark}));
}

# =========================================================================
# umask, status, Prometheus textfile, on_change
# =========================================================================
{
    my $dir = clone_state($GOOD);
    control(latest => $V3, data => $V3F);
    my $r = upd($dir, [], umask => 077);
    my @modes = map { sprintf('%s %o', $_, (stat "$dir/$_")[2] & 07777) } qw(endpoints.json client-request-id status.json);
    ok($r->{rc} == 0 && !grep({ !/ 644$/ } @modes),
        'under umask 077 the installed files are still 0644 (readable by the helper)', @modes, show($r));

    my $s = cli('--state-dir', $dir, 'status', '--json');
    my $j = eval { decode_json($s->{out}) } || {};
    ok($s->{rc} == 0 && ($j->{source} // '') eq 'cache' && ($j->{version} // '') eq $V3
        && ($j->{instance} // '') eq 'Worldwide' && ($j->{last_result} // '') eq 'installed'
        && ($j->{fetched} // 0) > time - 120 && defined $j->{age_seconds} && ($j->{last_attempt} // 0) > time - 120,
        'status --json: source cache, version, instance, fetched, age, last attempt and result', show($s));
    $s = cli('--state-dir', $dir, 'status');
    ok($s->{rc} == 0 && $s->{out} =~ /\Q$V3\E/ && $s->{out} =~ /Worldwide/ && $s->{out} =~ /installed/,
        'status (text): version, instance, last result', show($s));

    control(latest => $V4, data => $V3F, fault => { endpoints => '404' });
    $r = upd($dir);
    $s = cli('--state-dir', $dir, 'status', '--json');
    $j = eval { decode_json($s->{out}) } || {};
    ok($r->{rc} == 1 && ($j->{last_result} // '') eq 'failed' && ($j->{last_message} // '') =~ /404/
        && ($j->{version} // '') eq $V3,
        'status --json after a failure: last_result failed, the reason, the version still in use', show($s));

    my $pd = "$TMP/textfile";
    mkdir $pd;
    spew("$pd/m365.prom", "# old content\n");
    my $ino = (stat "$pd/m365.prom")[1];
    $s = cli('--state-dir', $dir, 'status', '--prometheus', "$pd/m365.prom");
    my $text = slurp("$pd/m365.prom");
    my (@bad, %typed);
    for my $l (split /\n/, $text) {
        if ($l =~ /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/) {
            $typed{$2} = 1 if $1 eq 'TYPE';
            push @bad, "bad type: $l" if $1 eq 'TYPE' && $3 !~ /^(gauge|counter|untyped|summary|histogram)$/;
        } elsif ($l =~ /^#/) {
        } elsif ($l =~ /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*,?)?\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)( -?\d+)?$/) {
            push @bad, "no TYPE before: $l" unless $typed{$1};
        } else {
            push @bad, "not a metric line: $l";
        }
    }
    ok($s->{rc} == 0 && $text =~ /\n\z/ && !@bad && $text =~ /^m365_direct_\w+\{[^}]*version="\Q$V3\E"[^}]*\} 1$/m
        && $text =~ /^m365_direct_last_update_ok 0$/m,
        'status --prometheus: a valid textfile (version label, last update failed = 0)', @bad, "file:\n$text", show($s));
    my @pf = dir_files($pd);
    ok((stat "$pd/m365.prom")[1] != $ino && "@pf" eq 'm365.prom',
        'status --prometheus: the file is replaced by rename (new inode), no temp file left', "files: @pf");
    $s = cli('--state-dir', $dir, 'status', '--prometheus', "$TMP/no-such-dir/m365.prom");
    ok($s->{rc} != 0 && $s->{err} =~ /no-such-dir/, 'status --prometheus into a missing dir: fails and says where', show($s));

    my $empty = new_state();
    $s = cli('-c', '/dev/null', '--state-dir', $empty, 'status', '--json');
    $j = eval { decode_json($s->{out}) } || {};
    ok($s->{rc} == 0 && ($j->{source} // '') =~ /^bundled/, 'status --json with no cache: source bundled', show($s));
}
{
    my ($h1, $h2) = ("$TMP/hook-ran-1", "$TMP/hook-ran-2");
    my $conf = spew("$TMP/hook.conf", "on_change = /usr/bin/touch $h1 $h2\n");
    my $dir = clone_state($GOOD);
    control(latest => $V3, data => $V3F);
    my $r = upd($dir, [], conf => $conf);
    ok($r->{rc} == 0 && -e $h1 && -e $h2,
        'on_change runs after an install that changed the data (no shell: program and two arguments)', show($r));
    unlink $h1, $h2;
    $r = upd($dir, [], conf => $conf);
    ok($r->{rc} == 0 && !-e $h1, 'on_change does not run when the version is current', show($r));
    $r = upd($dir, ['--force'], conf => $conf);
    ok($r->{rc} == 0 && !-e $h1 && reqs($r->{mark}, 'endpoints') == 1,
        'on_change does not run after --force fetched the same data', show($r, $r->{mark}));
    control(latest => $V4, data => $V3F, fault => { endpoints => '500' });
    $r = upd($dir, [ '--retries', '0' ], conf => $conf);
    ok($r->{rc} == 1 && !-e $h1, 'on_change does not run after a failed update', show($r));
    my $conf2 = spew("$TMP/hook2.conf", "on_change = /bin/false\n");
    control(latest => $V4, data => $V2F);
    $r = upd($dir, [], conf => $conf2);
    ok($r->{rc} == 0 && installed_version("$dir") eq "$V4 Worldwide\n" && $r->{err} =~ /on_change/,
        'a failing on_change is reported; the install stands (exit 0)', show($r));

    # only set 9's "required" flag, then only its "serviceArea": the same
    # names, prefixes, categories and ports, but required_only or a
    # service_areas filter answers otherwise: a change, and the hook runs
    my $rq = do { my $x = load_sets($V2F); set_by_id($x, 9)->{required} = JSON::PP::false; write_sets('required9', $x) };
    my $sa = do { my $x = load_sets($rq); set_by_id($x, 9)->{serviceArea} = 'Skype'; write_sets('area9', $x) };
    $dir = clone_state($GOOD);
    control(latest => $V3, data => $rq);
    $r = upd($dir, [], conf => $conf);
    ok($r->{rc} == 0 && -e $h1 && $r->{err} !~ /same endpoints/ && slurp("$dir/endpoints.json") eq slurp($rq)
        && $r->{out} =~ /^Service areas and required:\n~ \*\.protection\.outlook\.com \(Allow\): required yes -> no$/m
        && $r->{out} =~ /^\S.* 0 moved, 0 port changes$/m,
        'a set\'s required flag only: installed, reported under "Service areas and required", on_change ran',
        show($r, $r->{mark}));
    unlink $h1, $h2;
    my $d = cli('diff', $V2F, $rq);
    ok($d->{rc} == 0 && $d->{out} eq $r->{out}, 'diff OLD NEW prints that report too', show($d));
    $d = cli('diff', $V2F, $rq, '--json');
    my $dj = eval { decode_json($d->{out}) } || {};
    my ($e) = grep { ($_->{entry} // '') eq '*.protection.outlook.com' } @{ $dj->{scope} || [] };
    ok($d->{rc} == 0 && ($dj->{summary}{scope} // 0) > 0 && $e && $e->{category} eq 'allow'
        && ref $e->{from}[0]{required} eq 'HASH' && !defined $e->{to}[0]{required},
        'diff --json: the scope change, required sets before and none after', show($d));
    control(latest => $V4, data => $sa);
    $r = upd($dir, [], conf => $conf);
    ok($r->{rc} == 0 && -e $h1 && $r->{out} =~ /^~ \*\.protection\.outlook\.com \(Allow\): service area Exchange -> Skype$/m,
        'a set\'s service area only: installed, reported, on_change ran', show($r, $r->{mark}));
    unlink $h1, $h2;
}

# =========================================================================
# Crash safety: SIGKILL in the middle of an install, write errors
# =========================================================================
my %NR = (
    x86_64  => { fsync => [74, 75], rename => [82, 264, 316] },     # + fdatasync, renameat(2)
    aarch64 => { fsync => [82, 83], rename => [38, 276] },
);
my $ARCH = (POSIX::uname())[4];
my %SYSNAMES = (fsync => 'fsync,fdatasync', rename => 'rename,renameat,renameat2');
my $STRACE = grep({ -x "$_/strace" } split /:/, $ENV{PATH}) ? 'strace' : undef;
my $NEWV = "$V3 Worldwide\n";
# LeakSanitizer cannot run under ptrace (a SAN build would die at exit)
my %NOLEAK = (ASAN_OPTIONS => join(':', grep { length } $ENV{ASAN_OPTIONS} // '', 'detect_leaks=0'));

# the pid of the process strace started (its child)
sub child_of {
    my ($ppid) = @_;
    for my $st (glob '/proc/[0-9]*/stat') {
        my $s = slurp($st);
        return $1 if $s =~ /^(\d+) \(.*\) \S+ (\d+) / && $2 == $ppid;
    }
    return undef;
}

# kill_at($sys, $when, $phase): runs an update under strace, which holds it
# at the when-th $sys call (at entry or exit) for 2 s; kills it with
# SIGKILL there.  Returns (hit, dir, before, strace output).
sub kill_at {
    my ($sys, $when, $phase) = @_;
    my $dir = clone_state($GOOD);
    control(latest => $V3, data => $V3F);
    my $before = snap($dir);
    my $names = $SYSNAMES{$sys};
    my $so = "$TMP/strace-$sys-$when-$phase.out";
    my $argv = update_argv($dir, [], prefix => [ 'strace', '-f', '-o', $so, '-e', "trace=$names",
        '-e', "inject=$names:delay_$phase=2000000:when=$when" ]);
    my $pid = fork() // die;
    if ($pid == 0) {
        @ENV{ keys %NOLEAK } = values %NOLEAK;
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>', "$so.stdout");
        open(STDERR, '>', "$so.stderr");
        exec(@$argv) or exit 127;
    }
    my %want = map { $_ => 1 } @{ $NR{$ARCH}{$sys} };
    my ($tracee, $since, $hit);
    my $t0 = time;
    while (waitpid($pid, WNOHANG) == 0) {
        if (time - $t0 > 20) { kill 'KILL', $pid; waitpid($pid, 0); last }
        $tracee //= child_of($pid);
        if ($tracee && !$hit) {
            my $state = (slurp("/proc/$tracee/stat") =~ /^\d+ \(.*\) (\S)/)[0] // '';
            my $nr = (slurp("/proc/$tracee/syscall") =~ /^(-?\d+)/)[0] // -1;
            if ($state eq 't' && $want{$nr}) {
                $since //= time;
                if (time - $since > 0.3) {
                    kill 'KILL', $tracee;
                    $hit = 1;
                    # strace would sit out the rest of the delay
                    sleep 0.05;
                    kill 'KILL', $pid;
                }
            } else {
                undef $since;
            }
        }
        sleep 0.01;
    }
    return ($hit, $dir, $before, slurp($so) . slurp("$so.stderr"));
}

SKIP_CRASH: {
    if (!$STRACE || !$NR{$ARCH}) {
        skip("crash tests need strace on x86_64 or aarch64 (have " . ($STRACE // 'no strace') . ", $ARCH)");
        last SKIP_CRASH;
    }
    my $newdata = slurp($V3F);
    my ($hits, @notes) = (0);
    for my $p ([ 'fsync', 1, 'enter' ], [ 'fsync', 2, 'enter' ], [ 'fsync', 3, 'enter' ], [ 'fsync', 4, 'enter' ],
        [ 'rename', 1, 'enter' ], [ 'rename', 1, 'exit' ], [ 'rename', 2, 'enter' ], [ 'rename', 2, 'exit' ],
        [ 'rename', 3, 'enter' ]) {
        my ($sys, $when, $phase) = @$p;
        my ($hit, $dir, $before, $trace) = kill_at($sys, $when, $phase);
        $hits++ if $hit;
        my $after = snap($dir);
        my $data = $after->{data} eq $before->{data} ? 'old' : $after->{data} eq $newdata ? 'new' : 'PARTIAL/OTHER';
        my $ver = $after->{version} eq $before->{version} ? 'old' : $after->{version} eq $NEWV ? 'new' : 'OTHER';
        my @left = grep { /^\./ } dir_files($dir);
        my $label = "SIGKILL at $sys #$when ($phase)" . ($hit ? '' : ' [not reached: the update ended first]');
        push @notes, "$label: data $data, version $ver" . (@left ? ", left behind: @left" : '');
        ok($data ne 'PARTIAL/OTHER' && $ver ne 'OTHER' && !($data eq 'old' && $ver eq 'new'),
            "$label: endpoints.json is the complete old or new file (here $data), "
            . "the version is never newer than the data (here $ver)",
            "files: $after->{files}", "strace: $trace");
        ok($data eq $ver, "$label: the version file matches the data (data $data, version $ver)",
            'a version file naming the old version next to the new data makes status report the wrong '
            . 'version, and the next update finds the data unchanged and never runs on_change for it');
        my $c = cli('-c', '/dev/null', '--state-dir', $dir, 'check', 'outlook.office365.com', '443', '--json');
        ok($c->{rc} == 0 && $c->{err} eq '' && $c->{out} =~ /"category":"optimize"/,
            "$label: the cache left behind loads (check uses it without a warning)", show($c));
        my $r = upd($dir);
        ok($r->{rc} == 0 && slurp("$dir/endpoints.json") eq $newdata && installed_version("$dir") eq $NEWV,
            "$label: the next update completes the install (exit 0, new data and version)", show($r, $r->{mark}));
    }
    diag(@notes);
    ok($hits >= 5, "SIGKILL landed inside the install at $hits of 9 kill points (at least 5)", @notes);

    # write errors injected by strace: exit 1 must mean the old data and
    # version are still there, byte for byte, and no temp file is left;
    # exit 0 must mean the new data and version are in place.
    for my $p ([ 'fsync', 1, 'EIO' ], [ 'fsync', 2, 'EIO' ], [ 'fsync', 3, 'EIO' ], [ 'fsync', 4, 'EIO' ],
        [ 'rename', 1, 'EIO' ], [ 'rename', 2, 'ENOSPC' ]) {
        my ($sys, $when, $err) = @$p;
        my $dir = clone_state($GOOD);
        control(latest => $V3, data => $V3F);
        my $before = snap($dir);
        my $names = $SYSNAMES{$sys};
        my $r = upd($dir, [], prefix => [ 'strace', '-f', '-o', '/dev/null', '-e', "trace=$names",
            '-e', "inject=$names:error=$err:when=$when" ], env => \%NOLEAK);
        my $after = snap($dir);
        my @left = grep { /^\./ } dir_files($dir);
        my @why;
        if ($r->{rc} == 1) {
            push @why, changes($before, $after);
            push @why, 'stderr does not say what failed' unless $r->{err} =~ /error|space|cannot|fail/i;
        } elsif ($r->{rc} == 0) {
            push @why, 'exit 0 but the new data is not installed' if $after->{data} ne $newdata;
            push @why, 'exit 0 but the version is not the new one' if $after->{version} ne $NEWV;
        } else {
            push @why, "exit $r->{rc}";
        }
        push @why, "temp files left: @left" if @left;
        ok(!@why, "write error ($err on $sys #$when): exit 1 with the old data intact, or exit 0 with the new "
            . "(got exit $r->{rc})", @why, show($r));
        push @MATRIX, sprintf('%-42s exit %-2s %.2fs  %s', "$err on $sys #$when", $r->{rc}, $r->{secs}, $r->{err} =~ s/\n.*//sr);
    }
}

# disk full: a small tmpfs as the state dir
SKIP_TMPFS: {
    my $mnt = "$TMP/small";
    mkdir $mnt;
    if ($> != 0 || system('mount', '-t', 'tmpfs', '-o', 'size=256k,mode=0755', 'm365-test', $mnt) != 0) {
        skip('disk-full test needs root to mount a tmpfs');
        last SKIP_TMPFS;
    }
    $MOUNTED = $mnt;
    my $dir = "$mnt/state";
    mkdir $dir;
    copy_state($GOOD, $dir);
    my $before = snap($dir);
    control(latest => $V3, data => $V3F, fault => { endpoints => 'pad:' . 1024 * 1024 });
    my $r = upd($dir);
    my @left = grep { /^\./ } dir_files($dir);
    ok($r->{rc} == 1 && !changes($before, snap($dir)) && !@left && $r->{err} =~ /space/i && $r->{err} =~ /\Q$V2\E/,
        'disk full (1 MiB into a 256 KiB tmpfs): exit 1, "No space left", old data intact, no temp file left',
        changes($before, snap($dir)), "left: @left", show($r));
    push @MATRIX, sprintf('%-42s exit %-2s %.2fs  %s', 'disk full (tmpfs)', $r->{rc}, $r->{secs}, $r->{err} =~ s/\n.*//sr);
    control(latest => $V3, data => $V3F);
    $r = upd($dir);
    ok($r->{rc} == 0 && slurp("$dir/endpoints.json") eq slurp($V3F), 'disk full: once there is room, the update installs',
        show($r));
    if (system('umount', $mnt) == 0) { undef $MOUNTED }
}

# =========================================================================
ok(!@GUID_PROBLEMS && $GUID_REQUESTS > 50,
    "every request of every update ($GUID_REQUESTS) carried its state dir's ClientRequestId", @GUID_PROBLEMS);
my @bad_ids = grep { $_ !~ $GUID_RE } keys %GUIDS_SEEN;
ok(!@bad_ids, 'every ClientRequestId sent was a lower-case version-4 GUID (' . scalar(keys %GUIDS_SEEN) . ' distinct)',
    @bad_ids);
diag('fault matrix (case, exit, time, stderr):', @MATRIX);
diag(sprintf('update.t took %.1f s', time - $T_START));
tap_done();
