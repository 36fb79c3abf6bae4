/*
 * test_exact_free.c - release-mode frees are exact (issue 12): a pointer
 * that is not the start of a live raw block of the heap (an interior
 * pointer, a pool header, a block of another heap, a block freed already)
 * is refused, counted in bad_frees and left alone, and the heap stays
 * intact; live blocks whose contents look like free-list links are freed
 * normally. Design note: docs/alloc.md ("The fast paths").
 */
#include "om_test.h"

static FILE *scratch;

/* A release heap whose reports go to a scratch file, not the test log. */
static int setup_quiet(void **state)
{
    om_config cfg;
    om_config_init(&cfg);
    cfg.debug = 0;
    cfg.report_file = scratch = tmpfile();
    om_heap *h = om_heap_new(&cfg);
    if (!h) return -1;
    *state = h;
    return 0;
}

static int teardown_quiet(void **state)
{
    int r = om_test_teardown(state);
    fclose(scratch);
    return r;
}

static size_t bad_frees(om_heap *h)
{
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    return st.bad_frees;
}

/* No block of n fresh blocks of size overlaps [p, p + size). */
static void assert_not_handed_out(om_heap *h, const char *p, size_t size, size_t n)
{
    void **v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        v[i] = om_malloc(h, size);
        assert_non_null(v[i]);
        const char *q = v[i];
        assert_true(q + size <= p || q >= p + size);
    }
    for (size_t i = 0; i < n; i++) om_free(h, v[i]);
    free(v);
}

static void test_exact_free_interior_pointer_refused(void **state)
{
    om_heap *h = OM_HEAP(state);
    char *p = om_malloc(h, 64);
    memset(p, 7, 64);
    for (size_t off = 1; off < 64; off += 5) {
        om_free(h, p + off);
        assert_int_equal(om_errcode(h), OM_EFOREIGN);
    }
    assert_int_equal(bad_frees(h), 13);
    assert_int_equal(om_heap_check(h), 0);
    assert_not_handed_out(h, p, 64, 3000);
    assert_int_equal(p[0], 7); /* left alone */
    om_free(h, p);
    assert_int_equal(bad_frees(h), 13);
}

/* The metadata at the start of every arena (the pool descriptors and the
 * alloc bitmaps, docs/alloc.md "Pool descriptors") is no block: pointers
 * into it, to p's own descriptor included, are refused, as is the end
 * marker of p's free lists (its pool's start + 8). */
static void test_exact_free_pool_header_refused(void **state)
{
    om_heap *h = OM_HEAP(state);
    char *p = om_malloc(h, 32);
    om_block_info info;
    assert_int_equal(om_block_info_get(h, p, &info), 0);
    const char *meta = info.arena;
    const char *bad[] = {
        meta,                                /* descriptor 0                  */
        meta + 16,                           /* inside it                     */
        meta + 128 * info.pool_index,        /* p's own descriptor            */
        meta + 8192 + 128 * info.pool_index, /* an alloc bitmap               */
        meta + 16 * 1024 - 16,               /* the metadata's last granule   */
        (const char *)info.pool + 8,         /* the free lists' end marker    */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        om_free(h, (void *)bad[i]);
        assert_false(om_owns(h, bad[i]));
        assert_int_equal(om_usable_size(h, bad[i]), 0);
    }
    assert_int_equal(bad_frees(h), sizeof bad / sizeof *bad);
    assert_int_equal(info.pool_index >= 1 && info.pool_index <= 63, 1);
    assert_int_equal(om_heap_check(h), 0);
    om_free(h, p);
}

/* Every granule of an arena's metadata is refused, while raw pools of
 * every class are carved in the arena: the arena's head then holds their
 * classes and the alloc bitmaps their live bits, which om_free's fast path
 * reads (alloc.h, om__arena_head). An object's block and its interior are
 * refused too (objects are dropped with om_decref). */
static void test_exact_free_metadata_granules_refused(void **state)
{
    om_heap *h = OM_HEAP(state);
    enum { N = 32 + 12 }; /* the classes: 16..512 by 16, 640..2048 by 128 */
    void *p[N];
    for (unsigned k = 0; k < N; k++)
        p[k] = om_malloc(h, k < 32 ? 16 * (k + 1) : 512 + 128 * (k - 31));
    om_block_info info;
    assert_int_equal(om_block_info_get(h, p[0], &info), 0);
    char *meta = (char *)info.arena; /* pool 0, 16 KiB of 16-byte granules */
    size_t before = bad_frees(h), refused = 0;
    for (size_t off = 0; off < 16384; off += 16, refused++) om_free(h, meta + off);
    assert_int_equal(bad_frees(h) - before, refused);
    om_object *o = om_int_new(h, 1000000007);
    om_free(h, o);
    om_free(h, (char *)o + 16);
    assert_int_equal(bad_frees(h) - before, refused + 2);
    assert_int_equal(om_heap_check(h), 0);
    om_decref(o);
    for (unsigned k = 0; k < N; k++) om_free(h, p[k]);
    assert_int_equal(bad_frees(h) - before, refused + 2);
    assert_int_equal(om_heap_check(h), 0);
}

static void test_exact_free_double_free_refused(void **state)
{
    om_heap *h = OM_HEAP(state);
    void *keep = om_malloc(h, 48); /* the pool stays in use */
    void *p = om_malloc(h, 48);
    om_free(h, p);
    om_free(h, p);
    assert_int_equal(bad_frees(h), 1);
    assert_int_equal(om_heap_check(h), 0);
    void *a = om_malloc(h, 48), *b = om_malloc(h, 48);
    assert_ptr_not_equal(a, b); /* not handed out twice */
    om_free(h, a);
    om_free(h, b);
    om_free(h, keep);
}

/* The first block of a fresh pool ends the free list after it is freed,
 * and the only block of a pool that empties parks in the kept stash: both
 * are seen as free. */
static void test_exact_free_double_free_at_list_ends(void **state)
{
    om_heap *h = OM_HEAP(state);
    void *p = om_malloc(h, 200);
    om_free(h, p); /* the pool empties */
    om_free(h, p);
    assert_int_equal(bad_frees(h), 1);
    void *q = om_malloc(h, 300);
    void *q2 = om_malloc(h, 300);
    om_free(h, q2);
    om_free(h, q2);
    assert_int_equal(bad_frees(h), 2);
    om_free(h, q);
    assert_int_equal(om_heap_check(h), 0);
}

/* Thousands of blocks, every other one freed twice: each second free is
 * refused, past the first growths of the free lists. */
static void test_exact_free_many_double_frees(void **state)
{
    om_heap *h = OM_HEAP(state);
    enum { N = 5000 };
    void **v = malloc(N * sizeof *v);
    for (size_t i = 0; i < N; i++) v[i] = om_malloc(h, 16 + (i % 7) * 16);
    for (size_t i = 0; i < N; i += 2) om_free(h, v[i]);
    for (size_t i = 0; i < N; i += 2) om_free(h, v[i]);
    assert_int_equal(bad_frees(h), N / 2);
    assert_int_equal(om_heap_check(h), 0);
    for (size_t i = 1; i < N; i += 2) om_free(h, v[i]);
    assert_int_equal(bad_frees(h), N / 2);
    free(v);
}

/* Live blocks that point at their neighbours in the same pool (a linked
 * list), or whose first byte only was written, are freed normally. */
static void test_exact_free_link_like_contents_are_live(void **state)
{
    om_heap *h = OM_HEAP(state);
    enum { N = 4000 };
    void **v = malloc(N * sizeof *v);
    for (size_t i = 0; i < N; i++) {
        v[i] = om_malloc(h, 32);
        if (i % 2)
            *(void **)v[i] = i ? v[i - 1] : NULL;
        else
            *(char *)v[i] = 1;
    }
    for (size_t i = 0; i < N; i++) om_free(h, v[i]);
    assert_int_equal(bad_frees(h), 0);
    assert_int_equal(om_heap_check(h), 0);
    free(v);
}

static void test_exact_free_block_of_another_heap_refused(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_heap *h2 = om_heap_new(NULL);
    void *p2 = om_malloc(h2, 32);
    assert_false(om_owns(h, p2));
    om_free(h, p2);
    assert_int_equal(bad_frees(h), 1);
    assert_int_equal(om_free_if_owned(h, (char *)p2), 1); /* objmem's: not handed on */
    assert_int_equal(bad_frees(h), 2);
    assert_true(om_owns(h2, p2));
    om_free(h2, p2);
    om_heap_stats st;
    om_heap_get_stats(h2, &st);
    assert_int_equal(st.bad_frees, 0);
    om_heap_destroy(h2);
}

static void test_exact_free_realloc_of_freed_block_refused(void **state)
{
    om_heap *h = OM_HEAP(state);
    void *keep = om_malloc(h, 64);
    void *p = om_malloc(h, 64);
    om_free(h, p);
    assert_null(om_realloc(h, p, 80));
    assert_int_equal(om_errcode(h), OM_EFOREIGN);
    assert_int_equal(om_heap_check(h), 0);
    om_free(h, keep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exact_free_interior_pointer_refused, setup_quiet,
                                        teardown_quiet),
        cmocka_unit_test_setup_teardown(test_exact_free_pool_header_refused, setup_quiet,
                                        teardown_quiet),
        cmocka_unit_test_setup_teardown(test_exact_free_metadata_granules_refused, setup_quiet,
                                        teardown_quiet),
        cmocka_unit_test_setup_teardown(test_exact_free_double_free_refused, setup_quiet,
                                        teardown_quiet),
        cmocka_unit_test_setup_teardown(test_exact_free_double_free_at_list_ends, setup_quiet,
                                        teardown_quiet),
        cmocka_unit_test_setup_teardown(test_exact_free_many_double_frees, setup_quiet,
                                        teardown_quiet),
        cmocka_unit_test_setup_teardown(test_exact_free_link_like_contents_are_live, setup_quiet,
                                        teardown_quiet),
        cmocka_unit_test_setup_teardown(test_exact_free_block_of_another_heap_refused, setup_quiet,
                                        teardown_quiet),
        cmocka_unit_test_setup_teardown(test_exact_free_realloc_of_freed_block_refused, setup_quiet,
                                        teardown_quiet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
