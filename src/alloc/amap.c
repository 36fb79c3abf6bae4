/*
 * amap.c - the process-wide ownership map: one byte per 1 MiB of address
 * space, 1 while an arena of some heap is mapped there. The structure and
 * why it is shared are described above om__amap_t in src/internal/alloc.h;
 * design note: docs/alloc.md ("The ownership test").
 *
 * No lock: heaps of any thread map arenas, and a fork may come at any
 * moment (the shim's child allocates). The map is reserved once (the
 * first thread to publish its reservation wins, the others give theirs
 * back); every caller that uses it stores the limit too (idempotent), so
 * no thread, and no child forked between the winner's two stores, sets a
 * byte that the fast path cannot see. A page is made writable by whoever
 * needs it first (mprotect twice is harmless) and marked so only after.
 */
#include <unistd.h>

#include "internal/alloc.h"

om__amap_t om__amap;

#define OM_AMAP_MIN_PAGE ((size_t)4096)
/* pages made writable, at the smallest page size (__atomic) */
static uint64_t writable[OM_AMAP_BYTES / OM_AMAP_MIN_PAGE / 64];

/* The OS's page size (4, 16 or 64 KiB): mprotect works in its pages. */
static size_t page_size(void)
{
    static size_t ps;
    size_t v = __atomic_load_n(&ps, __ATOMIC_RELAXED);
    if (!v) {
        long r = sysconf(_SC_PAGESIZE);
        v = r >= (long)OM_AMAP_MIN_PAGE && ((size_t)r & ((size_t)r - 1)) == 0 ? (size_t)r
                                                                              : OM_AMAP_MIN_PAGE;
        __atomic_store_n(&ps, v, __ATOMIC_RELAXED);
    }
    return v;
}

/* The map, reserved on the first call and its limit stored; NULL when the
 * OS refuses. */
static uint8_t *the_map(void)
{
    uint8_t *m = __atomic_load_n(&om__amap.bytes, __ATOMIC_ACQUIRE);
    if (!m) {
        uint8_t *mine = om__os_reserve_zeros(OM_AMAP_BYTES), *none = NULL;
        if (!mine) return NULL;
        if (__atomic_compare_exchange_n(&om__amap.bytes, &none, mine, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            m = mine;
        } else {
            om__os_release(mine, OM_AMAP_BYTES); /* another thread's won */
            m = none;
        }
    }
    __atomic_store_n(&om__amap.limit, OM_AMAP_BYTES, __ATOMIC_RELEASE); /* after the pointer */
    return m;
}

int om__amap_set(uintptr_t base)
{
    uintptr_t i = base >> OM_ARENA_SHIFT;
    if (i >= OM_AMAP_BYTES) return OM_EINVAL;
    uint8_t *m = the_map();
    if (!m) return OM_ENOMEM;
    size_t ps = page_size(), pg = i / ps;
    uint64_t bit = (uint64_t)1 << (pg % 64);
    if (!(__atomic_load_n(&writable[pg / 64], __ATOMIC_ACQUIRE) & bit)) {
        if (om__os_make_writable(m + pg * ps, ps) < 0) return OM_ENOMEM;
        __atomic_fetch_or(&writable[pg / 64], bit, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&m[i], 1, __ATOMIC_RELAXED);
    return 0;
}

void om__amap_clear(uintptr_t base)
{
    uintptr_t i = base >> OM_ARENA_SHIFT;
    if (i >= __atomic_load_n(&om__amap.limit, __ATOMIC_ACQUIRE)) return;
    /* set before: the map exists and the page is writable */
    __atomic_store_n(&__atomic_load_n(&om__amap.bytes, __ATOMIC_RELAXED)[i], 0, __ATOMIC_RELAXED);
}
