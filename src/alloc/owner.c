/*
 * owner.c - the "one heap, one thread at a time" check of the slow paths
 * (src/internal/heap.h, om__enter). A thread is named by the address of a
 * thread-local byte: no call, unique among live threads. Entering is one
 * compare-and-swap of om_heap.user from 0 to that name; a thread that
 * finds another name there is the second thread inside the heap at once.
 * Design note: docs/reliability.md ("Misuse").
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal/heap.h"

static _Thread_local char thread_tag;

static om__cold __attribute__((noreturn)) void clash(om_heap *h, uintptr_t other, const char *where)
{
    fprintf(h->report,
            "objmem: heap %p used by two threads at once: thread %#lx is inside %s while "
            "thread %#lx enters %s (a heap is used by one thread at a time)\n",
            (void *)h, (unsigned long)other, h->user_where ? h->user_where : "?",
            (unsigned long)(uintptr_t)&thread_tag, where);
    fflush(h->report);
    abort();
}

void om__enter(om_heap *h, const char *where)
{
    uintptr_t me = (uintptr_t)&thread_tag, cur = 0;
    if (atomic_compare_exchange_strong_explicit(&h->user, &cur, me, memory_order_acquire,
                                                memory_order_relaxed)) {
        h->user_depth = 1;
        h->user_where = where;
        return;
    }
    if (om__unlikely(cur != me)) clash(h, cur, where);
    h->user_depth++;
}

void om__leave(om_heap *h)
{
    if (--h->user_depth == 0) atomic_store_explicit(&h->user, 0, memory_order_release);
}
