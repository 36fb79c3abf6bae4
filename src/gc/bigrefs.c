/*
 * bigrefs.c - exact gc_refs for the few objects whose reference count does
 * not fit the gc word's scratch field (OM_GCW_REFS_MAX = 2^20 - 1): a hub
 * that a million tracked objects point at. Such an object's field holds
 * OM_GCW_REFS_MAX, meaning "the count is in this side table"; decrements
 * go to the table, and once the count falls below the limit it moves back
 * into the field, so the collector's other phases need not know. A
 * still-saturated field is then a true count >= the limit, i.e. > 0:
 * reachable. When the table cannot grow the object just stays saturated
 * (counted as reachable: safe, only not collected this time).
 * Design note: docs/gc.md ("gc_refs"). Issue 12: a saturated hub used to
 * keep its garbage cycle alive forever.
 *
 * Invariants (during one collection; the table is freed at its end):
 *  1. An object whose field is OM_GCW_REFS_MAX and that has an entry has
 *     its exact remaining gc_refs (>= OM_GCW_REFS_MAX) in the entry.
 *  2. Open addressing by address, linear probing, no deletion, load <= 1/2.
 */
#include "internal/heap.h"

struct om__bigref {
    om_object *o; /* NULL: empty slot */
    uint32_t refs;
};

static size_t slot_of(const om_object *o, size_t mask)
{
    return (size_t)(((uintptr_t)o >> 4) * 0x9E3779B97F4A7C15ULL >> 32) & mask;
}

static om__bigref *find(om__gcstate *g, const om_object *o)
{
    if (!g->big) return NULL;
    for (size_t i = slot_of(o, g->big_mask);; i = (i + 1) & g->big_mask) {
        if (g->big[i].o == o) return &g->big[i];
        if (!g->big[i].o) return NULL;
    }
}

static int grow(om_heap *h)
{
    om__gcstate *g = &h->gc;
    size_t cap = g->big ? (g->big_mask + 1) * 2 : 64;
    om__bigref *t = om__sys_calloc(h, cap, sizeof *t);
    if (!t) return -1;
    for (size_t i = 0; g->big && i <= g->big_mask; i++) {
        if (!g->big[i].o) continue;
        size_t j = slot_of(g->big[i].o, cap - 1);
        while (t[j].o) j = (j + 1) & (cap - 1);
        t[j] = g->big[i];
    }
    if (g->big) om__sys_free(h, g->big, (g->big_mask + 1) * sizeof *g->big);
    g->big = t;
    g->big_mask = cap - 1;
    return 0;
}

uint32_t om__gc_bigrefs_init(om_heap *h, om_object *o, uint32_t rc)
{
    om__gcstate *g = &h->gc;
    om__bigref *e = find(g, o);
    if (!e) {
        if ((!g->big || (g->big_n + 1) * 2 > g->big_mask + 1) && grow(h) < 0)
            return OM_GCW_REFS_MAX; /* saturated without an entry: reachable */
        size_t i = slot_of(o, g->big_mask);
        while (g->big[i].o) i = (i + 1) & g->big_mask;
        e = &g->big[i];
        e->o = o;
        g->big_n++;
    }
    e->refs = rc;
    return OM_GCW_REFS_MAX;
}

uint32_t om__gc_bigrefs_dec(om_object *o)
{
    om__bigref *e = find(&om_heap_of(o)->gc, o);
    if (!e) return OM_GCW_REFS_MAX;
    return --e->refs < OM_GCW_REFS_MAX ? e->refs : OM_GCW_REFS_MAX;
}

void om__gc_bigrefs_free(om_heap *h)
{
    om__gcstate *g = &h->gc;
    if (g->big) om__sys_free(h, g->big, (g->big_mask + 1) * sizeof *g->big);
    g->big = NULL;
    g->big_mask = g->big_n = 0;
}
