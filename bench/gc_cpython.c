/*
 * gc_cpython.c - the CPython 3.11 side of bench_gc, through the C API, in a
 * process of its own, running gc_work.h on the same shapes as objmem's side:
 * lists a = [b, None], b = [a] built by PyList_Append, and nodes of a C
 * extension type with two object slots (tp_traverse, tp_clear), as objmem's
 * 32-byte node. Roots are held in a list. Collections go through the gc
 * module's collect (PyGC_Collect does nothing while automatic collection
 * is off). Prints "D ..." (version), "H ..." (header sizes) and
 * "R <name> <value>" lines; "gc_cpython big": also the 10M pauses;
 * "gc_cpython <workload> <shape>": one workload (make bench-counts).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "harness.h"

static PyObject *gc_mod;

/* The node: two slots, as bench_gc.c's om_type. */
typedef struct {
    PyObject_HEAD PyObject *slot[2];
} node;

static int node_traverse(PyObject *o, visitproc visit, void *arg)
{
    Py_VISIT(((node *)o)->slot[0]);
    Py_VISIT(((node *)o)->slot[1]);
    return 0;
}

static int node_clear(PyObject *o)
{
    Py_CLEAR(((node *)o)->slot[0]);
    Py_CLEAR(((node *)o)->slot[1]);
    return 0;
}

static void node_dealloc(PyObject *o)
{
    PyObject_GC_UnTrack(o);
    node_clear(o);
    PyObject_GC_Del(o);
}

static PyTypeObject node_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "bench.node",
    .tp_basicsize = sizeof(node),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = node_traverse,
    .tp_clear = node_clear,
    .tp_dealloc = node_dealloc,
};

static node *node_new(void)
{
    node *n = PyObject_GC_New(node, &node_type);
    if (!n) return NULL;
    n->slot[0] = n->slot[1] = NULL;
    PyObject_GC_Track(n);
    return n;
}

static PyObject *gc_node_pair(void)
{
    node *a = node_new();
    if (!a) return NULL;
    node *b = node_new();
    if (!b) {
        Py_DECREF(a);
        return NULL;
    }
    a->slot[0] = (PyObject *)b; /* takes b's reference */
    Py_INCREF(a);
    b->slot[0] = (PyObject *)a;
    return (PyObject *)a;
}

/* a = [b, None], b = [a], by append as a program builds them. */
static PyObject *gc_list_pair(void)
{
    PyObject *a = PyList_New(0), *b = PyList_New(0);
    if (!a || !b || PyList_Append(b, a) < 0 || PyList_Append(a, b) < 0 ||
        PyList_Append(a, Py_None) < 0)
        abort();
    Py_DECREF(b);
    return a;
}

static void roots_push(PyObject *r, PyObject *o)
{
    if (PyList_Append(r, o) < 0) abort();
    Py_DECREF(o);
}

static void collect(int gen)
{
    PyObject *r = PyObject_CallMethod(gc_mod, "collect", "i", gen);
    if (!r) abort();
    Py_DECREF(r);
}

#define OBJ              PyObject *
#define ROOTS_NEW()      PyList_New(0)
#define ROOTS_PUSH(r, o) roots_push((r), (o))
#define DROP(o)          Py_DECREF(o)
#define COLLECT(gen)     collect(gen)
#define GC_AUTO(on)      ((on) ? PyGC_Enable() : PyGC_Disable())
#include "gc_work.h"

int main(int argc, char **argv)
{
    Py_Initialize();
    gc_mod = PyImport_ImportModule("gc");
    if (!gc_mod || PyType_Ready(&node_type) < 0) return 1;
    int rc = 0;
    if (argc > 1 && strcmp(argv[1], "big")) {
        rc = gc_one(argv[1], argc > 2 ? argv[2] : "lists");
    } else {
        printf("D CPython %s\n", Py_GetVersion());
        /* PyGC_Head is internal in 3.11 (two words); its size is what
         * sys.getsizeof adds to a GC type's basic size. */
        PyObject *l = PyList_New(0);
        Py_ssize_t gsz = l ? (Py_ssize_t)_PySys_GetSizeOf(l) : -1;
        Py_XDECREF(l);
        printf("H %zd %zu\n", gsz - PyList_Type.tp_basicsize, sizeof(PyObject));
        fflush(stdout);
        gc_run_all(argc > 1);
    }
    Py_DECREF(gc_mod);
    Py_Finalize();
    return rc;
}
