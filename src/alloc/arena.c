/*
 * arena.c - arenas: 1 MiB of pools from the OS, the table that finds an
 * arena from any address, and the order in which pools are handed out.
 *
 * Pools come from the arena with the fewest free pools (buckets by free
 * count, a bitmap to find the lowest), so nearly empty arenas drain and go
 * back to the OS. Wholly free arenas wait in a small cache first, so a loop
 * at the boundary does not map and unmap on every turn.
 * Design note: docs/alloc.md ("Arenas").
 */
#include "internal/delayed.h"

static void decay_tick(om_heap *h, uint64_t now);
static uint64_t clock_now(om_heap *h);

/* ------------------------------------------------------- the arena table */

static size_t atab_home(const om__alloc *a, uintptr_t base)
{
    return (size_t)(((uint64_t)(base >> OM_ARENA_SHIFT) * 0x9E3779B97F4A7C15ull) >> a->atab_shift);
}

static void atab_put(om__alloc *a, uintptr_t base, om__arena *ar)
{
    size_t i = atab_home(a, base);
    while (a->atab[i].base != 0) i = (i + 1) & a->atab_mask;
    a->atab[i].base = base;
    a->atab[i].arena = ar;
}

/* Rebuild the table with capacity ncap (a power of two >= 16). */
static int atab_resize(om_heap *h, size_t ncap)
{
    om__alloc *a = &h->alloc;
    size_t cap = a->atab_mask + 1;
    om__arena_slot *nt = om__sys_calloc(h, ncap, sizeof *nt);
    if (!nt) return OM_ENOMEM;
    om__arena_slot *old = a->atab;
    a->atab = nt;
    a->atab_mask = ncap - 1;
    a->atab_shift = 64 - (unsigned)__builtin_ctzll(ncap);
    for (size_t i = 0; i < cap; i++)
        if (old[i].base) atab_put(a, old[i].base, old[i].arena);
    om__sys_free(h, old, cap * sizeof *old);
    return 0;
}

/* Keep the load at most 1/2 so probes stay short. */
static int atab_reserve(om_heap *h, size_t need)
{
    size_t cap = h->alloc.atab_mask + 1;
    return need * 2 <= cap ? 0 : atab_resize(h, cap * 2);
}

/* After a shrink to under 1/8 load, halve (never below 16): the table of a
 * heap that was large once does not stay large. A failed resize is fine. */
static void atab_maybe_shrink(om_heap *h)
{
    size_t cap = h->alloc.atab_mask + 1;
    if (cap > 16 && h->alloc.narenas * 8 < cap) (void)atab_resize(h, cap / 2);
}

/* Backward-shift deletion: no tombstones, lookups stay exact. */
static void atab_del(om__alloc *a, uintptr_t base)
{
    size_t i = atab_home(a, base);
    while (a->atab[i].base != base) i = (i + 1) & a->atab_mask;
    for (;;) {
        a->atab[i].base = 0;
        size_t j = i;
        for (;;) {
            j = (j + 1) & a->atab_mask;
            if (a->atab[j].base == 0) return;
            size_t k = atab_home(a, a->atab[j].base);
            /* move j back to i unless its home lies cyclically in (i, j] */
            if (i <= j ? (i < k && k <= j) : (i < k || k <= j)) continue;
            a->atab[i] = a->atab[j];
            i = j;
            break;
        }
    }
}

int om__arena_table_init(om_heap *h)
{
    om__alloc *a = &h->alloc;
    size_t cap = 16;
    a->atab = om__sys_calloc(h, cap, sizeof *a->atab);
    if (!a->atab) return OM_ENOMEM;
    a->atab_mask = cap - 1;
    a->atab_shift = 64 - 4;
    return 0;
}

/* --------------------------------------------------------- usable buckets */

static void bucket_unlink(om__alloc *a, om__arena *ar)
{
    unsigned k = ar->nfree;
    if (ar->prev)
        ar->prev->next = ar->next;
    else
        a->buckets[k] = ar->next;
    if (ar->next) ar->next->prev = ar->prev;
    if (!a->buckets[k]) a->bucket_bits &= ~((uint64_t)1 << k);
    ar->next = ar->prev = NULL;
}

static void bucket_push(om__alloc *a, om__arena *ar)
{
    unsigned k = ar->nfree;
    ar->prev = NULL;
    ar->next = a->buckets[k];
    if (ar->next) ar->next->prev = ar;
    a->buckets[k] = ar;
    a->bucket_bits |= (uint64_t)1 << k;
}

static void cache_unlink(om__alloc *a, om__arena *ar)
{
    if (ar->purged) a->npurged--;
    ar->purged = 0;
    if (ar->prev)
        ar->prev->next = ar->next;
    else
        a->cache = ar->next;
    if (ar->next) ar->next->prev = ar->prev;
    ar->next = ar->prev = NULL;
    a->ncache--;
}

static void cache_push(om__alloc *a, om__arena *ar)
{
    ar->prev = NULL;
    ar->next = a->cache;
    if (ar->next) ar->next->prev = ar;
    a->cache = ar;
    a->ncache++;
}

/* ------------------------------------------------------ map and unmap */

/* Close a free pool to ASan and Valgrind. Its descriptor, which om_free
 * may read for any pointer into a mapped arena, is in the metadata, which
 * stays open (alloc.h, pool invariant 5). */
static void pool_close(char *start)
{
    om__poison(start, OM_POOL_SIZE);
    om__vg_noaccess(start, OM_POOL_SIZE);
}

static om__arena *arena_map(om_heap *h)
{
    om__alloc *a = &h->alloc;
    if (atab_reserve(h, a->narenas + 1) < 0) return NULL;
    om__arena *ar = om__sys_calloc(h, 1, sizeof *ar);
    if (!ar) return NULL;
    ar->base = h->cfg.sys.map(h->cfg.sys.ctx, OM_ARENA_SIZE, OM_ARENA_SIZE);
    if (!ar->base) {
        om__sys_free(h, ar, sizeof *ar);
        return NULL;
    }
    if (om__amap_set((uintptr_t)ar->base) < 0) {
        h->cfg.sys.unmap(h->cfg.sys.ctx, ar->base, OM_ARENA_SIZE);
        om__sys_free(h, ar, sizeof *ar);
        return NULL;
    }
    ar->untouched = ar->nfree = OM_ARENA_POOLS;
    atab_put(a, (uintptr_t)ar->base, ar);
    a->narenas++;
    a->mapped_total++;
    if (a->narenas > a->narenas_peak) a->narenas_peak = a->narenas;
    om__alloc_publish(a);
    for (unsigned i = OM_POOL_FIRST; i < OM_POOLS_PER_ARENA; i++)
        pool_close(ar->base + i * OM_POOL_SIZE);
    return ar;
}

static void arena_unmap(om_heap *h, om__arena *ar)
{
    om__alloc *a = &h->alloc;
    atab_del(a, (uintptr_t)ar->base);
    om__amap_clear((uintptr_t)ar->base);
    om__unpoison(ar->base, OM_ARENA_SIZE);
    om__vg_undefined(ar->base, OM_ARENA_SIZE);
    h->cfg.sys.unmap(h->cfg.sys.ctx, ar->base, OM_ARENA_SIZE);
    om__sys_free(h, ar, sizeof *ar);
    a->narenas--;
    a->unmapped_total++;
    om__alloc_publish(a);
    atab_maybe_shrink(h);
}

/* ----------------------------------------------------------------- pools */

/* A free pool (header unset, memory poisoned), or NULL with OM_ENOMEM. */
om__pool *om__arena_take_pool(om_heap *h)
{
    om__alloc *a = &h->alloc;
    om__arena *ar;
    if (a->bucket_bits) {
        ar = a->buckets[__builtin_ctzll(a->bucket_bits)];
        bucket_unlink(a, ar);
    } else if (a->cache) {
        ar = a->cache; /* the most recently freed: the likeliest resident */
        cache_unlink(a, ar);
    } else if (!(ar = arena_map(h))) {
        return om__err_null(h, OM_ENOMEM, "cannot map a %zu-byte arena", OM_ARENA_SIZE);
    }
    om__pool *pool;
    if (ar->free_bm) { /* the lowest free pool: arenas fill from the bottom */
        unsigned idx = (unsigned)__builtin_ctzll(ar->free_bm);
        pool = om__pool_at(ar->base + (size_t)idx * OM_POOL_SIZE);
        ar->free_bm &= ~(1ull << idx);
        ar->dirty_bm &= ar->free_bm;
    } else {
        pool = om__pool_at(ar->base + (OM_POOLS_PER_ARENA - ar->untouched) * OM_POOL_SIZE);
        ar->untouched--;
    }
    ar->nfree--;
    if (ar->nfree > 0) bucket_push(a, ar);
    om__unpoison(om__pool_start(pool), OM_POOL_SIZE);
    om__vg_undefined(om__pool_start(pool), OM_POOL_SIZE);
    om__arena_head *head = om__arena_head_of(ar->base); /* a purge may have zeroed it */
    head->arena = ar;                                   /* om__arena_head, 4 */
    head->raw_owner = h->hooks ? NULL : h;              /* om__arena_head, 2 */
    a->held += OM_POOL_SIZE;
    if (a->held > a->peak) a->peak = a->held;
    om__alloc_publish(a);
    if (a->dirty && a->decay_ms > 0) decay_tick(h, clock_now(h));
    return pool;
}

/* ------------------------------------------------------------- decay */

/* Free memory goes back to the OS once it has stayed free for decay_ms
 * (om_config.decay_ms, on the heap's clock), not at once: a program that
 * frees a structure and builds another of the same size soon after reuses
 * resident pages instead of faulting them in again (jemalloc's dirty decay,
 * mimalloc's purge delay). What decays:
 *   - free pools of arenas still in use (dirty_bm): their pages are purged
 *     (the seam's purge, madvise), in runs of neighbours;
 *   - wholly free arenas (the cache): unmapped, except the arena_cache
 *     most recent ones, which are purged and stay mapped as address space.
 * An arena's age is that of its oldest dirty pool (dirty_since); purging
 * it purges its younger free pools too. The clock is read only on the
 * pool slow paths (a pool taken or given back), and the heap is swept at
 * most every decay_ms / 4. A kept empty pool (pool.c) goes back to its
 * arena once it has been kept for a period (timed from the sweep before it
 * was kept: the keep itself reads no clock). So a program that stops calling the heap keeps
 * its free memory until its next slow path or om_heap_trim, which returns
 * everything free at once. decay_ms 0 returns each pool as it is given
 * back; a negative decay_ms never returns anything but on om_heap_trim. */

static uint64_t clock_now(om_heap *h)
{
    uint64_t now = h->cfg.clock_ms ? h->cfg.clock_ms(h->cfg.clock_ctx) : om__os_clock_ms();
    h->alloc.clock_prev = h->alloc.clock_last;
    h->alloc.clock_last = now;
    return now;
}

/* Give the pages of arena ar's dirty free pools back to the OS, runs of
 * neighbours in one call. Returns the bytes purged. */
static size_t purge_dirty(om_heap *h, om__arena *ar)
{
    uint64_t m = ar->dirty_bm;
    size_t bytes = 0;
    ar->dirty_bm = 0;
    if (!h->cfg.sys.purge) return 0;
    while (m) {
        unsigned lo = (unsigned)__builtin_ctzll(m);
        uint64_t run = m >> lo; /* bit 0 set: count the ones from here */
        unsigned n = ~run == 0 ? 64 - lo : (unsigned)__builtin_ctzll(~run);
        h->cfg.sys.purge(h->cfg.sys.ctx, ar->base + (size_t)lo * OM_POOL_SIZE,
                         (size_t)n * OM_POOL_SIZE);
        bytes += (size_t)n * OM_POOL_SIZE;
        m &= n + lo >= 64 ? 0 : ~0ull << (lo + n);
    }
    return bytes;
}

/* A wholly free cached arena whose time is up: unmapped, or purged and kept
 * mapped when fewer than arena_cache purged ones are kept. Returns bytes. */
static size_t decay_cached(om_heap *h, om__arena *ar)
{
    om__alloc *a = &h->alloc;
    if (a->npurged >= a->cache_max || !h->cfg.sys.purge) {
        cache_unlink(a, ar);
        arena_unmap(h, ar);
        return OM_ARENA_SIZE;
    }
    h->cfg.sys.purge(h->cfg.sys.ctx, ar->base, OM_ARENA_SIZE);
    ar->purged = 1;
    a->npurged++;
    ar->free_bm = ar->dirty_bm = 0; /* every pool is untouched again */
    ar->untouched = OM_ARENA_POOLS;
    return OM_ARENA_SIZE;
}

/* Return the free memory older than the decay period (all of it when all
 * is set); remember whether anything is left to decay. Returns bytes. */
static size_t decay_sweep(om_heap *h, uint64_t now, int all)
{
    om__alloc *a = &h->alloc;
    uint64_t age = all ? 0 : (uint64_t)a->decay_ms;
    size_t bytes = 0;
    int left = 0;
    a->next_sweep = now + (uint64_t)a->decay_ms / 4 + 1; /* first: no sweep nests in this one */
    /* cached raw blocks go back to their pools (heap.h, "The raw block
     * cache": they can lie one to a pool, over many pools). Frees read no
     * clock, so a cached block counts as free since the clock reading before
     * this sweep's (the heap's last slow path before it): a program that
     * stopped freeing long ago gets its memory back in this sweep, one that
     * is busy does not see its recent frees purged. */
    a->give_at = all ? (now >= age ? now - age : 1) : a->clock_prev ? a->clock_prev : 1;
    om__tc_flush_all(h);
    /* kept empty pools idle for the period go back to their arenas, aged
     * already, so that their pages go with this sweep */
    a->give_at = now >= age ? now - age : 1;
    om__pool_release_idle(h, now, age);
    a->give_at = 0;
    /* only now: a pool the flush above emptied and kept is idle since the
     * last sweep, as its blocks are (pool.c keep dates a kept pool with
     * swept_at), so it went back in the release above if that sweep is a
     * period old; dated this sweep, it stayed a whole period more
     * (test_decay pools_kept_by_the_sweeps_flush_go_too) */
    a->swept_at = now;
    for (uint64_t bits = a->bucket_bits; bits; bits &= bits - 1)
        for (om__arena *ar = a->buckets[__builtin_ctzll(bits)]; ar; ar = ar->next) {
            if (!ar->dirty_bm) continue;
            if (now - ar->dirty_since >= age)
                bytes += purge_dirty(h, ar);
            else
                left = 1;
        }
    for (om__arena *c = a->cache, *next; c; c = next) {
        next = c->next;
        if (c->purged) continue;
        if (now - c->dirty_since >= age)
            bytes += decay_cached(h, c);
        else
            left = 1;
    }
    a->dirty = left;
    return bytes;
}

/* The pool slow paths call this: sweep when something is dirty and the
 * last sweep is a quarter of the decay period old. */
static void decay_tick(om_heap *h, uint64_t now)
{
    om__alloc *a = &h->alloc;
    if (a->dirty && a->decay_ms > 0 && now >= a->next_sweep) decay_sweep(h, now, 0);
}

void om__arena_flush_caches(om_heap *h)
{
    om__alloc *a = &h->alloc;
    if (a->decay_ms <= 0) {
        om__tc_flush_all(h);
        return;
    }
    uint64_t now = clock_now(h);
    if (now >= a->next_sweep) { /* due: the sweep flushes them */
        decay_sweep(h, now, 0);
        return;
    }
    a->give_at = a->clock_prev ? a->clock_prev : 1; /* aged as decay_sweep ages them */
    om__tc_flush_all(h);
    a->give_at = 0;
}

/* Give an emptied pool back to its arena; a wholly free arena goes to the
 * cache. Nothing is returned to the OS here but through decay. */
void om__arena_give_pool(om_heap *h, om__pool *pool)
{
    om__alloc *a = &h->alloc;
    om__arena *ar = om__pool_arena(pool);
    uint64_t now = a->give_at ? a->give_at : a->decay_ms > 0 ? clock_now(h) : 0;
    if (ar->nfree > 0) bucket_unlink(a, ar);
    uint64_t bit = 1ull << om__pool_index(pool);
    if (!ar->dirty_bm) ar->dirty_since = now;
    ar->free_bm |= bit;
    ar->dirty_bm |= bit;
    ar->nfree++;
    a->held -= OM_POOL_SIZE;
    om__alloc_publish(a);
    a->dirty = 1;
    pool->heap = NULL; /* a free pool: no one's (alloc.h, pool invariant 5) */
    *om__raw_slot_of(om__pool_start(pool)) = 0; /* om__arena_head, 1 */
    pool_close(om__pool_start(pool));
    if (ar->nfree < OM_ARENA_POOLS) {
        bucket_push(a, ar);
        if (a->decay_ms == 0) purge_dirty(h, ar);
    } else {
        cache_push(a, ar); /* its free pools stay dirty until they decay */
        ar->dirty_since = now;
        if (a->decay_ms == 0) decay_cached(h, ar);
    }
    decay_tick(h, now);
}

size_t om_heap_trim(om_heap *h)
{
    if (!h) return 0;
    om__delayed_collect(h);
    om__tc_flush_all(h);
    om__pool_release_kept(h);
    return decay_sweep(h, clock_now(h), 1);
}

/* Unmap every arena (heap destroy). */
void om__arena_release_all(om_heap *h)
{
    om__alloc *a = &h->alloc;
    size_t cap = a->atab_mask + 1;
    for (size_t i = 0; i < cap; i++) {
        om__arena *ar = a->atab[i].arena;
        if (!a->atab[i].base) continue;
#ifdef OM_VALGRIND
        for (unsigned k = OM_POOL_FIRST; k < OM_POOLS_PER_ARENA - ar->untouched; k++) {
            om__pool *pool = om__pool_at(ar->base + k * OM_POOL_SIZE);
            if (!om__arena_pool_is_free(ar, pool)) om__pool_vg_forget(h, pool);
        }
#endif
        om__amap_clear((uintptr_t)ar->base);
        om__unpoison(ar->base, OM_ARENA_SIZE);
        om__vg_undefined(ar->base, OM_ARENA_SIZE);
        h->cfg.sys.unmap(h->cfg.sys.ctx, ar->base, OM_ARENA_SIZE);
        om__sys_free(h, ar, sizeof *ar);
    }
    om__sys_free(h, a->atab, cap * sizeof *a->atab);
    a->atab = NULL;
    a->narenas = 0;
}

/* Visit every arena (stats, checks, walks). */
void om__arena_foreach(om_heap *h, void (*fn)(om_heap *h, om__arena *ar, void *arg), void *arg)
{
    om__alloc *a = &h->alloc;
    for (size_t i = 0; i <= a->atab_mask; i++)
        if (a->atab[i].base) fn(h, a->atab[i].arena, arg);
}

/* 1 when pool (of arena ar) is a free pool rather than one serving a class. */
int om__arena_pool_is_free(const om__arena *ar, const om__pool *pool)
{
    size_t idx = om__pool_index(pool);
    if (idx < OM_POOL_FIRST || idx >= OM_POOLS_PER_ARENA - ar->untouched) return 1;
    return (int)((ar->free_bm >> idx) & 1);
}
