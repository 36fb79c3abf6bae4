#!/bin/sh
# test_check_docs.sh SRCDIR - tools/check-docs.pl reports exactly the
# undocumented public functions of tests/docs/undocumented.h, by name and
# line, and exits 1; on the real headers it passes (so a public function
# added without a comment fails the suite, not only `make docs`).
set -u
cd "$1"
fail() { echo "test_check_docs: $*" >&2; exit 1; }
out=$(perl tools/check-docs.pl tests/docs/undocumented.h 2>&1) && fail "exit 0 on undocumented.h"
want="om_bad_grouped:14 om_bad_after_rule:17 om_bad_bare:19 om_bad_inline:26 om_bad_macro:33 om_bad_split:48 om_bad_trailing:50"
for w in $want; do
  name=${w%:*}
  line=${w#*:}
  echo "$out" | grep -q "^tests/docs/undocumented.h:$line: $name: " || fail "no report of $name at line $line:
$out"
done
n=$(echo "$out" | grep -c "^tests/docs/undocumented.h:")
[ "$n" = 7 ] || fail "$n reports, want 7:
$out"
echo "$out" | grep -q "om_good\|om__internal\|om_callback_type\|not_a_declaration" && fail "a false report:
$out"
perl tools/check-docs.pl || fail "the public headers have undocumented functions (above)"
echo "test_check_docs: ok"
