/*
 * toy_frames.h - frame providers for the trace tests: a fixed fake stack
 * the test sets, and a toy interpreter that runs a tiny script language
 * and supplies its script frames (file, line) to the tracer, as an
 * embedded interpreter would.
 *
 * Script: one instruction per line (line numbers from 1):
 *   alloc N     om_malloc(N) (kept, freed by toy_free_all)
 *   call L      call the function starting at line L
 *   ret         return to the caller (after its call line)
 *   end         stop
 */
#ifndef TOY_FRAMES_H
#define TOY_FRAMES_H

#include <stdlib.h>
#include <string.h>

#include "objmem.h"

typedef struct fake_stack {
    om_frame f[16]; /* most recent first */
    int n;
} fake_stack;

static inline int fake_provider(void *ctx, om_frame *out, int max)
{
    fake_stack *s = ctx;
    for (int i = 0; i < s->n && i < max; i++) out[i] = s->f[i];
    return s->n;
}

/* Set the fake stack: files and lines, most recent first, NULL-ended. */
static inline void fake_set(fake_stack *s, const char *file, unsigned line)
{
    s->n = 1;
    s->f[0] = (om_frame){file, line, NULL};
}
static inline void fake_push_caller(fake_stack *s, const char *file, unsigned line)
{
    s->f[s->n++] = (om_frame){file, line, NULL};
}

typedef struct toy {
    om_heap *h;
    const char *file;
    const char **lines;
    int nlines;
    int pc[32]; /* current line of each active frame, innermost last */
    int depth;
    void *blocks[512];
    int nblocks;
} toy;

static inline int toy_provider(void *ctx, om_frame *out, int max)
{
    toy *t = ctx;
    for (int i = 0; i < t->depth && i < max; i++)
        out[i] = (om_frame){t->file, (uint32_t)t->pc[t->depth - 1 - i], NULL};
    return t->depth;
}

static inline void toy_run(toy *t)
{
    t->depth = 1;
    t->pc[0] = 1;
    while (t->depth > 0 && t->pc[t->depth - 1] <= t->nlines) {
        const char *ln = t->lines[t->pc[t->depth - 1] - 1];
        if (strncmp(ln, "alloc ", 6) == 0) {
            t->blocks[t->nblocks++] = om_malloc(t->h, (size_t)atol(ln + 6));
            t->pc[t->depth - 1]++;
        } else if (strncmp(ln, "call ", 5) == 0) {
            t->pc[t->depth] = atoi(ln + 5);
            t->depth++;
        } else if (strcmp(ln, "ret") == 0) {
            t->depth--;
            if (t->depth > 0) t->pc[t->depth - 1]++;
        } else {
            break; /* end */
        }
    }
    t->depth = 0;
}

static inline void toy_free_all(toy *t)
{
    for (int i = 0; i < t->nblocks; i++) om_free(t->h, t->blocks[i]);
    t->nblocks = 0;
}

#endif
