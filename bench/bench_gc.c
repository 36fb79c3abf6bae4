/*
 * bench_gc.c - the cycle collector (issue 4, item 8): objmem here,
 * CPython 3.11 through its C API in a process of its own (gc_cpython next
 * to this executable), the same shapes (gc_work.h) side by side:
 *   full_live   full collection of 1M live objects in 2-cycles, ns/object
 *   garbage     full collection of 1M objects of cyclic garbage, ns/object
 *   churn       2-cycles made and dropped at once, automatic collection on,
 *               default thresholds, ns per pair (two objects)
 *   pauses      longest full and generation-0 collection with 1M live
 *               objects (10M too with BENCH_BIG=1)
 *   roots       om_gc_get_roots against one full collection of 1M live
 *               lists held in a list, objmem only (roots_work.h)
 * objmem's pair is two objects of a 32-byte GC type with 2 child slots;
 * CPython's is two lists of lengths 2 and 1.
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

static om_object *pair_new(void)
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

#define OBJ          om_object *
#define PAIR_NEW()   pair_new()
#define DROP(o)      om_decref(o)
#define COLLECT(gen) om_gc_collect(heap, (gen))
#define GC_AUTO(on)  ((on) ? om_gc_enable(heap) : om_gc_disable(heap))
#include "gc_work.h"

/* Results by name: [0] objmem, [1] CPython. */
enum { MAXR = 16 };
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
        printf("%-38s %10.2f %10.2f %8.2f   %s\n", what, o, c, c / o, unit);
    else
        printf("%-38s %10.2f %10s %8s   %s\n", what, o, "-", "-", unit);
}

static void row(const char *what, const char *name, const char *unit)
{
    row_as(what, name, name, unit);
}

int main(int argc, char **argv)
{
    /* "bench_gc full|garbage|churn": objmem only, for perf record */
    if (argc > 1) {
        /* BENCH_GC_N objects (default 1M), BENCH_GC_REPS repetitions (5):
         * smaller runs for valgrind --tool=callgrind */
        static om_object *roots[500000];
        const char *ns = getenv("BENCH_GC_N"), *rs = getenv("BENCH_GC_REPS");
        size_t n = ns ? (size_t)strtoul(ns, NULL, 10) : 1000000;
        int reps = rs ? atoi(rs) : 5;
        if (n > 1000000 || n < 2) n = 1000000;
        if (!strcmp(argv[1], "roots")) {
            roots_run_all(n, reps);
            return 0;
        }
        heap = om_heap_new(NULL);
        if (!heap) return 1;
        for (int i = 0; i < reps; i++) {
            if (!strcmp(argv[1], "full"))
                gc_full_live(roots, n);
            else if (!strcmp(argv[1], "garbage"))
                gc_garbage(roots, n);
            else
                gc_churn();
        }
        om_heap_destroy(heap);
        return 0;
    }
    const char *b = getenv("BENCH_BIG");
    int big = b && *b && strcmp(b, "0");
    printf("== bench_gc: cycle collection, objmem vs CPython 3.11\n");
    bh_print_machine(stdout);

    /* objmem first, in this process, then CPython in its own. */
    heap = om_heap_new(NULL);
    if (!heap) return 1;
    char buf[1 << 12];
    FILE *mem = fmemopen(buf, sizeof buf, "w+");
    if (!mem) return 1;
    FILE *saved = stdout;
    stdout = mem;
    gc_run_all(big);
    /* objmem's default threshold 0 is 2000 (src/gc/auto.c); CPython's 700 */
    long thr[3];
    om_gc_get_threshold(heap, thr);
    om_gc_set_threshold(heap, 700, thr[1], thr[2]);
    printf("R churn700 %.3f\n", gc_churn());
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
    printf("%-38s %10s %10s %8s   %s\n", "workload", "objmem", "CPython", "ratio", "unit");
    row("full collection, 1M live in 2-cycles", "full_live", "ns/object (median of 5)");
    row("collection of 1M objects of garbage", "garbage", "ns/object (median of 3)");
    row("young churn, auto gc, default thresh.", "churn", "ns/pair (best of 3 medians of 5)");
    row_as("young churn, objmem threshold0 = 700", "churn700", "churn",
           "ns/pair (CPython: its default, 700)");
    row("full collection pause, 1M live", "full_pause_1M", "us (longest of 3)");
    row("gen-0 collection pause, 1M live", "gen0_pause_1M", "us (longest of 100)");
    row("gen-0 collection median, 1M live", "gen0_med_1M", "us (median of 100)");
    row("full collection pause, 10M live", "full_pause_10M", "us (longest of 3)");
    row("gen-0 collection pause, 10M live", "gen0_pause_10M", "us (longest of 100)");
    row("gen-0 collection median, 10M live", "gen0_med_10M", "us (median of 100)");
    if (!big) printf("(10M pauses: run with BENCH_BIG=1)\n");
    printf("default thresholds: objmem %ld/%ld/%ld, CPython 700/10/10\n", thr[0], thr[1], thr[2]);
    printf("\nheader bytes per GC object: objmem sizeof(om_object) = %zu; CPython "
           "sizeof(PyGC_Head) + sizeof(PyObject) = %zu + %zu = %zu\n",
           sizeof(om_object), py_gchead, py_obj, py_gchead + py_obj);
    printf("objmem collections run (whole process): gen0 %zu, gen1 %zu, gen2 %zu\n",
           st[0].collections, st[1].collections, st[2].collections);

    double fl = get(0, "full_live"), ga = get(0, "garbage"), ch = get(0, "churn");
    if (nres[1] && fl > 0) {
        printf("\ntargets:\n");
        printf("  full collection >= 5x faster: %s (%.2fx)\n",
               get(1, "full_live") / fl >= 5 ? "met" : "NOT met", get(1, "full_live") / fl);
        printf("  garbage collection >= 4x faster: %s (%.2fx)\n",
               get(1, "garbage") / ga >= 4 ? "met" : "NOT met", get(1, "garbage") / ga);
        printf("  young churn >= 3x faster: %s (%.2fx)\n",
               get(1, "churn") / ch >= 3 ? "met" : "NOT met", get(1, "churn") / ch);
        printf("  16 header bytes per GC object: %s (%zu)\n",
               sizeof(om_object) == 16 ? "met" : "NOT met", sizeof(om_object));
    }
    printf("\n");
    roots_run_all(1000000, 5);
    return 0;
}
