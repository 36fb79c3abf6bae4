/*
 * test_amap_spread.c - the ownership map (src/alloc/amap.c: a byte per
 * 1 MiB, its 4 KiB pages made writable as arenas come, each page covering
 * 4 GiB) with arenas that a seam places far apart: 32 arenas, each in a
 * map page of its own, from 2^45 up. Every block is owned and freed
 * exactly; pointers in the gaps between arenas, at the map's end and past
 * its 48 bits are foreign; after a trim no block is owned any more.
 */
#include <sys/mman.h>

#include "om_test.h"

enum { SPREAD = 32 };             /* arenas placed by the seam */
#define GAP  ((uintptr_t)1 << 36) /* 64 GiB apart: 16 map pages */
#define BASE ((uintptr_t)1 << 45) /* from 32 TiB up (ASan: high memory) */

typedef struct seam {
    om_sys real;
    size_t placed;  /* arenas mapped at a hint */
    int high_tried; /* the seam offered an address past the map */
} seam;
static seam S;

static void *s_map(void *ctx, size_t size, size_t align)
{
    seam *s = ctx;
    if (size == ((size_t)1 << 20) && s->placed < SPREAD) {
        void *want = (void *)(BASE + s->placed * GAP);
        void *p = mmap(want, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (p == want) {
            s->placed++;
            return p;
        }
        if (p != MAP_FAILED) munmap(p, size);
    }
    return s->real.map(NULL, size, align);
}
static void s_unmap(void *ctx, void *p, size_t size)
{
    (void)ctx;
    munmap(p, size);
}
static void *s_malloc(void *ctx, size_t size)
{
    return ((seam *)ctx)->real.malloc(NULL, size);
}
static void *s_realloc(void *ctx, void *p, size_t old, size_t size)
{
    return ((seam *)ctx)->real.realloc(NULL, p, old, size);
}
static void s_free(void *ctx, void *p, size_t size)
{
    ((seam *)ctx)->real.free(NULL, p, size);
}
static void s_purge(void *ctx, void *p, size_t size)
{
    ((seam *)ctx)->real.purge(NULL, p, size);
}

static size_t bad_frees(om_heap *h)
{
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    return st.bad_frees;
}

static void test_amap_spread_arenas_far_apart(void **state)
{
    (void)state;
    memset(&S, 0, sizeof S);
    S.real = om_sys_default();
    om_config cfg;
    om_config_init(&cfg);
    cfg.sys = (om_sys){&S, s_map, s_unmap, s_malloc, s_realloc, s_free, s_purge};
    cfg.report_file = tmpfile();
    om_heap *h = om_heap_new(&cfg);
    assert_non_null(h);
    /* 2 KiB blocks: 8 to a pool, 504 to an arena */
    enum { N = 504 * (SPREAD + 4) };
    void **v = malloc(N * sizeof *v);
    for (size_t i = 0; i < N; i++) assert_non_null(v[i] = om_malloc(h, 2048));
    if (S.placed < SPREAD) skip(); /* the OS would not map at the hints */
    size_t spread = 0;
    for (size_t i = 0; i < N; i++) {
        uintptr_t u = (uintptr_t)v[i];
        spread += u >= BASE && (u - BASE) % GAP < ((uintptr_t)1 << 20);
        assert_true(om_owns(h, v[i]));
    }
    assert_true(spread >= (size_t)SPREAD * 400);
    /* the gaps, the map's last byte and past the map: foreign */
    size_t before = bad_frees(h);
    const uintptr_t foreign[] = {
        BASE + GAP / 2,      BASE + (SPREAD - 1) * GAP + ((uintptr_t)1 << 20),
        BASE + SPREAD * GAP, ((uintptr_t)1 << 48) - 16,
        (uintptr_t)1 << 48,  ~(uintptr_t)15,
    };
    for (size_t i = 0; i < sizeof foreign / sizeof *foreign; i++) {
        assert_false(om_owns(h, (void *)foreign[i]));
        om_free(h, (void *)foreign[i]);
    }
    assert_int_equal(bad_frees(h) - before, sizeof foreign / sizeof *foreign);
    assert_int_equal(om_heap_check(h), 0);
    for (size_t i = 0; i < N; i += 2) om_free(h, v[i]);
    for (size_t i = 0; i < N; i += 2) om_free(h, v[i]); /* freed: refused again */
    assert_int_equal(bad_frees(h) - before, sizeof foreign / sizeof *foreign + (N + 1) / 2);
    for (size_t i = 1; i < N; i += 2) om_free(h, v[i]);
    assert_int_equal(om_heap_check(h), 0);
    om_heap_trim(h); /* arenas unmapped (their bytes cleared) or cached with no pool */
    for (size_t i = 0; i < N; i++) assert_false(om_owns(h, v[i]));
    om_free(h, v[N / 2]);
    assert_int_equal(bad_frees(h) - before, sizeof foreign / sizeof *foreign + (N + 1) / 2 + 1);
    free(v);
    FILE *rep = cfg.report_file;
    om_heap_destroy(h);
    fclose(rep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amap_spread_arenas_far_apart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
