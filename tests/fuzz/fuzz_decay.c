/*
 * fuzz_decay.c - libFuzzer target: the allocator's give-back machinery
 * on a clock the input drives. One heap per input, its decay_ms (-1, 0 or
 * a few ms), arena_cache (0..3) and debug mode from the first bytes; then
 * steps that allocate and free raw blocks of every regime (fine classes,
 * medium classes, large), objects (plain and GC), move the clock forward
 * by 0..255 ms, call om_heap_trim or a collection. This is what walks the
 * paths where a pool empties next to kept pools, the decay sweep retires
 * kept pools and unmaps arenas from inside a free, and arenas come back
 * from the cache (src/alloc/pool.c pool_emptied, release_kept, arena.c).
 * Checked after every step that changed the heap: om_heap_check passes,
 * and every live raw block still holds the byte pattern written into it
 * (a block handed out twice, or memory unmapped under a live block, shows
 * here or as an ASan report).
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
            fprintf(stderr, "fuzz_decay: check failed at line %d: %s\n", __LINE__, #c);            \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

enum { NRAW = 64, NOBJ = 16 };

static struct {
    const uint8_t *p, *end;
    uint64_t now; /* the heap's clock, ms */
    unsigned char *raw[NRAW];
    size_t rawsize[NRAW];
    om_object *obj[NOBJ];
} g;

static unsigned next(void)
{
    return g.p < g.end ? *g.p++ : 0;
}

static uint64_t clock_of(void *ctx)
{
    (void)ctx;
    return g.now;
}

typedef struct node {
    OM_OBJECT_HEAD
    om_object *child;
} node;

static int node_traverse(om_object *o, om_visit_fn visit, void *arg)
{
    OM_VISIT(((node *)o)->child, visit, arg);
    return 0;
}
static void node_clear(om_object *o)
{
    om_clear_ref(&((node *)o)->child);
}
static const om_type plain_type = {.name = "plain", .basic_size = 24};
static const om_type big_type = {.name = "bigplain", .basic_size = 3000};
static const om_type node_type = {.name = "node",
                                  .basic_size = sizeof(node),
                                  .flags = OM_TYPE_GC,
                                  .traverse = node_traverse,
                                  .clear = node_clear,
                                  .dealloc = node_clear};

/* A size in one of the three regimes, from two input bytes. */
static size_t pick_size(void)
{
    unsigned a = next(), b = next();
    switch (a & 3) {
    case 0:
    case 1:
        return (size_t)(b % 64) + 1 + (size_t)(a >> 2) * 8; /* fine: 1..568 */
    case 2:
        return 513 + (size_t)b * 6; /* medium: 513..2043 */
    default:
        return 2049 + (size_t)b * 40; /* large */
    }
}

static void fill(unsigned char *p, size_t n, unsigned i)
{
    memset(p, (int)(0x40 + i), n);
}

static void verify(void)
{
    for (unsigned i = 0; i < NRAW; i++)
        for (size_t j = 0; g.raw[i] && j < g.rawsize[i]; j++)
            CHECK(g.raw[i][j] == (unsigned char)(0x40 + i));
}

static void step(om_heap *h, unsigned op)
{
    unsigned i = next() % NRAW, k = next() % NOBJ;
    switch (op % 8) {
    case 0:
    case 1: /* (re)place a raw block */
        om_free(h, g.raw[i]);
        g.rawsize[i] = pick_size();
        g.raw[i] = om_malloc(h, g.rawsize[i]);
        CHECK(g.raw[i] != NULL);
        fill(g.raw[i], g.rawsize[i], i);
        break;
    case 2: /* free a run of raw blocks: pools empty, kept pools appear */
        for (unsigned n = next() % 16; n-- > 0; i = (i + 1) % NRAW) {
            om_free(h, g.raw[i]);
            g.raw[i] = NULL;
        }
        break;
    case 3: /* realloc across regimes */
        if (g.raw[i]) {
            size_t ns = pick_size();
            unsigned char *q = om_realloc(h, g.raw[i], ns);
            CHECK(q != NULL);
            for (size_t j = 0; j < (ns < g.rawsize[i] ? ns : g.rawsize[i]); j++)
                CHECK(q[j] == (unsigned char)(0x40 + i));
            g.raw[i] = q;
            g.rawsize[i] = ns;
            fill(q, ns, i);
        }
        break;
    case 4: { /* objects: plain, large plain, or a GC node maybe in a cycle */
        om_xdecref(g.obj[k]);
        unsigned t = next() % 3;
        g.obj[k] = om_new(h, t == 0 ? &plain_type : t == 1 ? &big_type : &node_type);
        CHECK(g.obj[k] != NULL);
        if (t == 2 && (next() & 1)) ((node *)g.obj[k])->child = om_incref(g.obj[k]);
        break;
    }
    case 5: /* the clock moves */
        g.now += next();
        break;
    case 6: /* give back: trim, or a collection */
        if (next() & 1)
            (void)om_heap_trim(h);
        else
            CHECK(om_gc_collect(h, -1) >= 0);
        break;
    default: /* drop an object */
        om_xdecref(g.obj[k]);
        g.obj[k] = NULL;
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    memset(&g, 0, sizeof g);
    g.p = data;
    g.end = data + size;
    g.now = 1000;
    unsigned a = next(), b = next();
    om_config cfg;
    om_config_init(&cfg);
    static const long decays[4] = {-1, 0, 1, 20};
    cfg.decay_ms = decays[a & 3];
    cfg.arena_cache = (size_t)((a >> 2) & 3);
    cfg.debug = (a >> 4) & 1;
    cfg.clock_ms = clock_of;
    cfg.clock_ctx = NULL;
    om_heap *h = om_heap_new(&cfg);
    CHECK(h != NULL);
    for (unsigned n = 0; g.p < g.end && n < 4000; n++) {
        step(h, next() + b);
        if (n % 16 == 15 || g.p >= g.end) {
            CHECK(om_heap_check(h) == 0);
            verify();
        }
    }
    for (unsigned i = 0; i < NRAW; i++) om_free(h, g.raw[i]);
    for (unsigned k = 0; k < NOBJ; k++) om_xdecref(g.obj[k]);
    CHECK(om_gc_collect(h, -1) >= 0);
    CHECK(om_heap_check(h) == 0);
    om_heap_destroy(h);
    return 0;
}
