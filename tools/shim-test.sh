#!/bin/bash
# shim-test.sh BUILD_DIR - real Debian programs on libobjmem-malloc.so
# (make shim-test, docs/shim.md): each case runs once on glibc's malloc and
# once with LD_PRELOAD=libobjmem-malloc.so (some also with OBJMEM_DEBUG=1),
# and its output and exit status must be byte-identical. SHIM_TEST_QUICK=1
# runs smaller inputs (what CI runs). Work files go to BUILD_DIR/shim-test.
set -u
BUILD=$(cd "${1:-build/release}" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
SHIM=$BUILD/libobjmem-malloc.so
QUICK=${SHIM_TEST_QUICK:-0}
W=$BUILD/shim-test
PROGS=$SRC/tests/shim/programs
[ -f "$SHIM" ] || { echo "shim-test: $SHIM not built" >&2; exit 2; }
rm -rf "$W" && mkdir -p "$W/in"

if [ "$QUICK" = 1 ]; then LINES=20000 ROWS=100000 PYN=30000 CLINES=1500 COMMITS=40
else LINES=300000 ROWS=1000000 PYN=200000 CLINES=5000 COMMITS=200; fi

# ------------------------------------------------------------ inputs (glibc)
/usr/bin/python3.11 - "$LINES" > "$W/in/big.txt" <<'PY'
import sys
words = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho "
         "sigma tau upsilon phi chi psi omega memory arena pool block heap free list cycle").split()
x = 12345
for i in range(int(sys.argv[1])):
    line = []
    for j in range(8 + i % 9):
        x = (x * 1103515245 + 12345) & 0x7fffffff
        line.append(words[x % len(words)] + ("" if x % 5 else str(x % 97)))
    print(" ".join(line))
PY
/usr/bin/python3.11 "$PROGS/gen_c.py" "$CLINES" > "$W/in/gen.c"
g++ -O2 -pthread -o "$W/in/cxx_prog" "$PROGS/cxx_prog.cpp" || exit 2

# ------------------------------------------------------------------ cases
case_python_alloc() { /usr/bin/python3.11 "$PROGS/alloc_heavy.py" "$PYN"; }
case_python_tests() {
    local t="test.test_dict test.test_list test.test_set test.test_json test.test_re"
    [ "$QUICK" = 1 ] || t="$t test.test_collections test.test_unicode test.test_bytes test.test_itertools"
    /usr/bin/python3.11 -m unittest $t 2>&1 | sed -E 's/ in [0-9.]+s$//; s/\(skipped=[0-9]+\)//'
}
case_sqlite() {
    sqlite3 db.sqlite <<SQL
CREATE TABLE t(a INTEGER PRIMARY KEY, b INTEGER, c TEXT);
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < $ROWS)
INSERT INTO t SELECT x, (x * 7919) % 1000, printf('name-%08d', (x * 104729) % $ROWS) FROM n;
CREATE INDEX tc ON t(c);
SELECT count(*), sum(b), min(c), max(c) FROM t;
SELECT b, count(*), sum(a) FROM t GROUP BY b ORDER BY 2 DESC, 1 LIMIT 10;
SELECT a, c FROM t WHERE c BETWEEN 'name-00001000' AND 'name-00001010' ORDER BY c;
SELECT group_concat(c, ',') FROM (SELECT c FROM t ORDER BY c DESC LIMIT 20);
SQL
}
case_perl() {
    perl -ne 'for (split) { $c{$_}++ } END { for (sort { $c{$b} <=> $c{$a} || $a cmp $b } keys %c) { print "$c{$_} $_\n" } }' \
        "$W/in/big.txt" | md5sum
    perl -pe 's/(\w+)a(\w*)/\U$2\E-$1/g' "$W/in/big.txt" | md5sum
}
case_gawk() {
    gawk '{ for (i = 1; i <= NF; i++) c[$i]++; n += NF } END { PROCINFO["sorted_in"] = "@ind_str_asc"; for (w in c) print w, c[w]; print n }' \
        "$W/in/big.txt" | md5sum
    gawk '{ s = s substr($0, 1, 3) } NR % 1000 == 0 { a[NR] = s; s = "" } END { print length(a) }' "$W/in/big.txt"
}
case_gzip() {
    gzip -9 -c "$W/in/big.txt" | md5sum
    gzip -c "$W/in/big.txt" | gzip -dc | md5sum
}
case_xz() {
    xz -6 -c "$W/in/big.txt" > big.xz && md5sum < big.xz
    xz -dc big.xz | md5sum
}
case_xz_threads() { xz -T2 -3 --block-size=262144 -c "$W/in/big.txt" | tee big.xz | md5sum; xz -T2 -dc big.xz | md5sum; }
case_sort_threads() { sort --parallel=2 -S 4M -T . "$W/in/big.txt" | md5sum; sort --parallel=2 -k2,2 -s "$W/in/big.txt" | md5sum; }
case_git() {
    export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.org GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.org
    export GIT_CONFIG_NOSYSTEM=1 HOME=$PWD
    git -c init.defaultBranch=main init -q repo && cd repo || return 1
    for i in $(seq 1 "$COMMITS"); do
        export GIT_AUTHOR_DATE="@$((1700000000 + i)) +0000" GIT_COMMITTER_DATE="@$((1700000000 + i)) +0000"
        sed -n "$((i * 50)),$((i * 50 + 400))p" "$W/in/big.txt" > "f$((i % 17)).txt"
        echo "$i" > "n$((i % 5)).txt"
        git add -A && git commit -q -m "commit $i"
    done
    echo change >> f1.txt
    git status --porcelain=v1
    git log --stat --format='%H %s' | md5sum
    git gc -q --aggressive && git fsck --no-progress 2>&1
    git rev-list --all --objects | sort | md5sum
    git log -p -3 | md5sum
}
case_gcc() {
    gcc -O2 -c -frandom-seed=1 -o gen.o "$W/in/gen.c" && md5sum < gen.o
    gcc -O0 -o gen "$W/in/gen.c" && ./gen
}
case_cxx() { "$W/in/cxx_prog"; }

CASES="python_alloc python_tests sqlite perl gawk gzip xz xz_threads sort_threads git gcc cxx"
DEBUG_CASES="python_alloc gzip sort_threads cxx" # again with OBJMEM_DEBUG=1

run() { # run MODE CASE
    local d="$W/$1/$2"
    mkdir -p "$d"
    (
        cd "$d" || exit 99
        case $1 in
        objmem) export LD_PRELOAD=$SHIM ;;
        debug) export LD_PRELOAD=$SHIM OBJMEM_DEBUG=1 ;;
        esac
        "case_$2" > "$d.out" 2> "$d.err"
    )
    echo $? >> "$d.out"
}

pass=0 fail=0
check() { # check MODE CASE
    local t0=$SECONDS
    run "$1" "$2"
    if cmp -s "$W/glibc/$2.out" "$W/$1/$2.out"; then
        pass=$((pass + 1)); printf 'ok    %-8s %-14s (%ds)\n' "$1" "$2" $((SECONDS - t0))
    else
        fail=$((fail + 1)); printf 'FAIL  %-8s %-14s\n' "$1" "$2"
        diff "$W/glibc/$2.out" "$W/$1/$2.out" | head -20
        head -c 2000 "$W/$1/$2.err"
    fi
}
for c in $CASES; do
    run glibc "$c"
    check objmem "$c"
    case " $DEBUG_CASES " in *" $c "*) check debug "$c" ;; esac
done
echo "shim-test: $pass passed, $fail failed"
[ "$fail" = 0 ]
