/*
 * test_snapshot.c - snapshots: statistics by file, line and traceback
 * (cumulative or not) with exact sizes, counts and Python's order;
 * comparison; filters; dump/load round trip; and loading of truncated,
 * corrupted and hostile files (every truncation, every byte flipped, and
 * seeded random mutations with a repaired checksum).
 */
#include <unistd.h>

#include "om_test.h"
#include "toy_frames.h"

/* The scene: 3 x 100 at a.py:1 and 1 x 50 at a.py:2 (called from
 * main.py:10), 2 x 64 at b.py:7 (called from main.py:20). */
typedef struct scene {
    fake_stack fs;
    void *a1[3], *a2, *b7[2];
} scene;

static void at(scene *sc, const char *file, unsigned line, const char *caller, unsigned cline)
{
    fake_set(&sc->fs, file, line);
    fake_push_caller(&sc->fs, caller, cline);
}

static void scene_make(om_heap *h, scene *sc)
{
    memset(sc, 0, sizeof *sc);
    assert_int_equal(om_trace_start(h, 5), 0);
    om_trace_set_frame_provider(h, fake_provider, &sc->fs);
    at(sc, "a.py", 1, "main.py", 10);
    for (int i = 0; i < 3; i++) sc->a1[i] = om_malloc(h, 100);
    at(sc, "a.py", 2, "main.py", 10);
    sc->a2 = om_malloc(h, 50);
    at(sc, "b.py", 7, "main.py", 20);
    for (int i = 0; i < 2; i++) sc->b7[i] = om_malloc(h, 64);
}

static void scene_free(om_heap *h, scene *sc)
{
    for (int i = 0; i < 3; i++) om_free(h, sc->a1[i]);
    om_free(h, sc->a2);
    for (int i = 0; i < 2; i++) om_free(h, sc->b7[i]);
    assert_int_equal(om_heap_check(h), 0); /* the tracer's invariants too */
    om_trace_stop(h);
}

static void check_stat(const om_stat *s, const char *file, unsigned line, size_t size, size_t count)
{
    assert_string_equal(s->traceback.frames[0].filename, file);
    assert_int_equal(s->traceback.frames[0].lineno, line);
    assert_int_equal(s->size, size);
    assert_int_equal(s->count, count);
}

static void test_snapshot_statistics_by_lineno_filename_traceback(void **state)
{
    om_heap *h = OM_HEAP(state);
    scene sc;
    scene_make(h, &sc);
    om_snapshot *s = om_trace_take_snapshot(h);
    assert_non_null(s);
    assert_int_equal(om_snapshot_traceback_limit(s), 5);
    om_stats *st = om_snapshot_statistics(s, OM_STAT_LINENO, 0);
    assert_int_equal(st->n, 3);
    check_stat(&st->items[0], "a.py", 1, 300, 3);
    check_stat(&st->items[1], "b.py", 7, 128, 2);
    check_stat(&st->items[2], "a.py", 2, 50, 1);
    assert_int_equal(st->items[0].traceback.nframe, 1);
    om_stats_free(st);
    st = om_snapshot_statistics(s, OM_STAT_FILENAME, 0);
    assert_int_equal(st->n, 2);
    check_stat(&st->items[0], "a.py", 0, 350, 4);
    check_stat(&st->items[1], "b.py", 0, 128, 2);
    om_stats_free(st);
    st = om_snapshot_statistics(s, OM_STAT_TRACEBACK, 0);
    assert_int_equal(st->n, 3);
    check_stat(&st->items[0], "a.py", 1, 300, 3);
    assert_int_equal(st->items[0].traceback.nframe, 2);
    assert_string_equal(st->items[0].traceback.frames[1].filename, "main.py");
    assert_int_equal(st->items[0].traceback.frames[1].lineno, 10);
    check_stat(&st->items[1], "b.py", 7, 128, 2);
    assert_int_equal(st->items[1].traceback.frames[1].lineno, 20);
    check_stat(&st->items[2], "a.py", 2, 50, 1);
    om_stats_free(st);
    assert_null(om_snapshot_statistics(s, OM_STAT_TRACEBACK, 1));
    assert_int_equal(om_errcode(h), OM_EINVAL);
    om_snapshot_free(s);
    scene_free(h, &sc);
}

static void test_snapshot_statistics_cumulative(void **state)
{
    om_heap *h = OM_HEAP(state);
    scene sc;
    scene_make(h, &sc);
    om_snapshot *s = om_trace_take_snapshot(h);
    om_stats *st = om_snapshot_statistics(s, OM_STAT_LINENO, 1);
    assert_int_equal(st->n, 5);
    check_stat(&st->items[0], "main.py", 10, 350, 4);
    check_stat(&st->items[1], "a.py", 1, 300, 3);
    /* (128, 2) twice: ("main.py", 20) > ("b.py", 7), so main.py first */
    check_stat(&st->items[2], "main.py", 20, 128, 2);
    check_stat(&st->items[3], "b.py", 7, 128, 2);
    check_stat(&st->items[4], "a.py", 2, 50, 1);
    om_stats_free(st);
    st = om_snapshot_statistics(s, OM_STAT_FILENAME, 1);
    assert_int_equal(st->n, 3);
    check_stat(&st->items[0], "main.py", 0, 478, 6);
    check_stat(&st->items[1], "a.py", 0, 350, 4);
    check_stat(&st->items[2], "b.py", 0, 128, 2);
    om_stats_free(st);
    om_snapshot_free(s);
    scene_free(h, &sc);
}

static void check_diff(const om_stat *s, const char *file, unsigned line, size_t size, ptrdiff_t sd,
                       size_t count, ptrdiff_t cd)
{
    check_stat(s, file, line, size, count);
    assert_int_equal(s->size_diff, sd);
    assert_int_equal(s->count_diff, cd);
}

static void test_snapshot_compare_and_order(void **state)
{
    om_heap *h = OM_HEAP(state);
    scene sc;
    scene_make(h, &sc);
    om_snapshot *old = om_trace_take_snapshot(h);
    om_free(h, sc.a1[2]);
    sc.a1[2] = NULL;
    om_free(h, sc.a2);
    sc.a2 = NULL;
    at(&sc, "c.py", 5, "main.py", 10);
    void *c1 = om_malloc(h, 500), *c2 = om_malloc(h, 500);
    at(&sc, "b.py", 7, "main.py", 20);
    void *b3 = om_malloc(h, 64);
    om_snapshot *new_s = om_trace_take_snapshot(h);
    om_stats *st = om_snapshot_compare(new_s, old, OM_STAT_LINENO, 0);
    assert_int_equal(st->n, 4);
    check_diff(&st->items[0], "c.py", 5, 1000, 1000, 2, 2);
    check_diff(&st->items[1], "a.py", 1, 200, -100, 2, -1);
    check_diff(&st->items[2], "b.py", 7, 192, 64, 3, 1);
    check_diff(&st->items[3], "a.py", 2, 0, -50, 0, -1); /* only in old */
    om_stats_free(st);
    st = om_snapshot_compare(new_s, old, OM_STAT_FILENAME, 0);
    assert_int_equal(st->n, 3);
    check_diff(&st->items[0], "c.py", 0, 1000, 1000, 2, 2);
    check_diff(&st->items[1], "a.py", 0, 200, -150, 2, -2);
    check_diff(&st->items[2], "b.py", 0, 192, 64, 3, 1);
    om_stats_free(st);
    st = om_snapshot_compare(new_s, old, OM_STAT_FILENAME, 1);
    assert_int_equal(st->n, 4);
    check_diff(&st->items[0], "c.py", 0, 1000, 1000, 2, 2);
    check_diff(&st->items[1], "main.py", 0, 1392, 914, 7, 1);
    check_diff(&st->items[2], "a.py", 0, 200, -150, 2, -2);
    check_diff(&st->items[3], "b.py", 0, 192, 64, 3, 1);
    om_stats_free(st);
    om_snapshot_free(new_s);
    om_snapshot_free(old);
    om_free(h, c1);
    om_free(h, c2);
    om_free(h, b3);
    scene_free(h, &sc);
}

static size_t filtered(const om_snapshot *s, const om_filter *f, size_t n)
{
    om_snapshot *r = om_snapshot_filter(s, f, n);
    assert_non_null(r);
    size_t count = om_snapshot_traces(r, NULL);
    om_snapshot_free(r);
    return count;
}

static void test_snapshot_filters(void **state)
{
    om_heap *h = OM_HEAP(state);
    scene sc;
    scene_make(h, &sc);
    at(&sc, "gpu.py", 3, "main.py", 30);
    assert_int_equal(om_trace_track(h, 3, 0x5000, 1000), 0);
    assert_int_equal(om_heap_check(h), 0);
    om_snapshot *s = om_trace_take_snapshot(h);
    assert_int_equal(filtered(s, NULL, 0), 7);
    om_filter inc_a = {1, "a.py", -1, 0, -1};
    assert_int_equal(filtered(s, &inc_a, 1), 4);
    om_filter exc_a1 = {0, "a.py", 1, 0, -1};
    assert_int_equal(filtered(s, &exc_a1, 1), 4);
    om_filter inc_main = {1, "main.py", -1, 0, -1};
    assert_int_equal(filtered(s, &inc_main, 1), 0);
    inc_main.all_frames = 1;
    assert_int_equal(filtered(s, &inc_main, 1), 7);
    om_filter inc_20 = {1, "*.py", 20, 1, -1};
    assert_int_equal(filtered(s, &inc_20, 1), 2);
    om_filter set[2] = {{1, "[ab].py", -1, 0, -1}, {0, "*", 7, 0, -1}};
    assert_int_equal(filtered(s, set, 2), 4); /* a.py, but not line 7 of b.py */
    om_filter two_incl[2] = {{1, "b.py", -1, 0, -1}, {1, "gpu.py", -1, 0, -1}};
    assert_int_equal(filtered(s, two_incl, 2), 3);
    om_filter dom3 = {1, NULL, -1, 0, 3};
    assert_int_equal(filtered(s, &dom3, 1), 1);
    dom3.inclusive = 0;
    assert_int_equal(filtered(s, &dom3, 1), 6);
    om_filter a_dom0 = {1, "*", -1, 0, 0};
    assert_int_equal(filtered(s, &a_dom0, 1), 6);
    om_filter not_gpu_dom3 = {0, "gpu.py", -1, 0, 3};
    assert_int_equal(filtered(s, &not_gpu_dom3, 1), 6);
    om_filter backslash = {1, "a\\.py", -1, 0, -1}; /* Python: '\' is literal */
    assert_int_equal(filtered(s, &backslash, 1), 0);
    /* filtered statistics keep exact numbers */
    om_snapshot *r = om_snapshot_filter(s, &inc_a, 1);
    om_stats *st = om_snapshot_statistics(r, OM_STAT_FILENAME, 0);
    assert_int_equal(st->n, 1);
    check_stat(&st->items[0], "a.py", 0, 350, 4);
    om_stats_free(st);
    om_snapshot_free(r);
    om_snapshot_free(s);
    assert_int_equal(om_trace_untrack(h, 3, 0x5000), 0);
    scene_free(h, &sc);
}

/* ---------------------------------------------------------------- dumps */

static char *tmp_path(char *buf, size_t n)
{
    snprintf(buf, n, "/tmp/om_snapXXXXXX");
    int fd = mkstemp(buf);
    assert_true(fd >= 0);
    close(fd);
    return buf;
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*len);
    assert_int_equal(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

static uint32_t fnv1a(const unsigned char *p, size_t n)
{
    uint32_t x = 2166136261u;
    for (size_t i = 0; i < n; i++) x = (x ^ p[i]) * 16777619u;
    return x;
}

static void fix_checksum(unsigned char *b, size_t n)
{
    uint32_t c = fnv1a(b, n - 4);
    for (int i = 0; i < 4; i++) b[n - 4 + i] = (unsigned char)(c >> (8 * i));
}

/* A dump of the scene (with a native-free, two-frame traceback and a
 * tracked domain) in *len bytes; caller frees. */
static unsigned char *scene_dump(om_heap *h, scene *sc, size_t *len, om_snapshot **snap)
{
    scene_make(h, sc);
    char path[64];
    tmp_path(path, sizeof path);
    om_snapshot *s = om_trace_take_snapshot(h);
    assert_int_equal(om_snapshot_dump(s, path), 0);
    unsigned char *b = read_all(path, len);
    unlink(path);
    *snap = s;
    return b;
}

static void test_snapshot_dump_load_round_trip(void **state)
{
    om_heap *h = OM_HEAP(state);
    scene sc;
    size_t len;
    om_snapshot *s;
    unsigned char *b = scene_dump(h, &sc, &len, &s);
    free(b);
    char path[64];
    tmp_path(path, sizeof path);
    assert_int_equal(om_snapshot_dump(s, path), 0);
    om_snapshot *l = om_snapshot_load(h, path);
    unlink(path);
    assert_non_null(l);
    assert_int_equal(om_snapshot_traceback_limit(l), 5);
    assert_int_equal(om_snapshot_traces(l, NULL), om_snapshot_traces(s, NULL));
    om_stats *a = om_snapshot_statistics(s, OM_STAT_TRACEBACK, 0);
    om_stats *c = om_snapshot_statistics(l, OM_STAT_TRACEBACK, 0);
    assert_int_equal(a->n, c->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_int_equal(a->items[i].size, c->items[i].size);
        assert_int_equal(a->items[i].count, c->items[i].count);
        assert_int_equal(a->items[i].traceback.nframe, c->items[i].traceback.nframe);
        assert_int_equal(a->items[i].traceback.total_nframe, c->items[i].traceback.total_nframe);
        for (uint32_t j = 0; j < a->items[i].traceback.nframe; j++) {
            assert_string_equal(a->items[i].traceback.frames[j].filename,
                                c->items[i].traceback.frames[j].filename);
            assert_int_equal(a->items[i].traceback.frames[j].lineno,
                             c->items[i].traceback.frames[j].lineno);
        }
    }
    om_stats_free(a);
    om_stats_free(c);
    /* a loaded snapshot compares with a live one: no differences */
    om_stats *d = om_snapshot_compare(s, l, OM_STAT_LINENO, 0);
    for (size_t i = 0; i < d->n; i++) assert_int_equal(d->items[i].size_diff, 0);
    om_stats_free(d);
    om_snapshot_free(l);
    om_snapshot_free(s);
    assert_null(om_snapshot_load(h, "/nonexistent/dir/snap.omt"));
    assert_int_equal(om_errcode(h), OM_EIO);
    scene_free(h, &sc);
}

static void expect_format_error(om_heap *h, const unsigned char *b, size_t n)
{
    om_errclear(h);
    om_snapshot *l = om_snapshot_load_buffer(h, b, n);
    if (l) fprintf(stderr, "accepted a bad dump of %zu bytes\n", n);
    assert_null(l);
    assert_int_equal(om_errcode(h), OM_EFORMAT);
}

static void test_snapshot_load_rejects_truncated_and_flipped(void **state)
{
    om_heap *h = OM_HEAP(state);
    scene sc;
    size_t len;
    om_snapshot *s;
    unsigned char *b = scene_dump(h, &sc, &len, &s);
    om_snapshot_free(s);
    om_snapshot *ok = om_snapshot_load_buffer(h, b, len);
    assert_non_null(ok);
    om_snapshot_free(ok);
    for (size_t n = 0; n < len; n++) expect_format_error(h, b, n);
    for (size_t i = 0; i < len; i++) {
        static const unsigned char masks[] = {0x01, 0x80, 0xFF};
        for (int m = 0; m < 3; m++) {
            b[i] ^= masks[m];
            expect_format_error(h, b, len);
            b[i] ^= masks[m];
        }
    }
    free(b);
    scene_free(h, &sc);
}

static void test_snapshot_load_rejects_hostile(void **state)
{
    om_heap *h = OM_HEAP(state);
    scene sc;
    size_t len;
    om_snapshot *s;
    unsigned char *b = scene_dump(h, &sc, &len, &s);
    /* version 2: the traces (24 bytes each), then the chunks: a count, the
     * info chunk (12 + 32 bytes), the time series (12 + 8 + 40 per sample) */
    size_t chunks = 4 + 44 + 20 + 40 * om_snapshot_samples(s, NULL);
    size_t last_tb = len - 4 - chunks - 24 + 4;
    om_snapshot_free(s);
    unsigned char *m = malloc(len);
    /* huge counts with a valid checksum */
    for (int field = 0; field < 4; field++) {
        memcpy(m, b, len);
        size_t off = 16 + 4 * (size_t)field; /* nstrings, ntbs, ntraces (low, high) */
        memset(m + off, 0xFF, 4);
        fix_checksum(m, len);
        expect_format_error(h, m, len);
    }
    /* the last trace names traceback 0xFFFF */
    memcpy(m, b, len);
    m[last_tb] = 0xFF;
    m[last_tb + 1] = 0xFF;
    fix_checksum(m, len);
    expect_format_error(h, m, len);
    /* a bad version */
    memcpy(m, b, len);
    m[8] = 3;
    fix_checksum(m, len);
    expect_format_error(h, m, len);
    /* seeded random mutations with the checksum repaired: never a crash */
    unsigned seed = 12345;
    size_t accepted = 0;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(m, b, len);
        int k = 1 + iter % 4;
        for (int j = 0; j < k; j++) {
            seed = seed * 1103515245u + 12345u;
            size_t at_ = (seed >> 8) % (len - 4);
            seed = seed * 1103515245u + 12345u;
            m[at_] = (unsigned char)(seed >> 16);
        }
        fix_checksum(m, len);
        om_snapshot *l = om_snapshot_load_buffer(h, m, len);
        if (l) {
            accepted++; /* e.g. a changed size or line: still a valid file */
            om_stats *st = om_snapshot_statistics(l, OM_STAT_TRACEBACK, 0);
            om_stats_free(st);
            om_snapshot_free(l);
        } else if (om_errcode(h) != OM_EFORMAT) {
            fprintf(stderr, "seed %u iteration %d: error %d\n", seed, iter, om_errcode(h));
            fail();
        }
    }
    assert_true(accepted < 3000);
    free(m);
    free(b);
    scene_free(h, &sc);
}

static void test_snapshot_requires_tracing(void **state)
{
    om_heap *h = OM_HEAP(state);
    assert_null(om_trace_take_snapshot(h));
    assert_int_equal(om_errcode(h), OM_ESTATE);
    assert_int_equal(om_trace_start(h, 1), 0);
    om_snapshot *s = om_trace_take_snapshot(h); /* empty */
    assert_int_equal(om_snapshot_traces(s, NULL), 0);
    om_stats *st = om_snapshot_statistics(s, OM_STAT_LINENO, 0);
    assert_int_equal(st->n, 0);
    om_stats_free(st);
    char path[64];
    tmp_path(path, sizeof path);
    assert_int_equal(om_snapshot_dump(s, path), 0);
    om_snapshot *l = om_snapshot_load(h, path);
    unlink(path);
    assert_non_null(l);
    assert_int_equal(om_snapshot_traces(l, NULL), 0);
    om_snapshot_free(l);
    om_snapshot_free(s);
    assert_int_equal(om_heap_check(h), 0); /* the tracer's invariants too */
    om_trace_stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_snapshot_statistics_by_lineno_filename_traceback,
                                        om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_statistics_cumulative, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_compare_and_order, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_filters, om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_dump_load_round_trip, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_load_rejects_truncated_and_flipped,
                                        om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_load_rejects_hostile, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_requires_tracing, om_test_setup,
                                        om_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
