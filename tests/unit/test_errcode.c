/*
 * test_errcode.c - the heap's error record has errno semantics (heap.h
 * "errors"): a failure sets the code and message, a later successful call
 * leaves them, the next failure replaces them, om_errclear resets them; a
 * lookup that reports absence by its return value records nothing. And
 * the stress mode (gc_stress) respects om_gc_disable.
 */
#include "om_test.h"

static void test_errcode_is_sticky_like_errno(void **state)
{
    om_heap *h = OM_HEAP(state);
    assert_int_equal(om_errcode(h), OM_OK);
    assert_string_equal(om_errmsg(h), "");
    om_object *l = om_list_new(h, 0);
    assert_null(om_list_get(l, 3));
    assert_int_equal(om_errcode(h), OM_ERANGE);
    char msg[256];
    snprintf(msg, sizeof msg, "%s", om_errmsg(h));
    assert_true(msg[0] != '\0');
    /* successful calls of every kind leave the record alone */
    om_object *i = om_int_new(h, 5000);
    assert_int_equal(om_list_append(l, i), 0);
    om_object *got = om_list_get(l, 0);
    assert_ptr_equal(got, i);
    om_decref(got);
    void *p = om_malloc(h, 64);
    om_free(h, p);
    assert_true(om_gc_collect(h, -1) >= 0);
    assert_int_equal(om_errcode(h), OM_ERANGE);
    assert_string_equal(om_errmsg(h), msg);
    /* the next failure replaces it */
    assert_int_equal(om_list_append(i, i), OM_ETYPE);
    assert_int_equal(om_errcode(h), OM_ETYPE);
    assert_string_not_equal(om_errmsg(h), msg);
    /* om_errclear resets it, and a sequence without failure keeps OM_OK */
    om_errclear(h);
    assert_int_equal(om_errcode(h), OM_OK);
    assert_string_equal(om_errmsg(h), "");
    for (int k = 0; k < 3000; k++) assert_int_equal(om_list_append(l, i), 0);
    assert_int_equal(om_errcode(h), OM_OK);
    om_decref(i), om_decref(l);
}

static void test_errcode_not_set_by_a_lookup_that_reports_absence(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *d = om_dict_new(h), *k = om_str_from_cstr(h, "absent"), *v = NULL;
    om_errclear(h);
    assert_int_equal(om_dict_find(d, k, &v), 0);
    assert_int_equal(om_errcode(h), OM_OK);
    assert_null(om_dict_get(d, k)); /* a getter's NULL is a failure: recorded */
    assert_int_equal(om_errcode(h), OM_EKEY);
    om_decref(d), om_decref(k);
}

typedef struct pair {
    OM_OBJECT_HEAD
    om_object *other;
} pair;
static int pair_traverse(om_object *o, om_visit_fn visit, void *arg)
{
    OM_VISIT(((pair *)o)->other, visit, arg);
    return 0;
}
static void pair_clear(om_object *o)
{
    om_clear_ref(&((pair *)o)->other);
}
static const om_type pair_type = {
    .name = "pair",
    .basic_size = sizeof(pair),
    .flags = OM_TYPE_GC,
    .traverse = pair_traverse,
    .clear = pair_clear,
    .dealloc = pair_clear,
};

static size_t collections(om_heap *h)
{
    om_gc_stats st[3];
    om_gc_get_stats(h, st);
    return st[0].collections + st[1].collections + st[2].collections;
}

/* gc_stress is automatic collection at every tracked allocation: none
 * while automatic collection is off (om_gc_disable, or threshold 0). */
static void test_errcode_gc_stress_respects_gc_disable(void **state)
{
    (void)state;
    om_config cfg;
    om_config_init(&cfg);
    cfg.gc_stress = 1;
    om_heap *h = om_heap_new(&cfg);
    assert_non_null(h);
    om_gc_disable(h);
    size_t before = collections(h);
    pair *a = (pair *)om_new(h, &pair_type), *b = (pair *)om_new(h, &pair_type);
    a->other = om_incref(b);
    b->other = om_incref(a);
    om_decref(a), om_decref(b); /* cyclic garbage, left alone while disabled */
    for (int i = 0; i < 100; i++) om_decref(om_list_new(h, 0));
    assert_int_equal(collections(h), before);
    om_gc_enable(h);
    assert_int_equal(om_gc_set_threshold(h, 0, 10, 10), 0);
    om_decref(om_list_new(h, 0));
    assert_int_equal(collections(h), before);
    assert_int_equal(om_gc_set_threshold(h, 700, 10, 10), 0);
    om_decref(om_list_new(h, 0)); /* enabled again: this allocation collects */
    assert_true(collections(h) > before);
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    assert_int_equal(st.objects, st.heap_objects); /* the cycle went */
    om_heap_destroy(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_errcode_is_sticky_like_errno, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_errcode_not_set_by_a_lookup_that_reports_absence,
                                        om_test_setup, om_test_teardown),
        cmocka_unit_test(test_errcode_gc_stress_respects_gc_disable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
