/*
 * tour_misuse.c - `objmem tour` section "misuse": what objmem does with
 * the mistakes of issue 12 that used to corrupt silently, measured live:
 * a tuple that is a dict key cannot change, objects of two heaps do not
 * mix, and crafted colliding tuple keys stay cheap because the tuple hash
 * is keyed per heap. The whole table is docs/reliability.md section 4.
 */
#include <stdio.h>

#include "tour.h"

static const om_type thing_type = {
    .name = "thing", .basic_size = sizeof(om_object) + 16, .flags = OM_TYPE_WEAKREFABLE};

static om_heap *heap(int debug, uint64_t seed)
{
    om_config cfg;
    om_config_init(&cfg);
    cfg.debug = debug;
    cfg.hash_seed = seed;
    return om_heap_new(&cfg);
}

int om_tour_misuse(void)
{
    om_heap *h = heap(0, 0), *other = heap(1, 0), *h2 = heap(0, 0);
    if (!h || !other || !h2) return 1;
    om_object *one = om_int_new(h, 1), *two = om_int_new(h, 2), *d = om_dict_new(h);
    om_object *t = om_tuple_pack(h, 2, one, two);
    om_dict_set(d, t, one);
    int rc = om_tuple_set(t, 0, two);
    om_tour_say("A tuple that is a dict key is shared, and a shared tuple cannot change:");
    om_tour_say("  om_tuple_set(key, 0, 2) -> %d: %s", rc, om_errmsg(h));
    om_object *v = om_dict_get(d, t);
    om_tour_say("  and d[(1, 2)] is still found: %s", v == one ? "yes" : "no");
    om_xdecref(v);

    om_object *l = om_list_new(h, 4), *x = om_float_new(other, 2.5);
    rc = om_list_append(l, x);
    om_tour_say("A container takes only objects of its own heap (every store is checked when");
    om_tour_say("a debug-mode heap is involved, the growing ones otherwise):");
    om_tour_say("  om_list_append(list of heap A, float of debug heap B) -> %d: %s", rc,
                om_errmsg(h));
    om_object *thing = om_new(other, &thing_type);
    om_object *w = thing ? om_weakref_new(h, thing, NULL, NULL) : NULL;
    om_tour_say("  om_weakref_new(heap A, object of heap B) -> %s: %s", w ? "a weakref" : "NULL",
                om_errmsg(h));
    om_xdecref(w);
    om_xdecref(thing);

    uint64_t ha = 0, hb = 0;
    om_object *n1 = om_int_new(h2, 1), *n2 = om_int_new(h2, 2);
    om_object *t2 = om_tuple_pack(h2, 2, n1, n2);
    om_hash(t, &ha);
    om_hash(t2, &hb);
    om_tour_say("Tuple hashes are keyed per heap (ints keep Python's: hash(1) == 1), so keys");
    om_tour_say("crafted to collide in one program collide in no other heap:");
    om_tour_say("  hash((1, 2)) in heap A %#llx, in heap C %#llx: %s", (unsigned long long)ha,
                (unsigned long long)hb, ha == hb ? "the same" : "different");
    om_tour_say("Every misuse and what release and debug mode do: docs/reliability.md.");
    om_decref(t2);
    om_decref(n1);
    om_decref(n2);
    om_decref(x);
    om_decref(l);
    om_decref(t);
    om_decref(d);
    om_decref(one);
    om_decref(two);
    om_heap_destroy(h2);
    om_heap_destroy(other);
    om_heap_destroy(h);
    return 0;
}
