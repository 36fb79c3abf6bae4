/*
 * snapshot_plot.c - `objmem snapshot plot FILE [-o OUT]`: the time series
 * a dump carries (traced memory and RSS over time, om_trace_set_sampling)
 * drawn with its peak marked: SVG written directly (to OUT.svg or standard
 * output), or PNG through gnuplot (Debian's gnuplot) when OUT ends in .png.
 * The HTML report embeds the same SVG.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "snapshot_cli.h"

/* A value in bytes with a unit, for axis labels. */
static void axis_label(char *buf, size_t n, double v)
{
    om_format_size(v, 0, buf, n);
}

/* The largest traced (and peak) value, the largest RSS (its own scale,
 * on the right: the process holds much more than what is traced), and the
 * last time. */
static void extent(const om_trace_sample *x, size_t n, double *ymax, double *rmax, double *tmax)
{
    *ymax = *rmax = *tmax = 1;
    for (size_t i = 0; i < n; i++) {
        if ((double)x[i].peak > *ymax) *ymax = (double)x[i].peak;
        if ((double)x[i].traced > *ymax) *ymax = (double)x[i].traced;
        if ((double)x[i].rss > *rmax) *rmax = (double)x[i].rss;
        if ((double)x[i].t_ns > *tmax) *tmax = (double)x[i].t_ns;
    }
}

static void polyline(FILE *out, const om_trace_sample *x, size_t n, int rss, double sx, double sy,
                     int left, int bottom, const char *colour)
{
    fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", colour);
    for (size_t i = 0; i < n; i++) /* steps: a value holds until the next sample */
        for (int k = i ? 0 : 1; k < 2; k++)
            fprintf(out, "%.1f,%.1f ", left + (double)x[i].t_ns * sx,
                    bottom - (double)(rss ? x[i - 1 + k].rss : x[i - 1 + k].traced) * sy);
    fprintf(out, "\"/>\n");
}

int om_cli_plot_svg(FILE *out, const om_snapshot *s, int width, int height)
{
    const om_trace_sample *x;
    size_t n = om_snapshot_samples(s, &x);
    if (n == 0) return -1;
    double ymax, rmax, tmax;
    extent(x, n, &ymax, &rmax, &tmax);
    int has_rss = rmax > 1;
    ymax *= 1.1;
    rmax *= 1.1;
    const int left = 80, right = 80, top = 30, bottom = height - 40;
    double sx = (width - left - right) / tmax, sy = (bottom - top) / ymax,
           sr = (bottom - top) / rmax;
    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"om-plot\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            width, height, width, height);
    for (int k = 0; k <= 4; k++) { /* grid and y labels */
        double v = ymax * k / 4;
        char lab[32];
        axis_label(lab, sizeof lab, v);
        double y = bottom - v * sy;
        fprintf(out,
                "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#c0392b\">%s</text>\n",
                left, y, width - right, y, left - 6, y + 4, lab);
        if (has_rss) {
            axis_label(lab, sizeof lab, rmax * k / 4);
            fprintf(out, "<text x=\"%d\" y=\"%.1f\" fill=\"#888\">%s</text>\n", width - right + 6,
                    y + 4, lab);
        }
        double t = tmax * k / 4 / 1e9;
        fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.3g s</text>\n",
                left + tmax * k / 4 * sx, bottom + 16, t);
    }
    fprintf(out,
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>"
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n",
            left, bottom, width - right, bottom, left, top, left, bottom);
    if (has_rss) polyline(out, x, n, 1, sx, sr, left, bottom, "#999");
    polyline(out, x, n, 0, sx, sy, left, bottom, "#c0392b");
    size_t peak;
    uint64_t peak_ns;
    om_snapshot_peak(s, &peak, &peak_ns);
    if (peak) {
        char lab[32];
        axis_label(lab, sizeof lab, (double)peak);
        double px = left + (double)peak_ns * sx, py = bottom - (double)peak * sy;
        fprintf(out,
                "<circle class=\"om-peak\" cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"none\" "
                "stroke=\"#1f618d\" stroke-width=\"2\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" fill=\"#1f618d\">peak %s</text>\n",
                px, py, px + 8, py - 6, lab);
    }
    fprintf(out,
            "<text x=\"%d\" y=\"18\" fill=\"#c0392b\">traced memory</text>"
            "%s\n</svg>\n",
            left,
            has_rss ? "<text x=\"200\" y=\"18\" fill=\"#888\">RSS of the process "
                      "(right scale)</text>"
                    : "");
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* PNG through gnuplot: the data inline, the peak as a labelled point. */
static int plot_png(const om_snapshot *s, const char *path)
{
    const om_trace_sample *x;
    size_t n = om_snapshot_samples(s, &x), peak;
    uint64_t peak_ns;
    om_snapshot_peak(s, &peak, &peak_ns);
    FILE *g = popen("gnuplot", "w");
    if (!g) return -1;
    fprintf(g, "set terminal pngcairo size 900,400\nset output '");
    for (const char *c = path; *c; c++) fputs(*c == '\'' ? "''" : (char[]){*c, 0}, g);
    fprintf(g, "'\nset xlabel 'seconds'\nset ylabel 'MiB'\nset grid\nset key left top\n"
               "$d << EOD\n");
    for (size_t i = 0; i < n; i++)
        fprintf(g, "%.6f %.6f %.6f\n", (double)x[i].t_ns / 1e9, (double)x[i].traced / 1048576.0,
                (double)x[i].rss / 1048576.0);
    fprintf(g, "EOD\n$p << EOD\n%.6f %.6f\nEOD\n", (double)peak_ns / 1e9, (double)peak / 1048576.0);
    fprintf(g, "plot $d using 1:2 with lines lw 2 title 'traced memory', "
               "$d using 1:3 with lines title 'RSS', "
               "$p using 1:2 with points pt 7 ps 1.5 title 'peak'\n");
    return pclose(g) == 0 ? 0 : -1;
}

int om_cli_plot(om_heap *h, const om_cli_opts *o)
{
    om_snapshot *s = om_cli_load(h, o, o->files[0]);
    if (!s) return 1;
    int rc = 0;
    if (!om_snapshot_samples(s, NULL)) {
        fprintf(stderr,
                "objmem snapshot plot: %s has no time series (sampling was off, or a "
                "version 1 dump)\n",
                o->files[0]);
        rc = 1;
    } else if (o->out && ends_with(o->out, ".png")) {
        if (plot_png(s, o->out) < 0) {
            fprintf(stderr, "objmem snapshot plot: gnuplot failed (apt-get install gnuplot-nox); "
                            "-o FILE.svg needs nothing\n");
            rc = 1;
        }
    } else {
        FILE *out = o->out && strcmp(o->out, "-") != 0 ? fopen(o->out, "w") : stdout;
        if (!out) {
            perror(o->out);
            rc = 1;
        } else {
            om_cli_plot_svg(out, s, 900, 400);
            if (out != stdout && fclose(out) != 0) rc = 1;
        }
    }
    om_snapshot_free(s);
    return rc;
}
