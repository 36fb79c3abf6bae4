/*
 * snapshot_cli.h - what the parts of `objmem snapshot` share: the parsed
 * command line, loading a dump (a file or - for stdin), and the writers of
 * tools/snapshot_plot.c (SVG of the time series) and tools/snapshot_html.c
 * (the HTML report).
 */
#ifndef OM_SNAPSHOT_CLI_H
#define OM_SNAPSHOT_CLI_H

#include <stdio.h>

#include "objmem.h"

enum { OM_CLI_MAX_FILTERS = 64 };

typedef struct om_cli_opts {
    const char *cmd; /* "top", "diff", ... for messages          */
    om_stat_key key;
    long n; /* -n: groups shown                         */
    int cumulative;
    int all_frames;  /* --include/--exclude look at every frame  */
    const char *out; /* -o FILE                                 */
    const char *files[2];
    int nfiles;
    om_filter filters[OM_CLI_MAX_FILTERS];
    size_t nfilters;
    const char *drop[OM_CLI_MAX_FILTERS]; /* --drop-frames patterns */
    size_t ndrop;
} om_cli_opts;

/* 1 when frame f is left out of shown tracebacks (--drop-frames: its file
 * or its function matches a pattern). */
int om_cli_dropped(const om_cli_opts *o, const om_frame *f);

/* A dump from path ("-": standard input), filtered by o's filters; NULL
 * after printing why. */
om_snapshot *om_cli_load(om_heap *h, const om_cli_opts *o, const char *path);

/* Write the time series of s (the newest of a pair) as an SVG image of
 * width x height pixels, the peak marked; 0, or -1 when s has no series. */
int om_cli_plot_svg(FILE *out, const om_snapshot *s, int width, int height);
/* `objmem snapshot plot` and `objmem snapshot html`: exit statuses. */
int om_cli_plot(om_heap *h, const om_cli_opts *o);
int om_cli_html(om_heap *h, const om_cli_opts *o);

/* A name from a dump (anyone's bytes) for a terminal: control characters
 * and DEL as C escapes. */
void om_cli_put_name(FILE *out, const char *s);

#endif
