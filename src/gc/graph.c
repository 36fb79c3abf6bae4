/*
 * graph.c - the heap as a graph (graph.h): nodes from one heap walk taken
 * while the collector's subtraction is in place (so a candidate's outside
 * count is the collector's own gc_refs), edges from every traverse, both
 * directions in compressed rows, and a breadth-first search over them with
 * explicit queues (no recursion: a 10M-long chain is as cheap as a wide
 * list). Memory: 32 bytes per object (node 16, both row offsets 16) and 8 per
 * reference, plus 12 per object for a search (distance, parent, queue), freed when
 * the caller is done. Design note: docs/gc.md ("Roots, chains and pictures").
 */
#include <stdlib.h>

#include "graph.h"

/* ------------------------------------------------------------- nodes */

/* The walk visits arenas in table order, each in address order: the nodes
 * come in ascending runs, which are put in order without a full sort. */
typedef struct run {
    size_t start, len;
} run;

typedef struct nodes_ctx {
    om__graph *g;
    size_t cap;
    int err;
    run *runs; /* ascending runs within one 1 MiB region each */
    size_t nruns, runs_cap;
} nodes_ctx;

static int grow_nodes(nodes_ctx *c)
{
    om__graph *g = c->g;
    size_t cap = c->cap ? c->cap * 2 : 1024;
    om__gnode *p = om__sys_realloc(g->h, g->node, c->cap * sizeof *p, cap * sizeof *p);
    if (!p) return OM_ENOMEM;
    g->node = p;
    c->cap = cap;
    return 0;
}

/* One node; a candidate's gc word holds the subtraction's result now. */
static int add_node(om_object *o, void *arg)
{
    nodes_ctx *c = arg;
    om__graph *g = c->g;
    if (o->type->flags & OM_TYPE__HIDDEN) return 0;
    if (g->n == c->cap && (c->err = grow_nodes(c)) < 0) return 1;
    uintptr_t prev = g->n ? (uintptr_t)g->node[g->n - 1].obj : 0, a = (uintptr_t)o;
    if (!g->n || prev > a || (prev >> OM_ARENA_SHIFT) != (a >> OM_ARENA_SHIFT)) {
        if (c->nruns == c->runs_cap) {
            size_t rc = c->runs_cap ? c->runs_cap * 2 : 64;
            run *r = om__sys_realloc(g->h, c->runs, c->runs_cap * sizeof *r, rc * sizeof *r);
            if (!r) {
                c->err = OM_ENOMEM;
                return 1;
            }
            c->runs = r;
            c->runs_cap = rc;
        }
        c->runs[c->nruns++] = (run){g->n, 0};
    }
    c->runs[c->nruns - 1].len++;
    uint32_t gw = o->gc;
    om__gnode *nd = &g->node[g->n++];
    nd->obj = o;
    nd->outside = 0;
    nd->flags = 0;
    if (gw & OM_GCW_COLLECTING) {
        nd->flags = OM__G_CAND;
        nd->outside = gw >> OM_GCW_FLAG_BITS;
    }
    if (o->refcnt >= OM_IMMORTAL) nd->flags |= OM__G_IMMORTAL;
    return 0;
}

static void subtract_done(om_object *o, uint32_t refs, void *arg)
{
    (void)o, (void)refs, (void)arg;
}

/* Runs carry their first address in start's place while being ordered. */
typedef struct keyed_run {
    uintptr_t first;
    size_t start, len;
} keyed_run;

static int cmp_run(const void *a, const void *b)
{
    uintptr_t x = ((const keyed_run *)a)->first, y = ((const keyed_run *)b)->first;
    return (x > y) - (x < y);
}

static int cmp_node(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const om__gnode *)a)->obj,
              y = (uintptr_t)((const om__gnode *)b)->obj;
    return (x > y) - (x < y);
}

/* Put the runs in address order (runs of different regions never
 * interleave; large blocks, if their runs do, get a full sort). */
static int order_runs(om__graph *g, const run *runs, size_t nruns)
{
    om_heap *h = g->h;
    keyed_run *k = om__sys_malloc(h, nruns * sizeof *k);
    om__gnode *to = k ? om__sys_malloc(h, g->n * sizeof *to) : NULL;
    if (!to) {
        om__sys_free(h, k, k ? nruns * sizeof *k : 0);
        return OM_ENOMEM;
    }
    for (size_t i = 0; i < nruns; i++)
        k[i] = (keyed_run){(uintptr_t)g->node[runs[i].start].obj, runs[i].start, runs[i].len};
    qsort(k, nruns, sizeof *k, cmp_run);
    size_t n = 0;
    for (size_t i = 0; i < nruns; i++) {
        memcpy(to + n, g->node + k[i].start, k[i].len * sizeof *to);
        n += k[i].len;
    }
    memcpy(g->node, to, n * sizeof *to);
    om__sys_free(h, to, g->n * sizeof *to);
    om__sys_free(h, k, nruns * sizeof *k);
    for (size_t i = 1; i < g->n; i++)
        if ((uintptr_t)g->node[i - 1].obj > (uintptr_t)g->node[i].obj) {
            qsort(g->node, g->n, sizeof *g->node, cmp_node);
            break;
        }
    return 0;
}

/* Every live object, with the collector's counts (collector state is as
 * before on return, also on failure). */
static int collect_nodes(om__graph *g, size_t *cap)
{
    om_heap *h = g->h;
    nodes_ctx c = {g, 0, 0, NULL, 0, 0};
    size_t npools;
    h->gc.collecting = 1;
    long nc = om__gc_subtract_begin(h, &npools);
    if (nc >= 0) {
        om__object_walk(h, add_node, &c);
        om__gc_subtract_end(h, npools, subtract_done, NULL);
    }
    h->gc.collecting = 0;
    *cap = c.cap;
    int rc = nc < 0 ? (int)nc : c.err ? c.err : g->n >= OM__G_NONE ? OM_ENOMEM : 0;
    if (rc == 0 && c.nruns > 1) rc = order_runs(g, c.runs, c.nruns);
    om__sys_free(h, c.runs, c.runs_cap * sizeof *c.runs);
    return rc;
}

uint32_t om__graph_find(const om__graph *g, const om_object *o)
{
    size_t lo = 0, hi = g->n;
    uintptr_t k = (uintptr_t)o;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uintptr_t m = (uintptr_t)g->node[mid].obj;
        if (m == k) return (uint32_t)mid;
        if (m < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return OM__G_NONE;
}

/* ------------------------------------------------------------- edges */

typedef struct edges_ctx {
    om__graph *g;
    size_t cap;
    int err;
} edges_ctx;

static int visit_edge(om_object *child, void *arg)
{
    edges_ctx *c = arg;
    om__graph *g = c->g;
    uint32_t j = om__graph_find(g, child);
    if (j == OM__G_NONE) return 0; /* another heap's object */
    if (g->ne == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4096;
        uint32_t *e = om__sys_realloc(g->h, g->fe, c->cap * 4, cap * 4);
        if (!e) {
            c->err = OM_ENOMEM;
            return 1;
        }
        g->fe = e;
        c->cap = cap;
    }
    g->fe[g->ne++] = j;
    return 0;
}

static int forward_edges(om__graph *g, size_t *ecap)
{
    edges_ctx c = {g, 0, 0};
    g->fo = om__sys_malloc(g->h, (g->n + 1) * sizeof *g->fo);
    if (!g->fo) return OM_ENOMEM;
    for (size_t i = 0; i < g->n && !c.err; i++) {
        g->fo[i] = g->ne;
        om_object *o = g->node[i].obj;
        if ((o->type->flags & OM_TYPE_GC) && o->type->traverse)
            o->type->traverse(o, visit_edge, &c);
    }
    g->fo[g->n] = g->ne;
    *ecap = c.cap;
    return c.err;
}

/* The reverse rows from the forward ones (a counting sort: no lookups). */
static int reverse_edges(om__graph *g)
{
    g->ro = om__sys_calloc(g->h, g->n + 1, sizeof *g->ro);
    g->re = om__sys_malloc(g->h, (g->ne ? g->ne : 1) * sizeof *g->re);
    if (!g->ro || !g->re) return OM_ENOMEM;
    for (size_t k = 0; k < g->ne; k++) g->ro[g->fe[k] + 1]++;
    for (size_t i = 0; i < g->n; i++) g->ro[i + 1] += g->ro[i];
    for (size_t i = 0; i < g->n; i++) /* fill, using ro[j] as a cursor */
        for (size_t k = g->fo[i]; k < g->fo[i + 1]; k++) g->re[g->ro[g->fe[k]]++] = (uint32_t)i;
    for (size_t i = g->n; i > 0; i--) g->ro[i] = g->ro[i - 1]; /* restore the starts */
    g->ro[0] = 0;
    return 0;
}

/* Outside counts: saturated candidates and non-candidates from their edges
 * in (a candidate counts only edges from candidates, as the collector). */
static void outside_counts(om__graph *g)
{
    for (size_t i = 0; i < g->n; i++) {
        om__gnode *nd = &g->node[i];
        if (nd->flags & OM__G_IMMORTAL) {
            nd->outside = 0;
            continue;
        }
        int cand = (nd->flags & OM__G_CAND) != 0;
        if (!cand || nd->outside == OM_GCW_REFS_MAX) {
            size_t in = 0;
            for (size_t k = g->ro[i]; k < g->ro[i + 1]; k++)
                if (!cand || (g->node[g->re[k]].flags & OM__G_CAND)) in++;
            uint32_t rc = nd->obj->refcnt;
            nd->outside = in < rc ? rc - (uint32_t)in : 0;
        }
        if (nd->outside) nd->flags |= OM__G_ROOT;
    }
}

int om__graph_build(om_heap *h, om__graph *g)
{
    memset(g, 0, sizeof *g);
    g->h = h;
    if (h->gc.collecting)
        return om__err(h, OM_ESTATE, "the heap graph cannot be built during a collection");
    int rc = collect_nodes(g, &g->ncap);
    if (rc == 0) rc = forward_edges(g, &g->ecap);
    if (rc == 0) rc = reverse_edges(g);
    if (rc < 0) {
        om__graph_free(g);
        return rc == OM_ESTATE ? rc : om__err(h, OM_ENOMEM, "no memory for the heap graph");
    }
    outside_counts(g);
    return 0;
}

void om__graph_free(om__graph *g)
{
    om_heap *h = g->h;
    om__sys_free(h, g->node, g->ncap * sizeof *g->node);
    om__sys_free(h, g->fo, g->fo ? (g->n + 1) * sizeof *g->fo : 0);
    om__sys_free(h, g->ro, g->ro ? (g->n + 1) * sizeof *g->ro : 0);
    om__sys_free(h, g->fe, g->ecap * 4);
    om__sys_free(h, g->re, g->re ? (g->ne ? g->ne : 1) * 4 : 0);
    memset(g, 0, sizeof *g);
    g->h = h;
}

/* ------------------------------------------------------------- search */

void om__bfs_free(const om__graph *g, om__bfs *b)
{
    size_t n = g->n ? g->n : 1;
    om__sys_free(g->h, b->dist, b->dist ? n * 4 : 0);
    om__sys_free(g->h, b->parent, b->parent ? n * 4 : 0);
    om__sys_free(g->h, b->order, b->order ? n * 4 : 0);
    memset(b, 0, sizeof *b);
}

int om__graph_bfs(const om__graph *g, const uint32_t *start, size_t nstart, int reverse,
                  uint32_t max_depth, size_t max_nodes, uint32_t stop_flags, om__bfs *b,
                  uint32_t *found)
{
    size_t n = g->n ? g->n : 1;
    memset(b, 0, sizeof *b);
    *found = OM__G_NONE;
    b->dist = om__sys_malloc(g->h, n * 4);
    b->parent = om__sys_malloc(g->h, n * 4);
    b->order = om__sys_malloc(g->h, n * 4);
    if (!b->dist || !b->parent || !b->order) {
        om__bfs_free(g, b);
        return om__err(g->h, OM_ENOMEM, "no memory for a search of %zu objects", g->n);
    }
    memset(b->dist, 0xff, n * 4);
    const size_t *off = reverse ? g->ro : g->fo;
    const uint32_t *end = reverse ? g->re : g->fe;
    size_t head = 0, tail = 0;
    for (size_t s = 0; s < nstart; s++) {
        uint32_t i = start[s];
        if (i == OM__G_NONE || b->dist[i] != OM__G_NONE) continue;
        if (tail == max_nodes) {
            b->truncated = 1;
            break;
        }
        b->dist[i] = 0;
        b->parent[i] = OM__G_NONE;
        b->order[tail++] = i;
        if (g->node[i].flags & stop_flags) {
            *found = i;
            b->nvisited = tail;
            return 0;
        }
    }
    while (head < tail) {
        uint32_t i = b->order[head++];
        if (b->dist[i] >= max_depth) continue;
        for (size_t k = off[i]; k < off[i + 1]; k++) {
            uint32_t j = end[k];
            if (b->dist[j] != OM__G_NONE) continue;
            if (tail == max_nodes) {
                b->truncated = 1;
                b->nvisited = tail;
                return 0;
            }
            b->dist[j] = b->dist[i] + 1;
            b->parent[j] = i;
            b->order[tail++] = j;
            if (g->node[j].flags & stop_flags) {
                *found = j;
                b->nvisited = tail;
                return 0;
            }
        }
    }
    b->nvisited = tail;
    return 0;
}

void om__graph_name_edge(om_object *parent, const om_object *child, char *buf, size_t n)
{
    buf[0] = 0;
    if (parent->type->name_referent && parent->type->name_referent(parent, child, buf, n) <= 0)
        buf[0] = 0;
}
