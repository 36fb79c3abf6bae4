/*
 * test_types_gc.c - every built-in container inside a reference cycle is
 * collected by the collector (om_gc_collect), with its items, and the
 * free lists and caches stay consistent afterwards.
 */
#include "om_test.h"

static size_t user_objects(om_heap *h)
{
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    return st.objects - st.heap_objects;
}

static void collect(om_heap *h)
{
    om_gc_collect(h, -1);
    assert_int_equal(om_heap_check(h), 0);
}

static void test_types_gc_list_holding_itself(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *l = om_list_new(h, 0);
    om_list_append(l, l);
    om_list_append_steal(l, om_str_from_cstr(h, "payload"));
    om_list_append_steal(l, om_float_new(h, 1.5));
    om_decref(l);
    assert_true(user_objects(h) > 0);
    collect(h);
    assert_int_equal(user_objects(h), 0);
}

static void test_types_gc_dict_holding_itself(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *d = om_dict_new(h), *k = om_str_from_cstr(h, "self");
    om_dict_set(d, k, d);
    om_dict_set_steal(d, om_int_new(h, 1000), om_str_from_cstr(h, "v"));
    om_decref(k);
    om_decref(d);
    collect(h);
    assert_int_equal(user_objects(h), 0);
}

static void test_types_gc_tuple_list_cycle(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *l = om_list_new(h, 0);
    om_object *t = om_tuple_pack(h, 3, om_none(h), l, om_true(h));
    assert_true(om_gc_is_tracked(t));
    om_list_append(l, t);
    om_decref(t);
    om_decref(l);
    collect(h);
    assert_int_equal(user_objects(h), 0);
}

static void test_types_gc_mixed_ring(void **state)
{
    om_heap *h = OM_HEAP(state);
    enum { N = 1000 };
    om_object *first = om_list_new(h, 0), *prev = first;
    om_incref(first);
    for (int i = 0; i < N; i++) {
        om_object *next;
        if (i % 3 == 0)
            next = om_dict_new(h);
        else
            next = om_list_new(h, 0);
        om_object *num = om_int_new(h, i);
        om_object *box = om_tuple_pack(h, 2, next, num); /* a tuple on the path */
        om_decref(num);
        if (om_is_dict(prev))
            om_dict_set_steal(prev, om_int_new(h, i), box);
        else
            om_list_append_steal(prev, box);
        om_decref(prev);
        prev = next;
    }
    om_list_append(first, first);
    if (om_is_dict(prev))
        om_dict_set(prev, om_none(h), first);
    else
        om_list_append(prev, first);
    om_decref(prev);
    om_decref(first);
    collect(h);
    assert_int_equal(user_objects(h), 0);
    /* the free lists refilled by the collection serve new objects */
    om_object *l = om_list_new(h, 0), *d = om_dict_new(h);
    om_dict_set(d, l, l); /* unhashable: nothing stored */
    om_list_append(l, d);
    om_dict_set_steal(d, om_str_from_cstr(h, "l"), om_incref(l));
    om_decref(l);
    om_decref(d);
    collect(h);
    assert_int_equal(user_objects(h), 0);
}

static void test_types_gc_reachable_containers_survive(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *l = om_list_new(h, 0), *d = om_dict_new(h);
    om_list_append(l, l);
    om_list_append(l, d);
    om_dict_set_steal(d, om_str_from_cstr(h, "k"), om_incref(l));
    collect(h);
    assert_int_equal(om_list_len(l), 2);
    assert_int_equal(om_dict_len(d), 1);
    om_decref(d);
    om_decref(l);
    collect(h);
    assert_int_equal(user_objects(h), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_types_gc_list_holding_itself, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_types_gc_dict_holding_itself, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_types_gc_tuple_list_cycle, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_types_gc_mixed_ring, om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_types_gc_reachable_containers_survive, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_types_gc_list_holding_itself, om_test_setup_debug,
                                        om_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
