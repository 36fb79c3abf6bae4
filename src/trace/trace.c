/*
 * trace.c - the tracer: start and stop, the allocator's hooks, the trace
 * table (live blocks and tracked ranges → size and traceback), traced
 * memory and its peak, and the debug report of a block's traceback.
 * Design note: docs/trace.md.
 *
 * All of the tracer's memory comes from the heap's seam (om__sys_malloc),
 * never from om_malloc: tracing never traces itself.
 */
#include "trace_int.h"

static inline size_t slot_of(uintptr_t ptr, unsigned domain, size_t mask)
{
    uint64_t x = (uint64_t)ptr ^ ((uint64_t)domain << 48);
    x *= 0x9E3779B97F4A7C15ULL;
    return (size_t)(x >> 32) & mask;
}

/* ------------------------------------------------------------ the table */

om__trace *om__trace_find(om__tracestate *t, unsigned domain, uintptr_t ptr)
{
    if (!t->traces) return NULL;
    size_t i = slot_of(ptr, domain, t->mask);
    for (;;) {
        om__trace *e = &t->traces[i];
        if (!e->ptr) return NULL;
        if (e->ptr == ptr && e->domain == domain) return e;
        i = (i + 1) & t->mask;
    }
}

static int table_grow(om_heap *h, om__tracestate *t)
{
    size_t cap = t->traces ? (t->mask + 1) * 2 : 1024;
    om__trace *nt = om__sys_calloc(h, cap, sizeof *nt);
    if (!nt) return -1;
    for (size_t i = 0; t->traces && i <= t->mask; i++) {
        om__trace *e = &t->traces[i];
        if (!e->ptr) continue;
        size_t j = slot_of(e->ptr, e->domain, cap - 1);
        while (nt[j].ptr) j = (j + 1) & (cap - 1);
        nt[j] = *e;
    }
    if (t->traces) om__sys_free(h, t->traces, (t->mask + 1) * sizeof *t->traces);
    t->traces = nt;
    t->mask = cap - 1;
    return 0;
}

/* Add or replace the trace of (domain, ptr). */
static int table_put(om_heap *h, om__tracestate *t, unsigned domain, uintptr_t ptr, size_t size,
                     om__tb *tb)
{
    if (om__unlikely((t->n_traces + 1) * 4 > (t->mask + 1) * 3 || !t->traces))
        if (table_grow(h, t) < 0) return -1;
    size_t i = slot_of(ptr, domain, t->mask);
    for (;;) {
        om__trace *e = &t->traces[i];
        if (!e->ptr) {
            e->ptr = ptr;
            e->domain = domain;
            t->n_traces++;
            break;
        }
        if (e->ptr == ptr && e->domain == domain) {
            t->current -= e->size;
            break;
        }
        i = (i + 1) & t->mask;
    }
    t->traces[i].size = size;
    t->traces[i].tb = tb;
    t->current += size;
    if (t->current > t->peak) t->peak = t->current;
    return 0;
}

/* Remove e from the table by shifting later entries of its probe run back
 * (no tombstones; Knuth 6.4 algorithm R). */
static void table_del(om__tracestate *t, om__trace *e)
{
    size_t i = (size_t)(e - t->traces), j = i;
    t->current -= e->size;
    t->n_traces--;
    for (;;) {
        j = (j + 1) & t->mask;
        om__trace *f = &t->traces[j];
        if (!f->ptr) break;
        size_t k = slot_of(f->ptr, f->domain, t->mask);
        /* f may move to i when its home k is not cyclically in (i, j] */
        if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j)) continue;
        t->traces[i] = *f;
        i = j;
    }
    t->traces[i].ptr = 0;
}

/* ------------------------------------------------------------ hooks */

void om__trace_on_alloc(om_heap *h, void *p, size_t size)
{
    om__tracestate *t = h->trace;
    om__tb *tb = om__trace_capture(h, t);
    if (om__likely(tb != NULL)) table_put(h, t, 0, (uintptr_t)p, size, tb);
}

void om__trace_on_free(om_heap *h, void *p)
{
    om__tracestate *t = h->trace;
    om__trace *e = om__trace_find(t, 0, (uintptr_t)p);
    if (e) {
        unsigned i = t->nfreed++ & 7;
        t->freed[i].ptr = e->ptr;
        t->freed[i].tb = e->tb;
        table_del(t, e);
    }
}

/* ------------------------------------------------------------ lifecycle */

int om_trace_start(om_heap *h, int nframe)
{
    if (nframe < 1 || nframe > OM_TRACE_MAX_FRAMES)
        return om__err(h, OM_EINVAL, "om_trace_start: nframe %d is not in 1..%d", nframe,
                       OM_TRACE_MAX_FRAMES);
    if (h->trace) {
        h->trace->nframe = nframe;
        return 0;
    }
    om__tracestate *t = om__sys_calloc(h, 1, sizeof *t);
    if (!t) return OM_ENOMEM;
    t->scratch = om__sys_calloc(h, OM_TRACE_MAX_FRAMES, sizeof *t->scratch);
    if (!t->scratch) {
        om__sys_free(h, t, sizeof *t);
        return OM_ENOMEM;
    }
    t->nframe = nframe;
    h->trace = t;
    h->hooks |= OM_HOOK_TRACE;
    return 0;
}

void om_trace_stop(om_heap *h)
{
    om__tracestate *t = h->trace;
    if (!t) return;
    h->hooks &= ~(unsigned)OM_HOOK_TRACE;
    h->trace = NULL;
    if (t->traces) om__sys_free(h, t->traces, (t->mask + 1) * sizeof *t->traces);
    if (t->tbs) om__sys_free(h, t->tbs, t->tbs_cap * sizeof *t->tbs);
    om__pset_free(h, &t->tbset);
    om__pset_free(h, &t->frameset);
    om__pset_free(h, &t->strset);
    om__bump_release(h, &t->bump);
    om__sys_free(h, t->scratch, OM_TRACE_MAX_FRAMES * sizeof *t->scratch);
    om__sys_free(h, t, sizeof *t);
}

void om__trace_fini(om_heap *h) { om_trace_stop(h); }

int om_trace_is_tracing(const om_heap *h) { return h->trace != NULL; }

int om_trace_get_traceback_limit(const om_heap *h) { return h->trace ? h->trace->nframe : 0; }

void om_trace_get_traced_memory(const om_heap *h, size_t *current, size_t *peak)
{
    const om__tracestate *t = h->trace;
    if (current) *current = t ? t->current : 0;
    if (peak) *peak = t ? t->peak : 0;
}

void om_trace_reset_peak(om_heap *h)
{
    if (h->trace) h->trace->peak = h->trace->current;
}

size_t om_trace_get_memory(const om_heap *h)
{
    const om__tracestate *t = h->trace;
    if (!t) return 0;
    return sizeof *t + OM_TRACE_MAX_FRAMES * sizeof *t->scratch +
           (t->traces ? (t->mask + 1) * sizeof *t->traces : 0) + t->tbs_cap * sizeof *t->tbs +
           om__pset_bytes(&t->tbset) + om__pset_bytes(&t->frameset) +
           om__pset_bytes(&t->strset) + t->bump.bytes;
}

void om_trace_set_frame_provider(om_heap *h, om_frame_provider fn, void *ctx)
{
    if (!h->trace) return;
    h->trace->provider = fn;
    h->trace->provider_ctx = ctx;
}

/* ------------------------------------------------------------ tracking */

int om_trace_track(om_heap *h, unsigned domain, uintptr_t ptr, size_t size)
{
    om__tracestate *t = h->trace;
    if (!t) return om__err(h, OM_ESTATE, "om_trace_track: not tracing");
    if (!ptr) return om__err(h, OM_EINVAL, "om_trace_track: a NULL pointer");
    om__tb *tb = om__trace_capture(h, t);
    if (!tb || table_put(h, t, domain, ptr, size, tb) < 0) return OM_ENOMEM;
    return 0;
}

int om_trace_untrack(om_heap *h, unsigned domain, uintptr_t ptr)
{
    om__tracestate *t = h->trace;
    if (!t) return om__err(h, OM_ESTATE, "om_trace_untrack: not tracing");
    om__trace *e = om__trace_find(t, domain, ptr);
    if (!e) return om__err(h, OM_EKEY, "om_trace_untrack: (%u, %#lx) is not traced", domain,
                           (unsigned long)ptr);
    table_del(t, e);
    return 0;
}

/* ------------------------------------------------------------ reports */

void om__trace_report_block(om_heap *h, const void *p, FILE *out)
{
    om__tracestate *t = h->trace;
    om__trace *e = om__trace_find(t, 0, (uintptr_t)p);
    const om__tb *raw = e ? e->tb : NULL;
    for (unsigned i = 1; !raw && i <= 8; i++) { /* freed just before the report? */
        unsigned k = (t->nfreed - i) & 7;
        if (t->freed[k].ptr == (uintptr_t)p) raw = t->freed[k].tb;
    }
    om_traceback *tb = raw ? om__tb_export(h, raw, t->nframe) : NULL;
    if (!tb) return;
    fprintf(out, "Memory block allocated at (most recent call first):\n");
    for (uint32_t i = 0; i < tb->nframe; i++)
        fprintf(out, "  File \"%s\", line %u\n", tb->frames[i].filename, tb->frames[i].lineno);
    om_traceback_free(h, tb);
}

void om__trace_print_stats(om_heap *h, FILE *out)
{
    const om__tracestate *t = h->trace;
    if (!t) return;
    fprintf(out, "tracing: %zu traces, %zu bytes traced (peak %zu), %zu tracebacks, "
                 "%d frames each, %zu bytes of tracer memory\n",
            t->n_traces, t->current, t->peak, t->ntbs, t->nframe, om_trace_get_memory(h));
}
