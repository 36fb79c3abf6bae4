/*
 * trace.h (internal) - the tracer's hooks into the allocator. The state
 * exists only while tracing is on (heap->trace != NULL and OM_HOOK_TRACE).
 * Design note: docs/trace.md.
 */
#ifndef OM_INTERNAL_TRACE_H
#define OM_INTERNAL_TRACE_H

#include "om.h"

typedef struct om__tracestate om__tracestate;

/* A block of size requested bytes was handed out at p (payload). */
void om__trace_on_alloc(om_heap *h, void *p, size_t size);
/* The block at p is being freed. */
void om__trace_on_free(om_heap *h, void *p);
void om__trace_fini(om_heap *h);
/* At destroy, while tracing: print the live traces grouped by traceback to
 * out (NULL: no report) and dump them to path (NULL: no file). */
void om__trace_report_leaks(om_heap *h, FILE *out, const char *path);
/* Print "Memory block allocated at" and the traceback of p, if traced. */
void om__trace_report_block(om_heap *h, const void *p, FILE *out);
void om__trace_print_stats(om_heap *h, FILE *out);
/* Verify the tracer's invariants (src/trace/trace_int.h); 0 or a negative
 * code after writing what broke to out. 0 when not tracing. */
int om__trace_check(om_heap *h, FILE *out);

#endif
