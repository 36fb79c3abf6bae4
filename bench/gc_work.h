/*
 * gc_work.h - the workloads of bench_gc, written once and included by the
 * objmem driver (bench_gc.c) and the CPython worker (gc_cpython.c), so both
 * run the same code on the same shapes (issue 14, item 1). Two shapes:
 *   lists  a = [b, None], b = [a]: two real lists built by append (objmem's
 *          om_list, CPython's PyList), item arrays in separate blocks
 *   nodes  two objects of a GC type with two child slots and no item array
 *          (objmem: a 32-byte om_type; CPython: a C extension type with the
 *          same slots, tp_traverse and tp_clear)
 * Live objects are held the way a program holds them: every pair is an item
 * of one roots list (a real list on both sides), and the collection users
 * run first, right after the build, is measured apart from the repeated one.
 * The includer defines:
 *   OBJ              the object pointer type
 *   gc_list_pair()   (a function) a new lists pair; a new reference to a
 *   gc_node_pair()   (a function) a new nodes pair; a new reference to a
 *   ROOTS_NEW()      a new empty list
 *   ROOTS_PUSH(r, o) append o to list r, taking over the reference
 *   DROP(o)          drop a reference
 *   COLLECT(gen)     collect generation gen (2: full)
 *   GC_AUTO(on)      switch automatic collection on (1) or off (0)
 * Results are "R <name> <value>" lines; under BENCH_COUNTS=1 a single
 * workload (gc_one) runs its measured part once inside a non-inlined
 * function for callgrind --toggle-collect and prints "C <operations>"
 * (bench/bench_counts.py, entries in bench/counts_gc.list).
 */
#ifndef OM_BENCH_GC_WORK_H
#define OM_BENCH_GC_WORK_H

#include "harness.h"

enum {
    GC_NOBJ = 1000000,     /* objects per collection workload (pairs: half) */
    CHURN_PAIRS = 1000000, /* pairs per churn run                          */
    GEN0_BATCH = 350       /* 700 objects: CPython's threshold 0           */
};

typedef OBJ (*pair_fn)(void);

static pair_fn shape_fn(const char *shape)
{
    return strcmp(shape, "nodes") == 0 ? gc_node_pair : gc_list_pair;
}

/* A roots list holding npairs new pairs. */
static OBJ gc_build(pair_fn pair, size_t npairs)
{
    OBJ roots = ROOTS_NEW();
    if (!roots) abort();
    for (size_t i = 0; i < npairs; i++) {
        OBJ p = pair();
        if (!p) abort();
        ROOTS_PUSH(roots, p);
    }
    return roots;
}

/* The measured calls, out of line so callgrind can toggle on them. */
__attribute__((noinline)) void bench_collect_first(void)
{
    COLLECT(2);
    BH_BARRIER();
}
__attribute__((noinline)) void bench_collect_repeat(void)
{
    COLLECT(2);
    BH_BARRIER();
}
__attribute__((noinline)) void bench_collect_garbage(void)
{
    COLLECT(2);
    BH_BARRIER();
}
__attribute__((noinline)) void bench_collect_gen0(void)
{
    COLLECT(0);
    BH_BARRIER();
}

static double ns_per(uint64_t t0, double n)
{
    return (double)(bh_now_ns() - t0) / n;
}

/* First full collection right after building nobj live objects (automatic
 * collection off during the build, so all are young): ns per object,
 * median of 3 builds. */
static double gc_first(pair_fn pair, size_t nobj)
{
    double t[3];
    GC_AUTO(0);
    for (int r = 0; r < 3; r++) {
        OBJ roots = gc_build(pair, nobj / 2);
        uint64_t t0 = bh_now_ns();
        bench_collect_first();
        t[r] = ns_per(t0, (double)nobj);
        DROP(roots);
        COLLECT(2);
    }
    return bh_median(t, 3);
}

/* Repeated full collections of nobj live (old) objects: median of 5. */
static double gc_repeat(pair_fn pair, size_t nobj)
{
    double t[5];
    GC_AUTO(0);
    OBJ roots = gc_build(pair, nobj / 2);
    COLLECT(2);
    for (int r = 0; r < 5; r++) {
        uint64_t t0 = bh_now_ns();
        bench_collect_repeat();
        t[r] = ns_per(t0, (double)nobj);
    }
    DROP(roots);
    COLLECT(2);
    return bh_median(t, 5);
}

/* Full collection of nobj objects of cyclic garbage (their roots list just
 * dropped), freeing included: ns per object, median of 3. */
static double gc_garbage(pair_fn pair, size_t nobj)
{
    double t[3];
    GC_AUTO(0);
    for (int r = 0; r < 3; r++) {
        OBJ roots = gc_build(pair, nobj / 2);
        DROP(roots);
        uint64_t t0 = bh_now_ns();
        bench_collect_garbage();
        t[r] = ns_per(t0, (double)nobj);
    }
    return bh_median(t, 3);
}

/* Young churn: pairs made and dropped at once, so they die in cycles; the
 * automatic collector (default thresholds) reclaims them. ns per pair. */
static pair_fn churn_pair;
__attribute__((noinline)) void bench_churn_body(void *ctx)
{
    (void)ctx;
    for (int i = 0; i < CHURN_PAIRS; i++) {
        OBJ p = churn_pair();
        if (!p) abort();
        DROP(p);
    }
    BH_BARRIER();
}

static double gc_churn(pair_fn pair)
{
    churn_pair = pair;
    GC_AUTO(1);
    double v = bh_measure_best(bench_churn_body, NULL, 1, 5, CHURN_PAIRS);
    GC_AUTO(0);
    COLLECT(2);
    return v;
}

/* 700 young objects of garbage, then a timed generation-0 collection: us. */
static double gen0_once(pair_fn pair)
{
    for (int i = 0; i < GEN0_BATCH; i++) DROP(pair());
    uint64_t t0 = bh_now_ns();
    bench_collect_gen0();
    return (double)(bh_now_ns() - t0) / 1e3;
}

/* Pauses with nobj live objects held in a roots list: the longest of 3
 * full collections, and the longest and median of 100 generation-0
 * collections of 700 young objects of garbage each. Microseconds. */
static void gc_pauses(pair_fn pair, size_t nobj, double *full_max, double *g0_max, double *g0_med)
{
    GC_AUTO(0);
    OBJ roots = gc_build(pair, nobj / 2);
    COLLECT(2);
    *full_max = 0;
    for (int r = 0; r < 3; r++) {
        uint64_t t0 = bh_now_ns();
        COLLECT(2);
        double us = (double)(bh_now_ns() - t0) / 1e3;
        if (us > *full_max) *full_max = us;
    }
    double t[100];
    *g0_max = 0;
    for (int r = 0; r < 100; r++) {
        t[r] = gen0_once(pair);
        if (t[r] > *g0_max) *g0_max = t[r];
    }
    *g0_med = bh_median(t, 100);
    DROP(roots);
    COLLECT(2);
}

/* Every measurement, printed as R lines; big adds the 10M pauses. */
static void gc_run_all(int big)
{
    static const char *const shapes[] = {"lists", "nodes"};
    for (int s = 0; s < 2; s++) {
        pair_fn f = shape_fn(shapes[s]);
        printf("R first_%s %.3f\n", shapes[s], gc_first(f, GC_NOBJ));
        fflush(stdout);
        printf("R repeat_%s %.3f\n", shapes[s], gc_repeat(f, GC_NOBJ));
        fflush(stdout);
        printf("R garbage_%s %.3f\n", shapes[s], gc_garbage(f, GC_NOBJ));
        fflush(stdout);
        printf("R churn_%s %.3f\n", shapes[s], gc_churn(f));
        fflush(stdout);
    }
    double fm, gm, gmed;
    gc_pauses(gc_list_pair, 1000000, &fm, &gm, &gmed);
    printf("R full_pause_1M %.1f\nR gen0_pause_1M %.1f\nR gen0_med_1M %.1f\n", fm, gm, gmed);
    fflush(stdout);
    if (big) {
        gc_pauses(gc_list_pair, 10000000, &fm, &gm, &gmed);
        printf("R full_pause_10M %.1f\nR gen0_pause_10M %.1f\nR gen0_med_10M %.1f\n", fm, gm, gmed);
        fflush(stdout);
    }
}

/* One workload alone ("first|repeat|garbage|churn|gen0 lists|nodes"): with
 * BENCH_COUNTS=1 its measured call runs once (for callgrind) and "C <ops>"
 * is printed; otherwise "R <workload>_<shape> <ns per op>". BENCH_GC_N
 * sets the objects (default 1M). Returns 0, or 2 for an unknown workload. */
static int gc_one(const char *what, const char *shape)
{
    const char *ns = getenv("BENCH_GC_N"), *cs = getenv("BENCH_COUNTS");
    size_t n = ns ? (size_t)strtoul(ns, NULL, 10) : GC_NOBJ;
    int counts = cs && *cs && strcmp(cs, "0");
    pair_fn f = shape_fn(shape);
    double v, ops = (double)n;
    if (n < 2) n = 2;
    GC_AUTO(0);
    if (!counts) {
        if (!strcmp(what, "first"))
            v = gc_first(f, n);
        else if (!strcmp(what, "repeat"))
            v = gc_repeat(f, n);
        else if (!strcmp(what, "garbage"))
            v = gc_garbage(f, n);
        else if (!strcmp(what, "churn"))
            v = gc_churn(f);
        else if (!strcmp(what, "gen0")) {
            double fm, gm;
            gc_pauses(f, n, &fm, &gm, &v);
        } else
            return 2;
        printf("R %s_%s %.3f\n", what, shape, v);
        return 0;
    }
    OBJ roots = NULL;
    if (!strcmp(what, "first")) {
        roots = gc_build(f, n / 2);
        bench_collect_first();
    } else if (!strcmp(what, "repeat")) {
        roots = gc_build(f, n / 2);
        COLLECT(2);
        bench_collect_repeat();
    } else if (!strcmp(what, "garbage")) {
        DROP(gc_build(f, n / 2));
        bench_collect_garbage();
    } else if (!strcmp(what, "churn")) {
        churn_pair = f;
        GC_AUTO(1);
        bench_churn_body(NULL);
        GC_AUTO(0);
        ops = CHURN_PAIRS;
    } else if (!strcmp(what, "gen0")) {
        roots = gc_build(f, n / 2);
        COLLECT(2);
        for (int i = 0; i < GEN0_BATCH; i++) DROP(f());
        bench_collect_gen0();
        ops = 2 * GEN0_BATCH;
    } else
        return 2;
    if (roots) DROP(roots);
    COLLECT(2);
    printf("C %.0f\n", ops);
    return 0;
}

#endif
