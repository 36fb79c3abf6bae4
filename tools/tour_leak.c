/*
 * tour_leak.c - tour sections on finding memory bugs: a leak of objects
 * found by a snapshot diff, then om_gc_get_referrers naming the object
 * that holds them; and debug mode catching a one-byte overrun, in a child
 * process (the report ends in abort), whose report the parent shows.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tour.h"

/* A record with a name, and a registry that holds records in a list. */
typedef struct rec {
    OM_OBJECT_HEAD
    om_object *items;
    const char *name;
} rec;

static int rec_traverse(om_object *o, om_visit_fn visit, void *arg)
{
    OM_VISIT(((rec *)o)->items, visit, arg);
    return 0;
}
static void rec_clear(om_object *o)
{
    om_clear_ref(&((rec *)o)->items);
}

static const om_type rec_type = {
    .name = "rec",
    .basic_size = sizeof(rec),
    .flags = OM_TYPE_GC,
    .traverse = rec_traverse,
    .clear = rec_clear,
    .dealloc = rec_clear,
};

static rec *new_rec(om_heap *h, const char *name)
{
    rec *r = (rec *)om_new(h, &rec_type);
    if (r) r->name = name;
    return r;
}

/* The leak: each request makes a session, and "audit_log" keeps it. */
static __attribute__((noinline)) int handle_request(om_heap *h, rec *audit_log)
{
    rec *session = (rec *)om_new(h, &rec_type); /* the leaking line */
    if (!session) return -1;
    session->name = "session";
    int rc = om_list_append(audit_log->items, OM_OBJ(session));
    om_decref(session);
    return rc;
}

static const char *base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* The first object of generation 0 allocated at file:line, or NULL. */
static om_object *allocated_at(om_heap *h, const om_frame *where)
{
    size_t n;
    om_object **objs = om_gc_get_objects(h, -1, &n), *found = NULL;
    for (size_t i = 0; objs && i < n && !found; i++) {
        om_traceback *tb = om_trace_object_traceback(objs[i]);
        if (tb && tb->nframe && tb->frames[0].lineno == where->lineno &&
            strcmp(tb->frames[0].filename, where->filename) == 0)
            found = om_incref(objs[i]);
        om_traceback_free(h, tb);
    }
    om_gc_list_free(h, objs, n);
    return found;
}

static int referrers_story(om_heap *h)
{
    rec *log = new_rec(h, "audit_log"), *cfg = new_rec(h, "config");
    if (!log || !cfg || !(log->items = om_list_new(h, 0)) || !(cfg->items = om_list_new(h, 0)))
        return 1;
    om_snapshot *before = om_trace_take_snapshot(h);
    for (int i = 0; i < 100; i++)
        if (handle_request(h, log) < 0) return 1;
    om_snapshot *after = om_trace_take_snapshot(h);
    om_stats *st = before && after ? om_snapshot_compare(after, before, OM_STAT_LINENO, 0) : NULL;
    if (!st || !st->n) return 1;
    const om_stat *top = &st->items[0];
    om_tour_say(
        "100 requests later, om_snapshot_compare's top line: %s:%u %s: %+td B in %+td blocks.",
        base(top->traceback.frames[0].filename), top->traceback.frames[0].lineno,
        top->traceback.frames[0].name ? top->traceback.frames[0].name : "", top->size_diff,
        top->count_diff);
    om_object *leaked = allocated_at(h, &top->traceback.frames[0]);
    om_tour_say("An object allocated there (om_trace_object_traceback): a \"%s\", count %u.",
                leaked ? ((rec *)leaked)->name : "?", leaked ? om_refcount(leaked) - 1 : 0);
    size_t n1 = 0, n2 = 0;
    om_object **r1 = leaked ? om_gc_get_referrers(h, &leaked, 1, &n1) : NULL;
    om_object **r2 = n1 ? om_gc_get_referrers(h, r1, n1, &n2) : NULL;
    om_tour_say("om_gc_get_referrers (gc.get_referrers): held by %zu %s, a %s;", n1,
                om_tour_plural(n1, "object", "objects"), n1 ? om_type_of(r1[0])->name : "-");
    for (size_t i = 0; i < n2; i++)
        if (om_type_of(r2[i]) == &rec_type)
            om_tour_say("and that %s by the \"%s\" record: the audit log keeps every session.",
                        n1 ? om_type_of(r1[0])->name : "-", ((rec *)r2[i])->name);
    om_gc_list_free(h, r2, n2);
    om_gc_list_free(h, r1, n1);
    om_xdecref(leaked);
    om_stats_free(st);
    om_snapshot_free(before);
    om_snapshot_free(after);
    om_decref(log);
    om_decref(cfg);
    return n1 == 1 && n2 >= 1 ? 0 : 1;
}

int om_tour_referrers(void)
{
    om_heap *h = om_heap_new(NULL);
    if (!h) return 1;
    om_tour_say("A leak of objects: the diff names the line, get_referrers names who keeps them.");
    int rc = om_trace_start(h, 1) < 0 || referrers_story(h);
    om_trace_stop(h);
    om_heap_destroy(h);
    return rc;
}

/* In the child: a debug heap, one byte written past a 24-byte block,
 * then om_free, which finds the damaged guard bytes and aborts. */
static void overrun_child(void)
{
    om_config cfg;
    om_config_init(&cfg);
    cfg.debug = 1;
    om_heap *h = om_heap_new(&cfg);
    if (!h) _exit(3);
    char *p = om_malloc(h, 24);
    if (!p) _exit(3);
    memset(p, 'x', 24);
    p[24] = '!'; /* the overrun: one byte past the end */
    om_free(h, p);
    _exit(0); /* not reached: om_free aborts */
}

int om_tour_debug(void)
{
    int fds[2];
    if (pipe(fds) < 0) return 1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        signal(SIGABRT, SIG_DFL);
        overrun_child();
    }
    close(fds[1]);
    char buf[4096];
    size_t len = 0;
    ssize_t r;
    while (len < sizeof buf - 1 && (r = read(fds[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)r;
    buf[len] = 0;
    close(fds[0]);
    int status;
    if (waitpid(pid, &status, 0) < 0) return 1;
    int aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
    om_tour_say("Debug mode (om_config.debug = 1 or OBJMEM_DEBUG=1) puts guard bytes around");
    om_tour_say("every block. A child writes one byte past a 24-byte block and frees it;");
    om_tour_say("om_free finds the damage and stops the program. The first lines of its report:");
    int lines = 0;
    for (char *s = buf, *e; *s && lines < 5; s = e + 1, lines++) {
        e = strchr(s, '\n');
        if (!e) e = s + strlen(s);
        om_tour_say("  | %.*s%s", (int)(e - s > 80 ? 80 : e - s), s, e - s > 80 ? " ..." : "");
        if (!*e) break;
    }
    om_tour_say("The child %s.", aborted ? "died of SIGABRT, as it should" : "did not abort (?)");
    return aborted && strstr(buf, "overrun") ? 0 : 1;
}
