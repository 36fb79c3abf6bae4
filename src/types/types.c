/*
 * types.c - the types layer's per-heap lifecycle: the singletons (None,
 * True, False, the empty tuple and str, one-character strings, small
 * ints), the free-list machinery, the string hash key, and the layer's
 * part of stats, print and check. Design note: docs/types.md.
 */
#include <stdint.h>
#include <sys/random.h>
#include <time.h>

#include "types_impl.h"

/* What a parked free-list object looks like to the heap walk: a valid,
 * untracked, non-GC object of this type (never one of a real type, so a
 * walker cannot traverse a stale item). */
static void freelist_dealloc(om_object *o)
{
    (void)o; /* an OWNS_MEMORY type has a dealloc (object.h); the free list keeps the block */
}
const om_type om__freelist_type = {
    .name = "(free list)",
    .basic_size = sizeof(om__flnode),
    .flags = OM_TYPE__BUILTIN | OM_TYPE__OWNS_MEMORY | OM_TYPE__HIDDEN | OM_TYPE__LEAF,
    .dealloc = freelist_dealloc,
};

static int none_repr(om_object *o, char *buf, size_t n)
{
    (void)o;
    return snprintf(buf, n, "None");
}

static int bool_repr(om_object *o, char *buf, size_t n)
{
    return snprintf(buf, n, "%s", ((om__int *)o)->value ? "True" : "False");
}

const om_type om_none_type = {
    .name = "NoneType",
    .basic_size = sizeof(om_object),
    .flags = OM_TYPE__BUILTIN,
    .repr = none_repr,
};

const om_type om_bool_type = {
    .name = "bool",
    .basic_size = sizeof(om__int),
    .flags = OM_TYPE__BUILTIN,
    .repr = bool_repr,
};

/* ------------------------------------------------------------ singletons */

om_object *om_none(om_heap *h)
{
    return h->types.none;
}
om_object *om_true(om_heap *h)
{
    return h->types.true_;
}
om_object *om_false(om_heap *h)
{
    return h->types.false_;
}
om_object *om_bool(om_heap *h, int v)
{
    return v ? h->types.true_ : h->types.false_;
}

int om_bool_value(const om_object *o)
{
    if (o->type != &om_bool_type)
        return om__err(om_heap_of(o), OM_ETYPE, "om_bool_value: %s is not a bool", o->type->name);
    return ((const om__int *)o)->value != 0;
}

/* ------------------------------------------------------------ free lists */

void om__freelist_put(om_heap *h, om__freelist *fl, om_object *o)
{
    if (fl->n >= fl->max || h->hooks || h->destroying) {
        om__object_free_memory(o);
        return;
    }
    om__flnode *n = (om__flnode *)o;
    n->ob.refcnt = 1;
    n->ob.gc &= OM_GCW_LARGE | OM_GCW_DEBUG;
    n->ob.type = &om__freelist_type;
    n->next = fl->head;
    fl->head = n;
    fl->n++;
}

static void freelist_drain(om__freelist *fl)
{
    while (fl->head) {
        om__flnode *n = fl->head;
        fl->head = n->next;
        om__object_free_memory(&n->ob);
    }
    fl->n = 0;
}

/* ---------------------------------------------------------- init, fini */

static om_object *immortal(om_heap *h, const om_type *t, size_t size)
{
    om_object *o = om__types_alloc(h, t, size);
    if (o) {
        om_make_immortal(o);
        h->types.cached_objects++;
    }
    return o;
}

static om_object *make_str(om_heap *h, const char *s, size_t len)
{
    om__str *o = (om__str *)immortal(h, &om_str_type, sizeof(om__str) + len + 1);
    if (!o) return NULL;
    o->len = o->cplen = len;
    o->hashed = 0;
    o->interned = 1;
    memcpy(o->data, s, len);
    o->data[len] = '\0';
    return &o->ob;
}

static int make_singletons(om_heap *h)
{
    om__typestate *ts = &h->types;
    if (!(ts->none = immortal(h, &om_none_type, sizeof(om_object)))) return OM_ENOMEM;
    if (!(ts->true_ = immortal(h, &om_bool_type, sizeof(om__int)))) return OM_ENOMEM;
    if (!(ts->false_ = immortal(h, &om_bool_type, sizeof(om__int)))) return OM_ENOMEM;
    ((om__int *)ts->true_)->value = 1;
    ((om__int *)ts->false_)->value = 0;
    if (!(ts->empty_tuple = immortal(h, &om_tuple_type, sizeof(om__tuple)))) return OM_ENOMEM;
    ((om__tuple *)ts->empty_tuple)->ob.size = 0;
    if (!(ts->empty_str = make_str(h, "", 0))) return OM_ENOMEM;
    for (int c = 0; c < 128; c++) {
        char b = (char)c;
        if (!(ts->chars[c] = make_str(h, &b, 1))) return OM_ENOMEM;
    }
    for (int i = 0; i < OM_NSMALLINTS; i++) {
        om_object *o = immortal(h, &om_int_type, sizeof(om__int));
        if (!o) return OM_ENOMEM;
        ((om__int *)o)->value = i + OM_SMALLINT_MIN;
        ts->small_ints[i] = o;
    }
    return 0;
}

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The SipHash key: from cfg.hash_seed when set (reproducible), else from
 * getrandom, falling back to the clock and addresses. */
static void seed_hash(om_heap *h)
{
    uint64_t x = h->cfg.hash_seed;
    if (x == 0) {
        if (getrandom(&x, sizeof x, GRND_NONBLOCK) != (ssize_t)sizeof x) {
            struct timespec t;
            timespec_get(&t, TIME_UTC);
            x = (uint64_t)t.tv_nsec ^ ((uint64_t)t.tv_sec << 32) ^ (uint64_t)(uintptr_t)h;
        }
    }
    h->types.sip_k0 = splitmix(&x);
    h->types.sip_k1 = splitmix(&x);
}

int om__types_init(om_heap *h)
{
    om__typestate *ts = &h->types;
    memset(ts, 0, sizeof *ts);
    ts->floats.max = OM_FLOAT_FL_MAX;
    for (int i = 1; i <= OM_TUPLE_FL_LENS; i++) ts->tuples[i].max = OM_TUPLE_FL_MAX;
    ts->lists.max = OM_LIST_FL_MAX;
    ts->dicts.max = OM_DICT_FL_MAX;
    seed_hash(h);
    if (make_singletons(h) < 0) {
        om__types_fini(h);
        return OM_ENOMEM;
    }
    ts->ready = 1;
    h->gc.maybe_untrack = om__types_maybe_untrack;
    /* the collector reads list and tuple items inline (their traverse
     * visits exactly these) */
    h->gc.seq[0] =
        (om__gc_seq){&om_list_type, offsetof(om__list, len), offsetof(om__list, items), 1};
    h->gc.seq[1] =
        (om__gc_seq){&om_tuple_type, offsetof(om__tuple, ob.size), offsetof(om__tuple, items), 0};
    return 0;
}

static void free_cached(om_heap *h, om_object **slot)
{
    if (*slot) {
        om__object_free_memory(*slot);
        *slot = NULL;
        h->types.cached_objects--;
    }
}

/* Every free-list object and cached singleton goes back to its pool.
 * Interned strings that are still alive are user objects: they stay until
 * the arenas go; only the table is freed (docs/types.md). */
void om__types_fini(om_heap *h)
{
    om__typestate *ts = &h->types;
    freelist_drain(&ts->floats);
    for (int i = 1; i <= OM_TUPLE_FL_LENS; i++) freelist_drain(&ts->tuples[i]);
    freelist_drain(&ts->lists);
    freelist_drain(&ts->dicts);
    om__intern_fini(h);
    free_cached(h, &ts->none);
    free_cached(h, &ts->true_);
    free_cached(h, &ts->false_);
    free_cached(h, &ts->empty_tuple);
    free_cached(h, &ts->empty_str);
    for (int c = 0; c < 128; c++) free_cached(h, &ts->chars[c]);
    for (int i = 0; i < OM_NSMALLINTS; i++) free_cached(h, &ts->small_ints[i]);
    ts->ready = 0;
}

/* ---------------------------------------------------------- whole-heap */

static size_t freelist_total(const om__typestate *ts)
{
    size_t n = ts->floats.n + ts->lists.n + ts->dicts.n;
    for (int i = 1; i <= OM_TUPLE_FL_LENS; i++) n += ts->tuples[i].n;
    return n;
}

/* Add fl to the last row of st->freelists, or to a new row named name. */
static void add_fl(om_heap_stats *st, const char *name, const om__freelist *fl, int new_row)
{
    if (new_row) st->freelists[st->nfreelists++].name = name;
    om_freelist_stats *f = &st->freelists[st->nfreelists - 1];
    f->size += fl->n;
    f->bound += fl->max;
    f->hits += fl->hits;
    f->misses += fl->misses;
}

void om__types_fill_stats(om_heap *h, om_heap_stats *st)
{
    const om__typestate *ts = &h->types;
    st->heap_objects += ts->cached_objects + freelist_total(ts);
    st->small_ints = ts->ready ? OM_NSMALLINTS : 0;
    st->cached_objects = ts->cached_objects;
    st->interned = ts->intern.n;
    st->nfreelists = 0;
    add_fl(st, "float", &ts->floats, 1);
    for (int i = 1; i <= OM_TUPLE_FL_LENS; i++) add_fl(st, "tuple", &ts->tuples[i], i == 1);
    add_fl(st, "list", &ts->lists, 1);
    add_fl(st, "dict", &ts->dicts, 1);
}

static void print_fl(FILE *out, const char *name, const om__freelist *fl)
{
    fprintf(out, "%-24s %8u %8u %12zu %12zu\n", name, fl->n, fl->max, fl->hits, fl->misses);
}

void om__types_print_stats(om_heap *h, FILE *out)
{
    const om__typestate *ts = &h->types;
    size_t th = 0, tm = 0, tn = 0;
    fprintf(out, "\n# built-in types\n");
    fprintf(out, "# cached small ints (%d..%d)      = %14d\n", OM_SMALLINT_MIN, OM_SMALLINT_MAX,
            OM_NSMALLINTS);
    fprintf(out, "# cached objects (all singletons)  = %14zu\n", ts->cached_objects);
    fprintf(out, "# interned strings                 = %14zu\n", ts->intern.n);
    fprintf(out, "# dict index probes                = %14llu\n",
            (unsigned long long)ts->dict_probes);
    fprintf(out, "%-24s %8s %8s %12s %12s\n", "free list", "size", "bound", "hits", "misses");
    print_fl(out, "float", &ts->floats);
    for (int i = 1; i <= OM_TUPLE_FL_LENS; i++) {
        th += ts->tuples[i].hits;
        tm += ts->tuples[i].misses;
        tn += ts->tuples[i].n;
    }
    fprintf(out, "%-24s %8zu %8d %12zu %12zu\n", "tuple (len 1..20)", tn,
            OM_TUPLE_FL_MAX * OM_TUPLE_FL_LENS, th, tm);
    print_fl(out, "list", &ts->lists);
    print_fl(out, "dict", &ts->dicts);
}

static int check_fl(FILE *out, const char *name, const om__freelist *fl)
{
    uint32_t n = 0;
    for (const om__flnode *x = fl->head; x; x = x->next, n++)
        if (x->ob.type != &om__freelist_type || x->ob.refcnt != 1 || (x->ob.gc & OM_GCW_TRACKED) ||
            n > fl->max) {
            fprintf(out, "objmem: om_heap_check: %s free list: bad entry %p\n", name, (void *)x);
            return OM_ESTATE;
        }
    if (n != fl->n || n > fl->max) {
        fprintf(out, "objmem: om_heap_check: %s free list holds %u, counted %u (bound %u)\n", name,
                n, fl->n, fl->max);
        return OM_ESTATE;
    }
    return 0;
}

typedef struct obj_check {
    FILE *out;
    int rc;
    size_t own; /* own raw blocks in pools (heap.h, "Own blocks") */
} obj_check;

/* Per object: a list's length within its allocation, a dict's table. */
static int check_object(om_object *o, void *arg)
{
    obj_check *c = arg;
    if (o->type == &om_dict_type || o->type == &om_list_type) {
        size_t own = o->type->sizeof_extra(o); /* the table's or the items' bytes */
        c->own += own && own <= OM_SMALL_MAX;
    }
    if (o->type == &om_dict_type)
        c->rc = om__dict_check(o, c->out);
    else if (o->type == &om_list_type) {
        const om__list *l = (const om__list *)o;
        if (l->len > l->alloc || (l->alloc && !l->items)) {
            fprintf(c->out, "objmem: om_heap_check: list %p: length %zu, room %zu\n", (void *)o,
                    l->len, l->alloc);
            c->rc = OM_ESTATE;
        }
    }
    return c->rc;
}

/* Invariants checked: free lists well formed and within bounds; cached
 * objects immortal with the right values; the intern table consistent;
 * every list and dict well formed. */
int om__types_check(om_heap *h, FILE *out)
{
    const om__typestate *ts = &h->types;
    int rc = check_fl(out, "float", &ts->floats);
    for (int i = 1; i <= OM_TUPLE_FL_LENS && !rc; i++) rc = check_fl(out, "tuple", &ts->tuples[i]);
    if (!rc) rc = check_fl(out, "list", &ts->lists);
    if (!rc) rc = check_fl(out, "dict", &ts->dicts);
    for (int i = 0; i < OM_NSMALLINTS && !rc && ts->ready; i++) {
        const om_object *o = ts->small_ints[i];
        if (!om_is_immortal(o) || ((const om__int *)o)->value != i + OM_SMALLINT_MIN) {
            fprintf(out, "objmem: om_heap_check: small int %d is damaged\n", i + OM_SMALLINT_MIN);
            rc = OM_ESTATE;
        }
    }
    if (!rc) rc = om__intern_check(h, out);
    if (!rc && !h->obj.deallocating) {
        obj_check c = {out, 0, 0};
        uint64_t probes = h->types.dict_probes; /* checking is not a lookup */
        om__object_walk(h, check_object, &c);
        h->types.dict_probes = probes;
        rc = c.rc;
        /* the alloc check's count of unmarked used raw blocks (heap.h,
         * "Own blocks", invariant 3; a debug heap's own blocks are marked) */
        if (!rc && !(h->hooks & OM_HOOK_DEBUG) && c.own != h->alloc.own_unmarked) {
            fprintf(out,
                    "objmem: om_heap_check: %zu raw blocks are unmarked, lists and dicts hold "
                    "%zu\n",
                    h->alloc.own_unmarked, c.own);
            rc = OM_ESTATE;
        }
    }
    return rc;
}

/* Debug mode: a store into or of a freed object stops with a report. */
static void check_live(om_heap *h, const om_object *o, const char *fn)
{
    if ((h->hooks & OM_HOOK_DEBUG) && !om__object_is_live(h, o)) {
        fprintf(h->report, "objmem: debug: %s: object %p is freed\n", fn, (const void *)o);
        om__dbg_report(h, "use of a freed object", o, fn);
    }
}

int om__foreign_item(om_object *c, const om_object *v, const char *fn)
{
    om_heap *h = om_heap_of(c), *hv = om_heap_of(v);
    check_live(h, c, fn);
    check_live(hv, v, fn);
    if (om__likely(hv == h)) return 0;
    return om__err(h, OM_EINVAL, "%s: the %s at %p belongs to another heap than the %s at %p", fn,
                   v->type->name, (const void *)v, c->type->name, (void *)c);
}
