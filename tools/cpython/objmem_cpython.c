/*
 * objmem_cpython.c - run CPython 3.11 on objmem's allocator.
 *
 * Importing this module creates one objmem heap and installs it as the
 * allocator of PYMEM_DOMAIN_OBJ (PyObject_Malloc and friends: every object
 * of the interpreter), and of PYMEM_DOMAIN_MEM too (PyMem_Malloc) when the
 * environment has OBJMEM_CPYTHON_MEM=1. The allocator that was installed
 * before is kept: blocks it handed out before the switch are still freed
 * and resized by it. Which allocator a pointer belongs to is decided by
 * om_owns, objmem's O(1) ownership test, which reads no memory outside the
 * heap's own tables and arena headers, so it is safe on any pointer.
 *
 * Invariants:
 * - g_heap is created once, never destroyed: the interpreter may free into
 *   it until the process ends (after Py_FinalizeEx too: at-exit handlers).
 * - Every call into g_heap is made with the GIL held: CPython 3.11 requires
 *   the GIL for the OBJ and MEM domains (there is one GIL per process in
 *   3.11, shared by sub-interpreters), so the heap is used by one thread at
 *   a time, which is all objmem asks of a heap.
 * - A pointer om_owns(g_heap, p) rejects is never given to om_free or
 *   om_realloc: it goes to the previous allocator of its domain.
 * - The counters are only written with the GIL held (plain size_t), and
 *   only by the counting functions (OBJMEM_CPYTHON_COUNT=1 or
 *   OBJMEM_CPYTHON_REPORT): the default functions count nothing.
 *
 * Design note: docs/cpython.md.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <objmem.h>
#define OM_BUILD_CORE 1 /* objmem's inline fast paths (src/internal/heap.h) */
#include "internal/heap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

PyMODINIT_FUNC PyInit_objmem_cpython(void);

enum { DOM_OBJ, DOM_MEM, DOM_COUNT };

/* One replaced domain: its id and the allocator that was there before. */
typedef struct shim_domain {
    PyMemAllocatorDomain id;
    const char *name;
    PyMemAllocatorEx prev;
    int installed;
} shim_domain;

/* What the shim did, since import. */
typedef struct shim_counters {
    size_t blocks_served;    /* blocks objmem handed out (malloc, calloc, realloc moves) */
    size_t bytes_served;     /* bytes requested of those                             */
    size_t frees;            /* blocks given back to objmem                          */
    size_t reallocs;         /* reallocs of objmem blocks                            */
    size_t foreign_frees;    /* frees passed on to the previous allocator            */
    size_t foreign_reallocs; /* reallocs passed on to the previous allocator         */
    size_t failures;         /* requests objmem could not serve (NULL returned)      */
} shim_counters;

static om_heap *g_heap;
static shim_domain g_dom[DOM_COUNT] = {
    {PYMEM_DOMAIN_OBJ, "obj", {0}, 0},
    {PYMEM_DOMAIN_MEM, "mem", {0}, 0},
};
static shim_counters g_cnt;
static int g_counting;            /* the counting functions are installed */
static const char *g_skip_reason; /* why nothing was installed, or NULL */

/* ------------------------------------------------------------- allocator */

/* Two sets of functions. The plain ones (the default) keep no counter and
 * inline objmem's fast paths (om__malloc_fast, om__free_fast: the same code
 * as om_malloc's and om_free's), so a small block costs the interpreter no
 * call beyond its own indirect one; the rest goes to objmem's slow paths
 * out of line (om_malloc, om__free_if_owned_slow), and only pointers outside
 * every objmem block go to the previous allocator.
 * The counting ones (OBJMEM_CPYTHON_COUNT=1, or OBJMEM_CPYTHON_REPORT set)
 * do the same and count what counters() and the exit report show. */

/* A free past objmem's fast path: objmem's slow path, or a block of the
 * previous allocator of the domain. */
static __attribute__((noinline)) void free_slow(shim_domain *d, void *p)
{
    if (om__free_if_owned_slow(g_heap, p)) return;
    g_cnt.foreign_frees++;
    d->prev.free(d->prev.ctx, p);
}

static void *fast_malloc(void *ctx, size_t size)
{
    (void)ctx;
    void *p = om__malloc_fast(g_heap, size);
    if (__builtin_expect(p != NULL, 1)) return p;
    return om_malloc(g_heap, size); /* the slow path; NULL only with OM_ENOMEM */
}

static void *fast_calloc(void *ctx, size_t n, size_t size)
{
    (void)ctx;
    return om_calloc(g_heap, n, size); /* n * size overflowing: NULL */
}

static void fast_free(void *ctx, void *p)
{
    if (__builtin_expect(om__free_fast(g_heap, p), 1)) return;
    free_slow(ctx, p);
}

/* realloc(NULL, n) is malloc(n); a foreign p goes to the previous allocator
 * (whose block it is); an objmem block is resized by objmem, size 0 giving
 * a minimal block (as pymalloc does) and failure leaving p intact. */
static void *fast_realloc(void *ctx, void *p, size_t size)
{
    shim_domain *d = ctx;
    if (p == NULL) return om_malloc(g_heap, size);
    if (!om_owns(g_heap, p)) {
        g_cnt.foreign_reallocs++;
        return d->prev.realloc(d->prev.ctx, p, size);
    }
    return om_realloc(g_heap, p, size);
}

static void *count_malloc(void *ctx, size_t size)
{
    void *p = fast_malloc(ctx, size);
    if (p == NULL) {
        g_cnt.failures++;
        return NULL;
    }
    g_cnt.blocks_served++;
    g_cnt.bytes_served += size;
    return p;
}

static void *count_calloc(void *ctx, size_t n, size_t size)
{
    void *p = fast_calloc(ctx, n, size);
    if (p == NULL) {
        g_cnt.failures++;
        return NULL;
    }
    g_cnt.blocks_served++;
    g_cnt.bytes_served += n * size;
    return p;
}

static void *count_realloc(void *ctx, void *p, size_t size)
{
    if (p == NULL) return count_malloc(ctx, size);
    int ours = om_owns(g_heap, p);
    void *q = fast_realloc(ctx, p, size);
    if (!ours) return q;
    if (q == NULL) {
        g_cnt.failures++;
        return NULL;
    }
    g_cnt.reallocs++;
    if (q != p) {
        g_cnt.blocks_served++;
        g_cnt.bytes_served += size;
        g_cnt.frees++;
    }
    return q;
}

static void count_free(void *ctx, void *p)
{
    if (p != NULL && (om__amap_test((uintptr_t)p) || om_owns(g_heap, p))) g_cnt.frees++;
    fast_free(ctx, p);
}

/* ------------------------------------------------------------ at exit */

/* Append one line of counters to $OBJMEM_CPYTHON_REPORT, after the
 * interpreter is finalized (Py_AtExit): the counts then include what the
 * finalization freed. With OBJMEM_CPYTHON_CHECK=1 the heap's invariants are
 * verified too. Uses only C stdio: Python is gone. */
static void report_at_exit(void)
{
    const char *path = getenv("OBJMEM_CPYTHON_REPORT");
    if (path == NULL || *path == '\0' || g_heap == NULL) return;
    const char *chk = getenv("OBJMEM_CPYTHON_CHECK");
    int check = -1;
    if (chk != NULL && strcmp(chk, "1") == 0) check = om_heap_check(g_heap) == 0;
    om_heap_stats st;
    om_heap_get_stats(g_heap, &st);
    FILE *f = fopen(path, "a");
    if (f == NULL) return;
    fprintf(f,
            "pid=%ld blocks_served=%zu bytes_served=%zu frees=%zu reallocs=%zu "
            "foreign_frees=%zu foreign_reallocs=%zu failures=%zu live_blocks=%zu "
            "peak_bytes=%zu bad_frees=%zu check=%s\n",
            (long)getpid(), g_cnt.blocks_served, g_cnt.bytes_served, g_cnt.frees, g_cnt.reallocs,
            g_cnt.foreign_frees, g_cnt.foreign_reallocs, g_cnt.failures, st.raw_blocks,
            st.peak_bytes, st.bad_frees,
            check < 0 ? "off"
            : check   ? "ok"
                      : "FAIL");
    fclose(f);
}

/* ------------------------------------------------------------ install */

/* 1 when tracemalloc is tracing: it saved the allocator it replaced and
 * puts it back at tracemalloc.stop(), which would drop objmem while
 * objmem blocks are live. -1 with an exception set on error. */
static int tracemalloc_is_tracing(void)
{
    PyObject *mod = PyImport_ImportModule("_tracemalloc");
    if (mod == NULL) {
        PyErr_Clear();
        return 0;
    }
    PyObject *res = PyObject_CallMethod(mod, "is_tracing", NULL);
    Py_DECREF(mod);
    if (res == NULL) return -1;
    int tracing = PyObject_IsTrue(res);
    Py_DECREF(res);
    return tracing;
}

/* Create the heap and switch the domains over. Runs once per process. */
static int install(void)
{
    static int done;
    if (done) return 0;
    int tracing = tracemalloc_is_tracing();
    if (tracing < 0) return -1;
    if (tracing) {
        g_skip_reason = "tracemalloc was tracing at import";
        done = 1;
        return PyErr_WarnEx(PyExc_RuntimeWarning,
                            "objmem_cpython: tracemalloc is tracing; objmem is not installed "
                            "(tracemalloc.stop() would put the old allocator back)",
                            1);
    }
    om_config cfg;
    om_config_init(&cfg);
    g_heap = om_heap_new(&cfg);
    if (g_heap == NULL) {
        PyErr_SetString(PyExc_MemoryError, "objmem_cpython: cannot create the heap");
        return -1;
    }
    const char *cnt = getenv("OBJMEM_CPYTHON_COUNT"), *rep = getenv("OBJMEM_CPYTHON_REPORT");
    g_counting = (cnt != NULL && strcmp(cnt, "1") == 0) || (rep != NULL && *rep != '\0');
    const char *mem = getenv("OBJMEM_CPYTHON_MEM");
    int with_mem = mem != NULL && strcmp(mem, "1") == 0;
    for (int i = 0; i < DOM_COUNT; i++) {
        shim_domain *d = &g_dom[i];
        if (i == DOM_MEM && !with_mem) continue;
        PyMem_GetAllocator(d->id, &d->prev);
        PyMemAllocatorEx a = {d, fast_malloc, fast_calloc, fast_realloc, fast_free};
        if (g_counting)
            a = (PyMemAllocatorEx){d, count_malloc, count_calloc, count_realloc, count_free};
        PyMem_SetAllocator(d->id, &a);
        d->installed = 1;
    }
    Py_AtExit(report_at_exit);
    done = 1;
    return 0;
}

/* -------------------------------------------------------------- methods */

static int dict_set_size(PyObject *d, const char *key, size_t v)
{
    PyObject *o = PyLong_FromSize_t(v);
    if (o == NULL) return -1;
    int rc = PyDict_SetItemString(d, key, o);
    Py_DECREF(o);
    return rc;
}

static PyObject *counters(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    shim_counters c = g_cnt; /* snapshot before building the dict allocates */
    om_heap_stats st;
    memset(&st, 0, sizeof st);
    if (g_heap) om_heap_get_stats(g_heap, &st);
    PyObject *d = PyDict_New();
    if (d == NULL) return NULL;
    PyObject *doms = PyList_New(0);
    if (doms == NULL) goto fail;
    for (int i = 0; i < DOM_COUNT; i++) {
        if (!g_dom[i].installed) continue;
        PyObject *n = PyUnicode_FromString(g_dom[i].name);
        if (n == NULL || PyList_Append(doms, n) < 0) {
            Py_XDECREF(n);
            Py_DECREF(doms);
            goto fail;
        }
        Py_DECREF(n);
    }
    int rc = PyDict_SetItemString(d, "domains", doms);
    Py_DECREF(doms);
    if (rc < 0) goto fail;
    if (dict_set_size(d, "blocks_served", c.blocks_served) < 0 ||
        dict_set_size(d, "bytes_served", c.bytes_served) < 0 ||
        dict_set_size(d, "frees", c.frees) < 0 || dict_set_size(d, "reallocs", c.reallocs) < 0 ||
        dict_set_size(d, "foreign_frees", c.foreign_frees) < 0 ||
        dict_set_size(d, "foreign_reallocs", c.foreign_reallocs) < 0 ||
        dict_set_size(d, "failures", c.failures) < 0 ||
        dict_set_size(d, "live_blocks", st.raw_blocks) < 0 ||
        dict_set_size(d, "bytes_in_use", st.bytes_in_use) < 0 ||
        dict_set_size(d, "peak_bytes", st.peak_bytes) < 0 ||
        dict_set_size(d, "arenas", st.arenas) < 0 ||
        dict_set_size(d, "large_blocks", st.large_blocks) < 0 ||
        dict_set_size(d, "bad_frees", st.bad_frees) < 0)
        goto fail;
    return d;
fail:
    Py_DECREF(d);
    return NULL;
}

/* 1 when the memory of obj is an objmem block. The block of a GC object
 * starts at its PyGC_Head (two words before the object), and an object
 * whose type has Py_TPFLAGS_MANAGED_DICT has two more words before that. */
static PyObject *owns(PyObject *self, PyObject *obj)
{
    (void)self;
    if (g_heap == NULL) Py_RETURN_FALSE;
    size_t pre = 0;
    if (PyObject_IS_GC(obj)) pre += 2 * sizeof(void *);
    if (PyType_HasFeature(Py_TYPE(obj), Py_TPFLAGS_MANAGED_DICT)) pre += 2 * sizeof(void *);
    return PyBool_FromLong(om_owns(g_heap, (char *)obj - pre));
}

/* Verify the heap's invariants (om_heap_check); True when they hold. */
static PyObject *check(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    if (g_heap == NULL) Py_RETURN_TRUE;
    return PyBool_FromLong(om_heap_check(g_heap) == 0);
}

static PyObject *installed(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    return PyBool_FromLong(g_dom[DOM_OBJ].installed);
}

static PyMethodDef methods[] = {
    {"counters", counters, METH_NOARGS,
     "counters() -> dict: what objmem served since import (the cumulative counts\n"
     "are kept only with OBJMEM_CPYTHON_COUNT=1 or OBJMEM_CPYTHON_REPORT; 0 otherwise).\n\n"
     "domains: the replaced domains ('obj', and 'mem' with OBJMEM_CPYTHON_MEM=1);\n"
     "blocks_served, bytes_served: blocks objmem handed out and the bytes asked;\n"
     "frees, reallocs: objmem blocks freed / resized;\n"
     "foreign_frees, foreign_reallocs: pointers of the previous allocator passed on;\n"
     "failures: requests objmem could not serve;\n"
     "live_blocks, bytes_in_use, peak_bytes, arenas, large_blocks, bad_frees: the heap's\n"
     "statistics now (bad_frees must stay 0)."},
    {"owns", owns, METH_O, "owns(obj) -> bool: True when obj's memory is an objmem block."},
    {"check", check, METH_NOARGS, "check() -> bool: verify the heap's invariants."},
    {"installed", installed, METH_NOARGS,
     "installed() -> bool: True when objmem serves the object domain."},
    {NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(module_doc,
             "objmem_cpython - CPython's object allocator replaced by an objmem heap.\n"
             "\n"
             "Importing this module creates one objmem heap and installs it as the\n"
             "allocator of PYMEM_DOMAIN_OBJ (PyObject_Malloc: all objects), and also of\n"
             "PYMEM_DOMAIN_MEM (PyMem_Malloc) when OBJMEM_CPYTHON_MEM=1 is set. The\n"
             "previous allocator is kept: free and realloc of a pointer the heap does\n"
             "not own (blocks from before the switch) go to it, decided by om_owns,\n"
             "objmem's O(1) ownership test, which is safe on any pointer.\n"
             "\n"
             "Why a single heap without locks is safe: CPython 3.11 requires the GIL\n"
             "for the OBJ and MEM domains, and there is one GIL per process (shared by\n"
             "sub-interpreters), so the heap is used by one thread at a time.\n"
             "\n"
             "At fork the child gets a copy of the heap along with the rest of memory;\n"
             "the copy is private to the child and consistent (fork happens with the\n"
             "GIL held, never in the middle of an allocation). At exit the heap is\n"
             "never destroyed: the interpreter frees into it during finalization and\n"
             "at-exit handlers, until the process ends; the OS takes the arenas back.\n"
             "\n"
             "Not installed when tracemalloc is already tracing at import (its stop()\n"
             "would put the old allocator back under live objmem blocks).\n"
             "\n"
             "Activation: PYTHONPATH=<build>/cpython-site python3.11 prog.py (the\n"
             "directory's sitecustomize.py imports this module). Environment:\n"
             "OBJMEM_CPYTHON_MEM=1 also replace the MEM domain;\n"
             "OBJMEM_CPYTHON_COUNT=1 count what is served (counters()); off by default;\n"
             "OBJMEM_CPYTHON_REPORT=FILE append the counters to FILE at exit (counts);\n"
             "OBJMEM_CPYTHON_CHECK=1 with it, verify the heap at exit;\n"
             "OBJMEM_DEBUG=1 objmem's debug mode (guards, fill patterns).");

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "objmem_cpython", module_doc, -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit_objmem_cpython(void)
{
    if (install() < 0) return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (m == NULL) return NULL;
    if (PyModule_AddStringConstant(m, "skip_reason", g_skip_reason ? g_skip_reason : "") < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
