/*
 * om_test.h - what every objmem test includes: cmocka, a fresh heap per
 * case whose teardown checks every invariant and that nothing is left, and
 * a helper that runs a function in a child process and captures what it
 * wrote to stderr (for debug-mode reports that end in abort).
 */
#ifndef OM_TEST_H
#define OM_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "objmem.h"

/* cmocka setup: *state = a fresh heap with default config (debug off). */
int om_test_setup(void **state);
/* cmocka setup: a fresh heap in debug mode. */
int om_test_setup_debug(void **state);
/* cmocka setup: default config but never gc_stress, for cases that build
 * millions of objects (a full collection per allocation is quadratic). */
int om_test_setup_nostress(void **state);
/* 1 when the environment asks for gc_stress (OBJMEM_GC_STRESS=1): cases
 * that assert exact collection counts skip then. */
int om_test_gc_stress(void);
/* cmocka teardown: om_heap_check passes, no live object or block remains
 * (what the case made it must free), then the heap is destroyed. */
int om_test_teardown(void **state);
/* Teardown that allows leftovers (checks invariants, then destroys). */
int om_test_teardown_lenient(void **state);

/* Run fn(arg) in a child process. Returns its wait status; its stderr is
 * copied to buf (NUL-terminated, up to n bytes). */
int om_test_run_child(void (*fn)(void *arg), void *arg, char *buf, size_t n);
/* 1 when the status says the child died by SIGABRT. */
int om_test_aborted(int status);

/* Run fn(arg) on a thread with a stack of stack_bytes; returns fn's result. */
int om_test_on_small_stack(int (*fn)(void *arg), void *arg, size_t stack_bytes);

#define OM_HEAP(state) ((om_heap *)*(state))

#endif
