/*
 * snapshot_cmd.c - `objmem snapshot`: read snapshot dumps (om_snapshot_dump,
 * format in docs/trace.md) and show them as tracemalloc does.
 *   objmem snapshot top FILE        the biggest groups (--by, -n, --cumulative)
 *   objmem snapshot diff OLD NEW    the groups that changed most, and the total change
 *   objmem snapshot folded FILE     folded stacks for flamegraph.pl, inferno, speedscope
 *   objmem snapshot plot FILE       traced memory and RSS over time (SVG, or PNG by gnuplot)
 *   objmem snapshot html FILE [NEW] a report for a browser (tools/snapshot_html.c)
 *   objmem snapshot demo OLD NEW    write two dumps of the tour's workload (a leak)
 * FILE may be - (standard input). --include/--exclude PATTERN filter the
 * traces as tracemalloc.Filter does. Errors of usage exit 2, naming the
 * command and the word at fault; a dump that cannot be read exits 1.
 */
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot_cli.h"
#include "tour.h"

int om_cmd_snapshot(int argc, char **argv);

static const char *const usage_text =
    "usage: objmem snapshot top FILE [--by filename|lineno|traceback] [-n N] [--cumulative]\n"
    "       objmem snapshot diff OLD NEW [--by ...] [-n N] [--cumulative]\n"
    "       objmem snapshot folded FILE\n"
    "       objmem snapshot plot FILE [-o OUT.svg|OUT.png]\n"
    "       objmem snapshot html FILE [NEW] [-o OUT.html] [-n N]\n"
    "       objmem snapshot demo OLD NEW\n"
    "FILE may be - (standard input). Every command but demo also takes\n"
    "  --include PATTERN   keep the traces whose most recent frame's file matches\n"
    "  --exclude PATTERN   drop them (fnmatch patterns, as tracemalloc.Filter;\n"
    "                      repeatable; --all-frames: match any frame)\n"
    "  --drop-frames PATTERN  leave frames whose file or function matches out of the\n"
    "                      tracebacks shown (e.g. '*libc*': the C library's start-up)\n"
    "  -h, --help          this text\n";

static void usage(FILE *out)
{
    fputs(usage_text, out);
}

/* ------------------------------------------------------------ options */

static int fail(const om_cli_opts *o, const char *fmt, const char *word)
{
    fprintf(stderr, "objmem snapshot %s: ", o->cmd);
    fprintf(stderr, fmt, word);
    fprintf(stderr, " (objmem snapshot --help)\n");
    return 2;
}

/* A count: decimal digits only, at most LONG_MAX. */
static int parse_count(const char *s, long *out)
{
    if (!*s) return -1;
    for (const char *c = s; *c; c++)
        if (*c < '0' || *c > '9') return -1;
    errno = 0;
    long v = strtol(s, NULL, 10);
    if (errno == ERANGE) return -1;
    *out = v;
    return 0;
}

/* The value of option argv[*i] ("--by X" or "--by=X"); NULL when missing. */
static const char *value_of(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) == 0 && argv[*i][n] == '=') return argv[*i] + n + 1;
    if (*i + 1 < argc) return argv[++*i];
    return NULL;
}

static int is_opt(const char *arg, const char *name)
{
    size_t n = strlen(name);
    return strncmp(arg, name, n) == 0 && (arg[n] == 0 || arg[n] == '=');
}

static int add_filter(om_cli_opts *o, int inclusive, const char *pattern)
{
    if (o->nfilters == OM_CLI_MAX_FILTERS) return fail(o, "more than 64 filters at '%s'", pattern);
    o->filters[o->nfilters++] = (om_filter){inclusive, pattern, -1, 0, -1};
    return 0;
}

/* 0: parsed; 1: help printed; 2: a usage error, printed. */
static int parse(int argc, char **argv, om_cli_opts *o, int min_files, int max_files)
{
    o->key = OM_STAT_LINENO;
    o->n = 10;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 1;
        } else if (is_opt(a, "--by")) {
            if (!(v = value_of(argc, argv, &i, "--by"))) return fail(o, "%s needs a key", a);
            if (strcmp(v, "filename") == 0)
                o->key = OM_STAT_FILENAME;
            else if (strcmp(v, "lineno") == 0)
                o->key = OM_STAT_LINENO;
            else if (strcmp(v, "traceback") == 0)
                o->key = OM_STAT_TRACEBACK;
            else
                return fail(o, "--by: unknown key '%s' (filename, lineno or traceback)", v);
        } else if (strcmp(a, "-n") == 0 || is_opt(a, "--limit")) {
            if (!(v = value_of(argc, argv, &i, "--limit"))) return fail(o, "%s needs a count", a);
            if (parse_count(v, &o->n) < 0)
                return fail(o, "-n: '%s' is not a count (a whole number from 0)", v);
        } else if (strcmp(a, "--cumulative") == 0) {
            o->cumulative = 1;
        } else if (strcmp(a, "--all-frames") == 0) {
            o->all_frames = 1;
        } else if (is_opt(a, "--include") || is_opt(a, "--exclude")) {
            int incl = a[2] == 'i';
            if (!(v = value_of(argc, argv, &i, incl ? "--include" : "--exclude")))
                return fail(o, "%s needs a pattern", a);
            if (add_filter(o, incl, v)) return 2;
        } else if (is_opt(a, "--drop-frames")) {
            if (!(v = value_of(argc, argv, &i, "--drop-frames")))
                return fail(o, "%s needs a pattern", a);
            if (o->ndrop == OM_CLI_MAX_FILTERS) return fail(o, "too many patterns at '%s'", v);
            o->drop[o->ndrop++] = v;
        } else if (is_opt(a, "-o") || is_opt(a, "--output")) {
            if (!(v = value_of(argc, argv, &i, a[1] == 'o' ? "-o" : "--output")))
                return fail(o, "%s needs a file name", a);
            o->out = v;
        } else if (a[0] == '-' && a[1] != 0) {
            return fail(o, "unknown option '%s'", a);
        } else if (o->nfiles == max_files) {
            return fail(o, "one file too many: '%s'", a);
        } else {
            o->files[o->nfiles++] = a;
        }
    }
    for (size_t k = 0; k < o->nfilters; k++) o->filters[k].all_frames = o->all_frames;
    if (o->nfiles < min_files)
        return fail(o, "%s", min_files == 2 ? "needs two files (OLD NEW)" : "needs a file");
    if (o->nfiles == 2 && strcmp(o->files[0], "-") == 0 && strcmp(o->files[1], "-") == 0)
        return fail(o, "%s", "only one of the files can be - (standard input)");
    return 0;
}

/* ------------------------------------------------------------ loading */

static om_snapshot *load_stdin(om_heap *h)
{
    size_t cap = 65536, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, stdin);
        n += got;
        if (got == 0) break;
        if (n == cap) {
            unsigned char *q = cap < SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (!q) free(buf);
            buf = q;
            cap *= 2;
        }
    }
    if (!buf) return NULL;
    om_snapshot *s = ferror(stdin) ? NULL : om_snapshot_load_buffer(h, buf, n);
    free(buf);
    return s;
}

om_snapshot *om_cli_load(om_heap *h, const om_cli_opts *o, const char *path)
{
    int in = strcmp(path, "-") == 0;
    om_snapshot *s = in ? load_stdin(h) : om_snapshot_load(h, path);
    if (!s) {
        fprintf(stderr, "objmem snapshot %s: %s: %s\n", o->cmd, in ? "(standard input)" : path,
                om_errcode(h) ? om_errmsg(h) : "cannot be read");
        return NULL;
    }
    if (!o->nfilters) return s;
    om_snapshot *f = om_snapshot_filter(s, o->filters, o->nfilters);
    om_snapshot_free(s);
    if (!f) fprintf(stderr, "objmem snapshot %s: %s\n", o->cmd, om_errmsg(h));
    return f;
}

/* ------------------------------------------------------------ top, diff */

void om_cli_put_name(FILE *out, const char *s)
{
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '\n')
            fputs("\\n", out);
        else if (*c < 0x20 || *c == 0x7F)
            fprintf(out, "\\x%02x", *c);
        else
            fputc(*c, out);
    }
}

int om_cli_dropped(const om_cli_opts *o, const om_frame *f)
{
    for (size_t i = 0; i < o->ndrop; i++)
        if (fnmatch(o->drop[i], f->filename, 0) == 0 ||
            (f->name && fnmatch(o->drop[i], f->name, 0) == 0))
            return 1;
    return 0;
}

static void print_stat(const om_cli_opts *o, const om_stat *s, om_stat_key key, int diff)
{
    char line[4096];
    om_stat g = *s;
    om_frame f0 = s->traceback.frames[0];
    if (key == OM_STAT_FILENAME) f0.lineno = 0; /* the file alone */
    g.traceback.frames = &f0;
    om_stat_format(&g, diff, line, sizeof line);
    om_cli_put_name(stdout, line);
    putchar('\n');
    for (uint32_t j = s->traceback.nframe; key == OM_STAT_TRACEBACK && j-- > 0;) {
        const om_frame *fr = &s->traceback.frames[j]; /* as om_traceback_format: oldest first */
        if (om_cli_dropped(o, fr)) continue;
        fputs("  File \"", stdout);
        om_cli_put_name(stdout, fr->filename);
        printf("\", line %u\n", fr->lineno);
    }
}

static size_t sat_add(size_t a, size_t b)
{
    return b > SIZE_MAX - a ? SIZE_MAX : a + b;
}

static void print_total(const om_stats *st, int diff)
{
    size_t total = 0;
    double delta = 0;
    for (size_t i = 0; i < st->n; i++) { /* saturating: sizes come from the file */
        total = sat_add(total, st->items[i].size);
        delta += (double)st->items[i].size_diff;
    }
    char t[32], d[32];
    om_format_size((double)total, 0, t, sizeof t);
    if (diff) {
        om_format_size(delta, 1, d, sizeof d);
        printf("Total: %s (%s) in %zu group%s\n", t, d, st->n, st->n == 1 ? "" : "s");
    } else {
        printf("Total: %s in %zu group%s\n", t, st->n, st->n == 1 ? "" : "s");
    }
}

static int top_or_diff(om_heap *h, const om_cli_opts *o, int diff)
{
    om_snapshot *a = om_cli_load(h, o, o->files[0]);
    om_snapshot *b = diff && a ? om_cli_load(h, o, o->files[1]) : NULL;
    int rc = 1;
    om_stats *st = !a || (diff && !b) ? NULL
                   : diff             ? om_snapshot_compare(b, a, o->key, o->cumulative)
                                      : om_snapshot_statistics(a, o->key, o->cumulative);
    if (a && (b || !diff) && !st) fprintf(stderr, "objmem snapshot %s: %s\n", o->cmd, om_errmsg(h));
    if (st) {
        static const char *what[3][2] = {
            {"file", "files"}, {"line", "lines"}, {"traceback", "tracebacks"}};
        printf("[ Top %ld %s%s ]\n", o->n, diff ? "differences by " : "", what[o->key][o->n != 1]);
        for (size_t i = 0; i < st->n && (long)i < o->n; i++) {
            printf("#%zu: ", i + 1);
            print_stat(o, &st->items[i], o->key, diff);
        }
        print_total(st, diff);
        om_stats_free(st);
        rc = 0;
    }
    om_snapshot_free(b);
    om_snapshot_free(a);
    return rc;
}

/* ------------------------------------------------------------ folded */

/* One frame of a folded stack: no ';' and no control character inside. */
static void put_frame(const om_frame *f)
{
    char buf[1024];
    if (f->name && f->lineno)
        snprintf(buf, sizeof buf, "%s (%s:%u)", f->name, f->filename, f->lineno);
    else if (f->lineno)
        snprintf(buf, sizeof buf, "%s:%u", f->filename, f->lineno);
    else
        snprintf(buf, sizeof buf, "%s", f->filename);
    for (char *c = buf; *c; c++)
        if (*c == ';' || (unsigned char)*c < 0x20 || *c == 0x7F) *c = '_';
    fputs(buf, stdout);
}

static int folded(om_heap *h, const om_cli_opts *o)
{
    om_snapshot *s = om_cli_load(h, o, o->files[0]);
    int rc = 1;
    om_stats *st = s ? om_snapshot_statistics(s, OM_STAT_TRACEBACK, 0) : NULL;
    if (st) {
        for (size_t i = 0; i < st->n; i++) { /* oldest frame first */
            const om_traceback *tb = &st->items[i].traceback;
            int first = 1;
            for (uint32_t j = tb->nframe; j-- > 0;) {
                if (om_cli_dropped(o, &tb->frames[j])) continue;
                if (!first) putchar(';');
                put_frame(&tb->frames[j]);
                first = 0;
            }
            printf(" %zu\n", st->items[i].size);
        }
        om_stats_free(st);
        rc = 0;
    }
    om_snapshot_free(s);
    return rc;
}

/* ------------------------------------------------------------ dispatch */

typedef struct subcmd {
    const char *name;
    int min_files, max_files;
    int (*run)(om_heap *h, const om_cli_opts *o);
} subcmd;

static int run_top(om_heap *h, const om_cli_opts *o)
{
    return top_or_diff(h, o, 0);
}

static int run_diff(om_heap *h, const om_cli_opts *o)
{
    return top_or_diff(h, o, 1);
}

static const subcmd subcmds[] = {
    {"top", 1, 1, run_top},      {"diff", 2, 2, run_diff},    {"folded", 1, 1, folded},
    {"plot", 1, 1, om_cli_plot}, {"html", 1, 2, om_cli_html},
};

int om_cmd_snapshot(int argc, char **argv)
{
    if (argc < 1) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[0], "demo") == 0) {
        if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
            usage(stdout);
            return 0;
        }
        if (argc == 3) return om_tour_trace_dumps(argv[1], argv[2]);
        fprintf(stderr, "objmem snapshot demo: needs two files (OLD NEW)\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof subcmds / sizeof subcmds[0]; i++) {
        if (strcmp(argv[0], subcmds[i].name) != 0) continue;
        om_cli_opts o;
        memset(&o, 0, sizeof o);
        o.cmd = subcmds[i].name;
        int p = parse(argc - 1, argv + 1, &o, subcmds[i].min_files, subcmds[i].max_files);
        if (p) return p == 1 ? 0 : 2;
        om_heap *h = om_heap_new(NULL);
        if (!h) return 1;
        int rc = subcmds[i].run(h, &o);
        om_heap_destroy(h);
        return rc;
    }
    fprintf(stderr, "objmem snapshot: unknown command '%s' (objmem snapshot --help)\n", argv[0]);
    return 2;
}
