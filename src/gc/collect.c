/*
 * collect.c - one collection: the phases of DESIGN.md ("The collector").
 * READ om__gc_collect_main TO UNDERSTAND HOW A COLLECTION WORKS.
 *
 * Candidates are the tracked, unfrozen objects of the generations being
 * collected, found by scanning the young/middle bitmaps of the pools on the
 * generation lists (generation 0, 1) or the tracked bitmap of every GC pool
 * (full collection), plus the large GC blocks. Scratch state lives in the
 * gc word: COLLECTING, REACHABLE, UNREACHABLE flags and gc_refs in the high
 * bits. Nothing recurses: marking uses an explicit work stack.
 *
 * Invariants (during phases 1-4; see also docs/gc.md):
 *  1. A candidate has COLLECTING from its first visit until it is found
 *     reachable (phase 3) or taken (phase 4); "reachable" is recorded by
 *     clearing all scratch state, so survivors need no later write.
 *  2. A non-candidate never has COLLECTING or gc_refs.
 *  3. A full collection initialises a candidate's gc_refs on first touch
 *     (its own sweep or a parent's traverse), so phases 1 and 2 share one
 *     sweep; the candidate test there (tracked, unfrozen, not a pending
 *     large block) must equal the sweep's.
 * Design note: docs/gc.md.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <time.h>

#include "internal/heap.h"

#define SCRATCH  ((uint32_t)(OM_GCW_COLLECTING | OM_GCW_REACHABLE))
#define REFS_ONE ((uint32_t)1 << OM_GCW_FLAG_BITS)

typedef struct cctx {
    om_heap *h;
    int gen;                    /* generation collected (0..2)                       */
    size_t npools;              /* h->gc.pools[0..npools): pools with candidates     */
    size_t ncand;               /* candidates                                        */
    size_t nreach;              /* of those marked reachable                         */
    size_t sp;                  /* work stack depth                                  */
    int overflow;               /* a push failed                                     */
    int arr;                    /* candidates listed in h->gc.cand[0..ncand)         */
    size_t large_ahead;         /* phase 3: OM_GCW_LARGE until the sweep reaches them */
    const char *cur;            /* phase 3: the object the sweep is at (pools),
                                   or the highest address (large blocks)      */
    om__gc_seq seq[OM_GC_NSEQ]; /* h->gc.seq, copied: kept in registers  */
    uint32_t gseen;             /* phase 4: the gc flags of u's members, or-ed       */
    uint32_t tseen;             /* phase 4: the type flags of u's members, or-ed     */
    int fin;                    /* phase 4: a member of u may need its finalizer    */
    int untaken;                /* phases 3+4 fused: a taken member was reached      */
} cctx;

/* ------------------------------------------------------------- children */

/* Call visit on every child of o. Registered containers (om__gc_seq:
 * lists, tuples) are read inline here, so a pass that calls this with a
 * constant visit gets the visit's body inlined into the loop, with no call
 * per child; other types go through their traverse. */
static inline __attribute__((always_inline)) void each_child(const om__gc_seq *seq, om_object *o,
                                                             om_visit_fn visit, void *arg)
{
    const om_type *t = o->type;
    for (int i = 0; i < OM_GC_NSEQ; i++) {
        const om__gc_seq *s = &seq[i];
        if (t != s->type) continue;
        size_t n = *(const size_t *)((const char *)o + s->len_off);
        om_object *const *it = s->indirect ? *(om_object *const *const *)((char *)o + s->items_off)
                                           : (om_object *const *)((char *)o + s->items_off);
        for (size_t k = 0; k < n; k++)
            if (it[k]) visit(it[k], arg);
        return;
    }
    t->traverse(o, visit, arg);
}

/* ------------------------------------------------------------- scanning */

/* The object at the lowest bit of m, word w of the bitmaps of the GC pool
 * that starts at base (which is also where its om__gcbits are). */
static inline om_object *obj_at(char *base, unsigned w, uint64_t m)
{
    return (om_object *)(base + ((w * 64 + (unsigned)__builtin_ctzll(m)) << 4));
}

/* The candidate bits of word w of a pool for a collection of gen. */
static inline uint64_t sel_word(const om__gcbits *gb, unsigned w, int gen)
{
    if (gen == 0) return gb->young[w];
    if (gen == 1) return gb->young[w] | gb->middle[w];
    return gb->tracked[w];
}

static inline om_object *large_obj(om_heap *h, om__large *lb)
{
    return (om_object *)((char *)(lb + 1) + h->obj_prefix);
}

static int pools_push(om_heap *h, size_t *n, om__pool *pool)
{
    om__gcstate *g = &h->gc;
    if (*n == g->pools_cap) {
        size_t cap = g->pools_cap ? g->pools_cap * 2 : 256;
        om__pool **p = om__sys_realloc(h, g->pools, g->pools_cap * sizeof *p, cap * sizeof *p);
        if (!p) return OM_ENOMEM;
        g->pools = p;
        g->pools_cap = cap;
    }
    g->pools[(*n)++] = pool;
    return 0;
}

typedef struct gather_ctx {
    size_t n;
    int err;
} gather_ctx;

static void gather_arena(om_heap *h, om__arena *ar, void *arg)
{
    gather_ctx *c = arg;
    for (unsigned i = OM_POOL_FIRST; i < OM_POOLS_PER_ARENA - ar->untouched && !c->err; i++) {
        om__pool *pool = om__pool_at(ar->base + i * OM_POOL_SIZE);
        if (!om__arena_pool_is_free(ar, pool) && pool->kind == OM_KIND_GC && pool->nalloc)
            c->err = pools_push(h, &c->n, pool);
    }
}

static int pool_cmp(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (om__pool *const *)a, y = (uintptr_t) * (om__pool *const *)b;
    return (x > y) - (x < y);
}

/* Fill h->gc.pools with the pools a collection of gen visits, in address
 * order (the sweeps read memory sequentially, and phase 3 depends on the
 * order: see ahead()). */
static int gather_pools(cctx *c)
{
    om_heap *h = c->h;
    gather_ctx gc = {0, 0};
    if (c->gen == 2) {
        om__arena_foreach(h, gather_arena, &gc);
    } else {
        for (om__pool *p = h->gc.gen_pools[0]; p && !gc.err; p = p->gen_next[0])
            gc.err = pools_push(h, &gc.n, p);
        if (c->gen == 1)
            for (om__pool *p = h->gc.gen_pools[1]; p && !gc.err; p = p->gen_next[1])
                if (!p->on_gen[0]) gc.err = pools_push(h, &gc.n, p);
    }
    c->npools = gc.n;
    if (!gc.err && gc.n > 1) qsort(h->gc.pools, gc.n, sizeof *h->gc.pools, pool_cmp);
    return gc.err;
}

/* ------------------------------------------------------------ the stack */

static om__noinline int stack_grow(om_heap *h)
{
    om__gcstate *g = &h->gc;
    size_t cap = g->stack_cap ? g->stack_cap * 2 : 4096;
    om_object **s = om__sys_realloc(h, g->stack, g->stack_cap * sizeof *s, cap * sizeof *s);
    if (!s) return OM_ENOMEM;
    g->stack = s;
    g->stack_cap = cap;
    return 0;
}

static inline void push(cctx *c, om_object *o)
{
    om__gcstate *g = &c->h->gc;
    if (om__unlikely(c->sp == g->stack_cap) && stack_grow(c->h) < 0) {
        c->overflow = 1;
        return;
    }
    g->stack[c->sp++] = o;
}

/* ---------------------------------------- phase 1: gc_refs = refcnt */

/* A decrement found o's gc_refs at 0: tracked objects hold more references
 * on it than its count says (an extension dropped one too many, or a
 * traverse visits a reference it does not own). Release builds clamp at 0
 * (o then counts as unreachable-unless-reached: the collection stays
 * safe for everything else); debug mode stops with a report naming o, its
 * type and, when tracing, where it was allocated (CPython's "refcount is
 * too small" check in update_refs/visit_reachable). */
static om__cold void refs_too_small(om_object *o)
{
#if OM_DEBUG_LEVEL >= 1
    om_heap *h = om_heap_of(o);
    if (!(h->hooks & OM_HOOK_DEBUG)) return;
    FILE *out = h->report;
    fprintf(out,
            "objmem: debug: gc: refcount is too small: object %p of type %s has count %u, "
            "fewer than the references tracked objects hold on it\n",
            (void *)o, o->type->name ? o->type->name : "?", (unsigned)o->refcnt);
    char text[120];
    om_repr(o, text, sizeof text); /* never allocates */
    fprintf(out, "    object: %s\n", text);
    if (!h->trace)
        fprintf(out, "    (tracing is off: om_trace_start records where blocks are allocated)\n");
    om__dbg_report(h, "refcount is too small", o, "om_gc_collect");
#else
    (void)o;
#endif
}

/* The scratch field for count rc: rc itself, or OM_GCW_REFS_MAX with the
 * exact count in the side table (bigrefs.c). */
static inline uint32_t refs_field(om_object *o, uint32_t rc)
{
    return om__likely(rc < OM_GCW_REFS_MAX) ? rc : om__gc_bigrefs_init(om_heap_of(o), o, rc);
}

/* A decrement of a saturated field: the side table's count, back in the
 * field once it fits. */
static om__noinline uint32_t dec_saturated(om_object *o, uint32_t gw)
{
    return (gw & OM_GCW_FLAGS_MASK) | (om__gc_bigrefs_dec(o) << OM_GCW_FLAG_BITS);
}

static inline void init_refs(om_object *o)
{
    uint32_t r = refs_field(o, o->refcnt);
    o->gc = (o->gc & OM_GCW_FLAGS_MASK) | OM_GCW_COLLECTING | (r << OM_GCW_FLAG_BITS);
}

/* Untracking as CPython (update_refs' _PyTuple_MaybeUntrack; dicts in
 * full collections, untrack_dicts): a tracked tuple whose items are all
 * atomic, or (full) a dict whose keys and values are, leaves the
 * collector when a collection first meets it, and is then no candidate.
 * Such an object has no candidate among its children, so dropping it
 * changes no other candidate's count. 1 when o was untracked. */
static inline int untracked_now(om_heap *h, om_object *o, int full)
{
    if (om__likely(!(o->type->flags & OM_TYPE__UNTRACKS)) || !h->gc.maybe_untrack) return 0;
    return h->gc.maybe_untrack(o, full);
}

/* Append o to the candidate array at n; 0, or -1 when it cannot grow. */
/* Room for at least need candidates (doubling); 0, or -1 when it cannot grow. */
static om__noinline int cand_reserve(om_heap *h, size_t need)
{
    om__gcstate *g = &h->gc;
    size_t cap = g->cand_cap ? g->cand_cap : 1024;
    while (cap < need) cap *= 2;
    om_object **p = om__sys_realloc(h, g->cand, g->cand_cap * sizeof *p, cap * sizeof *p);
    if (!p) return -1;
    g->cand = p;
    g->cand_cap = cap;
    return 0;
}

static int cand_push(om_heap *h, size_t n, om_object *o)
{
    if (om__unlikely(n == h->gc.cand_cap) && cand_reserve(h, n + 1) < 0) return -1;
    h->gc.cand[n] = o;
    return 0;
}

/* Contract (gen 0, 1): no scratch bits set on entry; afterwards every
 * candidate has COLLECTING and gc_refs = min(refcnt, REFS_MAX), and, unless
 * the array could not grow (then later phases walk the bitmaps again), the
 * candidates are listed in h->gc.cand so later phases need no bitmap walk. */
static void update_refs(cctx *c)
{
    om_heap *h = c->h;
    size_t n = 0;
    int arr = 1;
    for (size_t i = 0; i < c->npools; i++) {
        om__pool *pool = h->gc.pools[i];
        /* room for the whole pool at once (at most OM_POOL_GRANULES
         * objects): no capacity test per candidate */
        if (arr && h->gc.cand_cap - n < OM_POOL_GRANULES &&
            cand_reserve(h, n + OM_POOL_GRANULES) < 0)
            arr = 0;
        om_object **cv = h->gc.cand;
        char *base = om__pool_start(pool);
        for (unsigned w = 0; w < OM_BM_WORDS; w++)
            for (uint64_t m = sel_word(om__gcb_of(base), w, c->gen); m; m &= m - 1) {
                om_object *o = obj_at(base, w, m);
                if ((o->gc & (OM_GCW_TRACKED | OM_GCW_FROZEN)) != OM_GCW_TRACKED) continue;
                if (untracked_now(h, o, 0)) continue;
                init_refs(o);
                if (arr) cv[n] = o;
                n++;
            }
    }
    for (om__large *lb = h->alloc.large[OM_KIND_GC]; lb; lb = lb->next) {
        om_object *o = large_obj(h, lb);
        if ((int)lb->gen > c->gen) continue;
        if ((o->gc & (OM_GCW_TRACKED | OM_GCW_FROZEN | OM_GCW_PENDING)) != OM_GCW_TRACKED) continue;
        if (untracked_now(h, o, 0)) continue;
        init_refs(o);
        if (arr && cand_push(h, n, o) < 0) arr = 0;
        n++;
    }
    c->ncand = n;
    c->arr = arr;
}

/* Phases 1+2 of a full collection in one sweep: every candidate is
 * reached by the sweep, so initialising gc_refs on first touch (the sweep
 * or a parent's traverse) before any decrement gives the same counts. */
static inline int full_candidate(uint32_t gw)
{
    return (gw & (OM_GCW_TRACKED | OM_GCW_FROZEN)) == OM_GCW_TRACKED &&
           (gw & (OM_GCW_PENDING | OM_GCW_LARGE)) != (OM_GCW_PENDING | OM_GCW_LARGE);
}

static inline uint32_t init_word(om_object *o, uint32_t gw)
{
    uint32_t r = refs_field(o, o->refcnt);
    return (gw & OM_GCW_FLAGS_MASK) | OM_GCW_COLLECTING | (r << OM_GCW_FLAG_BITS);
}

static int visit_decref_full(om_object *child, void *arg)
{
    uint32_t gw = child->gc;
    if (!(gw & OM_GCW_COLLECTING)) {
        if (!full_candidate(gw)) return 0;
        gw = init_word(child, gw);
        ++*(size_t *)arg;
    }
    uint32_t r = gw >> OM_GCW_FLAG_BITS;
    if (r != 0 && r != OM_GCW_REFS_MAX)
        gw -= REFS_ONE;
    else if (r == 0)
        refs_too_small(child);
    else
        gw = dec_saturated(child, gw);
    child->gc = gw;
    return 0;
}

/* The sweep met o before or after a parent's traverse initialised it;
 * untracked now, it drops its scratch state and its count (invariant 3). */
static inline int full_untracked(om_heap *h, om_object *o, size_t *ninit)
{
    if (!untracked_now(h, o, 1)) return 0;
    if (o->gc & OM_GCW_COLLECTING) --*ninit;
    o->gc &= OM_GCW_FLAGS_MASK & ~SCRATCH;
    return 1;
}

static inline void full_one(const om__gc_seq *seq, om_object *o, size_t *ninit)
{
    uint32_t gw = o->gc;
    if (!(gw & OM_GCW_COLLECTING)) {
        o->gc = init_word(o, gw);
        ++*ninit;
    }
    each_child(seq, o, visit_decref_full, ninit);
}

static void forget_foreign(om_heap *h, cctx *c);

/* Contract (gen 2 only): no scratch bits set on entry; afterwards as
 * update_refs followed by subtract_refs. */
static void refs_full(cctx *c)
{
    om_heap *h = c->h;
    size_t n = 0, ninit = 0;
    om__gc_seq seq[OM_GC_NSEQ];
    memcpy(seq, h->gc.seq, sizeof seq);
    for (size_t i = 0; i < c->npools; i++) {
        char *base = om__pool_start(h->gc.pools[i]);
        for (unsigned w = 0; w < OM_BM_WORDS; w++)
            for (uint64_t m = om__gcb_of(base)->tracked[w]; m; m &= m - 1) {
                om_object *o = obj_at(base, w, m);
                if ((o->gc & (OM_GCW_TRACKED | OM_GCW_FROZEN)) != OM_GCW_TRACKED) continue;
                if (full_untracked(h, o, &ninit)) continue;
                full_one(seq, o, &ninit);
                n++;
            }
    }
    for (om__large *lb = h->alloc.large[OM_KIND_GC]; lb; lb = lb->next) {
        om_object *o = large_obj(h, lb);
        if ((o->gc & (OM_GCW_TRACKED | OM_GCW_FROZEN | OM_GCW_PENDING)) != OM_GCW_TRACKED) continue;
        OM_ASSERT(o->gc & OM_GCW_LARGE);
        if (full_untracked(h, o, &ninit)) continue;
        full_one(seq, o, &ninit);
        n++;
    }
    if (om__unlikely(ninit != n)) forget_foreign(h, c); /* references into another heap */
    c->ncand = n;
}

/* Candidate arrays up to this many objects are walked without prefetching:
 * a young collection's candidates were allocated since the last one (700
 * by default, a few thousand for generation 1) and are still in the
 * caches, so a prefetch per object per pass only costs instructions. */
#define OM_GC_PREFETCH_MIN 8192

/* Run body on every candidate still COLLECTING: from the candidate array
 * when there is one (prefetching a few entries ahead when it is big),
 * else by walking the bitmaps and the large list. */
#define FOR_CANDIDATES(c, o, body)                                                                 \
    do {                                                                                           \
        om_heap *h_ = (c)->h;                                                                      \
        if ((c)->arr) {                                                                            \
            om_object **a_ = h_->gc.cand;                                                          \
            size_t n_ = (c)->ncand;                                                                \
            if (n_ <= OM_GC_PREFETCH_MIN) {                                                        \
                for (size_t i_ = 0; i_ < n_; i_++) {                                               \
                    om_object *o = a_[i_];                                                         \
                    if (!(o->gc & OM_GCW_COLLECTING)) continue;                                    \
                    body;                                                                          \
                }                                                                                  \
                break;                                                                             \
            }                                                                                      \
            for (size_t i_ = 0; i_ < n_; i_++) {                                                   \
                om_object *o = a_[i_];                                                             \
                if (i_ + 4 < n_) __builtin_prefetch(a_[i_ + 4]);                                   \
                if (!(o->gc & OM_GCW_COLLECTING)) continue;                                        \
                body;                                                                              \
            }                                                                                      \
            break;                                                                                 \
        }                                                                                          \
        for (size_t i_ = 0; i_ < (c)->npools; i_++) {                                              \
            char *base_ = om__pool_start(h_->gc.pools[i_]);                                        \
            for (unsigned w_ = 0; w_ < OM_BM_WORDS; w_++)                                          \
                for (uint64_t m_ = sel_word(om__gcb_of(base_), w_, (c)->gen); m_; m_ &= m_ - 1) {  \
                    om_object *o = obj_at(base_, w_, m_);                                          \
                    if (!(o->gc & OM_GCW_COLLECTING)) continue;                                    \
                    body;                                                                          \
                }                                                                                  \
        }                                                                                          \
        for (om__large *lb_ = h_->alloc.large[OM_KIND_GC]; lb_; lb_ = lb_->next) {                 \
            om_object *o = large_obj(h_, lb_);                                                     \
            if (!(o->gc & OM_GCW_COLLECTING)) continue;                                            \
            body;                                                                                  \
        }                                                                                          \
    } while (0)

/* A traverse reached tracked objects of another heap, and the first touch
 * gave them scratch state: take it off again (rare: cross-heap references),
 * so that no later phase counts them and their own heap finds them clean. */
static int visit_forget(om_object *child, void *arg)
{
    if ((child->gc & OM_GCW_COLLECTING) && om_heap_of(child) != arg)
        child->gc &= OM_GCW_FLAGS_MASK & ~SCRATCH;
    return 0;
}

static om__noinline void forget_foreign(om_heap *h, cctx *c)
{
    FOR_CANDIDATES(c, o, o->type->traverse(o, visit_forget, h));
}

/* ------------------------------- phase 2: subtract internal references */

static int visit_decref(om_object *child, void *arg)
{
    (void)arg;
    uint32_t gw = child->gc;
    if (gw & OM_GCW_COLLECTING) {
        uint32_t r = gw >> OM_GCW_FLAG_BITS;
        if (r != 0 && r != OM_GCW_REFS_MAX)
            child->gc = gw - REFS_ONE;
        else if (r == 0)
            refs_too_small(child);
        else
            child->gc = dec_saturated(child, gw);
    }
    return 0;
}

static void subtract_refs(cctx *c)
{
    om__gc_seq seq[OM_GC_NSEQ];
    memcpy(seq, c->h->gc.seq, sizeof seq);
    FOR_CANDIDATES(c, o, each_child(seq, o, visit_decref, NULL));
}

/* ---------------------------- phase 3: mark what is reachable from outside */

/* Found reachable: drop the scratch state (invariant 1). */
static inline void reached(om_object *o, uint32_t gw)
{
    o->gc = gw & OM_GCW_FLAGS_MASK & ~SCRATCH;
}

/* Marking goes in the sweep's order, which is address order (pools
 * sorted by gather_pools, granules within a pool, then the large blocks):
 * a reached candidate the sweep has still to meet (ahead of it) only gets
 * gc_refs 1, and the sweep traverses it when it gets there, as a root; only
 * a candidate behind the sweep goes on the work stack. Objects built in
 * order point mostly forward, so the stack stays nearly empty and every
 * object is read once, sequentially, instead of by a depth-first chase. */
static inline int ahead(const cctx *c, const om_object *o, uint32_t gw)
{
    return (gw & c->large_ahead) || (const char *)o > c->cur;
}

/* A candidate the fused sweep took (mark_take) is reached after all, from
 * the work stack: it is given back (its reference and flag dropped) and
 * marked. Only this heap's: a foreign object's flags are its heap's. */
static om__noinline void untake(cctx *c, om_object *o, uint32_t gw)
{
    if (om_heap_of(o) != c->h) return;
    o->gc = gw & ~(uint32_t)OM_GCW_UNREACHABLE;
    o->refcnt--;
    c->untaken = 1;
    c->nreach++;
    push(c, o);
}

/* The visit of marking; take: the fused sweep (mark_take), where a child
 * without COLLECTING may be a taken member to give back. */
static inline __attribute__((always_inline)) int reach_one(cctx *c, om_object *child, int take)
{
    uint32_t gw = child->gc;
    if (!take) {
        if (!(gw & OM_GCW_COLLECTING)) return 0;
    } else {
        if (!(gw & (OM_GCW_COLLECTING | OM_GCW_UNREACHABLE))) return 0;
        if (om__unlikely(!(gw & OM_GCW_COLLECTING))) {
            untake(c, child, gw);
            return 0;
        }
    }
    if (ahead(c, child, gw)) {
        if ((gw >> OM_GCW_FLAG_BITS) == 0) child->gc = gw + REFS_ONE;
        return 0;
    }
    reached(child, gw);
    c->nreach++;
    push(c, child);
    return 0;
}

static int visit_reach(om_object *child, void *arg)
{
    return reach_one(arg, child, 0);
}

static int visit_reach_take(om_object *child, void *arg)
{
    return reach_one(arg, child, 1);
}

/* Drain the work stack (objects behind the sweep) with visit. */
static inline __attribute__((always_inline)) void drain_with(cctx *c, om_visit_fn visit)
{
    const om__gcstate *g = &c->h->gc;
    while (c->sp) {
        om_object *o = g->stack[--c->sp]; /* g->stack may move when it grows */
        each_child(c->seq, o, visit, c);
    }
}

static void drain(cctx *c)
{
    drain_with(c, visit_reach);
}

static void drain_take(cctx *c)
{
    drain_with(c, visit_reach_take);
}

/* Contract: afterwards every candidate with gc_refs > 0, and everything
 * reachable from one through candidates, has lost its scratch state (no
 * COLLECTING); the rest keep COLLECTING with gc_refs 0. Returns OM_ENOMEM
 * (marks incomplete) when the stack could not grow. */
static om__noinline int mark_reachable(cctx *c)
{
    memcpy(c->seq, c->h->gc.seq, sizeof c->seq);
    c->large_ahead = OM_GCW_LARGE;
    FOR_CANDIDATES(c, o, {
        uint32_t gw = o->gc;
        if ((gw >> OM_GCW_FLAG_BITS) != 0) {
            /* large blocks come last, in no address order: behind them all */
            c->large_ahead = (gw & OM_GCW_LARGE) ? 0 : c->large_ahead;
            c->cur = c->large_ahead ? (const char *)o : (const char *)UINTPTR_MAX;
            reached(o, gw);
            c->nreach++;
            each_child(c->seq, o, visit_reach, c);
            if (c->sp) drain(c);
            if (c->overflow) return OM_ENOMEM;
        }
    });
    return 0;
}

/* Phases 3 and 4 in one sweep of the candidate array (gen 0 and 1 with
 * the array): marking as mark_reachable, and a candidate the sweep passes
 * with gc_refs 0 still COLLECTING is taken at once as take_unreachable
 * takes it, into h->gc.cand[0..k) (slots the sweep has left behind, in
 * order), which becomes u. Such a member can only be reached later from
 * the work stack (everything ahead of the sweep is still COLLECTING): it
 * is given back (untake) and the taken slots are compacted at the end.
 * Returns the members taken, or OM_ENOMEM with every take undone and the
 * scratch state cleared (nothing changed). */
static void clear_scratch(cctx *c);

static long mark_take(cctx *c)
{
    om_object **a = c->h->gc.cand;
    size_t n = c->ncand, k = 0;
    uint32_t gseen = 0, tseen = 0;
    int fin = 0;
    memcpy(c->seq, c->h->gc.seq, sizeof c->seq);
    c->large_ahead = OM_GCW_LARGE;
    for (size_t i = 0; i < n; i++) {
        om_object *o = a[i];
        uint32_t gw = o->gc;
        if (!(gw & OM_GCW_COLLECTING)) continue;
        if ((gw >> OM_GCW_FLAG_BITS) == 0) { /* unreachable unless reached later */
            const om_type *t = o->type;
            gseen |= gw;
            tseen |= t->flags;
            fin |= t->finalize != NULL && !(gw & OM_GCW_FINALIZED);
            o->gc = (gw & OM_GCW_FLAGS_MASK & ~SCRATCH) | OM_GCW_UNREACHABLE;
            o->refcnt++;
            a[k++] = o;
            continue;
        }
        c->large_ahead = (gw & OM_GCW_LARGE) ? 0 : c->large_ahead;
        c->cur = c->large_ahead ? (const char *)o : (const char *)UINTPTR_MAX;
        reached(o, gw);
        c->nreach++;
        each_child(c->seq, o, visit_reach_take, c);
        if (c->sp) drain_take(c);
        if (om__unlikely(c->overflow)) {
            for (size_t j = 0; j < k; j++)
                if (a[j]->gc & OM_GCW_UNREACHABLE) {
                    a[j]->gc &= ~(uint32_t)OM_GCW_UNREACHABLE;
                    a[j]->refcnt--;
                }
            clear_scratch(c); /* a[i..n) as they were; a[0..i) hold no scratch now */
            c->sp = 0;
            return OM_ENOMEM;
        }
    }
    if (c->untaken) { /* keep the members still taken, in order */
        size_t m = 0;
        for (size_t j = 0; j < k; j++)
            if (a[j]->gc & OM_GCW_UNREACHABLE) a[m++] = a[j];
        k = m;
    }
    c->gseen = gseen;
    c->tseen = tseen;
    c->fin = fin;
    return (long)k;
}

/* Abandon: clear every candidate's scratch state. */
static void clear_scratch(cctx *c)
{
    FOR_CANDIDATES(c, o, o->gc &= OM_GCW_FLAGS_MASK & ~SCRATCH);
}

/* ------------------------- phase 4: take the unreachable, clear scratch */

/* Contract: u has room for ncand - nreach objects (the candidates still
 * COLLECTING; survivors have no scratch state left after phase 3, so with
 * nothing unreachable this sweep is skipped). The unreachable get a strong
 * reference in u and only the UNREACHABLE flag. Returns how many went to u. */
static size_t take_unreachable(cctx *c, om_object **u)
{
    size_t k = 0;
    uint32_t gseen = 0, tseen = 0;
    int fin = 0;
    FOR_CANDIDATES(c, o, {
        uint32_t gw = o->gc;
        const om_type *t = o->type;
        gseen |= gw;       /* OM_GCW_WEAKREFS */
        tseen |= t->flags; /* OM_TYPE__WEAKREF, OM_TYPE_LEGACY_FINALIZER */
        fin |= t->finalize != NULL && !(gw & OM_GCW_FINALIZED);
        o->gc = (gw & OM_GCW_FLAGS_MASK & ~SCRATCH) | OM_GCW_UNREACHABLE;
        o->refcnt++;
        u[k++] = o;
    });
    c->gseen = gseen;
    c->tseen = tseen;
    c->fin = fin;
    return k;
}

/* ------------------------------------------- phase 5: promote survivors */

static void promote(cctx *c)
{
    om_heap *h = c->h;
    om__pool *p, *next;
    if (c->gen == 0) {
        for (p = h->gc.gen_pools[0]; p; p = next) {
            next = p->gen_next[0];
            for (unsigned w = 0; w < OM_BM_WORDS; w++) {
                om__pool_gcb(p)->middle[w] |= om__pool_gcb(p)->young[w];
                om__pool_gcb(p)->young[w] = 0;
            }
            om__pool_gen_remove(h, p, 0);
            if (!p->on_gen[1]) om__pool_gen_push(h, p, 1);
        }
    } else {
        for (int which = 0; which < 2; which++)
            for (p = h->gc.gen_pools[which]; p; p = next) {
                next = p->gen_next[which];
                memset(om__pool_gcb(p)->young, 0, sizeof om__pool_gcb(p)->young);
                memset(om__pool_gcb(p)->middle, 0, sizeof om__pool_gcb(p)->middle);
                om__pool_gen_remove(h, p, which);
            }
    }
    for (om__large *lb = h->alloc.large[OM_KIND_GC]; lb; lb = lb->next)
        if ((int)lb->gen <= c->gen) lb->gen = c->gen == 0 ? 1 : 2;
}

/* ------------------------------------- marking within the unreachable set */

/* Propagate mark (a flag) from marked members of u through members that
 * have `member` and lack mark. On stack overflow, falls back to rescans
 * of u until nothing changes (slow, bounded memory). */
typedef struct umark {
    cctx *c;
    uint32_t member, mark;
    int changed;
} umark;

static int visit_umark(om_object *child, void *arg)
{
    umark *m = arg;
    if ((child->gc & (m->member | m->mark)) == m->member) {
        child->gc |= m->mark;
        m->changed = 1;
        push(m->c, child);
    }
    return 0;
}

static void drain_u(umark *m)
{
    while (m->c->sp) {
        om_object *o = m->c->h->gc.stack[--m->c->sp];
        o->type->traverse(o, visit_umark, m);
    }
}

static void propagate_u(cctx *c, om_object **u, size_t n, uint32_t member, uint32_t mark)
{
    umark m = {c, member, mark, 0};
    c->overflow = 0;
    for (size_t i = 0; i < n; i++)
        if (u[i] && (u[i]->gc & mark)) {
            u[i]->type->traverse(u[i], visit_umark, &m);
            drain_u(&m);
        }
    while (c->overflow) { /* rare: out of memory for the stack */
        c->overflow = 0;
        m.changed = 1;
        while (m.changed) {
            m.changed = 0;
            for (size_t i = 0; i < n; i++)
                if (u[i] && (u[i]->gc & mark)) {
                    u[i]->type->traverse(u[i], visit_umark, &m);
                    c->sp = 0;
                }
        }
    }
}

/* -------------------------------- legacy finalizers: uncollectable cycles */

/* Objects of OM_TYPE_LEGACY_FINALIZER types, and what they reach in u,
 * leave u and stay alive, uncollectable (all of them are counted and, with
 * DEBUG_UNCOLLECTABLE, printed). As CPython's handle_legacy_finalizers,
 * gc.garbage takes the legacy-finalizer objects only (the reference u held
 * goes with them), or all of them under DEBUG_SAVEALL; the others just
 * drop u's reference (what reaches them keeps them). Returns how many. */
static size_t move_legacy(cctx *c, om_object **u, size_t n)
{
    om_heap *h = c->h;
    size_t found = 0;
    for (size_t i = 0; i < n; i++)
        if (u[i]->type->flags & OM_TYPE_LEGACY_FINALIZER) {
            u[i]->gc |= OM_GCW_REACHABLE;
            found = 1;
        }
    if (!found) return 0;
    propagate_u(c, u, n, OM_GCW_UNREACHABLE, OM_GCW_REACHABLE);
    int saveall = (h->gc.debug & OM_GC_DEBUG_SAVEALL) != 0;
    size_t moved = 0, listed = 0;
    for (size_t i = 0; i < n; i++)
        if (u[i]->gc & OM_GCW_REACHABLE) {
            moved++;
            listed += saveall || (u[i]->type->flags & OM_TYPE_LEGACY_FINALIZER);
        }
    int room = om__gc_garbage_reserve(h, listed) == 0;
    for (size_t i = 0; i < n; i++) {
        om_object *o = u[i];
        if (!(o->gc & OM_GCW_REACHABLE)) continue;
        o->gc &= ~(uint32_t)(OM_GCW_REACHABLE | OM_GCW_UNREACHABLE);
        if (h->gc.debug & OM_GC_DEBUG_UNCOLLECTABLE) om__gc_debug_object(h, "uncollectable", o);
        u[i] = NULL;
        if (room && (saveall || (o->type->flags & OM_TYPE_LEGACY_FINALIZER)))
            om__gc_garbage_push_steal(h, o);
        else
            o->refcnt--; /* kept alive by a listed object (or no room: unlisted) */
    }
    return moved;
}

/* ---------------------------------------------------- weak references */

/* Rules (CPython's handle_weakrefs): first every weak reference that is
 * itself garbage is detached from its referent, whatever the referent, so
 * its callback never runs, not even when the referent dies by refcount
 * later in delete_garbage (behind a non-GC container, or an older object
 * kept alive only by this garbage: bpo-38006); then the weak references to
 * garbage are cleared, and the callbacks of those still reachable run.
 * A pass that skips this function must also know there is no weak
 * reference object among u. Returns 1 when a callback ran (user code:
 * resurrection possible). */
static int handle_weakrefs(om_heap *h, om_object **u, size_t n)
{
    om__wr_chain chain = {NULL, NULL};
    for (size_t i = 0; i < n; i++)
        if (u[i]) om__weakref_clear_trash(u[i]);
    for (size_t i = 0; i < n; i++)
        if (u[i] && (u[i]->gc & OM_GCW_WEAKREFS)) om__weakref_clear_all(h, u[i], &chain, 1);
    int ran = chain.head != NULL;
    om__weakref_run_callbacks(&chain);
    return ran;
}

/* ------------------------------------------------------ finalizers (PEP 442) */

/* Returns 1 when a finalizer ran (user code: resurrection possible). */
static int finalize_garbage(om_object **u, size_t n)
{
    int ran = 0;
    for (size_t i = 0; i < n; i++) {
        om_object *o = u[i];
        if (o && o->type->finalize && !(o->gc & OM_GCW_FINALIZED)) {
            o->gc |= OM_GCW_FINALIZED;
            o->type->finalize(o);
            ran = 1;
        }
    }
    return ran;
}

/* Recount within u: members referenced from outside u (a finalizer stored
 * a reference somewhere) and what they reach survive. */
static void handle_resurrected(cctx *c, om_object **u, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        om_object *o = u[i];
        if (!o) continue;
        uint32_t r = refs_field(o, o->refcnt - 1); /* minus the reference u holds */
        o->gc = (o->gc & OM_GCW_FLAGS_MASK) | OM_GCW_COLLECTING | (r << OM_GCW_FLAG_BITS);
    }
    for (size_t i = 0; i < n; i++)
        if (u[i]) u[i]->type->traverse(u[i], visit_decref, NULL);
    for (size_t i = 0; i < n; i++)
        if (u[i] && (u[i]->gc >> OM_GCW_FLAG_BITS) != 0) u[i]->gc |= OM_GCW_REACHABLE;
    propagate_u(c, u, n, OM_GCW_COLLECTING, OM_GCW_REACHABLE);
    for (size_t i = 0; i < n; i++) {
        om_object *o = u[i];
        if (!o) continue;
        if (o->gc & OM_GCW_REACHABLE) o->gc &= ~(uint32_t)OM_GCW_UNREACHABLE; /* resurrected */
        o->gc &= OM_GCW_FLAGS_MASK & ~SCRATCH;
    }
}

/* Break the cycles of what is still unreachable (or keep it in garbage
 * with SAVEALL), then drop u's references so refcounting frees it all.
 * Returns how many were still unreachable. */
static size_t delete_garbage(om_heap *h, om_object **u, size_t n)
{
    size_t m = 0;
    unsigned dbg = h->gc.debug;
    if ((dbg & OM_GC_DEBUG_SAVEALL)) {
        for (size_t i = 0; i < n; i++)
            if (u[i] && (u[i]->gc & OM_GCW_UNREACHABLE)) m++;
        om__gc_garbage_reserve(h, m);
        m = 0;
    }
    for (size_t i = 0; i < n; i++) {
        om_object *o = u[i];
        if (!o || !(o->gc & OM_GCW_UNREACHABLE)) continue;
        o->gc &= ~(uint32_t)OM_GCW_UNREACHABLE; /* read by no clear or dealloc */
        m++;
        if (dbg & OM_GC_DEBUG_COLLECTABLE) om__gc_debug_object(h, "collectable", o);
        if (dbg & OM_GC_DEBUG_SAVEALL) {
            if (om__gc_garbage_push_steal(h, om__incref(o)) < 0) o->refcnt--;
        } else if (o->type->clear) {
            o->type->clear(o);
        }
    }
    om__object_drop_array(h, u, n); /* om_decref on each, in one frame */
    return m;
}

/* ------------------------------------------------------- the collection */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void update_counts(om_heap *h, int gen)
{
    if (gen + 1 < 3) h->gc.count[gen + 1]++;
    for (int i = 0; i <= gen; i++) h->gc.count[i] = 0;
}

static void run_callbacks(om_heap *h, int phase, om_gc_info *info)
{
    for (size_t i = 0; i < h->gc.ncbs; i++) h->gc.cbs[i].fn(h, phase, info, h->gc.cbs[i].ctx);
}

static void print_start(om_heap *h, int gen)
{
    FILE *out = om__gc_out(h);
    long per[3] = {0, 0, 0};
    om_object **all;
    size_t n;
    for (int g = 0; g < 3; g++) {
        all = om_gc_get_objects(h, g, &n);
        if (all) per[g] = (long)n;
        om_gc_list_free(h, all, n);
    }
    fprintf(out, "gc: collecting generation %d...\n", gen);
    fprintf(out, "gc: objects in each generation: %ld %ld %ld\n", per[0], per[1], per[2]);
    fprintf(out, "gc: objects in permanent generation: %zu\n", om_gc_get_freeze_count(h));
}

/* Phases 1-4. Returns the number of unreachable objects in *u (a seam
 * allocation of *ucap entries), or OM_ENOMEM with nothing changed. */
static long find_unreachable(cctx *c, om_object ***u, size_t *ucap)
{
    om_heap *h = c->h;
    *u = NULL;
    *ucap = 0;
    if (gather_pools(c) < 0) return OM_ENOMEM;
    if (c->gen == 2) {
        refs_full(c); /* phases 1+2 in one sweep */
    } else {
        update_refs(c);
        subtract_refs(c);
    }
    if (c->arr) { /* phases 3+4 in one sweep; u is the candidate array */
        long k = mark_take(c);
        if (k < 0)
            return om__err(h, OM_ENOMEM, "gc: no memory for the work stack; collection abandoned");
        OM_ASSERT((size_t)k == c->ncand - c->nreach);
        if (k) *u = h->gc.cand; /* *ucap 0: not to be freed */
        return k;
    }
    if (mark_reachable(c) < 0) {
        clear_scratch(c);
        c->sp = 0;
        return om__err(h, OM_ENOMEM, "gc: no memory for the work stack; collection abandoned");
    }
    size_t nu = c->ncand - c->nreach;
    if (nu) {
        *u = om__sys_malloc(h, nu * sizeof **u);
        if (!*u) {
            clear_scratch(c);
            return om__err(h, OM_ENOMEM, "gc: no memory for %zu unreachable objects", nu);
        }
        *ucap = nu;
        size_t k = take_unreachable(c, *u);
        OM_ASSERT(k == nu);
        (void)k;
    }
    return (long)nu;
}

/* Shrink the work stack and the candidate array after a big collection. */
static void trim_stack(om_heap *h)
{
    om__gc_bigrefs_free(h);
    if (h->gc.cand_cap > 65536) {
        om__sys_free(h, h->gc.cand, h->gc.cand_cap * sizeof *h->gc.cand);
        h->gc.cand = NULL;
        h->gc.cand_cap = 0;
    }
    if (h->gc.stack_cap > 65536) {
        om__sys_free(h, h->gc.stack, h->gc.stack_cap * sizeof *h->gc.stack);
        h->gc.stack = NULL;
        h->gc.stack_cap = 0;
    }
}

/* The collection of generation gen (read this first). */
long om__gc_collect_main(om_heap *h, int gen)
{
    om_gc_info info = {gen, 0, 0};
    uint64_t t0 = now_ns();
    run_callbacks(h, OM_GC_START, &info);
    if (h->gc.debug & OM_GC_DEBUG_STATS) print_start(h, gen);

    cctx c = {.h = h, .gen = gen};
    om_object **u;
    size_t ucap;
    long nu = find_unreachable(&c, &u, &ucap); /* phases 1-4 */
    if (nu < 0) {
        trim_stack(h);
        return nu;
    }
    promote(&c); /* phase 5, before any user code runs */
    update_counts(h, gen);
    size_t survivors = c.nreach;
    if (gen == 1) h->gc.long_lived_pending += (long)survivors;
    size_t n = (size_t)nu, uncollectable = 0, collected = 0;
    if (n) {
        /* each pass runs only when some member of u needs it (gathered by
         * take_unreachable; u never gains members) */
        int user_code = 0;
        if (c.tseen & OM_TYPE_LEGACY_FINALIZER) uncollectable = move_legacy(&c, u, n);
        if ((c.gseen & OM_GCW_WEAKREFS) || (c.tseen & OM_TYPE__WEAKREF))
            user_code = handle_weakrefs(h, u, n);
        if (c.fin) user_code |= finalize_garbage(u, n);
        /* without user code nothing outside u can have gained a reference
         * to a member: the recount is skipped */
        if (user_code) handle_resurrected(&c, u, n);
        collected = delete_garbage(h, u, n);
        if (ucap) om__sys_free(h, u, ucap * sizeof *u);
    }
    if (gen == 2) {
        h->gc.long_lived_pending = 0;
        h->gc.long_lived_total = (long)(survivors + n - collected - uncollectable);
    }
    trim_stack(h);

    uint64_t dt = now_ns() - t0;
    om_gc_stats *st = &h->gc.stats[gen];
    st->collections++;
    st->collected += collected;
    st->uncollectable += uncollectable;
    st->pause_ns += dt;
    if (h->gc.debug & OM_GC_DEBUG_STATS)
        fprintf(om__gc_out(h), "gc: done, %zu unreachable, %zu uncollectable, %.4fs elapsed\n",
                collected + uncollectable, uncollectable, (double)dt / 1e9);
    info.collected = collected;
    info.uncollectable = uncollectable;
    run_callbacks(h, OM_GC_STOP, &info);
#if OM_DEBUG_LEVEL >= 2
    /* expensive tier: the whole heap after each collection (small heaps
     * only, or automatic collections would make building large ones
     * quadratic) */
    if (om__object_count(h) < 100000) OM_ASSERT(om_heap_check(h) == 0);
#endif
    return (long)(collected + uncollectable);
}

/* ------------------------------------- the subtraction alone (roots.c) */

/* Phases 1+2 of a full collection and nothing more (no marking, nothing
 * taken, no state but the scratch bits touched): afterwards every candidate
 * has COLLECTING and gc_refs = its references from outside the candidates
 * (saturated at REFS_MAX). The caller holds h->gc.collecting and must call
 * om__gc_subtract_end with *npools. Returns the candidates or OM_ENOMEM
 * (nothing changed). */
long om__gc_subtract_begin(om_heap *h, size_t *npools)
{
    cctx c = {.h = h, .gen = 2};
    if (gather_pools(&c) < 0) return om__err(h, OM_ENOMEM, "gc: no memory for the pool list");
    int (*untrack)(om_object *, int) = h->gc.maybe_untrack;
    h->gc.maybe_untrack = NULL; /* looking changes nothing: no lazy untracking */
    refs_full(&c);
    h->gc.maybe_untrack = untrack;
    *npools = c.npools;
    return (long)c.ncand;
}

/* fn(o, gc_refs, arg) on every candidate, in pool order, then its scratch
 * state is cleared (so invariant 1 holds again when this returns). */
void om__gc_subtract_end(om_heap *h, size_t npools, void (*fn)(om_object *, uint32_t, void *),
                         void *arg)
{
    cctx c = {.h = h, .gen = 2, .npools = npools};
    FOR_CANDIDATES(&c, o, {
        uint32_t gw = o->gc;
        fn(o, gw >> OM_GCW_FLAG_BITS, arg);
        o->gc = gw & OM_GCW_FLAGS_MASK & ~SCRATCH;
    });
}
