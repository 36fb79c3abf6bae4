/*
 * tour_alloc.c - tour sections for the allocator: the private heap, where
 * blocks land (class, pool, arena), the large path, and arenas returned.
 */
#include "tour.h"

int om_tour_heap(void)
{
    om_heap *h = om_heap_new(NULL);
    if (!h) return 1;
    om_tour_say("All objects live in a private heap; the program never sees its arenas.");
    om_tour_say("A heap is independent: make as many as you like, one per thread.");
    om_heap_stats st0, st;
    om_heap_get_stats(h, &st0);
    om_tour_say(
        "A new heap: %zu arena (%zu KiB mapped from the OS), %zu pools, %zu objects of its own",
        st0.arenas, st0.os_bytes / 1024, st0.pools_used, st0.heap_objects);
    om_tour_say("(None, True, False, the small ints -5..256, one-character strings: immortal).");
    void *p = om_malloc(h, 40);
    om_heap_get_stats(h, &st);
    om_tour_say(
        "One 40-byte request: +%zu pool, +%zu bytes handed out (rounded up to its 16-byte class).",
        st.pools_used - st0.pools_used, st.bytes_in_use - st0.bytes_in_use);
    om_free(h, p);
    om_heap_destroy(h);
    return st.bytes_in_use - st0.bytes_in_use == 48 ? 0 : 1;
}

int om_tour_pools(void)
{
    om_heap *h = om_heap_new(NULL);
    if (!h) return 1;
    static const size_t sizes[] = {1, 16, 17, 100, 250, 512};
    void *blocks[6];
    om_tour_say("Requests up to 512 bytes come from 16 KiB pools of one size class, cut from 1 MiB "
                "arenas:");
    om_tour_say("%8s %8s %6s %10s %6s", "request", "class", "block", "pool", "index");
    for (int i = 0; i < 6; i++) {
        om_block_info bi;
        blocks[i] = om_malloc(h, sizes[i]);
        om_block_info_get(h, blocks[i], &bi);
        om_tour_say("%8zu %8u %6zu %10u %6u", sizes[i], bi.size_class, bi.block_size, bi.pool_index,
                    bi.block_index);
    }
    /* a picture of the arena: one character per pool */
    void *more[3000];
    for (int i = 0; i < 3000; i++) more[i] = om_malloc(h, (size_t)(16 + (i % 4) * 100));
    char map[65] = {0};
    for (int i = 0; i < 64; i++) map[i] = '.';
    for (int i = 0; i < 3000; i++) {
        om_block_info bi;
        om_block_info_get(h, more[i], &bi);
        map[bi.pool_index] = (char)('a' + bi.size_class % 26);
    }
    for (int i = 0; i < 6; i++) {
        om_block_info bi;
        om_block_info_get(h, blocks[i], &bi);
        map[bi.pool_index] = (char)('a' + bi.size_class % 26);
    }
    om_tour_say("One arena after 3,000 more blocks of four sizes (a letter per pool = its class, . "
                "= free):");
    om_tour_say("[%s]", map);
    for (int i = 0; i < 3000; i++) om_free(h, more[i]);
    for (int i = 0; i < 6; i++) om_free(h, blocks[i]);
    om_heap_destroy(h);
    return 0;
}

int om_tour_classes(void)
{
    om_heap *h = om_heap_new(NULL);
    if (!h) return 1;
    void *small = om_malloc(h, 512), *large = om_malloc(h, 513);
    om_block_info a, b;
    om_block_info_get(h, small, &a);
    om_block_info_get(h, large, &b);
    om_tour_say("512 bytes: size class %u of %d, a %zu-byte block in a pool.", a.size_class,
                OM_NUM_CLASSES, a.block_size);
    om_tour_say("513 bytes: %s -- the system allocator, behind a small header.",
                b.large ? "a large block" : "a pool block");
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    om_tour_say("Large blocks still count: %zu large block, %zu bytes, and heap destroy frees it.",
                st.large_blocks, st.large_bytes);
    om_free(h, small);
    om_free(h, large);
    om_heap_destroy(h);
    return 0;
}

int om_tour_arenas(void)
{
    om_heap *h = om_heap_new(NULL);
    if (!h) return 1;
    size_t n = 200000;
    void **v = om_malloc(h, n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = om_malloc(h, 64);
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    om_tour_say("200,000 blocks of 64 bytes: %zu arenas, %zu pools, %.1f MiB in use.", st.arenas,
                st.pools_used, (double)st.bytes_in_use / 1048576.0);
    for (size_t i = 0; i < n; i++) om_free(h, v[i]);
    om_free(h, v);
    om_heap_get_stats(h, &st);
    om_tour_say(
        "All freed: %zu arenas still mapped (kept empty for reuse), %zu given back to the OS.",
        st.arenas, st.arenas_unmapped_total);
    om_tour_say(
        "Emptied pools return to their arena; emptied arenas return to the OS, past a cache of %d.",
        2);
    om_heap_destroy(h);
    return 0;
}
