/*
 * dwfl_self.h - the process's own modules for libdw, shared by the
 * symbolizer (symbolize.c) and the table walk (unwind.c). Include after
 * <elfutils/libdwfl.h>, with OM_HAVE_LIBDW. Design note: docs/trace.md.
 */
#ifndef OM_TRACE_DWFL_SELF_H
#define OM_TRACE_DWFL_SELF_H

#include <stdint.h>

/* A new Dwfl of the modules the loader lists (dl_iterate_phdr: each file
 * at its load bias); d, the one it replaces, is ended (NULL: none). NULL
 * when libdw fails. */
Dwfl *om__dwfl_report_self(Dwfl *d);
/* The module whose own address range holds pc, or NULL. */
Dwfl_Module *om__dwfl_module_of(Dwfl *d, uintptr_t pc);

#endif
