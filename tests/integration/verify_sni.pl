#!/usr/bin/perl
# The cases of tests/integration/verify-sni.t, run by it inside a private
# network namespace (LS_DIR: its temp dir): ext_m365_acl --verify-sni dns
# against a dnsmasq on 127.0.0.1 and a silent DNS server (dns_slow.py),
# with exact answers, answer times, query counts in dnsmasq's log, the
# helper's cache.log side and its memory.  TAP output (Tap.pm).
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use Tap;
use Errno qw(EAGAIN EINTR);
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK);
use File::Basename qw(dirname);
use IO::Select;
use IO::Socket::INET;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);

chdir(dirname(__FILE__) . '/../..') or die "chdir: $!";
my $B   = $ENV{M365_BUILD} || 'build/rel';
my $ACL = "$B/ext_m365_acl";
my $WW  = 'tests/data/worldwide-c2025.json';
my $DIR = $ENV{LS_DIR} or die "run by verify-sni.t (LS_DIR unset)\n";
my $PY  = $ENV{LS_PY} || '/usr/bin/python3';
$SIG{PIPE} = 'IGNORE';

# --- background servers ---------------------------------------------------
my @KIDS;
sub start_bg {
    my ($out, @cmd) = @_;
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open(STDIN, '<', '/dev/null') or die;
        open(STDOUT, '>>', $out) or die;
        open(STDERR, '>&', \*STDOUT) or die;
        exec(@cmd) or exit 127;
    }
    push @KIDS, $pid;
    return $pid;
}
sub stop_pid {
    my ($pid) = @_;
    return unless $pid && kill(0, $pid);
    kill 'TERM', $pid;
    my $t0 = time;
    while (waitpid($pid, WNOHANG) == 0) {
        if (time - $t0 > 3) { kill 'KILL', $pid; waitpid($pid, 0); last }
        sleep 0.02;
    }
    @KIDS = grep { $_ != $pid } @KIDS;
}
END { my $rc = $?; stop_pid($_) for @KIDS; $? = $rc }

sub free_port {
    for (1 .. 50) {
        my $u = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
            Proto => 'udp') or die "udp socket: $!";
        my $p = $u->sockport;
        my $t = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $p,
            Proto => 'tcp', Listen => 1, ReuseAddr => 1) or next;
        return $p;
    }
    die "no free port\n";
}

# A DNS query for name (type A), raw; the ID is random enough.
sub dns_query {
    my ($name) = @_;
    my $q = pack('nnnnnn', int(rand(65535)), 0x0100, 1, 0, 0, 0);
    $q .= pack('C', length $_) . $_ for split /\./, $name;
    return $q . pack('Cnn', 0, 1, 1);
}
# Whether a DNS server answers on 127.0.0.1:port within 0.2 s.
sub dns_answers {
    my ($port, $name) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
        Proto => 'udp') or return 0;
    $s->send(dns_query($name));
    return 0 unless IO::Select->new($s)->can_read(0.2);
    my $buf;
    return defined($s->recv($buf, 4096)) && length($buf) >= 12;
}

my $DPORT  = free_port();       # dnsmasq
my $SPORT  = free_port();       # never answers
$SPORT = free_port() while $SPORT == $DPORT;
my $DNSLOG = "$DIR/dnsmasq.log";
my $DNS_PID;
my $STARTS = 0;
my @DNS_ARGS = ('-c', '/dev/null', '--data', 'tests/data/worldwide-c2025.json',
    '--concurrency', '--fields', 'sni,host,port');

# (Re)starts dnsmasq with @records (host-record values: name,addr...,ttl),
# authoritative for officeapps.live.com (NXDOMAIN for names it does not
# know) but for slow.officeapps.live.com, which it forwards to the silent
# server, and REFUSED for everything else (no upstream).
sub start_dns {
    my (@records) = @_;
    stop_pid($DNS_PID) if $DNS_PID;
    my $conf = "$DIR/dnsmasq" . ++$STARTS . '.conf';
    spew($conf, join '', map { "$_\n" } "port=$DPORT",
        'listen-address=127.0.0.1', 'bind-interfaces', 'no-resolv',
        'no-hosts', 'user=root', 'pid-file=', 'log-queries',
        "log-facility=$DNSLOG", 'local=/officeapps.live.com/',
        "server=/slow.officeapps.live.com/127.0.0.1#$SPORT",
        'dns-forward-max=2000',
        map { "host-record=$_" } @records);
    $DNS_PID = start_bg("$DIR/dnsmasq.out", 'dnsmasq', '--no-daemon',
        '-C', $conf);
    for (1 .. 50) {
        return 1 if dns_answers($DPORT, "ready$STARTS.officeapps.live.com");
        sleep 0.1;
    }
    return 0;
}

# How many queries (A and AAAA) dnsmasq logged for name.
sub queries {
    my ($name) = @_;
    my $n = () = slurp($DNSLOG) =~ /query\[(?:A|AAAA)\] \Q$name\E from/g;
    return $n;
}
# Waits until dnsmasq logged a query for name (so every query asked before
# it is in the log too); returns whether it did.
sub logged {
    my ($name) = @_;
    for (1 .. 100) {
        return 1 if queries($name) > 0;
        sleep 0.02;
    }
    return 0;
}

# Has a helper ask dnsmasq for sentinelN.officeapps.live.com and waits
# until the query is in the log: every query asked before is in it too.
sub sentinel {
    my ($n) = @_;
    my $name = "sentinel$n.officeapps.live.com";
    my $h = helper(@DNS_ARGS, '--verify-sni', 'dns', '--dns-server',
        "127.0.0.1:$DPORT");
    say_lines($h, "1 $name 192.0.2.10 443");
    finish($h);
    return logged($name);
}

# --- the helper -----------------------------------------------------------
# Started with pipes; answers are read as they come, each with the time it
# was read.
my $RUNS = 0;
sub helper {
    my (@args) = @_;
    my $err = "$DIR/helper" . ++$RUNS . '.err';
    my ($pid, $p_out, $p_in) = spawn_piped($ACL, $err, @args);
    fcntl($p_out, F_SETFL, fcntl($p_out, F_GETFL, 0) | O_NONBLOCK);
    return { pid => $pid, w => $p_out, r => $p_in, wbuf => '', rbuf => '',
        ans => [], errfile => $err, eof => 0 };
}

# Moves bytes both ways until the input is written (when $drain) and
# $until returns true, or the deadline.
sub pump {
    my ($h, $deadline, $until) = @_;
    while (time < $deadline) {
        return 1 if $until->() && $h->{wbuf} eq '';
        my $rs = IO::Select->new; $rs->add($h->{r}) unless $h->{eof};
        my $ws = IO::Select->new; $ws->add($h->{w}) if $h->{wbuf} ne '' && $h->{w};
        last if !$rs->count && !$ws->count;
        my ($r, $w) = IO::Select->select($rs, $ws, undef, $deadline - time);
        if ($w && @$w) {
            my $n = syswrite($h->{w}, $h->{wbuf});
            if (defined $n) { substr($h->{wbuf}, 0, $n) = '' }
            elsif ($! != EAGAIN && $! != EINTR) { $h->{wbuf} = '' }
        }
        if ($r && @$r) {
            my $n = sysread($h->{r}, $h->{rbuf}, 65536, length $h->{rbuf});
            my $t = time;
            if (!$n) { $h->{eof} = 1; next }
            while ($h->{rbuf} =~ s/^([^\n]*)\n//) { push @{ $h->{ans} }, [ $t, $1 ] }
        }
    }
    return $until->() && $h->{wbuf} eq '';
}

# Writes the lines (LF added); returns the time the last byte was written.
sub say_lines {
    my ($h, @lines) = @_;
    $h->{wbuf} .= join '', map { "$_\n" } @lines;
    pump($h, time + 10, sub { 1 });
    return time;
}

# Reads until n answers in all came (or timeout seconds passed).
sub wait_answers {
    my ($h, $n, $timeout) = @_;
    return pump($h, time + ($timeout // 5), sub { @{ $h->{ans} } >= $n });
}

# Closes the helper's stdin and reads until EOF; returns its exit status
# (-1 when it had not exited after timeout seconds) and keeps its stderr.
sub finish {
    my ($h, $timeout) = @_;
    $timeout //= 10;
    my $t0 = time;
    pump($h, $t0 + $timeout, sub { 1 });
    close $h->{w}; $h->{w} = undef;
    pump($h, $t0 + $timeout, sub { $h->{eof} });
    my $w;
    while (($w = waitpid($h->{pid}, WNOHANG)) == 0 && time - $t0 < $timeout) { sleep 0.01 }
    $h->{took} = time - $t0;
    if ($w == 0) { kill 'KILL', $h->{pid}; waitpid($h->{pid}, 0); $h->{rc} = -1 }
    else { $h->{rc} = exit_code($?) }
    $h->{err} = slurp($h->{errfile});
    return $h->{rc};
}

# The answers per channel ID: { ID => [ [time, answer without ID], ... ] }.
sub by_id {
    my ($h) = @_;
    my %a;
    for (@{ $h->{ans} }) {
        my ($t, $l) = @$_;
        my ($id, $rest) = $l =~ /^(\S+) (.*)$/ ? ($1, $2) : ('', $l);
        push @{ $a{$id} }, [ $t, $rest ];
    }
    return \%a;
}
sub all_answers {   # (the first 40, for diagnostics)
    my @a = map { $_->[1] } @{ $_[0]{ans} };
    return join "\n", @a > 40 ? (@a[0 .. 39], '... ' . (@a - 40) . ' more') : @a;
}

# Runs the helper on @lines (IDs 1..n prepended) until EOF; returns it.
sub run_lines {
    my ($args, @lines) = @_;
    my $h = helper(@$args);
    say_lines($h, map { ($_ + 1) . " $lines[$_]" } 0 .. $#lines);
    finish($h);
    return $h;
}

# Checks that h answered channel id exactly once, with want.
sub want {
    my ($h, $id, $want, $desc) = @_;
    my $a = by_id($h)->{$id} // [];
    my @got = map { $_->[1] } @$a;
    ok(@got == 1 && $got[0] eq $want, "$desc: $want",
        'got: ' . (@got ? join(' | ', @got) : '(no answer)'),
        'all answers:', all_answers($h), 'stderr:', substr($h->{err} // '', -1500));
}

# Checks the exit and that every one of ids got exactly one answer, and
# that nothing answered BH.
sub want_all_once {
    my ($h, $label, @ids) = @_;
    my $a = by_id($h);
    my @bad = grep { @{ $a->{$_} // [] } != 1 } @ids;
    my %known = map { $_ => 1 } @ids;
    my @extra = grep { !$known{$_} } keys %$a;
    ok(!@bad && !@extra && @{ $h->{ans} } == @ids,
        "$label: every line answered exactly once (" . scalar(@ids) . ')',
        'not once: ' . join(' ', map { "$_ x" . scalar(@{ $a->{$_} // [] }) } @bad[0 .. ($#bad < 9 ? $#bad : 9)]),
        'unexpected ids: ' . join(' ', @extra[0 .. ($#extra < 9 ? $#extra : 9)]));
    ok(!grep({ $_->[1] =~ /^(\S+ )?BH\b/ } @{ $h->{ans} }), "$label: never BH");
    ok(defined $h->{rc} && $h->{rc} == 0, "$label: exit 0 at EOF",
        "rc " . ($h->{rc} // 'running'), 'stderr: ' . substr($h->{err} // '', -1500));
}

sub vmrss_kib {
    my ($pid, $key) = @_;
    my $s = slurp("/proc/$pid/status");
    return $s =~ /^\Q$key\E:\s+(\d+) kB/m ? $1 : -1;
}

my @BASE = ('-c', '/dev/null', '--data', $WW, '--concurrency',
    '--fields', 'sni,host,port');
my @DNS  = (@BASE, '--verify-sni', 'dns', '--dns-server', "127.0.0.1:$DPORT");
my @SILENT = (@BASE, '--verify-sni', 'dns', '--dns-server', "127.0.0.1:$SPORT");

# The answers (tests/data/worldwide-c2025.json: *.officeapps.live.com is
# Allow set 46 with no IP ranges; 13.107.6.152 is Optimize set 1; the
# 192.0.2.0/24 and 2001:db8::/32 documentation ranges are nowhere).
my $VER  = 'OK m365=direct m365_category=allow m365_sets=46 m365_reason=sni-verified';
my $MIS  = 'ERR m365=proxy m365_category=none m365_reason=sni-mismatch';
my $TMO  = 'ERR m365=proxy m365_category=none m365_reason=dns-timeout';
my $FAIL = 'ERR m365=proxy m365_category=none m365_reason=dns-failed';
my $BUSY = 'ERR m365=proxy m365_category=none m365_reason=dns-busy';
my $NONE = 'ERR m365=proxy m365_category=none';
my $OPT  = 'OK m365=direct m365_category=optimize m365_sets=1';
my $REG  = 'outlook.office365.com 13.107.6.152 443';   # direct, no DNS

my @RECORDS = (
    'v.officeapps.live.com,192.0.2.10,2001:db8::10,60',  # A and AAAA
    'six.officeapps.live.com,2001:db8::20,60',           # AAAA only
    'nov.officeapps.live.com,192.0.2.10,60',     # would verify if asked
    'nd.officeapps.live.com,192.0.2.10,60',
    'dn.officeapps.live.com,192.0.2.10,60',
    'cfg.officeapps.live.com,192.0.2.10,60',
    'off.officeapps.live.com,192.0.2.10,60',
    'm.officeapps.live.com,192.0.2.30,0',        # TTL 0: never cached
    'r.officeapps.live.com,192.0.2.32,0',
    (map { "eof$_.officeapps.live.com,192.0.2.40,60" } 1 .. 5),
);

my $slow_out = "$DIR/slow.out";
start_bg($slow_out, $PY, 'tests/integration/dns_slow.py', $SPORT, 'never');
my $slow_ready = 0;
for (1 .. 50) { last if ($slow_ready = slurp($slow_out) =~ /ready/); sleep 0.1 }
ok(start_dns(@RECORDS) && $slow_ready,
    "dnsmasq on 127.0.0.1:$DPORT, a silent server on $SPORT",
    slurp("$DIR/dnsmasq.out"), slurp($slow_out));

# =========================================================================
# Usage
# =========================================================================
{
    for my $bad ([ [ '--verify-sni', 'dns' ], 'needs --concurrency',
                   '--verify-sni dns without --concurrency' ],
                 [ [ '--concurrency', '--verify-sni', 'bogus' ], 'dns or off',
                   '--verify-sni bogus' ],
                 [ [ '--concurrency', '--verify-sni', 'dns', '--dns-timeout', '3' ],
                   '--dns-timeout', '--dns-timeout 3' ],
                 [ [ '--concurrency', '--verify-sni', 'dns', '--dns-timeout', '0' ],
                   '--dns-timeout', '--dns-timeout 0' ],
                 [ [ '--concurrency', '--verify-sni', 'dns', '--dns-timeout', '2.5' ],
                   '--dns-timeout', '--dns-timeout 2.5' ],
                 [ [ '--concurrency', '--verify-sni', 'dns', '--dns-timeout', 'x' ],
                   '--dns-timeout', '--dns-timeout x' ]) {
        my ($args, $msg, $desc) = @$bad;
        my $h = helper('-c', '/dev/null', '--data', $WW,
            '--fields', 'sni,host,port', @$args);
        say_lines($h, '1 v.officeapps.live.com 192.0.2.10 443');
        finish($h);
        ok($h->{rc} == 2 && !@{ $h->{ans} } && index($h->{err}, $msg) >= 0,
            "$desc: exit 2, says so ($msg), answers nothing",
            "rc $h->{rc}", "stderr: $h->{err}", 'out: ' . all_answers($h));
    }

    # verify_sni = dns from the configuration without --concurrency: runs,
    # says the check is off, asks no DNS.
    my $conf = spew("$DIR/verify.conf", "verify_sni = dns\n"
        . "dns_servers = 127.0.0.1:$DPORT\n" . "dns_timeout = 1\n");
    my $h = helper('-c', $conf, '--data', $WW, '--fields', 'sni,host,port');
    say_lines($h, 'cfg.officeapps.live.com 192.0.2.10 443');
    finish($h);
    ok($h->{rc} == 0 && all_answers($h) eq $MIS
        && $h->{err} =~ /verify_sni = dns needs --concurrency.*off/,
        'config verify_sni = dns without --concurrency: runs, says the check is off, sni-mismatch',
        "rc $h->{rc}", 'out: ' . all_answers($h), "stderr: $h->{err}");

    # ... and with --concurrency the configuration's check is on.
    $h = helper('-c', $conf, '--data', $WW, '--concurrency', '--fields', 'sni,host,port');
    say_lines($h, '1 cfg.officeapps.live.com 192.0.2.10 443');
    finish($h);
    want($h, 1, $VER, 'config verify_sni = dns with --concurrency');

    # --verify-sni off beats the configuration
    $h = helper('-c', $conf, '--data', $WW, '--concurrency', '--fields',
        'sni,host,port', '--verify-sni', 'off');
    say_lines($h, '1 off.officeapps.live.com 192.0.2.10 443');
    finish($h);
    want($h, 1, $MIS, '--verify-sni off over verify_sni = dns');
    sentinel(1);
    ok(logged('sentinel1.officeapps.live.com')
        && queries('off.officeapps.live.com') == 0
        && queries('cfg.officeapps.live.com') > 0,
        '... asked no DNS for it (the configuration\'s run did)',
        'off: ' . queries('off.officeapps.live.com'),
        'cfg: ' . queries('cfg.officeapps.live.com'));

    # a DNS server list that c-ares refuses: the check is off, never direct
    $h = helper(@BASE, '--verify-sni', 'dns', '--dns-server', 'not-an-address');
    say_lines($h, '1 v.officeapps.live.com 192.0.2.10 443', "2 $REG");
    finish($h);
    ok($h->{rc} == 0 && $h->{err} =~ /DNS check of the SNI is off/,
        '--dns-server not-an-address: runs, says the check is off',
        "rc $h->{rc}", "stderr: $h->{err}");
    want($h, 1, $MIS, '... and the SNI-only IP is not direct');
    want($h, 2, $OPT, '... the others are answered');
}

# =========================================================================
# Answers
# =========================================================================
{
    my @cases = (
        [ 'v.officeapps.live.com 192.0.2.10 443', $VER, 'A record' ],
        [ 'v.officeapps.live.com %5B2001:db8::10%5D 443', $VER, 'AAAA record, IPv6 destination in brackets' ],
        [ 'six.officeapps.live.com %5B2001:db8::20%5D 443', $VER, 'a name with only AAAA' ],
        [ 'v.officeapps.live.com %5B::ffff:192.0.2.10%5D 443', $VER, 'IPv4-mapped destination' ],
        [ 'six.officeapps.live.com 192.0.2.20 443', $MIS, 'IPv4 destination, name with only AAAA' ],
        [ 'v.officeapps.live.com 192.0.2.11 443', $MIS, 'IPv4 not among the addresses' ],
        [ 'v.officeapps.live.com %5B2001:db8::11%5D 443', $MIS, 'IPv6 not among the addresses' ],
        [ 'nx.officeapps.live.com 192.0.2.10 443', $MIS, 'NXDOMAIN' ],
        [ 'r.lync.com 192.0.2.10 443', $FAIL, 'REFUSED' ],
        [ $REG, $OPT, 'destination IP direct by itself' ],
        [ 'dn.officeapps.live.com www.example.com 443', $MIS, 'destination a name that is not direct' ],
        [ 'v.officeapps.live.com 192.0.2.10 25', $NONE, 'a port the SNI\'s sets do not have' ],
    );
    my $h = run_lines(\@DNS, map { $_->[0] } @cases);
    want_all_once($h, 'answers', 1 .. @cases);
    want($h, $_ + 1, $cases[$_][1], $cases[$_][2]) for 0 .. $#cases;
    my $n = queries('v.officeapps.live.com');
    ok($n == 2, "one A and one AAAA query for five checks of one name ($n)");

    # never_direct wins over the DNS check: not even asked.
    my $conf = spew("$DIR/never.conf", "never_direct = 192.0.2.10\n");
    $h = helper('-c', $conf, @BASE[2 .. $#BASE], '--verify-sni', 'dns',
        '--dns-server', "127.0.0.1:$DPORT");
    say_lines($h, '1 nd.officeapps.live.com 192.0.2.10 443');
    finish($h);
    want($h, 1, 'ERR m365=proxy m365_category=none m365_rule=never_direct '
        . 'm365_reason=sni-mismatch', 'never_direct = 192.0.2.10: its SNI is never verified');

    # Without --verify-sni: a mismatch, and no DNS.
    $h = run_lines(\@BASE, 'nov.officeapps.live.com 192.0.2.10 443');
    want($h, 1, $MIS, 'without --verify-sni');

    ok(sentinel(2), 'dnsmasq logged a sentinel query');
    for my $name ('outlook.office365.com', 'dn.officeapps.live.com',
        'nd.officeapps.live.com', 'nov.officeapps.live.com') {
        ok(queries($name) == 0, "no DNS query for $name");
    }
}

# =========================================================================
# Every field combination: one answer each, never BH, the helper lives
# =========================================================================
{
    my $long = join('.', ('a' x 60) x 4) . '.officeapps.live.com';
    my $notname = 'ERR m365=proxy m365_category=none message="SNI: character not allowed in a host name"';
    my @cases = (
        [ '- 192.0.2.10 443', $NONE, 'no SNI' ],
        [ 'v.officeapps.live.com - 443', 'ERR message="missing host"', 'no destination' ],
        [ '- - 443', 'ERR message="missing host"', 'neither' ],
        [ '- - -', 'ERR message="missing host"', 'nothing at all' ],
        [ "v.officeapps.live.com 192.0.2.10 443\r", $VER, 'CR at the end' ],
        [ 'v.officeapps%2Elive.com 192%2E0.2.10 443', $VER, '%XX escapes in both' ],
        [ 'V.OFFICEAPPS.LIVE.COM. 192.0.2.10 443', $VER, 'SNI upper-case with a trailing dot' ],
        [ '%5B2001:db8::10%5D 192.0.2.10 443', $NONE, 'an IPv6 SNI in brackets' ],
        [ '%5B2001:db8::10%5D %5B2001:db8::10%5D 443', $NONE, 'IPv6 in brackets in both' ],
        [ 'v.officeapps.live.com %5B2001:db8::10 443',
          "$MIS message=\"character not allowed in a host name\"", 'an unclosed bracket' ],
        [ '!!bad!! 192.0.2.10 443', $notname, 'garbage SNI' ],
        [ 'v.officeapps.live.com%00.evil 192.0.2.10 443', $notname, 'SNI with %00' ],
        [ '*.officeapps.live.com 192.0.2.10 443', $notname, 'SNI a wildcard' ],
        [ "$long 192.0.2.10 443",
          'ERR m365=proxy m365_category=none message="SNI: host name longer than 253 characters"',
          'SNI of ' . length($long) . ' characters' ],
        [ '10.1 192.0.2.10 443',
          'ERR m365=proxy m365_category=none message="SNI: not a host name: the last label is a number, so resolvers read it as an IPv4 address"',
          'SNI inet_aton reads as an address' ],
        [ 'v.officeapps.live.com 0xc0.0.2.10 443',
          "$MIS message=\"not a host name: the last label is a number, so resolvers read it as an IPv4 address\"",
          'destination inet_aton reads as an address' ],
        [ '%zz 192.0.2.10 443', 'ERR message="invalid %-escape"', 'a bad %-escape' ],
        [ 'v.officeapps.live.com 192.0.2.10 99999', 'ERR message="invalid port"', 'a bad port' ],
        [ 'v.officeapps.live.com', 'ERR message="missing host"', 'a missing field (destination)' ],
        [ 'v.officeapps.live.com 192.0.2.10', $VER, 'a missing field (port)' ],
        [ 'v.officeapps.live.com 192.0.2.10 443 - extra', $VER, 'extra fields' ],
        [ '', 'ERR message="missing host"', 'the ID alone' ],
        [ $REG, $OPT, 'and a regular request after them' ],
    );
    my $h = helper(@DNS);
    say_lines($h, map { ($_ + 1) . " $cases[$_][0]" } 0 .. $#cases);
    say_lines($h, '18446744073709551615 v.officeapps.live.com 192.0.2.10 443',
        '123456789012345678901 v.officeapps.live.com 192.0.2.10 443');
    wait_answers($h, @cases + 2);
    say_lines($h, "99 $REG");
    finish($h);
    want($h, $_ + 1, $cases[$_][1], $cases[$_][2]) for 0 .. $#cases;
    want($h, '18446744073709551615', $VER, 'a 20-digit ID on an answer that waited');
    want($h, 'ERR', 'message="invalid channel ID"', 'a 21-digit ID: answered without one');
    want($h, 99, $OPT, 'the helper still answers');
    want_all_once($h, 'field combinations', 1 .. @cases, 99, '18446744073709551615', 'ERR');
}

# =========================================================================
# A DNS answer is not memoised: the same request text, the DNS changed
# =========================================================================
{
    my $h = helper(@DNS);       # the memo is on (default --cache-size)
    say_lines($h, '1 m.officeapps.live.com 192.0.2.30 443',
        '2 r.officeapps.live.com 192.0.2.33 443', "3 $REG");
    wait_answers($h, 3);
    my @now = grep { !/^[mr]\./ } @RECORDS;
    my $restarted = start_dns(@now, 'm.officeapps.live.com,192.0.2.31,0',
        'r.officeapps.live.com,192.0.2.33,0');
    say_lines($h, '4 m.officeapps.live.com 192.0.2.30 443',
        '5 r.officeapps.live.com 192.0.2.33 443', "6 $REG");
    wait_answers($h, 6);
    finish($h);
    want($h, 1, $VER, 'm.* is 192.0.2.30 (TTL 0)');
    want($h, 2, $MIS, 'r.* is not 192.0.2.33 (TTL 0)');
    ok($restarted, 'dnsmasq restarted: m.* is 192.0.2.31, r.* 192.0.2.33');
    want($h, 4, $MIS, 'the same request for m.*: no longer verified');
    want($h, 5, $VER, 'the same request for r.*: now verified');
    want($h, 6, $OPT, 'a memoised regular answer');
    my ($m, $r) = (queries('m.officeapps.live.com'), queries('r.officeapps.live.com'));
    ok($m == 4 && $r == 4, "each asked twice, A and AAAA (m.* $m, r.* $r queries)");
}

# =========================================================================
# cache.log: a pair once, distinct pairs capped
# =========================================================================
{
    my $h = helper(@DNS, '--cache-size', '0');
    say_lines($h, (map { "$_ v.officeapps.live.com 192.0.2.11 443" } 1 .. 50),
        (map { "$_ dn.officeapps.live.com www.example.com 443" } 101 .. 150));
    wait_answers($h, 100);
    finish($h);
    my $a = by_id($h);
    my @wrong = grep { ($a->{$_}[0][1] // '') ne $MIS || @{ $a->{$_} } != 1 }
        (1 .. 50, 101 .. 150);
    ok(!@wrong && @{ $h->{ans} } == 100, '100 mismatches answered once each',
        'wrong: ' . join(' ', @wrong[0 .. ($#wrong < 9 ? $#wrong : 9)]));
    my $n1 = () = $h->{err} =~ /not direct \(sni-mismatch\): destination 192\.0\.2\.11 is not direct, SNI v\.officeapps\.live\.com is direct\n/g;
    my $n2 = () = $h->{err} =~ /not direct \(sni-mismatch\): destination www\.example\.com is not direct, SNI dn\.officeapps\.live\.com is direct\n/g;
    my $all = () = $h->{err} =~ /not direct \(/g;
    ok($n1 == 1 && $n2 == 1 && $all == 2,
        "a pair sent 50 times is logged once (DNS $n1, no DNS $n2, all $all)",
        "stderr: $h->{err}");

    $h = helper(@DNS, '--cache-size', '0');
    say_lines($h, map { "$_ p$_.officeapps.live.com www.example.com 443" } 1 .. 100);
    wait_answers($h, 100);
    finish($h);
    $a = by_id($h);
    @wrong = grep { ($a->{$_}[0][1] // '') ne $MIS || @{ $a->{$_} } != 1 } 1 .. 100;
    ok(!@wrong && @{ $h->{ans} } == 100, '100 distinct pairs answered once each');
    $all = () = $h->{err} =~ /not direct \(/g;
    my $more = () = $h->{err} =~ /more SNI mismatches not logged/g;
    ok($all == 20 && $more == 0,
        "100 distinct pairs: 20 lines logged in the first minute ($all, $more \"more\" lines)",
        "stderr: $h->{err}");
}

# =========================================================================
# A silent DNS server: dns-timeout after --dns-timeout, nobody else waits
# =========================================================================
for my $timeout (1, 0.5) {
    my $h = helper(@SILENT, '--dns-timeout', $timeout);
    my $t1 = say_lines($h, '1 t.officeapps.live.com 192.0.2.10 443');
    pump($h, time + 0.3, sub { 0 });
    my $t2 = say_lines($h, "2 $REG", '3 - - 443');
    wait_answers($h, 3, $timeout + 2);
    finish($h);
    my $a = by_id($h);
    want($h, 1, $TMO, "--dns-timeout $timeout, silent server");
    my $took = ($a->{1}[0][0] // 1e9) - $t1;
    ok($took >= $timeout && $took < $timeout + 0.5,
        sprintf('... after %.3f s (%s .. %s)', $took, $timeout, $timeout + 0.5));
    want($h, 2, $OPT, '... another channel meanwhile');
    want($h, 3, 'ERR message="missing host"', '... a malformed line meanwhile');
    my ($d2, $d3) = map { ($a->{$_}[0][0] // 1e9) - $t2 } 2, 3;
    ok($d2 < 0.25 && $d3 < 0.25 && $h->{ans}[0][1] =~ /^2 /,
        sprintf('... answered at once (%.3f s, %.3f s), before the waiting one', $d2, $d3),
        'order: ' . join(' ', map { (split / /, $_->[1])[0] } @{ $h->{ans} }));
    ok($h->{rc} == 0, '... exit 0');
}

# A reload (SIGHUP) while an answer waits.
{
    my $h = helper(@SILENT, '--dns-timeout', '0.5');
    say_lines($h, '1 h.officeapps.live.com 192.0.2.10 443');
    pump($h, time + 0.1, sub { 0 });
    kill 'HUP', $h->{pid};
    pump($h, time + 0.1, sub { 0 });
    say_lines($h, "2 $REG");
    wait_answers($h, 2, 3);
    finish($h);
    want($h, 1, $TMO, 'SIGHUP while an answer waits: it is still answered');
    want($h, 2, $OPT, '... and the next request');
    ok($h->{rc} == 0 && $h->{err} =~ /loaded/, '... reloaded, exit 0', "stderr: $h->{err}");
}

# =========================================================================
# EOF while answers wait: all written, exit 0
# =========================================================================
{
    my $h = helper(@DNS);
    say_lines($h, map { "$_ eof$_.officeapps.live.com 192.0.2.40 443" } 1 .. 5);
    finish($h);     # closes stdin at once
    want($h, $_, $VER, "EOF at once, dnsmasq: answer $_") for 1 .. 5;
    want_all_once($h, 'EOF with dnsmasq', 1 .. 5);

    $h = helper(@SILENT, '--dns-timeout', '1');
    say_lines($h, (map { "$_ eof$_.officeapps.live.com 192.0.2.40 443" } 1 .. 5),
        "6 $REG");
    finish($h);
    my $a = by_id($h);
    my @wrong = grep { ($a->{$_}[0][1] // '') ne $TMO } 1 .. 5;
    ok(!@wrong, 'EOF at once, silent server: five dns-timeout answers',
        'all: ' . all_answers($h));
    want($h, 6, $OPT, '... and the regular one');
    want_all_once($h, 'EOF with a silent server', 1 .. 6);
    ok($h->{took} >= 1 && $h->{took} < 1.5,
        sprintf('... exits after the timeout (%.3f s)', $h->{took}));
}

# =========================================================================
# Flood: 2000 distinct names to a silent server, regular requests between
# =========================================================================
{
    my ($N, $CHUNK, $MAXW) = (2000, 100, 256);
    my $h = helper(@SILENT, '--dns-timeout', '1', '--cache-size', '0');
    say_lines($h, "100000 $REG");
    wait_answers($h, 1);
    my $rss0 = vmrss_kib($h->{pid}, 'VmRSS');
    my (%sent, @reg);
    my $t0 = time;
    for my $c (0 .. $N / $CHUNK - 1) {
        my @l = map { my $i = $c * $CHUNK + $_; "$i a.b$i.officeapps.live.com 192.0.2.10 443" }
            1 .. $CHUNK;
        my $id = 100001 + $c;
        push @reg, $id;
        splice(@l, $CHUNK / 2, 0, "$id $REG");
        $sent{$id} = say_lines($h, @l);
    }
    pump($h, $t0 + 0.5, sub { 0 });
    $sent{200000} = say_lines($h, "200000 $REG");   # while 256 wait
    wait_answers($h, $N + @reg + 2, 5);
    my $rss1 = vmrss_kib($h->{pid}, 'VmHWM');
    finish($h);
    my $took = time - $t0;
    my $a = by_id($h);
    want_all_once($h, "flood of $N", 1 .. $N, 100000, @reg, 200000);
    my $nt = grep { ($a->{$_}[0][1] // '') eq $TMO } 1 .. $N;
    my $nb = grep { ($a->{$_}[0][1] // '') eq $BUSY } 1 .. $N;
    ok($nt == $MAXW && $nb == $N - $MAXW,
        "... $MAXW wait and time out, the rest dns-busy ($nt, $nb)");
    my @late = grep { ($a->{$_}[0][1] // '') ne $OPT
        || $a->{$_}[0][0] - $sent{$_} > 0.3 } @reg, 200000;
    ok(!@late, '... the regular requests answered at once (< 0.3 s)',
        map { sprintf('%s: %s after %.3f s', $_, $a->{$_}[0][1] // 'none',
            ($a->{$_}[0][0] // 1e9) - $sent{$_}) } @late);
    my $grow = ($rss1 - $rss0) / 1024;
    ok($rss0 > 0 && $grow < 16, sprintf('... memory: VmRSS %.1f MiB before, '
        . 'VmHWM %.1f MiB after (+%.1f MiB < 16)', $rss0 / 1024, $rss1 / 1024, $grow));
    ok($rss1 < 64 * 1024, sprintf('... VmHWM %.1f MiB < 64 MiB', $rss1 / 1024));
    my $logged = () = $h->{err} =~ /not direct \(/g;
    ok($logged <= 20 && length($h->{err}) < 8192,
        "... cache.log: $logged mismatch lines, " . length($h->{err}) . ' bytes');
    ok($took < 1 + 1.5, sprintf('... all done in %.2f s (timeout 1 s)', $took));
}

# A name in the resolver's cache is answered from it while the most
# checks wait for other names.
{
    my $h = helper(@DNS, '--dns-timeout', '1');
    say_lines($h, '1 v.officeapps.live.com 192.0.2.10 443');
    wait_answers($h, 1);
    say_lines($h, map { "$_ n$_.slow.officeapps.live.com 192.0.2.10 443" } 2 .. 301);
    my $t = say_lines($h, '400 v.officeapps.live.com 192.0.2.10 443');
    wait_answers($h, 302, 4);
    finish($h);
    my $a = by_id($h);
    want($h, 1, $VER, 'a cached name');
    want($h, 400, $VER, '... asked again while 256 checks wait for a silent server');
    my $d = ($a->{400}[0][0] // 1e9) - $t;
    ok($d < 0.3, sprintf('... at once (%.3f s)', $d));
    my $nt = grep { ($a->{$_}[0][1] // '') eq $TMO } 2 .. 301;
    my $nb = grep { ($a->{$_}[0][1] // '') eq $BUSY } 2 .. 301;
    ok($nt == 256 && $nb == 44, "... 256 of 300 slow names time out, 44 busy ($nt, $nb)");
    want_all_once($h, 'cached while busy', 1 .. 301, 400);
}

tap_done();
