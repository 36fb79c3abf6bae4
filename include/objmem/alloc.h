/*
 * objmem/alloc.h - raw blocks: the small-object allocator.
 *
 * Requests up to OM_SMALL_MAX (2048) bytes are served from 16 KiB pools
 * carved from 1 MiB arenas, in 16-byte size classes up to 512 bytes and
 * 128-byte ones above; larger ones go to the seam's system allocator
 * behind a small header. All blocks are 16-byte aligned.
 * Design note: docs/alloc.md.
 *
 * Include <objmem.h>, not this file.
 */
#ifndef OBJMEM_ALLOC_H
#define OBJMEM_ALLOC_H

#include "heap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A block of at least size bytes, 16-byte aligned, contents undefined (in
 * debug mode filled with 0xCD). size 0 gives a unique pointer. NULL with
 * OM_ENOMEM when memory cannot be had, and for any size whose block, its
 * header included, would pass PTRDIFF_MAX (as glibc's malloc; the system
 * allocator is not asked). */
void *om_malloc(om_heap *h, size_t size);

/* n * size zeroed bytes; NULL with OM_EINVAL when n * size overflows. */
void *om_calloc(om_heap *h, size_t n, size_t size);

/* Resize p (NULL: om_malloc) keeping min(old, size) bytes. In place when
 * the size class does not change. On failure returns NULL and p is intact.
 * A pointer that is not a block of h fails with OM_EFOREIGN. */
void *om_realloc(om_heap *h, void *p, size_t size);

/* Give p back. NULL is a no-op. A pointer that is not a block of h is not
 * touched: it is counted in bad_frees and reported (in debug mode: a
 * report naming the pointer, then abort). */
void om_free(om_heap *h, void *p);

/* For allocators layered over another one (the CPython plug-in): when p
 * lies in one of h's arenas or is a large block of h, free it as om_free
 * does and return 1; otherwise touch nothing and return 0, so the caller
 * can hand p to the allocator that made it. One lookup, O(1), safe on any
 * pointer. NULL returns 1 (nothing to hand on). */
int om_free_if_owned(om_heap *h, void *p);

/* Bytes usable at p (at least what was requested), 0 for a foreign p. */
size_t om_usable_size(om_heap *h, const void *p);

/* 1 when p is the start of a live or free block of h (small or large),
 * else 0. O(1), and it reads no memory that may be unmapped: safe on any
 * pointer, including those of other allocators. */
int om_owns(const om_heap *h, const void *p);

/* Where a small block lives, for the tour and for tests. */
typedef struct om_block_info {
    int large;            /* 1: a large block (the fields below are 0)     */
    unsigned size_class;  /* index in stats.classes                         */
    size_t block_size;    /* bytes of the block                             */
    const void *pool;     /* its pool's start (16 KiB-aligned)             */
    const void *arena;    /* its arena                                      */
    unsigned pool_index;  /* the pool's index in its arena (1..63; 0: metadata) */
    unsigned block_index; /* the block's index in its pool                  */
} om_block_info;

/* Fill *info for block p of h; OM_EFOREIGN when p is not a block of h. */
int om_block_info_get(om_heap *h, const void *p, om_block_info *info);

#ifdef __cplusplus
}
#endif
#endif
