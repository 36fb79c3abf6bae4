/*
 * fuzz_api.c - libFuzzer target: the input bytes are a program of API
 * operations on one debug-mode heap (raw alloc/realloc/free, new objects of
 * a node type with child slots, link/unlink, drop, weak references with
 * callbacks, collect, freeze/unfreeze, untrack/track, trace start/stop/
 * snapshot). After every step a reference model is checked:
 *   - every object reachable from the model's roots is alive (its dealloc
 *     has not run) with the right id, magic and child pointers;
 *   - no object is deallocated twice; a finalizer runs at most once;
 *   - a weak reference gives its referent while it is alive, NULL after
 *     (or once a collection cleared it before a finalizer resurrected it),
 *     and its callback ran exactly once when the referent died;
 *   - raw blocks keep their contents through realloc;
 *   - om_heap_check passes (after the first 32 steps: every 16th step and
 *     after every collect, freeze and track step).
 * After full collections until one finds nothing, every object that nothing
 * the collector cannot see (roots, untracked or frozen objects) reaches
 * must be dead.
 * Finalizers may resurrect their object (once) into a root slot (PEP 442).
 *
 * Built as a libFuzzer target (make fuzz) and, with fuzz_main.c, as a plain
 * program that runs the corpus in tests/fuzz/corpus/fuzz_api/ (ctest, label
 * fuzz). Invariants are checked with CHECK, which aborts with a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "objmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_api: check failed at line %d: %s\n", __LINE__, #c);              \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

enum { NSLOT = 4, MAXOBJ = 384, NROOT = 8, NWR = 8, NRAW = 8, MAGIC = 0x5eed1e55 };
#define RES_ROOT (NROOT - 1) /* where finalizers resurrect to */

typedef struct fnode {
    OM_OBJECT_HEAD
    om_object *slot[NSLOT];
    int id;
    int magic;
} fnode;

typedef struct mobj {   /* the model of one object                      */
    fnode *p;           /* valid while !dead                            */
    int child[NSLOT];   /* ids, -1 = NULL                               */
    unsigned char dead; /* its dealloc ran                              */
    unsigned char untracked, frozen, finalized, resurrect;
} mobj;

typedef struct mwr {
    om_object *w; /* a strong reference to the weakref, NULL = free slot */
    int ref;      /* referent id                                       */
    int calls;    /* callback calls                                    */
} mwr;

typedef struct mraw {
    unsigned char *p;
    size_t size;
    unsigned char fill;
} mraw;

static struct {
    om_heap *h;
    mobj obj[MAXOBJ];
    int nobj;
    int root[NROOT]; /* ids, -1 = empty; the real references are obj[id].p */
    mwr wr[NWR];
    mraw raw[NRAW];
    int mark[MAXOBJ];
    int epoch;
} g;

static int g_show; /* FUZZ_API_SHOW=1: print the program as it runs */
#define SHOW(...) (g_show ? (void)fprintf(stderr, __VA_ARGS__) : (void)0)

/* ------------------------------------------------------------ the type */

static int f_traverse(om_object *o, om_visit_fn visit, void *arg)
{
    fnode *n = (fnode *)o;
    for (int i = 0; i < NSLOT; i++) OM_VISIT(n->slot[i], visit, arg);
    return 0;
}

static void f_clear(om_object *o)
{
    fnode *n = (fnode *)o;
    CHECK(n->magic == MAGIC);
    for (int i = 0; i < NSLOT; i++) om_clear_ref(&n->slot[i]);
}

static void f_dealloc(om_object *o)
{
    fnode *n = (fnode *)o;
    CHECK(n->magic == MAGIC && n->id >= 0 && n->id < g.nobj);
    mobj *m = &g.obj[n->id];
    CHECK(!m->dead && m->p == n);
    m->dead = 1;
    f_clear(o);
    n->magic = 0;
}

static void f_finalize(om_object *o)
{
    fnode *n = (fnode *)o;
    CHECK(n->magic == MAGIC);
    mobj *m = &g.obj[n->id];
    CHECK(!m->dead && !m->finalized);
    m->finalized = 1;
    if (m->resurrect && g.root[RES_ROOT] < 0) {
        om_incref(o);
        g.root[RES_ROOT] = n->id;
    }
}

static const om_type fnode_type = {
    .name = "fnode",
    .basic_size = sizeof(fnode),
    .flags = OM_TYPE_GC | OM_TYPE_WEAKREFABLE,
    .traverse = f_traverse,
    .clear = f_clear,
    .finalize = f_finalize,
    .dealloc = f_dealloc,
};

/* ------------------------------------------------------------ the model */

/* Mark everything reachable from the roots (and, with anchors, from
 * objects the collector cannot see). Returns the number marked. */
static int mark_from(int anchors)
{
    static int stack[MAXOBJ * (NSLOT + 1) + NROOT];
    int sp = 0, n = 0;
    g.epoch++;
    for (int r = 0; r < NROOT; r++)
        if (g.root[r] >= 0) stack[sp++] = g.root[r];
    if (anchors)
        for (int i = 0; i < g.nobj; i++)
            if (!g.obj[i].dead && (g.obj[i].untracked || g.obj[i].frozen)) stack[sp++] = i;
    while (sp > 0) {
        int id = stack[--sp];
        if (g.mark[id] == g.epoch) continue;
        g.mark[id] = g.epoch;
        n++;
        for (int s = 0; s < NSLOT; s++)
            if (g.obj[id].child[s] >= 0) stack[sp++] = g.obj[id].child[s];
    }
    return n;
}

static void check_model(int heap_check)
{
    mark_from(0);
    for (int id = 0; id < g.nobj; id++) {
        if (g.mark[id] != g.epoch) continue;
        mobj *m = &g.obj[id];
        CHECK(!m->dead);
        CHECK(m->p->magic == MAGIC && m->p->id == id);
        CHECK(om_refcount(OM_OBJ(m->p)) >= 1);
        for (int s = 0; s < NSLOT; s++) {
            int c = m->child[s];
            CHECK(m->p->slot[s] == (c >= 0 ? OM_OBJ(g.obj[c].p) : NULL));
        }
        CHECK(om_gc_is_tracked(OM_OBJ(m->p)) == !m->untracked);
    }
    for (int i = 0; i < NWR; i++) {
        mwr *w = &g.wr[i];
        if (!w->w) continue;
        om_object *r = om_weakref_get(w->w);
        if (g_show)
            fprintf(stderr, "wr %d -> %d dead %d calls %d got %p\n", i, w->ref, g.obj[w->ref].dead,
                    w->calls, (void *)r);
        if (g.obj[w->ref].dead) {
            CHECK(r == NULL && w->calls == 1);
        } else if (w->calls == 1) {
            /* a collection cleared it before a finalizer resurrected the
             * referent (weak references are cleared first, as CPython) */
            CHECK(r == NULL && g.obj[w->ref].finalized);
        } else {
            CHECK(r == OM_OBJ(g.obj[w->ref].p) && w->calls == 0);
            om_decref(r);
        }
    }
    for (int i = 0; i < NRAW; i++)
        for (size_t k = 0; k < g.raw[i].size; k++) CHECK(g.raw[i].p[k] == g.raw[i].fill);
    if (heap_check) CHECK(om_heap_check(g.h) == 0);
}

/* After a full collection: what nothing invisible to the collector
 * reaches is gone. */
static void check_collected(void)
{
    mark_from(1);
    for (int id = 0; id < g.nobj; id++) {
        mobj *m = &g.obj[id];
        if (g.mark[id] == g.epoch || m->dead) continue;
        fprintf(stderr,
                "fuzz_api: object %d survived a full collection: refcount %u, tracked %d, "
                "finalized %d, children",
                id, om_refcount(OM_OBJ(m->p)), om_gc_is_tracked(OM_OBJ(m->p)), m->finalized);
        for (int s = 0; s < NSLOT; s++) fprintf(stderr, " %d", m->child[s]);
        fprintf(stderr, "\n");
        CHECK(m->dead);
    }
}

/* ---------------------------------------------------------- the program */

typedef struct reader {
    const uint8_t *p, *end;
} reader;

static unsigned next(reader *r)
{
    return r->p < r->end ? *r->p++ : 0;
}

/* A reachable object's id, chosen by b, or -1 when there is none. */
static int pick(unsigned b)
{
    int n = mark_from(0);
    if (n == 0) return -1;
    int k = (int)(b % (unsigned)n);
    for (int id = 0; id < g.nobj; id++)
        if (g.mark[id] == g.epoch && k-- == 0) return id;
    return -1;
}

static void set_root(int r, int id)
{
    int old = g.root[r];
    if (id >= 0) om_incref(g.obj[id].p);
    g.root[r] = id;
    if (old >= 0) om_decref(g.obj[old].p); /* may run finalizers */
}

static void wr_callback(om_object *wr, void *ctx)
{
    mwr *w = ctx;
    CHECK(w->w == wr && om_weakref_get(wr) == NULL);
    w->calls++;
}

static void op_new(reader *r)
{
    unsigned a = next(r);
    if (g.nobj >= MAXOBJ) return;
    fnode *n = (fnode *)om_new(g.h, &fnode_type);
    CHECK(n != NULL);
    int id = g.nobj++;
    memset(&g.obj[id], 0, sizeof g.obj[id]);
    for (int s = 0; s < NSLOT; s++) g.obj[id].child[s] = -1;
    g.obj[id].p = n;
    g.obj[id].resurrect = (a & 0x80) != 0;
    n->id = id;
    n->magic = MAGIC;
    int root = (int)(a % (NROOT - 1));
    set_root(root, id);
    SHOW("  new %d in root %d%s\n", id, root, g.obj[id].resurrect ? " (resurrects)" : "");
    om_decref(n); /* the root holds it now */
}

static void op_link(reader *r, int unlink)
{
    int a = pick(next(r));
    unsigned s = next(r) % NSLOT;
    int b = unlink ? -1 : pick(next(r));
    if (a < 0) return;
    fnode *n = g.obj[a].p;
    om_object *old = n->slot[s];
    n->slot[s] = b >= 0 ? om_incref(g.obj[b].p) : NULL;
    g.obj[a].child[s] = b;
    SHOW("  link %d.slot%u = %d\n", a, s, b);
    om_xdecref(old); /* may free a subgraph */
}

static void op_weakref(reader *r)
{
    unsigned i = next(r) % NWR;
    int a = pick(next(r));
    mwr *w = &g.wr[i];
    if (w->w) { /* drop the weak reference: its callback never runs */
        om_object *old = w->w;
        w->w = NULL;
        om_decref(old);
        return;
    }
    if (a < 0) return;
    w->ref = a;
    w->calls = 0;
    w->w = om_weakref_new(g.h, OM_OBJ(g.obj[a].p), wr_callback, w);
    CHECK(w->w != NULL);
}

static void op_raw(reader *r)
{
    unsigned i = next(r) % NRAW, k = next(r), sz = next(r);
    mraw *m = &g.raw[i];
    size_t size = (k & 1) ? sz * 40u : sz; /* up to 10 KiB: small and large */
    unsigned char fill = (unsigned char)(k | 1);
    if (m->p && (k & 2)) { /* free */
        om_free(g.h, m->p);
        m->p = NULL;
        m->size = 0;
        return;
    }
    unsigned char *p = m->p ? om_realloc(g.h, m->p, size) : om_malloc(g.h, size);
    CHECK(p != NULL);
    size_t keep = m->size < size ? m->size : size;
    for (size_t j = 0; j < keep; j++) CHECK(p[j] == m->fill);
    CHECK(om_usable_size(g.h, p) >= size);
    memset(p, fill, size);
    m->p = p;
    m->size = size;
    m->fill = fill;
}

static void op_collect(reader *r)
{
    int gen = (int)(next(r) % 3);
    long n = om_gc_collect(g.h, gen);
    SHOW("  collect %d: %ld\n", gen, n);
    CHECK(n >= 0);
    if (gen != 2) return;
    /* Freeing garbage may free an untracked object whose references kept a
     * cycle alive: that cycle is garbage only now. Collect until a
     * collection finds nothing, then nothing unanchored may be left. */
    for (int i = 0; n > 0 && i <= MAXOBJ; i++) {
        n = om_gc_collect(g.h, 2);
        CHECK(n >= 0);
    }
    check_collected();
}

static void op_freeze(reader *r)
{
    if (next(r) & 1) {
        SHOW("  freeze\n");
        om_gc_freeze(g.h);
        for (int id = 0; id < g.nobj; id++)
            if (!g.obj[id].dead && !g.obj[id].untracked) g.obj[id].frozen = 1;
    } else {
        SHOW("  unfreeze\n");
        om_gc_unfreeze(g.h);
        for (int id = 0; id < g.nobj; id++) g.obj[id].frozen = 0;
    }
}

static void op_track(reader *r)
{
    int a = pick(next(r));
    if (a < 0) return;
    om_object *o = OM_OBJ(g.obj[a].p);
    if (g.obj[a].untracked) {
        om_gc_track(o);
        g.obj[a].untracked = 0;
        SHOW("  track %d\n", a);
    } else {
        SHOW("  untrack %d\n", a);
        om_gc_untrack(o);
        g.obj[a].untracked = 1;
        g.obj[a].frozen = 0;
    }
}

static int g_step;
static int frames(void *ctx, om_frame *out, int max)
{
    (void)ctx;
    static const char *const files[] = {"a.py", "b.py", "c.py"};
    int n = 1 + g_step % 3;
    for (int i = 0; i < n && i < max; i++)
        out[i] = (om_frame){files[(g_step + i) % 3], (uint32_t)(g_step % 50 + i), NULL};
    return n;
}

static void op_trace(reader *r)
{
    unsigned a = next(r);
    if (!om_trace_is_tracing(g.h)) {
        CHECK(om_trace_start(g.h, 1 + (int)(a % 4)) == 0);
        /* script frames mostly: native ones need symbolizing (slow) */
        if (a % 8 != 7) CHECK(om_trace_set_frame_provider(g.h, frames, NULL) == 0);
    } else if (a & 1) {
        om_snapshot *s = om_trace_take_snapshot(g.h);
        CHECK(s != NULL);
        om_stats *st =
            om_snapshot_statistics(s, (a & 2) ? OM_STAT_LINENO : OM_STAT_TRACEBACK, (a & 2) != 0);
        CHECK(st != NULL);
        om_stats_free(st);
        om_snapshot_free(s);
    } else {
        om_trace_stop(g.h);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader rd = {data, data + size};
    om_config cfg;
    om_config_init(&cfg);
    cfg.debug = 1;
    memset(&g, 0, sizeof g);
    g_show = getenv("FUZZ_API_SHOW") != NULL;
    g.h = om_heap_new(&cfg);
    CHECK(g.h != NULL);
    for (int r = 0; r < NROOT; r++) g.root[r] = -1;
    unsigned c = next(&rd); /* automatic collection: threshold or off */
    if (c & 0x80) om_gc_disable(g.h);
    CHECK(om_gc_set_threshold(g.h, 1 + (long)(c % 64), 1 + (long)((c >> 3) % 4), 2) == 0);

    for (int step = 0; rd.p < rd.end && step < 2000; step++) {
        g_step = step;
        unsigned op = rd.p[0] % 12;
        if (g_show)
            fprintf(stderr, "step %d: op %u args %u %u %u\n", step, op,
                    rd.p + 1 < rd.end ? rd.p[1] : 0, rd.p + 2 < rd.end ? rd.p[2] : 0,
                    rd.p + 3 < rd.end ? rd.p[3] : 0);
        switch (next(&rd) % 12) {
        case 0:
        case 1:
            op_new(&rd);
            break;
        case 2:
        case 3:
            op_link(&rd, 0);
            break;
        case 4:
            op_link(&rd, 1);
            break;
        case 5: { /* drop or copy a root */
            unsigned a = next(&rd), b = next(&rd);
            set_root((int)(a % NROOT), (b & 1) ? g.root[b / 2 % NROOT] : -1);
            break;
        }
        case 6:
            op_weakref(&rd);
            break;
        case 7:
            op_raw(&rd);
            break;
        case 8:
            op_collect(&rd);
            break;
        case 9:
            op_freeze(&rd);
            break;
        case 10:
            op_track(&rd);
            break;
        case 11:
            op_trace(&rd);
            break;
        }
        /* om_heap_check walks every arena: after the first steps, only
         * every 16th step and after the collector's operations */
        check_model(step < 32 || step % 16 == 0 || op == 8 || op == 9 || op == 10);
    }

    /* Tear down: drop everything; a full collection frees it all. */
    for (int r = 0; r < NROOT; r++) set_root(r, -1);
    for (int i = 0; i < NRAW; i++) om_free(g.h, g.raw[i].p);
    memset(g.raw, 0, sizeof g.raw);
    om_gc_unfreeze(g.h);
    for (int id = 0; id < g.nobj; id++) {
        g.obj[id].frozen = 0;
        if (!g.obj[id].dead && g.obj[id].untracked) { /* untracked cycles: track to collect */
            om_gc_track(OM_OBJ(g.obj[id].p));
            g.obj[id].untracked = 0;
        }
    }
    for (long n = 1; n > 0 || g.root[RES_ROOT] >= 0;) {
        set_root(RES_ROOT, -1); /* resurrected: each object only once */
        n = om_gc_collect(g.h, 2);
        CHECK(n >= 0);
    }
    check_model(1);
    check_collected();
    for (int i = 0; i < NWR; i++) om_xdecref(g.wr[i].w);
    om_trace_stop(g.h);
    CHECK(om_heap_check(g.h) == 0);
    om_heap_stats st;
    om_heap_get_stats(g.h, &st);
    if (st.objects != st.heap_objects || st.raw_blocks != st.heap_raw_blocks)
        om_heap_print_stats(g.h, stderr);
    CHECK(st.objects == st.heap_objects && st.raw_blocks == st.heap_raw_blocks);
    om_heap_destroy(g.h);
    return 0;
}
