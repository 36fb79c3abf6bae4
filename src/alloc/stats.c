/*
 * stats.c - the allocator's statistics (om_heap_get_stats) and the
 * sys._debugmallocstats() view (om_heap_print_stats), computed by walking
 * the arenas: nothing on the fast paths (bytes in use are the pools' nalloc
 * summed; the peak is of bytes held in pools and large blocks, kept where
 * pools are taken and given back).
 * Design note: docs/alloc.md ("Statistics").
 */
#include "internal/heap.h"

static void count_arena(om_heap *h, om__arena *ar, void *arg)
{
    om_heap_stats *st = arg;
    (void)h;
    st->pools_free += ar->nfree;
    for (unsigned i = OM_POOL_FIRST; i < OM_POOLS_PER_ARENA - ar->untouched; i++) {
        om__pool *pool = om__pool_at(ar->base + i * OM_POOL_SIZE);
        if (om__arena_pool_is_free(ar, pool)) continue;
        om_class_stats *cs = &st->classes[pool->cls];
        st->pools_used++;
        cs->pools++;
        cs->blocks_used += pool->nalloc;
        st->bytes_in_use += (size_t)pool->nalloc * pool->bsize;
        cs->blocks_free += pool->capacity - pool->nalloc;
        if (pool->kind == OM_KIND_RAW) st->raw_blocks += pool->nalloc;
    }
}

static void sum_arena(om_heap *h, om__arena *ar, void *arg)
{
    size_t *used = arg;
    (void)h;
    for (unsigned i = OM_POOL_FIRST; i < OM_POOLS_PER_ARENA - ar->untouched; i++) {
        om__pool *pool = om__pool_at(ar->base + i * OM_POOL_SIZE);
        if (!om__arena_pool_is_free(ar, pool)) *used += (size_t)pool->nalloc * pool->bsize;
    }
}

size_t om__alloc_used(om_heap *h)
{
    /* read-only (mallinfo2 of the owner's own heap, a reaper's emptiness
     * test): cached blocks are free (heap.h, "The raw block cache"),
     * subtracted */
    size_t used = h->alloc.large_bytes;
    om__arena_foreach(h, sum_arena, &used);
    for (unsigned k = 0; k < OM_NUM_CLASSES; k++)
        used -= (size_t)(om__tc_max(k) - h->alloc.tc.room[k + 1]) * om__class_size(k);
    return used;
}

void om__alloc_fill_stats(om_heap *h, om_heap_stats *st)
{
    om__alloc *a = &h->alloc;
    om__tc_flush_all(h);               /* cached blocks are free (heap.h, "The raw block cache") */
    st->bytes_in_use = a->large_bytes; /* and the pools' blocks, below */
    st->peak_bytes = a->peak;
    st->requested = a->requested;
    st->arenas = a->narenas;
    st->arenas_peak = a->narenas_peak;
    st->arenas_cached = a->ncache;
    st->arenas_mapped_total = a->mapped_total;
    st->arenas_unmapped_total = a->unmapped_total;
    st->os_bytes = a->narenas * OM_ARENA_SIZE;
    st->large_blocks = a->nlarge;
    st->large_bytes = a->large_bytes;
    st->sys_bytes = a->sys_bytes;
    st->bad_frees = a->bad_frees;
    for (unsigned c = 0; c < OM_NUM_CLASSES; c++) st->classes[c].block_size = om__class_size(c);
    om__arena_foreach(h, count_arena, st);
    for (om__large *lb = a->large[OM_KIND_RAW]; lb; lb = lb->next) st->raw_blocks++;
}

void om__alloc_print_stats(om_heap *h, const om_heap_stats *st, FILE *out)
{
    (void)h;
    fprintf(out, "Small block threshold = %d, in %d size classes.\n\n", OM_SMALL_MAX,
            OM_NUM_CLASSES);
    fprintf(out, "class   size   num pools   blocks in use  avail blocks\n");
    fprintf(out, "-----   ----   ---------   -------------  ------------\n");
    size_t used_bytes = 0, free_bytes = 0;
    for (unsigned c = 0; c < OM_NUM_CLASSES; c++) {
        const om_class_stats *cs = &st->classes[c];
        if (!cs->pools) continue;
        fprintf(out, "%5u %6zu %11zu %15zu %13zu\n", c, cs->block_size, cs->pools, cs->blocks_used,
                cs->blocks_free);
        used_bytes += cs->blocks_used * cs->block_size;
        free_bytes += cs->blocks_free * cs->block_size;
    }
    size_t pool_bytes = st->pools_used * OM_POOL_SIZE;
    size_t overhead = pool_bytes - used_bytes - free_bytes;
    fprintf(out, "\n");
    fprintf(out, "# arenas allocated total           = %14zu\n", st->arenas_mapped_total);
    fprintf(out, "# arenas reclaimed                 = %14zu\n", st->arenas_unmapped_total);
    fprintf(out, "# arenas highwater mark            = %14zu\n", st->arenas_peak);
    fprintf(out, "# arenas allocated current         = %14zu\n", st->arenas);
    fprintf(out, "# arenas kept empty for reuse      = %14zu\n", st->arenas_cached);
    fprintf(out, "%zu arenas * %zu bytes/arena         = %14zu\n\n", st->arenas, OM_ARENA_SIZE,
            st->os_bytes);
    fprintf(out, "# bytes in allocated blocks        = %14zu\n", used_bytes);
    fprintf(out, "# bytes in available blocks        = %14zu\n", free_bytes);
    fprintf(out, "%zu unused pools * %zu bytes        = %14zu\n", st->pools_free, OM_POOL_SIZE,
            st->pools_free * OM_POOL_SIZE);
    fprintf(out, "# bytes lost to pool headers/tails = %14zu\n", overhead);
    fprintf(out, "%zu metadata pools * %zu bytes      = %14zu\n", st->arenas, OM_POOL_SIZE,
            st->arenas * OM_POOL_SIZE); /* pool 0 of each arena: descriptors, bitmaps */
    fprintf(out, "Total                              = %14zu\n", st->os_bytes);
    double frag = pool_bytes ? 100.0 * (double)(free_bytes + overhead) / (double)pool_bytes : 0.0;
    fprintf(out, "fragmentation (free + headers of used pools) = %.1f%%\n\n", frag);
    fprintf(out, "# large blocks                     = %14zu\n", st->large_blocks);
    fprintf(out, "# bytes in large blocks            = %14zu\n", st->large_bytes);
    fprintf(out, "# bytes from the system allocator  = %14zu\n", st->sys_bytes);
    fprintf(out, "# bytes in use (peak)              = %14zu (%zu)\n", st->bytes_in_use,
            st->peak_bytes);
    if (st->bad_frees) fprintf(out, "# bad frees (foreign pointers)    = %14zu\n", st->bad_frees);
}
