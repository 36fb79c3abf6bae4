/*
 * family.c - the malloc family on the per-thread heaps: which heap owns a
 * pointer (any thread's: the arena map, then the pool header or the large
 * block's header), aligned blocks, realloc across heaps, usable sizes,
 * errno, and the figures of mallinfo2. interpose.c gives these the C
 * library's names. Design note: docs/shim.md ("The malloc family").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal/delayed.h"
#include "shim.h"

/* An aligned block: a raw block with this 16-byte header just before the
 * aligned address. The raw block is always a large one, so an address in
 * an arena is always a block start (free needs no division to know). */
#define ALIGN_MAGIC 0x4f4d414c49474e21ull /* "OMALIGN!": no size is this large */
typedef struct aligned_hdr {
    uint64_t magic;
    void *raw;
} aligned_hdr;

static inline aligned_hdr *aligned_of(const void *p)
{
    return (aligned_hdr *)((char *)p - sizeof(aligned_hdr));
}

/* Debug mode is the environment's choice for the whole program; the
 * layout of large blocks depends on it. */
static size_t dbg_prefix(void)
{
    static _Atomic int v = -1;
    int d = atomic_load_explicit(&v, memory_order_relaxed);
    if (om__unlikely(d < 0)) {
        const char *e = getenv("OBJMEM_DEBUG");
        d = e && *e && strcmp(e, "0") != 0;
        atomic_store_explicit(&v, d, memory_order_relaxed);
    }
    return d ? OM_DBG_PREFIX : 0;
}

static om__cold void bad_pointer(const char *api, const void *p, const char *why)
{
    char buf[200];
    int n = snprintf(buf, sizeof buf, "objmem: %s(%p): %s\n", api, p, why);
    if (n > 0) (void)!write(2, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
    abort();
}

/* What p is. */
enum { PTR_ARENA, PTR_LARGE, PTR_ALIGNED, PTR_BOOT };
static inline int classify(const void *p, om_heap **owner)
{
    if (om__likely(om__shim_in_arena(p))) {
        *owner = om__pool_of(p)->heap; /* p is live: its pool is carved */
        return PTR_ARENA;
    }
    if (om__shim_is_boot(p)) return PTR_BOOT;
    if (aligned_of(p)->magic == ALIGN_MAGIC) return PTR_ALIGNED;
    om__large *lb = om__large_hdr(p, dbg_prefix());
    if (lb->magic != OM_LARGE_MAGIC) bad_pointer("free", p, "not a block of this allocator");
    *owner = lb->heap;
    return PTR_LARGE;
}

/* An arena address whose pool has no owner is no live block: the arena's
 * metadata pool or a free pool. Checked off the fast paths (free's takes
 * owner == mine != NULL first). */
static void check_owned(const char *api, const void *p, const om_heap *owner)
{
    if (om__unlikely(owner == NULL))
        bad_pointer(api, p, "not a live block (the arena's metadata or a free pool)");
}

/* ------------------------------------------------------------ malloc */

/* Memory for a thread without a heap of its own. */
static om__noinline void *malloc_noheap(size_t n)
{
    om_heap *h = om__shim_heap_slow();
    void *p;
    if (h)
        p = om_malloc(h, n);
    else if (om__shim_thread_state() == 1) /* making its heap: bootstrap */
        p = om__shim_boot_alloc(n, 16);
    else
        p = om__shim_shared_malloc(n);
    if (!p) errno = ENOMEM;
    return p;
}

void *om__shim_malloc(size_t n)
{
    om_heap *h = om__shim_tls_heap;
    if (om__likely(h != NULL)) {
        void *p = om_malloc(h, n);
        if (om__likely(p != NULL)) return p;
        errno = ENOMEM;
        return NULL;
    }
    return malloc_noheap(n);
}

void *om__shim_calloc(size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = om__shim_malloc(total);
    if (!p) return NULL;
    /* a large block on fresh pages (glibc mmapped it) is zero already: not
     * writing it keeps calloc's big tables out of RSS until used */
    if (total > OM_SMALL_MAX && !dbg_prefix() && !om__shim_in_arena(p) &&
        aligned_of(p)->magic != ALIGN_MAGIC && om__shim_sys_fresh(om__large_hdr(p, 0)) &&
        total > 4096) {
        memset(p, 0, 4096 - ((uintptr_t)p & 4095)); /* the page it shares with the header */
        return p;
    }
    memset(p, 0, total);
    return p;
}

/* -------------------------------------------------------------- free */

/* Debug mode: a block freed from another thread is checked before it is
 * queued (a double free would link the queue into a cycle). */
static void check_remote(om_heap *owner, void *p)
{
    const om__dbg *d = (const om__dbg *)((char *)p - OM_DBG_PREFIX);
    if (d->state != OM_DBG_LIVE)
        om__dbg_report(owner, "double free (the block is already free)", p, "free");
}

static om__noinline void free_other(void *p, om_heap *owner, int kind)
{
    if (kind == PTR_BOOT) return;
    if (kind == PTR_ALIGNED) {
        om__shim_free(aligned_of(p)->raw);
        return;
    }
    check_owned("free", p, owner);
    om_shim_heap *r = om__shim_rec(owner);
    if (atomic_load_explicit(&r->state, memory_order_relaxed) == OM_SH_SHARED &&
        !om__shim_in_shared()) { /* (this thread holds the lock: queue it) */
        om__shim_shared_free(p);
        return;
    }
    if (dbg_prefix()) check_remote(owner, p);
    om__shim_remote_free(owner, p);
}

void om__shim_free(void *p)
{
    if (p == NULL) return;
    om_heap *owner = NULL;
    int kind = classify(p, &owner);
    om_heap *mine = om__shim_tls_heap;
    if (om__likely(owner == mine && mine != NULL)) {
        om_free(mine, p);
        return;
    }
    free_other(p, owner, kind);
}

/* ------------------------------------------------------ usable sizes */

/* The usable size of block p, for api (malloc_usable_size or realloc). */
static size_t usable_size(const char *api, const void *p)
{
    om_heap *owner = NULL;
    switch (classify(p, &owner)) {
    case PTR_BOOT:
        return om__shim_boot_size(p);
    case PTR_ALIGNED: {
        const char *raw = aligned_of(p)->raw;
        return usable_size(api, raw) - (size_t)((const char *)p - raw);
    }
    case PTR_ARENA:
        check_owned(api, p, owner);
        return dbg_prefix() ? om__dbg_size(p) : om__pool_of(p)->bsize;
    default:
        return om__large_hdr(p, dbg_prefix())->size;
    }
}

size_t om__shim_usable_size(const void *p)
{
    return p == NULL ? 0 : usable_size("malloc_usable_size", p);
}

/* ----------------------------------------------------------- realloc */

/* Move p to a new block of n bytes: malloc, copy, free. */
static void *realloc_move(void *p, size_t n)
{
    size_t old = usable_size("realloc", p);
    void *q = om__shim_malloc(n);
    if (!q) return NULL;
    memcpy(q, p, old < n ? old : n);
    om__shim_free(p);
    return q;
}

void *om__shim_realloc(void *p, size_t n)
{
    if (p == NULL) return om__shim_malloc(n);
    if (n == 0) { /* as glibc: free, and return NULL */
        om__shim_free(p);
        return NULL;
    }
    om_heap *owner = NULL;
    int kind = classify(p, &owner);
    om_heap *mine = om__shim_tls_heap;
    if ((kind == PTR_ARENA || kind == PTR_LARGE) && owner == mine && mine != NULL) {
        void *q = om_realloc(mine, p, n);
        if (!q) errno = ENOMEM;
        return q;
    }
    return realloc_move(p, n);
}

void *om__shim_reallocarray(void *p, size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return om__shim_realloc(p, total);
}

/* ---------------------------------------------------------- alignment */

/* A block of n bytes at a multiple of align (a power of two). */
static void *alloc_aligned(size_t align, size_t n)
{
    if (align <= OM_GRANULE) return om__shim_malloc(n);
    size_t total;
    if (__builtin_add_overflow(n, align + sizeof(aligned_hdr), &total)) {
        errno = ENOMEM;
        return NULL;
    }
    if (total <= OM_SMALL_MAX) total = OM_SMALL_MAX + 1; /* a large block (see ALIGN_MAGIC) */
    char *raw = om__shim_malloc(total);
    if (!raw) return NULL;
    uintptr_t p = om__round_up((uintptr_t)raw + sizeof(aligned_hdr), align);
    aligned_hdr *hd = aligned_of((void *)p);
    hd->magic = ALIGN_MAGIC;
    hd->raw = raw;
    return (void *)p;
}

/* glibc 2.36's memalign (and aligned_alloc, its alias): an alignment that
 * is not a power of two is rounded up to one. */
void *om__shim_memalign(size_t align, size_t n)
{
    if (align > SIZE_MAX / 2 + 1) {
        errno = EINVAL;
        return NULL;
    }
    if (align & (align - 1)) align = (size_t)1 << (64 - __builtin_clzll(align));
    return alloc_aligned(align, n);
}

void *om__shim_aligned_alloc(size_t align, size_t n)
{
    return om__shim_memalign(align, n);
}

int om__shim_posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1))) return EINVAL;
    int saved = errno;
    void *p = alloc_aligned(align, n);
    if (!p) {
        errno = saved;
        return ENOMEM;
    }
    *out = p;
    return 0;
}

static size_t page_size(void)
{
    static _Atomic size_t ps;
    size_t v = atomic_load_explicit(&ps, memory_order_relaxed);
    if (!v) atomic_store_explicit(&ps, v = (size_t)sysconf(_SC_PAGESIZE), memory_order_relaxed);
    return v;
}

void *om__shim_valloc(size_t n)
{
    return alloc_aligned(page_size(), n);
}

void *om__shim_pvalloc(size_t n)
{
    size_t ps = page_size(), r;
    if (__builtin_add_overflow(n, ps - 1, &r)) {
        errno = ENOMEM;
        return NULL;
    }
    r &= ~(ps - 1);
    return alloc_aligned(ps, r ? r : ps);
}

/* ------------------------------------------------ trim and statistics */

int om__shim_trim(size_t pad)
{
    (void)pad;
    om_heap *h = om__shim_tls_heap;
    int released = 0;
    if (h) (void)om__delayed_drain(h);
    released |= om__shim_reap_abandoned() > 0;
    return released;
}

/* Heap h's part of mallinfo2. The calling thread's own heap is counted
 * exactly (blocks in use); another thread's heap only through what its
 * owner publishes on its slow paths (alloc.h, om__alloc.pub), where the
 * small bytes in use are those of its pools in use, free blocks included:
 * its pools and blocks change under the reader (invariant 1 of
 * om_shim_heap). */
static void add_info(om_heap *h, void *arg)
{
    om_shim_info *mi = arg;
    const om__alloc *a = &h->alloc;
    size_t narenas, nlarge, large, small;
    if (h == om__shim_tls_heap) {
        narenas = a->narenas;
        nlarge = a->nlarge;
        large = a->large_bytes;
        small = om__alloc_used(h) - large;
    } else {
        narenas = atomic_load_explicit(&a->pub.narenas, memory_order_relaxed);
        nlarge = atomic_load_explicit(&a->pub.nlarge, memory_order_relaxed);
        large = atomic_load_explicit(&a->pub.large_bytes, memory_order_relaxed);
        size_t held = atomic_load_explicit(&a->pub.held, memory_order_relaxed);
        small = held > large ? held - large : 0;
    }
    size_t arenas = narenas * OM_ARENA_SIZE;
    if (small > arenas) small = arenas; /* the copies are read one by one */
    mi->arena += arenas;
    mi->ordblks += narenas;
    mi->hblks += nlarge;
    mi->hblkhd += large;
    mi->uordblks += small;
    mi->fordblks += arenas - small;
}

void om__shim_info(om_shim_info *mi)
{
    memset(mi, 0, sizeof *mi);
    om__shim_view((1u << OM_SH_OWNED) | (1u << OM_SH_ABANDONED) | (1u << OM_SH_SHARED), add_info,
                  mi);
}
