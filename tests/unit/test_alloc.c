/*
 * test_alloc.c - the small-object allocator: size classes and their
 * boundaries, realloc, large blocks, arenas given back, ownership, stats,
 * many heaps in parallel threads, and om_heap_check after each case.
 */
#include <pthread.h>
#include <sys/mman.h>

#include "om_child.h"
#include "om_test.h"

static void check_block(om_heap *h, void *p, size_t size)
{
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 16, 0);
    assert_true(om_owns(h, p));
    assert_true(om_usable_size(h, p) >= size);
    memset(p, 0xAB, size);
}

static void test_alloc_size_class_boundaries(void **state)
{
    om_heap *h = OM_HEAP(state);
    static const size_t sizes[] = {0,   1,   15,   16,   17,   511,  512,  513,
                                   640, 641, 1920, 1921, 2048, 2049, 4096, (size_t)64 << 20};
    static const size_t want[] = {16,  16,  16,   16,   32,   512, 512, 640,
                                  640, 768, 1920, 2048, 2048, 0,   0,   0};
    enum { N = sizeof sizes / sizeof *sizes };
    void *p[N];
    for (size_t i = 0; i < N; i++) {
        p[i] = om_malloc(h, sizes[i]);
        check_block(h, p[i], sizes[i]);
        om_block_info info;
        assert_int_equal(om_block_info_get(h, p[i], &info), 0);
        if (want[i]) {
            assert_false(info.large);
            assert_int_equal(info.block_size, want[i]);
            assert_int_equal(om_usable_size(h, p[i]), want[i]);
        } else {
            assert_true(info.large);
            assert_int_equal(om_usable_size(h, p[i]), sizes[i]);
        }
    }
    assert_ptr_not_equal(p[0], p[1]); /* size 0 gives a unique pointer */
    assert_int_equal(om_heap_check(h), 0);
    for (size_t i = 0; i < N; i++) om_free(h, p[i]);
}

static void test_alloc_free_if_owned_routes(void **state)
{
    om_heap *h = OM_HEAP(state);
    char *m = malloc(32);
    void *small = om_malloc(h, 40), *large = om_malloc(h, 5000);
    assert_int_equal(om_free_if_owned(h, m), 0); /* not ours: untouched */
    assert_int_equal(om_free_if_owned(h, small), 1);
    assert_int_equal(om_free_if_owned(h, large), 1);
    assert_int_equal(om_free_if_owned(h, NULL), 1);
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    assert_int_equal(st.bad_frees, 0);
    assert_int_equal(st.large_blocks, 0);
    free(m);
}

static void test_alloc_free_null_is_noop(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_free(h, NULL);
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    assert_int_equal(st.bad_frees, 0);
}

static void test_alloc_calloc_zeroes_and_overflow(void **state)
{
    om_heap *h = OM_HEAP(state);
    unsigned char *p = om_malloc(h, 100);
    memset(p, 0x5A, 100);
    om_free(h, p);
    unsigned char *q = om_calloc(h, 10, 10); /* likely the same block again */
    for (int i = 0; i < 100; i++) assert_int_equal(q[i], 0);
    om_free(h, q);
    assert_null(om_calloc(h, SIZE_MAX / 2, 3));
    assert_int_equal(om_errcode(h), OM_EINVAL);
    assert_non_null(strstr(om_errmsg(h), "overflows"));
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(seed + i * 7);
}
static void expect(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) assert_int_equal(p[i], (unsigned char)(seed + i * 7));
}

static void test_alloc_realloc_within_and_across(void **state)
{
    om_heap *h = OM_HEAP(state);
    unsigned char *p = om_malloc(h, 20);
    fill(p, 20, 1);
    unsigned char *q = om_realloc(h, p, 30); /* same class (32) */
    assert_ptr_equal(p, q);
    expect(q, 20, 1);
    fill(q, 30, 2);
    q = om_realloc(h, q, 200); /* across classes */
    expect(q, 30, 2);
    fill(q, 200, 3);
    q = om_realloc(h, q, 5000); /* small -> large */
    expect(q, 200, 3);
    fill(q, 5000, 4);
    q = om_realloc(h, q, 100000); /* large -> large */
    expect(q, 5000, 4);
    q = om_realloc(h, q, 100); /* large -> small */
    expect(q, 100, 4);
    assert_true(om_usable_size(h, q) >= 100);
    assert_int_equal(om_heap_check(h), 0);
    q = om_realloc(h, q, 10); /* shrink across classes */
    expect(q, 10, 4);
    om_free(h, q);
    unsigned char *r = om_realloc(h, NULL, 40);
    assert_non_null(r);
    om_free(h, r);
}

static void test_alloc_foreign_pointer_left_alone(void **state)
{
    om_heap *h = OM_HEAP(state);
    char local[32] = {0};
    char *m = malloc(64);
    assert_false(om_owns(h, local));
    assert_false(om_owns(h, m));
    FILE *saved = stderr;
    (void)saved;
    om_free(h, m); /* reported, counted, untouched */
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    assert_int_equal(st.bad_frees, 1);
    assert_int_equal(om_errcode(h), OM_EFOREIGN);
    assert_null(om_realloc(h, local, 10));
    assert_int_equal(om_errcode(h), OM_EFOREIGN);
    free(m);
    char *p = om_malloc(h, 64);
    assert_false(om_owns(h, p + 16)); /* interior */
    assert_false(om_owns(h, p + 1));
    om_free(h, p);
}

/* 1 GiB in 256-byte blocks, then all freed: the arenas go back to the OS
 * (all but the small cache), seen through the stats. */
static void test_alloc_gib_build_and_free_releases_arenas(void **state)
{
    om_heap *h = OM_HEAP(state);
    size_t n = ((size_t)1 << 30) / 256;
    om_heap_stats st0; /* what the heap holds itself (built-in singletons) */
    om_heap_get_stats(h, &st0);
    void **v = malloc(n * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++) {
        v[i] = om_malloc(h, 256);
        assert_non_null(v[i]);
    }
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    assert_true(st.arenas >= 1024);
    assert_int_equal(st.classes[15].blocks_used, n + st0.classes[15].blocks_used);
    for (size_t i = 0; i < n; i++) om_free(h, v[i]);
    free(v);
    om_heap_trim(h); /* or wait for the decay period (test_decay.c) */
    om_heap_get_stats(h, &st);
    assert_true(st.arenas <= st0.arenas + 2);
    assert_true(st.arenas_unmapped_total >= st.arenas_mapped_total - st0.arenas - 2);
    assert_int_equal(st.bytes_in_use, st0.bytes_in_use);
}

/* Empty pools kept for the boundary loop must not pin arenas: blocks of
 * every class across several arenas, all freed, leave no pool in use. */
static void test_alloc_kept_pools_do_not_pin_arenas(void **state)
{
    om_heap *h = OM_HEAP(state);
    enum { N = 40000 };
    om_heap_stats st, st0; /* the heap's own objects (built-in singletons) */
    om_heap_get_stats(h, &st0);
    void **v = malloc(N * sizeof *v);
    for (int i = 0; i < N; i++) v[i] = om_malloc(h, (size_t)(i % 32) * 16 + 1);
    om_heap_get_stats(h, &st);
    assert_true(st.arenas >= 4);
    for (int i = 0; i < N; i++) om_free(h, v[i]);
    free(v);
    om_heap_trim(h);
    om_heap_get_stats(h, &st);
    assert_int_equal(st.pools_used, st0.pools_used);
    assert_true(st.arenas <= st0.arenas + 2);
    assert_int_equal(om_heap_check(h), 0);
}

/* A block freed into a full pool is the next block of its class handed
 * out (alloc.h, pool invariant 3: the pool goes to the front of its list),
 * ahead of pools that had free blocks already, for thousands of blocks of
 * about 120 full pools freed in a scrambled order, with another class
 * allocated in between; om_heap_check holds after. */
static void test_alloc_freed_block_is_reused_next(void **state)
{
    om_heap *h = OM_HEAP(state);
    enum { N = 60000 }; /* 48-byte blocks: about 180 full pools */
    void **v = malloc(N * sizeof *v);
    for (int i = 0; i < N; i++) v[i] = om_malloc(h, 48);
    for (int i = 0; i < N / 3; i += 10) { /* pools with free blocks already */
        om_free(h, v[i]);
        v[i] = NULL;
    }
    void *other = om_malloc(h, 200);
    /* the frees above filled the raw block cache of the class (a full cache
     * sends a free to its pool, heap.h "The raw block cache"): one block
     * taken back leaves room for the one freed at each step below */
    void *spare = om_malloc(h, 48);
    for (int k = 0; k < N / 3; k++) {
        /* a full pool: not the last one carved (one pool holds < 400) */
        int i = N / 3 + (int)(((uint64_t)k * 7919u) % (N - 400 - N / 3));
        om_free(h, v[i]);
        om_free(h, other);
        other = om_malloc(h, 200); /* another class: leaves 48's list alone */
        void *p = om_malloc(h, 48);
        assert_ptr_equal(p, v[i]);
        v[i] = p;
    }
    assert_int_equal(om_heap_check(h), 0);
    om_free(h, other);
    om_free(h, spare);
    for (int i = 0; i < N; i++) om_free(h, v[i]);
    free(v);
    assert_int_equal(om_heap_check(h), 0);
}

static void test_alloc_boundary_loop_does_not_thrash(void **state)
{
    om_heap *h = OM_HEAP(state);
    for (int i = 0; i < 100000; i++) om_free(h, om_malloc(h, 48));
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    assert_int_equal(st.arenas_mapped_total, 1);
    assert_int_equal(st.arenas_unmapped_total, 0);
}

/* Fullest arenas are filled first: after freeing most blocks of the
 * second arena, new pools come from the first. */
static void test_alloc_fullest_arena_first(void **state)
{
    om_heap *h = OM_HEAP(state);
    /* the last pool half full: on its list, so pool 5 of A is not the sole
     * pool of its class when it empties (it would be kept, not freed) */
    size_t per_pool = 16384 / 512, n = per_pool * 63 * 2 + per_pool / 2;
    void **v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = om_malloc(h, 512);
    om_block_info a, b;
    om_block_info_get(h, v[0], &a);
    om_block_info_get(h, v[n - 1], &b);
    assert_ptr_not_equal(a.arena, b.arena);
    /* free one pool's worth in arena A and nearly everything in arena B */
    size_t freed_a = 0;
    for (size_t i = 0; i < n; i++) {
        om_block_info bi;
        om_block_info_get(h, v[i], &bi);
        if ((bi.arena == a.arena && bi.pool_index == 5) ||
            (bi.arena == b.arena && bi.pool_index > 1)) {
            freed_a += bi.arena == a.arena;
            om_free(h, v[i]);
            v[i] = NULL;
        }
    }
    assert_true(freed_a > 0);
    /* new blocks of another class need a fresh pool: it comes from A */
    void *x = om_malloc(h, 64);
    om_block_info xi;
    om_block_info_get(h, x, &xi);
    assert_ptr_equal(xi.arena, a.arena);
    om_free(h, x);
    for (size_t i = 0; i < n; i++) om_free(h, v[i]);
    free(v);
}

/* The number after '=' on the printed line that starts with label. */
static size_t printed_total(const char *buf)
{
    const char *l = strstr(buf, "\nTotal ");
    assert_non_null(l);
    return (size_t)strtoull(strchr(l, '=') + 1, NULL, 10);
}

/* The sum of the parts om_heap_print_stats lists above its Total line
 * (from "# bytes in allocated blocks" on). */
static size_t printed_parts(const char *buf)
{
    const char *l = strstr(buf, "# bytes in allocated blocks"), *end = strstr(buf, "\nTotal ");
    assert_non_null(l);
    size_t sum = 0;
    for (; l && l < end; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        sum += (size_t)strtoull(strchr(l, '=') + 1, NULL, 10);
    return sum;
}

static void test_alloc_stats_and_print(void **state)
{
    om_heap *h = OM_HEAP(state);
    void *p[100];
    om_heap_stats st0; /* what the heap holds itself (built-in singletons) */
    om_heap_get_stats(h, &st0);
    size_t used0 = 0;
    for (unsigned c = 0; c < OM_NUM_CLASSES; c++) used0 += st0.classes[c].blocks_used;
    for (int i = 0; i < 100; i++) p[i] = om_malloc(h, (size_t)i * 5);
    void *big = om_malloc(h, 10000);
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    assert_int_equal(st.large_blocks, 1);
    assert_int_equal(st.large_bytes, 10000);
    assert_int_equal(st.raw_blocks, 101);
    size_t used = 0;
    for (unsigned c = 0; c < OM_NUM_CLASSES; c++) used += st.classes[c].blocks_used;
    assert_int_equal(used, 100 + used0);
    assert_true(st.bytes_in_use >= 10000 + 100 * 16);
    assert_true(st.peak_bytes >= st.bytes_in_use);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    om_heap_print_stats(h, f);
    fclose(f);
    assert_non_null(strstr(buf, "class   size   num pools"));
    assert_non_null(strstr(buf, "fragmentation"));
    assert_int_equal(printed_parts(buf), printed_total(buf)); /* every byte of the arenas */
    assert_int_equal(printed_total(buf), st.os_bytes);
    free(buf);
    for (int i = 0; i < 100; i++) om_free(h, p[i]);
    om_free(h, big);
    om_heap_get_stats(h, &st);
    assert_int_equal(st.bytes_in_use, st0.bytes_in_use);
}

static void test_alloc_random_churn_keeps_invariants(void **state)
{
    om_heap *h = OM_HEAP(state);
    unsigned seed = 12345;
    enum { N = 5000 };
    unsigned char *slot[N] = {0};
    size_t sz[N] = {0};
    for (int step = 0; step < 200000; step++) {
        seed = seed * 1103515245u + 12345u;
        unsigned i = (seed >> 8) % N;
        if (slot[i]) {
            assert_int_equal(slot[i][0], (unsigned char)i);
            if ((seed & 3) == 0) {
                size_t ns = (seed >> 20) % 2600; /* small, medium and large */
                slot[i] = om_realloc(h, slot[i], ns + 1);
                sz[i] = ns + 1;
                slot[i][0] = (unsigned char)i;
            } else {
                om_free(h, slot[i]);
                slot[i] = NULL;
            }
        } else {
            sz[i] = ((seed >> 16) % 8 == 0) ? (seed >> 12) % 3000 + 1 : (seed >> 12) % 64 + 1;
            slot[i] = om_malloc(h, sz[i]);
            slot[i][0] = (unsigned char)i;
        }
        if (step % 50000 == 0) assert_int_equal(om_heap_check(h), 0);
    }
    for (int i = 0; i < N; i++) om_free(h, slot[i]);
}

static void *thread_work(void *arg)
{
    (void)arg;
    om_heap *h = om_heap_new(NULL);
    void *v[1000];
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 1000; i++) {
            v[i] = om_malloc(h, (size_t)(i % 600));
            memset(v[i], i, (size_t)(i % 600));
        }
        for (int i = 0; i < 1000; i++) om_free(h, v[i]);
    }
    intptr_t rc = om_heap_check(h);
    om_heap_destroy(h);
    return (void *)rc;
}

static void test_alloc_many_heaps_in_parallel_threads(void **state)
{
    (void)state;
    pthread_t t[8];
    for (int i = 0; i < 8; i++) assert_int_equal(pthread_create(&t[i], NULL, thread_work, NULL), 0);
    for (int i = 0; i < 8; i++) {
        void *rc;
        pthread_join(t[i], &rc);
        assert_int_equal((intptr_t)rc, 0);
    }
}

static void test_alloc_destroy_releases_everything(void **state)
{
    (void)state;
    om_heap *h = om_heap_new(NULL);
    for (int i = 0; i < 10000; i++) om_malloc(h, (size_t)i % 3000);
    om_heap_destroy(h); /* LeakSanitizer and Valgrind see nothing left */
    om_heap_destroy(NULL);
}

/* 1 when the transparent huge pages of this machine may back any mapping
 * (then residency says nothing about which 4 KiB pages were touched). */
static int thp_always(void)
{
    char buf[128] = {0};
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return strstr(buf, "[always]") != NULL;
}

/* A pool's never-used blocks are carved a page at a time (alloc.h, pool
 * invariant 3): a class with one block keeps one of its pool's four pages
 * resident (it kept four: the whole free list was written at once); every
 * block of the pool is still handed out, in address order, and the pool
 * is full only after the last one. In every class. */
static void test_alloc_pool_pages_touched_as_used(void **state)
{
    (void)state;
    om_heap *h = om_heap_new(NULL);
    assert_non_null(h);
    int check_pages = !thp_always() && !om_child_under_valgrind();
    unsigned skipped = 0;
    char **keep[OM_NUM_CLASSES] = {0};
    size_t nkeep[OM_NUM_CLASSES] = {0};
    void *nexts[OM_NUM_CLASSES] = {0};
    for (unsigned c = 0; c < OM_NUM_CLASSES; c++) {
        size_t bs = c < 32 ? (size_t)(c + 1) * 16 : 512 + (size_t)(c - 31) * 128;
        char *p = om_malloc(h, bs);
        assert_non_null(p);
        om_block_info bi;
        assert_int_equal(om_block_info_get(h, p, &bi), 0);
        char *pool = (char *)bi.pool;
        if (p != pool) { /* the heap holds blocks of this class itself: skip it */
            om_free(h, p);
            skipped++;
            continue;
        }
        unsigned char res[4];
        assert_int_equal(mincore(pool, 16384, res), 0);
        if (check_pages && bs <= 2048)
            for (int k = 1; k < 4; k++) assert_int_equal(res[k] & 1, 0);
        size_t n = 16384 / bs; /* the pool's capacity: RAW pools hold blocks from byte 0 */
        char **v = malloc(n * sizeof *v);
        v[0] = p;
        for (size_t i = 1; i < n; i++) {
            v[i] = om_malloc(h, bs);
            assert_ptr_equal(v[i], p + i * bs); /* in address order, across the pages */
            memset(v[i], 0x3c, bs);
        }
        void *next = om_malloc(h, bs); /* the pool is full: another one */
        assert_true((char *)next < pool || (char *)next >= pool + 16384);
        assert_int_equal(om_heap_check(h), 0);
        keep[c] = v; /* kept live, so the next class gets a fresh pool, not this one */
        nkeep[c] = n;
        nexts[c] = next;
    }
    for (unsigned c = 0; c < OM_NUM_CLASSES; c++) {
        for (size_t i = 0; i < nkeep[c]; i++) om_free(h, keep[c][i]);
        free(keep[c]);
        om_free(h, nexts[c]);
    }
    assert_true(skipped <= 4);
    assert_int_equal(om_heap_check(h), 0);
    om_heap_destroy(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_alloc_size_class_boundaries, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_alloc_free_null_is_noop, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_alloc_free_if_owned_routes, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_alloc_free_if_owned_routes, om_test_setup_debug,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_alloc_calloc_zeroes_and_overflow, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_alloc_realloc_within_and_across, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_alloc_foreign_pointer_left_alone, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_alloc_gib_build_and_free_releases_arenas,
                                        om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_alloc_freed_block_is_reused_next, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_alloc_boundary_loop_does_not_thrash, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_alloc_kept_pools_do_not_pin_arenas, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_alloc_fullest_arena_first, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_alloc_stats_and_print, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_alloc_random_churn_keeps_invariants, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_alloc_random_churn_keeps_invariants,
                                        om_test_setup_debug, om_test_teardown),
        cmocka_unit_test(test_alloc_many_heaps_in_parallel_threads),
        cmocka_unit_test(test_alloc_destroy_releases_everything),
        cmocka_unit_test(test_alloc_pool_pages_touched_as_used),
    };
    return cmocka_run_group_tests_name("alloc", tests, NULL, NULL);
}
