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
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "om_child.h"

#include "om_valgrind.h"

/* The mode of the heaps the children make: each case runs on a release
 * heap and on a debug-mode heap (set by the parent before the fork). */
static int g_debug;

static om_heap *misuse_heap(void)
{
    om_config cfg;
    om_config_init(&cfg);
    cfg.debug = g_debug;
    om_heap *h = om_heap_new(&cfg);
    if (!h) abort();
    return h;
}

/* Print the heap's last error, whatever it is ("error=0" when none). */
static void note_error(om_heap *h)
{
    fprintf(stderr, "error=%d %s\n", om_errcode(h), om_errmsg(h));
    fflush(stderr);
}

/* ---------------------------------------------------- block misuse */

static void overrun_small(void *arg)
{
    (void)arg;
    om_heap *h = misuse_heap();
    unsigned char *p = om_malloc(h, 24);
    om_child_say_at(p);
    p[24] = 'x'; /* one byte past the end */
    om_free(h, p);
}

static void overrun_large(void *arg)
{
    (void)arg;
    om_heap *h = misuse_heap();
    unsigned char *p = om_malloc(h, 3000);
    om_child_say_at(p);
    p[3000] = 'x';
    om_free(h, p);
}

static void overrun_found_by_check(void *arg)
{
    (void)arg;
    om_heap *h = misuse_heap();
    unsigned char *p = om_malloc(h, 100);
    om_child_say_at(p);
    p[100] = 0;
    om_heap_check(h);
}

static void underrun(void *arg)
{
    (void)arg;
    om_heap *h = misuse_heap();
    unsigned char *p = om_malloc(h, 48);
    om_child_say_at(p);
    p[-1] = 0;
    om_free(h, p);
}

static void underrun_into_size(void *arg)
{
    (void)arg;
    om_heap *h = misuse_heap();
    unsigned char *p = om_malloc(h, 3000);
    om_child_say_at(p);
    p[-11] = 0x7f; /* a high byte of the recorded size */
    om_free(h, p);
}

static void double_free(void *arg)
{
    (void)arg;
    om_heap *h = misuse_heap();
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
    om_heap *h = misuse_heap();
    char local[32];
    om_child_say_at(local);
    om_free(h, local);
}

static void free_interior_pointer(void *arg)
{
    (void)arg;
    om_heap *h = misuse_heap();
    char *p = om_malloc(h, 64);
    om_child_say_at(p + 16);
    om_free(h, p + 16);
}

static void free_malloc_pointer(void *arg)
{
    (void)arg;
    om_heap *h = misuse_heap();
    void *p = malloc(32);
    om_child_say_at(p);
    om_free(h, p);
}

static void overrun_large_far(void *arg)
{
    (void)arg;
    om_heap *h = misuse_heap();
    unsigned char *p = om_malloc(h, 4000);
    om_child_say_at(p);
    memset(p + 4000, 'x', 8); /* 8 bytes past a large block */
    om_free(h, p);
}

static void double_free_large(void *arg)
{
    (void)arg;
    om_heap *h = misuse_heap();
    void *p = om_malloc(h, 3000);
    om_child_say_at(p);
    om_free(h, p);
    om_free(h, p);
}

/* A block of heap A given to om_free of heap B. */
static void free_into_wrong_heap(void *arg)
{
    (void)arg;
    om_heap *a = misuse_heap(), *b = misuse_heap();
    void *p = om_malloc(a, 64);
    om_child_say_at(p);
    om_free(b, p);
}

/* Clean error: realloc of a pointer that is not a block of the heap. */
static void realloc_foreign(void *arg)
{
    (void)arg;
    om_heap *h = misuse_heap();
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
    om_heap *h = misuse_heap();
    om_object *o = om_new(h, &t);
    om_child_say_at(o);
    OM_CHILD_CHECK(om_realloc(h, o, 64) == NULL);
    note_error(h);
}

/* Clean error: n * size overflows; no abort, nothing allocated. */
static void calloc_overflow(void *arg)
{
    (void)arg;
    om_heap *h = misuse_heap();
    OM_CHILD_CHECK(om_calloc(h, SIZE_MAX / 2, 3) == NULL);
    om_child_say_error(h, OM_EINVAL);
    OM_CHILD_CHECK(om_heap_check(h) == 0);
    om_heap_destroy(h);
}

/* Clean error: a request the seam can never satisfy. */
static void malloc_huge(void *arg)
{
    (void)arg;
    om_heap *h = misuse_heap();
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
    om_heap *h = misuse_heap();
    om_object *o = om_new(h, &thing_type);
    om_child_say_at(o);
    om_free(h, o);
}

static void uaf_found_by_check(void *arg)
{
    (void)arg;
    om_heap *h = misuse_heap();
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
    om_heap *h = misuse_heap();
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
    om_heap *h = misuse_heap();
    om_object *o = om_new(h, &selfish_type);
    om_child_say_at(o);
    om_decref(o);
}

static void decref_freed(void *arg)
{
    (void)arg;
    om_heap *h = misuse_heap();
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
    om_heap *h = misuse_heap();
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
    om_heap *h = misuse_heap();
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
    om_heap *h = misuse_heap();
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
    om_heap *h = misuse_heap();
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
    om_heap *h = misuse_heap();
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
    om_heap *h = misuse_heap();
    OM_CHILD_CHECK(om_new(h, &bad) == NULL);
    om_child_say_error(h, OM_EINVAL);
    om_heap_destroy(h);
}

/* Tracking an object of a non-GC type: OM_ETYPE, and in debug mode a
 * report. */
static void track_non_gc_object(void *arg)
{
    (void)arg;
    om_heap *h = misuse_heap();
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
    om_heap *h = misuse_heap();
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
    om_heap *h = misuse_heap();
    OM_CHILD_CHECK(om_gc_collect(h, 7) == OM_EINVAL);
    om_child_say_error(h, OM_EINVAL);
    OM_CHILD_CHECK(om_gc_set_threshold(h, -1, 10, 10) == OM_EINVAL);
    om_heap_destroy(h);
}

/* om_realloc of a block that was freed. */
static void realloc_freed(void *arg)
{
    (void)arg;
    om_heap *h = misuse_heap();
    void *keep = om_malloc(h, 64), *p = om_malloc(h, 64);
    om_child_say_at(p);
    om_free(h, p);
    void *q = om_realloc(h, p, 128);
    note_error(h);
    if (q) om_free(h, q);
    om_free(h, keep);
}

/* ------------------------------------------- heaps, threads, lifetimes */

/* A weak reference of heap A to an object of heap B. */
static void weakref_across_heaps(void *arg)
{
    (void)arg;
    static const om_type wt = {
        .name = "wthing", .basic_size = sizeof(thing), .flags = OM_TYPE_WEAKREFABLE};
    om_heap *a = misuse_heap(), *b = misuse_heap();
    om_object *o = om_new(b, &wt);
    OM_CHILD_CHECK(om_weakref_new(a, o, NULL, NULL) == NULL);
    om_child_say_error(a, OM_EINVAL);
    om_decref(o);
    om_heap_destroy(a);
    om_heap_destroy(b);
}

/* A list of heap A takes an item of heap B into spare room (no growth). */
static void list_item_across_heaps(void *arg)
{
    (void)arg;
    om_heap *a = misuse_heap(), *b = misuse_heap();
    om_object *l = om_list_new(a, 4), *x = om_float_new(b, 2.5);
    note_error(a);
    int rc = om_list_append(l, x);
    note_error(a);
    if (rc == 0) om_decref(om_list_pop(l, 0));
    om_decref(x);
    om_decref(l);
    om_heap_destroy(a);
    om_heap_destroy(b);
}

/* The same item appended to an empty list: the append grows the list. */
static void list_item_across_heaps_growing(void *arg)
{
    (void)arg;
    om_heap *a = misuse_heap(), *b = misuse_heap();
    om_object *l = om_list_new(a, 0), *x = om_float_new(b, 2.5);
    OM_CHILD_CHECK(om_list_append(l, x) == OM_EINVAL);
    om_child_say_error(a, OM_EINVAL);
    om_decref(x);
    om_decref(l);
    om_heap_destroy(a);
    om_heap_destroy(b);
}

/* A dict of heap A takes a value of heap B. */
static void dict_value_across_heaps(void *arg)
{
    (void)arg;
    om_heap *a = misuse_heap(), *b = misuse_heap();
    om_object *d = om_dict_new(a), *k = om_str_from_cstr(a, "k"), *x = om_float_new(b, 2.5);
    om_object *k0 = om_str_from_cstr(a, "k0");
    OM_CHILD_CHECK(om_dict_set(d, k0, k0) == 0); /* the table exists: no growth next */
    om_decref(k0);
    note_error(a);
    int rc = om_dict_set(d, k, x);
    note_error(a);
    if (rc == 0) om_dict_del(d, k);
    om_decref(x);
    om_decref(k);
    om_decref(d);
    om_heap_destroy(a);
    om_heap_destroy(b);
}

static void heap_destroyed_twice(void *arg)
{
    (void)arg;
    om_heap *h = misuse_heap();
    om_child_say_at(h);
    om_heap_destroy(h);
    om_heap_destroy(h);
}

/* An object dropped after its heap is gone: the arenas are unmapped. */
static void decref_after_destroy(void *arg)
{
    (void)arg;
    om_heap *h = misuse_heap();
    om_object *o = om_new(h, &thing_type);
    om_heap_destroy(h);
    om_decref(o);
}

/* A tuple that is a dict key has a slot replaced. */
static void tuple_key_mutated(void *arg)
{
    (void)arg;
    om_heap *h = misuse_heap();
    om_object *one = om_int_new(h, 1), *two = om_int_new(h, 2);
    om_object *t = om_tuple_pack(h, 2, one, two), *d = om_dict_new(h);
    OM_CHILD_CHECK(om_dict_set(d, t, one) == 0);
    OM_CHILD_CHECK(om_tuple_set(t, 0, two) == OM_ESTATE);
    om_child_say_error(h, OM_ESTATE);
    om_object *v = om_dict_get(d, t); /* still findable */
    OM_CHILD_CHECK(v == one);
    om_decref(v);
    OM_CHILD_CHECK(om_heap_check(h) == 0);
    om_decref(d);
    om_decref(t);
    om_decref(one);
    om_decref(two);
    om_heap_destroy(h);
}

/* om_list_append to a list that was freed. */
static void append_to_freed_list(void *arg)
{
    (void)arg;
    om_heap *h = misuse_heap();
    om_object *keep = om_list_new(h, 0), *l = om_list_new(h, 4), *x = om_int_new(h, 1000);
    om_child_say_at(l);
    om_decref(l);
    VALGRIND_MAKE_MEM_DEFINED(l, 16);
    om_list_append(l, x);
    note_error(h);
    om_decref(x);
    om_decref(keep);
}

/* om_gc_track of a GC object that was freed. */
static void track_freed_object(void *arg)
{
    (void)arg;
    om_heap *h = misuse_heap();
    om_object *keep = om_new(h, &gnode_type), *o = om_new(h, &gnode_type);
    om_child_say_at(o);
    om_decref(o);
    VALGRIND_MAKE_MEM_DEFINED(o, 16);
    om_gc_track(o);
    note_error(h);
    om_decref(keep);
}

/* The count of a freed object written (the unchecked om_incref), then
 * the block is allocated again. */
static void count_of_freed_written(void *arg)
{
    (void)arg;
    om_heap *h = misuse_heap();
    om_object *keep = om_new(h, &thing_type), *o = om_new(h, &thing_type);
    om_child_say_at(o);
    om_decref(o);
    om_child_poke(o, 0, 1); /* what om_incref(o) writes */
    om_object *again = om_new(h, &thing_type);
    note_error(h);
    om_decref(again);
    om_decref(keep);
}

typedef struct two_threads {
    om_heap *h;
    _Atomic int go;
} two_threads;

static void *collect_forever(void *p)
{
    two_threads *t = p;
    while (!t->go) {
    }
    for (long i = 0; i < 100000000; i++) om_gc_collect(t->h, 0);
    return NULL;
}

/* One heap collected by two threads at once. */
static void two_threads_in_one_heap(void *arg)
{
    (void)arg;
    two_threads t = {misuse_heap(), 0};
    for (int i = 0; i < 100; i++) om_new(t.h, &gnode_type); /* something to visit */
    pthread_t a, b;
    pthread_create(&a, NULL, collect_forever, &t);
    pthread_create(&b, NULL, collect_forever, &t);
    t.go = 1;
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    fprintf(stderr, "two threads: never met\n");
}

/* ---------------------------------------------------------- the table */

/* What a misuse leads to in one mode:
 *   REPORTED   the child stops (SIGABRT) with a report holding want[]
 *              (and the address it said, if any)
 *   REFUSED    the call fails cleanly; the child exits 0, want[] printed
 *   HARMLESS   allowed by contract; the child exits 0, want[] printed
 *   NOTED      a message (want[]) and the program goes on (exits 0)
 *   CRASH      dies at the misuse by a signal (SIGSEGV/SIGBUS): not
 *              detected, but not silent either
 *   UNDETECTED nothing from objmem: the child says nothing objmem-made
 *              (it may finish, or crash at once or later)
 * asan: under ASan the sanitizer may stop the child first (either counts). */
enum { REPORTED, REFUSED, HARMLESS, NOTED, CRASH, UNDETECTED };
static const char *const kind_word[] = {
    "reported", "refused", "harmless", "reported, left alone", "crashes at the call", "undetected"};

typedef struct outcome {
    int kind;
    int asan;
    const char *doc;     /* the cell's detail in docs/reliability.md */
    const char *want[6]; /* strings the child's stderr must contain */
} outcome;

typedef struct misuse {
    const char *name;
    void (*fn)(void *);
    outcome release, debug;
} misuse;

#define UND                                                                                        \
    {                                                                                              \
        UNDETECTED, 1, NULL,                                                                       \
        {                                                                                          \
            NULL                                                                                   \
        }                                                                                          \
    }

static const misuse cases[] = {
    {"overrun by 1 byte (small block)",
     overrun_small,
     UND,
     {REPORTED,
      0,
      "\"buffer overrun ... detected by om_free\"",
      {"objmem: debug: buffer overrun", "detected by om_free", "24 bytes requested",
       "after payload"}}},
    {"overrun by 1 byte (large block)",
     overrun_large,
     UND,
     {REPORTED,
      0,
      "\"buffer overrun ... detected by om_free\"",
      {"objmem: debug: buffer overrun", "detected by om_free",
       "large block, 3000 bytes requested"}}},
    {"overrun of a large block by 8 bytes",
     overrun_large_far,
     UND,
     {REPORTED, 0, "\"buffer overrun\"", {"buffer overrun", "large block, 4000 bytes requested"}}},
    {"overrun found before any free",
     overrun_found_by_check,
     UND,
     {REPORTED,
      0,
      "\"buffer overrun ... detected by om_heap_check\"",
      {"buffer overrun", "detected by om_heap_check"}}},
    {"underrun",
     underrun,
     UND,
     {REPORTED, 0, "\"buffer underrun\"", {"buffer underrun", "detected by om_free", "prefix at"}}},
    {"underrun into a large block's size",
     underrun_into_size,
     UND,
     {REPORTED,
      0,
      "\"the size before the block is damaged\"",
      {"the size before the block is damaged", "large block"}}},
    {"double free (small block)",
     double_free,
     {NOTED, 0, "\"double free\"", {"double free (the block is free already)"}},
     {REPORTED, 0, "\"double free\"", {"double free", "detected by om_free"}}},
    {"double free (large block)",
     double_free_large,
     {NOTED, 0, "\"not a block of this heap\"", {"not a block of this heap"}},
     {REPORTED,
      0,
      "\"not a block of this heap\"",
      {"not a block of this heap", "detected by om_free"}}},
    {"free of a stack pointer",
     free_stack_pointer,
     {NOTED, 0, "\"not a block of this heap\"", {"not a block of this heap"}},
     {REPORTED,
      0,
      "\"not a block of this heap\"",
      {"not a block of this heap", "in no arena and no large block"}}},
    {"free of an interior pointer",
     free_interior_pointer,
     {NOTED, 0, "\"not the start of a block\"", {"not the start of a block"}},
     {REPORTED,
      0,
      "\"not a block of this heap\"",
      {"not a block of this heap", "detected by om_free"}}},
    {"free of a malloc pointer",
     free_malloc_pointer,
     {NOTED, 0, "\"not a block of this heap\"", {"not a block of this heap"}},
     {REPORTED,
      0,
      "\"not a block of this heap\"",
      {"not a block of this heap", "in no arena and no large block"}}},
    {"a block of heap A freed into heap B",
     free_into_wrong_heap,
     {NOTED, 0, "\"a block of another heap\"", {"a block of another heap"}},
     {REPORTED,
      0,
      "\"not a block of this heap\"",
      {"not a block of this heap", "detected by om_free"}}},
    {"om_free of an object",
     free_object_block,
     {NOTED, 0, "\"an object's block\"", {"an object's block: drop objects with om_decref"}},
     {REPORTED,
      0,
      "\"om_free of an object's block\"",
      {"om_free of an object's block", "object block"}}},
    {"use after free write (found by om_heap_check)",
     uaf_found_by_check,
     UND,
     {REPORTED, 0, "\"use after free\"", {"use after free", "detected by om_heap_check"}}},
    {"use after free write (found by the next allocation)",
     uaf_found_by_realloc,
     UND,
     {REPORTED, 0, "\"use after free\"", {"use after free", "detected by allocation"}}},
    {"refcount underflow (a dealloc drops a reference it does not own)",
     decref_below_zero,
     {NOTED, 0, "\"reference count below zero\"", {"reference count below zero"}},
     {REPORTED,
      0,
      "\"reference count below zero\"",
      {"reference count below zero", "of type selfish", "detected by om_decref"}}},
    {"decref of a freed object",
     decref_freed,
     {NOTED,
      1,
      "\"reference operation on a freed object\"",
      {"reference operation on a freed object"}},
     {REPORTED,
      1,
      "\"reference operation on a freed object\"",
      {"reference operation on a freed object", "of type thing (freed)", "detected by om_decref"}}},
    {"checked incref of a freed object",
     incref_freed_checked,
     {NOTED,
      1,
      "\"reference operation on a freed object\"",
      {"reference operation on a freed object"}},
     {REPORTED,
      1,
      "\"reference operation on a freed object\"",
      {"reference operation on a freed object", "of type thing (freed)", "detected by om_incref"}}},
    {"realloc of a foreign pointer",
     realloc_foreign,
     {REFUSED, 0, "`OM_EFOREIGN`", {"error=-12 om_realloc(", "not a block of this heap"}},
     {REFUSED, 0, "`OM_EFOREIGN`", {"error=-12 om_realloc(", "not a block of this heap"}}},
    {"realloc of a freed block",
     realloc_freed,
     {REFUSED, 0, "`OM_EFOREIGN`", {"error=-12 om_realloc(", "the block is free"}},
     {REPORTED, 0, "\"double free\"", {"double free", "detected by om_realloc"}}},
    {"realloc of an object's block",
     realloc_object,
     {REFUSED, 0, "`OM_EINVAL`", {"error=-2 "}},
     {REPORTED,
      0,
      "\"om_realloc of an object's block\"",
      {"om_realloc of an object's block", "detected by om_realloc", "object block"}}},
    {"calloc overflow",
     calloc_overflow,
     {REFUSED, 0, "`OM_EINVAL`", {"error=-2 om_calloc:", "overflows"}},
     {REFUSED, 0, "`OM_EINVAL`", {"error=-2 om_calloc:", "overflows"}}},
    {"malloc of SIZE_MAX - 8",
     malloc_huge,
     {REFUSED, 0, "`OM_ENOMEM`", {"error=-1 ", "too large"}},
     {REFUSED, 0, "`OM_ENOMEM`", {"error=-1 ", "too large"}}},
    {"untrack twice (and track twice)",
     untrack_twice,
     {HARMLESS, 0, "a no-op", {"untrack twice: harmless"}},
     {HARMLESS, 0, "a no-op", {"untrack twice: harmless"}}},
    {"weak reference to a non-weakrefable object",
     weakref_not_weakrefable,
     {REFUSED, 0, "`OM_ETYPE`", {"error=-4 cannot create weak reference to 'gnode' object"}},
     {REFUSED, 0, "`OM_ETYPE`", {"error=-4 cannot create weak reference to 'gnode' object"}}},
    {"om_weakref_get of a non-weakref",
     weakref_get_of_non_weakref,
     {REFUSED, 0, "`OM_ETYPE`", {"error=-4 om_weakref_get: a 'gnode' is not a weak reference"}},
     {REFUSED, 0, "`OM_ETYPE`", {"error=-4 om_weakref_get: a 'gnode' is not a weak reference"}}},
    {"a GC type with NULL traverse",
     gc_type_without_traverse,
     {REFUSED,
      0,
      "`OM_EINVAL` at om_new",
      {"error=-2 type untraversable is OM_TYPE_GC but has no traverse"}},
     {REFUSED,
      0,
      "`OM_EINVAL` at om_new",
      {"error=-2 type untraversable is OM_TYPE_GC but has no traverse"}}},
    {"a type smaller than the header",
     type_smaller_than_header,
     {REFUSED, 0, "`OM_EINVAL`", {"error=-2 type tiny: basic_size 8 is smaller than the header"}},
     {REFUSED, 0, "`OM_EINVAL`", {"error=-2 type tiny: basic_size 8 is smaller than the header"}}},
    {"om_gc_track of a non-GC object",
     track_non_gc_object,
     {REFUSED, 0, "`OM_ETYPE`", {"error=-4 om_gc_track: type thing is not a GC type"}},
     {REPORTED,
      0,
      "\"om_gc_track of a non-GC object\"",
      {"om_gc_track of a non-GC object", "detected by om_gc_track"}}},
    {"decref of an immortal object 1M times",
     immortal_decref_many,
     {HARMLESS, 0, "by contract", {"immortal: harmless"}},
     {HARMLESS, 0, "by contract", {"immortal: harmless"}}},
    {"collect of a generation that does not exist",
     collect_bad_generation,
     {REFUSED, 0, "`OM_EINVAL`", {"error=-2 "}},
     {REFUSED, 0, "`OM_EINVAL`", {"error=-2 "}}},
    {"weak reference to an object of another heap",
     weakref_across_heaps,
     {REFUSED, 0, "`OM_EINVAL`", {"error=-2 om_weakref_new:", "belongs to another heap"}},
     {REFUSED, 0, "`OM_EINVAL`", {"error=-2 om_weakref_new:", "belongs to another heap"}}},
    {"a list item of another heap (into spare room)",
     list_item_across_heaps,
     {UNDETECTED, 0, "(checked only when the list grows)", {NULL}},
     {REFUSED, 0, "`OM_EINVAL`", {"error=-2 om_list_append:", "belongs to another heap"}}},
    {"a list item of another heap (the list grows)",
     list_item_across_heaps_growing,
     {REFUSED, 0, "`OM_EINVAL`", {"error=-2 om_list_append:", "belongs to another heap"}},
     {REFUSED, 0, "`OM_EINVAL`", {"error=-2 om_list_append:", "belongs to another heap"}}},
    {"a dict value of another heap (no growth)",
     dict_value_across_heaps,
     {UNDETECTED, 0, "(checked only when the dict grows)", {NULL}},
     {REFUSED, 0, "`OM_EINVAL`", {"error=-2 om_dict_set:", "belongs to another heap"}}},
    {"heap destroyed twice",
     heap_destroyed_twice,
     {NOTED, 1, "\"not a live heap (destroyed twice?)\"", {"not a live heap"}},
     {REPORTED, 1, "\"not a live heap (destroyed twice?)\"", {"not a live heap"}}},
    {"decref of an object after its heap was destroyed",
     decref_after_destroy,
     {CRASH, 1, "(SIGSEGV: the arenas are unmapped)", {NULL}},
     {CRASH, 1, "(SIGSEGV: the arenas are unmapped)", {NULL}}},
    {"a tuple that is a dict key mutated",
     tuple_key_mutated,
     {REFUSED,
      0,
      "`OM_ESTATE` (a shared tuple is immutable)",
      {"error=-10 om_tuple_set:", "shared tuple"}},
     {REFUSED,
      0,
      "`OM_ESTATE` (a shared tuple is immutable)",
      {"error=-10 om_tuple_set:", "shared tuple"}}},
    {"om_list_append to a freed list",
     append_to_freed_list,
     {REFUSED,
      0,
      "`OM_ETYPE` while it waits on the list free list; else undetected",
      {"error=-4 om_list_append:", "is not a list"}},
     {REPORTED, 1, "\"use of a freed object\"", {"use of a freed object", "om_list_append"}}},
    {"om_gc_track of a freed object",
     track_freed_object,
     {CRASH, 1, "(SIGSEGV: its gc word reads 0, no generation)", {NULL}},
     {REPORTED, 1, "\"om_gc_track of a freed object\"", {"om_gc_track of a freed object"}}},
    {"a write to the count of a freed object",
     count_of_freed_written,
     UND,
     {REPORTED,
      1,
      "\"a freed object's count was written to\"",
      {"a freed object's count was written to", "detected by allocation"}}},
    {"one heap used by two threads at once",
     two_threads_in_one_heap,
     {REPORTED,
      0,
      "\"used by two threads at once\" (collections, large blocks)",
      {"used by two threads at once"}},
     {REPORTED,
      0,
      "\"used by two threads at once\" (also every allocation and free)",
      {"used by two threads at once"}}},
};

enum { NCASES = sizeof cases / sizeof *cases };

/* ------------------------------------------------------------ running */

static void check_strings(const char *const *want)
{
    for (; *want; want++) {
        if (!strstr(om_child_out, *want))
            fprintf(stderr, "missing \"%s\" in:\n%s\n", *want, om_child_out);
        assert_non_null(strstr(om_child_out, *want));
    }
}

static void run_case(const misuse *m, const outcome *o)
{
    if (m->fn == two_threads_in_one_heap && om_child_under_valgrind())
        return;                      /* memcheck runs one thread at a time: they may never meet */
    if (getenv("OM_MISUSE_PROBE")) { /* what each case does, for writing the table */
        int st = om_test_run_child_limited(m->fn, NULL, om_child_out, sizeof om_child_out, 120);
        fprintf(stderr, "  status exited=%d code=%d signal=%d\n  %.300s\n", WIFEXITED(st),
                WIFEXITED(st) ? WEXITSTATUS(st) : -1, WIFSIGNALED(st) ? WTERMSIG(st) : 0,
                om_child_out);
        return;
    }
    if (o->kind == REPORTED && !(o->asan && om_child_under_asan())) {
        om_expect_abort(m->fn, o->want);
        return;
    }
    int status = om_test_run_child_limited(m->fn, NULL, om_child_out, sizeof om_child_out, 120);
    if (getenv("OM_TEST_SHOW")) fprintf(stderr, "---- child report:\n%s", om_child_out);
    /* ASan may stop a child that reads freed memory first; memcheck
     * reports the read and changes the child's exit status */
    int asan_stop = (om_child_under_asan() && strstr(om_child_out, "AddressSanitizer")) ||
                    om_child_under_valgrind();
    assert_false(WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM); /* a hang */
    if (o->asan && asan_stop) return;
    switch (o->kind) {
    case REPORTED:
        assert_true(om_test_aborted(status));
        check_strings(o->want);
        break;
    case REFUSED:
    case HARMLESS:
    case NOTED:
        /* memcheck's exit status 99: it reported the misuse too, or the
         * child's heap, which a misuse child never destroys */
        if (WIFEXITED(status) && WEXITSTATUS(status) == 99 && om_child_under_valgrind()) status = 0;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fprintf(stderr, "child status %d, output:\n%s\n", status, om_child_out);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        check_strings(o->want);
        break;
    case CRASH:
        assert_true(WIFSIGNALED(status) &&
                    (WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS));
        break;
    default: /* UNDETECTED: objmem said nothing */
        if (strstr(om_child_out, "objmem:") || strstr(om_child_out, "error=-"))
            fprintf(stderr, "said to be undetected, but:\n%s\n", om_child_out);
        assert_null(strstr(om_child_out, "objmem:"));
        assert_null(strstr(om_child_out, "error=-"));
    }
}

static void cell(char *buf, size_t n, const outcome *o)
{
    snprintf(buf, n, "%s%s%s", kind_word[o->kind],
             o->doc ? (o->kind == UNDETECTED || o->kind == CRASH ? " " : ": ") : "",
             o->doc ? o->doc : "");
}

/* The table of docs/reliability.md section 4, from the cases above. */
static size_t table_text(char *buf, size_t n)
{
    size_t len = (size_t)snprintf(
        buf, n, "| # | misuse | release | debug mode |\n| --- | --- | --- | --- |\n");
    for (int i = 0; i < NCASES; i++) {
        char r[160], d[160];
        cell(r, sizeof r, &cases[i].release);
        cell(d, sizeof d, &cases[i].debug);
        len += (size_t)snprintf(buf + len, len < n ? n - len : 0, "| %d | %s | %s | %s |\n", i + 1,
                                cases[i].name, r, d);
    }
    return len;
}

static void test_misuse_corpus(void **state)
{
    (void)state;
    for (g_debug = 0; g_debug < 2; g_debug++)
        for (int i = 0; i < NCASES; i++) {
            const misuse *m = &cases[i];
            print_message("misuse %2d (%s): %s\n", i + 1, g_debug ? "debug" : "release", m->name);
            run_case(m, g_debug ? &m->debug : &m->release);
        }
    print_message("misuse: %d cases, each in release and debug mode\n", NCASES);
}

/* docs/reliability.md holds exactly this table (between its markers):
 * the doc says what the corpus checks. */
static void test_misuse_table_is_the_doc(void **state)
{
    (void)state;
    static char want[32768], doc[262144];
    table_text(want, sizeof want);
    char path[4096];
    snprintf(path, sizeof path, "%s", __FILE__);
    char *cut = strstr(path, "tests/unit/test_misuse.c");
    assert_non_null(cut);
    strcpy(cut, "docs/reliability.md");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t got = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[got] = 0;
    const char *begin = strstr(doc, "<!-- misuse-table begin -->\n");
    const char *end = strstr(doc, "<!-- misuse-table end -->");
    assert_non_null(begin);
    assert_non_null(end);
    begin += strlen("<!-- misuse-table begin -->\n");
    if ((size_t)(end - begin) != strlen(want) || memcmp(begin, want, strlen(want)) != 0) {
        fprintf(stderr,
                "docs/reliability.md's misuse table differs from the corpus; it should be:\n%s",
                want);
        fail();
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--table") == 0) { /* for the doc */
        static char buf[32768];
        table_text(buf, sizeof buf);
        fputs(buf, stdout);
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_misuse_table_is_the_doc),
        cmocka_unit_test(test_misuse_corpus),
    };
    return cmocka_run_group_tests_name("misuse", tests, NULL, NULL);
}
