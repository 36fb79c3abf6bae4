/*
 * tour_roots.c - the tour section "who holds it, exactly": a leak of
 * objects found by a snapshot diff (the leaking line) and by the growth of
 * the type counts (objgraph's show_growth), then explained by the exact
 * roots and the shortest chain from a root to a leaked object, and drawn
 * as a Graphviz picture. The same story writes the files of `objmem graph
 * demo` (DOT, SVG/PNG, .heapsnapshot, snapshot dumps) for docs/leak-hunting.md.
 */
#include <stdlib.h>
#include <string.h>

#include "tour.h"

/* A service with a cache, and the sessions that requests make. */
typedef struct service {
    OM_OBJECT_HEAD
    om_object *name, *cache;
} service;
typedef struct session {
    OM_OBJECT_HEAD
    om_object *user;
    char token[104]; /* the session's own bytes: 128-byte blocks */
} session;

static int service_traverse(om_object *o, om_visit_fn visit, void *arg)
{
    OM_VISIT(((service *)o)->name, visit, arg);
    OM_VISIT(((service *)o)->cache, visit, arg);
    return 0;
}
static void service_clear(om_object *o)
{
    om_clear_ref(&((service *)o)->name);
    om_clear_ref(&((service *)o)->cache);
}
static int service_name(om_object *o, const om_object *child, char *buf, size_t n)
{
    service *s = (service *)o;
    return snprintf(buf, n, "%s", s->cache == child ? ".cache" : s->name == child ? ".name" : "");
}
static int session_traverse(om_object *o, om_visit_fn visit, void *arg)
{
    OM_VISIT(((session *)o)->user, visit, arg);
    return 0;
}
static void session_clear(om_object *o)
{
    om_clear_ref(&((session *)o)->user);
}
static int session_name(om_object *o, const om_object *child, char *buf, size_t n)
{
    return ((session *)o)->user == child ? snprintf(buf, n, ".user") : 0;
}

static const om_type service_type = {
    .name = "Service",
    .basic_size = sizeof(service),
    .flags = OM_TYPE_GC,
    .traverse = service_traverse,
    .clear = service_clear,
    .dealloc = service_clear,
    .name_referent = service_name,
};
static const om_type session_type = {
    .name = "Session",
    .basic_size = sizeof(session),
    .flags = OM_TYPE_GC,
    .traverse = session_traverse,
    .clear = session_clear,
    .dealloc = session_clear,
    .name_referent = session_name,
};

/* app = {"config": {...}, "services": [Service("auth", cache=[])]}: one C
 * variable holds all of it. */
static om_object *build_app(om_heap *h)
{
    om_object *app = om_dict_new(h), *config = om_dict_new(h), *services = om_list_new(h, 0);
    service *auth = (service *)om_new(h, &service_type);
    if (!app || !config || !services || !auth) return NULL;
    auth->name = om_str_from_cstr(h, "auth");
    auth->cache = om_list_new(h, 0);
    om_object *k1 = om_str_from_cstr(h, "config"), *k2 = om_str_from_cstr(h, "services");
    om_object *port = om_str_from_cstr(h, "port"), *v = om_int_new(h, 8080);
    int bad = !auth->name || !auth->cache || !k1 || !k2 || !port || !v ||
              om_dict_set(config, port, v) < 0 || om_dict_set(app, k1, config) < 0 ||
              om_dict_set(app, k2, services) < 0 || om_list_append(services, OM_OBJ(auth)) < 0;
    om_xdecref(k1), om_xdecref(k2), om_xdecref(port), om_xdecref(v);
    om_decref(config), om_decref(services), om_decref(auth);
    if (bad) om_clear_ref(&app);
    return app;
}

static service *auth_of(om_object *app)
{
    om_object *k = om_str_from_cstr(om_heap_of(app), "services");
    om_object *services = k ? om_dict_get(app, k) : NULL;
    om_object *auth = services ? om_list_get(services, 0) : NULL;
    om_xdecref(k), om_xdecref(services);
    if (auth) om_decref(auth); /* borrowed: the list keeps it */
    return (service *)auth;
}

/* The leak: each request caches its session and nothing ever drops it. */
static __attribute__((noinline)) int handle_request(om_heap *h, service *auth, int i)
{
    char who[32];
    snprintf(who, sizeof who, "user-%d", i);
    session *s = (session *)om_new(h, &session_type); /* the leaking line */
    if (!s || !(s->user = om_str_from_cstr(h, who))) return -1;
    int rc = om_list_append(auth->cache, OM_OBJ(s));
    om_decref(s);
    return rc;
}

typedef struct story {
    om_heap *h;
    om_object *app;
    om_snapshot *before, *after;
    om_gc_counts *counts_before, *growth;
    om_object *leaked; /* the newest session (borrowed: the cache keeps it) */
} story;

enum { NREQUESTS = 200 };

static int run_story(story *st)
{
    om_heap *h = st->h = om_heap_new(NULL);
    if (!h || om_trace_start(h, 1) < 0 || !(st->app = build_app(h))) return 1;
    service *auth = auth_of(st->app);
    st->counts_before = om_gc_type_counts(h, OM_GC_COUNTS_OBJECTS);
    st->before = om_trace_take_snapshot(h);
    for (int i = 0; i < NREQUESTS; i++)
        if (!auth || handle_request(h, auth, i) < 0) return 1;
    st->after = om_trace_take_snapshot(h);
    om_gc_counts *now = om_gc_type_counts(h, 0);
    st->growth = now && st->counts_before ? om_gc_type_growth(st->counts_before, now) : NULL;
    om_gc_counts_free(now);
    size_t n;
    om_object **fresh = om_gc_get_new_objects(h, st->counts_before, &session_type, 0, &n);
    if (fresh && n == NREQUESTS) st->leaked = fresh[n - 1];
    om_gc_list_free(h, fresh, n);
    return !st->before || !st->after || !st->growth || !st->leaked;
}

static void end_story(story *st)
{
    om_gc_counts_free(st->growth);
    om_gc_counts_free(st->counts_before);
    om_snapshot_free(st->before);
    om_snapshot_free(st->after);
    om_xdecref(st->app);
    if (st->h) om_trace_stop(st->h);
    om_heap_destroy(st->h);
}

/* The DOT picture of the story: the leaked session and 4 steps around it. */
static int write_picture(story *st, FILE *out)
{
    return om_gc_write_dot(st->h, &st->leaked, 1, 4, OM_GC_DOT_REFERRERS | OM_GC_DOT_REFERENTS,
                           out);
}

static const char *base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int tell(story *st)
{
    om_heap *h = st->h;
    om_stats *d = om_snapshot_compare(st->after, st->before, OM_STAT_LINENO, 0);
    if (!d || !d->n) return 1;
    const om_frame *f = &d->items[0].traceback.frames[0];
    om_tour_say("%d requests later the snapshot diff's top line: %s:%u: %+td B in %+td blocks.",
                NREQUESTS, base(f->filename), f->lineno, d->items[0].size_diff,
                d->items[0].count_diff);
    om_stats_free(d);
    om_tour_say("Growth of the type counts (om_gc_type_growth, objgraph's show_growth):");
    for (size_t i = 0; i < st->growth->n && i < 3; i++)
        om_tour_say("  %-10s %6zu %+6td", st->growth->rows[i].type->name, st->growth->rows[i].count,
                    st->growth->rows[i].delta);
    size_t nr;
    om_gc_root *roots = om_gc_get_roots(h, NULL, 0, &nr);
    om_tour_say("om_gc_get_roots: %zu object%s held from outside the heap: a %s with %zu "
                "outside reference%s (our C variable `app`).",
                nr, nr == 1 ? "" : "s", nr ? om_type_of(roots[0].obj)->name : "-",
                nr ? roots[0].outside : 0, nr && roots[0].outside == 1 ? "" : "s");
    int ok = nr == 1 && roots[0].obj == st->app;
    om_gc_roots_free(h, roots, nr);
    om_gc_chain *c = om_gc_find_chain(h, st->leaked);
    char line[512];
    if (c) om_gc_chain_format(c, line, sizeof line);
    om_tour_say("om_gc_get_new_objects: %zu new Sessions since the first count; for one of "
                "them",
                (size_t)NREQUESTS);
    om_tour_say("om_gc_find_chain gives the shortest chain from a root, each hop named:");
    om_tour_say("  %s", c ? line : om_errmsg(h));
    ok = ok && c && c->n == 5 && c->links[0].obj == st->app;
    om_gc_chain_free(h, c);
    FILE *f2 = tmpfile();
    long bytes = f2 && write_picture(st, f2) == 0 ? ftell(f2) : -1;
    if (f2) fclose(f2);
    om_tour_say("om_gc_write_dot draws it: `objmem graph demo -o leak.svg` (Graphviz).");
    return ok && bytes > 0 ? 0 : 1;
}

int om_tour_roots(void)
{
    story st;
    memset(&st, 0, sizeof st);
    om_tour_say("A leak of objects, explained: the exact roots and the chain that holds it.");
    int rc = run_story(&st) || tell(&st);
    end_story(&st);
    return rc;
}

int om_tour_roots_files(const char *dot, const char *snap, const char *old_dump,
                        const char *new_dump)
{
    story st;
    memset(&st, 0, sizeof st);
    int rc = run_story(&st);
    if (!rc && old_dump)
        rc = om_snapshot_dump(st.before, old_dump) < 0 || om_snapshot_dump(st.after, new_dump) < 0;
    FILE *f = NULL;
    if (!rc && dot) {
        f = strcmp(dot, "-") ? fopen(dot, "w") : stdout;
        rc = !f || write_picture(&st, f);
        if (f && f != stdout) rc |= fclose(f) != 0;
    }
    if (!rc && snap) {
        f = fopen(snap, "w");
        rc = !f || om_heap_write_heapsnapshot(st.h, f) < 0;
        if (f) rc |= fclose(f) != 0;
    }
    if (rc) fprintf(stderr, "objmem graph: %s\n", st.h ? om_errmsg(st.h) : "no heap");
    end_story(&st);
    return rc;
}
