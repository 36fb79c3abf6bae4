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
    om_tour_say("A new heap: %zu %s (%zu KiB mapped from the OS), %zu %s, %zu objects of its own",
                st0.arenas, om_tour_plural(st0.arenas, "arena", "arenas"), st0.os_bytes / 1024,
                st0.pools_used, om_tour_plural(st0.pools_used, "pool", "pools"), st0.heap_objects);
    om_tour_say("(None, True, False, the small ints -5..256, one-character strings: immortal).");
    void *p = om_malloc(h, 40);
    om_heap_get_stats(h, &st);
    size_t dpools = st.pools_used - st0.pools_used;
    om_tour_say(
        "One 40-byte request: +%zu %s, +%zu bytes handed out (rounded up to its 16-byte class).",
        dpools, om_tour_plural(dpools, "pool", "pools"), st.bytes_in_use - st0.bytes_in_use);
    om_free(h, p);
    om_heap_destroy(h);
    return st.bytes_in_use - st0.bytes_in_use == 48 ? 0 : 1;
}

/* The arena picture's letter for size class cls: a..z = 0..25, A..R = 26..43. */
static char class_letter(unsigned cls)
{
    return (char)(cls < 26 ? 'a' + cls : 'A' + (cls - 26));
}

int om_tour_pools(void)
{
    om_heap *h = om_heap_new(NULL);
    if (!h) return 1;
    static const size_t sizes[] = {1, 16, 17, 100, 250, 512, 1000};
    enum { NSIZES = sizeof sizes / sizeof *sizes };
    void *blocks[NSIZES];
    om_heap_stats st0;
    om_heap_get_stats(h, &st0); /* the heap's own pools come first in its arena */
    om_tour_say("Requests up to %d bytes come from 16 KiB pools of one size class, cut from 1 MiB "
                "arenas.",
                OM_SMALL_MAX);
    om_tour_say("class: the size class (16-byte steps to 512 bytes, 128-byte steps above); pool: "
                "the pool's place");
    om_tour_say("in its arena (1..63: pool 0 is the arena's metadata, the pools' descriptors and "
                "bitmaps);");
    om_tour_say("index: the block's place in its pool.");
    om_tour_say("%8s %8s %6s %10s %6s", "request", "class", "block", "pool", "index");
    for (int i = 0; i < NSIZES; i++) {
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
    map[0] = '#'; /* the metadata */
    for (int i = 0; i < 3000; i++) {
        om_block_info bi;
        om_block_info_get(h, more[i], &bi);
        map[bi.pool_index] = class_letter(bi.size_class);
    }
    for (int i = 0; i < NSIZES; i++) {
        om_block_info bi;
        om_block_info_get(h, blocks[i], &bi);
        map[bi.pool_index] = class_letter(bi.size_class);
    }
    om_block_info four[4];
    for (int i = 0; i < 4; i++) om_block_info_get(h, more[i], &four[i]);
    for (size_t i = 1; i <= st0.pools_used && i < 64; i++)
        if (map[i] == '.') map[i] = '*';
    om_tour_say("One arena after 3,000 more blocks of 16, 116, 216 and 316 bytes, a letter per "
                "pool:");
    om_tour_say("[%s]", map);
    om_tour_say("Each letter is the pool's size class: a = class 0 (16-byte blocks), b = 1 (32), "
                "...,");
    om_tour_say("z = 25 (416), A..R = 26..43 (432..2048). The four sizes are %c, %c, %c and %c "
                "(%zu-,",
                class_letter(four[0].size_class), class_letter(four[1].size_class),
                class_letter(four[2].size_class), class_letter(four[3].size_class),
                four[0].block_size);
    om_block_info first, last;
    om_block_info_get(h, blocks[0], &first);
    om_block_info_get(h, blocks[NSIZES - 1], &last);
    om_tour_say("%zu-, %zu- and %zu-byte blocks); pools %u..%u hold the table's seven blocks.",
                four[1].block_size, four[2].block_size, four[3].block_size, first.pool_index,
                last.pool_index);
    om_tour_say("# = the metadata (the 63 pools' descriptors, 8 KiB in a row, and their bitmaps);");
    om_tour_say("* = the heap's own pools (its cached objects); . = a pool not carved yet.");
    for (int i = 0; i < 3000; i++) om_free(h, more[i]);
    for (int i = 0; i < NSIZES; i++) om_free(h, blocks[i]);
    om_heap_destroy(h);
    return 0;
}

int om_tour_classes(void)
{
    om_heap *h = om_heap_new(NULL);
    if (!h) return 1;
    void *small = om_malloc(h, 512), *medium = om_malloc(h, 513), *large = om_malloc(h, 2049);
    om_block_info a, m, b;
    om_block_info_get(h, small, &a);
    om_block_info_get(h, medium, &m);
    om_block_info_get(h, large, &b);
    om_tour_say("512 bytes: size class %u of %d, a %zu-byte block in a pool (16-byte steps).",
                a.size_class, OM_NUM_CLASSES, a.block_size);
    om_tour_say("513 bytes: size class %u, a %zu-byte block (128-byte steps up to %d bytes).",
                m.size_class, m.block_size, OM_SMALL_MAX);
    om_tour_say("2049 bytes: %s -- the system allocator, behind a small header.",
                b.large ? "a large block" : "a pool block");
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    om_tour_say("Large blocks still count: %zu large %s, %zu bytes, and heap destroy frees %s.",
                st.large_blocks, om_tour_plural(st.large_blocks, "block", "blocks"), st.large_bytes,
                om_tour_plural(st.large_blocks, "it", "them"));
    om_free(h, small);
    om_free(h, medium);
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
    om_tour_say("200,000 blocks of 64 bytes: %zu %s, %zu %s, %.1f MiB in use.", st.arenas,
                om_tour_plural(st.arenas, "arena", "arenas"), st.pools_used,
                om_tour_plural(st.pools_used, "pool", "pools"),
                (double)st.bytes_in_use / 1048576.0);
    for (size_t i = 0; i < n; i++) om_free(h, v[i]);
    om_free(h, v);
    om_heap_get_stats(h, &st);
    om_tour_say("All freed: %zu %s still mapped, resident for a rebuild: free memory goes back",
                st.arenas, om_tour_plural(st.arenas, "arena", "arenas"));
    om_tour_say("to the OS once it has stayed free for om_config.decay_ms (1 s), or now:");
    size_t trimmed = om_heap_trim(h);
    om_heap_get_stats(h, &st);
    om_tour_say("om_heap_trim gave back %.1f MiB: %zu %s mapped (%zu of them empty, purged).",
                (double)trimmed / 1048576.0, st.arenas,
                om_tour_plural(st.arenas, "arena", "arenas"), st.arenas_cached);
    om_heap_destroy(h);
    return 0;
}
