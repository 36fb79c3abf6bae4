/*
 * tour_trace.c - the tour section on tracing (tracemalloc): the top 5
 * allocation sites of a small workload, and a snapshot diff that finds a
 * deliberate leak by file and line. The frames are the native stack of
 * this file, symbolized when the snapshot is taken. Also writes the two
 * snapshots as dumps for `objmem snapshot demo DIR`.
 */
#include <stdlib.h>
#include <string.h>

#include "tour.h"

/* A small workload: a few sites, each with its own size and count. Kept
 * in separate non-inlined functions so every site has its own line. */
static __attribute__((noinline)) void parse_records(om_heap *h, void **keep, int n)
{
    for (int i = 0; i < n; i++) keep[i] = om_malloc(h, 96); /* one record each */
}

static __attribute__((noinline)) void build_index(om_heap *h, void **keep, int n)
{
    for (int i = 0; i < n; i++) keep[i] = om_malloc(h, 40); /* index entries */
}

static __attribute__((noinline)) void load_table(om_heap *h, void **table)
{
    *table = om_malloc(h, 64 * 1024); /* one large table */
}

static __attribute__((noinline)) void cache_strings(om_heap *h, void **keep, int n)
{
    for (int i = 0; i < n; i++) keep[i] = om_malloc(h, 24 + (size_t)(i % 8) * 8);
}

static __attribute__((noinline)) void scratch_buffers(om_heap *h, void **keep, int n)
{
    for (int i = 0; i < n; i++) keep[i] = om_malloc(h, 512);
}

/* The deliberate leak: every request keeps a 200-byte session block. */
static __attribute__((noinline)) void handle_request(om_heap *h, void **leak)
{
    void *tmp = om_malloc(h, 128); /* freed below: not a leak */
    *leak = om_malloc(h, 200);     /* forgotten: the leak */
    om_free(h, tmp);
}

enum { NREC = 300, NIDX = 500, NSTR = 400, NSCR = 20, NREQ = 250 };

typedef struct workload {
    void *rec[NREC], *idx[NIDX], *str[NSTR], *scr[NSCR], *leak[NREQ];
    void *table;
} workload;

static void run_workload(om_heap *h, workload *w)
{
    parse_records(h, w->rec, NREC);
    build_index(h, w->idx, NIDX);
    load_table(h, &w->table);
    cache_strings(h, w->str, NSTR);
    scratch_buffers(h, w->scr, NSCR);
}

static void free_workload(om_heap *h, workload *w, int nreq)
{
    for (int i = 0; i < NREC; i++) om_free(h, w->rec[i]);
    for (int i = 0; i < NIDX; i++) om_free(h, w->idx[i]);
    for (int i = 0; i < NSTR; i++) om_free(h, w->str[i]);
    for (int i = 0; i < NSCR; i++) om_free(h, w->scr[i]);
    for (int i = 0; i < nreq; i++) om_free(h, w->leak[i]);
    om_free(h, w->table);
}

static const char *base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static void say_stat(int rank, const om_stat *s, int diff)
{
    const om_frame *f = &s->traceback.frames[0];
    if (diff)
        om_tour_say("#%d %s:%u%s%s: size=%zu B (%+td B), count=%zu (%+td)", rank, base(f->filename),
                    f->lineno, f->name ? " in " : "", f->name ? f->name : "", s->size, s->size_diff,
                    s->count, s->count_diff);
    else
        om_tour_say("#%d %s:%u%s%s: size=%zu B, count=%zu, average=%zu B", rank, base(f->filename),
                    f->lineno, f->name ? " in " : "", f->name ? f->name : "", s->size, s->count,
                    s->count ? s->size / s->count : 0);
}

/* After everything was freed: the peak is still known, with what made it
 * (om_trace_take_peak_snapshot), one line each as str(Statistic). */
static int peak_story(om_heap *h)
{
    size_t cur, peak;
    om_trace_get_traced_memory(h, &cur, &peak);
    om_snapshot *p = om_trace_take_peak_snapshot(h);
    om_stats *st = p ? om_snapshot_statistics(p, OM_STAT_LINENO, 0) : NULL;
    if (!st || !st->n) return 1;
    om_tour_say("%s", "");
    om_tour_say("All freed: %zu bytes traced now, %zu at the peak. om_trace_take_peak_snapshot",
                cur, peak);
    om_tour_say("tells what was live then (top 2, formatted by om_stat_format):");
    for (size_t i = 0; i < st->n && i < 2; i++) {
        char line[256];
        om_stat_format(&st->items[i], 0, line, sizeof line);
        om_tour_say("  %s", base(line));
    }
    om_stats_free(st);
    om_snapshot_free(p);
    return 0;
}

/* Both snapshots of the story; *old_s before the requests, *new_s after. */
static int take_both(om_heap *h, workload *w, int nframe, om_snapshot **old_s, om_snapshot **new_s)
{
    if (om_trace_start(h, nframe) < 0) return 1;
    om_trace_set_sampling(h, 16, 0); /* a small workload: a sample every 16 allocations */
    run_workload(h, w);
    *old_s = om_trace_take_snapshot(h);
    for (int i = 0; i < NREQ; i++) handle_request(h, &w->leak[i]);
    *new_s = om_trace_take_snapshot(h);
    return !*old_s || !*new_s;
}

int om_tour_trace(void)
{
    om_heap *h = om_heap_new(NULL);
    if (!h) return 1;
    workload *w = calloc(1, sizeof *w);
    om_snapshot *old_s = NULL, *new_s = NULL;
    if (!w || take_both(h, w, 1, &old_s, &new_s)) return 1;
    size_t cur, peak;
    om_trace_get_traced_memory(h, &cur, &peak);
    om_tour_say("om_trace_start(h, 1), Python's tracemalloc.start(1), traces every block with the");
    om_tour_say("native frame that asked for it:");
    om_tour_say("raw return addresses at allocation, file and line only when a snapshot is taken.");
    om_tour_say("Traced now: %zu bytes (peak %zu); the tracer itself uses %zu bytes.", cur, peak,
                om_trace_get_memory(h));
    om_tour_say("%s", "");
    om_tour_say("Top 5 allocation sites of a small workload (om_snapshot_statistics by line,");
    om_tour_say("Snapshot.statistics('lineno')):");
    om_stats *st = om_snapshot_statistics(old_s, OM_STAT_LINENO, 0);
    for (size_t i = 0; st && i < st->n && i < 5; i++) say_stat((int)i + 1, &st->items[i], 0);
    om_stats_free(st);
    om_tour_say("%s", "");
    om_tour_say("Then %d requests, each of which leaks a block. om_snapshot_compare(new, old),",
                NREQ);
    om_tour_say("Snapshot.compare_to(old, 'lineno'):");
    st = om_snapshot_compare(new_s, old_s, OM_STAT_LINENO, 0);
    for (size_t i = 0; st && i < st->n && i < 3; i++) say_stat((int)i + 1, &st->items[i], 1);
    if (st && st->n)
        om_tour_say("The leak is the first line: %s:%u grew by %td bytes in %td blocks.",
                    base(st->items[0].traceback.frames[0].filename),
                    st->items[0].traceback.frames[0].lineno, st->items[0].size_diff,
                    st->items[0].count_diff);
    om_stats_free(st);
    om_snapshot_free(old_s);
    om_snapshot_free(new_s);
    free_workload(h, w, NREQ);
    int rc = peak_story(h);
    free(w);
    om_trace_stop(h);
    om_heap_destroy(h);
    return rc;
}

int om_tour_trace_dumps(const char *old_path, const char *new_path)
{
    om_heap *h = om_heap_new(NULL);
    if (!h) return 1;
    workload *w = calloc(1, sizeof *w);
    om_snapshot *old_s = NULL, *new_s = NULL;
    int rc = !w || take_both(h, w, 8, &old_s, &new_s);
    if (!rc) rc = om_snapshot_dump(old_s, old_path) < 0 || om_snapshot_dump(new_s, new_path) < 0;
    if (rc) fprintf(stderr, "objmem: %s\n", om_errmsg(h));
    om_snapshot_free(old_s);
    om_snapshot_free(new_s);
    if (w) free_workload(h, w, NREQ);
    free(w);
    om_heap_destroy(h);
    return rc;
}
