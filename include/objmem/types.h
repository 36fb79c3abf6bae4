/*
 * objmem/types.h - the built-in types: None, True, False, int, float, str,
 * tuple, list and dict, with Python's semantics for equality and hashing.
 * Design note: docs/types.md. Include <objmem.h>, not this file.
 *
 * Ownership (the rule of <objmem.h>): every function returning an object
 * returns a NEW reference, getters included (om_tuple_get, om_list_get,
 * om_dict_get, om_dict_next); every object passed in is borrowed, and a
 * setter takes its own reference. Functions ending in _steal take over the
 * reference passed in, also when they fail. Getters ending in _borrow
 * (om_tuple_get_borrow, om_list_get_borrow, om_dict_get_borrow,
 * om_dict_next_borrow) return the container's own reference: do not drop
 * it, and do not use it after the container lets the item go (a set, a
 * delete, a pop, or the container's death).
 *
 * Errors: NULL or a negative OM_E* code, recorded in the object's heap.
 * Indexes of tuples and lists accept Python's negative indexes (-1 = last);
 * anything else out of range is OM_ERANGE.
 *
 * Heaps: a container holds only objects of its own heap. Storing an object
 * of another heap is refused with OM_EINVAL ("belongs to another heap")
 * on every store when either heap is in debug mode; in release mode only
 * when the store makes the container grow, and by om_list_insert (a cheap
 * sample: most such stores go unnoticed, docs/reliability.md).
 *
 * Scope: int is a boxed signed 64-bit integer; arbitrary precision is out
 * of scope. Values in -5..256 are cached per heap: om_int_new returns the
 * same immortal object for them. bool is its own type whose objects equal
 * and hash like the ints 0 and 1 (Python's rule), but om_is_int(om_true(h))
 * is 0.
 */
#ifndef OBJMEM_TYPES_H
#define OBJMEM_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "object.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The built-in types (compare with om_type_of, or use om_is_*). */
extern const om_type om_none_type, om_bool_type, om_int_type, om_float_type, om_str_type,
    om_tuple_type, om_list_type, om_dict_type;

/* The type of o. */
static inline const om_type *om_type_of(const om_object *o)
{
    return o->type;
}
/* 1 when o is None, else 0. */
static inline int om_is_none(const om_object *o)
{
    return o->type == &om_none_type;
}
/* 1 when o is True or False (not an int: om_is_int is 0 for them), else 0. */
static inline int om_is_bool(const om_object *o)
{
    return o->type == &om_bool_type;
}
/* 1 when o is an int (not a bool), else 0. */
static inline int om_is_int(const om_object *o)
{
    return o->type == &om_int_type;
}
/* 1 when o is a float, else 0. */
static inline int om_is_float(const om_object *o)
{
    return o->type == &om_float_type;
}
/* 1 when o is a str, else 0. */
static inline int om_is_str(const om_object *o)
{
    return o->type == &om_str_type;
}
/* 1 when o is a tuple, else 0. */
static inline int om_is_tuple(const om_object *o)
{
    return o->type == &om_tuple_type;
}
/* 1 when o is a list, else 0. */
static inline int om_is_list(const om_object *o)
{
    return o->type == &om_list_type;
}
/* 1 when o is a dict, else 0. */
static inline int om_is_dict(const om_object *o)
{
    return o->type == &om_dict_type;
}

/* ------------------------------------------------------------ singletons */

/* The heap's immortal None, True and False (new references: dropping them
 * is harmless). Never NULL. */
om_object *om_none(om_heap *h);
/* The heap's immortal True (a new reference; never NULL). */
om_object *om_true(om_heap *h);
/* The heap's immortal False (a new reference; never NULL). */
om_object *om_false(om_heap *h);
/* om_true(h) when v is non-zero, else om_false(h). */
om_object *om_bool(om_heap *h, int v);
/* 1 for True, 0 for False; -1 (OM_ETYPE) for anything else. */
int om_bool_value(const om_object *o);

/* ------------------------------------------------------------ int, float */

/* A new int of value v (the cached immortal object for -5..256), or NULL
 * (OM_ENOMEM). */
om_object *om_int_new(om_heap *h, int64_t v);
/* The value of an int or bool (0 for any other type, with OM_ETYPE). */
int64_t om_int_value(const om_object *o);

/* A new float (its block from the float free list when one is there), or
 * NULL (OM_ENOMEM). */
om_object *om_float_new(om_heap *h, double v);
/* The value of a float, int or bool (0.0 with OM_ETYPE for others). */
double om_float_value(const om_object *o);

/* ------------------------------------------------------------------- str */

/* A new str holding a copy of len bytes of UTF-8 (embedded NULs allowed).
 * NULL with OM_EUTF8 when the bytes are not valid UTF-8 (overlong forms,
 * surrogates and code points above U+10FFFF are invalid), OM_ENOMEM, or
 * OM_EINVAL for bytes == NULL with len > 0. The empty string and one-byte
 * ASCII strings are cached immortal objects. */
om_object *om_str_new(om_heap *h, const char *bytes, size_t len);
/* om_str_new(h, s, strlen(s)). */
om_object *om_str_from_cstr(om_heap *h, const char *s);
/* The canonical str equal to s: the one already interned, else s itself,
 * which becomes interned. A new reference either way; NULL with OM_ETYPE
 * when s is not a str. Interned strings are mortal (as in CPython 3.11):
 * the table does not keep them alive, and a string leaves the table when
 * it dies; while any reference exists, interning equal text returns it. */
om_object *om_str_intern(om_heap *h, om_object *s);
/* om_str_intern of a new string made from the C string s. */
om_object *om_str_intern_cstr(om_heap *h, const char *s);
/* The bytes of a str, NUL-terminated (borrowed: valid while s lives), or
 * NULL for a non-str. */
const char *om_str_data(const om_object *s);
/* Length in bytes (0 for a non-str). */
size_t om_str_len(const om_object *s);
/* Length in code points (0 for a non-str). */
size_t om_str_cplen(const om_object *s);
/* 1 when s is an interned str (or a cached one-character / empty one). */
int om_str_is_interned(const om_object *s);

/* ----------------------------------------------------------------- tuple */

/* A new tuple of n items, all NULL, to be filled with om_tuple_set (n = 0:
 * the immortal empty tuple). Untracked by the collector until it gets an
 * item that may form a cycle (docs/types.md). NULL on OM_ENOMEM. */
om_object *om_tuple_new(om_heap *h, size_t n);
/* A new tuple holding the n objects of items (borrowed; none NULL). */
om_object *om_tuple_from(om_heap *h, size_t n, om_object *const *items);
/* A new tuple of n objects passed as arguments (borrowed). */
om_object *om_tuple_pack(om_heap *h, size_t n, ...);
/* Item i (new reference); NULL with OM_ERANGE, OM_ETYPE, or OM_EINVAL for a
 * slot not filled yet. */
om_object *om_tuple_get(om_object *t, ptrdiff_t i);
/* Item i, borrowed (PyTuple_GetItem): the tuple's own reference, valid
 * while the tuple holds it; do not drop it. NULL as om_tuple_get (the
 * message names om_tuple_get). For comparators and loops that only look:
 *     const om_object *a = om_tuple_get_borrow(x, 0);  // no om_decref */
om_object *om_tuple_get_borrow(om_object *t, ptrdiff_t i);
/* Store v (borrowed; om_tuple_set_steal: taken over) in slot i, dropping
 * what was there. Meant for filling a new tuple. 0 or OM_ERANGE/OM_ETYPE/
 * OM_EINVAL (v NULL), OM_ESTATE when the slot is already set and the tuple
 * has more than one reference (shared tuples are immutable: it may be a
 * dict key; CPython's PyTuple_SetItem rule). An item that may form a cycle
 * (a GC object, not an untracked tuple) tracks the tuple (it counts as a
 * new GC object: a collection may run); filling the last slot untracks a
 * tracked tuple whose items are all atomic (see om_tuple_maybe_untrack). */
int om_tuple_set(om_object *t, ptrdiff_t i, om_object *v);
/* om_tuple_set taking over the reference v (also when it fails): fill a
 * new tuple with fresh objects without a decref each. */
int om_tuple_set_steal(om_object *t, ptrdiff_t i, om_object *v);
/* Number of items (0 for a non-tuple). */
size_t om_tuple_len(const om_object *t);
/* Untrack t when every item is set and none can be part of a cycle (not a
 * GC object, or an untracked one), as CPython's _PyTuple_MaybeUntrack.
 * Returns 1 when t is (now) untracked. */
int om_tuple_maybe_untrack(om_object *t);

/* ------------------------------------------------------------------ list */

/* A new empty list, with room for `capacity` items reserved (0 is fine). */
om_object *om_list_new(om_heap *h, size_t capacity);
/* Append v (borrowed / taken over). 0 or OM_ENOMEM, OM_ETYPE, OM_EINVAL. */
int om_list_append(om_object *l, om_object *v);
/* om_list_append taking over the reference v (also when it fails). */
int om_list_append_steal(om_object *l, om_object *v);
/* Item i (new reference), or NULL (OM_ERANGE, OM_ETYPE). */
om_object *om_list_get(om_object *l, ptrdiff_t i);
/* Item i, borrowed (PyList_GetItem): valid until the list lets it go (a
 * set, delete or pop of that item, or the list's death); do not drop it.
 * NULL as om_list_get. */
om_object *om_list_get_borrow(om_object *l, ptrdiff_t i);
/* Replace item i with v (borrowed / taken over). 0 or OM_ERANGE, ... */
int om_list_set(om_object *l, ptrdiff_t i, om_object *v);
/* om_list_set taking over the reference v (also when it fails). */
int om_list_set_steal(om_object *l, ptrdiff_t i, om_object *v);
/* Insert v before index i (Python's list.insert: i is clamped to 0..len). */
int om_list_insert(om_object *l, ptrdiff_t i, om_object *v);
/* Remove item i and return it (new reference: the list's own), or NULL
 * (OM_ERANGE, also for an empty list). om_list_pop(l, -1) pops the last. */
om_object *om_list_pop(om_object *l, ptrdiff_t i);
/* Remove item i and drop it. 0 or OM_ERANGE. */
int om_list_delete(om_object *l, ptrdiff_t i);
/* Number of items (0 for a non-list). */
size_t om_list_len(const om_object *l);

/* ------------------------------------------------------------------ dict */

/* A new empty dict (no table until the first insertion). */
om_object *om_dict_new(om_heap *h);
/* d[key] = value (both borrowed). 0, or OM_EUNHASH for an unhashable key,
 * OM_ENOMEM, OM_ETYPE, or what a user type's hash or eq returned. */
int om_dict_set(om_object *d, om_object *key, om_object *value);
/* The same, taking over both references (also on failure). */
int om_dict_set_steal(om_object *d, om_object *key, om_object *value);
/* d[key] (new reference), or NULL: OM_EKEY when absent, or another code. */
om_object *om_dict_get(om_object *d, om_object *key);
/* d[key], borrowed (PyDict_GetItem, but errors are not hidden): valid
 * until the dict lets the value go; do not drop it. NULL as om_dict_get
 * (OM_EKEY when absent). */
om_object *om_dict_get_borrow(om_object *d, om_object *key);
/* Lookup without recording a missing key as an error: 1 and *value (new
 * reference) when present, 0 when absent, negative OM_E* on error. */
int om_dict_find(om_object *d, om_object *key, om_object **value);
/* del d[key]: 0, or OM_EKEY when absent, or another code. */
int om_dict_del(om_object *d, om_object *key);
/* Number of items (0 for a non-dict). */
size_t om_dict_len(const om_object *d);

/* Iteration state for om_dict_next: zero it (or OM_DICT_ITER_INIT) first. */
typedef struct om_dict_iter {
    size_t pos;       /* next entry to look at                     */
    uint64_t version; /* the dict's key version when iteration began */
    int started;
} om_dict_iter;
#define OM_DICT_ITER_INIT                                                                          \
    {                                                                                              \
        0, 0, 0                                                                                    \
    }

/* The next item in insertion order: 1 with *key and *value (new
 * references; either pointer may be NULL to skip it), 0 at the end, or
 * OM_EMUTATED when a key was added or removed since the iteration began
 * (replacing a value is allowed, as in Python), OM_ETYPE for a non-dict. */
int om_dict_next(om_object *d, om_dict_iter *it, om_object **key, om_object **value);
/* om_dict_next with *key and *value borrowed (PyDict_Next): valid while
 * the dict holds them, which it does until it is changed; do not drop
 * them. */
int om_dict_next_borrow(om_object *d, om_dict_iter *it, om_object **key, om_object **value);

/* --------------------------------------------------------- hash, equality */

/* hash(o): 0 and *out, or OM_EUNHASH (list, dict, a type without a hash
 * slot, a tuple holding one of those). Equal numbers hash alike across
 * int, bool and float (Python's numeric hash, modulus 2^61 - 1); strings
 * use SipHash-1-3 keyed per heap (om_config.hash_seed, or random). */
int om_hash(om_object *o, uint64_t *out);
/* a == b: 1 or 0, or a negative OM_E* from a user type's eq. Numbers
 * compare by value across int, bool and float; containers by items. */
int om_equal(om_object *a, om_object *b);

#ifdef __cplusplus
}
#endif
#endif
