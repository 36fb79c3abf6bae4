#!/usr/bin/perl
# check-docs.pl [HEADER...] - every public function of objmem's headers has
# a documentation comment of its own (`make docs` runs it, CI runs make docs).
#
# A public function is a declaration at the start of a line whose name
# begins with om_ (not om__, the internal prefix): a prototype, a static
# inline definition, or a function-like macro (#define om_incref(o)). Its
# documentation is the comment that ends on the line right above it, as
# docs/doxygen-filter.pl hands it to Doxygen; a section rule
# ("/* ---- name */") or a comment trailing code does not count, and one
# comment above a group documents only the first of the group.
#
# With --xml DIR (Doxygen's XML output) it also checks the generated
# reference: every om_ function and macro has a non-empty entry and no
# om__ name appears.
#
# Prints "FILE:LINE: om_name: ..." for each problem (the form compilers
# use, so editors jump to it) and exits 1 if there is any.
use strict;
use warnings;

my $xml;
if (@ARGV >= 2 && $ARGV[0] eq '--xml') {
    shift @ARGV;
    $xml = shift @ARGV;
}
my @headers = @ARGV ? @ARGV : ('include/objmem.h', sort glob('include/objmem/*.h'));
my $problems = 0;
my $checked = 0;

sub problem {
    my ($where, $name, $what) = @_;
    print STDERR "$where: $name: $what\n";
    $problems++;
}

# The name a line declares, or undef.
sub declared_name {
    my ($line) = @_;
    return $1 if $line =~ /^#\s*define\s+(om_\w+)\(/;
    return undef if $line =~ /^(?:#|typedef\b|extern\b|return\b|\s)/;
    return $1 if $line =~ /^(?:[A-Za-z_][\w\s\*\(\),]*?\b)?(om_\w+)\s*\(/;
    return undef;
}

sub check_header {
    my ($path) = @_;
    open(my $fh, '<', $path) or die "check-docs: cannot read $path: $!\n";
    my @lines = <$fh>;
    close $fh;
    my $in_comment = 0;
    for my $i (0 .. $#lines) {
        my $code = $lines[$i];
        if ($in_comment) {
            next unless $code =~ s{^.*?\*/}{};
            $in_comment = 0;
        }
        $code =~ s{/\*.*?\*/}{ }g;
        $in_comment = 1 if $code =~ s{/\*.*$}{}s;
        my $name = declared_name($code);
        next unless defined $name && $name !~ /^om__/;
        $checked++;
        my $where = "$path:" . ($i + 1);
        # the return type on a line of its own: the comment goes above it
        my $top = $i;
        $top-- if $code =~ /^om_/ && $i > 0 && $lines[$i - 1] =~ /^[A-Za-z_][\w\s\*]*$/;
        if ($top == 0 || $lines[$top - 1] !~ m{\*/\s*$}) {
            problem($where, $name, 'no documentation comment of its own: write one (/* ... */) '
                . 'on the lines right above this declaration');
            next;
        }
        my $start = $top - 1;
        $start-- while $start > 0 && $lines[$start] !~ m{/\*};
        if ($lines[$start] =~ m{^\s*/\*\s*-{3,}}) {
            problem($where, $name, 'only a section rule above it: a section rule is not '
                . 'documentation, write a comment of its own under the rule');
        } elsif ($lines[$start] !~ m{^\s*/\*}) {
            problem($where, $name, 'the comment above it trails code: write a comment of its '
                . 'own on the lines right above this declaration');
        }
    }
}

# The generated reference: Doxygen's XML, one memberdef per entry.
sub check_xml {
    my ($dir) = @_;
    my @files = glob("$dir/*.xml");
    die "check-docs: no Doxygen XML in $dir\n" unless @files;
    my %seen;
    for my $file (@files) {
        open(my $fh, '<', $file) or die "check-docs: cannot read $file: $!\n";
        local $/;
        my $text = <$fh>;
        close $fh;
        while ($text =~ m{<memberdef kind="(function|define)"(.*?)</memberdef>}gs) {
            my ($kind, $body) = ($1, $2);
            my ($name) = $body =~ m{<name>(\w+)</name>};
            next unless defined $name && $name =~ /^om_/;
            my ($file_, $line_) = $body =~ m{<location file="([^"]*)" line="(\d+)"};
            my $where = defined $file_ ? "include/$file_:$line_" : $file;
            next if $seen{"$name $where"}++;
            if ($name =~ /^om__/) {
                problem($where, $name, 'an internal om__ name is in the API reference '
                    . '(Doxyfile EXCLUDE_SYMBOLS)');
                next;
            }
            my ($init) = $body =~ m{<initializer>(.*?)</initializer>}s;
            if (defined $init && $init =~ /\bom__/) {
                problem($where, $name, 'its value in the API reference shows internal om__ names '
                    . '(docs/doxygen-filter.pl hides such macro bodies)');
            }
            my $doc = '';
            $doc .= $1 while $body =~ m{<(?:brief|detailed)description>(.*?)</(?:brief|detailed)description>}gs;
            $doc =~ s/<[^>]*>//g;
            problem($where, $name, "its entry in the API reference is empty")
                unless $doc =~ /\w/;
        }
    }
}

check_header($_) for @headers;
check_xml($xml) if defined $xml;
if ($problems) {
    print STDERR "check-docs: $problems problem(s); every public function needs a comment of its "
        . "own (docs/api.md, \"Writing the reference\")\n";
    exit 1;
}
print "check-docs: $checked public functions documented\n";
exit 0;
