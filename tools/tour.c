/*
 * tour.c - the table of tour sections and the runner.
 */
#include <stdarg.h>
#include <string.h>

#include "tour.h"

static const om_tour_section sections[] = {
    {"heap", "The private heap", om_tour_heap},
    {"pools", "Arenas, pools and blocks", om_tour_pools},
    {"classes", "Size classes and the large-object path", om_tour_classes},
    {"arenas", "Freeing: pools drain, arenas go back to the OS", om_tour_arenas},
    {"refcount", "Reference counting: a = point(); b = a; del a", om_tour_refcount},
    {"dealloc", "Immediate deallocation: count zero frees at once, containers too",
     om_tour_dealloc},
    {"gc", "The cycle collector: cycles and generations", om_tour_gc},
    {"finalizers", "Finalizers and resurrection (PEP 442)", om_tour_finalizers},
    {"weakrefs", "Weak references", om_tour_weakrefs},
    {"types", "Built-in types: small ints, interning, free lists, untracked tuples", om_tour_types},
    {"trace", "Tracing allocations: top sites and a leak found by diff", om_tour_trace},
    {"referrers", "Who holds the leak: a snapshot diff, then get_referrers", om_tour_referrers},
    {"roots", "Who holds it, exactly: roots, the shortest chain, a picture", om_tour_roots},
    {"debug", "Debug hooks: an overrun caught (in a child process)", om_tour_debug},
    {"misuse", "Misuse refused: shared tuples, two heaps, keyed tuple hashes", om_tour_misuse},
};

void om_tour_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("  ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
}

const char *om_tour_plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

int om_tour_list(FILE *out)
{
    for (size_t i = 0; i < sizeof sections / sizeof *sections; i++)
        fprintf(out, "%-12s %s\n", sections[i].name, sections[i].title);
    return 0;
}

int om_tour_run(const char *only)
{
    int found = 0;
    for (size_t i = 0; i < sizeof sections / sizeof *sections; i++) {
        if (only && strcmp(only, sections[i].name) != 0) continue;
        found = 1;
        printf("\n== %s ==\n", sections[i].title);
        if (sections[i].run() != 0) {
            fprintf(stderr, "objmem tour: section %s failed\n", sections[i].name);
            return 1;
        }
    }
    if (!found) {
        fprintf(stderr, "objmem tour: no section named %s (try --list)\n", only);
        return 2;
    }
    return 0;
}
