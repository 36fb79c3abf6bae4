/*
 * delayed.h - the delayed-free list of a heap: raw blocks freed by a
 * thread other than the one using the heap. Any thread may push (a
 * lock-free atomic push); the heap's user takes the whole list at once on
 * its next allocation slow path and frees the blocks there. This is the
 * one part of a heap that another thread may touch.
 * Design note: docs/shim.md ("Threads"). Never installed.
 */
#ifndef OM_INTERNAL_DELAYED_H
#define OM_INTERNAL_DELAYED_H

#include <stdatomic.h>

#include "heap.h"

/* Queue live raw block p of h (from om_malloc of h) to be freed by h's
 * user. Any thread, any time while h exists; lock-free. Overwrites the
 * first word of p. */
void om__delayed_push(om_heap *h, void *p);

/* Free every queued block of h now (om_free on each). Only the heap's
 * user calls this (it is the only one allowed to change h). Returns the
 * number of blocks freed. */
size_t om__delayed_drain(om_heap *h);

/* 1 when blocks are waiting (a relaxed read: a push seen late is taken on
 * the next slow path). */
static inline int om__delayed_pending(om_heap *h)
{
    return atomic_load_explicit(&h->delayed, memory_order_relaxed) != NULL;
}

/* The slow paths call this first: the queue is taken there, never on the
 * fast paths. */
static inline void om__delayed_collect(om_heap *h)
{
    if (om__unlikely(om__delayed_pending(h))) (void)om__delayed_drain(h);
}

#endif
