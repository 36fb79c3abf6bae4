/*
 * trace_int.h - the tracer's own structures, shared by the files of
 * src/trace/ only: the bump arena, the trace table, interned tracebacks,
 * the snapshot and its builder. Design note: docs/trace.md.
 */
#ifndef OM_TRACE_INT_H
#define OM_TRACE_INT_H

#include "internal/heap.h"

/* Frames captured beyond nframe on the native path, so that the frames of
 * objmem itself (dropped when a snapshot symbolizes them) leave nframe
 * frames of the caller. */
enum { OM_TRACE_SKIP = 8 };

/* ------------------------------------------------------------ bump arena */

/* Memory that lives until the whole arena is released: chunks from the
 * heap's seam, carved by a bump pointer. */
typedef struct om__bump_chunk {
    struct om__bump_chunk *next;
    size_t size; /* bytes of the chunk, header included */
} om__bump_chunk;

typedef struct om__bump {
    om__bump_chunk *chunks;
    char *cur, *end;
    size_t bytes; /* bytes of all chunks */
} om__bump;

void *om__bump_alloc(om_heap *h, om__bump *b, size_t n);
char *om__bump_strdup(om_heap *h, om__bump *b, const char *s);
void om__bump_release(om_heap *h, om__bump *b);

/* ---------------------------------------------------------- tracebacks */

/* OM_TB_NATIVE: raw addresses, objmem's own first (skipped when
 * symbolized); OM_TB_NATIVE_EXACT: without objmem's frames (its text ranges
 * were known at capture); OM_TB_PROVIDED: a provider's frames. */
enum { OM_TB_NATIVE = 0, OM_TB_PROVIDED = 1, OM_TB_NATIVE_EXACT = 2 };
enum { OM_TRACE_MAX_RANGES = 16 };

/* An interned traceback of the tracer. Native: frames[] are raw return
 * addresses, most recent first, including objmem's own frames. Provided:
 * frames[] point at interned om_frame records (tracer-owned strings).
 *
 * Invariants:
 *  1. Unique by (kind, nframe, frames[]) in the tracer's tb table.
 *  2. id is the index of the tb in the tracer's tbs vector.
 *  3. Lives until tracing stops (never freed while tracing).
 */
typedef struct om__tb {
    uint32_t hash;
    uint16_t nframe;       /* entries of frames[]               */
    uint16_t kind;         /* OM_TB_*                           */
    uint32_t total_nframe; /* depth when captured (provided)    */
    uint32_t id;           /* index in om__tracestate.tbs       */
    size_t live_size;      /* bytes of the live traces naming it */
    size_t live_count;     /* their number                      */
    uintptr_t frames[];
} om__tb;

/* One trace: a live block (or tracked range) and its traceback. */
typedef struct om__trace {
    uintptr_t ptr; /* 0: empty slot  */
    uint32_t domain;
    uint32_t pad;
    size_t size; /* requested bytes */
    om__tb *tb;
} om__trace;

/* The traces of small blocks: one word per 16-byte granule of each pool,
 * (tb << 16) | requested size, 0 when the granule starts no traced block.
 * Blocks next to each other have their traces next to each other, so
 * tracing a run of allocations touches few cache lines (a hash table keyed
 * by address misses the cache on every allocation once it is large). */
typedef struct om__tarena {
    uintptr_t base;                      /* the arena's address            */
    uint64_t *pools[OM_POOLS_PER_ARENA]; /* OM_POOL_GRANULES words, or NULL */
} om__tarena;

/* An interned provided frame. */
typedef struct om__pframe {
    uint32_t hash;
    om_frame f; /* strings interned in the tracer's bump */
} om__pframe;

/* An open-addressing set of pointers to records that start with a
 * uint32_t hash (om__tb, om__pframe, interned strings' records). */
typedef struct om__pset {
    void **slots;
    size_t mask; /* capacity - 1 (a power of two), or 0 when empty */
    size_t n;
} om__pset;

/*
 * The tracer's state, allocated when tracing starts.
 *
 * Invariants:
 *  1. traces is an open-addressing table with linear probing and backward
 *     shift deletion: no tombstones; n_traces <= (mask + 1) / 2.
 *  2. Domain-0 traces of blocks inside arenas live in the side tables
 *     (arenas, om__tarena) when their size fits 16 bits; everything else
 *     (large blocks, other domains) in traces.
 *  3. current == the sum of the sizes of both; peak >= current.
 *  4. Every traceback a trace names is in tbs.
 *  5. Each traceback's live_size/live_count are the sums over the traces
 *     naming it (so the peak's composition is a copy of them).
 *  6. peak_sizes/peak_counts (when peak_rec > 0) hold the tracebacks'
 *     live sums at a moment when current was peak_rec, and
 *     peak_rec <= peak < peak_next, with peak_next = peak_rec * (1 + f).
 */
struct om__tracestate {
    int nframe;                 /* frames kept per traceback (1..MAX)      */
    om_frame_provider provider; /* NULL: native frames                     */
    void *provider_ctx;
    om__trace *traces; /* the trace table                         */
    size_t mask;       /* its capacity - 1                        */
    size_t n_traces;
    size_t current, peak;    /* traced bytes (requested sizes)          */
    om__tarena **arenas;     /* side tables by arena, open addressing   */
    size_t amask, narenas;   /* capacity - 1 (0: none yet), entries     */
    om__tarena *last;        /* the arena of the last lookup            */
    size_t n_small, n_pools; /* traces in side tables, their pools      */
    om__pset tbset;          /* interned tracebacks                     */
    om__tb **tbs;            /* by id                                   */
    om__tb *last_tb;         /* the one intern_tb found last            */
    size_t ntbs, tbs_cap;
    om__pset frameset;            /* interned provided frames                */
    om__pset strset;              /* interned strings (om__istr)             */
    om__bump bump;                /* tracebacks, frames, strings             */
    om_frame *scratch;            /* provider output buffer (nframe)         */
    uintptr_t stack_lo, stack_hi; /* the stack of the thread last seen      */
    struct om__cfi *cfi;          /* the table walk's rules (unwind.c)       */
    struct om__symtab *symtab;    /* symbolization cache, made when needed  */
    int unwind;                   /* OM_UNWIND_* asked for                   */
    int tables;                   /* 1: walk with the unwind tables          */
    int nranges;                  /* objmem's text ranges, 0 when unknown    */
    uintptr_t range_lo[OM_TRACE_MAX_RANGES], range_hi[OM_TRACE_MAX_RANGES];
    struct {           /* the last blocks freed, for debug reports */
        uintptr_t ptr; /* of a block freed just before its report  */
        om__tb *tb;
    } freed[8];
    unsigned nfreed; /* ring position                            */
    /* the peak's composition (peak.c) */
    size_t peak_rec, peak_next; /* current when recorded; the next trigger */
    unsigned peak_step;         /* f as 1/65536ths (default 4096: 1/16)    */
    uint64_t peak_ns;           /* when recorded (CLOCK_MONOTONIC)         */
    size_t *peak_sizes, *peak_counts, peak_ntbs, peak_cap; /* by tb id      */
    /* the time series (peak.c) */
    long sample_left;    /* allocations + frees before a sample     */
    size_t sample_every; /* events between samples (0: off)        */
    uint64_t sample_ns;  /* or at least this much time (0: any)     */
    uint64_t t0_ns, last_ns, nallocs;
    om_trace_sample *samples;
    size_t nsamples;
};

/* peak.c: the peak's composition, the time series. */
void om__trace_record_peak(om_heap *h, om__tracestate *t);
void om__trace_sample(om_heap *h, om__tracestate *t);
void om__trace_series_init(om__tracestate *t);
void om__trace_series_free(om_heap *h, om__tracestate *t);
uint64_t om__now_ns(void);
enum { OM_TRACE_MAX_SAMPLES = 4096 }; /* then every other one is dropped */

static inline void om__tb_add(om_heap *h, om__tracestate *t, om__tb *tb, size_t size)
{
    tb->live_size += size;
    tb->live_count++;
    t->current += size;
    if (t->current > t->peak) {
        t->peak = t->current;
        if (om__unlikely(t->current >= t->peak_next)) om__trace_record_peak(h, t);
    }
}

static inline void om__tb_sub(om__tracestate *t, om__tb *tb, size_t size)
{
    tb->live_size -= size;
    tb->live_count--;
    t->current -= size;
}

/* Interned string record: hash then the characters. */
typedef struct om__istr {
    uint32_t hash;
    char s[];
} om__istr;

/* frames.c */
om__tb *om__trace_capture(om_heap *h, om__tracestate *t);
/* Find the bounds of the calling thread's stack (t->stack_lo, _hi). */
void om__trace_stack_bounds(om__tracestate *t);
/* 1 when pc lies in objmem's own code (its text ranges). */
static inline int om__trace_in_objmem(const om__tracestate *t, uintptr_t pc)
{
    for (int i = 0; i < t->nranges; i++)
        if (pc - t->range_lo[i] < t->range_hi[i] - t->range_lo[i]) return 1;
    return 0;
}
/* unwind.c: the table walk. The return addresses of the stack outside
 * objmem, most recent first, up to max, and in *depth the frames walked
 * (max + 1 when there were more); -1 when the walk gave up (a frame it has
 * no rule for, a stack address out of bounds, objmem's text ranges
 * unknown): the caller walks with libunwind instead. */
typedef struct om__cfi om__cfi;
int om__cfi_walk(om_heap *h, om__tracestate *t, uintptr_t *out, int max, uint32_t *depth);
/* Tests: set the rule of return address ip by hand (OM_CFI_*: the CFA is
 * rsp or rbp + cfa_off, rbp saved at CFA + rbp_off or, 0, unchanged; the
 * outermost frame; a frame the walk gives up at; -1 when ip has a rule
 * already: rules never change), and walk from the state
 * st = {ip, rsp, rbp, stack low, stack high} over a stack the test made.
 * 0 / the walk's result, -1 without the table walk. */
enum {
    OM_CFI_RSP = 1, /* the CFA is rsp + cfa_off                          */
    OM_CFI_RBP,     /* the CFA is rbp + cfa_off                          */
    OM_CFI_END,     /* the outermost frame (its return address undefined) */
    OM_CFI_OTHER    /* anything else: the walk gives up there             */
};
int om__cfi_test_rule(om_heap *h, om__tracestate *t, uintptr_t ip, int kind, int cfa_off,
                      int rbp_off);
int om__cfi_test_walk(om_heap *h, om__tracestate *t, uintptr_t *out, int max, uint32_t *depth,
                      const uintptr_t st[5]);
/* Rules made, walks started, walks given up (tests, bench_trace). */
void om__cfi_stats(const om__tracestate *t, size_t *rules, size_t *walks, size_t *gave_up);
void om__cfi_free(om_heap *h, om__tracestate *t);
/* Bytes the table walk holds (its rules and walk records; not libdw's). */
size_t om__cfi_bytes(const om__tracestate *t);
/* 1 when the build can unwind with the tables (libunwind). */
int om__trace_unwind_tables_available(void);
/* Once per process before the first walk with the tables. */
void om__trace_unwind_init(void);
void om__pset_free(om_heap *h, om__pset *s);
size_t om__pset_bytes(const om__pset *s);
/* A string's hash, keyed per heap (never 0). */
uint32_t om__hash_str(const om_heap *h, const char *s);
/* The slot of the record (starting with its uint32_t hash) equal to key,
 * or the empty slot where it goes, after growing s when needed; the caller
 * fills an empty slot and counts it in s->n. NULL on failure. */
void **om__pset_slot(om_heap *h, om__pset *s, uint32_t hash,
                     int (*eq)(const void *rec, const void *key), const void *key);

/* snapshot.c: a symbolized copy of tb (om_traceback_free frees it). */
om_traceback *om__tb_export(om_heap *h, const om__tb *tb, int limit);

/* trace.c */
/* The traceback of (domain, ptr), with its size in *size; NULL if none. */
om__tb *om__trace_get(om_heap *h, om__tracestate *t, unsigned domain, uintptr_t ptr, size_t *size);
/* Call fn for every trace. */
void om__trace_foreach(om__tracestate *t,
                       void (*fn)(void *ctx, unsigned domain, uintptr_t ptr, size_t size,
                                  om__tb *tb),
                       void *ctx);

/* ------------------------------------------------------------ snapshot */

enum { OM_SNAP_LIVE = 0, OM_SNAP_PEAK = 1, OM_SNAP_LEAKS = 2 };

struct om_snapshot {
    om_heap *h;
    int limit;              /* traceback limit when taken               */
    int kind;               /* OM_SNAP_*                                */
    om_trace_entry *traces; /* ntraces entries                          */
    size_t ntraces, cap;
    om__bump bump;              /* tracebacks, frames, strings              */
    size_t peak;                /* traced peak when taken (0: unknown)      */
    uint64_t peak_ns, taken_ns; /* since tracing started                   */
    om_trace_sample *samples;   /* the time series (om__sys memory), or NULL */
    size_t nsamples;
};

/* Builds a snapshot: interns strings and tracebacks by content. */
typedef struct om__sbuild {
    om_snapshot *s;
    om__pset strs; /* om__istr records in s->bump                  */
    om__pset tbs;  /* om__stb records in s->bump                   */
    int failed;
} om__sbuild;

om_snapshot *om__snapshot_new(om_heap *h, int limit);
int om__sbuild_init(om__sbuild *b, om_snapshot *s);
const char *om__sbuild_str(om__sbuild *b, const char *str);
/* The snapshot's traceback equal to (frames, n, total), made if new; the
 * strings of frames are interned here. NULL on failure. */
const om_traceback *om__sbuild_tb(om__sbuild *b, const om_frame *frames, uint32_t n,
                                  uint32_t total);
int om__sbuild_trace(om__sbuild *b, unsigned domain, size_t size, const om_traceback *tb);
/* The same for count blocks of size bytes in all. */
int om__sbuild_trace_n(om__sbuild *b, unsigned domain, size_t size, size_t count,
                       const om_traceback *tb);
/* Copy src's kind, peak and time series to dst (a filtered copy). */
int om__snapshot_copy_meta(om_snapshot *dst, const om_snapshot *src);
/* peak.c: copy the tracer's time series and peak into s. */
int om__snapshot_take_series(om_snapshot *s, const om__tracestate *t);
/* Frees the builder's tables; returns s, or frees it and returns NULL if
 * anything failed. */
om_snapshot *om__sbuild_finish(om__sbuild *b);

/* symbolize.c: turn native return addresses into frames. */
/* objmem's code as sorted address ranges (at most max), or 0 when they
 * cannot be known (no libdw or no debug info). */
int om__objmem_text_ranges(om_heap *h, uintptr_t *lo, uintptr_t *hi, int max);
typedef struct om__symtab om__symtab;
om__symtab *om__symtab_new(om_heap *h);
/* The tracer's symtab (made on first use, kept until tracing stops: its
 * cache serves every later snapshot and traceback); NULL on failure. */
om__symtab *om__trace_symtab(om_heap *h);
/* Frame of return address pc; *internal = 1 when pc is in objmem. The
 * strings live until om__symtab_free. */
om_frame om__symtab_lookup(om__symtab *st, uintptr_t pc, int *internal);
void om__symtab_free(om__symtab *st);
/* Symbolize a tracer traceback into frames (at most limit, objmem's own
 * leading frames dropped); returns n and sets *total. */
uint32_t om__tb_symbolize(om__symtab *st, const om__tb *tb, int limit, om_frame *out,
                          uint32_t *total);

#endif
