/*
 * gc.h (internal) - the collector's state in the heap. The generations
 * themselves are bitmaps in GC pools (alloc.h) and a field of large GC
 * blocks. Design note: docs/gc.md.
 */
#ifndef OM_INTERNAL_GC_H
#define OM_INTERNAL_GC_H

#include "om.h"

typedef struct om__pool om__pool;

typedef struct om__gcstate {
    om__pool *gen_pools[2];  /* pools that may hold young / middle objects   */
    long count[3];           /* gen0: tracked allocations minus deallocations;
                                gen1, gen2: collections of the younger one   */
    long threshold[3];       /* 2000, 10, 10 as in CPython 3.11             */
    int enabled;             /* automatic collection                        */
    int collecting;          /* a collection is running                     */
    /* Called by object creation when count[0] passes threshold[0] (set by
     * the collector at init; NULL = none). */
    void (*on_threshold)(om_heap *h);
    void *impl;              /* the collector's private state               */
} om__gcstate;

int om__gc_init(om_heap *h);
void om__gc_fini(om_heap *h);
/* Called when a tracked object is freed: weak references and bookkeeping. */
void om__gc_on_free(om_heap *h, om_object *o);
int om__gc_check(om_heap *h, FILE *out);
void om__gc_print_stats(om_heap *h, FILE *out);

#endif
