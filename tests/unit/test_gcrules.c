/*
 * test_gcrules.c - the collection rules objmem shares with CPython 3.11
 * (issue 13; docs/gc.md "Rules as CPython"): weak references that are
 * themselves garbage, the trashcan bounding finalizers and weak-reference
 * callbacks, lazy untracking of tuples and dicts, gc.garbage, refcount
 * errors reported, and the gc/weakref API additions.
 */
#include "gc_test_types.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

/* om_child.h declares these (it cannot be included with gc_test_types.h:
 * unistd.h's link()). */
int om_child_under_asan(void);
int om_test_run_child(void (*fn)(void *arg), void *arg, char *buf, size_t n);

/* ------------------------------------------ refcount errors (item 5) */

/* Release build, debug mode off: a freed, not yet reused object block keeps
 * count 0 (the free-list link is not in the first word), so a second
 * om_decref reaches the slow path and is reported with OM_ESTATE. ASan and
 * memcheck stop such a read themselves (the block is poisoned). */
static void test_gcrules_release_double_decref_reported(void **state)
{
    if (om_child_under_asan() || RUNNING_ON_VALGRIND) skip();
    om_heap *h = OM_HEAP(state);
    om_object *keep[3], *o;
    for (int i = 0; i < 3; i++) keep[i] = om_new(h, &plain_type); /* the pool stays in use */
    o = om_new(h, &plain_type);
    om_object *gc = om_new(h, &node_type);
    om_decref(o);
    assert_int_equal(om_refcount(o), 0);
    om_decref(o); /* a double decref */
    assert_int_equal(om_errcode(h), OM_ESTATE);
    om_decref(gc);
    assert_int_equal(om_refcount(gc), 0);
    om_decref(gc);
    assert_int_equal(om_errcode(h), OM_ESTATE);
    for (int i = 0; i < 3; i++) om_decref(keep[i]);
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    assert_int_equal(st.objects, st.heap_objects);
}

/* ------------------------------------- trash weak references (item 1) */

/* A non-GC container of one reference: what it holds is invisible to the
 * collector, so a referent behind it dies by refcount in the clear phase. */
typedef struct box {
    OM_OBJECT_HEAD
    om_object *item;
} box;
static void box_dealloc(om_object *o)
{
    om_clear_ref(&((box *)o)->item);
}
static const om_type box_type = {.name = "box", .basic_size = sizeof(box), .dealloc = box_dealloc};

static int g_callbacks;
static void count_cb(om_object *wr, void *ctx)
{
    (void)wr, (void)ctx;
    g_callbacks++;
}

enum { WR_FIRST = 1, ACROSS_POOLS = 2, REFERENT_OLD = 4, REFERENT_BOXED = 8 };

/* Garbage: a cycle a <-> b that holds the weak reference w (with a
 * callback) to r, and keeps r alive (directly or behind a box). r is not
 * part of the garbage (old, or behind the box), so it dies by refcount
 * while the cycle is cleared: w is garbage and must never call back. */
static void trash_weakref_case(om_heap *h, unsigned how)
{
    g_callbacks = 0;
    node *r = mk(h, &node_type);
    if (how & REFERENT_OLD) om_gc_collect(h, -1); /* r is old now */
    node *filler[600];
    size_t nfill = (how & ACROSS_POOLS) ? 600 : 0;
    om_object *w = NULL;
    if (how & WR_FIRST) assert_non_null(w = om_weakref_new(h, OM_OBJ(r), count_cb, NULL));
    for (size_t i = 0; i < nfill; i++) filler[i] = mk(h, &node_type);
    node *a = mk(h, &node_type), *b = mk(h, &node_type);
    if (!w) assert_non_null(w = om_weakref_new(h, OM_OBJ(r), count_cb, NULL));
    set_slot(a, 0, b);
    set_slot(b, 0, a);
    set_slot(a, 1, w);
    if (how & REFERENT_BOXED) {
        box *bx = (box *)om_new(h, &box_type);
        assert_non_null(bx);
        bx->item = om_incref(OM_OBJ(r));
        set_slot(b, 1, bx);
        om_decref(bx);
    } else {
        set_slot(b, 1, r);
    }
    om_decref(w);
    om_decref(a);
    om_decref(b);
    om_decref(r);
    for (size_t i = 0; i < nfill; i++) om_decref(filler[i]);
    /* (under OBJMEM_GC_STRESS the cycle may be old already: then the full
     * collection finds it) */
    long found = om_gc_collect(h, (how & REFERENT_OLD) ? 0 : -1);
    assert_int_equal(g_callbacks, 0);
    found += om_gc_collect(h, -1);
    assert_true(found >= 3);
    assert_int_equal(g_callbacks, 0);
}

static void test_gcrules_trash_weakref_never_calls_back(void **state)
{
    om_heap *h = OM_HEAP(state);
    for (unsigned how = 0; how < 16; how++) {
        if (!(how & (REFERENT_OLD | REFERENT_BOXED))) continue; /* r would be garbage too */
        trash_weakref_case(h, how);
    }
}

/* The rule also holds when the referent is garbage itself (both sides of
 * the pool order) and for a weakref to a young object in the cycle. */
static void test_gcrules_trash_weakref_to_trash(void **state)
{
    om_heap *h = OM_HEAP(state);
    for (int order = 0; order < 2; order++) {
        g_callbacks = 0;
        node *a = mk(h, &node_type);
        om_object *w = om_weakref_new(h, OM_OBJ(a), count_cb, NULL);
        node *b = mk(h, &node_type);
        if (order) {
            om_decref(w);
            w = om_weakref_new(h, OM_OBJ(b), count_cb, NULL);
        }
        set_slot(a, 0, b);
        set_slot(b, 0, a);
        set_slot(order ? a : b, 1, w);
        om_decref(w);
        om_decref(a);
        om_decref(b);
        assert_true(om_gc_collect(h, -1) >= 3);
        assert_int_equal(g_callbacks, 0);
    }
}

/* ------------------------ the trashcan bounds user code too (item 2) */

/* A link whose finalizer drops the next link (`self.next = None` in
 * __del__) and, with g_resurrect_every, resurrects every n-th object. */
typedef struct flink {
    OM_OBJECT_HEAD
    om_object *next;
    long index;
} flink;
static long g_fin_runs, g_resurrect_every, g_nsaved;
static om_object **g_saved;
static int flink_traverse(om_object *o, om_visit_fn visit, void *arg)
{
    OM_VISIT(((flink *)o)->next, visit, arg);
    return 0;
}
static void flink_clear(om_object *o)
{
    om_clear_ref(&((flink *)o)->next);
}
static void flink_finalize(om_object *o)
{
    flink *f = (flink *)o;
    g_fin_runs++;
    if (g_resurrect_every && f->index % g_resurrect_every == 0) g_saved[g_nsaved++] = om_incref(o);
    om_clear_ref(&f->next);
}
static const om_type flink_type = {
    .name = "flink",
    .basic_size = sizeof(flink),
    .flags = OM_TYPE_GC | OM_TYPE_WEAKREFABLE,
    .traverse = flink_traverse,
    .clear = flink_clear,
    .finalize = flink_finalize,
    .dealloc = flink_clear,
};

/* Objects whose weak-reference callbacks drop the next object: slot i+1
 * of g_held is dropped by the callback of the weak reference to object i. */
static om_object **g_held, **g_wrs;
static void drop_next_cb(om_object *wr, void *ctx)
{
    (void)wr;
    om_clear_ref(&g_held[(size_t)ctx + 1]);
}

static om_object *g_head;
static int drop_head(void *arg)
{
    (void)arg;
    om_clear_ref(&g_head);
    return 0;
}

/* A chain of n: kind 0 finalizer links, 1 weak-reference-callback links,
 * 2 both alternating. The chain is dropped on a 256 KiB thread stack. */
static void drop_user_code_chain(om_heap *h, size_t n, int kind)
{
    g_fin_runs = 0;
    g_held = calloc(n + 1, sizeof *g_held);
    g_wrs = calloc(n, sizeof *g_wrs);
    assert_non_null(g_held);
    assert_non_null(g_wrs);
    om_object *next = NULL;
    for (size_t i = n; i-- > 0;) { /* built from the tail */
        int fin = kind == 0 || (kind == 2 && i % 2 == 0);
        if (fin) {
            flink *f = (flink *)om_new(h, &flink_type);
            assert_non_null(f);
            f->index = (long)i;
            f->next = next; /* steals */
            next = OM_OBJ(f);
        } else {
            node *x = mk(h, &node_type);
            g_held[i + 1] = next; /* dropped by x's weakref callback */
            next = OM_OBJ(x);
            assert_non_null(g_wrs[i] = om_weakref_new(h, next, drop_next_cb, (void *)i));
        }
    }
    g_head = next;
    assert_int_equal(om_test_on_small_stack(drop_head, NULL, 256 * 1024), 0);
    for (size_t i = 0; i < n; i++) om_xdecref(g_wrs[i]);
    for (size_t i = 0; i <= n; i++) assert_null(g_held[i]);
    free(g_held);
    free(g_wrs);
}

static size_t chain_n(size_t n)
{
    return RUNNING_ON_VALGRIND ? n / 20 : n;
}

static void test_gcrules_finalizer_chain_1m_bounded_stack(void **state)
{
    om_heap *h = OM_HEAP(state);
    drop_user_code_chain(h, chain_n(1000000), 0);
    assert_int_equal(g_fin_runs, chain_n(1000000));
    assert_int_equal(live_objects(h), 0);
}

static void test_gcrules_callback_chain_100k_bounded_stack(void **state)
{
    om_heap *h = OM_HEAP(state);
    drop_user_code_chain(h, chain_n(100000), 1);
    assert_int_equal(live_objects(h), 0);
}

static void test_gcrules_mixed_chain_bounded_stack(void **state)
{
    om_heap *h = OM_HEAP(state);
    drop_user_code_chain(h, chain_n(200000), 2);
    assert_int_equal(g_fin_runs, chain_n(200000) / 2);
    assert_int_equal(live_objects(h), 0);
}

/* Every tenth finalizer resurrects its object (and drops its next link):
 * 1/10 survive, finalized once; dropping them later runs no finalizer. */
static void test_gcrules_finalizer_chain_resurrects_every_tenth(void **state)
{
    om_heap *h = OM_HEAP(state);
    size_t n = chain_n(1000000);
    g_resurrect_every = 10;
    g_nsaved = 0;
    g_saved = calloc(n / 10 + 1, sizeof *g_saved);
    assert_non_null(g_saved);
    drop_user_code_chain(h, n, 0);
    assert_int_equal(g_fin_runs, n);
    assert_int_equal(g_nsaved, n / 10);
    assert_int_equal(live_objects(h), n / 10);
    for (long i = 0; i < g_nsaved; i++) {
        assert_int_equal(om_refcount(g_saved[i]), 1);
        assert_true(om_gc_is_finalized(g_saved[i]));
        assert_true(om_gc_is_tracked(g_saved[i]));
        assert_null(((flink *)g_saved[i])->next);
    }
    assert_int_equal(om_gc_collect(h, -1), 0); /* resurrected objects are tracked and alive */
    for (long i = 0; i < g_nsaved; i++) om_decref(g_saved[i]);
    assert_int_equal(g_fin_runs, n);
    assert_int_equal(live_objects(h), 0);
    free(g_saved);
    g_saved = NULL;
    g_resurrect_every = 0;
}

/* ------------------------------- untracking as CPython does (item 3) */

/* A tuple tracked for an item that may form a cycle, whose items are all
 * atomic now: the list in slot 0 was replaced by a after slot 1 was set. */
static om_object *tracked_atomic_pair(om_heap *h, om_object *a, om_object *b)
{
    om_object *t = om_tuple_new(h, 2);
    assert_false(om_gc_is_tracked(t)); /* NULL slots only */
    assert_int_equal(om_tuple_set_steal(t, 0, om_list_new(h, 0)), 0);
    assert_true(om_gc_is_tracked(t));
    assert_int_equal(om_tuple_set_steal(t, 1, b), 0);
    assert_int_equal(om_tuple_set_steal(t, 0, a), 0); /* the list goes */
    assert_true(om_gc_is_tracked(t));                 /* not the last slot: not checked */
    return t;
}

/* A tuple filled in any order with atomic items is never tracked (an
 * untracked tuple holds atomic items or NULL); one tracked for a container
 * it no longer holds leaves the collector when it first survives a
 * collection (_PyTuple_MaybeUntrack). */
static void test_gcrules_tuple_untracked_when_it_survives(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *t = om_tuple_new(h, 3);
    for (int i = 2; i >= 0; i--) om_tuple_set_steal(t, i, om_int_new(h, i * 1000));
    om_object *inner = om_tuple_new(h, 2); /* a tuple of an atomic tuple */
    om_tuple_set_steal(inner, 1, om_str_from_cstr(h, "x"));
    om_tuple_set_steal(inner, 0, om_float_new(h, 1.5));
    om_object *flat = om_tuple_pack(h, 1, inner);
    om_object *holds_list = om_tuple_new(h, 2);
    om_tuple_set_steal(holds_list, 1, om_list_new(h, 0));
    om_tuple_set_steal(holds_list, 0, om_int_new(h, 1));
    om_object *dd = om_dict_new(h);
    om_object *holds_dict = om_tuple_pack(h, 1, dd); /* an empty dict */
    om_decref(dd);
    om_object *partial = om_tuple_new(h, 2); /* a slot not set yet */
    om_tuple_set_steal(partial, 1, om_int_new(h, 7));
    om_object *was = tracked_atomic_pair(h, om_int_new(h, 3), om_float_new(h, 2.5));
    om_object *outer = om_tuple_pack(h, 1, was);
    assert_false(om_gc_is_tracked(t));
    assert_false(om_gc_is_tracked(inner));
    assert_false(om_gc_is_tracked(flat));
    assert_false(om_gc_is_tracked(partial));
    assert_true(om_gc_is_tracked(holds_list));
    assert_true(om_gc_is_tracked(outer)); /* its item is tracked */
    om_gc_collect(h, 0);
    assert_false(om_gc_is_tracked(was));
    assert_true(om_gc_is_tracked(holds_list));
    assert_true(om_gc_is_tracked(holds_dict)); /* a dict may become tracked later */
    assert_int_equal(om_tuple_set_steal(partial, 0, om_list_new(h, 0)), 0);
    assert_true(om_gc_is_tracked(partial)); /* tracked by the store */
    om_gc_collect(h, -1);
    assert_false(om_gc_is_tracked(outer)); /* its item left first */
    assert_true(om_gc_is_tracked(holds_list));
    om_object *objs[] = {t, inner, flat, holds_list, holds_dict, partial, was, outer};
    for (int k = 0; k < 8; k++) om_decref(objs[k]);
}

/* MAINTAIN_TRACKING: a dict is not tracked until something that may be
 * tracked is stored in it as a key or a value. */
static void test_gcrules_dict_tracked_when_container_stored(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *d = om_dict_new(h);
    assert_false(om_gc_is_tracked(d));
    om_object *k = om_str_from_cstr(h, "k"), *k2 = om_str_from_cstr(h, "k2");
    om_object *v = om_int_new(h, 5);
    om_dict_set(d, k, v);
    om_dict_set(d, v, k);
    assert_false(om_gc_is_tracked(d));
    om_object *at = om_tuple_pack(h, 2, k, v); /* an atomic tuple: untracked */
    assert_int_equal(om_dict_set_steal(d, om_incref(k2), at), 0);
    assert_false(om_gc_is_tracked(d));
    om_object *l = om_list_new(h, 0);
    om_dict_set(d, k2, l); /* a list: tracked from now on */
    assert_true(om_gc_is_tracked(d));
    om_object *d2 = om_dict_new(h), *d3 = om_dict_new(h);
    om_dict_set(d2, k, d3); /* a dict value (even an empty one) */
    assert_true(om_gc_is_tracked(d2));
    assert_false(om_gc_is_tracked(d3));
    om_object *tk = tracked_atomic_pair(h, om_incref(k), om_incref(v)); /* tracked for now */
    if (!om_test_gc_stress()) {
        assert_true(om_gc_is_tracked(tk));
        assert_int_equal(om_dict_set(d3, tk, k), 0); /* a key that may be tracked */
        assert_true(om_gc_is_tracked(d3));
    }
    om_decref(tk);
    om_decref(d3);
    /* a full collection untracks a dict left holding atomic items only
     * (untrack_dicts); a young one does not */
    om_dict_set(d, k2, v);
    om_gc_collect(h, 0);
    if (!om_test_gc_stress()) assert_true(om_gc_is_tracked(d));
    om_gc_collect(h, -1);
    assert_false(om_gc_is_tracked(d));
    assert_true(om_gc_is_tracked(d2));
    om_decref(l);
    om_decref(d);
    om_decref(d2);
    om_decref(k);
    om_decref(k2);
    om_decref(v);
}

/* A cycle through a dict that was untracked when a tuple took it (the
 * tuple stays tracked: the dict may be tracked later) is collected. */
static void test_gcrules_cycle_through_late_tracked_dict(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *d = om_dict_new(h);
    om_object *t = om_tuple_pack(h, 1, d);
    om_gc_collect(h, -1);
    assert_true(om_gc_is_tracked(t));
    om_object *l = om_list_new(h, 0), *k = om_int_new(h, 1);
    om_dict_set(d, k, l);
    om_list_append(l, t); /* t -> d -> l -> t */
    om_decref(d);
    om_decref(t);
    om_decref(l);
    om_decref(k);
    assert_int_equal(om_gc_collect(h, -1), 3);
}

/* gc.is_tracked as CPython answers it, per built-in type. */
static void test_gcrules_is_tracked_per_builtin_type(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *i = om_int_new(h, 123456), *f = om_float_new(h, 2.5);
    om_object *s = om_str_from_cstr(h, "a string"), *e = om_tuple_new(h, 0);
    om_object *l = om_list_new(h, 0), *d = om_dict_new(h);
    node *r = mk(h, &node_type);
    om_object *w = om_weakref_new(h, OM_OBJ(r), NULL, NULL);
    om_object *ta = om_tuple_pack(h, 2, i, s), *tl = om_tuple_pack(h, 1, l);
    assert_false(om_gc_is_tracked(i));
    assert_false(om_gc_is_tracked(f));
    assert_false(om_gc_is_tracked(s));
    assert_false(om_gc_is_tracked(om_none(h)));
    assert_false(om_gc_is_tracked(om_true(h)));
    assert_false(om_gc_is_tracked(om_false(h)));
    assert_false(om_gc_is_tracked(e)); /* the empty tuple singleton */
    assert_true(om_gc_is_tracked(l));  /* lists always */
    assert_false(om_gc_is_tracked(d)); /* empty dict */
    assert_true(om_gc_is_tracked(w));  /* weak references are GC objects */
    assert_true(om_gc_is_tracked(OM_OBJ(r)));
    assert_true(om_gc_is_tracked(tl));
    om_gc_collect(h, -1);
    assert_false(om_gc_is_tracked(ta)); /* after a collection, as CPython */
    assert_true(om_gc_is_tracked(tl));
    om_gc_freeze(h);
    assert_true(om_gc_is_tracked(l)); /* frozen objects stay tracked */
    om_gc_unfreeze(h);
    om_object *all[] = {i, f, s, e, l, d, w, OM_OBJ(r), ta, tl};
    for (size_t k = 0; k < sizeof all / sizeof *all; k++) om_decref(all[k]);
}

/* --------------------------------- gc.garbage as CPython fills it (item 4) */

/* A legacy finalizer in a cycle: gc.garbage lists the objects with legacy
 * finalizers only; what they reach stays alive (and counts as
 * uncollectable), unless OM_GC_DEBUG_SAVEALL lists everything. */
static void legacy_cycle(om_heap *h, node **a, node **b, node **c)
{
    *a = mk(h, &legacy_type), *b = mk(h, &node_type), *c = mk(h, &node_type);
    set_slot(*a, 0, *b);
    set_slot(*b, 0, *a);
    set_slot(*b, 1, *c);
    om_decref(*a), om_decref(*b), om_decref(*c);
}

static void test_gcrules_garbage_lists_legacy_finalizers_only(void **state)
{
    om_heap *h = OM_HEAP(state);
    reset_globals();
    node *a, *b, *c;
    legacy_cycle(h, &a, &b, &c);
    om_gc_stats st0[3], st[3];
    om_gc_get_stats(h, st0);
    assert_int_equal(om_gc_collect(h, -1), 3);
    om_gc_get_stats(h, st);
    assert_int_equal(st[2].uncollectable - st0[2].uncollectable, 3);
    size_t n;
    om_object **g = om_gc_garbage(h, &n);
    assert_int_equal(n, 1);
    assert_ptr_equal(g[0], a);
    om_gc_list_free(h, g, n);
    assert_ptr_equal(b->slot[1], c); /* reachable from it: alive, not cleared */
    assert_int_equal(om_refcount(OM_OBJ(c)), 1);
    assert_int_equal(g_finalized, 0);
    set_slot(b, 0, NULL); /* the programmer breaks the cycle (del gc.garbage[:]) */
    om_gc_garbage_clear(h);
    assert_int_equal(live_objects(h), 0);

    om_gc_set_debug(h, OM_GC_DEBUG_SAVEALL); /* everything, as CPython */
    legacy_cycle(h, &a, &b, &c);
    assert_int_equal(om_gc_collect(h, -1), 3);
    assert_int_equal(om_gc_garbage_count(h), 3);
    om_gc_set_debug(h, 0);
    set_slot(b, 0, NULL);
    om_gc_garbage_clear(h);
    assert_int_equal(live_objects(h), 0);
}

/* ------------------- debug mode: "refcount is too small" (item 5) */

om_heap *om_child_debug_heap(void);

/* A buggy extension drops one reference too many on an object that two
 * slots of a list still hold: the collection stops with a report naming
 * the object, its type and (tracing on) where it was allocated. */
static void refcount_too_small_child(void *arg)
{
    om_heap *h = om_child_debug_heap();
    if (arg) om_trace_start(h, 4);
    om_object *l = om_list_new(h, 0);
    node *b = mk(h, &node_type);
    om_list_append(l, OM_OBJ(b));
    om_list_append(l, OM_OBJ(b));
    fprintf(stderr, "at=%p\n", (void *)b);
    OM_OBJ(b)->refcnt = 1; /* should be 3: ours and the list's two */
    om_gc_collect(h, -1);
    fprintf(stderr, "not detected\n");
}

static void test_gcrules_debug_refcount_too_small_reported(void **state)
{
    (void)state;
    static char out[16384];
    /* (traced: libunwind's stack walk upsets memcheck; not under valgrind) */
    for (int traced = 0; traced < (RUNNING_ON_VALGRIND ? 1 : 2); traced++) {
        int st =
            om_test_run_child(refcount_too_small_child, traced ? (void *)1 : NULL, out, sizeof out);
        assert_true(om_test_aborted(st));
        assert_non_null(strstr(out, "refcount is too small"));
        assert_non_null(strstr(out, "of type node"));
        assert_non_null(strstr(out, "object: <node object at"));
        assert_non_null(strstr(out, "detected by om_gc_collect"));
        assert_null(strstr(out, "not detected"));
        const char *at = strstr(out, "at=");
        assert_non_null(at);
        char addr[32];
        sscanf(at + 3, "%31s", addr);
        assert_non_null(strstr(at + 3 + strlen(addr), addr)); /* the report names it */
        if (traced)
            assert_non_null(strstr(out, "allocated at"));
        else
            assert_non_null(strstr(out, "om_trace_start"));
    }
}

/* ----------------------------------------- API additions (item 6) */

static void *g_ctx_seen;
static om_weakref_callback g_cb_seen;
static void peek_cb(om_object *wr, void *ctx)
{
    (void)ctx;
    g_cb_seen = om_weakref_get_callback(wr, &g_ctx_seen);
}

/* weakref.getweakrefs (thousands of them, past the first growths) and
 * __callback__: the callback and its context read back until the referent
 * dies (then NULL, already inside the callback, as CPython). */
static void test_gcrules_weakref_get_all_and_callback(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *r = mk(h, &node_type);
    size_t n = 0;
    om_object **all = om_weakref_get_all(h, OM_OBJ(r), &n);
    assert_non_null(all);
    assert_int_equal(n, 0);
    om_gc_list_free(h, all, n);
    enum { N = 3000 };
    static om_object *w[N];
    static int ctxs[N];
    for (int i = 0; i < N; i++)
        assert_non_null(w[i] = om_weakref_new(h, OM_OBJ(r), i % 2 ? peek_cb : NULL, &ctxs[i]));
    all = om_weakref_get_all(h, OM_OBJ(r), &n);
    assert_int_equal(n, N);
    assert_int_equal(om_weakref_count(OM_OBJ(r)), N);
    for (size_t i = 0; i < n; i++) {
        assert_ptr_equal(all[i], w[N - 1 - i]); /* newest first, as CPython's list */
        assert_int_equal(om_refcount(all[i]), 2);
    }
    om_gc_list_free(h, all, n);
    void *ctx = NULL;
    assert_ptr_equal(om_weakref_get_callback(w[1], &ctx), peek_cb);
    assert_ptr_equal(ctx, &ctxs[1]);
    assert_null(om_weakref_get_callback(w[0], &ctx));
    assert_ptr_equal(ctx, &ctxs[0]); /* a context without a callback reads back too */
    assert_null(om_weakref_get_callback(OM_OBJ(r), NULL)); /* not a weakref: OM_ETYPE */
    assert_int_equal(om_errcode(h), OM_ETYPE);
    g_ctx_seen = (void *)1;
    g_cb_seen = peek_cb;
    om_decref(r);
    assert_null(g_cb_seen);
    assert_null(g_ctx_seen);
    assert_null(om_weakref_get_callback(w[1], &ctx));
    assert_null(ctx);
    for (int i = 0; i < N; i++) om_decref(w[i]);
    om_object *i1 = om_int_new(h, 99999); /* not weakrefable: none, as getweakrefs */
    all = om_weakref_get_all(h, i1, &n);
    assert_int_equal(n, 0);
    om_gc_list_free(h, all, n);
    om_decref(i1);
}

/* gc.garbage.remove(x) and del gc.garbage[:], on a garbage list grown past
 * its first growths. */
static void test_gcrules_garbage_remove_and_clear(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_gc_set_debug(h, OM_GC_DEBUG_SAVEALL);
    enum { N = 2000 };
    static node *c[N];
    for (int i = 0; i < N; i++) {
        c[i] = mk(h, &node_type);
        c[i]->tag = i;
        set_slot(c[i], 0, c[i]);
        om_decref(c[i]);
    }
    om_gc_collect(h, -1); /* (automatic collections may have found some) */
    om_gc_set_debug(h, 0);
    assert_int_equal(om_gc_garbage_count(h), N);
    node *x = mk(h, &node_type);
    assert_int_equal(om_gc_garbage_remove(h, OM_OBJ(x)), OM_EKEY);
    om_decref(x);
    for (int i = 0; i < N; i += 2) { /* unlisted, the cycle is ours to break */
        om_incref(c[i]);
        assert_int_equal(om_gc_garbage_remove(h, OM_OBJ(c[i])), 0);
        set_slot(c[i], 0, NULL);
        om_decref(c[i]);
    }
    assert_int_equal(om_gc_garbage_count(h), N / 2);
    size_t n;
    om_object **g = om_gc_garbage(h, &n);
    for (size_t i = 0; i < n; i++) assert_int_equal(((node *)g[i])->tag % 2, 1);
    om_gc_list_free(h, g, n);
    om_gc_garbage_clear(h); /* the cycles are garbage again: the next collection frees them */
    assert_int_equal(om_gc_garbage_count(h), 0);
    assert_int_equal(om_gc_collect(h, -1), N / 2);
    assert_int_equal(live_objects(h), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_gcrules_release_double_decref_reported, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gcrules_trash_weakref_never_calls_back, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gcrules_trash_weakref_to_trash, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gcrules_finalizer_chain_1m_bounded_stack,
                                        om_test_setup_nostress, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gcrules_callback_chain_100k_bounded_stack,
                                        om_test_setup_nostress, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gcrules_mixed_chain_bounded_stack,
                                        om_test_setup_nostress, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gcrules_finalizer_chain_resurrects_every_tenth,
                                        om_test_setup_nostress, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gcrules_tuple_untracked_when_it_survives,
                                        om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gcrules_dict_tracked_when_container_stored,
                                        om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gcrules_cycle_through_late_tracked_dict, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gcrules_is_tracked_per_builtin_type, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gcrules_garbage_lists_legacy_finalizers_only,
                                        om_test_setup, om_test_teardown),
        cmocka_unit_test(test_gcrules_debug_refcount_too_small_reported),
        cmocka_unit_test_setup_teardown(test_gcrules_weakref_get_all_and_callback, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gcrules_garbage_remove_and_clear, om_test_setup,
                                        om_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
