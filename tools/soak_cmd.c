/*
 * soak_cmd.c - `objmem soak`: a seeded random workload that runs for a
 * chosen time on one heap and prints, every few seconds, the elapsed time,
 * live objects, RSS, arenas and collections (docs/reliability.md).
 *
 * The workload keeps a table of slots, filled before the clock starts; each
 * step replaces one slot's content with a new random thing: a raw block
 * (small or large, realloc'ed now and then), a list of ints and floats, a
 * dict of strings, a tuple, an interned string, or a small cycle of GC
 * nodes with a weak reference and sometimes a finalizer. What a slot held
 * is dropped: acyclic things die by reference counting, cycles wait for the
 * automatic collector. The live set is steady in expectation, so RSS must
 * be too: the command fails (exit 1) when the RSS at the end of the run
 * (highest sample of the last half) is more than 10 % above the RSS at the
 * half-way point, or when om_heap_check fails at a report.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "objmem.h"

int om_cmd_soak(int argc, char **argv);

/* ------------------------------------------------------------ the node */

typedef struct snode {
    OM_OBJECT_HEAD
    om_object *next;
    om_object *payload;
} snode;

static int snode_traverse(om_object *o, om_visit_fn visit, void *arg)
{
    OM_VISIT(((snode *)o)->next, visit, arg);
    OM_VISIT(((snode *)o)->payload, visit, arg);
    return 0;
}
static void snode_clear(om_object *o)
{
    om_clear_ref(&((snode *)o)->next);
    om_clear_ref(&((snode *)o)->payload);
}
static long g_finalized;
static void snode_finalize(om_object *o)
{
    (void)o;
    g_finalized++;
}
static const om_type snode_type = {
    .name = "soak_node",
    .basic_size = sizeof(snode),
    .flags = OM_TYPE_GC | OM_TYPE_WEAKREFABLE,
    .traverse = snode_traverse,
    .clear = snode_clear,
    .dealloc = snode_clear,
};
static const om_type fsnode_type = {
    .name = "soak_fnode",
    .basic_size = sizeof(snode),
    .flags = OM_TYPE_GC | OM_TYPE_WEAKREFABLE,
    .traverse = snode_traverse,
    .clear = snode_clear,
    .finalize = snode_finalize,
    .dealloc = snode_clear,
};

/* ------------------------------------------------------------ the slots */

typedef struct slot {
    om_object *obj; /* an object, or NULL                 */
    void *raw;      /* or a raw block of raw_size bytes   */
    size_t raw_size;
} slot;

static uint64_t g_rng;
static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

static void drop(om_heap *h, slot *s)
{
    om_clear_ref(&s->obj);
    if (s->raw) om_free(h, s->raw);
    s->raw = NULL;
    s->raw_size = 0;
}

static om_object *make_str(om_heap *h, uint64_t r)
{
    char buf[64];
    int n = snprintf(buf, sizeof buf, "soak-%llu", (unsigned long long)(r % 100000));
    return om_str_new(h, buf, (size_t)n);
}

/* A cycle of 2..6 nodes with a payload, a weak reference to one of them
 * kept in the payload of another (so it dies with the cycle). */
static om_object *make_cycle(om_heap *h, uint64_t r)
{
    int n = 2 + (int)(r % 5);
    snode *first = (snode *)om_new(h, (r >> 8) % 4 ? &snode_type : &fsnode_type), *prev = first;
    if (!first) return NULL;
    for (int i = 1; i < n; i++) {
        snode *x = (snode *)om_new(h, &snode_type);
        if (!x) break;
        x->payload = om_int_new(h, (int64_t)(r >> 16) + i);
        prev->next = OM_OBJ(x); /* steals x's reference */
        prev = x;
    }
    prev->next = om_incref(first);
    if (!first->payload) first->payload = om_weakref_new(h, prev->next, NULL, NULL);
    return OM_OBJ(first);
}

static void fill(om_heap *h, slot *s)
{
    uint64_t r = rnd();
    drop(h, s);
    switch (r % 8) {
    case 0: { /* raw block, small or large */
        size_t size = (r >> 8) % 16 ? 1 + (r >> 16) % 512 : 513 + (r >> 16) % 20000;
        s->raw = om_malloc(h, size);
        if (s->raw) memset(s->raw, 0x5a, size);
        s->raw_size = s->raw ? size : 0;
        break;
    }
    case 1: { /* list of ints and floats */
        size_t n = (r >> 8) % 40;
        om_object *l = om_list_new(h, 0);
        for (size_t i = 0; l && i < n; i++) {
            om_object *v = i % 2 ? om_int_new(h, (int64_t)(r >> 12) + (int64_t)i * 1000)
                                 : om_float_new(h, (double)i / 3.0);
            if (v) om_list_append_steal(l, v);
        }
        s->obj = l;
        break;
    }
    case 2: { /* dict of strings */
        size_t n = (r >> 8) % 30;
        om_object *d = om_dict_new(h);
        for (size_t i = 0; d && i < n; i++) {
            om_object *k = make_str(h, rnd()), *v = om_int_new(h, (int64_t)i);
            if (k && v) om_dict_set(d, k, v);
            om_xdecref(k);
            om_xdecref(v);
        }
        s->obj = d;
        break;
    }
    case 3: { /* tuple */
        size_t n = 1 + (r >> 8) % 8;
        om_object *t = om_tuple_new(h, n);
        for (size_t i = 0; t && i < n; i++) {
            om_object *v = make_str(h, rnd());
            if (v) om_tuple_set_steal(t, (ptrdiff_t)i, v);
        }
        s->obj = t;
        break;
    }
    case 4: { /* interned string */
        om_object *str = make_str(h, (r >> 8) % 5000);
        s->obj = str ? om_str_intern(h, str) : NULL;
        om_xdecref(str);
        break;
    }
    case 5: /* grow a raw block by realloc */
        s->raw_size = 16 + (r >> 8) % 200;
        s->raw = om_malloc(h, s->raw_size);
        if (s->raw) {
            size_t to = s->raw_size * (2 + (r >> 20) % 20);
            void *q = om_realloc(h, s->raw, to);
            if (q) {
                s->raw = q;
                s->raw_size = to;
            }
            memset(s->raw, 0x3c, s->raw_size);
        } else {
            s->raw_size = 0;
        }
        break;
    default: /* cycles: the collector's work */
        s->obj = make_cycle(h, r);
        break;
    }
}

/* ---------------------------------------------------------- the figures */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (!f) return 0;
    if (fscanf(f, "%ld %ld", &size, &res) != 2) res = 0;
    fclose(f);
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static size_t collections(om_heap *h)
{
    om_gc_stats st[3];
    om_gc_get_stats(h, st);
    return st[0].collections + st[1].collections + st[2].collections;
}

static int usage(void)
{
    fprintf(stderr, "usage: objmem soak [--minutes N | --seconds N] [--seed S] [--interval SEC]\n"
                    "                   [--slots N]\n"
                    "  prints: elapsed_s live_objects rss_kib arenas collections steps\n"
                    "  exit 1 when RSS grows more than 10%% over the last half of the run\n");
    return 2;
}

int om_cmd_soak(int argc, char **argv)
{
    double seconds = 60, interval = 5;
    unsigned long long seed = 1;
    size_t nslots = 20000;
    for (int i = 0; i < argc; i += 2) { /* --option value pairs */
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) return usage();
        if (strcmp(a, "--minutes") == 0)
            seconds = atof(v) * 60;
        else if (strcmp(a, "--seconds") == 0)
            seconds = atof(v);
        else if (strcmp(a, "--seed") == 0)
            seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--interval") == 0)
            interval = atof(v);
        else if (strcmp(a, "--slots") == 0)
            nslots = (size_t)strtoull(v, NULL, 10);
        else
            return usage();
    }
    if (seconds <= 0 || interval <= 0 || nslots == 0) return usage();
    g_rng = seed * 0x9E3779B97F4A7C15ull + 1;

    om_heap *h = om_heap_new(NULL);
    slot *slots = calloc(nslots, sizeof *slots);
    if (!h || !slots) {
        fprintf(stderr, "objmem soak: no heap\n");
        return 1;
    }
    for (size_t i = 0; i < nslots; i++) fill(h, &slots[i]); /* the steady live set */

    enum { MAXS = 100000 };
    static long rss[MAXS];
    static double at[MAXS];
    int ns = 0, bad = 0;
    printf("# objmem soak: seed %llu, %zu slots, %.0f s, a report every %.1f s\n", seed, nslots,
           seconds, interval);
    printf("# elapsed_s live_objects rss_kib arenas collections steps\n");
    double t0 = now_s(), next = 0;
    unsigned long long steps = 0;
    for (;;) {
        double t = now_s() - t0;
        if (t >= next || t >= seconds) {
            om_heap_stats st;
            om_heap_get_stats(h, &st);
            if (om_heap_check(h) != 0) bad = 1;
            if (ns < MAXS) {
                rss[ns] = rss_kib();
                at[ns++] = t;
            }
            printf("%.1f %zu %ld %zu %zu %llu\n", t, st.objects, rss_kib(), st.arenas,
                   collections(h), steps);
            fflush(stdout);
            next += interval;
            if (t >= seconds) break;
        }
        for (int k = 0; k < 1000; k++, steps++) fill(h, &slots[rnd() % nslots]);
    }

    /* RSS at half-time against the highest of the last half */
    long mid = 0, top = 0;
    for (int i = 0; i < ns; i++) {
        if (at[i] >= seconds / 2 && mid == 0) mid = rss[i];
        if (at[i] >= seconds / 2 && rss[i] > top) top = rss[i];
    }
    double growth = mid > 0 ? 100.0 * (double)(top - mid) / (double)mid : 0;
    printf("# steps %llu, finalizers %ld, RSS at half-time %ld KiB, highest after %ld KiB "
           "(%+.1f%%)%s\n",
           steps, g_finalized, mid, top, growth, bad ? ", om_heap_check FAILED" : "");
    for (size_t i = 0; i < nslots; i++) drop(h, &slots[i]);
    free(slots);
    om_gc_collect(h, -1);
    om_heap_destroy(h);
    if (bad) return 1;
    if (growth > 10.0) {
        printf("# FAIL: RSS grew more than 10%% over the last half of the run\n");
        return 1;
    }
    return 0;
}
