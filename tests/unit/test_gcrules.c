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
static const om_type box_type = {
    .name = "box", .basic_size = sizeof(box), .dealloc = box_dealloc};

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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
