/*
 * test_shim_threads.c - the shim's per-thread heaps (tools/shim/heaps.c):
 * blocks freed by other threads (producer/consumer pairs), thread churn
 * (heaps adopted, not multiplied), blocks freed after their owner exited
 * (the heap reaped, its arenas unmapped). Runs under ThreadSanitizer in
 * `make test-tsan`. Design note: docs/shim.md.
 */
#include <pthread.h>

#include "om_test.h"
#include "shim.h"

/* ------------------------------------------------- a blocking queue */

enum { QCAP = 256 };
typedef struct queue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    void *slot[QCAP];
    size_t head, tail; /* tail - head items */
} queue;

static void q_init(queue *q)
{
    memset(q, 0, sizeof *q);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
}

static void q_put(queue *q, void *p)
{
    pthread_mutex_lock(&q->mu);
    while (q->tail - q->head == QCAP) pthread_cond_wait(&q->cv, &q->mu);
    q->slot[q->tail++ % QCAP] = p;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

static void *q_get(queue *q)
{
    pthread_mutex_lock(&q->mu);
    while (q->tail == q->head) pthread_cond_wait(&q->cv, &q->mu);
    void *p = q->slot[q->head++ % QCAP];
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return p;
}

/* Sizes: mostly small, some large (over OM_SMALL_MAX), some aligned. */
static size_t size_of(uint32_t i)
{
    static const size_t sizes[] = {8, 24, 40, 100, 200, 512, 513, 1000, 5000, 16, 64, 300};
    return sizes[i % (sizeof sizes / sizeof *sizes)];
}

static void *make_block(uint32_t i)
{
    size_t n = size_of(i);
    unsigned char *p = (i % 13 == 0) ? om__shim_memalign(64, n) : om__shim_malloc(n);
    if (!p) return NULL;
    memset(p, (int)(i & 0xff), n);
    memcpy(p, &i, sizeof i);
    return p;
}

static int block_ok(const unsigned char *p)
{
    uint32_t i;
    memcpy(&i, p, sizeof i);
    size_t n = size_of(i);
    for (size_t k = sizeof i; k < n; k++)
        if (p[k] != (unsigned char)(i & 0xff)) return 0;
    if (i % 13 == 0 && ((uintptr_t)p & 63)) return 0;
    return 1;
}

/* -------------------------------------------- producer/consumer pairs */

enum { PAIRS = 2 };
typedef struct pair {
    queue to_b, to_a; /* a's blocks go to b, b's to a */
    uint32_t n;
    int bad;
} pair;

/* Each side makes n blocks for the other and frees the other's n. */
static void side(pair *pr, queue *out, queue *in, uint32_t seed)
{
    for (uint32_t i = 0; i < pr->n; i++) {
        void *p = make_block(seed + i);
        if (!p) {
            pr->bad++;
            break;
        }
        q_put(out, p);
        /* keep the queues moving both ways */
        if (i % 2 == 1) {
            void *q = q_get(in);
            if (!block_ok(q)) pr->bad++;
            om__shim_free(q);
            q = q_get(in);
            if (!block_ok(q)) pr->bad++;
            om__shim_free(q);
        }
    }
}

static void *side_a(void *arg)
{
    pair *pr = arg;
    side(pr, &pr->to_b, &pr->to_a, 0);
    return NULL;
}
static void *side_b(void *arg)
{
    pair *pr = arg;
    side(pr, &pr->to_a, &pr->to_b, 1u << 20);
    return NULL;
}

static void test_shim_threads_pairs(void **state)
{
    (void)state;
    pair prs[PAIRS];
    pthread_t t[PAIRS][2];
    for (int i = 0; i < PAIRS; i++) {
        q_init(&prs[i].to_a);
        q_init(&prs[i].to_b);
        prs[i].n = 20000;
        prs[i].bad = 0;
        assert_int_equal(pthread_create(&t[i][0], NULL, side_a, &prs[i]), 0);
        assert_int_equal(pthread_create(&t[i][1], NULL, side_b, &prs[i]), 0);
    }
    for (int i = 0; i < PAIRS; i++) {
        pthread_join(t[i][0], NULL);
        pthread_join(t[i][1], NULL);
        assert_int_equal(prs[i].bad, 0);
    }
    /* every block was freed and both threads exited: nothing is abandoned */
    om__shim_reap_abandoned();
    om_shim_counts c;
    om__shim_counts(&c);
    assert_int_equal(c.abandoned_now, 0);
}

/* --------------------------------------------------------- churn */

typedef struct churn_arg {
    void *keep[64]; /* blocks left to the main thread */
    int bad;
} churn_arg;

static void *churn_thread(void *arg)
{
    churn_arg *ca = arg;
    void *tmp[200];
    for (uint32_t i = 0; i < 200; i++) tmp[i] = make_block(i);
    for (uint32_t i = 0; i < 200; i++) {
        if (!tmp[i] || !block_ok(tmp[i])) ca->bad++;
        om__shim_free(tmp[i]);
    }
    for (uint32_t i = 0; i < 64; i++) ca->keep[i] = make_block(i * 7);
    return NULL;
}

static void test_shim_threads_churn(void **state)
{
    (void)state;
    om_shim_counts before, after;
    om__shim_reap_abandoned();
    om__shim_counts(&before);
    for (int round = 0; round < 100; round++) {
        churn_arg ca[4];
        pthread_t t[4];
        memset(ca, 0, sizeof ca);
        for (int i = 0; i < 4; i++)
            assert_int_equal(pthread_create(&t[i], NULL, churn_thread, &ca[i]), 0);
        for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
        for (int i = 0; i < 4; i++) {
            assert_int_equal(ca[i].bad, 0);
            for (int k = 0; k < 64; k++) {
                assert_true(block_ok(ca[i].keep[k]));
                om__shim_free(ca[i].keep[k]); /* the owner has exited */
            }
        }
    }
    om__shim_reap_abandoned();
    om__shim_counts(&after);
    /* 400 threads, at most 4 at a time: records are reused, not multiplied */
    assert_true(after.records - before.records <= 6);
    assert_true(after.made + after.adopted - before.made - before.adopted >= 400);
    assert_int_equal(after.abandoned_now, 0);
}

/* ------------------------------------- freed after the owner exited */

static void *leave_block(void *arg)
{
    void **out = arg;
    out[0] = om__shim_malloc(100);   /* small: in the thread's arena */
    out[1] = om__shim_malloc(10000); /* large */
    memset(out[0], 1, 100);
    memset(out[1], 2, 10000);
    return NULL;
}

static void test_shim_threads_free_after_exit(void **state)
{
    (void)state;
    void *blk[2];
    pthread_t t;
    om_shim_counts before, after;
    om__shim_counts(&before);
    assert_int_equal(pthread_create(&t, NULL, leave_block, blk), 0);
    pthread_join(t, NULL);
    om__shim_counts(&after);
    assert_int_equal(after.reaped, before.reaped); /* still holds two blocks */
    assert_true(om__shim_in_arena(blk[0]));
    assert_int_equal(((unsigned char *)blk[0])[99], 1);
    om__shim_free(blk[0]);
    om__shim_free(blk[1]); /* the last block: the heap goes */
    om__shim_counts(&after);
    assert_int_equal(after.reaped, before.reaped + 1);
    assert_false(om__shim_in_arena(blk[0])); /* its arena went back to the OS */
}

/* A block made by the main thread, freed by a thread, many times, while
 * the main thread allocates (its delayed list is taken on slow paths). */
static void *free_all(void *arg)
{
    queue *q = arg;
    for (;;) {
        void *p = q_get(q);
        if (!p) return NULL;
        om__shim_free(p);
    }
}

static void test_shim_threads_delayed_reclaimed(void **state)
{
    (void)state;
    queue q;
    pthread_t t;
    q_init(&q);
    assert_int_equal(pthread_create(&t, NULL, free_all, &q), 0);
    for (uint32_t i = 0; i < 50000; i++) {
        void *p = om__shim_malloc(48);
        assert_non_null(p);
        q_put(&q, p);
    }
    q_put(&q, NULL);
    pthread_join(t, NULL);
    /* the blocks came back to this thread's heap: the next slow path takes them */
    om_heap *h = om__shim_heap();
    om__shim_trim(0);
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    assert_true(st.bytes_in_use < 100000);
    assert_int_equal(om_heap_check(h), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shim_threads_pairs),
        cmocka_unit_test(test_shim_threads_churn),
        cmocka_unit_test(test_shim_threads_free_after_exit),
        cmocka_unit_test(test_shim_threads_delayed_reclaimed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
