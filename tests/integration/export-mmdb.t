#!/usr/bin/perl
# "m365-direct export mmdb" against its real readers (issue 4, item 7): for
# each real data file (and the 2025 file under two policies of our own),
# every IP probe of build/rel/tools/probes (first, last and just-outside
# address of every prefix, IPv4-mapped forms, the policy's entries) must
# find a record exactly when "m365-direct check" (port-less) says direct,
# read back by
#   - libmaxminddb, in C ("test_mmdb --lookup", the unit test's reader),
#   - mmdblookup (mmdb-bin), one run per probe,
#   - nginx with the geoip2 module running the shipped snippet
#     (configs/nginx/m365-direct-geoip2.conf) on 127.0.0.1, one request
#     per probe, the address in a header, the category in a response header;
# and the three must report the same category.  Any disagreement fails and
# names the probe.  Also: the export is byte-identical when repeated,
# --database-type reaches the metadata, the snippet passes "nginx -t".
# TAP output.
#
#   prove -v -e '' tests/integration/export-mmdb.t      (from the repo root)
#   M365_BUILD=build/san prove -e '' tests/integration/export-mmdb.t
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use Tap;
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);

chdir(dirname(__FILE__) . '/../..') or die "chdir: $!";
my $B       = $ENV{M365_BUILD} || 'build/rel';
my $CLI     = "$B/m365-direct";
my $PROBES  = "$B/tools/probes";
my $READER  = "$B/tests/test_mmdb";
my $SNIPPET = 'configs/nginx/m365-direct-geoip2.conf';
my $SNIPPET_DB = '/var/lib/m365-direct/m365-direct.mmdb';
my $TMP     = tempdir('m365-mmdb-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my @DATA    = map { "tests/data/$_.json" }
    qw(worldwide-c2025 worldwide-c2022 china-c2025);

delete @ENV{qw(http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy
    ALL_PROXY no_proxy NO_PROXY)};

for my $need ($CLI, $PROBES, $READER) {
    next if -x $need;
    print "1..1\nnot ok 1 - $need is built (run make all $PROBES $READER)\n";
    exit 1;
}
# the module's path from its package, else Debian's
my ($GEOIP2) = grep { m{/ngx_http_geoip2_module\.so$} && -f }
    ((map { chomp; $_ } `dpkg -L libnginx-mod-http-geoip2 2>/dev/null`),
     '/usr/lib/nginx/modules/ngx_http_geoip2_module.so');
for my $need ([ 'mmdblookup', 'mmdb-bin' ], [ 'nginx', 'nginx-light' ], [ 'curl', 'curl' ]) {
    next if grep { -x "$_/$need->[0]" } split /:/, "$ENV{PATH}:/usr/sbin";
    print "1..1\nnot ok 1 - $need->[0] is installed (apt-get install $need->[1])\n";
    exit 1;
}
unless ($GEOIP2) {
    print "1..1\nnot ok 1 - the nginx geoip2 module is installed (apt-get install libnginx-mod-http-geoip2)\n";
    exit 1;
}


# run([argv], stdin_file): { rc, out, err }, killed after 60 s.
sub run {
    my ($argv, $in) = @_;
    return run_cmd(argv => $argv, stdin => $in);
}
sub show { my ($r) = @_; return ("exit $r->{rc}", "stdout: " . substr($r->{out}, 0, 2000), "stderr: $r->{err}") }

# Disagreements as diagnostics: at most 20, then a count.
sub named {
    my (@bad) = @_;
    my @d = @bad > 20 ? (@bad[0 .. 19], sprintf('... and %d more', @bad - 20)) : @bad;
    return @d;
}

# ------------------------------------------------------------------ nginx
# The shipped snippet with our database and the address from X-IP; one
# nginx per database, in the foreground without a master process.
my $NGINX_PID;
sub nginx_conf {
    my ($dir, $db, $port) = @_;
    my ($n_db, $n_src, $snippet) = (0, 0, '');
    for my $line (split /^/, slurp($SNIPPET)) {
        unless ($line =~ /^\s*#/) {            # the comments name them too
            $n_db  += $line =~ s/\Q$SNIPPET_DB\E/$db/g;
            $n_src += $line =~ s/source=\$remote_addr\b/source=\$http_x_ip/g;
        }
        $snippet .= $line;
    }
    spew("$dir/snippet.conf", $snippet);
    spew("$dir/nginx.conf", <<EOF);
load_module $GEOIP2;
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log info;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    include $dir/snippet.conf;
    server {
        listen 127.0.0.1:$port;
        keepalive_requests 100000;
        location / {
            add_header X-M365-Ip \$http_x_ip always;
            add_header X-M365-Category \$m365_category always;
            add_header X-M365-Direct \$m365_direct always;
            return 204;
        }
    }
}
EOF
    return ($n_db, $n_src);
}

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
        Listen => 1, ReuseAddr => 1) or die "socket: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

# Starts nginx on dir/nginx.conf; returns '' or why it did not come up.
sub nginx_start {
    my ($dir, $port) = @_;
    $NGINX_PID = fork() // die "fork: $!";
    if ($NGINX_PID == 0) {
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>', "$dir/stdout");
        open(STDERR, '>', "$dir/stderr");
        exec('nginx', '-p', "$dir/", '-e', "$dir/error.log", '-c', "$dir/nginx.conf") or exit 127;
    }
    my $t0 = time;
    while (time - $t0 < 10) {
        return "nginx exited: " . slurp("$dir/stderr") . slurp("$dir/error.log")
            if waitpid($NGINX_PID, WNOHANG) != 0;
        return '' if IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port);
        sleep 0.02;
    }
    return 'nginx did not listen within 10 s';
}

sub nginx_stop {
    return unless $NGINX_PID;
    kill 'TERM', $NGINX_PID;
    my $t0 = time;
    while (waitpid($NGINX_PID, WNOHANG) == 0) {
        if (time - $t0 > 5) { kill 'KILL', $NGINX_PID; waitpid($NGINX_PID, 0); last }
        sleep 0.02;
    }
    undef $NGINX_PID;
}
END { nginx_stop() }

# One curl run, one request per address: { address => category or '' }.
sub nginx_lookup {
    my ($dir, $port, $ips) = @_;
    my $cfg = '';
    for my $ip (@$ips) {
        $cfg .= "url = \"http://127.0.0.1:$port/\"\nheader = \"X-IP: $ip\"\n"
            . "noproxy = \"*\"\nsilent\noutput = \"/dev/null\"\n"
            . "write-out = \"%header{x-m365-ip}|%header{x-m365-category}|%{http_code}\\n\"\nnext\n";
    }
    spew("$dir/curl.cfg", $cfg);
    my $r = run([ 'curl', '-K', "$dir/curl.cfg" ]);
    my %got;
    for (split /\n/, $r->{out}) {
        my ($ip, $cat, $code) = split /\|/, $_, -1;
        $got{$ip} = $code eq '204' ? $cat : "HTTP $code" if defined $code;
    }
    return (\%got, $r);
}

# --------------------------------------------------------------- readers
# libmaxminddb in C: { address => category or '' }.
sub c_lookup {
    my ($db, $ips) = @_;
    my $in = spew("$TMP/ips", join('', map { "$_\n" } @$ips));
    my $r = run([ $READER, '--lookup', $db ], $in);
    my %got;
    for (split /\n/, $r->{out}) {
        my ($ip, $cat) = split /\t/, $_, 2;
        $got{$ip} = $cat eq '-' ? '' : $cat;
    }
    return (\%got, $r);
}

# mmdblookup, one run per address: { address => category or '' }.
sub mmdblookup {
    my ($db, $ips) = @_;
    my %got;
    for my $ip (@$ips) {
        my $pid = open(my $from, '-|') // die "fork: $!";
        if ($pid == 0) {
            open(STDERR, '>&', \*STDOUT) or die;
            exec('mmdblookup', '--file', $db, '--ip', $ip, 'm365', 'category') or exit 127;
        }
        my $out = do { local $/; <$from> } // '';
        close $from;
        if ($out =~ /\A\s*"([^"]*)" <utf8_string>\s*\z/) {
            $got{$ip} = $1;
        } elsif ($out =~ /\A\s*Could not find an entry for this IP address \(\Q$ip\E\)\s*\z/) {
            $got{$ip} = '';
        } else {
            $got{$ip} = "unreadable: $out";
        }
    }
    return \%got;
}

# Compares a reader's answers with the probes' verdicts and the C reader's
# categories; returns the disagreements, each naming the probe.
sub disagreements {
    my ($got, $want, $cats, $who) = @_;
    my @bad;
    for my $ip (sort keys %$want) {
        my $g = $got->{$ip};
        if (!defined $g) {
            push @bad, "$ip: no answer from $who";
        } elsif ($g =~ /^(?:error|unreadable|HTTP)/) {
            push @bad, "$ip: $who: $g";
        } elsif (($g ne '') xor ($want->{$ip} eq 'direct')) {
            push @bad, "$ip: check says $want->{$ip}, $who " . ($g eq '' ? 'finds no record' : "finds \"$g\"");
        } elsif (defined $cats && $g ne $cats->{$ip}) {
            push @bad, "$ip: $who says \"$g\", libmaxminddb in C \"$cats->{$ip}\"";
        }
    }
    return @bad;
}

# --------------------------------------------------------------- the cases
my $NONE = spew("$TMP/none.conf", "# no policy of our own\n");
my $ENTRIES = spew("$TMP/entries.conf", <<'EOF');
# extra_direct and never_direct over and around Microsoft's prefixes
extra_direct = 192.0.2.0/24, 198.51.100.7, 13.107.6.0/24, 2001:db8::/32, 3fff::/20
never_direct = 13.107.6.153, 52.112.0.0/16, 2603:1006::/48, 2001:db8:1::/48
never_direct = 192.0.2.128/25, 40.96.0.0/13
EOF
my $FILTERS = spew("$TMP/filters.conf", <<'EOF');
# optimize only, two service areas, required sets only
direct_categories = optimize
service_areas = Exchange, Skype
required_only = yes
EOF
my @CASES = (
    [ 'worldwide-c2025', $DATA[0], $NONE ],
    [ 'worldwide-c2022', $DATA[1], $NONE ],
    [ 'china-c2025', $DATA[2], $NONE ],
    [ 'worldwide-c2025 with extra/never entries', $DATA[0], $ENTRIES ],
    [ 'worldwide-c2025 optimize, Exchange+Skype, required only', $DATA[0], $FILTERS ],
);

{
    # the snippet as shipped: nginx -t with a real database in its place
    my $dir = "$TMP/nginx-t";
    mkdir $dir or die;
    my $r = run([ $CLI, '-c', $NONE, '--data', $DATA[0], 'export', 'mmdb', '-o', "$dir/m365.mmdb" ]);
    my ($n_db, $n_src) = nginx_conf($dir, "$dir/m365.mmdb", free_port());
    ok($n_db == 1 && $n_src == 3, "$SNIPPET: one database path and three sources=\$remote_addr to replace",
        "found $n_db and $n_src");
    my $t = run([ 'nginx', '-t', '-p', "$dir/", '-e', "$dir/error.log", '-c', "$dir/nginx.conf" ]);
    ok($r->{rc} == 0 && $t->{rc} == 0 && $t->{err} !~ /\[(?:warn|emerg|alert|crit|error)\]/,
        "nginx -t: the snippet loads with the exported database, no warning", show($r), show($t));
}

{
    # --database-type reaches the metadata
    my $db = "$TMP/asn.mmdb";
    my $r = run([ $CLI, '-c', $NONE, '--data', $DATA[0], 'export', 'mmdb', '-o', $db,
        '--database-type', 'GeoLite2-ASN' ]);
    my $m = run([ 'mmdblookup', '--file', $db, '--ip', '13.107.6.152', '--verbose',
        'autonomous_system_number' ]);
    ok($r->{rc} == 0 && $m->{out} =~ /^\s*Type:\s+GeoLite2-ASN$/m && $m->{out} =~ /^\s*8075 <uint32>$/m,
        '--database-type GeoLite2-ASN: mmdblookup shows the type and ASN 8075', show($r), show($m));
    $r = run([ $CLI, '-c', $NONE, '--data', $DATA[0], 'export', 'mmdb', '-o', "$TMP/bad.mmdb",
        '--database-type', 'no spaces' ]);
    ok($r->{rc} != 0 && $r->{err} =~ /--database-type/ && !-e "$TMP/bad.mmdb",
        '--database-type with a space: refused, nothing written', show($r));
}

my $n = 0;
for my $case (@CASES) {
    my ($name, $data, $conf) = @$case;
    my $dir = "$TMP/case" . ++$n;
    mkdir $dir or die;
    my $db = "$dir/m365.mmdb";

    my $r = run([ $CLI, '-c', $conf, '--data', $data, 'export', 'mmdb', '-o', $db ]);
    ok($r->{rc} == 0 && -s $db, "$name: export mmdb writes the file", show($r));
    my $r2 = run([ $CLI, '-c', $conf, '--data', $data, 'export', 'mmdb', '-o', "$db.again" ]);
    ok($r2->{rc} == 0 && slurp($db) eq slurp("$db.again"), "$name: exported twice, byte-identical", show($r2));

    # the probes of all three files, answered by this file (the first)
    my $p = run([ $PROBES, '-c', $conf, $data, grep { $_ ne $data } @DATA ]);
    my %want;
    for (split /\n/, $p->{out}) {
        my ($probe, $verdict) = split /\t/;
        next unless $probe =~ /:/ || $probe =~ /^[0-9]+(?:\.[0-9]+){3}$/;
        $want{$probe} = $verdict;
    }
    my @ips = sort keys %want;
    my $direct = grep { $want{$_} eq 'direct' } @ips;
    ok($p->{rc} == 0 && @ips > 300 && $direct > 20, "$name: probes: " . scalar(@ips)
        . " addresses, $direct direct", show($p));

    my ($cats, $cr) = c_lookup($db, \@ips);
    my @bad = disagreements($cats, \%want, undef, 'libmaxminddb in C');
    ok($cr->{rc} == 0 && !@bad, "$name: libmaxminddb in C agrees with check on all "
        . scalar(@ips) . " addresses", named(@bad), $cr->{rc} ? show($cr) : ());

    my $mm = mmdblookup($db, \@ips);
    @bad = disagreements($mm, \%want, $cats, 'mmdblookup');
    ok(!@bad, "$name: mmdblookup agrees on all " . scalar(@ips) . " addresses", named(@bad));

    my $port = free_port();
    nginx_conf($dir, $db, $port);
    my $why = nginx_start($dir, $port);
    my ($ng, $nr) = $why eq '' ? nginx_lookup($dir, $port, \@ips) : ({}, undef);
    nginx_stop();
    @bad = $why eq '' ? disagreements($ng, \%want, $cats, 'nginx geoip2') : ($why);
    ok(!@bad, "$name: nginx with the geoip2 snippet agrees on all " . scalar(@ips)
        . " addresses (one request each)", named(@bad), $nr && $nr->{rc} ? show($nr) : ());
}

tap_done();
