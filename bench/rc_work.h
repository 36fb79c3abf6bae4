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

#endif
