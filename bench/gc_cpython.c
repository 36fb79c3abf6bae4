/*
 * gc_cpython.c - the CPython 3.11 side of bench_gc, through the C API, in a
 * process of its own. The pair is two lists, a = [b, None] and b = [a]
 * (lengths 2 and 1); collections go through the gc module's collect
 * (PyGC_Collect does nothing while automatic collection is off).
 * Prints "D ..." (version, header sizes) and "R <name> <value>" lines.
 * Argument "big": also the 10M pauses.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "harness.h"

static PyObject *gc_mod;

static PyObject *pair_new(void)
{
    PyObject *a = PyList_New(2);
    if (!a) return NULL;
    PyObject *b = PyList_New(1);
    if (!b) {
        Py_DECREF(a);
        return NULL;
    }
    Py_INCREF(Py_None);
    PyList_SET_ITEM(a, 1, Py_None);
    Py_INCREF(a);
    PyList_SET_ITEM(b, 0, a);
    PyList_SET_ITEM(a, 0, b);
    return a;
}

static void collect(int gen)
{
    PyObject *r = PyObject_CallMethod(gc_mod, "collect", "i", gen);
    if (!r) abort();
    Py_DECREF(r);
}

#define OBJ          PyObject *
#define PAIR_NEW()   pair_new()
#define DROP(o)      Py_DECREF(o)
#define COLLECT(gen) collect(gen)
#define GC_AUTO(on)  ((on) ? PyGC_Enable() : PyGC_Disable())
#include "gc_work.h"

int main(int argc, char **argv)
{
    Py_Initialize();
    gc_mod = PyImport_ImportModule("gc");
    if (!gc_mod) return 1;
    printf("D CPython %s\n", Py_GetVersion());
    /* PyGC_Head is internal in 3.11 (two words); its size is what
     * sys.getsizeof adds to a GC type's basic size. */
    PyObject *l = PyList_New(0);
    Py_ssize_t gsz = l ? (Py_ssize_t)_PySys_GetSizeOf(l) : -1;
    Py_XDECREF(l);
    printf("H %zd %zu\n", gsz - PyList_Type.tp_basicsize, sizeof(PyObject));
    fflush(stdout);
    gc_run_all(argc > 1 && !strcmp(argv[1], "big"));
    Py_DECREF(gc_mod);
    Py_Finalize();
    return 0;
}
