/*
 * test_trace_cfi.c - the table walk (src/trace/unwind.c) against glibc's
 * backtrace(3), an unwinder written by others (libgcc's, over the same
 * tables): through thousands of distinct call sites of functions with
 * different frame sizes, some with rbp-based frames (alloca), built
 * without frame pointers (tests/CMakeLists.txt); stacks whose inner frames
 * look the same while the outer ones changed (the last walk must not be
 * reused then); another thread's stack; and a signal frame, which the walk
 * leaves to libunwind.
 */
#define OM_BUILD_CORE 1
#include "../../src/trace/trace_int.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <pthread.h>
#include <signal.h>

#include "om_test.h"

enum { MAXF = OM_TRACE_MAX_FRAMES };

typedef struct chain {
    om_heap *h;
    int left;      /* calls before the leaf */
    unsigned seed; /* which function next   */
    uintptr_t cfi[MAXF];
    int ncfi;
    uint32_t depth;
    void *bt[MAXF];
    int nbt;
    void *block; /* module_alloc's */
} chain;

/* Both walks from the same frame: the table walk's frame 0 is its return
 * address into here, backtrace's the same for its own call. */
static __attribute__((noinline)) int leaf(chain *c)
{
    c->ncfi = om__cfi_walk(c->h, c->h->trace, c->cfi, MAXF, &c->depth);
    __asm__ volatile("" ::: "memory");
    c->nbt = backtrace(c->bt, MAXF);
    __asm__ volatile("" ::: "memory");
    return c->ncfi;
}

/* Frames 1.. equal, frame 0 in leaf for both. Under ASan backtrace(3) is
 * intercepted: the interceptor's frame comes first, skipped here. */
static void assert_same_walk(const chain *c)
{
    assert_true(c->ncfi > 2);
    int k = 1;
    while (k < c->nbt && k < 3 && (uintptr_t)c->bt[k] != c->cfi[1]) k++;
    assert_true(k < 3);
    const void *const *bt = (const void *const *)c->bt + (k - 1);
    assert_int_equal(c->ncfi, c->nbt - (k - 1));
    assert_true(c->cfi[0] - (uintptr_t)bt[0] < 512 || (uintptr_t)bt[0] - c->cfi[0] < 512);
    for (int i = 1; i < c->ncfi; i++) assert_true(c->cfi[i] == (uintptr_t)bt[i]);
    assert_int_equal(c->depth, (uint32_t)c->ncfi);
}

typedef int (*step_fn)(chain *c);
static int step(chain *c);

/* NFN functions, each with its own frame size, two call sites each (so
 * 2 * NFN distinct return addresses), every fifth with an alloca (its CFA
 * is then rbp-based even without frame pointers). Not tail calls: the
 * result is used after the call. */
#define FN(i)                                                                                      \
    static __attribute__((noinline)) int f##i(chain *c)                                            \
    {                                                                                              \
        volatile char pad[(i) % 9 * 16 + 8];                                                       \
        pad[0] = (char)(i);                                                                        \
        if ((i) % 5 == 0) {                                                                        \
            volatile char *a = __builtin_alloca((size_t)(c->left % 4) * 32 + 8);                   \
            a[0] = pad[0];                                                                         \
            pad[1] = a[0];                                                                         \
        }                                                                                          \
        int r = (c->seed & 1) ? step(c) : step(c) + 1;                                             \
        return r + pad[0];                                                                         \
    }
#define FN4(i)   FN(i##0) FN(i##1) FN(i##2) FN(i##3)
#define FN16(i)  FN4(i##0) FN4(i##1) FN4(i##2) FN4(i##3)
#define FN64(i)  FN16(i##0) FN16(i##1) FN16(i##2) FN16(i##3)
#define FN256(i) FN64(i##0) FN64(i##1) FN64(i##2) FN64(i##3)
FN256(1)
FN256(2)
FN256(3)
FN256(4)
FN256(5)
FN256(6)
#define AD(i)    f##i,
#define AD4(i)   AD(i##0) AD(i##1) AD(i##2) AD(i##3)
#define AD16(i)  AD4(i##0) AD4(i##1) AD4(i##2) AD4(i##3)
#define AD64(i)  AD16(i##0) AD16(i##1) AD16(i##2) AD16(i##3)
#define AD256(i) AD64(i##0) AD64(i##1) AD64(i##2) AD64(i##3)
static const step_fn fns[] = {AD256(1) AD256(2) AD256(3) AD256(4) AD256(5) AD256(6)};
enum { NFN = sizeof fns / sizeof fns[0] };

static __attribute__((noinline)) int step(chain *c)
{
    if (--c->left <= 0) return leaf(c);
    c->seed = c->seed * 1103515245u + 12345u;
    int r = fns[(c->seed >> 8) % NFN](c);
    __asm__ volatile("" ::: "memory");
    return r;
}

/* Tracing with the tables, or the case skipped: no table walk in this
 * build (no libdw, not x86-64). */
static void start_tables(om_heap *h)
{
    assert_int_equal(om_trace_start(h, MAXF), 0);
    assert_int_equal(om_trace_set_unwind(h, OM_UNWIND_TABLES), 0);
    chain c = {.h = h, .left = 1};
    step(&c);
    if (c.ncfi < 0) {
        om_trace_stop(h);
        skip();
    }
}

static void test_trace_cfi_matches_backtrace_on_many_sites(void **state)
{
    om_heap *h = OM_HEAP(state);
    start_tables(h);
    chain c = {.h = h};
    for (unsigned i = 0; i < 6000; i++) {
        c.left = 1 + (int)(i % 40);
        c.seed = i * 2654435761u;
        step(&c);
        assert_same_walk(&c);
    }
    size_t rules, walks, gave_up;
    om__cfi_stats(h->trace, &rules, &walks, &gave_up);
    assert_true(rules > 2000); /* the rule table past several growths */
    assert_true(om__cfi_bytes(h->trace) >= rules * 2 * 16); /* load <= 1/2, 16-byte rules */
    assert_true(om_trace_get_memory(h) > om__cfi_bytes(h->trace));
    assert_int_equal(walks, 6001);
    assert_int_equal(gave_up, 0);
    om_trace_stop(h);
}

/* The walk stops at max frames and says there were more. */
static void test_trace_cfi_stops_at_max(void **state)
{
    om_heap *h = OM_HEAP(state);
    start_tables(h);
    chain c = {.h = h, .left = 30, .seed = 7};
    step(&c);
    assert_same_walk(&c);
    uintptr_t out[8];
    uint32_t depth;
    /* directly from here, with the last walk cut shorter (it cannot finish
     * this one), then longer (its first frames serve) */
    for (int i = 0; i < 8; i++) {
        int max = i < 4 ? i + 1 : 8 - i;
        assert_int_equal(om__cfi_walk(h, h->trace, out, max, &depth), max);
        assert_int_equal(depth, (uint32_t)max + 1);
    }
    om_trace_stop(h);
}

/* Inner frames identical, outer ones not: outer_a and outer_b have the
 * same frame, so mid's frame (and leaf's) sits at the same address with
 * the same return address either way; only the word mid returns through
 * differs. Alternating them, each walk must see its own outer frame. */
static __attribute__((noinline)) int mid(chain *c)
{
    int r = leaf(c);
    __asm__ volatile("" ::: "memory");
    return r;
}
static __attribute__((noinline)) int outer_a(chain *c)
{
    volatile int pad[6] = {1};
    int r = mid(c);
    return r + pad[0];
}
static __attribute__((noinline)) int outer_b(chain *c)
{
    volatile int pad[6] = {2};
    int r = mid(c);
    return r + pad[0];
}

static __attribute__((noinline)) int deeper(chain *c, int k)
{
    int r = k ? deeper(c, k - 1) : mid(c);
    __asm__ volatile("" ::: "memory");
    return r;
}

static void test_trace_cfi_sees_changed_outer_frames(void **state)
{
    om_heap *h = OM_HEAP(state);
    start_tables(h);
    chain c = {.h = h};
    uintptr_t ret_a = 0, ret_b = 0;
    for (int i = 0; i < 200; i++) {
        if (i % 3 == 2)
            deeper(&c, i % 7); /* the same inner frames at other depths */
        else if (i & 1)
            outer_b(&c);
        else
            outer_a(&c);
        assert_same_walk(&c);
        if (i % 3 != 2) *(i & 1 ? &ret_b : &ret_a) = c.cfi[2]; /* mid's return address */
    }
    assert_true(ret_a != 0 && ret_b != 0 && ret_a != ret_b);
    om_trace_stop(h);
}

/* On a thread of its own: other stack bounds, the last walk from another
 * stack (compared by value, never trusted by address). */
static int on_thread(void *arg)
{
    chain *c = arg;
    for (int i = 0; i < 50; i++) {
        c->left = 3 + i % 9;
        c->seed = (unsigned)i;
        step(c);
        int s = c->nbt > 1 && (uintptr_t)c->bt[1] != c->cfi[1]; /* ASan's frame */
        if (c->ncfi != c->nbt - s) return -1;
        for (int k = 1; k < c->ncfi; k++)
            if (c->cfi[k] != (uintptr_t)c->bt[k + s]) return -1;
    }
    return 0;
}

static void test_trace_cfi_on_another_stack(void **state)
{
    om_heap *h = OM_HEAP(state);
    start_tables(h);
    chain c = {.h = h, .left = 12, .seed = 3};
    step(&c);
    assert_same_walk(&c);
    assert_int_equal(om_test_on_small_stack(on_thread, &c, 256 * 1024), 0);
    c.left = 12, c.seed = 3;
    step(&c);
    assert_same_walk(&c);
    om_trace_stop(h);
}

/* A signal frame: the table walk gives up there, libunwind takes over, and
 * the traceback still reaches the function the signal interrupted. */
static om_heap *sig_heap;
static void *sig_block;
static int sig_walk;

static void handler(int sig)
{
    (void)sig;
    uintptr_t out[MAXF];
    uint32_t depth;
    sig_walk = om__cfi_walk(sig_heap, sig_heap->trace, out, MAXF, &depth);
    sig_block = om_malloc(sig_heap, 40);
}

static __attribute__((noinline)) void interrupted(void)
{
    raise(SIGUSR1);
    __asm__ volatile("" ::: "memory");
}

static void test_trace_cfi_leaves_signal_frames_to_libunwind(void **state)
{
    om_heap *h = OM_HEAP(state);
    start_tables(h);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
    sig_heap = h;
    interrupted();
    assert_int_equal(sigaction(SIGUSR1, &old, NULL), 0);
    assert_int_equal(sig_walk, -1);
    size_t rules, walks, gave_up;
    om__cfi_stats(h->trace, &rules, &walks, &gave_up);
    assert_true(gave_up >= 2); /* the direct walk and om_malloc's */
    assert_non_null(sig_block);
    om_traceback *tb = om_trace_block_traceback(h, sig_block);
    assert_non_null(tb);
    int found = 0;
    for (uint32_t i = 0; i < tb->nframe; i++)
        if (tb->frames[i].name && strcmp(tb->frames[i].name, "interrupted") == 0) found = 1;
#ifdef OM_HAVE_LIBUNWIND_TEST
    assert_true(found);
#else
    (void)found; /* without libunwind the chain walk stops at the signal frame */
#endif
    om_traceback_free(h, tb);
    om_free(h, sig_block);
    om_trace_stop(h);
}

/* Modules mapped after the walk read the process's modules (dlopen): two
 * of them, one after the other. A return address in no known module is
 * not remembered as one to give up at, and the modules are read again, so
 * after at most a walk or two through each, every walk finds their frames
 * (found by review: the first miss was kept as a rule for good). */
static int module_leaf(void *arg)
{
    return leaf(arg);
}

static int module_alloc(void *arg)
{
    chain *c = arg;
    c->block = om_malloc(c->h, 48);
    return 0;
}

/* 1 when the traceback of c->block names fn (symbolized from the module's
 * symbol table: it is built without -g). */
static int block_names(chain *c, const char *fn)
{
    om_traceback *tb = om_trace_block_traceback(c->h, c->block);
    assert_non_null(tb);
    int found = 0;
    for (uint32_t i = 0; i < tb->nframe; i++)
        if (tb->frames[i].name && strcmp(tb->frames[i].name, fn) == 0) found = 1;
    om_traceback_free(c->h, tb);
    om_free(c->h, c->block);
    return found;
}

/* The module stays loaded until the test ends: one unloaded and another
 * mapped at its addresses would keep the first one's rules (docs/trace.md,
 * "Limits of the table walk"). */
static void *through_module(om_heap *h, const char *path, chain *c)
{
    void *so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(so);
    int (*call)(int (*)(void *), void *, int) =
        (int (*)(int (*)(void *), void *, int))dlsym(so, "cfi_module_call");
    assert_non_null(call);
    size_t rules, walks, g0, g1;
    for (int i = 0; i < 40; i++) {
        om__cfi_stats(h->trace, &rules, &walks, &g0);
        call(module_leaf, c, i % 5);
        om__cfi_stats(h->trace, &rules, &walks, &g1);
        if (i >= 3) { /* the first walks may miss: backing off */
            assert_int_equal(g1, g0);
            assert_same_walk(c);
        }
    }
    /* and the symbolizer names its frames (it read the modules from
     * /proc/self/maps, where libelf's copies of the files libdw opened
     * moved this module's base: its frames went unnamed) */
    call(module_alloc, c, 2);
    assert_true(block_names(c, "cfi_module_call"));
    return so;
}

static void test_trace_cfi_finds_modules_loaded_later(void **state)
{
    om_heap *h = OM_HEAP(state);
    start_tables(h);
    chain c = {.h = h};
    for (unsigned i = 0; i < 200; i++) { /* rules and reads of the modules first */
        c.left = 1 + (int)(i % 30);
        c.seed = i * 7919u;
        step(&c);
    }
    void *a = through_module(h, CFI_MODULE_A, &c), *b = through_module(h, CFI_MODULE_B, &c);
    om_trace_stop(h);
    dlclose(b);
    dlclose(a);
}

/* ------------------------------------------- synthetic stacks, fake rules */

/* A stack made by hand, with rules set by hand for made-up return
 * addresses: what the last walk may be trusted with, word by word. */
enum { FA = 0x1000, FB = 0x2000, FC = 0x3000, FD = 0x4000, FE = 0x5000, FF = 0x6000 };

static void fake_rules(om_heap *h)
{
    assert_int_equal(om__cfi_test_rule(h, h->trace, FA, OM_CFI_RSP, 16, -16), 0);
    assert_int_equal(om__cfi_test_rule(h, h->trace, FB, OM_CFI_RBP, 16, 0), 0);
    assert_int_equal(om__cfi_test_rule(h, h->trace, FC, OM_CFI_END, 0, 0), 0);
    assert_int_equal(om__cfi_test_rule(h, h->trace, FD, OM_CFI_END, 0, 0), 0);
}

static int fake_walk(om_heap *h, uintptr_t *stk, size_t words, uintptr_t ip, uintptr_t sp,
                     uintptr_t bp, uintptr_t *out)
{
    uintptr_t st[5] = {ip, sp, bp, (uintptr_t)stk, (uintptr_t)(stk + words)};
    uint32_t depth;
    int n = om__cfi_test_walk(h, h->trace, out, 8, &depth, st);
    if (n >= 0) assert_int_equal(depth, (uint32_t)n);
    return n;
}

/* FA (rsp-based) reloads rbp from the stack, FB's CFA is rbp-based: the
 * word FA read rbp from decides where FB returns, so it must be compared
 * even though every return-address word is as the last walk read it. */
static void test_trace_cfi_compares_the_rbp_an_outer_frame_uses(void **state)
{
    om_heap *h = OM_HEAP(state);
    start_tables(h);
    fake_rules(h);
    uintptr_t stk[16] = {0}, out[8];
    uintptr_t s = (uintptr_t)stk;
    stk[0] = s + 32; /* FA's saved rbp: FB's CFA is stk + 48 */
    stk[1] = FB;     /* FA returns to FB (CFA stk + 16)   */
    stk[5] = FC;     /* FB returns to FC                   */
    stk[9] = FD;     /* ... or, with rbp stk + 64, to FD   */
    assert_int_equal(fake_walk(h, stk, 16, FA, s, 0, out), 3);
    assert_true(out[0] == FA && out[1] == FB && out[2] == FC);
    stk[0] = s + 64; /* only the saved rbp changes */
    assert_int_equal(fake_walk(h, stk, 16, FA, s, 0, out), 3);
    assert_true(out[2] == FD);
    /* from FB's state with another rbp than the last walk's: not its frames */
    assert_int_equal(fake_walk(h, stk, 16, FB, s + 16, s + 32, out), 2);
    assert_true(out[1] == FC);
    assert_int_equal(fake_walk(h, stk, 16, FB, s + 16, s + 64, out), 2);
    assert_true(out[1] == FD);
    /* rules never change once made */
    assert_int_equal(om__cfi_test_rule(h, h->trace, FB, OM_CFI_RSP, 32, 0), -1);
    /* an rsp-based frame above: the saved rbp does not matter */
    assert_int_equal(om__cfi_test_rule(h, h->trace, FE, OM_CFI_RSP, 32, 0), 0);
    stk[1] = FE;
    for (int i = 0; i < 3; i++) {
        stk[0] = s + 16 * (unsigned)i;
        assert_int_equal(fake_walk(h, stk, 16, FA, s, 0, out), 3);
        assert_true(out[1] == FE && out[2] == FC);
    }
    om_trace_stop(h);
}

/* Every word is read inside the stack bounds: a rule that points outside
 * makes the walk give up, never read there. */
static void test_trace_cfi_stays_inside_the_stack(void **state)
{
    om_heap *h = OM_HEAP(state);
    start_tables(h);
    fake_rules(h);
    uintptr_t stk[16] = {0}, out[8];
    uintptr_t s = (uintptr_t)stk;
    stk[1] = FB;
    stk[0] = s + 4096; /* FB's CFA far above the stack */
    assert_int_equal(fake_walk(h, stk, 16, FA, s, 0, out), -1);
    stk[0] = s + 3; /* misaligned */
    assert_int_equal(fake_walk(h, stk, 16, FA, s, 0, out), -1);
    assert_int_equal(fake_walk(h, stk, 1, FA, s, 0, out), -1); /* FA's CFA out */
    assert_int_equal(om__cfi_test_rule(h, h->trace, FF, OM_CFI_OTHER, 0, 0), 0);
    stk[1] = FF;
    assert_int_equal(fake_walk(h, stk, 16, FA, s, 0, out), -1); /* no rule: give up */
    om_trace_stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_trace_cfi_matches_backtrace_on_many_sites,
                                        om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_cfi_stops_at_max, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_cfi_sees_changed_outer_frames, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_cfi_on_another_stack, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_cfi_leaves_signal_frames_to_libunwind,
                                        om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_cfi_finds_modules_loaded_later, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_cfi_compares_the_rbp_an_outer_frame_uses,
                                        om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_trace_cfi_stays_inside_the_stack, om_test_setup,
                                        om_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
