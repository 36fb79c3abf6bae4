/*
 * test_trace_unwind.c - how native frames are found: the unwind modes
 * (om_trace_set_unwind), the frame-pointer walk and the unwind tables
 * giving the same deep stack through code with frame pointers, and
 * objmem's own frames left out by address. Programs built without frame
 * pointers or debug information are tested by tests/trace/leak_prog.c.
 */
#include "om_test.h"

static __attribute__((noinline)) void *level3(om_heap *h)
{
    void *p = om_malloc(h, 40);
    __asm__ volatile("" ::: "memory"); /* not a tail call */
    return p;
}

static __attribute__((noinline)) void *level2(om_heap *h)
{
    void *p = level3(h);
    __asm__ volatile("" ::: "memory");
    return p;
}

static __attribute__((noinline)) void *level1(om_heap *h)
{
    void *p = level2(h);
    __asm__ volatile("" ::: "memory");
    return p;
}

static void test_trace_unwind_modes(void **state)
{
    om_heap *h = OM_HEAP(state);
    assert_int_equal(om_trace_set_unwind(h, OM_UNWIND_FP), OM_ESTATE);
    assert_int_equal(om_trace_unwinds_with_tables(h), 0);
    assert_int_equal(om_trace_start(h, 1), 0);
    assert_int_equal(om_trace_set_unwind(h, (om_unwind)7), OM_EINVAL);
    assert_int_equal(om_trace_set_unwind(h, OM_UNWIND_AUTO), 0);
    assert_int_equal(om_trace_unwinds_with_tables(h), 0); /* nframe 1: frame pointers */
    assert_int_equal(om_trace_start(h, 10), 0);
    int tables = om_trace_unwinds_with_tables(h); /* 1 when built with libunwind */
    assert_int_equal(om_trace_set_unwind(h, OM_UNWIND_FP), 0);
    assert_int_equal(om_trace_unwinds_with_tables(h), 0);
    assert_int_equal(om_trace_set_unwind(h, OM_UNWIND_TABLES), 0);
    assert_int_equal(om_trace_unwinds_with_tables(h), tables);
    om_trace_stop(h);
}

/* The names of the first 3 frames of a block allocated by level1. */
static int three_names(om_heap *h, om_unwind mode, const char **names)
{
    assert_int_equal(om_trace_start(h, 6), 0);
    assert_int_equal(om_trace_set_unwind(h, mode), 0);
    void *p = level1(h);
    om_traceback *tb = om_trace_block_traceback(h, p);
    assert_non_null(tb);
    int n = 0;
    static char keep[3][64];
    for (uint32_t i = 0; i < tb->nframe && n < 3; i++, n++) {
        snprintf(keep[n], sizeof keep[n], "%s", tb->frames[i].name ? tb->frames[i].name : "?");
        names[n] = keep[n];
    }
    om_traceback_free(h, tb);
    om_free(h, p);
    om_trace_stop(h);
    return n;
}

static void test_trace_unwind_fp_and_tables_agree(void **state)
{
    om_heap *h = OM_HEAP(state);
    const char *fp[3], *tab[3];
    assert_int_equal(three_names(h, OM_UNWIND_FP, fp), 3);
    assert_string_equal(fp[0], "level3"); /* objmem's frames left out */
    assert_string_equal(fp[1], "level2");
    assert_string_equal(fp[2], "level1");
    assert_int_equal(three_names(h, OM_UNWIND_TABLES, tab), 3);
    for (int i = 0; i < 3; i++) assert_string_equal(fp[i], tab[i]);
}

/* Many distinct stacks through the tables: the frame cache past its first
 * growths, each stack interned once. */
static __attribute__((noinline)) void *rec_alloc(om_heap *h, int depth, int size)
{
    void *p = depth ? rec_alloc(h, depth - 1, size) : om_malloc(h, (size_t)size);
    __asm__ volatile("" ::: "memory");
    return p;
}

static void test_trace_unwind_tables_many_stacks(void **state)
{
    om_heap *h = OM_HEAP(state);
    assert_int_equal(om_trace_start(h, 32), 0);
    assert_int_equal(om_trace_set_unwind(h, OM_UNWIND_TABLES), 0);
    enum { N = 3000 };
    void **v = calloc(N, sizeof *v);
    for (int i = 0; i < N; i++) v[i] = rec_alloc(h, i % 20, 16 + i % 7);
    om_snapshot *s = om_trace_take_snapshot(h);
    om_stats *st = om_snapshot_statistics(s, OM_STAT_TRACEBACK, 0);
    assert_non_null(st);
    assert_int_equal(st->n, 20); /* one traceback per depth */
    for (size_t i = 0; i < st->n; i++) {
        assert_non_null(st->items[i].traceback.frames[0].name);
        assert_string_equal(st->items[i].traceback.frames[0].name, "rec_alloc");
    }
    om_stats_free(st);
    om_snapshot_free(s);
    for (int i = 0; i < N; i++) om_free(h, v[i]);
    free(v);
    assert_int_equal(om_heap_check(h), 0);
    om_trace_stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_trace_unwind_modes, om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_unwind_fp_and_tables_agree, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_unwind_tables_many_stacks, om_test_setup,
                                        om_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
