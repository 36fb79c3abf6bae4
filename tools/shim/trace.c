/*
 * trace.c - `objmem trace` inside the shim. Stub until the tracer lands.
 */
#include "shim_trace.h"

void om__shim_trace_heap_made(om_heap *h)
{
    (void)h;
}
void om__shim_trace_heap_gone(om_heap *h)
{
    (void)h;
}
int om__shim_trace_on(void)
{
    return 0;
}
void om__shim_trace_fork_prepare(void) {}
void om__shim_trace_fork_parent(void) {}
void om__shim_trace_fork_child(void) {}
