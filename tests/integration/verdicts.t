#!/usr/bin/perl
# Verdicts against hand-checked expectations, per real endpoint file:
# tests/data/expect-NAME.txt lists "HOST PORT CATEGORY DIRECT SETS" lines
# worked out by reading tests/data/NAME.json; each line is checked with
#   m365-direct -c /dev/null --data tests/data/NAME.json check HOST [PORT] --json
# and the same answers are then asked of ext_m365_acl in one batch, so the
# command line and the Squid helper are held to the same expectations.
#
#   prove -v -e '' tests/integration/verdicts.t      (from the repo root)
#   M365_BUILD=build/san prove -e '' tests/integration/verdicts.t
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use Tap;
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use JSON::PP;

chdir(dirname(__FILE__) . '/../..') or die "chdir: $!";
my $B   = $ENV{M365_BUILD} || 'build/rel';
my $CLI = "$B/m365-direct";
my $ACL = "$B/ext_m365_acl";
my @FILES = qw(worldwide-c2025 worldwide-c2022 china-c2025);


for my $bin ($CLI, $ACL) {
    next if -x $bin;
    print "1..1\nnot ok 1 - $bin is built (run make)\n";
    exit 1;
}

# Reads one expectation file: [ [host, port|undef, category, direct, [sets], lineno] ]
sub read_expect {
    my ($path) = @_;
    open(my $fh, '<', $path) or die "$path: $!";
    my @e;
    while (my $line = <$fh>) {
        chomp $line;
        next if $line =~ /^\s*(#|$)/;
        my @f = split ' ', $line;
        die "$path:$.: want 5 fields, got " . scalar(@f) . "\n" if @f != 5;
        my ($host, $port, $cat, $direct, $sets) = @f;
        die "$path:$.: bad category $cat\n"
            unless $cat =~ /^(optimize|allow|default|none)$/;
        die "$path:$.: direct must be yes or no\n" unless $direct =~ /^(yes|no)$/;
        die "$path:$.: bad port $port\n" unless $port eq '-' || $port =~ /^\d+$/;
        die "$path:$.: bad sets $sets\n" unless $sets eq '-' || $sets =~ /^\d+(,\d+)*$/;
        push @e, [ $host, $port eq '-' ? undef : $port, $cat, $direct eq 'yes',
            [ $sets eq '-' ? () : sort { $a <=> $b } split /,/, $sets ], $. ];
    }
    return @e;
}

my %expect;
for my $f (@FILES) {
    $expect{$f} = [ read_expect("tests/data/expect-$f.txt") ];
}

sub run_capture {
    my (@cmd) = @_;
    my $dir = tempdir(CLEANUP => 1);
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open(STDOUT, '>', "$dir/out") or die;
        open(STDERR, '>', "$dir/err") or die;
        exec(@cmd) or exit 127;
    }
    waitpid($pid, 0);
    my $rc = exit_code($?);
    local $/;
    open(my $o, '<', "$dir/out") or die; my $out = <$o>;
    open(my $e, '<', "$dir/err") or die; my $err = <$e>;
    return ($rc, $out, $err);
}

my $json = JSON::PP->new;
for my $f (@FILES) {
    my $data = "tests/data/$f.json";
    for my $e (@{ $expect{$f} }) {
        my ($host, $port, $cat, $direct, $sets, $lineno) = @$e;
        my $desc = "$f: $host" . (defined $port ? " port $port" : '')
            . " -> $cat, " . ($direct ? 'direct' : 'not direct')
            . ', sets ' . (@$sets ? join(',', @$sets) : 'none')
            . " (expect-$f.txt:$lineno)";
        my ($rc, $out, $err) = run_capture($CLI, '-c', '/dev/null',
            '--data', $data, 'check', $host, defined $port ? ($port) : (),
            '--json');
        my $v = eval { $json->decode($out) };
        if ($rc != 0 || !$v) {
            ok(0, $desc, "exit $rc", "stdout: $out", "stderr: $err");
            next;
        }
        my @got_sets = sort { $a <=> $b } @{ $v->{sets} || [] };
        my $got_port = $v->{port};
        my @why;
        push @why, "host: got $v->{host}" if $v->{host} ne $host;
        push @why, 'port: got ' . ($got_port // 'null')
            if (defined $port) != (defined $got_port)
            || (defined $port && $port != $got_port);
        push @why, "category: got $v->{category}" if $v->{category} ne $cat;
        push @why, 'direct: got ' . ($v->{direct} ? 'true' : 'false')
            if !!$v->{direct} != !!$direct;
        push @why, 'sets: got ' . (@got_sets ? join(',', @got_sets) : 'none')
            if "@got_sets" ne "@$sets";
        push @why, "stderr: $err" if $err ne '';
        ok(!@why, $desc, @why, @why ? "output: $out" : ());
    }

    # The helper, same data, same expectations, one batch with channel IDs.
    # Its answer: [ID ](OK m365=direct|ERR m365=proxy) m365_category=C
    # [m365_sets=...]; host names that are not names get ERR ... none.
    my $dir = tempdir(CLEANUP => 1);
    open(my $in, '>', "$dir/in") or die;
    my $id = 0;
    for my $e (@{ $expect{$f} }) {
        my ($host, $port) = @$e;
        $id++;
        (my $h = $host) =~ s/([^A-Za-z0-9.:_-])/sprintf('%%%02X', ord $1)/ge;
        print $in "$id $h ", (defined $port ? $port : '-'), " -\n";
    }
    close $in;
    my $pid = fork() // die;
    if ($pid == 0) {
        open(STDIN, '<', "$dir/in") or die;
        open(STDOUT, '>', "$dir/out") or die;
        open(STDERR, '>', "$dir/err") or die;
        exec($ACL, '-c', '/dev/null', '--concurrency', '--data', $data) or exit 127;
    }
    waitpid($pid, 0);
    my $rc = exit_code($?);
    open(my $o, '<', "$dir/out") or die;
    my @ans = <$o>;
    my @why;
    push @why, "exit $rc" if $rc != 0;
    push @why, 'answers: ' . scalar(@ans) . ' for ' . $id . ' requests'
        if @ans != $id;
    for my $i (0 .. $#{ $expect{$f} }) {
        my ($host, $port, $cat, $direct, $sets) = @{ $expect{$f}[$i] };
        my $ans = $ans[$i] // '';
        chomp $ans;
        my $want = ($i + 1) . ' ' . ($direct ? 'OK m365=direct' : 'ERR m365=proxy')
            . " m365_category=$cat";
        my ($got_sets) = $ans =~ / m365_sets=([\d,]+)/;
        my @gs = sort { $a <=> $b } split /,/, $got_sets // '';
        if (index($ans, $want) != 0 || "@gs" ne "@$sets") {
            push @why, "$host " . ($port // '-') . ": want \"$want\" sets "
                . join(',', @$sets) . ", got \"$ans\"";
        }
    }
    ok(!@why, "$f: ext_m365_acl gives the same " . scalar(@{ $expect{$f} })
        . ' verdicts', @why);
}

# "Category of a query = the highest category among all sets that match it"
# (DESIGN.md §3), however many sets match: generated files where one
# Optimize set comes after N lower sets matching the same name or address.
# N = 100 is the control; N = 1100 is more matches than the first matcher
# weighed per query (1024: it answered Default/Allow here) but far below
# what the loader accepts (M365_DATA_MAX_SETS, 10000).
{
    my $dir = tempdir(CLEANUP => 1);
    for my $n (100, 1100) {
        my @sets;
        push @sets, sprintf('{"id": %d, "serviceArea": "Common", "category": "Default",'
            . ' "required": true, "tcpPorts": "443", "urls": ["*.com"]}', $_) for 1 .. $n;
        push @sets, sprintf('{"id": %d, "serviceArea": "Common", "category": "Allow",'
            . ' "required": true, "tcpPorts": "443", "ips": ["13.107.6.152/31"]}', $n + $_) for 1 .. $n;
        push @sets, '{"id": 9000, "serviceArea": "Exchange", "category": "Optimize",'
            . ' "required": true, "tcpPorts": "443", "urls": ["outlook.office365.com"],'
            . ' "ips": ["13.107.6.152/31"]}';
        my $file = "$dir/overlap-$n.json";
        open(my $fh, '>', $file) or die;
        print $fh "[\n", join(",\n", @sets), "\n]\n";
        close $fh;
        for my $q (['outlook.office365.com', 'a name under ' . $n . ' "*.com" Default sets'],
            ['13.107.6.152', 'an address in ' . $n . ' Allow sets with the same prefix']) {
            my ($rc, $out, $err) = run_capture($CLI, '-c', '/dev/null', '--data', $file,
                'check', $q->[0], '443', '--json');
            my $v = eval { $json->decode($out) } || {};
            ok($rc == 0 && ($v->{category} // '') eq 'optimize' && $v->{direct},
                "highest category wins: $q->[0], also Optimize in set 9000, $q->[1]",
                "exit $rc", "category: " . ($v->{category} // '?'), 'stderr: ' . $err);
        }
    }
}
tap_done();
