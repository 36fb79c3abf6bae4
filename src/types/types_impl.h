/*
 * types_impl.h - inline helpers shared by the files of src/types/ only:
 * the lean creation path of built-in objects and the free lists' take.
 * Design note: docs/types.md ("Creation paths").
 */
#ifndef OM_TYPES_IMPL_H
#define OM_TYPES_IMPL_H

#include "internal/heap.h"

/* A new object block of `size` bytes for type t (a GC pool for GC types),
 * header set, count 1, not tracked, not zeroed past the header. NULL with
 * OM_ENOMEM recorded. Skips om_new's checks: the built-in types are
 * known-good, and each fills its own fields. */
static inline om_object *om__types_alloc(om_heap *h, const om_type *t, size_t size)
{
    unsigned kind = (t->flags & OM_TYPE_GC) ? OM_KIND_GC : OM_KIND_OBJ;
    om_object *o = om__obj_block_alloc(h, size, kind); /* the pool fast path, inlined */
    if (om__unlikely(o == NULL))
        return om__err_null(h, OM_ENOMEM, "no memory for a %s of %zu bytes", t->name, size);
    o->refcnt = 1;
    o->gc = om__gcw_birth(h, size);
    o->type = t;
    return o;
}

/* Take the head of non-empty fl, re-typed as t with count 1, not tracked
 * (om__freelist_take, for a caller that tested the head and the hooks). */
static inline om_object *om__freelist_pop(om__freelist *fl, const om_type *t)
{
    om__flnode *n = fl->head;
    fl->head = n->next;
    fl->n--;
    fl->hits++;
    n->ob.type = t;
    return &n->ob;
}

/* A leaf's new object of the built-in GC type t, size bytes, on a heap
 * without hooks: the head of fl, else a pool's free block that is not its
 * last (om__pool_pop_leaf); count 1, gc word 0 (small, no hooks), not
 * tracked. NULL when the caller's slow path must decide. *poolp: its pool. */
static inline om_object *om__types_new_leaf(om_heap *h, om__freelist *fl, const om_type *t,
                                            size_t size, om__pool **poolp)
{
    om_object *o;
    if (fl->head) {
        o = om__freelist_pop(fl, t);
        *poolp = om__pool_of(o);
        return o;
    }
    o = om__pool_pop_leaf(h, size, OM_KIND_GC, poolp);
    if (om__unlikely(!o)) return NULL;
    om__vg_undefined(o, size); /* as om__obj_block_alloc opens it */
    fl->misses++;
    o->refcnt = 1;
    o->gc = 0;
    o->type = t;
    return o;
}

/* Take an object off fl (NULL when empty, or when the heap has hooks: in
 * debug and tracing mode every object comes from the allocator so that it
 * is checked and traced), re-typed as t with count 1, not tracked. */
static inline om_object *om__freelist_take(om_heap *h, om__freelist *fl, const om_type *t)
{
    if (om__likely(fl->head != NULL && !h->hooks)) return om__freelist_pop(fl, t);
    fl->misses++;
    return NULL;
}

/* A container holds only objects of its own heap: an item of another heap
 * dangles once that heap is destroyed (issue 12). Checked on every store
 * when the container or the item is of a debug-mode heap (their
 * OM_GCW_DEBUG bits, in header words the store touches anyway: no extra
 * cache line in release), and by callers on their slow paths (growth)
 * otherwise. 0, or OM_EINVAL recorded in the container's heap. */
int om__foreign_item(om_object *c, const om_object *v, const char *fn);
static inline int om__check_item_heap(om_object *c, const om_object *v, const char *fn)
{
    if (om__likely(!((c->gc | v->gc) & OM_GCW_DEBUG))) return 0;
    return om__foreign_item(c, v, fn);
}

/* 1 when v is of the heap of small (an object in a pool, not large): v in
 * small's arena (an arena is one heap's, and no large block shares its
 * aligned MiB) is the test that needs no memory read. */
static inline int om__same_heap_as_small(const om_object *small, const om_object *v)
{
    if (om__likely((((uintptr_t)small ^ (uintptr_t)v) >> OM_ARENA_SHIFT) == 0)) return 1;
    return om__heap_of(v) == om__pool_of(small)->heap;
}

/* The same for two objects stored together (a dict's key and value). */
static inline int om__check_items_heap(om_object *c, const om_object *a, const om_object *b,
                                       const char *fn)
{
    if (om__likely(!((c->gc | a->gc | b->gc) & OM_GCW_DEBUG))) return 0;
    int rc = om__foreign_item(c, a, fn);
    return rc ? rc : om__foreign_item(c, b, fn);
}

/* Resolve a Python index (negative counts from the end) against len:
 * 0 and *out, or -1. */
static inline int om__index(ptrdiff_t i, size_t len, size_t *out)
{
    if (i < 0) i += (ptrdiff_t)len;
    if (i < 0 || (size_t)i >= len) return -1;
    *out = (size_t)i;
    return 0;
}

/* 1 when every slot of tuple o is set. */
static inline int om__tuple_filled(const om_object *o)
{
    const om__tuple *t = (const om__tuple *)o;
    for (size_t i = 0; i < t->ob.size; i++)
        if (!t->items[i]) return 0;
    return 1;
}

/* 1 when o cannot be part of a cycle now or later: not a GC object, or an
 * untracked tuple with every slot set (CPython's _PyObject_GC_MAY_BE_TRACKED,
 * negated). Any other GC object may be (or become) tracked: an untracked
 * dict is tracked as soon as a container is stored in it, and an untracked
 * tuple with an empty slot (om_tuple_new's) when that slot gets one; a
 * filled tuple's slots change no more once it is shared (tuple.c set_slow),
 * so one stored somewhere stays as it is. */
static inline int om__is_atomic(const om_object *o)
{
    return !(o->type->flags & OM_TYPE_GC) ||
           (o->type == &om_tuple_type && !(o->gc & OM_GCW_TRACKED) && om__tuple_filled(o));
}

/* The collector's untracking hook (om__gcstate.maybe_untrack): tuples on
 * any collection, dicts on full ones (types.c). */
int om__types_maybe_untrack(om_object *o, int full);
/* _PyDict_MaybeUntrack: untrack dict o when every key and value is
 * atomic; 1 when it is untracked now. */
int om__dict_maybe_untrack(om_object *o);

#endif
