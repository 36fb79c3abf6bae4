/*
 * roots.c - who holds it: the exact roots of a heap (om_gc_get_roots) and
 * the shortest chain of references from one to a target (om_gc_find_chain).
 * The plain root list is the collector's own subtraction (collect.c,
 * om__gc_subtract_begin/end) and one sweep; everything that needs to know
 * which roots reach what works on the heap graph (graph.c).
 * Design note: docs/gc.md ("Roots, chains and pictures").
 */
#include <stdlib.h>

#include "graph.h"

/* A growable array of roots (seam memory), references taken at the end. */
typedef struct rlist {
    om_heap *h;
    om_gc_root *r;
    size_t n, cap;
    int err;
    int saturated; /* a root's count saturated: recount from the graph */
} rlist;

static void rlist_push(rlist *l, om_object *o, size_t outside)
{
    if (l->err) return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        om_gc_root *p = om__sys_realloc(l->h, l->r, l->cap * sizeof *p, cap * sizeof *p);
        if (!p) {
            l->err = OM_ENOMEM;
            return;
        }
        l->r = p;
        l->cap = cap;
    }
    l->r[l->n++] = (om_gc_root){o, outside};
}

/* The array shrunk to n (one slot at least), each object a new reference;
 * NULL with everything freed on error. */
static om_gc_root *rlist_finish(rlist *l, size_t *n)
{
    *n = 0;
    size_t want = l->n ? l->n : 1;
    if (!l->err && l->cap != want) {
        om_gc_root *p = om__sys_malloc(l->h, want * sizeof *p);
        if (p) {
            if (l->n) memcpy(p, l->r, l->n * sizeof *p);
            om__sys_free(l->h, l->r, l->cap * sizeof *l->r);
            l->r = p;
            l->cap = want;
        } else {
            l->err = OM_ENOMEM;
        }
    }
    if (l->err) {
        om__sys_free(l->h, l->r, l->cap * sizeof *l->r);
        om__err(l->h, OM_ENOMEM, "om_gc_get_roots: out of memory");
        return NULL;
    }
    for (size_t i = 0; i < l->n; i++) om__incref(l->r[i].obj);
    *n = l->n;
    return l->r;
}

void om_gc_roots_free(om_heap *h, om_gc_root *roots, size_t n)
{
    if (!roots) return;
    for (size_t i = 0; i < n; i++) om_decref(roots[i].obj);
    om__sys_free(h, roots, (n ? n : 1) * sizeof *roots);
}

/* -------------------------------------------- the collector's roots */

static void take_root(om_object *o, uint32_t refs, void *arg)
{
    rlist *l = arg;
    if (!refs || o->refcnt >= OM_IMMORTAL) return;
    if (refs == OM_GCW_REFS_MAX) l->saturated = 1;
    rlist_push(l, o, refs);
}

static int cmp_root(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const om_gc_root *)a)->obj;
    uintptr_t y = (uintptr_t)((const om_gc_root *)b)->obj;
    return (x > y) - (x < y);
}

/* The subtraction and one sweep over the candidates: no graph. Returns 1
 * when a count saturated (the caller then uses the graph). */
static int fast_roots(om_heap *h, rlist *l)
{
    size_t npools;
    h->gc.collecting = 1;
    long nc = om__gc_subtract_begin(h, &npools);
    if (nc >= 0) om__gc_subtract_end(h, npools, take_root, l);
    h->gc.collecting = 0;
    if (nc < 0) l->err = (int)nc;
    if (!l->err && !l->saturated && l->n > 1) qsort(l->r, l->n, sizeof *l->r, cmp_root);
    return l->saturated && !l->err;
}

/* --------------------------------------------------- from the graph */

static int keep_root(const om__gnode *nd, unsigned flags)
{
    if (!(nd->flags & OM__G_ROOT)) return 0;
    return (nd->flags & OM__G_CAND) || (flags & OM_GC_ROOTS_UNTRACKED);
}

static void graph_roots(om__graph *g, om_object *reaching, unsigned flags, rlist *l)
{
    if (!reaching) {
        for (size_t i = 0; i < g->n; i++)
            if (keep_root(&g->node[i], flags)) rlist_push(l, g->node[i].obj, g->node[i].outside);
        return;
    }
    uint32_t t = om__graph_find(g, reaching), found;
    om__bfs b;
    if (om__graph_bfs(g, &t, 1, 1, OM__G_NONE, SIZE_MAX, 0, &b, &found) < 0) {
        l->err = OM_ENOMEM;
        return;
    }
    for (size_t k = 0; k < b.nvisited; k++) { /* by distance: nearest first */
        const om__gnode *nd = &g->node[b.order[k]];
        if (keep_root(nd, flags)) rlist_push(l, nd->obj, nd->outside);
    }
    om__bfs_free(g, &b);
}

om_gc_root *om_gc_get_roots(om_heap *h, om_object *reaching, unsigned flags, size_t *n)
{
    *n = 0;
    if (h->gc.collecting)
        return om__err_null(h, OM_ESTATE, "om_gc_get_roots: called during a collection");
    if (reaching && !om__object_is_live(h, reaching))
        return om__err_null(h, OM_EFOREIGN, "om_gc_get_roots: %p is not a live object of the heap",
                            (void *)reaching);
    rlist l = {h, NULL, 0, 0, 0, 0};
    if (!reaching && !(flags & OM_GC_ROOTS_UNTRACKED) && !fast_roots(h, &l))
        return rlist_finish(&l, n);
    l.n = 0; /* a saturated count: the graph recounts it exactly */
    om__graph g;
    int rc = om__graph_build(h, &g);
    if (rc < 0) {
        om__sys_free(h, l.r, l.cap * sizeof *l.r);
        return NULL;
    }
    graph_roots(&g, reaching, flags, &l);
    om__graph_free(&g);
    return rlist_finish(&l, n);
}

/* ---------------------------------------------------------- chains */

void om_gc_chain_free(om_heap *h, om_gc_chain *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) om_decref(c->links[i].obj);
    om__sys_free(h, c->links, c->n * sizeof *c->links);
    om__sys_free(h, c, sizeof *c);
}

/* The chain found from target (node t) back to root r: r, parent[r], ...,
 * t (reverse search: a node's parent is the next hop toward target). */
static om_gc_chain *make_chain(const om__graph *g, const om__bfs *b, uint32_t r)
{
    om_heap *h = g->h;
    size_t len = (size_t)b->dist[r] + 1;
    om_gc_chain *c = om__sys_malloc(h, sizeof *c);
    om_gc_link *links = c ? om__sys_malloc(h, len * sizeof *links) : NULL;
    if (!links) {
        om__sys_free(h, c, sizeof *c);
        return om__err_null(h, OM_ENOMEM, "om_gc_find_chain: out of memory");
    }
    uint32_t i = r;
    for (size_t k = 0; k < len; k++, i = b->parent[i]) {
        links[k].obj = om__incref(g->node[i].obj);
        if (k == 0)
            links[k].via[0] = 0;
        else
            om__graph_name_edge(links[k - 1].obj, links[k].obj, links[k].via, sizeof links[k].via);
    }
    c->n = len;
    c->outside = g->node[r].outside;
    c->links = links;
    return c;
}

om_gc_chain *om_gc_find_chain(om_heap *h, om_object *target)
{
    if (!target || !om__object_is_live(h, target))
        return om__err_null(h, OM_EFOREIGN, "om_gc_find_chain: %p is not a live object of the heap",
                            (void *)target);
    om__graph g;
    if (om__graph_build(h, &g) < 0) return NULL;
    uint32_t t = om__graph_find(&g, target), found;
    om__bfs b;
    om_gc_chain *c = NULL;
    if (t != OM__G_NONE &&
        om__graph_bfs(&g, &t, 1, 1, OM__G_NONE, SIZE_MAX, OM__G_ROOT, &b, &found) == 0) {
        if (found != OM__G_NONE)
            c = make_chain(&g, &b, found);
        else
            om__err(h, OM_EKEY, "om_gc_find_chain: no root reaches %s@%p (cyclic garbage?)",
                    target->type->name, (void *)target);
        om__bfs_free(&g, &b);
    } else if (t == OM__G_NONE) {
        om__err(h, OM_EFOREIGN, "om_gc_find_chain: %p is not an object of the heap graph",
                (void *)target);
    }
    om__graph_free(&g);
    return c;
}

size_t om_gc_chain_format(const om_gc_chain *c, char *buf, size_t n)
{
    size_t len = 0;
    char tmp[96];
#define PUT(...)                                                                                   \
    do {                                                                                           \
        int w_ = snprintf(len < n ? buf + len : NULL, len < n ? n - len : 0, __VA_ARGS__);         \
        if (w_ > 0) len += (size_t)w_;                                                             \
    } while (0)
    if (n) buf[0] = 0;
    for (size_t k = 0; k < c->n; k++) {
        om_object *o = c->links[k].obj;
        tmp[0] = 0;
        if (o->type->repr && o->type->repr(o, tmp, sizeof tmp) < 0) tmp[0] = 0;
        if (k == 0)
            PUT("%s@%p (%zu outside)", o->type->name, (void *)o, c->outside);
        else
            PUT(" -> %s%s%s", c->links[k].via, c->links[k].via[0] ? " " : "", o->type->name);
        if (tmp[0] && k) PUT(" %s", tmp);
    }
#undef PUT
    return len;
}
