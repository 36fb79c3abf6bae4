/*
 * test_fault_types.c - the built-in types with the Nth request to the
 * seam failing: every failure is a clean NULL or OM_ENOMEM, containers
 * stay consistent, nothing leaks (LeakSanitizer), heap creation with the
 * types' singletons fails cleanly too.
 */
#include "om_fault.h"
#include "om_test.h"

/* Lists, tuples and dicts big enough to need large blocks and new arenas. */
static int build(om_heap *h, void *arg)
{
    (void)arg;
    char buf[32];
    om_object *l = om_list_new(h, 0), *d = om_dict_new(h);
    if (!l || !d) {
        om_xdecref(l);
        om_xdecref(d);
        assert_int_equal(om_errcode(h), OM_ENOMEM);
        return 0;
    }
    for (int i = 0; i < 3000; i++) {
        snprintf(buf, sizeof buf, "key-%d", i);
        om_object *s = om_str_from_cstr(h, buf);
        om_object *t = s ? om_tuple_pack(h, 3, s, om_none(h), s) : NULL;
        om_object *f = om_float_new(h, i);
        if (t && om_list_append_steal(l, om_incref(t)) < 0)
            assert_int_equal(om_errcode(h), OM_ENOMEM);
        if (s && f && om_dict_set(d, s, f) < 0) assert_int_equal(om_errcode(h), OM_ENOMEM);
        if (!s || !t || !f) assert_int_equal(om_errcode(h), OM_ENOMEM);
        om_xdecref(t);
        om_xdecref(f);
        om_xdecref(s);
    }
    om_object *big = om_tuple_new(h, 200);
    om_xdecref(big);
    /* whatever got in is intact */
    om_dict_iter it = OM_DICT_ITER_INIT;
    om_object *k, *v;
    size_t n = 0;
    while (om_dict_next(d, &it, &k, &v) == 1) {
        om_object *w = om_dict_get(d, k);
        assert_ptr_equal(w, v);
        om_decref(w);
        om_decref(k);
        om_decref(v);
        n++;
    }
    assert_int_equal(n, om_dict_len(d));
    om_decref(l);
    om_decref(d);
    return 0;
}

static void test_fault_types_containers(void **state)
{
    (void)state;
    long runs = om_fault_run(build, NULL, 100000);
    assert_true(runs > 3);
    print_message("types: survived %ld injection points\n", runs - 1);
}

/* Interning: equal texts give one object while it lives; a failed intern
 * (the table cannot grow) leaves no half-entry behind. A list grows and
 * shrinks by append / pop alongside. */
static int interning(om_heap *h, void *arg)
{
    (void)arg;
    char buf[32];
    om_object *keep[400] = {0};
    om_object *l = om_list_new(h, 0);
    for (int i = 0; i < 400; i++) {
        snprintf(buf, sizeof buf, "name-%d", i % 250);
        om_object *s = om_str_intern_cstr(h, buf);
        if (!s) {
            assert_int_equal(om_errcode(h), OM_ENOMEM);
            continue;
        }
        assert_true(om_str_is_interned(s));
        if (i >= 250 && keep[i - 250]) assert_ptr_equal(s, keep[i - 250]); /* the same object */
        keep[i] = s;
        if (l && om_list_append(l, s) < 0) assert_int_equal(om_errcode(h), OM_ENOMEM);
        if (l && i % 3 == 0 && om_list_len(l) > 0) om_xdecref(om_list_pop(l, -1));
    }
    for (int i = 0; i < 400; i++) om_xdecref(keep[i]);
    om_xdecref(l);
    return 0;
}

static void test_fault_types_interning(void **state)
{
    (void)state;
    long runs = om_fault_run(interning, NULL, 100000);
    assert_true(runs > 3);
    print_message("interning: survived %ld injection points\n", runs - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_types_containers),
        cmocka_unit_test(test_fault_types_interning),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
