/*
 * tour.h - the sections of `objmem tour`. A section is a function that
 * prints its part of the story with numbers measured live on a fresh heap,
 * and returns 0. Add one by writing tools/tour_<name>.c and a line in the
 * table of tools/tour.c.
 */
#ifndef OM_TOUR_H
#define OM_TOUR_H

#include <stdio.h>

#include "objmem.h"

typedef struct om_tour_section {
    const char *name;  /* for --section                  */
    const char *title; /* the heading                    */
    int (*run)(void);  /* prints the section; 0 on success */
} om_tour_section;

int om_tour_run(const char *only);
int om_tour_list(FILE *out);

/* Sections (tools/tour_*.c). */
int om_tour_heap(void);
int om_tour_pools(void);
int om_tour_classes(void);
int om_tour_arenas(void);
int om_tour_refcount(void);
int om_tour_dealloc(void);
int om_tour_trace(void);
/* Write the tour_trace workload's two snapshots (before and after a leak). */
int om_tour_trace_dumps(const char *old_path, const char *new_path);
int om_tour_gc(void);
int om_tour_misuse(void);
int om_tour_finalizers(void);
int om_tour_weakrefs(void);
int om_tour_referrers(void);
int om_tour_roots(void);
/* Write the roots section's files: its DOT picture (dot; "-" = stdout),
 * a .heapsnapshot of its heap (snap) and the snapshot dumps before and
 * after the leak (old_dump, new_dump); NULL skips one. 0 on success. */
int om_tour_roots_files(const char *dot, const char *snap, const char *old_dump,
                        const char *new_dump);
int om_tour_debug(void);
int om_tour_types(void);

/* Helpers for sections. */
void om_tour_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* one when n is 1, else many: "%zu %s", n, om_tour_plural(n, "pool", "pools"). */
const char *om_tour_plural(size_t n, const char *one, const char *many);

#endif
