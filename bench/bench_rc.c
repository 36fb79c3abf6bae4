/*
 * bench_rc.c - reference counting and small-object life cycle (issue 3,
 * item 10): objmem here, CPython 3.11 through its C API in a process of
 * its own (rc_cpython next to this executable), side by side with ratios.
 *
 *   pair       om_incref + om_decref over 1024 objects (two passes: all
 *              increfs, then all decrefs), ns per pair
 *   immortal   the same on immortal objects: what the PEP 683 check costs
 *   plain      the same with a bare ++ / -- (no immortal check, as in
 *              CPython 3.11): the floor the check is compared with
 *   new16      om_new + om_decref of a 16-byte type (header only)
 *   new24      om_new + om_decref of a 24-byte type (header + a double)
 *   gc         om_new + om_decref of a 24-byte OM_TYPE_GC type (tracked)
 * Creation runs in batches: 1000 objects made, then all dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <objmem.h>

#include "harness.h"

typedef struct {
    OM_OBJECT_HEAD
    double value;
} obj24;

typedef struct {
    OM_OBJECT_HEAD
    om_object *ref;
} gc24;

static int gc24_traverse(om_object *o, om_visit_fn visit, void *arg)
{
    OM_VISIT(((gc24 *)o)->ref, visit, arg);
    return 0;
}

static void gc24_dealloc(om_object *o)
{
    om_clear_ref(&((gc24 *)o)->ref);
}

static const om_type t16 = {.name = "bench16", .basic_size = sizeof(om_object)};
static const om_type t24 = {.name = "bench24", .basic_size = sizeof(obj24)};
static const om_type tgc = {.name = "benchgc",
                            .basic_size = sizeof(gc24),
                            .flags = OM_TYPE_GC,
                            .traverse = gc24_traverse,
                            .dealloc = gc24_dealloc};
static const om_type *kinds[] = {&t16, &t24, &tgc};

static om_heap *heap;

#define OBJ        om_object *
#define INC(o)     om_incref(o)
#define DEC(o)     om_decref(o)
#define CREATE(k)  om_new(heap, kinds[k])
#define DESTROY(o) om_decref(o)
#include "rc_work.h"

/* The floor: a bare ++ and a -- with the zero test, no immortal check. */
static void rc_plain(void *ctx)
{
    om_object **a = ctx;
    for (int p = 0; p < RC_PASSES; p++) {
        for (int i = 0; i < RC_OBJS; i++) a[i]->refcnt++;
        BH_BARRIER();
        for (int i = 0; i < RC_OBJS; i++)
            if (--a[i]->refcnt == 0) abort();
        BH_BARRIER();
    }
}

/* CPython's results by shape name, from rc_cpython. */
static struct {
    char name[32];
    double ns;
} py[16];
static int npy;
static char py_version[512] = "";

static void run_cpython(void)
{
    char dir[4096], cmd[4200], line[512];
    bh_self_dir(dir, sizeof dir);
    snprintf(cmd, sizeof cmd, "'%src_cpython'", dir);
    FILE *p = popen(cmd, "r");
    if (!p) return;
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = 0;
        if (line[0] == 'D' && line[1] == ' ')
            snprintf(py_version, sizeof py_version, "%s", line + 2);
        if (line[0] == 'R' && npy < 16 &&
            sscanf(line, "R %31s %lf", py[npy].name, &py[npy].ns) == 2)
            npy++;
    }
    if (pclose(p) != 0) npy = 0;
}

static double py_ns(const char *name)
{
    for (int i = 0; i < npy; i++)
        if (!strcmp(py[i].name, name)) return py[i].ns;
    return 0;
}

static void row(const char *what, double om, const char *pyname, const char *pywhat)
{
    double c = pyname ? py_ns(pyname) : 0;
    if (c > 0)
        printf("%-34s %8.2f %8.2f %8.2f   %s\n", what, om, c, c / om, pywhat);
    else
        printf("%-34s %8.2f %8s %8s   %s\n", what, om, "-", "-", pywhat);
}

int main(int argc, char **argv)
{
    if (argc > 1) { /* "bench_rc new16|gc": one workload (make bench-counts) */
        if (!(heap = om_heap_new(NULL))) return 1;
        int rc = rc_one(argv[1]);
        om_heap_destroy(heap);
        return rc;
    }
    printf("== bench_rc: reference counting and small objects, objmem vs CPython 3.11\n");
    bh_print_machine(stdout);
#ifdef HAVE_CPYTHON
    run_cpython();
    if (npy)
        printf("cpython:  %s\n", py_version);
    else
        printf("cpython:  rc_cpython failed to run: CPython columns left empty\n");
#else
    printf("cpython:  skipped: libpython3.11 not found at configure time "
           "(apt-get install libpython3.11-dev)\n");
#endif

    heap = om_heap_new(NULL);
    if (!heap) return 1;
    static om_object *objs[RC_OBJS], *imm[RC_OBJS];
    for (int i = 0; i < RC_OBJS; i++) {
        objs[i] = om_new(heap, &t16);
        imm[i] = om_new(heap, &t16);
        om_make_immortal(imm[i]);
    }
    double pair = bh_measure_best(rc_pairs, objs, 1, 7, RC_PAIRS);
    double immortal = bh_measure_best(rc_pairs, imm, 1, 7, RC_PAIRS);
    double plain = bh_measure_best(rc_plain, objs, 1, 7, RC_PAIRS);
    static cd_ctx c;
    double cd[3];
    for (int k = 0; k < 3; k++) {
        c.kind = k;
        cd[k] = bh_measure_best(create_destroy, &c, 1, 7, CD_OBJECTS);
    }

    printf("\nns per operation (process CPU time; best of 3 medians of 7 after 1 warm-up); ratio = "
           "CPython / objmem "
           "(above 1: objmem faster)\n");
    printf("%-34s %8s %8s %8s   %s\n", "objmem operation", "objmem", "CPython", "ratio",
           "CPython operation");
    row("incref+decref pair (mortal)", pair, "pair", "Py_INCREF+Py_DECREF on floats");
    row("incref+decref pair (immortal)", immortal, NULL, "(3.11 has no immortal objects)");
    row("bare ++/-- (no immortal check)", plain, "pair", "Py_INCREF+Py_DECREF on floats");
    row("om_new+om_decref 16 B type", cd[0], "new16", "PyObject_New+Py_DECREF, 16 B type");
    row("om_new+om_decref 24 B type", cd[1], "float", "PyFloat_FromDouble+Py_DECREF");
    row("om_new+om_decref 24 B GC type", cd[2], "gc", "PyObject_GC_New+Track, Py_DECREF");
    row("om_new+om_decref 16 B type", cd[0], "object", "object() + Py_DECREF");
    printf("\nimmortal check: mortal pair %.2f ns vs bare ++/-- %.2f ns (%+.0f%%); "
           "immortal pair %.2f ns\n",
           pair, plain, 100 * (pair / plain - 1), immortal);
    double py16 = py_ns("new16");
    if (py16 > 0) /* issue 14, item 4 (make bench-counts gives the instruction ratio) */
        printf("\ntargets:\n  om_new + om_decref <= 0.7x CPython's PyObject_New + Py_DECREF: %s "
               "(%.2fx)\n",
               cd[0] / py16 <= 0.7 ? "met" : "NOT met", cd[0] / py16);

    for (int i = 0; i < RC_OBJS; i++) om_decref(objs[i]);
    om_heap_destroy(heap); /* releases the immortal ones */
    return 0;
}
