/*
 * symbolize.c - turning native return addresses into frames, lazily (only
 * when a snapshot is taken or a traceback is asked for): file and line
 * from DWARF with libdw (elfutils) when the build found it, else the
 * symbol and offset from the ELF symbol tables (.symtab, else .dynsym:
 * libdw reads them without DWARF; dladdr(3) without libdw sees only
 * .dynsym). Also finds objmem's own code by address (the section
 * objmem_text the build puts it in), so a snapshot shows the caller's
 * frames.
 * Design note: docs/trace.md ("Symbolization").
 *
 * Memory: results are cached per symtab (one per snapshot) and their
 * strings copied to its bump arena. libdw allocates with the C library's
 * malloc for its own tables; that memory is not counted by the heap.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "trace_int.h"

#ifdef OM_HAVE_LIBDW
#include <elfutils/libdwfl.h>

#include "dwfl_self.h"
#endif

typedef struct symrec {
    uint32_t hash;
    int internal;
    uintptr_t pc;
    om_frame f;
} symrec;

struct om__symtab {
    om_heap *h;
    int nranges; /* objmem's text ranges (from the tracer), 0: unknown */
    const uintptr_t *range_lo, *range_hi;
    om__pset recs;
    om__bump bump;
    char srcdir[512]; /* objmem's src/ directory, from this file's path */
    size_t srclen;
    const char *selfso; /* objmem's shared object, or NULL when linked in */
#ifdef OM_HAVE_LIBDW
    Dwfl *dwfl;
    int dwfl_failed;
    int refreshed; /* the module list was made again after a miss */
#endif
};

om__symtab *om__symtab_new(om_heap *h)
{
    om__symtab *st = om__sys_calloc(h, 1, sizeof *st);
    if (!st) return NULL;
    st->h = h;
    if (h->trace) {
        st->nranges = h->trace->nranges;
        st->range_lo = h->trace->range_lo;
        st->range_hi = h->trace->range_hi;
    }
    const char *me = __FILE__; /* .../src/trace/symbolize.c */
    const char *cut = strstr(me, "trace/symbolize.c");
    st->srclen = cut ? (size_t)(cut - me) : 0;
    if (st->srclen >= sizeof st->srcdir) st->srclen = 0;
    memcpy(st->srcdir, me, st->srclen);
    Dl_info info;
    if (dladdr((void *)(uintptr_t)om_trace_start, &info) && info.dli_fname &&
        strstr(info.dli_fname, "libobjmem"))
        st->selfso = info.dli_fname;
    return st;
}

om__symtab *om__trace_symtab(om_heap *h)
{
    om__tracestate *t = h->trace;
    if (!t->symtab) t->symtab = om__symtab_new(h);
    return t->symtab;
}

void om__symtab_free(om__symtab *st)
{
    if (!st) return;
#ifdef OM_HAVE_LIBDW
    if (st->dwfl) dwfl_end(st->dwfl);
#endif
    om__pset_free(st->h, &st->recs);
    om__bump_release(st->h, &st->bump);
    om__sys_free(st->h, st, sizeof *st);
}

static int rec_eq(const void *rec, const void *key)
{
    return ((const symrec *)rec)->pc == *(const uintptr_t *)key;
}

static const char *keep(om__symtab *st, const char *s)
{
    const char *d = om__bump_strdup(st->h, &st->bump, s);
    return d ? d : "<no memory>";
}

/* A copy of a function's symbol without GCC's clone suffix
 * (parse.constprop.0, f.isra.0, g.part.1, h.cold: C names have no '.'). */
static const char *keep_fn(om__symtab *st, const char *sym)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", sym);
    char *dot = strchr(buf, '.');
    if (dot && dot != buf) *dot = 0;
    char *at = strchr(buf, '@'); /* a version: __libc_start_main@@GLIBC_2.34 */
    if (at && at != buf) *at = 0;
    return keep(st, buf);
}

#ifdef OM_HAVE_LIBDW
static inline int is_objmem_file(const om__symtab *st, const char *file)
{
    return st->srclen && file && strncmp(file, st->srcdir, st->srclen) == 0;
}
#endif

/* 1 when pc is in objmem's code: by address when its ranges are known. */
static int in_ranges(const om__symtab *st, uintptr_t pc)
{
    for (int i = 0; i < st->nranges; i++)
        if (pc - st->range_lo[i] < st->range_hi[i] - st->range_lo[i]) return 1;
    return 0;
}

static const char *base_name(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    return slash ? slash + 1 : path ? path : "?";
}

/* "module(symbol+0xoff)" as backtrace_symbols(3) writes it (the offset of
 * the return address), or "module+0xoff" without a symbol. */
static void name_frame(om__symtab *st, symrec *r, const char *module, const char *sym,
                       uintptr_t off, uintptr_t modoff)
{
    char buf[600];
    if (sym) {
        snprintf(buf, sizeof buf, "%s(%s+0x%lx)", base_name(module), sym, (unsigned long)off);
        r->f.name = keep_fn(st, sym);
    } else {
        snprintf(buf, sizeof buf, "%s+0x%lx", base_name(module), (unsigned long)modoff);
    }
    r->f.filename = keep(st, buf);
    r->f.lineno = 0;
}

static int is_objmem_name(const char *name)
{
    return name && strncmp(name, "om_", 3) == 0 && strncmp(name, "om_test", 7) != 0 &&
           strncmp(name, "om_tour", 7) != 0 && strncmp(name, "om_cmd", 6) != 0;
}

#ifdef OM_HAVE_LIBDW
static Dwfl *get_dwfl(om__symtab *st)
{
    if (st->dwfl || st->dwfl_failed) return st->dwfl;
    st->dwfl = om__dwfl_report_self(NULL);
    st->dwfl_failed = st->dwfl == NULL;
    return st->dwfl;
}

/* File, line and function of pc from DWARF, else symbol+offset from the
 * module's ELF symbol table; 0 when the module is unknown. */
static int lookup_dw(om__symtab *st, uintptr_t pc, symrec *r)
{
    Dwfl *d = get_dwfl(st);
    if (!d) return 0;
    Dwfl_Module *m = om__dwfl_module_of(d, pc);
    if (!m && !st->refreshed) { /* loaded since: list the modules again, once */
        st->refreshed = 1;
        dwfl_end(st->dwfl);
        st->dwfl = NULL;
        if ((d = get_dwfl(st)) != NULL) m = om__dwfl_module_of(d, pc);
    }
    if (!m) return 0;
    GElf_Off off = 0;
    GElf_Sym sym;
    const char *fn = dwfl_module_addrinfo(m, (GElf_Addr)pc, &off, &sym, NULL, NULL, NULL);
    Dwfl_Line *line = dwfl_module_getsrc(m, (Dwarf_Addr)pc);
    int lineno = 0;
    const char *file = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
    if (file) {
        r->f.filename = keep(st, file);
        r->f.lineno = lineno > 0 ? (uint32_t)lineno : 0;
        r->f.name = fn ? keep_fn(st, fn) : NULL;
        r->internal = st->nranges ? in_ranges(st, pc) : is_objmem_file(st, file);
        return 1;
    }
    Dwarf_Addr start = 0;
    const char *mod = dwfl_module_info(m, NULL, &start, NULL, NULL, NULL, NULL, NULL);
    name_frame(st, r, mod, fn, (uintptr_t)off + 1, (uintptr_t)(pc + 1 - start));
    r->internal = st->nranges ? in_ranges(st, pc) : is_objmem_name(fn);
    return 1;
}
#endif

/* Symbol+offset from dladdr (exported symbols only). */
static void lookup_dl(om__symtab *st, uintptr_t pc, symrec *r)
{
    Dl_info info;
    memset(&info, 0, sizeof info);
    if (!dladdr((void *)pc, &info)) {
        char buf[32];
        snprintf(buf, sizeof buf, "0x%lx", (unsigned long)pc + 1);
        r->f.filename = keep(st, buf);
    } else {
        name_frame(st, r, info.dli_fname, info.dli_sname,
                   (uintptr_t)(pc + 1 - (uintptr_t)info.dli_saddr),
                   (uintptr_t)(pc + 1 - (uintptr_t)info.dli_fbase));
    }
    r->internal =
        st->nranges ? in_ranges(st, pc)
                    : is_objmem_name(info.dli_sname) ||
                          (st->selfso && info.dli_fname && strcmp(info.dli_fname, st->selfso) == 0);
}

#ifdef OM_HAVE_LIBDW
static int range_cmp(const void *a, const void *b)
{
    const uintptr_t *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* Collect the address ranges of objmem's compilation units. */
static int collect_ranges(om__symtab *st, Dwfl_Module *m, uintptr_t (*r)[2], int max)
{
    Dwarf_Addr bias;
    Dwarf_Die *cu = NULL;
    int n = 0;
    while ((cu = dwfl_module_nextcu(m, cu, &bias)) != NULL) {
        const char *name = dwarf_diename(cu);
        if (!is_objmem_file(st, name)) continue;
        Dwarf_Addr base, lo, hi;
        ptrdiff_t off = 0;
        while ((off = dwarf_ranges(cu, off, &base, &lo, &hi)) > 0) {
            if (n == max) return -1;
            if (hi > lo) {
                r[n][0] = (uintptr_t)(lo + bias);
                r[n][1] = (uintptr_t)(hi + bias);
                n++;
            }
        }
    }
    return n;
}
#endif

/* Placed by the linker around the section objmem_text that the build puts
 * all of objmem's code in (cmake/om-text-section.sh); NULL when the build
 * did not (then libdw's compilation-unit ranges are the fallback). */
extern const char __start_objmem_text[] __attribute__((weak, visibility("hidden")));
extern const char __stop_objmem_text[] __attribute__((weak, visibility("hidden")));

int om__objmem_text_ranges(om_heap *h, uintptr_t *lo, uintptr_t *hi, int max)
{
    if (__start_objmem_text && (uintptr_t)__stop_objmem_text > (uintptr_t)__start_objmem_text &&
        max > 0) {
        lo[0] = (uintptr_t)__start_objmem_text;
        hi[0] = (uintptr_t)__stop_objmem_text;
        return 1;
    }
#ifdef OM_HAVE_LIBDW
    uintptr_t r[512][2];
    om__symtab *st = om__symtab_new(h);
    if (!st) return 0;
    Dwfl *d = get_dwfl(st);
    Dwfl_Module *m = d ? dwfl_addrmodule(d, (Dwarf_Addr)(uintptr_t)om_trace_start) : NULL;
    int n = m ? collect_ranges(st, m, r, 512) : -1;
    om__symtab_free(st);
    if (n <= 0) return 0;
    qsort(r, (size_t)n, sizeof r[0], range_cmp);
    int k = 0; /* merge ranges apart by alignment padding only */
    for (int i = 0; i < n; i++) {
        if (k && r[i][0] <= hi[k - 1] + 64) {
            if (r[i][1] > hi[k - 1]) hi[k - 1] = r[i][1];
            continue;
        }
        if (k == max) return 0;
        lo[k] = r[i][0];
        hi[k] = r[i][1];
        k++;
    }
    return k;
#else
    (void)h;
    (void)lo;
    (void)hi;
    (void)max;
    return 0;
#endif
}

om_frame om__symtab_lookup(om__symtab *st, uintptr_t pc, int *internal)
{
    static const om_frame unknown = {"<unknown>", 0, NULL};
    uint32_t hash = (uint32_t)((pc * 0x9E3779B97F4A7C15ULL) >> 32) | 1;
    void **slot = om__pset_slot(st->h, &st->recs, hash, rec_eq, &pc);
    if (!slot) {
        *internal = 0;
        return unknown;
    }
    if (!*slot) {
        symrec *r = om__bump_alloc(st->h, &st->bump, sizeof *r);
        if (!r) {
            *internal = 0;
            return unknown;
        }
        memset(r, 0, sizeof *r);
        r->hash = hash;
        r->pc = pc;
        uintptr_t at = pc - 1; /* inside the call instruction */
#ifdef OM_HAVE_LIBDW
        if (!lookup_dw(st, at, r))
#endif
            lookup_dl(st, at, r);
        *slot = r;
        st->recs.n++;
    }
    symrec *r = *slot;
    *internal = r->internal;
    return r->f;
}

uint32_t om__tb_symbolize(om__symtab *st, const om__tb *tb, int limit, om_frame *out,
                          uint32_t *total)
{
    uint32_t n = 0, i = 0;
    if (tb->kind == OM_TB_NATIVE_EXACT) { /* objmem's frames were left out */
        for (; i < tb->nframe && n < (uint32_t)limit; i++) {
            int ignored;
            out[n++] = om__symtab_lookup(st, tb->frames[i], &ignored);
        }
        *total = tb->total_nframe;
    } else if (tb->kind == OM_TB_PROVIDED) {
        for (; i < tb->nframe && n < (uint32_t)limit; i++)
            out[n++] = ((const om__pframe *)tb->frames[i])->f;
        *total = tb->total_nframe;
    } else {
        int internal = 1;
        for (; i < tb->nframe && internal; i++) { /* objmem's own frames first */
            om_frame f = om__symtab_lookup(st, tb->frames[i], &internal);
            if (!internal) out[n++] = f;
        }
        for (; i < tb->nframe && n < (uint32_t)limit; i++) {
            int ignored;
            out[n++] = om__symtab_lookup(st, tb->frames[i], &ignored);
        }
        *total = n + (tb->nframe - i); /* frames kept + frames beyond the limit */
    }
    if (n == 0) {
        out[0] = (om_frame){"<unknown>", 0, NULL};
        n = 1;
        if (*total == 0) *total = 1;
    }
    return n;
}
