/*
 * rc_cpython.c - the CPython 3.11 side of bench_rc, through the C API, in
 * a process of its own. Prints "R <shape> <ns>" lines for the driver.
 *   pair      Py_INCREF + Py_DECREF on 1024 float objects
 *   new16     PyObject_New + Py_DECREF of a minimal C type (16-byte PyObject)
 *   float     PyFloat_FromDouble + Py_DECREF (24 bytes, with its free list)
 *   gc        PyObject_GC_New + Track, Py_DECREF (UnTrack + GC_Del) of a
 *             minimal GC type with one pointer field (24 bytes + 16 of GC head)
 *   object    object() called through PyObject_CallNoArgs
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "harness.h"

typedef struct {
    PyObject_HEAD
} MinObject;

static void min_dealloc(PyObject *o)
{
    PyObject_Free(o);
}

static PyTypeObject MinType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "bench.Min",
    .tp_basicsize = sizeof(MinObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_dealloc = min_dealloc,
};

typedef struct {
    PyObject_HEAD PyObject *ref;
} GcObject;

static int gc_traverse(PyObject *o, visitproc visit, void *arg)
{
    Py_VISIT(((GcObject *)o)->ref);
    return 0;
}

static void gc_dealloc(PyObject *o)
{
    PyObject_GC_UnTrack(o);
    Py_CLEAR(((GcObject *)o)->ref);
    PyObject_GC_Del(o);
}

static PyTypeObject GcType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "bench.Gc",
    .tp_basicsize = sizeof(GcObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_dealloc = gc_dealloc,
    .tp_traverse = gc_traverse,
};

enum { K_NEW16, K_FLOAT, K_GC, K_OBJECT };

static PyObject *create(int kind)
{
    switch (kind) {
    case K_NEW16:
        return (PyObject *)PyObject_New(MinObject, &MinType);
    case K_FLOAT:
        return PyFloat_FromDouble(1.5);
    case K_GC: {
        GcObject *g = PyObject_GC_New(GcObject, &GcType);
        g->ref = NULL;
        PyObject_GC_Track((PyObject *)g);
        return (PyObject *)g;
    }
    default:
        return PyObject_CallNoArgs((PyObject *)&PyBaseObject_Type);
    }
}

#define OBJ        PyObject *
#define INC(o)     Py_INCREF(o)
#define DEC(o)     Py_DECREF(o)
#define CREATE(k)  create(k)
#define DESTROY(o) Py_DECREF(o)
#include "rc_work.h"

int main(int argc, char **argv)
{
    Py_Initialize();
    if (PyType_Ready(&MinType) < 0 || PyType_Ready(&GcType) < 0) return 1;
    if (argc > 1) return rc_one(argv[1]); /* one workload (make bench-counts) */
    printf("D CPython %s\n", Py_GetVersion());

    static PyObject *objs[RC_OBJS];
    for (int i = 0; i < RC_OBJS; i++) objs[i] = PyFloat_FromDouble(i + 0.5);
    printf("R pair %.3f\n", bh_measure_best(rc_pairs, objs, 1, 7, RC_PAIRS));
    for (int i = 0; i < RC_OBJS; i++) Py_DECREF(objs[i]);

    static cd_ctx c;
    const char *names[] = {"new16", "float", "gc", "object"};
    for (int k = K_NEW16; k <= K_OBJECT; k++) {
        c.kind = k;
        printf("R %s %.3f\n", names[k], bh_measure_best(create_destroy, &c, 1, 7, CD_OBJECTS));
        fflush(stdout);
    }
    Py_Finalize();
    return 0;
}
