/*
 * os.c - the default seam: pages from the OS with mmap, aligned by
 * over-reserving and trimming, and the C library's malloc family.
 * Design note: docs/alloc.md ("The seam").
 */
#define _DEFAULT_SOURCE
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "internal/om.h"

/* size bytes aligned to align: map size + align, then unmap the slack on
 * both sides, so the arena costs no more than size of address space. */
static void *os_map(void *ctx, size_t size, size_t align)
{
    (void)ctx;
    size_t span = size + align;
    char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    uintptr_t start = ((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1);
    size_t head = start - (uintptr_t)raw;
    size_t tail = span - head - size;
    if (head) munmap(raw, head);
    if (tail) munmap((char *)start + size, tail);
    return (void *)start;
}

static void os_unmap(void *ctx, void *p, size_t size)
{
    (void)ctx;
    munmap(p, size);
}

static void os_purge(void *ctx, void *p, size_t size)
{
    (void)ctx;
    madvise(p, size, MADV_DONTNEED);
}

static void *os_malloc(void *ctx, size_t size)
{
    (void)ctx;
    return malloc(size);
}

static void *os_realloc(void *ctx, void *p, size_t old_size, size_t size)
{
    (void)ctx;
    (void)old_size;
    return realloc(p, size);
}

static void os_free(void *ctx, void *p, size_t size)
{
    (void)ctx;
    (void)size;
    free(p);
}

uint64_t om__os_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* a few ns through the vDSO */
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void *om__os_reserve_zeros(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int om__os_make_writable(void *p, size_t n)
{
    return mprotect(p, n, PROT_READ | PROT_WRITE) == 0 ? 0 : -1;
}

void om__os_release(void *p, size_t size)
{
    munmap(p, size);
}

om_sys om_sys_default(void)
{
    om_sys s = {NULL, os_map, os_unmap, os_malloc, os_realloc, os_free, os_purge};
    return s;
}
