/*
 * gc.h (internal) - the collector's state in the heap. The generations
 * themselves are bitmaps in GC pools (alloc.h) and a field of large GC
 * blocks. Design note: docs/gc.md.
 */
#ifndef OM_INTERNAL_GC_H
#define OM_INTERNAL_GC_H

#include "om.h"

typedef struct om__pool om__pool;
typedef struct om__weakref om__weakref;

/* One registered gc callback. */
typedef struct om__gc_cb {
    om_gc_callback fn;
    void *ctx;
} om__gc_cb;

/* One slot of the weak-reference side table (open addressing, linear
 * probing, backward-shift deletion): referent -> its weak references. */
typedef struct om__wr_slot {
    om_object *key;    /* referent; NULL = empty                        */
    om__weakref *head; /* its weak references, newest first            */
} om__wr_slot;

/* A container type whose children the collector reads inline, without a
 * traverse call or a visit call per child (issue 14): its objects hold a
 * size_t item count at len_off and om_object *items[count] (NULL items
 * skipped) at items_off, or, when indirect, a pointer to such an array
 * there. Registered by the types layer at init (lists, tuples); the
 * description must visit exactly what the type's traverse visits. */
typedef struct om__gc_seq {
    const om_type *type; /* NULL: slot unused                          */
    size_t len_off;      /* offset of the size_t item count             */
    size_t items_off;    /* offset of the items, or of a pointer to them */
    size_t indirect;     /* 1: items_off holds a pointer to the array   */
} om__gc_seq;            /* size_t fields: stores to gc words (uint32_t) do not alias them */
#define OM_GC_NSEQ 2

typedef struct om__bigref om__bigref; /* bigrefs.c */

/* Invariants:
 *  1. collecting is 1 exactly while a collection (or its callbacks) runs;
 *     outside it no object has COLLECTING, REACHABLE, UNREACHABLE or gc_refs.
 *  2. An object has OM_GCW_WEAKREFS iff wr_tab has a slot keyed by it, and
 *     that slot's list is non-empty; every weakref on it points back to it.
 *  3. A pool with a young (middle) bit is on gen_pools[0] ([1]).
 *  4. garbage[0..ngarbage) are strong references.
 */
typedef struct om__gcstate {
    om__pool *gen_pools[2]; /* pools that may hold young / middle objects   */
    long count[3];          /* gen0: tracked allocations minus deallocations;
                               gen1, gen2: collections of the younger one   */
    long threshold[3];      /* 700, 10, 10 as in CPython 3.11               */
    int enabled;            /* automatic collection                        */
    /* A new tracked object whose count[0] passes this takes the slow path
     * (om__gc_track_young): threshold[0] while automatic collection is on,
     * LONG_MAX when it is off or t0 is 0, -1 in stress mode (every tracked
     * creation). Kept by om__gc_limit_update whenever its inputs change. */
    long young_limit;
    int collecting; /* a collection is running                     */
    /* Called by object creation when count[0] passes threshold[0] (set by
     * the collector at init; NULL = none). */
    void (*on_threshold)(om_heap *h);
    void *impl; /* unused (kept for layout compatibility)       */
    /* Called by a collection for each candidate of an OM_TYPE__UNTRACKS
     * type before it is counted: 1 when it untracked the object (it is
     * then no candidate). full: a full collection. Set by the types layer
     * (CPython's _PyTuple_MaybeUntrack, _PyDict_MaybeUntrack). */
    int (*maybe_untrack)(om_object *o, int full);
    om__gc_seq seq[OM_GC_NSEQ]; /* containers traversed inline (types layer) */
    int deferred;               /* gen + 1 of a collection asked for during one */
    long long_lived_total;      /* survivors of the last full collection        */
    long long_lived_pending;    /* objects promoted to old since then           */
    unsigned debug;             /* OM_GC_DEBUG_*                                */
    FILE *debug_out;            /* NULL = h->report                             */
    om_gc_stats stats[3];
    om_object **garbage; /* gc.garbage: strong references (seam malloc)  */
    size_t ngarbage, garbage_cap;
    om__gc_cb *cbs; /* gc.callbacks (seam malloc)                   */
    size_t ncbs, cbs_cap;
    om_object **stack; /* the marking work stack (seam malloc)         */
    size_t stack_cap;
    om__pool **pools; /* scratch: the pools a collection visits       */
    size_t pools_cap;
    om_object **cand; /* scratch: a young collection's candidates    */
    size_t cand_cap;
    om__wr_slot *wr_tab;      /* weak-reference side table (seam malloc)      */
    size_t wr_mask, wr_count; /* capacity - 1 (0 when no table), used slots   */
    om__bigref *big;          /* scratch: gc_refs past OM_GCW_REFS_MAX (bigrefs.c) */
    size_t big_mask, big_n;   /* capacity - 1, entries                        */
} om__gcstate;

/* bigrefs.c: gc_refs of objects whose count passes OM_GCW_REFS_MAX. The
 * scratch field of such an object holds OM_GCW_REFS_MAX; init records its
 * count rc (returns the field value), dec takes one from it and returns
 * the new field value (the exact count once below the limit), free drops
 * the table at the end of a collection. */
uint32_t om__gc_bigrefs_init(om_heap *h, om_object *o, uint32_t rc);
uint32_t om__gc_bigrefs_dec(om_object *o);
void om__gc_bigrefs_free(om_heap *h);

int om__gc_init(om_heap *h);
/* Recompute young_limit from enabled, threshold[0] and the stress mode. */
void om__gc_limit_update(om_heap *h);
void om__gc_fini(om_heap *h);
/* The generation lists of GC pools (track.c). */
void om__pool_gen_push(om_heap *h, om__pool *pool, int which);
void om__pool_gen_remove(om_heap *h, om__pool *pool, int which);
/* The allocator's pool_retire hook (alloc.h om__alloc_hooks): an empty
 * pool leaves both generation lists before it goes back to its arena. */
void om__gc_pool_retire(om_heap *h, om__pool *pool);
/* Called when a tracked object is freed: weak references and bookkeeping. */
void om__gc_on_free(om_heap *h, om_object *o);
int om__gc_check(om_heap *h, FILE *out);
void om__gc_print_stats(om_heap *h, FILE *out);

/* ---- between the collector's files (src/gc/) ---- */

/* Collect generation gen (0..2) with callbacks and statistics; the caller
 * has set h->gc.collecting. Returns collected + uncollectable or OM_ENOMEM. */
long om__gc_collect_main(om_heap *h, int gen);
/* The collector's subtraction without a collection (collect.c, for
 * roots.c): phases 1+2 over every candidate of a full collection, then
 * fn(o, gc_refs, arg) on each and the scratch state cleared. */
long om__gc_subtract_begin(om_heap *h, size_t *npools);
void om__gc_subtract_end(om_heap *h, size_t npools, void (*fn)(om_object *, uint32_t, void *),
                         void *arg);
/* The automatic trigger (auto.c). */
void om__gc_on_threshold(om_heap *h);
/* Generation of a tracked object: 0, 1 or 2 (old); -1 frozen/untracked. */
int om__gc_gen_of(const om_object *o);
/* Append a strong reference to garbage (taking over the caller's). */
int om__gc_garbage_push_steal(om_heap *h, om_object *o);
int om__gc_garbage_reserve(om_heap *h, size_t more);
void om__gc_garbage_free(om_heap *h);
void om__gc_callbacks_free(om_heap *h);
FILE *om__gc_out(om_heap *h);
/* Debug-mode one-line description of o. */
void om__gc_debug_object(om_heap *h, const char *what, om_object *o);

/* Weak references (weakref.c). The weak reference object. */
struct om__weakref {
    om_object ob_base;
    om_object *referent;          /* borrowed; NULL once cleared           */
    om_weakref_callback callback; /* may be NULL                           */
    void *ctx;
    om__weakref *next, *prev; /* referent's list, or a callback chain  */
};
/* Callbacks waiting to run, in order. */
typedef struct om__wr_chain {
    om__weakref *head, *tail;
} om__wr_chain;
/* Detach and clear every weak reference to o (which has OM_GCW_WEAKREFS).
 * Those with a callback that should run (in a collection: not UNREACHABLE
 * themselves) get a strong reference and join the end of *chain. */
void om__weakref_clear_all(om_heap *h, om_object *o, om__wr_chain *chain, int in_collection);
/* o is unreachable garbage: when it is a weak reference, detach it from
 * its referent now, so its callback can never run, even when the referent
 * dies later by refcount while the garbage is cleared (CPython's
 * handle_weakrefs, bpo-38006). */
void om__weakref_clear_trash(om_object *o);
/* Run and drop the callbacks of a chain built by om__weakref_clear_all. */
void om__weakref_run_callbacks(om__wr_chain *chain);
/* Number of referents in the side table / free it (heap destroy). */
void om__weakref_fini(om_heap *h);
int om__weakref_check(om_heap *h, FILE *out);

#endif
