/*
 * rc_work.h - the shapes bench_rc measures, shared by the objmem side
 * (bench_rc.c) and the CPython side (rc_cpython.c) so that both run the
 * same loops. Define OBJ (the object pointer type), INC(o), DEC(o),
 * CREATE(k) and DESTROY(o) before including.
 */
#ifndef OM_BENCH_RC_WORK_H
#define OM_BENCH_RC_WORK_H

#include "harness.h"

enum {
    RC_OBJS = 1024,   /* objects the count loops walk (fit in L1/L2) */
    RC_PASSES = 4000, /* passes per repetition: 4M pairs             */
    CD_BATCH = 1000,  /* objects created, then all destroyed          */
    CD_BATCHES = 2000 /* batches per repetition: 2M objects          */
};
#define RC_PAIRS   ((double)RC_OBJS * RC_PASSES)
#define CD_OBJECTS ((double)CD_BATCH * CD_BATCHES)

/* incref every object, then decref every object: one pair per object per
 * pass. The barriers keep the compiler from folding ++ and -- away. */
static void rc_pairs(void *ctx)
{
    OBJ *a = ctx;
    for (int p = 0; p < RC_PASSES; p++) {
        for (int i = 0; i < RC_OBJS; i++) INC(a[i]);
        BH_BARRIER();
        for (int i = 0; i < RC_OBJS; i++) DEC(a[i]);
        BH_BARRIER();
    }
}

typedef struct cd_ctx {
    int kind;
    OBJ batch[CD_BATCH];
} cd_ctx;

/* create CD_BATCH objects of kind, then drop them all, CD_BATCHES times. */
static void create_destroy(void *ctx)
{
    cd_ctx *c = ctx;
    for (int b = 0; b < CD_BATCHES; b++) {
        for (int i = 0; i < CD_BATCH; i++) c->batch[i] = CREATE(c->kind);
        BH_BARRIER();
        for (int i = 0; i < CD_BATCH; i++) DESTROY(c->batch[i]);
    }
}

/* The measured body, out of line for callgrind --toggle-collect. */
__attribute__((noinline)) void bench_cd_body(void *ctx)
{
    create_destroy(ctx);
    BH_BARRIER();
}

/* "new16" or "gc" alone (make bench-counts, bench/counts_obj.list): under
 * BENCH_COUNTS=1 one warm-up and one counted body and "C <objects>",
 * else "R <what> <ns per object>". Kind indices: 0 header-only type, 2 the
 * 24-byte GC type, on both sides. */
static int rc_one(const char *what)
{
    static cd_ctx c;
    const char *cs = getenv("BENCH_COUNTS");
    c.kind = strcmp(what, "gc") == 0 ? 2 : 0;
    if (cs && *cs && strcmp(cs, "0")) {
        create_destroy(&c);
        bench_cd_body(&c);
        printf("C %.0f\n", CD_OBJECTS);
    } else {
        printf("R %s %.3f\n", what, bh_measure_best(bench_cd_body, &c, 1, 7, CD_OBJECTS));
    }
    return 0;
}

#endif
