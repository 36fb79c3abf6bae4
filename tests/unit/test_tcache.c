/*
 * test_tcache.c - the raw block cache (src/internal/heap.h, "The raw block
 * cache"): per class, the raw blocks freed last come back first, a full
 * cache sends frees to their pools, and a cached block is a free block to
 * every test and every count (double frees, statistics, leak reports,
 * om_heap_check, tracing, om_heap_trim). Every class is driven past its
 * cache's capacity (a pool's worth of blocks) and past several pools.
 */
#include <stdint.h>
#include <stdlib.h>

#define OM_BUILD_CORE 1 /* the drain test pushes on the delayed list */
#include "../../src/internal/delayed.h"
#include "../../src/internal/heap.h"
#include "om_test.h"

#include "om_valgrind.h"

/* The sanitizers' allocators (the system allocator in this build) must
 * answer impossible sizes with NULL, as glibc's does (sizes_near_the_limits). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

static size_t class_size(unsigned c)
{
    return c < 32 ? (size_t)(c + 1) * 16 : 512 + (size_t)(c - 31) * 128;
}

static om_heap_stats stats_of(om_heap *h)
{
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    return st;
}

/* Every class: three pools' worth and a few more blocks, freed in a
 * scramble (so past the cache's capacity: the rest go to their pools),
 * taken again (all distinct, writable), freed again; the heap checks clean
 * and the class is empty in the statistics. */
static void test_tcache_every_class_past_its_capacity(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_heap_stats before = stats_of(h);
    for (unsigned c = 0; c < OM_NUM_CLASSES; c++) {
        size_t bs = class_size(c), n = 3 * (16384 / bs) + 5;
        char **v = malloc(n * sizeof *v);
        for (size_t i = 0; i < n; i++) {
            v[i] = om_malloc(h, bs);
            assert_non_null(v[i]);
            v[i][0] = (char)i;
            v[i][bs - 1] = (char)i;
        }
        for (size_t k = 0; k < n; k++) om_free(h, v[(k * 7919) % n]); /* n is no multiple of 7919 */
        assert_int_equal(om_heap_check(h), 0);
        for (size_t i = 0; i < n; i++) {
            v[i] = om_malloc(h, bs);
            memset(v[i], 0x5a, bs);
        }
        for (size_t i = 1; i < n; i++) assert_ptr_not_equal(v[i], v[i - 1]);
        assert_int_equal(om_heap_check(h), 0);
        for (size_t i = 0; i < n; i++) om_free(h, v[i]);
        free(v);
        om_heap_stats st = stats_of(h);
        assert_int_equal(st.classes[c].blocks_used, before.classes[c].blocks_used);
    }
    assert_int_equal(om_heap_check(h), 0);
    assert_int_equal(stats_of(h).bad_frees, 0);
}

/* In every class, the block just freed is the next one handed out (from
 * the pools, not the system allocator). */
static void test_tcache_freed_block_is_next_in_every_class(void **state)
{
    om_heap *h = OM_HEAP(state);
    for (unsigned c = 0; c < OM_NUM_CLASSES; c++) {
        size_t bs = class_size(c);
        void *keep = om_malloc(h, bs), *p = om_malloc(h, bs);
        om_block_info bi;
        assert_int_equal(om_block_info_get(h, p, &bi), 0);
        if (bi.large) { /* a debug heap: the prefix and guard make it a large block */
            om_free(h, p);
            om_free(h, keep);
            continue;
        }
        om_free(h, p);
        void *q = om_malloc(h, bs - 1);
        assert_ptr_equal(p, q);
        om_free(h, q);
        om_free(h, keep);
    }
    assert_int_equal(om_heap_check(h), 0);
}

/* A cached block is free: counted so, refused when freed again or
 * resized, and not handed out twice. */
static void test_tcache_cached_block_is_free_everywhere(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_heap_stats before = stats_of(h);
    void *v[100];
    for (int i = 0; i < 100; i++) v[i] = om_malloc(h, 32);
    om_heap_stats mid = stats_of(h);
    assert_int_equal(mid.classes[1].blocks_used, before.classes[1].blocks_used + 100);
    for (int i = 0; i < 50; i++) om_free(h, v[i]);
    om_heap_stats after = stats_of(h);
    assert_int_equal(after.classes[1].blocks_used, before.classes[1].blocks_used + 50);
    assert_int_equal(after.bytes_in_use, mid.bytes_in_use - 50 * 32);
    assert_int_equal(after.raw_blocks, mid.raw_blocks - 50);
    for (int i = 50; i < 60; i++) om_free(h, v[i]); /* cached now, not yet counted */
    om_free(h, v[55]);                              /* freed twice: refused */
    assert_null(om_realloc(h, v[56], 40));          /* a free block: refused */
    assert_int_equal(om_errcode(h), OM_EFOREIGN);
    assert_int_equal(stats_of(h).bad_frees, 1);
    void *a = om_malloc(h, 32), *b = om_malloc(h, 32);
    assert_ptr_not_equal(a, b);
    assert_int_equal(om_heap_check(h), 0);
    om_free(h, a);
    om_free(h, b);
    for (int i = 60; i < 100; i++) om_free(h, v[i]);
    assert_int_equal(stats_of(h).classes[1].blocks_used, before.classes[1].blocks_used);
}

/* Tracing sees every block: the caches are emptied when it starts (a
 * cached block handed out untraced would be a block freed while traced
 * that tracing never saw), and stay empty while it runs. */
static void test_tcache_empty_while_tracing(void **state)
{
    om_heap *h = OM_HEAP(state);
    void *v[300];
    for (int i = 0; i < 300; i++) v[i] = om_malloc(h, (size_t)(16 + (i % 20) * 16));
    for (int i = 0; i < 300; i++) om_free(h, v[i]);
    assert_int_equal(om_trace_start(h, 1), 0);
    assert_int_equal(om_heap_check(h), 0); /* checks: no cached block while a hook is on */
    size_t want = 0, cur, peak;
    for (int i = 0; i < 300; i++) {
        v[i] = om_malloc(h, (size_t)(16 + (i % 20) * 16));
        want += (size_t)(16 + (i % 20) * 16);
    }
    om_trace_get_traced_memory(h, &cur, &peak);
    assert_true(cur >= want); /* every block traced, cached ones included */
    for (int i = 0; i < 300; i++) om_free(h, v[i]);
    om_trace_get_traced_memory(h, &cur, &peak);
    assert_true(cur < want);
    assert_int_equal(om_heap_check(h), 0);
    om_trace_stop(h);
    assert_int_equal(om_heap_check(h), 0);
}

/* Cached blocks are no leaks, and om_heap_trim gives back the pools that
 * only cached blocks kept in use. */
static void test_tcache_no_leak_and_trim_returns_everything(void **state)
{
    (void)state;
    om_config cfg;
    om_config_init(&cfg);
    cfg.report_leaks = 1;
    FILE *out = tmpfile();
    cfg.report_file = out;
    om_heap *h = om_heap_new(&cfg);
    size_t base_pools = stats_of(h).pools_used;
    enum { N = 5000 };
    void **v = malloc(N * sizeof *v);
    for (int i = 0; i < N; i++) v[i] = om_malloc(h, (size_t)(16 + (i % 8) * 16));
    for (int i = 0; i < N; i++) om_free(h, v[i]);
    om_heap_trim(h);
    assert_int_equal(stats_of(h).pools_used, base_pools);
    for (int i = 0; i < N; i++) v[i] = om_malloc(h, 64);
    for (int i = 0; i < N; i++) om_free(h, v[i]);
    free(v);
    om_heap_destroy(h);
    assert_int_equal(ftell(out), 0); /* no leak report */
    fclose(out);
}

/* Random frees and allocations over every class, with the check between
 * rounds: the caches fill, empty and overflow in every order. */
static void test_tcache_random_churn(void **state)
{
    om_heap *h = OM_HEAP(state);
    enum { LIVE = 20000, STEPS = 200000 };
    char **v = calloc(LIVE, sizeof *v);
    uint64_t x = 0x243F6A8885A308D3ull;
    for (int s = 0; s < STEPS; s++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t i = (size_t)(x % LIVE), size = 1 + (size_t)((x >> 20) % 2048);
        if (v[i]) {
            assert_int_equal((unsigned char)v[i][0], (unsigned char)(i & 0xff));
            om_free(h, v[i]);
            v[i] = NULL;
        } else {
            v[i] = om_malloc(h, size);
            v[i][0] = (char)(i & 0xff);
        }
        if (s % 50000 == 0) assert_int_equal(om_heap_check(h), 0);
    }
    for (size_t i = 0; i < LIVE; i++) om_free(h, v[i]);
    free(v);
    assert_int_equal(om_heap_check(h), 0);
    assert_int_equal(stats_of(h).bad_frees, 0);
}

static int by_address(const void *a, const void *b)
{
    void *const *pa = a, *const *pb = b;
    uintptr_t x = (uintptr_t)pa[0], y = (uintptr_t)pb[0];
    return (x > y) - (x < y);
}

/* Cached blocks pin their pools (a cached block counts as used there).
 * 256 pools of 16-byte blocks are freed so that the cache keeps blocks of
 * every pool: the pools hold only cached blocks. Then 128 pools' worth of
 * 32-byte blocks: carving them must first give the cached blocks back,
 * so the emptied pools serve the new class and the heap does not grow
 * (without that, peak_bytes grew by all 128 pools). */
static void test_tcache_never_grows_the_heap(void **state)
{
    om_heap *h = OM_HEAP(state);
    enum { POOLS = 256, PER = 16384 / 16, N = POOLS * PER, N32 = 128 * (16384 / 32) };
    void **v = malloc(N * sizeof *v);
    for (size_t i = 0; i < N; i++) v[i] = om_malloc(h, 16);
    size_t peak_built = stats_of(h).peak_bytes;
    qsort(v, N, sizeof *v, by_address);
    uintptr_t last_pool = 0;
    for (size_t i = 0; i < N; i++) { /* the first block of each pool: cached */
        uintptr_t pool = (uintptr_t)v[i] & ~(uintptr_t)16383;
        if (pool == last_pool) continue;
        last_pool = pool;
        om_free(h, v[i]);
        v[i] = NULL;
    }
    for (size_t i = 0; i < N; i++) om_free(h, v[i]); /* the cache fills, then the pools */
    void **w = malloc(N32 * sizeof *w);
    for (size_t i = 0; i < N32; i++) w[i] = om_malloc(h, 32);
    size_t peak = stats_of(h).peak_bytes;
    assert_true(peak < peak_built + 16 * 16384);
    for (size_t i = 0; i < N32; i++) om_free(h, w[i]);
    assert_int_equal(om_heap_check(h), 0);
    free(w);
    free(v);
}

/* Blocks other threads freed (the delayed list) come back through
 * om_free, into the cache: the allocation that drained them takes one of
 * them, not a block of a freshly carved pool. */
static void test_tcache_drained_blocks_come_first(void **state)
{
    om_heap *h = OM_HEAP(state);
    enum { MAX = 8192 };
    void **v = malloc(MAX * sizeof *v);
    size_t n = 0;
    while (n < MAX && (n < 8 || h->alloc.avail[OM_KIND_RAW][0] || h->alloc.tc.head[1]))
        v[n++] = om_malloc(h, 16); /* until class 16 has no free block anywhere */
    assert_true(n < MAX);
    for (size_t i = 0; i < 8; i++) om__delayed_push(h, v[n - 1 - i]);
    void *p = om_malloc(h, 16);
    int found = 0;
    for (size_t i = 0; i < 8; i++) found |= p == v[n - 1 - i];
    assert_true(found);
    assert_int_equal(om_heap_check(h), 0);
    om_free(h, p);
    for (size_t i = 0; i < n - 8; i++) om_free(h, v[i]);
    for (size_t i = 1; i < 8; i++) om_free(h, om_malloc(h, 16)); /* (drained: already free) */
    assert_int_equal(om_heap_check(h), 0);
    free(v);
}

/* Sizes near the limits, on blocks that went through the cache: a size
 * that cannot be served fails with OM_ENOMEM and loses nothing (the block
 * realloc was asked to grow keeps its bytes and stays live), every size
 * at a class edge is served with at least the bytes asked for. */
static void test_tcache_sizes_near_the_limits(void **state)
{
    om_heap *h = OM_HEAP(state);
    static const size_t huge[] = {
        SIZE_MAX,         SIZE_MAX - 1,        SIZE_MAX - 15,          SIZE_MAX - 4096,
        SIZE_MAX / 2 + 1, (size_t)PTRDIFF_MAX, (size_t)PTRDIFF_MAX + 1};
    static const size_t edge[] = {1,
                                  15,
                                  16,
                                  17,
                                  255,
                                  256,
                                  257,
                                  511,
                                  512,
                                  513,
                                  2047,
                                  2048,
                                  2049,
                                  OM_SMALL_MAX - 1,
                                  OM_SMALL_MAX,
                                  OM_SMALL_MAX + 1,
                                  65536};
    for (size_t i = 0; i < sizeof edge / sizeof *edge; i++) {
        for (int round = 0; round < 2; round++) { /* the second: from the cache */
            unsigned char *p = om_malloc(h, edge[i]);
            assert_non_null(p);
            assert_true(om_usable_size(h, p) >= edge[i]);
            memset(p, 0xa5, edge[i]);
            for (size_t k = 0; k < sizeof huge / sizeof *huge; k++) {
                om_errclear(h);
                assert_null(om_malloc(h, huge[k]));
                assert_int_equal(om_errcode(h), OM_ENOMEM);
                om_errclear(h);
                assert_null(om_realloc(h, p, huge[k]));
                assert_int_equal(om_errcode(h), OM_ENOMEM);
                assert_null(om_calloc(h, huge[k], 16));
                assert_null(om_calloc(h, 16, huge[k]));
            }
            for (size_t b = 0; b < edge[i]; b++) assert_int_equal(p[b], 0xa5);
            assert_int_equal(om_heap_check(h), 0);
            om_free(h, p);
        }
    }
    assert_int_equal(stats_of(h).bad_frees, 0);
    assert_int_equal(om_heap_check(h), 0);
}

/* No handed-out raw block carries key material (the free-list links are
 * xor-ed with the heap's key): over thousands of blocks of every fine and
 * medium class, handed out fresh from carved pages, again after a round
 * trip through the pools' lists (the cache flushed), and from the cache,
 * neither of a block's first two words decodes with the key to an address
 * in the block's pool. */
static void test_tcache_no_key_material_handed_out(void **state)
{
    om_heap *h = OM_HEAP(state);
    enum { N = 6000 };
    static uintptr_t *p[N];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            size_t n = i % 5 == 4 ? 513 + (size_t)(i % 1500) : 16 + (size_t)(i % 32) * 16;
            assert_non_null(p[i] = om_malloc(h, n));
            if (h->hooks & OM_HOOK_DEBUG) continue;            /* debug blocks are patterned */
            VALGRIND_MAKE_MEM_DEFINED(p[i], 2 * sizeof *p[i]); /* read what was handed out */
            for (int w = 0; w < 2; w++) {
                uintptr_t link = p[i][w] ^ h->alloc.key;
                assert_false(((link ^ (uintptr_t)p[i]) >> OM_POOL_SHIFT) == 0);
            }
        }
        for (int i = 0; i < N; i++) {
            p[i][0] = p[i][1] = (uintptr_t)i; /* the program's own data */
            om_free(h, p[i]);
        }
        if (round == 0) om__tc_flush_all(h); /* round 1 pops the pools' lists */
    }
    assert_int_equal(om_heap_check(h), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tcache_every_class_past_its_capacity, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_tcache_freed_block_is_next_in_every_class,
                                        om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_tcache_cached_block_is_free_everywhere, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_tcache_empty_while_tracing, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test(test_tcache_no_leak_and_trim_returns_everything),
        cmocka_unit_test_setup_teardown(test_tcache_random_churn, om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_tcache_never_grows_the_heap, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_tcache_drained_blocks_come_first, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_tcache_sizes_near_the_limits, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_tcache_sizes_near_the_limits, om_test_setup_debug,
                                        om_test_teardown),
        /* a debug heap has no cache (a hook is on): the same behaviour */
        cmocka_unit_test_setup_teardown(test_tcache_every_class_past_its_capacity,
                                        om_test_setup_debug, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_tcache_freed_block_is_next_in_every_class,
                                        om_test_setup_debug, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_tcache_no_key_material_handed_out, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_tcache_random_churn, om_test_setup_debug,
                                        om_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
