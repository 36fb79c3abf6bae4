/*
 * objmem.h - Python's memory management as an embeddable C11 library.
 *
 * THE OWNERSHIP RULE. An object a function returns is a new reference:
 * you own it and drop it with om_decref. An object you pass to a function
 * is borrowed: you keep your reference. The only exceptions say so in
 * their name: a function whose name ends in _steal takes over the
 * reference you pass (also when it fails), and one whose name ends in
 * _borrow returns a borrowed reference (you do not drop it; it stays valid
 * while its container holds it).
 *
 * Errors: functions return NULL or a negative OM_E* code, and the heap
 * keeps the code and a readable message (om_errcode, om_errmsg). Like
 * errno, they describe the last failure: a call that succeeds leaves them
 * as they were, so test the return value first (om_errclear resets them).
 *
 * Layers (each header documents its part):
 *   objmem/heap.h     heaps, configuration, the memory seam, statistics
 *   objmem/alloc.h    raw blocks: arenas, pools, blocks, large blocks
 *   objmem/object.h   objects, types, reference counting
 *   objmem/gc.h       the generational cycle collector
 *   objmem/weakref.h  weak references
 *   objmem/types.h    int, float, str, tuple, list, dict, None/True/False
 *   objmem/trace.h    allocation tracing and snapshots (tracemalloc)
 */
#ifndef OBJMEM_H
#define OBJMEM_H

#define OBJMEM_VERSION_MAJOR 0
#define OBJMEM_VERSION_MINOR 1
#define OBJMEM_VERSION_PATCH 0

#include "objmem/heap.h"
#include "objmem/alloc.h"
#include "objmem/object.h"
#include "objmem/gc.h"
#include "objmem/weakref.h"
#include "objmem/trace.h"
#include "objmem/types.h"

#endif
