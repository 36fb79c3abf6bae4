/*
 * test_trace_peak.c - the peak's composition (om_trace_take_peak_snapshot,
 * om_trace_set_peak_fraction), the time series (om_trace_set_sampling),
 * om_trace_clear_traces, the leak report at om_heap_destroy (report_leaks,
 * leaks_file), version 2 dumps carrying all of it, and om_stat_format.
 */
#include <unistd.h>

#include "om_test.h"

static __attribute__((noinline)) void *site_a(om_heap *h, size_t n)
{
    void *p = om_malloc(h, n);
    __asm__ volatile("" ::: "memory");
    return p;
}

static __attribute__((noinline)) void *site_b(om_heap *h, size_t n)
{
    void *p = om_malloc(h, n);
    if (p) memset(p, 0xB, n); /* not folded into site_a */
    __asm__ volatile("" ::: "memory");
    return p;
}

static size_t total_of(const om_snapshot *s, size_t *blocks)
{
    const om_trace_entry *e;
    size_t n = om_snapshot_traces(s, &e), bytes = 0;
    *blocks = 0;
    for (size_t i = 0; i < n; i++) bytes += e[i].size, *blocks += e[i].count;
    return bytes;
}

static void test_trace_peak_snapshot_holds_the_peak(void **state)
{
    om_heap *h = OM_HEAP(state);
    assert_null(om_trace_take_peak_snapshot(h));
    assert_int_equal(om_errcode(h), OM_ESTATE);
    assert_int_equal(om_trace_set_peak_fraction(h, 0.1), OM_ESTATE);
    assert_int_equal(om_trace_start(h, 4), 0);
    assert_int_equal(om_trace_set_peak_fraction(h, -1), OM_EINVAL);
    assert_int_equal(om_trace_set_peak_fraction(h, 2), OM_EINVAL);
    assert_int_equal(om_trace_set_peak_fraction(h, 0), 0); /* exact */
    enum { N = 5000 };
    void **a = calloc(N, sizeof *a), **b = calloc(N, sizeof *b);
    for (int i = 0; i < N; i++) a[i] = site_a(h, 64); /* the peak: 5000 x 64 */
    for (int i = 0; i < N; i++) om_free(h, a[i]);
    for (int i = 0; i < N / 2; i++) b[i] = site_b(h, 32); /* lower */
    size_t cur, peak;
    om_trace_get_traced_memory(h, &cur, &peak);
    assert_int_equal(peak, (size_t)N * 64);
    om_snapshot *s = om_trace_take_peak_snapshot(h);
    assert_non_null(s);
    size_t blocks, bytes = total_of(s, &blocks);
    assert_int_equal(bytes, (size_t)N * 64);
    assert_int_equal(blocks, N);
    om_stats *st = om_snapshot_statistics(s, OM_STAT_TRACEBACK, 0);
    assert_int_equal(st->n, 1);
    assert_int_equal(st->items[0].count, N);
    assert_string_equal(st->items[0].traceback.frames[0].name, "site_a");
    om_stats_free(st);
    size_t speak;
    om_snapshot_peak(s, &speak, NULL);
    assert_int_equal(speak, (size_t)N * 64);
    om_snapshot_free(s);
    /* with the default fraction the record is within 1/16 of the peak */
    assert_int_equal(om_trace_set_peak_fraction(h, 1.0 / 16), 0);
    for (int i = 0; i < N; i++) a[i] = site_a(h, 64 + (size_t)(i % 5) * 16);
    om_trace_get_traced_memory(h, &cur, &peak);
    for (int i = 0; i < N; i++) om_free(h, a[i]);
    s = om_trace_take_peak_snapshot(h);
    bytes = total_of(s, &blocks);
    assert_true(bytes <= peak);
    assert_true((double)bytes * (1 + 1.0 / 16) >= (double)peak);
    om_snapshot_free(s);
    for (int i = 0; i < N / 2; i++) om_free(h, b[i]);
    free(a);
    free(b);
    assert_int_equal(om_heap_check(h), 0);
    om_trace_stop(h);
}

static void test_trace_time_series_bounded(void **state)
{
    om_heap *h = OM_HEAP(state);
    assert_int_equal(om_trace_set_sampling(h, 10, 0), OM_ESTATE);
    assert_int_equal(om_trace_start(h, 1), 0);
    assert_int_equal(om_trace_set_sampling(h, 10, 0), 0);
    enum { N = 100000 }; /* 10000 samples asked: decimated to <= 4096 */
    void **v = calloc(N, sizeof *v);
    for (int i = 0; i < N; i++) v[i] = site_a(h, 16);
    om_snapshot *s = om_trace_take_snapshot(h);
    const om_trace_sample *x;
    size_t n = om_snapshot_samples(s, &x);
    assert_true(n >= 2048 && n <= 4096);
    for (size_t i = 1; i < n; i++) {
        assert_true(x[i].t_ns >= x[i - 1].t_ns);
        assert_true(x[i].allocs > x[i - 1].allocs);
        assert_true(x[i].traced >= x[i - 1].traced); /* only allocations here */
        assert_true(x[i].peak >= x[i].traced);
    }
    assert_true(x[n - 1].traced <= (size_t)N * 16);
    assert_true(x[n - 1].rss > 0); /* Linux: /proc/self/statm */
    om_snapshot_free(s);
    for (int i = 0; i < N; i++) om_free(h, v[i]);
    /* off: no new samples */
    assert_int_equal(om_trace_set_sampling(h, 0, 0), 0);
    om_trace_clear_traces(h);
    for (int i = 0; i < 5000; i++) v[i] = site_a(h, 16);
    s = om_trace_take_snapshot(h);
    assert_int_equal(om_snapshot_samples(s, NULL), 0);
    om_snapshot_free(s);
    for (int i = 0; i < 5000; i++) om_free(h, v[i]);
    free(v);
    om_trace_stop(h);
}

static void test_trace_clear_traces(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_trace_clear_traces(h); /* not tracing: no-op */
    assert_int_equal(om_trace_start(h, 2), 0);
    void *p = site_a(h, 100), *big = site_a(h, 100000);
    om_trace_clear_traces(h);
    size_t cur, peak;
    om_trace_get_traced_memory(h, &cur, &peak);
    assert_int_equal(cur, 0);
    assert_int_equal(peak, 0);
    assert_null(om_trace_block_traceback(h, p));
    void *q = site_b(h, 40);
    om_free(h, p); /* untraced now: no change */
    om_free(h, big);
    om_trace_get_traced_memory(h, &cur, &peak);
    assert_int_equal(cur, 40);
    om_snapshot *s = om_trace_take_snapshot(h);
    assert_int_equal(om_snapshot_traces(s, NULL), 1);
    om_snapshot_free(s);
    assert_int_equal(om_heap_check(h), 0);
    om_free(h, q);
    om_trace_stop(h);
}

static void test_trace_dump_v2_round_trip(void **state)
{
    om_heap *h = OM_HEAP(state);
    assert_int_equal(om_trace_start(h, 3), 0);
    assert_int_equal(om_trace_set_sampling(h, 100, 0), 0);
    void *v[3000];
    for (int i = 0; i < 3000; i++) v[i] = i % 3 ? site_a(h, 48) : site_b(h, 200);
    om_snapshot *p = om_trace_take_peak_snapshot(h);
    char path[] = "/tmp/om_test_peak_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(om_snapshot_dump(p, path), 0);
    om_snapshot *l = om_snapshot_load(h, path);
    unlink(path);
    assert_non_null(l);
    size_t b1, b2;
    assert_int_equal(total_of(l, &b2), total_of(p, &b1));
    assert_int_equal(b1, 3000);
    assert_int_equal(b2, 3000);
    const om_trace_sample *x, *y;
    size_t n1 = om_snapshot_samples(p, &x), n2 = om_snapshot_samples(l, &y);
    assert_int_equal(n1, 30);
    assert_int_equal(n2, n1);
    assert_memory_equal(x, y, n1 * sizeof *x);
    size_t pk1, pk2;
    uint64_t t1, t2;
    om_snapshot_peak(p, &pk1, &t1);
    om_snapshot_peak(l, &pk2, &t2);
    assert_int_equal(pk1, pk2);
    assert_int_equal(t1, t2);
    /* a filtered copy keeps counts and the series */
    om_filter f = {1, "*", -1, 0, -1};
    om_snapshot *c = om_snapshot_filter(l, &f, 1);
    assert_int_equal(om_snapshot_samples(c, NULL), n1);
    assert_int_equal(total_of(c, &b2), total_of(p, &b1));
    assert_int_equal(b2, 3000);
    om_snapshot_free(c);
    om_snapshot_free(l);
    om_snapshot_free(p);
    for (int i = 0; i < 3000; i++) om_free(h, v[i]);
    om_trace_stop(h);
}

static void test_trace_stat_format(void **state)
{
    (void)state;
    om_frame f = {"examples/leak_hunt.c", 48, "handle_request"};
    om_stat s = {{&f, 1, 1}, 76000, 500, 76000, 500};
    char buf[256];
    size_t n = om_stat_format(&s, 0, buf, sizeof buf);
    assert_string_equal(buf, "examples/leak_hunt.c:48: size=74.2 KiB, count=500, average=152 B");
    assert_int_equal(n, strlen(buf));
    om_stat_format(&s, 1, buf, sizeof buf);
    assert_string_equal(buf, "examples/leak_hunt.c:48: size=74.2 KiB (+74.2 KiB), count=500 "
                             "(+500), average=152 B");
    om_frame g = {"prog(make_session+0x15)", 0, "make_session"};
    om_stat t = {{&g, 1, 1}, 4160, 1, -100, -2};
    om_stat_format(&t, 1, buf, sizeof buf);
    assert_string_equal(buf, "prog(make_session+0x15): size=4160 B (-100 B), count=1 (-2), "
                             "average=4160 B");
    /* truncation: like snprintf */
    char small[10];
    size_t whole = om_stat_format(&s, 0, small, sizeof small);
    assert_int_equal(whole,
                     strlen("examples/leak_hunt.c:48: size=74.2 KiB, count=500, average=152 B"));
    assert_string_equal(small, "examples/");
    om_format_size(150.0 * 1024 * 1024, 0, buf, sizeof buf);
    assert_string_equal(buf, "150 MiB");
    om_format_size(-5.0 * 1024, 1, buf, sizeof buf);
    assert_string_equal(buf, "-5120 B");
}

static void test_trace_leak_report_at_destroy(void **state)
{
    (void)state;
    char path[] = "/tmp/om_test_leaks_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    om_config cfg;
    om_config_init(&cfg);
    cfg.report_leaks = 1;
    cfg.report_file = out;
    cfg.leaks_file = path;
    om_heap *h = om_heap_new(&cfg);
    assert_int_equal(om_trace_start(h, 4), 0);
    for (int i = 0; i < 300; i++) site_a(h, 40);  /* leaked */
    for (int i = 0; i < 20; i++) site_b(h, 1000); /* leaked, larger in all */
    void *freed = site_b(h, 24);
    om_free(h, freed);
    om_heap_destroy(h);
    fclose(out);
    assert_non_null(strstr(text, "leaks by allocation traceback: 320 blocks (32000 bytes) in 2 "
                                 "tracebacks, largest first"));
    char *a = strstr(text, "#1: "), *b = strstr(text, "#2: ");
    assert_non_null(a);
    assert_non_null(b);
    assert_true(a < b);
    if (!strstr(a, "site_b")) fprintf(stderr, "%s", text);
    assert_non_null(strstr(a, "site_b")); /* 20000 bytes before 12000 */
    assert_true(strstr(a, "site_b") < b);
    assert_non_null(strstr(b, "site_a"));
    free(text);
    /* the dump reads back as a snapshot */
    om_heap *h2 = om_heap_new(NULL);
    om_snapshot *l = om_snapshot_load(h2, path);
    unlink(path);
    assert_non_null(l);
    size_t blocks, bytes = total_of(l, &blocks);
    assert_int_equal(bytes, 32000);
    assert_int_equal(blocks, 320);
    om_snapshot_free(l);
    om_heap_destroy(h2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_trace_peak_snapshot_holds_the_peak, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_time_series_bounded, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_clear_traces, om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_dump_v2_round_trip, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test(test_trace_stat_format),
        cmocka_unit_test(test_trace_leak_report_at_destroy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
