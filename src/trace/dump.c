/*
 * dump.c - the snapshot file format (version 2, specified in docs/trace.md
 * "File format"; version 1 is still read): a header, a string table, a
 * traceback table, the traces, tagged chunks (the peak, the time series),
 * and a checksum. Loading checks every count against the bytes left before
 * allocating, every index against its table, and the checksum first, so a
 * truncated, corrupt or hostile file is an OM_EFORMAT error, never a
 * crash or a huge allocation.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "trace_int.h"

#define OM_DUMP_MAGIC "OMTRACE\0"
enum { OM_DUMP_VERSION = 2, OM_DUMP_HDR = 8 + 4 * 4 + 8 };
/* Chunk tags of version 2 (readers skip tags they do not know). */
enum { OM_CHUNK_INFO = 1, OM_CHUNK_SAMPLES = 2 };
enum { OM_INFO_BYTES = 32, OM_SAMPLE_BYTES = 40 };
/* The longest string (file or function name) a dump holds: longer ones are
 * refused by both sides, so that a hostile length cannot make the loader
 * copy gigabytes. */
#define OM_DUMP_MAX_STRING ((size_t)1 << 20)

static uint32_t fnv1a(const unsigned char *p, size_t n)
{
    uint32_t x = 2166136261u;
    for (size_t i = 0; i < n; i++) x = (x ^ p[i]) * 16777619u;
    return x;
}

/* ------------------------------------------------------------ writing */

typedef struct wbuf {
    om_heap *h;
    unsigned char *p;
    size_t n, cap;
    int failed;
} wbuf;

static void put(wbuf *w, const void *src, size_t n)
{
    if (w->failed) return;
    if (w->n + n > w->cap) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap < w->n + n) cap *= 2;
        unsigned char *q = om__sys_realloc(w->h, w->p, w->cap, cap);
        if (!q) {
            w->failed = 1;
            return;
        }
        w->p = q;
        w->cap = cap;
    }
    memcpy(w->p + w->n, src, n);
    w->n += n;
}

static void put32(wbuf *w, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    put(w, b, 4);
}

static void put64(wbuf *w, uint64_t v)
{
    put32(w, (uint32_t)v);
    put32(w, (uint32_t)(v >> 32));
}

/* Pointer → index maps for the string and traceback tables. */
typedef struct idxrec {
    uint32_t hash;
    uint32_t idx;
    const void *key;
} idxrec;

typedef struct idxmap {
    om__pset set;
    om__bump bump;
    const void **order; /* keys by index */
    size_t n, cap;
} idxmap;

static int idx_eq(const void *rec, const void *key)
{
    return ((const idxrec *)rec)->key == key;
}

/* The index of key, added when new; -1 on failure. */
static long idx_of(om_heap *h, idxmap *m, const void *key)
{
    uint32_t hash = (uint32_t)(((uintptr_t)key * 0x9E3779B97F4A7C15ULL) >> 32) | 1;
    void **slot = om__pset_slot(h, &m->set, hash, idx_eq, key);
    if (!slot) return -1;
    if (*slot) return ((idxrec *)*slot)->idx;
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        const void **v = om__sys_realloc(h, m->order, m->cap * sizeof *v, cap * sizeof *v);
        if (!v) return -1;
        m->order = v;
        m->cap = cap;
    }
    idxrec *r = om__bump_alloc(h, &m->bump, sizeof *r);
    if (!r) return -1;
    *r = (idxrec){hash, (uint32_t)m->n, key};
    m->order[m->n++] = key;
    *slot = r;
    m->set.n++;
    return r->idx;
}

static void idx_free(om_heap *h, idxmap *m)
{
    om__pset_free(h, &m->set);
    om__bump_release(h, &m->bump);
    if (m->order) om__sys_free(h, m->order, m->cap * sizeof *m->order);
}

/* Number the strings and tracebacks the traces use. */
static int number_all(om_heap *h, const om_snapshot *s, idxmap *strs, idxmap *tbs)
{
    for (size_t i = 0; i < s->ntraces; i++) {
        const om_traceback *tb = s->traces[i].traceback;
        size_t before = tbs->n;
        if (idx_of(h, tbs, tb) < 0) return OM_ENOMEM;
        if (tbs->n == before) continue;
        for (uint32_t j = 0; j < tb->nframe; j++) {
            const om_frame *f = &tb->frames[j];
            if (strlen(f->filename) > OM_DUMP_MAX_STRING ||
                (f->name && strlen(f->name) > OM_DUMP_MAX_STRING))
                return om__err(h, OM_EINVAL, "om_snapshot_dump: a frame string longer than 1 MiB");
            if (idx_of(h, strs, f->filename) < 0) return OM_ENOMEM;
            if (f->name && idx_of(h, strs, f->name) < 0) return OM_ENOMEM;
        }
    }
    return 0;
}

static void write_body(wbuf *w, const om_snapshot *s, idxmap *strs, idxmap *tbs)
{
    put(w, OM_DUMP_MAGIC, 8);
    put32(w, OM_DUMP_VERSION);
    put32(w, (uint32_t)s->limit);
    put32(w, (uint32_t)strs->n);
    put32(w, (uint32_t)tbs->n);
    put64(w, s->ntraces);
    for (size_t i = 0; i < strs->n; i++) {
        const char *str = strs->order[i];
        put32(w, (uint32_t)strlen(str));
        put(w, str, strlen(str));
    }
    for (size_t i = 0; i < tbs->n; i++) {
        const om_traceback *tb = tbs->order[i];
        put32(w, tb->nframe);
        put32(w, tb->total_nframe);
        for (uint32_t j = 0; j < tb->nframe; j++) {
            const om_frame *f = &tb->frames[j];
            put32(w, (uint32_t)idx_of(w->h, strs, f->filename));
            put32(w, f->lineno);
            put32(w, f->name ? (uint32_t)idx_of(w->h, strs, f->name) + 1 : 0);
        }
    }
    for (size_t i = 0; i < s->ntraces; i++) {
        put32(w, s->traces[i].domain);
        put32(w, (uint32_t)idx_of(w->h, tbs, s->traces[i].traceback));
        put64(w, s->traces[i].size);
        put64(w, s->traces[i].count);
    }
    put32(w, 2); /* chunks */
    put32(w, OM_CHUNK_INFO);
    put64(w, OM_INFO_BYTES);
    put32(w, (uint32_t)s->kind);
    put32(w, 0);
    put64(w, s->peak);
    put64(w, s->peak_ns);
    put64(w, s->taken_ns);
    put32(w, OM_CHUNK_SAMPLES);
    put64(w, 8 + (uint64_t)s->nsamples * OM_SAMPLE_BYTES);
    put64(w, s->nsamples);
    for (size_t i = 0; i < s->nsamples; i++) {
        const om_trace_sample *x = &s->samples[i];
        put64(w, x->t_ns);
        put64(w, x->allocs);
        put64(w, x->traced);
        put64(w, x->peak);
        put64(w, x->rss);
    }
    if (!w->failed) put32(w, fnv1a(w->p, w->n));
}

int om_snapshot_dump(const om_snapshot *s, const char *path)
{
    om_heap *h = s->h;
    idxmap strs, tbs;
    memset(&strs, 0, sizeof strs);
    memset(&tbs, 0, sizeof tbs);
    wbuf w = {h, NULL, 0, 0, 0};
    int rc = number_all(h, s, &strs, &tbs);
    if (rc < 0) w.failed = 1;
    write_body(&w, s, &strs, &tbs);
    idx_free(h, &strs);
    idx_free(h, &tbs);
    if (w.failed) {
        if (rc == 0) rc = OM_ENOMEM;
    } else {
        FILE *f = fopen(path, "wb");
        if (!f) {
            rc = om__err(h, OM_EIO, "om_snapshot_dump: cannot open %s: %s", path, strerror(errno));
        } else {
            size_t wr = fwrite(w.p, 1, w.n, f);
            if (fclose(f) != 0 || wr != w.n)
                rc = om__err(h, OM_EIO, "om_snapshot_dump: cannot write %s", path);
        }
    }
    if (w.p) om__sys_free(h, w.p, w.cap);
    return rc;
}

/* ------------------------------------------------------------ reading */

typedef struct rbuf {
    const unsigned char *p;
    size_t n, at;
    int bad;
} rbuf;

static uint32_t get32(rbuf *r)
{
    if (r->bad || r->n - r->at < 4) {
        r->bad = 1;
        return 0;
    }
    const unsigned char *b = r->p + r->at;
    r->at += 4;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t get64(rbuf *r)
{
    uint64_t lo = get32(r);
    return lo | (uint64_t)get32(r) << 32;
}

/* 1 when count items of at least each bytes fit in what is left. */
static int fits(const rbuf *r, uint64_t count, size_t each)
{
    return !r->bad && count <= (r->n - r->at) / each;
}

static om_snapshot *bad(om_heap *h, const char *why)
{
    return om__err_null(h, OM_EFORMAT, "snapshot file: %s", why);
}

typedef struct loadctx {
    om_heap *h;
    rbuf r;
    om__sbuild b;
    const char **strs;
    uint32_t nstrs;
    const om_traceback **tbs;
    uint32_t ntbs;
    char *tmp;
    size_t tmpcap;
} loadctx;

static const char *load_strings(loadctx *c)
{
    for (uint32_t i = 0; i < c->nstrs; i++) {
        size_t len = get32(&c->r);
        if (len > OM_DUMP_MAX_STRING) return "a string longer than 1 MiB";
        if (!fits(&c->r, len, 1)) return "truncated string table";
        const unsigned char *s = c->r.p + c->r.at;
        if (memchr(s, 0, len)) return "a NUL byte inside a string";
        if (len + 1 > c->tmpcap) {
            char *t = om__sys_realloc(c->h, c->tmp, c->tmpcap, len + 1);
            if (!t) return "no memory";
            c->tmp = t;
            c->tmpcap = len + 1;
        }
        memcpy(c->tmp, s, len);
        c->tmp[len] = 0;
        c->r.at += len;
        c->strs[i] = om__sbuild_str(&c->b, c->tmp);
        if (!c->strs[i]) return "no memory";
    }
    return NULL;
}

static const char *load_tracebacks(loadctx *c)
{
    om_frame frames[OM_TRACE_MAX_FRAMES];
    for (uint32_t i = 0; i < c->ntbs; i++) {
        uint32_t n = get32(&c->r), total = get32(&c->r);
        if (c->r.bad) return "truncated traceback table";
        if (n < 1 || n > OM_TRACE_MAX_FRAMES) return "a traceback with a bad frame count";
        if (!fits(&c->r, n, 12)) return "truncated traceback";
        for (uint32_t j = 0; j < n; j++) {
            uint32_t file = get32(&c->r), line = get32(&c->r), name = get32(&c->r);
            if (file >= c->nstrs || name > c->nstrs) return "a string index out of range";
            frames[j] = (om_frame){c->strs[file], line, name ? c->strs[name - 1] : NULL};
        }
        c->tbs[i] = om__sbuild_tb(&c->b, frames, n, total);
        if (!c->tbs[i]) return "no memory";
    }
    return NULL;
}

static const char *load_samples(loadctx *c, uint64_t len)
{
    rbuf *r = &c->r;
    om_snapshot *s = c->b.s;
    uint64_t n = get64(r);
    if (r->bad || len < 8 || n != (len - 8) / OM_SAMPLE_BYTES || (len - 8) % OM_SAMPLE_BYTES)
        return "a time series of a bad length";
    if (n > OM_TRACE_MAX_SAMPLES * 16) return "a time series too long";
    if (!n) return NULL;
    if (s->samples) return "two time series";
    s->samples = om__sys_malloc(c->h, (size_t)n * sizeof *s->samples);
    if (!s->samples) return "no memory";
    s->nsamples = (size_t)n;
    for (size_t i = 0; i < n; i++) {
        om_trace_sample *x = &s->samples[i];
        x->t_ns = get64(r);
        x->allocs = get64(r);
        x->traced = (size_t)get64(r);
        x->peak = (size_t)get64(r);
        x->rss = (size_t)get64(r);
    }
    return NULL;
}

/* The chunks of version 2: u32 count, then (u32 tag, u64 length, bytes). */
static const char *load_chunks(loadctx *c)
{
    rbuf *r = &c->r;
    om_snapshot *s = c->b.s;
    uint32_t n = get32(r);
    if (!fits(r, n, 12)) return "a chunk count larger than the file";
    for (uint32_t i = 0; i < n; i++) {
        uint32_t tag = get32(r);
        uint64_t len = get64(r);
        if (!fits(r, len, 1)) return "a chunk longer than the file";
        size_t end = r->at + (size_t)len;
        if (tag == OM_CHUNK_INFO) {
            if (len < OM_INFO_BYTES) return "a short info chunk";
            uint32_t kind = get32(r);
            get32(r);
            if (kind > OM_SNAP_LEAKS) return "an unknown snapshot kind";
            s->kind = (int)kind;
            s->peak = (size_t)get64(r);
            s->peak_ns = get64(r);
            s->taken_ns = get64(r);
        } else if (tag == OM_CHUNK_SAMPLES) {
            const char *why = load_samples(c, len);
            if (why) return why;
        }
        if (r->bad || r->at > end) return "a chunk shorter than its contents";
        r->at = end; /* unknown tags and the rest of known ones are skipped */
    }
    return NULL;
}

static const char *load_body(loadctx *c)
{
    rbuf *r = &c->r;
    if (r->n < OM_DUMP_HDR + 4 || memcmp(r->p, OM_DUMP_MAGIC, 8) != 0)
        return "not an objmem snapshot (bad magic)";
    r->at = 8;
    uint32_t version = get32(r);
    if (version != 1 && version != OM_DUMP_VERSION) return "unsupported version";
    size_t each = version == 1 ? 16 : 24; /* bytes per trace */
    uint32_t crc = (uint32_t)r->p[r->n - 4] | (uint32_t)r->p[r->n - 3] << 8 |
                   (uint32_t)r->p[r->n - 2] << 16 | (uint32_t)r->p[r->n - 1] << 24;
    if (fnv1a(r->p, r->n - 4) != crc) return "checksum mismatch (truncated or corrupt)";
    r->n -= 4;
    uint32_t limit = get32(r);
    c->nstrs = get32(r);
    c->ntbs = get32(r);
    uint64_t ntraces = get64(r);
    if (limit < 1 || limit > OM_TRACE_MAX_FRAMES) return "bad traceback limit";
    if (!fits(r, c->nstrs, 4) || !fits(r, c->ntbs, 20) || !fits(r, ntraces, each))
        return "a count larger than the file";
    c->b.s->limit = (int)limit;
    c->strs = om__sys_calloc(c->h, c->nstrs + 1, sizeof *c->strs);
    c->tbs = om__sys_calloc(c->h, c->ntbs + 1, sizeof *c->tbs);
    if (!c->strs || !c->tbs) return "no memory";
    const char *why = load_strings(c);
    if (!why) why = load_tracebacks(c);
    if (why) return why;
    if (!fits(r, ntraces, each)) return "truncated trace table";
    for (uint64_t i = 0; i < ntraces; i++) {
        uint32_t domain = get32(r), tb = get32(r);
        uint64_t size = get64(r), count = version == 1 ? 1 : get64(r);
        if (tb >= c->ntbs) return "a traceback index out of range";
        if (count == 0) return "a trace of no blocks";
#if SIZE_MAX < UINT64_MAX
        if (size > SIZE_MAX || count > SIZE_MAX) return "a size out of range";
#endif
        if (om__sbuild_trace_n(&c->b, domain, (size_t)size, (size_t)count, c->tbs[tb]) < 0)
            return "no memory";
    }
    if (version >= 2 && (why = load_chunks(c)) != NULL) return why;
    if (r->bad) return "truncated";
    if (r->at != r->n) return "trailing bytes";
    return NULL;
}

om_snapshot *om_snapshot_load_buffer(om_heap *h, const void *data, size_t len)
{
    om_snapshot *s = om__snapshot_new(h, 1);
    if (!s) return NULL;
    loadctx c;
    memset(&c, 0, sizeof c);
    c.h = h;
    c.r = (rbuf){data, len, 0, 0};
    om__sbuild_init(&c.b, s);
    const char *why = load_body(&c);
    if (c.strs) om__sys_free(h, c.strs, (c.nstrs + 1) * sizeof *c.strs);
    if (c.tbs) om__sys_free(h, c.tbs, (c.ntbs + 1) * sizeof *c.tbs);
    if (c.tmp) om__sys_free(h, c.tmp, c.tmpcap);
    if (why) c.b.failed = 1;
    s = om__sbuild_finish(&c.b);
    if (why) return strcmp(why, "no memory") == 0 ? NULL : bad(h, why);
    return s;
}

om_snapshot *om_snapshot_load(om_heap *h, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return om__err_null(h, OM_EIO, "om_snapshot_load: cannot open %s: %s", path,
                            strerror(errno));
    size_t cap = 0, n = 0;
    unsigned char *buf = NULL;
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            unsigned char *q = om__sys_realloc(h, buf, cap, ncap);
            if (!q) {
                if (buf) om__sys_free(h, buf, cap);
                fclose(f);
                return NULL;
            }
            buf = q;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    om_snapshot *s = err ? om__err_null(h, OM_EIO, "om_snapshot_load: cannot read %s", path)
                         : om_snapshot_load_buffer(h, buf, n);
    om__sys_free(h, buf, cap);
    return s;
}
