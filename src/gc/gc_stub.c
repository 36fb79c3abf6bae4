/*
 * gc_stub.c - placeholder for the collector (issue 4): init, fini and the
 * hooks the lower layers call. Replaced by src/gc/collect.c and friends.
 */
#include "internal/heap.h"

int om__gc_init(om_heap *h)
{
    h->gc.threshold[0] = 2000;
    h->gc.threshold[1] = 10;
    h->gc.threshold[2] = 10;
    h->gc.enabled = 1;
    return 0;
}

void om__gc_fini(om_heap *h) { (void)h; }
void om__gc_on_free(om_heap *h, om_object *o)
{
    (void)h;
    o->gc &= ~(uint32_t)OM_GCW_WEAKREFS;
}
int om__gc_check(om_heap *h, FILE *out)
{
    (void)h;
    (void)out;
    return 0;
}
void om__gc_print_stats(om_heap *h, FILE *out)
{
    (void)h;
    (void)out;
}
