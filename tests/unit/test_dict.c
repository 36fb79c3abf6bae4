/*
 * test_dict.c - dicts: set/get/find/del/len and their errors, every kind
 * of hashable key (user types with hash and eq slots included), order,
 * iteration and mutation detection, the free list, and the hash flood.
 */
#include "om_test.h"

/* Internal counter of index slots inspected by dict lookups (dict.c). */
uint64_t om__dict_probe_count(om_heap *h);

static size_t heap_objects(om_heap *h)
{
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    return st.heap_objects;
}

/* A user type: hashable point, equal by coordinates; eq fails on x < 0. */
typedef struct point {
    OM_OBJECT_HEAD
    int64_t x, y;
} point;

static int point_hash(om_object *o, uint64_t *out)
{
    *out = (uint64_t)((point *)o)->x * 31u + (uint64_t)((point *)o)->y;
    return 0;
}

static int point_eq(om_object *a, om_object *b)
{
    if (b->type != a->type) return 0;
    if (((point *)a)->x < 0) return OM_EINVAL;
    return ((point *)a)->x == ((point *)b)->x && ((point *)a)->y == ((point *)b)->y;
}

static const om_type point_type = {
    .name = "point",
    .basic_size = sizeof(point),
    .hash = point_hash,
    .eq = point_eq,
};
static const om_type opaque_type = {.name = "opaque", .basic_size = sizeof(point)};

static om_object *new_point(om_heap *h, int64_t x, int64_t y)
{
    point *p = (point *)om_new(h, &point_type);
    p->x = x;
    p->y = y;
    return OM_OBJ(p);
}

static int64_t get_int(om_object *d, om_object *k)
{
    om_object *v = om_dict_get(d, k);
    assert_non_null(v);
    int64_t r = om_int_value(v);
    om_decref(v);
    return r;
}

static void test_dict_set_get_del_len(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *d = om_dict_new(h);
    assert_true(om_is_dict(d));
    assert_false(om_gc_is_tracked(d)); /* until a container is stored (MAINTAIN_TRACKING) */
    om_object *k = om_str_from_cstr(h, "key"), *v = om_int_new(h, 1000);
    assert_int_equal(om_dict_len(d), 0);
    assert_null(om_dict_get(d, k));
    assert_int_equal(om_errcode(h), OM_EKEY);
    assert_int_equal(om_dict_set(d, k, v), 0);
    assert_int_equal(om_refcount(k), 2);
    assert_int_equal(om_refcount(v), 2);
    assert_int_equal(om_dict_len(d), 1);
    om_object *g = om_dict_get(d, k);
    assert_ptr_equal(g, v);
    assert_int_equal(om_refcount(v), 3);
    om_decref(g);
    om_object *k2 = om_str_from_cstr(h, "key"); /* equal, not identical */
    om_object *f = NULL;
    assert_int_equal(om_dict_find(d, k2, &f), 1);
    assert_ptr_equal(f, v);
    om_decref(f);
    /* replace: the key stays, the old value is dropped */
    assert_int_equal(om_dict_set(d, k2, om_none(h)), 0);
    assert_int_equal(om_refcount(v), 1);
    assert_int_equal(om_refcount(k2), 1);
    assert_int_equal(om_dict_len(d), 1);
    assert_int_equal(om_dict_del(d, k2), 0);
    assert_int_equal(om_refcount(k), 1);
    assert_int_equal(om_dict_len(d), 0);
    assert_int_equal(om_dict_del(d, k2), OM_EKEY);
    assert_int_equal(om_dict_find(d, k2, &f), 0);
    /* errors */
    om_object *l = om_list_new(h, 0);
    assert_int_equal(om_dict_set(d, l, v), OM_EUNHASH);
    assert_non_null(strstr(om_errmsg(h), "unhashable type: 'list'"));
    assert_null(om_dict_get(d, l));
    assert_int_equal(om_errcode(h), OM_EUNHASH);
    assert_int_equal(om_dict_del(d, l), OM_EUNHASH);
    assert_int_equal(om_dict_set(d, k, NULL), OM_EINVAL);
    assert_int_equal(om_dict_set(l, k, v), OM_ETYPE);
    assert_int_equal(om_dict_set_steal(l, om_incref(k), om_incref(v)), OM_ETYPE);
    assert_int_equal(om_refcount(k), 1); /* stolen even on failure */
    assert_int_equal(om_refcount(v), 1);
    assert_null(om_dict_get(l, k));
    assert_int_equal(om_errcode(h), OM_ETYPE);
    assert_int_equal(om_dict_del(l, k), OM_ETYPE);
    assert_int_equal(om_dict_len(l), 0);
    uint64_t hv;
    assert_int_equal(om_hash(d, &hv), OM_EUNHASH);
    om_object *objs[] = {d, k, v, k2, l};
    for (int i = 0; i < 5; i++) om_decref(objs[i]);
}

static void test_dict_keys_of_every_hashable_type(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *d = om_dict_new(h);
    om_object *one = om_int_new(h, 1), *onef = om_float_new(h, 1.0),
              *big = om_int_new(h, (int64_t)1 << 40);
    om_object *s = om_str_from_cstr(h, "s"), *t = om_tuple_pack(h, 2, one, s);
    om_object *t2 = om_tuple_pack(h, 2, onef, s), *p = new_point(h, 3, 4), *p2 = new_point(h, 3, 4);
    om_object *half = om_float_new(h, 0.5);
    om_object *keys[] = {one, big, s, t, om_none(h), om_false(h), p, half};
    for (int i = 0; i < 8; i++)
        assert_int_equal(om_dict_set_steal(d, om_incref(keys[i]), om_int_new(h, i)), 0);
    assert_int_equal(om_dict_len(d), 8);
    assert_int_equal(get_int(d, onef), 0);       /* 1.0 finds 1 */
    assert_int_equal(get_int(d, om_true(h)), 0); /* True finds 1 */
    assert_int_equal(get_int(d, t2), 3);         /* (1.0, 's') finds (1, 's') */
    assert_int_equal(get_int(d, p2), 6);         /* user eq */
    assert_int_equal(get_int(d, om_none(h)), 4);
    om_object *zero = om_int_new(h, 0);
    assert_int_equal(get_int(d, zero), 5); /* 0 finds False */
    /* True replaces the value of the key 1, keeping the key 1 */
    assert_int_equal(om_dict_set(d, om_true(h), om_none(h)), 0);
    assert_int_equal(om_dict_len(d), 8);
    om_dict_iter it = OM_DICT_ITER_INIT;
    om_object *k0;
    assert_int_equal(om_dict_next(d, &it, &k0, NULL), 1);
    assert_ptr_equal(k0, one);
    om_decref(k0);
    /* a user type without hash is unhashable; an eq error comes through */
    om_object *o = om_new(h, &opaque_type);
    assert_int_equal(om_dict_set(d, o, o), OM_EUNHASH);
    om_object *pbad = new_point(h, -1, 4), *pbad2 = new_point(h, -1, 4);
    assert_int_equal(om_dict_set(d, pbad, one), 0);
    om_object *f;
    assert_int_equal(om_dict_find(d, pbad2, &f), OM_EINVAL);
    assert_int_equal(om_equal(pbad, pbad2), OM_EINVAL);
    assert_int_equal(om_equal(p, one), 0);
    assert_int_equal(om_equal(one, p), 0);
    om_object *objs[] = {d, one, onef, big, s, t, t2, p, p2, half, zero, o, pbad, pbad2};
    for (size_t i = 0; i < sizeof objs / sizeof *objs; i++) om_decref(objs[i]);
}

static void test_dict_keeps_insertion_order(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *d = om_dict_new(h);
    enum { N = 1000 };
    for (int i = 0; i < N; i++) {
        om_object *k = om_int_new(h, (i * 7919) % N);
        om_dict_set_steal(d, k, om_int_new(h, i));
    }
    for (int i = 0; i < N; i += 3) {
        om_object *k = om_int_new(h, (i * 7919) % N);
        assert_int_equal(om_dict_del(d, k), 0);
        om_decref(k);
    }
    om_dict_iter it = OM_DICT_ITER_INIT;
    om_object *k, *v;
    int64_t last = -1, n = 0;
    int rc;
    while ((rc = om_dict_next(d, &it, &k, &v)) == 1) {
        int64_t i = om_int_value(v);
        assert_true(i > last && i % 3 != 0);
        assert_int_equal(om_int_value(k), (i * 7919) % N);
        last = i;
        n++;
        om_decref(k);
        om_decref(v);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, om_dict_len(d));
    assert_int_equal(om_dict_next(d, &it, &k, &v), 0); /* stays at the end */
    om_decref(d);
}

static void test_dict_iteration_detects_mutation(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *d = om_dict_new(h);
    for (int i = 0; i < 10; i++) om_dict_set_steal(d, om_int_new(h, i), om_int_new(h, i));
    om_dict_iter it = OM_DICT_ITER_INIT;
    om_object *k, *v;
    /* replacing values is allowed */
    while (om_dict_next(d, &it, &k, NULL) == 1) {
        assert_int_equal(om_dict_set(d, k, om_none(h)), 0);
        om_decref(k);
    }
    /* adding a key is detected */
    om_dict_iter it2 = OM_DICT_ITER_INIT;
    assert_int_equal(om_dict_next(d, &it2, &k, &v), 1);
    om_decref(k);
    om_decref(v);
    om_dict_set_steal(d, om_int_new(h, 100), om_none(h));
    assert_int_equal(om_dict_next(d, &it2, &k, &v), OM_EMUTATED);
    assert_int_equal(om_errcode(h), OM_EMUTATED);
    /* deleting one is detected */
    om_dict_iter it3 = OM_DICT_ITER_INIT;
    assert_int_equal(om_dict_next(d, &it3, NULL, NULL), 1);
    om_object *five = om_int_new(h, 5);
    om_dict_del(d, five);
    assert_int_equal(om_dict_next(d, &it3, NULL, NULL), OM_EMUTATED);
    om_object *l = om_list_new(h, 0);
    om_dict_iter it4 = OM_DICT_ITER_INIT;
    assert_int_equal(om_dict_next(l, &it4, NULL, NULL), OM_ETYPE);
    /* an empty dict ends at once */
    om_object *e = om_dict_new(h);
    om_dict_iter it5 = OM_DICT_ITER_INIT;
    assert_int_equal(om_dict_next(e, &it5, &k, &v), 0);
    om_decref(e);
    om_decref(l);
    om_decref(d);
}

static void test_dict_many_str_keys(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *d = om_dict_new(h);
    enum { N = 100000 };
    char buf[32];
    for (int i = 0; i < N; i++) {
        snprintf(buf, sizeof buf, "k%d", i);
        assert_int_equal(om_dict_set_steal(d, om_str_from_cstr(h, buf), om_int_new(h, i)), 0);
    }
    assert_int_equal(om_dict_len(d), N);
    for (int i = 0; i < N; i += 7) {
        snprintf(buf, sizeof buf, "k%d", i);
        om_object *k = om_str_from_cstr(h, buf);
        assert_int_equal(get_int(d, k), i);
        if (i % 2) assert_int_equal(om_dict_del(d, k), 0);
        om_decref(k);
    }
    om_object *copy = om_dict_new(h);
    om_dict_iter it = OM_DICT_ITER_INIT;
    om_object *k, *v;
    while (om_dict_next(d, &it, &k, &v) == 1) om_dict_set_steal(copy, k, v);
    assert_int_equal(om_equal(d, copy), 1);
    om_object *one = om_int_new(h, 1);
    om_dict_set(copy, one, one);
    assert_int_equal(om_equal(d, copy), 0);
    om_dict_del(d, copy); /* unhashable key */
    assert_int_equal(om_heap_check(h), 0);
    om_decref(copy);
    om_decref(d);
}

static void test_dict_free_list_reuses_and_is_bounded(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *d = om_dict_new(h);
    om_dict_set(d, om_none(h), om_none(h));
    void *addr = d;
    om_decref(d);
    om_object *e = om_dict_new(h);
    assert_ptr_equal(e, addr);
    assert_int_equal(om_dict_len(e), 0);
    om_decref(e);
    static om_object *v[100];
    size_t base = heap_objects(h); /* e is on the free list: 1 */
    for (int i = 0; i < 100; i++) v[i] = om_dict_new(h);
    for (int i = 0; i < 100; i++) om_decref(v[i]);
    assert_int_equal(heap_objects(h) - base, 80 - 1);
}

/* Java's String.hashCode (31*h + c, unkeyed): "Aa" and "BB" collide, so
 * every string of 17 such blocks has the same hash: 2^17 colliding keys. */
static uint32_t java_hash(const char *s)
{
    uint32_t x = 0;
    while (*s) x = 31 * x + (unsigned char)*s++;
    return x;
}

static void test_dict_hash_flood_stays_linear(void **state)
{
    om_heap *h = OM_HEAP(state);
    enum { N = 100000, BLOCKS = 17 };
    om_object *d = om_dict_new(h);
    char buf[2 * BLOCKS + 1];
    uint32_t first = 0;
    uint64_t before = om__dict_probe_count(h);
    for (int i = 0; i < N; i++) {
        for (int b = 0; b < BLOCKS; b++) memcpy(buf + 2 * b, (i >> b) & 1 ? "BB" : "Aa", 2);
        buf[2 * BLOCKS] = '\0';
        if (i == 0) first = java_hash(buf);
        assert_int_equal(java_hash(buf), first); /* they all collide unkeyed */
        assert_int_equal(om_dict_set_steal(d, om_str_from_cstr(h, buf), om_none(h)), 0);
    }
    uint64_t probes = om__dict_probe_count(h) - before;
    assert_int_equal(om_dict_len(d), N);
    /* quadratic would be ~N^2/2 = 5e9 probes; keyed hashing keeps it ~N */
    print_message("hash flood: %d colliding keys, %llu probes (%.2f per insert)\n", N,
                  (unsigned long long)probes, (double)probes / N);
    assert_true(probes < (uint64_t)N * 4);
    om_decref(d);
}

/* om_heap_check walks every dict: a damaged count is reported. */
static void test_dict_check_finds_damage(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *d = om_dict_new(h);
    for (int i = 0; i < 20; i++) om_dict_set_steal(d, om_int_new(h, i * 1000), om_none(h));
    assert_int_equal(om_heap_check(h), 0);
    size_t *used = (size_t *)((char *)d + 24); /* om__dict.used */
    assert_int_equal(*used, 20);
    *used = 19;
    int rc = om_heap_check(h);
    *used = 20;
    assert_int_equal(rc, OM_ESTATE);
    assert_int_equal(om_heap_check(h), 0);
    om_decref(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dict_set_get_del_len, om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_dict_keys_of_every_hashable_type, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_dict_keys_of_every_hashable_type, om_test_setup_debug,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_dict_keeps_insertion_order, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_dict_iteration_detects_mutation, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_dict_many_str_keys, om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_dict_many_str_keys, om_test_setup_debug,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_dict_free_list_reuses_and_is_bounded, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_dict_hash_flood_stays_linear, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_dict_check_finds_damage, om_test_setup,
                                        om_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
