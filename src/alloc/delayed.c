/*
 * delayed.c - the delayed-free list (src/internal/delayed.h): a Treiber
 * stack of freed blocks linked through their first word. Pushes are a
 * compare-and-swap on the head (sequentially consistent, like the drain:
 * the shim orders pushes against its heap states, docs/shim.md); the
 * drain swaps the whole list out at once, so
 * there is no pop and no ABA problem. Design note: docs/shim.md.
 */
#include "internal/delayed.h"

void om__delayed_push(om_heap *h, void *p)
{
    om__block *b = p;
    om__block *head = atomic_load_explicit(&h->delayed, memory_order_relaxed);
    do {
        b->next = head;
    } while (!atomic_compare_exchange_weak_explicit(&h->delayed, &head, b, memory_order_seq_cst,
                                                    memory_order_relaxed));
}

size_t om__delayed_drain(om_heap *h)
{
    size_t n = 0;
    om__block *b = atomic_exchange(&h->delayed, NULL);
    while (b) {
        om__block *next = b->next;
        om_free(h, b);
        b = next;
        n++;
    }
    return n;
}
