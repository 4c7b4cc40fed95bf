#!/usr/bin/perl
# m365-direct, the admin command (DESIGN.md §6, §7): "check" in text and
# JSON, its argument errors, "config-test", --help, the policy keys of the
# configuration file changing verdicts, which data is used (--data, the
# cache in the state directory, the bundled snapshot) and what happens with
# hostile endpoint files (tests/data/bad/), in m365-direct and in
# ext_m365_acl.  TAP output.
#
#   prove -v -e '' tests/integration/cli.t      (from the repo root)
#   M365_BUILD=build/san prove -e '' tests/integration/cli.t
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use Tap;
use File::Basename qw(dirname basename);
use File::Copy qw(copy);
use File::Temp qw(tempdir);
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);

chdir(dirname(__FILE__) . '/../..') or die "chdir: $!";
my $B   = $ENV{M365_BUILD} || 'build/rel';
my $CLI = "$B/m365-direct";
my $ACL = "$B/ext_m365_acl";
my $WW  = 'tests/data/worldwide-c2025.json';
my $CN  = 'tests/data/china-c2025.json';
my $TMP = tempdir('m365-cli-XXXXXX', TMPDIR => 1, CLEANUP => 1);

for my $bin ($CLI, $ACL) {
    next if -x $bin;
    print "1..1\nnot ok 1 - $bin is built (run make)\n";
    exit 1;
}


# run($prog, [args], $stdin): { rc, out, err }; rc -1 when it hung
sub run {
    my ($prog, $args, $input) = @_;
    return run_cmd(argv => [ $prog, @$args ], in => $input // '');
}
sub cli { my (@args) = @_; return run($CLI, \@args) }
sub show { my ($r) = @_; return ("exit $r->{rc}", "stdout: $r->{out}", "stderr: $r->{err}") }

my $JSON = JSON::PP->new;
# check --json with a config (or /dev/null) and data: the decoded object
sub verdict {
    my ($conf, $data, @q) = @_;
    my $r = cli('-c', $conf, ($data ? ('--data', $data) : ()), 'check', @q, '--json');
    my $v = eval { $JSON->decode($r->{out}) };
    return ($v, $r);
}

# =========================================================================
# --help, usage errors
# =========================================================================
{
    my $r = cli('--help');
    my @missing = grep { index($r->{out}, $_) < 0 }
        ('check', 'config-test', '--json', 'PORT', '-c CONF', '--data', '--state-dir',
         '--help', '-h', '--version', '-V');
    ok($r->{rc} == 0 && !@missing, '--help exits 0 and lists every command and option',
        'missing: ' . join(' ', @missing), show($r));
    $r = cli('-V');
    ok($r->{rc} == 0 && $r->{out} =~ /^m365-direct \S+\n\z/, '-V prints the version', show($r));
    $r = cli();
    ok($r->{rc} == 2 && $r->{out} eq '' && $r->{err} =~ /usage/, 'no command: usage on stderr, exit 2', show($r));
    $r = cli('frobnicate');
    ok($r->{rc} == 2 && $r->{err} =~ /frobnicate/, 'unknown command: named on stderr, exit 2', show($r));
    $r = cli('--bogus', 'check', 'x');
    ok($r->{rc} == 2 && $r->{out} eq '', 'unknown option: exit 2', show($r));
    $r = cli('--data', 'tests/data/worldwide-c2025.json', 'check', '--jsno');
    ok($r->{rc} == 2 && $r->{out} eq '' && $r->{err} =~ /--jsno/,
        'check: a mistyped option is refused, not taken as the host', show($r));
    $r = cli('--data');
    ok($r->{rc} == 2 && $r->{out} eq '', '--data without a file: exit 2', show($r));
}

# =========================================================================
# check: text output
# =========================================================================
{
    my $r = cli('-c', '/dev/null', '--data', $WW, 'check', 'outlook.office365.com', '443');
    my @l = split /\n/, $r->{out};
    ok($r->{rc} == 0 && $r->{err} eq '', 'check text: exit 0, nothing on stderr', show($r));
    ok(($l[0] // '') eq 'outlook.office365.com port 443: DIRECT (category optimize)',
        'check text: first line "HOST port N: DIRECT (category optimize)"', show($r));
    ok((grep { /^  set 1 +optimize +pattern outlook\.office365\.com$/ } @l)
        && (grep { /^  set 71 +default +pattern \*\.office365\.com$/ } @l),
        'check text: one line per matching set with category and pattern', show($r));
    ok((grep { /^  set 2 +allow +pattern outlook\.office365\.com +\(does not count: port\)$/ } @l),
        'check text: a set excluded by the port says so', show($r));
    ok(@l == 4, 'check text: nothing else (4 lines)', show($r));

    $r = cli('-c', '/dev/null', '--data', $WW, 'check', 'www.example.com');
    ok($r->{rc} == 0 && $r->{out} eq "www.example.com: PROXY (category none)\n  no endpoint set matches\n",
        'check text: no match, no port', show($r));

    $r = cli('-c', '/dev/null', '--data', $WW, 'check', '13.107.6.152', '993');
    ok($r->{rc} == 0 && $r->{out} =~ /\A13\.107\.6\.152 port 993: DIRECT \(category allow\)\n/
        && $r->{out} =~ /^  set 2 +allow +prefix +13\.107\.6\.152\/31$/m
        && $r->{out} =~ /^  set 1 +optimize +prefix +13\.107\.6\.152\/31 +\(does not count: port\)$/m,
        'check text: an address shows the prefixes', show($r));

    $r = cli('-c', '/dev/null', '--data', $WW, 'check', 'www.microsoft.com', '443');
    ok($r->{rc} == 0 && $r->{out} =~ /\Awww\.microsoft\.com port 443: PROXY \(category default\)\n/,
        'check text: Default is PROXY', show($r));

    $r = cli('-c', '/dev/null', '--data', $WW, 'check', 'bad!host');
    ok($r->{rc} == 0 && $r->{out} =~ /\Abad!host: PROXY \(category none\)\n  not a host name or IP address: \S/,
        'check text: an invalid host name is explained', show($r));
}

# =========================================================================
# check --json
# =========================================================================
{
    my ($v, $r) = verdict('/dev/null', $WW, 'outlook.office365.com', '443');
    ok($v && ref $v eq 'HASH' && $r->{out} =~ /\A\{[^\n]*\}\n\z/,
        'check --json: one JSON object on one line', show($r));
    $v ||= {};
    my @missing = grep { !exists $v->{$_} } qw(host port category direct sets);
    ok(!@missing, 'check --json: has host, port, category, direct, sets', "missing: @missing", show($r));
    ok(($v->{host} // '') eq 'outlook.office365.com' && JSON::PP::is_bool($v->{direct}) && $v->{direct}
        && ($v->{category} // '') eq 'optimize' && !ref($v->{port}) && ($v->{port} // 0) == 443
        && $r->{out} =~ /"port":443[,}]/,
        'check --json: host string, port number, category, direct true', show($r));
    ok(ref $v->{sets} eq 'ARRAY' && join(',', sort { $a <=> $b } @{ $v->{sets} }) eq '1,71'
        && !grep({ ref($_) || !/^\d+$/ } @{ $v->{sets} }),
        'check --json: sets is an array of the numeric ids that count', show($r));
    ok(ref $v->{matches} eq 'ARRAY' && (grep { ($_->{set} // 0) == 2 && !$_->{counts} } @{ $v->{matches} }),
        'check --json: matches lists set 2 as not counting', show($r));

    ($v, $r) = verdict('/dev/null', $WW, 'www.example.com');
    ok($v && $r->{out} =~ /"port":null/ && JSON::PP::is_bool($v->{direct}) && !$v->{direct}
        && $v->{category} eq 'none' && ref $v->{sets} eq 'ARRAY' && !@{ $v->{sets} },
        'check --json: no port is null, no match is category none, direct false, sets []', show($r));

    ($v, $r) = verdict('/dev/null', $WW, '2603:1006:1400::5', '443');
    ok($v && $v->{category} eq 'allow' && $v->{direct} && "@{ $v->{sets} }" eq '46',
        'check --json: IPv6 address', show($r));

    ($v, $r) = verdict('/dev/null', $WW, 'bad!host');
    ok($v && $v->{category} eq 'none' && !$v->{direct} && defined $v->{reason},
        'check --json: an invalid host has a reason', show($r));

    # --sni: the identity rule (DESIGN.md §3), text and JSON
    ($v, $r) = verdict('/dev/null', $WW, 'outlook.office365.com', '443', '--sni', 'outlook.office365.com');
    ok($v && $v->{direct} && $v->{sni} eq 'outlook.office365.com' && !defined $v->{reason}
        && $v->{category} eq 'optimize' && $v->{sni_verdict}{direct} && $v->{destination_verdict}{direct},
        'check --sni --json: both direct: direct, sni and no reason', show($r));
    ($v, $r) = verdict('/dev/null', $WW, '203.0.113.5', '443', '--sni', 'outlook.office365.com');
    ok($v && !$v->{direct} && $v->{reason} eq 'sni-mismatch' && $v->{category} eq 'none'
        && $v->{sni_verdict}{direct} && !$v->{destination_verdict}{direct} && $v->{dns_may_verify},
        'check --sni --json: M365 SNI to a foreign IP: not direct, sni-mismatch', show($r));
    ($v, $r) = verdict('/dev/null', $WW, 'outlook.office365.com', '443', '--sni', 'evil.example.com');
    ok($v && !$v->{direct} && $v->{reason} eq 'sni-mismatch' && !$v->{dns_may_verify},
        'check --sni --json: foreign SNI to an M365 name: not direct', show($r));
    ($v, $r) = verdict('/dev/null', $WW, 'outlook.office365.com', '443');
    ok($v && exists $v->{sni} && !defined $v->{sni} && !defined $v->{reason},
        'check --json without --sni: sni and reason are null', show($r));
    $r = cli('-c', '/dev/null', '--data', $WW, 'check', '203.0.113.5', '443', '--sni', 'outlook.office365.com');
    my @l = split /\n/, $r->{out};
    ok($r->{rc} == 0 && @l && $l[0] eq '203.0.113.5 port 443 SNI outlook.office365.com: PROXY (category none)'
        && $r->{out} =~ /^  destination 203\.0\.113\.5: PROXY/m && $r->{out} =~ /^  SNI outlook\.office365\.com: DIRECT \(category optimize\)/m
        && $r->{out} =~ /disagree/ && $r->{out} =~ /verify_sni = dns/,
        'check --sni text: the answer, each identity, why', show($r));
    $r = cli('-c', '/dev/null', '--data', $WW, 'check', 'outlook.office365.com', '--sni');
    ok($r->{rc} == 2 && $r->{out} eq '' && $r->{err} =~ /--sni/, 'check --sni without a name: exit 2', show($r));
    for my $q ('10.1', '012.0.0.1', '0x0a.0.0.1', '3232235777', '1.2.3.4.') {
        ($v, $r) = verdict('/dev/null', $WW, $q);
        ok($v && !$v->{direct} && $v->{reason} eq 'invalid-host' && $v->{message} =~ /number|trailing dot/,
            "check --json: \"$q\" is neither a name nor an address, and says why", show($r));
    }
}

# =========================================================================
# check: argument errors
# =========================================================================
for my $args (['outlook.office365.com', '0'], ['outlook.office365.com', '65536'],
    ['outlook.office365.com', 'abc'], ['outlook.office365.com', '-1'],
    ['outlook.office365.com', ''], ['outlook.office365.com', '44 3'],
    ['outlook.office365.com', '443', 'extra'], []) {
    my $r = cli('-c', '/dev/null', '--data', $WW, 'check', @$args);
    ok($r->{rc} == 2 && $r->{out} eq '' && $r->{err} ne '',
        "check " . join(' ', map { "'$_'" } @$args) . ': exit 2, message on stderr, nothing on stdout', show($r));
}

# =========================================================================
# config-test
# =========================================================================
{
    my $r = cli('-c', 'configs/m365-direct.conf', 'config-test');
    ok($r->{rc} == 0 && $r->{out} eq "configuration OK\n", 'config-test: the shipped example is OK', show($r));

    my $good = spew("$TMP/good.conf", <<"EOF");
# a full configuration
state_dir = $TMP/state
direct_categories = optimize, allow
service_areas = Exchange, SharePoint, Skype, Common
required_only = no
match_ports = yes
extra_direct = *.contoso.sharepoint.com   # trailing comment
extra_direct = 192.0.2.0/24, 2001:db8::/32
never_direct = *.example.org
never_direct = 198.51.100.7
EOF
    $r = cli('-c', $good, 'config-test');
    ok($r->{rc} == 0 && $r->{out} eq "configuration OK\n" && $r->{err} eq '',
        'config-test: a good config prints "configuration OK", exit 0', show($r));

    (my $crlf = slurp($good)) =~ s/\n/\r\n/g;
    $r = cli('-c', spew("$TMP/crlf.conf", $crlf), 'config-test');
    ok($r->{rc} == 0 && $r->{out} eq "configuration OK\n", 'config-test: CRLF line ends are fine', show($r));

    $r = cli('-c', '/dev/null', 'config-test');
    ok($r->{rc} == 0 && $r->{out} eq "configuration OK\n", 'config-test: an empty file is OK (defaults)', show($r));

    my $badf = "$TMP/bad.conf";
    spew($badf, join('', map { "$_\n" }
        '# line 1 is a comment',
        'direct_categories = optimize, fast',          # 2
        'unknown_key = 1',                              # 3
        'no equals sign here',                          # 4
        'never_direct = 10.0.0.1/8',                    # 5 host bits
        'extra_direct = good.example.com, bad!.com',    # 6
        'required_only = maybe',                        # 7
        '',                                             # 8 fine
        'state_dir = relative/path',                    # 9
        '= value',                                      # 10
        'match_ports =',                                # 11
        'extra_direct = 192.0.2.0/33',                  # 12
        'service_areas = Exchange',                     # 13 fine
        'never_direct = ' . ('a' x 5000),               # 14 line too long
        'never_direct = http://x.example/',             # 15
    ));
    $r = cli('-c', $badf, 'config-test');
    my $all = $r->{out} . $r->{err};
    my @want = (2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15);
    my @missing = grep { $all !~ /^\Q$badf\E:$_: \S/m } @want;
    my @extra = grep { my $n = $_; !grep { $_ == $n } @want } $all =~ /^\Q$badf\E:(\d+):/mg;
    ok($r->{rc} != 0 && $all !~ /configuration OK/,
        'config-test: a bad config exits non-zero, no "configuration OK"', show($r));
    ok(!@missing && !@extra, 'config-test: every error as file:line: message, one per bad line',
        'missing lines: @missing', "unexpected lines: @extra", show($r));
    my @msgs = (
        [ 2,  qr/fast/ ], [ 3, qr/unknown_key/ ], [ 5, qr/host bits/ ], [ 6, qr/bad!\.com/ ],
        [ 7,  qr/maybe/ ], [ 9, qr/absolute/ ], [ 12, qr/192\.0\.2\.0\/33/ ], [ 14, qr/long/ ],
    );
    my @bad = grep { $all !~ /^\Q$badf\E:$_->[0]: .*$_->[1]/m } @msgs;
    ok(!@bad, 'config-test: the messages say what is wrong',
        map({ "line $_->[0]: want $_->[1]" } @bad), show($r));

    $r = cli('-c', "$TMP/no-such.conf", 'config-test');
    ok($r->{rc} != 0 && $r->{err} =~ /\Q$TMP\E\/no-such\.conf/ && $r->{out} !~ /configuration OK/,
        'config-test: a missing -c file is an error naming it', show($r));

    $r = cli('-c', $badf, '--data', $WW, 'check', 'outlook.office365.com');
    ok($r->{rc} != 0 && $r->{out} eq '' && $r->{err} =~ /\Q$badf\E:2:/,
        'check with a bad config: refuses, with the errors', show($r));
}

# =========================================================================
# policy from the configuration file changes verdicts
# =========================================================================
{
    my @cases = (
        # [ config text, query..., expect { key => value } ]
        [ "extra_direct = *.example.com\n", ['www.example.com', '443'],
          { category => 'none', direct => 1, extra_direct => 1, answer => 'custom' },
          'extra_direct pattern makes a non-M365 name direct' ],
        [ "extra_direct = *.example.com\n", ['example.com', '443'],
          { category => 'none', direct => 0 }, 'extra_direct *.x does not cover x' ],
        [ "extra_direct = 192.0.2.0/24\n", ['192.0.2.200'],
          { category => 'none', direct => 1, extra_direct => 1 }, 'extra_direct CIDR' ],
        [ "extra_direct = 192.0.2.0/24\n", ['192.0.3.1'],
          { category => 'none', direct => 0 }, 'extra_direct CIDR: outside' ],
        [ "extra_direct = 2001:db8::/32\n", ['[2001:db8::1]', '443'],
          { direct => 1, extra_direct => 1 }, 'extra_direct IPv6 CIDR' ],
        [ "extra_direct = 198.51.100.7\n", ['::ffff:198.51.100.7'],
          { direct => 1 }, 'extra_direct bare address, asked as IPv4-mapped' ],
        [ "never_direct = *.sharepoint.com\n", ['contoso.sharepoint.com', '443'],
          { category => 'optimize', direct => 0, never_direct => 1 }, 'never_direct beats Optimize' ],
        [ "never_direct = 13.107.6.0/24\n", ['13.107.6.152', '443'],
          { category => 'optimize', direct => 0, never_direct => 1 }, 'never_direct CIDR beats an Optimize prefix' ],
        [ "never_direct = outlook.office365.com\nextra_direct = outlook.office365.com\n",
          ['outlook.office365.com', '443'], { direct => 0, never_direct => 1, extra_direct => 1 },
          'never_direct wins over extra_direct' ],
        [ "never_direct = outlook.office365.com\n", ['OUTLOOK.OFFICE365.COM.', '443'],
          { direct => 0, never_direct => 1 }, 'never_direct after normalisation' ],
        [ "direct_categories = optimize\n", ['teams.microsoft.com', '443'],
          { category => 'allow', direct => 0 }, 'direct_categories = optimize: Allow not direct' ],
        [ "direct_categories = optimize\n", ['outlook.office365.com', '443'],
          { category => 'optimize', direct => 1 }, 'direct_categories = optimize: Optimize direct' ],
        [ "direct_categories = optimize, allow, default\n", ['www.microsoft.com', '443'],
          { category => 'default', direct => 1 }, 'direct_categories with default' ],
        [ "service_areas = Exchange\n", ['contoso.sharepoint.com', '443'],
          { category => 'none', direct => 0, sets => '' }, 'service_areas = Exchange: SharePoint set does not count' ],
        [ "service_areas = exchange\n", ['outlook.office365.com', '443'],
          { category => 'optimize', direct => 1, sets => '1' },
          'service_areas (case-insensitive): the Common wildcard set 71 does not count' ],
        [ "required_only = yes\n", ['outlook.office365.com', '993'],
          { category => 'none', direct => 0, sets => '' }, 'required_only: set 2 (not required) does not count' ],
        [ "match_ports = no\n", ['outlook.office365.com', '25'],
          { category => 'optimize', direct => 1, sets => '1,2,71' }, 'match_ports = no: the port is ignored' ],
    );
    my $i = 0;
    for my $c (@cases) {
        my ($text, $q, $want, $desc) = @$c;
        my $conf = spew("$TMP/policy" . ++$i . '.conf', $text);
        my ($v, $r) = verdict($conf, $WW, @$q);
        my @why;
        if (!$v) {
            push @why, 'no JSON';
        } else {
            for my $k (sort keys %$want) {
                my $got = $k eq 'sets' ? join(',', sort { $a <=> $b } @{ $v->{sets} || [] }) : $v->{$k};
                $got = ($got ? 1 : 0) if JSON::PP::is_bool($got);
                push @why, "$k: want $want->{$k}, got " . ($got // 'null')
                    if !defined $got || $got ne $want->{$k};
            }
        }
        ok(!@why, "policy: $desc", @why, show($r));
    }
    # and the text form says why
    my $conf = spew("$TMP/never.conf", "never_direct = *.sharepoint.com\n");
    my $r = cli('-c', $conf, '--data', $WW, 'check', 'contoso.sharepoint.com');
    ok($r->{out} =~ /PROXY \(category optimize\)/ && $r->{out} =~ /never_direct .*\*\.sharepoint\.com/
        && $r->{out} =~ /never_direct wins/, 'policy: check text explains never_direct', show($r));
    $conf = spew("$TMP/extra.conf", "extra_direct = *.example.com\n");
    $r = cli('-c', $conf, '--data', $WW, 'check', 'www.example.com');
    ok($r->{out} =~ /\Awww\.example\.com: DIRECT \(category custom\)/ && $r->{out} =~ /extra_direct .*\*\.example\.com/,
        'policy: check text shows extra_direct as category custom', show($r));
}

# =========================================================================
# which data: --data, the cache in the state dir, the bundled snapshot
# =========================================================================
{
    my $empty = "$TMP/empty-state";
    mkdir $empty;
    my ($v, $r);
    $r = cli('-c', '/dev/null', '--state-dir', $empty, 'check', 'outlook.office365.com', '443', '--json');
    $v = eval { $JSON->decode($r->{out}) };
    ok($r->{rc} == 0 && $v && $v->{category} eq 'optimize' && $v->{direct},
        'no cache: the bundled snapshot answers', show($r));
    ok($r->{err} =~ /\Q$empty\E/ && $r->{err} =~ /bundled/ && $r->{err} =~ /stale/,
        'no cache: a warning on stderr names the dir and says the snapshot may be stale', show($r));

    my $state = "$TMP/cn-state";
    mkdir $state;
    copy($CN, "$state/endpoints.json") or die;
    $r = cli('-c', '/dev/null', '--state-dir', $state, 'check', 'partner.outlook.cn', '443', '--json');
    $v = eval { $JSON->decode($r->{out}) };
    ok($r->{rc} == 0 && $v && $v->{category} eq 'optimize' && $r->{err} eq '',
        'a cache in the state dir is used, no warning', show($r));

    my $conf = spew("$TMP/statedir.conf", "state_dir = $state\n");
    $r = cli('-c', $conf, 'check', 'partner.outlook.cn', '443', '--json');
    $v = eval { $JSON->decode($r->{out}) };
    ok($r->{rc} == 0 && $v && $v->{category} eq 'optimize', 'state_dir from the config file is used', show($r));

    $r = cli('-c', '/dev/null', '--state-dir', $state, '--data', $WW, 'check', 'partner.outlook.cn', '443', '--json');
    $v = eval { $JSON->decode($r->{out}) };
    ok($r->{rc} == 0 && $v && $v->{category} eq 'none', '--data wins over the cache', show($r));

    my $corrupt = "$TMP/corrupt-state";
    mkdir $corrupt;
    spew("$corrupt/endpoints.json", '[{"id": 1, "category": "Optimize", "urls": ["outlook.office365.com"');
    $r = cli('-c', '/dev/null', '--state-dir', $corrupt, 'check', 'outlook.office365.com', '443', '--json');
    $v = eval { $JSON->decode($r->{out}) };
    ok($r->{rc} == 0 && $v && $v->{category} eq 'optimize' && "@{[ sort { $a <=> $b } @{ $v->{sets} } ]}" eq '1 71',
        'corrupt cache: falls back to the bundled snapshot', show($r));
    ok($r->{err} =~ /\Q$corrupt\E\/endpoints\.json/ && $r->{err} =~ /bundled/,
        'corrupt cache: the warning names the file and the fallback', show($r));

    my $r2 = run($ACL, [ '-c', '/dev/null', '--concurrency', '--state-dir', $corrupt ],
        "1 outlook.office365.com 443 -\n");
    ok($r2->{rc} == 0 && $r2->{out} =~ /^1 OK m365=direct m365_category=optimize /
        && $r2->{err} =~ /endpoints\.json/ && $r2->{err} =~ /bundled/,
        'corrupt cache: ext_m365_acl also falls back and warns', show($r2));
}

# =========================================================================
# export: the header of every format, with long and hostile text in it
# (issue 8: a few long service_areas names overflowed the header buffer)
# =========================================================================
{
    # Four names of 200 characters: 800 bytes of names in one header line.
    my @long = map { sprintf('Area%d', $_) . ('x' x 195) } 1 .. 4;
    # Text the config reader takes as it is (it cuts lines at CR and LF and
    # splits at commas and blanks only): control characters, a backslash,
    # a "*/", U+2028 (a line terminator to JavaScript), C1 NEL.
    my $hostile = "Ctl\x01\x0b\x0c\x1b*/end\\x\xe2\x80\xa8y\xc2\x85z";
    my $hostile_shown = 'Ctl\x01\x0b\x0c\x1b*\x2fend\x5cx\xe2\x80\xa8y\xc2\x85z';
    # --data through a directory whose name holds a newline and a "*/"
    my $odd = "$TMP/odd\n*";
    mkdir $odd or die "$odd: $!";
    copy($WW, "$odd/w.json") or die "copy: $!";
    my $data_line = "Data: version unknown (--data $TMP/odd\\x0a*\\x2fw.json).";
    my $policy_line = 'Policy: direct categories optimize, allow; service areas '
        . join(', ', 'Exchange', @long, $hostile_shown)
        . '; required only no; 0 extra_direct and 0 never_direct entries.';
    my $long_conf = spew("$TMP/export-long.conf",
        'service_areas = Exchange, ' . join(', ', @long) . "\nservice_areas = $hostile\n");
    # the same selection (Exchange): no other name is a service area
    my $ref_conf = spew("$TMP/export-ref.conf", "service_areas = Exchange, Zzz\n");

    # export FORMAT with conf and data to a new place: (result, its files)
    my $n = 0;
    my $export = sub {
        my ($fmt, $conf, $data) = @_;
        my $out = "$TMP/export-" . ++$n . ($fmt eq 'pac' ? '.pac' : $fmt eq 'mmdb' ? '.mmdb' : '');
        mkdir $out or die if $fmt eq 'squid' || $fmt eq 'haproxy';
        my $r = cli('-c', $conf, '--data', $data, 'export', $fmt, '-o', $out);
        return ($r, $out, $out) unless -d $out;
        opendir(my $dh, $out) or die "$out: $!";
        return ($r, $out, map { "$out/$_" } sort grep { !/^\./ } readdir $dh);
    };
    my %comment = (pac => '// ', squid => '# ', haproxy => '# ');
    for my $fmt (qw(pac squid haproxy mmdb)) {
        my ($r, $out, @files) = $export->($fmt, $long_conf, "$odd/w.json");
        my ($ref, $ref_out, @ref_files) = $export->($fmt, $ref_conf, $WW);
        ok($r->{rc} == 0 && $r->{err} eq '' && $ref->{rc} == 0 && @files && @files == @ref_files,
            "export $fmt: long and hostile service_areas names and --data path: exit 0, "
            . 'nothing on stderr, the same files as without them',
            show($r), "reference: exit $ref->{rc}: $ref->{err}", "files: @files",
            "reference files: @ref_files");
        my @wrong = @files && @files == @ref_files ? () : ('not the files of the reference');
        for my $i (0 .. $#files) {
            my ($got, $want) = (slurp($files[$i]), slurp($ref_files[$i] // ''));
            # the Squid fragments name themselves ("include OUT/...")
            s/\Q$out\E/OUT/g for $got;
            s/\Q$ref_out\E/OUT/g for $want;
            my $name = basename($files[$i]);
            if ($fmt eq 'mmdb') {
                # the search tree and data before the metadata are the
                # reference's; the description holds the header lines
                my $m = "\xab\xcd\xefMaxMind.com";
                my ($gi, $wi) = (rindex($got, $m), rindex($want, $m));
                push @wrong, "$name: the data section differs"
                    unless $gi > 0 && $wi > 0 && substr($got, 0, $gi) eq substr($want, 0, $wi);
                push @wrong, "$name: the description lacks the header lines"
                    unless index($got, "\n$data_line\n$policy_line\nPorts are not") > 0;
                my $l = run('mmdblookup', [ '--file', $files[$i], '--ip', '13.107.6.152', '-v' ]);
                push @wrong, "$name: mmdblookup: exit $l->{rc}: $l->{err}"
                    unless $l->{rc} == 0 && index($l->{out}, $policy_line) >= 0;
                next;
            }
            my $c = $comment{$fmt};
            my @g = split /\n/, $got, -1;
            my @w = split /\n/, $want, -1;
            my @exp = ($w[0], "$c$data_line", "$c$policy_line", $w[3]);
            for my $k (0 .. 3) {
                push @wrong, "$name: header line " . ($k + 1) . ': <' . ($g[$k] // '(none)')
                    . '>, expected <' . ($exp[$k] // '(none)') . '>'
                    unless defined $g[$k] && defined $exp[$k] && $g[$k] eq $exp[$k];
            }
            push @wrong, "$name: header line 1 <$w[0]>"
                unless ($w[0] // '') =~ /^\Q$c\EGenerated by m365-direct /;
            push @wrong, "$name: after the header, the file differs from the reference"
                unless join("\n", @g[4 .. $#g]) eq join("\n", @w[4 .. $#w]);
            push @wrong, "$name: a byte outside printable ASCII, or a \"*/\", in the header"
                if join(' ', grep { defined } @g[0 .. 3]) =~ m{[^\x20-\x7e]|\*/};
        }
        ok(!@wrong, "export $fmt: the header is four comment lines, the names in full, "
            . 'control characters, non-ASCII, "\\" and "*/" escaped as \\xHH; the rest as without them',
            @wrong);
    }
}

# =========================================================================
# hostile endpoint files (tests/data/bad/)
# =========================================================================
{
    # per file: what the message must name (set id and field where there
    # is one)
    my %want = (
        'invalid-cidr.json'        => [ qr/set 1\b/,  qr/\bips\b/, qr/13\.107\.6\.300\/31/ ],
        'host-bits.json'           => [ qr/set 7\b/,  qr/\bips\b/, qr/40\.96\.0\.1\/13/, qr/host bits/ ],
        'prefix-33.json'           => [ qr/set 12\b/, qr/\bips\b/, qr/52\.112\.0\.0\/33/ ],
        'ipv6-129.json'            => [ qr/set 46\b/, qr/\bips\b/, qr/\/129/ ],
        'ipv6-host-bits.json'      => [ qr/set 46\b/, qr/\bips\b/, qr/host bits/ ],
        'bad-category.json'        => [ qr/set 31\b/, qr/category/, qr/Optimise/ ],
        'pattern-space.json'       => [ qr/set 56\b/, qr/\burls\b/, qr/login microsoftonline\.com/ ],
        'pattern-scheme.json'      => [ qr/set 64\b/, qr/\burls\b/, qr/https:/ ],
        'pattern-nul.json'         => [ qr/set 9\b/,  qr/\burls\b/ ],
        'ip-nul.json'              => [ qr/set 9\b/,  qr/\bips\b/ ],
        'not-array.json'           => [ qr/array/ ],
        'deep-nesting.json'        => [ qr/nest|deep/ ],
        'deep-nesting-in-set.json' => [ qr/nest|deep/ ],
        'id-not-integer.json'      => [ qr/set #2\b/, qr/"?id"?/ ],
        'id-string.json'           => [ qr/set #1\b/, qr/"?id"?/ ],
        'id-negative.json'         => [ qr/set #1\b/, qr/"?id"?/ ],
        'bad-port.json'            => [ qr/set 2\b/,  qr/tcpPorts/ ],
        'port-range-reversed.json' => [ qr/set 11\b/, qr/udpPorts/ ],
        'port-65536.json'          => [ qr/set 12\b/, qr/tcpPorts/ ],
        'urls-not-array.json'      => [ qr/set 17\b/, qr/\burls\b/ ],
        'ip-not-string.json'       => [ qr/set 46\b/, qr/\bips\b/ ],
        'required-not-bool.json'   => [ qr/set 19\b/, qr/required/ ],
        'empty-label.json'         => [ qr/set 35\b/, qr/\burls\b/, qr/admin\.\.onedrive\.com/ ],
        'set-not-object.json'      => [ qr/set #2\b/, qr/object/ ],
        'truncated.json'           => [ qr/JSON/ ],
        'empty.json'               => [ qr/JSON|empty/ ],
        'empty-array.json'         => [ qr/empty|no endpoint sets/ ],
    );
    my @files = sort map { basename($_) } glob('tests/data/bad/*.json');
    my @unknown = grep { !$want{$_} } @files;
    my @absent = grep { !-f "tests/data/bad/$_" } sort keys %want;
    ok(!@unknown && !@absent, 'every file in tests/data/bad/ has an expected message here',
        "not listed: @unknown", "missing files: @absent");

    my (@exit_wrong, @acl_wrong);
    for my $f (@files) {
        my $path = "tests/data/bad/$f";
        my $r = cli('-c', '/dev/null', '--data', $path, 'check', 'outlook.office365.com', '443');
        my @miss = grep { $r->{err} !~ $_ } ($want{$f} ? @{ $want{$f} } : ());
        ok($r->{err} =~ /\Q$path\E/ && !@miss,
            "bad data $f: m365-direct names the file" . ($want{$f} && $want{$f}[0] =~ /set (#|\d)/ ? ', the set and the field' : ' and the problem'),
            map({ "stderr lacks $_" } @miss), show($r));
        push @exit_wrong, "$f: exit $r->{rc}, stdout: " . ($r->{out} =~ s/\n.*//sr)
            unless $r->{rc} == 1 && $r->{out} eq '';

        my $h = run($ACL, [ '-c', '/dev/null', '--concurrency', '--data', $path ],
            "1 outlook.office365.com 443 -\n2 partner.outlook.cn 443 -\n");
        push @acl_wrong, "$f: exit $h->{rc}, out: $h->{out}, err: $h->{err}"
            unless $h->{rc} == 0
                && $h->{out} =~ /\A1 OK m365=direct m365_category=optimize m365_sets=(1,71|71,1)\n2 ERR m365=proxy m365_category=none\n\z/
                && $h->{err} =~ /\Q$path\E/ && $h->{err} =~ /bundled/;
    }
    ok(!@exit_wrong, 'bad data: "m365-direct --data BAD check" exits 1 and prints no verdict, for every file '
        . '(an explicit --data file is not silently replaced by the bundled snapshot)', @exit_wrong);
    ok(!@acl_wrong, 'bad data: ext_m365_acl --data BAD serves the bundled snapshot and warns, for every file',
        @acl_wrong);
}

tap_done();
