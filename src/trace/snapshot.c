/*
 * snapshot.c - snapshots: a copy of every trace with its traceback
 * symbolized, built by interning strings and tracebacks by content (the
 * same builder serves take, filter and load); the traceback of one block;
 * and formatting a traceback as tracemalloc does.
 * Design note: docs/trace.md ("Snapshots").
 */
#include <stdio.h>

#include "trace_int.h"

/* A snapshot's traceback record: hash, then the public traceback. */
typedef struct stb {
    uint32_t hash;
    om_traceback tb;
} stb;

typedef struct tbkey {
    const om_frame *frames;
    uint32_t n, total;
} tbkey;

/* ------------------------------------------------------------ builder */

om_snapshot *om__snapshot_new(om_heap *h, int limit)
{
    om_snapshot *s = om__sys_calloc(h, 1, sizeof *s);
    if (!s) return NULL;
    s->h = h;
    s->limit = limit;
    return s;
}

void om_snapshot_free(om_snapshot *s)
{
    if (!s) return;
    om_heap *h = s->h;
    if (s->traces) om__sys_free(h, s->traces, s->cap * sizeof *s->traces);
    if (s->samples) om__sys_free(h, s->samples, s->nsamples * sizeof *s->samples);
    om__bump_release(h, &s->bump);
    om__sys_free(h, s, sizeof *s);
}

int om__snapshot_copy_meta(om_snapshot *dst, const om_snapshot *src)
{
    dst->kind = src->kind;
    dst->peak = src->peak;
    dst->peak_ns = src->peak_ns;
    dst->taken_ns = src->taken_ns;
    if (!src->nsamples) return 0;
    dst->samples = om__sys_malloc(dst->h, src->nsamples * sizeof *dst->samples);
    if (!dst->samples) return OM_ENOMEM;
    memcpy(dst->samples, src->samples, src->nsamples * sizeof *dst->samples);
    dst->nsamples = src->nsamples;
    return 0;
}

int om__sbuild_init(om__sbuild *b, om_snapshot *s)
{
    memset(b, 0, sizeof *b);
    b->s = s;
    return 0;
}

static int str_eq(const void *rec, const void *key)
{
    return strcmp(((const om__istr *)rec)->s, key) == 0;
}

const char *om__sbuild_str(om__sbuild *b, const char *str)
{
    om_heap *h = b->s->h;
    uint32_t hash = om__hash_str(h, str);
    void **slot = om__pset_slot(h, &b->strs, hash, str_eq, str);
    if (!slot) return NULL;
    if (!*slot) {
        size_t n = strlen(str) + 1;
        om__istr *r = om__bump_alloc(h, &b->s->bump, sizeof *r + n);
        if (!r) return NULL;
        r->hash = hash;
        memcpy(r->s, str, n);
        *slot = r;
        b->strs.n++;
    }
    return ((om__istr *)*slot)->s;
}

static int tb_eq(const void *rec, const void *key)
{
    const om_traceback *a = &((const stb *)rec)->tb;
    const tbkey *k = key;
    if (a->nframe != k->n || a->total_nframe != k->total) return 0;
    for (uint32_t i = 0; i < k->n; i++)
        if (a->frames[i].filename != k->frames[i].filename ||
            a->frames[i].lineno != k->frames[i].lineno || a->frames[i].name != k->frames[i].name)
            return 0;
    return 1;
}

const om_traceback *om__sbuild_tb(om__sbuild *b, const om_frame *frames, uint32_t n, uint32_t total)
{
    om_heap *h = b->s->h;
    om_frame local[OM_TRACE_MAX_FRAMES];
    if (n > OM_TRACE_MAX_FRAMES) n = OM_TRACE_MAX_FRAMES;
    uint64_t x = ((uint64_t)n << 32) ^ total;
    for (uint32_t i = 0; i < n; i++) {
        local[i].filename =
            om__sbuild_str(b, frames[i].filename ? frames[i].filename : "<unknown>");
        local[i].name = frames[i].name ? om__sbuild_str(b, frames[i].name) : NULL;
        local[i].lineno = frames[i].lineno;
        if (!local[i].filename || (frames[i].name && !local[i].name)) goto fail;
        x = (x ^ (uintptr_t)local[i].filename ^ ((uint64_t)local[i].lineno << 40) ^
             ((uintptr_t)local[i].name << 3)) *
            0x9E3779B97F4A7C15ULL;
    }
    uint32_t hash = (uint32_t)(x >> 32) | 1;
    tbkey k = {local, n, total};
    void **slot = om__pset_slot(h, &b->tbs, hash, tb_eq, &k);
    if (!slot) goto fail;
    if (!*slot) {
        stb *r = om__bump_alloc(h, &b->s->bump, sizeof *r);
        om_frame *f = om__bump_alloc(h, &b->s->bump, n * sizeof *f);
        if (!r || !f) goto fail;
        memcpy(f, local, n * sizeof *f);
        r->hash = hash;
        r->tb = (om_traceback){f, n, total};
        *slot = r;
        b->tbs.n++;
    }
    return &((stb *)*slot)->tb;
fail:
    b->failed = 1;
    return NULL;
}

int om__sbuild_trace(om__sbuild *b, unsigned domain, size_t size, const om_traceback *tb)
{
    return om__sbuild_trace_n(b, domain, size, 1, tb);
}

int om__sbuild_trace_n(om__sbuild *b, unsigned domain, size_t size, size_t count,
                       const om_traceback *tb)
{
    om_snapshot *s = b->s;
    if (s->ntraces == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        om_trace_entry *v = om__sys_realloc(s->h, s->traces, s->cap * sizeof *v, cap * sizeof *v);
        if (!v) {
            b->failed = 1;
            return OM_ENOMEM;
        }
        s->traces = v;
        s->cap = cap;
    }
    s->traces[s->ntraces++] = (om_trace_entry){domain, size, tb, count};
    return 0;
}

om_snapshot *om__sbuild_finish(om__sbuild *b)
{
    om__pset_free(b->s->h, &b->strs);
    om__pset_free(b->s->h, &b->tbs);
    if (b->failed) {
        om_snapshot_free(b->s);
        return NULL;
    }
    return b->s;
}

/* ------------------------------------------------------------ take */

typedef struct take_ctx {
    om__sbuild *b;
    om__symtab *st;
    const om_traceback **byid;
    int limit;
} take_ctx;

static void take_one(void *ctx, unsigned domain, uintptr_t ptr, size_t size, om__tb *raw)
{
    take_ctx *c = ctx;
    (void)ptr;
    if (c->b->failed) return;
    const om_traceback *tb = c->byid[raw->id];
    if (!tb) {
        om_frame frames[OM_TRACE_MAX_FRAMES];
        uint32_t total, n = om__tb_symbolize(c->st, raw, c->limit, frames, &total);
        tb = c->byid[raw->id] = om__sbuild_tb(c->b, frames, n, total);
        if (!tb) return;
    }
    om__sbuild_trace(c->b, domain, size, tb);
}

om_snapshot *om_trace_take_snapshot(om_heap *h)
{
    om__tracestate *t = h->trace;
    if (!t) return om__err_null(h, OM_ESTATE, "om_trace_take_snapshot: not tracing");
    om_snapshot *s = om__snapshot_new(h, t->nframe);
    if (!s) return NULL;
    om__sbuild b;
    om__sbuild_init(&b, s);
    om__symtab *st = om__trace_symtab(h);
    const om_traceback **byid = om__sys_calloc(h, t->ntbs ? t->ntbs : 1, sizeof *byid);
    if (!st || !byid || om__snapshot_take_series(s, t) < 0) b.failed = 1;
    take_ctx c = {&b, st, byid, t->nframe};
    if (!b.failed) om__trace_foreach(t, take_one, &c);
    if (byid) om__sys_free(h, byid, (t->ntbs ? t->ntbs : 1) * sizeof *byid);
    return om__sbuild_finish(&b);
}

size_t om_snapshot_traces(const om_snapshot *s, const om_trace_entry **out)
{
    if (out) *out = s->traces;
    return s->ntraces;
}

int om_snapshot_traceback_limit(const om_snapshot *s)
{
    return s->limit;
}

/* ------------------------------------------------------------ one block */

om_traceback *om_trace_block_traceback(om_heap *h, const void *p)
{
    om__tracestate *t = h->trace;
    if (!t) return NULL;
    size_t size;
    om__tb *tb = om__trace_get(h, t, 0, (uintptr_t)p, &size);
    return tb ? om__tb_export(h, tb, t->nframe) : NULL;
}

om_traceback *om__tb_export(om_heap *h, const om__tb *raw, int limit)
{
    om__symtab *st = om__trace_symtab(h);
    if (!st) return NULL;
    om_frame frames[OM_TRACE_MAX_FRAMES];
    uint32_t total, n = om__tb_symbolize(st, raw, limit, frames, &total);
    /* one chunk: [size][om_traceback][frames][strings] */
    size_t size = sizeof(size_t) + sizeof(om_traceback) + n * sizeof(om_frame);
    for (uint32_t i = 0; i < n; i++)
        size += strlen(frames[i].filename) + 1 + (frames[i].name ? strlen(frames[i].name) + 1 : 0);
    char *chunk = om__sys_malloc(h, size);
    om_traceback *tb = NULL;
    if (chunk) {
        memcpy(chunk, &size, sizeof size);
        tb = (om_traceback *)(chunk + sizeof(size_t));
        om_frame *f = (om_frame *)(tb + 1);
        char *str = (char *)(f + n);
        for (uint32_t i = 0; i < n; i++) {
            f[i].lineno = frames[i].lineno;
            f[i].filename = strcpy(str, frames[i].filename);
            str += strlen(str) + 1;
            f[i].name = NULL;
            if (frames[i].name) {
                f[i].name = strcpy(str, frames[i].name);
                str += strlen(str) + 1;
            }
        }
        *tb = (om_traceback){f, n, total};
    }
    return tb;
}

om_traceback *om_trace_object_traceback(const om_object *o)
{
    return om_trace_block_traceback(om_heap_of(o), o);
}

void om_traceback_free(om_heap *h, om_traceback *tb)
{
    if (!tb) return;
    char *chunk = (char *)tb - sizeof(size_t);
    size_t size;
    memcpy(&size, chunk, sizeof size);
    om__sys_free(h, chunk, size);
}

/* ------------------------------------------------------------ format */

size_t om_traceback_format(const om_traceback *tb, int limit, int most_recent_first, char *buf,
                           size_t size)
{
    /* Python's frames run oldest first: index k there is nframe-1-k here */
    long n = tb->nframe, lo = 0, hi = n; /* the Python slice [lo, hi) */
    if (limit > 0)
        lo = n - limit < 0 ? 0 : n - limit;
    else if (limit < 0)
        hi = n + limit < 0 ? 0 : n + limit;
    size_t len = 0;
    if (size) buf[0] = 0;
    for (long j = 0; j < hi - lo; j++) {
        long k = most_recent_first ? hi - 1 - j : lo + j; /* Python index */
        const om_frame *f = &tb->frames[n - 1 - k];
        char *at = len < size ? buf + len : NULL;
        int w =
            snprintf(at, at ? size - len : 0, "  File \"%s\", line %u\n", f->filename, f->lineno);
        if (w > 0) len += (size_t)w;
    }
    return len;
}
