/*
 * types_stub.c - placeholder for the built-in types (issue 5).
 */
#include "internal/heap.h"

int om__types_init(om_heap *h)
{
    (void)h;
    return 0;
}
void om__types_fini(om_heap *h) { (void)h; }
int om__types_check(om_heap *h, FILE *out)
{
    (void)h;
    (void)out;
    return 0;
}
void om__types_print_stats(om_heap *h, FILE *out)
{
    (void)h;
    (void)out;
}
