/*
 * gc_fast.h (internal) - the hot halves of tracking (src/gc/track.c),
 * inline for the paths that create and free GC objects by the million
 * (list creation, deallocation). It needs the whole heap, so it is
 * included after heap.h by those files only; everything else calls the
 * out-of-line om__gc_track_new / om__gc_untrack_dying (object.h), which
 * are these same functions. Design note: docs/gc.md ("Generations").
 */
#ifndef OM_INTERNAL_GC_FAST_H
#define OM_INTERNAL_GC_FAST_H

#include "heap.h"

/* The rest of om__gc_track_new (track.c): a large object (all of it), or
 * a pool object whose bits and count are set already but whose pool is
 * not on the young list yet or whose count may trigger a collection. */
void om__gc_track_new_slow(om_heap *h, om_object *o);
/* The same, returning o: a creation fast path tail-calls it (and so keeps
 * no stack frame) when om__gc_track_young returned 0. */
om_object *om__gc_track_new_tail(om_heap *h, om_object *o);

/* om__gc_track_new inline for o, a new GC object in pool (not large):
 * o enters generation 0. 1 when done; 0 when om__gc_track_new_slow must
 * follow (the pool is not on the young list yet, or past threshold 0 or
 * in gc_stress mode a collection may run). */
static inline int om__gc_track_young(om_heap *h, om__pool *pool, om_object *o)
{
    unsigned g = om__granule(pool, o);
    o->gc |= OM_GCW_TRACKED;
    om__bm_set(om__gcb_of(o)->young, g);
    om__bm_set(om__gcb_of(o)->tracked, g);
    long n = ++h->gc.count[0];
    return om__likely(pool->on_gen[0] && n <= h->gc.young_limit);
}

/* om__gc_track_new inline: o (a new GC object of h) enters generation 0. */
static inline void om__gc_track_new_inline(om_heap *h, om_object *o)
{
    if (om__likely(!(o->gc & OM_GCW_LARGE) && om__gc_track_young(h, om__pool_of(o), o))) return;
    om__gc_track_new_slow(h, o);
}

/* om__gc_untrack_dying inline: o (tracked, count zero) leaves its
 * generation and the collector. */
static inline void om__gc_untrack_dying_inline(om_heap *h, om_object *o)
{
    if (om__likely(!(o->gc & OM_GCW_LARGE))) {
        om__pool *pool = om__pool_of(o);
        unsigned g = om__granule(pool, o);
        uint64_t keep = ~((uint64_t)1 << (g & 63));
        om__gcb_of(o)->young[g >> 6] &= keep;
        om__gcb_of(o)->middle[g >> 6] &= keep;
        om__gcb_of(o)->tracked[g >> 6] &= keep;
    }
    o->gc &= ~(uint32_t)OM_GCW_TRACKED;
    if (h->gc.count[0] > 0) h->gc.count[0]--;
}

#endif
