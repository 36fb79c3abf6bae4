/*
 * om_fault.h - fault injection through the heap's seam, in the manner of
 * SQLite's test_malloc.c: the Nth request the heap makes (pages or system
 * allocator) fails, once. om_fault_run drives a workload for N = 0, 1, 2,
 * ... until it completes without reaching the fault.
 */
#ifndef OM_FAULT_H
#define OM_FAULT_H

#include "objmem.h"

typedef struct om_fault {
    om_sys inner;   /* the real seam                         */
    long countdown; /* requests left before the failing one  */
    long requests;  /* requests seen                         */
    int fired;      /* the fault happened                    */
} om_fault;

/* A config whose seam is f wrapping the default one, failing request n
 * (n < 0: never). */
void om_fault_config(om_config *cfg, om_fault *f, long n);

/* Run workload(h, arg) on a fresh heap for n = 0, 1, ... until a run does
 * not reach its fault; after each run: om_heap_check passes, the heap is
 * still usable, destroy leaks nothing. Returns the number of runs. */
long om_fault_run(int (*workload)(om_heap *h, void *arg), void *arg, long max_runs);

#endif
