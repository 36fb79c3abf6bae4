/*
 * test_list.c - lists: append/get/set/insert/pop/delete and their errors,
 * CPython's over-allocation, the steal variants, the list free list.
 */
#include "om_test.h"

static size_t heap_objects(om_heap *h)
{
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    return st.heap_objects;
}

static size_t capacity(const om_object *l)
{
    return (om_sizeof(l) - 40) / 8;
}

static om_object *list_of(om_heap *h, int n)
{
    om_object *l = om_list_new(h, 0);
    for (int i = 0; i < n; i++) assert_int_equal(om_list_append_steal(l, om_int_new(h, i)), 0);
    return l;
}

static int64_t item(om_object *l, ptrdiff_t i)
{
    om_object *o = om_list_get(l, i);
    assert_non_null(o);
    int64_t v = om_int_value(o);
    om_decref(o);
    return v;
}

static void test_list_append_get_set_len(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *l = om_list_new(h, 0);
    assert_true(om_is_list(l));
    assert_true(om_gc_is_tracked(l));
    assert_int_equal(om_list_len(l), 0);
    om_object *x = om_int_new(h, 1000);
    assert_int_equal(om_list_append(l, x), 0);
    assert_int_equal(om_refcount(x), 2);
    assert_int_equal(om_list_append_steal(l, om_str_from_cstr(h, "s")), 0);
    assert_int_equal(om_list_len(l), 2);
    om_object *g = om_list_get(l, -2);
    assert_ptr_equal(g, x);
    assert_int_equal(om_refcount(x), 3);
    om_decref(g);
    assert_int_equal(om_list_set(l, 0, om_none(h)), 0);
    assert_int_equal(om_refcount(x), 1);
    om_incref(x);
    assert_int_equal(om_list_set_steal(l, 1, x), 0);
    assert_int_equal(om_refcount(x), 2);
    /* errors */
    assert_null(om_list_get(l, 2));
    assert_int_equal(om_errcode(h), OM_ERANGE);
    assert_non_null(strstr(om_errmsg(h), "index 2 out of range for a list of 2"));
    assert_null(om_list_get(l, -3));
    assert_int_equal(om_list_set(l, 7, x), OM_ERANGE);
    assert_int_equal(om_list_set(l, 0, NULL), OM_EINVAL);
    om_incref(x);
    assert_int_equal(om_list_set_steal(l, 7, x), OM_ERANGE); /* stolen even on failure */
    assert_int_equal(om_refcount(x), 2);
    assert_int_equal(om_list_append(l, NULL), OM_EINVAL);
    assert_int_equal(om_list_append(x, x), OM_ETYPE);
    assert_int_equal(om_refcount(x), 2);
    assert_null(om_list_get(x, 0));
    assert_int_equal(om_errcode(h), OM_ETYPE);
    assert_int_equal(om_list_set(x, 0, x), OM_ETYPE);
    assert_int_equal(om_list_insert(x, 0, x), OM_ETYPE);
    assert_int_equal(om_list_insert(l, 0, NULL), OM_EINVAL);
    assert_null(om_list_pop(x, 0));
    assert_int_equal(om_list_len(x), 0);
    uint64_t hv;
    assert_int_equal(om_hash(l, &hv), OM_EUNHASH);
    om_decref(x);
    om_decref(l);
}

/* The first append to a list without storage takes an inline path (4
 * slots from the allocator's fast path); it must give what the general
 * path gives: 4 slots, also for a list emptied to no storage, and, with a
 * hook on (tracing), a block that goes through om_malloc and is traced. */
static void test_list_first_append_paths(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *l = om_list_new(h, 0);
    assert_int_equal(om_list_append_steal(l, om_int_new(h, 7)), 0);
    assert_int_equal(capacity(l), 4);
    assert_int_equal(item(l, 0), 7);
    om_object *v = om_list_pop(l, -1);
    assert_non_null(v);
    om_decref(v);
    assert_int_equal(om_list_len(l), 0);
    if (capacity(l) == 0) { /* emptied to no storage: the first append again */
        assert_int_equal(om_list_append_steal(l, om_int_new(h, 8)), 0);
        assert_int_equal(capacity(l), 4);
        assert_int_equal(item(l, 0), 8);
    }
    om_decref(l);
    assert_int_equal(om_trace_start(h, 1), 0);
    om_object *t = om_list_new(h, 0);
    size_t before, after, peak;
    om_trace_get_traced_memory(h, &before, &peak);
    assert_int_equal(om_list_append(t, om_none(h)), 0);
    om_trace_get_traced_memory(h, &after, &peak);
    assert_true(after >= before + 4 * sizeof(om_object *)); /* the items block is traced */
    assert_int_equal(capacity(t), 4);
    om_decref(t);
    om_trace_stop(h);
}

static void test_list_grows_like_cpython(void **state)
{
    om_heap *h = OM_HEAP(state);
    /* CPython 3.11: appending to [] gives allocated 4, 8, 16, 24, 32, 40, 52, 64, 76 */
    static const size_t expect[] = {4, 8, 16, 24, 32, 40, 52, 64, 76};
    om_object *l = om_list_new(h, 0);
    assert_int_equal(capacity(l), 0);
    size_t k = 0, last = 0;
    for (int i = 0; i < 70; i++) {
        om_list_append(l, om_none(h));
        if (capacity(l) != last) {
            last = capacity(l);
            assert_int_equal(last, expect[k++]);
        }
    }
    assert_int_equal(k, 9);
    om_decref(l);
    om_object *r = om_list_new(h, 100);
    assert_int_equal(capacity(r), 100);
    for (int i = 0; i < 100; i++) om_list_append(r, om_none(h));
    assert_int_equal(capacity(r), 100);
    om_decref(r);
    /* a big list, then shrinking by pops */
    om_object *b = list_of(h, 100000);
    for (int i = 0; i < 100000; i += 997) assert_int_equal(item(b, i), i);
    for (int i = 0; i < 99990; i++) om_decref(om_list_pop(b, -1));
    assert_true(capacity(b) < 100);
    assert_int_equal(item(b, 9), 9);
    om_decref(b);
}

static void test_list_insert_pop_delete(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *l = list_of(h, 5); /* 0 1 2 3 4 */
    om_object *m = om_int_new(h, -1000);
    assert_int_equal(om_list_insert(l, 0, m), 0);    /* m 0 1 2 3 4 */
    assert_int_equal(om_list_insert(l, 100, m), 0);  /* ... 4 m (clamped) */
    assert_int_equal(om_list_insert(l, -100, m), 0); /* m m 0 1 2 3 4 m */
    assert_int_equal(om_list_insert(l, -1, m), 0);   /* m m 0 1 2 3 4 m m */
    assert_int_equal(om_refcount(m), 5);
    assert_int_equal(om_list_len(l), 9);
    assert_int_equal(item(l, 2), 0);
    assert_int_equal(item(l, 6), 4);
    om_object *p = om_list_pop(l, 0);
    assert_ptr_equal(p, m); /* the list's reference, handed over */
    assert_int_equal(om_refcount(m), 5);
    om_decref(p);
    assert_int_equal(om_list_delete(l, -1), 0);
    assert_int_equal(om_list_delete(l, 0), 0);
    assert_int_equal(om_list_delete(l, -1), 0);
    assert_int_equal(om_refcount(m), 1);
    assert_int_equal(om_list_len(l), 5);
    for (int i = 0; i < 5; i++) assert_int_equal(item(l, i), i);
    om_object *two = om_list_pop(l, 2);
    assert_int_equal(om_int_value(two), 2);
    om_decref(two);
    assert_int_equal(item(l, 2), 3);
    assert_int_equal(om_list_delete(l, 10), OM_ERANGE);
    while (om_list_len(l)) om_list_delete(l, 0);
    assert_null(om_list_pop(l, -1));
    assert_int_equal(om_errcode(h), OM_ERANGE);
    assert_non_null(strstr(om_errmsg(h), "empty"));
    om_decref(m);
    om_decref(l);
}

static void test_list_equality(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *a = list_of(h, 10), *b = list_of(h, 10), *c = list_of(h, 9);
    assert_int_equal(om_equal(a, b), 1);
    assert_int_equal(om_equal(a, c), 0);
    om_list_set_steal(b, 3, om_float_new(h, 3.0));
    assert_int_equal(om_equal(a, b), 1);
    om_list_set_steal(b, 3, om_float_new(h, 3.5));
    assert_int_equal(om_equal(a, b), 0);
    om_decref(a);
    om_decref(b);
    om_decref(c);
}

static void test_list_free_list_reuses_and_is_bounded(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *l = list_of(h, 3);
    void *addr = l;
    om_decref(l);
    om_object *m = om_list_new(h, 0);
    assert_ptr_equal(m, addr);
    assert_int_equal(om_list_len(m), 0);
    assert_true(om_gc_is_tracked(m));
    om_decref(m);
    static om_object *v[100];
    size_t base = heap_objects(h); /* m is on the free list: 1 */
    for (int i = 0; i < 100; i++) v[i] = om_list_new(h, 4);
    for (int i = 0; i < 100; i++) om_decref(v[i]);
    assert_int_equal(heap_objects(h) - base, 80 - 1);
    assert_int_equal(om_heap_check(h), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_append_get_set_len, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_list_grows_like_cpython, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_list_first_append_paths, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_list_first_append_paths, om_test_setup_debug,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_list_insert_pop_delete, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_list_insert_pop_delete, om_test_setup_debug,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_list_equality, om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_list_free_list_reuses_and_is_bounded, om_test_setup,
                                        om_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
