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
 * byte that the fast path cannot see. The byte's page is made writable
 * before each byte is set (mprotect again is harmless).
 */
#include <unistd.h>

#include "internal/alloc.h"

om__amap_t om__amap;

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
    /* the byte's page writable, in the OS's page size (4, 16 or 64 KiB):
     * once per arena mapped, a slow path; mprotect again is harmless */
    long r = sysconf(_SC_PAGESIZE);
    size_t ps = r > 4096 ? (size_t)r : 4096; /* the map is page-aligned (mmap) */
    if (om__os_make_writable(m + (i & ~(ps - 1)), ps) < 0) return OM_ENOMEM;
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
