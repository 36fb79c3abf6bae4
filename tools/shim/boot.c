/*
 * boot.c - bootstrap memory: what malloc returns while the calling thread
 * is still making its heap (pthread_atfork and pthread_setspecific may
 * allocate then) or when objmem cannot give memory at all that early. A
 * static area handed out by an atomic bump; each block has a 16-byte
 * header with its size, so realloc can copy it out. free() of a bootstrap
 * block does nothing. Design note: docs/shim.md ("Bootstrap").
 */
#include "shim.h"

#define BOOT_SIZE ((size_t)256 << 10)
static _Alignas(4096) char boot_area[BOOT_SIZE];
static _Atomic size_t boot_used;

void *om__shim_boot_alloc(size_t n, size_t align)
{
    if (align < 16) align = 16;
    if (n > BOOT_SIZE) return NULL;
    size_t need = om__round_up(n, 16) + align + 16;
    size_t at = atomic_fetch_add_explicit(&boot_used, need, memory_order_relaxed);
    if (at + need > BOOT_SIZE) return NULL;
    uintptr_t p = om__round_up((uintptr_t)boot_area + at + 16, align);
    ((size_t *)p)[-1] = n;
    return (void *)p;
}

int om__shim_is_boot(const void *p)
{
    return (const char *)p >= boot_area && (const char *)p < boot_area + BOOT_SIZE;
}

size_t om__shim_boot_size(const void *p)
{
    return ((const size_t *)p)[-1];
}
