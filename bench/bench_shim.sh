#!/bin/bash
# bench_shim.sh BUILD_DIR [REPS] - real Debian programs on five mallocs:
# glibc, mimalloc, jemalloc, tcmalloc (Debian's LD_PRELOAD libraries) and
# libobjmem-malloc.so, interleaved (each repetition runs every program on
# every allocator in turn), timed by /usr/bin/time: median CPU seconds
# (user + sys, children included: steadier than wall time on a loaded
# machine) and median peak RSS. Then `objmem trace` against heaptrack on
# some of them: the time each adds over the plain glibc run.
# Numbers: bench/RESULTS.md ("bench_shim"). Needs: apt-get install
# libmimalloc2.0 libjemalloc2 libtcmalloc-minimal4 heaptrack time gawk sqlite3
set -u
BUILD=$(cd "${1:-build/release}" && pwd)
REPS=${2:-3}
SRC=$(cd "$(dirname "$0")/.." && pwd)
W=$BUILD/bench-shim
LIB=/usr/lib/x86_64-linux-gnu
declare -A PRE=([glibc]="" [mimalloc]=$LIB/libmimalloc.so.2 [jemalloc]=$LIB/libjemalloc.so.2
    [tcmalloc]=$LIB/libtcmalloc_minimal.so.4 [objmem]=$BUILD/libobjmem-malloc.so)
ALLOCS="glibc mimalloc jemalloc tcmalloc objmem"
for a in $ALLOCS; do [ -z "${PRE[$a]}" ] || [ -f "${PRE[$a]}" ] || { echo "missing ${PRE[$a]}"; exit 2; }; done
rm -rf "$W" && mkdir -p "$W/in" && cd "$W" || exit 2

/usr/bin/python3.11 - 200000 > in/big.txt <<'PY'
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
/usr/bin/python3.11 "$SRC/tests/shim/programs/gen_c.py" 5000 > in/gen.c

declare -A CMD=(
    [python]="/usr/bin/python3.11 $SRC/tests/shim/programs/alloc_heavy.py 100000"
    [sqlite]="sqlite3 :memory: \"WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x<300000) SELECT count(*), sum(length(c)) FROM (SELECT x, printf('n%08d', (x*104729)%300000) AS c FROM n ORDER BY c);\""
    [perl]="perl -ne 'for (split) { \$c{\$_}++ } END { print scalar(keys %c), qq(\\n) }' in/big.txt"
    [gawk]="gawk '{ for (i = 1; i <= NF; i++) c[\$i]++ } END { n = 0; for (w in c) n++; print n }' in/big.txt"
    [gzip]="gzip -6 -c in/big.txt > /dev/null"
    [xz_T2]="xz -T2 -3 -c in/big.txt > /dev/null"
    [sort_p2]="sort --parallel=2 -S 16M in/big.txt > /dev/null"
    [gcc]="gcc -O2 -c -o /dev/null in/gen.c"
)
PROGS="python sqlite perl gawk gzip xz_T2 sort_p2 gcc"

run1() { # run1 ALLOC PROG -> "cpu_seconds rss_kib"
    local pre=${PRE[$1]}
    /usr/bin/time -f "%U %S %M" -o t.out env ${pre:+LD_PRELOAD=$pre} sh -c "${CMD[$2]}" > /dev/null 2>&1
    awk '{ printf "%.3f %d\n", $1 + $2, $3 }' t.out
}
for r in $(seq 1 "$REPS"); do
    for p in $PROGS; do
        for a in $ALLOCS; do run1 "$a" "$p" >> "res.$p.$a"; done
    done
done
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "bench_shim: median of $REPS interleaved runs, CPU seconds (user+sys) and peak RSS (MiB)"
echo "commit $(git -C "$SRC" rev-parse --short HEAD), $(uptime | sed 's/.*load/load/')"
printf '%-8s' program; for a in $ALLOCS; do printf ' %18s' "$a"; done; echo
declare -A LOGSUM RSSR
for a in $ALLOCS; do LOGSUM[$a]=0; done
for p in $PROGS; do
    g=$(cut -d' ' -f1 "res.$p.glibc" | median)
    printf '%-8s' "$p"
    for a in $ALLOCS; do
        c=$(cut -d' ' -f1 "res.$p.$a" | median)
        m=$(cut -d' ' -f2 "res.$p.$a" | median)
        printf ' %7.2fs %5.0fM %4.2fx' "$c" "$(echo "$m / 1024" | bc -l)" "$(echo "$c / $g" | bc -l)"
        LOGSUM[$a]=$(echo "${LOGSUM[$a]} + l($c / $g)" | bc -l)
        echo "$(echo "$m / $(cut -d' ' -f2 "res.$p.glibc" | median)" | bc -l)" >> "rss.$a"
    done
    echo
done
n=$(echo $PROGS | wc -w)
printf '%-8s' geomean; for a in $ALLOCS; do printf ' %18.3fx' "$(echo "e(${LOGSUM[$a]} / $n)" | bc -l)"; done; echo
printf '%-8s' rss/glibc; for a in $ALLOCS; do printf ' %18.3fx' "$(median < "rss.$a")"; done; echo " (median over programs)"

# ----------------------------------------------- objmem trace vs heaptrack
if command -v heaptrack > /dev/null && [ "${BENCH_SHIM_TRACE:-1}" = 1 ]; then
    echo "tracing: wall seconds, plain glibc run / heaptrack / objmem trace (added time ratio)"
    # the programs themselves, not through sh -c (one process traced by both)
    declare -A TCMD=(
        [python]="/usr/bin/python3.11 $SRC/tests/shim/programs/alloc_heavy.py 100000"
        [sqlite]="sqlite3 in/db.sqlite .dump"
        [perl]="perl -ne for(split){\$c{\$_}++} in/big.txt"
        [gawk]="gawk -f in/count.awk in/big.txt")
    echo '{ for (i = 1; i <= NF; i++) c[$i]++ }' > in/count.awk
    sqlite3 in/db.sqlite "CREATE TABLE t(a, b); WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x<200000) INSERT INTO t SELECT x, printf('v%d', x) FROM n;"
    for p in python sqlite perl gawk; do
        /usr/bin/time -f %e -o t0 ${TCMD[$p]} > /dev/null 2>&1
        /usr/bin/time -f %e -o t1 heaptrack -o "$W/ht.$p" ${TCMD[$p]} > /dev/null 2>&1
        /usr/bin/time -f %e -o t2 "$BUILD/objmem" trace -o "$W/om.$p.omt" --top 0 -- ${TCMD[$p]} > /dev/null 2>&1
        read -r b < t0; read -r h < t1; read -r o < t2
        printf '%-8s %7.2fs %7.2fs %7.2fs  objmem added / heaptrack added = %.2f\n' "$p" "$b" "$h" "$o" \
            "$(echo "($o - $b) / ($h - $b)" | bc -l)"
    done
fi
