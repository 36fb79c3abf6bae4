/*
 * types.h (internal) - the built-in types' per-heap state: singletons,
 * small-int cache, free lists, intern table. Design note: docs/types.md.
 */
#ifndef OM_INTERNAL_TYPES_H
#define OM_INTERNAL_TYPES_H

#include "om.h"

typedef struct om__typestate {
    void *impl; /* the types layer's private state */
} om__typestate;

int om__types_init(om_heap *h);
void om__types_fini(om_heap *h);
int om__types_check(om_heap *h, FILE *out);
void om__types_print_stats(om_heap *h, FILE *out);

#endif
