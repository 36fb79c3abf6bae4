/*
 * objmem/object.h - objects, types and reference counting.
 *
 * Every object starts with a 16-byte header: a 32-bit reference count, a
 * 32-bit word the collector owns, and the type. When the count reaches zero
 * the object is deallocated at once: its type drops what it owns, then its
 * block goes back to its pool. Design note: docs/object.md.
 *
 * The ownership rule (the whole of it, stated once in <objmem.h>): an object
 * a function returns is a new reference, and an object passed to a function
 * is borrowed, except by a function whose name ends in _steal (it takes the
 * reference passed) or _borrow (it returns a borrowed one).
 *
 * Python's own example, `a = []; b = a; del a`, in C. Python's documentation
 * states the rule it shows (The Python Language Reference, 3. Data model,
 * object.__del__: "del x doesn't directly call x.__del__() -- the former
 * decrements the reference count for x by one, and the latter is only
 * called when x's reference count reaches zero"):
 *
 *     om_object *a = om_list_new(h, 0);  // a = []: a new reference, count 1
 *     om_object *b = om_incref(a);       // b = a: a second reference, count 2
 *     om_clear_ref(&a);                  // del a: a = NULL, count 1, alive
 *     om_decref(b);                      // del b: count 0, freed right here
 *
 * Include <objmem.h>, not this file.
 */
#ifndef OBJMEM_OBJECT_H
#define OBJMEM_OBJECT_H

#include <stddef.h>
#include <stdint.h>

#include "heap.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct om_type om_type;

/* The object header: exactly 16 bytes on 64-bit targets. */
typedef struct om_object {
    uint32_t refcnt;     /* references; >= OM_IMMORTAL means immortal       */
    uint32_t gc;         /* collector flags and scratch; never touch it      */
    const om_type *type; /* borrowed: a type outlives its objects            */
} om_object;

/* Embed as the first member of a struct to make it an object. */
#define OM_OBJECT_HEAD om_object ob_base;

/* Objects with items (om_new_var) start with this: the header and the
 * number of items, which om_sizeof reads. */
typedef struct om_var_object {
    om_object ob_base;
    size_t size; /* items allocated by om_new_var */
} om_var_object;
#define OM_VAR_OBJECT_HEAD om_var_object ob_base;

#define OM_OBJ(p) ((om_object *)(p))

/* A count that reaches OM_IMMORTAL stays there, and the object is never
 * freed (PEP 683). */
#define OM_IMMORTAL 0x80000000u

/* ------------------------------------------------------------------ types */

/* Called by traverse for each object o refers to; returns 0 to go on, or a
 * non-zero value that traverse returns at once. */
typedef int (*om_visit_fn)(om_object *child, void *arg);

/* Visit a member that may be NULL, returning early as traverse must. */
#define OM_VISIT(member, visit, arg)                                                               \
    do {                                                                                           \
        if ((member) != NULL) {                                                                    \
            int om__vret = (visit)(OM_OBJ(member), (arg));                                         \
            if (om__vret) return om__vret;                                                         \
        }                                                                                          \
    } while (0)

enum {
    OM_TYPE_GC = 1u << 0,               /* can be in a cycle: collector tracks it   */
    OM_TYPE_LEGACY_FINALIZER = 1u << 1, /* finalize is a tp_del: a cycle holding one
                                           is uncollectable and goes to garbage    */
    OM_TYPE_WEAKREFABLE = 1u << 2,      /* om_weakref_new accepts its objects       */
    OM_TYPE__BUILTIN = 1u << 15,        /* internal: objmem's own types             */
};
/* Bits 10..15 of om_type.flags are objmem's own: om_new and om_new_var
 * refuse a type that sets one (OM_EINVAL, the type named). */

/* A type. Static storage is the norm; a type must outlive its objects.
 * Slot contracts (NULL is allowed for every slot):
 *   traverse(o, visit, arg)  call visit on every object o holds a reference
 *                            to (OM_VISIT). Must not change anything, must
 *                            not allocate. Required for OM_TYPE_GC types.
 *   clear(o)                 drop the references o holds that can be in a
 *                            cycle (om_clear_ref on each); o stays valid.
 *                            The collector calls it on cyclic garbage.
 *   finalize(o)              PEP 442: runs at most once, before o dies, with
 *                            o intact; may resurrect o by storing a new
 *                            reference to it somewhere.
 *   dealloc(o)               drop every reference o still holds and free
 *                            what it owns; objmem frees o's block afterwards.
 *                            Must not resurrect o.
 *   sizeof_extra(o)          bytes of buffers o owns (for om_sizeof).
 *   hash(o, &out)            0 and *out, or a negative OM_E* (OM_EUNHASH).
 *   eq(a, b)                 1 equal, 0 not, negative OM_E* on error; b may
 *                            have another type.
 *   repr(o, buf, n)          write a short text (snprintf rules); returns
 *                            the length it wanted.
 *   name_referent(o, child, buf, n)
 *                            name where o holds its reference to child (a
 *                            field "next", an index "[3]", a key "['id']")
 *                            for om_gc_find_chain and the heap pictures;
 *                            snprintf rules, returns the length it wanted,
 *                            or 0 when o cannot say (or does not hold child).
 *                            Must not change anything or allocate.
 */
struct om_type {
    const char *name;  /* shown in stats, leak reports and errors       */
    size_t basic_size; /* bytes of the fixed part, header included      */
    size_t item_size;  /* bytes per item for om_new_var, else 0         */
    unsigned flags;    /* OM_TYPE_*                                     */
    int (*traverse)(om_object *o, om_visit_fn visit, void *arg);
    void (*clear)(om_object *o);
    void (*finalize)(om_object *o);
    void (*dealloc)(om_object *o);
    size_t (*sizeof_extra)(const om_object *o);
    int (*hash)(om_object *o, uint64_t *out);
    int (*eq)(om_object *a, om_object *b);
    int (*repr)(om_object *o, char *buf, size_t n);
    int (*name_referent)(om_object *o, const om_object *child, char *buf, size_t n);
};

/* --------------------------------------------------------------- creation */

/* A new object of type t (t->item_size == 0): zeroed after the header,
 * count 1, tracked by the collector when t is OM_TYPE_GC. NULL on failure
 * (OM_ENOMEM, or OM_EINVAL for a bad type). May run a collection. */
om_object *om_new(om_heap *h, const om_type *t);

/* Same with n items: basic_size + n * item_size bytes; the object must
 * start with OM_VAR_OBJECT_HEAD, and its size field is set to n. */
om_object *om_new_var(om_heap *h, const om_type *t, size_t n);

/* The heap o lives in, found from o's address. */
om_heap *om_heap_of(const om_object *o);

/* sys.getsizeof: basic size + items * item size + sizeof_extra(o). */
size_t om_sizeof(const om_object *o);

/* repr(o): write o's short text to buf like snprintf (at most n bytes,
 * NUL-terminated when n > 0; n 0 writes nothing and buf may be NULL) and
 * return the length of the whole text. The text is the type's repr slot
 * ('hello', 42, [list of 3], ...) or, for a type without one (or whose
 * slot fails), Python's default "<node object at 0x...>"; "NULL" for NULL.
 * Never fails, never allocates, and does not change o. */
size_t om_repr(om_object *o, char *buf, size_t n);

/* ------------------------------------------------------- reference counts */

/* Out of line: deallocation, underflow and freed-object reports. */
void om__decref_slow(om_object *o);
void om__incref_checked(om_object *o);
void om__decref_checked(om_object *o);

#if defined(OM_DEBUG_REFS)
/* Built with -DOM_DEBUG_REFS, every count change is checked out of line:
 * an operation on a freed object is reported when it happens. */
static inline om_object *om__incref(om_object *o)
{
    om__incref_checked(o);
    return o;
}
static inline void om__decref(om_object *o)
{
    om__decref_checked(o);
}
#else
static inline om_object *om__incref(om_object *o)
{
    if (o->refcnt < OM_IMMORTAL) o->refcnt++;
    return o;
}
/* Fast path: a count in [2, OM_IMMORTAL) is one compare and one subtract.
 * Counts of 1 (deallocate), 0 (underflow) and immortal go out of line. */
static inline void om__decref(om_object *o)
{
    uint32_t rc = o->refcnt;
    if (rc - 2u < OM_IMMORTAL - 2u) {
        o->refcnt = rc - 1u;
        return;
    }
    if (rc >= OM_IMMORTAL) return;
    om__decref_slow(o);
}
#endif

/* Add a reference to o (not NULL); returns o for chaining. */
#define om_incref(o) om__incref(OM_OBJ(o))
/* Drop a reference to o (not NULL); at zero o is deallocated now. */
#define om_decref(o) om__decref(OM_OBJ(o))

static inline om_object *om__xincref(om_object *o)
{
    if (o != NULL) om__incref(o);
    return o;
}
static inline void om__xdecref(om_object *o)
{
    if (o != NULL) om__decref(o);
}
/* om_incref that accepts NULL (Py_XINCREF); returns o. */
#define om_xincref(o) om__xincref(OM_OBJ(o))
/* om_decref that accepts NULL (Py_XDECREF). */
#define om_xdecref(o) om__xdecref(OM_OBJ(o))

/* Py_CLEAR: set *slot to NULL first, then drop the reference it held, so a
 * finalizer that runs during the drop sees NULL. slot may hold NULL. */
#define om_clear_ref(slot)                                                                         \
    do {                                                                                           \
        om_object *om__old = OM_OBJ(*(slot));                                                      \
        *(slot) = NULL;                                                                            \
        om__xdecref(om__old);                                                                      \
    } while (0)

/* The reference count (OM_IMMORTAL or more for immortal objects). */
static inline uint32_t om_refcount(const om_object *o)
{
    return o->refcnt;
}

/* 1 when o is immortal. */
static inline int om_is_immortal(const om_object *o)
{
    return o->refcnt >= OM_IMMORTAL;
}

/* Make o immortal: it is never freed, and count changes do nothing. The
 * heap still releases its memory at om_heap_destroy. */
void om_make_immortal(om_object *o);

/* ------------------------------------------------------ scoped references */

static inline void om__scope_release(void *slot)
{
    om__xdecref(*(om_object **)slot);
}

/* The seed's "use context managers", in C (gcc and clang): a variable
 * declared OM_SCOPED drops its reference when it leaves scope, on every
 * path out (return, break, goto).
 *
 *     OM_SCOPED om_object *tmp = om_new(h, &t);
 *     if (!tmp) return -1;            // nothing to drop: tmp is NULL
 *     use(tmp);
 *     return 0;                       // tmp dropped here
 *
 * To hand the reference on instead, take it out: om_object *r = tmp;
 * tmp = NULL; return r; (or OM_SCOPED_TAKE(tmp)). */
#define OM_SCOPED __attribute__((cleanup(om__scope_release)))

static inline om_object *om__scope_take(om_object **slot)
{
    om_object *o = *slot;
    *slot = NULL;
    return o;
}
/* Take the reference out of a scoped variable (which becomes NULL). */
#define OM_SCOPED_TAKE(var) om__scope_take((om_object **)&(var))

#ifdef __cplusplus
}
#endif
#endif
