/*
 * walk.c - every live object of a heap: objects live in their own pools
 * (kinds OBJ and GC), where a block below the pool's bump is live unless
 * its link word decodes into the pool (a debug-mode heap keeps a bit per
 * object instead: its blocks carry a prefix and patterns), and large
 * objects on their own lists, so a walk is a scan of pools. Per-type statistics, the leak
 * report, the object checker and the liveness test are built on it.
 * Design note: docs/object.md ("Walking the heap").
 */
#include "internal/heap.h"

typedef struct walk_ctx {
    int (*fn)(om_object *o, void *arg);
    void *arg;
    int stop;
} walk_ctx;

static void walk_pool(om_heap *h, om__pool *pool, walk_ctx *w)
{
    if (!(h->hooks & OM_HOOK_DEBUG)) {
        for (char *b = om__pool_first(pool); b < pool->bump && !w->stop; b += pool->bsize) {
            om_object *o = (om_object *)b;
            if (om__obj_block_is_free(h, b) || (o->gc & OM_GCW_PENDING)) continue;
            w->stop = w->fn(o, w->arg);
        }
        return;
    }
    for (unsigned i = 0; i < OM_BM_WORDS && !w->stop; i++)
        for (uint64_t m = om__pool_abm(pool)[i]; m && !w->stop; m &= m - 1) {
            om_object *o = (om_object *)(om__pool_start(pool) +
                                         ((i * 64 + (unsigned)__builtin_ctzll(m)) << 4));
            if (o->gc & OM_GCW_PENDING) continue;
            w->stop = w->fn(o, w->arg);
        }
}

static void walk_arena(om_heap *h, om__arena *ar, void *arg)
{
    walk_ctx *w = arg;
    for (unsigned i = OM_POOL_FIRST; i < OM_POOLS_PER_ARENA - ar->untouched && !w->stop; i++) {
        om__pool *pool = om__pool_at(ar->base + i * OM_POOL_SIZE);
        if (!om__arena_pool_is_free(ar, pool) && pool->kind != OM_KIND_RAW) walk_pool(h, pool, w);
    }
}

int om__object_walk(om_heap *h, int (*fn)(om_object *o, void *arg), void *arg)
{
    walk_ctx w = {fn, arg, 0};
    om__arena_foreach(h, walk_arena, &w);
    size_t prefix = h->obj_prefix;
    for (unsigned k = OM_KIND_OBJ; k <= OM_KIND_GC && !w.stop; k++)
        for (om__large *lb = h->alloc.large[k]; lb && !w.stop;) {
            om__large *next = lb->next; /* fn may free the object */
            om_object *o = (om_object *)((char *)(lb + 1) + prefix);
            if (!(o->gc & OM_GCW_PENDING)) w.stop = fn(o, arg);
            lb = next;
        }
    return w.stop;
}

static void count_arena(om_heap *h, om__arena *ar, void *arg)
{
    size_t *n = arg;
    (void)h;
    for (unsigned i = OM_POOL_FIRST; i < OM_POOLS_PER_ARENA - ar->untouched; i++) {
        om__pool *pool = om__pool_at(ar->base + i * OM_POOL_SIZE);
        if (!om__arena_pool_is_free(ar, pool) && pool->kind != OM_KIND_RAW) *n += pool->nalloc;
    }
}

size_t om__object_count(om_heap *h)
{
    size_t n = 0;
    om__arena_foreach(h, count_arena, &n);
    for (unsigned k = OM_KIND_OBJ; k <= OM_KIND_GC; k++)
        for (const om__large *lb = h->alloc.large[k]; lb; lb = lb->next) n++;
    return n;
}

int om__object_is_live(om_heap *h, const void *p)
{
    om__arena *ar = om__arena_of_ptr(&h->alloc, p);
    if (!ar) {
        om__large *lb = om__large_find(h, (const char *)p - h->obj_prefix);
        return lb && lb->kind != OM_KIND_RAW;
    }
    om__pool *pool = om__pool_of(p);
    if (om__arena_pool_is_free(ar, pool) || pool->kind == OM_KIND_RAW) return 0;
    if ((uintptr_t)p & (OM_GRANULE - 1)) return 0;
    if ((const char *)p < om__pool_first(pool)) return 0;
    if (h->hooks & OM_HOOK_DEBUG) return om__bm_test(om__pool_abm(pool), om__granule(pool, p));
    size_t off = (size_t)((const char *)p - om__pool_first(pool));
    if ((const char *)p >= pool->bump || off % pool->bsize) return 0;
    return !om__obj_block_is_free(h, (void *)(uintptr_t)p);
}

/* ------------------------------------------------- per-type statistics */

static int count_object(om_object *o, void *arg)
{
    om_heap_stats *st = arg;
    size_t i;
    st->objects++;
    if (o->refcnt < OM_IMMORTAL) st->total_refs += o->refcnt;
    for (i = 0; i < st->ntypes; i++)
        if (st->types[i].name == o->type->name) break;
    if (i == st->ntypes) {
        if (st->ntypes == OM_STATS_MAX_TYPES) return 0;
        st->types[st->ntypes++].name = o->type->name;
    }
    st->types[i].count++;
    st->types[i].bytes += om_sizeof(o);
    return 0;
}

void om__object_fill_stats(om_heap *h, om_heap_stats *st)
{
    om__object_walk(h, count_object, st);
}

void om__object_print_stats(om_heap *h, const om_heap_stats *st, FILE *out)
{
    (void)h;
    fprintf(out, "\n# live objects                     = %14zu\n", st->objects);
    fprintf(out, "# total references (mortal)        = %14zu\n", st->total_refs);
    if (st->ntypes) fprintf(out, "%-24s %12s %14s\n", "type", "objects", "bytes");
    for (size_t i = 0; i < st->ntypes; i++)
        fprintf(out, "%-24s %12zu %14zu\n", st->types[i].name ? st->types[i].name : "?",
                st->types[i].count, st->types[i].bytes);
}

/* ------------------------------------------------------------- checks */

typedef struct check_ctx {
    FILE *out;
    size_t n;
    int bad;
    int dealloc; /* a deallocation runs: its object has count 0, legitimately */
} check_ctx;

static int check_object(om_object *o, void *arg)
{
    check_ctx *c = arg;
    c->n++;
    const char *why = NULL;
    if (!o->type)
        why = "no type";
    else if (o->refcnt == 0 && !c->dealloc)
        why = "count 0 on a live object";
    else if ((o->gc & OM_GCW_TRACKED) && !(o->type->flags & OM_TYPE_GC))
        why = "tracked, not a GC type";
    else if (o->gc & (OM_GCW_COLLECTING | OM_GCW_REACHABLE | OM_GCW_UNREACHABLE))
        why = "collection flags outside a collection";
    if (!why) return 0;
    fprintf(c->out, "objmem: om_heap_check: object %p: %s\n", (void *)o, why);
    c->bad++;
    return 1;
}

int om__object_check(om_heap *h, FILE *out)
{
    check_ctx c = {out, 0, 0, h->obj.deallocating != 0};
    om__object_walk(h, check_object, &c);
    size_t blocks = c.bad || h->obj.deallocating ? c.n : om__object_count(h);
    if (c.n != blocks) {
        fprintf(out, "objmem: om_heap_check: %zu objects found, %zu object blocks in use\n", c.n,
                blocks);
        c.bad++;
    }
    return c.bad ? OM_ESTATE : 0;
}

/* --------------------------------------------------------- leak report */

/* What is still alive at heap destroy: mortal objects by type, immortal
 * objects by type (not leaks: never freed by design, released anyway), and
 * raw blocks. */
typedef struct leak_row {
    const om_type *type;
    size_t count, bytes;
    om_object *first; /* one of them, shown with om_repr */
} leak_row;

typedef struct leak_ctx {
    leak_row mortal[OM_STATS_MAX_TYPES], immortal[OM_STATS_MAX_TYPES];
    size_t nmortal, nimmortal;    /* rows used                           */
    size_t objects, object_bytes; /* mortal totals                       */
    size_t immortals;             /* immortal total                      */
    size_t raw, raw_bytes;        /* raw blocks and their block bytes    */
} leak_ctx;

static void leak_add(leak_row *rows, size_t *n, om_object *o)
{
    size_t i;
    for (i = 0; i < *n; i++)
        if (rows[i].type == o->type) break;
    if (i == *n) {
        if (*n == OM_STATS_MAX_TYPES) return; /* counted in the totals only */
        rows[*n].type = o->type;
        rows[(*n)++].first = o;
    }
    rows[i].count++;
    rows[i].bytes += om_sizeof(o);
}

static int leak_object(om_object *o, void *arg)
{
    leak_ctx *c = arg;
    if (o->refcnt >= OM_IMMORTAL) {
        c->immortals++;
        leak_add(c->immortal, &c->nimmortal, o);
        return 0;
    }
    c->objects++;
    c->object_bytes += om_sizeof(o);
    leak_add(c->mortal, &c->nmortal, o);
    return 0;
}

static void leak_raw_arena(om_heap *h, om__arena *ar, void *arg)
{
    leak_ctx *c = arg;
    (void)h;
    for (unsigned i = OM_POOL_FIRST; i < OM_POOLS_PER_ARENA - ar->untouched; i++) {
        om__pool *pool = om__pool_at(ar->base + i * OM_POOL_SIZE);
        if (om__arena_pool_is_free(ar, pool) || pool->kind != OM_KIND_RAW) continue;
        c->raw += pool->nalloc;
        c->raw_bytes += (size_t)pool->nalloc * pool->bsize;
    }
}

/* One row per type: "    str   500 objects   32890 bytes   e.g. 'response to request 0'". */
static void leak_print_rows(FILE *out, const leak_row *rows, size_t n)
{
    char text[64];
    for (size_t i = 0; i < n; i++) {
        om_repr(rows[i].first, text, sizeof text);
        fprintf(out, "    %-24s %10zu %-7s %12zu bytes   e.g. %s\n",
                rows[i].type->name ? rows[i].type->name : "?", rows[i].count,
                rows[i].count == 1 ? "object" : "objects", rows[i].bytes, text);
    }
}

/* Prints nothing when no mortal object and no raw block is alive. */
void om__object_report_leaks(om_heap *h, FILE *out)
{
    leak_ctx c;
    memset(&c, 0, sizeof c);
    om__tc_flush_all(h); /* cached raw blocks are free, not leaks */
    om__object_walk(h, leak_object, &c);
    om__arena_foreach(h, leak_raw_arena, &c);
    for (om__large *lb = h->alloc.large[OM_KIND_RAW]; lb; lb = lb->next) {
        c.raw++;
        c.raw_bytes += lb->size;
    }
    if (!c.objects && !c.raw) return;
    fprintf(out,
            "objmem: leak report: %zu object%s (%zu bytes) and %zu raw block%s (%zu bytes) "
            "still alive at heap destroy; releasing them\n",
            c.objects, c.objects == 1 ? "" : "s", c.object_bytes, c.raw, c.raw == 1 ? "" : "s",
            c.raw_bytes);
    leak_print_rows(out, c.mortal, c.nmortal);
    if (c.raw)
        fprintf(out, "    %-24s %10zu %-7s %12zu bytes\n", "(raw blocks)", c.raw,
                c.raw == 1 ? "block" : "blocks", c.raw_bytes);
    if (c.immortals) {
        fprintf(out, "objmem: also %zu immortal object%s (never freed by design, not leaks):\n",
                c.immortals, c.immortals == 1 ? "" : "s");
        leak_print_rows(out, c.immortal, c.nimmortal);
    }
    fflush(out);
}
