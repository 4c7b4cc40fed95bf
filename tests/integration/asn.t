#!/usr/bin/perl
# The ASN cross-check (issue 9, item 1) through the real binaries:
# "m365-direct update" from a file:// mirror (the air-gapped layout
# DIR/version/INSTANCE, DIR/endpoints/INSTANCE; the fetch itself is
# update.t's) with ASN databases that MaxMind's own writer builds here
# from tests/data/asn/ (IP to ASN data by DB-IP (db-ip.com), RouteViews
# and NRO, CC BY 4.0; tests/tools/asn_mmdb.pl): the three real feeds pass
# under their instances' defaults (China: off, said once; with its
# carriers as trusted_asns: checked and passed), a feed with one foreign
# prefix and one with a prefix partly foreign are refused (exit 1, one
# line naming the set, prefix, AS and organisation, the last good data
# byte-identical, the failure in status.json), --force does not override,
# warn installs and says the same, off checks nothing, an unreadable
# database fails (refuse) or is said (warn), extra_direct only warns; then
# "check IP" (text, --json), "status" (text, --json, --prometheus) after a
# refusal and after a pass, and the helper: it reads the keys and does not
# link libmaxminddb.  TAP output.
#
#   prove -v -e '' tests/integration/asn.t      (from the repo root)
#   M365_BUILD=build/san prove -e '' tests/integration/asn.t
#   M365_KEEP=1 ...  keeps the temp dir and says where
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

$SIG{$_} = sub { exit 1 } for qw(INT TERM HUP);
chdir(dirname(__FILE__) . '/../..') or die "chdir: $!";
my $ROOT   = getcwd();
my $B      = $ENV{M365_BUILD} || 'build/rel';
my $CLI    = "$ROOT/$B/m365-direct";
my $HELPER = "$ROOT/$B/ext_m365_acl";
my $WRITER = "$ROOT/tests/tools/asn_mmdb.pl";
my @CSV    = map { "$ROOT/tests/data/asn/$_" } qw(asn-ipv4.csv asn-ipv6.csv);
my %FEED   = map { $_ => "$ROOT/tests/data/$_.json" } qw(worldwide-c2025 worldwide-c2022 china-c2025);
my $TMP    = tempdir('m365-asn-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{M365_KEEP});
diag("temp dir kept: $TMP") if $ENV{M365_KEEP};
my ($V1, $V2, $V3) = ('2025110700', '2025112000', '2025120100');

for my $need ($CLI, $HELPER) {
    next if -x $need;
    print "1..1\nnot ok 1 - $need is built (run make)\n";
    exit 1;
}

# run([argv]): { rc, out, err, cmd }, killed after 60 s
my $RUNS = 0;
sub run {
    my ($argv, $in) = @_;
    return run_cmd(argv => $argv, stdin => $in);
}

sub show {
    my ($r) = @_;
    my $out = length $r->{out} > 2000 ? substr($r->{out}, 0, 2000) . '...' : $r->{out};
    return ("command: $r->{cmd}", "exit $r->{rc}", "stdout: $out", "stderr: $r->{err}");
}

# =========================================================================
# The databases, built by MaxMind's writer from the real rows
# =========================================================================
my %DB;
for my $k ([ 'v6', 6, 28 ], [ 'v4', 4, 24 ]) {
    my ($name, $ipv, $rs) = @$k;
    $DB{$name} = "$TMP/asn-$name.mmdb";
    my $r = run([ 'perl', $WRITER, '--ip-version', $ipv, '--record-size', $rs, '-o', $DB{$name}, @CSV ]);
    ok($r->{rc} == 0 && -s $DB{$name},
        "asn_mmdb.pl (MaxMind::DB::Writer::Tree) builds an ip_version $ipv database with $rs-bit records",
        show($r));
}
if (grep { !-s $_ } values %DB) {
    tap_done();
}
my $GARBAGE = spew("$TMP/garbage.mmdb", "this is not a MaxMind DB\n" x 100);

# =========================================================================
# Feeds, mirrors, state directories
# =========================================================================
my $JSONW = JSON::PP->new->canonical;
sub load_sets { return decode_json(slurp($_[0])) }
sub set_by_id {
    my ($sets, $id) = @_;
    my ($s) = grep { $_->{id} == $id } @$sets;
    return $s // die "no set $id";
}
# a feed: the 2025 Worldwide file with extra prefixes added to sets
sub feed_with {
    my ($name, %add) = @_;
    my $s = load_sets($FEED{'worldwide-c2025'});
    push @{ set_by_id($s, $_)->{ips} }, @{ $add{$_} } for keys %add;
    return spew("$TMP/$name.json", $JSONW->encode($s));
}
# Cloudflare London (AS209242) and Google (AS19527): rows of the CSV's
# random sample.  52.112.0.0/13 widens Microsoft's 52.112.0.0/14 (Teams)
# over FastTrack's 52.119.51.0/24 (AS30688).
my $FOREIGN = feed_with('foreign', 46 => ['45.159.216.0/22']);
my $PARTLY  = feed_with('partly', 11 => ['52.112.0.0/13']);
my $GOOGLE  = feed_with('google', 2 => ['34.190.224.0/21']);

my $MIRRORS = 0;
# a mirror serving one file as INSTANCE's version V
sub mirror {
    my ($file, $version, $instance) = @_;
    $instance //= 'Worldwide';
    my $m = "$TMP/mirror" . ++$MIRRORS;
    mkdir $_ or die for $m, "$m/version", "$m/endpoints";
    spew("$m/version/$instance", qq({"instance": "$instance", "latest": "$version"}\n));
    copy($file, "$m/endpoints/$instance") or die;
    return "file://$m";
}
my $STATES = 0;
sub new_state { my $d = "$TMP/state" . ++$STATES; mkdir $d or die; return $d }
my $CONFS = 0;
sub conf { return spew("$TMP/conf" . ++$CONFS, join('', map { "$_\n" } @_)) }
sub upd {
    my ($dir, $conf, $base, @args) = @_;
    return run([ $CLI, '-c', $conf, '--state-dir', $dir, 'update', '--base-url', $base, @args ]);
}
sub installed {
    my $t = readlink("$_[0]/endpoints.json") // '';
    return $t =~ /^endpoints-(\d{10})-(\w+)\.json\z/ ? "$1 $2" : '';
}
sub snap {
    my ($d) = @_;
    opendir(my $dh, $d) or die;
    return join('|', installed($d), slurp("$d/endpoints.json"),
        sort grep { !/^\.|^status\.json$/ } readdir $dh);
}
sub status_json { return eval { decode_json(slurp("$_[0]/status.json")) } || {} }
sub lines_matching { my ($re, $text) = @_; return scalar(() = $text =~ /$re/g) }

my $DBCONF = conf("asn_database = $DB{v6}");

# =========================================================================
# The real feeds under their instances' defaults
# =========================================================================
my $GOOD = new_state();
{
    my $r = upd($GOOD, $DBCONF, mirror($FEED{'worldwide-c2025'}, $V1));
    my $st = status_json($GOOD);
    ok($r->{rc} == 0 && installed($GOOD) eq "$V1 Worldwide"
        && $r->{err} =~ /^m365-direct: installed Worldwide version $V1 .*; ASN check passed: 93 prefixes in trusted ASes$/m
        && $r->{err} !~ /asn_check:/,
        'Worldwide 2025: every prefix in Microsoft\'s ASes: installed, "ASN check passed: 93 prefixes", no finding',
        show($r));
    ok(($st->{asn_result} // '') eq 'pass' && ($st->{asn_prefixes} // -1) == 93
        && ($st->{asn_untrusted} // -1) == 0 && ($st->{asn_checked} // 0) > time - 120,
        'status.json records the pass: asn_result, asn_prefixes, asn_untrusted, asn_checked',
        slurp("$GOOD/status.json"));

    my $dir = new_state();
    $r = upd($dir, $DBCONF, mirror($FEED{'worldwide-c2022'}, $V1));
    my $warn = lines_matching(qr/^m365-direct: update: asn_check: warning: set [\d, ]+: ips: "[^"]+": not in the ASN database/m, $r->{err});
    ok($r->{rc} == 0 && installed($dir) eq "$V1 Worldwide" && $warn == 10
        && $r->{err} !~ /asn_check: (?!warning)/ && $r->{err} =~ /ASN check passed: 131 prefixes in trusted ASes, 10 partly not in the database/,
        'Worldwide 2022: 10 prefixes no longer routed are warnings (one line each), not a refusal: installed',
        show($r));

    $dir = new_state();
    $r = upd($dir, $DBCONF, mirror($FEED{'china-c2025'}, $V1, 'China'), '--instance', 'China');
    $st = status_json($dir);
    ok($r->{rc} == 0 && installed($dir) eq "$V1 China"
        && lines_matching(qr/ASN check off/, $r->{err}) == 1
        && $r->{err} =~ /^m365-direct: update: asn_check: ASN check off: instance China has no default trusted ASes .*set trusted_asns/m
        && ($st->{asn_result} // '') eq 'off',
        'China without trusted_asns: the check is off, update says so once, installs; status.json: off',
        show($r), slurp("$dir/status.json"));

    my $carriers = '58593, 4837, 138195, 21859, 138169, 38283, 9009, 45629, 17638, 136190, 63835, 135377, 56046';
    $dir = new_state();
    $r = upd($dir, conf("asn_database = $DB{v6}", 'instance = China', "trusted_asns = $carriers"),
        mirror($FEED{'china-c2025'}, $V1, 'China'));
    ok($r->{rc} == 0 && installed($dir) eq "$V1 China" && $r->{err} =~ /ASN check passed: 75 prefixes in trusted ASes/
        && $r->{err} !~ /asn_check: (?!warning)/,
        'China with trusted_asns = 21Vianet and its carriers: checked, all 75 prefixes pass', show($r));

    $dir = new_state();
    $r = upd($dir, conf("asn_database = $DB{v6}", 'instance = China', 'trusted_asns = AS8068-AS8075'),
        mirror($FEED{'china-c2025'}, $V1, 'China'));
    ok($r->{rc} == 1 && installed($dir) eq '' && $r->{err} =~ /AS58593 \(Shanghai Blue Cloud Technology Co\.,Ltd\), not a trusted AS/,
        'China with trusted_asns = Microsoft\'s only: refused (21Vianet is not Microsoft)', show($r));

    $dir = new_state();
    $r = upd($dir, conf("asn_database = $DB{v4}"), mirror($FEED{'worldwide-c2025'}, $V1));
    ok($r->{rc} == 0 && installed($dir) eq "$V1 Worldwide"
        && $r->{err} =~ /asn_check: warning: the ASN database holds IPv4 only: \d+ IPv6 prefixes not checked/
        && $r->{err} =~ /ASN check passed: 93 prefixes in trusted ASes, \d+ IPv6 not checked/,
        'an ip_version 4 database: the IPv4 prefixes pass, the IPv6 ones are said to be unchecked', show($r));

    $dir = new_state();
    $r = upd($dir, conf('asn_check = refuse'), mirror($FOREIGN, $V1));
    ok($r->{rc} == 0 && installed($dir) eq "$V1 Worldwide" && $r->{err} !~ /asn|ASN/
        && (status_json($dir)->{asn_result} // '') eq 'off',
        'no asn_database: nothing is checked and nothing said (even a foreign prefix installs); status.json: off',
        show($r));
}

# =========================================================================
# Refusals: the last good data stays
# =========================================================================
sub refused_case {
    my ($desc, $feed, $re, %o) = @_;
    my $dir = new_state();
    system('cp', '-a', "$GOOD/.", $dir) == 0 or die;
    my $before = snap($dir);
    my $r = upd($dir, $o{conf} // $DBCONF, mirror($feed, $V2), @{ $o{args} || [] });
    my $st = status_json($dir);
    my @bad = grep { /asn_check: (?!warning)/ } split /\n/, $r->{err};
    ok($r->{rc} == 1 && snap($dir) eq $before && installed($dir) eq "$V1 Worldwide"
        && @bad == 1 && $bad[0] =~ $re
        && $r->{err} =~ /^m365-direct: update failed: refused data of version $V2: ASN check: 1 of \d+ prefixes not in trusted ASes, the first: .*; keeping version $V1$/m
        && ($st->{last_result} // '') eq 'failed' && ($st->{asn_result} // '') eq 'refused'
        && ($st->{asn_untrusted} // 0) == 1 && ($st->{last_message} // '') =~ /refused data/,
        "$desc: exit 1, one line naming set, prefix, AS and organisation; endpoints.json and version "
        . 'unchanged; status.json: failed, asn_result refused', show($r), slurp("$dir/status.json"));
    return $dir;
}
my $REFUSED = refused_case('a feed with one foreign prefix (Cloudflare)', $FOREIGN,
    qr/^m365-direct: update: asn_check: set 46: ips: "45\.159\.216\.0\/22": originated by AS209242 \(Cloudflare London, LLC\), not a trusted AS$/);
refused_case('the same with --force', $FOREIGN, qr/AS209242/, args => ['--force']);
refused_case('a feed with Google\'s 34.190.224.0/21', $GOOGLE,
    qr/set 2: ips: "34\.190\.224\.0\/21": originated by AS19527 \(Google LLC\)/);
refused_case('a prefix partly foreign (52.112.0.0/13: Microsoft\'s first half, FastTrack inside)', $PARTLY,
    qr/set 11: ips: "52\.112\.0\.0\/13": 52\.119\.51\.0-52\.119\.55\.255 originated by AS30688 \(FastTrack Communications Inc\.\), not a trusted AS/);
refused_case('the same in an ip_version 4 database', $PARTLY, qr/52\.119\.51\.0-52\.119\.55\.255 originated by AS30688/,
    conf => conf("asn_database = $DB{v4}"));

# =========================================================================
# warn, off, unreadable databases, extra_direct
# =========================================================================
{
    my $dir = new_state();
    system('cp', '-a', "$GOOD/.", $dir) == 0 or die;
    my $r = upd($dir, conf("asn_database = $DB{v6}", 'asn_check = warn'), mirror($FOREIGN, $V2));
    ok($r->{rc} == 0 && installed($dir) eq "$V2 Worldwide" && slurp("$dir/endpoints.json") eq slurp($FOREIGN)
        && $r->{err} =~ /^m365-direct: update: asn_check: warning: set 46: ips: "45\.159\.216\.0\/22": originated by AS209242 \(Cloudflare London, LLC\), not a trusted AS \(asn_check = warn: installed anyway\)$/m
        && $r->{err} =~ /installed Worldwide version $V2 .*ASN check \(asn_check = warn\): 1 of 94 prefixes not in trusted ASes/
        && (status_json($dir)->{asn_result} // '') eq 'warn',
        'asn_check = warn: installs, with the same line as a warning; status.json: warn', show($r));

    # a cache the check refuses (here installed in warn mode) gains nothing
    # once the check refuses: check and export re-run it on what they read
    my $refuse = conf("asn_database = $DB{v6}");
    my $c = run([ $CLI, '-c', $refuse, '--state-dir', $dir, 'check', '45.159.216.1' ]);
    ok($c->{rc} == 1 && $c->{out} eq ''
        && $c->{err} =~ /check: .*endpoints\.json: refused by the ASN cross-check: .*45\.159\.216\.0\/22.*AS209242/,
        'check on a cache the ASN check refuses: exit 1, the reason, no verdict', show($c));
    my $out = "$TMP/asn-refused.pac";
    $c = run([ $CLI, '-c', $refuse, '--state-dir', $dir, 'export', 'pac', '-o', $out ]);
    ok($c->{rc} == 1 && !-e $out && $c->{err} =~ /refused by the ASN cross-check/,
        'export from that cache: exit 1, nothing written', show($c));
    $c = run([ $CLI, '-c', conf("asn_database = $DB{v6}", 'asn_check = warn'), '--state-dir', $dir, 'check', '45.159.216.1' ]);
    ok($c->{rc} == 0, 'the same cache with asn_check = warn: check answers', show($c));

    $dir = new_state();
    system('cp', '-a', "$GOOD/.", $dir) == 0 or die;
    $r = upd($dir, conf("asn_database = $DB{v6}", 'asn_check = off'), mirror($FOREIGN, $V2));
    ok($r->{rc} == 0 && installed($dir) eq "$V2 Worldwide" && $r->{err} !~ /asn_check|ASN check/
        && (status_json($dir)->{asn_result} // '') eq 'off',
        'asn_check = off: installs, says nothing of ASes; status.json: off', show($r));

    for my $bad ([ 'missing', "$TMP/no-such.mmdb", qr/No such file or directory/ ],
        [ 'not a MaxMind DB', $GARBAGE, qr/garbage\.mmdb: / ], [ 'a directory', $TMP, qr/not a regular file/ ]) {
        my ($what, $path, $why) = @$bad;
        $dir = new_state();
        system('cp', '-a', "$GOOD/.", $dir) == 0 or die;
        my $before = snap($dir);
        $r = upd($dir, conf("asn_database = $path"), mirror($FEED{'worldwide-c2025'}, $V2));
        ok($r->{rc} == 1 && snap($dir) eq $before
            && $r->{err} =~ /^m365-direct: update failed: refused data of version $V2: ASN check: cannot read the ASN database: \Q$path\E/m
            && $r->{err} =~ $why && (status_json($dir)->{asn_result} // '') eq 'error',
            "asn_database $what: the update fails and says why, the data stays; status.json: error", show($r));
    }
    $dir = new_state();
    $r = upd($dir, conf("asn_database = $GARBAGE", 'asn_check = warn'), mirror($FEED{'worldwide-c2025'}, $V2));
    ok($r->{rc} == 0 && installed($dir) eq "$V2 Worldwide"
        && $r->{err} =~ /ASN check: cannot read the ASN database: .*garbage\.mmdb.*\(asn_check = warn: installed unchecked\)/,
        'an unreadable database with asn_check = warn: installed, and said', show($r));

    $dir = new_state();
    $r = upd($dir, conf("asn_database = $DB{v6}", 'extra_direct = *.contoso.example, 34.190.224.0/21, 52.122.0.0/16'),
        mirror($FEED{'worldwide-c2025'}, $V1));
    ok($r->{rc} == 0 && installed($dir) eq "$V1 Worldwide"
        && $r->{err} =~ /^m365-direct: update: asn_check: warning: extra_direct "34\.190\.224\.0\/21": originated by AS19527 \(Google LLC\), not a trusted AS \(extra_direct: your own configuration, a warning only\)$/m
        && $r->{err} !~ /52\.122\.0\.0\/16|contoso/ && $r->{err} =~ /ASN check passed: 93 .*1 extra_direct CIDRs outside trusted ASes/,
        'extra_direct: a foreign CIDR is a warning only (installed), a Microsoft one and a pattern say nothing',
        show($r));
}

# =========================================================================
# check IP
# =========================================================================
{
    my @c = ($CLI, '-c', $DBCONF, '--data', $FEED{'worldwide-c2025'}, 'check');
    my $r = run([ @c, '52.122.0.5', '443' ]);
    ok($r->{rc} == 0 && $r->{out} =~ /^52\.122\.0\.5 port 443: DIRECT/ && $r->{out} =~ /^  AS8069 \(Microsoft Corporation\): a trusted AS$/m,
        'check IP: the AS and organisation of the address, and whether update trusts it', show($r));
    $r = run([ @c, '34.190.224.9' ]);
    ok($r->{rc} == 0 && $r->{out} =~ /^  AS19527 \(Google LLC\): not a trusted AS$/m, 'check IP: a foreign AS is named as not trusted', show($r));
    $r = run([ @c, '2603:1063:300::1' ]);
    ok($r->{rc} == 0 && $r->{out} =~ /^  AS8070 \(Microsoft Corporation\): a trusted AS$/m, 'check IPv6: the AS too', show($r));
    $r = run([ @c, '--json', '52.122.0.5', '443' ]);
    my $j = eval { decode_json($r->{out}) } || {};
    ok($r->{rc} == 0 && ($j->{asn} // 0) == 8069 && ($j->{as_organization} // '') eq 'Microsoft Corporation'
        && JSON::PP::is_bool($j->{asn_trusted}) && $j->{asn_trusted} && $j->{direct} && !exists $j->{asn_error},
        'check --json: "asn": 8069, "as_organization", "asn_trusted": true', show($r));
    $r = run([ @c, '--json', '::ffff:34.190.224.9' ]);
    $j = eval { decode_json($r->{out}) } || {};
    ok($r->{rc} == 0 && ($j->{asn} // 0) == 19527 && ($j->{as_organization} // '') eq 'Google LLC'
        && JSON::PP::is_bool($j->{asn_trusted}) && !$j->{asn_trusted},
        'check --json ::ffff:a.b.c.d: the IPv4 address\'s AS, "asn_trusted": false', show($r));
    for my $h ('8.8.8.8', 'outlook.office365.com') {
        $r = run([ @c, '--json', $h ]);
        $j = eval { decode_json($r->{out}) } || {};
        ok($r->{rc} == 0 && exists $j->{asn} && !defined $j->{asn} && exists $j->{as_organization}
            && !defined $j->{as_organization} && exists $j->{asn_trusted} && !defined $j->{asn_trusted}
            && $r->{out} =~ /"asn":null/,
            "check --json $h: asn, as_organization, asn_trusted are null (not known)", show($r));
    }
    $r = run([ @c, '8.8.8.8' ]);
    ok($r->{rc} == 0 && $r->{out} =~ /^  not in the ASN database$/m, 'check IP not in the database: says so', show($r));
    $r = run([ $CLI, '-c', '/dev/null', '--data', $FEED{'worldwide-c2025'}, 'check', '--json', '52.122.0.5' ]);
    $j = eval { decode_json($r->{out}) } || {};
    ok($r->{rc} == 0 && !grep({ exists $j->{$_} } qw(asn as_organization asn_trusted asn_error)) && $r->{out} =~ /"direct":true/,
        'check --json without asn_database: no asn keys at all', show($r));
    $r = run([ $CLI, '-c', conf("asn_database = $GARBAGE"), '--data', $FEED{'worldwide-c2025'}, 'check', '--json', '52.122.0.5' ]);
    $j = eval { decode_json($r->{out}) } || {};
    ok($r->{rc} == 0 && exists $j->{asn} && !defined $j->{asn} && ($j->{asn_error} // '') =~ /garbage\.mmdb/
        && $r->{err} =~ /check: asn_database: .*garbage\.mmdb/ && $j->{direct},
        'check with an unreadable database: the verdict, "asn_error" and a warning on stderr', show($r));
    $r = run([ $CLI, '-c', conf("asn_database = $DB{v6}", 'instance = China'), '--data', $FEED{'china-c2025'},
        'check', '--json', '52.130.0.1' ]);
    $j = eval { decode_json($r->{out}) } || {};
    ok($r->{rc} == 0 && ($j->{asn} // 0) == 58593 && exists $j->{asn_trusted} && !defined $j->{asn_trusted},
        'check --json in China without trusted_asns: the AS, "asn_trusted": null (the check is off)', show($r));
}

# =========================================================================
# status after a refusal and after a pass
# =========================================================================
sub prom_lines {
    my ($dir, $conf) = @_;
    my $f = "$TMP/prom" . ++$RUNS . '.prom';
    my $r = run([ $CLI, '-c', $conf, '--state-dir', $dir, 'status', '--prometheus', $f ]);
    return ($r, slurp($f));
}
for my $case ([ 'a refusal', $REFUSED, 'refused', 1 ], [ 'a pass', $GOOD, 'pass', 0 ]) {
    my ($what, $dir, $result, $untrusted) = @$case;
    my $r = run([ $CLI, '-c', $DBCONF, '--state-dir', $dir, 'status' ]);
    ok($r->{rc} == 0 && $r->{out} =~ /^asn check: +\Q$result\E: ASN check\b/m && $r->{out} =~ /^asn checked: +\d{4}-\d\d-\d\d /m,
        "status after $what: \"asn check: $result: ...\" and when", show($r));
    $r = run([ $CLI, '-c', $DBCONF, '--state-dir', $dir, 'status', '--json' ]);
    my $j = eval { decode_json($r->{out}) } || {};
    my $a = $j->{asn_check} || {};
    ok($r->{rc} == 0 && ($a->{result} // '') eq $result && ($a->{database} // '') eq $DB{v6}
        && ($a->{untrusted} // -1) == $untrusted && ($a->{prefixes} // 0) >= 93 && ($a->{checked} // 0) > time - 300
        && ($a->{message} // '') =~ /^ASN check/,
        "status --json after $what: asn_check.result $result, database, counts, checked", show($r));
    my ($pr, $text) = prom_lines($dir, $DBCONF);
    my %v = $text =~ /^m365_direct_asn_check\{result="(\w+)"\} (\d)$/mg;
    ok($pr->{rc} == 0 && join(',', sort keys %v) eq 'error,off,pass,refused,warn'
        && $v{$result} == 1 && (grep { $v{$_} } keys %v) == 1
        && $text =~ /^# TYPE m365_direct_asn_check gauge$/m
        && $text =~ /^m365_direct_asn_untrusted_prefixes $untrusted$/m
        && $text =~ /^m365_direct_asn_check_timestamp_seconds [1-9]\d+$/m,
        "status --prometheus after $what: m365_direct_asn_check{result=\"$result\"} 1, the others 0; untrusted $untrusted",
        show($pr), "file:\n$text");
}
{
    my $dir = new_state();
    my $r = run([ $CLI, '-c', '/dev/null', '--state-dir', $dir, 'status' ]);
    ok($r->{rc} == 0 && $r->{out} =~ /^asn check: +never run \(no asn_database\)$/m, 'status before any check: never run', show($r));
    my ($pr, $text) = prom_lines($dir, '/dev/null');
    my %v = $text =~ /^m365_direct_asn_check\{result="(\w+)"\} (\d)$/mg;
    ok($pr->{rc} == 0 && keys(%v) == 5 && !grep({ $_ } values %v), 'status --prometheus before any check: every result 0',
        "file:\n$text");
}

# =========================================================================
# The configuration and the helper
# =========================================================================
{
    my $conf = conf("asn_database = $DB{v6}", 'asn_check = warn', 'trusted_asns = AS8068-AS8075, 12076');
    my $r = run([ $CLI, '-c', $conf, 'config-test' ]);
    ok($r->{rc} == 0 && $r->{out} eq "configuration OK\n", 'config-test accepts the three keys', show($r));
    $r = run([ $CLI, '-c', conf('asn_check = maybe', 'trusted_asns = Microsoft', 'asn_database = relative.mmdb'), 'config-test' ]);
    ok($r->{rc} == 1 && $r->{err} =~ /:1: asn_check: "maybe" is not refuse, warn or off/
        && $r->{err} =~ /:2: trusted_asns: "Microsoft": not an AS number/ && $r->{err} =~ /:3: asn_database: must be an absolute path/,
        'config-test: a bad asn_check, trusted_asns item and asn_database path, each file:line: message', show($r));
    my $in = spew("$TMP/helper.in", "outlook.office365.com 443\n52.122.0.5 443\n");
    $r = run([ $HELPER, '-c', $conf, '--data', $FEED{'worldwide-c2025'} ], $in);
    ok($r->{rc} == 0 && $r->{out} =~ /\AOK m365=direct .*\nOK m365=direct .*\n\z/ && $r->{err} !~ /asn|unknown key|error/i,
        'the helper reads a configuration with the ASN keys and answers as before', show($r));
    my $ldd_h = `ldd $HELPER 2>&1`;
    my $ldd_c = `ldd $CLI 2>&1`;
    ok($? == 0 && $ldd_h =~ /libc\.so/ && $ldd_h !~ /maxminddb/ && $ldd_c =~ /libmaxminddb/,
        'ldd: m365-direct links libmaxminddb, the helper ext_m365_acl does not', "helper:\n$ldd_h", "m365-direct:\n$ldd_c");
}

tap_done();
