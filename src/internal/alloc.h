/*
 * alloc.h - the small-object allocator's structures: arenas, pools,
 * blocks, large blocks and the debug-mode block layout.
 * Design note: docs/alloc.md. Never installed.
 */
#ifndef OM_INTERNAL_ALLOC_H
#define OM_INTERNAL_ALLOC_H

#include <stdatomic.h>

#include "om.h"

#define OM_ARENA_SHIFT     20
#define OM_ARENA_SIZE      ((size_t)1 << OM_ARENA_SHIFT) /* 1 MiB, aligned to its size  */
#define OM_POOL_SHIFT      14
#define OM_POOL_SIZE       ((size_t)1 << OM_POOL_SHIFT) /* 16 KiB, aligned to its size */
#define OM_CARVE_PAGE      ((uintptr_t)4096) /* never-used blocks are carved a page at a time */
#define OM_POOLS_PER_ARENA (OM_ARENA_SIZE / OM_POOL_SIZE) /* 64 */
#define OM_GRANULE         16                             /* alignment, class step */
#define OM_POOL_GRANULES   (OM_POOL_SIZE / OM_GRANULE)    /* 1024 */
#define OM_BM_WORDS        (OM_POOL_GRANULES / 64)        /* 16 words per bitmap */

/* Pool kinds. Objects live apart from raw blocks so that every object of
 * the heap can be enumerated (leak reports, per-type counts); GC objects
 * live apart from the others so a collection walks only them. */
enum { OM_KIND_RAW = 0, OM_KIND_OBJ = 1, OM_KIND_GC = 2, OM_NKINDS = 3 };

/* Size classes (docs/alloc.md, "Size classes"): fine ones of 16-byte
 * steps up to OM_FINE_MAX, whose class the fast paths compute as
 * (size - 1) >> 4, then medium ones of OM_MEDIUM_STEP bytes up to
 * OM_SMALL_MAX (requests 513..2048: the slow path). */
#define OM_FINE_MAX     512
#define OM_FINE_CLASSES 32
#define OM_MEDIUM_STEP  128
_Static_assert(OM_FINE_CLASSES *OM_GRANULE == OM_FINE_MAX, "fine classes end at OM_FINE_MAX");
_Static_assert(OM_NUM_CLASSES == OM_FINE_CLASSES + (OM_SMALL_MAX - OM_FINE_MAX) / OM_MEDIUM_STEP,
               "medium classes end at OM_SMALL_MAX");

/* The class of a request of size <= OM_SMALL_MAX bytes (0 shares class 0). */
static inline unsigned om__size_class(size_t size)
{
    if (size <= OM_FINE_MAX) return (unsigned)((size - (size != 0)) >> 4);
    return OM_FINE_CLASSES + (unsigned)((size - OM_FINE_MAX - 1) / OM_MEDIUM_STEP);
}
static inline size_t om__class_size(unsigned cls)
{
    if (cls < OM_FINE_CLASSES) return ((size_t)cls + 1) << 4;
    return OM_FINE_MAX + ((size_t)cls - OM_FINE_CLASSES + 1) * OM_MEDIUM_STEP;
}

/* A free block, as the free lists see it.
 *
 * Invariant (the refcount word of a freed object block): the allocator
 * never writes the first word of a free object block (a raw block in the
 * raw block cache links through it: heap.h). The free-list link lives in
 * the second word (every block is at least OM_GRANULE = 16 bytes). So an
 * object block keeps the refcnt (0) and gc word its object died with until
 * the block is handed out again, and an om_decref of a freed, not yet
 * reused object reaches om__decref_slow (count 0) and is reported with
 * OM_ESTATE instead of decrementing a free-list pointer (docs/object.md,
 * "What is detected"). Fast paths that push or pop free object blocks
 * must keep this: read and write only `next` (only the raw block cache,
 * which holds raw blocks alone, links through `keep`). In debug mode the block starts with the
 * debug prefix, whose second word (state, kind, guard) holds the link while
 * free (debug.c marks the freed block in the first word instead). */
typedef struct om__block {
    uint64_t keep;          /* objects: never written while free (refcnt + gc);
                               raw blocks: the raw block cache's link        */
    struct om__block *next; /* free-list link                                    */
} om__block;
_Static_assert(offsetof(om__block, next) == 8 && sizeof(om__block) <= OM_GRANULE,
               "the link is the second word of the smallest block");

typedef struct om__arena om__arena;

/* The layout of an arena (docs/alloc.md, "Pool descriptors"): its first
 * 16 KiB, pool 0, is metadata and holds no blocks: the 64 pool descriptors
 * (om__pool, 128 bytes each, at base + 128 * i; descriptor 0 is not a pool:
 * it is the arena's head, om__arena_head below, whose heap field is zero),
 * then the 64 alloc bitmaps (128 bytes each, at base + 8 KiB + 128 * i:
 * raw pools' live bits, and object pools' on debug heaps; pool 0's is
 * never written). Pools 1..63 hold blocks from their first byte, except GC
 * pools, which start with their generation bitmaps (om__gcbits). So the
 * descriptors that the fast paths read are dense: the hot lines of all 63
 * pools of an arena are 8 KiB in a row, a free reads a line that stays
 * cached and a page that stays in the TLB, instead of a header at the start
 * of each 16 KiB pool (round 1 to 0.2: 63 lines 16 KiB apart, all in the
 * same few cache sets; bench/RESULTS.md, "Dense pool descriptors"). */
#define OM_POOL_FIRST  1                                    /* pool 0 is the metadata */
#define OM_ARENA_POOLS (OM_POOLS_PER_ARENA - OM_POOL_FIRST) /* 63 pools of blocks     */
#define OM_POOL_DESC   128                                  /* bytes per descriptor   */
#define OM_META_ABM    (OM_POOLS_PER_ARENA * OM_POOL_DESC)  /* alloc bitmaps: 8 KiB on */
_Static_assert(OM_META_ABM + OM_POOLS_PER_ARENA * OM_BM_WORDS * 8 == OM_POOL_SIZE,
               "descriptors and alloc bitmaps fill pool 0");

/* A pool: 16 KiB of blocks of one size class and one kind, described by
 * its descriptor in the arena's metadata (above). Bitmaps are indexed by
 * granule ((addr - pool start) / 16), so a set bit names an object's
 * address directly.
 *
 * Free lists: a free block holds the link to the next free block in its
 * second word (om__block). Links are stored xor-ed with the heap's key
 * (om__alloc.key), and every list ends at om__pool_term(pool), the pool's
 * start + 8, never at NULL: an address inside the pool that no block
 * starts at (blocks are 16-byte aligned), so the fast paths test the end
 * of a list by its bit 3 (om__is_term). So the link word of a free object
 * block decodes to an address inside its own pool, and a live object's
 * (its type pointer) never does (the key has its top bit set): that is how
 * an object's free sees a double free without a bitmap (invariant 4). Raw
 * blocks, whose words belong to their owners, have live bits (invariant 7).
 *
 * Invariants:
 *  1. nalloc counts blocks handed out; nalloc <= capacity. A pool whose
 *     nalloc drops to 0 goes back to its arena's free pools (but see 3).
 *  2. Free blocks are the ones on the free list (or, for a kept empty pool,
 *     the stash) plus those in [bump, limit) (never used yet; limit is
 *     om__pool_limit): nalloc + len(free or stash) + (limit - bump) /
 *     bsize == capacity. An empty list is om__pool_term(pool).
 *  3. on_avail says whether the pool is on the avail list of its (kind,
 *     class), and it is exactly when its free list is not empty: the fast
 *     paths pop the head without a test, and the pop that takes a pool's
 *     last free block takes the pool off (om__pool_exhausted); a full pool
 *     that gets a block back goes to the front (pool.c, avail_push: the
 *     block just freed is the next one handed out). The list is doubly
 *     linked, but the head's prev is not kept (stale), so the head leaves
 *     with one store to the list head and none to the pool after it; every
 *     other pool's prev is its predecessor. A pool whose nalloc
 *     drops to 0 is kept instead of retired when it was the sole pool of
 *     its list and its arena has another pool in use (so a loop at the
 *     boundary does not retire the pool and carve it again): such a kept
 *     pool (kept = 1, heap->alloc.kept[kind][class]) parks its free list
 *     in stash and is off its list, and the slow path takes it back when
 *     the list is empty, keeping arena->nempty. Once the heap shrinks (the
 *     arena cache overflows, decay, om_heap_trim) kept pools go back to
 *     their arenas. Never-used blocks are carved a page (OM_CARVE_PAGE)
 *     at a time, when the free list runs out (pool.c carve_page, from
 *     om__pool_exhausted): so an empty free list outside a kept pool means
 *     bump == limit, a full pool.
 *  4. Object kinds: a block below bump is free exactly when its link word
 *     (an object's type pointer while it lives) decodes to an address in
 *     the pool (om__obj_block_is_free; a type pointer decodes with the
 *     key's top bit set), so liveness needs no bitmap and the creation and
 *     free fast paths touch no second cache line. Debug-mode heaps, whose
 *     blocks carry a prefix and fill patterns, keep the alloc bitmap
 *     instead (om__pool_abm: a bit for every live object, at the object's
 *     address after the prefix), set and cleared on their (slow) paths.
 *     GC kind: tracked has a bit for each tracked live object (frozen
 *     ones included), young and middle are subsets of tracked, disjoint
 *     (om__pool_gcb); the pool is on the heap's young
 *     (middle) list when it may have young (middle) bits. A full
 *     collection sweeps tracked, so untracked objects (atomic tuples and
 *     dicts) cost it nothing.
 *  5. heap is the owner while the pool is carved and NULL while it is free
 *     or was never carved. Descriptors live in the metadata, which is
 *     never poisoned, purged while the arena has a pool in use, or handed
 *     out, so a free can read the first line for any pointer the ownership
 *     map (om__amap) places in an arena, before it knows the pool is
 *     carved; a pointer into the metadata reads descriptor 0, whose heap is
 *     NULL (a purge of a wholly free arena zeroes every descriptor: all
 *     free). om_free's fast path reads the arena's head instead
 *     (om__arena_head, below), which says the same for raw pools.
 *  6. span == capacity * bsize; divmagic == UINT64_MAX / bsize + 1, so that
 *     an offset n < span from the first block is a block start exactly
 *     when n * divmagic <= divmagic - 1 (Lemire, Kaser, Kurz, "Faster
 *     remainder by direct computation", 2019): one multiplication.
 *  7. RAW kind: the alloc bitmap (om__pool_abm, unused by raw pools
 *     otherwise) has the bit of a block's first granule set exactly while
 *     the block is handed out: not on the free list or in the stash, not
 *     in the raw block cache (heap.h), below bump, and not one of objmem's
 *     own blocks (heap.h, "Own blocks": a list's items, a dict's table,
 *     which have none on heaps without debug mode). Every path that hands
 *     a raw block out to the program sets it (om__malloc_inline,
 *     om__tc_take, pool.c pool_pop); om_free's paths clear it
 *     (om__free_fast, om__pool_free_slow). Raw blocks start at the
 *     pool's start and their sizes are multiples of 16, so a 16-aligned
 *     pointer whose bit is set is a live block start: om_free's whole
 *     validation after the ownership map, with no read of the block
 *     itself, whose line is cold in a random free (a load the free must
 *     wait for: 15.9 -> 13.6 ns per churn pair, bench/RESULTS.md). The bit
 *     is found from the address alone (om__raw_bit_word). A wholly free
 *     arena's purge zeroes the bitmaps with the descriptors: all free.
 */
typedef struct om__pool {
    om__block *free;       /* free list of used-before blocks        */
    uint64_t spare;        /* unused: descriptor 0's is the arena
                              head's raw_owner (om__arena_head)      */
    uint64_t divmagic;     /* UINT64_MAX / bsize + 1 (invariant 6)   */
    uint32_t nalloc;       /* blocks handed out                      */
    uint32_t span;         /* capacity * bsize: bytes of blocks      */
    om_heap *heap;         /* owner: om_heap_of() reads this; NULL
                              while the pool is free (invariant 5)   */
    uint32_t bsize;        /* block size in bytes                    */
    uint32_t capacity;     /* blocks in the pool                     */
    struct om__pool *next; /* avail list of (kind, class): line 1,
                              as a free into a full pool pushes it */
    uint8_t cls;           /* size class                             */
    uint8_t kind;          /* OM_KIND_* (first cache line: om_free)  */
    uint8_t on_avail;      /* on the avail list of (kind, class)     */
    uint8_t on_gen[2];     /* on the heap's young / middle lists     */
    uint8_t kept;          /* a kept empty pool (invariant 3)        */
    /* ---- 64 bytes: the first cache line ends here */
    om__block *stash;             /* kept empty pool: its free list         */
    char *bump;                   /* next never-used block                  */
    struct om__pool *prev;        /* avail list; stale in the head          */
    uint64_t kept_at;             /* kept: the last sweep's time before     */
    struct om__pool *gen_next[2]; /* young / middle list links              */
    struct om__pool *gen_prev[2];
} om__pool;

#define OM_POOL_LINE 64 /* the descriptor's first line: what om_free reads */
_Static_assert(offsetof(om__pool, kept) < OM_POOL_LINE, "om_free reads the first line only");
_Static_assert(offsetof(om__pool, stash) == OM_POOL_LINE, "the first line is full");
_Static_assert(sizeof(om__pool) == OM_POOL_DESC, "a descriptor is two lines");

/* The generation bitmaps at the start of a GC pool (invariant 4). */
typedef struct om__gcbits {
    uint64_t young[OM_BM_WORDS];   /* generation 0                 */
    uint64_t middle[OM_BM_WORDS];  /* generation 1                 */
    uint64_t tracked[OM_BM_WORDS]; /* tracked (any generation)     */
} om__gcbits;

/* The descriptor of the pool holding address p (p in a mapped arena): the
 * arena's base plus 128 * the pool's index. */
static inline om__pool *om__pool_of(const void *p)
{
    uintptr_t u = (uintptr_t)p;
    return (om__pool *)((u & ~(uintptr_t)(OM_ARENA_SIZE - 1)) +
                        ((u >> (OM_POOL_SHIFT - 7)) & ((OM_POOLS_PER_ARENA - 1) << 7)));
}
_Static_assert(OM_POOL_DESC == 1 << 7, "om__pool_of shifts by 7");
/* The descriptor of the pool that starts at 16 KiB-aligned address base. */
static inline om__pool *om__pool_at(const char *base)
{
    return om__pool_of(base);
}
/* The pool's index in its arena (1..63; 0 is the metadata). */
static inline unsigned om__pool_index(const om__pool *pool)
{
    return (unsigned)(((uintptr_t)pool & (OM_ARENA_SIZE - 1)) / OM_POOL_DESC);
}
/* The pool's 16 KiB-aligned start and its end. */
static inline char *om__pool_start(const om__pool *pool)
{
    uintptr_t u = (uintptr_t)pool;
    return (char *)((u & ~(uintptr_t)(OM_ARENA_SIZE - 1)) +
                    ((size_t)om__pool_index(pool) << OM_POOL_SHIFT));
}
static inline char *om__pool_end(const om__pool *pool)
{
    return om__pool_start(pool) + OM_POOL_SIZE;
}
/* The alloc bitmap of a pool, in the metadata (invariants 4 and 7). */
static inline uint64_t *om__pool_abm(const om__pool *pool)
{
    return (uint64_t *)(void *)((char *)(uintptr_t)pool + OM_META_ABM);
}

/* The word of om__pool_abm(om__pool_of(p)) that holds the bit of p's
 * granule, from p's address alone: the arena's base, + 8 KiB, + 128 * the
 * pool's index (bits 14-19 of p), + 8 * the granule's word (bits 10-13):
 * bits 10-19 of p shifted down 7, one mask. */
static inline uint64_t *om__raw_bit_word(const void *p)
{
    uintptr_t u = (uintptr_t)p; /* + where | would do: the constant folds into the address */
    return (uint64_t *)((u & ~(uintptr_t)(OM_ARENA_SIZE - 1)) + OM_META_ABM +
                        ((u >> 7) & ((OM_POOLS_PER_ARENA << 7) - 8)));
}
/* p's bit in that word: its granule's number modulo 64. */
static inline uint64_t om__raw_bit(const void *p)
{
    return (uint64_t)1 << (((uintptr_t)p >> 4) & 63);
}
/* A raw block b is handed out / comes back (invariant 7). */
static inline void om__raw_bit_set(void *b)
{
    *om__raw_bit_word(b) |= om__raw_bit(b);
}
static inline void om__raw_bit_clear(void *b)
{
    *om__raw_bit_word(b) &= ~om__raw_bit(b);
}
static inline int om__raw_bit_test(const void *b)
{
    return (*om__raw_bit_word(b) & om__raw_bit(b)) != 0;
}
/* Clear b's bit if it is set: 1 when it was (om_free's test and clear).
 * On x86-64 one btr, whose carry is the old bit and whose bit number is
 * taken modulo 64 by the instruction itself (no mask); elsewhere shifts. */
static inline int om__raw_bit_take(void *b)
{
    uint64_t *w = om__raw_bit_word(b), v = *w;
    uint64_t s = (uintptr_t)b >> 4;
#if defined(__x86_64__) && defined(__GCC_ASM_FLAG_OUTPUTS__)
    int was;
    __asm__("btrq %2, %0" : "+r"(v), "=@ccc"(was) : "r"(s));
    if (!was) return 0;
    *w = v;
#else
    if (!((v >> (s & 63)) & 1)) return 0;
    *w = v & ~((uint64_t)1 << (s & 63));
#endif
    return 1;
}
/* The generation bitmaps of a GC pool, at its start. */
static inline om__gcbits *om__pool_gcb(const om__pool *pool)
{
    return (om__gcbits *)(void *)om__pool_start(pool);
}
/* The generation bitmaps of the GC pool holding address p. */
static inline om__gcbits *om__gcb_of(const void *p)
{
    return (om__gcbits *)((uintptr_t)p & ~(uintptr_t)(OM_POOL_SIZE - 1));
}
/* The arena's head, in the place of descriptor 0 (which is no pool): all
 * that om_free's fast path reads of an arena (docs/alloc.md, "The fast
 * paths"), two lines per arena, where a descriptor's first line per pool
 * was read before: a churn of 7 MiB of blocks read 450 descriptor lines
 * (29 KiB, 0.65 L1 misses per free) and now reads 14 (bench/RESULTS.md,
 * "The arena's head").
 *
 * Invariants:
 *  1. raw_cls[i] is 1 + the class of pool i while pool i is a carved RAW
 *     pool, and 0 otherwise: pool 0 (the metadata), free and never-carved
 *     pools, object pools. Written when a pool is carved (pool.c
 *     pool_init) and given back (arena.c om__arena_give_pool). The fast
 *     path does not test it for 0: the bit it tests next is clear in all
 *     those pools (pool invariant 7: raw pools' live bits are the only
 *     bits a heap without hooks keeps in the alloc bitmaps, and pool 0's
 *     bitmap is never written), so it only indexes the caches with it.
 *  2. raw_owner is the arena's heap while the heap has no hook on, and
 *     NULL while one is, in every arena with a pool in use: written when
 *     a pool is taken (om__arena_take_pool) and when the hooks change
 *     (om__alloc_set_hooks). So "a pool of h, no hook" is one compare, and
 *     a free of a block of another heap fails it.
 *  3. zero stays zero: it holds om__pool's heap field, so a pointer into
 *     the metadata reads descriptor 0 as "no heap" (pool invariant 5).
 *  4. arena is the arena whenever one of its pools is carved (arena
 *     invariant 1). A purge of a wholly free arena zeroes the head with the
 *     rest of the metadata: every pool free, no owner (invariants 2 and 4
 *     hold again once a pool is taken). */
typedef struct om__arena_head {
    om__arena *arena;                    /* the arena's descriptor (om__pool.free's place) */
    om_heap *raw_owner;                  /* the heap while it has no hook                   */
    uint64_t zero[6];                    /* never written (om__pool.heap's place)           */
    uint8_t raw_cls[OM_POOLS_PER_ARENA]; /* line 1, by pool index: 1 + class, or 0         */
} om__arena_head;
_Static_assert(sizeof(om__arena_head) == OM_POOL_DESC, "the head is descriptor 0");
_Static_assert(offsetof(om__pool, heap) >= offsetof(om__arena_head, zero) &&
                   offsetof(om__pool, heap) < offsetof(om__arena_head, raw_cls),
               "descriptor 0's heap field lies in the zero words");
static inline om__arena_head *om__arena_head_of(const void *p)
{
    return (om__arena_head *)((uintptr_t)p & ~(uintptr_t)(OM_ARENA_SIZE - 1));
}
static inline om__arena *om__pool_arena(const om__pool *pool)
{
    return om__arena_head_of(pool)->arena;
}
/* The index (1..63) of the pool holding p: bits 14-19. */
static inline unsigned om__pool_index_of(const void *p)
{
    return (unsigned)((uintptr_t)p >> OM_POOL_SHIFT) & (OM_POOLS_PER_ARENA - 1);
}
/* The head's class byte (invariant 1) of the pool whose 16 KiB hold p
 * (for a descriptor: om__pool_start(pool)); the raw cache's slot. */
static inline uint8_t *om__raw_slot_of(const void *p)
{
    return &om__arena_head_of(p)->raw_cls[om__pool_index_of(p)];
}

/* The end of every free list of pool: its start + 8, inside the pool but
 * no block's start (blocks are 16-byte aligned). */
static inline om__block *om__pool_term(const om__pool *pool)
{
    return (om__block *)(void *)(om__pool_start(pool) + 8);
}
/* 1 when b (a decoded link of a well-formed list) is a list's end. */
static inline int om__is_term(const om__block *b)
{
    return ((uintptr_t)b & 8) != 0;
}
static inline int om__pool_has_free(const om__pool *pool)
{
    return !om__is_term(pool->free);
}

/* Bytes before the first block of a pool, per kind. */
#define OM_POOL_HDR_RAW 0
#define OM_POOL_HDR_OBJ 0
#define OM_POOL_HDR_GC  om__round_up(sizeof(om__gcbits), OM_GRANULE)

static inline size_t om__pool_hdr_size(unsigned kind)
{
    return kind == OM_KIND_GC ? OM_POOL_HDR_GC : 0;
}
/* The pool's first block. */
static inline char *om__pool_first(const om__pool *pool)
{
    return om__pool_start(pool) + om__pool_hdr_size(pool->kind);
}
/* Blocks a pool of this kind holds. */
static inline uint32_t om__pool_capacity(unsigned kind, size_t bsize)
{
    return (uint32_t)((OM_POOL_SIZE - om__pool_hdr_size(kind)) / bsize);
}
/* The end of the pool's last whole block. */
static inline char *om__pool_limit(const om__pool *pool)
{
    return om__pool_first(pool) + pool->span;
}
/* The granule of p in its pool: its offset from the pool start / 16. */
static inline unsigned om__granule(const om__pool *pool, const void *p)
{
    (void)pool;
    return (unsigned)(((uintptr_t)p & (OM_POOL_SIZE - 1)) >> 4);
}
static inline void om__bm_set(uint64_t *bm, unsigned g)
{
    bm[g >> 6] |= (uint64_t)1 << (g & 63);
}
static inline void om__bm_clear(uint64_t *bm, unsigned g)
{
    bm[g >> 6] &= ~((uint64_t)1 << (g & 63));
}
static inline int om__bm_test(const uint64_t *bm, unsigned g)
{
    return (int)((bm[g >> 6] >> (g & 63)) & 1);
}

/* An arena: 1 MiB from the OS, pool 0 its metadata (above) and pools 1..63
 * for blocks. This descriptor lives apart (from the seam's malloc); the
 * metadata points to it (om__pool_arena).
 *
 * Invariants:
 *  1. base is aligned to OM_ARENA_SIZE and is in the heap's arena table;
 *     om__arena_head_of(base)->arena is the arena whenever one of its pools is
 *     carved (written when a pool is taken: a purge of the whole cached
 *     arena zeroes it).
 *  2. nfree == popcount(free_bm) + untouched pools (never carved, at the
 *     top of the arena); nfree <= OM_ARENA_POOLS; bit 0 of free_bm and
 *     dirty_bm is never set (pool 0 is the metadata).
 *  3. The arena is in bucket[nfree] of the heap's usable-arena buckets when
 *     0 < nfree < OM_ARENA_POOLS; a wholly free arena (nfree ==
 *     OM_ARENA_POOLS) is on the cache list (purged, with free_bm and
 *     dirty_bm 0, or dirty) or has been unmapped; at most cache_max cached
 *     arenas are purged (npurged).
 *  5. nempty counts the carved pools of the arena whose nalloc is 0 and
 *     whose free list is parked in stash (see om__pool invariant 3); an
 *     arena never holds only such pools: when its last pool in use empties,
 *     they go back too, so kept pools cannot pin each other's arenas.
 *  4. Bit i of free_bm is set iff pool i was carved and given back; a free
 *     pool keeps nothing in its own pages, so they can be purged whole.
 *     dirty_bm is a subset of free_bm: the free pools not purged yet.
 */
struct om__arena {
    char *base;                    /* OM_ARENA_SIZE-aligned start            */
    uint32_t untouched;            /* pools never carved (from the top)      */
    uint32_t nfree;                /* free_bm pools + untouched              */
    struct om__arena *next, *prev; /* bucket list or cache list              */
    uint64_t free_bm;              /* pools given back, by index             */
    uint32_t nempty;               /* carved pools kept empty (pool->stash)  */
    uint32_t purged;               /* cached and its pages given back        */
    uint64_t dirty_bm;             /* free pools whose pages may be resident */
    uint64_t dirty_since;          /* clock time the oldest dirty pool (or the
                                      whole arena, when cached) became free   */
};

/* A large block (over OM_SMALL_MAX): this header, then (debug mode) the
 * debug prefix, then the payload, from the seam's malloc.
 *
 * Invariants:
 *  1. magic == OM_LARGE_MAGIC while live.
 *  2. The block is on the heap's large list of its kind and its payload in
 *     the heap's large set.
 */
typedef struct om__large {
    struct om__large *next, *prev; /* heap->large[kind] list                 */
    size_t size;                   /* payload bytes requested                */
    om_heap *heap;                 /* owner                                  */
    uint32_t gen;                  /* GC kind: generation 0, 1 or 2          */
    uint32_t magic;                /* OM_LARGE_MAGIC                         */
    uint8_t kind;                  /* OM_KIND_*                              */
    uint8_t pad[23];               /* to 64 bytes: payloads stay 16-aligned   */
} om__large;
#define OM_LARGE_MAGIC 0x6f6d4c47u /* "omLG" */
_Static_assert(sizeof(om__large) % 16 == 0, "large payloads must stay 16-byte aligned");

/* Debug mode: every block is this prefix, the payload, then guard bytes to
 * the end of the block (at least OM_DBG_TAIL). A free small block holds
 * OM_DBG_FREED_SIZE in its size field (that is what says "freed") and its
 * free-list link over state, kind and guard (om__block: the link is the
 * second word); a freed large block says OM_DBG_FREED in state. */
typedef struct om__dbg {
    uint64_t size;    /* requested bytes; OM_DBG_FREED_SIZE when free */
    uint8_t state;    /* OM_DBG_LIVE or OM_DBG_FREED (live / large)  */
    uint8_t kind;     /* OM_KIND_* it was allocated as               */
    uint8_t guard[6]; /* OM_DBG_GUARD                                */
} om__dbg;
#define OM_DBG_FREED_SIZE 0xF3F3F3F3F3F3F3F3ull
#define OM_DBG_PREFIX     ((size_t)sizeof(om__dbg))
#define OM_DBG_TAIL       8
#define OM_DBG_LIVE       0xA1
#define OM_DBG_FREED      0xF3
#define OM_DBG_GUARD      0xFD /* guard bytes, as CPython's FORBIDDENBYTE */
#define OM_DBG_CLEAN      0xCD /* fresh payload, as CPython's CLEANBYTE   */
#define OM_DBG_DEAD       0xDD /* freed payload, as CPython's DEADBYTE    */

/* ------------------------------------------------------ the ownership map */

/* One byte per 1 MiB of the 48-bit address space: 1 while any heap of the
 * process has an arena there (amap.c). This is the one piece of state that
 * heaps share: it is what lets om_free answer "is p in an arena?" with one
 * compare and one byte load, no hash, and lets a free from any heap or
 * thread find the owner of a block (om__pool_of(p)->heap).
 *
 * The map is 256 MiB of address space reserved read-only on the first
 * arena (PROT_READ, MAP_NORESERVE: no memory and no commit charge, even
 * with strict overcommit; every untouched page reads as the shared zero
 * page), whose 4 KiB pages become writable, and resident, as arenas are
 * mapped in their 4 GiB of address space (4 KiB pages; larger ones, on
 * kernels that have them, cover more). A byte, not a bit (the map was
 * 32 MiB of bits in the bss before): the test is then one load and one
 * compare, where the bit took a second shift and a bit test, and the churn
 * pair ran 0.3-0.5 ns faster (bench/RESULTS.md, "The ownership map in
 * bytes").
 *
 * limit is 0 until the map exists and its size (1 << 28) after, stored
 * with release after the map pointer, so a test before the first arena
 * anywhere answers 0 and reads nothing. Bytes are set and cleared with
 * atomic stores by the heap that maps or unmaps the arena, and read as
 * OM_AMAP_LOAD says (below); a reader races only with the unmapping of an
 * arena it does not own, which is a free of a block of a heap that is
 * going away (misuse). Design note: docs/alloc.md ("The ownership test"). */
#define OM_AMAP_ADDR_BITS 48
#define OM_AMAP_BYTES     ((size_t)1 << (OM_AMAP_ADDR_BITS - OM_ARENA_SHIFT))
typedef struct om__amap_t {
    size_t limit;   /* 0, then OM_AMAP_BYTES */
    uint8_t *bytes; /* the map, once limit is set */
} om__amap_t;
extern om__amap_t om__amap;

/* The fast path's loads of the map are plain on x86-64 (the compiler folds
 * them into its compares: one instruction each, where atomic loads took
 * two); the map is written with __atomic stores (amap.c). x86-64 does not
 * reorder loads with loads, and a compiler fence keeps the compiler from
 * doing it, so limit, read first, orders the pointer after it. Elsewhere,
 * and under ThreadSanitizer (which would take plain loads for races),
 * they are __atomic loads, the limit's with acquire. */
#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
#define OM_AMAP_LOAD(x, order) (x)
#else
#define OM_AMAP_LOAD(x, order) __atomic_load_n(&(x), order)
#endif

/* 1 when address u lies in an arena of some heap. Reads only the map. */
static inline int om__amap_test(uintptr_t u)
{
    uintptr_t i = u >> OM_ARENA_SHIFT;
    if (om__unlikely(i >= OM_AMAP_LOAD(om__amap.limit, __ATOMIC_ACQUIRE))) return 0;
    __atomic_signal_fence(__ATOMIC_ACQUIRE); /* the compiler too: the pointer after the limit */
    uint8_t *m = OM_AMAP_LOAD(om__amap.bytes, __ATOMIC_RELAXED);
    return OM_AMAP_LOAD(m[i], __ATOMIC_RELAXED) != 0;
}
/* Set (clear) the byte of the arena at 1 MiB-aligned base; 0, OM_EINVAL
 * when base is beyond the map's 48 bits (never, on Linux without a hint),
 * or OM_ENOMEM when the map cannot be reserved or its page made writable. */
int om__amap_set(uintptr_t base);
void om__amap_clear(uintptr_t base);

/* ------------------------------------------------ the allocator's state */

/* One entry of the arena table: an open-addressing set of arena bases. */
typedef struct om__arena_slot {
    uintptr_t base; /* 0: empty */
    om__arena *arena;
} om__arena_slot;

/* What the allocator calls outside itself (layers point one way: no file
 * under src/alloc/ calls a function of src/trace/ or src/gc/; checked by
 * tools/check-layers.pl). The layers above fill the table when the heap is
 * made (heap.c); every entry is called only on a hooked or slow path, and
 * every entry is set (the allocator never tests for NULL). */
typedef struct om__alloc_hooks {
    /* OM_HOOK_TRACE is on: size bytes were handed out at p / p is freed. */
    void (*on_alloc)(om_heap *h, void *p, size_t size);
    void (*on_free)(om_heap *h, void *p);
    /* A debug report on p: add where p was allocated, if anything knows. */
    void (*report_block)(om_heap *h, const void *p, FILE *out);
    /* An empty pool on a generation list (on_gen[0] or on_gen[1]) is about
     * to go back to its arena: take it off the collector's lists. */
    void (*pool_retire)(om_heap *h, om__pool *pool);
} om__alloc_hooks;

/* The raw block caches (heap.h, "The raw block cache"), by slot: 1 + the
 * class, the byte the arena's head holds (alloc.h, om__arena_head),
 * so that om_free indexes them with that byte as it is; slot 0 is unused
 * (NULL, no room). Two arrays, not an array of structs, so that the fast
 * paths index both with a scaled address and no multiplication. */
typedef struct om__tcache {
    om__block *head[1 + OM_NUM_CLASSES]; /* the block freed last; links in the first word */
    int32_t room[1 + OM_NUM_CLASSES];    /* blocks it may still take: om__tc_max - cached  */
} om__tcache;
/* The most blocks the cache of class cls holds: a pool's worth. */
static inline int32_t om__tc_max(unsigned cls)
{
    return (int32_t)(OM_POOL_SIZE / om__class_size(cls));
}

typedef struct om__alloc {
    uintptr_t key; /* free-list links are xor-ed with it (random per heap) */
    om__tcache tc; /* raw blocks freed last (heap.h)  */
    om__pool *avail[OM_NKINDS][OM_NUM_CLASSES]; /* pools with a free block     */
    om__pool *kept[OM_NKINDS][OM_NUM_CLASSES];  /* the kept empty pool, if any */
    size_t held;                                /* bytes in pools in use + large bytes        */
    size_t peak;                                /* highest held (stats: peak_bytes)           */
    size_t requested;                           /* bytes requested (maintained in debug mode) */
    om__arena *buckets[OM_POOLS_PER_ARENA];     /* arenas by free pools (1..63)    */
    uint64_t bucket_bits;                       /* bit k: buckets[k] non-empty                */
    om__arena *cache;                           /* wholly free arenas kept mapped             */
    size_t ncache, cache_max;                   /* cached arenas; most kept purged            */
    size_t npurged;                             /* cached arenas purged (<= cache_max)        */
    long decay_ms;                              /* om_config.decay_ms (arena.c, "decay")      */
    uint64_t next_sweep;                        /* clock time of the next decay sweep         */
    int dirty;                                  /* some free memory is not yet given back     */
    uint64_t swept_at;                          /* clock time of the last sweep               */
    size_t own_unmarked; /* om_heap_check: used raw blocks with no live bit, not cached */
    uint64_t clock_last, clock_prev; /* the last two clock readings (arena.c)      */
    uint64_t give_at;                /* nonzero: the time pools given back get     */
    size_t narenas, narenas_peak, mapped_total, unmapped_total;
    om__arena_slot *atab;        /* arena table (seam malloc)                  */
    size_t atab_mask;            /* capacity - 1 (power of two)                */
    unsigned atab_shift;         /* 64 - log2(capacity)                        */
    om__large *large[OM_NKINDS]; /* large blocks per kind                      */
    void **lset;                 /* large set: payload pointers, open addressing */
    size_t lset_mask, lset_count, lset_tomb;
    size_t nlarge, large_bytes; /* large blocks and their requested bytes     */
    size_t sys_bytes;           /* bytes held from the seam's malloc          */
    size_t bad_frees;
    om__alloc_hooks up; /* calls out of the allocator (above) */
    /* What other threads may read of this heap while its owner runs (the
     * shim's mallinfo2): copies of narenas, held, nlarge and large_bytes,
     * stored with relaxed atomics by om__alloc_publish wherever one of
     * those changes (all on slow paths: an arena mapped or unmapped, a
     * pool taken or given back, a large block). Everything else in the
     * heap is the owner's alone. */
    struct {
        _Atomic size_t narenas, held, nlarge, large_bytes;
    } pub;
} om__alloc;

static inline void om__alloc_publish(om__alloc *a)
{
    atomic_store_explicit(&a->pub.narenas, a->narenas, memory_order_relaxed);
    atomic_store_explicit(&a->pub.held, a->held, memory_order_relaxed);
    atomic_store_explicit(&a->pub.nlarge, a->nlarge, memory_order_relaxed);
    atomic_store_explicit(&a->pub.large_bytes, a->large_bytes, memory_order_relaxed);
}

/* ----------------------------------------------------- internal interface */

/* Arena table lookup: the arena whose base is the 1 MiB-aligned address. */
static inline om__arena *om__arena_find(const om__alloc *a, uintptr_t base)
{
    size_t i =
        (size_t)(((uint64_t)(base >> OM_ARENA_SHIFT) * 0x9E3779B97F4A7C15ull) >> a->atab_shift);
    for (;;) {
        const om__arena_slot *s = &a->atab[i];
        if (s->base == base) return s->arena;
        if (s->base == 0) return NULL;
        i = (i + 1) & a->atab_mask;
    }
}
static inline om__arena *om__arena_of_ptr(const om__alloc *a, const void *p)
{
    return om__arena_find(a, (uintptr_t)p & ~(uintptr_t)(OM_ARENA_SIZE - 1));
}

int om__alloc_init(om_heap *h);
void om__alloc_fini(om_heap *h);

/* Memory for objmem's own bookkeeping, through the seam (counted). */
void *om__sys_malloc(om_heap *h, size_t size);
void *om__sys_calloc(om_heap *h, size_t n, size_t size);
void *om__sys_realloc(om_heap *h, void *p, size_t old_size, size_t size);
void om__sys_free(om_heap *h, void *p, size_t size);

#ifdef OM_VALGRIND
/* Heap destroy under Valgrind: forget the live raw blocks of pool. */
void om__pool_vg_forget(om_heap *h, om__pool *pool);
#endif
/* A block of the given kind (objects: OM_KIND_OBJ or OM_KIND_GC). Returns
 * the payload; for object kinds the alloc bit is set. NULL with OM_ENOMEM. */
void *om__block_alloc(om_heap *h, size_t size, unsigned kind);
/* Free a payload from om__block_alloc of an object kind; large says where. */
void om__block_free_obj(om_heap *h, void *p, int large);
/* om_free_if_owned past its fast path (om__free_fast failed), out of line:
 * for callers that inline the fast path (the CPython plug-in). */
int om__free_if_owned_slow(om_heap *h, void *p);
/* The pool-slow paths (pool.c). */
void *om__pool_alloc_slow(om_heap *h, unsigned kind, unsigned cls);
void om__pool_free_slow(om_heap *h, om__pool *pool, om__block *b);
/* Large blocks (large.c). */
void *om__large_alloc(om_heap *h, size_t size, unsigned kind, size_t extra);
void om__large_free(om_heap *h, om__large *lb);
void *om__large_realloc(om_heap *h, void *p, size_t size);
void om__large_release_all(om_heap *h);
om__large *om__large_find(const om_heap *h, const void *payload);
static inline om__large *om__large_hdr(const void *payload, size_t prefix)
{
    return (om__large *)((char *)payload - prefix - sizeof(om__large));
}
/* Debug mode (debug.c). */
void *om__dbg_alloc(om_heap *h, size_t size, unsigned kind);
void om__dbg_free(om_heap *h, void *p, unsigned kind, const char *api);
void *om__dbg_realloc(om_heap *h, void *p, size_t size);
size_t om__dbg_size(const void *p);
int om__dbg_check_block(om_heap *h, const void *p, int live, FILE *out);
void om__dbg_report(om_heap *h, const char *problem, const void *p, const char *api)
    __attribute__((noreturn));
/* Arenas (arena.c). */
int om__arena_table_init(om_heap *h);
om__pool *om__arena_take_pool(om_heap *h);
void om__arena_give_pool(om_heap *h, om__pool *pool);
/* Empty the raw block caches before a pool is carved (heap.h, cache
 * invariant 4), their blocks aged as a decay sweep ages them (free since
 * the clock reading before this one), or by the sweep itself when one is
 * due. */
void om__arena_flush_caches(om_heap *h);
void om__pool_release_kept(om_heap *h);
void om__pool_release_idle(om_heap *h, uint64_t now, uint64_t age);
void om__arena_release_all(om_heap *h);
void om__arena_foreach(om_heap *h, void (*fn)(om_heap *h, om__arena *ar, void *arg), void *arg);
/* Turn h's hooks (heap.h, OM_HOOK_*) to hooks: every raw pool's raw_owner
 * follows (pool invariant 5). The only writer of h->hooks after creation. */
void om__alloc_set_hooks(om_heap *h, unsigned hooks);
int om__arena_pool_is_free(const om__arena *ar, const om__pool *pool);
/* Statistics (stats.c). */
/* Bytes of blocks handed out now (small blocks' sizes + large bytes),
 * summed from the pools: O(pools), nothing is counted per call. */
size_t om__alloc_used(om_heap *h);
void om__alloc_fill_stats(om_heap *h, om_heap_stats *st);
void om__alloc_print_stats(om_heap *h, const om_heap_stats *st, FILE *out);
/* Invariant checks (check.c): 0 or a negative code, a report written. */
int om__alloc_check(om_heap *h, FILE *out);

#endif
