/*
 * alloc.c - the allocator's lifecycle and the seam wrappers every layer
 * uses for its own bookkeeping (tables, stacks, traces), so that all of it
 * is counted and can be failed by fault injection.
 * Design note: docs/alloc.md ("The seam").
 */
#define _GNU_SOURCE
#include <sys/random.h>
#include <time.h>

#include "internal/heap.h"

void *om__sys_malloc(om_heap *h, size_t size)
{
    void *p = h->cfg.sys.malloc(h->cfg.sys.ctx, size ? size : 1);
    if (!p) return om__err_null(h, OM_ENOMEM, "the system allocator refused %zu bytes", size);
    h->alloc.sys_bytes += size;
    return p;
}

void *om__sys_calloc(om_heap *h, size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total))
        return om__err_null(h, OM_ENOMEM, "%zu * %zu bytes overflows", n, size);
    void *p = om__sys_malloc(h, total);
    if (p) memset(p, 0, total);
    return p;
}

void *om__sys_realloc(om_heap *h, void *p, size_t old_size, size_t size)
{
    if (!p) return om__sys_malloc(h, size);
    void *q = h->cfg.sys.realloc(h->cfg.sys.ctx, p, old_size, size ? size : 1);
    if (!q) return om__err_null(h, OM_ENOMEM, "the system allocator refused %zu bytes", size);
    h->alloc.sys_bytes = h->alloc.sys_bytes - old_size + size;
    return q;
}

void om__sys_free(om_heap *h, void *p, size_t size)
{
    if (!p) return;
    h->alloc.sys_bytes -= size;
    h->cfg.sys.free(h->cfg.sys.ctx, p, size);
}

/* The free-list key: random, with its top bit set so that no address and
 * no small integer decodes into a pool by accident (alloc.h, om__pool). */
static uintptr_t make_key(const om_heap *h)
{
    uint64_t x = 0;
    if (getrandom(&x, sizeof x, GRND_NONBLOCK) != (ssize_t)sizeof x) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        x = ((uint64_t)ts.tv_nsec << 32 ^ (uint64_t)ts.tv_sec ^ (uintptr_t)h) *
            0x9E3779B97F4A7C15ull;
    }
    return (uintptr_t)(x | (1ull << 63));
}

int om__alloc_init(om_heap *h)
{
    h->alloc.key = make_key(h);
    for (unsigned k = 0; k < OM_NUM_CLASSES; k++) h->alloc.tc.room[k + 1] = om__tc_max(k);
    h->alloc.cache_max = h->cfg.arena_cache;
    h->alloc.decay_ms = h->cfg.decay_ms;
    return om__arena_table_init(h);
}

void om__alloc_fini(om_heap *h)
{
    om__tc_flush_all(h);
    om__large_release_all(h);
    om__arena_release_all(h);
}
