#!/bin/sh
# test_check_layers.sh SRCDIR - tools/check-layers.pl passes on the tree and
# reports, by file, line and name, a call from src/alloc/ into a function
# defined in src/trace/ or src/gc/ (a crafted tree in a temporary directory).
set -u
src=$1
fail() { echo "test_check_layers: $*" >&2; exit 1; }
perl "$src/tools/check-layers.pl" "$src" || fail "src/alloc/ calls up into trace or gc (above)"
t=$(mktemp -d) || fail "mktemp"
trap 'rm -rf "$t"' EXIT
mkdir -p "$t/src/alloc" "$t/src/trace" "$t/src/gc"
printf 'static void om__helper(void)\n{\n}\nvoid om__trace_hit(int x)\n{\n}\nint om__gc_proto(void);\n' \
  >"$t/src/trace/t.c"
printf 'void om__gc_walk(om_heap *h,\n                 int y)\n{\n}\n' >"$t/src/gc/g.c"
printf 'void f(void)\n{\n    om__helper();\n    om__gc_proto();\n    // om__trace_hit(1);\n    om__trace_hit(2);\n    x = om__gc_walk (h, 1);\n}\n' \
  >"$t/src/alloc/a.c"
out=$(perl "$src/tools/check-layers.pl" "$t") && fail "exit 0 on a tree whose allocator calls up"
want="src/alloc/a.c:6: om__trace_hit (defined in src/trace/t.c)
src/alloc/a.c:7: om__gc_walk (defined in src/gc/g.c)"
[ "$out" = "$want" ] || fail "reports differ; got:
$out
want:
$want"
echo "test_check_layers: ok"
