/*
 * check.c - the allocator's invariant checker, called by om_heap_check:
 * every arena, pool, free list, bitmap and large block is verified against
 * the Invariants lists of src/internal/alloc.h. O(heap); for tests and
 * debugging. Design note: docs/alloc.md ("Invariants").
 */
#include <stdlib.h>

#include "internal/heap.h"

typedef struct check_ctx {
    FILE *out;
    int bad;
    size_t on_avail[OM_NKINDS][OM_NUM_CLASSES]; /* pools saying on_avail, by list */
    size_t raw_unmarked; /* used raw blocks without their bit: the cached ones */
    size_t raw_cached;   /* blocks on the raw block caches                     */
} check_ctx;

#define FAIL(c, ...)                                                                               \
    do {                                                                                           \
        fprintf((c)->out, "objmem: om_heap_check: " __VA_ARGS__);                                  \
        fputc('\n', (c)->out);                                                                     \
        (c)->bad++;                                                                                \
        return;                                                                                    \
    } while (0)

static int in_block_area(const om__pool *pool, const void *b)
{
    size_t off = (size_t)((const char *)b - om__pool_start(pool));
    size_t hdr = om__pool_hdr_size(pool->kind);
    return off >= hdr && (off - hdr) % pool->bsize == 0 &&
           (off - hdr) / pool->bsize < pool->capacity;
}

static unsigned popcount_bm(const uint64_t *bm)
{
    unsigned n = 0;
    for (unsigned i = 0; i < OM_BM_WORDS; i++) n += (unsigned)__builtin_popcountll(bm[i]);
    return n;
}

/* Free list of pool: in bounds, no cycle; marks free blocks in freebm. */
static void check_free_list(om_heap *h, om__pool *pool, uint64_t *freebm, check_ctx *c,
                            size_t *nfree)
{
    size_t n = 0;
    if (om__pool_has_free(pool) && pool->stash)
        FAIL(c, "pool %p: both a free list and a stash", (void *)pool);
    if ((pool->stash && !pool->kept) || (pool->kept && pool->nalloc))
        FAIL(c, "pool %p: kept %u, stash %p, %u blocks in use", (void *)pool, pool->kept,
             (void *)pool->stash, pool->nalloc);
    if (pool->kept && h->alloc.kept[pool->kind][pool->cls] != pool)
        FAIL(c, "pool %p: kept but not the kept pool of its list", (void *)pool);
    for (om__block *b = pool->stash ? pool->stash : pool->free; b != om__pool_term(pool); n++) {
        if (n > pool->capacity || !in_block_area(pool, b))
            FAIL(c, "pool %p: free list broken at %p", (void *)pool, (void *)b);
        unsigned g = om__granule(pool, b);
        if (om__bm_test(freebm, g)) FAIL(c, "pool %p: free list has a cycle", (void *)pool);
        om__bm_set(freebm, g);
        om__block *next = om__link_get(h, b);
        om__poison(&b->next, sizeof b->next);
        om__vg_noaccess(&b->next, sizeof b->next);
        b = next;
    }
    *nfree = n;
}

/* The pool's byte in its arena's head (alloc.h, om__arena_head). */
static unsigned fast_cls(const om__pool *pool)
{
    return *om__raw_slot_of(om__pool_start(pool));
}

static void check_pool(om_heap *h, om__arena *ar, om__pool *pool, check_ctx *c)
{
    if (pool->heap != h || om__pool_arena(pool) != ar)
        FAIL(c, "pool %p: wrong heap or arena", (void *)pool);
    if (fast_cls(pool) != (pool->kind == OM_KIND_RAW ? pool->cls + 1u : 0))
        FAIL(c, "pool %p: the arena's head says class %d, not %u", (void *)pool,
             (int)fast_cls(pool) - 1, pool->cls);
    if (pool->kind >= OM_NKINDS || pool->cls >= OM_NUM_CLASSES)
        FAIL(c, "pool %p: bad kind %u or class %u", (void *)pool, pool->kind, pool->cls);
    if (pool->bsize != om__class_size(pool->cls) ||
        pool->capacity != om__pool_capacity(pool->kind, pool->bsize) ||
        pool->nalloc > pool->capacity || pool->span != pool->capacity * pool->bsize ||
        pool->divmagic != UINT64_MAX / pool->bsize + 1)
        FAIL(c, "pool %p: size, capacity or count wrong", (void *)pool);
    uint64_t freebm[OM_BM_WORDS] = {0};
    size_t nfree = 0;
    check_free_list(h, pool, freebm, c, &nfree);
    size_t nbump = (size_t)(om__pool_limit(pool) - pool->bump) / pool->bsize;
    if (pool->nalloc + nfree + nbump != pool->capacity)
        FAIL(c, "pool %p: %u used + %zu free + %zu never used != %u", (void *)pool, pool->nalloc,
             nfree, nbump, pool->capacity);
    if (pool->on_avail != om__pool_has_free(pool) || (nbump && !pool->kept && !pool->on_avail))
        FAIL(c, "pool %p: on its list %u, a free list %d, %zu never-used blocks", (void *)pool,
             pool->on_avail, om__pool_has_free(pool), nbump);
    if (pool->kind != OM_KIND_RAW && !(h->hooks & OM_HOOK_DEBUG))
        for (char *b = om__pool_first(pool); b < pool->bump; b += pool->bsize)
            if (om__obj_block_is_free(h, b) != om__bm_test(freebm, om__granule(pool, b)))
                FAIL(c, "pool %p: block %p reads as %s but is %son the free list", (void *)pool,
                     (void *)b, om__obj_block_is_free(h, b) ? "free" : "live",
                     om__bm_test(freebm, om__granule(pool, b)) ? "" : "not ");
    if (pool->kind != OM_KIND_RAW && !(h->hooks & OM_HOOK_DEBUG) && popcount_bm(om__pool_abm(pool)))
        FAIL(c,
             "pool %p: an object pool with alloc bits on a heap without debug mode (om_free "
             "would take them for raw blocks: alloc.h, om__arena_head)",
             (void *)pool);
    if (pool->kind != OM_KIND_RAW && (h->hooks & OM_HOOK_DEBUG)) {
        if (popcount_bm(om__pool_abm(pool)) != pool->nalloc)
            FAIL(c, "pool %p: %u objects marked, %u blocks used", (void *)pool,
                 popcount_bm(om__pool_abm(pool)), pool->nalloc);
        size_t shift = (h->hooks & OM_HOOK_DEBUG) ? OM_DBG_PREFIX : 0;
        for (unsigned w = 0; w < OM_BM_WORDS; w++)
            for (uint64_t m = om__pool_abm(pool)[w]; m; m &= m - 1) {
                char *o = om__pool_start(pool) + ((w * 64 + (unsigned)__builtin_ctzll(m)) << 4);
                if (!in_block_area(pool, o - shift) ||
                    om__bm_test(freebm, om__granule(pool, o - shift)))
                    FAIL(c, "pool %p: live bit at %p is not a used block", (void *)pool, o);
            }
    }
    if (pool->kind == OM_KIND_RAW) { /* the live bits (alloc.h, pool invariant 7) */
        unsigned nbits = popcount_bm(om__pool_abm(pool));
        for (unsigned w = 0; w < OM_BM_WORDS; w++)
            for (uint64_t m = om__pool_abm(pool)[w]; m; m &= m - 1) {
                char *o = om__pool_start(pool) + ((w * 64 + (unsigned)__builtin_ctzll(m)) << 4);
                if (!in_block_area(pool, o) || o >= pool->bump ||
                    om__bm_test(freebm, om__granule(pool, o)))
                    FAIL(c, "pool %p: live bit at %p is not a used block", (void *)pool, o);
            }
        if (nbits > pool->nalloc)
            FAIL(c, "pool %p: %u raw blocks marked live, %u used", (void *)pool, nbits,
                 pool->nalloc);
        else
            c->raw_unmarked += pool->nalloc - nbits;
    }
    if (pool->kind == OM_KIND_GC)
        for (unsigned w = 0; w < OM_BM_WORDS; w++) {
            const om__gcbits *gb = om__pool_gcb(pool);
            uint64_t live = (h->hooks & OM_HOOK_DEBUG) ? om__pool_abm(pool)[w] : gb->tracked[w];
            for (uint64_t m = (h->hooks & OM_HOOK_DEBUG) ? 0 : gb->tracked[w]; m; m &= m - 1) {
                char *o = om__pool_start(pool) + ((w * 64 + (unsigned)__builtin_ctzll(m)) << 4);
                if (!in_block_area(pool, o) || o >= pool->bump ||
                    om__bm_test(freebm, om__granule(pool, o)))
                    live &= ~((uint64_t)1 << __builtin_ctzll(m)); /* tracked, not an object */
            }
            if ((gb->young[w] | gb->middle[w]) & ~gb->tracked[w] || gb->tracked[w] & ~live ||
                (gb->young[w] & gb->middle[w]))
                FAIL(c, "pool %p: generation bits outside objects or overlapping", (void *)pool);
        }
    if (h->hooks & OM_HOOK_DEBUG)
        for (char *b = om__pool_first(pool); b < pool->bump; b += pool->bsize) {
            int is_free = om__bm_test(freebm, om__granule(pool, b));
            om__unpoison(b, pool->bsize);
            om__vg_defined(b, pool->bsize);
            om__dbg_check_block(h, b + OM_DBG_PREFIX, !is_free, c->out);
            if (is_free) {
                om__poison(b, pool->bsize);
                om__vg_noaccess(b, pool->bsize);
            }
        }
}

static void check_arena(om_heap *h, om__arena *ar, void *arg)
{
    check_ctx *c = arg;
    if ((uintptr_t)ar->base & (OM_ARENA_SIZE - 1)) FAIL(c, "arena %p: misaligned", ar->base);
    if (om__arena_find(&h->alloc, (uintptr_t)ar->base) != ar)
        FAIL(c, "arena %p: not in the arena table", ar->base);
    if (!om__amap_test((uintptr_t)ar->base))
        FAIL(c, "arena %p: not in the ownership map", ar->base);
    const om__pool *meta = (const om__pool *)(void *)ar->base; /* descriptor 0: no pool */
    const om__arena_head *head = om__arena_head_of(ar->base);
    if (meta->heap || fast_cls(meta) || popcount_bm(om__pool_abm(meta)))
        FAIL(c, "arena %p: descriptor 0 (the metadata) names a heap or a class, or has bits",
             ar->base);
    for (unsigned i = 0; i < sizeof head->zero / sizeof head->zero[0]; i++)
        if (head->zero[i]) FAIL(c, "arena %p: the head's zero words are not zero", ar->base);
    if (ar->nfree < OM_ARENA_POOLS &&
        (head->raw_owner != (h->hooks ? NULL : h) || head->arena != ar))
        FAIL(c, "arena %p: the head names arena %p and owner %p", ar->base, (void *)head->arena,
             (void *)head->raw_owner);
    unsigned nlisted = (unsigned)__builtin_popcountll(ar->free_bm);
    uint64_t top = ar->untouched ? ~0ull << (OM_POOLS_PER_ARENA - ar->untouched) : 0;
    if ((ar->free_bm & (top | 1)) || (ar->dirty_bm & ~ar->free_bm))
        FAIL(c,
             "arena %p: free_bm overlaps the metadata or the untouched pools, or dirty_bm is "
             "not in it",
             ar->base);
    if (ar->nfree != nlisted + ar->untouched || ar->nfree > OM_ARENA_POOLS)
        FAIL(c, "arena %p: nfree %u != %u listed + %u untouched", ar->base, ar->nfree, nlisted,
             ar->untouched);
    int found = 0;
    om__arena *list = ar->nfree == OM_ARENA_POOLS ? h->alloc.cache
                      : ar->nfree                 ? h->alloc.buckets[ar->nfree]
                                                  : NULL;
    for (om__arena *x = list; x; x = x->next) found |= x == ar;
    if (ar->nfree && !found) FAIL(c, "arena %p: not on the list of its free count", ar->base);
    unsigned kept = 0, used = 0;
    for (unsigned i = OM_POOL_FIRST; i < OM_POOLS_PER_ARENA - ar->untouched; i++) {
        om__pool *pool = om__pool_at(ar->base + i * OM_POOL_SIZE);
        if (om__arena_pool_is_free(ar, pool)) {
            if (pool->heap || fast_cls(pool) || popcount_bm(om__pool_abm(pool)))
                FAIL(c, "free pool %p still names a heap or a class, or has alloc bits",
                     (void *)pool);
            continue;
        }
        used++;
        kept += pool->kept;
        if (pool->on_avail && pool->kind < OM_NKINDS && pool->cls < OM_NUM_CLASSES)
            c->on_avail[pool->kind][pool->cls]++;
        check_pool(h, ar, pool, c);
    }
    if (kept != ar->nempty || (kept && kept == used))
        FAIL(c, "arena %p: %u kept empty pools, nempty %u, %u pools in use", ar->base, kept,
             ar->nempty, used);
}

/* The avail list of (k, cl) holds exactly the pools saying on_avail (the
 * walk is bounded by their number, so a cycle cannot hang it), and the
 * kept slot names a kept pool of that class, off the list. */
static void check_list(om_heap *h, check_ctx *c, unsigned k, unsigned cl)
{
    om__pool *prev = NULL;
    size_t n = 0, want = c->on_avail[k][cl];
    for (om__pool *p = h->alloc.avail[k][cl]; p; prev = p, p = p->next, n++)
        if (n >= want || !p->on_avail || p->kind != k || p->cls != cl || (prev && p->prev != prev))
            FAIL(c, "avail list (%u, %u) broken at pool %p (%zu pools on it, %zu expected)", k, cl,
                 (void *)p, n, want);
    if (n != want)
        FAIL(c, "avail list (%u, %u): %zu pools on it, %zu say they are", k, cl, n, want);
    om__pool *kp = h->alloc.kept[k][cl];
    if (kp && (!kp->kept || kp->kind != k || kp->cls != cl || kp->on_avail))
        FAIL(c, "kept slot (%u, %u): pool %p is not a kept pool of it", k, cl, (void *)kp);
}

static void check_lists(om_heap *h, check_ctx *c)
{
    for (unsigned k = 0; k < OM_NKINDS; k++)
        for (unsigned cl = 0; cl < OM_NUM_CLASSES; cl++) check_list(h, c, k, cl);
    size_t npurged = 0;
    for (om__arena *ar = h->alloc.cache; ar; ar = ar->next) {
        npurged += ar->purged;
        if (ar->nfree != OM_ARENA_POOLS ||
            (ar->purged && (ar->free_bm || ar->dirty_bm || ar->untouched != OM_ARENA_POOLS)))
            FAIL(c, "cached arena %p: not wholly free, or purged with pools listed", ar->base);
    }
    if (npurged != h->alloc.npurged || npurged > h->alloc.cache_max)
        FAIL(c, "%zu cached arenas purged, %zu counted, at most %zu", npurged, h->alloc.npurged,
             h->alloc.cache_max);
    size_t n = 0;
    for (unsigned k = 0; k < OM_NKINDS; k++)
        for (om__large *lb = h->alloc.large[k]; lb; lb = lb->next, n++) {
            if (lb->magic != OM_LARGE_MAGIC || lb->heap != h || lb->kind != k ||
                om__large_find(h, lb + 1) != lb || (lb->next && lb->next->prev != lb))
                FAIL(c, "large block %p: header broken", (void *)(lb + 1));
            if (h->hooks & OM_HOOK_DEBUG)
                om__dbg_check_block(h, (char *)(lb + 1) + OM_DBG_PREFIX, 1, c->out);
        }
    if (n != h->alloc.nlarge) FAIL(c, "%zu large blocks listed, %zu counted", n, h->alloc.nlarge);
}

static int ptr_cmp(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
    return (x > y) - (x < y);
}

/* 1 when b is on the free list of pool (bounded by its capacity). */
static int on_free_list(om_heap *h, const om__pool *pool, const om__block *b)
{
    om__block *q = pool->free;
    for (uint32_t n = 0; q != om__pool_term(pool) && n <= pool->capacity; n++) {
        if (q == b) return 1;
        om__block *next = om__link_get(h, q);
        om__poison(&q->next, sizeof q->next);
        om__vg_noaccess(&q->next, sizeof q->next);
        q = next;
    }
    return 0;
}

/* The raw block cache of class k (heap.h, its invariants 1-3). */
static void check_tcache(om_heap *h, check_ctx *c, unsigned k)
{
    om__block *head = h->alloc.tc.head[k + 1];
    int32_t max = om__tc_max(k), room = h->alloc.tc.room[k + 1];
    uint32_t counted = (uint32_t)(max - room);
    om__block *seen[OM_POOL_SIZE / OM_GRANULE];
    uint32_t n = 0;
    if (room < 0 || room > max || (h->hooks && head))
        FAIL(c,
             "raw block cache %u: room for %d blocks (at most %d; none cached while a hook is on)",
             k, room, max);
    for (om__block *b = head; b; n++) {
        if (n >= counted) FAIL(c, "raw block cache %u: more than its %u blocks", k, counted);
        om__pool *pool = om__amap_test((uintptr_t)b) ? om__pool_of(b) : NULL;
        if (!pool || pool->heap != h || pool->kind != OM_KIND_RAW || pool->cls != k ||
            !in_block_area(pool, b) || (char *)b >= pool->bump)
            FAIL(c, "raw block cache %u: %p is not a used raw block of the class", k, (void *)b);
        seen[n] = b;
        if (on_free_list(h, pool, b) || om__raw_bit_test(b))
            FAIL(c, "raw block cache %u: %p is on its pool's free list or marked live", k,
                 (void *)b);
        om__block *next = om__tc_next(h, b);
        om__poison(&b->keep, sizeof b->keep);
        om__vg_noaccess(&b->keep, sizeof b->keep);
        b = next;
    }
    if (n != counted) FAIL(c, "raw block cache %u: %u blocks listed, %u counted", k, n, counted);
    c->raw_cached += n;
    qsort(seen, n, sizeof *seen, ptr_cmp);
    for (uint32_t i = 1; i < n; i++)
        if (seen[i] == seen[i - 1])
            FAIL(c, "raw block cache %u: %p listed twice", k, (void *)seen[i]);
}

int om__alloc_check(om_heap *h, FILE *out)
{
    check_ctx c = {.out = out, .bad = 0};
    om__arena_foreach(h, check_arena, &c);
    check_lists(h, &c);
    for (unsigned k = 0; k < OM_NUM_CLASSES; k++) check_tcache(h, &c, k);
    /* every used raw block is marked, cached, or one of objmem's own (heap.h,
     * "Own blocks": the types check counts those against own_unmarked) */
    if (!c.bad && (c.raw_unmarked < c.raw_cached ||
                   ((h->hooks & OM_HOOK_DEBUG) && c.raw_unmarked != c.raw_cached))) {
        fprintf(out,
                "objmem: om_heap_check: %zu used raw blocks are not marked live, %zu are "
                "cached\n",
                c.raw_unmarked, c.raw_cached);
        c.bad++;
    }
    h->alloc.own_unmarked = c.raw_unmarked - c.raw_cached;
    return c.bad ? OM_ESTATE : 0;
}
