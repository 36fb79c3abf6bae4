/*
 * test_trace_tables.c - the tracer's tables past their first growths and
 * the snapshot loader against crafted sizes near the type limits:
 * thousands of distinct tracebacks through a frame provider, a snapshot
 * file with thousands of distinct strings, a string of 4 GiB, sizes near
 * 2^63 in statistics and in the traced total, and strings crafted to
 * collide under an unkeyed hash. Cases that hung once run in a child with
 * a time limit (om_expect_finishes).
 */
#include <sys/mman.h>
#include <unistd.h>

#include "om_child.h"
#include "om_test.h"
#include "toy_frames.h"

/* internal (src/trace/frames.c): the tracer's string hash, keyed per heap */
uint32_t om__hash_str(const om_heap *h, const char *s);

enum { MANY = 5000 };

/* ------------------------------------------------ crafted snapshot files */

typedef struct fbuf {
    unsigned char *p;
    size_t n, cap;
} fbuf;

static void fput(fbuf *f, const void *src, size_t n)
{
    if (f->n + n > f->cap) {
        f->cap = (f->n + n) * 2;
        f->p = realloc(f->p, f->cap);
        assert_non_null(f->p);
    }
    memcpy(f->p + f->n, src, n);
    f->n += n;
}

static void fput32(fbuf *f, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    fput(f, b, 4);
}

static void fput64(fbuf *f, uint64_t v)
{
    fput32(f, (uint32_t)v);
    fput32(f, (uint32_t)(v >> 32));
}

static uint32_t fnv1a(const unsigned char *p, size_t n, uint32_t x)
{
    for (size_t i = 0; i < n; i++) x = (x ^ p[i]) * 16777619u;
    return x;
}

static void fheader(fbuf *f, uint32_t nstrs, uint32_t ntbs, uint64_t ntraces)
{
    fput(f, "OMTRACE\0", 8);
    fput32(f, 1); /* version */
    fput32(f, 1); /* traceback limit */
    fput32(f, nstrs);
    fput32(f, ntbs);
    fput64(f, ntraces);
}

static void fstr(fbuf *f, const char *s)
{
    fput32(f, (uint32_t)strlen(s));
    fput(f, s, strlen(s));
}

/* One traceback of one frame: (string file, line), no name. */
static void ftb(fbuf *f, uint32_t file, uint32_t line)
{
    fput32(f, 1);
    fput32(f, 1);
    fput32(f, file);
    fput32(f, line);
    fput32(f, 0);
}

static void ftrace(fbuf *f, uint32_t tb, uint64_t size)
{
    fput32(f, 0);
    fput32(f, tb);
    fput64(f, size);
}

static void fseal(fbuf *f)
{
    fput32(f, fnv1a(f->p, f->n, 2166136261u));
}

/* A file of n strings (one traceback and one trace each, trace i of size
 * sizes[i % nsizes]). */
static fbuf file_of(const char *const *strs, size_t n, const uint64_t *sizes, size_t nsizes)
{
    fbuf f = {0};
    fheader(&f, (uint32_t)n, (uint32_t)n, n);
    for (size_t i = 0; i < n; i++) fstr(&f, strs[i]);
    for (size_t i = 0; i < n; i++) ftb(&f, (uint32_t)i, 1);
    for (size_t i = 0; i < n; i++) ftrace(&f, (uint32_t)i, sizes[i % nsizes]);
    fseal(&f);
    return f;
}

/* ----------------------------------------- many tracebacks, many strings */

static void many_tracebacks(void *arg)
{
    (void)arg;
    om_heap *h = om_heap_new(NULL);
    OM_CHILD_CHECK(h != NULL);
    fake_stack fs;
    OM_CHILD_CHECK(om_trace_start(h, 2) == 0);
    om_trace_set_frame_provider(h, fake_provider, &fs);
    static void *p[MANY];
    char file[32];
    for (int i = 0; i < MANY; i++) {
        snprintf(file, sizeof file, "f%d.py", i % 700); /* 700 strings */
        fake_set(&fs, file, (unsigned)i);
        fake_push_caller(&fs, "main.py", (unsigned)(i % 3));
        p[i] = om_malloc(h, 16 + (size_t)(i % 100));
        OM_CHILD_CHECK(p[i] != NULL);
    }
    OM_CHILD_CHECK(om_heap_check(h) == 0);
    om_snapshot *s = om_trace_take_snapshot(h);
    OM_CHILD_CHECK(s != NULL);
    om_stats *st = om_snapshot_statistics(s, OM_STAT_TRACEBACK, 0);
    OM_CHILD_CHECK(st != NULL && st->n == MANY);
    om_stats_free(st);
    st = om_snapshot_statistics(s, OM_STAT_FILENAME, 0);
    OM_CHILD_CHECK(st != NULL && st->n == 700);
    om_stats_free(st);
    om_snapshot_free(s);
    for (int i = 0; i < MANY; i++) om_free(h, p[i]);
    om_trace_stop(h);
    OM_CHILD_CHECK(om_heap_check(h) == 0);
    om_heap_destroy(h);
}

/* Issue 12.1: the tracer's sets grew into a table they thought empty and
 * the probe loop never ended past 512 tracebacks. */
static void test_trace_tables_many_distinct_tracebacks(void **state)
{
    (void)state;
    om_expect_finishes(many_tracebacks, NULL, 120);
}

static void load_many_strings(void *arg)
{
    (void)arg;
    om_heap *h = om_heap_new(NULL);
    OM_CHILD_CHECK(h != NULL);
    static char buf[MANY][16];
    static const char *strs[MANY];
    for (int i = 0; i < MANY; i++) {
        snprintf(buf[i], sizeof buf[i], "s%d.py", i);
        strs[i] = buf[i];
    }
    uint64_t size = 24;
    fbuf f = file_of(strs, MANY, &size, 1);
    om_snapshot *s = om_snapshot_load_buffer(h, f.p, f.n);
    OM_CHILD_CHECK(s != NULL);
    om_stats *st = om_snapshot_statistics(s, OM_STAT_FILENAME, 0);
    OM_CHILD_CHECK(st != NULL && st->n == MANY);
    om_stats_free(st);
    om_snapshot_free(s);
    free(f.p);
    om_heap_destroy(h);
}

static void test_trace_tables_load_many_strings(void **state)
{
    (void)state;
    om_expect_finishes(load_many_strings, NULL, 120);
}

/* --------------------------------------------------- a 4 GiB string */

enum { CHUNK = 4 << 20 };

/* A file of one string of 2^32 - 1 bytes 'a': the middle is one shared
 * page set mapped over and over, so it costs a few MiB of memory. */
static unsigned char *map_huge_string_file(size_t *len)
{
    size_t total = 32 + 4 + (size_t)UINT32_MAX + 4;
    size_t span = (total + CHUNK - 1) / CHUNK * CHUNK;
    unsigned char *base =
        mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    OM_CHILD_CHECK(base != MAP_FAILED);
    int fd = memfd_create("huge", 0);
    OM_CHILD_CHECK(fd >= 0 && ftruncate(fd, CHUNK) == 0);
    unsigned char *shared = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    OM_CHILD_CHECK(shared != MAP_FAILED);
    memset(shared, 'a', CHUNK);
    for (size_t off = 0; off < span; off += CHUNK) {
        int own = off == 0 || off + CHUNK >= span; /* header, checksum */
        void *q = own ? mmap(base + off, CHUNK, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)
                      : mmap(base + off, CHUNK, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
        OM_CHILD_CHECK(q == base + off);
        if (own) memset(q, 'a', CHUNK);
    }
    fbuf f = {0};
    fheader(&f, 1, 0, 0);
    fput32(&f, UINT32_MAX);
    memcpy(base, f.p, f.n);
    free(f.p);
    uint32_t crc = fnv1a(base, total - 4, 2166136261u);
    unsigned char *end = base + total - 4;
    for (int i = 0; i < 4; i++) end[i] = (unsigned char)(crc >> (8 * i));
    *len = total;
    return base;
}

static void load_huge_string(void *arg)
{
    (void)arg;
    om_heap *h = om_heap_new(NULL);
    OM_CHILD_CHECK(h != NULL);
    size_t len;
    unsigned char *b = map_huge_string_file(&len);
    om_snapshot *s = om_snapshot_load_buffer(h, b, len);
    OM_CHILD_CHECK(s == NULL);
    om_child_say_error(h, OM_EFORMAT);
    om_heap_destroy(h);
}

/* Issue 12.2: len + 1 wrapped in 32 bits, the scratch buffer was not grown
 * and memcpy wrote 4 GiB past it. */
static void test_trace_tables_load_4gib_string(void **state)
{
    (void)state;
    if (om_child_under_valgrind()) skip(); /* 8 GiB of checksum reads */
    om_expect_finishes(load_huge_string, NULL, 300);
    assert_non_null(strstr(om_child_out, "longer than"));
}

/* Strings up to the limit round-trip; longer ones cannot be dumped (the
 * loader would refuse them). */
static void test_trace_tables_long_string_dump_limit(void **state)
{
    om_heap *h = OM_HEAP(state);
    size_t max = (size_t)1 << 20;
    char *name = malloc(max + 2);
    memset(name, 'x', max + 1);
    name[max + 1] = 0;
    fake_stack fs;
    assert_int_equal(om_trace_start(h, 1), 0);
    om_trace_set_frame_provider(h, fake_provider, &fs);
    fake_set(&fs, name + 1, 1); /* exactly the limit */
    void *a = om_malloc(h, 10);
    om_snapshot *s = om_trace_take_snapshot(h);
    char path[] = "/tmp/om_tt_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(om_snapshot_dump(s, path), 0);
    om_snapshot *l = om_snapshot_load(h, path);
    assert_non_null(l);
    om_stats *st = om_snapshot_statistics(l, OM_STAT_LINENO, 0);
    assert_int_equal(st->n, 1);
    assert_int_equal(strlen(st->items[0].traceback.frames[0].filename), max);
    om_stats_free(st);
    om_snapshot_free(l);
    om_snapshot_free(s);
    fake_set(&fs, name, 2); /* one byte more */
    void *b = om_malloc(h, 10);
    s = om_trace_take_snapshot(h);
    assert_int_equal(om_snapshot_dump(s, path), OM_EINVAL);
    assert_non_null(strstr(om_errmsg(h), "longer than"));
    om_snapshot_free(s);
    unlink(path);
    om_free(h, a);
    om_free(h, b);
    om_trace_stop(h);
    free(name);
}

/* ------------------------------------------------ sizes near 2^63 */

static om_snapshot *load_sizes(om_heap *h, const uint64_t *sizes, size_t n)
{
    const char *one[1] = {"big.py"};
    fbuf f = {0};
    fheader(&f, 1, 1, n);
    fstr(&f, one[0]);
    ftb(&f, 0, 1);
    for (size_t i = 0; i < n; i++) ftrace(&f, 0, sizes[i]);
    fseal(&f);
    om_snapshot *s = om_snapshot_load_buffer(h, f.p, f.n);
    free(f.p);
    assert_non_null(s);
    return s;
}

/* Issue 12.2: sums of sizes wrapped, and the signed differences of a
 * comparison overflowed (undefined behaviour). Both saturate. */
static void test_trace_tables_sizes_near_2_63(void **state)
{
    om_heap *h = OM_HEAP(state);
    const uint64_t half = (uint64_t)1 << 63;
    uint64_t three[3] = {half, half, half}, big[1] = {half}, below[1] = {half - 1}, zero[1] = {0};
    om_snapshot *s3 = load_sizes(h, three, 3), *s1 = load_sizes(h, big, 1),
                *sb = load_sizes(h, below, 1), *s0 = load_sizes(h, zero, 1);
    om_stats *st = om_snapshot_statistics(s3, OM_STAT_LINENO, 0);
    assert_int_equal(st->n, 1);
    assert_true(st->items[0].size == SIZE_MAX);
    assert_int_equal(st->items[0].count, 3);
    om_stats_free(st);
    st = om_snapshot_compare(s3, s0, OM_STAT_LINENO, 0); /* SIZE_MAX - 0 */
    assert_true(st->items[0].size_diff == PTRDIFF_MAX);
    om_stats_free(st);
    st = om_snapshot_compare(s0, s3, OM_STAT_LINENO, 0); /* 0 - SIZE_MAX */
    assert_true(st->items[0].size_diff == PTRDIFF_MIN);
    om_stats_free(st);
    st = om_snapshot_compare(sb, s1, OM_STAT_LINENO, 0); /* exact: -1 */
    assert_true(st->items[0].size_diff == -1);
    om_stats_free(st);
    st = om_snapshot_compare(s1, sb, OM_STAT_LINENO, 0);
    assert_true(st->items[0].size_diff == 1);
    om_stats_free(st);
    om_snapshot_free(s3);
    om_snapshot_free(s1);
    om_snapshot_free(sb);
    om_snapshot_free(s0);
}

/* Issue 12.2: the traced total wrapped. A trace that would take it past
 * SIZE_MAX is refused and changes nothing. */
static void test_trace_tables_traced_total_overflow_refused(void **state)
{
    om_heap *h = OM_HEAP(state);
    size_t cur, peak, half = SIZE_MAX / 2 + 1;
    assert_int_equal(om_trace_start(h, 1), 0);
    assert_int_equal(om_trace_track(h, 7, 0x1000, half), 0);
    assert_int_equal(om_trace_track(h, 7, 0x2000, half), OM_EINVAL);
    assert_non_null(strstr(om_errmsg(h), "overflow"));
    om_trace_get_traced_memory(h, &cur, &peak);
    assert_true(cur == half && peak == half);
    /* replacing the trace by a bigger one fits */
    assert_int_equal(om_trace_track(h, 7, 0x1000, SIZE_MAX), 0);
    om_trace_get_traced_memory(h, &cur, &peak);
    assert_true(cur == SIZE_MAX && peak == SIZE_MAX);
    assert_int_equal(om_trace_track(h, 7, 0x2000, 1), OM_EINVAL);
    assert_int_equal(om_heap_check(h), 0);
    assert_int_equal(om_trace_untrack(h, 7, 0x1000), 0);
    assert_int_equal(om_trace_untrack(h, 7, 0x2000), OM_EKEY);
    om_trace_get_traced_memory(h, &cur, &peak);
    assert_true(cur == 0);
    om_trace_stop(h);
}

/* ------------------------------------------- crafted colliding strings */

enum { CBLOCK = 5, CPAIRS = 15, CTAB = 1 << 19 };

static uint32_t fnv_block(uint32_t x, const char *b)
{
    return fnv1a((const unsigned char *)b, CBLOCK, x);
}

/* Two different blocks of CBLOCK printable bytes that take FNV-1a from
 * state x to the same state (a birthday search). */
static uint32_t find_pair(uint32_t x, char a[CBLOCK], char b[CBLOCK], unsigned *seed)
{
    static uint32_t st[CTAB];
    static char blk[CTAB][CBLOCK];
    static unsigned char used[CTAB];
    memset(used, 0, sizeof used);
    for (;;) {
        char c[CBLOCK];
        for (int i = 0; i < CBLOCK; i++) {
            *seed = *seed * 1103515245u + 12345u;
            c[i] = (char)('A' + ((*seed >> 16) % 58));
        }
        uint32_t y = fnv_block(x, c);
        size_t k = (y * 2654435761u) >> 13;
        while (used[k] && st[k] != y) k = (k + 1) & (CTAB - 1);
        if (used[k] && memcmp(blk[k], c, CBLOCK) != 0) {
            memcpy(a, blk[k], CBLOCK);
            memcpy(b, c, CBLOCK);
            return y;
        }
        used[k] = 1;
        st[k] = y;
        memcpy(blk[k], c, CBLOCK);
    }
}

/* 2^CPAIRS strings with one FNV-1a hash: each is a choice of one block of
 * each of CPAIRS colliding pairs. */
static char **fnv_multicollision(size_t *n)
{
    char pairs[CPAIRS][2][CBLOCK];
    uint32_t x = 2166136261u;
    unsigned seed = 7;
    for (int i = 0; i < CPAIRS; i++) x = find_pair(x, pairs[i][0], pairs[i][1], &seed);
    *n = (size_t)1 << CPAIRS;
    char **v = malloc(*n * sizeof *v);
    for (size_t k = 0; k < *n; k++) {
        v[k] = malloc(CPAIRS * CBLOCK + 1);
        for (int i = 0; i < CPAIRS; i++) memcpy(v[k] + i * CBLOCK, pairs[i][(k >> i) & 1], CBLOCK);
        v[k][CPAIRS * CBLOCK] = 0;
    }
    return v;
}

static void load_colliding(void *arg)
{
    char **v = arg;
    om_heap *h = om_heap_new(NULL);
    OM_CHILD_CHECK(h != NULL);
    uint64_t size = 8;
    fbuf f = file_of((const char *const *)v, (size_t)1 << CPAIRS, &size, 1);
    om_snapshot *s = om_snapshot_load_buffer(h, f.p, f.n);
    OM_CHILD_CHECK(s != NULL);
    om_stats *st = om_snapshot_statistics(s, OM_STAT_FILENAME, 0);
    OM_CHILD_CHECK(st != NULL && st->n == (size_t)1 << CPAIRS);
    om_stats_free(st);
    om_snapshot_free(s);
    free(f.p);
    om_heap_destroy(h);
}

/* Issue 12.6: the snapshot string table used unkeyed FNV-1a, so 32k
 * crafted strings (one hash) made a load quadratic. The hash is keyed per
 * heap: the same strings spread over the table's slots. */
static void test_trace_tables_colliding_strings_spread(void **state)
{
    om_heap *h = OM_HEAP(state);
    size_t n;
    char **v = fnv_multicollision(&n);
    /* the strings really collide under plain FNV-1a */
    uint32_t x0 = fnv1a((const unsigned char *)v[0], strlen(v[0]), 2166136261u);
    for (size_t k = 1; k < n; k++)
        assert_true(fnv1a((const unsigned char *)v[k], strlen(v[k]), 2166136261u) == x0);
    /* under the heap's key they fill most of a table of 2n slots */
    static unsigned char seen[1 << (CPAIRS + 1)];
    memset(seen, 0, sizeof seen);
    size_t distinct = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t slot = om__hash_str(h, v[k]) & ((1u << (CPAIRS + 1)) - 1);
        distinct += !seen[slot];
        seen[slot] = 1;
    }
    assert_true(distinct > n / 2); /* random: about 0.79 n */
    om_expect_finishes(load_colliding, v, 120);
    for (size_t k = 0; k < n; k++) free(v[k]);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_tables_many_distinct_tracebacks),
        cmocka_unit_test(test_trace_tables_load_many_strings),
        cmocka_unit_test(test_trace_tables_load_4gib_string),
        cmocka_unit_test_setup_teardown(test_trace_tables_long_string_dump_limit, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_tables_sizes_near_2_63, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_tables_traced_total_overflow_refused,
                                        om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_tables_colliding_strings_spread, om_test_setup,
                                        om_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
