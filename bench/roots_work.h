/*
 * roots_work.h - bench_gc's "roots" workload (issue 18): the exact roots
 * (om_gc_get_roots) of 1M live lists held in a list, against one full
 * collection of the same heap (target: get_roots no slower), plus the
 * heap-graph calls for scale (roots reaching one object, the shortest
 * chain to it). objmem only: CPython has no counterpart (gc.get_referrers
 * gives one hop). Included by bench_gc.c; prints its own lines.
 */
#ifndef OM_BENCH_ROOTS_WORK_H
#define OM_BENCH_ROOTS_WORK_H

#include <objmem.h>

#include "harness.h"

typedef struct roots_bench {
    om_heap *h;
    om_object *holder, *target;
    size_t n;
    int ok;
} roots_bench;

static void rb_collect(void *arg)
{
    roots_bench *b = arg;
    if (om_gc_collect(b->h, -1) != 0) b->ok = 0;
}

static void rb_roots(void *arg)
{
    roots_bench *b = arg;
    size_t n;
    om_gc_root *r = om_gc_get_roots(b->h, NULL, 0, &n);
    if (!r || n != 1) b->ok = 0;
    om_gc_roots_free(b->h, r, n);
}

static void rb_reaching(void *arg)
{
    roots_bench *b = arg;
    size_t n;
    om_gc_root *r = om_gc_get_roots(b->h, b->target, 0, &n);
    if (!r || n != 1) b->ok = 0;
    om_gc_roots_free(b->h, r, n);
}

static void rb_chain(void *arg)
{
    roots_bench *b = arg;
    om_gc_chain *c = om_gc_find_chain(b->h, b->target);
    if (!c || c->n != 2) b->ok = 0;
    om_gc_chain_free(b->h, c);
}

/* Print "roots ..." result lines: ns per object, medians of reps. */
static void roots_run_all(size_t n, int reps)
{
    roots_bench b = {om_heap_new(NULL), NULL, NULL, n, 1};
    if (!b.h || !(b.holder = om_list_new(b.h, n))) return;
    om_gc_disable(b.h);
    for (size_t i = 0; i < n; i++) {
        om_object *l = om_list_new(b.h, 0);
        if (!l || om_list_append(b.holder, l) < 0) return;
        om_decref(l);
    }
    b.target = om_list_get(b.holder, (ptrdiff_t)(n / 2));
    om_decref(b.target); /* borrowed: the holder keeps it */
    double full = bh_measure(rb_collect, &b, 1, reps, (double)n);
    double roots = bh_measure(rb_roots, &b, 1, reps, (double)n);
    double reach = bh_measure(rb_reaching, &b, 0, 3, (double)n);
    double chain = bh_measure(rb_chain, &b, 0, 3, (double)n);
    printf("%-38s %10.2f   ns/object (median of %d)\n", "roots: full collection, 1M live lists",
           full, reps);
    printf("%-38s %10.2f   ns/object (median of %d)\n", "roots: om_gc_get_roots, same heap", roots,
           reps);
    printf("%-38s %10.2fx  target <= 1.00x: %s\n", "roots: get_roots / full collection",
           roots / full, roots <= full ? "met" : "NOT met");
    printf("%-38s %10.2f   ns/object (median of 3)\n", "roots: get_roots reaching one list", reach);
    printf("%-38s %10.2f   ns/object (median of 3)\n", "roots: om_gc_find_chain to one list",
           chain);
    if (!b.ok) printf("roots: WRONG RESULT (a call failed or found the wrong roots)\n");
    om_decref(b.holder);
    om_heap_destroy(b.h);
}

#endif
