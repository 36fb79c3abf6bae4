/*
 * bench_trace.c - what allocation tracing costs (issue 6, item 6): the
 * build-and-drop of a list of 1M (i, i*0.5, "k%d" % i) tuples on objmem
 * with tracing off, nframe 1 and nframe 10 (native frame-pointer walk),
 * and, in the same run, CPython 3.11's tracemalloc on
 * `[(i, i*0.5, "k%d" % i) for i in range(n)]` (python3.11 run as a
 * subprocess with bench/trace_cpython.py). Reports the added cost per
 * traced allocation for both, their ratio, and tracing's memory per trace.
 * Allocations counted: objmem, the live blocks (objects + raw blocks) the
 * built list holds (every one is traced); CPython, the same from
 * sys.getallocatedblocks() (temporaries freed during the build are traced
 * too but not counted, which makes CPython's per-allocation cost an upper
 * bound).
 *
 * Rows (issue 16): the frame-pointer walk and the unwind tables
 * (libunwind) at nframe 10, and the cost of the peak's composition and of
 * the time series (sampling off / default / every 64 events; peak
 * fraction 1 / default 1/16 / 0 = every new peak). Built twice: bench_trace
 * (the workload with frame pointers) and bench_trace_nofp (the workload
 * built -fomit-frame-pointer, as gcc's -O2 default: only the tables give
 * whole stacks there; BENCH_TRACE_NOFP, no CPython run).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <objmem.h>

#include "harness.h"
#include "tuples_work.h"

enum { N = 1000000 };

static om_heap *heap;

static void build_drop(void *ctx)
{
    (void)ctx;
    om_object *l = tuples_build(heap, N);
    om_decref(l);
}

static size_t live_blocks(void)
{
    static om_heap_stats st;
    om_heap_get_stats(heap, &st);
    return st.objects + st.raw_blocks;
}

/* Python's results by name. */
static struct {
    char name[32];
    double v;
} py[16];
static int npy;
static char py_version[256] = "";

static double py_get(const char *name)
{
    for (int i = 0; i < npy; i++)
        if (!strcmp(py[i].name, name)) return py[i].v;
    return -1;
}

int main(void)
{
    printf("== bench_trace: allocation tracing, objmem vs CPython 3.11 tracemalloc\n");
    bh_print_machine(stdout);
    heap = om_heap_new(NULL);
    if (!heap) return 1;

    /* allocations per build: the blocks the built list holds */
    size_t before = live_blocks();
    om_object *l = tuples_build(heap, N);
    size_t nalloc = live_blocks() - before;
    om_decref(l);

    double t_off = bh_measure_best(build_drop, NULL, 1, 5, N);
    enum { NROWS = 8 };
    static const struct row {
        const char *name;
        int nframe;
        om_unwind unwind;
        long every;      /* sampling: events between samples, -1 default */
        double fraction; /* peak fraction, -1 default */
        int py;          /* CPython's row to compare with: 0 nframe 1, 1 nframe 10 */
    } rows[NROWS] = {
        {"nframe 1 (default)", 1, OM_UNWIND_AUTO, -1, -1, 0},
        {"nframe 10 (default: tables)", 10, OM_UNWIND_AUTO, -1, -1, 1},
        {"nframe 10 frame pointers", 10, OM_UNWIND_FP, -1, -1, 1},
        {"nframe 10 tables", 10, OM_UNWIND_TABLES, -1, -1, 1},
        {"nframe 1, no series, peak f=1", 1, OM_UNWIND_AUTO, 0, 1.0, 0},
        {"nframe 1, series every 64", 1, OM_UNWIND_AUTO, 64, -1, 0},
        {"nframe 1, exact peak (f=0)", 1, OM_UNWIND_AUTO, -1, 0, 0},
        {"nframe 10 tables, no series", 10, OM_UNWIND_TABLES, 0, 1.0, 1},
    };
    double t_tr[NROWS], mem_per[NROWS];
    size_t ntr[NROWS];
    for (int k = 0; k < NROWS; k++) {
        const struct row *r = &rows[k];
        if (om_trace_start(heap, r->nframe) || om_trace_set_unwind(heap, r->unwind)) return 1;
        if (r->every >= 0) om_trace_set_sampling(heap, (size_t)r->every, 0);
        if (r->fraction >= 0) om_trace_set_peak_fraction(heap, r->fraction);
        t_tr[k] = bh_measure_best(build_drop, NULL, 1, 5, N);
        /* memory per trace at the peak of one build */
        size_t b0 = live_blocks();
        l = tuples_build(heap, N);
        ntr[k] = live_blocks() - b0;
        mem_per[k] = (double)om_trace_get_memory(heap) / (double)live_blocks();
        om_decref(l);
        om_trace_stop(heap);
    }
    om_heap_destroy(heap);

#ifndef BENCH_TRACE_NOFP
    char cmd[512];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3.11 '%s/bench/trace_cpython.py' %d",
             BENCH_SOURCE_DIR, N);
    FILE *p = popen(cmd, "r");
    if (p) {
        char line[512];
        while (fgets(line, sizeof line, p)) {
            line[strcspn(line, "\n")] = 0;
            if (line[0] == 'D' && line[1] == ' ')
                snprintf(py_version, sizeof py_version, "%.200s", line + 2);
            if (line[0] == 'R' && npy < 16 &&
                sscanf(line, "R %31s %lf", py[npy].name, &py[npy].v) == 2)
                npy++;
        }
        if (pclose(p) != 0) npy = 0;
    }
#endif
    printf("workload built %s\n",
#ifdef BENCH_TRACE_NOFP
           "-fomit-frame-pointer (bench_trace_nofp: the frame-pointer rows lose frames)"
#else
           "-fno-omit-frame-pointer (bench_trace)"
#endif
    );
    if (npy)
        printf("cpython:  %s (/usr/bin/python3.11)\n", py_version);
    else
        printf("cpython:  not run (bench_trace_nofp) or failed: CPython columns empty\n");

    double py_alloc = py_get("allocs");
    printf("\nbuild and drop %d tuples; process CPU time, best of 3 medians of 5 (objmem) / "
           "median of 5 (CPython)\n",
           N);
    printf("allocations traced per build: objmem %zu (%.2f per tuple); CPython %.0f (%.2f per "
           "tuple, live blocks at the peak)\n",
           nalloc, (double)nalloc / N, py_alloc, py_alloc / N);
    printf("\n%-30s %12s %14s %14s %10s %10s\n", "tracing", "objmem ns/el", "objmem +ns/al",
           "CPython +ns/al", "om/CPython", "B/trace");
    printf("%-30s %12.1f %14s %14s %10s %10s   (CPython off: %.1f ns/el)\n", "off", t_off, "-", "-",
           "-", "-", py_get("off"));
    const char *pyk[2] = {"nframe1", "nframe10"};
    double ratio[NROWS];
    for (int k = 0; k < NROWS; k++) {
        double oadd = (t_tr[k] - t_off) * N / (double)nalloc;
        double padd = py_alloc > 0 ? (py_get(pyk[rows[k].py]) - py_get("off")) * N / py_alloc : 0;
        ratio[k] = padd > 0 ? oadd / padd : 0;
        printf("%-30s %12.1f %14.1f %14.1f %10.3f %10.1f\n", rows[k].name, t_tr[k], oadd, padd,
               ratio[k], mem_per[k]);
        (void)ntr[k];
    }
    printf("\nCPython: nframe 1 %.1f ns/el, nframe 10 %.1f ns/el; tracer memory per trace "
           "%.1f / %.1f B\n",
           py_get("nframe1"), py_get("nframe10"), py_get("mem1"), py_get("mem10"));
    if (npy) {
        printf("\ntargets (whole tracing cost <= 1/10 of CPython's):\n");
        for (int k = 0; k < NROWS; k++)
            printf("  %-30s %s (%.3f)\n", rows[k].name,
                   ratio[k] > 0 && ratio[k] <= 0.1 ? "met" : "NOT met", ratio[k]);
    }
    return 0;
}
