/*
 * objmem/gc.h - the cycle collector and the gc module's API.
 * Design note: docs/gc.md. Include <objmem.h>, not this file.
 *
 * Python's gc module in C. Reference counting frees most objects at once;
 * the collector finds what it cannot: groups of tracked objects that refer
 * to each other and that nothing outside the group refers to. Objects are
 * in generation 0 (young), 1 (middle) or 2 (old), or frozen (a permanent
 * generation that collections ignore).
 *
 * Arrays of objects (get_objects, get_referrers, get_referents, garbage)
 * are returned as C arrays of NEW references plus their length; give them
 * back with om_gc_list_free, which drops the references and frees the array.
 */
#ifndef OBJMEM_GC_H
#define OBJMEM_GC_H

#include "object.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Objects of OM_TYPE_GC types are tracked from creation. Untrack an object
 * that cannot be part of a cycle (it holds no references) to spare the
 * collector the work; track it again when that changes. Both are no-ops
 * when already in that state; tracking a non-GC object fails (OM_ETYPE). */
void om_gc_track(om_object *o);
/* Stop tracking o (see om_gc_track): collections no longer visit it. A
 * no-op when o is not tracked. */
void om_gc_untrack(om_object *o);
/* 1 when the collector tracks o (gc.is_tracked), else 0. */
int om_gc_is_tracked(const om_object *o);

/* ------------------------------------------------------------ collecting */

/* gc.collect(generation): collect generation gen and the younger ones
 * (-1 = 2 = full). Returns the number of unreachable objects found that
 * were not resurrected by a finalizer, plus the uncollectable ones (as
 * CPython does), or a negative OM_E* code (OM_EINVAL for a bad gen,
 * OM_ENOMEM when the collector's work stack cannot grow: the collection is
 * then abandoned cleanly and nothing changed). Runs finalizers, weak
 * reference callbacks and gc callbacks. Works while automatic collection
 * is disabled. Called during a collection (from a finalizer or callback)
 * it returns 0 and the collection runs right after the current one. */
long om_gc_collect(om_heap *h, int gen);

/* gc.enable: turn automatic collection (by the thresholds) back on. */
void om_gc_enable(om_heap *h);
/* gc.disable: no automatic collection until om_gc_enable, not even the
 * stress mode's (om_config.gc_stress, OBJMEM_GC_STRESS=1); om_gc_collect
 * still works. */
void om_gc_disable(om_heap *h);
/* gc.isenabled: 1 when automatic collection is on. */
int om_gc_is_enabled(om_heap *h);

/* gc.set_threshold / get_threshold: t0 = tracked allocations minus
 * deallocations that start a generation-0 collection (0 disables automatic
 * collection), t1 = generation-0 collections per generation-1 one, t2 = the
 * same for a full one (which also needs the pending long-lived objects to
 * exceed 25 % of the long-lived ones, CPython's rule). Negative: OM_EINVAL. */
int om_gc_set_threshold(om_heap *h, long t0, long t1, long t2);
/* gc.get_threshold: out[0..2] = t0, t1, t2 of om_gc_set_threshold. */
void om_gc_get_threshold(om_heap *h, long out[3]);
/* gc.get_count: count[0] = tracked allocations minus deallocations since
 * the last collection; count[1], count[2] = collections of the younger
 * generation since the last collection of this one. */
void om_gc_get_count(om_heap *h, long out[3]);

/* gc.get_stats: one entry per generation. */
typedef struct om_gc_stats {
    size_t collections;   /* collections of this generation          */
    size_t collected;     /* unreachable objects freed               */
    size_t uncollectable; /* found unreachable, kept (legacy finalizer) */
    uint64_t pause_ns;    /* total time spent in these collections    */
} om_gc_stats;
/* gc.get_stats: fill out[g] with the totals of generation g (0, 1, 2). */
void om_gc_get_stats(om_heap *h, om_gc_stats out[3]);

/* 1 when o's finalizer has run (PEP 442; gc.is_finalized). */
int om_gc_is_finalized(const om_object *o);

/* gc.freeze: move every tracked object into the permanent generation,
 * which collections ignore (for fork-heavy servers: no copy-on-write of
 * the gc words). unfreeze moves them back into the oldest generation.
 * get_freeze_count counts the frozen objects (O(objects)). */
void om_gc_freeze(om_heap *h);
/* gc.unfreeze: move the frozen objects back into the oldest generation. */
void om_gc_unfreeze(om_heap *h);
/* gc.get_freeze_count: the number of frozen objects (O(objects)). */
size_t om_gc_get_freeze_count(om_heap *h);

/* gc.set_debug flags. */
enum {
    OM_GC_DEBUG_STATS = 1 << 0,         /* a summary per collection             */
    OM_GC_DEBUG_COLLECTABLE = 1 << 1,   /* each collectable object found         */
    OM_GC_DEBUG_UNCOLLECTABLE = 1 << 2, /* each uncollectable object found       */
    OM_GC_DEBUG_SAVEALL = 1 << 5,       /* keep unreachable objects in garbage   */
    OM_GC_DEBUG_LEAK = OM_GC_DEBUG_COLLECTABLE | OM_GC_DEBUG_UNCOLLECTABLE | OM_GC_DEBUG_SAVEALL,
};
/* gc.set_debug: set the OM_GC_DEBUG_* flags (0 turns debugging off). */
void om_gc_set_debug(om_heap *h, unsigned flags);
/* gc.get_debug: the OM_GC_DEBUG_* flags set now. */
unsigned om_gc_get_debug(om_heap *h);
/* Where debug output goes (NULL = the heap's report file, stderr). */
void om_gc_set_debug_file(om_heap *h, FILE *out);

/* gc.garbage: the objects the collector found unreachable but kept
 * (uncollectable ones, and with SAVEALL every unreachable one). The heap
 * holds a reference to each. om_gc_garbage returns a new array of new
 * references (free it with om_gc_list_free), NULL on OM_ENOMEM; *n is its
 * length. om_gc_garbage_count is the length without copying.
 * om_gc_garbage_clear drops the heap's references (`del gc.garbage[:]`). */
om_object **om_gc_garbage(om_heap *h, size_t *n);
/* len(gc.garbage), without copying. */
size_t om_gc_garbage_count(om_heap *h);
/* `del gc.garbage[:]`: drop the heap's references to the garbage. */
void om_gc_garbage_clear(om_heap *h);
/* gc.garbage.remove(o): drop the heap's reference to the first occurrence
 * of o in garbage (the order of the others is kept). 0, or OM_EKEY when o
 * is not there. The caller must hold its own reference to o if it wants o
 * to live on (dropping the last one frees o at once). */
int om_gc_garbage_remove(om_heap *h, om_object *o);

/* gc.callbacks: fn(h, phase, info, ctx) is called before (OM_GC_START) and
 * after (OM_GC_STOP) every collection; info->collected and uncollectable
 * are filled at stop. A collection requested from fn is deferred.
 * om_gc_callback_add fails with OM_ENOMEM; remove returns OM_EKEY when the
 * (fn, ctx) pair is not registered. */
enum { OM_GC_START = 0, OM_GC_STOP = 1 };
typedef struct om_gc_info {
    int generation;
    size_t collected;
    size_t uncollectable;
} om_gc_info;
typedef void (*om_gc_callback)(om_heap *h, int phase, const om_gc_info *info, void *ctx);
/* gc.callbacks.append: call fn(h, phase, info, ctx) around every
 * collection. 0, or OM_ENOMEM. */
int om_gc_callback_add(om_heap *h, om_gc_callback fn, void *ctx);
/* gc.callbacks.remove: 0, or OM_EKEY when (fn, ctx) is not registered. */
int om_gc_callback_remove(om_heap *h, om_gc_callback fn, void *ctx);

/* ---------------------------------------------------------- introspection */

/* gc.get_objects(generation): tracked objects of generation gen (0, 1, 2),
 * or of all generations (-1); frozen objects are not included (as CPython).
 * A new array of new references, *n its length; NULL on error. */
om_object **om_gc_get_objects(om_heap *h, int gen, size_t *n);
/* gc.get_referrers(*objs): every tracked, unfrozen object whose traverse
 * visits one of objs[0..nobjs). */
om_object **om_gc_get_referrers(om_heap *h, om_object *const *objs, size_t nobjs, size_t *n);
/* gc.get_referents(*objs): what the traverse of each GC object among objs
 * visits (duplicates kept, in visit order). */
om_object **om_gc_get_referents(om_heap *h, om_object *const *objs, size_t nobjs, size_t *n);
/* Drop the references of an array from the functions above and free it.
 * items NULL is a no-op. */
void om_gc_list_free(om_heap *h, om_object **items, size_t n);

/* ------------------------------------------------- who holds it: roots */

/* Roots, chains and pictures (docs/gc.md, "Roots, chains and pictures";
 * the leak hunt in docs/leak-hunting.md). After the collector subtracts the
 * references that the heap's tracked objects hold on each other, whatever
 * count is left over comes from outside: a C variable, a global, another
 * heap, an untracked or frozen object. None of these calls collects, runs
 * a finalizer or a callback, or changes a count, a generation or a flag
 * (the collector's scratch bits are borrowed and cleared). Called during a
 * collection (from a finalizer or callback) they fail with OM_ESTATE. */

/* One root: an object held from outside the heap. */
typedef struct om_gc_root {
    om_object *obj; /* a new reference (om_gc_roots_free drops it)         */
    size_t outside; /* references to it from outside (not the array's own) */
} om_gc_root;

/* om_gc_get_roots flags. */
enum {
    /* Also untracked objects (atomic tuples, strs, user-untracked ones)
     * whose count exceeds the references the heap's objects hold on them. */
    OM_GC_ROOTS_UNTRACKED = 1u << 0,
};

/*
 * The exact roots of h: every tracked, unfrozen object with references
 * left over after the collector's subtraction, with that count (so a
 * cycle held by one C variable gives one root with outside 1). Immortal
 * objects are never roots (the heap keeps them).
 *
 * With reaching non-NULL, only the roots from which reaching can be
 * reached along references (reaching itself when it is held from outside),
 * nearest first; else in address order. flags: OM_GC_ROOTS_*.
 *
 * Returns a new array (free it with om_gc_roots_free; never NULL on
 * success, even when *n is 0), or NULL with OM_ENOMEM, OM_ESTATE (during a
 * collection) or OM_EFOREIGN (reaching is not a live object of h).
 * Cost: one sweep and traverse of the tracked objects, as a full
 * collection's first phase; with reaching or OM_GC_ROOTS_UNTRACKED a heap
 * graph of every object (about 44 bytes per object and 8 per reference,
 * freed before returning), and no recursion.
 */
om_gc_root *om_gc_get_roots(om_heap *h, om_object *reaching, unsigned flags, size_t *n);

/* Drop the references of an array from om_gc_get_roots and free it
 * (NULL is a no-op). */
void om_gc_roots_free(om_heap *h, om_gc_root *roots, size_t n);

/* One object of a chain and how the object before it holds it. */
typedef struct om_gc_link {
    om_object *obj; /* a new reference                                      */
    char via[64];   /* where the previous object holds obj ("[3]", "['id']",
                         "next"), from its type's name_referent; "" for the
                         root and where the type cannot say                  */
} om_gc_link;

/* A chain of references from a root to a target (om_gc_find_chain). */
typedef struct om_gc_chain {
    size_t n;          /* links: links[0] the root, links[n - 1] the target */
    size_t outside;    /* the root's references from outside              */
    om_gc_link *links; /* n links                                         */
} om_gc_chain;

/*
 * The shortest chain of references from a root to target (objgraph's
 * find_backref_chain, exact): breadth-first from target backwards over
 * every reference of the heap, stopping at the nearest object held from
 * outside (tracked roots as om_gc_get_roots, and untracked objects held
 * from outside, so a str in an atomic tuple is found). A target held from
 * outside itself is a chain of one link. Between roots at the same
 * distance the search order decides (the same for the same heap).
 *
 * Returns a new chain (om_gc_chain_free), or NULL with OM_EKEY when no root
 * reaches target (it is cyclic garbage), OM_EFOREIGN when target is not a
 * live object of h, OM_ENOMEM or OM_ESTATE (during a collection).
 */
om_gc_chain *om_gc_find_chain(om_heap *h, om_object *target);

/* Drop a chain's references and free it (NULL is a no-op). */
void om_gc_chain_free(om_heap *h, om_gc_chain *c);

/*
 * Write a chain as one line, "list@0x5600.. (1 outside) -> [2] dict -> ['s']
 * str 'abc'" (type, address of the root, the root's outside count, then each
 * hop's via and the object's type and repr), with snprintf's rules; returns
 * the length it wanted.
 */
size_t om_gc_chain_format(const om_gc_chain *c, char *buf, size_t n);

/* ------------------------------------------ growth between two points */

/* One type's row of om_gc_type_counts (objgraph's typestats / show_growth). */
typedef struct om_gc_type_count {
    const om_type *type; /* borrowed: types outlive their counts          */
    size_t count;        /* live objects of the type                      */
    size_t bytes;        /* their om_sizeof total                         */
    ptrdiff_t delta;     /* om_gc_type_growth: count minus the older one  */
} om_gc_type_count;

/* Counts per type at one moment (om_gc_type_counts), or the growth between
 * two (om_gc_type_growth). Free with om_gc_counts_free. */
typedef struct om_gc_counts {
    om_heap *h;
    size_t n;               /* rows                                       */
    om_gc_type_count *rows; /* by count (growth: by delta), largest first  */
    size_t total;           /* objects counted                            */
    size_t nobjs;           /* OM_GC_COUNTS_OBJECTS: addresses recorded    */
    const void **objs;      /* their addresses, ascending (never followed) */
} om_gc_counts;

/* om_gc_type_counts flags. */
enum {
    OM_GC_COUNTS_TRACKED = 1u << 0, /* only tracked, unfrozen objects (objgraph's
                                       view: gc.get_objects); else every live one */
    OM_GC_COUNTS_OBJECTS = 1u << 1, /* also record every counted object's address,
                                       for om_gc_get_new_objects (8 bytes each)   */
};

/* Count h's live objects by type now (one walk of the heap; changes
 * nothing). NULL with OM_ENOMEM. */
om_gc_counts *om_gc_type_counts(om_heap *h, unsigned flags);

/* objgraph's show_growth: the types whose count grew from older to newer,
 * with delta, largest growth first (a new om_gc_counts without addresses).
 * Types are matched by identity. NULL with OM_ENOMEM or OM_EINVAL. */
om_gc_counts *om_gc_type_growth(const om_gc_counts *older, const om_gc_counts *newer);

/* Print up to limit rows (0 = all), "list   1003   +1000" (a delta column
 * for a growth), to out. */
void om_gc_counts_print(const om_gc_counts *c, size_t limit, FILE *out);

/* Free counts (NULL is a no-op). */
void om_gc_counts_free(om_gc_counts *c);

/* The newest objects of type t (NULL: any type): live objects whose address
 * was not live when since was taken (since needs OM_GC_COUNTS_OBJECTS;
 * objgraph's get_new_ids, and like it fooled by an address reused for a new
 * object of the same type), youngest generation first (0, 1, 2, then
 * untracked). A new array of new references (om_gc_list_free), at most max
 * (0 = no limit); NULL with OM_EINVAL (since has no addresses, or another
 * heap's) or OM_ENOMEM. */
om_object **om_gc_get_new_objects(om_heap *h, const om_gc_counts *since, const om_type *t,
                                  size_t max, size_t *n);

/* ---------------------------------------------------------- pictures */

/* om_gc_write_dot flags: which way to walk from the objects given. */
enum {
    OM_GC_DOT_REFERENTS = 1u << 0, /* what they refer to (the default)   */
    OM_GC_DOT_REFERRERS = 1u << 1, /* who refers to them (back to roots) */
};
/* At most this many objects in a picture, and edges drawn per object. */
enum { OM_GC_DOT_MAX_NODES = 400, OM_GC_DOT_MAX_EDGES = 24 };

/*
 * Write the neighbourhood of objs[0..nobjs) as a Graphviz DOT digraph to
 * out: the objects within depth references of them (referents, referrers
 * or both, by flags), each a box with its type, repr and address, the
 * references between them as edges labelled with name_referent's names
 * ("[3]", "['id']"). The given objects are blue; roots (held from outside,
 * as om_gc_find_chain sees them) are orange with a double border and their
 * outside count. Past OM_GC_DOT_MAX_NODES objects or OM_GC_DOT_MAX_EDGES
 * edges of one object the picture says how many were left out.
 * Render with `dot -Tsvg` (Debian's graphviz) or `objmem graph`.
 * Returns 0, or OM_EINVAL (no objects, more than OM_GC_DOT_MAX_NODES of
 * them, depth < 0), OM_EFOREIGN (an object not of h), OM_ENOMEM, OM_ESTATE
 * (during a collection), OM_EIO (a write failed). Changes no collector
 * state.
 */
int om_gc_write_dot(om_heap *h, om_object *const *objs, size_t nobjs, int depth, unsigned flags,
                    FILE *out);

/*
 * Write the whole heap to out in the Chrome DevTools heap snapshot format
 * (.heapsnapshot, JSON: meta, nodes, edges, strings), so the heap opens in
 * the Memory tab of Chrome DevTools (Load profile). Every live object is a
 * node of type "object" named by its type (DevTools' class name), with
 * om_sizeof as its self size and id 2 * index + 3; every reference an edge,
 * "element" for an index ("[3]") and "property" for any other name from
 * name_referent (an object with more than 256 references, or whose type
 * cannot say, numbers them in traverse order). The synthetic root (node 0)
 * has an edge to every root of om_gc_find_chain's view, so retained sizes
 * and retainer paths are those of the real roots; cyclic garbage hangs from
 * nothing (DevTools leaves it out). Returns 0, or OM_ENOMEM, OM_ESTATE
 * (during a collection), OM_EIO (a write failed). Changes no collector
 * state. Cost: the heap graph (om_gc_get_roots) and a string table.
 */
int om_heap_write_heapsnapshot(om_heap *h, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
