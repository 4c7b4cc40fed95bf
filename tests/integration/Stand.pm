# Stand.pm - what the Perl scripts testing the updater share (Perl core
# only): a test PKI made with openssl, and endpoints_server.py (the HTTPS
# stand-in for Microsoft's web service) started on 127.0.0.1 and stopped
# when the script ends.
package Stand;
use strict;
use warnings;
use Exporter 'import';
# loaded before the END below, so that its END (which removes the scripts'
# temp dirs) runs after ours has stopped the server writing in them
use File::Temp ();
use JSON::PP qw(decode_json);
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use Tap qw(slurp spew);
our @EXPORT = qw(quiet make_ca make_cert start_server);

my @EC = ('-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes');

# quiet($log, @cmd): runs a command, its output appended to $log; true on
# exit 0.
sub quiet {
    my ($log, @cmd) = @_;
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>>', $log) or exit 127;
        open(STDERR, '>&', \*STDOUT);
        exec(@cmd) or exit 127;
    }
    waitpid($pid, 0);
    return $? == 0;
}

# make_ca($dir, $name, $cn, $log): $dir/$name.pem and .key, a CA.
sub make_ca {
    my ($dir, $name, $cn, $log) = @_;
    return quiet($log, 'openssl', 'req', '-x509', @EC, '-keyout', "$dir/$name.key",
        '-out', "$dir/$name.pem", '-days', '2', '-subj', "/CN=$cn",
        '-addext', 'basicConstraints=critical,CA:TRUE',
        '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
}

# make_cert($dir, $name, $ca, $san, $log): $dir/$name.pem and .key, a
# server certificate for $san ("IP:127.0.0.1,DNS:localhost") signed by
# the CA $dir/$ca.
sub make_cert {
    my ($dir, $name, $ca, $san, $log) = @_;
    spew("$dir/$name.ext", "subjectAltName=$san\nbasicConstraints=CA:FALSE\n"
        . "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n");
    return quiet($log, 'openssl', 'req', @EC, '-keyout', "$dir/$name.key",
            '-out', "$dir/$name.csr", '-subj', "/CN=$name")
        && quiet($log, 'openssl', 'x509', '-req', '-in', "$dir/$name.csr",
            '-CA', "$dir/$ca.pem", '-CAkey', "$dir/$ca.key", '-CAcreateserial',
            '-out', "$dir/$name.pem", '-days', '2', '-extfile', "$dir/$name.ext");
}

my @SERVERS;
END {
    my $rc = $?;
    for my $pid (@SERVERS) {
        kill 'TERM', $pid;
        my $t = time;
        sleep 0.05 while waitpid($pid, WNOHANG) == 0 && time - $t < 5;
        kill 'KILL', $pid if waitpid($pid, WNOHANG) == 0;
    }
    $? = $rc;
}

# start_server(python => , server => , control => , log => , dir => ,
# listen => [ "name=tls,cert,key", ... ]): endpoints_server.py started,
# its ports file and output in dir; returns { name => port }, or undef
# when it did not start within 15 s (its output is then in dir/server.out).
# It is stopped when the script ends.
sub start_server {
    my (%o) = @_;
    my $ports_file = "$o{dir}/ports";
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>', "$o{dir}/server.out") or exit 127;
        open(STDERR, '>&', \*STDOUT);
        exec($o{python}, $o{server}, '--control', $o{control}, '--log', $o{log},
            '--port-file', $ports_file, map { ('--listen', $_) } @{ $o{listen} })
            or exit 127;
    }
    push @SERVERS, $pid;
    my $t = time;
    sleep 0.05 while !-e $ports_file && time - $t < 15 && waitpid($pid, WNOHANG) == 0;
    my $ports = eval { decode_json(slurp($ports_file)) };
    return ref $ports eq 'HASH' ? $ports : undef;
}

1;
