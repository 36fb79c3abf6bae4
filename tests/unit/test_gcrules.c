/*
 * test_gcrules.c - the collection rules objmem shares with CPython 3.11
 * (issue 13; docs/gc.md "Rules as CPython"): weak references that are
 * themselves garbage, the trashcan bounding finalizers and weak-reference
 * callbacks, lazy untracking of tuples and dicts, gc.garbage, refcount
 * errors reported, and the gc/weakref API additions.
 */
#include "gc_test_types.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

/* om_child.h declares these (it cannot be included with gc_test_types.h:
 * unistd.h's link()). */
int om_child_under_asan(void);
int om_test_run_child(void (*fn)(void *arg), void *arg, char *buf, size_t n);

/* ------------------------------------------ refcount errors (item 5) */

/* Release build, debug mode off: a freed, not yet reused object block keeps
 * count 0 (the free-list link is not in the first word), so a second
 * om_decref reaches the slow path and is reported with OM_ESTATE. ASan and
 * memcheck stop such a read themselves (the block is poisoned). */
static void test_gcrules_release_double_decref_reported(void **state)
{
    if (om_child_under_asan() || RUNNING_ON_VALGRIND) skip();
    om_heap *h = OM_HEAP(state);
    om_object *keep[3], *o;
    for (int i = 0; i < 3; i++) keep[i] = om_new(h, &plain_type); /* the pool stays in use */
    o = om_new(h, &plain_type);
    om_object *gc = om_new(h, &node_type);
    om_decref(o);
    assert_int_equal(om_refcount(o), 0);
    om_decref(o); /* a double decref */
    assert_int_equal(om_errcode(h), OM_ESTATE);
    om_decref(gc);
    assert_int_equal(om_refcount(gc), 0);
    om_decref(gc);
    assert_int_equal(om_errcode(h), OM_ESTATE);
    for (int i = 0; i < 3; i++) om_decref(keep[i]);
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    assert_int_equal(st.objects, st.heap_objects);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_gcrules_release_double_decref_reported, om_test_setup,
                                        om_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
