/*
 * fuzz_trace_tables.c - libFuzzer target: the tracer's tables (interned
 * tracebacks, frames and strings; the trace table; the snapshot builder)
 * driven through a frame provider whose stacks the input chooses, with
 * bursts that make thousands of distinct tracebacks in one input (the
 * pointer-set grow hang of issue 12 needed 512). After the program, and
 * at every snapshot step, a model is checked:
 *   - the snapshot holds one trace per live traced block, with its size;
 *   - statistics by traceback count every block once, by filename their
 *     sizes sum to the traced total;
 *   - om_trace_get_traced_memory's current is the sum of the live sizes;
 *   - om_heap_check passes (the tracer's invariants with it).
 * Ops (one byte, then arguments): alloc, free, burst of N allocations with
 * distinct lines, set the stack depth / file / name, snapshot + checks,
 * track/untrack a foreign range, restart tracing.
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
            fprintf(stderr, "fuzz_trace_tables: check failed at line %d: %s\n", __LINE__, #c);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

enum { MAXLIVE = 4096, NFILES = 8, MAXDEPTH = 12 };

static const char *const files[NFILES] = {
    "a.py", "b.py", "lib/c.py", "d.py", "", "x\x1b[0m.py", "very/long/path/to/module.py", "z.py"};

static struct {
    om_heap *h;
    const uint8_t *p, *end;
    void *live[MAXLIVE];
    size_t size[MAXLIVE];
    int nlive;
    int depth, file;
    unsigned line;
    int foreign; /* the tracked foreign range, or 0 */
} g;

static unsigned next(void)
{
    return g.p < g.end ? *g.p++ : 0;
}

static int provider(void *ctx, om_frame *out, int max)
{
    (void)ctx;
    for (int i = 0; i < g.depth && i < max; i++)
        out[i] =
            (om_frame){files[(g.file + i) % NFILES], g.line + (unsigned)i * 7, i == 0 ? "f" : NULL};
    return g.depth;
}

static void start(int nframe)
{
    CHECK(om_trace_start(g.h, nframe) == 0);
    om_trace_set_frame_provider(g.h, provider, NULL);
}

static void alloc_one(size_t size)
{
    if (g.nlive == MAXLIVE) return;
    void *p = om_malloc(g.h, size);
    CHECK(p != NULL);
    g.live[g.nlive] = p;
    g.size[g.nlive++] = size;
}

static void free_one(unsigned k)
{
    if (!g.nlive) return;
    k %= (unsigned)g.nlive;
    om_free(g.h, g.live[k]);
    g.live[k] = g.live[--g.nlive];
    g.size[k] = g.size[g.nlive];
}

static void check_model(void)
{
    size_t cur, peak, total = 0;
    for (int i = 0; i < g.nlive; i++) total += g.size[i];
    om_trace_get_traced_memory(g.h, &cur, &peak);
    CHECK(cur == total + (g.foreign ? 4096 : 0));
    CHECK(peak >= cur);
    om_snapshot *s = om_trace_take_snapshot(g.h);
    CHECK(s != NULL);
    CHECK(om_snapshot_traces(s, NULL) == (size_t)g.nlive + (g.foreign ? 1 : 0));
    om_stats *st = om_snapshot_statistics(s, OM_STAT_TRACEBACK, 0);
    CHECK(st != NULL);
    size_t count = 0, bytes = 0;
    for (size_t i = 0; i < st->n; i++) {
        count += st->items[i].count;
        bytes += st->items[i].size;
    }
    CHECK(count == (size_t)g.nlive + (g.foreign ? 1 : 0));
    CHECK(bytes == cur);
    om_stats_free(st);
    st = om_snapshot_statistics(s, OM_STAT_FILENAME, 1);
    CHECK(st != NULL);
    om_stats_free(st);
    om_snapshot_free(s);
    CHECK(om_heap_check(g.h) == 0);
}

static void step(unsigned op)
{
    switch (op % 9) {
    case 0:
        alloc_one(1 + next() * 3);
        break;
    case 1:
        free_one(next() | next() << 8);
        break;
    case 2: { /* a burst of distinct tracebacks */
        unsigned n = 1 + (next() | (next() & 7) << 8);
        for (unsigned i = 0; i < n; i++) {
            g.line++;
            alloc_one(8 + (i & 63));
        }
        break;
    }
    case 3:
        g.depth = (int)(next() % (MAXDEPTH + 1));
        break;
    case 4:
        g.file = (int)(next() % NFILES);
        g.line = next() | next() << 8;
        break;
    case 5:
        check_model();
        break;
    case 6:
        if (g.foreign) {
            CHECK(om_trace_untrack(g.h, 9, 0x10000) == 0);
            g.foreign = 0;
        } else {
            CHECK(om_trace_track(g.h, 9, 0x10000, 4096) == 0);
            g.foreign = 1;
        }
        break;
    case 7: /* restart: every live block becomes untraced */
        while (g.nlive) free_one(0);
        g.foreign = 0;
        om_trace_stop(g.h);
        start(1 + (int)(next() % 20));
        break;
    default:
        for (unsigned i = next() % 16; i > 0; i--) free_one(next());
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    memset(&g, 0, sizeof g);
    g.p = data;
    g.end = data + size;
    om_config cfg;
    om_config_init(&cfg);
    cfg.debug = size > 0 && (data[0] & 1);
    g.h = om_heap_new(&cfg);
    CHECK(g.h != NULL);
    g.depth = 2;
    start(1 + (int)(next() % 20));
    while (g.p < g.end) step(next());
    check_model();
    while (g.nlive) free_one(0);
    om_trace_stop(g.h);
    CHECK(om_heap_check(g.h) == 0);
    om_heap_destroy(g.h);
    return 0;
}
