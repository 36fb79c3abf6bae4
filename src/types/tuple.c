/*
 * tuple.c - tuples: the empty tuple a singleton, free lists per length
 * 1..20, and CPython's untracking of tuples that hold only atomic objects
 * (no cycle can pass through them, so the collector never sees them).
 * Design note: docs/types.md ("Tuples").
 */
#include <stdarg.h>

#include "types_impl.h"

#define TUPLE_SIZE(n) (sizeof(om__tuple) + (n) * sizeof(om_object *))

static int tuple_traverse(om_object *o, om_visit_fn visit, void *arg)
{
    om__tuple *t = (om__tuple *)o;
    for (size_t i = t->ob.size; i-- > 0;) OM_VISIT(t->items[i], visit, arg);
    return 0;
}

static void tuple_clear(om_object *o)
{
    om__tuple *t = (om__tuple *)o;
    for (size_t i = 0; i < t->ob.size; i++) om_clear_ref(&t->items[i]);
}

static void tuple_dealloc(om_object *o)
{
    om__tuple *t = (om__tuple *)o;
    size_t n = t->ob.size;
    for (size_t i = 0; i < n; i++) om_xdecref(t->items[i]);
    om_heap *h = om__heap_of(o);
    if (n <= OM_TUPLE_FL_LENS)
        om__freelist_put(h, &h->types.tuples[n], o);
    else
        om__object_free_memory(o);
}

static int tuple_repr(om_object *o, char *buf, size_t n)
{
    return snprintf(buf, n, "(tuple of %zu)", ((om__tuple *)o)->ob.size);
}

/* The first index at which t holds child: "[i]". */
static int tuple_name_referent(om_object *o, const om_object *child, char *buf, size_t n)
{
    const om__tuple *t = (const om__tuple *)o;
    for (size_t i = 0; i < t->ob.size; i++)
        if (t->items[i] == child) return snprintf(buf, n, "[%zu]", i);
    return 0;
}

const om_type om_tuple_type = {
    .name = "tuple",
    .basic_size = sizeof(om__tuple),
    .item_size = sizeof(om_object *),
    .flags = OM_TYPE__BUILTIN | OM_TYPE_GC | OM_TYPE__OWNS_MEMORY | OM_TYPE__UNTRACKS,
    .traverse = tuple_traverse,
    .clear = tuple_clear,
    .dealloc = tuple_dealloc,
    .repr = tuple_repr,
    .name_referent = tuple_name_referent,
};

/* Set the n > 0 slots of a new tuple to NULL. Short tuples (the usual
 * ones) take word stores: each om_tuple_set reads its slot right after,
 * and a load from memset's wide or string stores waits for them to retire
 * (store forwarding fails; measured: 69 % of om_tuple_set_steal's time on
 * that load, bench/RESULTS.md). */
static inline void clear_items(om_object **it, size_t n)
{
    if (n > 4) {
        memset(it, 0, n * sizeof *it);
        return;
    }
    it[0] = NULL;
    if (n > 1) it[1] = NULL;
    if (n > 2) it[2] = NULL;
    if (n > 3) it[3] = NULL;
}

/* A tuple of n > 0 NULL items, untracked. */
static om__tuple *tuple_alloc(om_heap *h, size_t n)
{
    om_object *o = NULL;
    if (n <= OM_TUPLE_FL_LENS) o = om__freelist_take(h, &h->types.tuples[n], &om_tuple_type);
    if (!o) {
        if (n > (SIZE_MAX - sizeof(om__tuple)) / sizeof(om_object *))
            return om__err_null(h, OM_ENOMEM, "om_tuple_new: %zu items overflow", n);
        o = om__types_alloc(h, &om_tuple_type, TUPLE_SIZE(n));
        if (!o) return NULL;
    }
    om__tuple *t = (om__tuple *)o;
    t->ob.size = n;
    clear_items(t->items, n);
    return t;
}

/* om_tuple_new past its leaf path: any length, any heap. */
static om__noinline om_object *tuple_new_slow(om_heap *h, size_t n)
{
    if (n == 0) return h->types.empty_tuple;
    om__tuple *t = tuple_alloc(h, n);
    return t ? &t->ob.ob_base : NULL;
}

/* Untracked: it holds only NULL, and an untracked tuple holds only atomic
 * items or NULL (the invariant every store below keeps: a store of an item
 * that may form a cycle tracks the tuple, counted as a new GC object). So
 * the usual fill with atomic items never tracks it at all. */
om_object *om_tuple_new(om_heap *h, size_t n)
{
    /* a short tuple on a heap without hooks, as a leaf (no call but tail
     * calls): from its length's free list, else a pool's block that is
     * not its last */
    if (om__unlikely(n - 1 >= 4 || h->hooks)) return tuple_new_slow(h, n);
    om__pool *pool;
    om_object *o = om__types_new_leaf(h, &h->types.tuples[n], &om_tuple_type, TUPLE_SIZE(n), &pool);
    if (om__unlikely(!o)) return tuple_new_slow(h, n);
    om__tuple *t = (om__tuple *)o;
    t->ob.size = n;
    clear_items(t->items, n);
    return o;
}

/* t is filled; track it only when an item could be part of a cycle. */
static om_object *finish(om_heap *h, om__tuple *t)
{
    for (size_t i = 0; i < t->ob.size; i++)
        if (!om__is_atomic(t->items[i])) {
            om__gc_track_new(h, &t->ob.ob_base);
            break;
        }
    return &t->ob.ob_base;
}

om_object *om_tuple_from(om_heap *h, size_t n, om_object *const *items)
{
    if (n == 0) return h->types.empty_tuple;
    for (size_t i = 0; i < n; i++)
        if (!items[i]) return om__err_null(h, OM_EINVAL, "om_tuple_from: item %zu is NULL", i);
    om__tuple *t = tuple_alloc(h, n);
    for (size_t i = 0; t && i < n; i++)
        if (om__check_item_heap(&t->ob.ob_base, items[i], "om_tuple_from") < 0) {
            for (size_t j = 0; j < n; j++) t->items[j] = NULL;
            om_decref(&t->ob.ob_base);
            return NULL;
        }
    if (!t) return NULL;
    for (size_t i = 0; i < n; i++) t->items[i] = om_incref(items[i]);
    return finish(h, t);
}

om_object *om_tuple_pack(om_heap *h, size_t n, ...)
{
    if (n == 0) return h->types.empty_tuple;
    om__tuple *t = tuple_alloc(h, n);
    if (!t) return NULL;
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        om_object *v = va_arg(ap, om_object *);
        t->items[i] = v ? om_incref(v) : NULL;
    }
    va_end(ap);
    for (size_t i = 0; i < n; i++)
        if (!t->items[i]) {
            om_decref(&t->ob.ob_base);
            return om__err_null(h, OM_EINVAL, "om_tuple_pack: item %zu is NULL", i);
        } else if (om__check_item_heap(&t->ob.ob_base, t->items[i], "om_tuple_pack") < 0) {
            om_decref(&t->ob.ob_base);
            return NULL;
        }
    return finish(h, t);
}

static om__tuple *checked(om_object *o, ptrdiff_t i, size_t *idx, const char *fn)
{
    if (om__unlikely(o->type != &om_tuple_type))
        return om__err_null(om_heap_of(o), OM_ETYPE, "%s: %s is not a tuple", fn, o->type->name);
    om__tuple *t = (om__tuple *)o;
    if (om__unlikely(om__index(i, t->ob.size, idx) < 0))
        return om__err_null(om_heap_of(o), OM_ERANGE,
                            "%s: index %td out of range for a tuple of %zu", fn, i, t->ob.size);
    return t;
}

om_object *om_tuple_get(om_object *o, ptrdiff_t i)
{
    size_t k = 0;
    om__tuple *t = checked(o, i, &k, "om_tuple_get");
    if (!t) return NULL;
    if (om__unlikely(!t->items[k]))
        return om__err_null(om_heap_of(o), OM_EINVAL, "om_tuple_get: slot %zu is not set", k);
    return om_incref(t->items[k]);
}

/* om_tuple_set_steal past its fast path: every check, any slot. */
static om__noinline int set_slow(om_object *o, ptrdiff_t i, om_object *v)
{
    size_t k = 0;
    om__tuple *t = checked(o, i, &k, "om_tuple_set");
    int rc = !t || !v ? 0 : om__check_item_heap(o, v, "om_tuple_set");
    if (!t || !v || rc < 0) {
        om_xdecref(v);
        if (rc < 0) return rc;
        if (t) return om__err(om_heap_of(o), OM_EINVAL, "om_tuple_set: the item is NULL");
        return om_errcode(om_heap_of(o));
    }
    om_object *old = t->items[k];
    if (om__unlikely(old && o->refcnt > 1 && o->refcnt < OM_IMMORTAL)) {
        /* CPython's PyTuple_SetItem rule: a shared tuple is immutable (it
         * may be a dict key, whose hash would silently go stale) */
        om_decref(v);
        return om__err(om_heap_of(o), OM_ESTATE,
                       "om_tuple_set: slot %zu of a shared tuple (%u references): tuples are "
                       "immutable once shared",
                       k, (unsigned)o->refcnt);
    }
    t->items[k] = v;
    if (!(o->gc & OM_GCW_TRACKED)) {
        if (!om__is_atomic(v)) om__gc_track_new(om__heap_of(o), o);
    } else if (k + 1 == t->ob.size) {
        om_tuple_maybe_untrack(o);
    }
    om_xdecref(old);
    return 0;
}

/* The last slot of a tracked tuple was filled: untracked if atomic. */
static om__noinline int set_filled(om_object *o)
{
    om_tuple_maybe_untrack(o);
    return 0;
}

/* An untracked tuple got an item that may form a cycle: it enters
 * generation 0 now, counted as a new GC object (a collection may run). */
static om__noinline int set_track(om_object *o)
{
    om__gc_track_new(om__heap_of(o), o);
    return 0;
}

/* The first fill of slot i of a tuple on a heap without debug mode, as a
 * leaf (tail calls only): the store, then tracking if v may form a cycle
 * (an untracked tuple holds only atomic items), or the untracking check
 * once the last slot of a tracked tuple is set (a tuple tracked for an
 * item that was replaced since). Anything else: set_slow. */
int om_tuple_set_steal(om_object *o, ptrdiff_t i, om_object *v)
{
    om__tuple *t = (om__tuple *)o;
    size_t k = (size_t)i; /* a negative index is huge here: set_slow resolves it */
    if (om__likely(o->type == &om_tuple_type && k < t->ob.size && v != NULL && !t->items[k] &&
                   !((o->gc | v->gc) & OM_GCW_DEBUG))) {
        t->items[k] = v;
        if (o->gc & OM_GCW_TRACKED) return k + 1 == t->ob.size ? set_filled(o) : 0;
        return om__is_atomic(v) ? 0 : set_track(o);
    }
    return set_slow(o, i, v);
}

int om_tuple_set(om_object *o, ptrdiff_t i, om_object *v)
{
    if (v) om_incref(v);
    return om_tuple_set_steal(o, i, v);
}

size_t om_tuple_len(const om_object *o)
{
    return o->type == &om_tuple_type ? ((const om__tuple *)o)->ob.size : 0;
}

/* Untrack t; a young tuple also gives back its generation-0 count, so
 * tuples that turn out atomic (the usual fill of om_tuple_new) do not
 * trigger young collections that would find nothing to do. */
static void untrack(om_object *t)
{
    int young;
    if (t->gc & OM_GCW_LARGE)
        young = om__large_hdr(t, om__obj_prefix(t))->gen == 0;
    else {
        const om__pool *pool = om__pool_of(t);
        young = om__bm_test(om__gcb_of(t)->young, om__granule(pool, t));
    }
    om_gc_untrack(t);
    om_heap *h = om__heap_of(t);
    if (young && h->gc.count[0] > 0) h->gc.count[0]--;
}

int om__types_maybe_untrack(om_object *o, int full)
{
    if (o->type == &om_tuple_type) return om_tuple_maybe_untrack(o);
    return full && o->type == &om_dict_type && om__dict_maybe_untrack(o);
}

int om_tuple_maybe_untrack(om_object *o)
{
    if (o->type != &om_tuple_type) return 0;
    if (!(o->gc & OM_GCW_TRACKED)) return 1;
    const om__tuple *t = (const om__tuple *)o;
    for (size_t i = 0; i < t->ob.size; i++)
        if (!t->items[i] || !om__is_atomic(t->items[i])) return 0;
    untrack(o);
    return 1;
}
