/*
 * trace.c - the tracer: start and stop, the allocator's hooks, where traces
 * live (per-pool side tables for small blocks, a hash table for the rest),
 * traced memory and its peak, track/untrack, the invariant check, and the
 * debug report of a block's traceback.
 * Design note: docs/trace.md.
 *
 * All of the tracer's memory comes from the heap's seam (om__sys_malloc),
 * never from om_malloc: tracing never traces itself.
 */
#include <stdlib.h>
#include <string.h>

#include "trace_int.h"

static inline size_t slot_of(uintptr_t ptr, unsigned domain, size_t mask)
{
    uint64_t x = (uint64_t)ptr ^ ((uint64_t)domain << 48);
    x ^= x >> 33; /* fmix64 of MurmurHash3 */
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return (size_t)x & mask;
}

/* ------------------------------------------------------------ the table */

static om__trace *table_find(om__tracestate *t, unsigned domain, uintptr_t ptr)
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
    if (om__unlikely((t->n_traces + 1) * 2 > t->mask + 1 || !t->traces))
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
            om__tb_sub(t, e->tb, e->size);
            break;
        }
        i = (i + 1) & t->mask;
    }
    t->traces[i].size = size;
    t->traces[i].tb = tb;
    om__tb_add(h, t, tb, size);
    return 0;
}

/* Remove e from the table by shifting later entries of its probe run back
 * (no tombstones; Knuth 6.4 algorithm R). */
static void table_del(om__tracestate *t, om__trace *e)
{
    size_t i = (size_t)(e - t->traces), j = i;
    om__tb_sub(t, e->tb, e->size);
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

/* ------------------------------------------------------- side tables */

static inline size_t arena_hash(uintptr_t base, size_t mask)
{
    return (size_t)(((base >> OM_ARENA_SHIFT) * 0x9E3779B97F4A7C15ULL) >> 40) & mask;
}

static om__tarena *arena_find(om__tracestate *t, uintptr_t base)
{
    if (!t->arenas) return NULL;
    for (size_t i = arena_hash(base, t->amask);; i = (i + 1) & t->amask) {
        om__tarena *a = t->arenas[i];
        if (!a || a->base == base) return a;
    }
}

static void arena_insert(om__tarena **v, size_t mask, om__tarena *a)
{
    size_t i = arena_hash(a->base, mask);
    while (v[i]) i = (i + 1) & mask;
    v[i] = a;
}

static om__tarena *arena_add(om_heap *h, om__tracestate *t, uintptr_t base)
{
    if ((t->narenas + 1) * 2 > t->amask + 1 || !t->arenas) {
        size_t cap = t->arenas ? (t->amask + 1) * 2 : 64;
        om__tarena **v = om__sys_calloc(h, cap, sizeof *v);
        if (!v) return NULL;
        for (size_t i = 0; t->arenas && i <= t->amask; i++)
            if (t->arenas[i]) arena_insert(v, cap - 1, t->arenas[i]);
        if (t->arenas) om__sys_free(h, t->arenas, (t->amask + 1) * sizeof *v);
        t->arenas = v;
        t->amask = cap - 1;
    }
    om__tarena *a = om__sys_calloc(h, 1, sizeof *a);
    if (!a) return NULL;
    a->base = base;
    arena_insert(t->arenas, t->amask, a);
    t->narenas++;
    return a;
}

/* The side-table word of block p, or NULL when p is in no arena (or,
 * with create 0, when no word was ever made for it). */
static inline uint64_t *small_slot(om_heap *h, om__tracestate *t, uintptr_t p, int create)
{
    uintptr_t base = p & ~(uintptr_t)(OM_ARENA_SIZE - 1);
    om__tarena *a = t->last;
    if (om__unlikely(!a || a->base != base)) {
        a = arena_find(t, base);
        if (!a) {
            if (!create || !om__arena_of_ptr(&h->alloc, (void *)p)) return NULL;
            if (!(a = arena_add(h, t, base))) return NULL;
        }
        t->last = a;
    }
    unsigned pi = (unsigned)((p - base) >> OM_POOL_SHIFT);
    uint64_t *pool = a->pools[pi];
    if (om__unlikely(!pool)) {
        if (!create) return NULL;
        pool = a->pools[pi] = om__sys_calloc(h, OM_POOL_GRANULES, sizeof(uint64_t));
        if (!pool) return NULL;
        t->n_pools++;
    }
    return &pool[(p >> 4) & (OM_POOL_GRANULES - 1)];
}

static void side_release(om_heap *h, om__tracestate *t)
{
    for (size_t i = 0; t->arenas && i <= t->amask; i++) {
        om__tarena *a = t->arenas[i];
        if (!a) continue;
        for (unsigned k = 0; k < OM_POOLS_PER_ARENA; k++)
            if (a->pools[k]) om__sys_free(h, a->pools[k], OM_POOL_GRANULES * sizeof(uint64_t));
        om__sys_free(h, a, sizeof *a);
    }
    if (t->arenas) om__sys_free(h, t->arenas, (t->amask + 1) * sizeof *t->arenas);
}

/* ------------------------------------------------- traces of any kind */

static inline int packable(size_t size, const om__tb *tb)
{
    return size <= 0xFFFF && ((uintptr_t)tb >> 48) == 0;
}

/* Add or replace the trace of (domain, ptr). */
static int trace_set(om_heap *h, om__tracestate *t, unsigned domain, uintptr_t ptr, size_t size,
                     om__tb *tb)
{
    if (domain == 0 && packable(size, tb)) {
        uint64_t *w = small_slot(h, t, ptr, 1);
        if (w) {
            uint64_t old = *w;
            if (old)
                om__tb_sub(t, (om__tb *)(uintptr_t)(old >> 16), old & 0xFFFF);
            else
                t->n_small++;
            *w = ((uint64_t)(uintptr_t)tb << 16) | size;
            om__tb_add(h, t, tb, size);
            return 0;
        }
    }
    return table_put(h, t, domain, ptr, size, tb);
}

/* Remove the trace of (domain, ptr); its traceback, or NULL if none. */
static om__tb *trace_remove(om_heap *h, om__tracestate *t, unsigned domain, uintptr_t ptr)
{
    if (domain == 0) {
        uint64_t *w = small_slot(h, t, ptr, 0);
        if (w && *w) {
            om__tb *tb = (om__tb *)(uintptr_t)(*w >> 16);
            om__tb_sub(t, tb, *w & 0xFFFF);
            t->n_small--;
            *w = 0;
            return tb;
        }
    }
    om__trace *e = table_find(t, domain, ptr);
    if (!e) return NULL;
    om__tb *tb = e->tb;
    table_del(t, e);
    return tb;
}

om__tb *om__trace_get(om_heap *h, om__tracestate *t, unsigned domain, uintptr_t ptr, size_t *size)
{
    if (domain == 0) {
        uint64_t *w = small_slot(h, t, ptr, 0);
        if (w && *w) {
            *size = *w & 0xFFFF;
            return (om__tb *)(uintptr_t)(*w >> 16);
        }
    }
    om__trace *e = table_find(t, domain, ptr);
    if (!e) return NULL;
    *size = e->size;
    return e->tb;
}

void om__trace_foreach(om__tracestate *t,
                       void (*fn)(void *ctx, unsigned domain, uintptr_t ptr, size_t size,
                                  om__tb *tb),
                       void *ctx)
{
    for (size_t i = 0; t->arenas && i <= t->amask; i++) {
        om__tarena *a = t->arenas[i];
        for (unsigned k = 0; a && k < OM_POOLS_PER_ARENA; k++) {
            const uint64_t *pool = a->pools[k];
            for (unsigned g = 0; pool && g < OM_POOL_GRANULES; g++)
                if (pool[g])
                    fn(ctx, 0, a->base + k * OM_POOL_SIZE + (uintptr_t)g * OM_GRANULE,
                       (size_t)(pool[g] & 0xFFFF), (om__tb *)(uintptr_t)(pool[g] >> 16));
        }
    }
    for (size_t i = 0; t->traces && i <= t->mask; i++)
        if (t->traces[i].ptr)
            fn(ctx, t->traces[i].domain, t->traces[i].ptr, t->traces[i].size, t->traces[i].tb);
}

/* ------------------------------------------------------------ hooks */

void om__trace_on_alloc(om_heap *h, void *p, size_t size)
{
    om__tracestate *t = h->trace;
    om__tb *tb = om__trace_capture(h, t);
    if (om__likely(tb != NULL)) trace_set(h, t, 0, (uintptr_t)p, size, tb);
    t->nallocs++;
    if (om__unlikely(--t->sample_left <= 0)) om__trace_sample(h, t);
}

void om__trace_on_free(om_heap *h, void *p)
{
    om__tracestate *t = h->trace;
    om__tb *tb = trace_remove(h, t, 0, (uintptr_t)p);
    if (om__unlikely(--t->sample_left <= 0)) om__trace_sample(h, t);
    if (tb) {
        unsigned i = t->nfreed++ & 7;
        t->freed[i].ptr = (uintptr_t)p;
        t->freed[i].tb = tb;
    }
}

/* ------------------------------------------------------------ lifecycle */

static void choose_walk(om__tracestate *t);

int om_trace_start(om_heap *h, int nframe)
{
    if (nframe < 1 || nframe > OM_TRACE_MAX_FRAMES)
        return om__err(h, OM_EINVAL, "om_trace_start: nframe %d is not in 1..%d", nframe,
                       OM_TRACE_MAX_FRAMES);
    if (h->trace) {
        h->trace->nframe = nframe;
        choose_walk(h->trace);
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
    t->nranges = om__objmem_text_ranges(h, t->range_lo, t->range_hi, OM_TRACE_MAX_RANGES);
    h->trace = t;
    om__tc_flush_all(h); /* no cached block while a hook is on (heap.h) */
    om__alloc_set_hooks(h, h->hooks | OM_HOOK_TRACE);
    om__trace_series_init(t);
    const char *uw = getenv("OBJMEM_TRACE_UNWIND");
    om_trace_set_unwind(h, !uw                         ? OM_UNWIND_AUTO
                           : strcmp(uw, "fp") == 0     ? OM_UNWIND_FP
                           : strcmp(uw, "tables") == 0 ? OM_UNWIND_TABLES
                                                       : OM_UNWIND_AUTO);
    return 0;
}

/* The walk for the current mode and frame limit: frame pointers reach the
 * caller's first frame exactly (objmem has them), so nframe 1 needs no
 * tables. */
static void choose_walk(om__tracestate *t)
{
    int tables = t->unwind == OM_UNWIND_TABLES || (t->unwind == OM_UNWIND_AUTO && t->nframe > 1);
    t->tables = tables && om__trace_unwind_tables_available();
    if (t->tables) om__trace_unwind_init();
}

int om_trace_set_unwind(om_heap *h, om_unwind mode)
{
    om__tracestate *t = h->trace;
    if (!t) return om__err(h, OM_ESTATE, "om_trace_set_unwind: not tracing");
    if ((int)mode < OM_UNWIND_AUTO || mode > OM_UNWIND_TABLES)
        return om__err(h, OM_EINVAL, "om_trace_set_unwind: no mode %d", (int)mode);
    t->unwind = mode;
    choose_walk(t);
    return 0;
}

int om_trace_unwinds_with_tables(const om_heap *h)
{
    return h->trace && h->trace->tables;
}

void om_trace_stop(om_heap *h)
{
    om__tracestate *t = h->trace;
    if (!t) return;
    om__alloc_set_hooks(h, h->hooks & ~(unsigned)OM_HOOK_TRACE);
    h->trace = NULL;
    om__symtab_free(t->symtab);
    om__cfi_free(h, t);
    om__trace_series_free(h, t);
    if (t->traces) om__sys_free(h, t->traces, (t->mask + 1) * sizeof *t->traces);
    side_release(h, t);
    if (t->tbs) om__sys_free(h, t->tbs, t->tbs_cap * sizeof *t->tbs);
    om__pset_free(h, &t->tbset);
    om__pset_free(h, &t->frameset);
    om__pset_free(h, &t->strset);
    om__bump_release(h, &t->bump);
    om__sys_free(h, t->scratch, OM_TRACE_MAX_FRAMES * sizeof *t->scratch);
    om__sys_free(h, t, sizeof *t);
}

void om__trace_fini(om_heap *h)
{
    om_trace_stop(h);
}

int om_trace_is_tracing(const om_heap *h)
{
    return h->trace != NULL;
}

int om_trace_get_traceback_limit(const om_heap *h)
{
    return h->trace ? h->trace->nframe : 0;
}

void om_trace_get_traced_memory(const om_heap *h, size_t *current, size_t *peak)
{
    const om__tracestate *t = h->trace;
    if (current) *current = t ? t->current : 0;
    if (peak) *peak = t ? t->peak : 0;
}

void om_trace_reset_peak(om_heap *h)
{
    if (!h->trace) return;
    h->trace->peak = h->trace->current;
    om__trace_record_peak(h, h->trace);
}

size_t om_trace_get_memory(const om_heap *h)
{
    const om__tracestate *t = h->trace;
    if (!t) return 0;
    return sizeof *t + OM_TRACE_MAX_FRAMES * sizeof *t->scratch +
           (t->traces ? (t->mask + 1) * sizeof *t->traces : 0) + t->tbs_cap * sizeof *t->tbs +
           om__pset_bytes(&t->tbset) + om__pset_bytes(&t->frameset) +
           (t->arenas ? (t->amask + 1) * sizeof *t->arenas : 0) + t->narenas * sizeof(om__tarena) +
           t->n_pools * OM_POOL_GRANULES * sizeof(uint64_t) + om__pset_bytes(&t->strset) +
           t->bump.bytes + om__cfi_bytes(t);
}

void om_trace_clear_traces(om_heap *h)
{
    om__tracestate *t = h->trace;
    if (!t) return;
    if (t->traces) om__sys_free(h, t->traces, (t->mask + 1) * sizeof *t->traces);
    side_release(h, t);
    t->traces = NULL;
    t->arenas = NULL;
    t->last = NULL;
    t->mask = t->n_traces = t->amask = t->narenas = t->n_small = t->n_pools = 0;
    t->current = t->peak = 0;
    for (size_t i = 0; i < t->ntbs; i++) t->tbs[i]->live_size = t->tbs[i]->live_count = 0;
    memset(t->freed, 0, sizeof t->freed);
    size_t every = t->sample_every;
    uint64_t ns = t->sample_ns;
    unsigned step = t->peak_step;
    om__trace_series_free(h, t);
    t->nallocs = 0;
    t->peak_rec = 0;
    om__trace_series_init(t);
    t->peak_step = step;
    om_trace_set_sampling(h, every, ns);
}

int om_trace_set_frame_provider(om_heap *h, om_frame_provider fn, void *ctx)
{
    if (!h->trace) return om__err(h, OM_ESTATE, "om_trace_set_frame_provider: not tracing");
    h->trace->provider = fn;
    h->trace->provider_ctx = ctx;
    return 0;
}

/* ------------------------------------------------------------ tracking */

int om_trace_track(om_heap *h, unsigned domain, uintptr_t ptr, size_t size)
{
    om__tracestate *t = h->trace;
    if (!t) return om__err(h, OM_ESTATE, "om_trace_track: not tracing");
    if (!ptr) return om__err(h, OM_EINVAL, "om_trace_track: a NULL pointer");
    size_t old = 0;
    om__trace_get(h, t, domain, ptr, &old);
    if (size > old && size - old > SIZE_MAX - t->current) /* current - old + size wraps */
        return om__err(h, OM_EINVAL, "om_trace_track: %zu bytes would overflow the traced total",
                       size);
    om__tb *tb = om__trace_capture(h, t);
    if (!tb || trace_set(h, t, domain, ptr, size, tb) < 0) return OM_ENOMEM;
    return 0;
}

int om_trace_untrack(om_heap *h, unsigned domain, uintptr_t ptr)
{
    om__tracestate *t = h->trace;
    if (!t) return om__err(h, OM_ESTATE, "om_trace_untrack: not tracing");
    if (!trace_remove(h, t, domain, ptr))
        return om__err(h, OM_EKEY, "om_trace_untrack: (%u, %#lx) is not traced", domain,
                       (unsigned long)ptr);
    return 0;
}

/* ------------------------------------------------------------ checks */

typedef struct check_ctx {
    const om__tracestate *t;
    size_t n, bytes, bad_tb;
} check_ctx;

static void check_one(void *ctx, unsigned domain, uintptr_t ptr, size_t size, om__tb *tb)
{
    check_ctx *c = ctx;
    (void)domain;
    (void)ptr;
    c->n++;
    c->bytes += size;
    if (!tb || tb->id >= c->t->ntbs || c->t->tbs[tb->id] != tb) c->bad_tb++;
}

static size_t tb_live_sum(const om__tracestate *t)
{
    size_t sum = 0;
    for (size_t i = 0; i < t->ntbs; i++) sum += t->tbs[i]->live_size;
    return sum;
}

int om__trace_check(om_heap *h, FILE *out)
{
    om__tracestate *t = h->trace;
    if (!t) return 0;
    const char *why = NULL;
    check_ctx c = {t, 0, 0, 0};
    om__trace_foreach(t, check_one, &c);
    size_t in_table = 0;
    for (size_t i = 0; t->traces && i <= t->mask; i++) {
        const om__trace *e = &t->traces[i];
        if (!e->ptr) continue;
        in_table++;
        if (table_find(t, e->domain, e->ptr) != e) why = "a trace is not reachable from its slot";
    }
    if (in_table != t->n_traces)
        why = "the trace table's count is wrong";
    else if (t->traces && t->n_traces * 2 > t->mask + 1)
        why = "the trace table is over-full";
    else if (c.n != t->n_traces + t->n_small)
        why = "the side tables' count is wrong";
    else if (c.bytes != t->current)
        why = "current is not the sum of the traced sizes";
    else if (t->peak < t->current)
        why = "the peak is below current";
    else if (c.bad_tb)
        why = "a trace names a traceback the tracer does not own";
    else if (tb_live_sum(t) != t->current)
        why = "the tracebacks' live sums do not add up to current";
    if (!why) return 0;
    fprintf(out, "objmem: om_heap_check: tracer: %s\n", why);
    return om__err(h, OM_ESTATE, "tracer: %s", why);
}

/* ------------------------------------------------------------ reports */

void om__trace_report_block(om_heap *h, const void *p, FILE *out)
{
    om__tracestate *t = h->trace;
    if (!t) return; /* not tracing: nothing is known */
    size_t size;
    const om__tb *raw = om__trace_get(h, t, 0, (uintptr_t)p, &size);
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
    fprintf(out,
            "tracing: %zu traces, %zu bytes traced (peak %zu), %zu tracebacks, "
            "%d frames each, %zu bytes of tracer memory\n",
            t->n_traces + t->n_small, t->current, t->peak, t->ntbs, t->nframe,
            om_trace_get_memory(h));
}
