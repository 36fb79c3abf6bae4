/*
 * graph.c - a graph of nodes with cycles and weak back-references. Edges
 * are strong (a cycle refcounting cannot free); each node's "parent" is a
 * weak reference, so it keeps nothing alive. Dropping the graph leaves
 * the cycles to the collector, which frees them and clears the weak refs.
 */
#include <stdio.h>

#include <objmem.h>

typedef struct node {
    OM_OBJECT_HEAD
    om_object *edges;  /* a list of nodes: strong */
    om_object *parent; /* a weak reference, or NULL */
    int id;
} node;

static int node_traverse(om_object *o, om_visit_fn visit, void *arg)
{
    OM_VISIT(((node *)o)->edges, visit, arg);
    OM_VISIT(((node *)o)->parent, visit, arg);
    return 0;
}
static void node_clear(om_object *o)
{
    om_clear_ref(&((node *)o)->edges);
    om_clear_ref(&((node *)o)->parent);
}

static const om_type node_type = {
    .name = "node",
    .basic_size = sizeof(node),
    .flags = OM_TYPE_GC | OM_TYPE_WEAKREFABLE,
    .traverse = node_traverse,
    .clear = node_clear,
    .dealloc = node_clear,
};

static size_t live(om_heap *h)
{
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    return st.objects - st.heap_objects;
}

/* Say what failed, with the heap's message for it (om_errmsg) when there
 * is one (h NULL: the heap is gone, or was never made), and return 1. */
static int fail(om_heap *h, const char *what)
{
    if (h && om_errmsg(h)[0])
        fprintf(stderr, "graph: %s failed: %s\n", what, om_errmsg(h));
    else
        fprintf(stderr, "graph: %s failed\n", what);
    return 1;
}

int main(void)
{
    om_heap *h = om_heap_new(NULL);
    if (!h) return fail(NULL, "om_heap_new (out of memory)");
    om_gc_disable(h); /* collect explicitly below */
    enum { N = 100 };
    node *nodes[N];
    for (int i = 0; i < N; i++) {
        nodes[i] = (node *)om_new(h, &node_type);
        if (!nodes[i] || !(nodes[i]->edges = om_list_new(h, 0))) return fail(h, "making a node");
        nodes[i]->id = i;
    }
    for (int i = 0; i < N; i++) { /* a ring, plus a chord to i*7 */
        if (om_list_append(nodes[i]->edges, OM_OBJ(nodes[(i + 1) % N])) < 0 ||
            om_list_append(nodes[i]->edges, OM_OBJ(nodes[(i * 7) % N])) < 0)
            return fail(h, "adding an edge");
        if (i && !(nodes[i]->parent = om_weakref_new(h, OM_OBJ(nodes[i - 1]), NULL, NULL)))
            return fail(h, "om_weakref_new");
    }
    om_object *probe = om_weakref_new(h, OM_OBJ(nodes[0]), NULL, NULL);
    if (!probe) return fail(h, "om_weakref_new");
    size_t before = live(h);
    for (int i = 0; i < N; i++) om_decref(nodes[i]);
    size_t dropped = live(h);
    om_object *still = om_weakref_get(probe);
    printf("graph: %d nodes, %zu live objects; after dropping our references: %zu (cycles)\n", N,
           before, dropped);
    printf("node 0 reachable through its weak reference: %s\n", still ? "yes" : "no");
    om_xdecref(still);
    long freed = om_gc_collect(h, -1);
    still = om_weakref_get(probe);
    printf("om_gc_collect freed %ld objects; %zu live (the probe); weak reference now %s\n", freed,
           live(h), still ? "alive (?)" : "cleared");
    if (freed < 0) return fail(h, "om_gc_collect");
    int ok = still == NULL && live(h) == 1 && freed > 0;
    om_xdecref(still);
    om_decref(probe);
    om_heap_destroy(h);
    return ok ? 0 : fail(NULL, "collecting the cycles");
}
