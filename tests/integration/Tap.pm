# Tap.pm - the TAP helpers the Perl test scripts share (Perl core only):
# ok() with diagnostics on failure, the plan printed at the end.
package Tap;
use strict;
use warnings;
use Exporter 'import';
use File::Path qw(remove_tree);
use File::Temp qw(tempdir);
use POSIX qw(:sys_wait_h);
use Time::HiRes ();
our @EXPORT = qw(ok skip diag slurp spew spawn_piped run_cmd exit_code tap_done);

my ($count, $failed) = (0, 0);

sub diag { print map { "#   $_\n" } map { split /\n/ } @_ }

# ok($cond, $description, @diagnostics): one test point.  The prototype
# gives $cond scalar context: "ok($a && $s =~ /re/, ...)" would otherwise
# pass the match's list (empty when it fails) and shift the description
# into $cond, so that a failed match passed.
sub ok($$@) {
    my ($cond, $desc, @diag) = @_;
    $count++;
    print(($cond ? '' : 'not '), "ok $count - $desc\n");
    unless ($cond) { $failed++; diag(@diag) }
    return $cond;
}

# skip($why): one test point that did not run, in TAP's skip form
# ("ok N # SKIP why"), which tests/run counts as skipped, not passed.
sub skip {
    my ($why) = @_;
    $count++;
    print "ok $count # SKIP $why\n";
}

# The whole content of a file, raw bytes; '' when it cannot be read.
sub slurp {
    local $/;
    open(my $f, '<', $_[0]) or return '';
    binmode $f;
    my $s = <$f>;
    return $s // '';
}

# Writes text to path (raw bytes); returns the path.
sub spew {
    my ($path, $text) = @_;
    open(my $f, '>', $path) or die "$path: $!";
    binmode $f;
    print $f $text;
    close $f or die "$path: $!";
    return $path;
}

# Starts prog with args, its stdin and stdout on pipes and its stderr to
# the file errfile; returns (pid, the pipe to write to it, the pipe to read
# from it).
sub spawn_piped {
    my ($prog, $errfile, @args) = @_;
    pipe(my $c_in, my $p_out) or die "pipe: $!";
    pipe(my $p_in, my $c_out) or die "pipe: $!";
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        close $p_out; close $p_in;
        open(STDIN, '<&', $c_in) or die;
        open(STDOUT, '>&', $c_out) or die;
        open(STDERR, '>', $errfile) or die;
        exec($prog, @args) or exit 127;
    }
    close $c_in; close $c_out;
    return ($pid, $p_out, $p_in);
}

# run_cmd(argv => [prog, args...], %options): runs a program to its end
# with its stdout and stderr in files, killed after timeout seconds (60);
# returns { rc, sig, out, err, secs, cmd, timed_out } (rc -1 when killed).
# Options: in => text for stdin, else stdin => a file (/dev/null); env =>
# { NAME => value } and umask => for the child only; dir_mode => for the
# directory the output goes to (0700; a program that drops privileges and
# must reach files beside it needs more).
sub run_cmd {
    my (%o) = @_;
    my $d = tempdir('m365-run-XXXXXX', TMPDIR => 1);
    chmod $o{dir_mode}, $d if defined $o{dir_mode};
    my $stdin = $o{stdin} // '/dev/null';
    if (defined $o{in}) { $stdin = "$d/in"; spew($stdin, $o{in}) }
    my $t0 = Time::HiRes::time();
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        umask($o{umask}) if defined $o{umask};
        @ENV{ keys %{ $o{env} || {} } } = values %{ $o{env} || {} };
        open(STDIN, '<', $stdin) or die "$stdin: $!";
        open(STDOUT, '>', "$d/out") or die;
        open(STDERR, '>', "$d/err") or die;
        exec(@{ $o{argv} }) or exit 127;
    }
    my $limit = $o{timeout} // 60;
    my $w;
    while (($w = waitpid($pid, WNOHANG)) == 0 && Time::HiRes::time() - $t0 < $limit) {
        Time::HiRes::sleep(0.01);
    }
    my $timed_out = $w == 0;
    if ($timed_out) { kill 'KILL', $pid; waitpid($pid, 0) }
    my $r = { rc => $timed_out ? -1 : exit_code($?), sig => $? & 127,
        out => slurp("$d/out"), err => slurp("$d/err"),
        secs => Time::HiRes::time() - $t0, cmd => join(' ', @{ $o{argv} }),
        timed_out => $timed_out };
    remove_tree($d);
    return $r;
}

# The exit code in a wait status ($? after waitpid) as the shell gives
# it: a program killed by a signal is 128 + the signal, never 0.
sub exit_code {
    my ($status) = @_;
    return ($status & 127) ? 128 + ($status & 127) : $status >> 8;
}

# Prints the plan and exits: 0 when every test point passed.
sub tap_done {
    print "1..$count\n";
    exit($failed ? 1 : 0);
}

1;
