/*
 * track.c - which objects the collector sees, and in which generation.
 * A tracked object in a pool has a bit in its pool's young or middle
 * bitmap, or neither (old); pools that may hold young or middle objects
 * are on the heap's generation lists, so a young collection visits only
 * them. Large GC objects keep their generation in their header.
 * Design note: docs/gc.md ("Generations").
 */
#include "internal/gc_fast.h"

/* ---------------------------------------------------- generation lists */

void om__pool_gen_push(om_heap *h, om__pool *pool, int which)
{
    om__pool **head = &h->gc.gen_pools[which];
    pool->gen_prev[which] = NULL;
    pool->gen_next[which] = *head;
    if (*head) (*head)->gen_prev[which] = pool;
    *head = pool;
    pool->on_gen[which] = 1;
}

void om__pool_gen_remove(om_heap *h, om__pool *pool, int which)
{
    if (pool->gen_prev[which])
        pool->gen_prev[which]->gen_next[which] = pool->gen_next[which];
    else
        h->gc.gen_pools[which] = pool->gen_next[which];
    if (pool->gen_next[which]) pool->gen_next[which]->gen_prev[which] = pool->gen_prev[which];
    pool->gen_next[which] = pool->gen_prev[which] = NULL;
    pool->on_gen[which] = 0;
}

void om__gc_pool_retire(om_heap *h, om__pool *pool)
{
    if (pool->on_gen[0]) om__pool_gen_remove(h, pool, 0);
    if (pool->on_gen[1]) om__pool_gen_remove(h, pool, 1);
}

/* ------------------------------------------------------------ tracking */

/* Put tracked object o into generation 0. */
static void enter_young(om_heap *h, om_object *o)
{
    if (o->gc & OM_GCW_LARGE) {
        om__large_hdr(o, om__obj_prefix(o))->gen = 0;
        return;
    }
    om__pool *pool = om__pool_of(o);
    unsigned g = om__granule(pool, o);
    om__bm_set(om__gcb_of(o)->young, g);
    om__bm_set(om__gcb_of(o)->tracked, g);
    if (!pool->on_gen[0]) om__pool_gen_push(h, pool, 0);
}

static void leave_generation(om_object *o)
{
    if (o->gc & OM_GCW_LARGE) return;
    om__pool *pool = om__pool_of(o);
    unsigned g = om__granule(pool, o);
    om__bm_clear(om__gcb_of(o)->young, g);
    om__bm_clear(om__gcb_of(o)->middle, g);
    om__bm_clear(om__gcb_of(o)->tracked, g);
}

/* The inline part is in gc_fast.h (om__gc_track_new_inline). */
void om__gc_track_new_slow(om_heap *h, om_object *o)
{
    if (o->gc & OM_GCW_LARGE) {
        o->gc |= OM_GCW_TRACKED;
        enter_young(h, o);
        h->gc.count[0]++;
    } else if (!om__pool_of(o)->on_gen[0]) {
        om__pool_gen_push(h, om__pool_of(o), 0);
    }
    int due = h->gc.enabled && h->gc.count[0] > h->gc.threshold[0];
    if (h->gc.on_threshold && (due || h->cfg.gc_stress)) h->gc.on_threshold(h);
}

om_object *om__gc_track_new_tail(om_heap *h, om_object *o)
{
    om__gc_track_new_slow(h, o);
    return o;
}

void om__gc_track_new(om_heap *h, om_object *o)
{
    om__gc_track_new_inline(h, o);
}

void om__gc_untrack_dying(om_heap *h, om_object *o)
{
    om__gc_untrack_dying_inline(h, o);
}

void om_gc_track(om_object *o)
{
    if (o->gc & OM_GCW_TRACKED) return;
    if (om__unlikely(!o->gc) && (om_heap_of(o)->hooks & OM_HOOK_DEBUG) &&
        !om__object_is_live(om_heap_of(o), o)) /* a freed debug object's gc word reads 0 */
        om__dbg_report(om_heap_of(o), "om_gc_track of a freed object", o, "om_gc_track");
    if (!(o->type->flags & OM_TYPE_GC)) {
        om_heap *h = om_heap_of(o);
        om__err(h, OM_ETYPE, "om_gc_track: type %s is not a GC type", o->type->name);
        if (h->hooks & OM_HOOK_DEBUG)
            om__dbg_report(h, "om_gc_track of a non-GC object", o, "om_gc_track");
        return;
    }
    o->gc = (o->gc & ~(uint32_t)OM_GCW_FROZEN) | OM_GCW_TRACKED;
    enter_young(om_heap_of(o), o);
}

void om_gc_untrack(om_object *o)
{
    if (!(o->gc & OM_GCW_TRACKED)) return;
    leave_generation(o);
    o->gc &= ~(uint32_t)(OM_GCW_TRACKED | OM_GCW_FROZEN);
}

int om_gc_is_tracked(const om_object *o)
{
    return (o->gc & OM_GCW_TRACKED) != 0;
}
