/*
 * bench_gc.c - the cycle collector: objmem here, CPython 3.11 through its
 * C API in a process of its own (gc_cpython next to this executable), the
 * same workloads on the same shapes (gc_work.h) side by side:
 *   first_*    the first full collection right after building 1M live
 *              objects held in a roots list, ns/object
 *   repeat_*   a repeated full collection of the same (old) objects
 *   garbage_*  full collection of 1M objects of cyclic garbage, ns/object
 *   churn_*    2-cycles made and dropped at once, automatic collection on,
 *              default thresholds, ns per pair (two objects)
 *   pauses     longest full and generation-0 collection with 1M live
 *              lists (10M too with BENCH_BIG=1)
 * Shapes: "lists" (a = [b, None], b = [a], real lists built by append on
 * both sides) and "nodes" (a GC type with two child slots: a 32-byte
 * om_type here, a C extension type with the same slots in CPython).
 *   roots      om_gc_get_roots against one full collection of 1M live
 *              lists held in a list, objmem only (roots_work.h)
 * "bench_gc <workload> <shape>" runs one objmem workload alone (for perf,
 * and for make bench-counts with BENCH_COUNTS=1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <objmem.h>

#include "harness.h"
#include "roots_work.h"

typedef struct {
    OM_OBJECT_HEAD
    om_object *slot[2];
} node;

static int node_traverse(om_object *o, om_visit_fn visit, void *arg)
{
    OM_VISIT(((node *)o)->slot[0], visit, arg);
    OM_VISIT(((node *)o)->slot[1], visit, arg);
    return 0;
}

static void node_clear(om_object *o)
{
    om_clear_ref(&((node *)o)->slot[0]);
    om_clear_ref(&((node *)o)->slot[1]);
}

static const om_type node_type = {.name = "bench_node",
                                  .basic_size = sizeof(node),
                                  .flags = OM_TYPE_GC,
                                  .traverse = node_traverse,
                                  .clear = node_clear,
                                  .dealloc = node_clear};

static om_heap *heap;

static om_object *gc_node_pair(void)
{
    node *a = (node *)om_new(heap, &node_type);
    if (!a) return NULL;
    node *b = (node *)om_new(heap, &node_type);
    if (!b) {
        om_decref(a);
        return NULL;
    }
    a->slot[0] = (om_object *)b; /* takes b's reference */
    b->slot[0] = om_incref(a);
    return (om_object *)a;
}

/* a = [b, None], b = [a], by append as a program builds them. */
static om_object *gc_list_pair(void)
{
    om_object *a = om_list_new(heap, 0), *b = om_list_new(heap, 0);
    if (!a || !b || om_list_append(b, a) < 0 || om_list_append_steal(a, b) < 0 ||
        om_list_append(a, om_none(heap)) < 0)
        abort();
    return a;
}

#define OBJ              om_object *
#define ROOTS_NEW()      om_list_new(heap, 0)
#define ROOTS_PUSH(r, o) (om_list_append_steal((r), (o)) < 0 ? abort() : (void)0)
#define DROP(o)          om_decref(o)
#define COLLECT(gen)     om_gc_collect(heap, (gen))
#define GC_AUTO(on)      ((on) ? om_gc_enable(heap) : om_gc_disable(heap))
#include "gc_work.h"

/* Results by name: [0] objmem, [1] CPython. */
enum { MAXR = 32 };
static struct {
    char name[32];
    double v;
} res[2][MAXR];
static int nres[2];
static char py_version[512] = "";
static size_t py_gchead, py_obj;

static void read_results(FILE *p, int side)
{
    char line[512];
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = 0;
        if (line[0] == 'D' && line[1] == ' ')
            snprintf(py_version, sizeof py_version, "%s", line + 2);
        if (line[0] == 'H') sscanf(line, "H %zu %zu", &py_gchead, &py_obj);
        if (line[0] == 'R' && nres[side] < MAXR &&
            sscanf(line, "R %31s %lf", res[side][nres[side]].name, &res[side][nres[side]].v) == 2)
            nres[side]++;
    }
}

static double get(int side, const char *name)
{
    for (int i = 0; i < nres[side]; i++)
        if (!strcmp(res[side][i].name, name)) return res[side][i].v;
    return 0;
}

/* One row; lower is better for every value, so ratio = CPython / objmem. */
static void row_as(const char *what, const char *oname, const char *pname, const char *unit)
{
    double o = get(0, oname), c = get(1, pname);
    if (o <= 0) return;
    if (c > 0)
        printf("%-40s %10.2f %10.2f %8.2f   %s\n", what, o, c, c / o, unit);
    else
        printf("%-40s %10.2f %10s %8s   %s\n", what, o, "-", "-", unit);
}

static void row(const char *what, const char *name, const char *unit)
{
    row_as(what, name, name, unit);
}

int main(int argc, char **argv)
{
    /* "bench_gc <workload> <shape>": objmem alone (perf, make bench-counts) */
    if (argc > 1) {
        if (!strcmp(argv[1], "roots")) { /* BENCH_GC_N objects, BENCH_GC_REPS reps */
            const char *ns = getenv("BENCH_GC_N"), *rs = getenv("BENCH_GC_REPS");
            size_t n = ns ? (size_t)strtoul(ns, NULL, 10) : 1000000;
            roots_run_all(n < 2 ? 1000000 : n, rs ? atoi(rs) : 5);
            return 0;
        }
        heap = om_heap_new(NULL);
        if (!heap) return 1;
        int rc = gc_one(argv[1], argc > 2 ? argv[2] : "lists");
        om_heap_destroy(heap);
        if (rc)
            fprintf(stderr, "usage: bench_gc [first|repeat|garbage|churn|gen0 [lists|nodes]]\n");
        return rc;
    }
    const char *b = getenv("BENCH_BIG");
    int big = b && *b && strcmp(b, "0");
    printf("== bench_gc: cycle collection, objmem vs CPython 3.11\n");
    bh_print_machine(stdout);

    /* objmem first, in this process, then CPython in its own. */
    heap = om_heap_new(NULL);
    if (!heap) return 1;
    char buf[1 << 13];
    FILE *mem = fmemopen(buf, sizeof buf, "w+");
    if (!mem) return 1;
    FILE *saved = stdout;
    stdout = mem;
    gc_run_all(big);
    /* objmem's default threshold 0 is 2000 (src/gc/auto.c); CPython's 700 */
    long thr[3];
    om_gc_get_threshold(heap, thr);
    om_gc_set_threshold(heap, 700, thr[1], thr[2]);
    printf("R churn700_lists %.3f\n", gc_churn(gc_list_pair));
    om_gc_set_threshold(heap, thr[0], thr[1], thr[2]);
    fflush(mem);
    stdout = saved;
    rewind(mem);
    read_results(mem, 0);
    fclose(mem);
    om_gc_stats st[3];
    om_gc_get_stats(heap, st);
    om_heap_destroy(heap);

#ifdef HAVE_CPYTHON
    char dir[4096], cmd[4300];
    bh_self_dir(dir, sizeof dir);
    snprintf(cmd, sizeof cmd, "'%sgc_cpython'%s", dir, big ? " big" : "");
    FILE *p = popen(cmd, "r");
    if (p) {
        read_results(p, 1);
        if (pclose(p) != 0) nres[1] = 0;
    }
    if (nres[1])
        printf("cpython:  %s\n", py_version);
    else
        printf("cpython:  gc_cpython failed to run: CPython columns left empty\n");
#else
    printf("cpython:  skipped: libpython3.11 not found at configure time "
           "(apt-get install libpython3.11-dev)\n");
#endif

    printf("\nprocess CPU time; ratio = CPython / objmem (above 1: objmem faster)\n");
    printf("%-40s %10s %10s %8s   %s\n", "workload", "objmem", "CPython", "ratio", "unit");
    static const char *const shapes[] = {"lists", "nodes"};
    for (int k = 0; k < 2; k++) {
        char nm[4][32], what[4][64];
        const char *sh = shapes[k];
        snprintf(nm[0], sizeof nm[0], "first_%s", sh);
        snprintf(nm[1], sizeof nm[1], "repeat_%s", sh);
        snprintf(nm[2], sizeof nm[2], "garbage_%s", sh);
        snprintf(nm[3], sizeof nm[3], "churn_%s", sh);
        snprintf(what[0], sizeof what[0], "%s: first full coll., 1M live", sh);
        snprintf(what[1], sizeof what[1], "%s: repeated full coll., 1M live", sh);
        snprintf(what[2], sizeof what[2], "%s: coll. of 1M garbage", sh);
        snprintf(what[3], sizeof what[3], "%s: young churn, auto gc", sh);
        row(what[0], nm[0], "ns/object (median of 3 builds)");
        row(what[1], nm[1], "ns/object (median of 5)");
        row(what[2], nm[2], "ns/object (median of 3)");
        row(what[3], nm[3], "ns/pair (best of 3 medians of 5)");
    }
    row_as("lists: young churn, objmem thresh0 700", "churn700_lists", "churn_lists",
           "ns/pair (CPython: its default, 700)");
    row("lists: full collection pause, 1M live", "full_pause_1M", "us (longest of 3)");
    row("lists: gen-0 pause, 1M live", "gen0_pause_1M", "us (longest of 100)");
    row("lists: gen-0 median, 1M live", "gen0_med_1M", "us (median of 100)");
    row("lists: full collection pause, 10M live", "full_pause_10M", "us (longest of 3)");
    row("lists: gen-0 pause, 10M live", "gen0_pause_10M", "us (longest of 100)");
    row("lists: gen-0 median, 10M live", "gen0_med_10M", "us (median of 100)");
    if (!big) printf("(10M pauses: run with BENCH_BIG=1)\n");
    printf("default thresholds: objmem %ld/%ld/%ld, CPython 700/10/10\n", thr[0], thr[1], thr[2]);
    printf("\nheader bytes per GC object: objmem sizeof(om_object) = %zu; CPython "
           "sizeof(PyGC_Head) + sizeof(PyObject) = %zu + %zu = %zu\n",
           sizeof(om_object), py_gchead, py_obj, py_gchead + py_obj);
    printf("objmem collections run (whole process): gen0 %zu, gen1 %zu, gen2 %zu\n",
           st[0].collections, st[1].collections, st[2].collections);

    if (nres[1]) {
        /* targets of issue 14 (item 5), on the lists shape */
        static const struct {
            const char *what, *name;
            double want, at_most; /* ratio >= want, or pause ratio <= at_most */
        } tg[] = {
            {"first full collection, 1M live lists >= 3x", "first_lists", 3, 0},
            {"collection of 1M lists of garbage >= 3x", "garbage_lists", 3, 0},
            {"young cyclic churn (lists) >= 3x", "churn_lists", 3, 0},
            {"gen-0 pause (lists, 1M live) <= 0.5x CPython's", "gen0_pause_1M", 0, 0.5},
        };
        printf("\ntargets (ratio = CPython / objmem; pauses: objmem / CPython):\n");
        for (size_t i = 0; i < sizeof tg / sizeof tg[0]; i++) {
            double o = get(0, tg[i].name), c = get(1, tg[i].name);
            if (o <= 0 || c <= 0) continue;
            double r = tg[i].at_most > 0 ? o / c : c / o;
            int met = tg[i].at_most > 0 ? r <= tg[i].at_most : r >= tg[i].want;
            printf("  %-50s %s (%.2fx)\n", tg[i].what, met ? "met" : "NOT met", r);
        }
        printf("  16 header bytes per GC object: %s (%zu)\n",
               sizeof(om_object) == 16 ? "met" : "NOT met", sizeof(om_object));
    }
    printf("\n");
    roots_run_all(1000000, 5);
    return 0;
}
