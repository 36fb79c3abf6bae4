/*
 * snapshot_html.c - `objmem snapshot html FILE [NEW] [-o OUT]`: one
 * self-contained HTML file for a browser: an interactive flame graph
 * (icicle: callers on top, allocation sites below) of live memory by
 * traceback drawn by d3-flame-graph (embedded with its licence, see
 * tools/snapshot_assets.c), the top allocation sites, the peak, and the
 * time series (tools/snapshot_plot.c). With two dumps, the differential
 * variant: widths are the new sizes, colours the growth (red) or shrink
 * (blue) since OLD, and the table is the diff.
 */
#include <stdlib.h>
#include <string.h>

#include "snapshot_cli.h"
#include "snapshot_html.h"

/* ------------------------------------------------------------ escaping */

static void put_html(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&#39;", out);
            break;
        default:
            fputc((unsigned char)*s < 0x20 ? '?' : *s, out);
        }
    }
}

/* A JSON string that is also safe inside <script> (no '<', '>', '&',
 * U+2028/2029 as themselves). */
static void put_json(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(out, "\\%c", *c);
        else if (*c < 0x20 || *c == '<' || *c == '>' || *c == '&' || *c == 0x7F)
            fprintf(out, "\\u%04x", *c);
        else if (c[0] == 0xE2 && c[1] == 0x80 && (c[2] == 0xA8 || c[2] == 0xA9))
            fprintf(out, "\\u%04x", c[2] == 0xA8 ? 0x2028 : 0x2029), c += 2;
        else
            fputc(*c, out);
    }
    fputc('"', out);
}

static void frame_label(char *buf, size_t n, const om_frame *f)
{
    const char *slash = strrchr(f->filename, '/');
    const char *file = slash ? slash + 1 : f->filename;
    if (f->lineno)
        snprintf(buf, n, "%s (%s:%u)", f->name ? f->name : "?", file, f->lineno);
    else
        snprintf(buf, n, "%s", file);
}

/* ------------------------------------------------------------ the tree */

typedef struct node {
    char *label;
    size_t first, next; /* children list, 0 = none (node 0 is the root) */
    double value, delta;
} node;

typedef struct tree {
    node *v;
    size_t n, cap;
} tree;

enum { NO_NODE = 0 }; /* node 0 is the root: never a child */

/* A new node; NO_NODE on failure (after the root). */
static size_t add_node(tree *t, const char *label)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        node *v = realloc(t->v, cap * sizeof *v);
        if (!v) return NO_NODE;
        t->v = v;
        t->cap = cap;
    }
    size_t len = strlen(label) + 1;
    char *copy = malloc(len);
    if (!copy) return NO_NODE;
    memcpy(copy, label, len);
    t->v[t->n] = (node){copy, 0, 0, 0, 0};
    return t->n++;
}

/* The child of p labelled label, made when new; 0 on failure. */
static size_t child_of(tree *t, size_t p, const char *label)
{
    size_t last = 0;
    for (size_t c = t->v[p].first; c; last = c, c = t->v[c].next)
        if (strcmp(t->v[c].label, label) == 0) return c;
    size_t c = add_node(t, label);
    if (!c) return 0;
    if (last)
        t->v[last].next = c;
    else
        t->v[p].first = c;
    return c;
}

/* Every traceback group, oldest frame at the top. */
static int build_tree(tree *t, const om_stats *st, const om_cli_opts *o)
{
    add_node(t, "all");
    if (t->n != 1) return -1;
    for (size_t i = 0; i < st->n; i++) {
        const om_stat *g = &st->items[i];
        size_t at = 0;
        t->v[0].value += (double)g->size;
        t->v[0].delta += (double)g->size_diff;
        for (uint32_t j = g->traceback.nframe; j-- > 0;) {
            char label[1024];
            if (om_cli_dropped(o, &g->traceback.frames[j])) continue;
            frame_label(label, sizeof label, &g->traceback.frames[j]);
            if (!(at = child_of(t, at, label))) return -1;
            t->v[at].value += (double)g->size;
            t->v[at].delta += (double)g->size_diff;
        }
    }
    return 0;
}

static void put_tree(FILE *out, const tree *t, size_t i, int diff)
{
    fputs("{\"name\":", out);
    put_json(out, t->v[i].label);
    fprintf(out, ",\"value\":%.0f", t->v[i].value);
    if (diff) fprintf(out, ",\"delta\":%.0f", t->v[i].delta);
    if (t->v[i].first) {
        fputs(",\"children\":[", out);
        for (size_t c = t->v[i].first; c; c = t->v[c].next) {
            put_tree(out, t, c, diff);
            if (t->v[c].next) fputc(',', out);
        }
        fputc(']', out);
    }
    fputc('}', out);
}

static void free_tree(tree *t)
{
    for (size_t i = 0; i < t->n; i++) free(t->v[i].label);
    free(t->v);
}

/* ------------------------------------------------------------ the page */

static const char *const page_css =
    "body{font-family:sans-serif;margin:24px;color:#222}h1{font-size:22px}"
    "h2{font-size:17px;margin-top:28px}table{border-collapse:collapse;font-size:13px}"
    "td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right}"
    "td.site,th.site{text-align:left;font-family:monospace}.summary{font-size:14px}"
    "#flame{width:100%;min-height:120px}#details{font-family:monospace;font-size:12px;"
    "height:18px}details{margin-top:28px;font-size:12px}";

static void put_table(FILE *out, const om_stats *st, long n, int diff)
{
    fprintf(out,
            "<table id=\"top\"><tr><th>#</th><th class=\"site\">site</th>"
            "<th class=\"site\">function</th><th>size</th>%s<th>blocks</th>%s"
            "<th>average</th></tr>\n",
            diff ? "<th>size change</th>" : "", diff ? "<th>change</th>" : "");
    for (size_t i = 0; i < st->n && (long)i < n; i++) {
        const om_stat *g = &st->items[i];
        const om_frame *f = &g->traceback.frames[0];
        char site[1100], size[32], avg[32], sd[32];
        if (f->lineno)
            snprintf(site, sizeof site, "%s:%u", f->filename, f->lineno);
        else
            snprintf(site, sizeof site, "%s", f->filename);
        om_format_size((double)g->size, 0, size, sizeof size);
        om_format_size(g->count ? (double)g->size / (double)g->count : 0, 0, avg, sizeof avg);
        fprintf(out, "<tr><td>%zu</td><td class=\"site\">", i + 1);
        put_html(out, site);
        fputs("</td><td class=\"site\">", out);
        put_html(out, f->name ? f->name : "");
        fprintf(out, "</td><td>%s</td>", size);
        if (diff) {
            om_format_size((double)g->size_diff, 1, sd, sizeof sd);
            fprintf(out, "<td>%s</td>", sd);
        }
        fprintf(out, "<td>%zu</td>", g->count);
        if (diff) fprintf(out, "<td>%+td</td>", g->count_diff);
        fprintf(out, "<td>%s</td></tr>\n", avg);
    }
    fputs("</table>\n", out);
}

static void put_summary(FILE *out, const om_cli_opts *o, const om_snapshot *s, const om_stats *st,
                        int diff)
{
    size_t total = 0, blocks = 0, peak;
    double delta = 0;
    uint64_t peak_ns;
    for (size_t i = 0; i < st->n; i++) {
        total += st->items[i].size;
        blocks += st->items[i].count;
        delta += (double)st->items[i].size_diff;
    }
    om_snapshot_peak(s, &peak, &peak_ns);
    char t[32], p[32], d[32];
    om_format_size((double)total, 0, t, sizeof t);
    om_format_size((double)peak, 0, p, sizeof p);
    fputs("<p class=\"summary\">", out);
    put_html(out, o->files[o->nfiles - 1]);
    if (diff) {
        om_format_size(delta, 1, d, sizeof d);
        fputs(" against ", out);
        put_html(out, o->files[0]);
        fprintf(out, ": <b id=\"total\">%s</b> live (<b>%s</b>)", t, d);
    } else {
        fprintf(out, ": <b id=\"total\">%s</b> live in %zu block%s", t, blocks,
                blocks == 1 ? "" : "s");
    }
    if (peak)
        fprintf(out, "; <b id=\"peak\">peak %s</b> at %.3f s after tracing started", p,
                (double)peak_ns / 1e9);
    fprintf(out, "; %zu traceback%s.</p>\n", st->n, st->n == 1 ? "" : "s");
}

static void put_script(FILE *out, const tree *t, int diff)
{
    fprintf(out, "<script>%s</script>\n<script>%s</script>\n<script>%s</script>\n", om_html_d3_js,
            om_html_fg_js, om_html_fg_colors_js);
    fputs("<script>\nvar data = ", out);
    put_tree(out, t, 0, diff);
    fprintf(out,
            ";\nfunction om_bytes(v){var u=['B','KiB','MiB','GiB'],i=0;"
            "while(Math.abs(v)>=10240&&i<3){v/=1024;i++}return (i?v.toFixed(1):v)+' '+u[i]}\n"
            "var chart = flamegraph().width(document.getElementById('flame').clientWidth || 1100)"
            ".cellHeight(18).inverted(true).minFrameSize(1).title('')"
            ".setDetailsElement(document.getElementById('details'))"
            ".label(function(d){return d.data.name+': '+om_bytes(d.value)%s})%s;\n"
            "d3.select('#flame').datum(data).call(chart);\n"
            "document.body.setAttribute('data-flamegraph', "
            "document.querySelectorAll('#flame g.frame').length > 0 ? 'rendered' : 'empty');\n"
            "</script>\n",
            diff ? "+' ('+(d.data.delta>=0?'+':'')+om_bytes(d.data.delta)+')'" : "",
            diff ? ".setColorMapper(flamegraph.colorMapper.differentialColorMapper)" : "");
}

static void put_page(FILE *out, const om_cli_opts *o, const om_snapshot *s, const om_stats *by_tb,
                     const om_stats *by_line, const tree *t, int diff)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>objmem ", out);
    fputs(diff ? "memory diff: " : "memory report: ", out);
    put_html(out, o->files[o->nfiles - 1]);
    fprintf(out, "</title>\n<style>%s\n%s</style>\n</head><body>\n", om_html_fg_css, page_css);
    fprintf(out, "<h1>objmem %s</h1>\n", diff ? "memory diff" : "memory report");
    put_summary(out, o, s, by_tb, diff);
    fprintf(out,
            "<h2>%s by allocation traceback (click to zoom)</h2>\n<div id=\"details\"></div>"
            "<div id=\"flame\"></div>\n",
            diff ? "Live memory and its change" : "Live memory");
    fprintf(out, "<h2>Top allocation sites%s</h2>\n", diff ? " by change" : "");
    put_table(out, by_line, o->n, diff);
    fputs("<h2>Memory over time</h2>\n", out);
    if (om_cli_plot_svg(out, s, 900, 360) < 0)
        fputs("<p>No time series in this dump (sampling off, or a version 1 dump).</p>\n", out);
    fputs("<details><summary>Licences of the embedded libraries (d3, d3-flame-graph)</summary>"
          "<pre>",
          out);
    put_html(out, om_html_d3_licence);
    fputs("\n----\n", out);
    put_html(out, om_html_fg_licence);
    fputs("</pre></details>\n", out);
    put_script(out, t, diff);
    fputs("</body></html>\n", out);
}

int om_cli_html(om_heap *h, const om_cli_opts *o)
{
    if (!om_html_assets_ok) {
        fprintf(stderr, "objmem snapshot html: this objmem was built without the flame-graph "
                        "library (npm was missing at configure time: cmake/part-html.cmake)\n");
        return 1;
    }
    int diff = o->nfiles == 2;
    om_snapshot *a = om_cli_load(h, o, o->files[0]);
    om_snapshot *b = diff && a ? om_cli_load(h, o, o->files[1]) : NULL;
    om_snapshot *s = diff ? b : a;
    om_stats *by_tb = NULL, *by_line = NULL;
    if (s) {
        by_tb = diff ? om_snapshot_compare(b, a, OM_STAT_TRACEBACK, 0)
                     : om_snapshot_statistics(a, OM_STAT_TRACEBACK, 0);
        by_line = diff ? om_snapshot_compare(b, a, OM_STAT_LINENO, 0)
                       : om_snapshot_statistics(a, OM_STAT_LINENO, 0);
    }
    int rc = 1;
    tree t = {NULL, 0, 0};
    if (by_tb && by_line && build_tree(&t, by_tb, o) == 0) {
        const char *path = o->out ? o->out : "report.html";
        FILE *out = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
        if (!out) {
            perror(path);
        } else {
            put_page(out, o, s, by_tb, by_line, &t, diff);
            rc = out != stdout && fclose(out) != 0;
            if (out != stdout && !rc) fprintf(stderr, "objmem snapshot html: wrote %s\n", path);
        }
    } else if (s) {
        fprintf(stderr, "objmem snapshot html: %s\n", om_errmsg(h));
    }
    free_tree(&t);
    om_stats_free(by_line);
    om_stats_free(by_tb);
    om_snapshot_free(b);
    om_snapshot_free(a);
    return rc;
}
