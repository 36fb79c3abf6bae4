/*
 * test_fault_amap.c - the ownership map (src/alloc/amap.c) is 256 MiB of
 * address space reserved on the first arena of the process. Where the OS
 * refuses it (an address-space limit), the first heap is not made: NULL,
 * nothing crashes; and before any arena exists, every pointer is foreign.
 * Each case runs in a child of its own, before any heap of that process.
 * And a process forked between the publication of the map and of its
 * size still sees the arenas it maps after (review of 45d6c29: it kept a
 * size of 0, and every free of its blocks was refused).
 */
#define OM_BUILD_CORE 1
#include "../../src/internal/alloc.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "om_test.h"

/* Run fn in a child with no heap yet; its exit status. */
static int in_child(int (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) _exit(fn());
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) return -1;
    return WEXITSTATUS(st);
}

static int heap_under_a_small_address_space(void)
{
    struct rlimit lim;
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (!f || fscanf(f, "%lu", &pages) != 1) return 2;
    fclose(f);
    /* what the process has now, plus 64 MiB: room for arenas, not the map */
    lim.rlim_cur = lim.rlim_max = pages * 4096ul + (64ul << 20);
    if (setrlimit(RLIMIT_AS, &lim) != 0) return 3;
    om_heap *h = om_heap_new(NULL);
    if (h) return 4; /* the map was reserved after all */
    return 0;
}

static int foreign_before_any_arena(void)
{
    static char local[64];
    void *p = malloc(32);
    /* om_owns needs a heap: ask the map alone through a heap made after */
    om_heap *h = om_heap_new(NULL);
    if (!h) return 2;
    if (om_owns(h, p) || om_owns(h, local) || om_owns(h, (void *)(uintptr_t)0xdeadbeefdeadbeefull))
        return 3;
    om_free(h, p); /* refused, counted */
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    if (st.bad_frees != 1) return 4;
    om_heap_destroy(h);
    free(p);
    return 0;
}

static int forked_in_the_gap(void)
{
    om_heap *h = om_heap_new(NULL); /* the map exists */
    if (!h) return 2;
    /* the state a child forked between the winner's two stores sees */
    __atomic_store_n(&om__amap.limit, 0, __ATOMIC_RELEASE);
    om_heap *g = om_heap_new(NULL); /* maps an arena of its own */
    if (!g) return 3;
    void *p = om_malloc(g, 100);
    if (!p || !om_owns(g, p) || om_free_if_owned(g, p) != 1) return 4;
    om_heap_destroy(g);
    om_heap_destroy(h);
    return 0;
}

static void test_fault_amap_size_published_by_every_user(void **state)
{
    (void)state;
    assert_int_equal(in_child(forked_in_the_gap), 0);
}

static void test_fault_amap_refused_reservation_fails_the_heap(void **state)
{
    (void)state;
    assert_int_equal(in_child(heap_under_a_small_address_space), 0);
}

static void test_fault_amap_foreign_pointers(void **state)
{
    (void)state;
    assert_int_equal(in_child(foreign_before_any_arena), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_amap_refused_reservation_fails_the_heap),
        cmocka_unit_test(test_fault_amap_foreign_pointers),
        cmocka_unit_test(test_fault_amap_size_published_by_every_user),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
