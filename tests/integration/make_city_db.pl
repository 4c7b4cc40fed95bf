#!/usr/bin/perl
# make_city_db.pl OUT NETWORK=LAT,LON,CITY,CC ... - a MaxMind City-format
# database for assess.t's front-door check, written with MaxMind's own
# writer (Debian libmaxmind-db-writer-perl): each network gets the
# location, city.names.en and country.iso_code a GeoLite2-City record has.
# IPv6 tree, IPv4 in it as libmaxminddb reads it; documentation ranges are
# kept (the test uses them).
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my ($out, @nets) = @ARGV;
die "usage: make_city_db.pl OUT NETWORK=LAT,LON,CITY,CC ...\n" unless $out && @nets;
my %types = (
    city => 'map', names => 'map', en => 'utf8_string',
    country => 'map', iso_code => 'utf8_string',
    location => 'map', latitude => 'double', longitude => 'double',
);
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version => 6,
    record_size => 28,
    database_type => 'm365-test-City',
    languages => ['en'],
    description => { en => 'm365-direct assess.t test City database' },
    map_key_type_callback => sub { $types{ $_[0] } },
    remove_reserved_networks => 0,
);
for my $n (@nets) {
    my ($net, $lat, $lon, $city, $cc) = $n =~ /^([^=]+)=([-0-9.]+),([-0-9.]+),([^,]+),([A-Z]{2})$/
        or die "make_city_db.pl: bad entry $n\n";
    $tree->insert_network($net, {
        city => { names => { en => $city } },
        country => { iso_code => $cc },
        location => { latitude => $lat + 0, longitude => $lon + 0 },
    });
}
open(my $fh, '>:raw', $out) or die "$out: $!\n";
$tree->write_tree($fh);
close($fh) or die "$out: $!\n";
