/*
 * shim_trace.h - `objmem trace` inside the shim (trace.c): tracing of the
 * heaps the shim makes, the snapshot at exit and on SIGUSR2.
 * Design note: docs/shim.md ("objmem trace"). Never installed.
 */
#ifndef OM_SHIM_TRACE_H
#define OM_SHIM_TRACE_H

#include "shim.h"

/* A heap was made: start tracing it when tracing is on. */
void om__shim_trace_heap_made(om_heap *h);
/* A heap is about to be destroyed. */
void om__shim_trace_heap_gone(om_heap *h);
/* 1 when the program runs under `objmem trace` (every thread then uses
 * the shared heap, so one snapshot holds everything). */
int om__shim_trace_on(void);
void om__shim_trace_fork_prepare(void);
void om__shim_trace_fork_parent(void);
void om__shim_trace_fork_child(void);

#endif
