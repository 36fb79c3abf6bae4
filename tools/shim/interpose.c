/*
 * interpose.c - libobjmem-malloc.so: the C library's allocation functions,
 * by their own names, on the per-thread objmem heaps (family.c). Loaded
 * with LD_PRELOAD (or linked first), it serves every malloc of the
 * program, C++ new and delete included (libstdc++ calls malloc). Only these
 * names are exported (shim.map). Design note: docs/shim.md.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>

#include "shim.h"

#define OM_EXPORT __attribute__((visibility("default")))

OM_EXPORT void *malloc(size_t n)
{
    return om__shim_malloc(n);
}
OM_EXPORT void free(void *p)
{
    om__shim_free(p);
}
OM_EXPORT void *calloc(size_t n, size_t size)
{
    return om__shim_calloc(n, size);
}
OM_EXPORT void *realloc(void *p, size_t n)
{
    return om__shim_realloc(p, n);
}
OM_EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
    return om__shim_reallocarray(p, n, size);
}
OM_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    return om__shim_posix_memalign(out, align, n);
}
OM_EXPORT void *aligned_alloc(size_t align, size_t n)
{
    return om__shim_aligned_alloc(align, n);
}
OM_EXPORT void *memalign(size_t align, size_t n)
{
    return om__shim_memalign(align, n);
}
OM_EXPORT void *valloc(size_t n)
{
    return om__shim_valloc(n);
}
OM_EXPORT void *pvalloc(size_t n)
{
    return om__shim_pvalloc(n);
}
OM_EXPORT size_t malloc_usable_size(void *p)
{
    return om__shim_usable_size(p);
}
OM_EXPORT void cfree(void *p);
OM_EXPORT void cfree(void *p)
{
    om__shim_free(p);
}

/* malloc_trim also trims glibc's own heap, where the shim's large blocks
 * live (found with dlsym: outside any allocation, so it may allocate). */
OM_EXPORT int malloc_trim(size_t pad)
{
    int r = om__shim_trim(pad);
    int (*libc_trim)(size_t) = (int (*)(size_t))dlsym(RTLD_NEXT, "malloc_trim");
    if (libc_trim) r |= libc_trim(pad);
    return r;
}

OM_EXPORT struct mallinfo2 mallinfo2(void)
{
    om_shim_info s;
    om__shim_info(&s);
    struct mallinfo2 m = {
        .arena = s.arena,
        .ordblks = s.ordblks,
        .smblks = s.smblks,
        .hblks = s.hblks,
        .hblkhd = s.hblkhd,
        .usmblks = s.usmblks,
        .fsmblks = s.fsmblks,
        .uordblks = s.uordblks,
        .fordblks = s.fordblks,
        .keepcost = s.keepcost,
    };
    return m;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
OM_EXPORT struct mallinfo mallinfo(void)
{
    struct mallinfo2 m2 = mallinfo2();
    struct mallinfo m = {
        .arena = (int)m2.arena,
        .ordblks = (int)m2.ordblks,
        .hblks = (int)m2.hblks,
        .hblkhd = (int)m2.hblkhd,
        .uordblks = (int)m2.uordblks,
        .fordblks = (int)m2.fordblks,
    };
    return m;
}
#pragma GCC diagnostic pop
