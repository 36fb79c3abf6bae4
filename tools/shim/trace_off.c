/*
 * trace_off.c - the shim without `objmem trace` (libobjmem-malloc.so): the
 * tracer, its unwinder and its symbolizer (libunwind, libdw and what they
 * load) stay out of every process that only wants the allocator. They
 * cost about 1 MiB of resident memory and a millisecond of start-up per
 * process (bench/RESULTS.md, "The shim without the tracer"). `objmem trace`
 * preloads libobjmem-malloc-trace.so, the same shim with trace.c.
 * Design note: docs/shim.md ("objmem trace").
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim_trace.h"

static _Atomic int warned;

/* OBJMEM_TRACE set by hand with this library: said once, then ignored. */
int om__shim_trace_on(void)
{
    if (!atomic_exchange(&warned, 1) && getenv("OBJMEM_TRACE")) {
        static const char msg[] = "objmem: OBJMEM_TRACE is ignored by libobjmem-malloc.so; "
                                  "trace with `objmem trace -- PROG` "
                                  "(LD_PRELOAD=libobjmem-malloc-trace.so)\n";
        (void)!write(2, msg, sizeof msg - 1);
    }
    return 0;
}

void om__shim_trace_shared_made(om_heap *h)
{
    (void)h;
}

void om__shim_trace_tick(om_heap *h)
{
    (void)h;
}

void om__shim_trace_fork_child(void) {}
