/*
 * growth.c - growth between two points: objects per type now
 * (om_gc_type_counts), the types that grew since (om_gc_type_growth,
 * objgraph's show_growth) and the objects that are new since
 * (om_gc_get_new_objects, objgraph's get_new_ids). One heap walk each.
 * Design note: docs/gc.md ("Roots, chains and pictures").
 */
#include <stdlib.h>

#include "internal/heap.h"

typedef struct count_ctx {
    om_gc_counts *c;
    unsigned flags;
    size_t rows_cap, objs_cap;
    size_t *tab; /* open addressing: row index + 1 by type pointer, 0 empty */
    size_t tab_mask;
    int err;
    int sorted;
} count_ctx;

static size_t type_slot(const count_ctx *x, const om_type *t)
{
    return (size_t)(((uintptr_t)t >> 4) * 0x9E3779B97F4A7C15ull >> 17) & x->tab_mask;
}

static int grow_rows(count_ctx *x)
{
    om_gc_counts *c = x->c;
    size_t cap = x->rows_cap * 2, tcap = cap * 2;
    om_gc_type_count *r = om__sys_realloc(c->h, c->rows, x->rows_cap * sizeof *r, cap * sizeof *r);
    if (!r) return OM_ENOMEM;
    c->rows = r;
    x->rows_cap = cap;
    size_t *tab = om__sys_calloc(c->h, tcap, sizeof *tab);
    if (!tab) return OM_ENOMEM;
    om__sys_free(c->h, x->tab, (x->tab_mask + 1) * sizeof *tab);
    x->tab = tab;
    x->tab_mask = tcap - 1;
    for (size_t i = 0; i < c->n; i++) {
        size_t s = type_slot(x, c->rows[i].type);
        while (tab[s]) s = (s + 1) & x->tab_mask;
        tab[s] = i + 1;
    }
    return 0;
}

static om_gc_type_count *row_of(count_ctx *x, const om_type *t)
{
    om_gc_counts *c = x->c;
    size_t s = type_slot(x, t);
    for (; x->tab[s]; s = (s + 1) & x->tab_mask)
        if (c->rows[x->tab[s] - 1].type == t) return &c->rows[x->tab[s] - 1];
    if (c->n == x->rows_cap) {
        if ((x->err = grow_rows(x)) < 0) return NULL;
        return row_of(x, t); /* once: the table has room now */
    }
    x->tab[s] = ++c->n;
    c->rows[c->n - 1] = (om_gc_type_count){t, 0, 0, 0};
    return &c->rows[c->n - 1];
}

static int push_addr(count_ctx *x, const void *p)
{
    om_gc_counts *c = x->c;
    if (c->nobjs == x->objs_cap) {
        size_t cap = x->objs_cap ? x->objs_cap * 2 : 1024;
        const void **o = om__sys_realloc(c->h, c->objs, x->objs_cap * sizeof *o, cap * sizeof *o);
        if (!o) return OM_ENOMEM;
        c->objs = o;
        x->objs_cap = cap;
    }
    if (c->nobjs && (uintptr_t)c->objs[c->nobjs - 1] > (uintptr_t)p) x->sorted = 0;
    c->objs[c->nobjs++] = p;
    return 0;
}

static int count_one(om_object *o, void *arg)
{
    count_ctx *x = arg;
    if (o->type->flags & OM_TYPE__HIDDEN) return 0;
    if ((x->flags & OM_GC_COUNTS_TRACKED) && om__gc_gen_of(o) < 0) return 0;
    om_gc_type_count *r = row_of(x, o->type);
    if (!r) return 1;
    r->count++;
    r->bytes += om_sizeof(o);
    x->c->total++;
    if ((x->flags & OM_GC_COUNTS_OBJECTS) && (x->err = push_addr(x, o)) < 0) return 1;
    return 0;
}

static int cmp_count(const void *a, const void *b)
{
    const om_gc_type_count *x = a, *y = b;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    return strcmp(x->type->name ? x->type->name : "", y->type->name ? y->type->name : "");
}

static int cmp_delta(const void *a, const void *b)
{
    const om_gc_type_count *x = a, *y = b;
    if (x->delta != y->delta) return x->delta < y->delta ? 1 : -1;
    return cmp_count(a, b);
}

static int cmp_addr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (const void *const *)a, y = (uintptr_t) * (const void *const *)b;
    return (x > y) - (x < y);
}

/* Shrink the arrays to their lengths (one slot at least), so that
 * om_gc_counts_free knows their sizes. */
static int shrink(om_heap *h, void **p, size_t cap, size_t n, size_t size)
{
    size_t want = n ? n : 1;
    if (cap == want) return 0;
    void *q = om__sys_malloc(h, want * size);
    if (!q) return OM_ENOMEM;
    if (n) memcpy(q, *p, n * size);
    om__sys_free(h, *p, cap * size);
    *p = q;
    return 0;
}

om_gc_counts *om_gc_type_counts(om_heap *h, unsigned flags)
{
    om_gc_counts *c = om__sys_calloc(h, 1, sizeof *c);
    count_ctx x = {c, flags, 16, 0, NULL, 31, 0, 1};
    if (!c) return om__err_null(h, OM_ENOMEM, "om_gc_type_counts: out of memory");
    c->h = h;
    c->rows = om__sys_malloc(h, x.rows_cap * sizeof *c->rows);
    x.tab = om__sys_calloc(h, x.tab_mask + 1, sizeof *x.tab);
    if (!c->rows || !x.tab)
        x.err = OM_ENOMEM;
    else
        om__object_walk(h, count_one, &x);
    om__sys_free(h, x.tab, x.tab ? (x.tab_mask + 1) * sizeof *x.tab : 0);
    if (!x.err) x.err = shrink(h, (void **)&c->rows, x.rows_cap, c->n, sizeof *c->rows);
    if (!x.err) x.rows_cap = c->n ? c->n : 1;
    if (!x.err && (flags & OM_GC_COUNTS_OBJECTS))
        x.err = shrink(h, (void **)&c->objs, x.objs_cap, c->nobjs, sizeof *c->objs);
    if (x.err) {
        om__sys_free(h, c->rows, c->rows ? x.rows_cap * sizeof *c->rows : 0);
        om__sys_free(h, c->objs, x.objs_cap * sizeof *c->objs);
        om__sys_free(h, c, sizeof *c);
        return om__err_null(h, OM_ENOMEM, "om_gc_type_counts: out of memory");
    }
    if (!(flags & OM_GC_COUNTS_OBJECTS)) c->objs = NULL;
    qsort(c->rows, c->n, sizeof *c->rows, cmp_count);
    if (!x.sorted) qsort(c->objs, c->nobjs, sizeof *c->objs, cmp_addr);
    return c;
}

void om_gc_counts_free(om_gc_counts *c)
{
    if (!c) return;
    om__sys_free(c->h, c->rows, (c->n ? c->n : 1) * sizeof *c->rows);
    if (c->objs) om__sys_free(c->h, c->objs, (c->nobjs ? c->nobjs : 1) * sizeof *c->objs);
    om__sys_free(c->h, c, sizeof *c);
}

static const om_gc_type_count *find_row(const om_gc_counts *c, const om_type *t)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->rows[i].type == t) return &c->rows[i];
    return NULL;
}

om_gc_counts *om_gc_type_growth(const om_gc_counts *older, const om_gc_counts *newer)
{
    if (!older || !newer || older->h != newer->h) return NULL;
    om_heap *h = newer->h;
    om_gc_counts *g = om__sys_calloc(h, 1, sizeof *g);
    om_gc_type_count *rows = g ? om__sys_malloc(h, (newer->n ? newer->n : 1) * sizeof *rows) : NULL;
    if (!rows) {
        om__sys_free(h, g, sizeof *g);
        return om__err_null(h, OM_ENOMEM, "om_gc_type_growth: out of memory");
    }
    g->h = h;
    g->rows = rows;
    size_t k = 0;
    for (size_t i = 0; i < newer->n; i++) { /* O(types^2): types are few */
        const om_gc_type_count *o = find_row(older, newer->rows[i].type);
        ptrdiff_t d = (ptrdiff_t)newer->rows[i].count - (ptrdiff_t)(o ? o->count : 0);
        if (d <= 0) continue;
        rows[k] = newer->rows[i];
        rows[k++].delta = d;
        g->total += newer->rows[i].count;
    }
    if (shrink(h, (void **)&g->rows, newer->n ? newer->n : 1, k, sizeof *rows) < 0) {
        om__sys_free(h, rows, (newer->n ? newer->n : 1) * sizeof *rows);
        om__sys_free(h, g, sizeof *g);
        return om__err_null(h, OM_ENOMEM, "om_gc_type_growth: out of memory");
    }
    g->n = k;
    qsort(g->rows, g->n, sizeof *g->rows, cmp_delta);
    return g;
}

void om_gc_counts_print(const om_gc_counts *c, size_t limit, FILE *out)
{
    for (size_t i = 0; i < c->n && (!limit || i < limit); i++) {
        const om_gc_type_count *r = &c->rows[i];
        fprintf(out, "%-24s %10zu", r->type->name ? r->type->name : "?", r->count);
        if (r->delta) fprintf(out, " %+10td", r->delta);
        fputc('\n', out);
    }
}

/* ------------------------------------------------------- new objects */

typedef struct new_ctx {
    const om_gc_counts *since;
    const om_type *t;
    om_object **items;
    size_t n, cap;
    int err;
} new_ctx;

static int was_there(const om_gc_counts *c, const void *p)
{
    size_t lo = 0, hi = c->nobjs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->objs[mid] == p) return 1;
        if ((uintptr_t)c->objs[mid] < (uintptr_t)p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static int collect_new(om_object *o, void *arg)
{
    new_ctx *x = arg;
    if ((o->type->flags & OM_TYPE__HIDDEN) || (x->t && o->type != x->t)) return 0;
    if (was_there(x->since, o)) return 0;
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 64;
        om_object **p = om__sys_realloc(x->since->h, x->items, x->cap * sizeof *p, cap * sizeof *p);
        if (!p) {
            x->err = OM_ENOMEM;
            return 1;
        }
        x->items = p;
        x->cap = cap;
    }
    x->items[x->n++] = o;
    return 0;
}

/* Generation 0 first; untracked (-1) last. */
static int gen_rank(const om_object *o)
{
    int g = om__gc_gen_of(o);
    return g < 0 ? 3 : g;
}

static int cmp_young(const void *a, const void *b)
{
    const om_object *x = *(om_object *const *)a, *y = *(om_object *const *)b;
    int d = gen_rank(x) - gen_rank(y);
    if (d) return d;
    return ((uintptr_t)x > (uintptr_t)y) - ((uintptr_t)x < (uintptr_t)y);
}

om_object **om_gc_get_new_objects(om_heap *h, const om_gc_counts *since, const om_type *t,
                                  size_t max, size_t *n)
{
    *n = 0;
    if (!since || since->h != h || !since->objs)
        return om__err_null(h, OM_EINVAL,
                            "om_gc_get_new_objects: counts of this heap taken with "
                            "OM_GC_COUNTS_OBJECTS needed");
    new_ctx x = {since, t, NULL, 0, 0, 0};
    om__object_walk(h, collect_new, &x);
    if (!x.err && x.n > 1) qsort(x.items, x.n, sizeof *x.items, cmp_young);
    size_t k = max && max < x.n ? max : x.n;
    if (!x.err) x.err = shrink(h, (void **)&x.items, x.cap, k, sizeof *x.items);
    if (x.err) {
        om__sys_free(h, x.items, x.cap * sizeof *x.items);
        return om__err_null(h, OM_ENOMEM, "om_gc_get_new_objects: out of memory");
    }
    for (size_t i = 0; i < k; i++) om__incref(x.items[i]);
    *n = k;
    return x.items;
}
