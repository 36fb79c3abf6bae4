/*
 * debug.c - debug mode, in the manner of PYTHONMALLOC=debug: every block
 * gets a 16-byte prefix (requested size, state, guard bytes) and guard
 * bytes after the payload; fresh payloads are filled with 0xCD, freed ones
 * with 0xDD. Frees, reallocs and om_heap_check verify them, and misuse
 * stops the program with a report naming the block.
 * Design note: docs/alloc.md ("Debug mode").
 */
#include <stdlib.h>

#include "internal/heap.h"

static om__dbg *prefix_of(const void *p)
{
    return (om__dbg *)((char *)p - OM_DBG_PREFIX);
}

/* A freed block: a small one says so in its size word (its state byte is
 * under the free-list link, alloc.h om__block), a large one in state. */
static int freed(const om__dbg *d)
{
    return d->size == OM_DBG_FREED_SIZE || d->state == OM_DBG_FREED;
}

/* Bytes at the start of a freed small payload that are not dead: an
 * object's refcnt and gc word read 0 (a count operation reports, and
 * om_heap_of finds the pool), and its type pointer stays, so the report
 * can name the type of a freed object. Raw blocks: 8 zero bytes. */
static size_t kept_bytes(const om__pool *pool)
{
    return pool->kind == OM_KIND_RAW ? 8 : 16;
}

/* 1 when the first 8 bytes of a freed payload (an object's count and gc
 * word) still read 0. */
static int kept_zero(const void *payload)
{
    uint64_t w;
    memcpy(&w, payload, sizeof w);
    return w == 0;
}

/* The block's end: the pool block's end, or the large block's tail end. */
static char *block_end(om_heap *h, const void *p, size_t size)
{
    if (om__arena_of_ptr(&h->alloc, p)) {
        om__pool *pool = om__pool_of(p);
        char *blk = (char *)p - OM_DBG_PREFIX;
        return blk + pool->bsize;
    }
    return (char *)p + size + OM_DBG_TAIL;
}

static void *dbg_alloc(om_heap *h, size_t size, unsigned kind)
{
    size_t total = OM_DBG_PREFIX + size + OM_DBG_TAIL;
    char *blk;
    if (total < size) return om__err_null(h, OM_ENOMEM, "a block of %zu bytes is too large", size);
    if (total <= OM_SMALL_MAX) {
        blk = om__pool_alloc_slow(h, kind, om__size_class(total));
        if (!blk) return NULL;
        om__vg_defined(blk, om__pool_of(blk)->bsize); /* prefix and patterns are ours */
        om__dbg *d = (om__dbg *)blk;
        if (d->size == OM_DBG_FREED_SIZE) { /* reused: the dead pattern must be intact */
            char *end = blk + om__pool_of(blk)->bsize;
            for (char *q = blk + OM_DBG_PREFIX + kept_bytes(om__pool_of(blk)); q < end; q++)
                if ((unsigned char)*q != OM_DBG_DEAD)
                    om__dbg_report(h, "a freed block was written to (use after free)",
                                   blk + OM_DBG_PREFIX, "allocation");
            if (!kept_zero(blk + OM_DBG_PREFIX)) /* e.g. om_incref of a freed object */
                om__dbg_report(h, "a freed object's count was written to (use after free)",
                               blk + OM_DBG_PREFIX, "allocation");
        }
    } else {
        char *payload = om__large_alloc(h, size, kind, OM_DBG_PREFIX);
        if (!payload) return NULL;
        blk = payload - OM_DBG_PREFIX;
    }
    om__dbg *d = (om__dbg *)blk;
    d->size = size;
    d->state = OM_DBG_LIVE;
    d->kind = (uint8_t)kind;
    memset(d->guard, OM_DBG_GUARD, sizeof d->guard);
    char *payload = blk + OM_DBG_PREFIX;
    memset(payload, OM_DBG_CLEAN, size);
    char *end = block_end(h, payload, size);
    memset(payload + size, OM_DBG_GUARD, (size_t)(end - payload - size));
    h->alloc.requested += size;
    return payload;
}

/* Verify the prefix and the guards of live block p; report and stop on
 * any damage. api names the call that found it. */
static void check_live(om_heap *h, const void *p, const char *api)
{
    const om__dbg *d = prefix_of(p);
    if (freed(d)) om__dbg_report(h, "double free (the block is already free)", p, api);
    for (size_t i = 0; i < sizeof d->guard; i++)
        if (d->guard[i] != OM_DBG_GUARD || d->state != OM_DBG_LIVE)
            om__dbg_report(h, "buffer underrun (the guard bytes before the block are damaged)", p,
                           api);
    /* the size field must fit the block, or the tail scan would leave it */
    const om__large *lb = om__arena_of_ptr(&h->alloc, p) ? NULL : om__large_find(h, prefix_of(p));
    if (lb ? d->size != lb->size : d->size + OM_DBG_PREFIX + OM_DBG_TAIL > om__pool_of(p)->bsize)
        om__dbg_report(h, "buffer underrun (the size before the block is damaged)", p, api);
    const char *end = block_end(h, p, d->size);
    for (const char *q = (const char *)p + d->size; q < end; q++)
        if ((unsigned char)*q != OM_DBG_GUARD)
            om__dbg_report(h, "buffer overrun (the guard bytes after the block are damaged)", p,
                           api);
}

/* 1 when p is a block start of h (debug layout); foreign pointers and
 * pointers into the middle of a block are not. */
static int owned(om_heap *h, const void *p)
{
    if (om__arena_of_ptr(&h->alloc, p)) return om_owns(h, p);
    return om__large_find(h, (const char *)p - OM_DBG_PREFIX) != NULL;
}

/* Every debug-mode allocation and free is a slow path: all are checked
 * for a second thread (om__enter). */
void *om__dbg_alloc(om_heap *h, size_t size, unsigned kind)
{
    om__enter(h, "an allocation");
    void *p = dbg_alloc(h, size, kind);
    om__leave(h);
    return p;
}

static void dbg_free(om_heap *h, void *p, unsigned kind, const char *api);

void om__dbg_free(om_heap *h, void *p, unsigned kind, const char *api)
{
    om__enter(h, api);
    dbg_free(h, p, kind, api);
    om__leave(h);
}

static void dbg_free(om_heap *h, void *p, unsigned kind, const char *api)
{
    if (!owned(h, p))
        om__dbg_report(h, "not a block of this heap (foreign, stack or interior pointer)", p, api);
    /* a free block is poisoned whole; its prefix says whether it is free */
    om__unpoison(prefix_of(p), OM_DBG_PREFIX);
    om__vg_defined(prefix_of(p), OM_DBG_PREFIX);
    check_live(h, p, api);
    om__dbg *d = prefix_of(p);
    if ((kind == OM_KIND_RAW) != (d->kind == OM_KIND_RAW))
        om__dbg_report(h,
                       kind == OM_KIND_RAW ? "om_free of an object's block (use om_decref)"
                                           : "an object freed that is a raw block",
                       p, api);
    h->alloc.requested -= d->size;
    if (!om__arena_of_ptr(&h->alloc, p)) {
        d->state = OM_DBG_FREED;
        om__large_free(h, om__large_hdr(p, OM_DBG_PREFIX));
        return;
    }
    char *end = block_end(h, p, d->size);
    const om_type *type = kind != OM_KIND_RAW ? ((om_object *)p)->type : NULL;
    memset(p, OM_DBG_DEAD, (size_t)(end - (char *)p));
    /* kept_bytes: count and gc word 0, an object's type pointer kept */
    memset(p, 0, 8);
    if (kind != OM_KIND_RAW) ((om_object *)p)->type = type;
    d->size = OM_DBG_FREED_SIZE; /* the link goes over state and guard */
    om__pool_free_slow(h, om__pool_of(p), (om__block *)d);
}

void *om__dbg_realloc(om_heap *h, void *p, size_t size)
{
    if (!owned(h, p))
        om__dbg_report(h, "not a block of this heap (foreign, stack or interior pointer)", p,
                       "om_realloc");
    om__unpoison(prefix_of(p), OM_DBG_PREFIX);
    om__vg_defined(prefix_of(p), OM_DBG_PREFIX);
    check_live(h, p, "om_realloc");
    if (prefix_of(p)->kind != OM_KIND_RAW)
        om__dbg_report(h, "om_realloc of an object's block", p, "om_realloc");
    size_t old = prefix_of(p)->size;
    void *q = om_malloc(h, size);
    if (!q) return NULL;
    memcpy(q, p, old < size ? old : size);
    om_free(h, p);
    return q;
}

size_t om__dbg_size(const void *p)
{
    return prefix_of(p)->size;
}

int om__dbg_check_block(om_heap *h, const void *p, int live, FILE *out)
{
    const om__dbg *d = prefix_of(p);
    if (live) {
        check_live(h, p, "om_heap_check");
        return 0;
    }
    if (d->size != OM_DBG_FREED_SIZE) return 0; /* never used yet */
    const char *end = (const char *)d + om__pool_of(p)->bsize;
    for (const char *q = (const char *)p + kept_bytes(om__pool_of(p)); q < end; q++)
        if ((unsigned char)*q != OM_DBG_DEAD) {
            fprintf(out, "objmem: free block %p was written to after free\n", p);
            om__dbg_report(h, "a freed block was written to (use after free)", p, "om_heap_check");
        }
    if (!kept_zero(p)) {
        fprintf(out, "objmem: the count of freed object %p was written to after free\n", p);
        om__dbg_report(h, "a freed object's count was written to (use after free)", p,
                       "om_heap_check");
    }
    return 0;
}

/* Print up to n bytes at q, in hex. */
static void dump(FILE *out, const char *label, const unsigned char *q, size_t n)
{
    fprintf(out, "    %s at %p:", label, (const void *)q);
    for (size_t i = 0; i < n; i++) fprintf(out, " %02x", q[i]);
    fputc('\n', out);
}

void om__dbg_report(om_heap *h, const char *problem, const void *p, const char *api)
{
    FILE *out = h->report;
    fprintf(out, "objmem: debug: %s\n", problem);
    fprintf(out, "    detected by %s on the block at %p\n", api, p);
    int small = om__arena_of_ptr(&h->alloc, p) != NULL;
    const om__large *lb = small ? NULL : om__large_find(h, (const char *)p - OM_DBG_PREFIX);
    if (small || lb) {
        om__pool *pool = om__pool_of(p);
        const om__dbg *d = prefix_of(p);
        if (small) { /* we stop anyway: let the dump read free blocks too */
            om__unpoison(om__pool_start(pool), OM_POOL_SIZE);
            om__vg_defined(om__pool_start(pool), OM_POOL_SIZE);
        }
        if (small && om__pool_index(pool) >= OM_POOL_FIRST &&
            (const char *)d >= om__pool_first(pool)) {
            fprintf(out, "    %s block of %u bytes (size class %u)\n",
                    pool->kind == OM_KIND_RAW ? "raw" : "object", pool->bsize, pool->cls);
            if (d->state == OM_DBG_LIVE)
                fprintf(out, "    %llu bytes requested\n", (unsigned long long)d->size);
            dump(out, "prefix", (const unsigned char *)d, OM_DBG_PREFIX);
            size_t room = (size_t)(om__pool_end(pool) - (const char *)p);
            dump(out, "payload", p, room < 48 ? room : 48);
            if (d->state == OM_DBG_LIVE && d->size <= OM_SMALL_MAX) {
                size_t tail = (size_t)((const char *)d + pool->bsize - (const char *)p) - d->size;
                dump(out, "after payload", (const unsigned char *)p + d->size, tail);
            }
        } else if (lb) {
            fprintf(out, "    large block, %zu bytes requested\n", lb->size);
            dump(out, "prefix", (const unsigned char *)d, OM_DBG_PREFIX);
            dump(out, "after payload", (const unsigned char *)p + lb->size, OM_DBG_TAIL);
        }
        h->alloc.up.report_block(h, p, out);
    } else {
        fprintf(out, "    the pointer is in no arena and no large block of this heap\n");
    }
    fflush(out);
    abort();
}
