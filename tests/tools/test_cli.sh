#!/bin/sh
# test_cli.sh OBJMEM - `objmem` as a Unix tool: help on stdout with exit
# 0, --version, unknown commands and options named with exit 2, numeric
# options validated, - for standard input, --include/--exclude, the diff's
# total delta, plurals, plot and html outputs. (ctest: tool_cli)
set -u
OBJMEM=$1
T=$(mktemp -d "${TMPDIR:-/tmp}/om-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
check() { # check NAME WANT_RC CMD... ; stdout in $T/out, stderr in $T/err
  name=$1 want=$2
  shift 2
  "$@" >"$T/out" 2>"$T/err"
  rc=$?
  if [ "$rc" != "$want" ]; then
    echo "FAIL $name: exit $rc, wanted $want"; cat "$T/err"; fails=$((fails + 1))
  fi
}
has() { # has NAME FILE TEXT
  grep -qF -- "$3" "$T/$2" || { echo "FAIL $1: no '$3' in $2:"; cat "$T/$2"; fails=$((fails + 1)); }
}

check help 0 "$OBJMEM" --help;              has help out "usage: objmem"
check help-short 0 "$OBJMEM" -h;            has help-short out "objmem snapshot"
check version 0 "$OBJMEM" --version;        has version out "objmem 0."
check unknown-command 2 "$OBJMEM" frobnicate; has unknown-command err "'frobnicate'"
check unknown-option 2 "$OBJMEM" --frob;    has unknown-option err "'--frob'"
check snapshot-help 0 "$OBJMEM" snapshot --help; has snapshot-help out "--include PATTERN"
check top-help 0 "$OBJMEM" snapshot top -h; has top-help out "usage: objmem snapshot top"
check snapshot-unknown 2 "$OBJMEM" snapshot frob; has snapshot-unknown err "'frob'"

check demo 0 "$OBJMEM" snapshot demo "$T/old.omsnap" "$T/new.omsnap"
for bad in abc -1 12x 99999999999999999999999 ""; do
  check "n=$bad" 2 "$OBJMEM" snapshot top "$T/new.omsnap" -n "$bad"
  has "n=$bad" err "-n"
done
check n-missing 2 "$OBJMEM" snapshot top "$T/new.omsnap" -n
check bad-option 2 "$OBJMEM" snapshot top "$T/new.omsnap" --bogus; has bad-option err "'--bogus'"
check bad-key 2 "$OBJMEM" snapshot top "$T/new.omsnap" --by colour; has bad-key err "'colour'"
check extra-file 2 "$OBJMEM" snapshot top "$T/new.omsnap" "$T/old.omsnap"; has extra-file err "too many"
check no-file 2 "$OBJMEM" snapshot diff "$T/new.omsnap"
check missing-file 1 "$OBJMEM" snapshot top "$T/nope.omsnap"; has missing-file err "nope.omsnap"

check top 0 "$OBJMEM" snapshot top "$T/new.omsnap" -n 3; cp "$T/out" "$T/top.txt"
has top out "[ Top 3 lines ]"
check stdin 0 sh -c "\"$OBJMEM\" snapshot top - -n 3 < \"$T/new.omsnap\""
cmp -s "$T/out" "$T/top.txt" || { echo "FAIL stdin: differs from the file"; fails=$((fails + 1)); }
check stdin-garbage 1 sh -c "echo garbage | \"$OBJMEM\" snapshot top -"; has stdin-garbage err "standard input"
check singular 0 "$OBJMEM" snapshot top "$T/new.omsnap" -n 1 --by filename
has singular out "[ Top 1 file ]"; has singular out "in 1 group"
check diff 0 "$OBJMEM" snapshot diff "$T/old.omsnap" "$T/new.omsnap" -n 2
has diff out "Total: 191 KiB (+48.8 KiB) in 6 groups"
check diff-equal 0 "$OBJMEM" snapshot diff "$T/new.omsnap" "$T/new.omsnap" -n 0; has diff-equal out "(+0 B)"
check exclude 0 "$OBJMEM" snapshot top "$T/new.omsnap" --exclude '*tour_trace.c'; has exclude out "Total: 0 B in 0 groups"
check include 0 "$OBJMEM" snapshot top "$T/new.omsnap" --include '*tour_trace.c' --include=nothing
has include out "in 6 groups"
check all-frames 0 "$OBJMEM" snapshot top "$T/new.omsnap" --exclude '*tour_trace.c' --all-frames
has all-frames out "in 0 groups"
check folded 0 "$OBJMEM" snapshot folded "$T/new.omsnap"; has folded out "tour_trace.c:44) 50000"

check plot 0 "$OBJMEM" snapshot plot "$T/new.omsnap" -o "$T/mem.svg"
grep -q 'class="om-peak"' "$T/mem.svg" || { echo "FAIL plot: no peak mark"; fails=$((fails + 1)); }
check plot-stdout 0 "$OBJMEM" snapshot plot "$T/new.omsnap"; has plot-stdout out "<svg"
if command -v gnuplot >/dev/null 2>&1; then
  check plot-png 0 "$OBJMEM" snapshot plot "$T/new.omsnap" -o "$T/mem.png"
  [ -s "$T/mem.png" ] || { echo "FAIL plot-png: empty"; fails=$((fails + 1)); }
fi
"$OBJMEM" snapshot html "$T/new.omsnap" -o "$T/r.html" 2>"$T/err"
case $? in
  0) grep -q "d3-flame-graph" "$T/r.html" && grep -q 'id="top"' "$T/r.html" ||
       { echo "FAIL html: no flame graph or table"; fails=$((fails + 1)); }
     check html-diff 0 "$OBJMEM" snapshot html "$T/old.omsnap" "$T/new.omsnap" -o "$T/d.html"
     grep -q "differentialColorMapper" "$T/d.html" || { echo "FAIL html-diff"; fails=$((fails + 1)); } ;;
  *) grep -q "built without the flame-graph library" "$T/err" ||
       { echo "FAIL html"; cat "$T/err"; fails=$((fails + 1)); } ;;
esac
[ "$fails" = 0 ] && echo "test_cli: all passed"
exit $((fails != 0))
