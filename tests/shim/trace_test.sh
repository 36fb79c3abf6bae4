#!/bin/sh
# trace_test.sh OBJMEM LEAK_PROG DIR - `objmem trace` on an unmodified
# program (ctest shim_trace): the leak report names the leaking function's
# file, the snapshot loads, SIGUSR2 writes FILE.1.omt, the exit status
# passes through.
set -u
objmem=$1 prog=$2 dir=$3
mkdir -p "$dir" && cd "$dir" || exit 1
rm -f leak.omt leak.1.omt report.txt
"$objmem" trace -o leak.omt --nframe 8 -- "$prog" usr2 2> report.txt
rc=$?
fail() { echo "trace_test: $*"; cat report.txt; exit 1; }
[ "$rc" = 3 ] || fail "exit status $rc, not 3"
grep -q "leak_prog.c" report.txt || fail "the report does not name leak_prog.c"
grep -q "in 100 blocks" report.txt || fail "the 100 leaked blocks are not one group"
[ -s leak.1.omt ] || fail "SIGUSR2 wrote no leak.1.omt"
"$objmem" snapshot top leak.omt --by traceback -n 3 > top.txt || fail "snapshot top failed"
grep -q "leak_prog.c" top.txt || fail "snapshot top does not name leak_prog.c"
"$objmem" snapshot diff leak.1.omt leak.omt > diff.txt || fail "snapshot diff failed"
"$objmem" trace --nframe 0 -- true 2>/dev/null && fail "--nframe 0 accepted"
echo "trace_test: ok"
