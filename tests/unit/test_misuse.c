/*
 * test_misuse.c - the misuse corpus: a table of misuses, each provoked in a
 * child process on a debug-mode heap (om_config.debug). Every one is
 * detected: either the child stops with SIGABRT and a report that names
 * the problem (and the block's address), or - where the contract promises
 * a clean error - the call fails with the documented OM_E* code and
 * message and the heap stays consistent. None corrupts silently.
 * Harmless by contract (checked too): untracking twice, decref or incref
 * of an immortal object any number of times.
 */
#include "om_child.h"

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define HAVE_VALGRIND 1
#endif
#endif
#ifndef HAVE_VALGRIND
#define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void)(p), (void)(n))
#endif

/* ---------------------------------------------------- block misuse */

static void overrun_small(void *arg)
{
    (void)arg;
    om_heap *h = om_child_debug_heap();
    unsigned char *p = om_malloc(h, 24);
    om_child_say_at(p);
    p[24] = 'x'; /* one byte past the end */
    om_free(h, p);
}

static void overrun_large(void *arg)
{
    (void)arg;
    om_heap *h = om_child_debug_heap();
    unsigned char *p = om_malloc(h, 1000);
    om_child_say_at(p);
    p[1000] = 'x';
    om_free(h, p);
}

static void overrun_found_by_check(void *arg)
{
    (void)arg;
    om_heap *h = om_child_debug_heap();
    unsigned char *p = om_malloc(h, 100);
    om_child_say_at(p);
    p[100] = 0;
    om_heap_check(h);
}

static void underrun(void *arg)
{
    (void)arg;
    om_heap *h = om_child_debug_heap();
    unsigned char *p = om_malloc(h, 48);
    om_child_say_at(p);
    p[-1] = 0;
    om_free(h, p);
}

static void underrun_into_size(void *arg)
{
    (void)arg;
    om_heap *h = om_child_debug_heap();
    unsigned char *p = om_malloc(h, 1000);
    om_child_say_at(p);
    p[-11] = 0x7f; /* a high byte of the recorded size */
    om_free(h, p);
}

static void double_free(void *arg)
{
    (void)arg;
    om_heap *h = om_child_debug_heap();
    void *keep = om_malloc(h, 32);
    void *p = om_malloc(h, 32);
    om_child_say_at(p);
    om_free(h, p);
    om_free(h, p);
    om_free(h, keep);
}

static void free_stack_pointer(void *arg)
{
    (void)arg;
    om_heap *h = om_child_debug_heap();
    char local[32];
    om_child_say_at(local);
    om_free(h, local);
}

static void free_interior_pointer(void *arg)
{
    (void)arg;
    om_heap *h = om_child_debug_heap();
    char *p = om_malloc(h, 64);
    om_child_say_at(p + 16);
    om_free(h, p + 16);
}

static void free_malloc_pointer(void *arg)
{
    (void)arg;
    om_heap *h = om_child_debug_heap();
    void *p = malloc(32);
    om_child_say_at(p);
    om_free(h, p);
}

static void overrun_large_far(void *arg)
{
    (void)arg;
    om_heap *h = om_child_debug_heap();
    unsigned char *p = om_malloc(h, 4000);
    om_child_say_at(p);
    memset(p + 4000, 'x', 8); /* 8 bytes past a large block */
    om_free(h, p);
}

static void double_free_large(void *arg)
{
    (void)arg;
    om_heap *h = om_child_debug_heap();
    void *p = om_malloc(h, 2000);
    om_child_say_at(p);
    om_free(h, p);
    om_free(h, p);
}

/* A block of heap A given to om_free of heap B. */
static void free_into_wrong_heap(void *arg)
{
    (void)arg;
    om_heap *a = om_child_debug_heap(), *b = om_child_debug_heap();
    void *p = om_malloc(a, 64);
    om_child_say_at(p);
    om_free(b, p);
}

/* Clean error: realloc of a pointer that is not a block of the heap. */
static void realloc_foreign(void *arg)
{
    (void)arg;
    om_heap *h = om_child_debug_heap();
    char local[32];
    OM_CHILD_CHECK(om_realloc(h, local, 64) == NULL);
    om_child_say_error(h, OM_EFOREIGN);
    OM_CHILD_CHECK(om_heap_check(h) == 0);
    om_heap_destroy(h);
}

/* Realloc of an object's block (without debug mode: OM_EINVAL). */
static void realloc_object(void *arg)
{
    (void)arg;
    static const om_type t = {.name = "t", .basic_size = 32};
    om_heap *h = om_child_debug_heap();
    om_object *o = om_new(h, &t);
    om_child_say_at(o);
    om_realloc(h, o, 64);
}

/* Clean error: n * size overflows; no abort, nothing allocated. */
static void calloc_overflow(void *arg)
{
    (void)arg;
    om_heap *h = om_child_debug_heap();
    OM_CHILD_CHECK(om_calloc(h, SIZE_MAX / 2, 3) == NULL);
    om_child_say_error(h, OM_EINVAL);
    OM_CHILD_CHECK(om_heap_check(h) == 0);
    om_heap_destroy(h);
}

/* Clean error: a request the seam can never satisfy. */
static void malloc_huge(void *arg)
{
    (void)arg;
    om_heap *h = om_child_debug_heap();
    OM_CHILD_CHECK(om_malloc(h, SIZE_MAX - 8) == NULL);
    om_child_say_error(h, OM_ENOMEM);
    OM_CHILD_CHECK(om_heap_check(h) == 0);
    om_heap_destroy(h);
}

/* ---------------------------------------------------- object misuse */

typedef struct thing {
    OM_OBJECT_HEAD
    int64_t value;
} thing;
static const om_type thing_type = {.name = "thing", .basic_size = sizeof(thing)};

static void free_object_block(void *arg)
{
    (void)arg;
    om_heap *h = om_child_debug_heap();
    om_object *o = om_new(h, &thing_type);
    om_child_say_at(o);
    om_free(h, o);
}

static void uaf_found_by_check(void *arg)
{
    (void)arg;
    om_heap *h = om_child_debug_heap();
    void *keep = om_malloc(h, 64); /* the pool stays in use */
    unsigned char *p = om_malloc(h, 64);
    om_child_say_at(p);
    om_free(h, p);
    om_child_poke(p, 20, 'x');
    om_heap_check(h);
    om_free(h, keep);
}

static void uaf_found_by_realloc(void *arg)
{
    (void)arg;
    om_heap *h = om_child_debug_heap();
    void *keep = om_malloc(h, 64);
    unsigned char *p = om_malloc(h, 64);
    om_child_say_at(p);
    om_free(h, p);
    om_child_poke(p, 40, 'x');
    om_malloc(h, 64); /* the same block again: its dead pattern is damaged */
    om_free(h, keep);
}

/* A buggy type: its dealloc drops a reference it does not own (itself). */
static void selfish_dealloc(om_object *o)
{
    om_decref(o);
}
static const om_type selfish_type = {
    .name = "selfish", .basic_size = sizeof(thing), .dealloc = selfish_dealloc};

static void decref_below_zero(void *arg)
{
    (void)arg;
    om_heap *h = om_child_debug_heap();
    om_object *o = om_new(h, &selfish_type);
    om_child_say_at(o);
    om_decref(o);
}

static void decref_freed(void *arg)
{
    (void)arg;
    om_heap *h = om_child_debug_heap();
    om_object *keep = om_new(h, &thing_type); /* the pool stays in use */
    om_object *o = om_new(h, &thing_type);
    om_child_say_at(o);
    om_decref(o);
    VALGRIND_MAKE_MEM_DEFINED(o, sizeof *o); /* debug mode, not memcheck, is on trial */
    om_decref(o);
    om_decref(keep);
}

static void incref_freed_checked(void *arg)
{
    (void)arg;
    om_heap *h = om_child_debug_heap();
    om_object *keep = om_new(h, &thing_type);
    om_object *o = om_new(h, &thing_type);
    om_child_say_at(o);
    om__incref_checked(o); /* what om_incref is under -DOM_DEBUG_REFS */
    om__decref_checked(o);
    om__decref_checked(o); /* frees it */
    VALGRIND_MAKE_MEM_DEFINED(o, sizeof *o);
    om__incref_checked(o); /* use after free */
    om_decref(keep);
}

/* ---------------------------------------------------- GC misuse */

typedef struct gnode {
    OM_OBJECT_HEAD
    om_object *child;
} gnode;
static int gnode_traverse(om_object *o, om_visit_fn visit, void *arg)
{
    OM_VISIT(((gnode *)o)->child, visit, arg);
    return 0;
}
static void gnode_clear(om_object *o)
{
    om_clear_ref(&((gnode *)o)->child);
}
static const om_type gnode_type = {.name = "gnode",
                                   .basic_size = sizeof(gnode),
                                   .flags = OM_TYPE_GC,
                                   .traverse = gnode_traverse,
                                   .clear = gnode_clear,
                                   .dealloc = gnode_clear};

/* Harmless by contract: untrack is a no-op when not tracked. */
static void untrack_twice(void *arg)
{
    (void)arg;
    om_heap *h = om_child_debug_heap();
    om_object *o = om_new(h, &gnode_type);
    om_gc_untrack(o);
    om_gc_untrack(o);
    OM_CHILD_CHECK(!om_gc_is_tracked(o));
    OM_CHILD_CHECK(om_heap_check(h) == 0);
    om_gc_track(o);
    om_gc_track(o); /* and track twice */
    OM_CHILD_CHECK(om_gc_is_tracked(o));
    OM_CHILD_CHECK(om_gc_collect(h, -1) == 0);
    om_decref(o);
    OM_CHILD_CHECK(om_heap_check(h) == 0);
    fprintf(stderr, "untrack twice: harmless\n");
    om_heap_destroy(h);
}

/* Clean error: a weak reference to an object whose type is not
 * OM_TYPE_WEAKREFABLE. */
static void weakref_not_weakrefable(void *arg)
{
    (void)arg;
    om_heap *h = om_child_debug_heap();
    om_object *o = om_new(h, &gnode_type);
    OM_CHILD_CHECK(om_weakref_new(h, o, NULL, NULL) == NULL);
    om_child_say_error(h, OM_ETYPE);
    OM_CHILD_CHECK(om_weakref_count(o) == 0);
    om_decref(o);
    OM_CHILD_CHECK(om_heap_check(h) == 0);
    om_heap_destroy(h);
}

/* Clean error: om_weakref_get of something that is not a weak reference. */
static void weakref_get_of_non_weakref(void *arg)
{
    (void)arg;
    om_heap *h = om_child_debug_heap();
    om_object *o = om_new(h, &gnode_type);
    OM_CHILD_CHECK(om_weakref_get(o) == NULL);
    om_child_say_error(h, OM_ETYPE);
    om_decref(o);
    om_heap_destroy(h);
}

/* Clean error: a GC type without traverse is refused at om_new. */
static void gc_type_without_traverse(void *arg)
{
    (void)arg;
    static const om_type bad = {
        .name = "untraversable", .basic_size = sizeof(gnode), .flags = OM_TYPE_GC};
    om_heap *h = om_child_debug_heap();
    OM_CHILD_CHECK(om_new(h, &bad) == NULL);
    om_child_say_error(h, OM_EINVAL);
    OM_CHILD_CHECK(om_heap_check(h) == 0);
    om_heap_destroy(h);
}

/* Clean error: a type whose basic size cannot hold the header. */
static void type_smaller_than_header(void *arg)
{
    (void)arg;
    static const om_type bad = {.name = "tiny", .basic_size = 8};
    om_heap *h = om_child_debug_heap();
    OM_CHILD_CHECK(om_new(h, &bad) == NULL);
    om_child_say_error(h, OM_EINVAL);
    om_heap_destroy(h);
}

/* Tracking an object of a non-GC type: OM_ETYPE, and in debug mode a
 * report. */
static void track_non_gc_object(void *arg)
{
    (void)arg;
    om_heap *h = om_child_debug_heap();
    om_object *o = om_new(h, &thing_type);
    om_child_say_at(o);
    om_gc_track(o);
    om_child_say_error(h, OM_ETYPE);
    om_decref(o);
    om_heap_destroy(h);
}

/* Harmless by contract: an immortal object ignores count changes. */
static void immortal_decref_many(void *arg)
{
    (void)arg;
    om_heap *h = om_child_debug_heap();
    om_object *o = om_new(h, &thing_type);
    om_make_immortal(o);
    for (int i = 0; i < 1000000; i++) om_decref(o);
    for (int i = 0; i < 1000; i++) om_incref(o);
    OM_CHILD_CHECK(om_is_immortal(o));
    OM_CHILD_CHECK(om_heap_check(h) == 0);
    fprintf(stderr, "immortal: harmless\n");
    om_heap_destroy(h);
}

/* Clean error: a collection of a generation that does not exist. */
static void collect_bad_generation(void *arg)
{
    (void)arg;
    om_heap *h = om_child_debug_heap();
    OM_CHILD_CHECK(om_gc_collect(h, 7) == OM_EINVAL);
    om_child_say_error(h, OM_EINVAL);
    OM_CHILD_CHECK(om_gc_set_threshold(h, -1, 10, 10) == OM_EINVAL);
    om_heap_destroy(h);
}

/* ---------------------------------------------------------- the table */

enum { ABORT, ABORT_OR_ASAN, CLEAN };

typedef struct misuse {
    const char *name;
    void (*fn)(void *);
    int expect;
    const char *want[6]; /* strings the report must contain */
} misuse;

static const misuse cases[] = {
    {"overrun by 1 byte (small)",
     overrun_small,
     ABORT,
     {"objmem: debug: buffer overrun", "detected by om_free", "24 bytes requested",
      "after payload"}},
    {"overrun by 1 byte (large)",
     overrun_large,
     ABORT,
     {"objmem: debug: buffer overrun", "detected by om_free", "large block, 1000 bytes requested"}},
    {"overrun of a large block by 8 bytes",
     overrun_large_far,
     ABORT,
     {"buffer overrun", "large block, 4000 bytes requested"}},
    {"overrun found by om_heap_check",
     overrun_found_by_check,
     ABORT,
     {"buffer overrun", "detected by om_heap_check"}},
    {"underrun", underrun, ABORT, {"buffer underrun", "detected by om_free", "prefix at"}},
    {"underrun into the size of a large block",
     underrun_into_size,
     ABORT,
     {"the size before the block is damaged", "large block"}},
    {"double free", double_free, ABORT, {"double free", "detected by om_free"}},
    {"double free of a large block",
     double_free_large,
     ABORT,
     {"not a block of this heap", "detected by om_free"}},
    {"free of a stack pointer",
     free_stack_pointer,
     ABORT,
     {"not a block of this heap", "in no arena and no large block"}},
    {"free of an interior pointer",
     free_interior_pointer,
     ABORT,
     {"not a block of this heap", "detected by om_free"}},
    {"free of a malloc pointer",
     free_malloc_pointer,
     ABORT,
     {"not a block of this heap", "in no arena and no large block"}},
    {"free into the wrong heap",
     free_into_wrong_heap,
     ABORT,
     {"not a block of this heap", "detected by om_free"}},
    {"om_free of an object",
     free_object_block,
     ABORT,
     {"om_free of an object's block", "object block"}},
    {"use after free write (om_heap_check)",
     uaf_found_by_check,
     ABORT,
     {"use after free", "detected by om_heap_check"}},
    {"use after free write (allocation)",
     uaf_found_by_realloc,
     ABORT,
     {"use after free", "detected by allocation"}},
    {"refcount underflow",
     decref_below_zero,
     ABORT,
     {"reference count below zero", "of type selfish", "detected by om_decref"}},
    {"decref of a freed object",
     decref_freed,
     ABORT_OR_ASAN,
     {"reference operation on a freed object", "of type thing (freed)", "detected by om_decref"}},
    {"incref of a freed object (checked)",
     incref_freed_checked,
     ABORT_OR_ASAN,
     {"reference operation on a freed object", "of type thing (freed)", "detected by om_incref"}},
    {"realloc of a foreign pointer",
     realloc_foreign,
     CLEAN,
     {"error=-12 om_realloc(", "not a block of this heap"}},
    {"realloc of an object's block",
     realloc_object,
     ABORT,
     {"om_realloc of an object's block", "detected by om_realloc", "object block"}},
    {"calloc overflow", calloc_overflow, CLEAN, {"error=-2 om_calloc:", "overflows"}},
    {"malloc of SIZE_MAX - 8", malloc_huge, CLEAN, {"error=-1 ", "too large"}},
    {"untrack twice", untrack_twice, CLEAN, {"untrack twice: harmless"}},
    {"weakref to a non-weakrefable object",
     weakref_not_weakrefable,
     CLEAN,
     {"error=-4 cannot create weak reference to 'gnode' object"}},
    {"om_weakref_get of a non-weakref",
     weakref_get_of_non_weakref,
     CLEAN,
     {"error=-4 om_weakref_get: a 'gnode' is not a weak reference"}},
    {"GC type with NULL traverse",
     gc_type_without_traverse,
     CLEAN,
     {"error=-2 type untraversable is OM_TYPE_GC but has no traverse"}},
    {"type smaller than the header",
     type_smaller_than_header,
     CLEAN,
     {"error=-2 type tiny: basic_size 8 is smaller than the header"}},
    {"om_gc_track of a non-GC object",
     track_non_gc_object,
     ABORT,
     {"om_gc_track of a non-GC object", "detected by om_gc_track"}},
    {"decref of an immortal object 1M times", immortal_decref_many, CLEAN, {"immortal: harmless"}},
    {"collect of a bad generation", collect_bad_generation, CLEAN, {"error=-2 "}},
};

enum { NCASES = sizeof cases / sizeof *cases };

static void test_misuse_corpus(void **state)
{
    (void)state;
    int detected = 0;
    for (int i = 0; i < NCASES; i++) {
        const misuse *m = &cases[i];
        print_message("misuse %2d: %s\n", i + 1, m->name);
        if (m->expect == ABORT)
            om_expect_abort(m->fn, m->want);
        else if (m->expect == ABORT_OR_ASAN)
            om_expect_abort_or_asan(m->fn, m->want);
        else
            om_expect_clean(m->fn, m->want);
        detected++;
    }
    print_message("misuse: %d of %d cases detected\n", detected, NCASES);
    assert_true(NCASES >= 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_misuse_corpus),
    };
    return cmocka_run_group_tests_name("misuse", tests, NULL, NULL);
}
