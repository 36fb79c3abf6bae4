/*
 * test_object.c - objects and reference counting: the header, creation and
 * its errors, the heap of an object, counting and om_clear_ref ordering,
 * immortal objects, deallocation (dealloc, then the block back to its
 * pool), PEP 442 finalizers, scoped references, om_sizeof, per-type stats,
 * deallocation of deep structures in bounded stack, and the leak report.
 */
#include <stdbool.h>

#include "om_test.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

/* ------------------------------------------------------------ test types */

typedef struct thing {
    OM_OBJECT_HEAD
    int64_t value;
} thing;

static int g_deallocs;
static void thing_dealloc(om_object *o)
{
    (void)o;
    g_deallocs++;
}
static const om_type thing_type = {
    .name = "thing", .basic_size = sizeof(thing), .dealloc = thing_dealloc};

typedef struct big {
    OM_OBJECT_HEAD
    char data[2100]; /* over OM_SMALL_MAX (2048): a large block */
} big;
static const om_type big_type = {.name = "big", .basic_size = sizeof(big)};

/* 500 bytes: small in a normal heap, large in a debug heap (prefix + tail) */
typedef struct edge {
    OM_OBJECT_HEAD
    char data[500 - sizeof(om_object)];
} edge;
static const om_type edge_type = {.name = "edge", .basic_size = sizeof(edge)};

typedef struct vec {
    OM_VAR_OBJECT_HEAD
    int64_t items[];
} vec;
static size_t vec_extra(const om_object *o)
{
    (void)o;
    return 100;
}
static const om_type vec_type = {
    .name = "vec", .basic_size = sizeof(vec), .item_size = 8, .sizeof_extra = vec_extra};

/* A linked node (not GC) and a GC box holding one child. */
typedef struct node {
    OM_OBJECT_HEAD
    om_object *next;
} node;
static void node_dealloc(om_object *o)
{
    om_clear_ref(&((node *)o)->next);
}
static const om_type node_type = {
    .name = "node", .basic_size = sizeof(node), .dealloc = node_dealloc};

static int box_traverse(om_object *o, om_visit_fn visit, void *arg)
{
    OM_VISIT(((node *)o)->next, visit, arg);
    return 0;
}
static const om_type box_type = {.name = "box",
                                 .basic_size = sizeof(node),
                                 .flags = OM_TYPE_GC,
                                 .traverse = box_traverse,
                                 .dealloc = node_dealloc};

/* dealloc reads a slot through a global pointer (om_clear_ref ordering) */
static om_object **g_slot;
static om_object *g_seen_in_slot;
static int g_slot_checked;
static void watcher_dealloc(om_object *o)
{
    (void)o;
    g_seen_in_slot = *g_slot;
    g_slot_checked = 1;
}
static const om_type watcher_type = {
    .name = "watcher", .basic_size = sizeof(thing), .dealloc = watcher_dealloc};

/* PEP 442 finalizer that may resurrect */
static int g_finalized, g_resurrect;
static om_object *g_saved;
static void fin_finalize(om_object *o)
{
    g_finalized++;
    if (g_resurrect) g_saved = om_incref(o);
}
static const om_type fin_type = {
    .name = "fin", .basic_size = sizeof(thing), .finalize = fin_finalize, .dealloc = thing_dealloc};

/* dealloc that looks at the block's class statistics while it runs */
static size_t g_used_in_dealloc;
static om_heap *g_heap;
static void stat_dealloc(om_object *o)
{
    om_heap_stats st;
    (void)o;
    om_heap_get_stats(g_heap, &st);
    g_used_in_dealloc = st.classes[1].blocks_used; /* 32-byte class */
}
static const om_type stat_type = {
    .name = "stat", .basic_size = sizeof(thing), .dealloc = stat_dealloc};

static void reset_globals(void)
{
    g_deallocs = g_finalized = g_resurrect = g_slot_checked = 0;
    g_saved = g_seen_in_slot = NULL;
    g_slot = NULL;
}

static const om_type_stats *type_stats(const om_heap_stats *st, const char *name)
{
    for (size_t i = 0; i < st->ntypes; i++)
        if (strcmp(st->types[i].name, name) == 0) return &st->types[i];
    return NULL;
}

/* ------------------------------------------------------------------ cases */

static void test_object_header_is_16_bytes(void **state)
{
    (void)state;
    assert_int_equal(sizeof(om_object), 16);
    assert_int_equal(offsetof(om_object, refcnt), 0);
    assert_int_equal(offsetof(om_object, gc), 4);
    assert_int_equal(offsetof(om_object, type), 8);
    assert_int_equal(offsetof(thing, value), 16);
}

static void test_object_new_is_zeroed_with_count_1(void **state)
{
    om_heap *h = OM_HEAP(state);
    thing *t = (thing *)om_new(h, &thing_type);
    assert_non_null(t);
    assert_int_equal(om_refcount(OM_OBJ(t)), 1);
    assert_ptr_equal(t->ob_base.type, &thing_type);
    assert_int_equal(t->value, 0);
    vec *v = (vec *)om_new_var(h, &vec_type, 7);
    assert_non_null(v);
    assert_int_equal(v->ob_base.size, 7);
    for (int i = 0; i < 7; i++) assert_int_equal(v->items[i], 0);
    assert_int_equal(om_refcount(OM_OBJ(v)), 1);
    reset_globals();
    om_decref(t);
    om_decref(v);
    assert_int_equal(g_deallocs, 1);
}

static void test_object_new_errors(void **state)
{
    om_heap *h = OM_HEAP(state);
    static const om_type tiny = {.name = "tiny", .basic_size = 8};
    static const om_type gc_no_traverse = {.name = "gcx", .basic_size = 32, .flags = OM_TYPE_GC};
    static const om_type not_var = {.name = "notvar", .basic_size = 16, .item_size = 8};
    assert_null(om_new(h, NULL));
    assert_int_equal(om_errcode(h), OM_EINVAL);
    om_errclear(h);
    assert_null(om_new(h, &tiny));
    assert_int_equal(om_errcode(h), OM_EINVAL);
    assert_non_null(strstr(om_errmsg(h), "tiny"));
    assert_null(om_new(h, &gc_no_traverse));
    assert_int_equal(om_errcode(h), OM_EINVAL);
    assert_non_null(strstr(om_errmsg(h), "traverse"));
    om_errclear(h);
    assert_null(om_new(h, &vec_type)); /* has items: om_new_var */
    assert_int_equal(om_errcode(h), OM_EINVAL);
    om_errclear(h);
    assert_null(om_new_var(h, &not_var, 3)); /* no room for the item count */
    assert_int_equal(om_errcode(h), OM_EINVAL);
    om_errclear(h);
    assert_null(om_new_var(h, NULL, 3));
    assert_int_equal(om_errcode(h), OM_EINVAL);
    om_errclear(h);
    assert_null(om_new_var(h, &vec_type, SIZE_MAX / 4));
    assert_int_equal(om_errcode(h), OM_ENOMEM);
    /* a program's type may not set the flag bits objmem keeps for its own
     * types (bits 10..15: a "leaf" or "owns its memory" type would be freed
     * by rules it does not keep), plain, GC or var, each bit alone */
    for (unsigned bit = 10; bit < 16; bit++) {
        if (bit == 15) continue; /* OM_TYPE__BUILTIN says "objmem's own" */
        om_type plain = {.name = "flagged", .basic_size = 32, .flags = 1u << bit};
        om_type gc = {.name = "flaggedgc",
                      .basic_size = 32,
                      .flags = OM_TYPE_GC | 1u << bit,
                      .traverse = box_traverse};
        om_type var = {.name = "flaggedvar",
                       .basic_size = vec_type.basic_size,
                       .item_size = 8,
                       .flags = 1u << bit};
        om_errclear(h);
        assert_null(om_new(h, &plain));
        assert_int_equal(om_errcode(h), OM_EINVAL);
        assert_non_null(strstr(om_errmsg(h), "flagged"));
        assert_non_null(strstr(om_errmsg(h), "keeps for its own types"));
        om_errclear(h);
        assert_null(om_new(h, &gc));
        assert_int_equal(om_errcode(h), OM_EINVAL);
        om_errclear(h);
        assert_null(om_new_var(h, &var, 2));
        assert_int_equal(om_errcode(h), OM_EINVAL);
    }
    om_errclear(h);
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    assert_int_equal(st.objects - st.heap_objects, 0);
}

static void check_heap_of(om_heap *h)
{
    const om_type *types[] = {&thing_type, &edge_type, &big_type, &box_type};
    for (int i = 0; i < 4; i++) {
        om_object *o = om_new(h, types[i]);
        assert_non_null(o);
        assert_ptr_equal(om_heap_of(o), h);
        assert_int_equal(om_heap_check(h), 0);
        om_decref(o);
    }
    om_object *v = om_new_var(h, &vec_type, 200); /* 1600+ bytes: large */
    assert_ptr_equal(om_heap_of(v), h);
    om_decref(v);
}

static void test_object_heap_of_small_and_large(void **state)
{
    check_heap_of(OM_HEAP(state));
}

static void test_object_heap_of_in_two_heaps(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_heap *h2 = om_heap_new(NULL);
    om_object *a = om_new(h, &big_type), *b = om_new(h2, &big_type);
    om_object *c = om_new(h, &thing_type), *d = om_new(h2, &thing_type);
    assert_ptr_equal(om_heap_of(a), h);
    assert_ptr_equal(om_heap_of(b), h2);
    assert_ptr_equal(om_heap_of(c), h);
    assert_ptr_equal(om_heap_of(d), h2);
    om_decref(a);
    om_decref(b);
    om_decref(c);
    om_decref(d);
    om_heap_destroy(h2);
}

static void test_object_incref_decref_and_x_variants(void **state)
{
    om_heap *h = OM_HEAP(state);
    reset_globals();
    om_object *o = om_new(h, &thing_type);
    assert_ptr_equal(om_incref(o), o);
    assert_int_equal(om_refcount(o), 2);
    assert_ptr_equal(om_xincref(o), o);
    assert_int_equal(om_refcount(o), 3);
    assert_null(om_xincref(NULL));
    om_xdecref(NULL);
    om_xdecref(o);
    assert_int_equal(om_refcount(o), 2);
    om_decref(o);
    assert_int_equal(om_refcount(o), 1);
    assert_int_equal(g_deallocs, 0);
    om_object *slot = NULL;
    om_clear_ref(&slot); /* NULL slot: no-op */
    slot = o;
    om_clear_ref(&slot);
    assert_null(slot);
    assert_int_equal(g_deallocs, 1);
}

static void test_object_clear_ref_sets_slot_before_dealloc(void **state)
{
    om_heap *h = OM_HEAP(state);
    reset_globals();
    node *holder = (node *)om_new(h, &node_type);
    holder->next = om_new(h, &watcher_type);
    g_slot = &holder->next;
    g_seen_in_slot = OM_OBJ(holder); /* anything but NULL */
    om_clear_ref(&holder->next);
    assert_true(g_slot_checked);
    assert_null(g_seen_in_slot); /* the dealloc saw the slot already NULL */
    assert_null(holder->next);
    om_decref(holder);
}

static void test_object_immortal_survives_decrefs(void **state)
{
    om_heap *h = OM_HEAP(state);
    reset_globals();
    om_object *o = om_new(h, &thing_type);
    assert_false(om_is_immortal(o));
    om_make_immortal(o);
    assert_true(om_is_immortal(o));
    assert_int_equal(om_refcount(o), OM_IMMORTAL);
    for (long i = 0; i < 10 * 1000 * 1000; i++) om_decref(o);
    for (long i = 0; i < 1000; i++) om_incref(o);
    assert_int_equal(om_refcount(o), OM_IMMORTAL);
    assert_int_equal(g_deallocs, 0);
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    assert_int_equal(st.objects - st.heap_objects, 1);
    assert_int_equal(st.total_refs, 0); /* immortal counts are not summed */
    assert_int_equal(om_heap_check(h), 0);
    o->refcnt = 1; /* make it mortal again so the case leaves nothing */
    om_decref(o);
    assert_int_equal(g_deallocs, 1);
}

static void test_object_incref_saturates_at_immortal(void **state)
{
    om_heap *h = OM_HEAP(state);
    reset_globals();
    om_object *o = om_new(h, &thing_type);
    o->refcnt = OM_IMMORTAL - 2;
    om_incref(o);
    assert_false(om_is_immortal(o));
    om_incref(o); /* reaches OM_IMMORTAL: stays there */
    assert_true(om_is_immortal(o));
    om_incref(o);
    assert_int_equal(om_refcount(o), OM_IMMORTAL);
    om_decref(o);
    om_decref(o);
    assert_int_equal(om_refcount(o), OM_IMMORTAL);
    o->refcnt = 1;
    om_decref(o);
    assert_int_equal(g_deallocs, 1);
}

static void test_object_dealloc_then_block_back_to_pool(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_heap_stats base, before, after;
    g_heap = h;
    om_heap_get_stats(h, &base); /* the heap's own objects (small ints) share the class */
    size_t used0 = base.classes[1].blocks_used;
    om_object *keep = om_new(h, &stat_type); /* keeps the pool in use */
    om_object *o = om_new(h, &stat_type);
    om_heap_get_stats(h, &before);
    assert_int_equal(before.classes[1].blocks_used, used0 + 2);
    om_decref(o);
    assert_int_equal(g_used_in_dealloc, used0 + 2); /* dealloc ran while the block was in use */
    om_heap_get_stats(h, &after);
    assert_int_equal(after.classes[1].blocks_used, used0 + 1);
    assert_int_equal(after.classes[1].blocks_free, before.classes[1].blocks_free + 1);
    assert_int_equal(after.objects - after.heap_objects, 1);
    assert_int_equal(before.bytes_in_use - after.bytes_in_use, 32);
    om_object *again = om_new(h, &stat_type); /* LIFO: the same block again */
    assert_ptr_equal(again, o);
    om_decref(again);
    om_decref(keep);
}

static int no_children(om_object *o, om_visit_fn visit, void *arg)
{
    (void)o, (void)visit, (void)arg;
    return 0;
}

/* om_new's fast path (fixed-size types of 16..64 bytes, plain and GC) and its
 * slow path (the rest) give the same objects: for every basic_size from 16
 * to 80 in steps of 4, plain and GC (tracked once made), 3000 objects
 * (past the end of several pools, so the last-block unlink runs), each zeroed past its header
 * although the blocks were dirtied before being freed, counted live, then dropped; om_heap_check
 * holds on the way (plain and debug heaps). */
static void test_object_new_every_small_size(void **state)
{
    om_heap *h = OM_HEAP(state);
    enum { N = 3000 };
    static om_type types[34]; /* 17 plain, then the same sizes as GC types */
    om_object **v = malloc(N * sizeof *v);
    for (int k = 0; k < 34; k++) {
        om_type *t = &types[k];
        t->name = "sized";
        t->basic_size = 16 + 4 * (size_t)(k % 17);
        if (k >= 17) {
            t->flags = OM_TYPE_GC;
            t->traverse = no_children;
        }
        size_t body = t->basic_size - sizeof(om_object);
        om_heap_stats st0, st;
        om_heap_get_stats(h, &st0);
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < N; i++) {
                v[i] = om_new(h, t);
                assert_non_null(v[i]);
                assert_int_equal(om_refcount(v[i]), 1);
                assert_ptr_equal(v[i]->type, t);
                assert_int_equal(om_gc_is_tracked(v[i]), k >= 17);
                unsigned char *b = (unsigned char *)(v[i] + 1);
                for (size_t j = 0; j < body; j++) assert_int_equal(b[j], 0);
                memset(b, 0xA5, body); /* dirty: the next round must see zeroes */
            }
            om_heap_get_stats(h, &st);
            assert_int_equal(st.objects, st0.objects + N);
            assert_int_equal(om_heap_check(h), 0);
            for (int i = N; i-- > 0;) om_decref(v[i]);
        }
        om_heap_get_stats(h, &st);
        assert_int_equal(st.objects, st0.objects);
    }
    free(v);
    assert_int_equal(om_heap_check(h), 0);
}

/* Liveness of small objects comes from the blocks themselves in release
 * heaps (alloc.h, pool invariant 4; a bitmap in debug heaps): pools that
 * held raw blocks dirtied to look like live objects (count 1, a type) and
 * went back to their arena are carved again for a plain and a GC type, and
 * the walk finds exactly the objects made, after a build, after every
 * other one is dropped, after they are made again (reusing freed blocks)
 * and after all are dropped; om_heap_check holds at each step. */
static void test_object_liveness_after_pool_reuse(void **state)
{
    om_heap *h = OM_HEAP(state);
    enum { N = 6000 };
    static om_type plain = {.name = "reused", .basic_size = 32};
    static om_type gc = {
        .name = "reused_gc", .basic_size = 32, .flags = OM_TYPE_GC, .traverse = no_children};
    void **raw = malloc(N * sizeof *raw);
    om_object **v = malloc(N * sizeof *v);
    om_heap_stats st0, st;
    om_heap_get_stats(h, &st0);
    for (int i = 0; i < N; i++) {
        raw[i] = om_malloc(h, 32);
        assert_non_null(raw[i]);
        memset(raw[i], 0xA5, 32);
        ((om_object *)raw[i])->refcnt = 1;
        ((om_object *)raw[i])->type = &plain;
    }
    for (int i = 0; i < N; i++) om_free(h, raw[i]);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i += 1 + round) { /* round 1: the dropped ones */
            v[i] = om_new(h, i % 3 ? &plain : &gc);
            assert_non_null(v[i]);
        }
        om_heap_get_stats(h, &st);
        assert_int_equal(st.objects, st0.objects + N);
        assert_int_equal(om_heap_check(h), 0);
        for (int i = 0; i < N; i += 2) om_decref(v[i]);
        om_heap_get_stats(h, &st);
        assert_int_equal(st.objects, st0.objects + N / 2);
        assert_int_equal(om_heap_check(h), 0);
    }
    for (int i = 1; i < N; i += 2) om_decref(v[i]);
    om_heap_get_stats(h, &st);
    assert_int_equal(st.objects, st0.objects);
    assert_int_equal(om_heap_check(h), 0);
    free(raw);
    free(v);
}

static void test_object_finalize_runs_once_and_may_resurrect(void **state)
{
    om_heap *h = OM_HEAP(state);
    reset_globals();
    om_object *o = om_new(h, &fin_type);
    g_resurrect = 1;
    om_decref(o);
    assert_int_equal(g_finalized, 1);
    assert_int_equal(g_deallocs, 0);
    assert_ptr_equal(g_saved, o);
    assert_int_equal(om_refcount(o), 1);
    assert_int_equal(om_heap_check(h), 0);
    om_decref(g_saved); /* the second death: no finalizer, dealloc */
    assert_int_equal(g_finalized, 1);
    assert_int_equal(g_deallocs, 1);
    g_resurrect = 0;
    o = om_new(h, &fin_type);
    om_decref(o);
    assert_int_equal(g_finalized, 2);
    assert_int_equal(g_deallocs, 2);
}

static om_heap *g_scope_heap;
static void scoped_drop(void)
{
    OM_SCOPED om_object *tmp = om_new(g_scope_heap, &thing_type);
    OM_SCOPED om_object *none = NULL;
    (void)none;
    assert_int_equal(om_refcount(tmp), 1);
}
static om_object *scoped_take(void)
{
    OM_SCOPED om_object *tmp = om_new(g_scope_heap, &thing_type);
    return OM_SCOPED_TAKE(tmp);
}

static void test_object_scoped_drops_at_scope_exit(void **state)
{
    g_scope_heap = OM_HEAP(state);
    reset_globals();
    scoped_drop();
    assert_int_equal(g_deallocs, 1);
    om_object *o = scoped_take();
    assert_int_equal(g_deallocs, 1);
    assert_int_equal(om_refcount(o), 1);
    for (int i = 0; i < 3; i++) {
        OM_SCOPED om_object *r = om_incref(o);
        assert_int_equal(om_refcount(r), 2);
    }
    assert_int_equal(om_refcount(o), 1);
    om_decref(o);
    assert_int_equal(g_deallocs, 2);
}

static void test_object_sizeof(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *t = om_new(h, &thing_type);
    om_object *v = om_new_var(h, &vec_type, 5);
    om_object *b = om_new(h, &big_type);
    assert_int_equal(om_sizeof(t), sizeof(thing));
    assert_int_equal(om_sizeof(v), sizeof(vec) + 5 * 8 + 100);
    assert_int_equal(om_sizeof(b), sizeof(big));
    om_decref(t);
    om_decref(v);
    om_decref(b);
}

static void test_object_stats_per_type(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *t[3], *v[2];
    for (int i = 0; i < 3; i++) t[i] = om_new(h, &thing_type);
    for (int i = 0; i < 2; i++) v[i] = om_new_var(h, &vec_type, 1);
    om_incref(t[0]);
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    assert_int_equal(st.objects - st.heap_objects, 5);
    assert_int_equal(st.total_refs, 6);
    const om_type_stats *ts = type_stats(&st, "thing"), *vs = type_stats(&st, "vec");
    assert_non_null(ts);
    assert_non_null(vs);
    assert_int_equal(ts->count, 3);
    assert_int_equal(vs->count, 2);
    assert_int_equal(ts->bytes, 3 * sizeof(thing));
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    om_heap_print_stats(h, f);
    fclose(f);
    char want[80];
    snprintf(want, sizeof want, "# live objects                     = %14zu", st.objects);
    assert_non_null(strstr(buf, want)); /* 5 of the case's, plus the heap's own */
    assert_non_null(strstr(buf, "# total references (mortal)        =              6"));
    assert_non_null(strstr(buf, "thing                               3"));
    assert_non_null(strstr(buf, "vec                                 2"));
    free(buf);
    om_decref(t[0]);
    for (int i = 0; i < 3; i++) om_decref(t[i]);
    for (int i = 0; i < 2; i++) om_decref(v[i]);
    om_heap_get_stats(h, &st);
    assert_null(type_stats(&st, "thing")); /* only the heap's own types are left */
    assert_null(type_stats(&st, "vec"));
    assert_int_equal(st.total_refs, 0);
}

/* Python's example at the top of objmem/object.h, a = []; b = a; del a,
 * exactly as written there: del a drops one reference and the list lives
 * on through b; dropping b frees it at once. Then the same with a
 * user-defined type, whose dealloc runs exactly once. */
static void test_object_del_a_drops_one_reference_b_keeps_it(void **state)
{
    om_heap *h = OM_HEAP(state);
    reset_globals();
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    om_heap_stats st;
    om_object *a = om_list_new(h, 0);
    fprintf(f, "a = []: count %u\n", om_refcount(a));
    om_object *b = om_incref(a);
    fprintf(f, "b = a: count %u\n", om_refcount(b));
    om_clear_ref(&a);
    om_heap_get_stats(h, &st);
    fprintf(f, "del a: a %s, count %u, live %zu\n", a ? "set" : "NULL", om_refcount(b),
            st.objects - st.heap_objects);
    om_decref(b);
    om_heap_get_stats(h, &st);
    fprintf(f, "del b: live %zu\n", st.objects - st.heap_objects);
    a = om_new(h, &thing_type);
    b = om_incref(a);
    om_clear_ref(&a);
    om_clear_ref(&b);
    om_heap_get_stats(h, &st);
    fprintf(f, "thing: live %zu, deallocs %d\n", st.objects - st.heap_objects, g_deallocs);
    fclose(f);
    assert_string_equal(buf, "a = []: count 1\nb = a: count 2\ndel a: a NULL, count 1, live 1\n"
                             "del b: live 0\nthing: live 0, deallocs 1\n");
    free(buf);
}

/* ------------------------------------------------- deep structures */

static size_t chain_len(void)
{
    return RUNNING_ON_VALGRIND ? 100000 : 10 * 1000 * 1000;
}
static size_t nest_depth(void)
{
    return RUNNING_ON_VALGRIND ? 100000 : 1000 * 1000;
}

static om_object *build_chain(om_heap *h, const om_type *t, size_t n)
{
    om_object *head = NULL;
    for (size_t i = 0; i < n; i++) {
        node *x = (node *)om_new(h, t);
        assert_non_null(x);
        x->next = head; /* steals the reference to the previous head */
        head = OM_OBJ(x);
    }
    return head;
}

static om_object *g_drop;
static int drop_on_thread(void *arg)
{
    (void)arg;
    om_decref(g_drop);
    return 0;
}

static void test_object_10m_chain_freed_in_bounded_stack(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_heap_stats st, st0;
    om_heap_get_stats(h, &st0); /* the heap's own objects */
    g_drop = build_chain(h, &node_type, chain_len());
    om_heap_get_stats(h, &st);
    assert_int_equal(st.objects - st.heap_objects, chain_len());
    assert_int_equal(om_test_on_small_stack(drop_on_thread, NULL, 256 * 1024), 0);
    om_heap_get_stats(h, &st);
    assert_int_equal(st.objects - st.heap_objects, 0);
    assert_int_equal(st.bytes_in_use, st0.bytes_in_use);
}

static void test_object_1m_nest_of_containers_freed_in_bounded_stack(void **state)
{
    om_heap *h = OM_HEAP(state);
    g_drop = build_chain(h, &box_type, nest_depth());
    assert_true(om_gc_is_tracked(g_drop));
    assert_int_equal(om_test_on_small_stack(drop_on_thread, NULL, 256 * 1024), 0);
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    assert_int_equal(st.objects - st.heap_objects, 0);
}

/* ------------------------------------------------------- leak report */

static om_heap *report_heap(FILE **f, char **buf, size_t *len, int debug)
{
    om_config cfg;
    om_config_init(&cfg);
    cfg.debug = debug;
    cfg.report_leaks = 1;
    *f = open_memstream(buf, len);
    cfg.report_file = *f;
    return om_heap_new(&cfg);
}

static void leak_report_case(int debug)
{
    FILE *f;
    char *buf = NULL;
    size_t len = 0;
    om_heap *h = report_heap(&f, &buf, &len, debug);
    assert_non_null(h);
    for (int i = 0; i < 3; i++) om_new(h, &thing_type);
    om_new_var(h, &vec_type, 2);
    om_new(h, &big_type);
    om_make_immortal(om_new(h, &node_type));
    om_malloc(h, 100);
    om_malloc(h, 4000);
    om_heap_destroy(h);
    fclose(f);
    /* live objects grouped by type, with counts and bytes */
    assert_non_null(strstr(buf, "objmem: leak report: 5 objects"));
    assert_non_null(strstr(buf, "thing"));
    assert_non_null(strstr(buf, "         3 objects"));
    char want[128];
    snprintf(want, sizeof want, "%zu bytes", 3 * sizeof(thing));
    assert_non_null(strstr(buf, want));
    assert_non_null(strstr(buf, "vec"));
    assert_non_null(strstr(buf, "big"));
    /* raw blocks and immortal objects separately */
    assert_non_null(strstr(buf, "2 raw blocks"));
    assert_non_null(strstr(buf, "1 immortal object"));
    free(buf);
}

static void test_object_leak_report(void **state)
{
    (void)state;
    leak_report_case(0);
}

static void test_object_leak_report_debug_heap(void **state)
{
    (void)state;
    leak_report_case(1);
}

static void test_object_no_leak_no_report(void **state)
{
    (void)state;
    FILE *f;
    char *buf = NULL;
    size_t len = 0;
    om_heap *h = report_heap(&f, &buf, &len, 0);
    om_object *o = om_new(h, &thing_type);
    void *p = om_malloc(h, 100);
    om_decref(o);
    om_free(h, p);
    om_heap_destroy(h);
    fclose(f);
    assert_int_equal(len, 0);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_object_header_is_16_bytes),
        cmocka_unit_test_setup_teardown(test_object_new_is_zeroed_with_count_1, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_object_new_is_zeroed_with_count_1, om_test_setup_debug,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_object_new_errors, om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_object_heap_of_small_and_large, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_object_heap_of_small_and_large, om_test_setup_debug,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_object_heap_of_in_two_heaps, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_object_incref_decref_and_x_variants, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_object_clear_ref_sets_slot_before_dealloc,
                                        om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_object_immortal_survives_decrefs, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_object_incref_saturates_at_immortal, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_object_dealloc_then_block_back_to_pool, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_object_new_every_small_size, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_object_new_every_small_size, om_test_setup_debug,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_object_finalize_runs_once_and_may_resurrect,
                                        om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_object_finalize_runs_once_and_may_resurrect,
                                        om_test_setup_debug, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_object_scoped_drops_at_scope_exit, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_object_sizeof, om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_object_liveness_after_pool_reuse, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_object_liveness_after_pool_reuse, om_test_setup_debug,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_object_stats_per_type, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_object_stats_per_type, om_test_setup_debug,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_object_del_a_drops_one_reference_b_keeps_it,
                                        om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_object_10m_chain_freed_in_bounded_stack,
                                        om_test_setup_nostress, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_object_1m_nest_of_containers_freed_in_bounded_stack,
                                        om_test_setup_nostress, om_test_teardown),
        cmocka_unit_test(test_object_leak_report),
        cmocka_unit_test(test_object_leak_report_debug_heap),
        cmocka_unit_test(test_object_no_leak_no_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
