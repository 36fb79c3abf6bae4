"""Start-up hook of the objmem cpython-site directory.

`PYTHONPATH=<this dir> python3.11 prog.py` imports this file at start-up
(site imports `sitecustomize` from sys.path; .pth files are only read in
site-packages directories). It installs objmem as CPython's object
allocator, then runs the sitecustomize this file shadows (Debian's, in
/usr/lib/python3.11), if any.
"""
import os
import sys

import objmem_cpython  # noqa: F401  (installs the allocator on import)


def _chain_slow(rest):
    # a shadowed sitecustomize that is no plain source file (a package,
    # bytecode only, an extension): the import system finds and runs it
    import importlib.machinery
    import importlib.util
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)


def _chain():
    # The first sitecustomize after this one on sys.path, run as the import
    # system would. A plain .py (Debian's is) is compiled and run here:
    # importing importlib.util to do it cost 2-3 ms of every start-up
    # (bench/RESULTS.md, "The plug-in's start-up").
    import _imp
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    others = ["sitecustomize", "sitecustomize.pyc"]
    others += ["sitecustomize" + x for x in _imp.extension_suffixes()]
    for d in rest:
        f = os.path.join(d or os.curdir, "sitecustomize.py")
        if os.path.isfile(f):
            with open(f, "rb") as src:
                code = compile(src.read(), f, "exec")
            exec(code, {"__name__": "sitecustomize", "__file__": f, "__builtins__": __builtins__})
            return
        if any(os.path.exists(os.path.join(d or os.curdir, o)) for o in others):
            _chain_slow(rest)
            return


_chain()
del _chain
