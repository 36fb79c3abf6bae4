/*
 * test_hash_flood.c - dict keys crafted to collide (issue 12.6), counted
 * in dict probes (om__dict_probe_count), never in time: 40k tuples whose
 * unkeyed CPython tuple hashes are all equal, and 40k ints that share
 * their low 32 hash bits. Equal tuples still hash alike within a heap; the
 * numeric rule (hash(1) == hash(1.0) == hash(True)) holds inside tuples.
 */
#include "om_test.h"

uint64_t om__dict_probe_count(om_heap *h);

enum { NKEYS = 40000 };

#define P1     11400714785074694791ull
#define P2     14029467366897019727ull
#define P5     2870177450012600261ull
#define ROT(x) (((x) << 31) | ((x) >> 33))

static uint64_t inverse(uint64_t a) /* of an odd a, mod 2^64 (Newton) */
{
    uint64_t x = a;
    for (int i = 0; i < 6; i++) x *= 2 - a * x;
    return x;
}

/* (a, b) pairs of small ints whose unkeyed tuple hash is one value: b
 * makes acc1(a) + b * P2 equal to the same constant C. */
static int craft(int64_t *a, int64_t *b, int n)
{
    const uint64_t C = 0x0123456789abcdefull, inv = inverse(P2), lim = ((uint64_t)1 << 61) - 1;
    int k = 0;
    for (int64_t x = 1; k < n; x++) {
        uint64_t acc1 = ROT(P5 + (uint64_t)x * P2) * P1;
        uint64_t y = (C - acc1) * inv;
        int64_t v = (int64_t)y;
        if (v <= -(int64_t)lim || v >= (int64_t)lim || v == -1) continue; /* lane != value */
        a[k] = x;
        b[k++] = v;
    }
    return k;
}

static uint64_t unkeyed_pair_hash(int64_t a, int64_t b)
{
    uint64_t acc = P5;
    acc = ROT(acc + (uint64_t)a * P2) * P1;
    acc = ROT(acc + (uint64_t)b * P2) * P1;
    return acc + (2 ^ (P5 ^ 3527539ull));
}

static om_object *pair(om_heap *h, int64_t a, int64_t b)
{
    om_object *x = om_int_new(h, a), *y = om_int_new(h, b);
    om_object *t = om_tuple_pack(h, 2, x, y);
    om_decref(x);
    om_decref(y);
    assert_non_null(t);
    return t;
}

/* Insert keys[i] one by one; fail as soon as the probes pass the budget
 * (a quadratic table would otherwise take minutes to fail). */
static void insert_within_budget(om_heap *h, om_object *d, om_object **keys, int n, unsigned budget)
{
    uint64_t start = om__dict_probe_count(h);
    for (int i = 0; i < n; i++) {
        assert_int_equal(om_dict_set(d, keys[i], keys[i]), 0);
        uint64_t used = om__dict_probe_count(h) - start;
        if (used > (uint64_t)budget * (uint64_t)(i + 1) + 1000) {
            fprintf(stderr, "%llu probes after %d inserts\n", (unsigned long long)used, i + 1);
            fail();
        }
    }
    assert_int_equal(om_dict_len(d), n);
    for (int i = 0; i < n; i += 97) {
        om_object *v = om_dict_get(d, keys[i]);
        assert_ptr_equal(v, keys[i]);
        om_decref(v);
    }
}

static void test_hash_flood_crafted_tuples(void **state)
{
    om_heap *h = OM_HEAP(state);
    static int64_t a[NKEYS], b[NKEYS];
    static om_object *keys[NKEYS];
    assert_int_equal(craft(a, b, NKEYS), NKEYS);
    uint64_t one = unkeyed_pair_hash(a[0], b[0]);
    for (int i = 0; i < NKEYS; i++) {
        assert_true(unkeyed_pair_hash(a[i], b[i]) == one); /* they do collide unkeyed */
        keys[i] = pair(h, a[i], b[i]);
    }
    om_object *d = om_dict_new(h);
    insert_within_budget(h, d, keys, NKEYS, 8); /* measured: 2.4 per insert */
    om_decref(d);
    for (int i = 0; i < NKEYS; i++) om_decref(keys[i]);
}

/* Ints keep Python's hash (hash(n) == n): 40k multiples of 2^32 share
 * their low 32 bits, and CPython's perturbed probing (the high bits join
 * the probe sequence after a few steps) keeps them linear: a constant of
 * about 26 probes per insert, never quadratic. */
static void test_hash_flood_ints_sharing_low_bits(void **state)
{
    om_heap *h = OM_HEAP(state);
    static om_object *keys[NKEYS];
    for (int i = 0; i < NKEYS; i++) keys[i] = om_int_new(h, (int64_t)(i + 1) << 32);
    om_object *d = om_dict_new(h);
    insert_within_budget(h, d, keys, NKEYS, 40); /* measured: 26 per insert, linear */
    om_decref(d);
    for (int i = 0; i < NKEYS; i++) om_decref(keys[i]);
}

static uint64_t hash_of(om_object *o)
{
    uint64_t x = 0;
    assert_int_equal(om_hash(o, &x), 0);
    return x;
}

/* Equal tuples hash alike within a heap, across int, float and bool
 * items (the numeric rule); two heaps with different keys disagree. */
static void test_hash_flood_tuple_hash_keyed_per_heap(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *one = om_int_new(h, 1), *onef = om_float_new(h, 1.0), *t1 = om_true(h);
    om_object *two = om_int_new(h, 2);
    om_object *a = om_tuple_pack(h, 2, one, two), *b = om_tuple_pack(h, 2, onef, two);
    om_object *c = om_tuple_pack(h, 2, t1, two);
    assert_true(hash_of(a) == hash_of(b) && hash_of(a) == hash_of(c));
    assert_int_equal(hash_of(one), 1); /* ints keep Python's value */
    om_config cfg;
    om_config_init(&cfg);
    cfg.hash_seed = 12345;
    om_heap *g = om_heap_new(&cfg);
    cfg.hash_seed = 54321;
    om_heap *k = om_heap_new(&cfg);
    uint64_t hg[2], hk;
    for (int rep = 0; rep < 2; rep++) { /* the same seed: the same hash */
        om_object *t = pair(g, 1, 2);
        hg[rep] = hash_of(t);
        om_decref(t);
    }
    om_object *t = pair(k, 1, 2);
    hk = hash_of(t);
    om_decref(t);
    assert_true(hg[0] == hg[1]);
    assert_true(hg[0] != hk);
    om_heap_destroy(g);
    om_heap_destroy(k);
    om_decref(a);
    om_decref(b);
    om_decref(c);
    om_decref(one);
    om_decref(onef);
    om_decref(t1);
    om_decref(two);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hash_flood_crafted_tuples, om_test_setup_nostress,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_hash_flood_ints_sharing_low_bits,
                                        om_test_setup_nostress, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_hash_flood_tuple_hash_keyed_per_heap, om_test_setup,
                                        om_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
