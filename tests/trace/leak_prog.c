/*
 * leak_prog.c - a program as people ship them, for the tracer's tests
 * (cmake/part-trace-tests.cmake builds it -O2 without frame pointers,
 * without and with -g, against the static and the shared library): main
 * calls serve(), which calls make_session() 300 times, which leaks a
 * block each time. The tracer must name make_session and its caller serve
 * as the top traceback's first two frames, whatever the build.
 * Usage: leak_prog [fp|tables|auto] [-g]   (-g: expect file:line too)
 * Exit 0 when the frames are right; prints the top traceback.
 */
#include <stdio.h>
#include <string.h>

#include <objmem.h>

static void *volatile sink[300];

__attribute__((noinline)) static void *make_session(om_heap *h, int i)
{
    char *p = om_malloc(h, 48 + (size_t)(i & 3) * 16);
    if (p) memset(p, i, 48);
    return p;
}

/* Not a tail call: the loop goes on after each call. */
__attribute__((noinline)) static int serve(om_heap *h, int n)
{
    int made = 0;
    for (int i = 0; i < n; i++) {
        sink[i] = make_session(h, i);
        made += sink[i] != NULL;
    }
    return made;
}

static int check(const om_traceback *tb, int want_lines)
{
    int ok = tb->nframe >= 2 && tb->frames[0].name && tb->frames[1].name &&
             strcmp(tb->frames[0].name, "make_session") == 0 &&
             strcmp(tb->frames[1].name, "serve") == 0;
    if (ok && want_lines)
        ok = tb->frames[0].lineno > 0 && strstr(tb->frames[0].filename, "leak_prog.c") != NULL;
    return ok;
}

int main(int argc, char **argv)
{
    om_unwind mode = OM_UNWIND_AUTO;
    int want_lines = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "fp") == 0) mode = OM_UNWIND_FP;
        if (strcmp(argv[i], "tables") == 0) mode = OM_UNWIND_TABLES;
        if (strcmp(argv[i], "-g") == 0) want_lines = 1;
    }
    om_heap *h = om_heap_new(NULL);
    if (!h || om_trace_start(h, 8) < 0 || om_trace_set_unwind(h, mode) < 0) return 2;
    int made = serve(h, 300);
    om_snapshot *s = om_trace_take_snapshot(h);
    om_stats *st = s ? om_snapshot_statistics(s, OM_STAT_TRACEBACK, 0) : NULL;
    if (!st || !st->n || made != 300) return 2;
    /* the four sizes make four tracebacks? no: one call site, one traceback */
    const om_traceback *tb = &st->items[0].traceback;
    char buf[4096];
    om_traceback_format(tb, 0, 1, buf, sizeof buf);
    printf("top: %zu blocks, %zu bytes, most recent first:\n%s", st->items[0].count,
           st->items[0].size, buf);
    for (uint32_t i = 0; i < tb->nframe; i++)
        printf("  frame %u: %s\n", i, tb->frames[i].name ? tb->frames[i].name : "?");
    int ok = check(tb, want_lines) && st->items[0].count == 300;
    printf("%s\n", ok ? "ok: make_session called by serve" : "WRONG frames");
    om_stats_free(st);
    om_snapshot_free(s);
    for (int i = 0; i < 300; i++) om_free(h, sink[i]);
    om_trace_stop(h);
    om_heap_destroy(h);
    return ok ? 0 : 1;
}
