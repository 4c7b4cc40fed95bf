#!/usr/bin/perl
# man.t - the manual pages: mandoc finds nothing to warn about, man renders
# them from the tree, and every option and command the programs' --help
# names is documented (the configuration keys are checked against the
# reader's table by tests/unit/test_config.c).
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use Tap;

my $B = $ENV{M365_BUILD} // 'build/rel';
my @pages = map { "man/$_" } qw(ext_m365_acl.8 m365-direct.8 m365-direct.conf.5);

for my $p (@pages) {
    my $lint = `mandoc -Tlint -W warning $p 2>&1`;
    ok($? == 0 && $lint eq '', "mandoc -Tlint: $p has no warning", $lint);
    my $text = `MANWIDTH=80 man -l $p 2>&1`;
    ok($? == 0 && $text =~ /^NAME/m && $text =~ /^SEE ALSO/m,
        "man -l $p renders", substr($text, 0, 400));
}

# The long options of a --help text.
sub options {
    my ($help) = @_;
    my %o = map { $_ => 1 } $help =~ /(--[a-z][a-z-]+)/g;
    return sort keys %o;
}

# The page's text as mdoc writes an option: "Fl -name".
sub page_has_option {
    my ($page, $opt) = @_;
    (my $name = $opt) =~ s/^--//;
    return slurp($page) =~ /Fl -\Q$name\E\b/;
}

my $helper_help = `$B/ext_m365_acl --help 2>&1`;
my @hopts = options($helper_help);
ok(@hopts >= 10, 'ext_m365_acl --help names its options', $helper_help);
for my $o (@hopts) {
    ok(page_has_option('man/ext_m365_acl.8', $o), "ext_m365_acl.8 documents $o");
}

my $cli_help = `$B/m365-direct --help 2>&1`;
my @copts = options($cli_help);
ok(@copts >= 10, 'm365-direct --help names its options', $cli_help);
for my $o (@copts) {
    ok(page_has_option('man/m365-direct.8', $o), "m365-direct.8 documents $o");
}
my @cmds = $cli_help =~ /^  ([a-z][a-z-]+)(?= |\n)/mg;
ok(@cmds >= 7, 'm365-direct --help names its commands', $cli_help);
for my $c (@cmds) {
    ok(slurp('man/m365-direct.8') =~ /^\.It Ic \Q$c\E\b/m, "m365-direct.8 documents the command $c");
}

tap_done();
