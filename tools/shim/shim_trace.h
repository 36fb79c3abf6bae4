/*
 * shim_trace.h - `objmem trace` inside the shim (trace.c): the environment
 * that turns it on, tracing of the shared heap every thread then uses, the
 * snapshot at exit, on SIGUSR2 and every --interval.
 * Design note: docs/shim.md ("objmem trace"). Never installed.
 */
#ifndef OM_SHIM_TRACE_H
#define OM_SHIM_TRACE_H

#include "shim.h"

/* 1 when the program runs under `objmem trace` (OBJMEM_TRACE=FILE in the
 * environment): every thread then uses the shared heap, so one tracer sees
 * every block and one snapshot holds them. */
int om__shim_trace_on(void);
/* The shared heap was just made (its lock held): start tracing it. */
void om__shim_trace_shared_made(om_heap *h);
/* Called with the shared lock held after each call: writes the snapshots
 * SIGUSR2 or the interval asked for. */
void om__shim_trace_tick(om_heap *h);
/* In a fork child: its snapshots go to FILE.PID. */
void om__shim_trace_fork_child(void);

#endif
