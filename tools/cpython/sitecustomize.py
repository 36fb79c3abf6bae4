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


def _chain():
    import importlib.machinery
    import importlib.util
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)


_chain()
del _chain
