#!/usr/bin/perl
# asn_mmdb.pl - builds an ASN MaxMind DB (GeoLite2-ASN layout) from IP-to-ASN
# CSV files with MaxMind's own writer (MaxMind::DB::Writer::Tree, Debian
# package libmaxmind-db-writer-perl), for the tests of feed/asn.c: the
# reader is tested against the reference writer's output.
#
#   asn_mmdb.pl [--ip-version 4|6] [--record-size 24|28|32] -o OUT.mmdb CSV...
#
# CSV rows: first,last,asn,organisation (inclusive range; the organisation
# may be quoted, "" inside quotes is a quote), as in tests/data/asn/.  An
# asn of "-" writes a record without autonomous_system_number (a database
# that is not an ASN database).  Blank lines and lines starting with '#'
# are skipped.  With --ip-version 4 IPv6 rows are left out; with 6 (the
# default) IPv4 rows go to ::/96 and ::ffff:0:0/96 is aliased to them, as
# in MaxMind's own databases.  Reserved networks are kept (the tests use
# documentation ranges).  Exit 0, or 1 with a message on stderr.
use strict;
use warnings;
use Getopt::Long;

my ($ipv, $rs, $out) = (6, 28, undef);
GetOptions('ip-version=i' => \$ipv, 'record-size=i' => \$rs, 'o=s' => \$out)
    && defined $out && @ARGV && ($ipv == 4 || $ipv == 6) && $rs =~ /^(24|28|32)$/
    or die "usage: asn_mmdb.pl [--ip-version 4|6] [--record-size 24|28|32] -o OUT.mmdb CSV...\n";
eval { require MaxMind::DB::Writer::Tree; 1 }
    or die "asn_mmdb.pl: MaxMind::DB::Writer::Tree is missing "
    . "(Debian package libmaxmind-db-writer-perl; make deps installs it)\n";

my %types = (
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
    note                           => 'utf8_string',
);
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version               => $ipv,
    record_size              => $rs,
    database_type            => 'GeoLite2-ASN',
    languages                => ['en'],
    description              => { en => 'm365-direct test ASN database; IP to ASN data by '
            . 'DB-IP (db-ip.com), RouteViews and NRO, CC BY 4.0' },
    map_key_type_callback    => sub { $types{ $_[0] } },
    alias_ipv6_to_ipv4       => $ipv == 6 ? 1 : 0,
    remove_reserved_networks => 0,
);

# one CSV line into its fields
sub fields {
    my ($line) = @_;
    my @f;
    while (length $line) {
        if ($line =~ s/\A"((?:[^"]|"")*)"(?:,|\z)//) {
            (my $v = $1) =~ s/""/"/g;
            push @f, $v;
        } elsif ($line =~ s/\A([^,]*)(?:,|\z)//) {
            push @f, $1;
        } else {
            return;
        }
    }
    return @f;
}

my $rows = 0;
for my $csv (@ARGV) {
    open(my $f, '<:encoding(UTF-8)', $csv) or die "asn_mmdb.pl: $csv: $!\n";
    while (my $line = <$f>) {
        $line =~ s/\r?\n\z//;
        next if $line =~ /\A\s*(#|\z)/;
        my ($first, $last, $asn, $org) = fields($line);
        die "asn_mmdb.pl: $csv:$.: not first,last,asn,organisation\n"
            unless defined $org && ($asn =~ /\A\d+\z/ || $asn eq '-');
        next if $ipv == 4 && $first =~ /:/;
        my $data = $asn eq '-' ? { note => $org }
            : { autonomous_system_number => $asn + 0, autonomous_system_organization => $org };
        eval { $tree->insert_range($first, $last, $data); 1 }
            or die "asn_mmdb.pl: $csv:$.: $@";
        $rows++;
    }
    close $f;
}
open(my $fh, '>:raw', "$out.tmp") or die "asn_mmdb.pl: $out.tmp: $!\n";
$tree->write_tree($fh);
close $fh or die "asn_mmdb.pl: $out.tmp: $!\n";
rename("$out.tmp", $out) or die "asn_mmdb.pl: $out: $!\n";
exit 0;
