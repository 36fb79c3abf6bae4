/*
 * intern.c - the per-heap intern table: equal text, one object. The table
 * holds borrowed pointers: interned strings are mortal, as in CPython 3.11
 * (a string leaves the table in its dealloc), so interning never leaks.
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones); the probe start is the string's keyed hash.
 * Design note: docs/types.md ("Interning").
 */
#include "types_impl.h"

static size_t home(const om__intern *t, om_object *s)
{
    return om__str_hash(s) & (t->cap - 1);
}

static int grow(om_heap *h, om__intern *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 64;
    om_object **ns = om__sys_calloc(h, ncap, sizeof *ns);
    if (!ns) return OM_ENOMEM;
    for (size_t i = 0; i < t->cap; i++) {
        om_object *s = t->slots[i];
        if (!s) continue;
        size_t j = om__str_hash(s) & (ncap - 1);
        while (ns[j]) j = (j + 1) & (ncap - 1);
        ns[j] = s;
    }
    om__sys_free(h, t->slots, t->cap * sizeof *t->slots);
    t->slots = ns;
    t->cap = ncap;
    return 0;
}

om_object *om_str_intern(om_heap *h, om_object *s)
{
    if (s->type != &om_str_type)
        return om__err_null(h, OM_ETYPE, "om_str_intern: %s is not a str", s->type->name);
    om__str *x = (om__str *)s;
    if (x->interned) return om_incref(s);
    om__intern *t = &h->types.intern;
    if ((t->n + 1) * 4 > t->cap * 3 && grow(h, t) < 0) return NULL;
    size_t i = home(t, s);
    for (; t->slots[i]; i = (i + 1) & (t->cap - 1))
        if (om__str_eq(t->slots[i], s)) return om_incref(t->slots[i]);
    t->slots[i] = s;
    t->n++;
    x->interned = 1;
    return om_incref(s);
}

om_object *om_str_intern_cstr(om_heap *h, const char *cs)
{
    om_object *s = om_str_from_cstr(h, cs);
    if (!s) return NULL;
    om_object *r = om_str_intern(h, s);
    om_decref(s);
    return r;
}

/* s (interned, dying) leaves the table; the entries after it in its probe
 * run shift back so no search stops early. */
void om__intern_remove(om_heap *h, om_object *s)
{
    om__intern *t = &h->types.intern;
    if (!t->cap) return; /* heap destroy: the table is already gone */
    size_t mask = t->cap - 1, i = home(t, s);
    while (t->slots[i] != s) {
        if (!t->slots[i]) return;
        i = (i + 1) & mask;
    }
    t->slots[i] = NULL;
    t->n--;
    for (size_t j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
        size_t k = home(t, t->slots[j]);
        /* move slots[j] into the hole at i when its home is not in (i, j] */
        if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
            t->slots[i] = t->slots[j];
            t->slots[j] = NULL;
            i = j;
        }
    }
    ((om__str *)s)->interned = 0;
}

void om__intern_fini(om_heap *h)
{
    om__intern *t = &h->types.intern;
    om__sys_free(h, t->slots, t->cap * sizeof *t->slots);
    t->slots = NULL;
    t->cap = t->n = 0;
}

int om__intern_check(om_heap *h, FILE *out)
{
    const om__intern *t = &h->types.intern;
    size_t n = 0;
    for (size_t i = 0; i < t->cap; i++) {
        om_object *s = t->slots[i];
        if (!s) continue;
        n++;
        int ok = s->type == &om_str_type && ((om__str *)s)->interned && s->refcnt > 0;
        for (size_t j = home(t, s); ok && j != i; j = (j + 1) & (t->cap - 1))
            if (!t->slots[j]) ok = 0;
        if (!ok) {
            fprintf(out, "objmem: om_heap_check: intern table slot %zu is bad\n", i);
            return OM_ESTATE;
        }
    }
    if (n != t->n || (t->cap && n * 4 > t->cap * 3)) {
        fprintf(out, "objmem: om_heap_check: intern table holds %zu, counted %zu\n", n, t->n);
        return OM_ESTATE;
    }
    return 0;
}
