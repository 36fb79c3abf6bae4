/*
 * object.h (internal) - the collector word of the object header, object
 * blocks, and deferred deallocation. Design note: docs/object.md.
 */
#ifndef OM_INTERNAL_OBJECT_H
#define OM_INTERNAL_OBJECT_H

#include "om.h"

/* The gc word of om_object: flags in the low bits, and during a collection
 * the scratch count gc_refs in the high bits.
 *
 * Invariants:
 *  1. TRACKED only on objects whose type is OM_TYPE_GC; a tracked object in
 *     a pool has its young or middle bit set, or neither (old), never both.
 *  2. COLLECTING, REACHABLE, UNREACHABLE and gc_refs are zero outside a
 *     collection.
 *  3. LARGE, DEBUG and TRACED never change after creation: LARGE and DEBUG
 *     say where the object's block starts (om__obj_block), TRACED that it
 *     was made while tracing was on, so its free must reach the tracer.
 *     An object with none of OM_GCW_NOT_PLAIN's bits whose type has no
 *     dealloc and no finalize is plain: its death runs nothing and needs
 *     no hook, and om__decref_slow frees its block inline.
 *  4. While an object waits on the deferred-deallocation list its refcnt
 *     and gc_refs bits hold the list link (om__pending_*), it is untracked
 *     (WASTRACKED says it was) and nothing else may see it: its finalizer
 *     and weak-reference callbacks have not run yet (they run when the
 *     outermost deallocation takes it off the list), and om_weakref_get of
 *     a weak reference to it returns NULL.
 */
enum {
    OM_GCW_TRACKED = 1u << 0,     /* the collector tracks it                 */
    OM_GCW_FINALIZED = 1u << 1,   /* finalize has run (PEP 442)              */
    OM_GCW_WEAKREFS = 1u << 2,    /* weak references to it exist (side table) */
    OM_GCW_COLLECTING = 1u << 3,  /* a candidate of the running collection   */
    OM_GCW_REACHABLE = 1u << 4,   /* found reachable in this collection      */
    OM_GCW_UNREACHABLE = 1u << 5, /* found unreachable in this collection    */
    OM_GCW_LARGE = 1u << 6,       /* lives in a large block                  */
    OM_GCW_DEBUG = 1u << 7,       /* has a debug prefix before it            */
    OM_GCW_FROZEN = 1u << 8,      /* in the permanent generation (freeze)    */
    OM_GCW_PENDING = 1u << 9,     /* waiting on the deferred-dealloc list    */
    OM_GCW_WASTRACKED = 1u << 10, /* pending, was tracked (dealloc.c defer)  */
    OM_GCW_TRACED = 1u << 11,     /* made while tracing was on               */
};
/* The bits that keep an object's death off om__decref_slow's inline free. */
#define OM_GCW_NOT_PLAIN                                                                           \
    (OM_GCW_TRACKED | OM_GCW_WEAKREFS | OM_GCW_LARGE | OM_GCW_DEBUG | OM_GCW_TRACED)
#define OM_GCW_FLAG_BITS  12
#define OM_GCW_FLAGS_MASK ((1u << OM_GCW_FLAG_BITS) - 1)
#define OM_GCW_REFS_MAX   ((1u << (32 - OM_GCW_FLAG_BITS)) - 1) /* saturated: bigrefs.c */

static inline uint32_t om__gc_refs(const om_object *o)
{
    return o->gc >> OM_GCW_FLAG_BITS;
}
static inline void om__gc_set_refs(om_object *o, uint32_t r)
{
    o->gc = (o->gc & OM_GCW_FLAGS_MASK) | (r << OM_GCW_FLAG_BITS);
}

/* The deferred-deallocation state: objects whose count reached zero while
 * another deallocation was running, linked through their own headers. */
typedef struct om__objstate {
    om_object *pending; /* head of the list                              */
    int deallocating;   /* nesting depth of running deallocations (0: none) */
} om__objstate;

/* Start of o's block (where the debug prefix or nothing precedes it). */
static inline size_t om__obj_prefix(const om_object *o)
{
    return (o->gc & OM_GCW_DEBUG) ? sizeof(uint64_t) * 2 : 0;
}

/* Internal type flag: the type's dealloc releases the object's memory
 * itself (om__object_free_memory, or keeps it on a free list). A type
 * with this flag always has a dealloc (a no-op one if need be), so "no
 * dealloc" alone says that the block is freed at death (dealloc.c). */
#define OM_TYPE__OWNS_MEMORY (1u << 14)
/* Internal type flag: the collector offers its objects to
 * om__gcstate.maybe_untrack when they are candidates (tuples, dicts). */
#define OM_TYPE__UNTRACKS (1u << 13)
/* Internal type flag: its objects are the heap's bookkeeping, not the
 * program's (free-list entries): the heap graph (src/gc/graph.c) skips them. */
#define OM_TYPE__HIDDEN (1u << 12)
/* Internal type flag: the weak reference type (a collection that finds no
 * candidate of it, nor one with weak references, skips handle_weakrefs). */
#define OM_TYPE__WEAKREF (1u << 11)
/* Internal type flag: the type's dealloc drops no reference and runs none
 * of the program's code (a float's free-list push, a str leaving the
 * intern table), so no deallocation can nest under it, and has no
 * finalizer: a death with none of OM_GCW_NOT_PLAIN calls it without the
 * nesting depth's bookkeeping (dealloc.c om__decref_slow). */
#define OM_TYPE__LEAF (1u << 10)
/* The flag bits objmem keeps for its own types (OM_TYPE__BUILTIN and the
 * five above): om_new refuses a program's type that sets one (object.c
 * bad_type), which would otherwise be freed by rules it does not keep. */
#define OM_TYPE__INTERNAL_BITS (0x3fu << 10)
_Static_assert((OM_TYPE__INTERNAL_BITS &
                (OM_TYPE__BUILTIN | OM_TYPE__OWNS_MEMORY | OM_TYPE__UNTRACKS | OM_TYPE__HIDDEN |
                 OM_TYPE__WEAKREF | OM_TYPE__LEAF)) == OM_TYPE__INTERNAL_BITS,
               "the internal bits are the internal flags");

/* Tracking (src/gc/track.c): a new GC object enters generation 0. */
void om__gc_track_new(om_heap *h, om_object *o);
/* Forget a dying object's generation (its count is zero). */
void om__gc_untrack_dying(om_heap *h, om_object *o);

/* Free o's memory (after dealloc). */
void om__object_free_memory(om_object *o);
/* A count operation op ("om_decref") on o, which is not a live object or
 * whose count is zero: reported (and, in debug mode, abort); o is left
 * alone. */
void om__count_misuse(om_object *o, const char *op);
/* Drop one reference from each non-NULL u[0..n) (all of heap h), as
 * om_decref on each in turn would, in one deallocation frame. */
void om__object_drop_array(om_heap *h, om_object *const *u, size_t n);
/* Object blocks in use (object pools' counts and large object blocks;
 * freed objects and those on the types' free lists included): no counter
 * is kept on the creation and deallocation paths. O(pools). */
size_t om__object_count(om_heap *h);
/* Walk every live object of h; fn returns non-zero to stop. */
int om__object_walk(om_heap *h, int (*fn)(om_object *o, void *arg), void *arg);
/* 1 when p (any pointer) is a live object of h (debug checks, get_referrers). */
int om__object_is_live(om_heap *h, const void *p);
void om__object_fill_stats(om_heap *h, om_heap_stats *st);
void om__object_print_stats(om_heap *h, const om_heap_stats *st, FILE *out);
int om__object_check(om_heap *h, FILE *out);
/* Leak report (heap destroy). */
void om__object_report_leaks(om_heap *h, FILE *out);

#endif
