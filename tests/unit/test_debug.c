/*
 * test_debug.c - debug mode (om_config.debug, OBJMEM_DEBUG=1): each misuse
 * is provoked in a child process, which must stop with SIGABRT and a
 * report naming the block (or object) and what went wrong; fill patterns,
 * realloc, and the non-debug treatment of foreign frees.
 */
#include "om_test.h"

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define HAVE_VALGRIND 1
#endif
#endif
#ifndef HAVE_VALGRIND
#define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void)(p), (void)(n))
#endif

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#else
#define UNDER_ASAN 0
#endif

/* Touch memory the allocator has declared free, without the sanitizer or
 * memcheck stopping us first (that is the point of the test). */
__attribute__((no_sanitize_address, noinline)) static void poke(void *p, size_t off, int v)
{
    VALGRIND_MAKE_MEM_DEFINED((char *)p + off, 1);
    ((volatile unsigned char *)p)[off] = (unsigned char)v;
}
__attribute__((no_sanitize_address, noinline)) static unsigned char peek(const void *p, size_t off)
{
    VALGRIND_MAKE_MEM_DEFINED((const char *)p + off, 1);
    return ((const volatile unsigned char *)p)[off];
}

static om_heap *debug_heap(void)
{
    om_config cfg;
    om_config_init(&cfg);
    cfg.debug = 1;
    om_heap *h = om_heap_new(&cfg);
    if (!h) abort();
    return h;
}

/* The child prints "at=<address>" first, so the parent can check that the
 * report names the address. */
static void say_at(const void *p)
{
    fprintf(stderr, "at=%p\n", p);
    fflush(stderr);
}

static char g_out[16384];

/* Run fn in a child; it must abort, and its stderr must contain every
 * string of want (NULL-terminated) and, if it said one, its address. */
static void expect_abort(void (*fn)(void *), const char *const *want)
{
    int status = om_test_run_child(fn, NULL, g_out, sizeof g_out);
    if (getenv("OM_TEST_SHOW")) fprintf(stderr, "---- child report:\n%s", g_out);
    if (!om_test_aborted(status)) fprintf(stderr, "child status %d, output:\n%s\n", status, g_out);
    assert_true(om_test_aborted(status));
    for (; *want; want++) {
        if (!strstr(g_out, *want)) fprintf(stderr, "missing \"%s\" in:\n%s\n", *want, g_out);
        assert_non_null(strstr(g_out, *want));
    }
    const char *at = strstr(g_out, "at=");
    if (at) {
        char addr[32];
        size_t n = strcspn(at + 3, "\n");
        assert_true(n < sizeof addr);
        memcpy(addr, at + 3, n);
        addr[n] = '\0';
        assert_non_null(strstr(at + 3 + n, addr)); /* the report names it */
    }
}

/* Under ASan a read of a poisoned (free) block is caught by ASan itself
 * before debug mode can look: either report proves the detection. */
static void expect_abort_or_asan(void (*fn)(void *), const char *const *want)
{
    if (!UNDER_ASAN) {
        expect_abort(fn, want);
        return;
    }
    int status = om_test_run_child(fn, NULL, g_out, sizeof g_out);
    if (getenv("OM_TEST_SHOW")) fprintf(stderr, "---- child report:\n%s", g_out);
    assert_true(status != 0);
    assert_true(strstr(g_out, "AddressSanitizer") != NULL || strstr(g_out, want[0]) != NULL);
}

/* ---------------------------------------------------- block misuse */

static void overrun_small(void *arg)
{
    (void)arg;
    om_heap *h = debug_heap();
    unsigned char *p = om_malloc(h, 24);
    say_at(p);
    p[24] = 'x'; /* one byte past the end */
    om_free(h, p);
}

static void overrun_large(void *arg)
{
    (void)arg;
    om_heap *h = debug_heap();
    unsigned char *p = om_malloc(h, 1000);
    say_at(p);
    p[1000] = 'x';
    om_free(h, p);
}

static void test_debug_overrun_by_one_byte(void **state)
{
    (void)state;
    static const char *const small[] = {"objmem: debug: buffer overrun", "detected by om_free",
                                        "24 bytes requested", "after payload", NULL};
    static const char *const large[] = {"objmem: debug: buffer overrun", "detected by om_free",
                                        "large block, 1000 bytes requested", NULL};
    expect_abort(overrun_small, small);
    expect_abort(overrun_large, large);
}

static void overrun_found_by_check(void *arg)
{
    (void)arg;
    om_heap *h = debug_heap();
    unsigned char *p = om_malloc(h, 100);
    say_at(p);
    p[100] = 0;
    om_heap_check(h);
}

static void test_debug_overrun_found_by_heap_check(void **state)
{
    (void)state;
    static const char *const want[] = {"buffer overrun", "detected by om_heap_check", NULL};
    expect_abort(overrun_found_by_check, want);
}

static void underrun(void *arg)
{
    (void)arg;
    om_heap *h = debug_heap();
    unsigned char *p = om_malloc(h, 48);
    say_at(p);
    p[-1] = 0;
    om_free(h, p);
}

static void underrun_into_size(void *arg)
{
    (void)arg;
    om_heap *h = debug_heap();
    unsigned char *p = om_malloc(h, 1000);
    say_at(p);
    p[-11] = 0x7f; /* a high byte of the recorded size */
    om_free(h, p);
}

static void test_debug_underrun(void **state)
{
    (void)state;
    static const char *const want[] = {"buffer underrun", "detected by om_free", "prefix at", NULL};
    static const char *const size[] = {"the size before the block is damaged", "large block", NULL};
    expect_abort(underrun, want);
    expect_abort(underrun_into_size, size);
}

static void double_free(void *arg)
{
    (void)arg;
    om_heap *h = debug_heap();
    void *keep = om_malloc(h, 32);
    void *p = om_malloc(h, 32);
    say_at(p);
    om_free(h, p);
    om_free(h, p);
    om_free(h, keep);
}

static void test_debug_double_free(void **state)
{
    (void)state;
    static const char *const want[] = {"double free", "detected by om_free", NULL};
    expect_abort(double_free, want);
}

static void free_stack_pointer(void *arg)
{
    (void)arg;
    om_heap *h = debug_heap();
    char local[32];
    say_at(local);
    om_free(h, local);
}

static void free_interior_pointer(void *arg)
{
    (void)arg;
    om_heap *h = debug_heap();
    char *p = om_malloc(h, 64);
    say_at(p + 16);
    om_free(h, p + 16);
}

static void free_malloc_pointer(void *arg)
{
    (void)arg;
    om_heap *h = debug_heap();
    void *p = malloc(32);
    say_at(p);
    om_free(h, p);
}

static void test_debug_free_of_foreign_pointers(void **state)
{
    (void)state;
    static const char *const want[] = {"not a block of this heap", "detected by om_free", NULL};
    static const char *const outside[] = {"not a block of this heap",
                                          "in no arena and no large block", NULL};
    expect_abort(free_stack_pointer, outside);
    expect_abort(free_interior_pointer, want);
    expect_abort(free_malloc_pointer, outside);
}

typedef struct thing {
    OM_OBJECT_HEAD
    int64_t value;
} thing;
static const om_type thing_type = {.name = "thing", .basic_size = sizeof(thing)};

static void free_object_block(void *arg)
{
    (void)arg;
    om_heap *h = debug_heap();
    om_object *o = om_new(h, &thing_type);
    say_at(o);
    om_free(h, o);
}

static void test_debug_om_free_of_an_object(void **state)
{
    (void)state;
    static const char *const want[] = {"om_free of an object's block", "object block", NULL};
    expect_abort(free_object_block, want);
}

static void uaf_found_by_check(void *arg)
{
    (void)arg;
    om_heap *h = debug_heap();
    void *keep = om_malloc(h, 64); /* the pool stays in use */
    unsigned char *p = om_malloc(h, 64);
    say_at(p);
    om_free(h, p);
    poke(p, 20, 'x');
    om_heap_check(h);
    om_free(h, keep);
}

static void uaf_found_by_realloc(void *arg)
{
    (void)arg;
    om_heap *h = debug_heap();
    void *keep = om_malloc(h, 64);
    unsigned char *p = om_malloc(h, 64);
    say_at(p);
    om_free(h, p);
    poke(p, 40, 'x');
    om_malloc(h, 64); /* the same block again: its dead pattern is damaged */
    om_free(h, keep);
}

static void test_debug_use_after_free_write(void **state)
{
    (void)state;
    static const char *const check[] = {"use after free", "detected by om_heap_check", NULL};
    static const char *const alloc[] = {"use after free", "detected by allocation", NULL};
    expect_abort(uaf_found_by_check, check);
    expect_abort(uaf_found_by_realloc, alloc);
}

/* ------------------------------------------------------ object misuse */

/* A buggy type: its dealloc drops a reference it does not own (itself). */
static void selfish_dealloc(om_object *o) { om_decref(o); }
static const om_type selfish_type = {.name = "selfish", .basic_size = sizeof(thing),
                                     .dealloc = selfish_dealloc};

static void decref_below_zero(void *arg)
{
    (void)arg;
    om_heap *h = debug_heap();
    om_object *o = om_new(h, &selfish_type);
    say_at(o);
    om_decref(o);
}

static void test_debug_decref_below_zero(void **state)
{
    (void)state;
    static const char *const want[] = {"reference count below zero", "of type selfish",
                                       "detected by om_decref", NULL};
    expect_abort(decref_below_zero, want);
}

static void decref_freed(void *arg)
{
    (void)arg;
    om_heap *h = debug_heap();
    om_object *keep = om_new(h, &thing_type); /* the pool stays in use */
    om_object *o = om_new(h, &thing_type);
    say_at(o);
    om_decref(o);
    VALGRIND_MAKE_MEM_DEFINED(o, sizeof *o); /* debug mode, not memcheck, is on trial */
    om_decref(o);
    om_decref(keep);
}

static void incref_freed_checked(void *arg)
{
    (void)arg;
    om_heap *h = debug_heap();
    om_object *keep = om_new(h, &thing_type);
    om_object *o = om_new(h, &thing_type);
    say_at(o);
    om__incref_checked(o); /* what om_incref is under -DOM_DEBUG_REFS */
    om__decref_checked(o);
    om__decref_checked(o); /* frees it */
    VALGRIND_MAKE_MEM_DEFINED(o, sizeof *o);
    om__incref_checked(o); /* use after free */
    om_decref(keep);
}

static void test_debug_refcount_on_freed_object(void **state)
{
    (void)state;
    static const char *const dec[] = {"reference operation on a freed object",
                                      "of type thing (freed)", "detected by om_decref", NULL};
    static const char *const inc[] = {"reference operation on a freed object",
                                      "of type thing (freed)", "detected by om_incref", NULL};
    expect_abort_or_asan(decref_freed, dec);
    expect_abort_or_asan(incref_freed_checked, inc);
}

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
    for (size_t i = 0; i < 8; i++) assert_int_equal(peek(p, i), 0);
    for (size_t i = 8; i < 40; i++) assert_int_equal(peek(p, i), 0xDD);
    assert_int_equal(om_heap_check(h), 0); /* the dead pattern is intact */
    unsigned char *q = om_malloc(h, 40); /* the same block, clean again */
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
        cmocka_unit_test(test_debug_overrun_by_one_byte),
        cmocka_unit_test(test_debug_overrun_found_by_heap_check),
        cmocka_unit_test(test_debug_underrun),
        cmocka_unit_test(test_debug_double_free),
        cmocka_unit_test(test_debug_free_of_foreign_pointers),
        cmocka_unit_test(test_debug_om_free_of_an_object),
        cmocka_unit_test(test_debug_use_after_free_write),
        cmocka_unit_test(test_debug_decref_below_zero),
        cmocka_unit_test(test_debug_refcount_on_freed_object),
        cmocka_unit_test_setup_teardown(test_debug_checked_ops_on_live_object, om_test_setup_debug, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_debug_fill_patterns, om_test_setup_debug, om_test_teardown),
        cmocka_unit_test(test_debug_environment_turns_it_on),
        cmocka_unit_test_setup_teardown(test_debug_realloc_preserves_contents, om_test_setup_debug, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_debug_objects_in_debug_heap, om_test_setup_debug, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_debug_foreign_free_without_debug_is_counted, om_test_setup, om_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
