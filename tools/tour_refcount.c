/*
 * tour_refcount.c - tour section for reference counting: Python's
 * example `a = []; b = a; del a` with a user-defined type, the count after
 * each step, and the block going back to its pool when the count reaches
 * zero. Design note: docs/object.md.
 */
#include "tour.h"

/* A user-defined type: a point with two coordinates. */
typedef struct point {
    OM_OBJECT_HEAD
    double x, y;
} point;

static int point_deallocs;
static void point_dealloc(om_object *o)
{
    (void)o;
    point_deallocs++; /* a point owns nothing; objmem frees its block after this */
}

static const om_type point_type = {
    .name = "point",
    .basic_size = sizeof(point),
    .dealloc = point_dealloc,
};

static size_t blocks_used(om_heap *h, unsigned cls)
{
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    return st.classes[cls].blocks_used;
}

int om_tour_refcount(void)
{
    om_heap *h = om_heap_new(NULL);
    if (!h) return 1;
    om_tour_say(
        "Every object carries a 16-byte header: a 32-bit count, a 32-bit GC word, its type.");
    om_tour_say("A user-defined type: struct point { OM_OBJECT_HEAD double x, y; } (%zu bytes).",
                sizeof(point));
    om_tour_say("count(x) below is om_refcount(x): Python's sys.getrefcount(x) minus the one");
    om_tour_say("reference its own argument adds.");
    om_object *a = om_new(h, &point_type);
    if (!a) return 1;
    const void *where = a;
    om_block_info bi;
    om_block_info_get(h, a, &bi);
    unsigned cls = bi.size_class;
    om_tour_say("a = point()      count(a) = %u   (a new reference; om_sizeof(a) = %zu bytes, "
                "sys.getsizeof)",
                om_refcount(a), om_sizeof(a));
    om_object *b = om_incref(a);
    om_tour_say("b = a            count(b) = %u   (om_incref: a second reference)", om_refcount(b));
    om_clear_ref(&a);
    om_tour_say("del a            count(b) = %u   (om_clear_ref(&a): a is NULL now)",
                om_refcount(b));
    size_t before = blocks_used(h, cls);
    om_tour_say("The point sits in a %zu-byte block of size class %u: %zu %s of that class in use",
                bi.block_size, cls, before, om_tour_plural(before, "block", "blocks"));
    om_tour_say("(the others are the heap's own cached objects, such as the small ints).");
    om_clear_ref(&b);
    size_t after = blocks_used(h, cls);
    om_tour_say("del b            count reaches 0: dealloc ran %d %s, and the block went back",
                point_deallocs, om_tour_plural((size_t)point_deallocs, "time", "times"));
    om_tour_say("                 to its pool at once: %zu -> %zu %s of class %u in use.", before,
                after, om_tour_plural(after, "block", "blocks"), cls);
    om_object *c = om_new(h, &point_type);
    om_tour_say("c = point()      reuses that very block: %s.",
                (const void *)c == where ? "yes" : "no");
    om_decref(c);
    om_heap_destroy(h);
    return after + 1 == before ? 0 : 1;
}

static size_t live_objects(om_heap *h)
{
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    return st.objects - st.heap_objects;
}

int om_tour_dealloc(void)
{
    om_heap *h = om_heap_new(NULL);
    if (!h) return 1;
    om_gc_disable(h); /* no collector: what goes below goes by counts alone */
    om_object *l = om_list_new(h, 0);
    for (int i = 0; l && i < 10000; i++) {
        om_object *f = om_float_new(h, i);
        if (!f || om_list_append(l, f) < 0) return 1;
        om_decref(f);
    }
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    size_t before = live_objects(h), bytes = st.bytes_in_use;
    om_tour_say("A list of 10,000 floats: %zu live %s, %zu bytes in use.", before,
                om_tour_plural(before, "object", "objects"), bytes);
    om_decref(l);
    om_heap_get_stats(h, &st);
    size_t after = live_objects(h);
    om_gc_stats gs[3];
    om_gc_get_stats(h, gs);
    size_t ncoll = gs[0].collections + gs[1].collections + gs[2].collections;
    om_tour_say("om_decref(list): the list's count reaches 0, it drops its items, theirs reach 0:");
    om_tour_say("  %zu live %s, %zu bytes in use, at once -- collections run: %zu.", after,
                om_tour_plural(after, "object", "objects"), st.bytes_in_use, ncoll);
    om_tour_say("Freed floats park on the float free list (bounded); the rest go back to pools.");
    om_heap_destroy(h);
    return after == 0 ? 0 : 1;
}
