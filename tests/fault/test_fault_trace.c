/*
 * test_fault_trace.c - tracing with the Nth request to the seam failing,
 * for every N until the workload completes: starting, tracing blocks
 * (a trace that cannot be stored is dropped, the block is still handed
 * out), snapshots, statistics, comparisons, filters, dump and load all fail
 * cleanly, and nothing leaks.
 */
#include <unistd.h>

#include "om_fault.h"
#include "om_test.h"
#include "../unit/toy_frames.h"

static int use_snapshot(om_heap *h, om_snapshot *s, om_snapshot *old, const char *path)
{
    om_stats *st = om_snapshot_statistics(s, OM_STAT_LINENO, 1);
    om_stats_free(st);
    st = om_snapshot_compare(s, old, OM_STAT_TRACEBACK, 0);
    om_stats_free(st);
    om_filter f = {1, "w*.py", -1, 1, -1};
    om_snapshot *r = om_snapshot_filter(s, &f, 1);
    om_snapshot_free(r);
    if (om_snapshot_dump(s, path) == 0) {
        om_snapshot *l = om_snapshot_load(h, path);
        if (l) assert_int_equal(om_snapshot_traces(l, NULL), om_snapshot_traces(s, NULL));
        om_snapshot_free(l);
    }
    return 0;
}

static int workload(om_heap *h, void *arg)
{
    const char *path = arg;
    fake_stack fs;
    if (om_trace_start(h, 4) < 0) {
        assert_int_equal(om_errcode(h), OM_ENOMEM);
        return 0;
    }
    om_trace_set_frame_provider(h, fake_provider, &fs);
    void *v[200] = {0};
    for (int i = 0; i < 200; i++) {
        fake_set(&fs, i % 2 ? "work.py" : "walk.py", (unsigned)(i % 7) + 1);
        fake_push_caller(&fs, "main.py", (unsigned)(i % 3) + 1);
        v[i] = om_malloc(h, (size_t)(16 + (i % 40) * 24));
    }
    om_trace_track(h, 2, 0x1000, 500);
    om_snapshot *old = om_trace_take_snapshot(h);
    for (int i = 0; i < 200; i += 3) {
        om_free(h, v[i]);
        v[i] = NULL;
    }
    om_trace_set_frame_provider(h, NULL, NULL); /* native frames too */
    void *extra = om_malloc(h, 77);
    om_snapshot *s = om_trace_take_snapshot(h);
    if (s && old) use_snapshot(h, s, old, path);
    om_snapshot_free(s);
    om_snapshot_free(old);
    om_free(h, extra);
    for (int i = 0; i < 200; i++) om_free(h, v[i]);
    om_trace_stop(h);
    return 0;
}

static void test_fault_trace_workload(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/tmp/om_fault_traceXXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    long runs = om_fault_run(workload, path, 100000);
    unlink(path);
    assert_true(runs > 3);
    print_message("trace: survived %ld injection points\n", runs - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_trace_workload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
