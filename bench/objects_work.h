/*
 * objects_work.h - the workloads of bench_objects, written once for objmem
 * (bench_objects.c) and CPython's C API (objects_cpython.c). The includer
 * defines:
 *   OBJ                 the object pointer type
 *   INT(v) FLOAT(v) STR(cstr) TUPLE3(a, b, c)   new objects (TUPLE3 steals)
 *   LIST() APPEND(l, v) a new empty list; append v, taking it over
 *   DICT() SETITEM(d, k, v)  a new empty dict; d[k] = v, taking k and v over
 *   DROP(o)             drop a reference
 * Each body builds its container of n items and drops it.
 */
#ifndef OM_BENCH_OBJECTS_WORK_H
#define OM_BENCH_OBJECTS_WORK_H

#include "harness.h"

enum { OBJ_N = 1000000 };

/* [(i, i*0.5, "k%d" % i) for i in range(n)], then dropped. */
static void tuples_body(void *ctx)
{
    (void)ctx;
    OBJ l = LIST();
    char buf[32];
    for (long i = 0; i < OBJ_N; i++) {
        snprintf(buf, sizeof buf, "k%ld", i);
        APPEND(l, TUPLE3(INT(i), FLOAT((double)i * 0.5), STR(buf)));
    }
    DROP(l);
}

/* {"k%d" % i: i for i in range(n)}, then dropped. */
static void dict_body(void *ctx)
{
    (void)ctx;
    OBJ d = DICT();
    char buf[32];
    for (long i = 0; i < OBJ_N; i++) {
        snprintf(buf, sizeof buf, "k%ld", i);
        SETITEM(d, STR(buf), INT(i));
    }
    DROP(d);
}

/* The measured bodies, out of line for callgrind --toggle-collect. */
__attribute__((noinline)) void bench_tuples_body(void *ctx)
{
    tuples_body(ctx);
    BH_BARRIER();
}
__attribute__((noinline)) void bench_dict_body(void *ctx)
{
    dict_body(ctx);
    BH_BARRIER();
}

/* "tuples" or "dict" alone (make bench-counts, bench/counts_obj.list):
 * under BENCH_COUNTS=1 one warm-up and one counted body and "C <items>",
 * else "R <what> <ns per item>". */
static int objects_one(const char *what)
{
    int dict = strcmp(what, "dict") == 0;
    void (*body)(void *) = dict ? bench_dict_body : bench_tuples_body;
    const char *cs = getenv("BENCH_COUNTS");
    if (cs && *cs && strcmp(cs, "0")) {
        (dict ? dict_body : tuples_body)(NULL); /* the warm-up, outside the toggle */
        body(NULL);
        printf("C %d\n", OBJ_N);
    } else {
        printf("R %s %.3f\n", what, bh_measure_best(body, NULL, 1, 5, OBJ_N));
    }
    return 0;
}

static void objects_run(void)
{
    printf("R tuples %.3f\n", bh_measure_best(tuples_body, NULL, 1, 5, OBJ_N));
    fflush(stdout);
    printf("R dict %.3f\n", bh_measure_best(dict_body, NULL, 1, 5, OBJ_N));
    fflush(stdout);
}

#endif
