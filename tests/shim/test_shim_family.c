/*
 * test_shim_family.c - the malloc family of the shim (tools/shim/family.c)
 * under its internal names: every alignment, usable sizes, realloc across
 * small and large blocks and across threads, errno on failure, mallinfo2's
 * figures, fork from a multithreaded program. The same functions under the
 * C library's names are tried by shim_prog.c (LD_PRELOAD) and make
 * shim-test. Design note: docs/shim.md.
 */
#include <errno.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "om_child.h"
#include "om_test.h"
#include "shim.h"

/* The sanitizers' allocators (the seam's malloc in this build) must
 * answer impossible sizes with NULL, as glibc's does. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
    return "allocator_may_return_null=1";
}

static void test_shim_family_malloc_free(void **state)
{
    (void)state;
    om__shim_free(NULL);
    void *z = om__shim_malloc(0);
    assert_non_null(z);
    om__shim_free(z);
    for (size_t n = 1; n < 70000; n = n * 3 / 2 + 1) {
        unsigned char *p = om__shim_malloc(n);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p & 15, 0);
        assert_true(om__shim_usable_size(p) >= n);
        memset(p, 0xab, om__shim_usable_size(p));
        om__shim_free(p);
    }
}

static void test_shim_family_enomem(void **state)
{
    (void)state;
    errno = 0;
    assert_null(om__shim_malloc(SIZE_MAX));
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(om__shim_malloc(SIZE_MAX / 2));
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(om__shim_calloc(SIZE_MAX / 8, 16));
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(om__shim_reallocarray(NULL, SIZE_MAX / 8, 16));
    assert_int_equal(errno, ENOMEM);
    void *p = om__shim_malloc(10);
    errno = 0;
    assert_null(om__shim_realloc(p, SIZE_MAX - 4096));
    assert_int_equal(errno, ENOMEM);
    om__shim_free(p); /* still ours after the failed realloc */
    void *out = (void *)1;
    assert_int_equal(om__shim_posix_memalign(&out, 64, SIZE_MAX - 100), ENOMEM);
    assert_ptr_equal(out, (void *)1);
}

static void test_shim_family_calloc(void **state)
{
    (void)state;
    for (size_t n = 1; n < 100000; n *= 7) {
        unsigned char *p = om__shim_malloc(n);
        memset(p, 0xff, n);
        om__shim_free(p);
        unsigned char *q = om__shim_calloc(n, 1);
        for (size_t i = 0; i < n; i++) assert_int_equal(q[i], 0);
        om__shim_free(q);
    }
}

static void test_shim_family_alignment(void **state)
{
    (void)state;
    for (size_t a = sizeof(void *); a <= ((size_t)1 << 22); a *= 2) {
        for (size_t n = 0; n < 3000; n += 700) {
            void *p = NULL;
            assert_int_equal(om__shim_posix_memalign(&p, a, n), 0);
            assert_int_equal((uintptr_t)p % a, 0);
            assert_true(om__shim_usable_size(p) >= n);
            memset(p, 1, n);
            void *q = om__shim_aligned_alloc(a, n ? n : 1);
            assert_int_equal((uintptr_t)q % a, 0);
            void *r = om__shim_memalign(a, n);
            assert_int_equal((uintptr_t)r % a, 0);
            om__shim_free(p);
            om__shim_free(q);
            om__shim_free(r);
        }
    }
    void *p = NULL;
    assert_int_equal(om__shim_posix_memalign(&p, 24, 10), EINVAL);
    assert_int_equal(om__shim_posix_memalign(&p, 4, 10), EINVAL);
    void *m = om__shim_memalign(48, 10); /* glibc rounds up to 64 */
    assert_int_equal((uintptr_t)m % 64, 0);
    om__shim_free(m);
    long ps = sysconf(_SC_PAGESIZE);
    void *v = om__shim_valloc(10);
    assert_int_equal((uintptr_t)v % (uintptr_t)ps, 0);
    void *pv = om__shim_pvalloc(10);
    assert_int_equal((uintptr_t)pv % (uintptr_t)ps, 0);
    assert_true(om__shim_usable_size(pv) >= (size_t)ps);
    om__shim_free(v);
    om__shim_free(pv);
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(i * 31 + seed);
}
static int same(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(i * 31 + seed)) return 0;
    return 1;
}

static void test_shim_family_realloc(void **state)
{
    (void)state;
    unsigned char *p = NULL;
    size_t n = 0;
    for (size_t k = 1; k < 200000; k = k * 2 + 3) { /* grow: small -> large */
        p = om__shim_realloc(p, k);
        assert_non_null(p);
        assert_true(same(p, n, 7));
        fill(p, k, 7);
        n = k;
    }
    for (size_t k = n; k > 1; k /= 3) { /* shrink */
        p = om__shim_realloc(p, k);
        assert_true(same(p, k, 7));
        n = k;
    }
    assert_null(om__shim_realloc(p, 0)); /* frees, as glibc */
    void *a = om__shim_memalign(256, 100);
    fill(a, 100, 3);
    a = om__shim_realloc(a, 5000);
    assert_true(same(a, 100, 3));
    om__shim_free(a);
}

/* realloc of a block another thread made (and the thread gone) */
static void *make_one(void *arg)
{
    void **out = arg;
    *out = om__shim_malloc(300);
    fill(*out, 300, 9);
    return NULL;
}

static void test_shim_family_realloc_foreign(void **state)
{
    (void)state;
    void *p;
    pthread_t t;
    pthread_create(&t, NULL, make_one, &p);
    pthread_join(t, NULL);
    p = om__shim_realloc(p, 400);
    assert_true(same(p, 300, 9));
    om__shim_free(p);
}

static void test_shim_family_mallinfo(void **state)
{
    (void)state;
    om_shim_info before, after;
    om__shim_info(&before);
    void *blk[1000];
    for (int i = 0; i < 1000; i++) blk[i] = om__shim_malloc(100);
    void *big = om__shim_malloc(1 << 20);
    om__shim_info(&after);
    assert_true(after.uordblks >= before.uordblks + 1000 * 100);
    assert_int_equal(after.hblks, before.hblks + 1);
    assert_true(after.hblkhd >= before.hblkhd + (1 << 20));
    assert_true(after.arena >= after.uordblks);
    assert_int_equal(after.arena % OM_ARENA_SIZE, 0);
    for (int i = 0; i < 1000; i++) om__shim_free(blk[i]);
    om__shim_free(big);
    om__shim_info(&after);
    assert_true(after.uordblks <= before.uordblks);
    assert_int_equal(after.hblks, before.hblks);
}

/* mallinfo2 while other threads allocate: the figures are read, never
 * taken by flushing the other heaps' caches (that raced their owners and
 * crashed, review of a8d04f7). */
static _Atomic int info_stop;
static _Atomic long info_rounds;
static void *info_churn(void *arg)
{
    unsigned x = (unsigned)(uintptr_t)arg;
    void *p[256];
    while (!atomic_load(&info_stop)) { /* a cache's worth freed, then taken again */
        for (int i = 0; i < 256; i++) {
            x = x * 1103515245u + 12345u;
            p[i] = om__shim_malloc(16 + (x >> 16) % 113);
            if (p[i]) memset(p[i], 0x5a, 16);
        }
        for (int i = 0; i < 256; i++) om__shim_free(p[i]);
        atomic_fetch_add(&info_rounds, 1);
    }
    return NULL;
}

static void test_shim_family_mallinfo_threads(void **state)
{
    (void)state;
    pthread_t t[2];
    atomic_store(&info_stop, 0);
    atomic_store(&info_rounds, 0);
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, info_churn, (void *)(uintptr_t)(i + 1));
    /* until both threads have churned a while, whatever the scheduler does */
    for (long k = 0; k < 20000 || atomic_load(&info_rounds) < 20000; k++) {
        om_shim_info in;
        om__shim_info(&in);
        assert_true(in.arena >= in.uordblks);
        assert_int_equal(in.arena % OM_ARENA_SIZE, 0);
    }
    atomic_store(&info_stop, 1);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
}

/* Another thread's blocks count in mallinfo2 (through the figures its
 * heap publishes): 1000 small blocks and a large one, held by a thread that
 * waits, then freed by it. */
static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cond = PTHREAD_COND_INITIALIZER;
static int hold_phase; /* 1: allocated; 2: free them; 3: freed */
static void hold_wait(int phase)
{
    pthread_mutex_lock(&hold_lock);
    while (hold_phase < phase) pthread_cond_wait(&hold_cond, &hold_lock);
    pthread_mutex_unlock(&hold_lock);
}
static void hold_set(int phase)
{
    pthread_mutex_lock(&hold_lock);
    hold_phase = phase;
    pthread_cond_broadcast(&hold_cond);
    pthread_mutex_unlock(&hold_lock);
}
static void *hold_blocks(void *arg)
{
    (void)arg;
    static void *blk[1000];
    for (int i = 0; i < 1000; i++) blk[i] = om__shim_malloc(100);
    void *big = om__shim_malloc(1 << 20);
    hold_set(1);
    hold_wait(2);
    for (int i = 0; i < 1000; i++) om__shim_free(blk[i]);
    om__shim_free(big);
    void *keep = om__shim_malloc(8); /* a slow path after the frees: */
    om__shim_free(keep);             /* whatever went back is published */
    hold_set(3);
    hold_wait(4);
    return NULL;
}

static void test_shim_family_mallinfo_other_thread(void **state)
{
    (void)state;
    om_shim_info before, held, after;
    pthread_t t;
    hold_phase = 0;
    om__shim_info(&before);
    pthread_create(&t, NULL, hold_blocks, NULL);
    hold_wait(1);
    om__shim_info(&held);
    assert_true(held.uordblks >= before.uordblks + 1000 * 100);
    assert_int_equal(held.hblks, before.hblks + 1);
    assert_true(held.hblkhd >= before.hblkhd + (1 << 20));
    assert_true(held.arena >= held.uordblks);
    hold_set(2);
    hold_wait(3);
    om__shim_info(&after);
    assert_int_equal(after.hblks, before.hblks);
    assert_int_equal(after.hblkhd, before.hblkhd);
    assert_true(after.uordblks < held.uordblks);
    hold_set(4);
    pthread_join(t, NULL);
}

/* free of an address inside an arena that is no live block: the arena's
 * metadata pool (no owner) stops with a report, never a NULL read. */
static void free_into_metadata(void *arg)
{
    (void)arg;
    char *p = om__shim_malloc(32);
    char *meta = (char *)((uintptr_t)p & ~(uintptr_t)(OM_ARENA_SIZE - 1)) + 64;
    om__shim_free(meta);
}

static void free_into_free_pool(void *arg)
{
    (void)arg;
    char *p = om__shim_malloc(32);
    char *base = (char *)((uintptr_t)p & ~(uintptr_t)(OM_ARENA_SIZE - 1));
    for (size_t i = OM_POOL_FIRST; i < OM_POOLS_PER_ARENA; i++) {
        char *pool = base + i * OM_POOL_SIZE;
        if (om__pool_of(pool)->heap == NULL) om__shim_free(pool + 48); /* a free pool */
    }
    fprintf(stderr, "no free pool in the arena of %p\n", (void *)p); /* (fails: no abort) */
}

static void test_shim_family_free_not_a_block(void **state)
{
    (void)state;
    static const char *const want[] = {"free(", "not a live block", NULL};
    om_expect_abort(free_into_metadata, want);
    om_expect_abort(free_into_free_pool, want);
}

/* ---------------------------------------------- fork with threads */

static _Atomic int stop;
static void *churn(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        void *p[64];
        for (int i = 0; i < 64; i++) p[i] = om__shim_malloc((size_t)(i * 37 % 3000));
        for (int i = 0; i < 64; i++) om__shim_free(p[i]);
    }
    return NULL;
}

static void test_shim_family_fork(void **state)
{
    (void)state;
    /* ASan's own allocator (this build's seam) takes no lock at fork: a
     * child forked while a thread is inside it may hang there. glibc's,
     * which the LD_PRELOAD build uses, does (shim_prog forks there too). */
    if (om_child_under_asan()) skip();
    /* memcheck checks leaks in each child at exit, where the blocks the
     * parent's other threads held look lost (their stacks are not there) */
    const char *pre = getenv("LD_PRELOAD");
    if (pre && strstr(pre, "vgpreload")) skip();
    pthread_t t[3];
    atomic_store(&stop, 0);
    for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, churn, NULL);
    for (int k = 0; k < 20; k++) {
        void *mine = om__shim_malloc(123);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) { /* the child allocates, frees, even the parent's blocks */
            void *p[1000];
            for (int i = 0; i < 1000; i++) p[i] = om__shim_malloc((size_t)(i * 13 % 5000));
            for (int i = 0; i < 1000; i++) om__shim_free(p[i]);
            om__shim_free(mine);
            _exit(om_heap_check(om__shim_heap()) == 0 ? 0 : 5);
        }
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
        om__shim_free(mine);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shim_family_malloc_free),
        cmocka_unit_test(test_shim_family_enomem),
        cmocka_unit_test(test_shim_family_calloc),
        cmocka_unit_test(test_shim_family_alignment),
        cmocka_unit_test(test_shim_family_realloc),
        cmocka_unit_test(test_shim_family_realloc_foreign),
        cmocka_unit_test(test_shim_family_mallinfo),
        cmocka_unit_test(test_shim_family_mallinfo_threads),
        cmocka_unit_test(test_shim_family_mallinfo_other_thread),
        cmocka_unit_test(test_shim_family_free_not_a_block),
        cmocka_unit_test(test_shim_family_fork),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
