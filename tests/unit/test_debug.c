/*
 * test_debug.c - debug mode (om_config.debug, OBJMEM_DEBUG=1): checked
 * reference operations, fill patterns, realloc, the environment switch,
 * and the non-debug treatment of foreign frees. The misuse cases that
 * debug mode detects (each in a child process) are in test_misuse.c.
 */
#include "om_child.h"

typedef struct thing {
    OM_OBJECT_HEAD
    int64_t value;
} thing;
static const om_type thing_type = {.name = "thing", .basic_size = sizeof(thing)};

static void test_debug_checked_ops_on_live_object(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *o = om_new(h, &thing_type);
    om__incref_checked(o);
    assert_int_equal(om_refcount(o), 2);
    om__decref_checked(o);
    assert_int_equal(om_refcount(o), 1);
    om__decref_checked(o);
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    assert_int_equal(st.objects - st.heap_objects, 0);
}

/* ------------------------------------------------- patterns and modes */

static void test_debug_fill_patterns(void **state)
{
    om_heap *h = OM_HEAP(state);
    void *keep = om_malloc(h, 40);
    unsigned char *p = om_malloc(h, 40);
    for (size_t i = 0; i < 40; i++) assert_int_equal(p[i], 0xCD);
    unsigned char *big = om_malloc(h, 3000);
    for (size_t i = 0; i < 3000; i++) assert_int_equal(big[i], 0xCD);
    om_free(h, big);
    om_free(h, p);
    /* freed: the first 8 bytes zeroed (count and gc word), the rest dead */
    for (size_t i = 0; i < 8; i++) assert_int_equal(om_child_peek(p, i), 0);
    for (size_t i = 8; i < 40; i++) assert_int_equal(om_child_peek(p, i), 0xDD);
    assert_int_equal(om_heap_check(h), 0); /* the dead pattern is intact */
    unsigned char *q = om_malloc(h, 40);   /* the same block, clean again */
    assert_ptr_equal(q, p);
    for (size_t i = 0; i < 40; i++) assert_int_equal(q[i], 0xCD);
    om_free(h, q);
    om_free(h, keep);
}

static void test_debug_environment_turns_it_on(void **state)
{
    (void)state;
    om_config cfg;
    setenv("OBJMEM_DEBUG", "1", 1);
    om_config_init(&cfg);
    assert_int_equal(cfg.debug, 1);
    om_heap *h = om_heap_new(&cfg);
    unsigned char *p = om_malloc(h, 16);
    for (int i = 0; i < 16; i++) assert_int_equal(p[i], 0xCD);
    om_free(h, p);
    om_heap_destroy(h);
    setenv("OBJMEM_DEBUG", "0", 1);
    om_config_init(&cfg);
    assert_int_equal(cfg.debug, 0);
    unsetenv("OBJMEM_DEBUG");
    om_config_init(&cfg);
    assert_int_equal(cfg.debug, 0);
}

static void test_debug_realloc_preserves_contents(void **state)
{
    om_heap *h = OM_HEAP(state);
    static const size_t sizes[] = {10, 100, 480, 489, 1000, 5000, 600, 50, 7};
    unsigned char *p = om_malloc(h, 3);
    size_t have = 3;
    for (size_t i = 0; i < have; i++) p[i] = (unsigned char)(i * 13 + 1);
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        size_t n = sizes[k];
        p = om_realloc(h, p, n);
        assert_non_null(p);
        assert_int_equal(om_usable_size(h, p), n);
        size_t keep = have < n ? have : n;
        for (size_t i = 0; i < keep; i++) assert_int_equal(p[i], (unsigned char)(i * 13 + 1));
        for (size_t i = keep; i < n; i++) assert_int_equal(p[i], 0xCD);
        for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(i * 13 + 1);
        have = n;
        assert_int_equal(om_heap_check(h), 0);
    }
    om_free(h, p);
}

static void test_debug_objects_in_debug_heap(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *o = om_new(h, &thing_type);
    assert_int_equal(((thing *)o)->value, 0); /* objects are zeroed, not 0xCD */
    assert_true(om_owns(h, o));
    assert_int_equal(om_heap_check(h), 0);
    om_decref(o);
}

static void test_debug_foreign_free_without_debug_is_counted(void **state)
{
    om_heap *h = OM_HEAP(state);
    char local[16];
    void *m = malloc(32);
    om_object *o = om_new(h, &thing_type);
    om_free(h, local);
    om_free(h, m);
    om_free(h, o); /* an object's block: not om_free's business */
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    assert_int_equal(st.bad_frees, 3);
    assert_int_equal(om_errcode(h), OM_EFOREIGN);
    assert_int_equal(om_refcount(o), 1);
    free(m);
    om_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_debug_checked_ops_on_live_object, om_test_setup_debug,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_debug_fill_patterns, om_test_setup_debug,
                                        om_test_teardown),
        cmocka_unit_test(test_debug_environment_turns_it_on),
        cmocka_unit_test_setup_teardown(test_debug_realloc_preserves_contents, om_test_setup_debug,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_debug_objects_in_debug_heap, om_test_setup_debug,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_debug_foreign_free_without_debug_is_counted,
                                        om_test_setup, om_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
