/*
 * object.c - objects: creation, the heap of an object, sizes, immortality,
 * and the out-of-line parts of reference counting (the count reaching
 * zero, underflow, and the checked variants of -DOM_DEBUG_REFS).
 * Design note: docs/object.md.
 */
#include <stdlib.h>

#include "internal/gc_fast.h"

/* Zero the n bytes after o's header. Small multiples of 8 (the usual
 * object bodies) are a few word stores, with no memset call; the rest goes
 * to memset. Exactly n bytes: a debug-mode block's guard follows them. */
static inline void zero_body(om_object *o, size_t n)
{
    uint64_t *w = (uint64_t *)(o + 1);
    if (om__unlikely(n > 48 || (n & 7))) {
        memset(w, 0, n);
        return;
    }
    switch (n >> 3) { /* fall through: stores from the last word down */
    case 6:
        w[5] = 0; /* fall through */
    case 5:
        w[4] = 0; /* fall through */
    case 4:
        w[3] = 0; /* fall through */
    case 3:
        w[2] = 0; /* fall through */
    case 2:
        w[1] = 0; /* fall through */
    case 1:
        w[0] = 0; /* fall through */
    default:
        break;
    }
}

/* The creation path of om_new and om_new_var: the pool fast path inlined
 * (om__obj_block_alloc), the header's count and gc word written together
 * (adjacent stores the compiler merges), the body zeroed without a memset
 * call for small objects, and the LARGE/DEBUG/TRACED bits computed only
 * when the heap has hooks or the block is large. */
static inline __attribute__((always_inline)) om_object *new_object(om_heap *h, const om_type *t,
                                                                   size_t size)
{
    int gc = (t->flags & OM_TYPE_GC) != 0;
    if (om__unlikely(gc && !t->traverse))
        return om__err_null(h, OM_EINVAL, "type %s is OM_TYPE_GC but has no traverse", t->name);
    om_object *o = om__obj_block_alloc(h, size, gc ? OM_KIND_GC : OM_KIND_OBJ);
    if (om__unlikely(!o)) return NULL;
    o->refcnt = 1;
    o->gc = om__gcw_birth(h, size);
    o->type = t;
    zero_body(o, size - sizeof(om_object));
    if (gc) om__gc_track_new(h, o);
    return o;
}

/* 1 when a program's type sets a flag bit objmem keeps for its own types. */
static inline int foreign_flags(unsigned flags)
{
    return (flags & OM_TYPE__INTERNAL_BITS) && !(flags & OM_TYPE__BUILTIN);
}

static int bad_type(om_heap *h, const om_type *t)
{
    if (!t) return om__err(h, OM_EINVAL, "om_new: the type is NULL");
    if (t->basic_size < sizeof(om_object))
        return om__err(h, OM_EINVAL, "type %s: basic_size %zu is smaller than the header",
                       t->name ? t->name : "?", t->basic_size);
    if (foreign_flags(t->flags))
        return om__err(h, OM_EINVAL,
                       "type %s: flags 0x%x set bits objmem keeps for its own types (0x%x)",
                       t->name ? t->name : "?", t->flags, OM_TYPE__INTERNAL_BITS);
    return 0;
}

/* om_new past its fast path: every check, any type, any heap. */
static om__noinline om_object *new_slow(om_heap *h, const om_type *t)
{
    if (bad_type(h, t)) return NULL;
    if (t->item_size)
        return om__err_null(h, OM_EINVAL, "type %s has items: use om_new_var", t->name);
    return new_object(h, t, t->basic_size);
}

/* The fast paths' zeroing: the whole block after o's header, bsize - 16
 * bytes (0, 16, 32 or 48), in pairs of word stores with no jump table.
 * The block was opened whole (pop_object); under valgrind its tail past
 * the object's size goes back to no access, as the exact paths leave it. */
static inline void zero_block_body(om_object *o, size_t size, size_t bsize)
{
    uint64_t *w = (uint64_t *)(o + 1);
    /* bsize is size rounded up to 16: the tests on size say the same */
    if (size > 16) {
        w[0] = w[1] = 0;
        if (size > 32) {
            w[2] = w[3] = 0;
            if (size > 48) w[4] = w[5] = 0;
        }
    }
    om__vg_noaccess((char *)o + size, bsize - size);
    (void)size;
}

/* The fast paths' block: a fresh object of type t and size bytes (16..64)
 * from the head pool of (kind, class), with count 1, gc
 * word 0 and a zeroed body; NULL when no pool of the class has a free
 * block. The pool that gave its last block leaves its list here, before
 * anything (a GC object's tracking) may allocate. *poolp: the pool. */
static inline __attribute__((always_inline)) om_object *
pop_object(om_heap *h, const om_type *t, unsigned kind, size_t size, om__pool **poolp)
{
    size_t cls = (size - 1) >> 4;
    om__pool *pool = h->alloc.avail[kind][cls];
    if (om__unlikely(pool == NULL)) return NULL;
    int last;
    om_object *o = (om_object *)om__pool_take(h, pool, &last);
    om__vg_undefined(o, (cls + 1) << 4);
    o->refcnt = 1;
    o->gc = 0;
    o->type = t;
    zero_block_body(o, size, (cls + 1) << 4);
    *poolp = pool;
    if (om__unlikely(last)) return om__pool_exhausted(h, pool, o);
    return o;
}

/* 1 when om_new of t on h may take a fast path: a fixed-size type whose
 * basic_size is 16..64 bytes (so it passes bad_type's size test, and its
 * block is at most 4 pairs of words) on a heap without hooks. Its flags
 * are tested next: none (a plain type's fast path) or new_gc_fast's. */
static inline int fast_type(const om_heap *h, const om_type *t)
{
    size_t size = t->basic_size;
    return (h->hooks | t->item_size) == 0 && size - sizeof(om_object) <= 48;
}

/* The fast path of a type with flags: a GC type with a traverse, tracked
 * in generation 0 once made (which may run a collection: the new object
 * is alive, count 1); anything else (a flag of objmem's own types, a GC
 * type without traverse, a flag that is not GC) takes new_slow. */
static om__noinline om_object *new_gc_fast(om_heap *h, const om_type *t)
{
    if (om__unlikely(!(t->flags & OM_TYPE_GC) || !t->traverse || foreign_flags(t->flags)))
        return new_slow(h, t);
    om__pool *pool;
    om_object *o = pop_object(h, t, OM_KIND_GC, t->basic_size, &pool);
    if (om__unlikely(!o)) return new_slow(h, t);
    if (om__likely(om__gc_track_young(h, pool, o))) return o;
    return om__gc_track_new_tail(h, o);
}

/* The fast path of a plain type is a leaf: the pop of om__pool_pop_fast
 * written out, so the pool is at hand for the unlink. */
om_object *om_new(om_heap *h, const om_type *t)
{
    if (om__unlikely(t == NULL || !fast_type(h, t))) return new_slow(h, t);
    if (t->flags & (OM_TYPE_GC | OM_TYPE__INTERNAL_BITS)) return new_gc_fast(h, t);
    om__pool *pool;
    om_object *o = pop_object(h, t, OM_KIND_OBJ, t->basic_size, &pool);
    if (om__unlikely(!o)) return new_slow(h, t);
    return o;
}

om_object *om_new_var(om_heap *h, const om_type *t, size_t n)
{
    size_t size;
    if (bad_type(h, t)) return NULL;
    if (t->basic_size < sizeof(om_var_object))
        return om__err_null(h, OM_EINVAL, "type %s: a var type must start with OM_VAR_OBJECT_HEAD",
                            t->name);
    if (__builtin_mul_overflow(n, t->item_size, &size) ||
        __builtin_add_overflow(size, t->basic_size, &size))
        return om__err_null(h, OM_ENOMEM, "type %s: %zu items overflow", t->name, n);
    om_object *o = new_object(h, t, size);
    if (o) ((om_var_object *)o)->size = n;
    return o;
}

om_heap *om_heap_of(const om_object *o)
{
    return om__heap_of(o);
}

size_t om_sizeof(const om_object *o)
{
    const om_type *t = o->type;
    size_t n = t->basic_size;
    if (t->item_size) n += ((const om_var_object *)o)->size * t->item_size;
    if (t->sizeof_extra) n += t->sizeof_extra(o);
    return n;
}

void om_make_immortal(om_object *o)
{
    o->refcnt = OM_IMMORTAL;
}

/* ------------------------------------------------------ count misuse */

/* A count operation on something that is not a live object: in debug mode
 * a report and abort; otherwise a message, and the object is left alone. */
om__cold void om__count_misuse(om_object *o, const char *op)
{
    om_heap *h = om_heap_of(o);
    int live = om__object_is_live(h, o);
    const char *problem =
        live ? "reference count below zero" : "reference operation on a freed object";
    if (h->hooks & OM_HOOK_DEBUG) {
        /* a freed small object block keeps its type pointer (debug.c) */
        const om_type *t = live || om__arena_of_ptr(&h->alloc, o) ? o->type : NULL;
        fprintf(h->report, "objmem: debug: %s: %s on object %p of type %s%s\n", problem, op,
                (void *)o, t && t->name ? t->name : "(unknown)", live ? "" : " (freed)");
        om__dbg_report(h, problem, o, op);
    }
    fprintf(h->report, "objmem: %s: %s on object %p; left alone\n", problem, op, (void *)o);
    om__err(h, OM_ESTATE, "%s: %s on object %p", problem, op, (void *)o);
}

void om__incref_checked(om_object *o)
{
    if (o->refcnt == 0 || !om__object_is_live(om_heap_of(o), o))
        return om__count_misuse(o, "om_incref");
    if (o->refcnt < OM_IMMORTAL) o->refcnt++;
}

void om__decref_checked(om_object *o)
{
    if (o->refcnt == 0 || !om__object_is_live(om_heap_of(o), o))
        return om__count_misuse(o, "om_decref");
    om__decref_slow(o);
}
_Static_assert(sizeof(om_object) == 16 || sizeof(void *) != 8, "the object header is 16 bytes");
