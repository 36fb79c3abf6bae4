/*
 * om.h - what every objmem source file includes first: the build-core
 * guard, branch hints, the debug tiers and the sanitizer/Valgrind seam.
 * Never installed.
 */
#ifndef OM_INTERNAL_OM_H
#define OM_INTERNAL_OM_H

#ifndef OM_BUILD_CORE
#error "src/internal headers are private to objmem's own sources"
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "objmem.h"

#define om__likely(x)   __builtin_expect(!!(x), 1)
#define om__unlikely(x) __builtin_expect(!!(x), 0)
#define om__noinline    __attribute__((noinline))
#define om__cold        __attribute__((cold, noinline))

/* Debug tiers, compile time (OM_DEBUG_LEVEL):
 *   0  none
 *   1  internal asserts (the default of test builds)
 *   2  expensive: om_heap_check after every collection
 * Run-time API-misuse checks are the heap's debug mode (om_config.debug). */
#ifndef OM_DEBUG_LEVEL
#define OM_DEBUG_LEVEL 0
#endif

void om__assert_fail(const char *expr, const char *file, int line) __attribute__((noreturn));
#if OM_DEBUG_LEVEL >= 1
#define OM_ASSERT(e) ((e) ? (void)0 : om__assert_fail(#e, __FILE__, __LINE__))
#else
#define OM_ASSERT(e) ((void)0)
#endif

/* ---- AddressSanitizer: free blocks inside pools are poisoned. ---- */
#if defined(__SANITIZE_ADDRESS__)
#define OM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OM_ASAN 1
#endif
#endif
#ifdef OM_ASAN
#include <sanitizer/asan_interface.h>
#define om__poison(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define om__unpoison(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define om__poison(p, n)   ((void)(p), (void)(n))
#define om__unpoison(p, n) ((void)(p), (void)(n))
#endif

/* ---- Valgrind: blocks are described to memcheck as malloc-like. ---- */
#ifdef OM_VALGRIND
#include <valgrind/memcheck.h>
#define om__vg_alloc(p, n, zeroed) VALGRIND_MALLOCLIKE_BLOCK((p), (n), 0, (zeroed))
#define om__vg_free(p)             VALGRIND_FREELIKE_BLOCK((p), 0)
#define om__vg_noaccess(p, n)      VALGRIND_MAKE_MEM_NOACCESS((p), (n))
#define om__vg_defined(p, n)       VALGRIND_MAKE_MEM_DEFINED((p), (n))
#define om__vg_undefined(p, n)     VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#else
#define om__vg_alloc(p, n, zeroed) ((void)(p), (void)(n), (void)(zeroed))
#define om__vg_free(p)             ((void)(p))
#define om__vg_noaccess(p, n)      ((void)(p), (void)(n))
#define om__vg_defined(p, n)       ((void)(p), (void)(n))
#define om__vg_undefined(p, n)     ((void)(p), (void)(n))
#endif

/* A monotonic clock in milliseconds (os.c): the default decay clock. */
uint64_t om__os_clock_ms(void);
/* size bytes of address space, readable zeros, no memory or commit charge
 * (os.c; the ownership map), or NULL; and n bytes of it at p (page
 * aligned) made writable: 0, or -1 when the OS refuses. */
void *om__os_reserve_zeros(size_t size);
int om__os_make_writable(void *p, size_t n);
void om__os_release(void *p, size_t size);

/* Round n up to a multiple of a (a power of two). */
static inline size_t om__round_up(size_t n, size_t a)
{
    return (n + a - 1) & ~(a - 1);
}

#endif
