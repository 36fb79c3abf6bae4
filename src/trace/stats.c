/*
 * stats.c - what a snapshot says: statistics grouped by file, line or
 * traceback (cumulative or not), the comparison of two snapshots, and
 * filters. Each follows Lib/tracemalloc.py (Snapshot._group_by,
 * _compare_grouped_stats, Filter._match, Snapshot._filter_trace) and sorts
 * as it does. Design note: docs/trace.md ("Statistics").
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>

#include "trace_int.h"

/* The public result and what frees it. */
typedef struct stats_impl {
    om_stats pub;
    om_heap *h;
    size_t cap;
    om__pset groups; /* grec records in bump */
    om__bump bump;   /* key frames, grec records */
} stats_impl;

typedef struct grec {
    uint32_t hash;
    size_t idx; /* in pub.items */
} grec;

typedef struct gkey {
    stats_impl *st;
    const om_frame *frames;
    uint32_t n;
} gkey;

void om_stats_free(om_stats *pub)
{
    if (!pub) return;
    stats_impl *st = (stats_impl *)pub;
    om_heap *h = st->h;
    if (st->pub.items) om__sys_free(h, st->pub.items, st->cap * sizeof *st->pub.items);
    om__pset_free(h, &st->groups);
    om__bump_release(h, &st->bump);
    om__sys_free(h, st, sizeof *st);
}

/* Python compares frames by (filename, lineno) only. */
static int frames_eq(const om_frame *a, const om_frame *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (a[i].lineno != b[i].lineno ||
            (a[i].filename != b[i].filename && strcmp(a[i].filename, b[i].filename) != 0))
            return 0;
    return 1;
}

static int grec_eq(const void *rec, const void *key)
{
    const gkey *k = key;
    const om_traceback *tb = &k->st->pub.items[((const grec *)rec)->idx].traceback;
    return tb->nframe == k->n && frames_eq(tb->frames, k->frames, k->n);
}

static uint32_t frames_hash(const om_heap *h, const om_frame *f, uint32_t n)
{
    uint64_t x = n;
    for (uint32_t i = 0; i < n; i++)
        x = (x ^ om__hash_str(h, f[i].filename) ^ ((uint64_t)f[i].lineno << 32)) *
            0x9E3779B97F4A7C15ULL;
    return (uint32_t)(x >> 32) | 1;
}

/* The group of key frames (made with copy 1: its frames copied; copy 0:
 * borrowed), or NULL on failure. Frames' names take no part in the key;
 * the group keeps the names of the first frames it saw. */
static om_stat *group_of(stats_impl *st, const om_frame *frames, uint32_t n, uint32_t total,
                         int copy)
{
    om_heap *h = st->h;
    gkey k = {st, frames, n};
    uint32_t hash = frames_hash(h, frames, n);
    void **slot = om__pset_slot(h, &st->groups, hash, grec_eq, &k);
    if (!slot) return NULL;
    if (*slot) return &st->pub.items[((grec *)*slot)->idx];
    if (st->pub.n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 64;
        om_stat *v = om__sys_realloc(h, st->pub.items, st->cap * sizeof *v, cap * sizeof *v);
        if (!v) return NULL;
        st->pub.items = v;
        st->cap = cap;
    }
    grec *r = om__bump_alloc(h, &st->bump, sizeof *r);
    if (!r) return NULL;
    if (copy) {
        om_frame *f = om__bump_alloc(h, &st->bump, n * sizeof *f);
        if (!f) return NULL;
        for (uint32_t i = 0; i < n; i++) f[i] = frames[i];
        frames = f;
    }
    r->hash = hash;
    r->idx = st->pub.n;
    *slot = r;
    st->groups.n++;
    om_stat *s = &st->pub.items[st->pub.n++];
    memset(s, 0, sizeof *s);
    s->traceback = (om_traceback){frames, n, total};
    return s;
}

/* Sizes come from snapshot files too: sums and differences saturate
 * instead of wrapping (a sum past SIZE_MAX, a difference past ptrdiff_t's
 * range, both signed overflow in C). */
static size_t sat_add(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static ptrdiff_t sat_diff(size_t a, size_t b)
{
    if (a >= b) return a - b > (size_t)PTRDIFF_MAX ? PTRDIFF_MAX : (ptrdiff_t)(a - b);
    return b - a > (size_t)PTRDIFF_MAX ? PTRDIFF_MIN : -(ptrdiff_t)(b - a);
}

static stats_impl *group_by(const om_snapshot *s, om_stat_key key, int cumulative)
{
    om_heap *h = s->h;
    if (key > OM_STAT_TRACEBACK || (int)key < 0)
        return om__err_null(h, OM_EINVAL,
                            "statistics: key %d is not OM_STAT_FILENAME, _LINENO or _TRACEBACK",
                            (int)key);
    if (cumulative && key == OM_STAT_TRACEBACK)
        return om__err_null(h, OM_EINVAL, "statistics: cumulative needs filename or lineno keys");
    stats_impl *st = om__sys_calloc(h, 1, sizeof *st);
    if (!st) return NULL;
    st->h = h;
    for (size_t i = 0; i < s->ntraces; i++) {
        const om_trace_entry *e = &s->traces[i];
        const om_traceback *tb = e->traceback;
        uint32_t nkeys = cumulative ? tb->nframe : 1;
        for (uint32_t j = 0; j < nkeys; j++) {
            om_stat *g;
            if (key == OM_STAT_TRACEBACK) {
                g = group_of(st, tb->frames, tb->nframe, tb->total_nframe, 0);
            } else {
                om_frame f = tb->frames[j];
                if (key == OM_STAT_FILENAME) f = (om_frame){f.filename, 0, NULL};
                g = group_of(st, &f, 1, 1, 1);
            }
            if (!g) {
                om_stats_free(&st->pub);
                return NULL;
            }
            g->size = sat_add(g->size, e->size);
            g->count = sat_add(g->count, e->count);
        }
    }
    return st;
}

/* Python's Traceback ordering: frames compared oldest first. */
static int tb_cmp(const om_traceback *a, const om_traceback *b)
{
    uint32_t n = a->nframe < b->nframe ? a->nframe : b->nframe;
    for (uint32_t i = 1; i <= n; i++) {
        const om_frame *x = &a->frames[a->nframe - i], *y = &b->frames[b->nframe - i];
        int c = strcmp(x->filename, y->filename);
        if (c) return c;
        if (x->lineno != y->lineno) return x->lineno < y->lineno ? -1 : 1;
    }
    return a->nframe < b->nframe ? -1 : a->nframe > b->nframe;
}

#define CMP(x, y)                                                                                  \
    do {                                                                                           \
        if ((x) != (y)) return (x) > (y) ? -1 : 1;                                                 \
    } while (0)

/* Biggest first by (size, count, traceback). */
static int stat_cmp(const void *pa, const void *pb)
{
    const om_stat *a = pa, *b = pb;
    CMP(a->size, b->size);
    CMP(a->count, b->count);
    return -tb_cmp(&a->traceback, &b->traceback);
}

static size_t absd(ptrdiff_t d)
{
    return d < 0 ? (size_t)0 - (size_t)d : (size_t)d;
}

/* Biggest first by (|size_diff|, size, |count_diff|, count, traceback). */
static int diff_cmp(const void *pa, const void *pb)
{
    const om_stat *a = pa, *b = pb;
    CMP(absd(a->size_diff), absd(b->size_diff));
    CMP(a->size, b->size);
    CMP(absd(a->count_diff), absd(b->count_diff));
    CMP(a->count, b->count);
    return -tb_cmp(&a->traceback, &b->traceback);
}

om_stats *om_snapshot_statistics(const om_snapshot *s, om_stat_key key, int cumulative)
{
    stats_impl *st = group_by(s, key, cumulative);
    if (!st) return NULL;
    if (st->pub.n) qsort(st->pub.items, st->pub.n, sizeof *st->pub.items, stat_cmp);
    return &st->pub;
}

om_stats *om_snapshot_compare(const om_snapshot *new_s, const om_snapshot *old_s, om_stat_key key,
                              int cumulative)
{
    stats_impl *st = group_by(new_s, key, cumulative);
    if (!st) return NULL;
    stats_impl *old = group_by(old_s, key, cumulative);
    if (!old) {
        om_stats_free(&st->pub);
        return NULL;
    }
    for (size_t i = 0; i < st->pub.n; i++) {
        st->pub.items[i].size_diff = sat_diff(st->pub.items[i].size, 0);
        st->pub.items[i].count_diff = sat_diff(st->pub.items[i].count, 0);
    }
    for (size_t i = 0; i < old->pub.n; i++) {
        const om_stat *o = &old->pub.items[i];
        om_stat *g =
            group_of(st, o->traceback.frames, o->traceback.nframe, o->traceback.total_nframe, 1);
        if (!g) {
            om_stats_free(&old->pub);
            om_stats_free(&st->pub);
            return NULL;
        }
        g->size_diff = sat_diff(g->size, o->size); /* groups are unique: one o per g */
        g->count_diff = sat_diff(g->count, o->count);
    }
    om_stats_free(&old->pub);
    if (st->pub.n) qsort(st->pub.items, st->pub.n, sizeof *st->pub.items, diff_cmp);
    return &st->pub;
}

/* ------------------------------------------------------------ filters */

static int match_frame_impl(const om_filter *f, const om_frame *fr)
{
    if (fnmatch(f->filename_pattern, fr->filename, FNM_NOESCAPE) != 0) return 0;
    return f->lineno < 0 || (long)fr->lineno == f->lineno;
}

static int match_traceback(const om_filter *f, const om_traceback *tb)
{
    if (f->all_frames) {
        for (uint32_t i = 0; i < tb->nframe; i++)
            if (match_frame_impl(f, &tb->frames[i])) return f->inclusive;
        return !f->inclusive;
    }
    return match_frame_impl(f, &tb->frames[0]) ^ !f->inclusive;
}

static int filter_match(const om_filter *f, const om_trace_entry *e)
{
    if (!f->filename_pattern) /* DomainFilter */
        return ((long)e->domain == f->domain) ^ !f->inclusive;
    int res = match_traceback(f, e->traceback);
    if (f->domain >= 0) {
        if (f->inclusive) return res && (long)e->domain == f->domain;
        return res || (long)e->domain != f->domain;
    }
    return res;
}

static int keep_trace(const om_filter *filters, size_t n, const om_trace_entry *e)
{
    int any_incl = 0, matched_incl = 0;
    for (size_t i = 0; i < n; i++) {
        if (filters[i].inclusive) {
            any_incl = 1;
            if (!matched_incl && filter_match(&filters[i], e)) matched_incl = 1;
        } else if (!filter_match(&filters[i], e)) {
            return 0;
        }
    }
    return !any_incl || matched_incl;
}

om_snapshot *om_snapshot_filter(const om_snapshot *s, const om_filter *filters, size_t n)
{
    om_snapshot *r = om__snapshot_new(s->h, s->limit);
    if (!r) return NULL;
    om__sbuild b;
    om__sbuild_init(&b, r);
    for (size_t i = 0; i < s->ntraces && !b.failed; i++) {
        const om_trace_entry *e = &s->traces[i];
        if (!keep_trace(filters, n, e)) continue;
        const om_traceback *tb = e->traceback;
        const om_traceback *c = om__sbuild_tb(&b, tb->frames, tb->nframe, tb->total_nframe);
        if (c) om__sbuild_trace_n(&b, e->domain, e->size, e->count, c);
    }
    if (om__snapshot_copy_meta(r, s) < 0) b.failed = 1;
    return om__sbuild_finish(&b);
}

/* ------------------------------------------------------------ formatting */

size_t om_format_size(double size, int sign, char *buf, size_t n)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int w = 0;
    for (int u = 0; u < 5; u++) { /* tracemalloc's _format_size */
        double a = size < 0 ? -size : size;
        if (a < 100 && u != 0) {
            w = snprintf(buf, n, sign ? "%+.1f %s" : "%.1f %s", size, units[u]);
            break;
        }
        if (a < 10 * 1024 || u == 4) {
            w = snprintf(buf, n, sign ? "%+.0f %s" : "%.0f %s", size, units[u]);
            break;
        }
        size /= 1024;
    }
    return w > 0 ? (size_t)w : 0;
}

size_t om_stat_format(const om_stat *s, int diff, char *buf, size_t n)
{
    char size[32], sd[32], avg[32];
    const om_frame *f = &s->traceback.frames[0];
    om_format_size((double)s->size, 0, size, sizeof size);
    int w;
    if (f->lineno)
        w = snprintf(buf, n, "%s:%u: size=%s", f->filename, f->lineno, size);
    else
        w = snprintf(buf, n, "%s: size=%s", f->filename, size);
    size_t len = w > 0 ? (size_t)w : 0;
#define OM_APPEND(...)                                                                             \
    do {                                                                                           \
        int k_ = snprintf(len < n ? buf + len : NULL, len < n ? n - len : 0, __VA_ARGS__);         \
        if (k_ > 0) len += (size_t)k_;                                                             \
    } while (0)
    if (diff) {
        om_format_size((double)s->size_diff, 1, sd, sizeof sd);
        OM_APPEND(" (%s), count=%zu (%+td)", sd, s->count, s->count_diff);
    } else {
        OM_APPEND(", count=%zu", s->count);
    }
    if (s->count) {
        om_format_size((double)s->size / (double)s->count, 0, avg, sizeof avg);
        OM_APPEND(", average=%s", avg);
    }
#undef OM_APPEND
    return len;
}
