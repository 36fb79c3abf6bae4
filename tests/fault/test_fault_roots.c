/*
 * test_fault_roots.c - who-holds-it calls that cannot get their memory
 * (src/gc/roots.c, graph.c, growth.c, dot.c, heapsnapshot.c): the Nth
 * request made during the call fails, for N = 0, 1, ... until the call
 * completes. A failed call returns NULL or OM_ENOMEM with the message
 * recorded, and leaves the heap as it was: no scratch state on any object
 * (om_heap_check), the same counts and roots afterwards, nothing leaked.
 */
#include "om_fault.h"
#include "../unit/gc_test_types.h"

enum { NOBJ = 3000, CALLS = 6 };

/* One call of the family; 0 when it succeeded, 1 when it failed cleanly. */
static int call(om_heap *h, int which, om_object *target)
{
    size_t n = 0;
    switch (which) {
    case 0: {
        om_gc_root *r = om_gc_get_roots(h, NULL, 0, &n);
        if (!r) return 1;
        assert_int_equal(n, 1);
        om_gc_roots_free(h, r, n);
        return 0;
    }
    case 1: {
        om_gc_root *r = om_gc_get_roots(h, target, OM_GC_ROOTS_UNTRACKED, &n);
        if (!r) return 1;
        assert_int_equal(n, 1);
        om_gc_roots_free(h, r, n);
        return 0;
    }
    case 2: {
        om_gc_chain *c = om_gc_find_chain(h, target);
        if (!c) return 1;
        assert_int_equal(c->n, 3);
        om_gc_chain_free(h, c);
        return 0;
    }
    case 3: {
        FILE *f = tmpfile();
        int rc = om_gc_write_dot(h, &target, 1, 3, OM_GC_DOT_REFERRERS, f);
        fclose(f);
        if (rc < 0) assert_int_equal(rc, OM_ENOMEM);
        return rc < 0;
    }
    case 4: {
        FILE *f = tmpfile();
        int rc = om_heap_write_heapsnapshot(h, f);
        fclose(f);
        if (rc < 0) assert_int_equal(rc, OM_ENOMEM);
        return rc < 0;
    }
    default: {
        om_gc_counts *a = om_gc_type_counts(h, OM_GC_COUNTS_OBJECTS);
        om_gc_counts *g = a ? om_gc_type_growth(a, a) : NULL;
        om_object **fresh = g ? om_gc_get_new_objects(h, a, NULL, 0, &n) : NULL;
        int ok = fresh != NULL;
        om_gc_list_free(h, fresh, n);
        om_gc_counts_free(g);
        om_gc_counts_free(a);
        return !ok;
    }
    }
}

static void test_fault_roots_every_call_fails_cleanly(void **state)
{
    (void)state;
    for (int which = 0; which < CALLS; which++) {
        long n, failed = 0;
        for (n = 0; n < 100000; n++) {
            reset_globals();
            om_fault f;
            om_config cfg;
            om_fault_config(&cfg, &f, -1);
            cfg.gc_stress = 0;
            om_heap *h = om_heap_new(&cfg);
            assert_non_null(h);
            om_gc_disable(h);
            /* root -> list of NOBJ nodes (one the target), and a str */
            node *root = mk(h, &node_type);
            om_object *list = om_list_new(h, 0), *target = NULL;
            set_slot(root, 0, list);
            om_decref(list);
            for (int i = 0; i < NOBJ; i++) {
                om_object *x = OM_OBJ(mk(h, &node_type));
                assert_int_equal(om_list_append(list, x), 0);
                if (i == NOBJ / 2) target = x;
                om_decref(x);
            }
            long count[3];
            om_gc_get_count(h, count);
            size_t live = live_objects(h);
            f.countdown = n;
            int bad = call(h, which, target);
            int fired = f.fired;
            f.countdown = -1;
            if (bad) {
                assert_true(fired);
                assert_int_equal(om_errcode(h), OM_ENOMEM);
                failed++;
            }
            long count2[3];
            om_gc_get_count(h, count2);
            assert_memory_equal(count, count2, sizeof count);
            assert_int_equal(live_objects(h), live);
            assert_int_equal(om_heap_check(h), 0);
            assert_int_equal(call(h, which, target), 0); /* memory back: it works */
            om_decref(root);
            assert_int_equal(live_objects(h), 0);
            om_heap_destroy(h);
            if (!fired) break;
        }
        assert_true(n < 100000);
        print_message("call %d: %ld failing requests, all clean\n", which, failed);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_roots_every_call_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
