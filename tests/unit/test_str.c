/*
 * test_str.c - strings: UTF-8 validation, lengths, cached strings, the
 * keyed hash, and interning (identity, mortality, heap destroy).
 */
#include "om_test.h"

static void test_str_lengths_in_bytes_and_code_points(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *s = om_str_from_cstr(h, "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80");
    assert_non_null(s);
    assert_true(om_is_str(s));
    assert_int_equal(om_str_len(s), 15);
    assert_int_equal(om_str_cplen(s), 9);
    assert_string_equal(om_str_data(s), "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80");
    assert_int_equal(om_sizeof(s), 42 + 16);
    om_decref(s);
    om_object *z = om_str_new(h, "a\0b", 3); /* embedded NUL */
    assert_int_equal(om_str_len(z), 3);
    assert_int_equal(om_str_cplen(z), 3);
    assert_memory_equal(om_str_data(z), "a\0b", 4);
    om_decref(z);
    /* a large string (a large block), 3-byte characters across the 8-byte ASCII scan */
    enum { NCH = 5000 };
    char *big = malloc(3 * NCH + 7);
    memcpy(big, "abcdefg", 7);
    for (int k = 0; k < NCH; k++) memcpy(big + 7 + 3 * k, "\xe2\x82\xac", 3);
    om_object *b = om_str_new(h, big, 3 * NCH + 7);
    assert_non_null(b);
    assert_int_equal(om_str_cplen(b), NCH + 7);
    om_object *bi = om_str_intern(h, b);
    assert_ptr_equal(bi, b);
    om_decref(bi);
    om_decref(b);
    free(big);
    om_object *i = om_int_new(h, 1000);
    assert_null(om_str_data(i));
    assert_int_equal(om_str_len(i), 0);
    assert_int_equal(om_str_cplen(i), 0);
    assert_false(om_str_is_interned(i));
    om_decref(i);
}

static void test_str_invalid_utf8_is_an_error(void **state)
{
    om_heap *h = OM_HEAP(state);
    static const char *bad[] = {
        "\xff",         "a\x80",    "\xc0\x80",         "\xc1\xbf",         "\xe0\x80\xaf",
        "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf0\x8f\xbf\xbf",
        "abcdefgh\xe2", "\xc3",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        om_errclear(h);
        assert_null(om_str_from_cstr(h, bad[i]));
        assert_int_equal(om_errcode(h), OM_EUTF8);
        assert_non_null(strstr(om_errmsg(h), "UTF-8"));
    }
    static const char *good[] = {"\xc2\x80",        "\xdf\xbf",     "\xe0\xa0\x80",
                                 "\xed\x9f\xbf",    "\xee\x80\x80", "\xf0\x90\x80\x80",
                                 "\xf4\x8f\xbf\xbf"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        om_object *s = om_str_from_cstr(h, good[i]);
        assert_non_null(s);
        assert_int_equal(om_str_cplen(s), 1);
        om_decref(s);
    }
    assert_null(om_str_from_cstr(h, NULL));
    assert_int_equal(om_errcode(h), OM_EINVAL);
    assert_null(om_str_new(h, NULL, 5));
    assert_int_equal(om_errcode(h), OM_EINVAL);
    assert_null(om_str_new(h, NULL, 1));
    assert_int_equal(om_errcode(h), OM_EINVAL);
    om_errclear(h);
    assert_null(om_str_new(h, "x", SIZE_MAX - 10));
    assert_int_equal(om_errcode(h), OM_ENOMEM);
}

/* Every length around the short path's word sizes (2..40 bytes), ASCII,
 * with a two-byte character at each position, and with an invalid byte at
 * each position: lengths, contents and errors as the general path's. */
static void test_str_short_lengths_every_position(void **state)
{
    om_heap *h = OM_HEAP(state);
    char buf[48];
    for (size_t len = 2; len <= 40; len++) {
        for (size_t i = 0; i < len; i++) buf[i] = (char)('a' + i % 26);
        om_object *s = om_str_new(h, buf, len);
        assert_non_null(s);
        assert_int_equal(om_str_len(s), len);
        assert_int_equal(om_str_cplen(s), len);
        assert_memory_equal(om_str_data(s), buf, len);
        assert_int_equal(om_str_data(s)[len], 0);
        om_decref(s);
        for (size_t at = 0; at + 1 < len; at++) { /* U+00E9 at byte `at` */
            memcpy(buf + at, "\xc3\xa9", 2);
            assert_non_null(s = om_str_new(h, buf, len));
            assert_int_equal(om_str_len(s), len);
            assert_int_equal(om_str_cplen(s), len - 1);
            assert_memory_equal(om_str_data(s), buf, len);
            om_decref(s);
            buf[at] = (char)('a' + at % 26);
            buf[at + 1] = (char)('a' + (at + 1) % 26);
        }
        for (size_t at = 0; at < len; at++) { /* an invalid byte at `at` */
            buf[at] = (char)0xff;
            assert_null(om_str_new(h, buf, len));
            assert_int_equal(om_errcode(h), OM_EUTF8);
            buf[at] = (char)('a' + at % 26);
        }
    }
}

static void test_str_empty_and_ascii_chars_are_cached(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *e1 = om_str_new(h, "", 0), *e2 = om_str_from_cstr(h, "");
    assert_ptr_equal(e1, e2);
    assert_true(om_is_immortal(e1));
    assert_int_equal(om_str_len(e1), 0);
    for (int c = 0; c < 128; c++) {
        char b = (char)c;
        om_object *a = om_str_new(h, &b, 1), *b2 = om_str_new(h, &b, 1);
        assert_ptr_equal(a, b2);
        assert_true(om_is_immortal(a));
        assert_true(om_str_is_interned(a));
        om_object *i = om_str_intern(h, a);
        assert_ptr_equal(i, a);
    }
    om_object *x = om_str_from_cstr(h, "ab"), *y = om_str_from_cstr(h, "ab");
    assert_ptr_not_equal(x, y);
    assert_int_equal(om_equal(x, y), 1);
    om_decref(x);
    om_decref(y);
}

static void test_str_hash_is_cached_and_keyed(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *a = om_str_from_cstr(h, "hello world"), *b = om_str_from_cstr(h, "hello world");
    om_object *c = om_str_from_cstr(h, "hello worle");
    uint64_t ha, hb, hc, ha2;
    assert_int_equal(om_hash(a, &ha), 0);
    assert_int_equal(om_hash(b, &hb), 0);
    assert_int_equal(om_hash(c, &hc), 0);
    assert_int_equal(om_hash(a, &ha2), 0);
    assert_int_equal(ha, hb);
    assert_int_equal(ha, ha2);
    assert_int_not_equal(ha, hc);
    assert_int_equal(om_equal(a, c), 0);
    /* the key comes from the config: same seed, same hash; other seed, other */
    uint64_t hs[3];
    uint64_t seeds[3] = {42, 42, 43};
    for (int i = 0; i < 3; i++) {
        om_config cfg;
        om_config_init(&cfg);
        cfg.hash_seed = seeds[i];
        om_heap *h2 = om_heap_new(&cfg);
        om_object *s = om_str_from_cstr(h2, "hello world");
        assert_int_equal(om_hash(s, &hs[i]), 0);
        om_decref(s);
        om_heap_destroy(h2);
    }
    assert_int_equal(hs[0], hs[1]);
    assert_int_not_equal(hs[0], hs[2]);
    om_decref(a);
    om_decref(b);
    om_decref(c);
}

static void test_str_intern_returns_one_object(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *a = om_str_from_cstr(h, "spam"), *b = om_str_from_cstr(h, "spam");
    assert_false(om_str_is_interned(a));
    om_object *ia = om_str_intern(h, a);
    assert_ptr_equal(ia, a);
    assert_true(om_str_is_interned(a));
    assert_int_equal(om_refcount(a), 2);
    om_object *ib = om_str_intern(h, b);
    assert_ptr_equal(ib, a);
    assert_false(om_str_is_interned(b));
    om_object *ic = om_str_intern_cstr(h, "spam");
    assert_ptr_equal(ic, a);
    om_object *iaa = om_str_intern(h, ia); /* already interned: itself */
    assert_ptr_equal(iaa, a);
    om_object *objs[] = {ia, ib, ic, iaa, b};
    for (int i = 0; i < 5; i++) om_decref(objs[i]);
    assert_int_equal(om_refcount(a), 1);
    om_decref(a);
    /* mortal: once every reference is gone, equal text interns a new object */
    om_object *d = om_str_from_cstr(h, "spam");
    om_object *id = om_str_intern(h, d);
    assert_ptr_equal(id, d);
    om_decref(id);
    om_decref(d);
    om_object *i = om_int_new(h, 1000);
    assert_null(om_str_intern(h, i));
    assert_int_equal(om_errcode(h), OM_ETYPE);
    om_decref(i);
}

static void test_str_intern_table_survives_churn(void **state)
{
    om_heap *h = OM_HEAP(state);
    enum { N = 3000 };
    om_object *v[N];
    char buf[32];
    for (int i = 0; i < N; i++) {
        snprintf(buf, sizeof buf, "key-%d", i);
        v[i] = om_str_intern_cstr(h, buf);
        assert_non_null(v[i]);
    }
    unsigned seed = 7;
    for (int i = 0; i < N; i += 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 3) {
        om_clear_ref(&v[i]);
        if (i % 97 == 0) assert_int_equal(om_heap_check(h), 0);
    }
    for (int i = 0; i < N; i++) {
        snprintf(buf, sizeof buf, "key-%d", i);
        om_object *s = om_str_intern_cstr(h, buf);
        if (v[i]) assert_ptr_equal(s, v[i]);
        om_decref(s);
    }
    for (int i = 0; i < N; i++) om_xdecref(v[i]);
    assert_int_equal(om_heap_check(h), 0);
}

/* Interned strings still referenced at heap destroy are released with the
 * heap like any other object; nothing is left behind (ASan checks). */
static void test_str_interned_alive_at_heap_destroy(void **state)
{
    (void)state;
    om_heap *h = om_heap_new(NULL);
    om_object *s = om_str_intern_cstr(h, "still here");
    assert_non_null(s);
    assert_int_equal(om_heap_check(h), 0);
    om_heap_destroy(h); /* s is gone with the heap */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_str_lengths_in_bytes_and_code_points, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_str_invalid_utf8_is_an_error, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_str_short_lengths_every_position, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_str_empty_and_ascii_chars_are_cached, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_str_hash_is_cached_and_keyed, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_str_intern_returns_one_object, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_str_intern_table_survives_churn, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test(test_str_interned_alive_at_heap_destroy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
