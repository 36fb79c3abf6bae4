/*
 * test_tuple.c - tuples: the empty singleton, get/set/len and their
 * errors, untracking of atomic tuples, free lists per length and their
 * bound, hashing and equality.
 */
#include "om_test.h"

static size_t heap_objects(om_heap *h)
{
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    return st.heap_objects;
}

static void test_tuple_empty_is_a_singleton(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *a = om_tuple_new(h, 0), *b = om_tuple_from(h, 0, NULL), *c = om_tuple_pack(h, 0);
    assert_ptr_equal(a, b);
    assert_ptr_equal(a, c);
    assert_true(om_is_immortal(a));
    assert_true(om_is_tuple(a));
    assert_int_equal(om_tuple_len(a), 0);
    assert_false(om_gc_is_tracked(a));
    assert_null(om_tuple_get(a, 0));
    assert_int_equal(om_errcode(h), OM_ERANGE);
}

static void test_tuple_get_set_len(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *t = om_tuple_new(h, 3);
    om_object *x = om_int_new(h, 1000), *s = om_str_from_cstr(h, "abc");
    assert_int_equal(om_tuple_len(t), 3);
    assert_int_equal(om_tuple_set(t, 0, x), 0);
    assert_int_equal(om_refcount(x), 2);
    assert_int_equal(om_tuple_set_steal(t, -2, s), 0); /* slot 1 */
    assert_int_equal(om_refcount(s), 1);
    assert_null(om_tuple_get(t, 2));
    assert_int_equal(om_errcode(h), OM_EINVAL);
    assert_int_equal(om_tuple_set(t, 2, om_none(h)), 0);
    om_object *g = om_tuple_get(t, 0);
    assert_ptr_equal(g, x);
    assert_int_equal(om_refcount(x), 3); /* getters return new references */
    om_decref(g);
    g = om_tuple_get(t, -1);
    assert_ptr_equal(g, om_none(h));
    /* replacing drops the old item */
    assert_int_equal(om_tuple_set(t, 0, om_none(h)), 0);
    assert_int_equal(om_refcount(x), 1);
    /* errors */
    assert_null(om_tuple_get(t, 3));
    assert_int_equal(om_errcode(h), OM_ERANGE);
    assert_non_null(strstr(om_errmsg(h), "out of range"));
    assert_null(om_tuple_get(t, -4));
    assert_int_equal(om_errcode(h), OM_ERANGE);
    assert_int_equal(om_tuple_set(t, 5, x), OM_ERANGE);
    assert_int_equal(om_refcount(x), 1);
    assert_int_equal(om_tuple_set(t, 0, NULL), OM_EINVAL);
    om_incref(x);
    assert_int_equal(om_tuple_set_steal(t, 9, x), OM_ERANGE); /* stolen even on failure */
    assert_int_equal(om_refcount(x), 1);
    assert_null(om_tuple_get(x, 0));
    assert_int_equal(om_errcode(h), OM_ETYPE);
    assert_int_equal(om_tuple_set(x, 0, x), OM_ETYPE);
    assert_int_equal(om_tuple_len(x), 0);
    assert_int_equal(om_sizeof(t), 24 + 3 * 8);
    om_decref(x);
    om_decref(t);
}

static void test_tuple_from_and_pack(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *a = om_int_new(h, 1), *b = om_float_new(h, 2.5);
    om_object *items[] = {a, b};
    om_object *t = om_tuple_from(h, 2, items), *u = om_tuple_pack(h, 2, a, b);
    assert_int_equal(om_equal(t, u), 1);
    assert_int_equal(om_refcount(b), 3);
    om_object *bad[] = {a, NULL};
    assert_null(om_tuple_from(h, 2, bad));
    assert_int_equal(om_errcode(h), OM_EINVAL);
    assert_null(om_tuple_pack(h, 2, a, NULL));
    assert_int_equal(om_errcode(h), OM_EINVAL);
    assert_int_equal(om_refcount(b), 3);
    om_decref(t);
    om_decref(u);
    om_decref(b);
}

static void test_tuple_of_atomics_is_untracked(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *i = om_int_new(h, 1000), *s = om_str_from_cstr(h, "x"), *f = om_float_new(h, 1.0);
    om_object *l = om_list_new(h, 0);
    om_object *t = om_tuple_pack(h, 4, i, s, f, om_none(h));
    assert_false(om_gc_is_tracked(t));
    om_object *nested = om_tuple_pack(h, 2, t, om_true(h));
    assert_false(om_gc_is_tracked(nested)); /* an untracked tuple is atomic */
    om_object *withlist = om_tuple_pack(h, 2, i, l);
    assert_true(om_gc_is_tracked(withlist));
    /* filled slot by slot with atomic items: never tracked */
    om_object *u = om_tuple_new(h, 2);
    assert_false(om_gc_is_tracked(u));
    om_tuple_set(u, 0, i);
    assert_false(om_gc_is_tracked(u));
    om_tuple_set(u, 1, f);
    assert_false(om_gc_is_tracked(u));
    /* storing a container tracks it again */
    om_tuple_set(u, 0, l);
    assert_true(om_gc_is_tracked(u));
    assert_int_equal(om_tuple_maybe_untrack(u), 0);
    om_tuple_set(u, 0, i);
    assert_int_equal(om_tuple_maybe_untrack(u), 1);
    assert_false(om_gc_is_tracked(u));
    assert_int_equal(om_tuple_maybe_untrack(i), 0);
    om_object *objs[] = {i, s, f, l, t, nested, withlist, u};
    for (int k = 0; k < 8; k++) om_decref(objs[k]);
}

/* Thousands of tuples of 1..7 slots (both sides of the short-tuple
 * clearing), filled in three orders (forward, backward, negative indexes),
 * half of them holding a list that holds the tuple back: each reads back
 * what was stored, stays tracked exactly when it holds the list, and every
 * cycle is collected. */
static void test_tuple_fill_orders_and_cycles(void **state)
{
    om_heap *h = OM_HEAP(state);
    enum { N = 6000 };
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    size_t before = st.objects - st.heap_objects; /* the program's */
    om_gc_disable(h);                             /* the final collection finds every cycle */
    for (int k = 0; k < N; k++) {
        size_t n = 1 + (size_t)k % 7;
        int cyclic = (k / 7) % 2;
        om_object *t = om_tuple_new(h, n), *l = cyclic ? om_list_new(h, 0) : NULL;
        assert_non_null(t);
        for (size_t j = 0; j < n; j++) {
            size_t slot = k % 3 == 0 ? j : n - 1 - j;
            ptrdiff_t at = k % 3 == 2 ? (ptrdiff_t)slot - (ptrdiff_t)n : (ptrdiff_t)slot;
            om_object *v =
                cyclic && slot == n / 2 ? om_incref(l) : om_int_new(h, k * 8 + (int)slot);
            assert_int_equal(om_tuple_set_steal(t, at, v), 0);
        }
        /* untracked at once when the last index is filled last, else by
         * the collector's check (om_tuple_maybe_untrack) */
        if (k % 3 == 0 || n == 1) assert_int_equal(om_gc_is_tracked(t), cyclic);
        assert_int_equal(om_tuple_maybe_untrack(t), !cyclic);
        assert_int_equal(om_gc_is_tracked(t), cyclic);
        for (size_t j = 0; j < n; j++) {
            om_object *v = om_tuple_get(t, (ptrdiff_t)j);
            if (cyclic && j == n / 2)
                assert_ptr_equal(v, l);
            else
                assert_int_equal(om_int_value(v), k * 8 + (int)j);
            om_decref(v);
        }
        assert_int_equal(om_tuple_set_steal(t, 0, NULL), OM_EINVAL); /* refused, slot kept */
        if (cyclic) {
            assert_int_equal(om_list_append(l, t), 0);
            om_decref(l);
        }
        om_decref(t);
    }
    /* the cycles: k with k / 7 odd, a tuple and a list each */
    assert_int_equal(om_gc_collect(h, -1), 2 * ((N / 14) * 7 + (N % 14 > 7 ? N % 14 - 7 : 0)));
    om_gc_enable(h);
    om_heap_get_stats(h, &st);
    assert_int_equal(st.objects - st.heap_objects, before);
    assert_int_equal(om_heap_check(h), 0);
}

static void test_tuple_free_list_reuses_blocks(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *t = om_tuple_pack(h, 3, om_none(h), om_none(h), om_none(h));
    void *addr = t;
    om_decref(t);
    om_object *u = om_tuple_new(h, 3);
    assert_ptr_equal(u, addr);
    assert_int_equal(om_tuple_len(u), 3);
    assert_null(om_tuple_get(u, 0)); /* items cleared */
    om_decref(u);
    /* a tuple of another length does not take it */
    om_object *w = om_tuple_new(h, 2);
    assert_ptr_not_equal(w, addr);
    om_decref(w);
    /* over 20 items: no free list */
    size_t base = heap_objects(h);
    om_object *big = om_tuple_new(h, 21);
    om_decref(big);
    assert_int_equal(heap_objects(h), base);
}

static void test_tuple_free_list_is_bounded(void **state)
{
    om_heap *h = OM_HEAP(state);
    enum { N = 2100 };
    static om_object *v[N];
    size_t base = heap_objects(h);
    for (int i = 0; i < N; i++) v[i] = om_tuple_new(h, 5);
    for (int i = 0; i < N; i++) om_decref(v[i]);
    assert_int_equal(heap_objects(h) - base, 2000);
    assert_int_equal(om_heap_check(h), 0);
}

static void test_tuple_hash_and_equality(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *one = om_int_new(h, 1), *onef = om_float_new(h, 1.0), *two = om_int_new(h, 2);
    om_object *a = om_tuple_pack(h, 2, one, two), *b = om_tuple_pack(h, 2, onef, two);
    om_object *c = om_tuple_pack(h, 2, two, one), *d = om_tuple_pack(h, 1, one);
    uint64_t ha, hb, hc;
    assert_int_equal(om_hash(a, &ha), 0);
    assert_int_equal(om_hash(b, &hb), 0);
    assert_int_equal(om_hash(c, &hc), 0);
    assert_int_equal(ha, hb);
    assert_int_not_equal(ha, hc);
    assert_int_equal(om_equal(a, b), 1);
    assert_int_equal(om_equal(a, c), 0);
    assert_int_equal(om_equal(a, d), 0);
    om_object *l = om_list_new(h, 0);
    om_object *e = om_tuple_pack(h, 2, one, l);
    assert_int_equal(om_hash(e, &ha), OM_EUNHASH);
    om_object *unset = om_tuple_new(h, 1);
    assert_int_equal(om_hash(unset, &ha), OM_EINVAL);
    om_object *objs[] = {one, onef, two, a, b, c, d, l, e, unset};
    for (int k = 0; k < 10; k++) om_decref(objs[k]);
}

/* A tuple filled with atomic items is never counted in generation 0, so
 * such tuples never trigger young collections; one that gets an item that
 * may form a cycle is counted then, as a new GC object. */
static void test_tuple_atomic_fill_is_never_counted(void **state)
{
    (void)state;
    om_config cfg;
    om_config_init(&cfg);
    cfg.gc_stress = 0; /* counts only mean something without stress collections */
    om_heap *h = om_heap_new(&cfg);
    om_gc_disable(h);
    long before[3], after[3];
    om_gc_get_count(h, before);
    om_object *t = om_tuple_new(h, 2), *l = om_list_new(h, 0), *c = om_tuple_new(h, 2);
    om_gc_get_count(h, after);
    assert_int_equal(after[0], before[0] + 1); /* the list */
    assert_int_equal(om_tuple_set(c, 1, l), 0);
    assert_true(om_gc_is_tracked(c));
    om_gc_get_count(h, after);
    assert_int_equal(after[0], before[0] + 2);
    om_decref(c);
    om_decref(l);
    om_gc_get_count(h, before);
    om_tuple_set(t, 0, om_none(h));
    om_tuple_set(t, 1, om_true(h));
    assert_false(om_gc_is_tracked(t));
    om_gc_get_count(h, after);
    assert_int_equal(after[0], before[0]);
    om_object *p = om_tuple_pack(h, 1, om_none(h)); /* never tracked, never counted */
    om_gc_get_count(h, after);
    assert_int_equal(after[0], before[0]);
    om_decref(p);
    om_decref(t);
    om_gc_enable(h);
    assert_int_equal(om_heap_check(h), 0);
    om_heap_destroy(h);
}

/* Sizes around the small/large boundary (in debug mode the prefix and
 * guard move it): every tuple still finds its heap and frees cleanly. */
static void test_tuple_sizes_across_the_large_boundary(void **state)
{
    om_heap *h = OM_HEAP(state);
    for (size_t n = 50; n < 70; n++) {
        om_object *t = om_tuple_new(h, n), *l = om_list_new(h, 0);
        for (size_t i = 0; i < n; i++) assert_int_equal(om_tuple_set(t, (ptrdiff_t)i, l), 0);
        assert_ptr_equal(om_heap_of(t), h);
        assert_true(om_gc_is_tracked(t));
        om_decref(l);
        assert_int_equal(om_heap_check(h), 0);
        om_decref(t);
    }
}

/* A tuple still being filled is not atomic: stored in a container while a
 * slot is empty, then given a list that holds the container, it is part of
 * a cycle the collector must see. Through a tuple (outer) and through a
 * dict value; nested deeper (a filled tuple holding the partial one); and
 * for thousands of such cycles of every short length. Found by review:
 * with tuples born untracked, an empty slot made them look atomic and these
 * cycles were never collected. */
static long partial_cycle(om_heap *h, int how, size_t n)
{
    om_object *inner = om_tuple_new(h, n), *l = om_list_new(h, 0), *holder;
    if (how == 0) { /* a tuple holds the partial tuple */
        holder = om_tuple_new(h, 1);
        assert_int_equal(om_tuple_set(holder, 0, inner), 0);
    } else if (how == 1) { /* a dict value */
        holder = om_dict_new(h);
        om_object *k = om_str_from_cstr(h, "k");
        assert_int_equal(om_dict_set(holder, k, inner), 0);
        om_decref(k);
    } else { /* a filled tuple holds it, a tuple holds that */
        om_object *mid = om_tuple_pack(h, 2, om_none(h), inner);
        holder = om_tuple_pack(h, 1, mid);
        om_decref(mid);
    }
    for (size_t i = 0; i + 1 < n; i++)
        assert_int_equal(om_tuple_set_steal(inner, (ptrdiff_t)i, om_int_new(h, 7)), 0);
    assert_int_equal(om_tuple_set(inner, (ptrdiff_t)n - 1, l), 0);
    assert_int_equal(om_list_append(l, holder), 0);
    om_decref(inner);
    om_decref(l);
    om_decref(holder);
    return om_gc_collect(h, 2);
}

static void test_tuple_partial_fill_is_not_atomic(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_gc_disable(h);
    om_gc_collect(h, 2);
    assert_int_equal(partial_cycle(h, 0, 1), 3);
    assert_int_equal(partial_cycle(h, 1, 1), 3);
    assert_int_equal(partial_cycle(h, 2, 1), 4);
    long found = 0;
    enum { N = 3000 };
    for (int k = 0; k < N; k++) found += partial_cycle(h, k % 3, 1 + (size_t)k % 6);
    assert_int_equal(found, N / 3 * (3 + 3 + 4));
    om_object *p = om_tuple_new(h, 2); /* the rule itself */
    om_object *d = om_dict_new(h), *k = om_str_from_cstr(h, "k");
    assert_int_equal(om_dict_set(d, k, p), 0);
    assert_true(om_gc_is_tracked(d)); /* a partial tuple may be tracked later */
    om_object *q = om_tuple_pack(h, 1, p);
    assert_true(om_gc_is_tracked(q));
    assert_false(om_gc_is_tracked(p));
    om_object *objs[] = {p, d, k, q};
    for (int i = 0; i < 4; i++) om_decref(objs[i]);
    om_gc_enable(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tuple_empty_is_a_singleton, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_tuple_get_set_len, om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_tuple_from_and_pack, om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_tuple_fill_orders_and_cycles, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_tuple_of_atomics_is_untracked, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_tuple_of_atomics_is_untracked, om_test_setup_debug,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_tuple_free_list_reuses_blocks, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_tuple_free_list_is_bounded, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_tuple_hash_and_equality, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_tuple_atomic_fill_is_never_counted, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_tuple_partial_fill_is_not_atomic, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_tuple_sizes_across_the_large_boundary, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_tuple_sizes_across_the_large_boundary,
                                        om_test_setup_debug, om_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
