/*
 * list.c - growable lists with CPython's over-allocation (amortised O(1)
 * append, listobject.c's list_resize), item storage in heap blocks
 * (om_realloc), and a free list of list objects.
 * Design note: docs/types.md ("Lists").
 */
#include "types_impl.h"
#include "internal/gc_fast.h"

static int list_traverse(om_object *o, om_visit_fn visit, void *arg)
{
    om__list *l = (om__list *)o;
    for (size_t i = l->len; i-- > 0;) OM_VISIT(l->items[i], visit, arg);
    return 0;
}

/* Drop every item and the storage of o (of heap h); the list stays valid
 * and empty. */
static void list_clear_in(om_heap *h, om_object *o)
{
    om__list *l = (om__list *)o;
    om_object **items = l->items;
    size_t n = l->len, bytes = l->alloc * sizeof(om_object *);
    l->items = NULL;
    l->len = l->alloc = 0;
    while (n-- > 0) om_decref(items[n]);
    if (items) om__free_own(h, items, bytes);
}

static void list_clear(om_object *o)
{
    list_clear_in(om__heap_of(o), o);
}

static void list_dealloc(om_object *o)
{
    om_heap *h = om__heap_of(o);
    if (((om__list *)o)->items) list_clear_in(h, o); /* none: cleared (a collection) or empty */
    om__freelist_put(h, &h->types.lists, o);
}

static size_t list_extra(const om_object *o)
{
    return ((const om__list *)o)->alloc * sizeof(om_object *);
}

static int list_repr(om_object *o, char *buf, size_t n)
{
    return snprintf(buf, n, "[list of %zu]", ((om__list *)o)->len);
}

/* The first index at which l holds child: "[i]". */
static int list_name_referent(om_object *o, const om_object *child, char *buf, size_t n)
{
    const om__list *l = (const om__list *)o;
    for (size_t i = 0; i < l->len; i++)
        if (l->items[i] == child) return snprintf(buf, n, "[%zu]", i);
    return 0;
}

const om_type om_list_type = {
    .name = "list",
    .basic_size = sizeof(om__list),
    .flags = OM_TYPE__BUILTIN | OM_TYPE_GC | OM_TYPE__OWNS_MEMORY,
    .traverse = list_traverse,
    .clear = list_clear,
    .dealloc = list_dealloc,
    .sizeof_extra = list_extra,
    .repr = list_repr,
    .name_referent = list_name_referent,
};

/* Make room for newsize items in l (of heap h), growing by CPython's rule
 * (~1/8 extra, rounded to 4) or shrinking when less than half would be
 * used. Items are own blocks (heap.h): a list's first storage comes from
 * om__malloc_own(_leaf), not through om_realloc's general path (young
 * lists die before they grow twice). */
static om__noinline int list_resize_in(om_heap *h, om__list *l, size_t newsize)
{
    if (l->alloc >= newsize && newsize >= (l->alloc >> 1)) return 0;
    size_t cap = (newsize + (newsize >> 3) + 6) & ~(size_t)3;
    if (newsize - l->len > cap - newsize) cap = (newsize + 3) & ~(size_t)3;
    if (newsize == 0) cap = 0;
    if (cap > SIZE_MAX / sizeof(om_object *))
        return om__err(h, OM_ENOMEM, "list of %zu items overflows", newsize);
    if (cap == 0) {
        if (l->items) om__free_own(h, l->items, l->alloc * sizeof(om_object *));
        l->items = NULL;
    } else {
        om_object **p = l->items ? om__realloc_own(h, l->items, l->alloc * sizeof(om_object *),
                                                   cap * sizeof(om_object *))
                                 : om__malloc_own(h, cap * sizeof(om_object *));
        if (!p) return om__err(h, OM_ENOMEM, "no memory for %zu list items", cap);
        l->items = p;
    }
    l->alloc = cap;
    return 0;
}

static int list_resize(om__list *l, size_t newsize)
{
    return list_resize_in(om__heap_of(&l->ob), l, newsize);
}

/* om_list_new past its fast path: any capacity, hooks, no block at hand. */
static om__noinline om_object *list_new_slow(om_heap *h, size_t capacity)
{
    om_object *o = om__freelist_take(h, &h->types.lists, &om_list_type);
    if (!o && !(o = om__types_alloc(h, &om_list_type, sizeof(om__list)))) return NULL;
    om__list *l = (om__list *)o;
    l->len = l->alloc = 0;
    l->items = NULL;
    if (capacity) {
        if (capacity > SIZE_MAX / sizeof(om_object *) ||
            !(l->items = om__malloc_own(h, capacity * sizeof(om_object *)))) {
            om__freelist_put(h, &h->types.lists, o);
            return om__err_null(h, OM_ENOMEM, "no memory for %zu list items", capacity);
        }
        l->alloc = capacity;
    }
    om__gc_track_new_inline(h, o);
    return o;
}

/* An empty list on a heap without hooks, as a leaf (no call but tail
 * calls): from the free list, else from a pool's free block that is not
 * its last; tracked in generation 0 unless a collection is due. */
om_object *om_list_new(om_heap *h, size_t capacity)
{
    if (om__unlikely(capacity || h->hooks)) return list_new_slow(h, capacity);
    om__pool *pool;
    om_object *o = om__types_new_leaf(h, &h->types.lists, &om_list_type, sizeof(om__list), &pool);
    if (om__unlikely(!o)) return list_new_slow(h, 0);
    om__list *l = (om__list *)o;
    l->len = l->alloc = 0;
    l->items = NULL;
    if (om__likely(om__gc_track_young(h, pool, o))) return o;
    return om__gc_track_new_tail(h, o);
}

static om__list *as_list(om_object *o, const char *fn)
{
    if (om__likely(o->type == &om_list_type)) return (om__list *)o;
    return om__err_null(om_heap_of(o), OM_ETYPE, "%s: %s is not a list", fn, o->type->name);
}

static int range_err(om_object *o, const char *fn, ptrdiff_t i)
{
    return om__err(om_heap_of(o), OM_ERANGE, "%s: index %td out of range for a list of %zu", fn, i,
                   ((om__list *)o)->len);
}

/* An append that grows the list or involves a debug-mode heap: the item's
 * heap is checked (types_impl.h), in release too when the list grows. */
static om__noinline int append_slow(om_object *o, om__list *l, om_object *v)
{
    int rc = om__check_item_heap(o, v, "om_list_append");
    if (!rc && l->len == l->alloc) {
        om_heap *h = om__heap_of(o);
        if (om__unlikely(om__heap_of(v) != h))
            rc = om__foreign_item(o, v, "om_list_append");
        else if (list_resize_in(h, l, l->len + 1) < 0)
            rc = OM_ENOMEM;
    }
    if (rc < 0) {
        om_decref(v);
        return rc;
    }
    l->items[l->len++] = v;
    return 0;
}

/* The first append to a list without storage, inline: the 4 slots
 * list_resize_in would choose for one item ((1 + 6) & ~3), from the
 * allocator's leaf fast path. 0 when v was stored; 1 when append_more must
 * decide (a hook, an item of another heap, no free block at hand). */
static inline int append_first(om_object *o, om__list *l, om_object *v)
{
    om_heap *h = om__pool_of(o)->heap; /* a list is small, but on debug heaps */
    if (om__unlikely(!om__same_heap_as_small(o, v))) return 1;
    om_object **p = om__malloc_own_leaf(h, 4 * sizeof(om_object *));
    if (om__unlikely(!p)) return 1;
    p[0] = v;
    l->items = p;
    l->alloc = 4;
    l->len = 1;
    return 0;
}

/* om_list_append_steal past its fast path: a bad argument, a first append
 * the leaf could not serve, growth, or a debug-mode heap. */
static om__noinline int append_more(om_object *o, om_object *v)
{
    om__list *l = as_list(o, "om_list_append");
    if (om__unlikely(!l || !v)) {
        om_xdecref(v);
        return l ? om__err(om_heap_of(o), OM_EINVAL, "om_list_append: NULL item") : OM_ETYPE;
    }
    return append_slow(o, l, v);
}

/* A leaf (tail calls only): a list with room, or a first append, on heaps
 * without debug mode. */
int om_list_append_steal(om_object *o, om_object *v)
{
    om__list *l = (om__list *)o;
    if (om__likely(o->type == &om_list_type && v != NULL && !((o->gc | v->gc) & OM_GCW_DEBUG))) {
        if (om__likely(l->len < l->alloc)) {
            l->items[l->len++] = v;
            return 0;
        }
        if (l->alloc == 0 && append_first(o, l, v) == 0) return 0;
    }
    return append_more(o, v);
}

int om_list_append(om_object *o, om_object *v)
{
    if (v) om_incref(v);
    return om_list_append_steal(o, v);
}

om_object *om_list_get(om_object *o, ptrdiff_t i)
{
    size_t k = 0;
    om__list *l = as_list(o, "om_list_get");
    if (!l) return NULL;
    if (om__unlikely(om__index(i, l->len, &k) < 0)) {
        range_err(o, "om_list_get", i);
        return NULL;
    }
    return om_incref(l->items[k]);
}

int om_list_set_steal(om_object *o, ptrdiff_t i, om_object *v)
{
    size_t k = 0;
    om__list *l = as_list(o, "om_list_set");
    int rc = !l   ? OM_ETYPE
             : !v ? om__err(om_heap_of(o), OM_EINVAL, "om_list_set: NULL item")
             : om__index(i, l->len, &k) < 0 ? range_err(o, "om_list_set", i)
                                            : om__check_item_heap(o, v, "om_list_set");
    if (rc < 0) {
        om_xdecref(v);
        return rc;
    }
    om_object *old = l->items[k];
    l->items[k] = v;
    om_decref(old);
    return 0;
}

int om_list_set(om_object *o, ptrdiff_t i, om_object *v)
{
    if (v) om_incref(v);
    return om_list_set_steal(o, i, v);
}

int om_list_insert(om_object *o, ptrdiff_t i, om_object *v)
{
    om__list *l = as_list(o, "om_list_insert");
    if (!l) return OM_ETYPE;
    if (!v) return om__err(om_heap_of(o), OM_EINVAL, "om_list_insert: NULL item");
    int rc = om__foreign_item(o, v, "om_list_insert"); /* O(n) anyway: always checked */
    if (rc < 0) return rc;
    size_t n = l->len, k;
    if (i < 0) i += (ptrdiff_t)n;
    k = i < 0 ? 0 : (size_t)i > n ? n : (size_t)i;
    if (list_resize(l, n + 1) < 0) return OM_ENOMEM;
    memmove(&l->items[k + 1], &l->items[k], (n - k) * sizeof(om_object *));
    l->items[k] = om_incref(v);
    l->len = n + 1;
    return 0;
}

/* Take item i out of o (the list's reference); errors name fn. */
static om_object *take_item(om_object *o, ptrdiff_t i, const char *fn)
{
    size_t k = 0;
    om__list *l = as_list(o, fn);
    if (!l) return NULL;
    if (om__index(i, l->len, &k) < 0) {
        if (l->len == 0)
            om__err(om_heap_of(o), OM_ERANGE, "%s: %s an empty list", fn,
                    strcmp(fn, "om_list_pop") == 0 ? "pop from" : "delete from");
        else
            range_err(o, fn, i);
        return NULL;
    }
    om_object *v = l->items[k];
    memmove(&l->items[k], &l->items[k + 1], (l->len - k - 1) * sizeof(om_object *));
    l->len--;
    (void)list_resize(l, l->len); /* shrinking: a failure keeps the bigger block */
    return v;
}

om_object *om_list_pop(om_object *o, ptrdiff_t i)
{
    return take_item(o, i, "om_list_pop");
}

int om_list_delete(om_object *o, ptrdiff_t i)
{
    om_object *v = take_item(o, i, "om_list_delete");
    if (!v) return om_errcode(om_heap_of(o));
    om_decref(v);
    return 0;
}

size_t om_list_len(const om_object *o)
{
    return o->type == &om_list_type ? ((const om__list *)o)->len : 0;
}
