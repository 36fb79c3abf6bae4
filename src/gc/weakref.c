/*
 * weakref.c - weak references. The weak reference is a GC object; the
 * referent pays no header bytes: a per-heap side table (open addressing,
 * linear probing, backward-shift deletion, seam memory) maps it to its
 * list of weak references, and OM_GCW_WEAKREFS says it has an entry.
 * When the referent dies by refcount (om__gc_on_free) or in a collection
 * (collect.c handle_weakrefs), every weak reference is cleared first,
 * then the callbacks run. Design note: docs/gc.md ("Weak references").
 */
#include "internal/heap.h"

/* ------------------------------------------------------------ the table */

static inline size_t slot_of(const om__gcstate *g, const om_object *o)
{
    uint64_t x = (uint64_t)(uintptr_t)o >> 4;
    return (size_t)((x * 0x9E3779B97F4A7C15ull) >> 17) & g->wr_mask;
}

static om__wr_slot *wr_find(const om__gcstate *g, const om_object *o)
{
    if (!g->wr_tab) return NULL;
    for (size_t i = slot_of(g, o);; i = (i + 1) & g->wr_mask) {
        om__wr_slot *s = &g->wr_tab[i];
        if (s->key == o) return s;
        if (!s->key) return NULL;
    }
}

static om__wr_slot *wr_insert_slot(om__gcstate *g, om_object *o)
{
    size_t i = slot_of(g, o);
    while (g->wr_tab[i].key) i = (i + 1) & g->wr_mask;
    g->wr_tab[i].key = o;
    g->wr_tab[i].head = NULL;
    g->wr_count++;
    return &g->wr_tab[i];
}

/* Room for one more key (load factor <= 1/2). */
static int wr_reserve(om_heap *h)
{
    om__gcstate *g = &h->gc;
    size_t cap = g->wr_tab ? g->wr_mask + 1 : 0;
    if ((g->wr_count + 1) * 2 <= cap) return 0;
    size_t ncap = cap ? cap * 2 : 64;
    om__wr_slot *old = g->wr_tab;
    om__wr_slot *t = om__sys_calloc(h, ncap, sizeof *t);
    if (!t) return OM_ENOMEM;
    g->wr_tab = t;
    g->wr_mask = ncap - 1;
    g->wr_count = 0;
    for (size_t i = 0; i < cap; i++)
        if (old[i].key) wr_insert_slot(g, old[i].key)->head = old[i].head;
    if (old) om__sys_free(h, old, cap * sizeof *old);
    return 0;
}

/* Remove slot s, shifting later entries of its probe run back. */
static void wr_delete(om__gcstate *g, om__wr_slot *s)
{
    size_t i = (size_t)(s - g->wr_tab), j = i;
    for (;;) {
        j = (j + 1) & g->wr_mask;
        if (!g->wr_tab[j].key) break;
        size_t k = slot_of(g, g->wr_tab[j].key);
        /* entry j may move to i when its home k is not in (i, j] */
        if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
            g->wr_tab[i] = g->wr_tab[j];
            i = j;
        }
    }
    g->wr_tab[i].key = NULL;
    g->wr_tab[i].head = NULL;
    g->wr_count--;
}

/* ---------------------------------------------------------- the object */

static int wr_traverse(om_object *o, om_visit_fn visit, void *arg)
{
    (void)o, (void)visit, (void)arg; /* the referent is not a reference */
    return 0;
}

/* Unlink wr from its referent's list (dropping the entry when empty). */
static void wr_unlink(om__weakref *wr)
{
    om_object *ref = wr->referent;
    if (!ref) return;
    om__gcstate *g = &om_heap_of(ref)->gc;
    om__wr_slot *s = wr_find(g, ref);
    OM_ASSERT(s != NULL);
    if (wr->prev)
        wr->prev->next = wr->next;
    else
        s->head = wr->next;
    if (wr->next) wr->next->prev = wr->prev;
    wr->next = wr->prev = NULL;
    wr->referent = NULL;
    wr->callback = NULL; /* cleared: __callback__ is None */
    wr->ctx = NULL;
    if (!s->head) {
        wr_delete(g, s);
        ref->gc &= ~(uint32_t)OM_GCW_WEAKREFS;
    }
}

static void wr_dealloc(om_object *o)
{
    wr_unlink((om__weakref *)o);
}
static void wr_clear(om_object *o)
{
    wr_unlink((om__weakref *)o);
}

static int wr_repr(om_object *o, char *buf, size_t n)
{
    om__weakref *wr = (om__weakref *)o;
    if (!wr->referent) return snprintf(buf, n, "<weakref at %p; dead>", (void *)o);
    return snprintf(buf, n, "<weakref at %p; to '%s' at %p>", (void *)o, wr->referent->type->name,
                    (void *)wr->referent);
}

static const om_type weakref_type = {
    .name = "weakref",
    .basic_size = sizeof(om__weakref),
    .flags = OM_TYPE_GC | OM_TYPE__BUILTIN | OM_TYPE__WEAKREF,
    .traverse = wr_traverse,
    .clear = wr_clear,
    .dealloc = wr_dealloc,
    .repr = wr_repr,
};

int om_is_weakref(const om_object *o)
{
    return o->type == &weakref_type;
}

om_object *om_weakref_new(om_heap *h, om_object *referent, om_weakref_callback callback, void *ctx)
{
    if (!(referent->type->flags & OM_TYPE_WEAKREFABLE))
        return om__err_null(h, OM_ETYPE, "cannot create weak reference to '%s' object",
                            referent->type->name);
    if (om_heap_of(referent) != h) /* its death would never clear this heap's table */
        return om__err_null(h, OM_EINVAL, "om_weakref_new: the '%s' at %p belongs to another heap",
                            referent->type->name, (void *)referent);
    om__weakref *wr = (om__weakref *)om_new(h, &weakref_type);
    if (!wr) return NULL;
    om__wr_slot *s = wr_find(&h->gc, referent);
    if (!s) {
        if (wr_reserve(h) < 0) {
            om_decref(wr);
            return om__err_null(h, OM_ENOMEM, "no memory for the weak reference table");
        }
        s = wr_insert_slot(&h->gc, referent);
        referent->gc |= OM_GCW_WEAKREFS;
    }
    wr->referent = referent;
    wr->callback = callback;
    wr->ctx = ctx;
    wr->next = s->head;
    if (s->head) s->head->prev = wr;
    s->head = wr;
    return OM_OBJ(wr);
}

om_object *om_weakref_get(om_object *wr)
{
    if (!om_is_weakref(wr)) {
        om__err(om_heap_of(wr), OM_ETYPE, "om_weakref_get: a '%s' is not a weak reference",
                wr->type->name);
        return NULL;
    }
    om_object *r = ((om__weakref *)wr)->referent;
    if (r && (r->gc & OM_GCW_PENDING)) return NULL; /* count zero: dying (object.h 4) */
    return r ? om__incref(r) : NULL;
}

om_object **om_weakref_get_all(om_heap *h, const om_object *o, size_t *n)
{
    size_t k = om_weakref_count(o);
    om_object **a = om__sys_malloc(h, (k ? k : 1) * sizeof *a);
    *n = 0;
    if (!a) return NULL;
    om__wr_slot *s = k ? wr_find(&h->gc, o) : NULL;
    for (om__weakref *wr = s ? s->head : NULL; wr; wr = wr->next)
        a[(*n)++] = om__incref(OM_OBJ(wr));
    return a;
}

om_weakref_callback om_weakref_get_callback(om_object *wr, void **ctx)
{
    if (ctx) *ctx = NULL;
    if (!om_is_weakref(wr)) {
        om__err(om_heap_of(wr), OM_ETYPE, "om_weakref_get_callback: a '%s' is not a weak reference",
                wr->type->name);
        return NULL;
    }
    om__weakref *w = (om__weakref *)wr;
    if (ctx) *ctx = w->ctx;
    return w->callback;
}

size_t om_weakref_count(const om_object *o)
{
    if (!(o->gc & OM_GCW_WEAKREFS)) return 0;
    om__wr_slot *s = wr_find(&om_heap_of(o)->gc, o);
    size_t n = 0;
    for (om__weakref *wr = s ? s->head : NULL; wr; wr = wr->next) n++;
    return n;
}

/* ----------------------------------------------------- referents dying */

void om__weakref_clear_all(om_heap *h, om_object *o, om__wr_chain *chain, int in_collection)
{
    om__wr_slot *s = wr_find(&h->gc, o);
    o->gc &= ~(uint32_t)OM_GCW_WEAKREFS;
    if (!s) return;
    om__weakref *wr = s->head;
    wr_delete(&h->gc, s);
    while (wr) {
        om__weakref *next = wr->next;
        wr->referent = NULL;
        wr->next = wr->prev = NULL;
        int skip = in_collection && (wr->ob_base.gc & OM_GCW_UNREACHABLE);
        if (!wr->callback || skip) {
            wr->callback = NULL;
            wr->ctx = NULL;
        } else {
            om__incref(OM_OBJ(wr));
            if (chain->tail)
                chain->tail->next = wr;
            else
                chain->head = wr;
            chain->tail = wr;
        }
        wr = next;
    }
}

/* Callbacks run in chain order: referent by referent, newest weak
 * reference first (the list order, as CPython). */
void om__weakref_run_callbacks(om__wr_chain *chain)
{
    om__weakref *next = chain->head;
    chain->head = chain->tail = NULL;
    while (next) {
        om__weakref *wr = next;
        next = wr->next;
        wr->next = NULL;
        om_weakref_callback cb = wr->callback;
        void *ctx = wr->ctx;
        wr->callback = NULL; /* cleared before the call, as CPython */
        wr->ctx = NULL;
        cb(OM_OBJ(wr), ctx);
        om_decref(wr);
    }
}

void om__weakref_clear_trash(om_object *o)
{
    if (o->type == &weakref_type) wr_unlink((om__weakref *)o);
}

void om__gc_on_free(om_heap *h, om_object *o)
{
    om__wr_chain chain = {NULL, NULL};
    om__weakref_clear_all(h, o, &chain, 0);
    om__weakref_run_callbacks(&chain);
}

/* Heap destroy: weak references still alive are freed with the arenas;
 * only the table goes back here. */
void om__weakref_fini(om_heap *h)
{
    om__gcstate *g = &h->gc;
    if (g->wr_tab) om__sys_free(h, g->wr_tab, (g->wr_mask + 1) * sizeof *g->wr_tab);
    g->wr_tab = NULL;
    g->wr_mask = g->wr_count = 0;
}

int om__weakref_check(om_heap *h, FILE *out)
{
    om__gcstate *g = &h->gc;
    size_t used = 0;
    for (size_t i = 0; g->wr_tab && i <= g->wr_mask; i++) {
        om__wr_slot *s = &g->wr_tab[i];
        if (!s->key) continue;
        used++;
        const char *why = NULL;
        if (!(s->key->gc & OM_GCW_WEAKREFS))
            why = "referent lacks the WEAKREFS flag";
        else if (!s->head)
            why = "empty list";
        else if (wr_find(g, s->key) != s)
            why = "entry not found by lookup";
        for (om__weakref *wr = s->head; wr && !why; wr = wr->next)
            if (wr->referent != s->key) why = "a weakref points elsewhere";
        if (why) {
            fprintf(out, "objmem: om_heap_check: weakref table entry for %p: %s\n", (void *)s->key,
                    why);
            return OM_ESTATE;
        }
    }
    if (used != g->wr_count) {
        fprintf(out, "objmem: om_heap_check: weakref table has %zu entries, counted %zu\n", used,
                g->wr_count);
        return OM_ESTATE;
    }
    return 0;
}
