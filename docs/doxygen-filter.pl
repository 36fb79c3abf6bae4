#!/usr/bin/perl
# doxygen-filter.pl FILE - let Doxygen read objmem's plain C comments
# (Doxyfile INPUT_FILTER): the file's opening comment becomes its @file
# documentation, a comment that starts a line documents the declaration
# below it, a comment after a member documents that member. Section rules
# ("/* ---- errors */") stay plain comments. A macro whose body uses
# internal om__ names is shown without its body (the reference documents
# what om_incref does, not how), keeping the line count for Doxygen.
use strict;
use warnings;
my $first = 1;
my @lines = <>;
for (my $i = 0; $i < @lines; $i++) {
    my $line = $lines[$i];
    if ($line =~ m{^(\s*#\s*define\s+\w+(?:\([^)]*\))?)}) {
        my ($head, $end) = ($1, $i);
        $end++ while $lines[$end] =~ /\\\s*$/ && $end + 1 < @lines;
        if (join('', @lines[$i .. $end]) =~ /\bom__\w/) {
            print "$head\n", "\n" x ($end - $i);
            $i = $end;
            $first = 0;
            next;
        }
    }
    if ($first && $line =~ m{^/\*\s*$}) {
        $line = "/** \@file\n";
    } elsif ($line =~ m{^\s*/\*\s*-{3,}} || $line =~ m{^\s*/\*\*}) {
        # a section rule, or already Doxygen: leave it
    } elsif ($line =~ m{^(\s*)/\*(\s|$)}) {
        $line =~ s{^(\s*)/\*}{$1/**};
    } elsif ($line =~ m#\S.*?[;,{]\s*/\*\s#) {
        $line =~ s#([;,{]\s*)/\*\s#$1/**< #;
    }
    $first = 0 if $line =~ /\S/;
    print $line;
}
