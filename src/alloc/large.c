/*
 * large.c - blocks over OM_SMALL_MAX: the seam's malloc behind a 64-byte
 * header (om__large), on a per-kind list for heap destroy and collection,
 * and in the large set, an open-addressing set of payload pointers that
 * answers "is this a large block of ours?" in O(1) without touching the
 * pointer. Design note: docs/alloc.md ("Large blocks").
 */
#include "internal/delayed.h"

#define LSET_TOMB ((void *)1)

static size_t lset_home(const om__alloc *a, const void *p)
{
    return (size_t)(((uint64_t)(uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull >> 20) & a->lset_mask;
}

/* Insert into a table known to have room. */
static void lset_put(om__alloc *a, void *p)
{
    size_t i = lset_home(a, p);
    while (a->lset[i] != NULL && a->lset[i] != LSET_TOMB) i = (i + 1) & a->lset_mask;
    if (a->lset[i] == LSET_TOMB) a->lset_tomb--;
    a->lset[i] = p;
    a->lset_count++;
}

/* Keep (live + tombstones) under 1/2 of the capacity. */
static int lset_reserve(om_heap *h)
{
    om__alloc *a = &h->alloc;
    size_t cap = a->lset ? a->lset_mask + 1 : 0;
    if ((a->lset_count + a->lset_tomb + 1) * 2 <= cap) return 0;
    size_t ncap = cap ? cap : 64;
    while ((a->lset_count + 1) * 4 > ncap) ncap *= 2; /* rebuilt at load <= 1/4 */
    void **nt = om__sys_calloc(h, ncap, sizeof *nt);
    if (!nt) return OM_ENOMEM;
    void **old = a->lset;
    a->lset = nt;
    a->lset_mask = ncap - 1;
    a->lset_count = a->lset_tomb = 0;
    for (size_t i = 0; i < cap; i++)
        if (old[i] != NULL && old[i] != LSET_TOMB) lset_put(a, old[i]);
    if (old) om__sys_free(h, old, cap * sizeof *old);
    return 0;
}

static void lset_del(om__alloc *a, const void *p)
{
    size_t i = lset_home(a, p);
    while (a->lset[i] != p) i = (i + 1) & a->lset_mask;
    a->lset[i] = LSET_TOMB;
    a->lset_count--;
    a->lset_tomb++;
}

/* The header of the large block whose allocation starts at block (the
 * header's end, before any debug prefix), or NULL. */
static om__large *lset_find(const om__alloc *a, const void *block)
{
    if (!a->lset) return NULL;
    size_t i = lset_home(a, block);
    for (;;) {
        void *e = a->lset[i];
        if (e == block) return (om__large *)block - 1;
        if (e == NULL) return NULL;
        i = (i + 1) & a->lset_mask;
    }
}

om__large *om__large_find(const om_heap *h, const void *block)
{
    return lset_find(&h->alloc, block);
}

static void list_push(om__alloc *a, om__large *lb)
{
    om__large **head = &a->large[lb->kind];
    lb->prev = NULL;
    lb->next = *head;
    if (*head) (*head)->prev = lb;
    *head = lb;
}

static void list_unlink(om__alloc *a, om__large *lb)
{
    if (lb->prev)
        lb->prev->next = lb->next;
    else
        a->large[lb->kind] = lb->next;
    if (lb->next) lb->next->prev = lb->prev;
}

static size_t large_total(size_t size, size_t prefix)
{
    return sizeof(om__large) + prefix + size + (prefix ? OM_DBG_TAIL : 0);
}

/* No block, header included, is larger than PTRDIFF_MAX (as glibc's
 * malloc: differences of pointers into it must fit a ptrdiff_t), and its
 * total must not wrap: such sizes fail here, without asking the system. */
static int too_large(om_heap *h, size_t size, size_t total)
{
    if (total >= size && total <= (size_t)PTRDIFF_MAX) return 0;
    om__err(h, OM_ENOMEM, "a block of %zu bytes is too large (the limit is PTRDIFF_MAX)", size);
    return 1;
}

/* A large block; prefix is the debug prefix size (0 outside debug mode),
 * whose bytes the caller fills. Returns the address after the prefix. */
static void *large_alloc(om_heap *h, size_t size, unsigned kind, size_t prefix)
{
    om__delayed_collect(h);
    size_t total = large_total(size, prefix);
    if (too_large(h, size, total)) return NULL;
    if (lset_reserve(h) < 0) return om__err_null(h, OM_ENOMEM, "no memory for the large set");
    om__large *lb = h->cfg.sys.malloc(h->cfg.sys.ctx, total);
    if (!lb) return om__err_null(h, OM_ENOMEM, "the system allocator refused %zu bytes", total);
    memset(lb, 0, sizeof *lb);
    lb->size = size;
    lb->heap = h;
    lb->magic = OM_LARGE_MAGIC;
    lb->kind = (uint8_t)kind;
    lb->gen = 0;
    list_push(&h->alloc, lb);
    lset_put(&h->alloc, lb + 1);
    h->alloc.nlarge++;
    h->alloc.large_bytes += size;
    h->alloc.sys_bytes += total;
    h->alloc.held += size;
    if (h->alloc.held > h->alloc.peak) h->alloc.peak = h->alloc.held;
    om__alloc_publish(&h->alloc);
    return (char *)(lb + 1) + prefix;
}

void *om__large_alloc(om_heap *h, size_t size, unsigned kind, size_t prefix)
{
    om__enter(h, "a large allocation");
    void *p = large_alloc(h, size, kind, prefix);
    om__leave(h);
    return p;
}

static size_t large_prefix(const om_heap *h)
{
    return (h->hooks & OM_HOOK_DEBUG) ? OM_DBG_PREFIX : 0;
}

void om__large_free(om_heap *h, om__large *lb)
{
    om__enter(h, "a large free");
    size_t total = large_total(lb->size, large_prefix(h));
    list_unlink(&h->alloc, lb);
    lset_del(&h->alloc, lb + 1);
    h->alloc.nlarge--;
    h->alloc.large_bytes -= lb->size;
    h->alloc.sys_bytes -= total;
    h->alloc.held -= lb->size;
    om__alloc_publish(&h->alloc);
    lb->magic = 0;
    h->cfg.sys.free(h->cfg.sys.ctx, lb, total);
    om__leave(h);
}

/* Resize a large raw block to another large size (no debug prefix). On
 * failure the block is intact and still listed. */
void *om__large_realloc(om_heap *h, void *p, size_t size)
{
    om__large *lb = (om__large *)p - 1;
    size_t old = lb->size, ot = large_total(old, 0), nt = large_total(size, 0);
    if (too_large(h, size, nt)) return NULL;
    if (lset_reserve(h) < 0) return om__err_null(h, OM_ENOMEM, "no memory for the large set");
    om__large *nb = h->cfg.sys.realloc(h->cfg.sys.ctx, lb, ot, nt);
    if (!nb) return om__err_null(h, OM_ENOMEM, "the system allocator refused %zu bytes", nt);
    if (nb != lb) { /* moved: the neighbours and the set still name lb */
        if (nb->prev)
            nb->prev->next = nb;
        else
            h->alloc.large[nb->kind] = nb;
        if (nb->next) nb->next->prev = nb;
        lset_del(&h->alloc, lb + 1); /* compares addresses only */
        lset_put(&h->alloc, nb + 1);
    }
    nb->size = size;
    h->alloc.large_bytes = h->alloc.large_bytes - old + size;
    h->alloc.sys_bytes = h->alloc.sys_bytes - ot + nt;
    h->alloc.held = h->alloc.held - old + size;
    if (h->alloc.held > h->alloc.peak) h->alloc.peak = h->alloc.held;
    om__alloc_publish(&h->alloc);
    if (h->hooks & OM_HOOK_TRACE) {
        h->alloc.up.on_free(h, p);
        h->alloc.up.on_alloc(h, nb + 1, size);
    }
    return nb + 1;
}

/* Release every large block (heap destroy). */
void om__large_release_all(om_heap *h)
{
    size_t prefix = large_prefix(h);
    for (unsigned k = 0; k < OM_NKINDS; k++) {
        om__large *lb = h->alloc.large[k];
        while (lb) {
            om__large *next = lb->next;
            h->cfg.sys.free(h->cfg.sys.ctx, lb, large_total(lb->size, prefix));
            lb = next;
        }
        h->alloc.large[k] = NULL;
    }
    if (h->alloc.lset) om__sys_free(h, h->alloc.lset, (h->alloc.lset_mask + 1) * sizeof(void *));
    h->alloc.lset = NULL;
}
