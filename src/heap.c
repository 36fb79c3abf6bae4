/*
 * heap.c - the heap: configuration, creation and destruction, errors,
 * and the whole-heap views (stats, print, check) that put every layer's
 * part together. This file composes the layers; each does its own work.
 * Design note: docs/design.md.
 */
#include <stdarg.h>
#include <stdlib.h>

#include "internal/heap.h"

void om__assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "objmem: internal assertion failed: %s (%s:%d)\n", expr, file, line);
    abort();
}

/* ------------------------------------------------------------- errors */

const char *om_strerror(int code)
{
    switch (code) {
    case OM_OK:
        return "success";
    case OM_ENOMEM:
        return "out of memory";
    case OM_EINVAL:
        return "invalid argument";
    case OM_ERANGE:
        return "index out of range";
    case OM_ETYPE:
        return "wrong type";
    case OM_EKEY:
        return "key not found";
    case OM_EMUTATED:
        return "container changed during iteration";
    case OM_EUTF8:
        return "invalid UTF-8";
    case OM_EFORMAT:
        return "truncated or corrupt data";
    case OM_EIO:
        return "input/output error";
    case OM_ESTATE:
        return "wrong state for this operation";
    case OM_EUNHASH:
        return "unhashable object";
    case OM_EFOREIGN:
        return "pointer not owned by this heap";
    case OM_EBUSY:
        return "not allowed now";
    default:
        return "unknown error";
    }
}

static void set_err(om_heap *h, int code, const char *fmt, va_list ap)
{
    h->errcode = code;
    vsnprintf(h->errmsg, sizeof h->errmsg, fmt, ap);
}

int om__err(om_heap *h, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_err(h, code, fmt, ap);
    va_end(ap);
    return code;
}

void *om__err_null(om_heap *h, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_err(h, code, fmt, ap);
    va_end(ap);
    return NULL;
}

int om_errcode(const om_heap *h)
{
    return h->errcode;
}
const char *om_errmsg(const om_heap *h)
{
    return h->errmsg;
}
void om_errclear(om_heap *h)
{
    h->errcode = OM_OK;
    h->errmsg[0] = '\0';
}

/* ---------------------------------------------------------- lifecycle */

void om_config_init(om_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->sys = om_sys_default();
    cfg->arena_cache = 2;
    cfg->decay_ms = 1000;
    const char *dbg = getenv("OBJMEM_DEBUG");
    if (dbg && *dbg && strcmp(dbg, "0") != 0) cfg->debug = 1;
    const char *stress = getenv("OBJMEM_GC_STRESS");
    if (stress && *stress && strcmp(stress, "0") != 0) cfg->gc_stress = 1;
    const char *leaks = getenv("OBJMEM_LEAKS");
    if (leaks && *leaks) cfg->leaks_file = leaks;
}

om_heap *om_heap_new(const om_config *cfg)
{
    om_config def;
    if (!cfg) {
        om_config_init(&def);
        cfg = &def;
    }
    if (!cfg->sys.map || !cfg->sys.unmap || !cfg->sys.malloc || !cfg->sys.realloc || !cfg->sys.free)
        return NULL;
    om_heap *h = cfg->sys.malloc(cfg->sys.ctx, sizeof *h);
    if (!h) return NULL;
    memset(h, 0, sizeof *h);
    h->cfg = *cfg;
    h->report = cfg->report_file ? cfg->report_file : stderr;
    if (cfg->debug) {
        h->hooks |= OM_HOOK_DEBUG;
        h->obj_prefix = OM_DBG_PREFIX;
    }
    if (om__alloc_init(h) < 0) goto fail_alloc;
    h->alloc.up = (om__alloc_hooks){.on_alloc = om__trace_on_alloc,
                                    .on_free = om__trace_on_free,
                                    .report_block = om__trace_report_block,
                                    .pool_retire = om__gc_pool_retire};
    if (om__gc_init(h) < 0) goto fail_gc;
    if (om__types_init(h) < 0) goto fail_types;
    h->live = OM_HEAP_LIVE;
    return h;
fail_types:
    om__gc_fini(h);
fail_gc:
    om__alloc_fini(h);
fail_alloc:
    cfg->sys.free(cfg->sys.ctx, h, sizeof *h);
    return NULL;
}

/* A heap destroyed twice: its memory was given back, so this reads freed
 * memory; while nothing reused it, `live` says so (0 since the first
 * destroy) and the second destroy reports and changes nothing, instead of
 * freeing every arena again. Debug mode (as the stale heap remembers it)
 * stops. Reused memory is not recognised: undetected. */
static om__cold void destroyed_twice(om_heap *h)
{
    fprintf(stderr, "objmem: om_heap_destroy(%p): not a live heap (destroyed twice?); left alone\n",
            (void *)h);
    if (h->cfg.debug) abort(); /* cfg: past the words free(3) reuses */
}

void om_heap_destroy(om_heap *h)
{
    if (!h) return;
    if (om__unlikely(h->live != OM_HEAP_LIVE)) return destroyed_twice(h);
    h->live = 0;
    h->destroying = 1;
    om__gc_fini(h); /* runs pending finalizers */
    om__types_fini(h);
    if (h->cfg.report_leaks) om__object_report_leaks(h, h->report);
    om__trace_report_leaks(h, h->cfg.report_leaks ? h->report : NULL, h->cfg.leaks_file);
    om__trace_fini(h);
    om__alloc_fini(h);
    om_sys sys = h->cfg.sys;
    sys.free(sys.ctx, h, sizeof *h);
}

/* ------------------------------------------------ whole-heap views */

void om_heap_get_stats(om_heap *h, om_heap_stats *st)
{
    memset(st, 0, sizeof *st);
    om__alloc_fill_stats(h, st);
    om__object_fill_stats(h, st);
    om__types_fill_stats(h, st);
}

void om_heap_print_stats(om_heap *h, FILE *out)
{
    om_heap_stats st;
    if (!out) out = stdout;
    om_heap_get_stats(h, &st);
    om__alloc_print_stats(h, &st, out);
    om__object_print_stats(h, &st, out);
    om__gc_print_stats(h, out);
    om__types_print_stats(h, out);
    om__trace_print_stats(h, out);
}

int om_heap_check(om_heap *h)
{
    int rc = om__alloc_check(h, h->report);
    if (rc == 0) rc = om__object_check(h, h->report);
    if (rc == 0) rc = om__gc_check(h, h->report);
    if (rc == 0) rc = om__types_check(h, h->report);
    if (rc == 0) rc = om__trace_check(h, h->report);
    return rc;
}
