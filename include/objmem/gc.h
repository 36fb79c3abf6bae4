/*
 * objmem/gc.h - the cycle collector and the gc module's API.
 * Design note: docs/gc.md. Include <objmem.h>, not this file.
 */
#ifndef OBJMEM_GC_H
#define OBJMEM_GC_H

#include "object.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Objects of OM_TYPE_GC types are tracked from creation. Untrack an object
 * that cannot be part of a cycle (it holds no references) to spare the
 * collector the work; track it again when that changes. Both are no-ops
 * when already in that state; tracking a non-GC object fails (OM_ETYPE). */
void om_gc_track(om_object *o);
void om_gc_untrack(om_object *o);
int om_gc_is_tracked(const om_object *o);

#ifdef __cplusplus
}
#endif
#endif
