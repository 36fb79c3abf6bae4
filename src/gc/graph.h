/*
 * graph.h - the heap as a graph, for the introspection files of src/gc/
 * only (roots.c, dot.c, heapsnapshot.c): every live object a node, every
 * reference a traverse visits an edge, in both directions, and each node's
 * count of references from outside the heap. Design note: docs/gc.md
 * ("Roots, chains and pictures").
 */
#ifndef OM_GC_GRAPH_H
#define OM_GC_GRAPH_H

#include "internal/heap.h"

enum {
    OM__G_CAND = 1u << 0,     /* a candidate of a full collection (tracked, unfrozen) */
    OM__G_ROOT = 1u << 1,     /* held from outside: outside > 0                     */
    OM__G_IMMORTAL = 1u << 2, /* immortal: the heap keeps it, never a root          */
};
#define OM__G_NONE UINT32_MAX /* no node */

/* A node: the object, its references from outside, OM__G_* flags. */
typedef struct om__gnode {
    om_object *obj;
    uint32_t outside;
    uint32_t flags;
} om__gnode;

/* The graph. Node i is node[i] (ascending addresses); its forward edges
 * (what it refers to, in traverse order, duplicates kept) are
 * fe[fo[i] .. fo[i+1]), its reverse edges (who refers to it) re[ro[i] ..
 * ro[i+1]).
 *
 * Invariants:
 *  1. n < OM__G_NONE; node[].obj strictly ascending; no hidden object.
 *  2. Every edge joins two nodes; references to objects of other heaps are
 *     not edges (they are outside references of the other heap).
 *  3. node[i].outside of a candidate is the collector's gc_refs after its
 *     subtraction (exact even when the 20-bit count saturated); of any other
 *     object refcnt minus its edges in. 0 for immortal objects.
 */
typedef struct om__graph {
    om_heap *h;
    size_t n;          /* nodes                                  */
    om__gnode *node;   /* nodes by address (seam memory)          */
    size_t *fo, *ro;   /* edge offsets, n + 1 each                */
    uint32_t *fe, *re; /* edge ends, ne each                      */
    size_t ne;         /* edges                                   */
    size_t ncap, ecap; /* capacities of node and fe              */
} om__graph;

/* Build the graph of every live object of h. 0, or OM_ENOMEM / OM_ESTATE
 * (during a collection) with *g empty. Changes no collector state: the
 * scratch bits it borrows are cleared before it returns. */
int om__graph_build(om_heap *h, om__graph *g);
void om__graph_free(om__graph *g);
/* The node of o, or OM__G_NONE. */
uint32_t om__graph_find(const om__graph *g, const om_object *o);

/* Breadth-first search from start[0..nstart) along forward (reverse = 0)
 * or reverse edges, to depth max_depth, visiting at most max_nodes nodes.
 * Afterwards order[0..*nvisited) are the visited nodes by distance,
 * dist[i] their distance (OM__G_NONE: not visited) and parent[i] the node
 * it was reached from. With stop_flags, the search stops at the first
 * node having one of them (returned; OM__G_NONE when none was found). */
typedef struct om__bfs {
    uint32_t *dist, *parent, *order; /* n each (seam memory)            */
    size_t nvisited;
    int truncated; /* max_nodes stopped the search */
} om__bfs;
int om__graph_bfs(const om__graph *g, const uint32_t *start, size_t nstart, int reverse,
                  uint32_t max_depth, size_t max_nodes, uint32_t stop_flags, om__bfs *b,
                  uint32_t *found);
void om__bfs_free(const om__graph *g, om__bfs *b);

/* Name where parent holds child with the parent's type's name_referent
 * (buf = "" when it cannot say). */
void om__graph_name_edge(om_object *parent, const om_object *child, char *buf, size_t n);

#endif
