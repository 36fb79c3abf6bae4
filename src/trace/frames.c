/*
 * frames.c - capturing tracebacks at allocation: the native stack (raw
 * return addresses, nothing resolved) by a walk of the frame-pointer chain
 * or over the .eh_frame tables (unwind.c, libunwind), or an embedder's frame
 * provider; then interning, so that identical stacks are stored once. Also
 * the bump arena and the pointer sets the tracer and snapshots are built
 * from. Design note: docs/trace.md ("Frames").
 *
 * Which walk (om_trace_set_unwind): the frame-pointer walk is a few
 * dependent loads per frame (about 1 ns each) but is right only through
 * code built with frame pointers. objmem itself is, so the first frame of
 * the caller is always right, and nframe 1 needs nothing else. Deeper
 * stacks of code built without frame pointers (gcc's default at -O2) need
 * the unwind tables: the table walk (unwind.c), else libunwind's
 * unw_backtrace where it gives up (a signal frame, JIT code).
 * Every frame address of the frame-pointer walk is checked against the
 * stack bounds: a wrong chain stops early, never reads outside the stack.
 */
#define _GNU_SOURCE
#include <pthread.h>

#include "trace_int.h"

#ifdef OM_HAVE_LIBUNWIND
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#endif

/* ------------------------------------------------------------ bump arena */

void *om__bump_alloc(om_heap *h, om__bump *b, size_t n)
{
    n = om__round_up(n ? n : 1, 16);
    if ((size_t)(b->end - b->cur) < n) {
        size_t size =
            n + sizeof(om__bump_chunk) + 16 > 65536 ? n + sizeof(om__bump_chunk) + 16 : 65536;
        om__bump_chunk *c = om__sys_malloc(h, size);
        if (!c) return NULL;
        c->next = b->chunks;
        c->size = size;
        b->chunks = c;
        b->bytes += size;
        b->cur = (char *)om__round_up((uintptr_t)(c + 1), 16);
        b->end = (char *)c + size;
    }
    void *p = b->cur;
    b->cur += n;
    return p;
}

char *om__bump_strdup(om_heap *h, om__bump *b, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = om__bump_alloc(h, b, n);
    if (d) memcpy(d, s, n);
    return d;
}

void om__bump_release(om_heap *h, om__bump *b)
{
    om__bump_chunk *c = b->chunks;
    while (c) {
        om__bump_chunk *next = c->next;
        om__sys_free(h, c, c->size);
        c = next;
    }
    memset(b, 0, sizeof *b);
}

/* ---------------------------------------------------------- pointer sets */

void om__pset_free(om_heap *h, om__pset *s)
{
    if (s->slots) om__sys_free(h, s->slots, (s->mask + 1) * sizeof(void *));
    memset(s, 0, sizeof *s);
}

size_t om__pset_bytes(const om__pset *s)
{
    return s->slots ? (s->mask + 1) * sizeof(void *) : 0;
}

/* SipHash-1-3 under the heap's string key (re-keyed for the tracer, so
 * that its hashes say nothing about om_hash's), never 0: strings come
 * from frame providers and snapshot files, and an unkeyed hash let
 * crafted ones share one probe run (issue 12). */
uint32_t om__hash_str(const om_heap *h, const char *s)
{
    uint64_t x = om__siphash13(h->types.sip_k0 ^ 0x7472616365ull, h->types.sip_k1, s, strlen(s));
    return (uint32_t)(x ^ (x >> 32)) | 1;
}

static inline uint32_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (uint32_t)x;
}

/* ---------------------------------------------------------- native walk */

/* Find the bounds of the calling thread's stack (once per thread that
 * uses the heap while tracing: the heap remembers the last one). */
om__noinline void om__trace_stack_bounds(om__tracestate *t)
{
    pthread_attr_t attr;
    void *addr;
    size_t size;
    t->stack_lo = t->stack_hi = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
            t->stack_lo = (uintptr_t)addr;
            t->stack_hi = (uintptr_t)addr + size;
        }
        pthread_attr_destroy(&attr);
    }
    if (!t->stack_hi) { /* unknown: allow only the current frame's page */
        t->stack_lo = (uintptr_t)__builtin_frame_address(0);
        t->stack_hi = t->stack_lo + 4096;
    }
}

/* Return addresses of the stack above this function, up to max, after
 * skipping objmem's own frames when its text ranges are known. *depth is
 * the number of frames walked past the skipped ones (>= the count when the
 * walk stopped at max). */
static om__noinline int walk_native(om__tracestate *t, uintptr_t *out, int max, uint32_t *depth)
{
    uintptr_t *fp = __builtin_frame_address(0);
    /* the stacks of live threads are disjoint: a frame inside the bounds
     * found last means the same thread, with no pthread_self() call */
    if (om__unlikely((uintptr_t)fp - t->stack_lo >= t->stack_hi - t->stack_lo))
        om__trace_stack_bounds(t);
    uintptr_t lo = t->stack_lo, hi = t->stack_hi;
    int n = 0, skipping = t->nranges > 0;
    uint32_t d = 0;
    for (;;) {
        uintptr_t a = (uintptr_t)fp;
        if (a < lo || a + 2 * sizeof(uintptr_t) > hi || (a & (sizeof(uintptr_t) - 1))) break;
        uintptr_t ret = fp[1];
        if (!ret) break;
        if (skipping && om__trace_in_objmem(t, ret)) {
        } else {
            skipping = 0;
            d++;
            if (n == max) break;
            out[n++] = ret;
        }
        uintptr_t *next = (uintptr_t *)fp[0];
        if (next <= fp) break;
        fp = next;
    }
    *depth = d;
    return n;
}

#ifdef OM_HAVE_LIBUNWIND
/* The same from the unwind tables (libunwind). The first addresses are
 * libunwind's own (unw_backtrace), then objmem's, then the caller's. */
static om__noinline int walk_tables(om__tracestate *t, uintptr_t *out, int max, uint32_t *depth)
{
    void *buf[OM_TRACE_MAX_FRAMES + 4 * OM_TRACE_SKIP];
    int cap = max + 3 * OM_TRACE_SKIP, n = unw_backtrace(buf, cap), k = 0, i = 0;
    if (t->nranges) {
        while (i < n && !om__trace_in_objmem(t, (uintptr_t)buf[i])) i++;
        while (i < n && om__trace_in_objmem(t, (uintptr_t)buf[i])) i++;
    } else {
        i = n > 0; /* unw_backtrace's own frame */
    }
    for (; i < n && k < max; i++) out[k++] = (uintptr_t)buf[i];
    *depth = (uint32_t)k + (i < n || n == cap); /* deeper: counted as one more */
    return k;
}
#endif

int om__trace_unwind_tables_available(void)
{
#if defined(OM_HAVE_LIBUNWIND) || (defined(OM_HAVE_LIBDW) && defined(__x86_64__))
    return 1;
#else
    return 0;
#endif
}

void om__trace_unwind_init(void)
{
#ifdef OM_HAVE_LIBUNWIND
    static int done;
    if (!done) { /* the frame cache: per thread, no lock on the hot path */
        unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
        done = 1;
    }
#endif
}

/* ---------------------------------------------------------- interning */

static int grow(om_heap *h, om__pset *s, uint32_t (*hash_of)(const void *))
{
    size_t cap = s->slots ? (s->mask + 1) * 2 : 256;
    void **slots = om__sys_calloc(h, cap, sizeof(void *));
    if (!slots) return -1;
    for (size_t i = 0; s->slots && i <= s->mask; i++) {
        void *r = s->slots[i];
        if (!r) continue;
        size_t j = hash_of(r) & (cap - 1);
        while (slots[j]) j = (j + 1) & (cap - 1);
        slots[j] = r;
    }
    size_t n = s->n; /* om__pset_free forgets the count: keep it */
    om__pset_free(h, s);
    s->slots = slots;
    s->mask = cap - 1;
    s->n = n;
    return 0;
}

static uint32_t rec_hash(const void *r)
{
    return *(const uint32_t *)r;
}

/* The slot of the record equal to key, or the empty slot where it goes
 * (after growing the set when needed). NULL on failure. */
void **om__pset_slot(om_heap *h, om__pset *s, uint32_t hash,
                     int (*eq)(const void *rec, const void *key), const void *key)
{
    if ((s->n + 1) * 4 > (s->mask + 1) * 3 || !s->slots)
        if (grow(h, s, rec_hash) < 0) return NULL;
    size_t i = hash & s->mask;
    for (;;) {
        void *r = s->slots[i];
        if (!r || (*(const uint32_t *)r == hash && eq(r, key))) return &s->slots[i];
        i = (i + 1) & s->mask;
    }
}

typedef struct tbkey {
    const uintptr_t *frames;
    uint16_t nframe, kind;
    uint32_t total;
} tbkey;

static inline int tb_eq(const void *rec, const void *key)
{
    const om__tb *tb = rec;
    const tbkey *k = key;
    if (tb->nframe != k->nframe || tb->kind != k->kind || tb->total_nframe != k->total) return 0;
    for (unsigned i = 0; i < k->nframe; i++)
        if (tb->frames[i] != k->frames[i]) return 0;
    return 1;
}

static om__tb *intern_tb(om_heap *h, om__tracestate *t, const tbkey *k)
{
    /* a program's consecutive allocations often come from one stack: the
     * last one found, compared, before a hash and a probe */
    om__tb *last = t->last_tb;
    if (last && tb_eq(last, k)) return last;
    uint64_t x = ((uint64_t)k->kind << 32) ^ k->nframe ^ ((uint64_t)k->total << 16);
    for (unsigned i = 0; i < k->nframe; i++) x = ((x << 7) | (x >> 57)) ^ k->frames[i];
    uint32_t hash = mix64(x) | 1;
    if (om__likely(t->tbset.slots != NULL)) { /* the hit path, without calls */
        for (size_t i = hash & t->tbset.mask;; i = (i + 1) & t->tbset.mask) {
            om__tb *r = t->tbset.slots[i];
            if (!r) break;
            if (r->hash == hash && tb_eq(r, k)) return t->last_tb = r;
        }
    }
    void **slot = om__pset_slot(h, &t->tbset, hash, tb_eq, k);
    if (!slot) return NULL;
    if (*slot) return *slot;
    if (t->ntbs == t->tbs_cap) {
        size_t cap = t->tbs_cap ? t->tbs_cap * 2 : 256;
        om__tb **v = om__sys_realloc(h, t->tbs, t->tbs_cap * sizeof *v, cap * sizeof *v);
        if (!v) return NULL;
        t->tbs = v;
        t->tbs_cap = cap;
    }
    om__tb *tb = om__bump_alloc(h, &t->bump, sizeof *tb + k->nframe * sizeof(uintptr_t));
    if (!tb) return NULL;
    tb->hash = hash;
    tb->nframe = k->nframe;
    tb->kind = k->kind;
    tb->total_nframe = k->total;
    tb->id = (uint32_t)t->ntbs;
    tb->live_size = tb->live_count = 0;
    memcpy(tb->frames, k->frames, k->nframe * sizeof(uintptr_t));
    t->tbs[t->ntbs++] = tb;
    *slot = tb;
    t->tbset.n++;
    return t->last_tb = tb;
}

static int str_eq(const void *rec, const void *key)
{
    return strcmp(((const om__istr *)rec)->s, key) == 0;
}

/* The tracer's copy of s (interned). */
static const char *intern_str(om_heap *h, om__tracestate *t, const char *s)
{
    uint32_t hash = om__hash_str(h, s);
    void **slot = om__pset_slot(h, &t->strset, hash, str_eq, s);
    if (!slot) return NULL;
    if (!*slot) {
        size_t n = strlen(s) + 1;
        om__istr *r = om__bump_alloc(h, &t->bump, sizeof *r + n);
        if (!r) return NULL;
        r->hash = hash;
        memcpy(r->s, s, n);
        *slot = r;
        t->strset.n++;
    }
    return ((om__istr *)*slot)->s;
}

static int frame_eq(const void *rec, const void *key)
{
    const om_frame *a = &((const om__pframe *)rec)->f, *b = key;
    return a->filename == b->filename && a->lineno == b->lineno && a->name == b->name;
}

static om__pframe *intern_frame(om_heap *h, om__tracestate *t, const om_frame *f)
{
    om_frame k;
    k.filename = intern_str(h, t, f->filename ? f->filename : "<unknown>");
    k.name = f->name ? intern_str(h, t, f->name) : NULL;
    k.lineno = f->lineno;
    if (!k.filename || (f->name && !k.name)) return NULL;
    uint32_t hash =
        mix64((uintptr_t)k.filename ^ ((uint64_t)k.lineno << 40) ^ ((uintptr_t)k.name * 31)) | 1;
    void **slot = om__pset_slot(h, &t->frameset, hash, frame_eq, &k);
    if (!slot) return NULL;
    if (!*slot) {
        om__pframe *r = om__bump_alloc(h, &t->bump, sizeof *r);
        if (!r) return NULL;
        r->hash = hash;
        r->f = k;
        *slot = r;
        t->frameset.n++;
    }
    return *slot;
}

static om__tb *capture_provided(om_heap *h, om__tracestate *t)
{
    uintptr_t buf[OM_TRACE_MAX_FRAMES];
    int depth = t->provider(t->provider_ctx, t->scratch, t->nframe);
    int n = depth < 0 ? 0 : depth > t->nframe ? t->nframe : depth;
    for (int i = 0; i < n; i++) {
        om__pframe *f = intern_frame(h, t, &t->scratch[i]);
        if (!f) return NULL;
        buf[i] = (uintptr_t)f;
    }
    tbkey k = {buf, (uint16_t)n, OM_TB_PROVIDED, (uint32_t)(depth < 0 ? 0 : depth)};
    return intern_tb(h, t, &k);
}

/* The interned traceback of the current allocation; NULL on failure. */
om__tb *om__trace_capture(om_heap *h, om__tracestate *t)
{
    if (t->provider) return capture_provided(h, t);
    uintptr_t buf[OM_TRACE_MAX_FRAMES + OM_TRACE_SKIP];
    uint32_t depth;
    /* objmem's text ranges known: its frames are skipped during the walk;
     * else nframe + OM_TRACE_SKIP are kept and dropped by name later */
    int max = t->nframe + (t->nranges ? 0 : OM_TRACE_SKIP), n;
    n = t->tables ? om__cfi_walk(h, t, buf, max, &depth) : -1;
#ifdef OM_HAVE_LIBUNWIND
    if (n < 0 && t->tables) n = walk_tables(t, buf, max, &depth);
#endif
    if (n < 0) n = walk_native(t, buf, max, &depth);
    tbkey k = {buf, (uint16_t)n, t->nranges ? OM_TB_NATIVE_EXACT : OM_TB_NATIVE,
               t->nranges ? depth : (uint32_t)n};
    return intern_tb(h, t, &k);
}
