/*
 * test_gc.c - the cycle collector: the scenarios of CPython's
 * Lib/test/test_gc.py (each case names the test it mirrors), plus the
 * collector's own properties: no recursion (10M-long cyclic chain under a
 * 256 KiB stack), clean abandonment when memory runs out, large objects,
 * generations and invariants after every case (teardown).
 */
#include "gc_test_types.h"

/* Million-object and counting cases on a debug-mode heap: never under
 * gc_stress (OBJMEM_GC_STRESS=1). */
static int setup_debug_nostress(void **state)
{
    reset_globals();
    om_config cfg;
    om_config_init(&cfg);
    cfg.debug = 1;
    cfg.gc_stress = 0;
    *state = om_heap_new(&cfg);
    return *state ? 0 : -1;
}

/* ------------------------------------------------------------- basics */

/* test_gc.py: test_list (a list that contains itself) */
static void test_gc_self_reference(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *a = mk(h, &node_type);
    set_slot(a, 0, a);
    om_decref(a);
    assert_int_equal(live_objects(h), 1);
    assert_int_equal(om_gc_collect(h, -1), 1);
    assert_int_equal(live_objects(h), 0);
}

/* test_gc.py: test_dict, test_tuple, test_class (cycles through
 * several types, one of them a large object) */
static void test_gc_cycle_of_several_types(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *a = mk(h, &node_type), *b = mk(h, &big_type), *c = mk(h, &fnode_type);
    node *d = mk(h, &noclear_type);
    set_slot(a, 0, b);
    set_slot(b, 1, c);
    set_slot(c, 2, d);
    set_slot(d, 3, a);
    om_decref(a), om_decref(b), om_decref(c), om_decref(d);
    assert_int_equal(om_gc_collect(h, 2), 4);
    assert_int_equal(g_finalized, 1);
    assert_int_equal(live_objects(h), 0);
}

/* test_gc.py: test_collect_generations-like: reachable objects survive,
 * and a collection of gen 0 sees only young objects */
static void test_gc_reachable_survive(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *root = mk(h, &node_type), *a = mk(h, &node_type), *b = mk(h, &node_type);
    set_slot(root, 0, a);
    set_slot(a, 0, b);
    set_slot(b, 0, a);
    om_decref(a), om_decref(b);
    assert_int_equal(om_gc_collect(h, 0), 0);
    assert_int_equal(om_gc_collect(h, -1), 0);
    assert_ptr_equal(root->slot[0], a);
    assert_ptr_equal(a->slot[0], b);
    set_slot(root, 0, NULL); /* now the a<->b cycle is garbage, in gen 2 */
    assert_int_equal(om_gc_collect(h, 0), 0);
    assert_int_equal(om_gc_collect(h, 1), 0);
    assert_int_equal(om_gc_collect(h, 2), 2);
    om_decref(root);
}

/* test_gc.py: test_collect (nothing to collect) */
static void test_gc_nothing_tracked(void **state)
{
    om_heap *h = OM_HEAP(state);
    for (int g = -1; g <= 2; g++) assert_int_equal(om_gc_collect(h, g), 0);
    assert_int_equal(om_gc_collect(h, 3), OM_EINVAL);
    assert_int_equal(om_gc_collect(h, -2), OM_EINVAL);
}

/* test_gc.py: test_is_tracked */
static void test_gc_is_tracked(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *a = mk(h, &node_type);
    om_object *p = om_new(h, &plain_type);
    assert_true(om_gc_is_tracked(OM_OBJ(a)));
    assert_false(om_gc_is_tracked(p));
    om_gc_untrack(OM_OBJ(a));
    assert_false(om_gc_is_tracked(OM_OBJ(a)));
    set_slot(a, 0, a); /* untracked cycle: invisible to the collector */
    assert_int_equal(om_gc_collect(h, -1), 0);
    om_gc_track(OM_OBJ(a));
    om_gc_track(p); /* not a GC type */
    assert_int_equal(om_errcode(h), OM_ETYPE);
    assert_false(om_gc_is_tracked(p));
    om_decref(a);
    assert_int_equal(om_gc_collect(h, -1), 1);
    om_decref(p);
}

/* Immortal objects and counts over the saturation limit are reachable. */
static void test_gc_immortal_and_saturated(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *a = mk(h, &node_type), *b = mk(h, &node_type);
    set_slot(a, 0, a);
    om_make_immortal(OM_OBJ(a));
    set_slot(b, 0, b);
    for (int i = 0; i < (1 << 21); i++) om_incref(b); /* past the 20-bit gc_refs */
    assert_int_equal(om_gc_collect(h, -1), 0);
    for (int i = 0; i < (1 << 21); i++) om_decref(b);
    om_decref(b);
    assert_int_equal(om_gc_collect(h, -1), 1);
    om_gc_untrack(OM_OBJ(a)); /* immortal: left for heap destroy */
    a->slot[0] = NULL;
    a->ob_base.refcnt = 1;
    om_decref(a);
}

/* ---------------------------------------------------------- finalizers */

/* test_gc.py: test_bug21435 / PEP 442 test_finalization: a cycle whose
 * members have finalizers is collected, each finalizer runs once */
static void test_gc_cycle_with_finalizers(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *a = mk(h, &fnode_type), *b = mk(h, &fnode_type);
    set_slot(a, 0, b);
    set_slot(b, 0, a);
    om_decref(a), om_decref(b);
    assert_int_equal(om_gc_collect(h, -1), 2);
    assert_int_equal(g_finalized, 2);
    assert_int_equal(live_objects(h), 0);
}

/* test_finalization.py SelfCycleResurrector / test_gc.py test_resurrection:
 * a finalizer that resurrects its object: it survives, is not cleared, and
 * its finalizer never runs again */
static void test_gc_resurrection(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *a = mk(h, &fnode_type), *b = mk(h, &node_type);
    set_slot(a, 0, b);
    set_slot(b, 0, a);
    om_decref(a), om_decref(b);
    g_finalize_hook = resurrect_self;
    assert_int_equal(om_gc_collect(h, -1), 0);
    assert_ptr_equal(g_resurrect_slot, a);
    assert_int_equal(g_finalized, 1);
    assert_true(om_gc_is_finalized(OM_OBJ(a)));
    assert_ptr_equal(a->slot[0], b); /* not cleared, nor what it reaches */
    assert_ptr_equal(b->slot[0], a);
    om_clear_ref(&g_resurrect_slot);
    assert_int_equal(om_gc_collect(h, -1), 2);
    assert_int_equal(g_finalized, 1); /* at most once */
    assert_int_equal(live_objects(h), 0);
}

/* A finalizer that resurrects something it reaches, not itself. */
static node *g_keep_target;
static void resurrect_target(om_object *o)
{
    (void)o;
    if (g_keep_target && !g_resurrect_slot) g_resurrect_slot = om_incref(g_keep_target);
}

static void test_gc_resurrect_other_member(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *a = mk(h, &fnode_type), *b = mk(h, &node_type), *c = mk(h, &node_type);
    set_slot(a, 0, b);
    set_slot(b, 0, c);
    set_slot(c, 0, a);
    om_decref(a), om_decref(b), om_decref(c);
    g_keep_target = b;
    g_finalize_hook = resurrect_target;
    assert_int_equal(om_gc_collect(h, -1), 0); /* b reaches c reaches a */
    assert_ptr_equal(c->slot[0], a);
    g_keep_target = NULL;
    om_clear_ref(&g_resurrect_slot);
    assert_int_equal(om_gc_collect(h, -1), 3);
}

/* test_gc.py: test_bug1055820 family / "finalizer creates garbage": new
 * cyclic garbage made by a finalizer is collected by the next collection */
static om_heap *g_heap;
static void make_garbage(om_object *o)
{
    (void)o;
    node *x = mk(g_heap, &node_type);
    set_slot(x, 0, x);
    om_decref(x);
}

static void test_gc_finalizer_creates_garbage(void **state)
{
    om_heap *h = OM_HEAP(state);
    g_heap = h;
    node *a = mk(h, &fnode_type);
    set_slot(a, 0, a);
    om_decref(a);
    g_finalize_hook = make_garbage;
    assert_int_equal(om_gc_collect(h, -1), 1);
    assert_int_equal(live_objects(h), 1);
    g_finalize_hook = NULL;
    assert_int_equal(om_gc_collect(h, -1), 1);
    assert_int_equal(live_objects(h), 0);
}

/* test_gc.py: test_legacy_finalizer / test_legacy_finalizer_newclass: a
 * cycle holding a legacy finalizer is uncollectable: the object with the
 * legacy finalizer goes to garbage, what it reaches stays alive */
static void test_gc_legacy_finalizer_uncollectable(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *a = mk(h, &legacy_type), *b = mk(h, &node_type), *c = mk(h, &node_type);
    set_slot(a, 0, b);
    set_slot(b, 0, a);
    set_slot(c, 0, c); /* an ordinary cycle next to it: collected */
    om_decref(a), om_decref(b), om_decref(c);
    assert_int_equal(om_gc_collect(h, -1), 3);
    assert_int_equal(g_finalized, 0);
    assert_int_equal(om_gc_garbage_count(h), 1);
    om_gc_stats st[3];
    om_gc_get_stats(h, st);
    assert_int_equal(st[2].uncollectable, 2);
    assert_int_equal(st[2].collected, 1);
    size_t n;
    om_object **g = om_gc_garbage(h, &n);
    assert_int_equal(n, 1);
    assert_ptr_equal(g[0], OM_OBJ(a));
    om_gc_list_free(h, g, n);
    set_slot(b, 0, NULL); /* the programmer breaks the cycle */
    om_gc_garbage_clear(h);
    assert_int_equal(live_objects(h), 0);
    assert_int_equal(g_finalized, 1); /* refcounting runs it at death */
}

/* test_gc.py: test_saveall */
static void test_gc_saveall(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_gc_set_debug(h, OM_GC_DEBUG_SAVEALL);
    assert_int_equal(om_gc_get_debug(h), OM_GC_DEBUG_SAVEALL);
    node *a = mk(h, &node_type);
    set_slot(a, 0, a);
    om_decref(a);
    assert_int_equal(om_gc_collect(h, -1), 1);
    assert_int_equal(om_gc_garbage_count(h), 1);
    assert_ptr_equal(a->slot[0], a); /* not cleared */
    om_gc_set_debug(h, 0);
    set_slot(a, 0, NULL);
    om_gc_garbage_clear(h);
    assert_int_equal(om_gc_garbage_count(h), 0);
    assert_int_equal(live_objects(h), 0);
}

/* test_gc.py: test_debug_stats-like (DEBUG_STATS, DEBUG_COLLECTABLE) */
static void test_gc_debug_output(void **state)
{
    om_heap *h = OM_HEAP(state);
    FILE *f = tmpfile();
    assert_non_null(f);
    om_gc_set_debug_file(h, f);
    om_gc_set_debug(h, OM_GC_DEBUG_STATS | OM_GC_DEBUG_COLLECTABLE);
    node *a = mk(h, &node_type);
    set_slot(a, 0, a);
    om_decref(a);
    assert_int_equal(om_gc_collect(h, 1), 1);
    om_gc_set_debug(h, 0);
    om_gc_set_debug_file(h, NULL);
    char buf[1024] = {0};
    rewind(f);
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    assert_true(got > 0);
    assert_non_null(strstr(buf, "gc: collecting generation 1..."));
    assert_non_null(strstr(buf, "gc: objects in each generation: 1 0 0"));
    assert_non_null(strstr(buf, "gc: collectable <node "));
    assert_non_null(strstr(buf, "gc: done, 1 unreachable, 0 uncollectable"));
}

/* test_gc.py: test_collect_garbage-like: collection requested inside a
 * finalizer is deferred, not re-entered */
static long g_inner_ret = -99;
static void collect_inside(om_object *o)
{
    (void)o;
    g_inner_ret = om_gc_collect(g_heap, -1);
}

static void test_gc_collect_inside_finalizer_deferred(void **state)
{
    om_heap *h = OM_HEAP(state);
    g_heap = h;
    node *a = mk(h, &fnode_type);
    set_slot(a, 0, a);
    om_decref(a);
    g_finalize_hook = collect_inside;
    assert_int_equal(om_gc_collect(h, 0), 1);
    assert_int_equal(g_inner_ret, 0);
    om_gc_stats st[3];
    om_gc_get_stats(h, st);
    assert_int_equal(st[0].collections, 1);
    assert_int_equal(st[2].collections, 1); /* ran right after */
}

/* test_gc.py: test_bug1055820 "untracking during collection": a
 * finalizer untracks another member of the garbage */
static node *g_untrack_target;
static void untrack_other(om_object *o)
{
    (void)o;
    if (g_untrack_target) om_gc_untrack(OM_OBJ(g_untrack_target));
}

static void test_gc_untrack_during_collection(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *a = mk(h, &fnode_type), *b = mk(h, &node_type);
    set_slot(a, 0, b);
    set_slot(b, 0, a);
    om_decref(a), om_decref(b);
    g_untrack_target = b;
    g_finalize_hook = untrack_other;
    assert_int_equal(om_gc_collect(h, -1), 2);
    g_untrack_target = NULL;
    assert_int_equal(live_objects(h), 0);
}

/* ----------------------------------------------- counts and generations */

/* test_gc.py: test_get_count, test_collect_generations */
static void test_gc_counts(void **state)
{
    om_heap *h = OM_HEAP(state);
    long c[3];
    om_gc_collect(h, -1);
    om_gc_get_count(h, c);
    assert_int_equal(c[0], 0);
    node *a = mk(h, &node_type);
    om_gc_get_count(h, c);
    assert_int_equal(c[0], 1);
    om_gc_collect(h, 0);
    om_gc_get_count(h, c);
    assert_int_equal(c[0], 0);
    assert_int_equal(c[1], 1);
    om_gc_collect(h, 1);
    om_gc_get_count(h, c);
    assert_int_equal(c[1], 0);
    assert_int_equal(c[2], 1);
    om_gc_collect(h, 2);
    om_gc_get_count(h, c);
    assert_int_equal(c[0] + c[1] + c[2], 0);
    node *b = mk(h, &node_type);
    om_decref(b); /* allocations minus deallocations */
    om_gc_get_count(h, c);
    assert_int_equal(c[0], 0);
    om_decref(a);
}

/* test_gc.py: test_get_objects_generations */
static int in_list(om_object **l, size_t n, void *o)
{
    for (size_t i = 0; i < n; i++)
        if (l[i] == o) return 1;
    return 0;
}

static int gen_has(om_heap *h, int gen, void *o)
{
    size_t n;
    om_object **l = om_gc_get_objects(h, gen, &n);
    assert_non_null(l);
    int r = in_list(l, n, o);
    om_gc_list_free(h, l, n);
    return r;
}

static void test_gc_get_objects_generations(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *a = mk(h, &node_type), *big = mk(h, &big_type);
    for (int round = 0; round < 2; round++) {
        void *o = round ? (void *)big : (void *)a;
        assert_true(gen_has(h, 0, o) && !gen_has(h, 1, o) && !gen_has(h, 2, o));
        assert_true(gen_has(h, -1, o));
        om_gc_collect(h, 0);
        assert_true(!gen_has(h, 0, o) && gen_has(h, 1, o) && !gen_has(h, 2, o));
        om_gc_collect(h, 1);
        assert_true(!gen_has(h, 0, o) && !gen_has(h, 1, o) && gen_has(h, 2, o));
        om_gc_collect(h, 2);
        assert_true(!gen_has(h, 0, o) && !gen_has(h, 1, o) && gen_has(h, 2, o));
        if (!round) { /* start big over young: retrack moves to gen 0 */
            om_gc_untrack(OM_OBJ(big));
            om_gc_track(OM_OBJ(big));
        }
    }
    assert_int_equal(om_gc_get_objects(h, 3, &(size_t){0}), NULL);
    om_decref(a);
    om_decref(big);
}

/* test_gc.py: test_threshold / test_get_threshold / automatic collection */
static void test_gc_threshold_triggers(void **state)
{
    om_heap *h = OM_HEAP(state);
    long t[3];
    om_gc_get_threshold(h, t);
    assert_int_equal(t[0], 700); /* CPython 3.11 */
    assert_int_equal(t[1], 10);
    assert_int_equal(t[2], 10);
    assert_int_equal(om_gc_set_threshold(h, 10, 2, 2), 0);
    assert_int_equal(om_gc_set_threshold(h, -1, 2, 2), OM_EINVAL);
    for (int i = 0; i < 100; i++) { /* garbage cycles past threshold 0 */
        node *a = mk(h, &node_type);
        set_slot(a, 0, a);
        om_decref(a);
    }
    om_gc_stats st[3];
    om_gc_get_stats(h, st);
    assert_true(st[0].collections >= 5);
    assert_true(st[1].collections >= 1);
    assert_true(st[0].collected + st[1].collected + st[2].collected >= 80);
    /* disabled: no automatic collection, manual still works */
    om_gc_disable(h);
    assert_false(om_gc_is_enabled(h));
    size_t before = st[0].collections + st[1].collections + st[2].collections;
    for (int i = 0; i < 50; i++) {
        node *a = mk(h, &node_type);
        set_slot(a, 0, a);
        om_decref(a);
    }
    om_gc_get_stats(h, st);
    assert_int_equal(st[0].collections + st[1].collections + st[2].collections, before);
    assert_true(om_gc_collect(h, -1) >= 50);
    om_gc_enable(h);
    assert_true(om_gc_is_enabled(h));
    om_gc_collect(h, -1);
    assert_int_equal(live_objects(h), 0);
}

/* Collections made automatically: the list pairs a phase of n cycles made
 * (each list is created on om_list_new's leaf path). */
static size_t list_cycle_collections(om_heap *h, int n)
{
    om_gc_stats st[3];
    om_gc_get_stats(h, st);
    size_t before = st[0].collections + st[1].collections + st[2].collections;
    for (int i = 0; i < n; i++) {
        om_object *a = om_list_new(h, 0), *b = om_list_new(h, 0);
        assert_non_null(a);
        assert_non_null(b);
        assert_int_equal(om_list_append(a, b), 0);
        assert_int_equal(om_list_append_steal(b, a), 0);
        om_decref(b);
    }
    assert_int_equal(om_heap_check(h), 0); /* the collector's young limit too */
    om_gc_get_stats(h, st);
    return st[0].collections + st[1].collections + st[2].collections - before;
}

/* Every setting that decides automatic collection (threshold, t0 = 0,
 * disable, enable), changed back and forth, on thousands of lists. */
static void test_gc_threshold_settings_lists(void **state)
{
    om_heap *h = OM_HEAP(state);
    assert_int_equal(om_gc_set_threshold(h, 50, 10, 10), 0);
    assert_true(list_cycle_collections(h, 5000) >= 5000 * 2 / 51); /* one per 25 pairs */
    assert_int_equal(om_gc_set_threshold(h, 0, 10, 10), 0);        /* t0 = 0: none */
    assert_int_equal(list_cycle_collections(h, 2000), 0);
    assert_int_equal(om_gc_set_threshold(h, 50, 10, 10), 0);
    assert_true(list_cycle_collections(h, 2000) >= 1);
    om_gc_disable(h);
    assert_int_equal(list_cycle_collections(h, 2000), 0);
    om_gc_enable(h);
    assert_true(list_cycle_collections(h, 2000) >= 2000 * 2 / 51);
    om_gc_collect(h, -1);
    assert_int_equal(live_objects(h), 0);
}

/* The full-collection rule: long-lived pending must exceed 25 % of the
 * long-lived total (CPython 3.11 gc_collect_generations). */
static void test_gc_full_needs_pending(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *keep[400];
    for (int i = 0; i < 400; i++) keep[i] = mk(h, &node_type);
    om_gc_collect(h, -1); /* 400 long-lived */
    om_gc_set_threshold(h, 5, 1, 1);
    for (int i = 0; i < 60; i++) { /* young survivors: pending grows slowly */
        node *a = mk(h, &node_type);
        om_decref(a);
    }
    om_gc_stats st[3];
    om_gc_get_stats(h, st);
    assert_int_equal(st[2].collections, 1); /* only ours: 0 pending */
    for (int i = 0; i < 400; i++) om_decref(keep[i]);
}

/* test_gc.py: test_freeze */
static void test_gc_freeze(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *a = mk(h, &node_type);
    set_slot(a, 0, a);
    om_gc_freeze(h);
    assert_int_equal(om_gc_get_freeze_count(h), 1);
    om_decref(a);
    assert_int_equal(om_gc_collect(h, -1), 0); /* frozen: ignored */
    assert_false(gen_has(h, -1, a));
    om_gc_unfreeze(h);
    assert_int_equal(om_gc_get_freeze_count(h), 0);
    assert_int_equal(om_gc_collect(h, 0), 0); /* unfrozen into the old generation */
    assert_int_equal(om_gc_collect(h, -1), 1);
}

/* -------------------------------------------------- callbacks and stats */

typedef struct cb_log {
    int calls;
    int phase[8];
    int gen[8];
    size_t collected[8], uncollectable[8];
} cb_log;

static void log_cb(om_heap *h, int phase, const om_gc_info *info, void *ctx)
{
    (void)h;
    cb_log *l = ctx;
    if (l->calls < 8) {
        l->phase[l->calls] = phase;
        l->gen[l->calls] = info->generation;
        l->collected[l->calls] = info->collected;
        l->uncollectable[l->calls] = info->uncollectable;
    }
    l->calls++;
}

/* test_gc.py: GCCallbackTests.test_collect, test_collect_generation,
 * test_collect_garbage, and test_get_stats */
static void test_gc_callbacks_and_stats(void **state)
{
    om_heap *h = OM_HEAP(state);
    cb_log l = {0};
    assert_int_equal(om_gc_callback_add(h, log_cb, &l), 0);
    node *a = mk(h, &node_type), *b = mk(h, &legacy_type);
    set_slot(a, 0, a);
    set_slot(b, 0, b);
    om_decref(a), om_decref(b);
    om_gc_stats before[3], after[3];
    om_gc_get_stats(h, before);
    assert_int_equal(om_gc_collect(h, 1), 2);
    om_gc_get_stats(h, after);
    assert_int_equal(l.calls, 2);
    assert_int_equal(l.phase[0], OM_GC_START);
    assert_int_equal(l.phase[1], OM_GC_STOP);
    assert_int_equal(l.gen[0], 1);
    assert_int_equal(l.gen[1], 1);
    assert_int_equal(l.collected[1], 1);
    assert_int_equal(l.uncollectable[1], 1);
    assert_int_equal(after[1].collections, before[1].collections + 1);
    assert_int_equal(after[1].collected, before[1].collected + 1);
    assert_int_equal(after[1].uncollectable, before[1].uncollectable + 1);
    assert_true(after[1].pause_ns >= before[1].pause_ns);
    assert_int_equal(om_gc_callback_remove(h, log_cb, &l), 0);
    assert_int_equal(om_gc_callback_remove(h, log_cb, &l), OM_EKEY);
    om_gc_collect(h, 0);
    assert_int_equal(l.calls, 2);
    set_slot(b, 0, NULL);
    om_gc_garbage_clear(h);
}

/* A callback that asks for a collection: deferred. */
static void collecting_cb(om_heap *h, int phase, const om_gc_info *info, void *ctx)
{
    (void)info;
    if (phase == OM_GC_START) *(long *)ctx = om_gc_collect(h, 0);
}

static void test_gc_collect_inside_callback_deferred(void **state)
{
    om_heap *h = OM_HEAP(state);
    long r = -1;
    om_gc_callback_add(h, collecting_cb, &r);
    om_gc_collect(h, 2);
    assert_int_equal(r, 0);
    om_gc_stats st[3];
    om_gc_get_stats(h, st);
    assert_int_equal(st[2].collections, 1);
    assert_int_equal(st[0].collections, 1);
    om_gc_callback_remove(h, collecting_cb, &r);
}

/* --------------------------------------------------------- introspection */

/* test_gc.py: test_get_referrers, test_get_referents */
static void test_gc_referrers_referents(void **state)
{
    om_heap *h = OM_HEAP(state);
    node *t = mk(h, &node_type), *a = mk(h, &node_type), *b = mk(h, &big_type);
    node *c = mk(h, &node_type);
    set_slot(a, 0, t);
    set_slot(b, 2, t);
    set_slot(c, 1, a);
    om_object *target = OM_OBJ(t);
    size_t n;
    om_object **r = om_gc_get_referrers(h, &target, 1, &n);
    assert_non_null(r);
    assert_int_equal(n, 2);
    assert_true(in_list(r, n, a) && in_list(r, n, b));
    om_gc_list_free(h, r, n);
    om_object *both[2] = {OM_OBJ(c), OM_OBJ(b)};
    r = om_gc_get_referents(h, both, 2, &n);
    assert_int_equal(n, 2);
    assert_ptr_equal(r[0], a);
    assert_ptr_equal(r[1], t);
    om_gc_list_free(h, r, n);
    om_object *p = om_new(h, &plain_type);
    r = om_gc_get_referents(h, &p, 1, &n); /* non-GC: nothing */
    assert_int_equal(n, 0);
    om_gc_list_free(h, r, n);
    om_decref(p);
    om_decref(t), om_decref(a), om_decref(b), om_decref(c);
}

/* test_gc.py: test_debug_uncollectable-like (DEBUG_UNCOLLECTABLE), and
 * the collector's lines in om_heap_print_stats */
static void test_gc_debug_uncollectable_and_print(void **state)
{
    om_heap *h = OM_HEAP(state);
    FILE *f = tmpfile();
    assert_non_null(f);
    om_gc_set_debug_file(h, f);
    om_gc_set_debug(h, OM_GC_DEBUG_UNCOLLECTABLE);
    node *a = mk(h, &legacy_type);
    set_slot(a, 0, a);
    om_decref(a);
    assert_int_equal(om_gc_collect(h, -1), 1);
    om_gc_set_debug(h, 0);
    om_gc_set_debug_file(h, NULL);
    om_heap_print_stats(h, f);
    char buf[8192] = {0};
    rewind(f);
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    assert_true(got > 0);
    assert_non_null(strstr(buf, "gc: uncollectable <legacy "));
    assert_non_null(strstr(buf, "# gc: generation 2: 1 collections, 0 collected, 1 uncollectable"));
    set_slot(a, 0, NULL);
    om_gc_garbage_clear(h);
}

/* Collections run while a deallocation loop is running (a dealloc that
 * allocates, on a gc_stress heap): objects waiting on the deferred list
 * are invisible to the collector. */
static om_heap *g_stress_heap;
static void alloc_dealloc(om_object *o)
{
    node_clear(o);
    node *x = (node *)om_new(g_stress_heap, &node_type); /* a full collection runs */
    assert_non_null(x);
    set_slot(x, 0, x);
    om_decref(x);
}
static const om_type alloc_dealloc_type = {
    .name = "alloc_dealloc",
    .basic_size = sizeof(node),
    .flags = OM_TYPE_GC,
    .traverse = node_traverse,
    .clear = node_clear,
    .dealloc = alloc_dealloc,
};

static void test_gc_collect_during_dealloc(void **state)
{
    (void)state;
    om_config cfg;
    om_config_init(&cfg);
    cfg.gc_stress = 1;
    om_heap *h = om_heap_new(&cfg);
    g_stress_heap = h;
    node *head = mk(h, &alloc_dealloc_type), *prev = head;
    for (int i = 0; i < 30; i++) { /* a chain: freeing it queues children */
        node *n = mk(h, &alloc_dealloc_type);
        set_slot(prev, 0, n);
        om_decref(n);
        prev = n;
    }
    om_gc_stats before[3], after[3];
    om_gc_get_stats(h, before);
    om_decref(head); /* each dealloc allocates: a collection per link */
    om_gc_get_stats(h, after);
    assert_true(after[2].collections >= before[2].collections + 31);
    om_gc_collect(h, -1);
    assert_int_equal(live_objects(h), 0);
    assert_int_equal(om_heap_check(h), 0);
    om_heap_destroy(h);
}

/* A collection that runs inside deallocations, at every nesting depth up
 * to the deferral limit and at it: the garbage it frees is dropped through
 * the collector's array (om__object_drop_array), nested where it may be,
 * queued for the outermost deallocation where it may not. Garbage mixes a
 * type without clear, so some drops only decrement. Everything is freed
 * once the outermost om_decref returns, with no further collection. */
static om_heap *g_deep_heap;
static long g_deep_collected;
static void collect_in_dealloc(om_object *o)
{
    om_heap *h = g_deep_heap;
    node *a = mk(h, &node_type), *b = mk(h, &noclear_type), *c = mk(h, &node_type);
    set_slot(a, 0, b);
    set_slot(b, 0, c);
    set_slot(c, 0, a);
    set_slot(b, 1, a);
    om_decref(a);
    om_decref(b);
    om_decref(c);
    long n = om_gc_collect(h, 0);
    if (n > 0) g_deep_collected += n;
    node_clear(o); /* then the next link is freed, one level deeper */
}
static const om_type collect_in_dealloc_type = {
    .name = "collect_in_dealloc",
    .basic_size = sizeof(node),
    .flags = OM_TYPE_GC,
    .traverse = node_traverse,
    .clear = node_clear,
    .dealloc = collect_in_dealloc,
};

static void test_gc_garbage_dropped_at_every_depth(void **state)
{
    om_heap *h = *state;
    g_deep_heap = h;
    g_deep_collected = 0;
    om_gc_disable(h); /* only the explicit collections */
    node *head = mk(h, &collect_in_dealloc_type), *prev = head;
    for (int i = 0; i < 59; i++) { /* past the deferral depth, twice */
        node *n = mk(h, &collect_in_dealloc_type);
        set_slot(prev, 0, n);
        om_decref(n);
        prev = n;
    }
    om_gc_stats before[3], after[3];
    om_gc_get_stats(h, before);
    om_decref(head);
    om_gc_get_stats(h, after);
    assert_int_equal(after[0].collections - before[0].collections, 60);
    assert_int_equal(g_deep_collected, 3 * 60);
    assert_int_equal(live_objects(h), 0);
    assert_int_equal(om_heap_check(h), 0);
    om_gc_enable(h);
}

/* ---------------------------------------------------------- gc_stress */

static void test_gc_stress_mode(void **state)
{
    (void)state;
    om_config cfg;
    om_config_init(&cfg);
    cfg.gc_stress = 1;
    om_heap *h = om_heap_new(&cfg);
    node *keep = mk(h, &node_type);
    for (int i = 0; i < 50; i++) {
        node *a = mk(h, &node_type), *b = mk(h, &node_type);
        set_slot(a, 0, b);
        set_slot(b, 0, a);
        set_slot(keep, i % NSLOT, a);
        om_decref(a), om_decref(b);
    }
    om_gc_stats st[3];
    om_gc_get_stats(h, st);
    assert_true(st[2].collections >= 100);
    assert_true(st[2].collected >= 90);
    om_decref(keep);
    om_gc_collect(h, -1);
    assert_int_equal(live_objects(h), 0);
    assert_int_equal(om_heap_check(h), 0);
    om_heap_destroy(h);
}

/* -------------------------------------------------- no recursion: 10M */

typedef struct chain_job {
    om_heap *h;
    size_t n;
    long collected;
} chain_job;

static int chain_run(void *arg)
{
    chain_job *j = arg;
    link *first = (link *)om_new(j->h, &link_type), *prev = first;
    if (!first) return -1;
    for (size_t i = 1; i < j->n; i++) {
        link *l = (link *)om_new(j->h, &link_type);
        if (!l) return -1;
        prev->next = OM_OBJ(l); /* steals the new reference */
        prev = l;
    }
    prev->next = om_incref(OM_OBJ(first)); /* close the cycle */
    om_decref(first);
    j->collected = om_gc_collect(j->h, -1);
    return 0;
}

/* A 10M-long cycle: marking, clearing and freeing under a 256 KiB stack. */
static void test_gc_long_chain_small_stack(void **state)
{
    om_heap *h = OM_HEAP(state);
    chain_job j = {h, 10000000, 0};
    assert_int_equal(om_test_on_small_stack(chain_run, &j, 256 * 1024), 0);
    assert_int_equal(j.collected, 10000000);
    assert_int_equal(live_objects(h), 0);
}

/* A long chain reachable from outside: marking is iterative too. */
static int reach_run(void *arg)
{
    chain_job *j = arg;
    link *first = (link *)om_new(j->h, &link_type), *prev = first;
    for (size_t i = 1; i < j->n; i++) {
        link *l = (link *)om_new(j->h, &link_type);
        prev->next = OM_OBJ(l);
        prev = l;
    }
    prev->next = om_incref(OM_OBJ(first));
    j->collected = om_gc_collect(j->h, -1); /* all reachable from first */
    link *l = (link *)first;
    om_clear_ref(&l->next); /* break: freeing is iterative as well */
    om_decref(first);
    return 0;
}

static void test_gc_long_reachable_chain_small_stack(void **state)
{
    om_heap *h = OM_HEAP(state);
    chain_job j = {h, 1000000, -1};
    assert_int_equal(om_test_on_small_stack(reach_run, &j, 256 * 1024), 0);
    assert_int_equal(j.collected, 0);
}

/* ------------------------------------------- out of memory: abandon */

typedef struct failing {
    om_sys real;
    long budget; /* mallocs/reallocs left; < 0: unlimited */
} failing;

static void *f_malloc(void *ctx, size_t size)
{
    failing *f = ctx;
    if (f->budget == 0) return NULL;
    if (f->budget > 0) f->budget--;
    return f->real.malloc(f->real.ctx, size);
}
static void *f_realloc(void *ctx, void *p, size_t old, size_t size)
{
    failing *f = ctx;
    if (f->budget == 0) return NULL;
    if (f->budget > 0) f->budget--;
    return f->real.realloc(f->real.ctx, p, old, size);
}
static void *f_map(void *ctx, size_t s, size_t a)
{
    failing *f = ctx;
    return f->real.map(f->real.ctx, s, a);
}
static void f_unmap(void *ctx, void *p, size_t s)
{
    failing *f = ctx;
    f->real.unmap(f->real.ctx, p, s);
}
static void f_free(void *ctx, void *p, size_t s)
{
    failing *f = ctx;
    f->real.free(f->real.ctx, p, s);
}

/* Fail the Nth seam allocation of a collection, N = 0, 1, ...: either it
 * succeeds, or it fails with OM_ENOMEM leaving everything as it was. */
static void test_gc_oom_abandons_cleanly(void **state)
{
    (void)state;
    for (long budget = 0; budget < 12; budget++) {
        failing f = {om_sys_default(), -1};
        om_config cfg;
        om_config_init(&cfg);
        cfg.sys = (om_sys){&f, f_map, f_unmap, f_malloc, f_realloc, f_free, NULL};
        om_heap *h = om_heap_new(&cfg);
        assert_non_null(h);
        node *root = mk(h, &node_type);
        /* a wide fan-out so marking needs a big stack */
        for (int i = 0; i < 20000; i++) {
            node *a = mk(h, &node_type);
            set_slot(a, 0, root);
            set_slot(a, 1, a);
            set_slot(root, i % NSLOT, a);
            node *w = mk(h, &node_type); /* held only by a: a wide tree */
            set_slot(a, 2, w);
            om_decref(w);
            om_decref(a);
        }
        f.budget = budget;
        long r = om_gc_collect(h, -1);
        f.budget = -1;
        assert_true(r == OM_ENOMEM || r >= 0);
        assert_int_equal(om_heap_check(h), 0);
        om_decref(root);
        assert_true(om_gc_collect(h, -1) >= 0);
        assert_int_equal(om_heap_check(h), 0);
        om_heap_destroy(h);
    }
}

/* Heap destroy collects cyclic garbage (finalizers run) and frees tables. */
/* A young collection out of memory for its work stack, in the sweep that
 * marks and takes at once (collect.c, mark_take): a chain of 3000 nodes
 * made before its holder is taken as the sweep passes it (nothing ahead
 * refers to it), then reached from the holder behind the sweep, which
 * needs the stack. Failing the pool list, the candidate array (the bitmap
 * walk then) or the stack after the chain was taken abandons the
 * collection: every take is undone, nothing changes (counts exact: the
 * chain dies by refcount later); with room the chain survives. */
static void test_gc_young_oom_abandons_cleanly(void **state)
{
    (void)state;
    long nfail = 0, last = -1;
    for (long budget = 0; budget < 10; budget++) {
        failing f = {om_sys_default(), -1};
        om_config cfg;
        om_config_init(&cfg);
        cfg.sys = (om_sys){&f, f_map, f_unmap, f_malloc, f_realloc, f_free, NULL};
        cfg.gc_stress = 0;
        om_heap *h = om_heap_new(&cfg);
        assert_non_null(h);
        om_gc_disable(h);
        node *first = mk(h, &node_type), *prev = first;
        for (int i = 1; i < 3000; i++) {
            node *n = mk(h, &node_type);
            set_slot(prev, 0, n);
            om_decref(n);
            prev = n;
        }
        node *root = mk(h, &node_type); /* after the chain: behind the sweep */
        set_slot(root, 0, first);
        om_decref(first);
        f.budget = budget;
        long r = om_gc_collect(h, 0);
        f.budget = -1;
        assert_true(r == OM_ENOMEM || r == 0);
        nfail += r == OM_ENOMEM;
        last = r;
        assert_int_equal(om_heap_check(h), 0);
        om_object **young;
        size_t n;
        young = om_gc_get_objects(h, 0, &n);
        assert_non_null(young);
        assert_int_equal(n, r == OM_ENOMEM ? 3001 : 0); /* abandoned: still young */
        om_gc_list_free(h, young, n);
        assert_int_equal(live_objects(h), 3001);
        om_decref(root);
        assert_int_equal(live_objects(h), 0); /* counts exact: the chain dies by refcount */
        assert_int_equal(om_heap_check(h), 0);
        om_heap_destroy(h);
    }
    assert_true(nfail >= 3); /* the pool list, the candidates, the stack */
    assert_int_equal(last, 0);
}

static void test_gc_destroy_collects(void **state)
{
    (void)state;
    reset_globals();
    om_heap *h = om_heap_new(NULL);
    node *a = mk(h, &fnode_type);
    set_slot(a, 0, a);
    om_decref(a);
    node *k = mk(h, &legacy_type);
    set_slot(k, 0, k);
    om_decref(k);
    om_heap_destroy(h);
    assert_int_equal(g_finalized, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_gc_self_reference, gc_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_cycle_of_several_types, gc_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_reachable_survive, gc_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_nothing_tracked, gc_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_is_tracked, gc_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_immortal_and_saturated, gc_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_cycle_with_finalizers, gc_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_resurrection, gc_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_resurrect_other_member, gc_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_finalizer_creates_garbage, gc_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_legacy_finalizer_uncollectable, gc_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_saveall, gc_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_debug_output, gc_setup_nostress, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_collect_inside_finalizer_deferred,
                                        gc_setup_nostress, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_untrack_during_collection, gc_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_counts, gc_setup_nostress, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_get_objects_generations, gc_setup_nostress,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_threshold_triggers, gc_setup_nostress,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_threshold_settings_lists, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_full_needs_pending, gc_setup_nostress,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_freeze, gc_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_callbacks_and_stats, gc_setup_nostress,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_collect_inside_callback_deferred, gc_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_referrers_referents, gc_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_garbage_dropped_at_every_depth, gc_setup,
                                        om_test_teardown),
        cmocka_unit_test(test_gc_stress_mode),
        cmocka_unit_test_setup_teardown(test_gc_debug_uncollectable_and_print, gc_setup_nostress,
                                        om_test_teardown),
        cmocka_unit_test(test_gc_collect_during_dealloc),
        cmocka_unit_test_setup_teardown(test_gc_cycle_of_several_types, gc_setup_debug,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_resurrection, gc_setup_debug, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_legacy_finalizer_uncollectable, gc_setup_debug,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_get_objects_generations, setup_debug_nostress,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_freeze, gc_setup_debug, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_long_chain_small_stack, gc_setup_nostress,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_gc_long_reachable_chain_small_stack, gc_setup_nostress,
                                        om_test_teardown),
        cmocka_unit_test(test_gc_oom_abandons_cleanly),
        cmocka_unit_test(test_gc_young_oom_abandons_cleanly),
        cmocka_unit_test(test_gc_destroy_collects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
