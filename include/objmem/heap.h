/*
 * objmem/heap.h - heaps, configuration, the memory seam, errors, statistics.
 *
 * A heap is a private, independent object memory: arenas, pools and blocks,
 * the objects in them, the collector's state and the tracer's. Heaps share
 * nothing; each may be used by one thread at a time, and different heaps by
 * different threads at once, with no locking. Two threads inside one heap
 * at once are detected on the slow paths (a collection, a large block, and
 * in debug mode every allocation and free): the program stops with a
 * report (docs/reliability.md, "Misuse"). Design note: docs/alloc.md.
 *
 * Include <objmem.h>, not this file.
 */
#ifndef OBJMEM_HEAP_H
#define OBJMEM_HEAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct om_heap om_heap;

/* ---------------------------------------------------------------- errors */

/* Every function that can fail returns NULL or a negative OM_E* code, and
 * records the code and a readable message in the heap (om_errmsg).
 * errno semantics: the record is the LAST failure's. A call that succeeds
 * does not clear it (so a hot path pays nothing), and a later failure
 * replaces it. Test the return value, then read om_errcode / om_errmsg;
 * call om_errclear first to learn whether any of a sequence of calls
 * failed. A lookup that reports absence in its return value (om_dict_find)
 * records nothing. */
enum {
    OM_OK = 0,
    OM_ENOMEM = -1,    /* the seam refused memory                        */
    OM_EINVAL = -2,    /* an argument is out of its documented domain    */
    OM_ERANGE = -3,    /* an index is out of range                       */
    OM_ETYPE = -4,     /* an object has the wrong type for the operation */
    OM_EKEY = -5,      /* a key is not present                           */
    OM_EMUTATED = -6,  /* a container changed during iteration           */
    OM_EUTF8 = -7,     /* bytes are not valid UTF-8                      */
    OM_EFORMAT = -8,   /* a file or buffer is truncated or corrupt       */
    OM_EIO = -9,       /* reading or writing a file failed               */
    OM_ESTATE = -10,   /* the heap is not in the state the call needs    */
    OM_EUNHASH = -11,  /* the object is not hashable                     */
    OM_EFOREIGN = -12, /* a pointer is not a block of this heap          */
    OM_EBUSY = -13,    /* the operation is not allowed right now         */
};

/* A static description of an OM_E* code ("out of memory", ...). */
const char *om_strerror(int code);
/* The code of the last failure in heap h (kept across later successful
 * calls, like errno), or OM_OK when none since the heap was made or since
 * om_errclear. */
int om_errcode(const om_heap *h);
/* The message of the last failure in heap h (never NULL, "" if none). */
const char *om_errmsg(const om_heap *h);
/* Forget the last failure: om_errcode gives OM_OK and om_errmsg "". */
void om_errclear(om_heap *h);

/* -------------------------------------------------------------- the seam */

/* Every request a heap makes for memory goes through these callbacks: OS
 * pages for arenas (map/unmap) and the system allocator for everything
 * else (large blocks, tables, stacks). Statistics, fault injection and
 * tracing hook in here. A callback that fails returns NULL; the heap then
 * fails the request cleanly with OM_ENOMEM.
 *   map(ctx, size, align)   size bytes of zeroed pages aligned to align
 *                           (a power of two, at least the page size)
 *   unmap(ctx, p, size)     give back what map returned
 *   malloc(ctx, size)       like malloc; size > 0
 *   realloc(ctx, p, old, size)  like realloc; old is p's requested size
 *   free(ctx, p, size)      like free; size is p's requested size
 *   purge(ctx, p, size)     optional: drop the pages of a mapped range
 */
typedef struct om_sys {
    void *ctx;
    void *(*map)(void *ctx, size_t size, size_t align);
    void (*unmap)(void *ctx, void *p, size_t size);
    void *(*malloc)(void *ctx, size_t size);
    void *(*realloc)(void *ctx, void *p, size_t old_size, size_t size);
    void (*free)(void *ctx, void *p, size_t size);
    /* Optional (NULL: never called): give back the physical pages of a
     * mapped range but keep it mapped; it must read as zeroes afterwards.
     * Used on empty arenas kept for reuse once the heap is shrinking. */
    void (*purge)(void *ctx, void *p, size_t size);
} om_sys;

/* The default seam: mmap/munmap and the C library's malloc family. */
om_sys om_sys_default(void);

/* ------------------------------------------------------------ the config */

typedef struct om_config {
    om_sys sys;         /* where memory comes from (om_sys_default())        */
    int debug;          /* 1: guard bytes, fill patterns, misuse reports     */
                        /*    (also set by the environment OBJMEM_DEBUG=1)   */
    int report_leaks;   /* 1: om_heap_destroy reports live objects and blocks */
    int gc_stress;      /* 1: a full collection at every tracked allocation  */
                        /*    (also set by the environment OBJMEM_GC_STRESS=1) */
                        /*    while automatic collection is on: none after   */
                        /*    om_gc_disable or with threshold 0              */
    size_t arena_cache; /* empty arenas kept mapped, purged, once their
                           memory has decayed (2)                            */
    long decay_ms;      /* free memory goes back to the OS after it stayed free
                           this long (1000); 0: at once; < 0: only on
                           om_heap_trim (docs/alloc.md, "Decay")            */
    /* The decay clock, in milliseconds (NULL: the monotonic clock). Any
     * monotonic count will do: one that counts allocations makes the decay
     * count allocations instead of time; tests drive it by hand. */
    uint64_t (*clock_ms)(void *clock_ctx);
    void *clock_ctx;
    uint64_t hash_seed;     /* string hash key; 0 = random per heap              */
    FILE *report_file;      /* where reports go; NULL = stderr                   */
    const char *leaks_file; /* while tracing, om_heap_destroy dumps what is  */
                            /* still live here (a snapshot for `objmem       */
                            /* snapshot top`); NULL: none (OBJMEM_LEAKS=FILE) */
} om_config;

/* Fill *cfg with the defaults, then apply the environment (OBJMEM_DEBUG,
 * OBJMEM_GC_STRESS, OBJMEM_LEAKS). */
void om_config_init(om_config *cfg);

/* A new heap configured by cfg (NULL: om_config_init's defaults), or NULL
 * when the seam cannot provide the heap's own bookkeeping. */
om_heap *om_heap_new(const om_config *cfg);

/* Run pending finalizers, report leaks if configured (report_leaks: live
 * objects by type, and while tracing live blocks by allocation traceback,
 * largest first; leaks_file: those traces as a snapshot dump), then
 * release every arena and large block of the heap. Every object and block of h is gone
 * afterwards, whatever its reference count. NULL is a no-op. Destroying a
 * heap twice is reported and left alone while its freed memory is not
 * reused (debug mode: a report and abort); using its objects afterwards
 * faults (the arenas are unmapped). */
void om_heap_destroy(om_heap *h);

/* Give every free page of h back to the OS now, as malloc_trim does: the
 * kept empty pools go back to their arenas, the free pools' pages are
 * purged, and wholly free arenas are unmapped (arena_cache of them stay
 * mapped, purged). Returns the bytes given back; 0 for a NULL heap. Free
 * memory also goes back by itself once it has stayed free for
 * om_config.decay_ms. */
size_t om_heap_trim(om_heap *h);

/* ------------------------------------------------------------ statistics */

/* Size classes: 32 of 16-byte steps (16, 32, ..., 512 bytes), then 12 of
 * 128-byte steps (640, 768, ..., 2048 bytes). */
enum { OM_NUM_CLASSES = 44 };
enum { OM_SMALL_MAX = 2048 }; /* largest request served from pools */

/* One size class: how many pools serve it and how full they are. */
typedef struct om_class_stats {
    size_t block_size;  /* bytes per block                               */
    size_t pools;       /* pools carved for this class                   */
    size_t blocks_used; /* blocks handed out                             */
    size_t blocks_free; /* blocks in those pools not handed out          */
} om_class_stats;

/* Live objects of one type (filled for the types with live objects). */
typedef struct om_type_stats {
    const char *name; /* the type's name (owned by the type)   */
    size_t count;     /* live objects                          */
    size_t bytes;     /* their om_sizeof() bytes, summed       */
} om_type_stats;

enum { OM_STATS_MAX_TYPES = 64 };

/* One free list of the built-in types (objmem/types.h). */
typedef struct om_freelist_stats {
    const char *name; /* "float", "tuple" (lengths 1..20 together), "list", "dict" */
    size_t size;      /* objects parked now                    */
    size_t bound;     /* most it keeps                         */
    size_t hits;      /* creations it served                   */
    size_t misses;    /* creations that went to the allocator  */
} om_freelist_stats;

enum { OM_STATS_MAX_FREELISTS = 8 };

typedef struct om_heap_stats {
    /* allocator */
    size_t bytes_in_use;          /* bytes of blocks handed out (block sizes; summed
                                     from the pools when asked, not kept per call)  */
    size_t peak_bytes;            /* highest bytes held for blocks since the heap was
                                     made: pools in use (16 KiB each) + large blocks'
                                     bytes; >= the peak of bytes_in_use            */
    size_t requested;             /* bytes asked for, of blocks handed out (kept in
                                     debug mode only, where blocks record it; else 0) */
    size_t arenas;                /* arenas mapped now                               */
    size_t arenas_peak;           /* most arenas mapped at once                      */
    size_t arenas_cached;         /* of those, wholly empty ones kept for reuse      */
    size_t arenas_mapped_total;   /* arenas ever mapped                       */
    size_t arenas_unmapped_total; /* arenas ever given back to the OS         */
    size_t os_bytes;              /* bytes mapped from the OS for arenas now         */
    size_t pools_used;            /* pools serving a size class                      */
    size_t pools_free;            /* pools of mapped arenas serving none             */
    size_t large_blocks;          /* blocks over OM_SMALL_MAX (system allocator)     */
    size_t large_bytes;           /* their requested bytes                           */
    size_t sys_bytes;             /* bytes held from the system allocator, all uses  */
    size_t bad_frees;             /* frees refused: pointers that are not live block
                                     starts of h (foreign, interior, arena metadata,
                                     other heaps' blocks, blocks already free)      */
    size_t raw_blocks;            /* raw blocks handed out (om_malloc), small + large */
    om_class_stats classes[OM_NUM_CLASSES];
    /* objects */
    size_t objects;         /* live objects                                    */
    size_t total_refs;      /* sum of the counts of live mortal objects (like
                               sys.gettotalrefcount); filled in debug mode      */
    size_t heap_objects;    /* of objects, those the heap itself holds: the
                               built-in singletons, caches and free lists       */
    size_t heap_raw_blocks; /* of raw_blocks, those the heap itself holds      */
    size_t ntypes;          /* entries used in types[]                          */
    om_type_stats types[OM_STATS_MAX_TYPES];
    /* built-in types (objmem/types.h) */
    size_t small_ints;     /* cached small ints (-5..256)                      */
    size_t cached_objects; /* immortal built-in singletons, small ints included */
    size_t interned;       /* strings in the intern table                      */
    size_t nfreelists;     /* entries used in freelists[]                      */
    om_freelist_stats freelists[OM_STATS_MAX_FREELISTS];
} om_heap_stats;

/* Fill *st with the heap's statistics (walks the arenas: O(pools)). */
void om_heap_get_stats(om_heap *h, om_heap_stats *st);

/* Print the sys._debugmallocstats() view: one row per size class, then the
 * totals, fragmentation, arenas, large blocks, objects per type, and the
 * other layers' summaries. out NULL = stdout. */
void om_heap_print_stats(om_heap *h, FILE *out);

/* Print the heap's statistics as one JSON object and a newline, for
 * monitoring and for comparing runs. out NULL = stdout. The numbers are
 * exactly those of the public structs:
 *   "allocator": om_heap_stats' allocator fields, and "classes": one
 *                {class, block_size, pools, blocks_used, blocks_free} each
 *   "arenas":    {count, peak, cached, mapped_total, unmapped_total, os_bytes}
 *   "objects":   {live, heap_objects, heap_raw_blocks, total_refs,
 *                 "types": [{name, count, bytes}]}
 *   "types":     {small_ints, cached_objects, interned,
 *                 "freelists": [{name, size, bound, hits, misses}]}
 *   "gc":        {enabled, frozen, garbage, "generations": 3 x {count,
 *                 threshold, collections, collected, uncollectable, pause_ns}}
 *   "trace":     {tracing} and, while tracing, {traceback_limit,
 *                 traced_bytes, traced_peak, tracer_bytes}
 * Returns 0, OM_EINVAL for a NULL heap, or OM_EIO when writing failed. */
int om_heap_print_stats_json(om_heap *h, FILE *out);

/* Walk every structure of h and verify the invariants written above them.
 * Returns 0 when all hold, else a negative code after writing what broke
 * to the report file. In debug mode it also checks guard bytes of live
 * blocks and the dead pattern of free blocks. */
int om_heap_check(om_heap *h);

#ifdef __cplusplus
}
#endif
#endif
