/*
 * gc_work.h - the workloads of bench_gc, written once and included by the
 * objmem driver (bench_gc.c) and the CPython worker (gc_cpython.c), so both
 * run the same shapes. The includer defines:
 *   OBJ            the object pointer type
 *   PAIR_NEW()     a new 2-cycle (a -> b -> a); returns a new reference to a
 *   DROP(o)        drop a reference
 *   COLLECT(gen)   collect generation gen (2: full), automatic or not
 *   GC_AUTO(on)    switch automatic collection on (1) or off (0)
 * Results are printed as "R <name> <value>" lines.
 */
#ifndef OM_BENCH_GC_WORK_H
#define OM_BENCH_GC_WORK_H

#include "harness.h"

enum { CHURN_PAIRS = 1000000, GEN0_BATCH = 350 /* 700 objects: the default threshold */ };

/* roots[0..npairs) = new 2-cycles, each held by its root reference. */
static void gc_build(OBJ *roots, size_t npairs)
{
    for (size_t i = 0; i < npairs; i++) {
        roots[i] = PAIR_NEW();
        if (!roots[i]) abort();
    }
}

static void gc_drop(OBJ *roots, size_t npairs)
{
    for (size_t i = 0; i < npairs; i++) DROP(roots[i]);
}

/* Full collection with nobj live objects: ns per object (median of 5 after
 * one warm-up collection, which also moves everything to the old generation). */
static double gc_full_live(OBJ *roots, size_t nobj)
{
    GC_AUTO(0);
    gc_build(roots, nobj / 2);
    COLLECT(2);
    double t[5];
    for (int r = 0; r < 5; r++) {
        uint64_t t0 = bh_now_ns();
        COLLECT(2);
        t[r] = (double)(bh_now_ns() - t0) / (double)nobj;
    }
    gc_drop(roots, nobj / 2);
    COLLECT(2);
    return bh_median(t, 5);
}

/* Collection of nobj objects of cyclic garbage (freeing included): ns per
 * object, median of 3 (each builds its garbage untimed first). */
static double gc_garbage(OBJ *roots, size_t nobj)
{
    GC_AUTO(0);
    double t[3];
    for (int r = 0; r < 3; r++) {
        gc_build(roots, nobj / 2);
        gc_drop(roots, nobj / 2);
        uint64_t t0 = bh_now_ns();
        COLLECT(2);
        t[r] = (double)(bh_now_ns() - t0) / (double)nobj;
    }
    return bh_median(t, 3);
}

/* Young churn: pairs made and dropped at once, so they die in cycles; the
 * automatic collector (default thresholds) reclaims them. ns per pair. */
static void churn_body(void *ctx)
{
    (void)ctx;
    for (int i = 0; i < CHURN_PAIRS; i++) {
        OBJ p = PAIR_NEW();
        if (!p) abort();
        DROP(p);
    }
}

static double gc_churn(void)
{
    GC_AUTO(1);
    double v = bh_measure_best(churn_body, NULL, 1, 5, CHURN_PAIRS);
    GC_AUTO(0);
    COLLECT(2);
    return v;
}

/* Pauses with nobj live objects: the longest of 3 full collections, and the
 * longest and median of 100 generation-0 collections, each of 700 young
 * objects of garbage made just before. Times in microseconds. */
static void gc_pauses(OBJ *roots, size_t nobj, double *full_max, double *g0_max, double *g0_med)
{
    static OBJ batch[GEN0_BATCH];
    GC_AUTO(0);
    gc_build(roots, nobj / 2);
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
        gc_build(batch, GEN0_BATCH);
        gc_drop(batch, GEN0_BATCH);
        uint64_t t0 = bh_now_ns();
        COLLECT(0);
        t[r] = (double)(bh_now_ns() - t0) / 1e3;
        if (t[r] > *g0_max) *g0_max = t[r];
    }
    *g0_med = bh_median(t, 100);
    gc_drop(roots, nobj / 2);
    COLLECT(2);
}

/* Every measurement, printed as R lines; big adds the 10M pauses. */
static void gc_run_all(int big)
{
    size_t n = big ? 10000000 : 1000000;
    OBJ *roots = calloc(n / 2, sizeof *roots);
    if (!roots) abort();
    printf("R full_live %.3f\n", gc_full_live(roots, 1000000));
    fflush(stdout);
    printf("R garbage %.3f\n", gc_garbage(roots, 1000000));
    fflush(stdout);
    printf("R churn %.3f\n", gc_churn());
    fflush(stdout);
    double fm, gm, gmed;
    gc_pauses(roots, 1000000, &fm, &gm, &gmed);
    printf("R full_pause_1M %.1f\nR gen0_pause_1M %.1f\nR gen0_med_1M %.1f\n", fm, gm, gmed);
    fflush(stdout);
    if (big) {
        gc_pauses(roots, 10000000, &fm, &gm, &gmed);
        printf("R full_pause_10M %.1f\nR gen0_pause_10M %.1f\nR gen0_med_10M %.1f\n", fm, gm, gmed);
        fflush(stdout);
    }
    free(roots);
}

#endif
