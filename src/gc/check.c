/*
 * check.c - the collector's invariant checker (om_heap_check calls it) and
 * its part of om_heap_print_stats. The invariants are written above
 * om__gcstate (src/internal/gc.h) and the gc word (src/internal/object.h).
 */
#include "internal/heap.h"

typedef struct chk {
    om_heap *h;
    FILE *out;
    int bad;
} chk;

static int check_obj(om_object *o, void *arg)
{
    chk *c = arg;
    const char *why = NULL;
    uint32_t gw = o->gc;
    if (!c->h->gc.collecting &&
        ((gw & (OM_GCW_COLLECTING | OM_GCW_REACHABLE | OM_GCW_UNREACHABLE)) ||
         (gw >> OM_GCW_FLAG_BITS)))
        why = "scratch state outside a collection";
    else if ((gw & OM_GCW_FROZEN) && !(gw & OM_GCW_TRACKED))
        why = "frozen but untracked";
    else if (!(gw & OM_GCW_LARGE) && (o->type->flags & OM_TYPE_GC)) {
        om__pool *pool = om__pool_of(o);
        unsigned g = om__granule(pool, o);
        int y = om__bm_test(om__gcb_of(o)->young, g), m = om__bm_test(om__gcb_of(o)->middle, g);
        if (om__bm_test(om__gcb_of(o)->tracked, g) != ((gw & OM_GCW_TRACKED) != 0))
            why = "tracked bit and tracked flag disagree";
        else if ((y || m) && !(gw & OM_GCW_TRACKED))
            why = "generation bit on an untracked object";
        else if ((y || m) && (gw & OM_GCW_FROZEN))
            why = "generation bit on a frozen object";
        else if (y && !pool->on_gen[0])
            why = "young object in a pool off the young list";
        else if (m && !pool->on_gen[1])
            why = "middle object in a pool off the middle list";
    } else if ((gw & OM_GCW_LARGE) && (gw & OM_GCW_TRACKED) &&
               om__large_hdr(o, om__obj_prefix(o))->gen > 2)
        why = "large object with a bad generation";
    if (!why) return 0;
    fprintf(c->out, "objmem: om_heap_check: gc: object %p (%s): %s\n", (void *)o,
            o->type && o->type->name ? o->type->name : "?", why);
    c->bad = 1;
    return 1;
}

static int check_lists(om_heap *h, FILE *out)
{
    for (int which = 0; which < 2; which++)
        for (om__pool *p = h->gc.gen_pools[which]; p; p = p->gen_next[which])
            if (p->kind != OM_KIND_GC || !p->on_gen[which] ||
                (p->gen_next[which] && p->gen_next[which]->gen_prev[which] != p)) {
                fprintf(out, "objmem: om_heap_check: gc: pool %p badly linked on list %d\n",
                        (void *)p, which);
                return OM_ESTATE;
            }
    return 0;
}

int om__gc_check(om_heap *h, FILE *out)
{
    chk c = {h, out, 0};
    if (check_lists(h, out) < 0) return OM_ESTATE;
    om__object_walk(h, check_obj, &c);
    if (c.bad) return OM_ESTATE;
    if (h->gc.ngarbage > h->gc.garbage_cap) return OM_ESTATE;
    long limit = h->gc.young_limit;
    om__gc_limit_update(h); /* the value its inputs give */
    if (limit != h->gc.young_limit) {
        fprintf(out, "gc: young_limit %ld, but the settings give %ld\n", limit, h->gc.young_limit);
        return OM_ESTATE;
    }
    return om__weakref_check(h, out);
}

void om__gc_print_stats(om_heap *h, FILE *out)
{
    om__gcstate *g = &h->gc;
    fprintf(out,
            "\n# gc: %s, thresholds %ld %ld %ld, counts %ld %ld %ld, garbage %zu, "
            "weakref referents %zu\n",
            g->enabled ? "enabled" : "disabled", g->threshold[0], g->threshold[1], g->threshold[2],
            g->count[0], g->count[1], g->count[2], g->ngarbage, g->wr_count);
    for (int i = 0; i < 3; i++)
        fprintf(out,
                "# gc: generation %d: %zu collections, %zu collected, %zu uncollectable, "
                "%.3f ms paused\n",
                i, g->stats[i].collections, g->stats[i].collected, g->stats[i].uncollectable,
                (double)g->stats[i].pause_ns / 1e6);
}
