/*
 * stats_cmd.c - `objmem stats [--json]`: run a small workload (a few
 * thousand objects of the built-in types, a cycle left for the collector,
 * raw blocks, tracing on) and print the heap's statistics as text
 * (om_heap_print_stats) or JSON (om_heap_print_stats_json).
 */
#include <stdio.h>
#include <string.h>

#include "objmem.h"

int om_cmd_stats(int argc, char **argv);

/* Lists of floats, strings and tuples, a dict, a dropped self-cycle, and
 * some raw blocks; keep[] receives what stays alive. */
static int workload(om_heap *h, om_object **keep, void **raw, int nraw)
{
    om_object *l = om_list_new(h, 0), *d = om_dict_new(h);
    if (!l || !d) return -1;
    for (int i = 0; i < 2000; i++) {
        char name[32];
        snprintf(name, sizeof name, "key-%d", i % 500);
        om_object *f = om_float_new(h, i * 0.5), *s = om_str_from_cstr(h, name);
        om_object *t = f && s ? om_tuple_pack(h, 2, s, f) : NULL;
        int rc = t ? om_list_append(l, t) : -1;
        if (rc == 0 && i % 4 == 0) rc = om_dict_set(d, s, f);
        om_xdecref(f), om_xdecref(s), om_xdecref(t);
        if (rc < 0) return -1;
    }
    for (int i = 0; i < 10; i++) { /* ten self-cycles for the collector */
        om_object *c = om_list_new(h, 0);
        if (!c || om_list_append(c, c) < 0) return -1;
        om_decref(c);
    }
    om_gc_collect(h, 0);
    for (int i = 0; i < nraw; i++) raw[i] = om_malloc(h, (size_t)(24 + 40 * (i % 20)));
    keep[0] = l, keep[1] = d;
    return 0;
}

int om_cmd_stats(int argc, char **argv)
{
    int json = argc == 1 && strcmp(argv[0], "--json") == 0;
    if (argc > 1 || (argc == 1 && !json)) {
        fprintf(stderr, "usage: objmem stats [--json]\n");
        return 2;
    }
    om_heap *h = om_heap_new(NULL);
    if (!h) return 1;
    om_object *keep[2] = {NULL, NULL};
    void *raw[600];
    int rc = om_trace_start(h, 4);
    if (rc == 0) rc = workload(h, keep, raw, 600);
    if (rc == 0) {
        if (json)
            rc = om_heap_print_stats_json(h, stdout);
        else
            om_heap_print_stats(h, stdout);
    }
    if (rc < 0) fprintf(stderr, "objmem stats: %s\n", om_errmsg(h));
    om_heap_destroy(h); /* frees the workload's objects and blocks with the heap */
    return rc < 0 ? 1 : 0;
}
