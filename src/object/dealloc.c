/*
 * dealloc.c - immediate deallocation when a count reaches zero, in bounded
 * C stack. Deallocations nest directly up to OM_DEALLOC_DEPTH; an object
 * whose count reaches zero deeper than that waits on a list threaded
 * through its own header, and the outermost deallocation empties the list,
 * so dropping the head of a 10-million-long chain uses bounded stack
 * (CPython's trashcan problem, solved without leaking at any depth).
 * Design note: docs/object.md ("Deallocation").
 */
#include "internal/gc_fast.h"

/* The link lives in the dead object's refcnt (low 32 bits of ptr >> 4) and
 * its gc_refs bits (the rest): 32 + 20 bits cover 56-bit addresses. */
static void pending_push(om_heap *h, om_object *o)
{
    uint64_t v = (uint64_t)(uintptr_t)h->obj.pending >> 4;
    OM_ASSERT((v >> 32) <= OM_GCW_REFS_MAX);
    o->refcnt = (uint32_t)v;
    om__gc_set_refs(o, (uint32_t)(v >> 32));
    o->gc |= OM_GCW_PENDING;
    h->obj.pending = o;
}

static om_object *pending_pop(om_heap *h)
{
    om_object *o = h->obj.pending;
    if (!o) return NULL;
    uint64_t v = (uint64_t)o->refcnt | ((uint64_t)om__gc_refs(o) << 32);
    h->obj.pending = (om_object *)(uintptr_t)(v << 4);
    o->refcnt = 0;
    om__gc_set_refs(o, 0);
    o->gc &= ~(uint32_t)OM_GCW_PENDING;
    return o;
}

/* Free small object o of pool (of heap h): inline when the pool allows. */
static inline void free_small(om_heap *h, om__pool *pool, om_object *o)
{
    if (om__likely(om__obj_block_free_fast(h, pool, o))) return;
    om__block_free_obj(h, o, 0);
}

static inline void free_memory(om_heap *h, om_object *o)
{
    if (om__likely(!(o->gc & OM_GCW_LARGE)))
        free_small(h, om__pool_of(o), o);
    else
        om__block_free_obj(h, o, 1);
}

void om__object_free_memory(om_object *o)
{
    free_memory(om__heap_of(o), o);
}

/* The type drops what o owns (its children may join the pending list),
 * then o's block goes back. */
static inline __attribute__((always_inline)) void dealloc_one(om_heap *h, om_object *o)
{
    const om_type *t = o->type;
    OM_ASSERT(t->dealloc || !(t->flags & OM_TYPE__OWNS_MEMORY)); /* object.h */
    if (t->dealloc) t->dealloc(o);
    if (!(t->flags & OM_TYPE__OWNS_MEMORY)) free_memory(h, o); /* h: computed once */
}

/* Deallocations nest directly up to this depth (a list dropping its
 * tuples dropping their items costs no queueing); deeper ones wait on the
 * pending list, so the C stack stays bounded at any depth of structure.
 * The depth counts everything a deallocation runs: finalizers and weak
 * reference callbacks are user code that may drop the next object, so the
 * depth check comes before them (CPython's trashcan wraps tp_dealloc,
 * finalizer included). */
#define OM_DEALLOC_DEPTH 24

/* Defer o (count zero) to the outermost deallocation. It leaves the
 * collector now (invariant 4 of object.h); WASTRACKED brings it back if
 * its finalizer or a weak-reference callback resurrects it. */
static void defer(om_heap *h, om_object *o)
{
    if (o->gc & OM_GCW_TRACKED) {
        om__gc_untrack_dying_inline(h, o);
        o->gc |= OM_GCW_WASTRACKED;
    }
    pending_push(h, o);
}

/* A user hook resurrected o: a deferred object rejoins the collector. */
static void resurrected(om_object *o)
{
    if (o->gc & OM_GCW_WASTRACKED) {
        o->gc &= ~(uint32_t)OM_GCW_WASTRACKED;
        om_gc_track(o);
    }
}

/* The whole deallocation of o (count zero). PEP 442: the finalizer runs
 * first, once, with o alive (count 1), and may resurrect it. Then weak
 * references are cleared and their callbacks run, o leaves the collector,
 * and its type drops what it owns. */
static inline __attribute__((always_inline)) void dealloc_full(om_heap *h, om_object *o)
{
    const om_type *t = o->type;
    if (t->finalize && !(o->gc & OM_GCW_FINALIZED)) {
        o->gc |= OM_GCW_FINALIZED;
        o->refcnt = 1;
        t->finalize(o);
        if (--o->refcnt != 0) {
            resurrected(o);
            return;
        }
    }
    if (o->gc & OM_GCW_WEAKREFS) {
        o->refcnt = 1; /* callbacks may look around; o must not die twice */
        om__gc_on_free(h, o);
        if (--o->refcnt != 0) {
            resurrected(o);
            return;
        }
    }
    o->gc &= ~(uint32_t)OM_GCW_WASTRACKED;
    if (o->gc & OM_GCW_TRACKED) om__gc_untrack_dying_inline(h, o);
    dealloc_one(h, o);
}

/* The general case of om__decref_slow: deallocate o now or, nested
 * deeper than OM_DEALLOC_DEPTH in other deallocations, queue it for the
 * outermost, which empties the queue. */
static om__noinline void dealloc_nested(om_heap *h, om_object *o)
{
    int depth = h->obj.deallocating;
    if (depth >= OM_DEALLOC_DEPTH) { /* deep: the outermost loop frees it */
        defer(h, o);
        return;
    }
    h->obj.deallocating = depth + 1;
    dealloc_full(h, o); /* shallow nesting recurses: no list traffic */
    if (depth == 0)
        while ((o = pending_pop(h)) != NULL) {
            h->obj.deallocating = 1;
            dealloc_full(h, o);
        }
    h->obj.deallocating = depth;
}

/* Drop one reference from each non-NULL u[i] (the collector's references
 * to its cleared garbage: delete_garbage, src/gc/collect.c). Each object
 * whose count reaches zero is deallocated exactly as om_decref would (the
 * same dealloc_full, the pending list emptied after each one at the
 * outermost level), but in one depth frame for the whole array, without
 * om_decref's out-of-line call chain per object. All of u are of heap h. */
void om__object_drop_array(om_heap *h, om_object *const *u, size_t n)
{
    int depth = h->obj.deallocating;
    if (depth >= OM_DEALLOC_DEPTH) { /* called deep (a finalizer collecting) */
        for (size_t i = 0; i < n; i++)
            if (u[i]) om_decref(u[i]);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        om_object *o = u[i];
        if (!o) continue;
        if (o->refcnt != 1) { /* still referenced (or immortal): only the count */
            om_decref(o);
            continue;
        }
        o->refcnt = 0;
        h->obj.deallocating = depth + 1;
        dealloc_full(h, o);
        if (depth == 0)
            while ((o = pending_pop(h)) != NULL) {
                h->obj.deallocating = 1;
                dealloc_full(h, o);
            }
    }
    h->obj.deallocating = depth;
}

/* The death of o of an OM_TYPE__LEAF type that does not own its memory. */
static om__noinline void leaf_death(om_object *o, const om_type *t)
{
    t->dealloc(o);
    om__object_free_memory(o);
}

/* The death of o (count zero) past the plain one, out of line so that the
 * plain one's code stays as short (a tail call): nothing can nest under a
 * leaf type's dealloc (none has a finalizer), so there is no depth to keep;
 * everything else is dealloc_nested. */
static om__noinline void not_plain_death(om_object *o, const om_type *t)
{
    if ((t->flags & OM_TYPE__LEAF) && !(o->gc & OM_GCW_NOT_PLAIN)) {
        OM_ASSERT(!t->finalize); /* object.h */
        if (t->flags & OM_TYPE__OWNS_MEMORY) return t->dealloc(o);
        return leaf_death(o, t);
    }
    dealloc_nested(om__heap_of(o), o);
}

/* A count of 1 is dropped (the inline om_decref leaves counts of 2 up to
 * OM_IMMORTAL alone, and -DOM_DEBUG_REFS comes here with any count): o
 * dies now. A plain object (object.h, invariant 3: no dealloc, no
 * finalizer, and none of OM_GCW_NOT_PLAIN: not tracked, no weak
 * references, small, made on a heap without hooks) cannot run anything,
 * drop a child or be resurrected, and no hook needs to see it, so its
 * block goes back at once, with no depth bookkeeping and no stack frame;
 * one of a type whose dealloc cannot nest (OM_TYPE__LEAF) is that dealloc
 * and the block's free; everything else takes dealloc_nested. "No dealloc" implies "not
 * OM_TYPE__OWNS_MEMORY" (object.h). */
void om__decref_slow(om_object *o)
{
    uint32_t rc = o->refcnt;
    if (om__unlikely(rc != 1)) {
        if (rc == 0) return om__count_misuse(o, "om_decref");
        if (rc < OM_IMMORTAL) o->refcnt = rc - 1;
        return;
    }
    o->refcnt = 0;
    const om_type *t = o->type;
    if (om__likely(!t->dealloc && !t->finalize && !(o->gc & OM_GCW_NOT_PLAIN))) {
        om__pool *pool = om__pool_of(o); /* a small block: its pool names the heap */
        om_heap *h = pool->heap;
        /* the link test still catches a block freed already (an unchecked
         * om_incref of a freed object, then this om_decref) */
        if (om__likely(!om__link_in_pool(h, (om__block *)o) && om__obj_block_push(h, pool, o)))
            return;
        om__block_free_obj(h, o, 0);
        return;
    }
    not_plain_death(o, t);
}
