/*
 * untrack_cpython.c - the CPython 3.11 side of bench_untrack, through the
 * C API, in a process of its own: the same tuples (PyTuple_New, then
 * PyTuple_SET_ITEM, last slot first) and dicts, gc.collect() timed.
 * Prints "D <version>" and "R <name> <value>" lines.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "harness.h"

static PyObject *gc_mod;

static PyObject *tuple2_late(PyObject *a, PyObject *b)
{
    PyObject *t = PyTuple_New(2);
    if (!t) abort();
    PyTuple_SET_ITEM(t, 1, b);
    PyTuple_SET_ITEM(t, 0, a);
    return t;
}

static PyObject *dict1(PyObject *k, PyObject *v)
{
    PyObject *d = PyDict_New();
    if (!d || PyDict_SetItem(d, k, v) < 0) abort();
    Py_DECREF(k);
    Py_DECREF(v);
    return d;
}

static void append_steal(PyObject *l, PyObject *o)
{
    if (PyList_Append(l, o) < 0) abort();
    Py_DECREF(o);
}

static PyObject *str_of(size_t i)
{
    char b[32];
    snprintf(b, sizeof b, "row %zu", i);
    return PyUnicode_FromString(b);
}

static void collect_full(void)
{
    PyObject *r = PyObject_CallMethod(gc_mod, "collect", NULL);
    if (!r) abort();
    Py_DECREF(r);
}

static Py_ssize_t tracked(void)
{
    PyObject *l = PyObject_CallMethod(gc_mod, "get_objects", NULL);
    if (!l) abort();
    Py_ssize_t n = PyList_GET_SIZE(l);
    Py_DECREF(l);
    return n;
}

#define OBJ                PyObject *
#define LIST_NEW()         PyList_New(0)
#define APPEND_STEAL(l, o) append_steal((l), (o))
#define TUPLE2_LATE(a, b)  tuple2_late((a), (b))
#define INT(i)             PyLong_FromSize_t(1000 + (i))
#define STR(i)             str_of(i)
#define DICT1_STEAL(k, v)  dict1((k), (v))
#define DROP(o)            Py_DECREF(o)
#define COLLECT_FULL()     collect_full()
#define TRACKED()          tracked()
#include "untrack_work.h"

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 1000000;
    Py_Initialize();
    gc_mod = PyImport_ImportModule("gc");
    if (!gc_mod) return 1;
    PyGC_Disable();
    int rc = 0;
    if (argc > 2 && !strcmp(argv[1], "counts")) { /* "counts first|later [n]" */
        n = argc > 3 ? (size_t)strtoul(argv[3], NULL, 10) : 1000000;
        rc = untrack_counts(argv[2], n);
        Py_DECREF(gc_mod);
        Py_Finalize();
        return rc;
    }
    printf("D CPython %s\n", Py_GetVersion());
    fflush(stdout);
    untrack_run(n);
    Py_DECREF(gc_mod);
    Py_Finalize();
    return 0;
}
