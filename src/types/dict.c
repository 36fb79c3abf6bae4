/*
 * dict.c - the compact, insertion-ordered dict of CPython 3.6+: a sparse
 * index array (int32 slots) over a dense array of (hash, key, value)
 * entries, open addressing with CPython's perturbed probing, growth to
 * used*3 (3.11's GROWTH_RATE), deletion by dummies, iteration over the
 * dense array with a key-set version that detects mutation, and a free
 * list of dict objects. Design note: docs/types.md ("Dicts").
 */
#include "types_impl.h"

enum { IX_EMPTY = -1, MIN_LOG2 = 3, PERTURB_SHIFT = 5, MAX_LOG2 = 31 };

static size_t usable_for(uint32_t log2)
{
    return ((size_t)2 << log2) / 3;
}
static size_t table_bytes(uint32_t log2)
{
    return ((size_t)4 << log2) + usable_for(log2) * sizeof(om__dentry);
}

/* --------------------------------------------------------- type slots */

static int dict_traverse(om_object *o, om_visit_fn visit, void *arg)
{
    om__dict *d = (om__dict *)o;
    if (!d->table) return 0;
    om__dentry *e = om__dict_entries(d);
    for (size_t i = 0; i < d->nentries; i++) {
        if (!e[i].key) continue;
        OM_VISIT(e[i].key, visit, arg);
        OM_VISIT(e[i].value, visit, arg);
    }
    return 0;
}

/* Detach the table first (the dict is valid and empty while the items
 * die), then drop the items and free the table. */
static void dict_clear(om_object *o)
{
    om__dict *d = (om__dict *)o;
    void *table = d->table;
    uint32_t log2 = d->log2;
    size_t n = d->nentries;
    d->table = NULL;
    d->log2 = 0;
    d->used = d->nentries = d->usable = 0;
    d->version++;
    if (!table) return;
    om__dentry *e = (om__dentry *)((char *)table + ((size_t)4 << log2));
    for (size_t i = 0; i < n; i++) {
        if (!e[i].key) continue;
        om_decref(e[i].key);
        om_decref(e[i].value);
    }
    om__free_own(om__heap_of(o), table, table_bytes(log2));
}

static void dict_dealloc(om_object *o)
{
    dict_clear(o);
    om_heap *h = om__heap_of(o);
    om__freelist_put(h, &h->types.dicts, o);
}

static size_t dict_extra(const om_object *o)
{
    const om__dict *d = (const om__dict *)o;
    return d->table ? table_bytes(d->log2) : 0;
}

static int dict_repr(om_object *o, char *buf, size_t n)
{
    return snprintf(buf, n, "{dict of %zu}", ((om__dict *)o)->used);
}

/* Where d holds child: "[<key repr>]" for a value, "key <repr>" for a key
 * (the key's type repr, or its type name when it has none). */
static int dict_name_referent(om_object *o, const om_object *child, char *buf, size_t n)
{
    om__dict *d = (om__dict *)o;
    if (!d->table) return 0;
    om__dentry *e = om__dict_entries(d);
    for (size_t i = 0; i < d->nentries; i++) {
        if (!e[i].key || (e[i].value != child && e[i].key != child)) continue;
        char key[72];
        if (!e[i].key->type->repr || e[i].key->type->repr(e[i].key, key, sizeof key) < 0)
            snprintf(key, sizeof key, "<%s>", e[i].key->type->name);
        return e[i].value == child ? snprintf(buf, n, "[%s]", key)
                                   : snprintf(buf, n, "key %s", key);
    }
    return 0;
}

const om_type om_dict_type = {
    .name = "dict",
    .basic_size = sizeof(om__dict),
    .flags = OM_TYPE__BUILTIN | OM_TYPE_GC | OM_TYPE__OWNS_MEMORY | OM_TYPE__UNTRACKS,
    .traverse = dict_traverse,
    .clear = dict_clear,
    .dealloc = dict_dealloc,
    .sizeof_extra = dict_extra,
    .repr = dict_repr,
    .name_referent = dict_name_referent,
};

om_object *om_dict_new(om_heap *h)
{
    om_object *o = om__freelist_take(h, &h->types.dicts, &om_dict_type);
    if (!o && !(o = om__types_alloc(h, &om_dict_type, sizeof(om__dict)))) return NULL;
    om__dict *d = (om__dict *)o;
    d->log2 = 0;
    d->version = 0;
    d->used = d->nentries = d->usable = 0;
    d->table = NULL;
    return o; /* not tracked until a container is stored (om_dict_set_steal) */
}

int om__dict_maybe_untrack(om_object *o)
{
    om__dict *d = (om__dict *)o;
    if (d->table) {
        const om__dentry *e = om__dict_entries(d);
        for (size_t i = 0; i < d->nentries; i++)
            if (e[i].key && (!om__is_atomic(e[i].key) || !om__is_atomic(e[i].value))) return 0;
    }
    om_gc_untrack(o);
    return 1;
}

uint64_t om__dict_probe_count(om_heap *h)
{
    return h->types.dict_probes;
}

/* ------------------------------------------------------------- lookup */

/* An index slot (uint32) holds a field of log2 + 1 bits: 0 = empty, all
 * ones = dummy (deleted), else entry number + 1; the bits above it hold a
 * tag, the top bits of the hash's upper half. A probe whose tag differs
 * skips the entry without reading it: most collisions then cost no cache
 * miss on the entry array (the tag is a filter only, never trusted).
 * Probing visits groups of 4 slots that share a cache line (i, i^1, i^2,
 * i^3), then jumps by CPython's perturbed recurrence, which still reaches
 * every slot. */
static inline uint32_t field_mask(uint32_t log2)
{
    return (uint32_t)(((uint64_t)2 << log2) - 1);
}
static inline uint32_t tag_of(uint64_t hash, uint32_t fmask)
{
    return (uint32_t)(hash >> 32) & ~fmask;
}

static inline int key_hash(om_object *k, uint64_t *out)
{
    if (om__likely(k->type == &om_str_type && ((om__str *)k)->hashed)) {
        *out = ((om__str *)k)->hash;
        return 0;
    }
    return om_hash(k, out);
}

/* The entry index of key (>= 0), or IX_EMPTY when absent; *slot is the
 * index slot where the search ended. A user type's eq may fail (*err) or
 * change the dict, in which case the search restarts (CPython does too). */
static ptrdiff_t lookup(om__dict *d, om_object *key, uint64_t hash, size_t *slot, int *err)
{
restart:;
    if (!d->table) return IX_EMPTY;
    const uint32_t *index = om__dict_index(d);
    om__dentry *ents = om__dict_entries(d);
    size_t mask = ((size_t)1 << d->log2) - 1, i = hash & mask, probes = 0, k = 0;
    uint32_t fmask = field_mask(d->log2), tag = tag_of(hash, fmask);
    uint64_t perturb = hash;
    int key_is_str = key->type == &om_str_type;
    ptrdiff_t ix = IX_EMPTY;
    for (;;) {
        k = i ^ (probes & 3);
        probes++;
        uint32_t sv = index[k], f = sv & fmask;
        if (f == 0) break;
        if (f != fmask && (sv & ~fmask) == tag) {
            om__dentry *e = &ents[f - 1];
            if (e->key == key) goto found;
            if (e->hash == hash) {
                om_object *ek = e->key;
                if (key_is_str && ek->type == &om_str_type) {
                    if (om__str_eq(ek, key)) goto found;
                } else {
                    void *table = d->table;
                    om_incref(ek);
                    int rc = om_equal(ek, key);
                    om_decref(ek);
                    if (rc < 0) {
                        *err = rc;
                        return IX_EMPTY;
                    }
                    if (table != d->table || e->key != ek) goto restart;
                    if (rc) goto found;
                }
            }
        }
        if ((probes & 3) == 0) {
            perturb >>= PERTURB_SHIFT;
            i = (i * 5 + perturb + 1) & mask;
        }
        continue;
    found:
        ix = (ptrdiff_t)f - 1;
        break;
    }
    om__heap_of(&d->ob)->types.dict_probes += probes;
    *slot = k;
    return ix;
}

/* The first slot of hash's probe sequence that holds no entry (empty or
 * dummy). */
static size_t free_slot(const uint32_t *index, uint32_t log2, uint64_t hash)
{
    size_t mask = ((size_t)1 << log2) - 1, i = hash & mask;
    uint32_t fmask = field_mask(log2);
    uint64_t perturb = hash;
    for (unsigned probes = 0;;) {
        size_t k = i ^ (probes & 3);
        uint32_t f = index[k] & fmask;
        if (f == 0 || f == fmask) return k;
        if ((++probes & 3) == 0) {
            perturb >>= PERTURB_SHIFT;
            i = (i * 5 + perturb + 1) & mask;
        }
    }
}

/* ------------------------------------------------------------- resize */

/* Rebuild into a table of 2^log2 slots, compacting the live entries. */
static int resize(om__dict *d, uint32_t log2)
{
    om_heap *h = om__heap_of(&d->ob);
    if (log2 > MAX_LOG2) return om__err(h, OM_ENOMEM, "dict: too many items");
    void *nt = om__malloc_own(h, table_bytes(log2));
    if (!nt)
        return om__err(h, OM_ENOMEM, "no memory for a dict table of %zu bytes", table_bytes(log2));
    uint32_t *ni = nt, fmask = field_mask(log2);
    om__dentry *ne = (om__dentry *)((char *)nt + ((size_t)4 << log2));
    memset(ni, 0, (size_t)4 << log2); /* all empty */
    size_t n = 0;
    if (d->table) {
        const om__dentry *oe = om__dict_entries(d);
        for (size_t i = 0; i < d->nentries; i++) {
            if (!oe[i].key) continue;
            ne[n] = oe[i];
            ni[free_slot(ni, log2, oe[i].hash)] = tag_of(oe[i].hash, fmask) | (uint32_t)(n + 1);
            n++;
        }
        om__free_own(h, d->table, table_bytes(d->log2));
    }
    d->table = nt;
    d->log2 = log2;
    d->nentries = n;
    d->usable = usable_for(log2);
    d->version++;
    return 0;
}

static int grow(om__dict *d)
{
    size_t want = d->used * 3;
    uint32_t log2 = MIN_LOG2;
    while (((size_t)1 << log2) < want) log2++;
    return resize(d, log2);
}

/* ----------------------------------------------------------------- API */

static om__dict *as_dict(om_object *o, const char *fn)
{
    if (om__likely(o->type == &om_dict_type)) return (om__dict *)o;
    return om__err_null(om_heap_of(o), OM_ETYPE, "%s: %s is not a dict", fn, o->type->name);
}

int om_dict_set_steal(om_object *o, om_object *key, om_object *value)
{
    om__dict *d = as_dict(o, "om_dict_set");
    uint64_t hash;
    int err = 0;
    size_t slot;
    if (om__unlikely(!d || !key || !value))
        err = d ? om__err(om_heap_of(o), OM_EINVAL, "om_dict_set: NULL key or value") : OM_ETYPE;
    else if ((err = om__check_items_heap(o, key, value, "om_dict_set")) == 0)
        err = key_hash(key, &hash);
    ptrdiff_t ix = err ? IX_EMPTY : lookup(d, key, hash, &slot, &err);
    if (om__unlikely(err < 0)) goto fail;
    /* MAINTAIN_TRACKING: tracked once a key or value may be tracked */
    if (!(o->gc & OM_GCW_TRACKED) && (!om__is_atomic(key) || !om__is_atomic(value))) om_gc_track(o);
    if (ix >= 0) { /* replace the value: the key set is unchanged */
        om__dentry *e = &om__dict_entries(d)[ix];
        om_object *old = e->value;
        e->value = value;
        om_decref(key);
        om_decref(old);
        return 0;
    }
    if (d->nentries >= d->usable) { /* the table changes: find the slot anew */
        if ((err = om__foreign_item(o, key, "om_dict_set")) < 0 ||
            (err = om__foreign_item(o, value, "om_dict_set")) < 0 || (err = grow(d)) < 0)
            goto fail;
        slot = free_slot(om__dict_index(d), d->log2, hash);
    }
    uint32_t *index = om__dict_index(d); /* else slot: where the lookup ended, empty */
    om__dentry *e = &om__dict_entries(d)[d->nentries];
    e->hash = hash;
    e->key = key;
    e->value = value;
    index[slot] = tag_of(hash, field_mask(d->log2)) | (uint32_t)++d->nentries;
    d->used++;
    d->version++;
    return 0;
fail:
    om_xdecref(key);
    om_xdecref(value);
    return err;
}

int om_dict_set(om_object *d, om_object *key, om_object *value)
{
    om_xincref(key);
    om_xincref(value);
    return om_dict_set_steal(d, key, value);
}

/* Find key in dict o for api: 1 with *dp, *ixp and *slotp set, 0 when the
 * key is absent, or a negative OM_E* (not a dict, unhashable key, an eq
 * that failed). */
static int locate(om_object *o, om_object *key, const char *api, om__dict **dp, ptrdiff_t *ixp,
                  size_t *slotp)
{
    om__dict *d = as_dict(o, api);
    uint64_t hash;
    int err;
    if (!d) return OM_ETYPE;
    if ((err = key_hash(key, &hash)) < 0) return err;
    err = 0;
    ptrdiff_t ix = lookup(d, key, hash, slotp, &err);
    if (err < 0) return err;
    *dp = d;
    *ixp = ix;
    return ix >= 0;
}

int om_dict_find(om_object *o, om_object *key, om_object **value)
{
    om__dict *d;
    ptrdiff_t ix;
    size_t slot;
    int rc = locate(o, key, "om_dict_get", &d, &ix, &slot);
    if (rc == 1) *value = om_incref(om__dict_entries(d)[ix].value);
    return rc;
}

om_object *om_dict_get(om_object *d, om_object *key)
{
    om_object *v = NULL;
    int rc = om_dict_find(d, key, &v);
    if (rc == 0) om__err(om_heap_of(d), OM_EKEY, "om_dict_get: key not found");
    return rc == 1 ? v : NULL;
}

int om_dict_del(om_object *o, om_object *key)
{
    om__dict *d;
    ptrdiff_t ix;
    size_t slot;
    int rc = locate(o, key, "om_dict_del", &d, &ix, &slot);
    if (rc < 0) return rc;
    if (rc == 0) return om__err(om_heap_of(o), OM_EKEY, "om_dict_del: key not found");
    om__dentry *e = &om__dict_entries(d)[ix];
    om_object *k = e->key, *v = e->value;
    om__dict_index(d)[slot] = field_mask(d->log2); /* dummy */
    e->key = e->value = NULL;
    d->used--;
    d->version++;
    om_decref(k);
    om_decref(v);
    return 0;
}

size_t om_dict_len(const om_object *o)
{
    return o->type == &om_dict_type ? ((const om__dict *)o)->used : 0;
}

int om_dict_next(om_object *o, om_dict_iter *it, om_object **key, om_object **value)
{
    om__dict *d = as_dict(o, "om_dict_next");
    if (!d) return OM_ETYPE;
    if (!it->started) {
        it->started = 1;
        it->pos = 0;
        it->version = d->version;
    } else if (it->version != d->version) {
        return om__err(om_heap_of(o), OM_EMUTATED,
                       "om_dict_next: the dict changed size during iteration");
    }
    if (!d->table) return 0;
    const om__dentry *e = om__dict_entries(d);
    while (it->pos < d->nentries && !e[it->pos].key) it->pos++;
    if (it->pos >= d->nentries) return 0;
    if (key) *key = om_incref(e[it->pos].key);
    if (value) *value = om_incref(e[it->pos].value);
    it->pos++;
    return 1;
}

/* Invariants 1, 2 and 4 of om__dict (src/internal/types.h): counts, every
 * index slot pointing at a live entry with its tag, and every live entry
 * found by its own lookup. 0, or OM_ESTATE after a report. */
int om__dict_check(om_object *o, FILE *out)
{
    om__dict *d = (om__dict *)o;
    const char *why = NULL;
    if ((d->table == NULL) != (d->log2 == 0))
        why = "table and size disagree";
    else if (d->used > d->nentries || d->nentries > d->usable)
        why = "counts out of order";
    else if (d->table) {
        const uint32_t *index = om__dict_index(d);
        const om__dentry *e = om__dict_entries(d);
        uint32_t fmask = field_mask(d->log2);
        size_t live = 0, pointed = 0;
        for (size_t i = 0; i < d->nentries; i++) live += e[i].key != NULL;
        for (size_t i = 0; i < ((size_t)1 << d->log2) && !why; i++) {
            uint32_t f = index[i] & fmask;
            if (f == 0 || f == fmask) continue;
            pointed++;
            if (f > d->nentries || !e[f - 1].key)
                why = "a slot points at a dead entry";
            else if ((index[i] & ~fmask) != tag_of(e[f - 1].hash, fmask))
                why = "a slot's tag is wrong";
        }
        if (!why && (live != d->used || pointed != d->used))
            why = "used does not match the entries";
        for (size_t i = 0; i < d->nentries && !why; i++) {
            size_t slot;
            int err = 0;
            if (e[i].key && e[i].key->type == &om_str_type &&
                lookup(d, e[i].key, e[i].hash, &slot, &err) != (ptrdiff_t)i)
                why = "a str key is not found by its lookup";
        }
    }
    if (!why) return 0;
    fprintf(out, "objmem: om_heap_check: dict %p: %s\n", (void *)o, why);
    return OM_ESTATE;
}
