/*
 * test_messages.c - error messages name the function the caller called
 * and the real problem (issue 12.9): om_list_delete's errors name
 * om_list_delete, not om_list_pop; an invalid statistics key says so
 * instead of blaming "cumulative".
 */
#include "om_test.h"

static void test_messages_list_delete_names_itself(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *l = om_list_new(h, 0);
    assert_int_equal(om_list_delete(l, 0), OM_ERANGE);
    assert_non_null(strstr(om_errmsg(h), "om_list_delete: delete from an empty list"));
    om_object *one = om_int_new(h, 1);
    assert_int_equal(om_list_append(l, one), 0);
    assert_int_equal(om_list_delete(l, 5), OM_ERANGE);
    assert_non_null(strstr(om_errmsg(h), "om_list_delete: index 5 out of range"));
    assert_null(om_list_pop(l, 5));
    assert_non_null(strstr(om_errmsg(h), "om_list_pop: index 5"));
    assert_int_equal(om_list_delete(one, 0), OM_ETYPE);
    assert_non_null(strstr(om_errmsg(h), "om_list_delete:"));
    assert_int_equal(om_list_delete(l, 0), 0);
    assert_null(om_list_pop(l, 0));
    assert_non_null(strstr(om_errmsg(h), "om_list_pop: pop from an empty list"));
    om_decref(one);
    om_decref(l);
}

static void test_messages_statistics_bad_key(void **state)
{
    om_heap *h = OM_HEAP(state);
    assert_int_equal(om_trace_start(h, 1), 0);
    om_snapshot *s = om_trace_take_snapshot(h);
    assert_non_null(s);
    assert_null(om_snapshot_statistics(s, (om_stat_key)7, 0));
    assert_int_equal(om_errcode(h), OM_EINVAL);
    assert_non_null(strstr(om_errmsg(h), "key 7 is not"));
    assert_null(om_snapshot_statistics(s, OM_STAT_TRACEBACK, 1));
    assert_non_null(strstr(om_errmsg(h), "cumulative"));
    om_snapshot_free(s);
    om_trace_stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_messages_list_delete_names_itself, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_messages_statistics_bad_key, om_test_setup,
                                        om_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
