#!/usr/bin/perl
# doxygen-filter.pl FILE - let Doxygen read objmem's plain C comments
# (Doxyfile INPUT_FILTER): the file's opening comment becomes its @file
# documentation, a comment that starts a line documents the declaration
# below it, a comment after a member documents that member. Section rules
# ("/* ---- errors */") stay plain comments.
use strict;
use warnings;
my $first = 1;
while (my $line = <>) {
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
