/*
 * leak_hunt.c - a real leak, hunted with objmem's tools (docs/leak-hunting.md,
 * whose outputs tests/docs/leak_guide.py produces from this program built
 * the usual Release way: -O3, no -g, no frame pointers). A "server" warms a
 * cache (freed again: the peak), then handles requests; each request builds
 * a session and a response, and a bug keeps every session in a history
 * list. The program:
 *   1. takes a snapshot, serves requests, takes another, and compares them
 *      (tracemalloc-style): the top lines are where the leaked blocks come from;
 *   2. writes both snapshots and the peak's to DIR (if given) for
 *      `objmem snapshot diff/top/plot/html`;
 *   3. finds an object allocated at the top line and asks om_gc_get_referrers
 *      who holds it (the history list, held by the server);
 *   4. destroys the heap with tracing on and report_leaks: the leak report
 *      lists what is still alive by type and by allocation traceback, and
 *      writes it to DIR/leaks.omsnap.
 * Usage: leak_hunt [DIR]
 */
#include <stdio.h>
#include <string.h>

#include <objmem.h>

typedef struct server {
    OM_OBJECT_HEAD
    om_object *history; /* the bug: every session is appended here */
} server;

static int server_traverse(om_object *o, om_visit_fn visit, void *arg)
{
    OM_VISIT(((server *)o)->history, visit, arg);
    return 0;
}
static void server_clear(om_object *o)
{
    om_clear_ref(&((server *)o)->history);
}

static const om_type server_type = {
    .name = "server",
    .basic_size = sizeof(server),
    .flags = OM_TYPE_GC,
    .traverse = server_traverse,
    .clear = server_clear,
    .dealloc = server_clear,
};

/* Start-up: a cache of 2000 strings, dropped again (the peak of memory). */
static __attribute__((noinline)) int warm_cache(om_heap *h)
{
    om_object *cache = om_list_new(h, 0);
    for (int i = 0; cache && i < 2000; i++) {
        char text[64];
        snprintf(text, sizeof text, "cached entry number %d", i);
        om_object *s = om_str_from_cstr(h, text);
        if (!s || om_list_append(cache, s) < 0) return -1;
        om_decref(s);
    }
    om_xdecref(cache);
    return cache ? 0 : -1;
}

/* One request: a session (a list of its responses), a response string, a
 * scratch buffer. */
static __attribute__((noinline)) int handle_request(om_heap *h, server *srv, int i)
{
    char text[64];
    snprintf(text, sizeof text, "response to request %d", i);
    om_object *session = om_list_new(h, 0); /* leaks: kept in history */
    om_object *body = om_str_from_cstr(h, text);
    void *scratch = om_malloc(h, 256); /* freed below */
    int rc = session && body && scratch ? om_list_append(session, body) : -1;
    if (rc == 0) rc = om_list_append(srv->history, session);
    om_free(h, scratch);
    om_xdecref(body);
    om_xdecref(session);
    return rc;
}

static __attribute__((noinline)) int serve(om_heap *h, server *srv, int n)
{
    for (int i = 0; i < n; i++)
        if (handle_request(h, srv, i) < 0) return -1;
    return 0;
}

static int dump(om_snapshot *s, const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return om_snapshot_dump(s, path);
}

/* 3. a tracked object allocated at one of the growing sites, and who holds
 *    it (raw blocks, such as a dict's table, have no referrers) */
static int who_holds(om_heap *h, const om_stats *st)
{
    size_t n;
    om_object **objs = om_gc_get_objects(h, -1, &n), *leaked = NULL;
    size_t top = st->n < 3 ? st->n : 3;
    for (size_t i = 0; objs && i < n && !leaked; i++) {
        om_traceback *tb = om_trace_object_traceback(objs[i]);
        for (size_t k = 0; tb && tb->nframe && k < top && !leaked; k++) {
            const om_frame *f = &st->items[k].traceback.frames[0];
            if (tb->frames[0].lineno == f->lineno &&
                strcmp(tb->frames[0].filename, f->filename) == 0)
                leaked = om_incref(objs[i]);
        }
        om_traceback_free(h, tb);
    }
    om_gc_list_free(h, objs, n);
    if (!leaked) return 1;
    size_t n1, n2;
    om_object **r1 = om_gc_get_referrers(h, &leaked, 1, &n1);
    om_object **r2 = n1 ? om_gc_get_referrers(h, r1, 1, &n2) : NULL;
    printf("[3] a leaked %s from there is held by %zu object(s): a %s of %zu items,\n",
           om_type_of(leaked)->name, n1, n1 ? om_type_of(r1[0])->name : "-",
           n1 && om_is_list(r1[0]) ? om_list_len(r1[0]) : 0);
    printf("    which is held by a %s: the server's history keeps every session.\n",
           n1 && n2 ? om_type_of(r2[0])->name : "-");
    int found = n1 == 1 && n2 == 1 && om_type_of(r2[0]) == &server_type;
    om_gc_list_free(h, r2, n1 ? n2 : 0);
    om_gc_list_free(h, r1, n1);
    om_decref(leaked);
    return !found;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : NULL;
    char leaks[512];
    om_config cfg;
    om_config_init(&cfg);
    cfg.report_leaks = 1; /* step 4: the report at om_heap_destroy */
    if (dir) {
        snprintf(leaks, sizeof leaks, "%s/leaks.omsnap", dir);
        cfg.leaks_file = leaks; /* and the leaks as a dump (or OBJMEM_LEAKS=FILE) */
    }
    om_heap *h = om_heap_new(&cfg);
    if (!h || om_trace_start(h, 6) < 0) return 1;
    om_trace_set_sampling(h, 64, 0); /* a short run: a sample every 64 allocations */
    server *srv = (server *)om_new(h, &server_type);
    if (!srv || !(srv->history = om_list_new(h, 0)) || warm_cache(h) < 0) return 1;

    /* 1. snapshots around 500 requests, compared by line */
    om_snapshot *before = om_trace_take_snapshot(h);
    if (serve(h, srv, 500) < 0) return 1;
    om_snapshot *after = om_trace_take_snapshot(h);
    om_stats *st = om_snapshot_compare(after, before, OM_STAT_LINENO, 0);
    if (!st || !st->n) return 1;
    printf("[1] top differences after 500 requests (om_snapshot_compare):\n");
    for (size_t i = 0; i < st->n && i < 3; i++) {
        char line[512];
        om_stat_format(&st->items[i], 1, line, sizeof line);
        printf("    %s\n", line);
    }

    /* 2. the same snapshots, and the peak's, as files for `objmem snapshot` */
    om_snapshot *peak = om_trace_take_peak_snapshot(h);
    int rc = 0;
    if (dir) {
        if (!peak || dump(before, dir, "before.omsnap") < 0 ||
            dump(after, dir, "after.omsnap") < 0 || dump(peak, dir, "peak.omsnap") < 0) {
            fprintf(stderr, "leak_hunt: writing the snapshots failed: %s\n", om_errmsg(h));
            rc = 1;
        } else {
            printf("[2] wrote %s/before.omsnap, after.omsnap and peak.omsnap\n", dir);
        }
    }
    if (rc == 0) rc = who_holds(h, st);
    om_stats_free(st);
    om_snapshot_free(peak);
    om_snapshot_free(before);
    om_snapshot_free(after);

    /* 4. we "forget" the server: the leak reports at destroy name it all */
    if (rc == 0) printf("[4] om_heap_destroy with report_leaks = 1 (the report goes to stderr):\n");
    fflush(stdout);
    om_heap_destroy(h);
    return rc;
}
