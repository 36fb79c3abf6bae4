/*
 * objmem/weakref.h - weak references: a reference that does not keep its
 * referent alive. Design note: docs/gc.md ("Weak references").
 * Include <objmem.h>, not this file.
 *
 * Weak references cost the referent no header bytes: the heap keeps a side
 * table from referent to its weak references, and one flag bit in the
 * referent's gc word says it has an entry.
 */
#ifndef OBJMEM_WEAKREF_H
#define OBJMEM_WEAKREF_H

#include "object.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Called once when the referent of wr dies (wr is borrowed, already
 * cleared: om_weakref_get returns NULL). Runs after every weak reference
 * to the dying object (and, in a collection, to every unreachable object)
 * has been cleared. In a collection, only callbacks of weak references
 * that are themselves reachable run (CPython's handle_weakrefs rule). */
typedef void (*om_weakref_callback)(om_object *wr, void *ctx);

/* A new weak reference to referent (whose type must be
 * OM_TYPE_WEAKREFABLE, else NULL with OM_ETYPE) of heap h (else NULL with
 * OM_EINVAL: the referent's death would not clear it). The weak reference
 * is a GC object; callback may be NULL; ctx is passed to it untouched.
 * NULL with OM_ENOMEM. May run a collection. */
om_object *om_weakref_new(om_heap *h, om_object *referent, om_weakref_callback callback, void *ctx);
/* The referent as a new reference, or NULL when it is gone (or wr is not
 * a weak reference: OM_ETYPE recorded). */
om_object *om_weakref_get(om_object *wr);
/* Number of weak references to o (weakref.getweakrefcount). */
size_t om_weakref_count(const om_object *o);
/* weakref.getweakrefs(o): the weak references to o, newest first, as a new
 * array of new references (give it back with om_gc_list_free); *n is its
 * length, 0 for an object nothing refers to weakly (or that is not
 * weakrefable). NULL with OM_ENOMEM. */
om_object **om_weakref_get_all(om_heap *h, const om_object *o, size_t *n);
/* weakref.__callback__: the callback wr was made with, and (when ctx is
 * not NULL) its context in *ctx. Both read back NULL once the referent has
 * died (also inside the callback, as CPython clears __callback__ before
 * calling it), or when wr is not a weak reference (OM_ETYPE recorded). */
om_weakref_callback om_weakref_get_callback(om_object *wr, void **ctx);
/* 1 when o is a weak reference object. */
int om_is_weakref(const om_object *o);

#ifdef __cplusplus
}
#endif
#endif
