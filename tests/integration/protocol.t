#!/usr/bin/perl
# ext_m365_acl speaks Squid's external ACL protocol (DESIGN.md §4, §6): the
# real binary is fed request lines through a pipe, a file or a socket pair
# and must give exactly one answer per line, in order, echo the channel ID
# byte for byte, never answer BH, survive any input, exit 0 at EOF, and
# reload its data on a file change or SIGHUP while keeping the old rules
# when the new file is bad.  TAP output.
#
#   prove -v -e '' tests/integration/protocol.t      (from the repo root)
#   M365_BUILD=build/san prove -e '' tests/integration/protocol.t
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use Tap;
use Errno qw(EAGAIN EINTR);
use File::Basename qw(dirname);
use File::Copy qw(copy);
use File::Temp qw(tempdir);
use IO::Handle;
use IO::Select;
use POSIX qw(:sys_wait_h);
use Socket qw(AF_UNIX SOCK_STREAM PF_UNSPEC SOL_SOCKET SO_SNDBUF SO_RCVBUF);
use Time::HiRes qw(sleep time);

chdir(dirname(__FILE__) . '/../..') or die "chdir: $!";
my $B    = $ENV{M365_BUILD} || 'build/rel';
my $ACL  = "$B/ext_m365_acl";
my $WW   = 'tests/data/worldwide-c2025.json';
my $CN   = 'tests/data/china-c2025.json';
my $TMP  = tempdir('m365-protocol-XXXXXX', TMPDIR => 1, CLEANUP => 1);
$SIG{PIPE} = 'IGNORE';

unless (-x $ACL) {
    print "1..1\nnot ok 1 - $ACL is built (run make)\n";
    exit 1;
}

# --- TAP -----------------------------------------------------------------
# printable form of raw bytes for diagnostics
sub vis {
    my ($s) = @_;
    $s = substr($s, 0, 200) . '...(' . length($s) . ' bytes)' if length($s) > 240;
    $s =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
    return $s;
}

# --- running the helper --------------------------------------------------
# run(\@args, $input): the helper with stdin from a file holding $input,
# stdout and stderr to files.  Returns { rc, sig, out, err, ans => [lines] }.
my $RUNS = 0;
sub run {
    my ($args, $input, $timeout) = @_;
    my $r = run_cmd(argv => [ $ACL, @$args ], in => $input,
        timeout => $timeout // 60);
    $r->{ans} = [ split /\n/, $r->{out}, -1 ];
    return $r;
}

# Every answer is LF-terminated; returns the answer lines (without LF).
sub answers {
    my ($r) = @_;
    my @a = @{ $r->{ans} };
    pop @a if @a && $a[-1] eq '';     # after the last LF
    return @a;
}

# Checks that run $r exited 0 at EOF and answered every one of @cases in
# order: each case is [ request bytes, answer regex, description ].
sub check_cases {
    my ($label, $r, @cases) = @_;
    my @a = answers($r);
    ok($r->{rc} == 0 && !$r->{timed_out},
        "$label: exits 0 at EOF", "rc $r->{rc}, signal $r->{sig}",
        'stderr: ' . substr($r->{err}, -2000));
    ok(@a == @cases && $r->{out} =~ /\n\z/,
        "$label: one LF-terminated answer per request (" . scalar(@cases) . ')',
        'got ' . scalar(@a) . ' answers', 'out: ' . vis(substr($r->{out}, 0, 3000)));
    ok(!grep({ /^(\d+ )?BH\b/ } @a), "$label: never BH");
    for my $i (0 .. $#cases) {
        my ($req, $re, $desc) = @{ $cases[$i] };
        my $got = $a[$i] // '(no answer)';
        ok($got =~ $re, "$label: $desc", 'request: ' . vis($req),
            'answer:  ' . vis($got), "want:    $re");
    }
}

# A helper with pipes, asked one line at a time (for reload tests).
sub spawn {
    my (@args) = @_;
    my $errfile = "$TMP/spawn" . ++$RUNS . '.err';
    my ($pid, $p_out, $p_in) = spawn_piped($ACL, $errfile, @args);
    $p_out->autoflush(1);
    return { pid => $pid, w => $p_out, r => $p_in, buf => '', errfile => $errfile };
}
sub ask {
    my ($h, $line) = @_;
    syswrite($h->{w}, "$line\n");
    return read_answer($h);
}
sub read_answer {
    my ($h, $timeout) = @_;
    my $sel = IO::Select->new($h->{r});
    my $t0 = time;
    while ($h->{buf} !~ /\n/) {
        my $left = ($timeout // 10) - (time - $t0);
        return '(timeout)' if $left <= 0;
        next unless $sel->can_read($left);
        my $n = sysread($h->{r}, $h->{buf}, 65536, length $h->{buf});
        return '(EOF)' if !$n;
    }
    $h->{buf} =~ s/^([^\n]*)\n//;
    return $1;
}
sub stop {
    my ($h) = @_;
    close $h->{w};
    my $t0 = time;
    my $w;
    while (($w = waitpid($h->{pid}, WNOHANG)) == 0 && time - $t0 < 10) { sleep 0.02 }
    if ($w == 0) { kill 'KILL', $h->{pid}; waitpid($h->{pid}, 0); return -1 }
    return exit_code($?);
}
sub errlog { slurp($_[0]{errfile}) }

# Atomically replaces $dst with $content (write a temp file, rename).
sub replace_file {
    my ($dst, $content_or_file) = @_;
    my $tmp = "$dst.new";
    if (-f $content_or_file) {
        copy($content_or_file, $tmp) or die "copy: $!";
    } else {
        open(my $f, '>', $tmp) or die; print $f $content_or_file; close $f;
    }
    rename($tmp, $dst) or die "rename: $!";
}

# Expected answer shapes.
my $OPT  = qr/ OK m365=direct m365_category=optimize m365_sets=\d+(,\d+)*$/;
my $NONE = qr/ ERR m365=proxy m365_category=none$/;
my $NONE_MSG = qr/ ERR m365=proxy m365_category=none message="[^"\n]+"$/;
sub sets_re {   # the m365_sets list, in any order
    my (@ids) = @_;
    my $alt = join '|', @ids;
    return qr/ m365_sets=(?:(?:$alt),){@{[ @ids - 1 ]}}(?:$alt)$/;
}
sub A { my ($id, $rest) = @_; return qr/^\Q$id\E$rest/ }
sub E { my ($id, $msg) = @_; return qr/^\Q$id\E ERR message="\Q$msg\E"$/ }

# =========================================================================
# 1. Options
# =========================================================================
{
    my $r = run(['--help'], '');
    my @missing = grep { index($r->{out}, $_) < 0 }
        ('-c CONF', '--data', '--state-dir', '--concurrency', '--fields',
         '--reload-interval', '--cache-size', '--help', '-h', '--version', '-V',
         'host', 'port', 'sni', 'skip');
    ok($r->{rc} == 0 && !@missing, '--help exits 0 and mentions every option',
        "rc $r->{rc}", 'missing: ' . join(' ', @missing));
    $r = run(['-V'], '');
    ok($r->{rc} == 0 && $r->{out} =~ /^ext_m365_acl \S+\n\z/, '-V prints the version, exit 0',
        "rc $r->{rc}", "out: $r->{out}");
    for my $bad (['--bogus'], ['-x'], ['--fields', 'bogus'], ['--fields', 'port'],
        ['--fields', 'sni'], ['--fields', 'sni,port'],
        ['--fields', 'port,skip'], ['--fields', ''], ['--fields', 'host,,port'],
        ['--fields', 'host,port,skip,skip,skip,skip,skip,skip,skip'],
        ['--reload-interval', 'abc'], ['--reload-interval', '-1'],
        ['--reload-interval', '86401'], ['--reload-interval', ''],
        ['--cache-size', '-1'], ['--cache-size', 'abc'], ['--cache-size', '1048577'],
        ['--cache-size', ''],
        ['--data'], ['extra-argument']) {
        $r = run([ '--data', $WW, @$bad ], "1 outlook.office365.com 443 -\n", 10);
        ok($r->{rc} == 2 && $r->{out} eq '' && $r->{err} ne '',
            "bad option '@$bad': exit 2, a message on stderr, nothing on stdout",
            "rc $r->{rc}", "out: " . vis($r->{out}), "err: $r->{err}");
    }
}

{
    my $r;
    # A broken or missing configuration file must not make Squid give up
    # on its helpers: the helper logs every error and answers every request
    # "not direct" (ERR, no m365=direct note), one answer per line.
    open(my $bc, '>', "$TMP/broken.conf") or die;
    print $bc "never_direct = 10.0.0.0/33\nbogus = 1\n";
    close($bc);
    for my $conf ("$TMP/no-such.conf", "$TMP/broken.conf") {
        $r = run([ '-c', $conf, '--concurrency', '--data', $WW ],
            "7 outlook.office365.com 443 -\n8 %zz 443 -\n9 13.107.6.152 443 -\n", 10);
        ok($r->{rc} == 0 && $r->{out} eq
            "7 ERR message=\"configuration error, see cache.log\"\n" .
            "8 ERR message=\"invalid %-escape\"\n" .
            "9 ERR message=\"configuration error, see cache.log\"\n"
            && $r->{err} =~ /\Q$conf\E/ && $r->{err} =~ /not direct/,
            "config $conf broken: every answer ERR (not direct), errors on stderr, exit 0 at EOF",
            "rc $r->{rc}", "out: " . vis($r->{out}), "err: $r->{err}");
    }
    ok(slurp("$TMP/broken.conf") ne '' && (run([ '-c', "$TMP/broken.conf", '--data', $WW ], '', 10)->{err} =~ /broken\.conf:1: never_direct.*\n.*broken\.conf:2: unknown key/s),
        'broken config: every error logged as file:line: message');
}

# =========================================================================
# 2. Concurrency mode: IDs, values, malformed lines
# =========================================================================
my $long_host = join('.', ('abcdefghij') x 28);       # 307 chars, valid labels
my @conc = (
    [ "1 outlook.office365.com 443 -", A(1, $OPT), 'ID 1, Optimize name' ],
    [ "18446744073709551615 outlook.office365.com 443 -",
      A('18446744073709551615', $OPT), 'largest 64-bit ID echoed' ],
    [ "00042 www.example.com 443 -", A('00042', $NONE), 'ID with leading zeros echoed verbatim' ],
    [ "99999999999999999999 contoso.sharepoint.com 443 -",
      A('99999999999999999999', qr/ OK m365=direct m365_category=optimize m365_sets=31$/),
      '20-digit ID beyond 64 bits echoed verbatim' ],
    [ "12345678901234567890 www.example.com 80 -", A('12345678901234567890', $NONE), 'another 20-digit ID' ],
    [ "5 %5B2603:1006:1400::5%5D 443 -",
      A(5, qr/ OK m365=direct m365_category=allow m365_sets=46$/), 'IPv6 as %5B...%5D' ],
    [ "6 %5b2603:1006::1%5d 443 -", A(6, qr/ OK m365=direct m365_category=optimize m365_sets=1$/),
      'lower-case %5b/%5d escapes' ],
    [ "7 2603:1006::1 443 -", A(7, qr/ OK m365=direct m365_category=optimize m365_sets=1$/),
      'IPv6 without brackets' ],
    [ "8 - 443 -", E(8, 'missing host'), 'host "-": ERR with reason' ],
    [ "9 outlook.office365.com - -", A(9, qr/ OK m365=direct m365_category=optimize/ . sets_re(1, 2, 71)),
      'port "-": no port, every set counts' ],
    [ "10 outlook.office365.com 25 -", A(10, $NONE), 'port 25 excludes every set' ],
    [ "11 outlook.office365.com 993 -", A(11, qr/ OK m365=direct m365_category=allow m365_sets=2$/),
      'port 993: Allow set 2 only' ],
    [ "12 outlook.office365.com 443 -\r", A(12, $OPT), 'CR before LF' ],
    [ "13 outlook.office365.com%00 443 -", A(13, $NONE_MSG), '%00 in the host' ],
    [ "14 outlook\x01office365.com 443 -", A(14, $NONE_MSG), 'raw 0x01 in the host' ],
    [ "15 outlook.office365.com\x7f 443 -", A(15, $NONE_MSG), 'raw 0x7f in the host' ],
    [ "16 \xff\xfe.example 443 -", A(16, $NONE_MSG), 'raw high bytes in the host' ],
    [ "17 caf\xc3\xa9.example 443 -", A(17, $NONE_MSG), 'UTF-8 in the host' ],
    [ "18 outlook.office365.com\x00 443 -", A(18, $NONE_MSG), 'raw NUL in the host' ],
    [ "19 %0A.example 443 -", A(19, $NONE_MSG), '%0A (LF) in the host does not split the answer' ],
    [ "20 %zz.example 443 -", E(20, 'invalid %-escape'), 'invalid escape %zz' ],
    [ "21 abc% 443 -", E(21, 'invalid %-escape'), '% at the end of a value' ],
    [ "22 abc%4 443 -", E(22, 'invalid %-escape'), 'truncated escape %4' ],
    [ "23 %%41 443 -", E(23, 'invalid %-escape'), '%% is not an escape' ],
    [ "24 outlook.office365.com 44x3 -", E(24, 'invalid port'), 'port not a number' ],
    [ "25 outlook.office365.com 65536 -", E(25, 'invalid port'), 'port 65536' ],
    [ "26 outlook.office365.com 0 -", A(26, qr/ OK m365=direct m365_category=optimize/ . sets_re(1, 2, 71)),
      'port 0 means unknown' ],
    [ "27", E(27, 'missing host'), 'only an ID' ],
    [ "28 outlook.office365.com", A(28, qr/ OK m365=direct m365_category=optimize/ . sets_re(1, 2, 71)),
      'no port field' ],
    [ "29 outlook.office365.com 443 - extra fields %zz here", A(29, $OPT), 'extra fields ignored' ],
    [ "30 %6F%75tlook.office365.com %34%343 -", A(30, qr/ OK m365=direct m365_category=optimize/ . sets_re(1, 71)),
      'escaped host and port decoded' ],
    [ "31 OUTLOOK.OFFICE365.COM. 443 -", A(31, $OPT), 'upper case and trailing dot' ],
    [ "32  outlook.office365.com  443  -", A(32, $OPT), 'runs of spaces' ],
    [ "abc outlook.office365.com 443 -", qr/^ERR message="invalid channel ID"$/, 'non-numeric ID: ERR without ID' ],
    [ "123456789012345678901 outlook.office365.com 443 -", qr/^ERR message="invalid channel ID"$/,
      '21-digit ID: ERR without ID' ],
    [ "", qr/^ERR message="invalid channel ID"$/, 'empty line' ],
    [ "\r", qr/^ERR message="invalid channel ID"$/, 'line with only CR' ],
    [ "33 13.107.6.152 443 -", A(33, qr/ OK m365=direct m365_category=optimize m365_sets=1$/), 'IPv4' ],
    [ "34 %5B::ffff:13.107.6.152%5D 443 -", A(34, qr/ OK m365=direct m365_category=optimize m365_sets=1$/),
      'IPv4-mapped IPv6' ],
    [ "35 52.112.0.1 443 -", A(35, qr/ OK m365=direct m365_category=allow m365_sets=12$/),
      'Teams media prefix on TCP 443: Allow' ],
    [ "36 8.8.8.8 443 -", A(36, $NONE), 'unrelated IPv4' ],
    [ "37 www.microsoft.com 443 -", A(37, qr/ ERR m365=proxy m365_category=default/ . sets_re(50, 78, 125)),
      'Default category: ERR m365=proxy' ],
    [ "38 " . ('a' x 2000) . " 443 -", E(38, 'field too long'), '2000-byte field' ],
    [ "39 $long_host 443 -", A(39, $NONE_MSG), '307-character host name' ],
    [ "40 %5B2603:1006:1400::5 443 -", A(40, $NONE_MSG), 'unbalanced [' ],
    [ "41 %5B%5D 443 -", A(41, $NONE_MSG), 'empty brackets' ],
    [ "42 %5Bwww.example.com%5D 443 -", A(42, $NONE_MSG), 'host name in brackets' ],
    [ "43\toutlook.office365.com 443 -", qr/^ERR message="invalid channel ID"$/, 'tab after the ID' ],
    [ "44 a..b.example 443 -", A(44, $NONE_MSG), 'empty label' ],
    [ "45 " . ('a' x 100_000) . " 443 -", E(45, 'request line too long'), '100 KB line: ERR with its ID' ],
    [ "46 outlook.office365.com 443 -", A(46, $OPT), 'line after the 100 KB line' ],
    [ "47 " . ('b' x (16384 - 3)), qr/^47 ERR message="[^"]+"$/, 'line of exactly 16384 bytes' ],
    [ "48 " . ('b' x (16385 - 3)), E(48, 'request line too long'), 'line of 16385 bytes' ],
    [ "49 contoso.sharepoint.com 443 -", A(49, qr/ OK m365=direct m365_category=optimize m365_sets=31$/),
      'line after those' ],
    [ "50 " . ('c' x 300_000) . " 443 -", E(50, 'request line too long'), '300 KB line (larger than the read buffer)' ],
    [ "51 outlook.office365.com 443 -", A(51, $OPT), 'line after the 300 KB line' ],
    [ ('7' x 30) . ' ' . ('d' x 50_000), qr/^ERR message="request line too long"$/,
      'long line whose ID is too long: answered without ID' ],
    [ "52 %5B2620:1ec:4::152%5D 80 -", A(52, qr/ OK m365=direct m365_category=optimize m365_sets=1$/),
      'IPv6 /128 on port 80' ],
);
{
    my $input = join('', map { "$_->[0]\n" } @conc);
    my $r = run([ '-c', '/dev/null', '--concurrency', '--data', $WW ], $input);
    check_cases('concurrency', $r, @conc);
    my @ans = answers($r);
    ok(!grep({ !/^(\d{1,20} )?(OK|ERR)( |$)/ } @ans), 'concurrency: every answer starts with [ID ]OK or [ID ]ERR',
        map { vis($_) } grep { !/^(\d{1,20} )?(OK|ERR)( |$)/ } @ans);
    ok($r->{err} =~ /request line too long/ && $r->{err} =~ /invalid %-escape/,
        'concurrency: malformed input is logged on stderr', 'stderr: ' . substr($r->{err}, 0, 2000));
}

# =========================================================================
# 3. Non-concurrency mode
# =========================================================================
my @plain = (
    [ "outlook.office365.com 443 -", qr/^OK m365=direct m365_category=optimize/ . sets_re(1, 71), 'Optimize name' ],
    [ "www.example.com 443 -", qr/^ERR m365=proxy m365_category=none$/, 'unrelated name' ],
    [ "%5B2603:1006:1400::5%5D 443 -", qr/^OK m365=direct m365_category=allow m365_sets=46$/, 'IPv6 %5B...%5D' ],
    [ "- 443 -", qr/^ERR message="missing host"$/, 'host "-"' ],
    [ "", qr/^ERR message="missing host"$/, 'empty line' ],
    [ "outlook.office365.com 443 -\r", qr/^OK m365=direct m365_category=optimize/, 'CR before LF' ],
    [ "%zz 443", qr/^ERR message="invalid %-escape"$/, 'invalid escape' ],
    [ "outlook.office365.com 99999", qr/^ERR message="invalid port"$/, 'invalid port' ],
    [ "1 outlook.office365.com 443", qr/^ERR message="invalid port"$/,
      'a channel ID without --concurrency is the host, the name the port' ],
    [ "outlook.office365.com%00 443 -", qr/^ERR m365=proxy m365_category=none message="[^"]+"$/, '%00' ],
    [ "\x01\x02\x7f\xff 443", qr/^ERR m365=proxy m365_category=none message="[^"]+"$/, 'control and high bytes' ],
    [ ('e' x 100_000), qr/^ERR message="request line too long"$/, '100 KB line' ],
    [ "contoso.sharepoint.com", qr/^OK m365=direct m365_category=optimize m365_sets=31$/, 'line after it, no port' ],
    [ "cdn.onenote.net 443 -", qr/^ERR m365=proxy m365_category=default m365_sets=51$/, '*cdn.onenote.net' ],
);
{
    my $input = join('', map { "$_->[0]\n" } @plain);
    my $r = run([ '-c', '/dev/null', '--data', $WW ], $input);
    check_cases('no concurrency', $r, @plain);
}

# =========================================================================
# 4. EOF without a final newline, empty input
# =========================================================================
{
    my $r = run([ '-c', '/dev/null', '--concurrency', '--data', $WW ],
        "1 www.example.com 443 -\n2 outlook.office365.com 443 -");
    check_cases('EOF without LF', $r,
        [ '1 www.example.com 443 -', A(1, $NONE), 'first line' ],
        [ '2 outlook.office365.com 443 -', A(2, $OPT), 'last line without LF is answered' ]);
    $r = run([ '-c', '/dev/null', '--concurrency', '--data', $WW ],
        "1 www.example.com 443 -\n2 " . ('f' x 100_000));
    check_cases('EOF inside a long line', $r,
        [ '1 www.example.com 443 -', A(1, $NONE), 'first line' ],
        [ '2 fff...', E(2, 'request line too long'), 'unterminated 100 KB line is answered with its ID' ]);
    $r = run([ '-c', '/dev/null', '--data', $WW ], "outlook.office365.com 443\r");
    check_cases('EOF after CR', $r,
        [ "outlook.office365.com 443\r", qr/^OK m365=direct m365_category=optimize/, 'CR, no LF' ]);
    $r = run([ '-c', '/dev/null', '--concurrency', '--data', $WW ], '');
    ok($r->{rc} == 0 && $r->{out} eq '', 'empty input: no output, exit 0', "rc $r->{rc}", 'out: ' . vis($r->{out}));
    $r = run([ '-c', '/dev/null', '--data', $WW ], "\n\n\n");
    ok($r->{rc} == 0 && answers($r) == 3, 'three empty lines: three answers', 'out: ' . vis($r->{out}));
}

# =========================================================================
# 5. --fields
# =========================================================================
{
    # The identity rule (DESIGN.md §3): direct only if the destination is
    # direct on its own and so is the SNI when there is one.
    my $MISMATCH = qr/ ERR m365=proxy m365_category=none m365_reason=sni-mismatch$/;
    my @sni = (
        [ "1 outlook.office365.com evil.example.com 443 -", A(1, $MISMATCH),
          'M365 SNI to a foreign destination: not direct' ],
        [ "2 outlook.office365.com 203.0.113.5 443 -", A(2, $MISMATCH),
          'M365 SNI to a foreign IP: not direct' ],
        [ "3 - outlook.office365.com 443 -", A(3, $OPT), 'SNI "-": the destination alone' ],
        [ "4 www.example.com outlook.office365.com 443 -", A(4, $MISMATCH),
          'foreign SNI to an M365 name: not direct' ],
        [ "5 www.example.com 13.107.6.152 443 -", A(5, $MISMATCH),
          'foreign SNI to an M365 IP: not direct' ],
        [ "6 - - 443 -", E(6, 'missing host'), 'neither SNI nor host' ],
        [ "7 outlook.office365.com - 443 -", E(7, 'missing host'),
          'an SNI without a destination is not enough' ],
        [ "8 contoso.sharepoint.com 13.107.6.152 443", A(8, qr/ OK m365=direct m365_category=optimize m365_sets=1$/),
          'M365 SNI to an M365 IP: both direct (a tie: the destination speaks)' ],
        [ "9 %zz outlook.office365.com 443", E(9, 'invalid %-escape'), 'bad escape in the SNI' ],
        [ "10 outlook.office365.com outlook.office365.com", A(10, qr/ OK m365=direct m365_category=optimize/ . sets_re(1, 2, 71)),
          'same name, no port' ],
        [ "11 outlook.office365.com outlook.office365.com 25 -", A(11, $NONE), 'SNI and host on port 25' ],
        [ "12 www.example.com www.example.com 443 -", A(12, $NONE), 'both foreign: not direct, no mismatch' ],
        [ "13 %5B2603:1006::10%5D %5B2603:1006::10%5D 443 -", A(13, qr/ OK m365=direct m365_category=optimize m365_sets=1$/),
          'IPv6 brackets in both' ],
        [ "14 OUTLOOK.Office365.COM. outlook.office365.com 443 -", A(14, $OPT), 'SNI normalised like the host' ],
        [ "15 10.1 outlook.office365.com 443 -",
          A(15, qr/ ERR m365=proxy m365_category=none m365_reason=sni-mismatch message="SNI: not a host name: the last label is a number, so resolvers read it as an IPv4 address"$/),
          'a numeric SNI narrows to not direct' ],
        [ "16 outlook.office365.com%0D outlook.office365.com 443 -",
          A(16, qr/ ERR m365=proxy m365_category=none m365_reason=sni-mismatch message="SNI: character not allowed in a host name"$/),
          'an escaped CR in the SNI' ],
        [ "17 outlook.office365.com outlook.office365.com 443 -\r", A(17, $OPT), 'CR before LF' ],
        [ "18 - - - -", E(18, 'missing host'), 'every field "-"' ],
        [ "19 foo.officeapps.live.com 192.0.2.10 443 -", A(19, $MISMATCH),
          'name-only Allow SNI to a foreign IP: not direct without --verify-sni dns' ],
    );
    my $r = run([ '-c', '/dev/null', '--concurrency', '--fields', 'sni,host,port', '--data', $WW ],
        join('', map { "$_->[0]\n" } @sni));
    check_cases('--fields sni,host,port', $r, @sni);

    my @skip = (
        [ "1 outlook.office365.com GARBAGE%zz 443 -", A(1, qr/ OK m365=direct m365_category=optimize/ . sets_re(1, 71)),
          'skipped field is not decoded' ],
        [ "2 outlook.office365.com x 25", A(2, $NONE), 'third field is the port' ],
        [ "3 outlook.office365.com x", A(3, qr/ OK m365=direct m365_category=optimize/ . sets_re(1, 2, 71)),
          'no port' ],
        [ "4 - 443 443", E(4, 'missing host'), 'host "-"' ],
    );
    $r = run([ '-c', '/dev/null', '--concurrency', '--fields', 'host,skip,port', '--data', $WW ],
        join('', map { "$_->[0]\n" } @skip));
    check_cases('--fields host,skip,port', $r, @skip);

    my @rev = (
        [ "443 outlook.office365.com", qr/^OK m365=direct m365_category=optimize/ . sets_re(1, 71),
          'port before host' ],
        [ "x outlook.office365.com", qr/^ERR message="invalid port"$/, 'bad port first' ],
    );
    $r = run([ '-c', '/dev/null', '--fields', 'port,host', '--data', $WW ], join('', map { "$_->[0]\n" } @rev));
    check_cases('--fields port,host (no concurrency)', $r, @rev);

    my @hostonly = (
        [ "1 outlook.office365.com 25", A(1, qr/ OK m365=direct m365_category=optimize/ . sets_re(1, 2, 71)),
          'fields beyond the list are ignored (no port)' ],
    );
    $r = run([ '-c', '/dev/null', '--concurrency', '--fields', 'host', '--data', $WW ],
        join('', map { "$_->[0]\n" } @hostonly));
    check_cases('--fields host', $r, @hostonly);
}

# =========================================================================
# 6. Policy from -c: extra_direct, never_direct
# =========================================================================
{
    my $conf = "$TMP/policy.conf";
    open(my $f, '>', $conf) or die;
    print $f "extra_direct = *.example.com, 192.0.2.0/24\nnever_direct = outlook.office365.com\n";
    close $f;
    my @pol = (
        [ "1 www.example.com 443 -", A(1, qr/ OK m365=direct m365_category=custom m365_rule=extra_direct$/),
          'extra_direct name: OK, category custom' ],
        [ "2 192.0.2.77 443 -", A(2, qr/ OK m365=direct m365_category=custom m365_rule=extra_direct$/),
          'extra_direct CIDR' ],
        [ "3 outlook.office365.com 443 -",
          A(3, qr/ ERR m365=proxy m365_category=optimize/ . qr/ m365_sets=(1,71|71,1) m365_rule=never_direct$/),
          'never_direct wins over Optimize' ],
        [ "4 contoso.sharepoint.com 443 -", A(4, qr/ OK m365=direct m365_category=optimize m365_sets=31$/),
          'other names unchanged' ],
    );
    my $r = run([ '-c', $conf, '--concurrency', '--data', $WW ], join('', map { "$_->[0]\n" } @pol));
    check_cases('-c policy', $r, @pol);
}

# =========================================================================
# 7. 10,000 mixed lines, file and socket pair
# =========================================================================
srand(20250101);
my @valid = (
    [ 'outlook.office365.com', '443', qr/^OK m365=direct m365_category=optimize/ . sets_re(1, 71) ],
    [ 'outlook.office365.com', '993', qr/^OK m365=direct m365_category=allow m365_sets=2$/ ],
    [ 'outlook.office365.com', '25',  qr/^ERR m365=proxy m365_category=none$/ ],
    [ 'contoso.sharepoint.com', '443', qr/^OK m365=direct m365_category=optimize m365_sets=31$/ ],
    [ 'www.example.com', '443', qr/^ERR m365=proxy m365_category=none$/ ],
    [ 'cdn.onenote.net', '443', qr/^ERR m365=proxy m365_category=default m365_sets=51$/ ],
    [ '%5B2603:1006:1400::5%5D', '443', qr/^OK m365=direct m365_category=allow m365_sets=46$/ ],
    [ '13.107.6.152', '-', qr/^OK m365=direct m365_category=optimize/ . sets_re(1, 2) ],
    [ '52.112.0.1', '443', qr/^OK m365=direct m365_category=allow m365_sets=12$/ ],
    [ 'autodiscover.contoso.onmicrosoft.com', '443', qr/^ERR m365=proxy m365_category=default/ . sets_re(8, 78) ],
    [ '-', '443', qr/^ERR message="missing host"$/ ],
    [ '%zz', '443', qr/^ERR message="invalid %-escape"$/ ],
);
sub rand_bytes {
    my ($n, $exclude_space) = @_;
    my $s = '';
    while (length $s < $n) {
        my $c = chr(int(rand(256)));
        next if $c eq "\n" || ($exclude_space && $c eq ' ');
        $s .= $c;
    }
    return $s;
}
# Builds N lines; returns (input bytes, [ [expected ID or undef, regex|undef, line] ]).
sub mixed {
    my ($n, $conc) = @_;
    my (@lines, @exp);
    my $id = 0;
    for (1 .. $n) {
        my $kind = rand();
        my $line;
        my $re;
        $id += 1 + int(rand(3));
        my $idp = $conc ? "$id " : '';
        if ($kind < 0.55) {
            my $v = $valid[ int(rand(@valid)) ];
            $line = "$idp$v->[0] $v->[1]" . (rand() < 0.5 ? ' -' : '') . (rand() < 0.1 ? "\r" : '');
            $re = $v->[2];
        } elsif ($kind < 0.75) {
            $line = $idp . rand_bytes(int(rand(80)));
        } elsif ($kind < 0.85) {
            $line = $idp . join('', map { ('%', '%4', '%zz', '%00', '%0a', 'a', '.', '-', ' ', '%5B', ':') [int(rand(11))] } 1 .. int(rand(30)));
        } elsif ($kind < 0.90) {
            $line = '';
        } elsif ($kind < 0.95) {
            $line = rand_bytes(int(rand(40)));       # no ID at all
        } else {
            $line = $idp . ('g' x int(rand(20_000))) . ' 443';   # some over 16 KB
        }
        push @lines, $line;
        # what the helper should echo: the first space-separated token when
        # it is 1..20 digits (long lines: the token must start the line)
        my $l = $line;
        $l =~ s/\r\z//;
        my $tok;
        if (length($l) > 16384) { ($tok) = $l =~ /^([^ ]+)/ }
        else { ($tok) = $l =~ /^ *([^ ]+)/ }
        my $echo = ($conc && defined $tok && $tok =~ /^[0-9]{1,20}\z/) ? $tok : undef;
        push @exp, [ $echo, $re, $line ];
    }
    return (join('', map { "$_\n" } @lines), \@exp);
}
sub check_mixed {
    my ($label, $out, $exp) = @_;
    my @a = split /\n/, $out, -1;
    pop @a if @a && $a[-1] eq '';
    ok(@a == @$exp, "$label: " . scalar(@$exp) . ' lines, as many answers', 'got ' . scalar(@a));
    my @bad;
    for my $i (0 .. $#$exp) {
        my ($echo, $re, $line) = @{ $exp->[$i] };
        my $got = $a[$i] // '(none)';
        my $rest = $got;
        my $idok = defined $echo ? ($rest =~ s/^\Q$echo\E // ? 1 : 0) : ($rest !~ /^\d+ / ? 1 : 0);
        my $shape = $rest =~ /^(OK|ERR)( [^\n]*)?$/ && $rest !~ /^BH/;
        my $verd = !defined $re || $rest =~ $re;
        push @bad, "line " . ($i + 1) . ': ' . vis($line) . ' -> ' . vis($got)
            unless $idok && $shape && $verd;
        last if @bad > 10;
    }
    ok(!@bad, "$label: every answer in order, right ID, right verdict, never BH", @bad);
}
# First differing answer of two outputs, for diagnostics.
sub first_diff {
    my ($got, $want, $exp) = @_;
    my @x = split /\n/, $got;
    my @y = split /\n/, $want;
    for my $i (0 .. ($#x > $#y ? $#x : $#y)) {
        next if ($x[$i] // '') eq ($y[$i] // '');
        return "first difference at answer " . ($i + 1) . ': ' . vis($x[$i] // '(none)')
            . ' vs ' . vis($y[$i] // '(none)') . ' for request ' . vis($exp->[$i][2] // '');
    }
    return 'outputs differ only in the final LF';
}
{
    my ($input, $exp) = mixed(10_000, 1);
    my $r = run([ '-c', '/dev/null', '--concurrency', '--data', $WW ], $input, 120);
    ok($r->{rc} == 0, 'mixed 10,000 lines (concurrency): exit 0 at EOF', "rc $r->{rc} sig $r->{sig}");
    check_mixed('mixed (concurrency, file)', $r->{out}, $exp);
    my $out_conc = $r->{out};

    my ($input2, $exp2) = mixed(10_000, 0);
    $r = run([ '-c', '/dev/null', '--data', $WW ], $input2, 120);
    ok($r->{rc} == 0, 'mixed 10,000 lines (no concurrency): exit 0 at EOF', "rc $r->{rc} sig $r->{sig}");
    check_mixed('mixed (no concurrency, file)', $r->{out}, $exp2);
    my $out_plain = $r->{out};

    # The answer memo (--cache-size) must not change a single byte: the
    # same streams with the memo off, with one slot (every new request
    # evicts the last) and with a small table.
    for my $size (0, 1, 3) {
        my $r0 = run([ '-c', '/dev/null', '--concurrency', '--cache-size', $size, '--data', $WW ], $input, 120);
        ok($r0->{rc} == 0 && $r0->{out} eq $out_conc,
            "mixed (concurrency): --cache-size $size gives byte-identical answers",
            "rc $r0->{rc}", $r0->{out} eq $out_conc ? () : first_diff($r0->{out}, $out_conc, $exp));
        $r0 = run([ '-c', '/dev/null', '--cache-size', $size, '--data', $WW ], $input2, 120);
        ok($r0->{rc} == 0 && $r0->{out} eq $out_plain,
            "mixed (no concurrency): --cache-size $size gives byte-identical answers",
            "rc $r0->{rc}", $r0->{out} eq $out_plain ? () : first_diff($r0->{out}, $out_plain, $exp2));
    }

    # The same concurrency stream through a socket pair (stdin and stdout
    # are one socket, as Squid sets it up: 32 KB buffers), written in
    # random pieces while the answers are read.
    socketpair(my $mine, my $theirs, AF_UNIX, SOCK_STREAM, PF_UNSPEC) or die "socketpair: $!";
    for my $s ($mine, $theirs) {
        setsockopt($s, SOL_SOCKET, SO_SNDBUF, 32768);
        setsockopt($s, SOL_SOCKET, SO_RCVBUF, 32768);
    }
    my $errf = "$TMP/sockpair.err";
    my $pid = fork() // die;
    if ($pid == 0) {
        close $mine;
        open(STDIN, '<&', $theirs) or die;
        open(STDOUT, '>&', $theirs) or die;
        open(STDERR, '>', $errf) or die;
        close $theirs;
        exec($ACL, '-c', '/dev/null', '--concurrency', '--data', $WW) or exit 127;
    }
    close $theirs;
    $mine->blocking(0);
    my ($off, $out, $closed, $eof) = (0, '', 0, 0);
    my $t0 = time;
    while (!$eof && time - $t0 < 120) {
        my $rs = IO::Select->new($mine);
        my $ws = $closed ? IO::Select->new() : IO::Select->new($mine);
        my ($r_ready, $w_ready) = IO::Select->select($rs, $ws, undef, 1);
        if ($w_ready && @$w_ready && !$closed) {
            my $len = 1 + int(rand(5000));
            my $n = syswrite($mine, $input, $len, $off);
            $off += $n if defined $n;
            if ($off >= length $input) { shutdown($mine, 1); $closed = 1 }
        }
        if ($r_ready && @$r_ready) {
            my $n = sysread($mine, $out, 65536, length $out);
            $eof = 1 if defined $n && $n == 0;
        }
    }
    my $w;
    $t0 = time;
    while (($w = waitpid($pid, WNOHANG)) == 0 && time - $t0 < 10) { sleep 0.02 }
    if ($w == 0) { kill 'KILL', $pid; waitpid($pid, 0) }
    ok($eof && $w == $pid && $? == 0, 'socket pair: the helper exits 0 when its socket reaches EOF',
        "eof $eof, wait $w, status $?", 'stderr: ' . substr(slurp($errf), -1000));
    check_mixed('mixed (concurrency, socket pair, random write sizes)', $out, $exp);
}

# =========================================================================
# 8. Reload on file change (--reload-interval 0), bad file, SIGHUP
# =========================================================================
my $SMALL = '[{"id": 900, "serviceArea": "Common", "category": "Optimize",'
    . ' "required": true, "tcpPorts": "443", "urls": ["www.example.com"]}]';
{
    my $data = "$TMP/reload.json";
    copy($WW, $data) or die;
    my $h = spawn('-c', '/dev/null', '--concurrency', '--data', $data, '--reload-interval', '0');
    my $got = ask($h, '1 www.example.com 443 -');
    ok($got =~ A(1, $NONE), 'reload: before, www.example.com is not M365', "got: $got");
    $got = ask($h, '2 outlook.office365.com 443 -');
    ok($got =~ A(2, $OPT), 'reload: before, outlook.office365.com is Optimize', "got: $got");

    replace_file($data, $SMALL);
    $got = ask($h, '3 www.example.com 443 -');
    ok($got =~ A(3, qr/ OK m365=direct m365_category=optimize m365_sets=900$/),
        'reload: after an atomic replace, the new data answers', "got: $got");
    $got = ask($h, '4 outlook.office365.com 443 -');
    ok($got =~ A(4, $NONE), 'reload: names only in the old data are gone', "got: $got");

    replace_file($data, '[{"id": 1, "category": "Optimize", "urls": [');
    $got = ask($h, '5 www.example.com 443 -');
    ok($got =~ A(5, qr/ OK m365=direct m365_category=optimize m365_sets=900$/),
        'reload: invalid JSON keeps the current rules', "got: $got");
    $got = ask($h, '6 www.example.com 443 -');
    ok($got =~ A(6, qr/ OK m365=direct m365_category=optimize m365_sets=900$/), 'reload: and keeps them on the next request', "got: $got");
    my $err = errlog($h);
    ok($err =~ /reload failed.*\Q$data\E/ || $err =~ /\Q$data\E.*reload failed/ || $err =~ /reload failed/,
        'reload: the failure is logged on stderr', "stderr: $err");
    my @fails = $err =~ /reload failed/g;
    ok(@fails == 1, 'reload: a bad file is tried once, not on every request',
        scalar(@fails) . " failures logged", "stderr: $err");

    replace_file($data, $CN);
    $got = ask($h, '7 partner.outlook.cn 443 -');
    ok($got =~ A(7, qr/ OK m365=direct m365_category=optimize m365_sets=1$/),
        'reload: a good file after the bad one is loaded', "got: $got");

    unlink $data;
    $got = ask($h, '8 partner.outlook.cn 443 -');
    ok($got =~ A(8, qr/ OK m365=direct m365_category=optimize m365_sets=1$/),
        'reload: the file removed: the current rules keep serving', "got: $got");

    # in-place rewrite (not a rename): noticed by size/mtime
    open(my $f, '>', $data) or die; print $f $SMALL; close $f;
    $got = ask($h, '9 www.example.com 443 -');
    ok($got =~ A(9, qr/ OK m365=direct m365_category=optimize m365_sets=900$/), 'reload: the file recreated is loaded', "got: $got");
    ok(stop($h) == 0, 'reload: exit 0 at EOF');
}
{
    # The very same request text before and after a reload (no channel ID,
    # so nothing in the line changes): answered from the new data, not
    # from any memo of the old answer; a failed reload keeps the answers.
    my $data = "$TMP/memo.json";
    copy($WW, $data) or die;
    my $h = spawn('-c', '/dev/null', '--data', $data, '--reload-interval', '0');
    my @before = map { ask($h, 'outlook.office365.com 443 -') } 1 .. 3;
    ok(!grep({ $_ !~ /^OK m365=direct m365_category=optimize/ } @before),
        'same text, reload: asked three times before', map { "got: $_" } @before);
    replace_file($data, $SMALL);
    my $got = ask($h, 'outlook.office365.com 443 -');
    ok($got eq 'ERR m365=proxy m365_category=none', 'same text, reload: the new data answers', "got: $got");
    $got = ask($h, 'www.example.com 443 -');
    ok($got eq 'OK m365=direct m365_category=optimize m365_sets=900', 'same text, reload: new name', "got: $got");
    replace_file($data, '{');
    $got = ask($h, 'www.example.com 443 -');
    ok($got eq 'OK m365=direct m365_category=optimize m365_sets=900', 'same text, failed reload: answers kept',
        "got: $got");
    kill 'HUP', $h->{pid};
    sleep 0.3;
    replace_file($data, $WW);
    $got = ask($h, 'www.example.com 443 -');
    ok($got eq 'ERR m365=proxy m365_category=none', 'same text, reload back: the old answer again', "got: $got");
    ok(stop($h) == 0, 'same text: exit 0 at EOF');
}
{
    # SIGHUP with a long interval: the change is not seen until the signal.
    my $data = "$TMP/hup.json";
    copy($WW, $data) or die;
    my $h = spawn('-c', '/dev/null', '--concurrency', '--data', $data, '--reload-interval', '86400');
    my $got = ask($h, '1 outlook.office365.com 443 -');
    ok($got =~ A(1, $OPT), 'SIGHUP: before', "got: $got");
    replace_file($data, $CN);
    $got = ask($h, '2 outlook.office365.com 443 -');
    ok($got =~ A(2, $OPT), 'SIGHUP: a replaced file is not checked before the interval', "got: $got");
    kill 'HUP', $h->{pid};
    sleep 0.3;
    $got = ask($h, '3 outlook.office365.com 443 -');
    ok($got =~ A(3, $NONE), 'SIGHUP: reloads (worldwide name gone)', "got: $got");
    $got = ask($h, '4 partner.outlook.cn 443 -');
    ok($got =~ A(4, qr/ OK m365=direct m365_category=optimize m365_sets=1$/), 'SIGHUP: china data answers', "got: $got");

    replace_file($data, 'not json');
    kill 'HUP', $h->{pid};
    sleep 0.3;
    $got = ask($h, '5 partner.outlook.cn 443 -');
    ok($got =~ A(5, qr/ OK m365=direct m365_category=optimize m365_sets=1$/), 'SIGHUP with a bad file: old rules kept', "got: $got");
    ok(errlog($h) =~ /reload failed/, 'SIGHUP with a bad file: logged', 'stderr: ' . errlog($h));

    # a burst of signals while idle and while busy
    kill 'HUP', $h->{pid} for 1 .. 20;
    syswrite($h->{w}, join('', map { "$_ outlook.office365.com 443 -\n" } 100 .. 1099));
    kill 'HUP', $h->{pid} for 1 .. 20;
    my @got = map { read_answer($h) } 100 .. 1099;
    my @wrong = grep { $got[$_] !~ A($_ + 100, $NONE) } 0 .. $#got;
    ok(!@wrong, 'SIGHUP bursts while answering: 1000 answers, in order',
        map { "#" . ($_ + 100) . ": $got[$_]" } @wrong[0 .. ($#wrong < 5 ? $#wrong : 5)]);
    ok(stop($h) == 0, 'SIGHUP: exit 0 at EOF');
}
{
    # Started on a bad file: the bundled snapshot serves (with a warning),
    # and a good file replacing the bad one is picked up.
    my $data = "$TMP/startbad.json";
    open(my $f, '>', $data) or die; print $f "[{\"id\": 3, \"category\": \"Optimize\", \"ips\": [\"10.0.0.1/8\"]}]"; close $f;
    my $h = spawn('-c', '/dev/null', '--concurrency', '--data', $data, '--reload-interval', '0');
    my $got = ask($h, '1 outlook.office365.com 443 -');
    ok($got =~ A(1, $OPT), 'bad data at start: the bundled snapshot answers', "got: $got");
    my $err = errlog($h);
    ok($err =~ /set 3/ && $err =~ /ips/ && $err =~ /bundled/i, 'bad data at start: warning names the set, the field and the fallback',
        "stderr: $err");
    replace_file($data, $CN);
    $got = ask($h, '2 partner.outlook.cn 443 -');
    ok($got =~ A(2, qr/ OK m365=direct m365_category=optimize m365_sets=1$/),
        'bad data at start: the fixed file is loaded on the next request', "got: $got");
    ok(stop($h) == 0, 'bad data at start: exit 0 at EOF');

    my $r = run([ '-c', '/dev/null', '--concurrency', '--data', "$TMP/does-not-exist.json" ],
        "1 outlook.office365.com 443 -\n");
    ok($r->{rc} == 0 && $r->{out} =~ A(1, $OPT) && $r->{err} =~ /does-not-exist\.json/,
        'missing --data file: the bundled snapshot answers, the file is named on stderr',
        "rc $r->{rc}", "out: $r->{out}", "err: $r->{err}");

    mkdir "$TMP/emptystate";
    $r = run([ '-c', '/dev/null', '--concurrency', '--state-dir', "$TMP/emptystate" ],
        "1 outlook.office365.com 443 -\n");
    ok($r->{rc} == 0 && $r->{out} =~ A(1, $OPT) && $r->{err} =~ /stale/,
        'empty state dir: the bundled snapshot answers, with a stale warning',
        "rc $r->{rc}", "out: $r->{out}", "err: $r->{err}");

    # the cache in the state dir appears later: picked up
    my $h2 = spawn('-c', '/dev/null', '--concurrency', '--state-dir', "$TMP/emptystate",
        '--reload-interval', '0');
    $got = ask($h2, '1 partner.outlook.cn 443 -');
    ok($got =~ A(1, $NONE), 'state dir: bundled first', "got: $got");
    replace_file("$TMP/emptystate/endpoints.json", $CN);
    $got = ask($h2, '2 partner.outlook.cn 443 -');
    ok($got =~ A(2, qr/ OK m365=direct m365_category=optimize m365_sets=1$/), 'state dir: a new cache file is picked up', "got: $got");
    ok(stop($h2) == 0, 'state dir: exit 0 at EOF');
}

tap_done();
