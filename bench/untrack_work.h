/*
 * untrack_work.h - the untracking workload of bench_untrack (issue 13,
 * item 3), one source for both sides. The includer defines:
 *   OBJ, LIST_NEW(), APPEND_STEAL(list, o), TUPLE2_LATE(a, b) (a 2-tuple
 *   made empty and filled after creation, last slot first, stealing a and
 *   b: it stays tracked until a collection meets it), INT(i), STR(i),
 *   DICT1_STEAL(k, v) (a one-item dict), DROP(o), COLLECT_FULL(),
 *   TRACKED() (gc.get_objects() length).
 * The shape: n tuples (int, str) and n/4 dicts {str: int}, held in a list,
 * as a parser or a database row cache makes them. Prints "R <name> <v>";
 * tracked counts exclude the runtime's own objects as they were before the
 * build (CPython's first collection also untracks some of its own tuples,
 * so its count after it can be below that: negative).
 */
#ifndef UNTRACK_WORK_H
#define UNTRACK_WORK_H

static void untrack_run(size_t n)
{
    long long base = (long long)TRACKED(); /* the runtime's own tracked objects */
    OBJ root = LIST_NEW();
    for (size_t i = 0; i < n; i++) APPEND_STEAL(root, TUPLE2_LATE(INT(i), STR(i)));
    for (size_t i = 0; i < n / 4; i++) APPEND_STEAL(root, DICT1_STEAL(STR(i), INT(i)));
    size_t objs = n + n / 4;
    printf("R tracked_built %lld\n", (long long)TRACKED() - base);
    uint64_t t0 = bh_now_ns();
    COLLECT_FULL(); /* meets the tuples: untracks them */
    uint64_t t1 = bh_now_ns();
    printf("R tracked_after %lld\n", (long long)TRACKED() - base);
    double later[5];
    for (int r = 0; r < 5; r++) {
        uint64_t a = bh_now_ns();
        COLLECT_FULL();
        later[r] = (double)(bh_now_ns() - a);
    }
    printf("R first_full %.3f\n", (double)(t1 - t0) / (double)objs);
    printf("R later_full %.3f\n", bh_median(later, 5) / (double)objs);
    DROP(root);
}

/* make bench-counts (bench/bench_counts.py, bench/counts_untrack.list):
 * one full collection inside a non-inlined function, after the build
 * ("first": it untracks the tuples) or after one more ("later"). Prints
 * "R untrack/<which> <ns per object built>", and under BENCH_COUNTS=1
 * "C <objects built>" (callgrind toggles on the function). */
static __attribute__((noinline)) void bench_untrack_collect(void)
{
    COLLECT_FULL();
    __asm__ __volatile__("" ::: "memory"); /* no tail call out of it */
}

static int untrack_counts(const char *which, size_t n)
{
    int later = !strcmp(which, "later");
    if (!later && strcmp(which, "first")) return 2;
    OBJ root = LIST_NEW();
    for (size_t i = 0; i < n; i++) APPEND_STEAL(root, TUPLE2_LATE(INT(i), STR(i)));
    for (size_t i = 0; i < n / 4; i++) APPEND_STEAL(root, DICT1_STEAL(STR(i), INT(i)));
    if (later) COLLECT_FULL();
    uint64_t t0 = bh_now_ns();
    bench_untrack_collect();
    double ns = (double)(bh_now_ns() - t0);
    size_t objs = n + n / 4;
    printf("R untrack/%s %.3f ns/object\n", which, ns / (double)objs);
    if (getenv("BENCH_COUNTS")) printf("C %zu\n", objs);
    DROP(root);
    return 0;
}

#endif
