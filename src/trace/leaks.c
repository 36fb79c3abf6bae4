/*
 * leaks.c - the leak report at om_heap_destroy while tracing: what is
 * still live, grouped by allocation traceback, largest first (as
 * LeakSanitizer and heaptrack report leaks), and optionally written as a
 * snapshot dump (om_config.leaks_file, OBJMEM_LEAKS=FILE) that
 * `objmem snapshot top` reads. Design note: docs/trace.md ("Leaks at exit").
 */
#include <stdio.h>

#include "trace_int.h"

enum { OM_LEAK_GROUPS = 10 }; /* tracebacks printed */

static void print_group(FILE *out, int rank, const om_stat *g)
{
    char line[512];
    om_stat_format(g, 0, line, sizeof line);
    fprintf(out, "#%d: %s\n", rank, line);
    for (uint32_t i = 0; i < g->traceback.nframe; i++) {
        const om_frame *f = &g->traceback.frames[i];
        if (f->lineno)
            fprintf(out, "    #%u %s %s:%u\n", i, f->name ? f->name : "?", f->filename, f->lineno);
        else
            fprintf(out, "    #%u %s %s\n", i, f->name ? f->name : "?", f->filename);
    }
}

static void print_report(FILE *out, const om_stats *st)
{
    size_t bytes = 0, blocks = 0;
    for (size_t i = 0; i < st->n; i++) bytes += st->items[i].size, blocks += st->items[i].count;
    fprintf(out,
            "objmem: leaks by allocation traceback: %zu block%s (%zu bytes) in %zu traceback%s, "
            "largest first\n",
            blocks, blocks == 1 ? "" : "s", bytes, st->n, st->n == 1 ? "" : "s");
    for (size_t i = 0; i < st->n && i < OM_LEAK_GROUPS; i++)
        print_group(out, (int)i + 1, &st->items[i]);
    if (st->n > OM_LEAK_GROUPS) {
        size_t rest = 0;
        for (size_t i = OM_LEAK_GROUPS; i < st->n; i++) rest += st->items[i].size;
        fprintf(out, "objmem: and %zu more traceback%s (%zu bytes)\n", st->n - OM_LEAK_GROUPS,
                st->n - OM_LEAK_GROUPS == 1 ? "" : "s", rest);
    }
}

void om__trace_report_leaks(om_heap *h, FILE *out, const char *path)
{
    if (!h->trace || (!out && !path)) return;
    om_snapshot *s = om_trace_take_snapshot(h);
    if (!s) {
        if (out) fprintf(out, "objmem: leak report: no snapshot (%s)\n", om_errmsg(h));
        return;
    }
    s->kind = OM_SNAP_LEAKS;
    if (out && s->ntraces) {
        om_stats *st = om_snapshot_statistics(s, OM_STAT_TRACEBACK, 0);
        if (st) print_report(out, st);
        om_stats_free(st);
    }
    if (path) {
        int rc = om_snapshot_dump(s, path);
        FILE *say = out ? out : h->report;
        if (rc < 0)
            fprintf(say, "objmem: cannot write the leaks to %s: %s\n", path, om_errmsg(h));
        else if (out)
            fprintf(say, "objmem: leaks written to %s (objmem snapshot top %s --by traceback)\n",
                    path, path);
    }
    om_snapshot_free(s);
}
