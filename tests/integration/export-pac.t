#!/usr/bin/perl
# "m365-direct export pac" (issue 4, item 5; DESIGN.md §3, §5): the PAC
# file, evaluated by a real PAC engine (pacparser, through pac_eval.py),
# must answer DIRECT exactly where "m365-direct check" without a port says
# direct, for every agreement probe of the three real data files
# (tests/tools/probes), under the default policy and under one with
# extra_direct and never_direct entries; also with --direct optimize.
# Plus: deterministic output, the header, the size bound (and its error),
# the --proxy string used exactly and checked, edge hosts (case, trailing
# dot, brackets, IPv4-mapped IPv6, leading zeros, bad names) against
# "check", and no DNS resolution (pac_eval makes it fatal).  TAP output.
#
#   prove -v -e '' tests/integration/export-pac.t      (from the repo root)
#   M365_BUILD=build/san prove -e '' tests/integration/export-pac.t
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use Tap;
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use JSON::PP;

chdir(dirname(__FILE__) . '/../..') or die "chdir: $!";
my $B      = $ENV{M365_BUILD} || 'build/rel';
my $CLI    = "$B/m365-direct";
my $PROBES = "$B/tools/probes";
my $EVAL   = 'tests/integration/pac_eval.py';
my $PY     = '/usr/bin/python3';
my @DATA   = map { "tests/data/$_.json" } qw(worldwide-c2025 worldwide-c2022 china-c2025);
my $TMP    = tempdir('m365-pac-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $MiB    = 1024 * 1024;
my $DEFAULT_PROXY = 'PROXY proxy.example.net:3128; DIRECT';

for my $bin ($CLI, $PROBES) {
    next if -x $bin;
    print "1..1\nnot ok 1 - $bin is built (run make all $B/tools/probes)\n";
    exit 1;
}
if (system($PY, '-c', 'import pacparser') != 0) {
    print "1..1\nnot ok 1 - python3-pacparser is installed (tests/install-deps.sh)\n";
    exit 1;
}


# run([argv], $stdin): { rc, out, err }
sub run {
    my ($argv, $input) = @_;
    return run_cmd(argv => $argv, in => $input // '');
}
sub show { my ($r) = @_; return ("exit $r->{rc}", "stdout: $r->{out}", "stderr: $r->{err}") }

# export($conf, $data, $out, @options): the run of "export pac"
sub export_pac {
    my ($conf, $data, $out, @opt) = @_;
    return run([ $CLI, '-c', $conf, '--data', $data, 'export', 'pac', '-o', $out, @opt ]);
}

# probes($conf, $data): [ [host, 'direct'|'proxy'], ... ]
sub probes {
    my ($conf, $data) = @_;
    my $r = run([ $PROBES, '-c', $conf, $data ]);
    die "probes -c $conf $data: exit $r->{rc}: $r->{err}" if $r->{rc} != 0;
    return [ map { [ split /\t/ ] } split /\n/, $r->{out} ];
}

# evaluate($pac, @hosts): ({ host => answer } from pacparser, '') or
# ({}, why pac_eval failed)
sub evaluate {
    my ($pac, @hosts) = @_;
    my $r = run([ $PY, $EVAL, $pac ], join('', map { "$_\n" } @hosts));
    return ({}, "pac_eval $pac: exit $r->{rc}: $r->{err}") if $r->{rc} != 0;
    my %a = map { split /\t/, $_, 2 } split /\n/, $r->{out};
    return (\%a, '');
}

# agree($pac, $probes, $proxy): the disagreements, as text lines
sub agree {
    my ($pac, $probes, $proxy) = @_;
    my ($a, $fail) = evaluate($pac, map { $_->[0] } @$probes);
    return ($fail) if $fail;
    my @bad;
    for my $p (@$probes) {
        my ($host, $want) = @$p;
        my $got = $a->{$host} // '(no answer)';
        my $ok = $want eq 'direct' ? $got eq 'DIRECT' : $got eq $proxy;
        push @bad, "$host: check says $want, the PAC answers \"$got\"" unless $ok;
    }
    return @bad;
}

sub count { my ($probes, $what) = @_; return scalar grep { $_->[1] eq $what } @$probes }

# =========================================================================
# configurations
# =========================================================================
my $NONE = spew("$TMP/none.conf", "");
# extra_direct and never_direct of every shape: exact, "*." and "*x"
# suffixes, inner wildcards, '?', IPv4, IPv6 and IPv4-mapped CIDRs and a
# bare address; never_direct entries overlapping direct data entries and
# extra_direct ones (a pattern under a direct pattern, a direct exact name,
# prefixes inside direct prefixes).
my $POLICY = spew("$TMP/policy.conf", <<'EOF');
extra_direct = *.contoso.example, app.fabrikam.example, *cdn.fabrikam.example
extra_direct = relay?.fabrikam.example, login.*.fabrikam.example
extra_direct = 192.0.2.0/24, 198.51.100.7, 2001:db8:1::/48
extra_direct = ::ffff:203.0.113.0/120
never_direct = *.online.lync.com, outlook.office365.com, *.partner.outlook.cn
never_direct = autodiscover.bad*.onmicrosoft.com, *.secure.contoso.example
never_direct = 13.107.6.152/32, 2603:1006::/48, 40.96.0.0/13, 192.0.2.128/25
never_direct = 2001:db8:1:2::/64
EOF
my $OPTIMIZE = spew("$TMP/optimize.conf", "direct_categories = optimize\n");

# =========================================================================
# every probe of every data file, default policy and the policy above
# =========================================================================
my %count;
for my $data (@DATA) {
    (my $name = $data) =~ s{.*/|\.json$}{}g;
    for my $c ([ 'default policy', $NONE ], [ 'extra/never_direct policy', $POLICY ]) {
        my ($label, $conf) = @$c;
        my $file = "$name-" . ($conf eq $NONE ? 'default' : 'policy') . '.pac';
        my $out = "$TMP/$file";
        my $r = export_pac($conf, $data, $out);
        ok($r->{rc} == 0 && -s $out, "$name, $label: export pac writes $file", show($r))
            or next;
        my $probes = probes($conf, $data);
        my @bad = agree($out, $probes, $DEFAULT_PROXY);
        my ($d, $p) = (count($probes, 'direct'), count($probes, 'proxy'));
        $count{"$name, $label"} = [ scalar @$probes, $d, $p ];
        ok(@$probes > 1000 && $d > 100 && $p > 100,
            "$name, $label: enough probes of both answers ($d direct, $p proxy)");
        ok(!@bad, "$name, $label: pacparser agrees with check on all "
            . scalar(@$probes) . ' probes', scalar(@bad) . ' disagreements:',
            @bad[0 .. ($#bad < 49 ? $#bad : 49)]);
        ok(-s $out < $MiB, "$name, $label: the PAC is under 1 MiB (" . (-s $out) . ' bytes)');
    }
}
for my $k (sort keys %count) {
    diag(sprintf('%-45s %5d probes (%d direct, %d proxy)', $k, @{ $count{$k} }));
}

# the policy's entries did change answers both ways (or the probes above
# could not tell a PAC that ignores them)
{
    my %def = map { @$_ } @{ probes($NONE, $DATA[0]) };
    my %pol = map { @$_ } @{ probes($POLICY, $DATA[0]) };
    my @on  = grep { ($def{$_} // 'proxy') eq 'proxy' && $pol{$_} eq 'direct' } keys %pol;
    my @off = grep { ($def{$_} // '') eq 'direct' && $pol{$_} eq 'proxy' } keys %pol;
    ok(@on > 20 && @off > 5, 'extra_direct makes probes direct and never_direct takes '
        . 'probes back (' . scalar(@on) . ' and ' . scalar(@off) . ')');
    ok(($pol{'2001:db8:1::'} // '') eq 'direct' && ($pol{'2001:db8:1:2::'} // '') eq 'proxy'
        && ($pol{'::ffff:203.0.113.255'} // '') eq 'direct'
        && ($pol{'outlook.office365.com'} // '') eq 'proxy',
        'the policy probes cover IPv6, IPv4-mapped and exact never_direct entries');
}

# =========================================================================
# the file: deterministic, header, layout, no DNS
# =========================================================================
my $WW = $DATA[0];
my $A  = "$TMP/worldwide-c2025-policy.pac";
{
    my $again = "$TMP/again.pac";
    my $r = export_pac($POLICY, $WW, $again);
    ok($r->{rc} == 0 && slurp($again) eq slurp($A),
        'a second export of the same data and policy is byte-identical', show($r));

    my $text = slurp($A);
    my @lines = split /\n/, $text;
    ok($lines[0] =~ m{^// Generated by m365-direct \S+; do not edit}, 'the first line names the generator',
        "first line: $lines[0]");
    ok((grep { m{^// Data: .*--data \Q$WW\E} } @lines)
        && (grep { m{^// Policy: direct categories optimize, allow; .*9 extra_direct and 10 never_direct entries} } @lines)
        && (grep { m{^// Ports are not expressed} } @lines),
        'the header names the data, the policy and that ports are not expressed',
        grep { m{^//} } @lines[0 .. 12]);
    ok($text =~ /^function FindProxyForURL\(url, host\) \{$/m, 'it defines FindProxyForURL(url, host)');
    ok($text !~ /\b(dnsResolve|dnsResolveEx|isResolvable|isResolvableEx|isInNet|myIpAddress)\s*\(/,
        'it calls none of the DNS functions (nor isInNet)');
    ok($text =~ m{^\t"\*\.secure\.contoso\.example",?$}m && $text =~ m{^\t"192\.0\.2\.0/24",? // custom$}m
        && $text =~ m{^\t"203\.0\.113\.0/24",? // custom$}m
        && $text =~ m{^\t"13\.107\.6\.152/31",? // optimize$}m
        && $text =~ m{^\t"relay\?\.fabrikam\.example",? // custom$}m,
        'the lists hold the patterns and canonical prefixes with their categories');

    # the trap in pac_eval.py can fail: a PAC that resolves is refused
    my $dns = spew("$TMP/dns.pac", "function FindProxyForURL(url, host) {\n"
        . "\treturn isInNet(host, \"10.0.0.0\", \"255.0.0.0\") ? \"DIRECT\" : \"PROXY p:1\";\n}\n");
    $r = run([ $PY, $EVAL, $dns ], "example.com\n");
    ok($r->{rc} != 0 && $r->{err} =~ /isInNet called/,
        'pac_eval.py fails a PAC that resolves names (so the probes prove "no DNS")', show($r));
}

# =========================================================================
# edge hosts: the PAC against "check" (port-less), one by one
# =========================================================================
{
    my @edge = (
        'OUTLOOK.OFFICE365.COM', 'Teams.Microsoft.COM.', 'teams.microsoft.com..',
        '.teams.microsoft.com', 'a..teams.microsoft.com', 'x.Online.Lync.Com',
        'sub.SECURE.contoso.example.', 'relay1.fabrikam.example', 'relay12.fabrikam.example',
        'login.eu.fabrikam.example', 'login.fabrikam.example', 'xcdn.fabrikam.example',
        'cdn.fabrikam.example', 'fabrikam.example', 'autodiscover.bad1.onmicrosoft.com',
        'autodiscover.contoso.onmicrosoft.com', 'a_b.sharepoint.com', 'a*b.sharepoint.com',
        ('a' x 63) . '.sharepoint.com', ('a' x 64) . '.sharepoint.com',
        join('.', ('a' x 60) x 4) . '.sharepoint.com',    # 259 characters
        join('.', ('a' x 58) x 4) . '.sharepoint.com',    # 251
        '13.107.6.152', '13.107.6.153', '13.107.6.153.', '013.107.6.153', '13.107.6.256',
        '13.107.6', '13.107.6.153.1', '[13.107.6.153]', '::ffff:13.107.6.153',
        '[::FFFF:13.107.6.153]', '::ffff:d6b:699', '0:0:0:0:0:ffff:d6b:699',
        '::ffff:13.107.6.152', '::13.107.6.153', '192.0.2.1', '192.0.2.200', '198.51.100.7',
        '198.51.100.8', '2603:1006::1', '2603:1006:1::1', '[2603:1006:1::1]',
        '2603:1006:0:1:0:0:0:1', '2603:1006:1::1.2.3.4', '2603:1006:1::1::',
        '2603:10060::1', '2603:1006:1:::1', ':::', '::', '[::]', '[]', '[2603:1006:1::1',
        '2603:1006:1::1.', '2001:db8:1::', '2001:db8:1:2::1', '2001:DB8:1:3::1',
        '2603:1006:1:2:3:4:5::6', '2603:1006:1:2:3:4:5::', '2603:1006:1:2:3:4:5:6:7',
        '2603:1006:1:2:3:4:1.2.3.4', '2603:1006:1:2:3:4:5:1.2.3.4', '::ffff:13.107.6.0153',
        'fe80::1%eth0', '1.2.3.4.evil.net', 'evil-outlook.office365.com',
        # numbers as inet_aton reads them: addresses to resolvers, no names
        '13.107.1670', '0x0d.107.6.152', '0xd6b0698', '225117848', 'teams.microsoft.com.0',
        'teams.microsoft.com.0x1f', 'teams.microsoft.com.0X', '13.107.6.152.',
    );
    my ($a, $fail) = evaluate($A, @edge);
    my @bad = $fail ? ($fail) : ();
    for my $h (@edge) {
        my $r = run([ $CLI, '-c', $POLICY, '--data', $WW, 'check', $h, '--json' ]);
        my $v = eval { JSON::PP->new->decode($r->{out}) };
        if (!$v) { push @bad, "$h: check gave no JSON (exit $r->{rc}: $r->{err})"; next }
        my $want = $v->{direct} ? 'DIRECT' : $DEFAULT_PROXY;
        my $got  = $a->{$h} // '(no answer)';
        push @bad, "$h: check says " . ($v->{direct} ? 'direct' : 'proxy')
            . ($v->{reason} ? " ($v->{reason})" : '') . ", the PAC answers \"$got\""
            if $got ne $want;
    }
    ok(!@bad, 'edge hosts (case, dots, brackets, IPv4-mapped, leading zeros, bad names): '
        . 'the PAC agrees with check on all ' . scalar(@edge), @bad);
    my $direct = grep { ($a->{$_} // '') eq 'DIRECT' } @edge;
    ok($direct >= 10 && $direct <= @edge - 10, "edge hosts have both answers ($direct direct)");
}

# =========================================================================
# --proxy: used exactly, checked
# =========================================================================
{
    my $proxy = 'PROXY relay.example.test:8080; SOCKS5 [2001:db8::5]:1080;HTTPS 10.0.0.1:443; DIRECT';
    my $out = "$TMP/proxy.pac";
    my $r = export_pac($NONE, $WW, $out, '--proxy', $proxy);
    ok($r->{rc} == 0, '--proxy with several elements is accepted', show($r));
    my $probes = probes($NONE, $WW);
    my @bad = agree($out, $probes, $proxy);
    ok(!@bad, 'every non-direct answer is exactly the --proxy string, every direct one "DIRECT"',
        @bad[0 .. ($#bad < 19 ? $#bad : 19)]);
    ok(slurp($out) =~ /^var M365_PROXY = "\Q$proxy\E";$/m, 'the --proxy string is in the file as given');

    my $keep = slurp($out);
    for my $bad ('proxy.example.net:3128', '', 'PROXY proxy.example.net', 'PROXY :3128',
        'PROXY host:0', 'PROXY host:65536', 'PROXY host:3128;', 'PROXY host:3128;; DIRECT',
        'PROXY ho"st:3128', "PROXY host:3128\\", "PROXY host:3128\nDIRECT", 'FTP host:21',
        'PROXYhost:3128', 'PROXY host:3128 DIRECT') {
        $r = export_pac($NONE, $WW, $out, '--proxy', $bad);
        (my $shown = $bad) =~ s/\n/\\n/g;
        ok($r->{rc} == 1 && $r->{err} =~ /--proxy/ && slurp($out) eq $keep,
            "--proxy '$shown' is refused with a message and the file is left alone", show($r));
    }
    $r = export_pac($NONE, $WW, $out, '--proxy', 'proxy http://x');
    ok($r->{rc} == 1 && slurp($out) eq $keep, 'a proxy URL is no PAC proxy string', show($r));
}

# =========================================================================
# --direct optimize: Allow hosts are no longer direct
# =========================================================================
{
    for my $data (@DATA) {
        (my $name = $data) =~ s{.*/|\.json$}{}g;
        my $out = "$TMP/$name-optimize.pac";
        my $r = export_pac($NONE, $data, $out, '--direct', 'optimize');
        ok($r->{rc} == 0, "$name: export pac --direct optimize", show($r)) or next;
        my $opt = probes($OPTIMIZE, $data);
        my %def = map { @$_ } @{ probes($NONE, $data) };
        my $changed = grep { $def{ $_->[0] } eq 'direct' && $_->[1] eq 'proxy' } @$opt;
        my @bad = agree($out, $opt, $DEFAULT_PROXY);
        ok($changed > 0 && !@bad, "$name: --direct optimize agrees with direct_categories = "
            . "optimize on all " . scalar(@$opt) . " probes ($changed Allow probes now proxy)",
            "$changed changed", @bad[0 .. ($#bad < 49 ? $#bad : 49)]);
        $count{"$name, --direct optimize"} = [ scalar @$opt, count($opt, 'direct'), count($opt, 'proxy') ];
        if ($data eq $WW) {
            my $viaconf = "$TMP/optimize-conf.pac";
            $r = export_pac($OPTIMIZE, $data, $viaconf);
            ok($r->{rc} == 0 && slurp($viaconf) eq slurp($out),
                '--direct optimize and direct_categories = optimize give the same bytes', show($r));
        }
    }
    my $r = export_pac($NONE, $WW, "$TMP/x.pac", '--direct', 'optimize,allow');
    ok($r->{rc} == 0 && slurp("$TMP/x.pac") eq slurp("$TMP/worldwide-c2025-default.pac"),
        '--direct optimize,allow is the default policy', show($r));
    $r = export_pac($NONE, $WW, "$TMP/y.pac", '--direct', 'allow');
    ok($r->{rc} != 0 && $r->{err} =~ /higher/ && !-e "$TMP/y.pac",
        '--direct allow (without optimize) is refused', show($r));
    diag(sprintf('%-45s %5d probes (%d direct, %d proxy)', "$_", @{ $count{$_} }))
        for grep { /optimize/ } sort keys %count;
}

# =========================================================================
# the 1 MiB bound: a larger PAC is an error and nothing is replaced
# =========================================================================
{
    my $label = 'x' x 50;
    my @urls = map { sprintf('"host-%05d.%s.%s.example.com"', $_, $label, $label) } 1 .. 9000;
    my $big = spew("$TMP/big.json", '[{"id":1,"serviceArea":"Exchange","serviceAreaDisplayName":'
        . '"Exchange Online","urls":[' . join(',', @urls) . '],"tcpPorts":"443",'
        . '"expressRoute":false,"category":"Optimize","required":true}]');
    my $out = "$TMP/big.pac";
    spew($out, "previous\n");
    my $r = export_pac($NONE, $big, $out);
    ok($r->{rc} == 1 && $r->{err} =~ /1048576/ && slurp($out) eq "previous\n",
        'a PAC over 1 MiB is refused with a message and the old file stays', show($r));
    my @left = glob("$TMP/.*.pac.*");
    ok(!@left, 'no export left a temporary file behind', @left);
}

tap_done();
