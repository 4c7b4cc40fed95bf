#!/usr/bin/perl
# The state directory cannot be turned against its owner (issue 9, item
# 5): whoever can write it, or a file in it, gains nothing the feed could
# not have done.  With the real binaries on state directories made the way
# an attacker would leave them:
#   - endpoints.json linked to crafted names (CR, LF, quotes, "*/",
#     U+2028/U+2029, NEL, a version that is no date): every output that
#     carries the version or instance (the PAC, evaluated by pacparser; the
#     Squid and HAProxy files; the MMDB; status as text, JSON and
#     Prometheus textfile; check) says "unknown" and carries none of it;
#   - a cache or a directory others can write: check, export and update
#     refuse it and say why; the helper serves the snapshot at start,
#     keeps its last good rules on a reload, says why once, and takes the
#     data again once a chmod fixes it;
#   - a FIFO or a link where a file of ours goes: no hang, no file made;
#   - a poisoned cache (what the feed's guards refuse): check and export
#     refuse it (exit 1, the guard's message) and write nothing;
#   - as root, files and directories of another user (nobody), and an
#     update run as the user that owns the state directory.
# TAP output; the root-only points are skipped (TAP skip form) otherwise.
#
#   prove -v -e '' tests/integration/state.t      (from the repo root)
#   M365_BUILD=build/san prove -e '' tests/integration/state.t
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use Tap;
use Cwd qw(getcwd);
use File::Basename qw(dirname);
use File::Copy qw(copy);
use File::Temp qw(tempdir);
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);

chdir(dirname(__FILE__) . '/../..') or die "chdir: $!";
my $ROOT = getcwd();
my $B    = $ENV{M365_BUILD} || 'build/rel';
my $CLI  = "$ROOT/$B/m365-direct";
my $ACL  = "$ROOT/$B/ext_m365_acl";
my $PY   = '/usr/bin/python3';
my $EVAL = "$ROOT/tests/integration/pac_eval.py";
my $WW   = "$ROOT/tests/data/worldwide-c2025.json";
my $V1   = '2025110700';
my $V2   = '2025112000';
my $PROXY = 'PROXY proxy.example.net:3128; DIRECT';
# tempdir is 0700; 0755 so that "nobody" can reach what the root-only
# cases give it
my $TMP  = tempdir('m365-state-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{M365_KEEP});
chmod 0755, $TMP or die;
diag("temp dir kept: $TMP") if $ENV{M365_KEEP};

for my $bin ($CLI, $ACL) {
    next if -x $bin;
    print "1..1\nnot ok 1 - $bin is built (run make)\n";
    exit 1;
}

# =========================================================================
# Running things
# =========================================================================
# run([argv], %o): { rc, out, err, secs }; rc -1 when it hung (o{timeout})
sub run {
    my ($argv, %o) = @_;
    return run_cmd(argv => $argv, timeout => $o{timeout} // 30,
        dir_mode => 0755);
}
sub cli { return run([ $CLI, '-c', '/dev/null', @_ ]) }
sub show {
    my ($r) = @_;
    return ("command: $r->{cmd}", sprintf('exit %d after %.2f s', $r->{rc}, $r->{secs}),
        "stdout: " . substr($r->{out}, 0, 2000), "stderr: $r->{err}");
}
# bytes shown with control characters and non-ASCII as \xHH
sub vis { return join '', map { /[\x20-\x7e]/ ? $_ : sprintf('\\x%02x', ord) } split //, $_[0] }
sub one_line { return $_[0] =~ /\A[^\n]+\n\z/ }

# =========================================================================
# Data and state directories
# =========================================================================
my $JSONW = JSON::PP->new->canonical->pretty;
sub variant {
    my ($name, $edit) = @_;
    my $sets = decode_json(slurp($WW));
    my ($s1) = grep { $_->{id} == 1 } @$sets;
    my ($s46) = grep { $_->{id} == 46 } @$sets;
    $edit->($s1, $s46);
    return spew("$TMP/$name.json", $JSONW->encode($sets));
}
# the cache is in use when this Optimize name is direct
my $PLUS   = variant('plus', sub { push @{ $_[0]{urls} }, 'm365-state-cache.office365.com' });
my $PLUS2  = variant('plus2', sub { push @{ $_[0]{urls} }, 'm365-state-second.office365.com' });
my $POISON = variant('poison', sub { push @{ $_[0]{urls} }, '*.com' });
my $PRIV   = variant('private', sub { push @{ $_[1]{ips} }, '10.0.0.0/8' });

my $STATES = 0;
# new_state($data, $version): a state dir as an update leaves it (mode
# 0755, the data 0644 in endpoints-VERSION-Worldwide.json, the link)
sub new_state {
    my ($data, $version) = @_;
    my $d = "$TMP/state" . ++$STATES;
    mkdir $d or die;
    chmod 0755, $d;
    install_as($d, $data, 'endpoints-' . ($version // $V1) . '-Worldwide.json');
    return $d;
}
# install_as($dir, $data, $name): $data in $dir/$name (a "/" in the name:
# a directory first), endpoints.json switched to it with one rename
sub install_as {
    my ($d, $data, $name) = @_;
    if ($name =~ m{^(.*)/}) { mkdir "$d/$1"; chmod 0755, "$d/$1" }
    copy($data, "$d/$name") or die "copy $name: $!";
    chmod 0644, "$d/$name";
    unlink "$d/.link";
    symlink($name, "$d/.link") or die "symlink: $!";
    rename("$d/.link", "$d/endpoints.json") or die "rename: $!";
}
sub state_snap {
    my ($d) = @_;
    opendir(my $dh, $d) or return '';
    my @f = sort grep { !/^\.\.?$/ } readdir $dh;
    return join(' ', @f) . '|' . (readlink("$d/endpoints.json") // '') . '|'
        . slurp("$d/endpoints.json");
}

# A file:// mirror announcing $V2 with the plain data.
my $MIRROR = "$TMP/mirror";
mkdir $MIRROR; mkdir "$MIRROR/version"; mkdir "$MIRROR/endpoints";
spew("$MIRROR/version/Worldwide", qq({"instance": "Worldwide", "latest": "$V2"}\n));
copy($WW, "$MIRROR/endpoints/Worldwide") or die;
chmod 0755, $MIRROR, "$MIRROR/version", "$MIRROR/endpoints";
chmod 0644, "$MIRROR/version/Worldwide", "$MIRROR/endpoints/Worldwide";
sub update { my ($d, @a) = @_; return cli('--state-dir', $d, 'update', '--base-url', "file://$MIRROR", @a) }

# =========================================================================
# Every output that carries the version or instance
# =========================================================================
my $PROM_LINE = qr/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*,?)?\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)( -?\d+)?$/;

# The textfile's lines that are not HELP/TYPE comments or valid metrics,
# and the metric names.
sub prom_check {
    my ($text) = @_;
    my (@bad, %names);
    for my $l (split /\n/, $text, -1) {
        next if $l eq '';
        if ($l =~ /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* [^\r]*$/) {
        } elsif ($l =~ $PROM_LINE && $l !~ /\r/) {
            $names{$1} = 1;
        } else {
            push @bad, 'not a metric line: ' . vis($l);
        }
    }
    return (\@bad, \%names);
}

# outputs($dir, $tag): runs every writer and reader on the state dir;
# { name => { r => run, text => what it wrote } }
sub outputs {
    my ($d, $tag) = @_;
    my $o = "$TMP/out-$tag";
    mkdir $o;
    my %x;
    $x{pac} = { r => cli('--state-dir', $d, 'export', 'pac', '-o', "$o/p.pac", '--proxy', $PROXY) };
    $x{pac}{text} = slurp("$o/p.pac");
    for my $f (qw(squid haproxy)) {
        mkdir "$o/$f";
        $x{$f} = { r => cli('--state-dir', $d, 'export', $f, '-o', "$o/$f") };
        opendir(my $dh, "$o/$f");
        $x{$f}{text} = join '', map { slurp("$o/$f/$_") } sort grep { !/^\./ } readdir $dh;
    }
    $x{mmdb} = { r => cli('--state-dir', $d, 'export', 'mmdb', '-o', "$o/m.mmdb") };
    # its metadata, where the header is (the rest is a binary tree, in
    # which any short byte string may turn up)
    $x{mmdb}{text} = (split /\xab\xcd\xefMaxMind\.com/, slurp("$o/m.mmdb"), 2)[1] // '';
    $x{prom} = { r => cli('--state-dir', $d, 'status', '--prometheus', "$o/m.prom") };
    $x{prom}{text} = slurp("$o/m.prom");
    $x{json} = { r => cli('--state-dir', $d, 'status', '--json') };
    $x{json}{text} = $x{json}{r}{out};
    $x{status} = { r => cli('--state-dir', $d, 'status') };
    $x{status}{text} = $x{status}{r}{out};
    $x{check} = { r => cli('--state-dir', $d, 'check', 'outlook.office365.com', '443', '--json') };
    $x{check}{text} = $x{check}{r}{out};
    return \%x;
}

# the PAC's answers for a few hosts: { host => answer }, or undef
sub pac_answers {
    my ($pac) = @_;
    my $in = "$pac.hosts";
    spew($in, "outlook.office365.com\nwww.example.com\nintranet.example.net\n10.1.2.3\n");
    my $pid = open(my $fh, '-|') // die;
    if ($pid == 0) { open(STDIN, '<', $in); open(STDERR, '>', "$pac.err"); exec($PY, $EVAL, $pac) or exit 127 }
    my %a = map { chomp; split /\t/, $_, 2 } <$fh>;
    close $fh;
    return $? == 0 ? \%a : undef;
}

# The control: a name of ours, the version and instance in every output.
{
    my $d = new_state($PLUS);
    my $x = outputs($d, 'control');
    my @why;
    push @why, grep { $x->{$_}{r}{rc} != 0 } sort keys %$x;
    push @why, 'pac header' unless $x->{pac}{text} =~ m{^// Data: Worldwide version \Q$V1\E \(cache }m;
    push @why, 'squid header' unless $x->{squid}{text} =~ /^# Data: Worldwide version \Q$V1\E /m;
    push @why, 'haproxy header' unless $x->{haproxy}{text} =~ /^# Data: Worldwide version \Q$V1\E /m;
    push @why, 'mmdb' unless index($x->{mmdb}{text}, $V1) >= 0;
    push @why, 'prometheus label' unless $x->{prom}{text} =~ /version="\Q$V1\E",instance="Worldwide"/;
    push @why, 'status --json' unless $x->{json}{text} =~ /"version":"\Q$V1\E","instance":"Worldwide"/;
    ok(!@why, 'control: a link of ours, endpoints-VERSION-Worldwide.json: every output names the version '
        . 'and instance', map({ "wrong: $_" } @why), map { show($x->{$_}{r}) } grep { $x->{$_}{r}{rc} != 0 } keys %$x);
}

# [ link target, what must not come out, why ]
my @CRAFTED = (
    [ "endpoints-$V1\r-Worldwide.json", "\r", 'CR after the version' ],
    [ "endpoints-$V1-Worldwide\r}function FindProxyForURL(u,h){return \"DIRECT\";}\r.json",
        'FindProxyForURL(u,h)', 'CR: a PAC comment ended, every host DIRECT' ],
    [ "endpoints-$V1-World\nwide.json", "World\nwide", 'LF in the instance' ],
    [ "endpoints-$V1-W\"} 1\nm365_direct_evil{a=\"b.json", 'm365_direct_evil', 'quote and LF: a Prometheus metric' ],
    [ "endpoints-$V1-*/return \"DIRECT\";.json", '*/return', '"*/": a block comment ended' ],
    [ "endpoints-$V1-World\xe2\x80\xa8return \"DIRECT\";wide.json", "\xe2\x80\xa8", 'U+2028: a JavaScript line end' ],
    [ "endpoints-$V1-Worldwide\xe2\x80\xa9x.json", "\xe2\x80\xa9", 'U+2029: a JavaScript line end' ],
    [ "endpoints-$V1-Worldwide\xc2\x85x.json", "\xc2\x85", 'NEL' ],
    [ 'endpoints-9999999999-Worldwide.json', '9999999999', 'ten digits that are no date' ],
    [ 'endpoints-2025023000-Worldwide.json', '2025023000', 'the 30th of February' ],
);
my $n = 0;
for my $c (@CRAFTED) {
    my ($name, $bad, $why) = @$c;
    my $d = new_state($WW);
    install_as($d, $PLUS, $name);
    my $x = outputs($d, 'crafted' . ++$n);
    my @why;
    for my $k (sort keys %$x) {
        push @why, "$k: exit $x->{$k}{r}{rc}: $x->{$k}{r}{err}" if $x->{$k}{r}{rc} != 0;
        push @why, "$k carries " . vis($bad) if index($x->{$k}{text}, $bad) >= 0;
        push @why, "$k carries a CR" if $k ne 'mmdb' && $x->{$k}{text} =~ /\r/;
    }
    push @why, 'pac header does not say version unknown'
        unless $x->{pac}{text} =~ m{^// Data: version unknown \(cache \Q$d\E/endpoints\.json\)}m;
    push @why, 'squid header does not say version unknown' unless $x->{squid}{text} =~ /^# Data: version unknown /m;
    push @why, 'haproxy header does not say version unknown' unless $x->{haproxy}{text} =~ /^# Data: version unknown /m;
    my $j = eval { decode_json($x->{json}{text}) } || {};
    push @why, 'status --json: version/instance not empty or data not loaded'
        unless ($j->{version} // 'x') eq '' && ($j->{instance} // 'x') eq '' && $j->{loads};
    push @why, 'status: version not unknown' unless $x->{status}{text} =~ /^version:\s+unknown$/m;
    my ($bad_lines, $names) = prom_check($x->{prom}{text});
    push @why, @$bad_lines;
    push @why, 'prometheus: a metric that is not ours' if grep { !/^m365_direct_/ } keys %$names;
    push @why, 'prometheus: version label not empty' unless $x->{prom}{text} =~ /version="",instance=""/;
    my $a = pac_answers("$TMP/out-crafted$n/p.pac");
    push @why, 'pacparser could not evaluate the PAC' unless $a;
    push @why, 'the PAC sends non-Microsoft hosts DIRECT'
        if $a && grep { ($a->{$_} // '') ne $PROXY } qw(www.example.com intranet.example.net 10.1.2.3);
    push @why, 'the PAC lost outlook.office365.com' if $a && ($a->{'outlook.office365.com'} // '') ne 'DIRECT';
    push @why, 'the cache was not the data used' unless $x->{pac}{text} =~ /m365-state-cache\.office365\.com/;
    ok(!@why, 'crafted link ' . vis($name) . " ($why): read as version unknown, in no output", @why);
}

{
    # status.json is a file: what it says reaches a terminal as text only
    my $d = new_state($PLUS);
    spew("$d/status.json", qq({"last_attempt": 1790000000, "last_result": "failed\\u001b[2J",\n)
        . qq( "last_message": "x\\u001b]0;owned\\u0007\\r\\ny\\u2028z"}\n));
    my $r = cli('--state-dir', $d, 'status');
    ok($r->{rc} == 0 && $r->{out} !~ /[\x00-\x09\x0b-\x1f\x7f-\xff]/
        && $r->{out} =~ /^last result:\s+failed\\x1b\[2J: x\\x1b\]0;owned\\x07\\x0d\\x0ay\\xe2\\x80\\xa8z$/m,
        'status: the escape sequences and line ends of status.json are shown as \\xHH, never sent', show($r));
}

# =========================================================================
# Files and directories others can write
# =========================================================================
{
    my $d = new_state($PLUS);
    my $data = "$d/endpoints-$V1-Worldwide.json";
    chmod 0666, $data;
    my $before = state_snap($d);
    my $r = cli('--state-dir', $d, 'check', 'm365-state-cache.office365.com', '--json');
    ok($r->{rc} == 1 && $r->{out} eq '' && $r->{err} =~ /\Q$data\E: writable by others \(mode 0666\)/
        && $r->{err} =~ /refusing data that another user could have written/,
        'cache mode 0666: check refuses it (exit 1), naming the file and why', show($r));
    my $pac = spew("$TMP/kept.pac", "// the admin's last good PAC\n");
    $r = cli('--state-dir', $d, 'export', 'pac', '-o', $pac);
    ok($r->{rc} == 1 && slurp($pac) eq "// the admin's last good PAC\n" && $r->{err} =~ /writable by others/,
        'cache mode 0666: export refuses it (exit 1), the PAC in place untouched', show($r));
    $r = cli('--state-dir', $d, 'status', '--json');
    my $j = eval { decode_json($r->{out}) } || {};
    ok($r->{rc} == 0 && !$j->{loads} && ($j->{error} // '') =~ /writable by others/,
        'cache mode 0666: status says the data does not load, and why', show($r));
    $r = update($d);
    ok($r->{rc} == 1 && one_line($r->{err}) && $r->{err} =~ /\Q$data\E: writable by others \(mode 0666\); refusing a state directory another user can write/
        && state_snap($d) eq $before,
        'cache mode 0666: update refuses the state directory (exit 1, one line), nothing changed', show($r));

    # the helper, at start: the snapshot, said once
    my ($pid, $w, $rd) = spawn_piped($ACL, "$TMP/helper1.err", '-c', '/dev/null', '--concurrency',
        '--state-dir', $d, '--reload-interval', '0');
    $w->autoflush(1);
    print $w "1 m365-state-cache.office365.com 443 -\n2 outlook.office365.com 443 -\n"
        . "3 m365-state-cache.office365.com 80 -\n";
    my @a = map { scalar(<$rd>) // '(EOF)' } 1 .. 3;
    close $w;
    waitpid($pid, 0);
    my $err = slurp("$TMP/helper1.err");
    ok($a[0] =~ /^1 ERR m365=proxy/ && $a[1] =~ /^2 OK m365=direct m365_category=optimize/
        && $a[2] =~ /^3 ERR m365=proxy/ && $? == 0,
        'cache mode 0666: the helper serves the bundled snapshot, not the file', @a, "stderr: $err");
    my @lines = grep { /writable by others/ } split /\n/, $err;
    ok(@lines == 1 && $lines[0] =~ /falling back to the bundled snapshot/,
        'cache mode 0666: the helper says why, once', "stderr: $err");
}
for my $m ([ 0775, 'writable by its group (mode 0775)' ], [ 01777, 'writable by others (mode 1777)' ]) {
    my ($mode, $why) = @$m;
    my $d = new_state($PLUS);
    chmod $mode, $d;
    my $before = state_snap($d);
    my $r1 = cli('--state-dir', $d, 'check', 'outlook.office365.com', '--json');
    my $r2 = update($d);
    ok($r1->{rc} == 1 && $r1->{err} =~ /\Q$d\E: \Q$why\E/ && $r2->{rc} == 1 && $r2->{err} =~ /\Q$d\E: \Q$why\E/
        && state_snap($d) eq $before && !-e "$d/.lock",
        sprintf('state dir mode %04o: check and update refuse it; update made nothing in it (not even .lock)', $mode),
        show($r1), show($r2));
}
{
    # a directory above: writable is refused, sticky (as /tmp) is not
    my $p = "$TMP/parent";
    mkdir $p;
    chmod 0777, $p;
    my $d = "$p/state";
    mkdir $d; chmod 0755, $d;
    install_as($d, $PLUS, "endpoints-$V1-Worldwide.json");
    my $r = cli('--state-dir', $d, 'check', 'm365-state-cache.office365.com', '--json');
    my $u = update($d);
    ok($r->{rc} == 1 && $r->{err} =~ /\Q$p\E: writable by others \(mode 0777\)/ && $u->{rc} == 1
        && $u->{err} =~ /\Q$p\E: writable by others/,
        'a directory above the state dir writable by others: refused by check and update', show($r), show($u));
    my $fresh = "$p/fresh";
    $u = update($fresh);
    ok($u->{rc} == 1 && !-e $fresh, 'update does not make a state dir under a directory others can write',
        show($u));
    chmod 01777, $p;
    $r = cli('--state-dir', $d, 'check', 'm365-state-cache.office365.com', '--json');
    ok($r->{rc} == 0 && $r->{out} =~ /"direct":true/ && $r->{err} eq '',
        'the same directory sticky (as /tmp): nobody can replace the state dir in it, the cache is used', show($r));
    chmod 0755, $p;
}
{
    # the helper running: a new install others can write is refused and
    # the last good rules stay; a chmod makes it good
    my $d = new_state($PLUS);
    my $errf = "$TMP/helper2.err";
    my ($pid, $w, $rd) = spawn_piped($ACL, $errf, '-c', '/dev/null', '--concurrency', '--state-dir', $d,
        '--reload-interval', '0');
    $w->autoflush(1);
    my $id = 0;
    my $ask = sub { $id++; print $w "$id $_[0] 443 -\n"; my $l = <$rd> // '(EOF)'; chomp $l; return $l };
    my $a0 = $ask->('m365-state-cache.office365.com');
    install_as($d, $PLUS2, "endpoints-$V2-Worldwide.json");
    chmod 0666, "$d/endpoints-$V2-Worldwide.json";
    my @a = map { $ask->($_) } ('m365-state-second.office365.com', 'm365-state-cache.office365.com',
        'm365-state-second.office365.com', 'm365-state-cache.office365.com');
    my $err = slurp($errf);
    my @lines = grep { /reload failed/ } split /\n/, $err;
    ok($a0 =~ /^1 OK m365=direct/ && $a[0] =~ /^2 ERR/ && $a[1] =~ /^3 OK m365=direct/ && $a[2] =~ /^4 ERR/
        && $a[3] =~ /^5 OK m365=direct/,
        'helper: an install others can write is refused, the last good rules keep answering', $a0, @a, "stderr: $err");
    ok(@lines == 1 && $lines[0] =~ /keeping the current rules/ && $lines[0] =~ /writable by others \(mode 0666\)/,
        'helper: the refusal is logged once, with why (4 requests later)', "stderr: $err");
    chmod 0644, "$d/endpoints-$V2-Worldwide.json";
    my @b = map { $ask->($_) } ('m365-state-second.office365.com', 'm365-state-cache.office365.com');
    close $w;
    waitpid($pid, 0);
    ok($b[0] =~ /^6 OK m365=direct/ && $b[1] =~ /^7 ERR/ && $? == 0,
        'helper: once the file is fixed (chmod only, the data unchanged) it is loaded', @b, 'stderr: ' . slurp($errf));
}

# =========================================================================
# A FIFO or a link where a file of ours goes
# =========================================================================
for my $name (qw(client-request-id status.json .lock endpoints.json)) {
    my $d = new_state($WW);
    my $r0 = update($d);               # client-request-id and status.json made
    unlink "$d/$name";
    system('mkfifo', "$d/$name") == 0 or die;
    my $r = update($d);
    my $s = cli('--state-dir', $d, 'status');
    ok($r0->{rc} == 0 && $r->{rc} == 1 && $r->{secs} < 10 && $r->{err} =~ /\Q$d\/$name\E: not a regular file/
        && -p "$d/$name" && $s->{rc} == 0 && $s->{secs} < 10,
        "a FIFO at $name: update fails at once (\"not a regular file\"), leaves it; status does not hang",
        show($r0), show($r), show($s));
}
{
    my $d = new_state($WW);
    my $target = "$TMP/made-through-the-link";
    symlink($target, "$d/.lock") or die;
    my $r = update($d);
    ok($r->{rc} == 1 && !-e $target && $r->{err} =~ /\.lock: a symbolic link/,
        'a link at .lock: update refuses it and never makes the file it names', show($r));
    unlink "$d/.lock";
    symlink('/etc/passwd', "$d/status.json") or die;
    $r = update($d);
    ok($r->{rc} == 1 && $r->{err} =~ /status\.json: a symbolic link/ && -l "$d/status.json",
        'a link at status.json: update refuses it (and does not replace it)', show($r));
}

# =========================================================================
# A poisoned cache: the feed's guards, again
# =========================================================================
for my $p ([ $POISON, qr/\*\.com/, '*.com in Optimize set 1' ], [ $PRIV, qr/10\.0\.0\.0\/8/, '10.0.0.0/8 in Allow set 46' ]) {
    my ($data, $re, $what) = @$p;
    my $d = new_state($data);
    my $r = cli('--state-dir', $d, 'check', 'www.example.com', '--json');
    ok($r->{rc} == 1 && $r->{out} eq '' && $r->{err} =~ /refused by the feed's guards/ && $r->{err} =~ $re,
        "poisoned cache ($what): check refuses it with the guard's message", show($r));
    my $o = "$TMP/poison-out-$STATES";
    mkdir $o;
    my @why;
    for my $f (qw(pac squid haproxy mmdb)) {
        my $out = $f eq 'pac' ? "$o/p.pac" : $f eq 'mmdb' ? "$o/m.mmdb" : "$o/$f";
        mkdir $out if $f eq 'squid' || $f eq 'haproxy';
        my $e = cli('--state-dir', $d, 'export', $f, '-o', $out);
        push @why, "$f: exit $e->{rc}" if $e->{rc} != 1;
        push @why, "$f: stderr $e->{err}" unless $e->{err} =~ $re && one_line($e->{err});
        push @why, "$f: wrote $out" if -f $out || (-d $out && glob("$out/*"));
    }
    ok(!@why, "poisoned cache ($what): export pac, squid, haproxy and mmdb refuse it (exit 1), write nothing", @why);
}
{
    # --data is the admin's own choice: not the cache, not guarded
    my $r = cli('--data', $PRIV, 'check', '10.1.2.3', '--json');
    ok($r->{rc} == 0 && $r->{out} =~ /"direct":true/, '--data FILE (the admin\'s own) is used as it is', show($r));
}

# =========================================================================
# As root: files and directories of another user
# =========================================================================
SKIP_ROOT: {
    my $uid = getpwnam('nobody');
    if ($> != 0 || !defined $uid || !-x '/usr/sbin/runuser') {
        skip('ownership cases need root, the user nobody and runuser') for 1 .. 7;
        last SKIP_ROOT;
    }
    my $gid = (getpwnam('nobody'))[3];
    my $as_nobody = sub { return run([ '/usr/sbin/runuser', '-u', 'nobody', '--', @_ ]) };

    my $d = new_state($PLUS);
    chown $uid, $gid, $d;
    my $before = state_snap($d);
    my $r = update($d);
    ok($r->{rc} == 1 && $r->{err} =~ /\Q$d\E: owned by another user \(uid $uid\); refusing a state directory another user can write/
        && state_snap($d) eq $before,
        'root: a state dir owned by nobody is refused by update, nothing changed', show($r));
    $r = cli('--state-dir', $d, 'check', 'm365-state-cache.office365.com', '--json');
    ok($r->{rc} == 1 && $r->{err} =~ /owned by another user \(uid $uid\)/,
        'root: ... and by check (root\'s file in it: nobody could replace it)', show($r));

    $d = new_state($PLUS);
    update($d);
    chown $uid, $gid, "$d/status.json";
    $before = state_snap($d);
    $r = update($d);
    ok($r->{rc} == 1 && $r->{err} =~ /status\.json: owned by another user \(uid $uid\)/ && state_snap($d) eq $before,
        'root: status.json owned by nobody in root\'s state dir: update refuses', show($r));

    # the parent owned by another user (it could swap the state dir)
    my $p = "$TMP/nobodys";
    mkdir $p; chmod 0755, $p; chown $uid, $gid, $p;
    $d = "$p/state";
    mkdir $d; chmod 0755, $d;
    install_as($d, $PLUS, "endpoints-$V1-Worldwide.json");
    $r = update($d);
    ok($r->{rc} == 1 && $r->{err} =~ /\Q$p\E: owned by another user/,
        'root: a state dir under a directory of nobody\'s: update refuses', show($r));
    my $hr = run([ '/bin/sh', '-c', "echo 'm365-state-cache.office365.com 443' | $ACL -c /dev/null --state-dir $d" ]);
    my $hn = run([ '/bin/sh', '-c', "echo 'm365-state-cache.office365.com 443' | /usr/sbin/runuser -u nobody -- $ACL -c /dev/null --state-dir $d" ]);
    ok($hr->{out} =~ /^ERR m365=proxy/ && $hr->{err} =~ /owned by another user/ && $hn->{out} =~ /^OK m365=direct/
        && $hn->{err} !~ /owned by another user/,
        'helper: root\'s data under nobody\'s directory: refused when root reads it, taken by nobody itself '
        . '(the reader may trust itself)', show($hr), show($hn));

    # the updater's own user: its state dir is fine when it runs the update
    my $q = "$TMP/own";
    mkdir $q; chmod 0755, $q;
    $d = "$q/state";
    mkdir $d; chown $uid, $gid, $d; chmod 0755, $d;
    $r = $as_nobody->($CLI, '-c', '/dev/null', '--state-dir', $d, 'update', '--base-url', "file://$MIRROR");
    my $owner = (stat("$d/endpoints-$V2-Worldwide.json"))[4] // -1;
    ok($r->{rc} == 0 && $r->{err} =~ /installed Worldwide version \Q$V2\E/ && $owner == $uid,
        'update run as nobody in a state dir owned by nobody installs (the files are nobody\'s)', show($r));
    $r = cli('--state-dir', $d, 'check', 'outlook.office365.com', '443', '--json');
    my $u = update($d);
    ok($r->{rc} == 0 && $r->{err} eq '' && $u->{rc} == 1 && $u->{err} =~ /owned by another user/,
        'nobody\'s state dir: root reads it (only its owner can write it) but root\'s update refuses to write in it',
        show($r), show($u));
}

tap_done();
