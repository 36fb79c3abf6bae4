/*
 * heap.h - struct om_heap: the composition of every layer's state. Each
 * layer owns its part (declared in its own internal header); this file only
 * puts them together. Never installed.
 */
#ifndef OM_INTERNAL_HEAP_H
#define OM_INTERNAL_HEAP_H

#include <stdatomic.h>

#include "om.h"
#include "alloc.h"
#include "object.h"
#include "gc.h"
#include "types.h"
#include "trace.h"

/* Bits of om_heap.hooks: any set bit sends allocation and free down the
 * slow path, so the fast paths test one word. */
enum {
    OM_HOOK_DEBUG = 1u << 0, /* debug mode: prefix, guards, patterns */
    OM_HOOK_TRACE = 1u << 1, /* tracing: every block is traced       */
};

struct om_heap {
    unsigned hooks;               /* OM_HOOK_* (first: one line with alloc.key)  */
    om__alloc alloc;              /* arenas, pools, large blocks (alloc.h)       */
    size_t obj_prefix;            /* bytes before an object in its block         */
    om_config cfg;                /* a copy of the configuration                 */
    FILE *report;                 /* cfg.report_file or stderr                   */
    int errcode;                  /* last failure (OM_E*)                        */
    char errmsg[160];             /* its message                                 */
    om__objstate obj;             /* deferred deallocation (object.h)            */
    om__gcstate gc;               /* the collector (gc.h)                        */
    om__typestate types;          /* built-in types' singletons and caches       */
    om__tracestate *trace;        /* tracing, when on (trace.h)                  */
    int destroying;               /* om_heap_destroy is running                  */
    _Atomic(om__block *) delayed; /* blocks freed by other threads (delayed.c) */
    uint32_t live;                /* OM_HEAP_LIVE until om_heap_destroy       */
    _Atomic(uintptr_t) user;      /* the thread inside a slow path, 0: none   */
    unsigned user_depth;          /* its nesting (owner.c)                    */
    const char *user_where;       /* the outermost slow path it is in         */
};

#define OM_HEAP_LIVE 0x6f6d6c76u /* "omlv" */

/* One heap, one thread at a time (DESIGN.md "Heaps and threads"), checked
 * on the slow paths (owner.c): a collection, large blocks, and in debug
 * mode every allocation and free mark the heap as used by their thread; a
 * second thread arriving meanwhile is two threads in one heap at once, and
 * stops the program with a report (issue 12: it crashed later, or gave a
 * false "double free"). Nested entries by the same thread are counted. */
void om__enter(om_heap *h, const char *where);
void om__leave(om_heap *h);

/* 1 when a block of size bytes is a large block in h: in debug mode the
 * prefix and the tail guard count (a 500-byte object is large there). */
static inline int om__block_is_large(const om_heap *h, size_t size)
{
    if (h->hooks & OM_HOOK_DEBUG) return size > OM_SMALL_MAX - OM_DBG_PREFIX - OM_DBG_TAIL;
    return size > OM_SMALL_MAX;
}

/* The gc word of a new object of size bytes on h: its LARGE, DEBUG and
 * TRACED bits (object.h, invariant 3); 0 on a heap without hooks. */
static inline uint32_t om__gcw_birth(const om_heap *h, size_t size)
{
    if (om__likely(!h->hooks && size <= OM_SMALL_MAX)) return 0;
    return (om__block_is_large(h, size) ? OM_GCW_LARGE : 0) |
           ((h->hooks & OM_HOOK_DEBUG) ? OM_GCW_DEBUG : 0) |
           ((h->hooks & OM_HOOK_TRACE) ? OM_GCW_TRACED : 0);
}

/* ------------------------------------------------ allocation fast paths */

/* Free blocks are poisoned (ASan) and no-access (Valgrind) whole, the link
 * word included; this opens the link word just for the read. The link is
 * b->next (the second word: alloc.h, om__block), xor-ed with the heap's key
 * (alloc.h, om__pool). */
static inline om__block *om__link_get(const om_heap *h, om__block *b)
{
    om__unpoison(&b->next, sizeof b->next);
    om__vg_defined(&b->next, sizeof b->next);
    return (om__block *)((uintptr_t)b->next ^ h->alloc.key);
}

/* Make b a free block of bsize bytes linking to next. The first word is
 * not written (alloc.h, om__block: a freed object's count stays 0). */
static inline void om__link_put(const om_heap *h, om__block *b, om__block *next, size_t bsize)
{
    om__unpoison(&b->next, sizeof b->next);
    om__vg_undefined(&b->next, sizeof b->next);
    b->next = (om__block *)((uintptr_t)next ^ h->alloc.key);
    om__poison(b, bsize);
    om__vg_noaccess(b, bsize);
}

/* ------------------------------------------------ the raw block cache
 *
 * Per class, the raw blocks freed last: a LIFO of at most OM_TC_MAX blocks
 * linked through their first word (xor-ed with the key), h->alloc.tc.
 * om_malloc takes from it before any pool, om_free puts a validated block
 * on it unless it is full (a pool's worth of blocks, tc[c].max: then the
 * block goes to the front of its pool's list, as without a cache). So the
 * block just freed is the next one handed out of its class, unless it was
 * freed into a full cache (a run of a pool's worth of frees of the class
 * with no allocation between): a run of frees costs what it cost before,
 * not a cache push and a pool push per block (measured: bench/RESULTS.md,
 * "The raw block cache"). A cached block stays counted in its pool's nalloc, so the
 * usual random free and malloc of a program reads the freed block's pool
 * descriptor and writes nothing there (bench churn: 82 % of its frees found
 * their pool full and moved it onto its list, and the next malloc moved it
 * off; bench/RESULTS.md, "The raw block cache"). Like tcmalloc's and
 * glibc's per-thread caches, but exact: a cached block is a free block to
 * every test.
 *
 * Invariants:
 *  1. Every block on head[c] is a block start of a carved RAW pool of h
 *     of class c, is not on its pool's free list, and is counted in the
 *     pool's nalloc; head[c] lists om__tc_max(c) - room[c] distinct blocks
 *     (at most the blocks of one 16 KiB pool of the class: at most 44 *
 *     16 KiB of blocks, but they may lie one per pool and keep up to
 *     sum(max) pools in use).
 *  2. A cached block's bit in its pool's alloc bitmap is clear (alloc.h,
 *     pool invariant 7): to om_free it is free, as on its pool's list.
 *  3. Every cache is empty while a hook is on (tracing flushes them when
 *     it starts; a debug heap never fills them), and is flushed before
 *     anything counts a pool's blocks: statistics, leak reports, a trim,
 *     the heap's destruction (om__tc_flush_all).
 *  4. No pool is carved while a cache holds a block (pool.c pool_refill
 *     flushes them first): pools that only cached blocks keep in use serve
 *     again before the heap grows, so the caches never make it grow
 *     (test_tcache never_grows_the_heap). */
static inline om__block *om__tc_next(const om_heap *h, om__block *b)
{
    om__unpoison(&b->keep, sizeof b->keep);
    om__vg_defined(&b->keep, sizeof b->keep);
    return (om__block *)(b->keep ^ h->alloc.key);
}

/* Put the validated, freed raw block b on the cache of slot (1 + its
 * class: alloc.h, om__tcache), which has room (taken by the caller). */
static inline void om__tc_put(om_heap *h, size_t slot, om__block *b)
{
    om__unpoison(b, sizeof *b);
    om__vg_undefined(b, sizeof *b);
    b->keep = (uintptr_t)h->alloc.tc.head[slot] ^ h->alloc.key;
    h->alloc.tc.head[slot] = b;
    om__poison(b, om__class_size((unsigned)slot - 1));
    om__vg_noaccess(b, om__class_size((unsigned)slot - 1));
}

/* Take the head of the non-empty cache of slot (1 + class): a raw block
 * of bsize bytes, for the program (live: its bit set) or for objmem's own
 * use (live 0). */
static inline om__block *om__tc_take(om_heap *h, size_t slot, size_t bsize, int live)
{
    om__block *b = h->alloc.tc.head[slot];
    h->alloc.tc.head[slot] = om__tc_next(h, b);
    h->alloc.tc.room[slot]++;
    om__unpoison(b, bsize);
    om__vg_alloc(b, bsize, 0);    /* usable: the whole block */
    b->keep = 0;                  /* no key material handed out */
    if (live) om__raw_bit_set(b); /* alloc.h, pool invariant 7 */
    return b;
}

/* Give every cached block of every class back to its pool (pool.c). */
void om__tc_flush_all(om_heap *h);
/* 1 when some cache holds a block. */
int om__tc_holds_blocks(const om_heap *h);

/* Every pool on an avail list has a free block (alloc.h, pool invariant
 * 3), so a fast path pops the head without a test; when the pop takes the
 * pool's last free block, om__pool_exhausted takes the pool off its list
 * (out of line, a tail call) and returns b. */
void *om__pool_exhausted(om_heap *h, om__pool *pool, void *b) __attribute__((returns_nonnull));

/* Take b, the first free block of pool, whose link decoded to next. */
static inline void om__pool_advance(om__pool *pool, om__block *b, om__block *next)
{
    pool->free = next;
    om__unpoison(b, pool->bsize);
    pool->nalloc++;
}

/* Take the first free block of pool, which is on its list and so has one
 * (alloc.h, pool invariant 3). *last says it was the pool's last: the
 * caller then unlinks the pool (om__pool_exhausted) once it is done with
 * the block. Every pop of a free list is this one. */
static inline om__block *om__pool_take(const om_heap *h, om__pool *pool, int *last)
{
    om__block *b = pool->free;
    om__block *next = om__link_get(h, b);
    om__pool_advance(pool, b, next);
    *last = om__is_term(next);
    return b;
}

/* A leaf's pop (it may call nothing, so it cannot unlink a pool): the
 * first free block of the head pool of (kind, size's class) unless it is
 * the pool's last, else NULL (the caller's slow path then pops and
 * unlinks). *poolp: the pool. No hooks may be on. */
static inline void *om__pool_pop_leaf(om_heap *h, size_t size, unsigned kind, om__pool **poolp)
{
    om__pool *pool = h->alloc.avail[kind][om__size_class(size)];
    if (om__unlikely(pool == NULL)) return NULL;
    om__block *b = pool->free;
    om__block *next = om__link_get(h, b);
    if (om__unlikely(om__is_term(next))) return NULL;
    om__pool_advance(pool, b, next);
    *poolp = pool;
    return b;
}

/* Pop the head pool's free list of (kind, size's class), or NULL (no pool
 * with a free block: the slow path then decides). No hooks may be on. No
 * counter is kept here: bytes in use are derived from the pools' nalloc on
 * demand (stats.c). */
static inline void *om__pool_pop_fast(om_heap *h, size_t size, unsigned kind)
{
    om__pool *pool = h->alloc.avail[kind][om__size_class(size)];
    if (om__unlikely(pool == NULL)) return NULL;
    int last;
    om__block *b = om__pool_take(h, pool, &last);
    if (om__unlikely(last)) return om__pool_exhausted(h, pool, b);
    return b;
}

/* om_malloc's fast path, for callers that inline it (pool.c, the CPython
 * plug-in): a raw block of size bytes from the cache of its class, else
 * from the head pool of its class, or
 * NULL when the slow path must decide (size 0 or over OM_FINE_MAX: medium
 * and large sizes, a hook, no pool with a free block; with leaf set, also
 * the pool's last free block, so that the caller calls nothing and keeps
 * no stack frame). size - 1 < 512 is 1..512 (0 wraps), and (size - 1) >> 4
 * is then its class. No counter (docs/alloc.md). */
static inline __attribute__((always_inline)) void *om__malloc_inline(om_heap *h, size_t size,
                                                                     int leaf, int own)
{
    if (om__unlikely(size - 1 >= OM_FINE_MAX)) return NULL;
    size_t cls = (size - 1) >> 4;
    if (om__likely(h->alloc.tc.head[cls + 1] != NULL)) /* none while a hook is on (invariant 3) */
        return om__tc_take(h, cls + 1, (cls + 1) << 4, !own);
    if (om__unlikely(h->hooks)) return NULL;
    om__pool *pool = h->alloc.avail[OM_KIND_RAW][cls];
    if (om__unlikely(pool == NULL)) return NULL;
    om__block *b = pool->free;
    om__block *next = om__link_get(h, b);
    int last = om__is_term(next);
    if (leaf && om__unlikely(last)) return NULL;
    om__pool_advance(pool, b, next);
    b->next = NULL;                  /* its encoded link would hand out key material */
    if (!own) om__raw_bit_set(b);    /* live (alloc.h, pool invariant 7) */
    om__vg_alloc(b, pool->bsize, 0); /* usable: the whole block */
    if (om__unlikely(last)) return om__pool_exhausted(h, pool, b);
    return b;
}

static inline void *om__malloc_fast(om_heap *h, size_t size)
{
    return om__malloc_inline(h, size, 0, 0);
}

/* An own block (below) for a leaf: NULL also for a pool's last free block. */
static inline void *om__malloc_own_leaf(om_heap *h, size_t size)
{
    return om__malloc_inline(h, size, 1, 1);
}

/* 1 when object block b's link word decodes to an address in b's own
 * pool: b is free (alloc.h, pool invariant 4; a live object's type pointer
 * decodes with the key's top bit). Raw blocks use their live bits instead
 * (invariant 7). The word is opened for the read (free blocks are poisoned
 * whole) and left open. */
static inline int om__link_in_pool(const om_heap *h, om__block *b)
{
    om__unpoison(&b->next, sizeof b->next);
    om__vg_defined(&b->next, sizeof b->next);
    uintptr_t link = (uintptr_t)b->next ^ h->alloc.key;
    return ((link ^ (uintptr_t)b) >> OM_POOL_SHIFT) == 0;
}

/* The end of om_free's fast path: b, a live raw block of h (no hook on)
 * with no live bit (the caller cleared it, or b is an own block), of the
 * class whose cache slot is slot (1 + the class: the byte of b's pool in
 * the arena's head), goes into the cache of its class, or when that
 * is full onto its pool's free list (the only step that reads the pool's
 * descriptor); a pool that was full or becomes empty changes lists out of
 * line (om__pool_free_slow). */
static inline void om__free_block_fast(om_heap *h, size_t slot, om__block *b)
{
    om__vg_free(b);
    if (om__likely(--h->alloc.tc.room[slot] >= 0)) { /* the room is given back below */
        om__tc_put(h, slot, b);
        return;
    }
    h->alloc.tc.room[slot] = 0;
    om__pool *pool = om__pool_of(b);
    om__block *head = pool->free; /* a full cache: to the pool */
    if (om__unlikely(om__is_term(head) || pool->nalloc <= 1)) {
        om__pool_free_slow(h, pool, b); /* validated: only the lists change */
        return;
    }
    om__link_put(h, b, head, pool->bsize);
    pool->free = b;
    pool->nalloc--;
}

/* om_free's fast path, for callers that inline it: 1 when p was a live raw
 * block of h and is now on the raw block cache (above); 0 when the slow
 * path must decide (p is NULL, outside every arena, not a live block start
 * of a raw pool of h, freed already, or a hook is on). The tests, in
 * order: p is in an arena (one load of the ownership map); the arena is
 * h's and no hook is on, and p's pool is a carved raw pool (the arena's
 * head: alloc.h, om__arena_head); p is 16-aligned and its bit in the
 * pool's alloc bitmap is set (alloc.h, pool invariant 7: a live block
 * start). Neither the block nor its pool's descriptor is read. Then
 * om__free_block_fast (docs/alloc.md, "The fast paths"). */
static inline int om__free_fast(om_heap *h, void *p)
{
    uintptr_t u = (uintptr_t)p;
    if (om__unlikely(!om__amap_test(u))) return 0;
    const om__arena_head *head = om__arena_head_of(p);
    if (om__unlikely(head->raw_owner != h || (u & (OM_GRANULE - 1)) || !om__raw_bit_take(p)))
        return 0;
    om__free_block_fast(h, *om__raw_slot_of(p), p); /* 1 + class (not 0: a live bit) */
    return 1;
}

/* ------------------------------------------------ own blocks
 *
 * The raw blocks objmem's types allocate for themselves and hold (a list's
 * items, a dict's table) are own blocks. Invariants:
 *  1. On a heap without debug mode an own block of at most OM_SMALL_MAX
 *     bytes (as asked for) is a pool block with no live bit (alloc.h,
 *     pool invariant 7): the program never had it, so om_free refuses it,
 *     and its allocation and free skip the bit. On a debug heap, and when
 *     large, an own block is an ordinary raw block.
 *  2. Every own block is made, resized and freed by om__malloc_own(_leaf),
 *     om__realloc_own and om__free_own, with the size it was asked for
 *     (om_realloc moves a block across OM_SMALL_MAX, so the size says
 *     whether it is a pool's). Their slow paths lend the block its bit for
 *     the general raw API (tracing, which may have started since, sees
 *     every one) and take it back.
 *  3. om_heap_check counts them: the used raw blocks without a bit that
 *     are not cached (alloc check) are the lists' and dicts' own blocks
 *     (types check). */
static inline int om__own_small(const om_heap *h, size_t size)
{
    return size <= OM_SMALL_MAX && !(h->hooks & OM_HOOK_DEBUG);
}
/* An own block p of size bytes becomes an ordinary raw block (its bit set),
 * and back. */
static inline void om__own_lend(const om_heap *h, void *p, size_t size)
{
    if (om__own_small(h, size)) om__raw_bit_set(p);
}
static inline void om__own_take(const om_heap *h, void *p, size_t size)
{
    if (om__own_small(h, size)) om__raw_bit_clear(p);
}

void *om__malloc_own(om_heap *h, size_t size);
void *om__realloc_own(om_heap *h, void *p, size_t old, size_t size);

/* Free own block p of size bytes: on a heap without hooks, a small one
 * goes straight to the cache (invariant 1: no ownership-map load, no
 * bit); anything else through om_free with its bit lent. */
static inline void om__free_own(om_heap *h, void *p, size_t size)
{
    if (om__likely(size <= OM_SMALL_MAX && !h->hooks)) {
        OM_ASSERT(om__amap_test((uintptr_t)p) && !om__raw_bit_test(p));
        om__free_block_fast(h, *om__raw_slot_of(p), p);
        return;
    }
    om__own_lend(h, p, size);
    om_free(h, p);
}

/* om__block_alloc with its fast path inlined, for object creation. */
static inline void *om__obj_block_alloc(om_heap *h, size_t size, unsigned kind)
{
    if (om__likely(!h->hooks && size <= OM_SMALL_MAX)) {
        void *p = om__pool_pop_fast(h, size, kind);
        if (om__likely(p != NULL)) {
            om__pool *pool = om__pool_of(p);
            (void)pool;
            om__vg_undefined(p, size);
            return p;
        }
    }
    return om__block_alloc(h, size, kind);
}

/* 1 when the object block b of pool (a block start below pool->bump, of
 * an OBJ or GC pool of h) is free: its link word decodes to an address in
 * the pool (alloc.h, invariant 4 of om__pool; a live object holds its
 * type pointer there, whose decoding has the key's top bit). The word is
 * opened for the read and closed again when the block is free. */
static inline int om__obj_block_is_free(const om_heap *h, void *b)
{
    om__block *blk = b;
    if (!om__link_in_pool(h, blk)) return 0;
    om__poison(&blk->next, sizeof blk->next);
    om__vg_noaccess(&blk->next, sizeof blk->next);
    return 1;
}

/* A dying object's block g of pool left its generation when it was
 * untracked (checked in builds with assertions). */
static inline void om__obj_assert_untracked(const om__pool *pool, unsigned g)
{
    OM_ASSERT(pool->kind != OM_KIND_GC || (!om__bm_test(om__pool_gcb(pool)->young, g) &&
                                           !om__bm_test(om__pool_gcb(pool)->middle, g) &&
                                           !om__bm_test(om__pool_gcb(pool)->tracked, g)));
    (void)pool, (void)g;
}

/* A dying object o, block g of pool, leaves its pool's object bits: the
 * alloc bit in a debug-mode heap (the only heaps that keep them). */
static inline void om__obj_bit_release(const om_heap *h, om__pool *pool, unsigned g)
{
    om__obj_assert_untracked(pool, g);
    if (h->hooks & OM_HOOK_DEBUG) om__bm_clear(om__pool_abm(pool), g);
}

/* The end of om__obj_block_free_fast, for a caller that knows p live and
 * no hook concerned (om__decref_slow: a count of 1, a plain object): p
 * goes to the front of its pool's free list unless the pool was full or
 * becomes empty (0: om__block_free_obj decides). */
static inline int om__obj_block_push(om_heap *h, om__pool *pool, void *p)
{
    om__block *head = pool->free;
    if (om__unlikely(om__is_term(head) || pool->nalloc <= 1)) return 0;
    /* no debug hook (both callers know it), so no alloc bit to clear */
    OM_ASSERT(!(h->hooks & OM_HOOK_DEBUG));
    om__obj_assert_untracked(pool, om__granule(pool, p));
    om__link_put(h, (om__block *)p, head, pool->bsize);
    pool->free = (om__block *)p;
    pool->nalloc--;
    return 1;
}

/* The common case of freeing object block p of pool (small, no hooks):
 * p is live (else: freed twice, the slow path reports), and the pool
 * stays neither full nor empty. 1 when done; 0 when om__block_free_obj
 * must decide. p's type word becomes its link (the count stays 0). */
static inline int om__obj_block_free_fast(om_heap *h, om__pool *pool, void *p)
{
    /* a live object's link word is its type; freed already: the slow path closes the word */
    if (om__unlikely(om__link_in_pool(h, (om__block *)p) || h->hooks)) return 0;
    return om__obj_block_push(h, pool, p);
}

/* om_heap_of inlined, for the object and types layers' hot paths. */
static inline om_heap *om__heap_of(const om_object *o)
{
    if (om__unlikely(o->gc & OM_GCW_LARGE)) return om__large_hdr(o, om__obj_prefix(o))->heap;
    return om__pool_of(o)->heap;
}

/* Record a failure in h and return code (for `return om__err(...)`). */
int om__err(om_heap *h, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Same, for functions that return a pointer: records and returns NULL. */
void *om__err_null(om_heap *h, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
