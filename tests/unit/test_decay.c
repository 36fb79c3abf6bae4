/*
 * test_decay.c - free memory goes back to the OS after it stayed free for
 * om_config.decay_ms, on a clock the test drives by hand (no timing), and
 * at once on om_heap_trim; a rebuild within the decay period reuses the
 * resident pages (no new arena, no purge). Design note: docs/alloc.md
 * ("Decay").
 */
#include <fcntl.h>
#include <unistd.h>

#include "om_test.h"

typedef struct fake {
    uint64_t now;     /* the clock, in ms */
    size_t purges;    /* purge calls */
    size_t purged;    /* bytes */
    size_t unmapped;  /* bytes */
    void *maps[4096]; /* the arenas mapped now, for resident() */
    om_sys real;
} fake;

static fake F;

static uint64_t fake_clock(void *ctx)
{
    return ((fake *)ctx)->now;
}
static void *f_map(void *ctx, size_t size, size_t align)
{
    void *p = ((fake *)ctx)->real.map(NULL, size, align);
    for (size_t i = 0; p && size == ((size_t)1 << 20) && i < 4096; i++)
        if (!((fake *)ctx)->maps[i]) {
            ((fake *)ctx)->maps[i] = p;
            break;
        }
    return p;
}
static void f_unmap(void *ctx, void *p, size_t size)
{
    for (size_t i = 0; i < 4096; i++)
        if (((fake *)ctx)->maps[i] == p) ((fake *)ctx)->maps[i] = NULL;
    ((fake *)ctx)->unmapped += size;
    ((fake *)ctx)->real.unmap(NULL, p, size);
}
static void *f_malloc(void *ctx, size_t size)
{
    return ((fake *)ctx)->real.malloc(NULL, size);
}
static void *f_realloc(void *ctx, void *p, size_t old, size_t size)
{
    return ((fake *)ctx)->real.realloc(NULL, p, old, size);
}
static void f_free(void *ctx, void *p, size_t size)
{
    ((fake *)ctx)->real.free(NULL, p, size);
}
static void f_purge(void *ctx, void *p, size_t size)
{
    fake *f = ctx;
    f->purges++;
    f->purged += size;
    f->real.purge(NULL, p, size);
}

static om_heap *make_heap_cache(long decay_ms, size_t arena_cache)
{
    memset(&F, 0, sizeof F);
    F.now = 1000;
    F.real = om_sys_default();
    om_config cfg;
    om_config_init(&cfg);
    cfg.sys = (om_sys){&F, f_map, f_unmap, f_malloc, f_realloc, f_free, f_purge};
    cfg.decay_ms = decay_ms;
    cfg.clock_ms = fake_clock;
    cfg.clock_ctx = &F;
    cfg.arena_cache = arena_cache;
    return om_heap_new(&cfg);
}

static om_heap *make_heap(long decay_ms)
{
    return make_heap_cache(decay_ms, 2);
}

static int setup_decay(void **state)
{
    return (*state = make_heap(100)) ? 0 : -1;
}
static int setup_decay_nocache(void **state)
{
    return (*state = make_heap_cache(100, 0)) ? 0 : -1;
}
static int setup_decay_bigcache(void **state)
{
    return (*state = make_heap_cache(100, 64)) ? 0 : -1;
}
static int setup_now(void **state)
{
    return (*state = make_heap(0)) ? 0 : -1;
}
static int setup_never(void **state)
{
    return (*state = make_heap(-1)) ? 0 : -1;
}

enum { N = 60000 }; /* about 12 arenas of mixed classes */

static void **build(om_heap *h)
{
    void **v = malloc(N * sizeof *v);
    for (size_t i = 0; i < N; i++) {
        v[i] = om_malloc(h, 16 + (i % 24) * 16);
        assert_non_null(v[i]);
    }
    return v;
}

static void drop(om_heap *h, void **v)
{
    for (size_t i = 0; i < N; i++) om_free(h, v[i]);
    free(v);
}

static size_t arenas(om_heap *h)
{
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    return st.arenas;
}

/* Slow paths that read the clock: 100 blocks of 512 bytes take pools. */
static void poke(om_heap *h)
{
    void *p[100];
    for (int i = 0; i < 100; i++) p[i] = om_malloc(h, 512);
    for (int i = 0; i < 100; i++) om_free(h, p[i]);
}

static void test_decay_free_memory_waits_for_the_period(void **state)
{
    om_heap *h = OM_HEAP(state);
    size_t base = arenas(h);
    drop(h, build(h));
    size_t after = arenas(h);
    assert_true(after >= base + 8); /* kept, resident: nothing decayed yet */
    assert_int_equal(F.purges, 0);
    F.now += 99;
    poke(h);
    assert_int_equal(arenas(h), after);
    assert_int_equal(F.purges, 0);
    F.now += 26; /* sweeps are a quarter period apart: at most 125 ms */
    poke(h);
    assert_true(arenas(h) <= base + 2); /* unmapped; arena_cache kept, purged */
    assert_true(F.purges > 0);
    assert_int_equal(om_heap_check(h), 0);
}

/* Build, drop and build again within the decay period: the second build
 * maps no arena and purges nothing (the tuple workload's rounds). */
static void test_decay_rebuild_reuses_resident_memory(void **state)
{
    om_heap *h = OM_HEAP(state);
    for (int round = 0; round < 5; round++) {
        om_heap_stats st0, st1;
        om_heap_get_stats(h, &st0);
        void **v = build(h);
        om_heap_get_stats(h, &st1);
        if (round > 0) assert_int_equal(st1.arenas_mapped_total, st0.arenas_mapped_total);
        drop(h, v);
        F.now += 30;
    }
    assert_int_equal(F.purges, 0);
    assert_int_equal(om_heap_check(h), 0);
}

static void test_decay_trim_returns_everything_now(void **state)
{
    om_heap *h = OM_HEAP(state);
    size_t base = arenas(h);
    drop(h, build(h));
    assert_true(arenas(h) >= base + 8);
    size_t bytes = om_heap_trim(h);
    assert_true(bytes >= 8 * ((size_t)1 << 20));
    assert_true(arenas(h) <= base + 2);
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    for (unsigned c = 0; c < OM_NUM_CLASSES; c++) /* kept empty pools went back too */
        assert_true(st.classes[c].blocks_used > 0 || st.classes[c].pools == 0);
    assert_int_equal(om_heap_trim(NULL), 0);
    assert_int_equal(om_heap_check(h), 0);
    drop(h, build(h)); /* and the heap works on */
}

static void test_decay_zero_returns_at_once(void **state)
{
    om_heap *h = OM_HEAP(state);
    size_t base = arenas(h);
    drop(h, build(h));
    assert_true(arenas(h) <= base + 2);
    assert_true(F.purges > 0);
    assert_int_equal(om_heap_check(h), 0);
}

static void test_decay_negative_waits_for_trim(void **state)
{
    om_heap *h = OM_HEAP(state);
    size_t base = arenas(h);
    drop(h, build(h));
    F.now += 1000000;
    poke(h);
    assert_true(arenas(h) >= base + 8);
    assert_int_equal(F.purges, 0);
    om_heap_trim(h);
    assert_true(arenas(h) <= base + 2);
    assert_int_equal(om_heap_check(h), 0);
}

/* Free pools of arenas still in use decay too: half of every arena's
 * blocks freed (whole pools), the clock advanced, their pages purged. */
static void test_decay_free_pools_of_used_arenas_are_purged(void **state)
{
    om_heap *h = OM_HEAP(state);
    void **v = malloc(N * sizeof *v);
    for (size_t i = 0; i < N; i++) v[i] = om_malloc(h, i < N / 2 ? 64 : 256);
    for (size_t i = N / 2; i < N; i++) om_free(h, v[i]); /* the 256-byte pools empty */
    size_t before = F.purged;
    F.now += 125;
    poke(h);
    assert_true(F.purged - before >= (size_t)100 * 16384);
    assert_int_equal(om_heap_check(h), 0);
    for (size_t i = 0; i < N / 2; i++) om_free(h, v[i]);
    free(v);
}

/* The last free of an arena whose only other pool is a kept empty one that
 * has been idle for the decay period: the retire's decay sweep releases
 * the kept pool too, the arena is wholly free and, with no arena cache,
 * unmapped inside the free. Nothing may read the arena after that (it did:
 * src/alloc/pool.c om__pool_free_slow read ar->nempty after retire). */
static void test_decay_last_free_next_to_an_idle_kept_pool(void **state)
{
    om_heap *h = OM_HEAP(state);
    enum { NF = 5000 };
    void **filler = malloc(NF * sizeof *filler);
    for (size_t i = 0; i < NF; i++) assert_non_null(filler[i] = om_malloc(h, 512));
    void *k = om_malloc(h, 208); /* two pools of one fresh arena */
    void *p = om_malloc(h, 336);
    assert_non_null(k);
    assert_non_null(p);
    for (size_t i = 0; i < NF; i++) om_free(h, filler[i]);
    free(filler);
    size_t before = arenas(h);
    om_free(h, k); /* its pool is kept: the sole one of its class */
    F.now += 300;  /* past the period: the kept pool is idle */
    om_free(h, p); /* the last block of the arena */
    assert_true(arenas(h) < before);
    assert_int_equal(om_heap_check(h), 0);
    poke(h);
    assert_int_equal(om_heap_check(h), 0);
}

/* Cached blocks age like free pools. The program drops everything, last
 * block first (the caches keep up to a pool's worth of each class, in the
 * last arenas, pinning their pools); past the period, an allocation of a
 * class with no pool flushes the caches before it carves (heap.h, cache
 * invariant 4), and the sweep that flush starts runs inside it. The pools
 * the flush empties were free since before that allocation, so they go
 * with that sweep: a trim finds only the poke's own pools left. It found
 * 2.1 MB when the flush dated them now (bench_alloc's RSS check: 134 % of
 * before after the decay period). Arenas stay cached so they stay counted. */
static void test_decay_cached_blocks_age_with_the_rest(void **state)
{
    om_heap *h = OM_HEAP(state);
    void **v = build(h);
    for (size_t i = N; i-- > 0;) om_free(h, v[i]); /* the caches: blocks of the last arenas */
    free(v); /* (no statistics here: they would flush the caches) */
    F.now += 125;
    poke(h);
    size_t before = F.purged;
    om_heap_trim(h);
    assert_true(F.purged - before <= (size_t)8 * 16384);
    assert_int_equal(om_heap_check(h), 0);
}

/* Pools that the sweep's own flush of the caches empties, and keeps (the
 * sole pool of their class, in an arena with a pool in use), are idle since
 * before the sweep as their blocks are: they go back in that sweep. They
 * were dated the sweep's own time and stayed a whole period more: after a
 * drop of blocks of 40 classes (bench_alloc's RSS check), 13 kept pools,
 * 184 KiB, were resident after the decay period (117 % of before). */
/* Pages of the mapped arenas resident now (/proc/self/pagemap's present
 * bit: no privilege needed), or -1 without it. */
static long resident_arena_pages(void)
{
    int pm = open("/proc/self/pagemap", O_RDONLY);
    if (pm < 0) return -1;
    long n = 0;
    for (size_t i = 0; i < 4096; i++)
        for (size_t off = 0; F.maps[i] && off < ((size_t)1 << 20); off += 4096) {
            uint64_t e = 0;
            uintptr_t a = (uintptr_t)F.maps[i] + off;
            if (pread(pm, &e, sizeof e, (off_t)(a / 4096 * 8)) != (ssize_t)sizeof e) n = -1;
            if (n >= 0) n += (long)(e >> 63);
        }
    close(pm);
    return n;
}

static void test_decay_pools_kept_by_the_sweeps_flush_go_too(void **state)
{
    om_heap *h = OM_HEAP(state);
    enum { M = 200000 };
    void **v = malloc(M * sizeof *v);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < M; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t n = i % 8 == 7 ? 65 + x % 448 : 16 + x % 49; /* 36 classes */
        assert_non_null(v[i] = om_malloc(h, n));
    }
    for (size_t i = M; i-- > 0;) om_free(h, v[i]); /* the caches: the last pools' blocks */
    free(v);
    F.now += 125;
    poke(h);
    long pages = resident_arena_pages();      /* no statistics before: they flush the caches */
    if (pages >= 0) assert_true(pages <= 48); /* the types' objects, the poke: 29; were 96 */
    assert_int_equal(om_heap_check(h), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_decay_free_memory_waits_for_the_period, setup_decay,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_decay_rebuild_reuses_resident_memory, setup_decay,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_decay_trim_returns_everything_now, setup_decay,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_decay_zero_returns_at_once, setup_now,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_decay_negative_waits_for_trim, setup_never,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_decay_free_pools_of_used_arenas_are_purged,
                                        setup_decay, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_decay_cached_blocks_age_with_the_rest,
                                        setup_decay_bigcache, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_decay_pools_kept_by_the_sweeps_flush_go_too,
                                        setup_decay, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_decay_last_free_next_to_an_idle_kept_pool,
                                        setup_decay_nocache, om_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
