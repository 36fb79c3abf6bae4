"""Smoke test of objmem_cpython, run by ctest with PYTHONPATH=<cpython-site>.

Checks that sitecustomize installed objmem at start-up, that new objects
live in objmem blocks, that the edge cases of the allocator API behave, and
that the heap's invariants hold after some churn, a fork, and collections.
"""
import gc
import json
import os
import sys

import objmem_cpython as om

assert "objmem_cpython" in sys.modules
assert om.installed(), "objmem is not installed: " + om.skip_reason
before = om.counters()
assert before["blocks_served"] > 0, before
assert before["bad_frees"] == 0, before

# new objects are objmem blocks (object() has no free list, no GC header)
objs = [object() for _ in range(1000)]
assert sum(om.owns(o) for o in objs) == len(objs)


class Node:
    def __init__(self, nxt):
        self.nxt = nxt
        self.payload = [nxt, (1, 2.5, "x" * 40)]


# GC objects (PyGC_Head before the object) and managed-dict instances
assert om.owns(Node(None)), "class instance not in objmem"
assert om.owns([1, 2, 3] + [4]), "list not in objmem"

# churn: growing containers (realloc), big blocks (> 512 bytes), cycles
d = {}
for i in range(20000):
    d[str(i)] = (i, float(i), [i] * (i % 7))
s = json.dumps(d)
assert json.loads(s) == json.loads(s)
big = bytearray(1 << 20)
big += b"x" * 1000
del d, s, big
for _ in range(200):
    a = Node(None)
    b = Node(a)
    a.nxt = b
del a, b
gc.collect()

# realloc to 0 / tiny, calloc-ed memory (bytes objects use calloc via b"\0"*n)
lst = list(range(1000))
del lst[1:]
assert lst == [0]
z = bytes(3000)
assert z.count(0) == 3000

# CPython's own allocator-API checks (malloc(0), calloc(0, 0), realloc(NULL,
# 0) in both domains; hooks wrapping the installed allocator and removed)
try:
    import _testcapi
except ImportError:
    _testcapi = None
if _testcapi is not None:
    _testcapi.test_pymem_alloc0()
    _testcapi.test_pymem_setallocators()
    _testcapi.test_pyobject_setallocators()

# fork: the child works on its copy of the heap
pid = os.fork()
if pid == 0:
    x = [Node(None) for _ in range(1000)]
    del x
    os._exit(0 if om.check() else 3)
_, status = os.waitpid(pid, 0)
assert os.WEXITSTATUS(status) == 0, status

after = om.counters()
assert after["blocks_served"] > before["blocks_served"] + 10000, after
assert after["frees"] > 10000, after
assert after["reallocs"] > 0, after
assert after["bad_frees"] == 0, after
assert om.check(), "heap check failed"

# the sitecustomize this site's shadows still runs: a directory after the
# site on PYTHONPATH, with a sitecustomize.py (and a package form)
import subprocess  # noqa: E402
import tempfile  # noqa: E402

site = os.path.dirname(om.__file__)
with tempfile.TemporaryDirectory() as tmp:
    for form in ("sitecustomize.py", os.path.join("sitecustomize", "__init__.py")):
        d = os.path.join(tmp, form.split(os.sep)[0] + "_dir")
        os.makedirs(os.path.dirname(os.path.join(d, form)), exist_ok=True)
        with open(os.path.join(d, form), "w") as f:
            f.write("import builtins\nbuiltins.OBJMEM_CHAINED = __name__\n")
        env = dict(os.environ, PYTHONPATH=site + os.pathsep + d)
        out = subprocess.run([sys.executable, "-c",
                              "import builtins, objmem_cpython as om; "
                              "print(getattr(builtins, 'OBJMEM_CHAINED', None), om.installed())"],
                             env=env, capture_output=True, text=True, check=True).stdout.split()
        assert out == ["sitecustomize", "True"], (form, out)
print("objmem_cpython smoke: ok", after)
