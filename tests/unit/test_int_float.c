/*
 * test_int_float.c - None/True/False, int (small-int cache), float (free
 * list and its bound), numeric hashing and equality across int/bool/float.
 */
#include <math.h>

#include "om_test.h"

static size_t heap_objects(om_heap *h)
{
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    return st.heap_objects;
}

static void test_int_singletons_are_immortal_and_unique(void **state)
{
    om_heap *h = OM_HEAP(state);
    assert_ptr_equal(om_none(h), om_none(h));
    assert_true(om_is_none(om_none(h)));
    assert_true(om_is_immortal(om_none(h)));
    assert_true(om_is_bool(om_true(h)) && om_is_bool(om_false(h)));
    assert_ptr_not_equal(om_true(h), om_false(h));
    assert_ptr_equal(om_bool(h, 42), om_true(h));
    assert_ptr_equal(om_bool(h, 0), om_false(h));
    assert_int_equal(om_bool_value(om_true(h)), 1);
    assert_int_equal(om_bool_value(om_false(h)), 0);
    om_decref(om_none(h)); /* dropping an immortal is harmless */
    assert_true(om_is_immortal(om_none(h)));
    om_object *i = om_int_new(h, 1000);
    assert_int_equal(om_bool_value(i), OM_ETYPE);
    assert_int_equal(om_errcode(h), OM_ETYPE);
    assert_int_equal(om_int_value(om_true(h)), 1);
    assert_false(om_is_int(om_true(h)));
    om_decref(i);
    /* another heap has its own singletons */
    om_heap *h2 = om_heap_new(NULL);
    assert_ptr_not_equal(om_none(h2), om_none(h));
    om_heap_destroy(h2);
}

static void test_int_small_ints_are_one_object(void **state)
{
    om_heap *h = OM_HEAP(state);
    for (int64_t v = -5; v <= 256; v++) {
        om_object *a = om_int_new(h, v), *b = om_int_new(h, v);
        assert_ptr_equal(a, b);
        assert_true(om_is_immortal(a));
        assert_int_equal(om_int_value(a), v);
    }
    om_object *a = om_int_new(h, 257), *b = om_int_new(h, 257);
    assert_ptr_not_equal(a, b);
    assert_int_equal(om_refcount(a), 1);
    om_decref(a);
    om_decref(b);
    a = om_int_new(h, -6);
    assert_false(om_is_immortal(a));
    om_decref(a);
}

static void test_int_values_round_trip(void **state)
{
    om_heap *h = OM_HEAP(state);
    static const int64_t vals[] = {INT64_MIN, INT64_MIN + 1, -1000000, -6, 257, 1 << 30, INT64_MAX};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        om_object *o = om_int_new(h, vals[i]);
        assert_non_null(o);
        assert_true(om_is_int(o));
        assert_ptr_equal(om_type_of(o), &om_int_type);
        assert_int_equal(om_int_value(o), vals[i]);
        assert_int_equal(om_sizeof(o), 24);
        om_decref(o);
    }
    om_object *f = om_float_new(h, 1.5);
    om_errclear(h);
    assert_int_equal(om_int_value(f), 0);
    assert_int_equal(om_errcode(h), OM_ETYPE);
    om_decref(f);
}

static void test_float_values_and_type_errors(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *f = om_float_new(h, -2.25);
    assert_true(om_is_float(f));
    assert_true(om_float_value(f) == -2.25);
    om_object *i = om_int_new(h, 7);
    assert_true(om_float_value(i) == 7.0);
    om_object *s = om_str_from_cstr(h, "x");
    assert_true(om_float_value(s) == 0.0);
    assert_int_equal(om_errcode(h), OM_ETYPE);
    om_decref(f);
    om_decref(i);
    om_decref(s);
}

static void test_float_freed_block_comes_back(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *a = om_float_new(h, 1.0);
    void *addr = a;
    size_t base = heap_objects(h);
    om_decref(a);
    assert_int_equal(heap_objects(h), base + 1); /* parked on the free list */
    om_object *b = om_float_new(h, 2.0);
    assert_ptr_equal(b, addr);
    assert_true(om_float_value(b) == 2.0);
    assert_int_equal(om_refcount(b), 1);
    assert_int_equal(heap_objects(h), base);
    om_decref(b);
}

static void test_float_free_list_is_bounded(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *v[150];
    size_t base = heap_objects(h);
    for (int i = 0; i < 150; i++) v[i] = om_float_new(h, i);
    for (int i = 0; i < 150; i++) om_decref(v[i]);
    assert_int_equal(heap_objects(h) - base, 100);
    assert_int_equal(om_heap_check(h), 0);
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    assert_int_equal(st.objects, st.heap_objects); /* the free list is the heap's */
}

static void test_float_debug_heap_bypasses_free_list(void **state)
{
    om_heap *h = OM_HEAP(state);
    size_t base = heap_objects(h);
    om_object *a = om_float_new(h, 1.0);
    om_decref(a);
    assert_int_equal(heap_objects(h), base);
}

static uint64_t hash_of(om_object *o)
{
    uint64_t x = 0;
    assert_int_equal(om_hash(o, &x), 0);
    return x;
}

static void test_int_hash_follows_python(void **state)
{
    om_heap *h = OM_HEAP(state);
    struct {
        double f;
        int64_t expect;
    } cases[] = {
        {1.5, 1152921504606846977LL},   {-1.5, -1152921504606846977LL},
        {0.1, 230584300921369408LL},    {INFINITY, 314159},
        {-INFINITY, -314159},           {-1.0, -2},
        {1e300, 1224995262755759164LL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        om_object *f = om_float_new(h, cases[i].f);
        assert_int_equal((int64_t)hash_of(f), cases[i].expect);
        om_decref(f);
    }
    om_object *m1 = om_int_new(h, -1), *big = om_int_new(h, ((int64_t)1 << 61) - 1);
    assert_int_equal((int64_t)hash_of(m1), -2);
    assert_int_equal(hash_of(big), 0);
    om_object *mn = om_int_new(h, INT64_MIN);
    assert_int_equal((int64_t)hash_of(mn), -4); /* hash(-2**63) in Python */
    om_decref(mn);
    om_decref(big);
    om_decref(m1);
}

static void test_int_equal_numbers_hash_alike(void **state)
{
    om_heap *h = OM_HEAP(state);
    static const int64_t vals[] = {
        0, 1, -1, 5, 1000, -123456789, (int64_t)1 << 52, (int64_t)1 << 62};
    for (size_t k = 0; k < sizeof vals / sizeof *vals; k++) {
        om_object *i = om_int_new(h, vals[k]), *f = om_float_new(h, (double)vals[k]);
        assert_int_equal(om_equal(i, f), 1);
        assert_int_equal(om_equal(f, i), 1);
        assert_int_equal(hash_of(i), hash_of(f));
        om_decref(i);
        om_decref(f);
    }
    om_object *one = om_int_new(h, 1), *zero = om_float_new(h, 0.0);
    assert_int_equal(om_equal(one, om_true(h)), 1);
    assert_int_equal(hash_of(om_true(h)), hash_of(one));
    assert_int_equal(om_equal(zero, om_false(h)), 1);
    assert_int_equal(om_equal(one, zero), 0);
    om_decref(one);
    om_decref(zero);
}

static void test_int_float_equality_is_exact(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *i = om_int_new(h, ((int64_t)1 << 53) + 1), *f = om_float_new(h, 9007199254740992.0);
    assert_int_equal(om_equal(i, f), 0);
    om_object *half = om_float_new(h, 0.5), *zero = om_int_new(h, 0);
    assert_int_equal(om_equal(half, zero), 0);
    om_object *huge = om_float_new(h, 1e30), *mx = om_int_new(h, INT64_MAX);
    assert_int_equal(om_equal(huge, mx), 0);
    om_object *nan = om_float_new(h, NAN), *nan2 = om_float_new(h, NAN);
    assert_int_equal(om_equal(nan, nan), 1); /* identity, as containers compare */
    assert_int_equal(om_equal(nan, nan2), 0);
    assert_int_equal(om_equal(nan, zero), 0);
    assert_int_equal(om_equal(zero, om_none(h)), 0);
    assert_int_equal(om_equal(om_none(h), om_none(h)), 1);
    uint64_t x;
    assert_int_equal(om_hash(om_none(h), &x), 0);
    om_object *objs[] = {i, f, half, zero, huge, mx, nan, nan2};
    for (size_t k = 0; k < 8; k++) om_decref(objs[k]);
}

static const om_freelist_stats *fl_stats(const om_heap_stats *st, const char *name)
{
    for (size_t i = 0; i < st->nfreelists; i++)
        if (strcmp(st->freelists[i].name, name) == 0) return &st->freelists[i];
    return NULL;
}

static void test_types_stats_in_heap_stats_and_print(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *a = om_float_new(h, 1.0), *s = om_str_intern_cstr(h, "interned!");
    om_decref(a);
    a = om_float_new(h, 2.0); /* a hit */
    om_object *t = om_tuple_new(h, 2), *l = om_list_new(h, 0), *d = om_dict_new(h);
    om_decref(t);
    om_decref(l);
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    assert_int_equal(st.small_ints, 262);
    assert_int_equal(st.cached_objects, 262 + 3 + 1 + 1 + 128);
    assert_int_equal(st.interned, 1);
    assert_int_equal(st.nfreelists, 4);
    const om_freelist_stats *f = fl_stats(&st, "float"), *tu = fl_stats(&st, "tuple");
    assert_non_null(f);
    assert_int_equal(f->size, 0);
    assert_int_equal(f->bound, 100);
    assert_int_equal(f->hits, 1);
    assert_int_equal(f->misses, 1);
    assert_int_equal(tu->size, 1);
    assert_int_equal(tu->bound, 20 * 2000);
    assert_int_equal(fl_stats(&st, "list")->size, 1);
    assert_int_equal(fl_stats(&st, "dict")->size, 0);
    assert_int_equal(fl_stats(&st, "dict")->bound, 80);
    assert_int_equal(st.heap_objects, st.cached_objects + 2);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    om_heap_print_stats(h, out);
    fclose(out);
    assert_non_null(strstr(buf, "# interned strings                 =              1"));
    assert_non_null(strstr(buf, "# cached small ints (-5..256)      =            262"));
    assert_non_null(
        strstr(buf, "float                           0      100            1            1"));
    free(buf);
    om_decref(a);
    om_decref(s);
    om_decref(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_int_singletons_are_immortal_and_unique, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_int_small_ints_are_one_object, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_int_values_round_trip, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_float_values_and_type_errors, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_float_freed_block_comes_back, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_float_free_list_is_bounded, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_float_debug_heap_bypasses_free_list,
                                        om_test_setup_debug, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_int_hash_follows_python, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_int_equal_numbers_hash_alike, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_int_float_equality_is_exact, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_types_stats_in_heap_stats_and_print, om_test_setup,
                                        om_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
