/*
 * test_borrow.c - the borrowed accessors (*_borrow): they return the
 * container's own reference (no count change), fail as their
 * new-reference twins do, and make a qsort comparator over thousands of
 * tuples a two-liner with no decref.
 */
#include "om_test.h"

static void test_borrow_leaves_counts_alone(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *v = om_float_new(h, 1.5), *k = om_str_from_cstr(h, "key");
    om_object *t = om_tuple_pack(h, 1, v), *l = om_list_new(h, 0), *d = om_dict_new(h);
    assert_int_equal(om_list_append(l, v), 0);
    assert_int_equal(om_dict_set(d, k, v), 0);
    uint32_t rc = om_refcount(v); /* ours, the tuple's, the list's, the dict's */
    assert_int_equal(rc, 4);
    assert_ptr_equal(om_tuple_get_borrow(t, 0), v);
    assert_ptr_equal(om_tuple_get_borrow(t, -1), v);
    assert_ptr_equal(om_list_get_borrow(l, 0), v);
    assert_ptr_equal(om_dict_get_borrow(d, k), v);
    om_dict_iter it = OM_DICT_ITER_INIT;
    om_object *bk = NULL, *bv = NULL;
    assert_int_equal(om_dict_next_borrow(d, &it, &bk, &bv), 1);
    assert_ptr_equal(bk, k);
    assert_ptr_equal(bv, v);
    assert_int_equal(om_dict_next_borrow(d, &it, &bk, NULL), 0);
    assert_int_equal(om_refcount(v), rc);
    assert_int_equal(om_refcount(k), 2);
    /* the borrowed item lives as long as the container holds it */
    om_decref(v);
    assert_int_equal(om_float_value(om_list_get_borrow(l, 0)), 1.5);
    om_decref(t), om_decref(l), om_decref(d), om_decref(k);
}

static void test_borrow_errors_match_the_new_reference_getters(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *t = om_tuple_new(h, 2), *l = om_list_new(h, 0), *d = om_dict_new(h);
    om_object *k = om_int_new(h, 1000);
    om_errclear(h);
    assert_null(om_tuple_get_borrow(t, 0)); /* not filled yet */
    assert_int_equal(om_errcode(h), OM_EINVAL);
    assert_null(om_tuple_get_borrow(t, 2));
    assert_int_equal(om_errcode(h), OM_ERANGE);
    assert_null(om_list_get_borrow(l, 0));
    assert_int_equal(om_errcode(h), OM_ERANGE);
    assert_null(om_list_get_borrow(d, 0));
    assert_int_equal(om_errcode(h), OM_ETYPE);
    assert_null(om_dict_get_borrow(d, k));
    assert_int_equal(om_errcode(h), OM_EKEY);
    assert_null(om_dict_get_borrow(d, l)); /* a list is unhashable */
    assert_int_equal(om_errcode(h), OM_EUNHASH);
    om_dict_iter it = OM_DICT_ITER_INIT;
    assert_int_equal(om_dict_next_borrow(l, &it, NULL, NULL), OM_ETYPE);
    assert_int_equal(om_tuple_set_steal(t, 0, om_int_new(h, 1)), 0);
    assert_int_equal(om_tuple_set_steal(t, 1, om_int_new(h, 2)), 0);
    om_decref(t), om_decref(l), om_decref(d), om_decref(k);
}

static void test_borrow_detects_a_dict_changed_during_iteration(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *d = om_dict_new(h);
    for (int i = 0; i < 3; i++) {
        om_object *k = om_int_new(h, i);
        assert_int_equal(om_dict_set(d, k, k), 0);
        om_decref(k);
    }
    om_dict_iter it = OM_DICT_ITER_INIT;
    om_object *k;
    assert_int_equal(om_dict_next_borrow(d, &it, &k, NULL), 1);
    om_object *extra = om_int_new(h, 99);
    assert_int_equal(om_dict_set(d, extra, extra), 0);
    assert_int_equal(om_dict_next_borrow(d, &it, &k, NULL), OM_EMUTATED);
    om_decref(extra), om_decref(d);
}

/* The case: a qsort comparator over (int, str) tuples, past the
 * list's first growths, with borrowed items: no decref anywhere. */
static int by_first_item(const void *a, const void *b)
{
    int64_t x = om_int_value(om_tuple_get_borrow(*(om_object *const *)a, 0));
    int64_t y = om_int_value(om_tuple_get_borrow(*(om_object *const *)b, 0));
    return (x > y) - (x < y);
}

static void test_borrow_in_a_qsort_comparator(void **state)
{
    om_heap *h = OM_HEAP(state);
    enum { N = 5000 };
    om_object **items = malloc(N * sizeof *items);
    assert_non_null(items);
    for (int i = 0; i < N; i++) {
        om_object *n = om_int_new(h, (int64_t)((i * 7919) % N)), *s = om_str_from_cstr(h, "x");
        items[i] = om_tuple_pack(h, 2, n, s);
        assert_non_null(items[i]);
        om_decref(n), om_decref(s);
    }
    om_heap_stats before, after;
    om_heap_get_stats(h, &before);
    qsort(items, N, sizeof *items, by_first_item);
    om_heap_get_stats(h, &after);
    assert_int_equal(after.objects, before.objects);
    for (int i = 0; i < N; i++) {
        assert_int_equal(om_int_value(om_tuple_get_borrow(items[i], 0)), i);
        assert_int_equal(om_refcount(items[i]), 1);
        om_decref(items[i]);
    }
    free(items);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_borrow_leaves_counts_alone, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_borrow_errors_match_the_new_reference_getters,
                                        om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_borrow_detects_a_dict_changed_during_iteration,
                                        om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_borrow_in_a_qsort_comparator, om_test_setup_nostress,
                                        om_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
