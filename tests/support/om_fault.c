/*
 * om_fault.c - fault injection support (see om_fault.h).
 */
#include "om_fault.h"
#include "om_test.h"

static int take(om_fault *f)
{
    f->requests++;
    if (f->countdown < 0) return 1;
    if (f->countdown-- == 0) {
        f->fired = 1;
        return 0;
    }
    return 1;
}

static void *f_map(void *ctx, size_t size, size_t align)
{
    om_fault *f = ctx;
    return take(f) ? f->inner.map(f->inner.ctx, size, align) : NULL;
}
static void f_unmap(void *ctx, void *p, size_t size)
{
    om_fault *f = ctx;
    f->inner.unmap(f->inner.ctx, p, size);
}
static void *f_malloc(void *ctx, size_t size)
{
    om_fault *f = ctx;
    return take(f) ? f->inner.malloc(f->inner.ctx, size) : NULL;
}
static void *f_realloc(void *ctx, void *p, size_t old, size_t size)
{
    om_fault *f = ctx;
    return take(f) ? f->inner.realloc(f->inner.ctx, p, old, size) : NULL;
}
static void f_free(void *ctx, void *p, size_t size)
{
    om_fault *f = ctx;
    f->inner.free(f->inner.ctx, p, size);
}

static void f_purge(void *ctx, void *p, size_t size)
{
    om_fault *f = ctx;
    if (f->inner.purge) f->inner.purge(f->inner.ctx, p, size);
}

void om_fault_config(om_config *cfg, om_fault *f, long n)
{
    om_config_init(cfg);
    f->inner = cfg->sys;
    f->countdown = n;
    f->requests = 0;
    f->fired = 0;
    om_sys s = {f, f_map, f_unmap, f_malloc, f_realloc, f_free, f_purge};
    cfg->sys = s;
}

long om_fault_run(int (*workload)(om_heap *h, void *arg), void *arg, long max_runs)
{
    for (long n = 0; n < max_runs; n++) {
        om_fault f;
        om_config cfg;
        om_fault_config(&cfg, &f, n);
        om_heap *h = om_heap_new(&cfg);
        if (!h) {
            assert_true(f.fired); /* only the fault may refuse a heap */
            continue;
        }
        workload(h, arg);
        int fired = f.fired;
        assert_int_equal(om_heap_check(h), 0);
        f.countdown = -1; /* the heap stays usable */
        void *p = om_malloc(h, 100);
        assert_non_null(p);
        om_free(h, p);
        assert_int_equal(om_heap_check(h), 0);
        om_heap_destroy(h);
        if (!fired) return n + 1;
    }
    fail_msg("workload still hit its fault after %ld runs", max_runs);
    return -1;
}
