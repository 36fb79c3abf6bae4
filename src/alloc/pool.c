/*
 * pool.c - blocks from pools: the fast paths of om_malloc and om_free, the
 * slow paths that carve and retire pools, and the rest of the raw API.
 *
 * The fast path pops the head pool's free list of the size class; the
 * fast free pushes onto the block's pool, found by masking the address
 * after the ownership map (om__amap) said it is in an arena and the pool
 * header said the pool is a raw pool of this heap and the pointer a block
 * start that is not free already. Both fast paths are leaf functions with
 * no counter and no stack frame; everything unusual (a pool to carve or
 * retire, debug mode, tracing, large blocks, foreign, interior or freed
 * pointers) goes to an out-of-line slow path. Design note: docs/alloc.md
 * ("Pools", "The fast paths").
 */
#include "internal/delayed.h"

/* ------------------------------------------------- free-list link access */

static inline void link_write(const om_heap *h, const om__pool *pool, om__block *b, om__block *next)
{
    om__link_put(h, b, next, pool->bsize);
}

/* -------------------------------------------------------- avail lists */

/* A pool with a free block goes to the front of its list: the block just
 * freed is the next one handed out of its class, while its cache lines and
 * its page are still warm (pymalloc's order; a pool queued at the end
 * served blocks freed long before, measured cold on the CPython plug-in:
 * bench/RESULTS.md, "instance_dicts"). */
static void avail_push(om_heap *h, om__pool *pool)
{
    om__pool **head = &h->alloc.avail[pool->kind][pool->cls];
    om__pool *first = *head;
    pool->next = first;
    if (first) first->prev = pool;
    *head = pool;
    pool->on_avail = 1;
}

/* The head's prev is not kept (alloc.h, pool invariant 3): a head leaves
 * without a write to the pool after it. */
static void avail_unlink(om_heap *h, om__pool *pool)
{
    om__pool **head = &h->alloc.avail[pool->kind][pool->cls];
    om__pool *next = pool->next;
    if (*head == pool)
        *head = next;
    else
        pool->prev->next = next;
    if (next) next->prev = pool->prev;
    pool->on_avail = 0;
}

/* -------------------------------------------------------- carve a pool */

static void pool_init(om_heap *h, om__pool *pool, unsigned kind, unsigned cls)
{
    memset(pool, 0, sizeof *pool);
    if (kind == OM_KIND_RAW || (h->hooks & OM_HOOK_DEBUG)) /* alloc.h, invariants 4 and 7 */
        memset(om__pool_abm(pool), 0, OM_BM_WORDS * sizeof(uint64_t));
    if (kind == OM_KIND_GC) memset(om__pool_gcb(pool), 0, sizeof(om__gcbits));
    pool->heap = h;
    pool->kind = (uint8_t)kind;
    pool->cls = (uint8_t)cls;
    pool->bsize = (uint32_t)om__class_size(cls);
    pool->divmagic = UINT64_MAX / pool->bsize + 1;
    pool->capacity = om__pool_capacity(kind, pool->bsize);
    pool->span = pool->capacity * pool->bsize;
    pool->free = om__pool_term(pool);
    pool->bump = om__pool_first(pool);
    *om__raw_slot_of(om__pool_start(pool)) = kind == OM_KIND_RAW ? (uint8_t)(cls + 1) : 0;
    size_t body = (size_t)(om__pool_end(pool) - pool->bump);
    if (h->hooks & OM_HOOK_DEBUG) memset(pool->bump, 0, body); /* no stale states */
    om__poison(pool->bump, body);
    om__vg_noaccess(pool->bump, body);
}

/* The blocks that start in the next page of never-used blocks become the
 * free list, in address order (alloc.h, pool invariant 2): a pool's pages
 * are touched as its blocks are handed out, not at once, so a class with a
 * few blocks keeps one page resident, not four. 0 when none is left (bump
 * == limit). Called when the free list is empty. */
static int carve_page(om_heap *h, om__pool *pool)
{
    size_t bs = pool->bsize;
    char *b = pool->bump, *limit = om__pool_limit(pool);
    if (b >= limit) return 0;
    char *end = (char *)(((uintptr_t)b | (OM_CARVE_PAGE - 1)) + 1);
    if (end > limit) end = limit;
    om__block *first = (om__block *)b;
    for (; b + bs < end; b += bs) link_write(h, pool, (om__block *)b, (om__block *)(b + bs));
    link_write(h, pool, (om__block *)b, om__pool_term(pool));
    pool->free = first;
    pool->bump = b + bs;
    return 1;
}

/* Park an emptied pool's free list in stash and take the pool off its
 * list (alloc.h, pool invariant 3): the slow path takes it back. */
static void keep(om_heap *h, om__pool *pool)
{
    avail_unlink(h, pool);
    pool->stash = pool->free;
    pool->free = om__pool_term(pool);
    pool->kept = 1;
    pool->kept_at = h->alloc.swept_at;
    om__pool_arena(pool)->nempty++;
    h->alloc.kept[pool->kind][pool->cls] = pool;
}

/* A kept pool is no longer kept: its free list is back (it is off its
 * list; the caller pushes it or retires it). */
static void unkeep(om_heap *h, om__pool *pool)
{
    pool->free = pool->stash;
    pool->stash = NULL;
    pool->kept = 0;
    om__pool_arena(pool)->nempty--;
    h->alloc.kept[pool->kind][pool->cls] = NULL;
}

/* A fast path took the last free block b of pool, the head of its list:
 * the next page of never-used blocks is carved, or, when none is left, the
 * pool leaves the list (alloc.h, pool invariant 3). Returns b. */
void *om__pool_exhausted(om_heap *h, om__pool *pool, void *b)
{
    if (carve_page(h, pool)) return b;
    h->alloc.avail[pool->kind][pool->cls] = pool->next; /* its prev: not kept */
    pool->on_avail = 0;
    return b;
}

/* Hand out the first free block of pool, on its list. */
static inline void *pool_pop(om_heap *h, om__pool *pool, unsigned kind)
{
    int last;
    om__block *b = om__pool_take(h, pool, &last);
    if (kind == OM_KIND_RAW) {
        b->next = NULL;     /* its encoded link would hand out key material */
        om__raw_bit_set(b); /* live (alloc.h, pool invariant 7) */
    }
    if (last && !carve_page(h, pool)) avail_unlink(h, pool);
    return b;
}

/* No pool of (kind, cls) has a free block: the kept empty pool is taken
 * back, or a fresh pool carved and its blocks made the free list. Returns
 * a block or NULL with OM_ENOMEM. */
static om__noinline void *pool_refill(om_heap *h, unsigned kind, unsigned cls)
{
    om__pool *pool = h->alloc.kept[kind][cls];
    if (!pool && om__tc_holds_blocks(h)) { /* before a carve (heap.h, cache invariant 4) */
        om__arena_flush_caches(h);
        pool = h->alloc.avail[kind][cls];
        if (pool) return pool_pop(h, pool, kind);
        pool = h->alloc.kept[kind][cls];
    }
    if (pool) {
        unkeep(h, pool); /* a kept empty pool: in use again */
    } else {
        pool = om__arena_take_pool(h);
        if (!pool) return NULL;
        pool_init(h, pool, kind, cls);
        carve_page(h, pool);
    }
    avail_push(h, pool);
    return pool_pop(h, pool, kind);
}

/* Blocks other threads freed come back first (delayed.h), once: frees
 * pushed meanwhile wait for the next slow path (no recursion, however long
 * other threads keep freeing). */
static om__noinline void *alloc_after_drain(om_heap *h, unsigned kind, unsigned cls)
{
    (void)om__delayed_drain(h);
    om__pool *pool = h->alloc.avail[kind][cls];
    if (!pool) return pool_refill(h, kind, cls);
    return pool_pop(h, pool, kind);
}

/* The slow path of a small allocation: no pool of the class has a free
 * block (or a hook is on). Returns a block of (kind, cls) or NULL with
 * OM_ENOMEM. */
void *om__pool_alloc_slow(om_heap *h, unsigned kind, unsigned cls)
{
    if (om__unlikely(om__delayed_pending(h))) return alloc_after_drain(h, kind, cls);
    om__pool *pool = h->alloc.avail[kind][cls];
    if (om__unlikely(!pool)) return pool_refill(h, kind, cls);
    return pool_pop(h, pool, kind);
}

/* Give an empty pool back to its arena. The arena may be unmapped inside
 * (the decay sweep of om__arena_give_pool, which may also retire other
 * kept pools): a caller reads nothing of the arena after this unless it
 * holds another pool of it in use, and re-reads any list it walks. */
static void retire(om_heap *h, om__pool *pool)
{
    if (pool->on_gen[0] | pool->on_gen[1]) h->alloc.up.pool_retire(h, pool);
    if (pool->on_avail) avail_unlink(h, pool);
    om__arena_give_pool(h, pool);
}

/* Arena ar is about to have only kept empty pools left in use: give them
 * back first, so they cannot pin the arena (alloc.h, arena invariant 5).
 * The caller still holds one pool of ar in use, so no retire here can
 * unmap ar; a retire's decay sweep may retire later kept pools of ar itself
 * (om__pool_release_idle), so each is tested when reached, not listed
 * beforehand. */
static void release_kept(om_heap *h, om__arena *ar)
{
    for (unsigned i = OM_POOL_FIRST; i < OM_POOLS_PER_ARENA - ar->untouched; i++) {
        om__pool *pool = om__pool_at(ar->base + i * OM_POOL_SIZE);
        if (om__arena_pool_is_free(ar, pool) || !pool->kept) continue;
        unkeep(h, pool);
        retire(h, pool);
    }
}

/* A pool's last block came back (it is on its list): the pool is kept
 * (its free list parked in stash) when it is the sole pool of its list, no
 * pool of its (kind, class) is kept yet and its arena has another pool in
 * use; otherwise it goes back to its arena. */
static om__noinline void pool_emptied(om_heap *h, om__pool *pool)
{
    om__arena *ar = om__pool_arena(pool);
    om__pool **head = &h->alloc.avail[pool->kind][pool->cls];
    uint32_t in_use = OM_ARENA_POOLS - ar->nfree - ar->nempty; /* pool included */
    if (*head == pool && pool->next == NULL && in_use > 1 &&
        !h->alloc.kept[pool->kind][pool->cls]) {
        keep(h, pool); /* the sole pool: no carve-retire loop at the boundary */
        return;
    }
    /* pool is the last pool of ar in use but for kept ones: those go back
     * first, while pool pins ar. The retire of pool may unmap ar (its decay
     * sweep): nothing reads ar after it. */
    if (in_use == 1 && ar->nempty) release_kept(h, ar);
    retire(h, pool);
}

/* The slow path of a small free of a validated live block b of pool: the
 * pool was full (off its list: it goes to the front) or becomes empty. */
void om__pool_free_slow(om_heap *h, om__pool *pool, om__block *b)
{
    if (pool->kind == OM_KIND_RAW) om__raw_bit_clear(b); /* alloc.h, pool invariant 7 */
    link_write(h, pool, b, pool->free);
    pool->free = b;
    if (!pool->on_avail) avail_push(h, pool);
    if (--pool->nalloc == 0) pool_emptied(h, pool);
}

/* ------------------------------------------------ the raw block cache */

/* Give every block of cache c back to its pool (heap.h, "The raw block
 * cache"). A pool may retire here: nothing of it is read afterwards. */
static void tc_flush(om_heap *h, unsigned cls)
{
    om__block *b = h->alloc.tc.head[cls + 1];
    h->alloc.tc.head[cls + 1] = NULL;
    h->alloc.tc.room[cls + 1] = om__tc_max(cls);
    while (b) {
        om__block *next = om__tc_next(h, b);
        b->keep = 0; /* the cache's link (opened by om__tc_next) is key material */
        om__pool *pool = om__pool_of(b);
        om__block *head = pool->free;
        if (om__unlikely(om__is_term(head) || pool->nalloc <= 1)) {
            om__pool_free_slow(h, pool, b); /* the pool changes lists */
        } else {
            om__link_put(h, b, head, pool->bsize);
            pool->free = b;
            pool->nalloc--;
        }
        b = next;
    }
}

int om__tc_holds_blocks(const om_heap *h)
{
    for (unsigned k = 0; k < OM_NUM_CLASSES; k++)
        if (h->alloc.tc.head[k + 1]) return 1;
    return 0;
}

void om__tc_flush_all(om_heap *h)
{
    for (unsigned k = 0; k < OM_NUM_CLASSES; k++)
        if (h->alloc.tc.head[k + 1]) tc_flush(h, k);
}

/* alloc.h, om__arena_head invariant 2 (a wholly free arena's line is
 * written when a pool is taken: a purged one stays untouched). */
static void set_raw_owner(om_heap *h, om__arena *ar, void *arg)
{
    (void)arg;
    if (ar->nfree < OM_ARENA_POOLS) om__arena_head_of(ar->base)->raw_owner = h->hooks ? NULL : h;
}

void om__alloc_set_hooks(om_heap *h, unsigned hooks)
{
    h->hooks = hooks;
    om__arena_foreach(h, set_raw_owner, NULL);
}

/* om_heap_trim: the kept empty pools go back to their arenas too, where
 * their pages are purged with the other free pools. */
void om__pool_release_kept(om_heap *h)
{
    for (unsigned k = 0; k < OM_NKINDS; k++)
        for (unsigned c = 0; c < OM_NUM_CLASSES; c++) {
            om__pool *pool = h->alloc.kept[k][c];
            if (!pool) continue;
            unkeep(h, pool);
            retire(h, pool);
        }
}

/* Decay (arena.c): the kept pools kept since at least age before now go
 * back to their arenas. */
void om__pool_release_idle(om_heap *h, uint64_t now, uint64_t age)
{
    for (unsigned k = 0; k < OM_NKINDS; k++)
        for (unsigned c = 0; c < OM_NUM_CLASSES; c++) {
            om__pool *pool = h->alloc.kept[k][c];
            if (!pool || now - pool->kept_at < age) continue;
            unkeep(h, pool);
            retire(h, pool);
        }
}

#ifdef OM_VALGRIND
/* Heap destroy: tell memcheck that the raw blocks still live in pool are
 * gone with their arena (they were described as malloc-like), so they are
 * not reported as lost: the leak report is objmem's job. */
void om__pool_vg_forget(om_heap *h, om__pool *pool)
{
    if (pool->kind != OM_KIND_RAW || (h->hooks & OM_HOOK_DEBUG)) return;
    uint64_t freebm[OM_BM_WORDS] = {0};
    om__block *b = pool->kept ? pool->stash : pool->free;
    for (; b != om__pool_term(pool); b = om__link_get(h, b))
        om__bm_set(freebm, om__granule(pool, b));
    for (char *q = om__pool_first(pool); q < pool->bump; q += pool->bsize)
        if (!om__bm_test(freebm, om__granule(pool, q))) om__vg_free(q);
}
#endif

/* ----------------------------------------------- blocks of any kind */

/* A block of size bytes of the given kind, without the hooks. */
static void *block_alloc_plain(om_heap *h, size_t size, unsigned kind)
{
    if (size <= OM_SMALL_MAX) return om__pool_alloc_slow(h, kind, om__size_class(size));
    return om__large_alloc(h, size, kind, 0);
}

/* Free payload p of h (small or large) without the hooks. */
static void block_free_plain(om_heap *h, void *p, int large)
{
    if (large) {
        om__large_free(h, om__large_hdr(p, 0));
        return;
    }
    om__pool_free_slow(h, om__pool_of(p), (om__block *)p);
}

static void *block_alloc_hooked(om_heap *h, size_t size, unsigned kind)
{
    void *p = (h->hooks & OM_HOOK_DEBUG) ? om__dbg_alloc(h, size, kind)
                                         : block_alloc_plain(h, size, kind);
    if (p && !(h->hooks & OM_HOOK_DEBUG) && kind == OM_KIND_RAW && size <= OM_SMALL_MAX)
        om__vg_alloc(p, om__pool_of(p)->bsize, 0);
    if (p && (h->hooks & OM_HOOK_TRACE)) h->alloc.up.on_alloc(h, p, size);
    return p;
}

#define pool_pop_fast om__pool_pop_fast

void *om__block_alloc(om_heap *h, size_t size, unsigned kind)
{
    void *p = NULL;
    if (om__likely(!h->hooks && size <= OM_SMALL_MAX)) p = pool_pop_fast(h, size, kind);
    if (p == NULL)
        p = h->hooks ? block_alloc_hooked(h, size, kind) : block_alloc_plain(h, size, kind);
    if (p && !om__block_is_large(h, size)) {
        om__pool *pool = om__pool_of(p);
        if (!(h->hooks & OM_HOOK_DEBUG))
            om__vg_undefined(p, size); /* debug.c opens its own */
        else
            om__bm_set(om__pool_abm(pool), om__granule(pool, p)); /* alloc.h, invariant 4 */
    }
    return p;
}

/* An object block freed that is free already (its alloc bit clear in
 * debug mode, its link decoding into its pool otherwise): freed twice. */
static om__cold void obj_free_twice(om_heap *h, void *p)
{
    h->alloc.bad_frees++;
    if (h->hooks & OM_HOOK_DEBUG)
        om__dbg_report(h, "an object freed twice (its block is free already)", p, "object free");
    om__err(h, OM_ESTATE, "object %p freed twice; the block was left alone", p);
    fprintf(h->report, "objmem: object %p freed twice; the block was left alone\n", p);
}

void om__block_free_obj(om_heap *h, void *p, int large)
{
    if (!large) {
        om__pool *pool = om__pool_of(p);
        if (om__likely(om__obj_block_free_fast(h, pool, p))) return;
        unsigned g = om__granule(pool, p);
        if (om__unlikely((h->hooks & OM_HOOK_DEBUG) ? !om__bm_test(om__pool_abm(pool), g)
                                                    : om__obj_block_is_free(h, p)))
            return obj_free_twice(h, p);
        om__obj_bit_release(h, pool, g);
    }
    if (h->hooks & OM_HOOK_TRACE) h->alloc.up.on_free(h, p);
    if (h->hooks & OM_HOOK_DEBUG)
        om__dbg_free(h, p, OM_KIND_OBJ, "object free");
    else
        block_free_plain(h, p, large);
}

/* ------------------------------------------------------------ raw API */

/* om_malloc's slow paths: a small size whose head pool is missing or
 * full, and everything else (size 0, large sizes, hooks). */
static om__noinline void *malloc_small_slow(om_heap *h, size_t size)
{
    unsigned cls = om__size_class(size);
    if (!h->alloc.tc.head[cls + 1] && om__unlikely(om__delayed_pending(h)))
        (void)om__delayed_drain(h); /* other threads' frees: into the cache, first */
    if (h->alloc.tc.head[cls + 1])  /* (or a medium class) */
        return om__tc_take(h, (size_t)cls + 1, om__class_size(cls), 1);
    void *p = om__pool_alloc_slow(h, OM_KIND_RAW, cls);
    if (p) om__vg_alloc(p, om__pool_of(p)->bsize, 0);
    return p;
}

static om__noinline void *malloc_slow(om_heap *h, size_t size)
{
    if (h->hooks) return block_alloc_hooked(h, size, OM_KIND_RAW);
    if (size <= OM_SMALL_MAX) return malloc_small_slow(h, size);
    return om__large_alloc(h, size, OM_KIND_RAW, 0);
}

/* The fast path (om__malloc_fast, heap.h): a leaf with no frame and no
 * counter; everything else tail-calls a slow path. */
void *om_malloc(om_heap *h, size_t size)
{
    void *p = om__malloc_fast(h, size);
    if (om__likely(p != NULL)) return p;
    if (size - 1 < OM_SMALL_MAX && !h->hooks) return malloc_small_slow(h, size);
    return malloc_slow(h, size);
}

void *om_calloc(om_heap *h, size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total))
        return om__err_null(h, OM_EINVAL, "om_calloc: %zu * %zu overflows", n, size);
    void *p = om_malloc(h, total);
    if (p) memset(p, 0, total);
    return p;
}

/* A free of something that is not a live raw block of h. */
static om__cold void free_bad(om_heap *h, void *p, const char *why)
{
    h->alloc.bad_frees++;
    if (h->hooks & OM_HOOK_DEBUG) om__dbg_report(h, why, p, "om_free");
    om__err(h, OM_EFOREIGN, "om_free(%p): %s; the pointer was left alone", p, why);
    fprintf(h->report, "objmem: om_free(%p): %s; the pointer was left alone\n", p, why);
}

/* The carved pool of h that p lies in, or NULL: the ownership map first,
 * then the header's first line, which every pool of a mapped arena keeps
 * readable (alloc.h, pool invariant 5). */
static inline om__pool *pool_of_heap(const om_heap *h, const void *p)
{
    if (!om__amap_test((uintptr_t)p)) return NULL;
    om__pool *pool = om__pool_of(p);
    return pool->heap == h ? pool : NULL;
}

/* 1 when p is a block start of pool (after the debug prefix on a debug
 * heap): below span from the first block and a multiple of the block size,
 * by one multiplication (alloc.h, pool invariant 6). */
static inline int is_block_start(const om_heap *h, const om__pool *pool, const void *p)
{
    uint64_t off = (uint64_t)((uintptr_t)p - (uintptr_t)om__pool_first(pool));
    if (h->hooks & OM_HOOK_DEBUG) off -= OM_DBG_PREFIX;
    return off < pool->span && off * pool->divmagic <= pool->divmagic - 1;
}

/* 1 when block start b of raw pool pool is free: its bit in the pool's
 * alloc bitmap is clear (alloc.h, pool invariant 7). */
static int is_free_block(const om__pool *pool, const void *b)
{
    OM_ASSERT(pool->kind == OM_KIND_RAW);
    return (const char *)b >= pool->bump || !om__raw_bit_test(b);
}

static om__noinline void free_slow(om_heap *h, void *p)
{
    if (p == NULL) return;
    om__pool *pool = pool_of_heap(h, p);
    if (h->hooks & OM_HOOK_DEBUG) {
        if (!pool && !om__large_find(h, (char *)p - OM_DBG_PREFIX))
            return free_bad(h, p, "not a block of this heap");
        if (h->hooks & OM_HOOK_TRACE) h->alloc.up.on_free(h, p);
        om__dbg_free(h, p, OM_KIND_RAW, "om_free");
        return;
    }
    if (pool) {
        if (pool->kind != OM_KIND_RAW)
            return free_bad(h, p, "an object's block: drop objects with om_decref");
        if (!is_block_start(h, pool, p))
            return free_bad(h, p,
                            "not the start of a block (an interior pointer or a pool header)");
        if (is_free_block(pool, p))
            return free_bad(h, p, "double free (the block is free already)");
        if (h->hooks & OM_HOOK_TRACE) h->alloc.up.on_free(h, p);
        om__vg_free(p);
        om__pool_free_slow(h, pool, (om__block *)p);
        return;
    }
    if (om__amap_test((uintptr_t)p))
        return free_bad(
            h, p, om__pool_of(p)->heap ? "a block of another heap" : "a pointer into a free pool");
    om__large *lb = om__large_find(h, p);
    if (!lb) return free_bad(h, p, "not a block of this heap");
    if (lb->kind != OM_KIND_RAW)
        return free_bad(h, p, "an object's block: drop objects with om_decref");
    if (h->hooks & OM_HOOK_TRACE) h->alloc.up.on_free(h, p);
    om__large_free(h, lb);
}

/* The fast path (om__free_fast, heap.h): a leaf with no frame and no
 * counter. Anything else, NULL included, is free_slow's. */
void om_free(om_heap *h, void *p)
{
    if (om__likely(om__free_fast(h, p))) return;
    free_slow(h, p);
}

int om_free_if_owned(om_heap *h, void *p)
{
    if (om__likely(om__free_fast(h, p))) return 1;
    return om__free_if_owned_slow(h, p);
}

int om__free_if_owned_slow(om_heap *h, void *p)
{
    if (p == NULL) return 1;
    if (!om__amap_test((uintptr_t)p)) { /* a large block of h, or not objmem's */
        size_t prefix = (h->hooks & OM_HOOK_DEBUG) ? OM_DBG_PREFIX : 0;
        if (!om__large_find(h, (const char *)p - prefix)) return 0;
        free_slow(h, p);
        return 1;
    }
    free_slow(h, p); /* in an arena: objmem's, so no other allocator's */
    return 1;
}

size_t om_usable_size(om_heap *h, const void *p)
{
    if (p == NULL) return 0;
    if (h->hooks & OM_HOOK_DEBUG) return om_owns(h, p) ? om__dbg_size(p) : 0;
    om__pool *pool = pool_of_heap(h, p);
    if (pool) return is_block_start(h, pool, p) ? pool->bsize : 0;
    if (om__amap_test((uintptr_t)p)) return 0;
    om__large *lb = om__large_find(h, p);
    return lb ? lb->size : 0;
}

int om_owns(const om_heap *h, const void *p)
{
    om__pool *pool = pool_of_heap(h, p);
    if (pool) return is_block_start(h, pool, p);
    if (om__amap_test((uintptr_t)p)) return 0;
    size_t prefix = (h->hooks & OM_HOOK_DEBUG) ? OM_DBG_PREFIX : 0;
    return om__large_find(h, (const char *)p - prefix) != NULL;
}

/* Resize within the small classes or across to large blocks: allocate,
 * copy, free. In place when the class does not change. */
void *om_realloc(om_heap *h, void *p, size_t size)
{
    if (p == NULL) return om_malloc(h, size);
    if (!om_owns(h, p))
        return om__err_null(h, OM_EFOREIGN, "om_realloc(%p): not a block of this heap", p);
    if (h->hooks & OM_HOOK_DEBUG) return om__dbg_realloc(h, p, size);
    size_t old = om_usable_size(h, p);
    int small = om__amap_test((uintptr_t)p);
    if (small && om__pool_of(p)->kind != OM_KIND_RAW)
        return om__err_null(h, OM_EINVAL, "om_realloc(%p): an object's block", p);
    if (small && is_free_block(om__pool_of(p), p))
        return om__err_null(h, OM_EFOREIGN, "om_realloc(%p): the block is free", p);
    if (small && size <= OM_SMALL_MAX && om__size_class(size) == om__pool_of(p)->cls) {
        if (h->hooks & OM_HOOK_TRACE) {
            h->alloc.up.on_free(h, p);
            h->alloc.up.on_alloc(h, p, size);
        }
        return p;
    }
    if (!small && size > OM_SMALL_MAX) {
        void *q = om__large_realloc(h, p, size);
        return q;
    }
    void *q = om_malloc(h, size);
    if (!q) return NULL;
    memcpy(q, p, old < size ? old : size);
    om_free(h, p);
    return q;
}

/* Own blocks (heap.h): the raw API with the block's bit lent, then taken. */
void *om__malloc_own(om_heap *h, size_t size)
{
    void *p = om_malloc(h, size);
    if (p) om__own_take(h, p, size);
    return p;
}

void *om__realloc_own(om_heap *h, void *p, size_t old, size_t size)
{
    om__own_lend(h, p, old);
    void *q = om_realloc(h, p, size);
    if (q)
        om__own_take(h, q, size);
    else
        om__own_take(h, p, old); /* p is unchanged */
    return q;
}

int om_block_info_get(om_heap *h, const void *p, om_block_info *info)
{
    memset(info, 0, sizeof *info);
    if (!om_owns(h, p)) return om__err(h, OM_EFOREIGN, "%p is not a block of this heap", p);
    if (!om__amap_test((uintptr_t)p)) {
        info->large = 1;
        return 0;
    }
    om__pool *pool = om__pool_of(p);
    om__arena *ar = om__pool_arena(pool);
    size_t off = (size_t)((const char *)p - om__pool_first(pool));
    if (h->hooks & OM_HOOK_DEBUG) off -= OM_DBG_PREFIX;
    info->size_class = pool->cls;
    info->block_size = pool->bsize;
    info->pool = om__pool_start(pool);
    info->arena = ar->base;
    info->pool_index = om__pool_index(pool);
    info->block_index = (unsigned)(off / pool->bsize);
    return 0;
}
