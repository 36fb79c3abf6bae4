/*
 * introspect.c - gc.get_objects, gc.get_referrers, gc.get_referents, and
 * the arrays of new references they return (om_gc_list_free).
 * Design note: docs/gc.md ("Introspection").
 */
#include "internal/heap.h"

int om__gc_gen_of(const om_object *o)
{
    if ((o->gc & (OM_GCW_TRACKED | OM_GCW_FROZEN)) != OM_GCW_TRACKED) return -1;
    if (o->gc & OM_GCW_LARGE) return (int)om__large_hdr(o, om__obj_prefix(o))->gen;
    om__pool *pool = om__pool_of(o);
    unsigned g = om__granule(pool, o);
    if (om__bm_test(om__gcb_of(o)->young, g)) return 0;
    if (om__bm_test(om__gcb_of(o)->middle, g)) return 1;
    return 2;
}

/* A growable array of new references (seam memory). */
typedef struct olist {
    om_heap *h;
    om_object **items;
    size_t n, cap;
    int err;
} olist;

static void olist_push(olist *l, om_object *o)
{
    if (l->err) return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        om_object **p = om__sys_realloc(l->h, l->items, l->cap * sizeof *p, cap * sizeof *p);
        if (!p) {
            l->err = OM_ENOMEM;
            return;
        }
        l->items = p;
        l->cap = cap;
    }
    l->items[l->n++] = om__incref(o);
}

/* The array, shrunk to its length (at least one slot), or NULL on error
 * with every reference dropped. */
static om_object **olist_finish(olist *l, size_t *n)
{
    *n = 0;
    if (!l->err && l->cap == 0) {
        l->items = om__sys_malloc(l->h, sizeof *l->items);
        if (l->items)
            l->cap = 1;
        else
            l->err = OM_ENOMEM;
    }
    if (l->err) {
        for (size_t i = 0; i < l->n; i++) om_decref(l->items[i]);
        om__sys_free(l->h, l->items, l->cap * sizeof *l->items);
        return NULL;
    }
    size_t want = l->n ? l->n : 1;
    if (want < l->cap) {
        om_object **p = om__sys_realloc(l->h, l->items, l->cap * sizeof *p, want * sizeof *p);
        if (p) {
            l->items = p;
            l->cap = want;
        }
    }
    if (l->cap != want) { /* realloc refused to shrink: copy */
        om_object **p = om__sys_malloc(l->h, want * sizeof *p);
        if (!p) {
            l->err = OM_ENOMEM;
            return olist_finish(l, n);
        }
        memcpy(p, l->items, l->n * sizeof *p);
        om__sys_free(l->h, l->items, l->cap * sizeof *l->items);
        l->items = p;
        l->cap = want;
    }
    *n = l->n;
    return l->items;
}

void om_gc_list_free(om_heap *h, om_object **items, size_t n)
{
    if (!items) return;
    for (size_t i = 0; i < n; i++) om_decref(items[i]);
    om__sys_free(h, items, (n ? n : 1) * sizeof *items);
}

/* ----------------------------------------------------------- get_objects */

typedef struct objs_ctx {
    olist l;
    int gen;
} objs_ctx;

static int add_if_gen(om_object *o, void *arg)
{
    objs_ctx *c = arg;
    int g = om__gc_gen_of(o);
    if (g >= 0 && (c->gen < 0 || g == c->gen)) olist_push(&c->l, o);
    return c->l.err;
}

om_object **om_gc_get_objects(om_heap *h, int gen, size_t *n)
{
    *n = 0;
    if (gen < -1 || gen > 2)
        return om__err_null(h, OM_EINVAL, "om_gc_get_objects: generation %d", gen);
    objs_ctx c = {{h, NULL, 0, 0, 0}, gen};
    om__object_walk(h, add_if_gen, &c);
    om_object **r = olist_finish(&c.l, n);
    if (!r) om__err(h, OM_ENOMEM, "om_gc_get_objects: out of memory");
    return r;
}

/* --------------------------------------------------------- get_referrers */

typedef struct refs_ctx {
    olist l;
    om_object *const *objs;
    size_t nobjs;
} refs_ctx;

static int visit_is_target(om_object *child, void *arg)
{
    refs_ctx *c = arg;
    for (size_t i = 0; i < c->nobjs; i++)
        if (c->objs[i] == child) return 1;
    return 0;
}

static int add_if_referrer(om_object *o, void *arg)
{
    refs_ctx *c = arg;
    if (om__gc_gen_of(o) < 0) return 0;
    if (o->type->traverse(o, visit_is_target, c)) olist_push(&c->l, o);
    return c->l.err;
}

om_object **om_gc_get_referrers(om_heap *h, om_object *const *objs, size_t nobjs, size_t *n)
{
    refs_ctx c = {{h, NULL, 0, 0, 0}, objs, nobjs};
    om__object_walk(h, add_if_referrer, &c);
    om_object **r = olist_finish(&c.l, n);
    if (!r) om__err(h, OM_ENOMEM, "om_gc_get_referrers: out of memory");
    return r;
}

/* --------------------------------------------------------- get_referents */

static int visit_add(om_object *child, void *arg)
{
    olist_push(arg, child);
    return 0;
}

om_object **om_gc_get_referents(om_heap *h, om_object *const *objs, size_t nobjs, size_t *n)
{
    olist l = {h, NULL, 0, 0, 0};
    for (size_t i = 0; i < nobjs; i++)
        if ((objs[i]->type->flags & OM_TYPE_GC) && objs[i]->type->traverse)
            objs[i]->type->traverse(objs[i], visit_add, &l);
    om_object **r = olist_finish(&l, n);
    if (!r) om__err(h, OM_ENOMEM, "om_gc_get_referents: out of memory");
    return r;
}
