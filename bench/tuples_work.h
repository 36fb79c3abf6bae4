/*
 * tuples_work.h - the build-and-drop workload of bench_trace and
 * bench_objects on objmem: a list of n (i, i*0.5, "k%d" % i) tuples,
 * grown by appends from empty like Python's list comprehension, then
 * dropped. The includer defines `static om_heap *heap;` first.
 */
#ifndef OM_BENCH_TUPLES_WORK_H
#define OM_BENCH_TUPLES_WORK_H

#include <objmem.h>

#include "harness.h"

static om_object *tuples_build(om_heap *h, size_t n)
{
    om_object *l = om_list_new(h, 0);
    if (!l) abort();
    char buf[32];
    for (size_t i = 0; i < n; i++) {
        om_object *t = om_tuple_new(h, 3);
        if (!t) abort();
        snprintf(buf, sizeof buf, "k%zu", i);
        if (om_tuple_set_steal(t, 0, om_int_new(h, (int64_t)i)) ||
            om_tuple_set_steal(t, 1, om_float_new(h, (double)i * 0.5)) ||
            om_tuple_set_steal(t, 2, om_str_from_cstr(h, buf)) || om_list_append_steal(l, t))
            abort();
    }
    return l;
}

#endif
