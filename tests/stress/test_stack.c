/*
 * test_stack.c - stack safety: 10M-long chains and 1M-deep nests of the
 * built-in containers through collection (marking, clearing, freeing),
 * get_referrers, get_referents, get_objects and deallocation, each on a
 * thread with a 256 KiB stack (a recursive walk would need hundreds of
 * MiB). The dealloc-only cases of test_object.c and the collection cases
 * of test_gc.c cover the user-type variants.
 */
#include "om_test.h"

enum { SMALL_STACK = 256 * 1024 };

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

static size_t chain_len(void)
{
    return RUNNING_ON_VALGRIND ? 100000 : 10u * 1000 * 1000;
}
static size_t nest_depth(void)
{
    return RUNNING_ON_VALGRIND ? 100000 : 1000u * 1000;
}

typedef struct link {
    OM_OBJECT_HEAD
    om_object *next;
} link;
static int link_traverse(om_object *o, om_visit_fn visit, void *arg)
{
    OM_VISIT(((link *)o)->next, visit, arg);
    return 0;
}
static void link_clear(om_object *o)
{
    om_clear_ref(&((link *)o)->next);
}
static const om_type link_type = {.name = "link",
                                  .basic_size = sizeof(link),
                                  .flags = OM_TYPE_GC,
                                  .traverse = link_traverse,
                                  .clear = link_clear,
                                  .dealloc = link_clear};

static size_t live(om_heap *h)
{
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    return st.objects - st.heap_objects;
}

/* ------------------------------------------------- a 10M-long chain */

typedef struct job {
    om_heap *h;
    size_t n;
    int fail; /* line of the first failed check, 0 if none */
} job;

#define JOB_CHECK(j, c)                                                                            \
    do {                                                                                           \
        if (!(c) && !(j)->fail) (j)->fail = __LINE__;                                              \
    } while (0)

static int chain_introspect(void *arg)
{
    job *j = arg;
    om_heap *h = j->h;
    link *first = (link *)om_new(h, &link_type), *last = first;
    JOB_CHECK(j, first != NULL);
    if (!first) return -1;
    for (size_t i = 1; i < j->n; i++) {
        link *l = (link *)om_new(h, &link_type);
        JOB_CHECK(j, l != NULL);
        if (!l) break;
        last->next = OM_OBJ(l); /* steals l's reference */
        last = l;
    }
    /* reachable through first: a full collection keeps everything */
    JOB_CHECK(j, om_gc_collect(h, -1) == 0);
    size_t n = 0;
    om_object *target = OM_OBJ(last);
    om_object **r = om_gc_get_referrers(h, &target, 1, &n);
    JOB_CHECK(j, r != NULL && n == 1);
    om_gc_list_free(h, r, n);
    target = OM_OBJ(first);
    r = om_gc_get_referents(h, &target, 1, &n);
    JOB_CHECK(j, r != NULL && n == 1);
    om_gc_list_free(h, r, n);
    r = om_gc_get_objects(h, -1, &n);
    JOB_CHECK(j, r != NULL && n >= j->n);
    om_gc_list_free(h, r, n);
    /* close the cycle and drop it: the collector frees 10M objects */
    last->next = om_incref(OM_OBJ(first));
    om_decref(first);
    JOB_CHECK(j, om_gc_collect(h, -1) == (long)j->n);
    return 0;
}

static void test_stack_10m_chain_introspection_and_collection(void **state)
{
    om_heap *h = OM_HEAP(state);
    job j = {h, chain_len(), 0};
    assert_int_equal(om_test_on_small_stack(chain_introspect, &j, SMALL_STACK), 0);
    assert_int_equal(j.fail, 0);
    assert_int_equal(live(h), 0);
}

/* ------------------------------------------- 1M-deep container nests */

typedef enum { NEST_LIST, NEST_DICT, NEST_TUPLE } nest_kind;

/* outer[0] (or outer[key]) = inner, depth levels; returns the outermost,
 * *innermost the deepest container. */
static om_object *build_nest(om_heap *h, nest_kind kind, size_t depth, om_object **innermost)
{
    om_object *key = kind == NEST_DICT ? om_str_from_cstr(h, "k") : NULL;
    /* innermost: a list even for tuples (a tuple of atomic items, like the
     * empty tuple, is untracked, and so would be the whole nest) */
    om_object *inner = kind == NEST_DICT ? om_dict_new(h) : om_list_new(h, 0);
    *innermost = inner;
    for (size_t i = 1; inner && i < depth; i++) {
        om_object *outer = NULL;
        if (kind == NEST_LIST) {
            outer = om_list_new(h, 1);
            if (outer) om_list_append_steal(outer, inner);
        } else if (kind == NEST_DICT) {
            outer = om_dict_new(h);
            if (outer) om_dict_set_steal(outer, om_incref(key), inner);
        } else {
            outer = om_tuple_new(h, 1);
            if (outer) om_tuple_set_steal(outer, 0, inner);
        }
        if (!outer) om_decref(inner);
        inner = outer;
    }
    om_xdecref(key);
    return inner;
}

typedef struct nest_job {
    om_heap *h;
    nest_kind kind;
    size_t depth;
    int fail;
} nest_job;

static int nest_run(void *arg)
{
    nest_job *j = arg;
    om_heap *h = j->h;
    om_object *innermost = NULL;
    om_object *top = build_nest(h, j->kind, j->depth, &innermost);
    JOB_CHECK(j, top != NULL);
    if (!top) return -1;
    /* reachable: marking through 1M levels */
    JOB_CHECK(j, om_gc_collect(h, -1) == 0);
    size_t n = 0;
    om_object **r = om_gc_get_referrers(h, &innermost, 1, &n);
    JOB_CHECK(j, r != NULL && n == (j->depth > 1 ? 1u : 0u));
    om_gc_list_free(h, r, n);
    if (j->kind == NEST_LIST) {
        /* the innermost list holds the outermost: a 1M-long cycle */
        JOB_CHECK(j, om_list_append(innermost, top) == 0);
        om_decref(top);
        JOB_CHECK(j, om_gc_collect(h, -1) == (long)j->depth);
    } else {
        om_decref(top); /* reference counting frees 1M levels */
    }
    return 0;
}

static void nest(void **state, nest_kind kind)
{
    om_heap *h = OM_HEAP(state);
    nest_job j = {h, kind, nest_depth(), 0};
    assert_int_equal(om_test_on_small_stack(nest_run, &j, SMALL_STACK), 0);
    assert_int_equal(j.fail, 0);
    assert_int_equal(live(h), 0);
}

static void test_stack_1m_nest_of_lists_collected(void **state)
{
    nest(state, NEST_LIST);
}
static void test_stack_1m_nest_of_dicts_freed(void **state)
{
    nest(state, NEST_DICT);
}
static void test_stack_1m_nest_of_tuples_freed(void **state)
{
    nest(state, NEST_TUPLE);
}

/* A nest of n one-item tuples: ((((0,),),),...). */
static om_object *tuple_nest(om_heap *h, size_t n)
{
    om_object *t = om_int_new(h, 0);
    for (size_t i = 0; i < n; i++) {
        om_object *u = om_tuple_new(h, 1);
        assert_non_null(u);
        assert_int_equal(om_tuple_set_steal(u, 0, t), 0);
        t = u;
    }
    return t;
}

typedef struct deep_job {
    om_heap *h;
    om_object *a, *b, *c, *d;
} deep_job;

/* Deep nests: a clean error past the nesting limit, on a small stack. */
static int hash_equal_on_stack(void *arg)
{
    deep_job *j = arg;
    uint64_t ha, hc;
    if (om_hash(j->a, &ha) != OM_EINVAL) return 1;
    if (!strstr(om_errmsg(j->h), "nested deeper")) return 2;
    if (om_equal(j->a, j->b) != OM_EINVAL) return 3;
    if (om_hash(j->c, &hc) != 0 || om_equal(j->c, j->d) != 1) return 4; /* shallow: fine */
    return 0;
}

/* CPython raises RecursionError for these; objmem returns OM_EINVAL. */
static void test_stack_deep_nest_hash_equal(void **state)
{
    om_heap *h = OM_HEAP(state);
    deep_job j = {h, tuple_nest(h, nest_depth()), tuple_nest(h, nest_depth()), tuple_nest(h, 300),
                  tuple_nest(h, 300)};
    assert_int_equal(om_test_on_small_stack(hash_equal_on_stack, &j, SMALL_STACK), 0);
    om_decref(j.a);
    om_decref(j.b);
    om_decref(j.c);
    om_decref(j.d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stack_10m_chain_introspection_and_collection,
                                        om_test_setup_nostress, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_stack_1m_nest_of_lists_collected,
                                        om_test_setup_nostress, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_stack_1m_nest_of_dicts_freed, om_test_setup_nostress,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_stack_1m_nest_of_tuples_freed, om_test_setup_nostress,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_stack_deep_nest_hash_equal, om_test_setup_nostress,
                                        om_test_teardown),
    };
    return cmocka_run_group_tests_name("stack", tests, NULL, NULL);
}
