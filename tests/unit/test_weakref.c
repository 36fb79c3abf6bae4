/*
 * test_weakref.c - weak references: the side table, clearing and callbacks
 * when a referent dies by refcount or in a collection, and the gc parts of
 * CPython's Lib/test/test_weakref.py and test_gc.py (bug1055820 family).
 */
#include "gc_test_types.h"

typedef struct cb_rec {
    int calls;
    om_object *last_wr;
    om_object *seen_referent; /* what om_weakref_get said inside the callback */
} cb_rec;

static void record_cb(om_object *wr, void *ctx)
{
    cb_rec *r = ctx;
    r->calls++;
    r->last_wr = wr;
    r->seen_referent = om_weakref_get(wr);
    om_xdecref(r->seen_referent);
}

/* test_weakref.py: test_basic_ref, test_basic_callback */
static void test_weakref_basic(void **state)
{
    om_heap *h = OM_HEAP(state);
    cb_rec r = {0};
    node *a = mk(h, &node_type);
    om_object *wr = om_weakref_new(h, OM_OBJ(a), record_cb, &r);
    assert_non_null(wr);
    assert_true(om_is_weakref(wr));
    om_object *got = om_weakref_get(wr);
    assert_ptr_equal(got, a);
    om_decref(got);
    assert_int_equal(om_weakref_count(OM_OBJ(a)), 1);
    om_decref(a);
    assert_int_equal(r.calls, 1);
    assert_ptr_equal(r.last_wr, wr);
    assert_null(r.seen_referent); /* cleared before the callback */
    assert_null(om_weakref_get(wr));
    om_decref(wr);
}

/* test_weakref.py: test_ref_reuse-like: several refs, count, one dying
 * first, callback order (newest first) */
static int g_order[8], g_norder;
static void order_cb(om_object *wr, void *ctx)
{
    (void)wr;
    g_order[g_norder++] = (int)(intptr_t)ctx;
}

static void test_weakref_count_and_order(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *a = mk(h, &node_type);
    g_norder = 0;
    om_object *w1 = om_weakref_new(h, OM_OBJ(a), order_cb, (void *)1);
    om_object *w2 = om_weakref_new(h, OM_OBJ(a), order_cb, (void *)2);
    om_object *w3 = om_weakref_new(h, OM_OBJ(a), NULL, NULL);
    assert_int_equal(om_weakref_count(OM_OBJ(a)), 3);
    om_decref(w3);
    assert_int_equal(om_weakref_count(OM_OBJ(a)), 2);
    om_decref(a);
    assert_int_equal(g_norder, 2);
    assert_int_equal(g_order[0], 2);
    assert_int_equal(g_order[1], 1);
    om_decref(w1), om_decref(w2);
}

/* A weakref that dies before its referent never calls back. */
static void test_weakref_dies_first(void **state)
{
    om_heap *h = OM_HEAP(state);
    cb_rec r = {0};
    node *a = mk(h, &node_type);
    om_object *wr = om_weakref_new(h, OM_OBJ(a), record_cb, &r);
    om_decref(wr);
    assert_int_equal(om_weakref_count(OM_OBJ(a)), 0);
    om_decref(a);
    assert_int_equal(r.calls, 0);
}

/* test_weakref.py: test_weakref_to_non_weakrefable (TypeError) */
static void test_weakref_requires_weakrefable(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *a = mk(h, &noclear_type);
    assert_null(om_weakref_new(h, OM_OBJ(a), NULL, NULL));
    assert_int_equal(om_errcode(h), OM_ETYPE);
    assert_null(om_weakref_get(OM_OBJ(a)));
    assert_int_equal(om_errcode(h), OM_ETYPE);
    om_decref(a);
}

/* Many referents: table growth and backward-shift deletion, in a
 * scrambled order, with om_heap_check along the way. */
static void test_weakref_table_many(void **state)
{
    om_heap *h = OM_HEAP(state);
    enum { N = 5000 };
    static node *objs[N];
    static om_object *wrs[N];
    cb_rec r = {0};
    for (int i = 0; i < N; i++) {
        objs[i] = mk(h, &node_type);
        wrs[i] = om_weakref_new(h, OM_OBJ(objs[i]), record_cb, &r);
        assert_non_null(wrs[i]);
    }
    assert_int_equal(om_heap_check(h), 0);
    for (int k = 0; k < N; k++) {
        int i = (k * 7919) % N; /* 7919 is prime and coprime with N */
        om_decref(objs[i]);
        objs[i] = NULL;
        if (k % 997 == 0) assert_int_equal(om_heap_check(h), 0);
    }
    assert_int_equal(r.calls, N);
    for (int i = 0; i < N; i++) {
        assert_null(om_weakref_get(wrs[i]));
        om_decref(wrs[i]);
    }
}

/* test_gc.py: test_bug1055820b: a weakref to cyclic trash, the weakref
 * itself reachable: cleared during the collection, callback runs */
static void test_weakref_to_cycle_reachable_wr(void **state)
{
    om_heap *h = OM_HEAP(state);
    cb_rec r = {0};
    node *a = mk(h, &node_type), *b = mk(h, &node_type);
    set_slot(a, 0, b);
    set_slot(b, 0, a);
    om_object *wr = om_weakref_new(h, OM_OBJ(a), record_cb, &r);
    om_decref(a), om_decref(b);
    assert_int_equal(om_gc_collect(h, -1), 2);
    assert_int_equal(r.calls, 1);
    assert_null(r.seen_referent);
    assert_null(om_weakref_get(wr));
    om_decref(wr);
}

/* test_gc.py: test_bug1055820c / test_weakref.py test_callback_in_cycle:
 * the weakref is part of the garbage: cleared, callback NOT called */
static void test_weakref_in_cycle_no_callback(void **state)
{
    om_heap *h = OM_HEAP(state);
    cb_rec r = {0};
    node *a = mk(h, &node_type);
    set_slot(a, 0, a);
    om_object *wr = om_weakref_new(h, OM_OBJ(a), record_cb, &r);
    set_slot(a, 1, wr); /* the cycle holds its own weakref */
    om_decref(wr);
    om_decref(a);
    assert_int_equal(om_gc_collect(h, -1), 2);
    assert_int_equal(r.calls, 0);
}

/* test_gc.py: test_bug1055820d: weakrefs are cleared before finalizers
 * run, so a finalizer of the garbage cannot reach another member through
 * a weak reference */
static om_object *g_wr;
static om_object *g_seen = (om_object *)1;
static void peek_wr(om_object *o)
{
    (void)o;
    g_seen = om_weakref_get(g_wr);
    om_xdecref(g_seen);
}

static void test_weakref_cleared_before_finalizers(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *a = mk(h, &fnode_type), *b = mk(h, &node_type);
    set_slot(a, 0, b);
    set_slot(b, 0, a);
    g_wr = om_weakref_new(h, OM_OBJ(b), NULL, NULL);
    g_finalize_hook = peek_wr;
    om_decref(a), om_decref(b);
    assert_int_equal(om_gc_collect(h, -1), 2);
    assert_int_equal(g_finalized, 1);
    assert_null(g_seen);
    om_clear_ref(&g_wr);
}

/* test_weakref.py: test_callback_resurrects (a callback that stores a
 * reference to a member of the garbage it can see through ctx): that
 * member, and what it reaches, survive this collection. */
static om_object *g_saved;
static void resurrect_cb(om_object *wr, void *ctx)
{
    (void)wr;
    g_saved = om_incref((om_object *)ctx);
}

static void test_weakref_callback_resurrects(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *a = mk(h, &node_type), *b = mk(h, &node_type);
    set_slot(a, 0, b);
    set_slot(b, 0, a);
    om_object *wr = om_weakref_new(h, OM_OBJ(a), resurrect_cb, b);
    om_decref(a), om_decref(b);
    assert_int_equal(om_gc_collect(h, -1), 0); /* b resurrected, a with it */
    assert_ptr_equal(g_saved, b);
    assert_ptr_equal(b->slot[0], a);
    assert_null(om_weakref_get(wr)); /* but the weakref stays cleared */
    om_decref(wr);
    om_clear_ref(&g_saved);
    assert_int_equal(om_gc_collect(h, -1), 2);
}

/* A callback that drops the last reference to its own weakref. */
static void drop_self_cb(om_object *wr, void *ctx)
{
    (void)ctx;
    om_decref(wr);
}

static void test_weakref_callback_drops_weakref(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *a = mk(h, &node_type);
    om_weakref_new(h, OM_OBJ(a), drop_self_cb, NULL); /* owned by the callback */
    om_decref(a);
    assert_int_equal(live_objects(h), 0);
}

/* A weakref to a large object, and a weakref in gen-0 collection to an
 * old object's cycle is untouched. */
static void test_weakref_large_referent(void **state)
{
    om_heap *h = OM_HEAP(state);
    cb_rec r = {0};
    node *a = mk(h, &big_type);
    set_slot(a, 0, a);
    om_object *wr = om_weakref_new(h, OM_OBJ(a), record_cb, &r);
    om_gc_collect(h, -1); /* a (and wr) are old now */
    om_decref(a);
    assert_int_equal(om_gc_collect(h, 0), 0);
    assert_int_equal(r.calls, 0);
    assert_int_equal(om_gc_collect(h, 2), 1);
    assert_int_equal(r.calls, 1);
    om_decref(wr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_weakref_basic, gc_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_weakref_count_and_order, gc_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_weakref_dies_first, gc_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_weakref_requires_weakrefable, gc_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_weakref_table_many, gc_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_weakref_to_cycle_reachable_wr, gc_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_weakref_in_cycle_no_callback, gc_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_weakref_cleared_before_finalizers, gc_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_weakref_callback_resurrects, gc_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_weakref_callback_drops_weakref, gc_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_weakref_large_referent, gc_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_weakref_large_referent, gc_setup_debug,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_weakref_to_cycle_reachable_wr, gc_setup_debug,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_weakref_table_many, gc_setup_debug, om_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
