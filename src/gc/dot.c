/*
 * dot.c - a picture of part of the heap: om_gc_write_dot writes the
 * neighbourhood of some objects as Graphviz DOT (render it with `dot
 * -Tsvg`, or `objmem graph`), built on the heap graph (graph.c) with its
 * breadth-first search, roots marked. Design note: docs/gc.md ("Roots,
 * chains and pictures").
 */
#include "graph.h"

/* Write s to out as the inside of a DOT string: quotes, backslashes and
 * control bytes escaped. */
static void put_escaped(FILE *out, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f)
            fprintf(out, "\\\\x%02x", ch);
        else
            fputc(ch, out);
    }
}

static void put_node(FILE *out, const om__graph *g, uint32_t i, int start)
{
    const om__gnode *nd = &g->node[i];
    om_object *o = nd->obj;
    char repr[96] = "";
    if (o->type->repr && o->type->repr(o, repr, sizeof repr) < 0) repr[0] = 0;
    fprintf(out, "  o%u [label=\"", i);
    put_escaped(out, o->type->name ? o->type->name : "?");
    if (repr[0]) {
        fputs("\\n", out);
        put_escaped(out, repr);
    }
    fprintf(out, "\\n%p", (void *)o);
    if (nd->flags & OM__G_ROOT) fprintf(out, "\\nroot: %u outside", nd->outside);
    fputc('"', out);
    if (nd->flags & OM__G_ROOT)
        fputs(", peripheries=2, fillcolor=\"#ffd8a8\"", out);
    else if (start)
        fputs(", fillcolor=\"#cfe2ff\"", out);
    fputs("];\n", out);
}

/* The edges of node i to visited nodes (in[] != 0), each target once. */
static void put_edges(FILE *out, const om__graph *g, uint32_t i, const uint8_t *in)
{
    uint32_t seen[OM_GC_DOT_MAX_EDGES];
    size_t nseen = 0, left = 0;
    for (size_t k = g->fo[i]; k < g->fo[i + 1]; k++) {
        uint32_t j = g->fe[k];
        if (!in[j]) continue;
        size_t s = 0;
        while (s < nseen && seen[s] != j) s++;
        if (s < nseen) continue;
        if (nseen == OM_GC_DOT_MAX_EDGES) {
            left++;
            continue;
        }
        seen[nseen++] = j;
        char via[64];
        om__graph_name_edge(g->node[i].obj, g->node[j].obj, via, sizeof via);
        fprintf(out, "  o%u -> o%u", i, j);
        if (via[0]) {
            fputs(" [label=\"", out);
            put_escaped(out, via);
            fputs("\"]", out);
        }
        fputs(";\n", out);
    }
    if (left) {
        fprintf(out, "  m%u [label=\"... %zu more\", shape=plaintext, style=\"\"];\n", i, left);
        fprintf(out, "  o%u -> m%u [style=dashed];\n", i, i);
    }
}

/* Mark in[] the nodes within depth of start, one search per direction. */
static int neighbourhood(const om__graph *g, const uint32_t *start, size_t nstart, int depth,
                         unsigned flags, uint8_t *in, size_t *nin, int *truncated)
{
    for (int dir = 0; dir < 2; dir++) {
        if (!(flags & (dir ? OM_GC_DOT_REFERRERS : OM_GC_DOT_REFERENTS))) continue;
        om__bfs b;
        uint32_t found;
        size_t room = *nin ? OM_GC_DOT_MAX_NODES - *nin + nstart
                           : OM_GC_DOT_MAX_NODES; /* the starts are in both */
        if (om__graph_bfs(g, start, nstart, dir, (uint32_t)depth, room, 0, &b, &found) < 0)
            return OM_ENOMEM;
        for (size_t k = 0; k < b.nvisited; k++)
            if (!in[b.order[k]]) {
                in[b.order[k]] = 1;
                ++*nin;
            }
        *truncated |= b.truncated;
        om__bfs_free(g, &b);
    }
    return 0;
}

static int write_graph(const om__graph *g, const uint32_t *start, size_t nstart, int depth,
                       unsigned flags, FILE *out)
{
    om_heap *h = g->h;
    uint8_t *in = om__sys_calloc(h, g->n ? g->n : 1, 1);
    if (!in) return om__err(h, OM_ENOMEM, "om_gc_write_dot: out of memory");
    size_t nin = 0;
    int truncated = 0;
    int rc = neighbourhood(g, start, nstart, depth, flags, in, &nin, &truncated);
    if (rc == 0) {
        fputs("digraph objmem {\n  rankdir=LR;\n", out);
        fputs("  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", "
              "fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", "
              "fontsize=9];\n",
              out);
        for (uint32_t i = 0; i < g->n; i++) {
            if (!in[i]) continue;
            int is_start = 0;
            for (size_t s = 0; s < nstart && !is_start; s++) is_start = start[s] == i;
            put_node(out, g, i, is_start);
        }
        for (uint32_t i = 0; i < g->n; i++)
            if (in[i]) put_edges(out, g, i, in);
        if (truncated)
            fprintf(out, "  truncated [label=\"(stopped at %d objects)\", shape=plaintext];\n",
                    OM_GC_DOT_MAX_NODES);
        fputs("}\n", out);
        if (fflush(out) != 0 || ferror(out))
            rc = om__err(h, OM_EIO, "om_gc_write_dot: write failed");
    } else {
        om__err(h, OM_ENOMEM, "om_gc_write_dot: out of memory");
    }
    om__sys_free(h, in, g->n ? g->n : 1);
    return rc;
}

int om_gc_write_dot(om_heap *h, om_object *const *objs, size_t nobjs, int depth, unsigned flags,
                    FILE *out)
{
    if (!objs || !nobjs || depth < 0 || !out)
        return om__err(h, OM_EINVAL, "om_gc_write_dot: no objects, no file or depth < 0");
    if (nobjs > OM_GC_DOT_MAX_NODES)
        return om__err(h, OM_EINVAL, "om_gc_write_dot: %zu objects, at most %d", nobjs,
                       OM_GC_DOT_MAX_NODES);
    for (size_t i = 0; i < nobjs; i++)
        if (!objs[i] || !om__object_is_live(h, objs[i]))
            return om__err(h, OM_EFOREIGN, "om_gc_write_dot: %p is not a live object of the heap",
                           (void *)objs[i]);
    if (!(flags & (OM_GC_DOT_REFERENTS | OM_GC_DOT_REFERRERS))) flags |= OM_GC_DOT_REFERENTS;
    om__graph g;
    int rc = om__graph_build(h, &g);
    if (rc < 0) return rc;
    uint32_t start[OM_GC_DOT_MAX_NODES];
    size_t nstart = 0;
    for (size_t i = 0; i < nobjs; i++) {
        uint32_t k = om__graph_find(&g, objs[i]);
        if (k != OM__G_NONE) start[nstart++] = k;
    }
    rc = write_graph(&g, start, nstart, depth, flags, out);
    om__graph_free(&g);
    return rc;
}
