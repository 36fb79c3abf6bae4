/*
 * alloc_worker.c - one allocator under test, one workload per process.
 *
 * Compiled once per peer with -DPEER_<NAME> (objmem, glibc, mimalloc,
 * jemalloc, tcmalloc, pymalloc) into its own executable, so that no peer's
 * malloc replaces another's. The driver (bench_alloc.c) runs
 *     alloc_<peer> <workload>
 * with workload one of churn, build, lifo, rss, and reads one line:
 *     R <workload> <ns/op median> <peak RSS kB> <RSS kB before the workload>
 *     RSS <before kB> <peak kB> <after kB> [<after the decay period kB>
 *         <after om_heap_trim kB>]                  (for rss; objmem only)
 * Inputs (sizes, slots) are generated before timing with a fixed seed, so
 * every peer sees the same sequence and the RNG is not measured.
 *
 * With BENCH_COUNTS=1 in the environment (make bench-counts, under
 * callgrind --toggle-collect=<workload>_body) the body runs exactly once,
 * untimed, after the same set-up, and the worker prints C <operations>.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* ------------------------------------------------------------ the peers */

#if defined(PEER_OBJMEM)
#include <objmem.h>
static om_heap *heap;
#define PEER_INIT() (heap = om_heap_new(NULL), heap != NULL)
#define BALLOC(n)   om_malloc(heap, (n))
#define BFREE(p)    om_free(heap, (p))
#define PEER_DESC() "objmem om_malloc/om_free (default config)"
#elif defined(PEER_GLIBC)
#include <gnu/libc-version.h>
#define PEER_INIT() 1
#define BALLOC(n)   malloc(n)
#define BFREE(p)    free(p)
#define PEER_DESC() "glibc malloc/free"
#elif defined(PEER_MIMALLOC)
#include <mimalloc.h>
#define PEER_INIT() 1
#define BALLOC(n)   mi_malloc(n)
#define BFREE(p)    mi_free(p)
#define PEER_DESC() "mimalloc mi_malloc/mi_free"
#elif defined(PEER_JEMALLOC)
/* Debian's jemalloc has no prefix: linked first, it is malloc itself. */
#include <jemalloc/jemalloc.h>
#define PEER_INIT() 1
#define BALLOC(n)   malloc(n)
#define BFREE(p)    free(p)
#define PEER_DESC() "jemalloc malloc/free (linked, unprefixed)"
#elif defined(PEER_TCMALLOC)
#include <gperftools/tcmalloc.h>
#define PEER_INIT() 1
#define BALLOC(n)   tc_malloc(n)
#define BFREE(p)    tc_free(p)
#define PEER_DESC() "tcmalloc tc_malloc/tc_free"
#elif defined(PEER_PYMALLOC)
/* Before Py_Initialize, PyObject_Malloc is the statically configured
 * default: pymalloc in a release build (checked at start-up below). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
/* exported by libpython, declared in an internal header */
PyAPI_FUNC(int) _PyObject_DebugMallocStats(FILE *out);
#define PEER_INIT() 1
#define BALLOC(n)   PyObject_Malloc(n)
#define BFREE(p)    PyObject_Free(p)
#define PEER_DESC() "pymalloc PyObject_Malloc/PyObject_Free (CPython " PY_VERSION ")"
#else
#error "define one PEER_*"
#endif

/* ------------------------------------------------------------- inputs */

enum {
    CHURN_WINDOW = 100000,  /* live blocks */
    CHURN_STEPS = 4000000,  /* free + malloc pairs per repetition */
    BUILD_BLOCKS = 5000000, /* blocks per build-and-free */
    LIFO_BURST = 1000,      /* blocks per burst */
    LIFO_BURSTS = 4000,     /* bursts per repetition */
};
#define RSS_BYTES (1ull << 30) /* the RSS check builds 1 GiB of requested bytes */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void)
{
    uint64_t x = rng_state; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* A Python-like request size: 80 % in 16..64 B, then a tail to 512 B
 * (12 % 65..128, 5 % 129..256, 3 % 257..512). */
static uint16_t gen_size(void)
{
    unsigned r = (unsigned)(rng() % 100);
    uint64_t x = rng();
    if (r < 80) return (uint16_t)(16 + x % 49);
    if (r < 92) return (uint16_t)(65 + x % 64);
    if (r < 97) return (uint16_t)(129 + x % 128);
    return (uint16_t)(257 + x % 256);
}

static uint16_t *sizes; /* BUILD_BLOCKS sizes, reused by every workload */
static uint32_t *slots; /* CHURN_STEPS slots */
static void **ptrs;     /* live blocks */

static void gen_inputs(int with_slots)
{
    sizes = malloc(sizeof *sizes * BUILD_BLOCKS);
    for (size_t i = 0; i < BUILD_BLOCKS; i++) sizes[i] = gen_size();
    if (with_slots) {
        slots = malloc(sizeof *slots * CHURN_STEPS);
        for (size_t i = 0; i < CHURN_STEPS; i++) slots[i] = (uint32_t)(rng() % CHURN_WINDOW);
    }
}

static void touch(void *p, size_t n)
{
    /* write the first word, as a user of the block would */
    (void)n;
    *(volatile char *)p = 1;
}

/* ---------------------------------------------------------- workloads */

static __attribute__((noinline)) void churn_work(void)
{
    for (size_t i = 0; i < CHURN_STEPS; i++) {
        uint32_t s = slots[i];
        size_t n = sizes[i];
        BFREE(ptrs[s]);
        ptrs[s] = BALLOC(n);
        touch(ptrs[s], n);
    }
}

static __attribute__((noinline)) void build_work(void)
{
    for (size_t i = 0; i < BUILD_BLOCKS; i++) {
        ptrs[i] = BALLOC(sizes[i]);
        touch(ptrs[i], sizes[i]);
    }
    for (size_t i = 0; i < BUILD_BLOCKS; i++) BFREE(ptrs[i]);
}

static __attribute__((noinline)) void lifo_work(void)
{
    size_t k = 0;
    for (size_t b = 0; b < LIFO_BURSTS; b++) {
        for (size_t i = 0; i < LIFO_BURST; i++) {
            size_t n = sizes[k++ % BUILD_BLOCKS];
            ptrs[i] = BALLOC(n);
            touch(ptrs[i], n);
        }
        for (size_t i = LIFO_BURST; i-- > 0;) BFREE(ptrs[i]);
    }
}

/* The timed bodies; count_once calls the _work functions once as warm-up
 * outside the function callgrind collects (<workload>_body). */
static __attribute__((noinline)) void churn_body(void *ctx)
{
    (void)ctx;
    churn_work();
    BH_BARRIER(); /* no tail call: callgrind toggles on this frame */
}
static __attribute__((noinline)) void build_body(void *ctx)
{
    (void)ctx;
    build_work();
    BH_BARRIER();
}
static __attribute__((noinline)) void lifo_body(void *ctx)
{
    (void)ctx;
    lifo_work();
    BH_BARRIER();
}

/* Build a linked list of blocks until bytes are requested; NULL when an
 * allocation fails. No side array: the blocks link themselves. */
static void *build_list(uint64_t bytes)
{
    void *head = NULL;
    uint64_t total = 0;
    for (size_t i = 0; total < bytes; i++) {
        size_t n = 16 + (size_t)(rng() % 49); /* sizes on the fly */
        if (i % 8 == 7) n = 65 + (size_t)(rng() % 448);
        void **b = BALLOC(n);
        if (!b) return NULL;
        *b = head;
        head = b;
        total += n;
    }
    return head;
}

static void free_list(void *head)
{
    while (head) {
        void *next = *(void **)head;
        BFREE(head);
        head = next;
    }
}

/* Build 1 GiB of blocks, free them; report the resident set before, at the
 * peak and after. "Before" follows a 256 KiB warm-up build-and-free, so that
 * the allocator's code and first structures are resident in the baseline
 * (the check is about the memory given back, not about code pages). */
static int rss_check(void)
{
    free_list(build_list(256u << 10));
    long before = bh_rss_kb();
    bh_reset_peak_rss();
    void *head = build_list(RSS_BYTES);
    if (!head) return fprintf(stderr, "allocation failed\n"), 1;
    long peak = bh_rss_kb();
    free_list(head);
    long after = bh_rss_kb();
#if defined(PEER_OBJMEM)
    /* free memory decays back to the OS after om_config.decay_ms (1000):
     * wait past the period (+ a quarter: sweeps are that far apart), let a
     * slow path run, and read RSS again; then after om_heap_trim */
    usleep(1300 * 1000);
    void *poke[200];
    for (int i = 0; i < 200; i++) poke[i] = BALLOC(512);
    for (int i = 0; i < 200; i++) BFREE(poke[i]);
    long decayed = bh_rss_kb();
    om_heap_trim(heap);
    long trimmed = bh_rss_kb();
    printf("RSS %ld %ld %ld %ld %ld\n", before, peak, after, decayed, trimmed);
#else
    printf("RSS %ld %ld %ld\n", before, peak, after);
#endif
#if defined(PEER_OBJMEM)
    om_heap_stats st;
    om_heap_get_stats(heap, &st);
    printf("S arenas %zu (cached %zu, peak %zu), pools in use %zu, os_bytes %zu\n", st.arenas,
           st.arenas_cached, st.arenas_peak, st.pools_used, st.os_bytes);
#endif
    return 0;
}

/* BENCH_COUNTS=1: one untimed run of the body, for callgrind. */
static int count_once(const char *w)
{
    double ops;
    if (!strcmp(w, "churn")) {
        for (size_t i = 0; i < CHURN_WINDOW; i++) ptrs[i] = BALLOC(sizes[i]);
        churn_work(); /* warm-up, as the timed runs have */
        churn_body(NULL);
        ops = CHURN_STEPS;
    } else if (!strcmp(w, "build")) {
        build_work();
        build_body(NULL);
        ops = BUILD_BLOCKS;
    } else if (!strcmp(w, "lifo")) {
        lifo_work();
        lifo_body(NULL);
        ops = (double)LIFO_BURST * LIFO_BURSTS;
    } else {
        fprintf(stderr, "unknown workload %s\n", w);
        return 2;
    }
    printf("C %.0f\n", ops);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s churn|build|lifo|rss|describe\n", argv[0]);
        return 2;
    }
    const char *w = argv[1];
    if (!PEER_INIT()) return fprintf(stderr, "peer init failed\n"), 1;
    if (!strcmp(w, "describe")) {
#if defined(PEER_PYMALLOC)
        /* pymalloc in use before Py_Initialize? Its stats say so. */
        void *p = PyObject_Malloc(32);
        FILE *devnull = fopen("/dev/null", "w");
        int ok = devnull && _PyObject_DebugMallocStats(devnull) != 0;
        if (devnull) fclose(devnull);
        PyObject_Free(p);
        printf("D %s%s\n", PEER_DESC(), ok ? "" : " [NOT pymalloc]");
#elif defined(PEER_JEMALLOC)
        const char *v = "?";
        size_t len = sizeof v;
        mallctl("version", &v, &len, NULL, 0);
        printf("D %s %s\n", PEER_DESC(), v);
#elif defined(PEER_GLIBC)
        printf("D %s %s\n", PEER_DESC(), gnu_get_libc_version());
#elif defined(PEER_MIMALLOC)
        printf("D %s %d\n", PEER_DESC(), mi_version());
#else
        printf("D %s\n", PEER_DESC());
#endif
        return 0;
    }
    if (!strcmp(w, "rss")) return rss_check();

    int churn = !strcmp(w, "churn");
    gen_inputs(churn);
    ptrs = calloc(BUILD_BLOCKS, sizeof *ptrs);
    memset(ptrs, 0xff, sizeof *ptrs * BUILD_BLOCKS); /* resident before the baseline */
    double ns;
    long base;
    if (getenv("BENCH_COUNTS")) return count_once(w);
    if (churn) {
        for (size_t i = 0; i < CHURN_WINDOW; i++) ptrs[i] = BALLOC(sizes[i]);
        base = bh_rss_kb();
        ns = bh_measure(churn_body, NULL, 1, 7, CHURN_STEPS);
        for (size_t i = 0; i < CHURN_WINDOW; i++) BFREE(ptrs[i]);
    } else if (!strcmp(w, "build")) {
        base = bh_rss_kb();
        ns = bh_measure(build_body, NULL, 1, 5, BUILD_BLOCKS);
    } else if (!strcmp(w, "lifo")) {
        base = bh_rss_kb();
        ns = bh_measure(lifo_body, NULL, 1, 7, (double)LIFO_BURST * LIFO_BURSTS);
    } else {
        fprintf(stderr, "unknown workload %s\n", w);
        return 2;
    }
    printf("R %s %.3f %ld %ld\n", w, ns, bh_peak_rss_kb(), base);
#if defined(PEER_OBJMEM)
    om_heap_destroy(heap);
#endif
    return 0;
}
