/*
 * tour_gc.c - tour section for the cycle collector: a cycle refcounting
 * cannot free, found by the collector; counts moving through generations;
 * a finalizer that resurrects (its own section); weak references and
 * their callbacks (their own section). get_referrers: tools/tour_leak.c.
 */
#include "tour.h"

typedef struct pair {
    OM_OBJECT_HEAD
    om_object *a, *b;
    const char *name;
} pair;

static int pair_traverse(om_object *o, om_visit_fn visit, void *arg)
{
    OM_VISIT(((pair *)o)->a, visit, arg);
    OM_VISIT(((pair *)o)->b, visit, arg);
    return 0;
}
static void pair_clear(om_object *o)
{
    om_clear_ref(&((pair *)o)->a);
    om_clear_ref(&((pair *)o)->b);
}

static om_object *g_lazarus; /* where the resurrecting finalizer stores itself */
static int g_finalized;
static void phoenix_finalize(om_object *o)
{
    g_finalized++;
    if (!g_lazarus) g_lazarus = om_incref(o);
}

static const om_type pair_type = {
    .name = "pair",
    .basic_size = sizeof(pair),
    .flags = OM_TYPE_GC | OM_TYPE_WEAKREFABLE,
    .traverse = pair_traverse,
    .clear = pair_clear,
    .dealloc = pair_clear,
};
static const om_type phoenix_type = {
    .name = "phoenix",
    .basic_size = sizeof(pair),
    .flags = OM_TYPE_GC,
    .traverse = pair_traverse,
    .clear = pair_clear,
    .finalize = phoenix_finalize,
    .dealloc = pair_clear,
};

static pair *new_pair(om_heap *h, const om_type *t, const char *name)
{
    pair *p = (pair *)om_new(h, t);
    if (p) p->name = name;
    return p;
}

static size_t live(om_heap *h)
{
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    return st.objects - st.heap_objects;
}

static void say_counts(om_heap *h, const char *when)
{
    size_t n[3];
    for (int g = 0; g < 3; g++) {
        om_object **l = om_gc_get_objects(h, g, &n[g]);
        om_gc_list_free(h, l, n[g]);
    }
    om_tour_say("  %-34s generation 0: %4zu  1: %4zu  2: %4zu", when, n[0], n[1], n[2]);
}

static void on_death(om_object *wr, void *ctx)
{
    om_object *r = om_weakref_get(wr);
    om_tour_say("  weakref callback: \"%s\" died; the weak reference now gives %s",
                (const char *)ctx, r ? "an object (?)" : "NULL");
    om_xdecref(r);
}

static int cycle_part(om_heap *h)
{
    pair *a = new_pair(h, &pair_type, "a"), *b = new_pair(h, &pair_type, "b");
    if (!a || !b) return 1;
    a->a = om_incref(OM_OBJ(b));
    b->a = om_incref(OM_OBJ(a));
    om_object *wr = om_weakref_new(h, OM_OBJ(a), on_death, "a");
    om_decref(a);
    om_decref(b);
    size_t alive = live(h) - 1;
    om_tour_say("a -> b -> a, and our references dropped: refcounting frees nothing (%zu %s", alive,
                om_tour_plural(alive, "object", "objects"));
    om_tour_say("alive, each count 1 from the other). A weak reference watches a.");
    long n = om_gc_collect(h, -1);
    size_t left = live(h);
    om_tour_say("om_gc_collect(h, -1), Python's gc.collect(), found %ld unreachable %s;", n,
                om_tour_plural((size_t)n, "object", "objects"));
    om_tour_say("%zu %s left (the weakref).", left, om_tour_plural(left, "object", "objects"));
    om_decref(wr);
    return 0;
}

static int generations_part(om_heap *h)
{
    pair *keep[300];
    om_tour_say("Survivors move up: generation 0 -> 1 -> 2 (bitmaps in the pools):");
    for (int i = 0; i < 300; i++) keep[i] = new_pair(h, &pair_type, "k");
    say_counts(h, "300 new objects:");
    om_gc_collect(h, 0);
    say_counts(h, "after om_gc_collect(h, 0):");
    om_gc_collect(h, 1);
    say_counts(h, "after om_gc_collect(h, 1):");
    for (int i = 0; i < 300; i++) om_decref(keep[i]);
    return 0;
}

static int resurrect_part(om_heap *h)
{
    pair *p = new_pair(h, &phoenix_type, "phoenix"), *q = new_pair(h, &pair_type, "q");
    p->a = om_incref(OM_OBJ(q));
    q->a = om_incref(OM_OBJ(p));
    om_decref(p);
    om_decref(q);
    long n = om_gc_collect(h, -1);
    om_tour_say("A cycle whose member's finalizer stores itself in a global (PEP 442):");
    om_tour_say("  collect: %ld freed, finalizer ran %d %s, resurrected: %s, its cycle intact: %s",
                n, g_finalized, om_tour_plural((size_t)g_finalized, "time", "times"),
                g_lazarus ? "yes" : "no", p->a == OM_OBJ(q) ? "yes" : "no");
    om_clear_ref(&g_lazarus);
    n = om_gc_collect(h, -1);
    om_tour_say("  dropped again: collect frees %ld, finalizer runs %d %s in all (at most once).",
                n, g_finalized, om_tour_plural((size_t)g_finalized, "time", "times"));
    return 0;
}

static void say_gc_stats(om_heap *h)
{
    om_gc_stats st[3];
    om_gc_get_stats(h, st);
    om_tour_say("Statistics (om_gc_get_stats, gc.get_stats): %zu full %s, %zu %s collected,",
                st[2].collections, om_tour_plural(st[2].collections, "collection", "collections"),
                st[2].collected, om_tour_plural(st[2].collected, "object", "objects"));
    om_tour_say("%.3f ms paused in all.", (double)st[2].pause_ns / 1e6);
}

int om_tour_gc(void)
{
    om_heap *h = om_heap_new(NULL);
    if (!h) return 1;
    om_gc_disable(h); /* the numbers below come from explicit collections */
    int rc = cycle_part(h) || generations_part(h);
    say_gc_stats(h);
    om_heap_destroy(h);
    return rc;
}

int om_tour_finalizers(void)
{
    om_heap *h = om_heap_new(NULL);
    if (!h) return 1;
    om_gc_disable(h);
    int rc = resurrect_part(h);
    om_heap_destroy(h);
    return rc;
}

/* A weak reference to an object freed by refcounting (no collector). */
static int weak_part(om_heap *h)
{
    pair *p = new_pair(h, &pair_type, "cache entry");
    if (!p) return 1;
    om_object *wr = om_weakref_new(h, OM_OBJ(p), on_death, "cache entry");
    om_object *r = om_weakref_get(wr);
    om_tour_say("A weak reference does not count: count(entry) = %u with one strong reference",
                om_refcount(r) - 1);
    om_tour_say("and the weak one; om_weakref_get gives %s while it lives.",
                r == OM_OBJ(p) ? "the object" : "NULL (?)");
    om_decref(r);
    size_t n = 0;
    om_object **all = om_weakref_get_all(h, OM_OBJ(p), &n);
    void *ctx = NULL;
    om_weakref_get_callback(wr, &ctx);
    om_tour_say("om_weakref_get_all lists %zu weak %s to it (getweakrefs); its callback", n,
                om_tour_plural(n, "reference", "references"));
    om_tour_say("context reads back as \"%s\" (om_weakref_get_callback, __callback__).",
                ctx ? (const char *)ctx : "NULL");
    om_gc_list_free(h, all, n);
    om_tour_say("Dropping the last strong reference frees it at once, and clears the weak one:");
    om_decref(p);
    om_tour_say("  then om_weakref_get: %s.", om_weakref_get(wr) ? "an object (?)" : "NULL");
    om_decref(wr);
    return 0;
}

int om_tour_weakrefs(void)
{
    om_heap *h = om_heap_new(NULL);
    if (!h) return 1;
    om_gc_disable(h);
    int rc = weak_part(h);
    om_heap_destroy(h);
    return rc;
}
