/*
 * om_child.c - misuse in a child process (see om_child.h).
 */
#include "om_child.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "om_valgrind.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

char om_child_out[16384];

int om_child_under_asan(void)
{
    return UNDER_ASAN;
}

int om_child_under_valgrind(void)
{
    return RUNNING_ON_VALGRIND ? 1 : 0;
}

__attribute__((no_sanitize_address, noinline)) void om_child_poke(void *p, size_t off, int v)
{
    VALGRIND_MAKE_MEM_DEFINED((char *)p + off, 1);
    ((volatile unsigned char *)p)[off] = (unsigned char)v;
}

__attribute__((no_sanitize_address, noinline)) unsigned char om_child_peek(const void *p,
                                                                           size_t off)
{
    VALGRIND_MAKE_MEM_DEFINED((const char *)p + off, 1);
    return ((const volatile unsigned char *)p)[off];
}

om_heap *om_child_debug_heap(void)
{
    om_config cfg;
    om_config_init(&cfg);
    cfg.debug = 1;
    om_heap *h = om_heap_new(&cfg);
    if (!h) abort();
    return h;
}

void om_child_say_at(const void *p)
{
    fprintf(stderr, "at=%p\n", p);
    fflush(stderr);
}

void om_child_say_error(om_heap *h, int want)
{
    fprintf(stderr, "error=%d %s\n", om_errcode(h), om_errmsg(h));
    fflush(stderr);
    OM_CHILD_CHECK(om_errcode(h) == want);
}

static void show(void)
{
    if (getenv("OM_TEST_SHOW")) fprintf(stderr, "---- child report:\n%s", om_child_out);
}

static void expect_strings(const char *const *want)
{
    for (; *want; want++) {
        if (!strstr(om_child_out, *want))
            fprintf(stderr, "missing \"%s\" in:\n%s\n", *want, om_child_out);
        assert_non_null(strstr(om_child_out, *want));
    }
}

void om_expect_abort(void (*fn)(void *), const char *const *want)
{
    int status = om_test_run_child(fn, NULL, om_child_out, sizeof om_child_out);
    show();
    if (!om_test_aborted(status))
        fprintf(stderr, "child status %d, output:\n%s\n", status, om_child_out);
    assert_true(om_test_aborted(status));
    expect_strings(want);
    const char *at = strstr(om_child_out, "at=");
    if (at) {
        char addr[32];
        size_t n = strcspn(at + 3, "\n");
        assert_true(n < sizeof addr);
        memcpy(addr, at + 3, n);
        addr[n] = '\0';
        assert_non_null(strstr(at + 3 + n, addr)); /* the report names it */
    }
}

void om_expect_abort_or_asan(void (*fn)(void *), const char *const *want)
{
    if (!UNDER_ASAN) {
        om_expect_abort(fn, want);
        return;
    }
    int status = om_test_run_child(fn, NULL, om_child_out, sizeof om_child_out);
    show();
    assert_true(status != 0);
    assert_true(strstr(om_child_out, "AddressSanitizer") != NULL ||
                strstr(om_child_out, want[0]) != NULL);
}

void om_expect_clean(void (*fn)(void *), const char *const *want)
{
    int status = om_test_run_child(fn, NULL, om_child_out, sizeof om_child_out);
    show();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fprintf(stderr, "child status %d, output:\n%s\n", status, om_child_out);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    expect_strings(want);
}

typedef struct limited {
    void (*fn)(void *);
    void *arg;
    unsigned seconds;
} limited;

static void run_limited(void *p)
{
    limited *l = p;
    signal(SIGSEGV, SIG_DFL); /* not cmocka's handler: a crash is the child's status */
    signal(SIGBUS, SIG_DFL);
    alarm(l->seconds);
    l->fn(l->arg);
}

int om_test_run_child_limited(void (*fn)(void *), void *arg, char *buf, size_t n, unsigned seconds)
{
    limited l = {fn, arg, seconds};
    return om_test_run_child(run_limited, &l, buf, n);
}

void om_expect_finishes(void (*fn)(void *), void *arg, unsigned seconds)
{
    int status = om_test_run_child_limited(fn, arg, om_child_out, sizeof om_child_out, seconds);
    show();
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
        fprintf(stderr, "child did not finish within %u s (a hang), output:\n%s\n", seconds,
                om_child_out);
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fprintf(stderr, "child status %d, output:\n%s\n", status, om_child_out);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
