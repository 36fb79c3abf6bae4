/*
 * test_fault_collect.c - a collection that cannot get its scratch memory:
 * the Nth request made during om_gc_collect fails, for N = 0, 1, ... until
 * a collection completes. A failed collection is abandoned before it
 * changes anything: OM_ENOMEM with a message, no weak reference cleared,
 * no finalizer run, no object freed, the heap consistent; the next
 * collection (memory back) finds the same garbage.
 */
#include "om_fault.h"
#include "../unit/gc_test_types.h"

enum { CYCLE = 3000 };

static void cb(om_object *wr, void *ctx)
{
    (void)wr;
    ++*(int *)ctx;
}

static void test_fault_collect_abandons_cleanly(void **state)
{
    (void)state;
    long n;
    int failed = 0;
    for (n = 0; n < 10000; n++) {
        reset_globals();
        om_fault f;
        om_config cfg;
        om_fault_config(&cfg, &f, -1);
        cfg.gc_stress = 0;
        om_heap *h = om_heap_new(&cfg);
        assert_non_null(h);
        om_gc_disable(h);
        /* a garbage cycle of CYCLE nodes (some with finalizers), a weak
         * reference with a callback to one of them, a reachable pair */
        node *first = mk(h, &fnode_type), *prev = first;
        for (int i = 1; i < CYCLE; i++) {
            node *x = mk(h, i % 10 ? &node_type : &fnode_type);
            prev->slot[0] = OM_OBJ(x);
            prev = x;
        }
        prev->slot[0] = om_incref(OM_OBJ(first));
        int calls = 0;
        om_object *wr = om_weakref_new(h, OM_OBJ(first), cb, &calls);
        assert_non_null(wr);
        node *keep = mk(h, &node_type);
        set_slot(keep, 0, keep);
        om_decref(first);
        size_t before = live_objects(h);

        f.countdown = n; /* request n of the collection fails */
        long r = om_gc_collect(h, -1);
        int fired = f.fired;
        f.countdown = -1;
        if (fired && r < 0) {
            failed++;
            assert_int_equal(r, OM_ENOMEM);
            assert_int_equal(om_errcode(h), OM_ENOMEM);
            /* "gc: no memory for the work stack; collection abandoned", or
             * the seam's own message when the pool list cannot grow */
            const char *msg = om_errmsg(h);
            if (!strstr(msg, "no memory") && !strstr(msg, "refused"))
                fprintf(stderr, "message: %s\n", msg);
            assert_true(strstr(msg, "no memory") || strstr(msg, "refused"));
            /* nothing changed */
            assert_int_equal(live_objects(h), before);
            assert_int_equal(calls, 0);
            assert_int_equal(g_finalized, 0);
            om_object *ref = om_weakref_get(wr);
            assert_non_null(ref);
            om_decref(ref);
            assert_int_equal(om_heap_check(h), 0);
            r = om_gc_collect(h, -1); /* memory is back: the same garbage */
        }
        assert_int_equal(r, CYCLE);
        assert_int_equal(calls, 1);
        assert_int_equal(g_finalized, CYCLE / 10);
        assert_null(om_weakref_get(wr));
        assert_int_equal(om_heap_check(h), 0);
        om_decref(wr);
        set_slot(keep, 0, NULL);
        om_decref(keep);
        assert_int_equal(live_objects(h), 0);
        om_heap_destroy(h);
        if (!fired) break;
    }
    print_message("collect: %ld injection points, %d abandoned collections\n", n, failed);
    assert_true(failed >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_collect_abandons_cleanly),
    };
    return cmocka_run_group_tests_name("fault_collect", tests, NULL, NULL);
}
