/*
 * leak_hunt.c - a real leak, hunted with objmem's tools (docs/leak-hunting.md).
 * A "server" handles requests; each request builds a response, and a bug
 * keeps every session in a history list. The program:
 *   1. takes a snapshot, serves requests, takes another, and compares them
 *      (tracemalloc-style): the top line is where the leaked blocks come from;
 *   2. writes both snapshots to DIR (if given) for `objmem snapshot diff`;
 *   3. finds an object allocated at that line and asks om_gc_get_referrers
 *      who holds it (the history list, held by the server);
 *   4. destroys the heap with report_leaks on: the leak report lists what is
 *      still alive.
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

/* One request: a session dict, a response string, a scratch buffer. */
static __attribute__((noinline)) int handle_request(om_heap *h, server *srv, int i)
{
    char text[64];
    snprintf(text, sizeof text, "response to request %d", i);
    om_object *session = om_dict_new(h); /* leaks: kept in history */
    om_object *body = om_str_from_cstr(h, text);
    void *scratch = om_malloc(h, 256); /* freed below */
    /* the session remembers its server: a container, so it is tracked */
    int rc = session && body && scratch ? om_dict_set(session, body, OM_OBJ(srv)) : -1;
    if (rc == 0) rc = om_list_append(srv->history, session);
    om_free(h, scratch);
    om_xdecref(body);
    om_xdecref(session);
    return rc;
}

static const char *base(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Say what failed, with the heap's message for it (om_errmsg) when there
 * is one (h NULL: the heap is gone, or was never made), and return 1. */
static int fail(om_heap *h, const char *what)
{
    if (h && om_errmsg(h)[0])
        fprintf(stderr, "leak_hunt: %s failed: %s\n", what, om_errmsg(h));
    else
        fprintf(stderr, "leak_hunt: %s failed\n", what);
    return 1;
}

int main(int argc, char **argv)
{
    om_config cfg;
    om_config_init(&cfg);
    cfg.report_leaks = 1; /* step 4: the report at om_heap_destroy */
    om_heap *h = om_heap_new(&cfg);
    if (!h || om_trace_start(h, 4) < 0) return fail(h, "starting the tracer");
    server *srv = (server *)om_new(h, &server_type);
    if (!srv || !(srv->history = om_list_new(h, 0))) return fail(h, "making the server");

    /* 1. snapshots around 500 requests, compared by line */
    om_snapshot *before = om_trace_take_snapshot(h);
    for (int i = 0; i < 500; i++)
        if (handle_request(h, srv, i) < 0) return fail(h, "a request");
    om_snapshot *after = om_trace_take_snapshot(h);
    om_stats *st = om_snapshot_compare(after, before, OM_STAT_LINENO, 0);
    if (!st || !st->n) return fail(h, "comparing the snapshots");
    printf("[1] top differences after 500 requests (om_snapshot_compare):\n");
    for (size_t i = 0; i < st->n && i < 3; i++) {
        const om_frame *f = &st->items[i].traceback.frames[0];
        printf("    %s:%u: size=%zu B (%+td B), count=%zu (%+td)\n", base(f->filename), f->lineno,
               st->items[i].size, st->items[i].size_diff, st->items[i].count,
               st->items[i].count_diff);
    }

    /* 2. the same snapshots as files, for `objmem snapshot top/diff` */
    if (argc > 1) {
        char a[512], b[512];
        snprintf(a, sizeof a, "%s/before.omsnap", argv[1]);
        snprintf(b, sizeof b, "%s/after.omsnap", argv[1]);
        if (om_snapshot_dump(before, a) < 0 || om_snapshot_dump(after, b) < 0)
            return fail(h, "writing the snapshots");
        printf("[2] wrote %s and %s\n", a, b);
    }

    /* 3. a tracked object allocated at one of the growing lines, and who
     *    holds it (raw blocks, such as a dict's table, have no referrers) */
    size_t n;
    om_object **objs = om_gc_get_objects(h, -1, &n), *leaked = NULL;
    om_frame leak_at = {0};
    size_t top = st->n < 3 ? st->n : 3;
    for (size_t i = 0; objs && i < n && !leaked; i++) {
        om_traceback *tb = om_trace_object_traceback(objs[i]);
        for (size_t k = 0; tb && tb->nframe && k < top && !leaked; k++) {
            const om_frame *f = &st->items[k].traceback.frames[0];
            if (tb->frames[0].lineno == f->lineno &&
                strcmp(tb->frames[0].filename, f->filename) == 0)
                leaked = om_incref(objs[i]), leak_at = *f;
        }
        om_traceback_free(h, tb);
    }
    om_gc_list_free(h, objs, n);
    if (!leaked) return fail(h, "finding a leaked object");
    size_t n1, n2;
    om_object **r1 = om_gc_get_referrers(h, &leaked, 1, &n1);
    om_object **r2 = n1 ? om_gc_get_referrers(h, r1, 1, &n2) : NULL;
    printf("[3] a leaked %s from line %u is held by %zu object(s): a %s of %zu items,\n",
           om_type_of(leaked)->name, leak_at.lineno, n1, n1 ? om_type_of(r1[0])->name : "-",
           n1 && om_is_list(r1[0]) ? om_list_len(r1[0]) : 0);
    printf("    which is held by a %s: the server's history keeps every session.\n",
           n1 && n2 ? om_type_of(r2[0])->name : "-");
    int found = n1 == 1 && n2 == 1 && om_type_of(r2[0]) == &server_type;
    om_gc_list_free(h, r2, n1 ? n2 : 0);
    om_gc_list_free(h, r1, n1);
    om_decref(leaked);
    om_stats_free(st);
    om_snapshot_free(before);
    om_snapshot_free(after);

    /* 4. we "forget" the server: the leak report at destroy names it all */
    printf("[4] om_heap_destroy with report_leaks = 1 (the report goes to stderr):\n");
    fflush(stdout);
    om_trace_stop(h);
    om_heap_destroy(h);
    return found ? 0 : fail(NULL, "finding the server as the holder");
}
