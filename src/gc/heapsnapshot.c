/*
 * heapsnapshot.c - the heap in the Chrome DevTools heap snapshot format
 * (om_heap_write_heapsnapshot): the JSON that V8's HeapSnapshotGenerator
 * writes and DevTools' Memory tab loads. The meta section names the fields,
 * then come flat arrays: nodes (7 numbers each), edges (3 numbers each;
 * to_node is an index into nodes, i.e. node number * 7) and strings, which
 * the nodes and edges name by index. Built on the heap graph (graph.c).
 * Design note: docs/gc.md ("Roots, chains and pictures").
 */
#include <stdlib.h>

#include "graph.h"

enum { NODE_FIELDS = 7, EDGE_FIELDS = 3, NAMED_EDGES_MAX = 256 };
enum { NT_OBJECT = 3, NT_SYNTHETIC = 9 };                /* node_types[0] */
enum { ET_ELEMENT = 1, ET_PROPERTY = 2, ET_HIDDEN = 4 }; /* edge_types[0] */

static const char META[] =
    "{\"snapshot\":{\"meta\":{"
    "\"node_fields\":[\"type\",\"name\",\"id\",\"self_size\",\"edge_count\",\"trace_node_id\","
    "\"detachedness\"],"
    "\"node_types\":[[\"hidden\",\"array\",\"string\",\"object\",\"code\",\"closure\",\"regexp\","
    "\"number\",\"native\",\"synthetic\",\"concatenated string\",\"sliced string\",\"symbol\","
    "\"bigint\",\"object shape\"],\"string\",\"number\",\"number\",\"number\",\"number\","
    "\"number\"],"
    "\"edge_fields\":[\"type\",\"name_or_index\",\"to_node\"],"
    "\"edge_types\":[[\"context\",\"element\",\"property\",\"internal\",\"hidden\",\"shortcut\","
    "\"weak\"],\"string_or_number\",\"node\"],"
    "\"trace_function_info_fields\":[\"function_id\",\"name\",\"script_name\",\"script_id\","
    "\"line\",\"column\"],"
    "\"trace_node_fields\":[\"id\",\"function_info_index\",\"count\",\"size\",\"children\"],"
    "\"sample_fields\":[\"timestamp_us\",\"last_assigned_id\"],"
    "\"location_fields\":[\"object_index\",\"script_id\",\"line\",\"column\"]},";

/* ---------------------------------------------------- the string table */

/* Interned strings: bytes in one buffer, an open-addressing index. */
typedef struct strtab {
    om_heap *h;
    char *buf; /* NUL-terminated strings back to back */
    size_t len, cap;
    size_t *off; /* offsets of string k, by index */
    size_t n, off_cap;
    uint32_t *slot; /* index + 1, 0 empty */
    size_t mask;
    int err;
} strtab;

static uint64_t hash_str(const char *s)
{
    uint64_t x = 1469598103934665603ull; /* FNV-1a */
    while (*s) x = (x ^ (unsigned char)*s++) * 1099511628211ull;
    return x;
}

static int strtab_grow_index(strtab *t)
{
    size_t cap = t->mask ? (t->mask + 1) * 2 : 1024;
    uint32_t *slot = om__sys_calloc(t->h, cap, sizeof *slot);
    if (!slot) return OM_ENOMEM;
    for (size_t k = 0; k < t->n; k++) {
        size_t s = hash_str(t->buf + t->off[k]) & (cap - 1);
        while (slot[s]) s = (s + 1) & (cap - 1);
        slot[s] = (uint32_t)k + 1;
    }
    om__sys_free(t->h, t->slot, t->mask ? (t->mask + 1) * sizeof *slot : 0);
    t->slot = slot;
    t->mask = cap - 1;
    return 0;
}

static void *grow(om_heap *h, void *p, size_t *cap, size_t need, size_t size, int *err)
{
    if (need <= *cap) return p;
    size_t c = *cap ? *cap : 256;
    while (c < need) c *= 2;
    void *q = om__sys_realloc(h, p, *cap * size, c * size);
    if (!q) {
        *err = OM_ENOMEM;
        return p;
    }
    *cap = c;
    return q;
}

/* The index of s (added when new); 0 on error (the empty string). */
static uint32_t intern(strtab *t, const char *s)
{
    if (t->err) return 0;
    if ((t->n + 1) * 2 > t->mask + 1 && (t->err = strtab_grow_index(t)) < 0) return 0;
    size_t i = hash_str(s) & t->mask;
    for (; t->slot[i]; i = (i + 1) & t->mask)
        if (strcmp(t->buf + t->off[t->slot[i] - 1], s) == 0) return t->slot[i] - 1;
    size_t len = strlen(s) + 1;
    t->buf = grow(t->h, t->buf, &t->cap, t->len + len, 1, &t->err);
    t->off = grow(t->h, t->off, &t->off_cap, t->n + 1, sizeof *t->off, &t->err);
    if (t->err) return 0;
    memcpy(t->buf + t->len, s, len);
    t->off[t->n] = t->len;
    t->len += len;
    t->slot[i] = (uint32_t)++t->n;
    return (uint32_t)(t->n - 1);
}

static void strtab_free(strtab *t)
{
    om__sys_free(t->h, t->buf, t->cap);
    om__sys_free(t->h, t->off, t->off_cap * sizeof *t->off);
    om__sys_free(t->h, t->slot, t->mask ? (t->mask + 1) * sizeof *t->slot : 0);
}

/* A JSON string: quotes, backslashes and control bytes escaped; bytes of
 * invalid UTF-8 are the caller's (objmem's strs are valid UTF-8). */
static void put_json(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

/* ------------------------------------------------------------ writing */

static void put_nodes(FILE *out, const om__graph *g, strtab *t, size_t nroots)
{
    fprintf(out, "\"nodes\":[%d,%u,1,0,%zu,0,0", NT_SYNTHETIC, intern(t, ""), nroots);
    for (size_t i = 0; i < g->n; i++) {
        om_object *o = g->node[i].obj;
        fprintf(out, ",\n%d,%u,%zu,%zu,%zu,0,0", NT_OBJECT,
                intern(t, o->type->name ? o->type->name : "?"), 2 * i + 3, om_sizeof(o),
                g->fo[i + 1] - g->fo[i]);
    }
    fputs("],\n", out);
}

/* An edge's type and name: "[N]" is element N, another name a property,
 * none the k-th element. */
static void edge_name(const om__graph *g, uint32_t i, uint32_t j, size_t k, size_t deg, strtab *t,
                      int *type, size_t *name)
{
    char via[64] = "";
    if (deg <= NAMED_EDGES_MAX)
        om__graph_name_edge(g->node[i].obj, g->node[j].obj, via, sizeof via);
    char *end;
    unsigned long long idx = via[0] == '[' ? strtoull(via + 1, &end, 10) : 0;
    if (via[0] == '[' && via[1] >= '0' && via[1] <= '9' && end[0] == ']' && !end[1]) {
        *type = ET_ELEMENT;
        *name = (size_t)idx;
    } else if (via[0]) {
        *type = ET_PROPERTY;
        *name = intern(t, via);
    } else {
        *type = ET_ELEMENT;
        *name = k;
    }
}

static void put_edges(FILE *out, const om__graph *g, strtab *t)
{
    fputs("\"edges\":[", out);
    const char *sep = "";
    size_t r = 0;
    for (size_t i = 0; i < g->n; i++) /* the synthetic root's edges first */
        if (g->node[i].flags & OM__G_ROOT) {
            fprintf(out, "%s%d,%zu,%zu", sep, ET_ELEMENT, r++, (i + 1) * NODE_FIELDS);
            sep = ",";
        }
    for (uint32_t i = 0; i < g->n; i++) {
        size_t deg = g->fo[i + 1] - g->fo[i];
        for (size_t k = g->fo[i]; k < g->fo[i + 1]; k++) {
            uint32_t j = g->fe[k];
            int type;
            size_t name;
            edge_name(g, i, j, k - g->fo[i], deg, t, &type, &name);
            fprintf(out, "%s\n%d,%zu,%zu", sep, type, name, ((size_t)j + 1) * NODE_FIELDS);
            sep = ",";
        }
    }
    fputs("],\n", out);
}

static void put_strings(FILE *out, const strtab *t)
{
    fputs("\"trace_function_infos\":[],\"trace_tree\":[],\"samples\":[],\"locations\":[],\n"
          "\"strings\":[",
          out);
    for (size_t k = 0; k < t->n; k++) {
        if (k) fputs(",\n", out);
        put_json(out, t->buf + t->off[k]);
    }
    fputs("]}\n", out);
}

int om_heap_write_heapsnapshot(om_heap *h, FILE *out)
{
    if (!out) return om__err(h, OM_EINVAL, "om_heap_write_heapsnapshot: no file");
    om__graph g;
    int rc = om__graph_build(h, &g);
    if (rc < 0) return rc;
    size_t nroots = 0;
    for (size_t i = 0; i < g.n; i++) nroots += (g.node[i].flags & OM__G_ROOT) != 0;
    strtab t = {h, NULL, 0, 0, NULL, 0, 0, NULL, 0, 0};
    intern(&t, ""); /* string 0 */
    fputs(META, out);
    fprintf(out, "\"node_count\":%zu,\"edge_count\":%zu,\"trace_function_count\":0},\n", g.n + 1,
            g.ne + nroots);
    put_nodes(out, &g, &t, nroots);
    put_edges(out, &g, &t);
    put_strings(out, &t);
    if (t.err)
        rc = om__err(h, OM_ENOMEM, "om_heap_write_heapsnapshot: no memory for the string table");
    else if (fflush(out) != 0 || ferror(out))
        rc = om__err(h, OM_EIO, "om_heap_write_heapsnapshot: write failed");
    strtab_free(&t);
    om__graph_free(&g);
    return rc;
}
