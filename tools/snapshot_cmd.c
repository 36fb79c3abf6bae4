/*
 * snapshot_cmd.c - `objmem snapshot`: read snapshot dumps (om_snapshot_dump,
 * format in docs/trace.md) and show them as tracemalloc does.
 *   objmem snapshot top FILE [--by filename|lineno|traceback] [-n N] [--cumulative]
 *   objmem snapshot diff OLD NEW [--by filename|lineno|traceback] [-n N] [--cumulative]
 *   objmem snapshot folded FILE     folded stacks for flamegraph.pl, inferno, speedscope
 *   objmem snapshot demo OLD NEW    write two dumps of the tour's workload (a leak)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tour.h"

int om_cmd_snapshot(int argc, char **argv);

static void usage(void)
{
    fprintf(
        stderr,
        "usage: objmem snapshot top FILE [--by filename|lineno|traceback] [-n N] [--cumulative]\n"
        "       objmem snapshot diff OLD NEW [--by filename|lineno|traceback] [-n N] "
        "[--cumulative]\n"
        "       objmem snapshot folded FILE\n"
        "       objmem snapshot demo OLD NEW\n");
}

/* tracemalloc's _format_size. */
static void fmt_size(char *buf, size_t n, double size, int sign)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    for (int u = 0; u < 5; u++) {
        double a = size < 0 ? -size : size;
        if (a < 100 && u != 0) {
            snprintf(buf, n, sign ? "%+.1f %s" : "%.1f %s", size, units[u]);
            return;
        }
        if (a < 10 * 1024 || u == 4) {
            snprintf(buf, n, sign ? "%+.0f %s" : "%.0f %s", size, units[u]);
            return;
        }
        size /= 1024;
    }
}

typedef struct opts {
    om_stat_key key;
    long n;
    int cumulative;
    const char *files[2];
    int nfiles;
} opts;

static int parse(int argc, char **argv, opts *o, int want_files)
{
    o->key = OM_STAT_LINENO;
    o->n = 10;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--by") == 0 && i + 1 < argc) {
            const char *k = argv[++i];
            if (strcmp(k, "filename") == 0)
                o->key = OM_STAT_FILENAME;
            else if (strcmp(k, "lineno") == 0)
                o->key = OM_STAT_LINENO;
            else if (strcmp(k, "traceback") == 0)
                o->key = OM_STAT_TRACEBACK;
            else
                return -1;
        } else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
            o->n = atol(argv[++i]);
        } else if (strcmp(argv[i], "--cumulative") == 0) {
            o->cumulative = 1;
        } else if (argv[i][0] != '-' && o->nfiles < 2) {
            o->files[o->nfiles++] = argv[i];
        } else {
            return -1;
        }
    }
    return o->nfiles == want_files ? 0 : -1;
}

static om_snapshot *load(om_heap *h, const char *path)
{
    om_snapshot *s = om_snapshot_load(h, path);
    if (!s) fprintf(stderr, "objmem snapshot: %s: %s\n", path, om_errmsg(h));
    return s;
}

/* A name from a snapshot file (anyone's bytes) for the terminal: control
 * characters and DEL as C escapes, so that a file name cannot
 * move the cursor, recolour the screen or fake an output line. */
static void put_name(const char *s)
{
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '\n')
            fputs("\\n", stdout);
        else if (*c < 0x20 || *c == 0x7F)
            printf("\\x%02x", *c);
        else
            putchar(*c);
    }
}

static void print_stat(const om_stat *s, om_stat_key key, int diff)
{
    char size[32], sd[32], avg[32];
    const om_frame *f = &s->traceback.frames[0];
    put_name(f->filename);
    if (key != OM_STAT_FILENAME) printf(":%u", f->lineno);
    fmt_size(size, sizeof size, (double)s->size, 0);
    if (diff) {
        fmt_size(sd, sizeof sd, (double)s->size_diff, 1);
        printf(": size=%s (%s), count=%zu (%+td)", size, sd, s->count, s->count_diff);
    } else {
        printf(": size=%s, count=%zu", size, s->count);
    }
    if (s->count) {
        fmt_size(avg, sizeof avg, (double)s->size / (double)s->count, 0);
        printf(", average=%s", avg);
    }
    printf("\n");
    for (uint32_t j = s->traceback.nframe; key == OM_STAT_TRACEBACK && j-- > 0;) {
        const om_frame *fr = &s->traceback.frames[j]; /* as om_traceback_format: oldest first */
        fputs("  File \"", stdout);
        put_name(fr->filename);
        printf("\", line %u\n", fr->lineno);
    }
}

static int top_or_diff(int argc, char **argv, int diff)
{
    opts o;
    memset(&o, 0, sizeof o);
    if (parse(argc, argv, &o, diff ? 2 : 1) < 0) {
        usage();
        return 2;
    }
    om_heap *h = om_heap_new(NULL);
    if (!h) return 1;
    om_snapshot *a = load(h, o.files[0]);
    om_snapshot *b = diff && a ? load(h, o.files[1]) : NULL;
    int rc = 1;
    if (a && (b || !diff)) {
        om_stats *st = diff ? om_snapshot_compare(b, a, o.key, o.cumulative)
                            : om_snapshot_statistics(a, o.key, o.cumulative);
        if (!st) {
            fprintf(stderr, "objmem snapshot: %s\n", om_errmsg(h));
        } else {
            size_t total = 0;
            for (size_t i = 0; i < st->n; i++) /* saturating: sizes come from the file */
                total = st->items[i].size > SIZE_MAX - total ? SIZE_MAX : total + st->items[i].size;
            static const char *what[] = {"files", "lines", "tracebacks"};
            printf("[ Top %ld %s%s ]\n", o.n, diff ? "differences by " : "", what[o.key]);
            for (size_t i = 0; i < st->n && (long)i < o.n; i++) {
                printf("#%zu: ", i + 1);
                print_stat(&st->items[i], o.key, diff);
            }
            char t[32];
            fmt_size(t, sizeof t, (double)total, 0);
            printf("Total: %s in %zu groups\n", t, st->n);
            om_stats_free(st);
            rc = 0;
        }
    }
    om_snapshot_free(b);
    om_snapshot_free(a);
    om_heap_destroy(h);
    return rc;
}

/* One frame of a folded stack: no ';' and no newline inside. */
static void put_frame(const om_frame *f)
{
    char buf[1024];
    if (f->name)
        snprintf(buf, sizeof buf, "%s (%s:%u)", f->name, f->filename, f->lineno);
    else
        snprintf(buf, sizeof buf, "%s:%u", f->filename, f->lineno);
    for (char *c = buf; *c; c++)
        if (*c == ';' || (unsigned char)*c < 0x20 || *c == 0x7F) *c = '_';
    fputs(buf, stdout);
}

static int folded(int argc, char **argv)
{
    if (argc != 1) {
        usage();
        return 2;
    }
    om_heap *h = om_heap_new(NULL);
    if (!h) return 1;
    om_snapshot *s = load(h, argv[0]);
    int rc = 1;
    om_stats *st = s ? om_snapshot_statistics(s, OM_STAT_TRACEBACK, 0) : NULL;
    if (st) {
        for (size_t i = 0; i < st->n; i++) { /* oldest frame first */
            const om_traceback *tb = &st->items[i].traceback;
            for (uint32_t j = tb->nframe; j-- > 0;) {
                put_frame(&tb->frames[j]);
                if (j) putchar(';');
            }
            printf(" %zu\n", st->items[i].size);
        }
        om_stats_free(st);
        rc = 0;
    }
    om_snapshot_free(s);
    om_heap_destroy(h);
    return rc;
}

int om_cmd_snapshot(int argc, char **argv)
{
    if (argc < 1) {
        usage();
        return 2;
    }
    if (strcmp(argv[0], "top") == 0) return top_or_diff(argc - 1, argv + 1, 0);
    if (strcmp(argv[0], "diff") == 0) return top_or_diff(argc - 1, argv + 1, 1);
    if (strcmp(argv[0], "folded") == 0) return folded(argc - 1, argv + 1);
    if (strcmp(argv[0], "demo") == 0 && argc == 3) return om_tour_trace_dumps(argv[1], argv[2]);
    usage();
    return 2;
}
