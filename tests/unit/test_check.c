/*
 * test_check.c - om_heap_check finds a broken allocator: the lists of
 * pools with free blocks are corrupted by hand here (through the internal
 * structures, as only the checker's own test may), and each corruption
 * must be reported, in bounded time, and then repaired so the heap is
 * destroyed normally.
 */
#define OM_BUILD_CORE 1
#include "../../src/internal/heap.h"

#include <unistd.h>

#include "om_test.h"

enum { CLS = 43 }; /* 2048-byte blocks: 7 to a pool */

/* Three pools of the 2048-byte class, the first two with one free block:
 * both on the list, the one freed into last at the head. */
static void two_listed_pools(om_heap *h, void **p)
{
    for (int i = 0; i < 21; i++) p[i] = om_malloc(h, 2048);
    om_free(h, p[0]);
    om_free(h, p[7]);
    p[0] = p[7] = NULL;
    om__tc_flush_all(h); /* the two blocks were on the raw block cache */
    assert_int_equal(om_heap_check(h), 0);
}

static void free_all(om_heap *h, void **p)
{
    for (int i = 0; i < 21; i++) om_free(h, p[i]);
    assert_int_equal(om_heap_check(h), 0);
}

/* A pool that says it is on its list but cannot be reached from the head
 * would never serve again and would corrupt the list when retired. */
static void test_check_finds_a_pool_lost_from_its_list(void **state)
{
    om_heap *h = OM_HEAP(state);
    void *p[21];
    two_listed_pools(h, p);
    om__pool *head = h->alloc.avail[OM_KIND_RAW][CLS], *lost = head->next;
    assert_non_null(lost);
    assert_true(lost->on_avail);
    head->next = NULL;
    assert_int_equal(om_heap_check(h), OM_ESTATE);
    head->next = lost;
    free_all(h, p);
}

/* A cycle in a list is reported, not walked forever. */
static void test_check_finds_a_cycle_in_bounded_time(void **state)
{
    om_heap *h = OM_HEAP(state);
    void *p[21];
    two_listed_pools(h, p);
    om__pool *head = h->alloc.avail[OM_KIND_RAW][CLS], *second = head->next;
    assert_null(second->next);
    second->next = head;
    alarm(20); /* a hang fails the test instead of waiting for ctest */
    assert_int_equal(om_heap_check(h), OM_ESTATE);
    alarm(0);
    second->next = NULL;
    free_all(h, p);
}

/* The kept slot of a class must name a kept pool of that class. */
static void test_check_finds_a_stale_kept_slot(void **state)
{
    om_heap *h = OM_HEAP(state);
    void *p[21];
    two_listed_pools(h, p);
    om__pool *head = h->alloc.avail[OM_KIND_RAW][CLS];
    om__pool *was = h->alloc.kept[OM_KIND_RAW][CLS];
    h->alloc.kept[OM_KIND_RAW][CLS] = head; /* a pool in use, on its list */
    assert_int_equal(om_heap_check(h), OM_ESTATE);
    h->alloc.kept[OM_KIND_RAW][CLS] = was;
    free_all(h, p);
}

/* The arena's metadata (alloc.h, "The layout of an arena"): descriptor 0
 * is no pool and must name no heap (else a pointer into the metadata would
 * pass om_free's owner test), and its second line must point to the
 * arena. Both corruptions are reported. */
static void test_check_finds_a_corrupt_metadata_descriptor(void **state)
{
    om_heap *h = OM_HEAP(state);
    void *p[21];
    two_listed_pools(h, p);
    om__pool *meta = om__pool_of(om__pool_arena(om__pool_of(p[1]))->base);
    assert_int_equal(om__pool_index(meta), 0);
    meta->heap = h;
    assert_int_equal(om_heap_check(h), OM_ESTATE);
    meta->heap = NULL;
    assert_int_equal(om_heap_check(h), 0);
    om__arena_head *head = om__arena_head_of(p[1]);
    om__arena *was = head->arena;
    head->arena = NULL;
    assert_int_equal(om_heap_check(h), OM_ESTATE);
    head->arena = was;
    head->zero[3] = 1; /* descriptor 0's heap field must read "no heap" */
    assert_int_equal(om_heap_check(h), OM_ESTATE);
    head->zero[3] = 0;
    /* om_free takes a set bit in pool 0's bitmap for a live raw block of
     * the metadata: none may be set */
    om__pool_abm(meta)[1] |= 4;
    assert_int_equal(om_heap_check(h), OM_ESTATE);
    om__pool_abm(meta)[1] &= ~(uint64_t)4;
    assert_int_equal(om_heap_check(h), 0);
    free_all(h, p);
}

/* The raw pools' live bits (alloc.h, pool invariant 7) over thousands of
 * blocks of every fine class, some freed to the pools and some cached: a
 * live block without its bit, a free or cached block with one, and a bit
 * inside a block are each reported. */
static void test_check_finds_wrong_raw_live_bits(void **state)
{
    om_heap *h = OM_HEAP(state);
    enum { N = 4000 };
    static char *p[N];
    for (int i = 0; i < N; i++) assert_non_null(p[i] = om_malloc(h, 16 + (size_t)(i % 32) * 16));
    for (int i = 0; i < N; i += 3) om_free(h, p[i]); /* some cached, some on their pools */
    assert_int_equal(om_heap_check(h), 0);
    if (!(h->hooks & OM_HOOK_DEBUG)) {
        char *live = p[N - 2], *cached = p[N - 1], *pooled = p[0]; /* N - 1: freed last */
        om__raw_bit_clear(live);                                   /* live, unmarked */
        assert_int_equal(om_heap_check(h), OM_ESTATE);
        om__raw_bit_set(live);
        assert_int_equal(om_heap_check(h), 0);
        om__raw_bit_set(cached); /* cached, marked */
        assert_int_equal(om_heap_check(h), OM_ESTATE);
        om__raw_bit_clear(cached);
        om__tc_flush_all(h);
        om__raw_bit_set(pooled); /* on its pool's free list, marked */
        assert_int_equal(om_heap_check(h), OM_ESTATE);
        om__raw_bit_clear(pooled);
        om__raw_bit_set(live + 16); /* inside a block of 32 bytes or more */
        assert_int_equal(om_heap_check(h), OM_ESTATE);
        om__raw_bit_clear(live + 16);
        assert_int_equal(om_heap_check(h), 0);
    }
    for (int i = 0; i < N; i++)
        if (i % 3) om_free(h, p[i]);
    assert_int_equal(om_heap_check(h), 0);
}

/* objmem's own raw blocks (heap.h, "Own blocks"): thousands of lists and
 * dicts of every size up to past OM_SMALL_MAX, grown, shrunk and dropped
 * with tracing off, on, and off again: om_free refuses their storage, and
 * om_heap_check's count of unmarked blocks matches what they hold at every
 * step, the traced run included (it lends them their bits). */
static void test_check_counts_own_blocks_across_tracing(void **state)
{
    om_heap *h = OM_HEAP(state);
    enum { N = 3000 };
    static om_object *l[N], *d[N / 10];
    for (int i = 0; i < N; i++) {
        assert_non_null(l[i] = om_list_new(h, (size_t)(i % 7)));
        for (int k = 0; k < i % 300; k++) assert_int_equal(om_list_append(l[i], om_none(h)), 0);
    }
    for (int i = 0; i < N / 10; i++) {
        assert_non_null(d[i] = om_dict_new(h));
        for (int k = 0; k < i % 90; k++)
            assert_int_equal(om_dict_set_steal(d[i], om_int_new(h, k), om_int_new(h, k)), 0);
    }
    assert_int_equal(om_heap_check(h), 0);
    if (!(h->hooks & OM_HOOK_DEBUG)) {
        om__list *one = (om__list *)l[5]; /* 5 items in a small block */
        om_free(h, one->items);
        assert_int_equal(om_errcode(h), OM_EFOREIGN);
        assert_int_equal(om_heap_check(h), 0);
    }
    assert_int_equal(om_trace_start(h, 1), 0);
    for (int i = 0; i < N; i += 2) { /* grow past the line, shrink, drop: traced */
        for (int k = 0; k < 300; k++) assert_int_equal(om_list_append(l[i], om_none(h)), 0);
        while (om_list_len(l[i]) > 3) om_decref(om_list_pop(l[i], -1));
        if (i % 4 == 0) {
            om_decref(l[i]);
            l[i] = NULL;
        }
    }
    assert_int_equal(om_heap_check(h), 0);
    om_trace_stop(h);
    for (int i = 0; i < N; i++)
        if (l[i]) om_decref(l[i]);
    for (int i = 0; i < N / 10; i++) om_decref(d[i]);
    assert_int_equal(om_heap_check(h), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_check_finds_a_pool_lost_from_its_list, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_check_finds_a_cycle_in_bounded_time, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_check_finds_a_stale_kept_slot, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_check_finds_a_corrupt_metadata_descriptor,
                                        om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_check_finds_wrong_raw_live_bits, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_check_counts_own_blocks_across_tracing, om_test_setup,
                                        om_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
