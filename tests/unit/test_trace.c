/*
 * test_trace.c - the tracer: start/stop/restart, traced memory and its
 * peak, small and large blocks, realloc, objects and their tracebacks,
 * tracked domains, native frames, frame providers (a fake stack and a toy
 * interpreter), traceback formatting and the debug report.
 */
#include "om_test.h"
#include "toy_frames.h"

static size_t current_of(om_heap *h)
{
    size_t cur, peak;
    om_trace_get_traced_memory(h, &cur, &peak);
    return cur;
}

static size_t peak_of(om_heap *h)
{
    size_t cur, peak;
    om_trace_get_traced_memory(h, &cur, &peak);
    return peak;
}

static void test_trace_start_stop_restart(void **state)
{
    om_heap *h = OM_HEAP(state);
    assert_int_equal(om_trace_is_tracing(h), 0);
    assert_int_equal(om_trace_start(h, 0), OM_EINVAL);
    assert_int_equal(om_trace_start(h, OM_TRACE_MAX_FRAMES + 1), OM_EINVAL);
    assert_int_equal(om_trace_get_memory(h), 0);
    void *before = om_malloc(h, 40); /* not traced: allocated before start */
    assert_int_equal(om_trace_start(h, 5), 0);
    assert_int_equal(om_trace_is_tracing(h), 1);
    assert_int_equal(om_trace_get_traceback_limit(h), 5);
    assert_int_equal(om_trace_start(h, 7), 0); /* already tracing: new limit */
    assert_int_equal(om_trace_get_traceback_limit(h), 7);
    void *p = om_malloc(h, 100);
    assert_int_equal(current_of(h), 100);
    om_free(h, before); /* untraced block: no change */
    assert_int_equal(current_of(h), 100);
    om_trace_stop(h);
    assert_int_equal(om_trace_is_tracing(h), 0);
    assert_int_equal(current_of(h), 0);
    assert_int_equal(om_trace_get_memory(h), 0);
    om_trace_stop(h); /* no-op */
    assert_int_equal(om_trace_start(h, 1), 0);
    assert_int_equal(current_of(h), 0); /* p was forgotten by stop */
    om_free(h, p);
    assert_int_equal(current_of(h), 0);
    void *q = om_malloc(h, 33);
    assert_int_equal(current_of(h), 33);
    om_free(h, q);
    assert_int_equal(om_heap_check(h), 0); /* the tracer's invariants too */
    om_trace_stop(h);
}

static void test_trace_traced_memory_and_peak(void **state)
{
    om_heap *h = OM_HEAP(state);
    fake_stack fs;
    fake_set(&fs, "a.py", 1);
    assert_int_equal(om_trace_start(h, 1), 0);
    om_trace_set_frame_provider(h, fake_provider, &fs);
    void *a = om_malloc(h, 100), *b = om_malloc(h, 200), *c = om_malloc(h, 1000);
    assert_int_equal(current_of(h), 1300);
    assert_int_equal(peak_of(h), 1300);
    om_free(h, b);
    assert_int_equal(current_of(h), 1100);
    assert_int_equal(peak_of(h), 1300);
    om_trace_reset_peak(h);
    assert_int_equal(peak_of(h), 1100);
    void *d = om_malloc(h, 50);
    assert_int_equal(peak_of(h), 1150);
    om_free(h, a);
    om_free(h, c);
    om_free(h, d);
    assert_int_equal(current_of(h), 0);
    assert_int_equal(peak_of(h), 1150);
    assert_int_equal(om_heap_check(h), 0); /* the tracer's invariants too */
    om_trace_stop(h);
}

static void test_trace_get_memory_grows_and_interns(void **state)
{
    om_heap *h = OM_HEAP(state);
    fake_stack fs;
    fake_set(&fs, "same.py", 3);
    assert_int_equal(om_trace_start(h, 1), 0);
    om_trace_set_frame_provider(h, fake_provider, &fs);
    size_t m0 = om_trace_get_memory(h);
    assert_true(m0 > 0);
    void *p[200];
    for (int i = 0; i < 200; i++) p[i] = om_malloc(h, 24);
    size_t m1 = om_trace_get_memory(h);
    assert_true(m1 > m0);
    /* one traceback for 200 identical stacks: the snapshot has 200 traces
     * sharing one traceback */
    om_snapshot *s = om_trace_take_snapshot(h);
    const om_trace_entry *e;
    assert_int_equal(om_snapshot_traces(s, &e), 200);
    for (int i = 1; i < 200; i++) assert_ptr_equal(e[i].traceback, e[0].traceback);
    om_snapshot_free(s);
    for (int i = 0; i < 200; i++) om_free(h, p[i]);
    assert_int_equal(om_heap_check(h), 0); /* the tracer's invariants too */
    om_trace_stop(h);
}

static void test_trace_large_blocks(void **state)
{
    om_heap *h = OM_HEAP(state);
    fake_stack fs;
    fake_set(&fs, "big.py", 9);
    assert_int_equal(om_trace_start(h, 1), 0);
    om_trace_set_frame_provider(h, fake_provider, &fs);
    void *a = om_malloc(h, 513), *b = om_malloc(h, (size_t)1 << 20);
    assert_int_equal(current_of(h), 513 + ((size_t)1 << 20));
    om_traceback *tb = om_trace_block_traceback(h, b);
    assert_non_null(tb);
    assert_int_equal(tb->nframe, 1);
    assert_string_equal(tb->frames[0].filename, "big.py");
    assert_int_equal(tb->frames[0].lineno, 9);
    om_traceback_free(h, tb);
    om_free(h, b);
    assert_int_equal(current_of(h), 513);
    assert_null(om_trace_block_traceback(h, b));
    om_free(h, a);
    assert_int_equal(current_of(h), 0);
    assert_int_equal(om_heap_check(h), 0); /* the tracer's invariants too */
    om_trace_stop(h);
}

static void test_trace_realloc(void **state)
{
    om_heap *h = OM_HEAP(state);
    fake_stack fs;
    fake_set(&fs, "r.py", 1);
    assert_int_equal(om_trace_start(h, 1), 0);
    om_trace_set_frame_provider(h, fake_provider, &fs);
    char *p = om_malloc(h, 100);
    fs.f[0].lineno = 2;
    p = om_realloc(h, p, 110); /* same class: in place, retraced */
    assert_int_equal(current_of(h), 110);
    fs.f[0].lineno = 3;
    p = om_realloc(h, p, 300); /* another class: moved */
    assert_int_equal(current_of(h), 300);
    fs.f[0].lineno = 4;
    p = om_realloc(h, p, 2000); /* small to large */
    assert_int_equal(current_of(h), 2000);
    fs.f[0].lineno = 5;
    p = om_realloc(h, p, 100000); /* large to large */
    assert_int_equal(current_of(h), 100000);
    assert_true(peak_of(h) >= 100000); /* debug mode: new block before the old is freed */
    assert_int_equal(om_heap_check(h), 0);
    om_snapshot *s = om_trace_take_snapshot(h);
    const om_trace_entry *e;
    assert_int_equal(om_snapshot_traces(s, &e), 1);
    assert_int_equal(e[0].size, 100000);
    assert_int_equal(e[0].traceback->frames[0].lineno, 5);
    om_snapshot_free(s);
    fs.f[0].lineno = 6;
    p = om_realloc(h, p, 64); /* large to small */
    assert_int_equal(current_of(h), 64);
    om_free(h, p);
    assert_int_equal(current_of(h), 0);
    assert_int_equal(om_heap_check(h), 0); /* the tracer's invariants too */
    om_trace_stop(h);
}

typedef struct point {
    OM_OBJECT_HEAD
    double x, y, z, w;
} point;
static const om_type point_type = {.name = "point", .basic_size = sizeof(point)};

static void test_trace_objects_and_object_traceback(void **state)
{
    om_heap *h = OM_HEAP(state);
    fake_stack fs;
    fake_set(&fs, "obj.py", 12);
    fake_push_caller(&fs, "main.py", 1);
    assert_int_equal(om_trace_start(h, 4), 0);
    om_trace_set_frame_provider(h, fake_provider, &fs);
    om_object *o = om_new(h, &point_type);
    assert_non_null(o);
    assert_int_equal(current_of(h), sizeof(point));
    om_traceback *tb = om_trace_object_traceback(o);
    assert_non_null(tb);
    assert_int_equal(tb->nframe, 2);
    assert_int_equal(tb->total_nframe, 2);
    assert_string_equal(tb->frames[0].filename, "obj.py");
    assert_int_equal(tb->frames[0].lineno, 12);
    assert_string_equal(tb->frames[1].filename, "main.py");
    om_traceback_free(h, tb);
    om_decref(o);
    assert_int_equal(current_of(h), 0);
    assert_int_equal(om_heap_check(h), 0); /* the tracer's invariants too */
    om_trace_stop(h);
}

/* Plain objects (no dealloc: freed inline by om_decref) made before,
 * during and between tracing sessions, thousands of them, freed in an
 * interleaved order: every free of an object made while tracing reaches
 * the tracer, the others cost it nothing, and the heap stays consistent. */
static void test_trace_plain_objects_across_sessions(void **state)
{
    om_heap *h = OM_HEAP(state);
    enum { N = 3000 };
    static om_object *a[N], *b[N];
    for (int i = 0; i < N; i++) assert_non_null(a[i] = om_new(h, &point_type));
    assert_int_equal(om_trace_start(h, 1), 0);
    for (int i = 0; i < N; i++) assert_non_null(b[i] = om_new(h, &point_type));
    assert_int_equal(current_of(h), N * sizeof(point));
    for (int i = 0; i < N; i += 2) {
        om_decref(a[i]);
        om_decref(b[i]);
    }
    assert_int_equal(current_of(h), N / 2 * sizeof(point));
    om_trace_stop(h);
    for (int i = 1; i < N; i += 4) om_decref(b[i]); /* made traced, freed untraced */
    assert_int_equal(om_trace_start(h, 1), 0);
    assert_int_equal(current_of(h), 0);
    for (int i = 1; i < N; i += 2) {
        om_decref(a[i]);
        if (i % 4 == 3) om_decref(b[i]); /* traced by the last session only */
    }
    assert_int_equal(current_of(h), 0);
    for (int i = 0; i < N; i++) { /* the freed blocks serve again, traced */
        assert_non_null(a[i] = om_new(h, &point_type));
        assert_non_null(b[i] = om_new(h, &point_type));
    }
    assert_int_equal(current_of(h), 2 * N * sizeof(point));
    assert_int_equal(om_heap_check(h), 0);
    for (int i = N - 1; i >= 0; i--) {
        om_decref(b[i]);
        om_decref(a[i]);
    }
    assert_int_equal(current_of(h), 0);
    assert_int_equal(om_heap_check(h), 0);
    om_trace_stop(h);
}

static void test_trace_nframe_limit_and_total(void **state)
{
    om_heap *h = OM_HEAP(state);
    fake_stack fs;
    fake_set(&fs, "f0.py", 1);
    for (int i = 1; i < 6; i++) fake_push_caller(&fs, "fN.py", (unsigned)i + 1);
    assert_int_equal(om_trace_start(h, 3), 0);
    om_trace_set_frame_provider(h, fake_provider, &fs);
    void *p = om_malloc(h, 8);
    om_traceback *tb = om_trace_block_traceback(h, p);
    assert_int_equal(tb->nframe, 3);
    assert_int_equal(tb->total_nframe, 6);
    assert_int_equal(tb->frames[2].lineno, 3);
    om_traceback_free(h, tb);
    om_free(h, p);
    assert_int_equal(om_heap_check(h), 0); /* the tracer's invariants too */
    om_trace_stop(h);
}

static void test_trace_track_domains(void **state)
{
    om_heap *h = OM_HEAP(state);
    fake_stack fs;
    fake_set(&fs, "gpu.py", 4);
    assert_int_equal(om_trace_track(h, 1, 0x1000, 10), OM_ESTATE);
    assert_int_equal(om_trace_set_frame_provider(h, fake_provider, &fs), OM_ESTATE);
    assert_int_equal(om_trace_start(h, 1), 0);
    om_trace_set_frame_provider(h, fake_provider, &fs);
    assert_int_equal(om_trace_track(h, 5, 0x1000, 4096), 0);
    assert_int_equal(om_trace_track(h, 6, 0x1000, 100), 0); /* same address, other domain */
    assert_int_equal(om_trace_track(h, 1, 0, 100), OM_EINVAL);
    void *p = om_malloc(h, 16);
    assert_int_equal(current_of(h), 4096 + 100 + 16);
    assert_int_equal(om_trace_track(h, 5, 0x1000, 96), 0); /* replaces */
    assert_int_equal(current_of(h), 96 + 100 + 16);
    assert_int_equal(om_heap_check(h), 0);
    om_snapshot *s = om_trace_take_snapshot(h);
    const om_trace_entry *e;
    size_t n = om_snapshot_traces(s, &e), d5 = 0, d6 = 0, d0 = 0;
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        if (e[i].domain == 5) d5 += e[i].size;
        if (e[i].domain == 6) d6 += e[i].size;
        if (e[i].domain == 0) d0 += e[i].size;
    }
    assert_int_equal(d5, 96);
    assert_int_equal(d6, 100);
    assert_int_equal(d0, 16);
    om_snapshot_free(s);
    assert_int_equal(om_trace_untrack(h, 5, 0x1000), 0);
    assert_int_equal(om_trace_untrack(h, 5, 0x1000), OM_EKEY);
    assert_int_equal(om_trace_untrack(h, 6, 0x1000), 0);
    assert_int_equal(current_of(h), 16);
    om_free(h, p);
    om_trace_stop(h);
    assert_int_equal(om_trace_untrack(h, 6, 0x1000), OM_ESTATE);
}

/* Native frames: the traceback's most recent frame is this function. */
static __attribute__((noinline)) void *native_site(om_heap *h)
{
    void *p = om_malloc(h, 72);
    __asm__ volatile("" ::: "memory"); /* no tail call */
    return p;
}

static void test_trace_native_frames(void **state)
{
    om_heap *h = OM_HEAP(state);
    assert_int_equal(om_trace_start(h, 4), 0);
    void *p = native_site(h);
    om_traceback *tb = om_trace_block_traceback(h, p);
    assert_non_null(tb);
    assert_true(tb->nframe >= 1);
    const om_frame *f = &tb->frames[0];
    /* with libdw: this file and a line; without: native_site+0x.. when the
     * executable exports its symbols (-rdynamic), else module+offset */
    if (f->lineno == 0 && !f->name) {
        fprintf(stderr, "no symbols (built without libdw?): %s\n", f->filename);
        om_traceback_free(h, tb);
        om_free(h, p);
        om_trace_stop(h);
        skip();
    }
    int here = strstr(f->filename, "test_trace.c") != NULL ||
               strstr(f->filename, "native_site") != NULL ||
               (f->name && strstr(f->name, "native_site") != NULL);
    if (!here)
        fprintf(stderr, "frame 0: %s:%u (%s)\n", f->filename, f->lineno, f->name ? f->name : "-");
    assert_true(here);
    if (strstr(f->filename, "test_trace.c")) {
        assert_true(f->lineno > 0);
        assert_non_null(f->name);
        assert_string_equal(f->name, "native_site");
    }
    /* two allocations from the same site share a traceback */
    void *q = native_site(h);
    om_snapshot *s = om_trace_take_snapshot(h);
    om_stats *st = om_snapshot_statistics(s, OM_STAT_LINENO, 0);
    assert_int_equal(st->n, 1);
    assert_int_equal(st->items[0].size, 144);
    assert_int_equal(st->items[0].count, 2);
    om_stats_free(st);
    om_snapshot_free(s);
    om_traceback_free(h, tb);
    om_free(h, p);
    om_free(h, q);
    assert_int_equal(om_heap_check(h), 0); /* the tracer's invariants too */
    om_trace_stop(h);
}

static void test_trace_toy_interpreter_frames(void **state)
{
    om_heap *h = OM_HEAP(state);
    static const char *script[] = {
        "call 5",    /* 1: main calls build()     */
        "alloc 40",  /* 2                          */
        "call 5",    /* 3: and again               */
        "end",       /* 4                          */
        "alloc 100", /* 5: build()                 */
        "call 8",    /* 6: build calls leaf()      */
        "ret",       /* 7                          */
        "alloc 24",  /* 8: leaf()                  */
        "alloc 24",  /* 9                          */
        "ret",       /* 10                         */
    };
    toy t = {.h = h, .file = "script.toy", .lines = script, .nlines = 10};
    assert_int_equal(om_trace_start(h, 10), 0);
    om_trace_set_frame_provider(h, toy_provider, &t);
    toy_run(&t);
    assert_int_equal(t.nblocks, 7);
    assert_int_equal(current_of(h), 40 + 2 * (100 + 24 + 24));
    om_snapshot *s = om_trace_take_snapshot(h);
    om_stats *st = om_snapshot_statistics(s, OM_STAT_LINENO, 0);
    assert_int_equal(st->n, 4);
    /* sorted by size: line 5 (200, 2), line 8 (48, 2) and 9 (48, 2): same
     * size and count, so the traceback decides (line 9 > line 8), then 2 */
    assert_int_equal(st->items[0].traceback.frames[0].lineno, 5);
    assert_int_equal(st->items[0].size, 200);
    assert_int_equal(st->items[1].traceback.frames[0].lineno, 9);
    assert_int_equal(st->items[2].traceback.frames[0].lineno, 8);
    assert_int_equal(st->items[3].traceback.frames[0].lineno, 2);
    assert_string_equal(st->items[0].traceback.frames[0].filename, "script.toy");
    om_stats_free(st);
    /* cumulative: line 6 (build's call of leaf) holds both leaf blocks */
    st = om_snapshot_statistics(s, OM_STAT_LINENO, 1);
    size_t line6 = 0, line1 = 0;
    for (size_t i = 0; i < st->n; i++) {
        if (st->items[i].traceback.frames[0].lineno == 6) line6 = st->items[i].size;
        if (st->items[i].traceback.frames[0].lineno == 1) line1 = st->items[i].size;
    }
    assert_int_equal(line6, 96);
    assert_int_equal(line1, 148); /* the first call of build: 100 + 24 + 24 */
    om_stats_free(st);
    om_snapshot_free(s);
    toy_free_all(&t);
    assert_int_equal(om_heap_check(h), 0); /* the tracer's invariants too */
    om_trace_stop(h);
}

static void test_trace_traceback_format(void **state)
{
    (void)state;
    om_frame f[3] = {{"c.py", 3, NULL}, {"b.py", 2, NULL}, {"a.py", 1, NULL}};
    om_traceback tb = {f, 3, 3};
    char buf[256];
    size_t n = om_traceback_format(&tb, 0, 0, buf, sizeof buf);
    assert_string_equal(
        buf, "  File \"a.py\", line 1\n  File \"b.py\", line 2\n  File \"c.py\", line 3\n");
    assert_int_equal(n, strlen(buf));
    om_traceback_format(&tb, 0, 1, buf, sizeof buf);
    assert_string_equal(
        buf, "  File \"c.py\", line 3\n  File \"b.py\", line 2\n  File \"a.py\", line 1\n");
    om_traceback_format(&tb, 2, 0, buf, sizeof buf); /* the 2 most recent */
    assert_string_equal(buf, "  File \"b.py\", line 2\n  File \"c.py\", line 3\n");
    om_traceback_format(&tb, -2, 0, buf, sizeof buf); /* all but the 2 most recent */
    assert_string_equal(buf, "  File \"a.py\", line 1\n");
    om_traceback_format(&tb, 1, 1, buf, sizeof buf);
    assert_string_equal(buf, "  File \"c.py\", line 3\n");
    char small[10];
    n = om_traceback_format(&tb, 0, 0, small, sizeof small);
    assert_int_equal(n, 66);
    assert_int_equal(strlen(small), 9);
}

static void double_free_child(void *arg)
{
    (void)arg;
    om_config cfg;
    om_config_init(&cfg);
    cfg.debug = 1;
    om_heap *h = om_heap_new(&cfg);
    fake_stack fs;
    fake_set(&fs, "leaky.py", 42);
    om_trace_start(h, 1);
    om_trace_set_frame_provider(h, fake_provider, &fs);
    void *keep = om_malloc(h, 20); /* keeps the pool alive */
    char *p = om_malloc(h, 20);
    (void)keep;
    om_free(h, p);
    om_free(h, p); /* double free: the report names where p was allocated */
}

static void overflow_child(void *arg)
{
    (void)arg;
    om_config cfg;
    om_config_init(&cfg);
    cfg.debug = 1;
    om_heap *h = om_heap_new(&cfg);
    fake_stack fs;
    fake_set(&fs, "overrun.py", 7);
    om_trace_start(h, 1);
    om_trace_set_frame_provider(h, fake_provider, &fs);
    char *p = om_malloc(h, 20);
    p[20] = 'X'; /* into the guard bytes: reported at free, after the trace is gone */
    om_free(h, p);
}

static void test_trace_debug_report_after_free_uses_recent(void **state)
{
    (void)state;
    char buf[8192];
    int status = om_test_run_child(overflow_child, NULL, buf, sizeof buf);
    if (!om_test_aborted(status) || !strstr(buf, "overrun.py"))
        fprintf(stderr, "status %d:\n%s", status, buf);
    assert_true(om_test_aborted(status));
    assert_non_null(strstr(buf, "Memory block allocated at (most recent call first):"));
    assert_non_null(strstr(buf, "File \"overrun.py\", line 7"));
}

static void test_trace_debug_report_shows_traceback(void **state)
{
    (void)state;
    char buf[8192];
    int status = om_test_run_child(double_free_child, NULL, buf, sizeof buf);
    if (!om_test_aborted(status) || !strstr(buf, "Memory block allocated at"))
        fprintf(stderr, "status %d:\n%s", status, buf);
    assert_true(om_test_aborted(status));
    assert_non_null(strstr(buf, "Memory block allocated at (most recent call first):"));
    assert_non_null(strstr(buf, "File \"leaky.py\", line 42"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_trace_start_stop_restart, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_traced_memory_and_peak, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_get_memory_grows_and_interns, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_large_blocks, om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_realloc, om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_objects_and_object_traceback, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_plain_objects_across_sessions, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_nframe_limit_and_total, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_track_domains, om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_native_frames, om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_toy_interpreter_frames, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_traceback_format, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_debug_report_shows_traceback, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_debug_report_after_free_uses_recent,
                                        om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_objects_and_object_traceback,
                                        om_test_setup_debug, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_realloc, om_test_setup_debug, om_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
