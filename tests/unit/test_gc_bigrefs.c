/*
 * test_gc_bigrefs.c - garbage cycles through an object with more
 * references inside the heap than the gc word's scratch count holds
 * (2^20 - 1, OM_GCW_REFS_MAX): a hub list that 1M + 100 nodes point at,
 * each node pointed at by the hub. Young and full collections, the recount
 * after finalizers, and a hub that is really reachable.
 */
#include "gc_test_types.h"

int om_child_under_valgrind(void); /* om_child.h (its unistd.h clashes with link) */

enum { NREF = (1 << 20) + 100 };

static int setup(void **state)
{
    reset_globals();
    return om_test_setup_nostress(state); /* a million objects */
}

/* Under memcheck a million objects take minutes: the first case only. */
#define SKIP_UNDER_MEMCHECK()                                                                      \
    do {                                                                                           \
        if (om_child_under_valgrind()) skip();                                                     \
    } while (0)

/* The hub: a list of NREF nodes of type t, each with slot 0 = the hub.
 * Returns the hub (a new reference: the caller's). */
static om_object *build_hub(om_heap *h, const om_type *t)
{
    om_object *hub = om_list_new(h, NREF);
    assert_non_null(hub);
    for (int i = 0; i < NREF; i++) {
        node *n = mk(h, t);
        set_slot(n, 0, hub);
        assert_int_equal(om_list_append_steal(hub, OM_OBJ(n)), 0);
    }
    assert_true(om_refcount(hub) == (size_t)NREF + 1);
    return hub;
}

/* Issue 12.5: gc_refs saturated at 2^20 - 1 and a saturated object counted
 * as reachable, so the whole cycle lived forever. */
static void test_gc_bigrefs_full_collection_frees_hub_cycle(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_gc_disable(h);
    size_t before = live_objects(h);
    om_object *hub = build_hub(h, &node_type);
    om_decref(hub);
    assert_true(om_gc_collect(h, -1) >= NREF + 1);
    assert_int_equal(live_objects(h), before);
}

static void test_gc_bigrefs_young_collection_frees_hub_cycle(void **state)
{
    SKIP_UNDER_MEMCHECK();
    om_heap *h = OM_HEAP(state);
    om_gc_disable(h);
    size_t before = live_objects(h);
    om_object *hub = build_hub(h, &node_type);
    om_decref(hub);
    assert_true(om_gc_collect(h, 0) >= NREF + 1);
    assert_int_equal(live_objects(h), before);
}

/* Finalizers make the collector recount the unreachable set (resurrection
 * check): the hub's count is past the scratch field there too. */
static void test_gc_bigrefs_after_finalizers(void **state)
{
    SKIP_UNDER_MEMCHECK();
    om_heap *h = OM_HEAP(state);
    om_gc_disable(h);
    size_t before = live_objects(h);
    om_object *hub = build_hub(h, &fnode_type);
    om_decref(hub);
    assert_true(om_gc_collect(h, -1) >= NREF + 1);
    assert_int_equal(g_finalized, NREF);
    assert_int_equal(live_objects(h), before);
}

/* A hub with one reference from outside the heap's objects stays, with
 * every node; after that reference goes, everything is collected. */
static void test_gc_bigrefs_reachable_hub_survives(void **state)
{
    SKIP_UNDER_MEMCHECK();
    om_heap *h = OM_HEAP(state);
    om_gc_disable(h);
    size_t before = live_objects(h);
    om_object *hub = build_hub(h, &node_type);
    assert_int_equal(om_gc_collect(h, -1), 0);
    assert_int_equal(om_gc_collect(h, 0), 0);
    assert_true(om_refcount(hub) == (size_t)NREF + 1);
    assert_int_equal(om_list_len(hub), NREF);
    assert_int_equal(om_heap_check(h), 0);
    /* one node loses its slot: the hub's count is now exactly the limit
     * plus what remains inside */
    om_object *first = om_list_get(hub, 0);
    om_clear_ref(&((node *)first)->slot[0]);
    om_decref(first);
    assert_int_equal(om_gc_collect(h, -1), 0);
    om_decref(hub);
    assert_true(om_gc_collect(h, -1) >= NREF + 1);
    assert_int_equal(live_objects(h), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_gc_bigrefs_full_collection_frees_hub_cycle, setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_bigrefs_young_collection_frees_hub_cycle, setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_bigrefs_after_finalizers, setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_bigrefs_reachable_hub_survives, setup,
                                        om_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
