/*
 * dwfl_self.c - the process's own modules for libdw (dwfl_self.h).
 *
 * Why not dwfl_linux_proc_report (/proc/self/maps): libelf maps the files
 * libdw opens (MAP_PRIVATE copies, listed in maps under the file's name),
 * so once the symbolizer or the table walk has opened a module, maps shows
 * the module twice; a copy just below a module's first real mapping merges
 * with it and moves the module's base, and its frames lost their names
 * (test_trace_cfi finds_modules_loaded_later). The loader's own list
 * gives each file once, at its load bias.
 */
#define _GNU_SOURCE
#include <link.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace_int.h"

#ifdef OM_HAVE_LIBDW
#include <elfutils/libdwfl.h>

#include "dwfl_self.h"

typedef struct loaded {
    char *path;
    uintptr_t bias;
} loaded;

typedef struct loaded_list {
    loaded *v;
    size_t n, cap;
    int failed;
} loaded_list;

/* Collected under the loader's lock, reported after it (libdw opens files
 * and allocates). The first entry, with an empty name, is the program. */
static int collect(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    loaded_list *l = arg;
    char exe[PATH_MAX];
    const char *name = info->dlpi_name;
    if ((!name || !*name) && l->n == 0) {
        ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (k <= 0) return 0;
        exe[k] = '\0';
        name = exe;
    }
    if (!name || name[0] != '/') return 0; /* the vDSO: no file */
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        loaded *v = realloc(l->v, cap * sizeof *v);
        if (!v) return l->failed = 1;
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n].path = strdup(name))) return l->failed = 1;
    l->v[l->n++].bias = (uintptr_t)info->dlpi_addr;
    return 0;
}

Dwfl *om__dwfl_report_self(Dwfl *d)
{
    static const Dwfl_Callbacks cb = {
        .find_elf = dwfl_linux_proc_find_elf,
        .find_debuginfo = dwfl_standard_find_debuginfo,
    };
    /* a new Dwfl each time: libdw refuses to report a module again once
     * its ELF is open ("address range overlaps an existing module"), and
     * the round's end would then drop it */
    if (d) dwfl_end(d);
    if (!(d = dwfl_begin(&cb))) return NULL;
    loaded_list l = {0};
    dl_iterate_phdr(collect, &l);
    for (size_t i = 0; i < l.n; i++) {
        (void)dwfl_report_elf(d, l.v[i].path, l.v[i].path, -1, l.v[i].bias, true);
        free(l.v[i].path);
    }
    free(l.v);
    if (l.failed || l.n == 0 || dwfl_report_end(d, NULL, NULL) != 0) {
        dwfl_end(d);
        return NULL;
    }
    return d;
}

/* dwfl_addrmodule alone may name a module for an address in a hole of its
 * mappings, where another module was mapped since. */
Dwfl_Module *om__dwfl_module_of(Dwfl *d, uintptr_t pc)
{
    Dwfl_Module *m = dwfl_addrmodule(d, (Dwarf_Addr)pc);
    Dwarf_Addr lo = 0, hi = 0;
    if (m && (!dwfl_module_info(m, NULL, &lo, &hi, NULL, NULL, NULL, NULL) || pc < lo || pc >= hi))
        return NULL;
    return m;
}

#endif
