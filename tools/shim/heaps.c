/*
 * heaps.c - one heap per thread: made on the thread's first allocation (or
 * adopted from a thread that exited), abandoned when the thread exits, and
 * reaped (destroyed, its arenas unmapped) by whichever thread frees its
 * last block. Frees from other threads go onto the owner's delayed-free
 * list (src/alloc/delayed.c). Also the shared heap for threads that have
 * begun to exit, and what fork does. Design note: docs/shim.md.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "internal/delayed.h"
#include "shim.h"
#include "shim_trace.h"

__thread om_heap *om__shim_tls_heap __attribute__((tls_model("initial-exec")));

/* The calling thread's side of its heap. */
enum { TLS_NONE = 0, TLS_MAKING = 1, TLS_READY = 2, TLS_DEAD = 3 };
static __thread int tls_state __attribute__((tls_model("initial-exec")));
static __thread om_shim_heap *tls_rec __attribute__((tls_model("initial-exec")));
static __thread int tls_rounds __attribute__((tls_model("initial-exec")));

static _Atomic(om_shim_heap *) records; /* every record, newest first */
static pthread_key_t exit_key;          /* its destructor: the thread's exit */
static _Atomic int once_state;          /* 0 not yet, 1 running, 2 done */
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t view_lock = PTHREAD_MUTEX_INITIALIZER; /* om__shim_view; after shared_lock */
static om_shim_heap *shared_rec;                              /* under shared_lock */
static _Atomic size_t n_records, n_made, n_adopted, n_reaped;

static void key_destructor(void *v);
static void fork_prepare(void);
static void fork_parent(void);
static void fork_child(void);

/* The process-wide set-up, once: the thread-exit key and the fork hooks.
 * Runs inside the first malloc; what it allocates comes from bootstrap
 * memory (tls_state is TLS_MAKING). */
static void setup_once(void)
{
    int expect = 0;
    if (atomic_load(&once_state) == 2) return;
    if (!atomic_compare_exchange_strong(&once_state, &expect, 1)) {
        while (atomic_load(&once_state) != 2) sched_yield();
        return;
    }
    pthread_key_create(&exit_key, key_destructor);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    atomic_store(&once_state, 2);
}

/* A new heap for record r, or NULL. Shim heaps hold raw blocks only; the
 * singletons every heap makes are what an empty one still holds. */
static om_heap *make_heap(om_shim_heap *r)
{
    om_config cfg;
    om_config_init(&cfg);
    cfg.sys = om__shim_sys(r);
    cfg.gc_stress = 0;
    om_heap *h = om_heap_new(&cfg);
    if (!h) return NULL;
    r->base_used = om__alloc_used(h);
    atomic_fetch_add(&n_made, 1);
    return h;
}

/* A record in state CLAIMED with no heap: a FREE one, or a new one. */
static om_shim_heap *claim_free_record(void)
{
    for (om_shim_heap *r = atomic_load(&records); r; r = r->next) {
        int s = OM_SH_FREE;
        if (atomic_compare_exchange_strong(&r->state, &s, OM_SH_CLAIMED)) return r;
    }
    om_shim_heap *r = om__shim_sys_calloc(1, sizeof *r);
    if (!r) return NULL;
    atomic_init(&r->state, OM_SH_CLAIMED);
    r->next = atomic_load(&records);
    while (!atomic_compare_exchange_weak(&records, &r->next, r)) {
    }
    atomic_fetch_add(&n_records, 1);
    return r;
}

/* Adopt an abandoned heap (its blocks freed meanwhile come back now), or
 * make one. The record returned is OWNED by the caller. */
static om_shim_heap *take_heap(void)
{
    for (om_shim_heap *r = atomic_load(&records); r; r = r->next) {
        int s = OM_SH_ABANDONED;
        if (!atomic_compare_exchange_strong(&r->state, &s, OM_SH_OWNED)) continue;
        atomic_fetch_add(&n_adopted, 1);
        atomic_store(&r->pending, 0);
        (void)om__delayed_drain(r->heap);
        return r;
    }
    om_shim_heap *r = claim_free_record();
    if (!r) return NULL;
    r->heap = make_heap(r);
    if (!r->heap) {
        atomic_store(&r->state, OM_SH_FREE);
        return NULL;
    }
    atomic_store(&r->state, OM_SH_OWNED);
    return r;
}

om_heap *om__shim_heap_slow(void)
{
    if (tls_state != TLS_NONE) return NULL; /* making it now, or exiting */
    if (om__shim_trace_on()) {              /* every thread: the shared heap */
        if (atomic_load(&once_state) != 2) {
            tls_state = TLS_MAKING;
            setup_once();
            tls_state = TLS_NONE;
        }
        return NULL;
    }
    tls_state = TLS_MAKING;
    setup_once();
    om_shim_heap *r = take_heap();
    if (!r) {
        tls_state = TLS_NONE;
        return NULL;
    }
    r->owner = (unsigned long)pthread_self();
    tls_rec = r;
    pthread_setspecific(exit_key, r);
    om__shim_tls_heap = r->heap;
    tls_state = TLS_READY;
    return r->heap;
}

int om__shim_thread_state(void)
{
    return tls_state;
}

/* ------------------------------------------------- abandoned heaps */

static int heap_is_empty(const om_shim_heap *r)
{
    return om__alloc_used(r->heap) == r->base_used && r->heap->alloc.nlarge == 0;
}

/* Claim abandoned record r, take back the blocks freed into it, destroy
 * it if it is empty, else give it back (invariant 3 of om_shim_heap).
 * Returns 1 when the heap was destroyed. */
static int reap(om_shim_heap *r)
{
    int s = OM_SH_ABANDONED;
    if (!atomic_compare_exchange_strong(&r->state, &s, OM_SH_CLAIMED)) return 0;
    for (;;) {
        atomic_store(&r->pending, 0);
        (void)om__delayed_drain(r->heap);
        if (heap_is_empty(r)) {
            pthread_mutex_lock(&view_lock); /* invariant 1: no view reads it */
            om_heap_destroy(r->heap);
            r->heap = NULL;
            pthread_mutex_unlock(&view_lock);
            atomic_fetch_add(&n_reaped, 1);
            atomic_store(&r->state, OM_SH_FREE);
            return 1;
        }
        atomic_store(&r->state, OM_SH_ABANDONED);
        if (!atomic_load(&r->pending)) return 0;
        s = OM_SH_ABANDONED;
        if (!atomic_compare_exchange_strong(&r->state, &s, OM_SH_CLAIMED)) return 0;
    }
}

void om__shim_remote_free(om_heap *owner, void *p)
{
    om_shim_heap *r = om__shim_rec(owner); /* read while p keeps owner alive */
    om__delayed_push(owner, p);
    /* owner may be gone from here on: only the record is looked at */
    atomic_store(&r->pending, 1);
    if (atomic_load(&r->state) == OM_SH_ABANDONED) (void)reap(r);
}

void om__shim_thread_exit(void)
{
    om_shim_heap *r = tls_rec;
    if (!r) return;
    om__shim_tls_heap = NULL;
    tls_rec = NULL;
    tls_state = TLS_DEAD; /* from now on: the shared heap */
    (void)om__delayed_drain(r->heap);
    atomic_store(&r->state, OM_SH_ABANDONED);
    (void)reap(r);
}

/* Other keys' destructors may still allocate: keep the heap for the
 * rounds glibc runs but the last, where the sanitizers' runtimes end the
 * thread's own state (what allocates after that gets the shared heap). */
static void key_destructor(void *v)
{
    if (++tls_rounds < PTHREAD_DESTRUCTOR_ITERATIONS - 1) {
        pthread_setspecific(exit_key, v);
        return;
    }
    om__shim_thread_exit();
}

size_t om__shim_reap_abandoned(void)
{
    size_t n = 0;
    for (om_shim_heap *r = atomic_load(&records); r; r = r->next)
        if (atomic_load(&r->state) == OM_SH_ABANDONED) n += (size_t)reap(r);
    return n;
}

/* ------------------------------------------------------ the shared heap */

/* While a thread holds the shared lock, what it allocates itself (the
 * tracer's symbolizer, pthread_getattr_np inside a traceback capture)
 * comes from the reentry heap, as its own heap for the time: never the
 * shared heap again, which it is in the middle of changing. */
static om_heap *reentry; /* under shared_lock */
static __thread om_heap *tls_saved __attribute__((tls_model("initial-exec")));
static __thread int tls_in_shared __attribute__((tls_model("initial-exec")));

int om__shim_in_shared(void)
{
    return tls_in_shared;
}

om_heap *om__shim_shared_lock(void)
{
    pthread_mutex_lock(&shared_lock);
    tls_in_shared = 1;
    tls_saved = om__shim_tls_heap;
    if (!reentry) reentry = om__shim_heap_new_detached();
    om__shim_tls_heap = reentry;
    if (!shared_rec) {
        om_shim_heap *r = claim_free_record();
        if (r && !(r->heap = make_heap(r))) {
            atomic_store(&r->state, OM_SH_FREE);
            r = NULL;
        }
        if (r) atomic_store(&r->state, OM_SH_SHARED);
        shared_rec = r;
        if (r) om__shim_trace_shared_made(r->heap);
    }
    return shared_rec ? shared_rec->heap : NULL;
}

void om__shim_shared_unlock(void)
{
    if (shared_rec) om__shim_trace_tick(shared_rec->heap);
    om__shim_tls_heap = tls_saved;
    tls_in_shared = 0;
    pthread_mutex_unlock(&shared_lock);
}

void *om__shim_shared_malloc(size_t size)
{
    om_heap *h = om__shim_shared_lock();
    void *p = h ? om_malloc(h, size) : NULL;
    om__shim_shared_unlock();
    return p;
}

void om__shim_shared_free(void *p)
{
    om_heap *h = om__shim_shared_lock();
    om_free(h, p);
    om__shim_shared_unlock();
}

om_heap *om__shim_heap_new_detached(void)
{
    om_shim_heap *r = claim_free_record();
    if (!r) return NULL;
    if (!(r->heap = make_heap(r))) {
        atomic_store(&r->state, OM_SH_FREE);
        return NULL;
    }
    atomic_store(&r->state, OM_SH_OWNED);
    return r->heap;
}

/* ------------------------------------------------------------ fork */

/* The forking thread's heap stays consistent (fork is not called from
 * inside malloc); the shared heap is made consistent by its lock. Heaps
 * other threads were using may be half-way through an update in the
 * child: they become zombies, never used or reaped again (their blocks
 * freed in the child wait on their delayed lists). docs/shim.md ("fork"). */
static void fork_prepare(void)
{
    pthread_mutex_lock(&shared_lock);
    pthread_mutex_lock(&view_lock);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&view_lock);
    pthread_mutex_unlock(&shared_lock);
}

static void fork_child(void)
{
    om__shim_trace_fork_child();
    pthread_mutex_init(&view_lock, NULL);
    pthread_mutex_init(&shared_lock, NULL);
    for (om_shim_heap *r = atomic_load(&records); r; r = r->next) {
        int s = atomic_load(&r->state);
        if (r == tls_rec || r == shared_rec) continue;
        if (s == OM_SH_OWNED || s == OM_SH_CLAIMED) atomic_store(&r->state, OM_SH_ZOMBIE);
    }
    if (tls_rec) tls_rec->owner = (unsigned long)pthread_self();
}

/* ------------------------------------------------------------ views */

void om__shim_view(unsigned states_mask, void (*fn)(om_heap *h, void *arg), void *arg)
{
    states_mask &= (1u << OM_SH_OWNED) | (1u << OM_SH_ABANDONED) | (1u << OM_SH_SHARED);
    pthread_mutex_lock(&view_lock);
    for (om_shim_heap *r = atomic_load(&records); r; r = r->next) {
        int s = atomic_load(&r->state); /* r->heap was set before the state */
        if ((states_mask >> s) & 1) fn(r->heap, arg);
    }
    pthread_mutex_unlock(&view_lock);
}

void om__shim_counts(om_shim_counts *c)
{
    c->records = atomic_load(&n_records);
    c->made = atomic_load(&n_made);
    c->adopted = atomic_load(&n_adopted);
    c->reaped = atomic_load(&n_reaped);
    c->abandoned_now = 0;
    for (om_shim_heap *r = atomic_load(&records); r; r = r->next)
        c->abandoned_now += atomic_load(&r->state) == OM_SH_ABANDONED;
}
