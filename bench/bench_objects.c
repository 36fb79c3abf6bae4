/*
 * bench_objects.c - the built-in types (issue 5, item 10): objmem here,
 * CPython 3.11 through its C API in a process of its own (objects_cpython
 * next to this executable), the same workloads (objects_work.h):
 *   tuples  build a list of 1M (i, i*0.5, "k%d" % i) tuples, drop it
 *   dict    build a dict of 1M "k%d" -> i, drop it
 * in ns per element, and bytes per object of each built-in type: objmem's
 * om_sizeof (and the block it takes) next to CPython's sys.getsizeof (which
 * in 3.11 already includes the 16-byte GC header of GC types).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <objmem.h>

#include "harness.h"

static om_heap *heap;

static om_object *chk(om_object *o)
{
    if (!o) abort();
    return o;
}

static om_object *tuple3(om_object *a, om_object *b, om_object *c)
{
    om_object *t = chk(om_tuple_new(heap, 3));
    if (om_tuple_set_steal(t, 0, chk(a)) || om_tuple_set_steal(t, 1, chk(b)) ||
        om_tuple_set_steal(t, 2, chk(c)))
        abort();
    return t;
}

#define OBJ              om_object *
#define INT(v)           om_int_new(heap, (v))
#define FLOAT(v)         om_float_new(heap, (v))
#define STR(s)           om_str_from_cstr(heap, (s))
#define TUPLE3(a, b, c)  tuple3((a), (b), (c))
#define LIST()           chk(om_list_new(heap, 0))
#define APPEND(l, v)     (om_list_append_steal((l), (v)) ? abort() : (void)0)
#define DICT()           chk(om_dict_new(heap))
#define SETITEM(d, k, v) (om_dict_set_steal((d), chk(k), chk(v)) ? abort() : (void)0)
#define DROP(o)          om_decref(o)
#include "objects_work.h"

static struct {
    char name[32];
    double v;
} res[2][8];
static int nres[2];
static struct {
    char name[16];
    long size, basic;
    int gc;
} pysz[16];
static int npysz;
static char py_version[256] = "";

static void read_results(FILE *p, int side)
{
    char line[512];
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = 0;
        if (line[0] == 'D' && line[1] == ' ')
            snprintf(py_version, sizeof py_version, "%.200s", line + 2);
        if (line[0] == 'S' && npysz < 16 &&
            sscanf(line, "S %15s %ld %ld %d", pysz[npysz].name, &pysz[npysz].size,
                   &pysz[npysz].basic, &pysz[npysz].gc) == 4)
            npysz++;
        if (line[0] == 'R' && nres[side] < 8 &&
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

static void size_row(const char *name, const char *what, om_object *o)
{
    size_t s = om_sizeof(o);
    long py = -1, pbasic = -1;
    int gc = 0;
    for (int i = 0; i < npysz; i++)
        if (!strcmp(pysz[i].name, name)) py = pysz[i].size, pbasic = pysz[i].basic, gc = pysz[i].gc;
    printf("%-8s %-30s %8zu %8zu %10ld %8ld %4s\n", name, what, s, (s + 15) / 16 * 16, py, pbasic,
           gc ? "yes" : "no");
    om_decref(o);
}

int main(int argc, char **argv)
{
    /* "bench_objects tuples|dict": objmem only (perf record, and make
     * bench-counts with BENCH_COUNTS=1); BENCH_ARENA_CACHE=n sets
     * om_config.arena_cache (an experiment) */
    if (argc > 1) {
        om_config cfg;
        om_config_init(&cfg);
        const char *ac = getenv("BENCH_ARENA_CACHE");
        if (ac) cfg.arena_cache = strtoul(ac, NULL, 10);
        heap = om_heap_new(&cfg);
        if (!heap) return 1;
        int rc = objects_one(argv[1]);
        om_heap_destroy(heap);
        return rc;
    }
    printf("== bench_objects: built-in types, objmem vs CPython 3.11 (C API)\n");
    bh_print_machine(stdout);
    heap = om_heap_new(NULL);
    if (!heap) return 1;
    char buf[1024];
    FILE *mem = fmemopen(buf, sizeof buf, "w+");
    if (!mem) return 1;
    FILE *saved = stdout;
    stdout = mem;
    objects_run();
    fflush(mem);
    stdout = saved;
    rewind(mem);
    read_results(mem, 0);
    fclose(mem);

#ifdef HAVE_CPYTHON
    char dir[4096], cmd[4300];
    bh_self_dir(dir, sizeof dir);
    snprintf(cmd, sizeof cmd, "'%sobjects_cpython'", dir);
    FILE *p = popen(cmd, "r");
    if (p) {
        read_results(p, 1);
        if (pclose(p) != 0) nres[1] = 0;
    }
    if (nres[1])
        printf("cpython:  %s\n", py_version);
    else
        printf("cpython:  objects_cpython failed to run: CPython columns left empty\n");
#else
    printf("cpython:  skipped: libpython3.11 not found at configure time\n");
#endif

    printf("\nns per element (process CPU time, best of 3 medians of 5 after 1 warm-up); "
           "ratio = CPython / objmem (above 1: objmem faster)\n");
    printf("%-44s %8s %8s %8s\n", "workload (1M elements, build then drop)", "objmem", "CPython",
           "ratio");
    const char *names[2] = {"tuples", "dict"};
    const char *what[2] = {"list of (i, i*0.5, \"k%d\" % i) tuples", "dict \"k%d\" % i -> i"};
    double ratio[2];
    for (int k = 0; k < 2; k++) {
        double o = get(0, names[k]), c = get(1, names[k]);
        ratio[k] = o > 0 ? c / o : 0;
        printf("%-44s %8.1f %8.1f %8.2f\n", what[k], o, c, ratio[k]);
    }

    printf("\nbytes per object: objmem om_sizeof and its block (16-byte classes); CPython "
           "sys.getsizeof (GC header included) and tp_basicsize\n");
    printf("%-8s %-30s %8s %8s %10s %8s %4s\n", "type", "object", "om_size", "om_block",
           "py_getsize", "py_basic", "pyGC");
    size_row("int", "1000", chk(om_int_new(heap, 1000)));
    size_row("float", "1.5", chk(om_float_new(heap, 1.5)));
    size_row("str", "\"k123\"", chk(om_str_from_cstr(heap, "k123")));
    size_row(
        "tuple3", "(1000, 1.5, \"k123\")",
        tuple3(om_int_new(heap, 1000), om_float_new(heap, 1.5), om_str_from_cstr(heap, "k123")));
    size_row("list0", "[]", chk(om_list_new(heap, 0)));
    size_row("dict0", "{}", chk(om_dict_new(heap)));
    om_object *d = chk(om_dict_new(heap));
    SETITEM(d, STR("k123"), INT(1000));
    size_row("dict1", "{\"k123\": 1000}", d);
    om_heap_destroy(heap);

    if (nres[1]) {
        printf("\ntargets:\n");
        for (int k = 0; k < 2; k++)
            printf("  %s >= 2x faster: %s (%.2fx)\n", names[k], ratio[k] >= 2 ? "met" : "NOT met",
                   ratio[k]);
    }
    return 0;
}
