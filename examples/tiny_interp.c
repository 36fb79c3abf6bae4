/*
 * tiny_interp.c - embedding objmem in a tiny interpreter. The "script" is
 * a list of lines; the interpreter tells the tracer which script line is
 * running through a frame provider (om_trace_set_frame_provider), so the
 * snapshot statistics name script lines, not C lines.
 */
#include <stdio.h>
#include <string.h>

#include <objmem.h>

static const char *const script[] = {
    "names = [str(i) for i in range(200)]",          /* line 1 */
    "nums = [float(i) for i in range(500)]",         /* line 2 */
    "pairs = [(n, x) for n, x in zip(names, nums)]", /* line 3 */
};

typedef struct vm {
    int line; /* the script line running now, 1-based */
} vm;

/* The frame provider: one frame, "script.py" at the current line. */
static int vm_frames(void *ctx, om_frame *frames, int max)
{
    vm *v = ctx;
    if (max < 1) return 1;
    frames[0].filename = "script.py";
    frames[0].lineno = (uint32_t)v->line;
    frames[0].name = "<module>";
    return 1;
}

/* Say what failed, with the heap's message for it (om_errmsg) when there
 * is one (h NULL: the heap is gone, or was never made), and return 1. */
static int fail(om_heap *h, const char *what)
{
    if (h && om_errmsg(h)[0])
        fprintf(stderr, "tiny_interp: %s failed: %s\n", what, om_errmsg(h));
    else
        fprintf(stderr, "tiny_interp: %s failed\n", what);
    return 1;
}

int main(void)
{
    om_heap *h = om_heap_new(NULL);
    vm v = {0};
    if (!h || om_trace_start(h, 1) < 0 || om_trace_set_frame_provider(h, vm_frames, &v) < 0)
        return fail(h, "starting the tracer");
    char buf[32];
    v.line = 1;
    om_object *names = om_list_new(h, 0);
    if (!names) return fail(h, "line 1");
    for (int i = 0; i < 200; i++) {
        snprintf(buf, sizeof buf, "%d", i);
        om_object *s = om_str_from_cstr(h, buf);
        if (!s || om_list_append_steal(names, s) < 0) return fail(h, "line 1");
    }
    v.line = 2;
    om_object *nums = om_list_new(h, 0);
    if (!nums) return fail(h, "line 2");
    for (int i = 0; i < 500; i++)
        if (om_list_append_steal(nums, om_float_new(h, i)) < 0) return fail(h, "line 2");
    v.line = 3;
    om_object *pairs = om_list_new(h, 0);
    if (!pairs) return fail(h, "line 3");
    for (size_t i = 0; i < 200; i++) {
        om_object *n = om_list_get(names, (ptrdiff_t)i), *x = om_list_get(nums, (ptrdiff_t)i);
        om_object *t = n && x ? om_tuple_pack(h, 2, n, x) : NULL; /* getters: new references */
        om_xdecref(n), om_xdecref(x);
        if (!t || om_list_append_steal(pairs, t) < 0) return fail(h, "line 3");
    }
    om_snapshot *s = om_trace_take_snapshot(h);
    om_stats *st = s ? om_snapshot_statistics(s, OM_STAT_LINENO, 0) : NULL;
    if (!st) return fail(h, "the snapshot's statistics");
    size_t found_script = 0;
    printf("memory by script line:\n");
    for (size_t i = 0; i < st->n; i++) {
        const om_frame *f = &st->items[i].traceback.frames[0];
        int ln = (int)f->lineno;
        printf("  %s:%d  %-48s %7zu B in %4zu blocks\n", f->filename, ln,
               ln >= 1 && ln <= 3 ? script[ln - 1] : "?", st->items[i].size, st->items[i].count);
        found_script += strcmp(f->filename, "script.py") == 0;
    }
    size_t st_n = st->n;
    om_stats_free(st);
    om_snapshot_free(s);
    om_decref(names), om_decref(nums), om_decref(pairs);
    om_trace_stop(h);
    om_heap_destroy(h);
    return found_script == 3 && st_n == 3 ? 0 : fail(NULL, "naming the three script lines");
}
