/*
 * test_fault_gc.c - the collector with the Nth request to the seam failing,
 * for every N until the workload completes: a collection that cannot get
 * its scratch memory is abandoned cleanly (OM_ENOMEM, heap unchanged), weak
 * references, callbacks, garbage and introspection fail with NULL/OM_ENOMEM,
 * and the heap stays consistent and leak-free (LeakSanitizer).
 */
#include "om_fault.h"
#include "../unit/gc_test_types.h"

static node *try_new(om_heap *h, const om_type *t)
{
    node *n = (node *)om_new(h, t);
    if (!n) assert_int_equal(om_errcode(h), OM_ENOMEM);
    return n;
}

static void count_cb(om_object *wr, void *ctx)
{
    (void)wr;
    ++*(int *)ctx;
}

static void gc_cb(om_heap *h, int phase, const om_gc_info *info, void *ctx)
{
    (void)h, (void)phase, (void)info;
    ++*(int *)ctx;
}

static int workload(om_heap *h, void *arg)
{
    (void)arg;
    enum { N = 400 };
    static om_object *wrs[N];
    node *root = NULL, *legacy = NULL;
    int fired = 0, calls = 0;
    om_gc_set_threshold(h, 25, 3, 3);
    if (om_gc_callback_add(h, gc_cb, &calls) < 0) assert_int_equal(om_errcode(h), OM_ENOMEM);
    root = try_new(h, &node_type);
    for (int i = 0; i < N; i++) {
        wrs[i] = NULL;
        node *a = try_new(h, i % 3 ? &node_type : &fnode_type);
        if (!a) continue;
        node *b = try_new(h, i % 7 ? &node_type : &big_type);
        set_slot(a, 0, b ? (void *)b : (void *)a);
        if (b) set_slot(b, 0, a);
        wrs[i] = om_weakref_new(h, OM_OBJ(a), count_cb, &fired);
        if (!wrs[i]) assert_int_equal(om_errcode(h), OM_ENOMEM);
        if (root && i % 5 == 0) set_slot(root, i % NSLOT, a); /* some survive */
        om_xdecref(b);
        om_decref(a);
    }
    legacy = try_new(h, &legacy_type); /* then held only by itself */
    if (legacy) {
        set_slot(legacy, 0, legacy);
        om_decref(legacy);
    }
    size_t n;
    om_object *target = root ? root->slot[0] : NULL;
    if (target) {
        om_object **r = om_gc_get_referrers(h, &target, 1, &n);
        om_gc_list_free(h, r, n);
        r = om_gc_get_referents(h, &target, 1, &n);
        om_gc_list_free(h, r, n);
    }
    om_object **all = om_gc_get_objects(h, -1, &n);
    if (!all) assert_int_equal(om_errcode(h), OM_ENOMEM);
    om_gc_list_free(h, all, n);
    long got = om_gc_collect(h, -1);
    assert_true(got >= 0 || got == OM_ENOMEM);
    om_gc_set_debug(h, OM_GC_DEBUG_SAVEALL);
    got = om_gc_collect(h, 1);
    assert_true(got >= 0 || got == OM_ENOMEM);
    om_gc_set_debug(h, 0);
    /* clean up everything, retrying collections the fault abandoned */
    om_xdecref(root);
    if (legacy) set_slot(legacy, 0, NULL); /* alive: in garbage or a floating cycle */
    om_gc_garbage_clear(h);
    for (int k = 0; k < 3 && om_gc_collect(h, -1) < 0; k++) {
    }
    for (int i = 0; i < N; i++) {
        if (wrs[i]) assert_null(om_weakref_get(wrs[i]));
        om_xdecref(wrs[i]);
    }
    om_gc_callback_remove(h, gc_cb, &calls);
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    assert_int_equal(st.objects, st.heap_objects);
    return 0;
}

static void test_fault_gc_workload(void **state)
{
    (void)state;
    long runs = om_fault_run(workload, NULL, 2000);
    print_message("%ld runs\n", runs);
    assert_true(runs > 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_gc_workload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
