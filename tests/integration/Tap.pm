# Tap.pm - the TAP helpers the Perl test scripts share (Perl core only):
# ok() with diagnostics on failure, the plan printed at the end.
package Tap;
use strict;
use warnings;
use Exporter 'import';
our @EXPORT = qw(ok skip diag slurp spew spawn_piped exit_code tap_done);

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
