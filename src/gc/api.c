/*
 * api.c - the gc module's settings and bookkeeping: enable, thresholds,
 * counts, statistics, debug flags and output, freeze, gc.garbage and
 * gc.callbacks. Design note: docs/gc.md ("API").
 */
#include <limits.h>

#include "internal/heap.h"

void om__gc_limit_update(om_heap *h)
{
    om__gcstate *g = &h->gc;
    g->young_limit = !g->enabled || g->threshold[0] == 0 ? LONG_MAX
                     : h->cfg.gc_stress                  ? -1
                                                         : g->threshold[0];
}

void om_gc_enable(om_heap *h)
{
    h->gc.enabled = 1;
    om__gc_limit_update(h);
}
void om_gc_disable(om_heap *h)
{
    h->gc.enabled = 0;
    om__gc_limit_update(h);
}
int om_gc_is_enabled(om_heap *h)
{
    return h->gc.enabled;
}

int om_gc_set_threshold(om_heap *h, long t0, long t1, long t2)
{
    if (t0 < 0 || t1 < 0 || t2 < 0)
        return om__err(h, OM_EINVAL, "om_gc_set_threshold: negative threshold");
    h->gc.threshold[0] = t0;
    h->gc.threshold[1] = t1;
    h->gc.threshold[2] = t2;
    om__gc_limit_update(h);
    return 0;
}

void om_gc_get_threshold(om_heap *h, long out[3])
{
    memcpy(out, h->gc.threshold, sizeof h->gc.threshold);
}
void om_gc_get_count(om_heap *h, long out[3])
{
    memcpy(out, h->gc.count, sizeof h->gc.count);
}
void om_gc_get_stats(om_heap *h, om_gc_stats out[3])
{
    memcpy(out, h->gc.stats, sizeof h->gc.stats);
}
int om_gc_is_finalized(const om_object *o)
{
    return (o->gc & OM_GCW_FINALIZED) != 0;
}

void om_gc_set_debug(om_heap *h, unsigned flags)
{
    h->gc.debug = flags;
}
unsigned om_gc_get_debug(om_heap *h)
{
    return h->gc.debug;
}
void om_gc_set_debug_file(om_heap *h, FILE *out)
{
    h->gc.debug_out = out;
}
FILE *om__gc_out(om_heap *h)
{
    return h->gc.debug_out ? h->gc.debug_out : h->report;
}

/* "gc: collectable <node object at 0x...>" (Python's default repr), or
 * with the type's repr slot "gc: collectable [list of 3] (list at 0x...)". */
void om__gc_debug_object(om_heap *h, const char *what, om_object *o)
{
    char text[96];
    om_repr(o, text, sizeof text);
    if (o->type->repr)
        fprintf(om__gc_out(h), "gc: %s %s (%s at %p)\n", what, text,
                o->type->name ? o->type->name : "?", (void *)o);
    else
        fprintf(om__gc_out(h), "gc: %s %s\n", what, text);
}

/* ----------------------------------------------------------------- freeze */

static int freeze_one(om_object *o, void *arg)
{
    (void)arg;
    if (o->gc & OM_GCW_TRACKED) {
        o->gc |= OM_GCW_FROZEN;
        if (o->gc & OM_GCW_LARGE) om__large_hdr(o, om__obj_prefix(o))->gen = 2;
    }
    return 0;
}

void om_gc_freeze(om_heap *h)
{
    om__object_walk(h, freeze_one, NULL);
    for (int which = 0; which < 2; which++)
        while (h->gc.gen_pools[which]) {
            om__pool *p = h->gc.gen_pools[which];
            memset(om__pool_gcb(p)->young, 0, sizeof om__pool_gcb(p)->young);
            memset(om__pool_gcb(p)->middle, 0, sizeof om__pool_gcb(p)->middle);
            om__pool_gen_remove(h, p, which);
        }
    h->gc.count[0] = 0;
}

static int unfreeze_one(om_object *o, void *arg)
{
    (void)arg;
    o->gc &= ~(uint32_t)OM_GCW_FROZEN;
    return 0;
}

void om_gc_unfreeze(om_heap *h)
{
    om__object_walk(h, unfreeze_one, NULL);
}

static int count_frozen(om_object *o, void *arg)
{
    if (o->gc & OM_GCW_FROZEN) ++*(size_t *)arg;
    return 0;
}

size_t om_gc_get_freeze_count(om_heap *h)
{
    size_t n = 0;
    om__object_walk(h, count_frozen, &n);
    return n;
}

/* ---------------------------------------------------------------- garbage */

int om__gc_garbage_reserve(om_heap *h, size_t more)
{
    om__gcstate *g = &h->gc;
    if (g->ngarbage + more <= g->garbage_cap) return 0;
    size_t cap = g->garbage_cap ? g->garbage_cap : 16;
    while (cap < g->ngarbage + more) cap *= 2;
    om_object **p = om__sys_realloc(h, g->garbage, g->garbage_cap * sizeof *p, cap * sizeof *p);
    if (!p) return OM_ENOMEM;
    g->garbage = p;
    g->garbage_cap = cap;
    return 0;
}

int om__gc_garbage_push_steal(om_heap *h, om_object *o)
{
    if (om__gc_garbage_reserve(h, 1) < 0) return OM_ENOMEM;
    h->gc.garbage[h->gc.ngarbage++] = o;
    return 0;
}

size_t om_gc_garbage_count(om_heap *h)
{
    return h->gc.ngarbage;
}

om_object **om_gc_garbage(om_heap *h, size_t *n)
{
    size_t k = h->gc.ngarbage;
    om_object **a = om__sys_malloc(h, (k ? k : 1) * sizeof *a);
    *n = 0;
    if (!a) return NULL;
    for (size_t i = 0; i < k; i++) a[i] = om__incref(h->gc.garbage[i]);
    *n = k;
    return a;
}

/* Take the list first: dropping a reference may run a finalizer that
 * adds to garbage (a collection is deferred, but SAVEALL...). */
void om_gc_garbage_clear(om_heap *h)
{
    while (h->gc.ngarbage) {
        om_object **a = h->gc.garbage;
        size_t n = h->gc.ngarbage, cap = h->gc.garbage_cap;
        h->gc.garbage = NULL;
        h->gc.ngarbage = h->gc.garbage_cap = 0;
        for (size_t i = 0; i < n; i++) om_decref(a[i]);
        om__sys_free(h, a, cap * sizeof *a);
    }
}

int om_gc_garbage_remove(om_heap *h, om_object *o)
{
    om__gcstate *g = &h->gc;
    for (size_t i = 0; i < g->ngarbage; i++)
        if (g->garbage[i] == o) {
            memmove(&g->garbage[i], &g->garbage[i + 1], (g->ngarbage - i - 1) * sizeof *g->garbage);
            g->ngarbage--;
            om_decref(o); /* last: a finalizer may look at garbage */
            return 0;
        }
    return om__err(h, OM_EKEY, "om_gc_garbage_remove: %p is not in gc.garbage", (void *)o);
}

void om__gc_garbage_free(om_heap *h)
{
    om_gc_garbage_clear(h);
    if (h->gc.garbage) om__sys_free(h, h->gc.garbage, h->gc.garbage_cap * sizeof *h->gc.garbage);
    h->gc.garbage = NULL;
    h->gc.garbage_cap = 0;
}

/* -------------------------------------------------------------- callbacks */

int om_gc_callback_add(om_heap *h, om_gc_callback fn, void *ctx)
{
    om__gcstate *g = &h->gc;
    if (!fn) return om__err(h, OM_EINVAL, "om_gc_callback_add: NULL callback");
    if (g->ncbs == g->cbs_cap) {
        size_t cap = g->cbs_cap ? g->cbs_cap * 2 : 4;
        om__gc_cb *p = om__sys_realloc(h, g->cbs, g->cbs_cap * sizeof *p, cap * sizeof *p);
        if (!p) return OM_ENOMEM;
        g->cbs = p;
        g->cbs_cap = cap;
    }
    g->cbs[g->ncbs].fn = fn;
    g->cbs[g->ncbs].ctx = ctx;
    g->ncbs++;
    return 0;
}

int om_gc_callback_remove(om_heap *h, om_gc_callback fn, void *ctx)
{
    om__gcstate *g = &h->gc;
    for (size_t i = 0; i < g->ncbs; i++)
        if (g->cbs[i].fn == fn && g->cbs[i].ctx == ctx) {
            memmove(&g->cbs[i], &g->cbs[i + 1], (g->ncbs - i - 1) * sizeof *g->cbs);
            g->ncbs--;
            return 0;
        }
    return om__err(h, OM_EKEY, "om_gc_callback_remove: callback not registered");
}

void om__gc_callbacks_free(om_heap *h)
{
    if (h->gc.cbs) om__sys_free(h, h->gc.cbs, h->gc.cbs_cap * sizeof *h->gc.cbs);
    h->gc.cbs = NULL;
    h->gc.ncbs = h->gc.cbs_cap = 0;
}
