/*
 * stats_json.c - om_heap_print_stats_json: the heap's statistics as one
 * JSON object, for embedders that feed monitoring or compare runs. Built
 * only from the layers' public statistics (om_heap_get_stats,
 * om_gc_get_stats, om_gc_get_count, om_trace_get_traced_memory), so the
 * numbers are exactly those of the structs. The keys are listed above
 * om_heap_print_stats_json in include/objmem/heap.h.
 */
#include <inttypes.h>
#include <string.h>

#include "objmem.h"
#include "internal/heap.h"

/* A JSON string: quotes, backslashes and control bytes escaped. */
static void put_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static void put_alloc(FILE *out, const om_heap_stats *st)
{
    fprintf(out,
            "\"allocator\":{\"bytes_in_use\":%zu,\"peak_bytes\":%zu,\"requested\":%zu,"
            "\"pools_used\":%zu,\"pools_free\":%zu,\"large_blocks\":%zu,\"large_bytes\":%zu,"
            "\"sys_bytes\":%zu,\"bad_frees\":%zu,\"raw_blocks\":%zu,\"classes\":[",
            st->bytes_in_use, st->peak_bytes, st->requested, st->pools_used, st->pools_free,
            st->large_blocks, st->large_bytes, st->sys_bytes, st->bad_frees, st->raw_blocks);
    for (int i = 0; i < OM_NUM_CLASSES; i++) {
        const om_class_stats *c = &st->classes[i];
        fprintf(out,
                "%s{\"class\":%d,\"block_size\":%zu,\"pools\":%zu,\"blocks_used\":%zu,"
                "\"blocks_free\":%zu}",
                i ? "," : "", i, c->block_size, c->pools, c->blocks_used, c->blocks_free);
    }
    fprintf(out,
            "]},\"arenas\":{\"count\":%zu,\"peak\":%zu,\"cached\":%zu,\"mapped_total\":%zu,"
            "\"unmapped_total\":%zu,\"os_bytes\":%zu}",
            st->arenas, st->arenas_peak, st->arenas_cached, st->arenas_mapped_total,
            st->arenas_unmapped_total, st->os_bytes);
}

static void put_objects(FILE *out, const om_heap_stats *st)
{
    fprintf(out,
            ",\"objects\":{\"live\":%zu,\"heap_objects\":%zu,\"heap_raw_blocks\":%zu,"
            "\"total_refs\":%zu,\"types\":[",
            st->objects, st->heap_objects, st->heap_raw_blocks, st->total_refs);
    for (size_t i = 0; i < st->ntypes; i++) {
        fprintf(out, "%s{\"name\":", i ? "," : "");
        put_str(out, st->types[i].name);
        fprintf(out, ",\"count\":%zu,\"bytes\":%zu}", st->types[i].count, st->types[i].bytes);
    }
    fprintf(out,
            "]},\"types\":{\"small_ints\":%zu,\"cached_objects\":%zu,\"interned\":%zu,"
            "\"freelists\":[",
            st->small_ints, st->cached_objects, st->interned);
    for (size_t i = 0; i < st->nfreelists; i++) {
        const om_freelist_stats *f = &st->freelists[i];
        fprintf(out, "%s{\"name\":", i ? "," : "");
        put_str(out, f->name);
        fprintf(out, ",\"size\":%zu,\"bound\":%zu,\"hits\":%zu,\"misses\":%zu}", f->size, f->bound,
                f->hits, f->misses);
    }
    fputs("]}", out);
}

static void put_gc(FILE *out, om_heap *h)
{
    om_gc_stats gs[3];
    long count[3], thr[3];
    om_gc_get_stats(h, gs);
    om_gc_get_count(h, count);
    om_gc_get_threshold(h, thr);
    fprintf(out, ",\"gc\":{\"enabled\":%s,\"frozen\":%zu,\"garbage\":%zu,\"generations\":[",
            om_gc_is_enabled(h) ? "true" : "false", om_gc_get_freeze_count(h),
            om_gc_garbage_count(h));
    for (int g = 0; g < 3; g++)
        fprintf(out,
                "%s{\"count\":%ld,\"threshold\":%ld,\"collections\":%zu,\"collected\":%zu,"
                "\"uncollectable\":%zu,\"pause_ns\":%" PRIu64 "}",
                g ? "," : "", count[g], thr[g], gs[g].collections, gs[g].collected,
                gs[g].uncollectable, gs[g].pause_ns);
    fputs("]}", out);
}

static void put_trace(FILE *out, om_heap *h)
{
    int on = om_trace_is_tracing(h);
    fprintf(out, ",\"trace\":{\"tracing\":%s", on ? "true" : "false");
    if (on) {
        size_t cur, peak;
        om_trace_get_traced_memory(h, &cur, &peak);
        fprintf(out,
                ",\"traceback_limit\":%d,\"traced_bytes\":%zu,\"traced_peak\":%zu,"
                "\"tracer_bytes\":%zu",
                om_trace_get_traceback_limit(h), cur, peak, om_trace_get_memory(h));
    }
    fputc('}', out);
}

int om_heap_print_stats_json(om_heap *h, FILE *out)
{
    if (!h) return OM_EINVAL;
    if (!out) out = stdout;
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    fputc('{', out);
    put_alloc(out, &st);
    put_objects(out, &st);
    put_gc(out, h);
    put_trace(out, h);
    fputs("}\n", out);
    if (ferror(out)) return om__err(h, OM_EIO, "writing the statistics failed");
    return 0;
}
