/*
 * seam.c - where shim heaps get their memory: arenas from mmap, entered in
 * a process-wide map of arena addresses (one bit per MiB of address space,
 * 16 MiB of zero-fill .bss that costs only the pages touched), so free()
 * in any thread can tell an arena block from a large one; the rest from the
 * C library's allocator, called by its internal name so it never comes
 * back into the shim. Design note: docs/shim.md ("Memory").
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>

#include "shim.h"

#define MAP_BITS 47 /* user address space on x86-64 and aarch64 (4-level tables) */
static _Atomic uint64_t arena_map[((size_t)1 << (MAP_BITS - OM_ARENA_SHIFT)) / 64];

int om__shim_in_arena(const void *p)
{
    uintptr_t i = (uintptr_t)p >> OM_ARENA_SHIFT;
    if (om__unlikely(i >> (MAP_BITS - OM_ARENA_SHIFT))) return 0;
    return (int)((atomic_load_explicit(&arena_map[i >> 6], memory_order_relaxed) >> (i & 63)) & 1);
}

static void map_mark(void *p, size_t size, int on)
{
    for (uintptr_t i = (uintptr_t)p >> OM_ARENA_SHIFT; i < ((uintptr_t)p + size) >> OM_ARENA_SHIFT;
         i++) {
        uint64_t bit = (uint64_t)1 << (i & 63);
        if (on)
            atomic_fetch_or_explicit(&arena_map[i >> 6], bit, memory_order_relaxed);
        else
            atomic_fetch_and_explicit(&arena_map[i >> 6], ~bit, memory_order_relaxed);
    }
}

#ifdef OM_SHIM_INTERPOSE
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
#define sys_malloc  __libc_malloc
#define sys_calloc  __libc_calloc
#define sys_realloc __libc_realloc
#define sys_free    __libc_free
#else
#define sys_malloc  malloc
#define sys_calloc  calloc
#define sys_realloc realloc
#define sys_free    free
#endif

void *om__shim_sys_malloc(size_t n)
{
    return sys_malloc(n);
}
void *om__shim_sys_calloc(size_t n, size_t size)
{
    return sys_calloc(n, size);
}
void om__shim_sys_free(void *p)
{
    sys_free(p);
}

/* glibc serves big requests with a fresh mmap (its chunk header's
 * IS_MMAPPED bit, 0x2, in the size word before the chunk's user memory):
 * such pages read as zeroes, so calloc need not write them (glibc's own
 * calloc skips them the same way). p is what sys_malloc returned. */
int om__shim_sys_fresh(const void *p)
{
#ifdef OM_SHIM_INTERPOSE
    return (((const size_t *)p)[-1] & 2) != 0;
#else
    (void)p;
    return 0;
#endif
}

static void *seam_map(void *ctx, size_t size, size_t align)
{
    (void)ctx;
    size_t span = size + align;
    char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    uintptr_t start = ((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1);
    size_t head = start - (uintptr_t)raw, tail = span - head - size;
    if (head) munmap(raw, head);
    if (tail) munmap((char *)start + size, tail);
    map_mark((void *)start, size, 1);
    return (void *)start;
}

/* The bits go before the pages: once unmapped, the range may come back
 * from mmap to the C library's allocator, whose blocks must not look like
 * ours. No block of the arena is live now, so no free() looks at it. */
static void seam_unmap(void *ctx, void *p, size_t size)
{
    (void)ctx;
    map_mark(p, size, 0);
    munmap(p, size);
}

static void seam_purge(void *ctx, void *p, size_t size)
{
    (void)ctx;
    madvise(p, size, MADV_DONTNEED);
}

/* Like glibc, no object larger than PTRDIFF_MAX: refused here, before
 * the C library (or a sanitizer's or Valgrind's malloc) sees the size. */
static void *seam_malloc(void *ctx, size_t size)
{
    (void)ctx;
    return size > PTRDIFF_MAX ? NULL : sys_malloc(size);
}

static void *seam_realloc(void *ctx, void *p, size_t old_size, size_t size)
{
    (void)ctx;
    (void)old_size;
    return size > PTRDIFF_MAX ? NULL : sys_realloc(p, size);
}

static void seam_free(void *ctx, void *p, size_t size)
{
    (void)ctx;
    (void)size;
    sys_free(p);
}

om_sys om__shim_sys(void *ctx)
{
    om_sys s = {ctx, seam_map, seam_unmap, seam_malloc, seam_realloc, seam_free, seam_purge};
    return s;
}
