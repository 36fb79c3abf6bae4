/*
 * amap.c - the process-wide ownership map: one bit per 1 MiB of address
 * space, set while an arena of some heap is mapped there. The structure and
 * why it is shared are described above om__amap in src/internal/alloc.h;
 * design note: docs/alloc.md ("The ownership test").
 */
#include "internal/alloc.h"

_Atomic uint64_t om__amap[OM_AMAP_WORDS];

int om__amap_set(uintptr_t base)
{
    uintptr_t i = base >> (OM_ARENA_SHIFT + 6);
    if (i >= OM_AMAP_WORDS) return OM_EINVAL;
    atomic_fetch_or_explicit(&om__amap[i], (uint64_t)1 << ((base >> OM_ARENA_SHIFT) & 63),
                             memory_order_relaxed);
    return 0;
}

void om__amap_clear(uintptr_t base)
{
    uintptr_t i = base >> (OM_ARENA_SHIFT + 6);
    if (i >= OM_AMAP_WORDS) return;
    atomic_fetch_and_explicit(&om__amap[i], ~((uint64_t)1 << ((base >> OM_ARENA_SHIFT) & 63)),
                              memory_order_relaxed);
}
