/*
 * objects_cpython.c - the CPython 3.11 side of bench_objects, through the
 * C API, in a process of its own. Prints "D ..." and "R <name> <ns>" lines,
 * and "S <type> <getsizeof> <basicsize> <gc>" for the size table.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "harness.h"

static PyObject *chk(PyObject *o)
{
    if (!o) abort();
    return o;
}

static PyObject *tuple3(PyObject *a, PyObject *b, PyObject *c)
{
    PyObject *t = chk(PyTuple_New(3));
    PyTuple_SET_ITEM(t, 0, chk(a));
    PyTuple_SET_ITEM(t, 1, chk(b));
    PyTuple_SET_ITEM(t, 2, chk(c));
    return t;
}

static void append(PyObject *l, PyObject *v)
{
    if (PyList_Append(l, v)) abort();
    Py_DECREF(v);
}

static void setitem(PyObject *d, PyObject *k, PyObject *v)
{
    if (PyDict_SetItem(d, k, v)) abort();
    Py_DECREF(k);
    Py_DECREF(v);
}

#define OBJ              PyObject *
#define INT(v)           PyLong_FromLong(v)
#define FLOAT(v)         PyFloat_FromDouble(v)
#define STR(s)           PyUnicode_FromString(s)
#define TUPLE3(a, b, c)  tuple3((a), (b), (c))
#define LIST()           chk(PyList_New(0))
#define APPEND(l, v)     append((l), (v))
#define DICT()           chk(PyDict_New())
#define SETITEM(d, k, v) setitem((d), (k), (v))
#define DROP(o)          Py_DECREF(o)
#include "objects_work.h"

static void size_line(const char *name, PyObject *o)
{
    printf("S %s %zd %zd %d\n", name, (Py_ssize_t)_PySys_GetSizeOf(o), Py_TYPE(o)->tp_basicsize,
           PyObject_IS_GC(o));
    Py_DECREF(o);
}

int main(int argc, char **argv)
{
    Py_Initialize();
    if (argc > 1) return objects_one(argv[1]); /* one workload (make bench-counts) */
    printf("D CPython %s\n", Py_GetVersion());
    size_line("int", chk(PyLong_FromLong(1000)));
    size_line("float", chk(PyFloat_FromDouble(1.5)));
    size_line("str", chk(PyUnicode_FromString("k123")));
    size_line("tuple3",
              tuple3(PyLong_FromLong(1000), PyFloat_FromDouble(1.5), PyUnicode_FromString("k123")));
    size_line("list0", chk(PyList_New(0)));
    size_line("dict0", chk(PyDict_New()));
    PyObject *d = chk(PyDict_New());
    setitem(d, PyUnicode_FromString("k123"), PyLong_FromLong(1000));
    size_line("dict1", d);
    fflush(stdout);
    objects_run();
    Py_Finalize();
    return 0;
}
