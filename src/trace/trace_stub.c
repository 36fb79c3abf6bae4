/*
 * trace_stub.c - placeholder for tracing (issue 6): the hooks the
 * allocator calls. Replaced by the tracer.
 */
#include "internal/heap.h"

void om__trace_on_alloc(om_heap *h, void *p, size_t size)
{
    (void)h;
    (void)p;
    (void)size;
}
void om__trace_on_free(om_heap *h, void *p)
{
    (void)h;
    (void)p;
}
void om__trace_fini(om_heap *h) { (void)h; }
void om__trace_report_block(om_heap *h, const void *p, FILE *out)
{
    (void)h;
    (void)p;
    (void)out;
}
void om__trace_print_stats(om_heap *h, FILE *out)
{
    (void)h;
    (void)out;
}
