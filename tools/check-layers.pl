#!/usr/bin/perl
# check-layers.pl [ROOT] - the layers point one way (DESIGN.md, issue 14
# item 7): no file under src/alloc/ calls a function defined in src/trace/
# or src/gc/ (the allocator reaches them only through h->alloc.up, the hook
# table of src/internal/alloc.h). Prints FILE:LINE: NAME for each call and
# exits 1; exits 0 when there is none.
use strict;
use warnings;

my $root = shift // '.';
my %above; # function name -> file defining it
for my $f (glob("$root/src/trace/*.c"), glob("$root/src/gc/*.c")) {
    open my $fh, '<', $f or die "check-layers: $f: $!\n";
    while (my $l = <$fh>) {
        # a definition starts in column 0, is not static and is no prototype
        next if $l =~ /^(static|\s|#|\/|\*)/ || $l =~ /;\s*$/;
        $above{$1} = $f if $l =~ /\b(om_\w+)\s*\(/;
    }
}
sub rel { (my $p = shift) =~ s{^\Q$root\E/}{}; return $p; }

my $bad = 0;
for my $f (sort glob("$root/src/alloc/*.c")) {
    open my $fh, '<', $f or die "check-layers: $f: $!\n";
    while (my $l = <$fh>) {
        $l =~ s{//.*$}{};
        while ($l =~ /\b(om_\w+)\s*\(/g) {
            my $name = $1;
            next unless $above{$name};
            printf "%s:%d: %s (defined in %s)\n", rel($f), $., $name, rel($above{$name});
            $bad = 1;
        }
    }
}
exit $bad;
