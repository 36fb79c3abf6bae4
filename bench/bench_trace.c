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
    double t_tr[2], mem_per[2];
    size_t ntr[2];
    const int nframes[2] = {1, 10};
    for (int k = 0; k < 2; k++) {
        if (om_trace_start(heap, nframes[k])) return 1;
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
    if (npy)
        printf("cpython:  %s (/usr/bin/python3.11)\n", py_version);
    else
        printf(
            "cpython:  /usr/bin/python3.11 bench/trace_cpython.py failed: CPython columns empty\n");

    double py_alloc = py_get("allocs");
    printf("\nbuild and drop %d tuples; process CPU time, best of 3 medians of 5 (objmem) / "
           "median of 5 (CPython)\n",
           N);
    printf(
        "allocations traced per build: objmem %zu (%.2f per tuple); CPython %.0f (%.2f per tuple, "
        "live blocks at the peak)\n",
        nalloc, (double)nalloc / N, py_alloc, py_alloc / N);
    printf("\n%-12s %12s %12s %14s %14s %10s\n", "tracing", "objmem ns/el", "CPython ns/el",
           "objmem +ns/al", "CPython +ns/al", "om/CPython");
    printf("%-12s %12.1f %12.1f %14s %14s %10s\n", "off", t_off, py_get("off"), "-", "-", "-");
    const char *pyk[2] = {"nframe1", "nframe10"};
    double ratio[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        double oadd = (t_tr[k] - t_off) * N / (double)nalloc;
        double padd = py_alloc > 0 ? (py_get(pyk[k]) - py_get("off")) * N / py_alloc : 0;
        ratio[k] = padd > 0 ? oadd / padd : 0;
        printf("nframe %-5d %12.1f %12.1f %14.1f %14.1f %10.3f\n", nframes[k], t_tr[k],
               py_get(pyk[k]), oadd, padd, ratio[k]);
    }
    printf("\nslowdown: objmem %.2fx / %.2fx; CPython %.2fx / %.2fx (nframe 1 / 10)\n",
           t_tr[0] / t_off, t_tr[1] / t_off, py_get("nframe1") / py_get("off"),
           py_get("nframe10") / py_get("off"));
    for (int k = 0; k < 2; k++)
        printf("tracer memory per trace, nframe %d: objmem %.1f B (om_trace_get_memory / %zu live "
               "blocks); CPython %.1f B (get_tracemalloc_memory / live blocks)\n",
               nframes[k], mem_per[k], ntr[k], py_get(k ? "mem10" : "mem1"));
    if (npy) {
        printf("\ntargets:\n");
        for (int k = 0; k < 2; k++)
            printf("  nframe %d: added cost <= 1/10 of CPython's: %s (%.3f)\n", nframes[k],
                   ratio[k] > 0 && ratio[k] <= 0.1 ? "met" : "NOT met", ratio[k]);
    }
    return 0;
}
