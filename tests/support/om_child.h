/*
 * om_child.h - misuse in a child process (test_debug.c, test_misuse.c):
 * the child provokes a misuse on a debug-mode heap and must either stop
 * with SIGABRT and a report naming the problem, or (where the contract
 * says "clean error") finish normally with the error it printed.
 */
#ifndef OM_CHILD_H
#define OM_CHILD_H

#include <unistd.h>

#include "om_test.h"

/* A fresh debug-mode heap (aborts when none can be had). */
om_heap *om_child_debug_heap(void);

/* The child prints "at=<address>" first, so the parent can check that the
 * report names the address. */
void om_child_say_at(const void *p);

/* Write / read memory the allocator declared free, without ASan or
 * memcheck stopping us first (debug mode is on trial). */
void om_child_poke(void *p, size_t off, int v);
unsigned char om_child_peek(const void *p, size_t off);

/* In a child: stop with exit status 3 and a message when c is false
 * (cmocka's asserts must not run in a forked child). */
#define OM_CHILD_CHECK(c)                                                                          \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "child check failed at %s:%d: %s\n", __FILE__, __LINE__, #c);          \
            fflush(stderr);                                                                        \
            _exit(3);                                                                              \
        }                                                                                          \
    } while (0)

/* In a child: print "error=<code> <message>" for heap h (what clean-error
 * cases report), checking that the code is want. */
void om_child_say_error(om_heap *h, int want);

/* 1 in a build with AddressSanitizer. */
int om_child_under_asan(void);
/* 1 when running under Valgrind (cases that stream gigabytes skip). */
int om_child_under_valgrind(void);

/* The output of the last child (NUL-terminated). */
extern char om_child_out[16384];

/* Run fn in a child; it must abort, and its stderr must contain every
 * string of want (NULL-terminated) and, if it said one, its address. */
void om_expect_abort(void (*fn)(void *), const char *const *want);
/* Same, but under ASan the sanitizer may stop the child first (a read of
 * a poisoned free block): either report proves the detection. */
void om_expect_abort_or_asan(void (*fn)(void *), const char *const *want);
/* Run fn in a child; it must exit with status 0 (no abort) and its stderr
 * must contain every string of want. */
void om_expect_clean(void (*fn)(void *), const char *const *want);
/* Run fn(arg) in a child killed by SIGALRM after seconds: it must finish
 * (exit status 0) in time. How a hang becomes a failure, never a timing
 * assertion: the limit is many times what the work needs. */
void om_expect_finishes(void (*fn)(void *), void *arg, unsigned seconds);
/* Run fn(arg) in a child killed by SIGALRM after seconds; its wait status,
 * its stderr in buf (as om_test_run_child). */
int om_test_run_child_limited(void (*fn)(void *), void *arg, char *buf, size_t n, unsigned seconds);

#endif
