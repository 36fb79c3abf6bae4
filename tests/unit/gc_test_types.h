/*
 * gc_test_types.h - small GC types for the collector's tests (test_gc.c,
 * test_weakref.c): a node with NSLOT child slots, variants with a PEP 442
 * finalizer, a legacy finalizer, a large (> 512 B) node, and a one-slot
 * link for long chains. Static functions: include in one test file each.
 */
#ifndef GC_TEST_TYPES_H
#define GC_TEST_TYPES_H

#include "om_test.h"

#define NSLOT 4

typedef struct node {
    OM_OBJECT_HEAD
    om_object *slot[NSLOT];
    int tag;
} node;

typedef struct big_node {
    OM_OBJECT_HEAD
    om_object *slot[NSLOT];
    int tag;
    char pad[2100]; /* over OM_SMALL_MAX (2048): a large block */
} big_node;

typedef struct link {
    OM_OBJECT_HEAD
    om_object *next;
} link;

static int node_traverse(om_object *o, om_visit_fn visit, void *arg)
{
    node *n = (node *)o;
    for (int i = 0; i < NSLOT; i++) OM_VISIT(n->slot[i], visit, arg);
    return 0;
}

static void node_clear(om_object *o)
{
    node *n = (node *)o;
    for (int i = 0; i < NSLOT; i++) om_clear_ref(&n->slot[i]);
}

static void node_dealloc(om_object *o)
{
    node_clear(o);
}

/* Finalizer hook: tests set these to observe and to resurrect. */
static int g_finalized;             /* finalizers run                      */
static om_object *g_resurrect_slot; /* a finalizer stores itself here      */
static void (*g_finalize_hook)(om_object *o);

static void node_finalize(om_object *o)
{
    g_finalized++;
    if (g_finalize_hook) g_finalize_hook(o);
}

static __attribute__((unused)) void resurrect_self(om_object *o)
{
    if (!g_resurrect_slot) g_resurrect_slot = om_incref(o);
}

static int link_traverse(om_object *o, om_visit_fn visit, void *arg)
{
    OM_VISIT(((link *)o)->next, visit, arg);
    return 0;
}
static void link_clear(om_object *o)
{
    om_clear_ref(&((link *)o)->next);
}

static const om_type node_type = {
    .name = "node",
    .basic_size = sizeof(node),
    .flags = OM_TYPE_GC | OM_TYPE_WEAKREFABLE,
    .traverse = node_traverse,
    .clear = node_clear,
    .dealloc = node_dealloc,
};
static const om_type fnode_type = {
    .name = "fnode",
    .basic_size = sizeof(node),
    .flags = OM_TYPE_GC | OM_TYPE_WEAKREFABLE,
    .traverse = node_traverse,
    .clear = node_clear,
    .finalize = node_finalize,
    .dealloc = node_dealloc,
};
static const om_type legacy_type = {
    .name = "legacy",
    .basic_size = sizeof(node),
    .flags = OM_TYPE_GC | OM_TYPE_LEGACY_FINALIZER,
    .traverse = node_traverse,
    .clear = node_clear,
    .finalize = node_finalize,
    .dealloc = node_dealloc,
};
static const om_type big_type = {
    .name = "big",
    .basic_size = sizeof(big_node),
    .flags = OM_TYPE_GC | OM_TYPE_WEAKREFABLE,
    .traverse = node_traverse,
    .clear = node_clear,
    .dealloc = node_dealloc,
};
static const om_type noclear_type = {
    /* a GC type without clear */
    .name = "noclear",         .basic_size = sizeof(node), .flags = OM_TYPE_GC,
    .traverse = node_traverse, .dealloc = node_dealloc,
};
static const om_type link_type = {
    .name = "link",
    .basic_size = sizeof(link),
    .flags = OM_TYPE_GC,
    .traverse = link_traverse,
    .clear = link_clear,
    .dealloc = link_clear,
};
static const om_type plain_type = {
    /* not a GC type */
    .name = "plain",
    .basic_size = sizeof(om_object) + 16,
};

static inline node *mk(om_heap *h, const om_type *t)
{
    node *n = (node *)om_new(h, t);
    assert_non_null(n);
    return n;
}

/* a->slot[i] = b (a new reference to b). */
static inline void set_slot(node *a, int i, void *b)
{
    om_object *old = a->slot[i];
    a->slot[i] = b ? om_incref(OM_OBJ(b)) : NULL;
    om_xdecref(old);
}

static inline void reset_globals(void)
{
    g_finalized = 0;
    g_resurrect_slot = NULL;
    g_finalize_hook = NULL;
}

/* Fresh heap per case with the globals above reset: the plain, the
 * no-stress (million-object and counting cases) and the debug-mode one. */
static __attribute__((unused)) int gc_setup(void **state)
{
    reset_globals();
    return om_test_setup(state);
}
static __attribute__((unused)) int gc_setup_nostress(void **state)
{
    reset_globals();
    return om_test_setup_nostress(state);
}
static __attribute__((unused)) int gc_setup_debug(void **state)
{
    reset_globals();
    return om_test_setup_debug(state);
}

static inline size_t live_objects(om_heap *h)
{
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    return st.objects - st.heap_objects;
}

#endif
