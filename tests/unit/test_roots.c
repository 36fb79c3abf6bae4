/*
 * test_roots.c - who holds it (src/gc/roots.c, graph.c): the exact roots
 * of a heap and the shortest chain to an object. Roots from C variables,
 * from another heap, from frozen and untracked holders; a cycle held by one
 * reference; two roots reaching one target; counts past the collector's
 * 20-bit saturation; 1M-object graphs under a 256 KiB stack and a memory
 * bound; and, after every call, no change to any collector state.
 */
#include "gc_test_types.h"

/* A node type that names its slots ("slot[2]"). */
static int named_name(om_object *o, const om_object *child, char *buf, size_t n)
{
    node *x = (node *)o;
    for (int i = 0; i < NSLOT; i++)
        if (x->slot[i] == child) return snprintf(buf, n, "slot[%d]", i);
    return 0;
}
static const om_type named_type = {
    .name = "named",
    .basic_size = sizeof(node),
    .flags = OM_TYPE_GC | OM_TYPE_WEAKREFABLE,
    .traverse = node_traverse,
    .clear = node_clear,
    .finalize = node_finalize,
    .dealloc = node_dealloc,
    .name_referent = named_name,
};

/* ------------------------------------------------ collector state */

/* Everything a call must leave alone: counts, stats, generations of every
 * tracked object, finalized flags, reference counts, gc.garbage. */
typedef struct gcstate {
    long count[3];
    om_gc_stats stats[3];
    size_t pergen[3], frozen, garbage;
    uint64_t gen_sum[3]; /* sum of addresses * refcount per generation */
    uint64_t fin;        /* sum of addresses of finalized objects */
    int finalized;
} gcstate;

static void take_state(om_heap *h, gcstate *s)
{
    memset(s, 0, sizeof *s);
    om_gc_get_count(h, s->count);
    om_gc_get_stats(h, s->stats);
    for (int g = 0; g < 3; g++) {
        size_t n;
        om_object **all = om_gc_get_objects(h, g, &n);
        assert_non_null(all);
        s->pergen[g] = n;
        for (size_t i = 0; i < n; i++) {
            s->gen_sum[g] += (uintptr_t)all[i] * om_refcount(all[i]);
            if (om_gc_is_finalized(all[i])) s->fin += (uintptr_t)all[i];
        }
        om_gc_list_free(h, all, n);
    }
    s->frozen = om_gc_get_freeze_count(h);
    s->garbage = om_gc_garbage_count(h);
    s->finalized = g_finalized;
}

static void assert_same_state(om_heap *h, const gcstate *before)
{
    gcstate now;
    take_state(h, &now);
    assert_memory_equal(&now, before, sizeof now);
    assert_int_equal(om_heap_check(h), 0);
}

/* The outside count of o among roots, or -1 when o is not a root. */
static long outside_of(const om_gc_root *r, size_t n, const void *o)
{
    for (size_t i = 0; i < n; i++)
        if (r[i].obj == o) return (long)r[i].outside;
    return -1;
}

/* ------------------------------------------------------------ roots */

static void test_roots_from_c_variables(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *a = mk(h, &node_type), *b = mk(h, &node_type), *c = mk(h, &node_type);
    set_slot(a, 0, c); /* c: held by a only */
    om_decref(c);
    om_object *b2 = om_incref(b); /* b: two C variables */
    gcstate st;
    take_state(h, &st);
    size_t n;
    om_gc_root *r = om_gc_get_roots(h, NULL, 0, &n);
    assert_non_null(r);
    assert_int_equal(n, 2);
    assert_int_equal(outside_of(r, n, a), 1);
    assert_int_equal(outside_of(r, n, b), 2);
    assert_int_equal(outside_of(r, n, c), -1);
    assert_true((uintptr_t)r[0].obj < (uintptr_t)r[1].obj); /* address order */
    assert_int_equal(om_refcount(OM_OBJ(a)), 2);            /* the array's reference */
    om_gc_roots_free(h, r, n);
    assert_same_state(h, &st);
    om_decref(a), om_decref(b), om_decref(b2);
}

/* Looking is not collecting: an atomic tuple a collection would untrack
 * (CPython's _PyTuple_MaybeUntrack) stays tracked. */
static void test_roots_no_lazy_untracking(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *d = om_dict_new(h), *k = om_str_from_cstr(h, "k"), *l = om_list_new(h, 0);
    assert_int_equal(om_dict_set(d, k, l), 0); /* a container: tracked */
    assert_int_equal(om_dict_set(d, k, om_none(h)), 0);
    om_decref(k), om_decref(l);
    assert_true(om_gc_is_tracked(d)); /* atomic now: a full collection untracks it */
    size_t n;
    om_gc_root *r = om_gc_get_roots(h, NULL, 0, &n);
    assert_int_equal(outside_of(r, n, d), 1);
    om_gc_roots_free(h, r, n);
    om_gc_chain_free(h, om_gc_find_chain(h, d));
    assert_true(om_gc_is_tracked(d));
    om_gc_collect(h, -1);
    if (om_gc_is_tracked(d)) print_message("note: dicts are not untracked lazily\n");
    om_decref(d);
}

static void test_roots_none(void **state)
{
    om_heap *h = OM_HEAP(state);
    size_t n = 99;
    om_gc_root *r = om_gc_get_roots(h, NULL, 0, &n);
    assert_non_null(r);
    assert_int_equal(n, 0);
    om_gc_roots_free(h, r, n);
    om_gc_roots_free(h, NULL, 0);
}

static void test_roots_cycle_held_once(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *a = mk(h, &node_type), *b = mk(h, &node_type), *c = mk(h, &node_type);
    set_slot(a, 0, b), set_slot(b, 0, c), set_slot(c, 0, a);
    om_decref(b), om_decref(c); /* only the C variable a holds the cycle */
    gcstate st;
    take_state(h, &st);
    size_t n;
    om_gc_root *r = om_gc_get_roots(h, NULL, 0, &n);
    assert_int_equal(n, 1);
    assert_ptr_equal(r[0].obj, a);
    assert_int_equal(r[0].outside, 1);
    om_gc_roots_free(h, r, n);
    assert_same_state(h, &st);
    /* dropped: cyclic garbage has no root */
    om_decref(a);
    r = om_gc_get_roots(h, NULL, OM_GC_ROOTS_UNTRACKED, &n);
    assert_int_equal(n, 0);
    om_gc_roots_free(h, r, n);
    assert_int_equal(om_gc_collect(h, -1), 3);
}

static void test_roots_in_another_heap(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_heap *other = om_heap_new(NULL);
    assert_non_null(other);
    node *a = mk(h, &node_type), *x = mk(other, &node_type);
    set_slot(x, 0, a); /* another heap holds a */
    om_decref(a);
    size_t n;
    om_gc_root *r = om_gc_get_roots(h, NULL, 0, &n);
    assert_int_equal(n, 1);
    assert_ptr_equal(r[0].obj, a);
    assert_int_equal(r[0].outside, 1);
    om_gc_roots_free(h, r, n);
    /* the other heap: x is its root; its reference to a is no edge */
    r = om_gc_get_roots(other, OM_OBJ(x), 0, &n);
    assert_int_equal(n, 1);
    assert_ptr_equal(r[0].obj, x);
    om_gc_roots_free(other, r, n);
    om_gc_chain *c = om_gc_find_chain(h, OM_OBJ(a));
    assert_non_null(c);
    assert_int_equal(c->n, 1);
    assert_int_equal(c->outside, 1);
    om_gc_chain_free(h, c);
    om_decref(x);
    om_heap_destroy(other);
}

/* The bug the test above found: a full collection of the heap holding the
 * reference left the other heap's object with scratch state (and, with
 * asserts, stopped at "ninit == n"). */
static void test_roots_collect_across_heaps(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_heap *other = om_heap_new(NULL);
    assert_non_null(other);
    node *a = mk(h, &node_type), *x = mk(other, &node_type), *y = mk(other, &node_type);
    set_slot(x, 0, a), set_slot(x, 1, y), set_slot(y, 0, x); /* garbage cycle holding a */
    om_decref(a), om_decref(y);
    assert_int_equal(om_gc_collect(other, -1), 0); /* x still held */
    assert_int_equal(om_heap_check(h), 0);         /* a has no scratch state left */
    assert_int_equal(om_heap_check(other), 0);
    om_decref(x);
    assert_int_equal(om_gc_collect(other, -1), 2);
    assert_int_equal(om_heap_check(h), 0);
    assert_int_equal(live_objects(h), 0); /* a went with the cycle */
    om_heap_destroy(other);
}

static void test_roots_frozen_holder_counts_as_outside(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *f = mk(h, &node_type);
    om_gc_freeze(h);
    node *a = mk(h, &node_type);
    set_slot(f, 0, a);
    om_decref(a);
    gcstate st;
    take_state(h, &st);
    size_t n;
    om_gc_root *r = om_gc_get_roots(h, NULL, 0, &n);
    assert_int_equal(outside_of(r, n, a), 1);
    assert_int_equal(outside_of(r, n, f), -1); /* frozen: not a candidate */
    om_gc_roots_free(h, r, n);
    assert_same_state(h, &st);
    om_gc_unfreeze(h);
    om_decref(f);
}

static void test_roots_reaching_two_roots_nearest_first(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *far = mk(h, &named_type), *x1 = mk(h, &named_type), *x2 = mk(h, &named_type);
    node *near = mk(h, &named_type), *t = mk(h, &named_type), *other = mk(h, &named_type);
    set_slot(far, 0, x1), set_slot(x1, 1, x2), set_slot(x2, 2, t);
    set_slot(near, 3, t);
    om_decref(x1), om_decref(x2), om_decref(t);
    gcstate st;
    take_state(h, &st);
    size_t n;
    om_gc_root *r = om_gc_get_roots(h, OM_OBJ(t), 0, &n);
    assert_int_equal(n, 2);
    assert_ptr_equal(r[0].obj, near);
    assert_ptr_equal(r[1].obj, far);
    om_gc_roots_free(h, r, n);
    om_gc_chain *c = om_gc_find_chain(h, OM_OBJ(t));
    assert_non_null(c);
    assert_int_equal(c->n, 2); /* the shorter chain wins */
    assert_ptr_equal(c->links[0].obj, near);
    assert_ptr_equal(c->links[1].obj, t);
    assert_string_equal(c->links[0].via, "");
    assert_string_equal(c->links[1].via, "slot[3]");
    om_gc_chain_free(h, c);
    assert_same_state(h, &st);
    /* without the near root: the long way, every hop named */
    om_decref(near);
    take_state(h, &st);
    c = om_gc_find_chain(h, OM_OBJ(t));
    assert_int_equal(c->n, 4);
    assert_ptr_equal(c->links[0].obj, far);
    assert_string_equal(c->links[1].via, "slot[0]");
    assert_string_equal(c->links[2].via, "slot[1]");
    assert_string_equal(c->links[3].via, "slot[2]");
    char line[512];
    size_t len = om_gc_chain_format(c, line, sizeof line);
    assert_int_equal(len, strlen(line));
    assert_non_null(strstr(line, "(1 outside) -> slot[0] named -> slot[1] named -> slot[2] named"));
    assert_true(om_gc_chain_format(c, line, 8) == len); /* truncated, length wanted */
    assert_int_equal(strlen(line), 7);
    om_gc_chain_free(h, c);
    assert_same_state(h, &st); /* refcounts included: every reference was given back */
    om_decref(far), om_decref(other);
}

static void test_roots_chain_through_builtins(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *list = om_list_new(h, 0), *d = om_dict_new(h);
    om_object *s = om_str_from_cstr(h, "the leaked string"), *k = om_str_from_cstr(h, "users");
    om_object *one = om_int_new(h, 1000);
    om_object *tup = om_tuple_pack(h, 2, one, s); /* atomic: untracked */
    assert_non_null(tup);
    assert_false(om_gc_is_tracked(tup));
    assert_int_equal(om_list_append(list, om_none(h)), 0);
    assert_int_equal(om_list_append(list, d), 0);
    assert_int_equal(om_dict_set(d, k, tup), 0);
    om_decref(d), om_decref(k), om_decref(tup), om_decref(one);
    om_gc_chain *c = om_gc_find_chain(h, s); /* s is also held by the C variable */
    assert_int_equal(c->n, 1);
    om_gc_chain_free(h, c);
    om_object *target = s;
    om_decref(s); /* now held only through list -> dict -> tuple (borrowed from here) */
    c = om_gc_find_chain(h, target);
    assert_non_null(c);
    assert_int_equal(c->n, 4);
    assert_ptr_equal(c->links[0].obj, list);
    assert_string_equal(c->links[1].via, "[1]");
    assert_string_equal(c->links[2].via, "['users']");
    assert_string_equal(c->links[3].via, "[1]");
    char line[512];
    om_gc_chain_format(c, line, sizeof line);
    assert_non_null(strstr(line,
                           "-> [1] dict {dict of 1} -> ['users'] tuple (tuple of 2) -> [1] str "
                           "'the leaked string'"));
    om_gc_chain_free(h, c);
    /* dict keys are named too */
    om_object *k2 = om_str_from_cstr(h, "key-object");
    om_object *d2 = om_dict_new(h);
    assert_int_equal(om_dict_set(d2, k2, om_none(h)), 0);
    om_decref(k2);
    size_t n;
    om_object **kk = om_gc_get_referents(h, &d2, 1, &n);
    om_object *key = kk[0];
    om_gc_list_free(h, kk, n); /* the array's reference would make key a root */
    c = om_gc_find_chain(h, key);
    assert_int_equal(c->n, 2);
    assert_string_equal(c->links[1].via, "key 'key-object'");
    om_gc_chain_free(h, c);
    om_decref(d2);
    om_decref(list);
}

static void test_roots_untracked_flag(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *s = om_str_from_cstr(h, "held by C");
    om_object *list = om_list_new(h, 0);
    om_object *inner = om_str_from_cstr(h, "held by the list");
    assert_int_equal(om_list_append(list, inner), 0);
    om_decref(inner);
    size_t n;
    om_gc_root *r = om_gc_get_roots(h, NULL, 0, &n);
    assert_int_equal(outside_of(r, n, s), -1);
    assert_int_equal(outside_of(r, n, list), 1);
    om_gc_roots_free(h, r, n);
    r = om_gc_get_roots(h, NULL, OM_GC_ROOTS_UNTRACKED, &n);
    assert_int_equal(outside_of(r, n, s), 1);
    assert_int_equal(outside_of(r, n, list), 1);
    assert_int_equal(outside_of(r, n, inner), -1);
    om_gc_roots_free(h, r, n);
    r = om_gc_get_roots(h, inner, 0, &n);
    assert_int_equal(n, 1);
    assert_ptr_equal(r[0].obj, list);
    om_gc_roots_free(h, r, n);
    om_decref(s), om_decref(list);
}

/* A count past the collector's 20-bit gc_refs is still exact. */
static void test_roots_saturated_count_exact(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *a = mk(h, &node_type), *b = mk(h, &node_type);
    set_slot(b, 0, a);
    const long extra = 1100000; /* past 2^20 - 1 */
    for (long i = 0; i < extra; i++) om_incref(a);
    size_t n;
    om_gc_root *r = om_gc_get_roots(h, NULL, 0, &n);
    assert_int_equal(n, 2);
    assert_int_equal(outside_of(r, n, a), 1 + extra);
    assert_int_equal(outside_of(r, n, b), 1);
    om_gc_roots_free(h, r, n);
    for (long i = 0; i < extra; i++) om_decref(a);
    om_decref(a), om_decref(b);
}

static void test_roots_errors(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *a = mk(h, &node_type), *b = mk(h, &node_type);
    set_slot(a, 0, b), set_slot(b, 0, a);
    om_decref(b);
    om_object *garbage = OM_OBJ(b);
    om_decref(a); /* a 2-cycle of garbage */
    assert_null(om_gc_find_chain(h, garbage));
    assert_int_equal(om_errcode(h), OM_EKEY);
    size_t n = 5;
    om_gc_root *r = om_gc_get_roots(h, garbage, 0, &n);
    assert_non_null(r);
    assert_int_equal(n, 0);
    om_gc_roots_free(h, r, n);
    static om_object fake;
    assert_null(om_gc_find_chain(h, &fake));
    assert_int_equal(om_errcode(h), OM_EFOREIGN);
    assert_null(om_gc_get_roots(h, &fake, 0, &n));
    assert_int_equal(om_errcode(h), OM_EFOREIGN);
    assert_int_equal(om_gc_collect(h, -1), 2);
}

/* From a gc callback (a collection runs): OM_ESTATE, nothing touched. */
static int cb_rc[2];
static void cb_try_roots(om_heap *h, int phase, const om_gc_info *info, void *ctx)
{
    (void)info, (void)ctx;
    size_t n;
    om_gc_root *r = om_gc_get_roots(h, NULL, 0, &n);
    cb_rc[phase] = r ? 0 : om_errcode(h);
    om_gc_roots_free(h, r, n);
    om_gc_chain *c = om_gc_find_chain(h, OM_OBJ(ctx));
    if (c || om_errcode(h) != OM_ESTATE) cb_rc[phase] = 1;
    om_gc_chain_free(h, c);
}

static void test_roots_refused_during_collection(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *a = mk(h, &node_type);
    assert_int_equal(om_gc_callback_add(h, cb_try_roots, a), 0);
    om_gc_collect(h, -1);
    assert_int_equal(cb_rc[0], OM_ESTATE);
    assert_int_equal(cb_rc[1], OM_ESTATE);
    assert_int_equal(om_gc_callback_remove(h, cb_try_roots, a), 0);
    om_decref(a);
}

/* The collector keeps working afterwards: the borrowed scratch is gone. */
static void test_roots_then_collect(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *a = mk(h, &fnode_type), *b = mk(h, &fnode_type);
    set_slot(a, 0, b), set_slot(b, 0, a);
    node *keep = mk(h, &node_type);
    size_t n;
    om_gc_root *r = om_gc_get_roots(h, NULL, OM_GC_ROOTS_UNTRACKED, &n);
    om_gc_roots_free(h, r, n);
    om_object *bb = OM_OBJ(b);
    om_decref(b); /* held by a only */
    om_gc_chain *c = om_gc_find_chain(h, bb);
    assert_int_equal(c->n, 2);
    om_gc_chain_free(h, c);
    om_decref(a);
    assert_int_equal(g_finalized, 0);
    assert_int_equal(om_gc_collect(h, -1), 2);
    assert_int_equal(g_finalized, 2);
    om_decref(keep);
}

/* Every call of roots.c, graph.c, growth.c, dot.c and heapsnapshot.c on a
 * heap with objects in every generation, frozen ones, a finalized and
 * resurrected one, garbage waiting and weak references: no state moves. */
static void test_roots_every_call_leaves_state(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *frozen = mk(h, &node_type);
    om_gc_freeze(h);
    node *fin = mk(h, &fnode_type);
    set_slot(fin, 0, fin);
    g_finalize_hook = resurrect_self;
    om_decref(fin);
    om_gc_collect(h, -1); /* finalized, resurrected into g_resurrect_slot */
    g_finalize_hook = NULL;
    assert_true(om_gc_is_finalized(g_resurrect_slot));
    node *old = mk(h, &node_type), *mid = mk(h, &node_type);
    om_gc_collect(h, -1);
    om_gc_collect(h, 0); /* old: 2 */
    node *young = mk(h, &named_type);
    set_slot(young, 0, mid), set_slot(mid, 0, old), set_slot(old, 0, frozen);
    node *ga = mk(h, &node_type), *gb = mk(h, &node_type); /* garbage, not yet collected */
    set_slot(ga, 0, gb), set_slot(gb, 0, ga);
    om_decref(ga), om_decref(gb);
    om_object *wr = om_weakref_new(h, OM_OBJ(mid), NULL, NULL);
    assert_non_null(wr);
    gcstate st;
    take_state(h, &st);
    size_t n;
    om_gc_root *r = om_gc_get_roots(h, NULL, 0, &n);
    om_gc_roots_free(h, r, n);
    assert_same_state(h, &st);
    r = om_gc_get_roots(h, NULL, OM_GC_ROOTS_UNTRACKED, &n);
    om_gc_roots_free(h, r, n);
    r = om_gc_get_roots(h, OM_OBJ(old), 0, &n);
    assert_int_equal(n, 3); /* our C variables hold all three: nearest first */
    assert_ptr_equal(r[0].obj, old);
    assert_ptr_equal(r[1].obj, mid);
    assert_ptr_equal(r[2].obj, young);
    om_gc_roots_free(h, r, n);
    om_gc_chain_free(h, om_gc_find_chain(h, OM_OBJ(frozen)));
    om_gc_chain_free(h, om_gc_find_chain(h, OM_OBJ(ga)));
    assert_same_state(h, &st);
    FILE *f = tmpfile();
    om_object *pick[2] = {OM_OBJ(mid), g_resurrect_slot};
    assert_int_equal(om_gc_write_dot(h, pick, 2, 3, OM_GC_DOT_REFERENTS | OM_GC_DOT_REFERRERS, f),
                     0);
    assert_int_equal(om_heap_write_heapsnapshot(h, f), 0);
    fclose(f);
    assert_same_state(h, &st);
    om_gc_counts *a = om_gc_type_counts(h, OM_GC_COUNTS_OBJECTS);
    om_gc_counts *b = om_gc_type_counts(h, OM_GC_COUNTS_TRACKED);
    om_gc_counts_free(om_gc_type_growth(a, b));
    om_object **fresh = om_gc_get_new_objects(h, a, NULL, 0, &n);
    assert_int_equal(n, 0);
    om_gc_list_free(h, fresh, n);
    om_gc_counts_free(a), om_gc_counts_free(b);
    assert_same_state(h, &st);
    assert_true(om_gc_is_finalized(g_resurrect_slot));
    om_decref(wr);
    om_clear_ref(&g_resurrect_slot);
    om_gc_unfreeze(h);
    om_decref(young), om_decref(mid), om_decref(old), om_decref(frozen);
    om_gc_collect(h, -1);
}

/* ----------------------------------------------------- huge graphs */

/* A seam that records the peak of system-allocator bytes. */
typedef struct peak_sys {
    om_sys base;
    size_t cur, peak;
} peak_sys;
static void *ps_malloc(void *ctx, size_t size)
{
    peak_sys *p = ctx;
    void *r = p->base.malloc(p->base.ctx, size);
    if (r && (p->cur += size) > p->peak) p->peak = p->cur;
    return r;
}
static void *ps_realloc(void *ctx, void *q, size_t old, size_t size)
{
    peak_sys *p = ctx;
    void *r = p->base.realloc(p->base.ctx, q, old, size);
    if (r && (p->cur += size - old) > p->peak) p->peak = p->cur;
    return r;
}
static void ps_free(void *ctx, void *q, size_t size)
{
    peak_sys *p = ctx;
    p->base.free(p->base.ctx, q, size);
    p->cur -= size;
}
static void *ps_map(void *ctx, size_t size, size_t align)
{
    peak_sys *p = ctx;
    return p->base.map(p->base.ctx, size, align);
}
static void ps_unmap(void *ctx, void *q, size_t size)
{
    peak_sys *p = ctx;
    p->base.unmap(p->base.ctx, q, size);
}

typedef struct huge_job {
    om_heap *h;
    peak_sys *ps;
    size_t n;
    int ok;
} huge_job;

/* A 1M-long chain of links from one root, and a 1M-item list. */
static int huge_run(void *arg)
{
    huge_job *j = arg;
    om_heap *h = j->h;
    link *head = (link *)om_new(h, &link_type), *cur = head;
    for (size_t i = 1; i < j->n; i++) {
        link *nx = (link *)om_new(h, &link_type);
        if (!nx) return 1;
        cur->next = OM_OBJ(nx);
        cur = nx;
    }
    om_object *list = om_list_new(h, 0);
    for (size_t i = 0; i < j->n; i++) {
        om_object *x = om_new(h, &link_type);
        if (!x || om_list_append(list, x) < 0) return 1;
        om_decref(x);
    }
    om_object *mid;
    om_object **items = om_gc_get_referents(h, &list, 1, &(size_t){0});
    mid = items[0]; /* traverse visits the last item first */
    om_gc_list_free(h, items, j->n);
    size_t before = j->ps->cur;
    j->ps->peak = before;
    size_t n;
    om_gc_root *r = om_gc_get_roots(h, OM_OBJ(cur), 0, &n);
    int ok = r && n == 1 && r[0].obj == OM_OBJ(head);
    om_gc_roots_free(h, r, n);
    om_gc_chain *c = om_gc_find_chain(h, mid);
    ok = ok && c && c->n == 2 && c->links[0].obj == list;
    om_gc_chain_free(h, c);
    r = om_gc_get_roots(h, NULL, 0, &n);
    ok = ok && r && n == 2;
    om_gc_roots_free(h, r, n);
    /* bounded: the graph of 2M objects and 2M references, 64 B per object */
    size_t used = j->ps->peak - before;
    if (used > 64 * 2 * j->n) {
        fprintf(stderr, "peak %zu bytes for %zu objects\n", used, 2 * j->n);
        ok = 0;
    }
    om_decref(list);
    om_decref(head);
    j->ok = ok;
    return 0;
}

static void test_roots_huge_graphs_small_stack(void **state)
{
    (void)state;
    peak_sys ps = {om_sys_default(), 0, 0};
    om_sys s = {&ps, ps_map, ps_unmap, ps_malloc, ps_realloc, ps_free, NULL};
    om_config cfg;
    om_config_init(&cfg);
    cfg.gc_stress = 0;
    cfg.sys = s;
    huge_job j = {om_heap_new(&cfg), &ps, 1000000, 0};
    assert_non_null(j.h);
    om_gc_disable(j.h);
    assert_int_equal(om_test_on_small_stack(huge_run, &j, 256 * 1024), 0);
    assert_true(j.ok);
    assert_int_equal(om_heap_check(j.h), 0);
    om_heap_destroy(j.h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roots_from_c_variables, gc_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_roots_none, gc_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_roots_no_lazy_untracking, gc_setup_nostress,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_roots_cycle_held_once, gc_setup_nostress,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_roots_in_another_heap, gc_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_roots_collect_across_heaps, gc_setup_nostress,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_roots_frozen_holder_counts_as_outside,
                                        gc_setup_nostress, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_roots_reaching_two_roots_nearest_first, gc_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_roots_chain_through_builtins, gc_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_roots_untracked_flag, gc_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_roots_saturated_count_exact, gc_setup_nostress,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_roots_errors, gc_setup_nostress, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_roots_refused_during_collection, gc_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_roots_then_collect, gc_setup_nostress,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_roots_every_call_leaves_state, gc_setup_nostress,
                                        om_test_teardown),
        cmocka_unit_test(test_roots_huge_graphs_small_stack),
        cmocka_unit_test_setup_teardown(test_roots_from_c_variables, gc_setup_debug,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_roots_reaching_two_roots_nearest_first, gc_setup_debug,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_roots_chain_through_builtins, gc_setup_debug,
                                        om_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
