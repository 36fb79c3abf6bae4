/*
 * tour_types.c - tour section for the built-in types: the small-int
 * cache, interning, the float free list, and untracked tuples.
 */
#include <string.h>

#include "tour.h"

/* The built-in types' rows of om_heap_print_stats. */
static void print_types_stats(om_heap *h)
{
    FILE *f = tmpfile();
    char line[256];
    int on = 0;
    if (!f) return;
    om_heap_print_stats(h, f);
    rewind(f);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "# built-in types", 16) == 0)
            on = 1;
        else if (on && line[0] == '\n')
            break;
        if (on) printf("    %s", line);
    }
    fclose(f);
}

int om_tour_types(void)
{
    om_heap *h = om_heap_new(NULL);
    if (!h) return 1;
    om_object *a = om_int_new(h, 7), *b = om_int_new(h, 7);
    om_tour_say("Small ints (-5..256) are made once per heap, immortal:");
    om_tour_say("  om_int_new(h, 7) twice -> %p and %p: %s object", (void *)a, (void *)b,
                a == b ? "one" : "two");
    om_object *c = om_int_new(h, 1000), *d = om_int_new(h, 1000);
    om_tour_say("  om_int_new(h, 1000) twice -> %p and %p: %s objects", (void *)c, (void *)d,
                c == d ? "one" : "two");
    om_decref(c);
    om_decref(d);

    om_object *s1 = om_str_from_cstr(h, "hello"), *s2 = om_str_from_cstr(h, "hello");
    om_object *i1 = om_str_intern(h, s1), *i2 = om_str_intern(h, s2);
    om_tour_say("Interned strings are one object: two \"hello\" strings %p and %p,", (void *)s1,
                (void *)s2);
    om_tour_say("  interned -> %p and %p (the first one, now canonical)", (void *)i1, (void *)i2);
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    om_tour_say("  the intern table now holds %zu %s (om_heap_stats.interned); it keeps no",
                st.interned, om_tour_plural(st.interned, "string", "strings"));
    om_tour_say("  reference: an interned string leaves it when it dies (Python 3.11's rule).");
    om_decref(i2);
    om_decref(s2); /* s1 and i1 (the same string) stay until the statistics below */

    om_object *f = om_float_new(h, 3.14);
    void *addr = f;
    om_decref(f);
    om_object *g = om_float_new(h, 2.71);
    om_tour_say("A freed float's block comes straight back from the float free list:");
    om_tour_say("  float 3.14 at %p, dropped; float 2.71 at %p:", addr, (void *)g);
    om_tour_say("  %s", addr == (void *)g ? "the same block, no pool touched" : "another block");
    om_decref(g);

    om_object *n1 = om_int_new(h, 1), *n2 = om_int_new(h, 2), *l = om_list_new(h, 0);
    om_object *t = om_tuple_pack(h, 2, n1, n2), *u = om_tuple_pack(h, 2, n1, l);
    om_tour_say("A tuple of ints cannot be in a cycle, so the collector never sees it:");
    om_tour_say("  (1, 2) tracked: %s;  (1, []) tracked: %s", om_gc_is_tracked(t) ? "yes" : "no",
                om_gc_is_tracked(u) ? "yes" : "no");
    om_decref(t);
    om_decref(u);
    om_decref(l);
    om_tour_say("The types layer's part of om_heap_print_stats (sys._debugmallocstats):");
    print_types_stats(h);
    om_decref(i1);
    om_decref(s1);
    om_heap_destroy(h);
    return 0;
}
