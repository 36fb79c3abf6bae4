/*
 * auto.c - when collections run: the collector's lifecycle (init, fini),
 * om_gc_collect with its never-re-entered rule, and the automatic trigger
 * with CPython 3.11's thresholds. Design note: docs/gc.md ("Triggering").
 */
#include "internal/heap.h"

/* A collection asked for while one runs is remembered (the highest gen)
 * and run once right after; requests made during that deferred run are
 * dropped (returning 0, as CPython), so callbacks that always collect
 * cannot loop. */
#define OM_GC_MAX_DEFERRED 1

static long collect_locked(om_heap *h, int gen)
{
    om__enter(h, "a collection");
    h->gc.collecting = 1;
    long n = om__gc_collect_main(h, gen);
    for (int k = 0; k < OM_GC_MAX_DEFERRED && h->gc.deferred; k++) {
        int g = h->gc.deferred - 1;
        h->gc.deferred = 0;
        om__gc_collect_main(h, g);
    }
    h->gc.deferred = 0;
    h->gc.collecting = 0;
    om__leave(h);
    return n;
}

long om_gc_collect(om_heap *h, int gen)
{
    if (gen == -1) gen = 2;
    if (gen < 0 || gen > 2) return om__err(h, OM_EINVAL, "om_gc_collect: generation %d", gen);
    om__enter(h, "om_gc_collect"); /* before reading collecting: another thread may be in one */
    long n = 0;
    if (h->gc.collecting) {
        if (gen + 1 > h->gc.deferred) h->gc.deferred = gen + 1;
    } else {
        n = collect_locked(h, gen);
    }
    om__leave(h);
    return n;
}

/* CPython 3.11 gc_collect_generations: the oldest generation whose count
 * passed its threshold, except that a full collection also needs the
 * objects promoted since the last one to exceed 25 % of the long-lived. */
void om__gc_on_threshold(om_heap *h)
{
    om__gcstate *g = &h->gc;
    if (g->collecting || h->destroying) return;
    /* Stress mode is automatic collection at every tracked allocation, so
     * it stops where automatic collection does: om_gc_disable, t0 = 0. */
    if (h->cfg.gc_stress && g->enabled && g->threshold[0] != 0) {
        collect_locked(h, 2);
        return;
    }
    if (!g->enabled || g->threshold[0] == 0 || g->count[0] <= g->threshold[0]) return;
    for (int i = 2; i >= 0; i--) {
        if (g->count[i] <= g->threshold[i]) continue;
        if (i == 2 && g->long_lived_pending < g->long_lived_total / 4) continue;
        collect_locked(h, i);
        return;
    }
}

int om__gc_init(om_heap *h)
{
    h->gc.threshold[0] = 700; /* CPython 3.11: (700, 10, 10) */
    h->gc.threshold[1] = 10;
    h->gc.threshold[2] = 10;
    h->gc.enabled = 1;
    om__gc_limit_update(h);
    h->gc.on_threshold = om__gc_on_threshold;
    return 0;
}

/* Heap destroy. Decision (docs/gc.md "Heap destroy"): the garbage list
 * is dropped and one full collection runs, so cyclic garbage is finalized
 * (PEP 442 finalizers and weakref callbacks run) and freed; objects still
 * referenced from outside are not finalized (as CPython at exit), their
 * memory goes with the arenas. Then the collector's tables are freed. */
void om__gc_fini(om_heap *h)
{
    if (!h->gc.collecting && h->alloc.atab) {
        om__gc_garbage_free(h);
        om_gc_collect(h, 2);
    }
    om__gc_garbage_free(h);
    om__gc_callbacks_free(h);
    om__weakref_fini(h);
    if (h->gc.stack) om__sys_free(h, h->gc.stack, h->gc.stack_cap * sizeof *h->gc.stack);
    if (h->gc.pools) om__sys_free(h, h->gc.pools, h->gc.pools_cap * sizeof *h->gc.pools);
    if (h->gc.cand) om__sys_free(h, h->gc.cand, h->gc.cand_cap * sizeof *h->gc.cand);
    h->gc.stack = NULL;
    h->gc.pools = NULL;
    h->gc.cand = NULL;
    h->gc.stack_cap = h->gc.pools_cap = h->gc.cand_cap = 0;
    h->gc.on_threshold = NULL;
}
