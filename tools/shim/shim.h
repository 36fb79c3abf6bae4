/*
 * shim.h - the malloc replacement's internals (libobjmem-malloc.so): one
 * objmem heap per thread, made lazily; frees across threads through the
 * owner heap's delayed-free list; heaps of exited threads abandoned, then
 * adopted by a new thread or given back once empty; the malloc family on
 * top. interpose.c turns om__shim_* into the C library's names; the rest
 * is a plain library, so the tests (and ThreadSanitizer) can call it.
 * Design note: docs/shim.md. Never installed.
 */
#ifndef OM_SHIM_H
#define OM_SHIM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "internal/heap.h"

/* ------------------------------------------------------------- the seam */

/* The seam of every shim heap: arenas from mmap, recorded in the
 * process-wide arena map; everything else from the C library's own
 * allocator (__libc_malloc in the LD_PRELOAD build, so it never comes back
 * into the shim; plain malloc in the test build). */
om_sys om__shim_sys(void *ctx);
/* 1 when address p lies in an arena of some shim heap (any thread's).
 * Reads only the map; lock-free. */
int om__shim_in_arena(const void *p);
/* The C library's allocator, as the seam uses it. */
void *om__shim_sys_malloc(size_t n);
void *om__shim_sys_calloc(size_t n, size_t size);
void om__shim_sys_free(void *p);
/* 1 when block p of the C library's allocator is fresh zeroed pages. */
int om__shim_sys_fresh(const void *p);

/* ------------------------------------------------------- the heap records */

/* States of a heap record. */
enum {
    OM_SH_FREE = 0,      /* no heap: the record may be reused           */
    OM_SH_OWNED = 1,     /* a live thread uses the heap                 */
    OM_SH_ABANDONED = 2, /* its thread exited: adopt it or reap it      */
    OM_SH_CLAIMED = 3,   /* a thread is reaping or making it right now  */
    OM_SH_SHARED = 4,    /* the shared heap, used under shared_lock     */
    OM_SH_ZOMBIE = 5,    /* fork child: another thread's heap, never touched again */
};

/* One heap and its state. Records are never freed (a FREE one is reused),
 * so a thread that read a record's address from a live block may still
 * look at the record after the block and even the heap are gone.
 *
 * Invariants:
 *  1. Only the thread that moved state to OWNED, CLAIMED or SHARED (the
 *     latter under the shared lock) touches heap, except for pushes onto
 *     heap's delayed-free list, which any thread makes while it holds a
 *     live block of the heap, and for loads of heap->alloc.pub, which any
 *     thread makes under the view lock (om__shim_view); a heap is
 *     destroyed only under that lock.
 *  2. heap != NULL iff state != FREE.
 *  3. A thread that pushes onto an ABANDONED heap sets pending, then tries
 *     to claim the heap; a reaper that gives the heap back re-reads
 *     pending, so a push is never left unseen on an abandoned heap.
 */
typedef struct om_shim_heap {
    _Atomic int state;         /* OM_SH_*                               */
    _Atomic int pending;       /* a push onto an abandoned heap happened */
    om_heap *heap;             /* the heap (see invariant 1)            */
    size_t base_used;          /* bytes the heap holds when empty       */
    unsigned long owner;       /* pthread_self() of the user            */
    struct om_shim_heap *next; /* every record (never unlinked)         */
} om_shim_heap;

/* The calling thread's heap, made or adopted on first use. NULL while the
 * thread is making its heap (recursion: bootstrap memory serves it), after
 * the thread's exit began (the shared heap serves it), or with no memory. */
om_heap *om__shim_heap_slow(void);
extern __thread om_heap *om__shim_tls_heap __attribute__((tls_model("initial-exec")));
static inline om_heap *om__shim_heap(void)
{
    om_heap *h = om__shim_tls_heap;
    return om__likely(h != NULL) ? h : om__shim_heap_slow();
}
/* The record of heap h (the seam's context). */
static inline om_shim_heap *om__shim_rec(const om_heap *h)
{
    return (om_shim_heap *)h->cfg.sys.ctx;
}
/* Free block p of heap owner from a thread that is not owner's user. */
void om__shim_remote_free(om_heap *owner, void *p);
/* Allocation when the thread has no heap of its own: the shared heap, under
 * its lock (fn is om_malloc-like). */
void *om__shim_shared_malloc(size_t size);
/* The shared heap, made if need be, with its lock taken (NULL: no
 * memory; the lock is taken all the same); and the lock given back. */
om_heap *om__shim_shared_lock(void);
void om__shim_shared_unlock(void);
/* 1 while this thread holds the shared lock (a free of a shared block
 * then queues it instead of taking the lock again). */
int om__shim_in_shared(void);
/* A heap no thread owns, OWNED for frees (the reentry heap). */
om_heap *om__shim_heap_new_detached(void);
/* Free block p of the shared heap (any thread), under its lock. */
void om__shim_shared_free(void *p);
/* The calling thread's side: 0 no heap yet, 1 making it, 2 has one,
 * 3 exiting (the shared heap serves it). */
int om__shim_thread_state(void);
/* Visit every heap with a state in states_mask (bit per OM_SH_*, never
 * FREE, CLAIMED or ZOMBIE), under the view lock: no heap is destroyed
 * meanwhile. The visitor reads only the calling thread's own heap and the
 * others' published figures (invariant 1 of om_shim_heap). */
void om__shim_view(unsigned states_mask, void (*fn)(om_heap *h, void *arg), void *arg);
/* Counters for tests and mallinfo2: records made, heaps made, heaps
 * adopted, heaps reaped (destroyed empty). */
typedef struct om_shim_counts {
    size_t records, made, adopted, reaped, abandoned_now;
} om_shim_counts;
void om__shim_counts(om_shim_counts *c);
/* Test hook: take ownership of any abandoned heap that can be reaped
 * (drain, destroy if empty). Returns the number reaped. */
size_t om__shim_reap_abandoned(void);
/* The thread's exit, early (tests; the key destructor calls it too). */
void om__shim_thread_exit(void);

/* ------------------------------------------------------- the malloc family */

void *om__shim_malloc(size_t n);
void om__shim_free(void *p);
void *om__shim_calloc(size_t n, size_t size);
void *om__shim_realloc(void *p, size_t n);
void *om__shim_reallocarray(void *p, size_t n, size_t size);
int om__shim_posix_memalign(void **out, size_t align, size_t n);
void *om__shim_aligned_alloc(size_t align, size_t n);
void *om__shim_memalign(size_t align, size_t n);
void *om__shim_valloc(size_t n);
void *om__shim_pvalloc(size_t n);
size_t om__shim_usable_size(const void *p);
int om__shim_trim(size_t pad);

/* mallinfo2's figures (struct mallinfo2's fields, summed over heaps). */
typedef struct om_shim_info {
    size_t arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
} om_shim_info;
void om__shim_info(om_shim_info *mi);

/* Bootstrap memory (interpose.c): for the calls made while a thread makes
 * its heap. A static bump area; freeing is a no-op. */
void *om__shim_boot_alloc(size_t n, size_t align);
int om__shim_is_boot(const void *p);
size_t om__shim_boot_size(const void *p);

#endif
