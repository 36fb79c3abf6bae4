/*
 * bench_untrack.c - what untracking saves (issue 13, item 3; docs/gc.md
 * "Untracking"): 1M tuples (int, str) filled after creation and 250k
 * one-item dicts {str: int}, held in a list; objmem here, CPython 3.11 in
 * its own process (untrack_cpython), the same shapes (untrack_work.h).
 *   first_full  the first full collection after the build: it meets the
 *               tuples and untracks them (_PyTuple_MaybeUntrack)
 *   later_full  the next full collections (median of 5): only the list and
 *               what still needs tracking is visited
 * The dicts are never tracked on either side (MAINTAIN_TRACKING).
 * BENCH_UNTRACK_N sets the tuple count (default 1M). "bench_untrack counts
 * first|later" is one collection for make bench-counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <objmem.h>

#include "harness.h"

static om_heap *heap;

static om_object *tuple2_late(om_object *a, om_object *b)
{
    om_object *t = om_tuple_new(heap, 2);
    if (!t || om_tuple_set_steal(t, 1, b) < 0 || om_tuple_set_steal(t, 0, a) < 0) abort();
    return t;
}

static om_object *dict1(om_object *k, om_object *v)
{
    om_object *d = om_dict_new(heap);
    if (!d || om_dict_set_steal(d, k, v) < 0) abort();
    return d;
}

static void append_steal(om_object *l, om_object *o)
{
    if (om_list_append(l, o) < 0) abort();
    om_decref(o);
}

static om_object *str_of(size_t i)
{
    char b[32];
    snprintf(b, sizeof b, "row %zu", i);
    return om_str_from_cstr(heap, b);
}

static size_t tracked(void)
{
    size_t n = 0;
    om_object **all = om_gc_get_objects(heap, -1, &n);
    om_gc_list_free(heap, all, n);
    return n;
}

#define OBJ                om_object *
#define LIST_NEW()         om_list_new(heap, 0)
#define APPEND_STEAL(l, o) append_steal((l), (o))
#define TUPLE2_LATE(a, b)  tuple2_late((a), (b))
#define INT(i)             om_int_new(heap, (int64_t)(1000 + (i)))
#define STR(i)             str_of(i)
#define DICT1_STEAL(k, v)  dict1((k), (v))
#define DROP(o)            om_decref(o)
#define COLLECT_FULL()     om_gc_collect(heap, -1)
#define TRACKED()          tracked()
#include "untrack_work.h"

enum { MAXR = 8 };
static struct {
    char name[32];
    double v;
} res[2][MAXR];
static int nres[2];
static char py_version[512] = "";

static void read_results(FILE *p, int side)
{
    char line[512];
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = 0;
        if (line[0] == 'D' && line[1] == ' ')
            snprintf(py_version, sizeof py_version, "%s", line + 2);
        if (line[0] == 'R' && nres[side] < MAXR &&
            sscanf(line, "R %31s %lf", res[side][nres[side]].name, &res[side][nres[side]].v) == 2)
            nres[side]++;
    }
}

static double get(int side, const char *name)
{
    for (int i = 0; i < nres[side]; i++)
        if (!strcmp(res[side][i].name, name)) return res[side][i].v;
    return -1;
}

static void row(const char *what, const char *name, const char *unit, int ratio)
{
    double o = get(0, name), c = get(1, name);
    if (ratio && o > 0 && c > 0)
        printf("%-44s %10.2f %10.2f %8.2f   %s\n", what, o, c, c / o, unit);
    else
        printf("%-44s %10.0f %10.0f %8s   %s\n", what, o, c, "-", unit);
}

int main(int argc, char **argv)
{
    const char *ns = getenv("BENCH_UNTRACK_N");
    size_t n = ns ? (size_t)strtoul(ns, NULL, 10) : 1000000;
    if (n < 4) n = 4;
    heap = om_heap_new(NULL);
    if (!heap) return 1;
    om_gc_disable(heap);
    if (argc > 1 && !strcmp(argv[1], "run")) { /* objmem only, for callgrind */
        untrack_run(n);
        om_heap_destroy(heap);
        return 0;
    }
    if (argc > 2 && !strcmp(argv[1], "counts")) { /* "counts first|later" */
        int rc = untrack_counts(argv[2], n);
        om_heap_destroy(heap);
        return rc;
    }
    printf("== bench_untrack: untracking (tuples at their first collection, dicts until a\n"
           "   container is stored), objmem vs CPython 3.11, %zu tuples + %zu dicts\n",
           n, n / 4);
    bh_print_machine(stdout);
    char buf[1 << 12];
    FILE *mem = fmemopen(buf, sizeof buf, "w+");
    if (!mem) return 1;
    FILE *saved = stdout;
    stdout = mem;
    untrack_run(n);
    fflush(mem);
    stdout = saved;
    rewind(mem);
    read_results(mem, 0);
    fclose(mem);
    om_heap_destroy(heap);
#ifdef HAVE_CPYTHON
    char dir[4096], cmd[4300];
    bh_self_dir(dir, sizeof dir);
    snprintf(cmd, sizeof cmd, "'%suntrack_cpython' %zu", dir, n);
    FILE *p = popen(cmd, "r");
    if (p) {
        read_results(p, 1);
        if (pclose(p) != 0) nres[1] = 0;
    }
    printf("cpython:  %s\n", nres[1] ? py_version : "untrack_cpython failed: columns empty");
#else
    printf("cpython:  skipped: libpython3.11 not found at configure time\n");
#endif
    printf("\nprocess CPU time; ratio = CPython / objmem (above 1: objmem faster)\n");
    printf("%-44s %10s %10s %8s   %s\n", "workload", "objmem", "CPython", "ratio", "unit");
    row("tracked objects after the build", "tracked_built", "objects (runtime's own excluded)", 0);
    row("tracked objects after one full collection", "tracked_after", "objects", 0);
    row("first full collection (untracks the tuples)", "first_full", "ns/object built", 1);
    row("later full collections", "later_full", "ns/object built (median of 5)", 1);
    double f = get(0, "first_full"), l = get(0, "later_full");
    if (f > 0 && l > 0)
        printf("\nobjmem: a later full collection costs %.1f%% of the first\n", 100.0 * l / f);
    return 0;
}
