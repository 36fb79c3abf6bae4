"""bench_cpython - Python workloads with pymalloc and on objmem, alternating.

    python3.11 bench/bench_cpython.py --site build/bench/cpython-site [--rounds 5]

Each workload runs in a fresh interpreter, once plainly (pymalloc) and once
with PYTHONPATH=<site> (objmem_cpython installed), alternating for --rounds
rounds; the best time of each side and the peak RSS (ru_maxrss of the child)
(both: the minimum over the rounds) are printed with the objmem/pymalloc ratios (< 1: objmem better).
Build the module in a Release build (OM_DEBUG_LEVEL=0) for numbers.
"""
import argparse
import math
import os
import subprocess
import sys

WORKLOADS = {
    "tuples": """
for _ in range(3):
    l = [(i, float(i), str(i)) for i in range(400000)]
    del l
""",
    "dict_churn": """
d = {}
for r in range(6):
    for i in range(200000):
        d[(r, i)] = [i]
    for i in range(0, 200000, 2):
        del d[(r, i)]
""",
    "json": """
import json
doc = {"k%d" % i: {"id": i, "tags": ["a", "b", str(i)], "v": i * 0.5, "s": "x" * (i % 50)}
       for i in range(60000)}
for _ in range(4):
    s = json.dumps(doc)
    doc = json.loads(s)
""",
    "class_tree": """
class Node:
    __slots__ = ("l", "r", "v")
    def __init__(self, l, r, v):
        self.l, self.r, self.v = l, r, v
def build(d):
    return Node(build(d - 1), build(d - 1), d) if d else None
for _ in range(8):
    t = build(16)
    del t
""",
    "strings": """
words = ["w%d" % (i % 5000) for i in range(200000)]
for _ in range(6):
    text = " ".join(words)
    parts = text.split(" ")
    up = [p.upper() + "_" + p[1:] for p in parts]
    s = ",".join(f"{p}:{len(p)}" for p in up)
    counts = {}
    for p in s.split(","):
        k = p[:3]
        counts[k] = counts.get(k, 0) + 1
    del text, parts, up, s, counts
""",
    "instance_dicts": """
class P:
    def __init__(self, i):
        self.x = i
        self.y = i * 2
        self.name = str(i)
d = {}
for r in range(12):
    for i in range(100000):
        d[i] = P(i + r)
    for i in range(r % 3, 100000, 3):
        del d[i]
""",
    "cyclic_garbage": """
import gc
class A:
    def __init__(self):
        self.other = None
for _ in range(300000):
    a, b = A(), A()
    a.other, b.other = b, a
gc.collect()
""",
}

DRIVER = """
import time, sys
src = sys.stdin.read()
t0 = time.perf_counter()
exec(compile(src, "<workload>", "exec"), {"__name__": "__bench__"})
print(time.perf_counter() - t0)
"""


def measure(python, src, env):
    proc = subprocess.Popen([python, "-c", "import sys; exec(sys.argv[1])", DRIVER],
                            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    proc.stdin.write(src)
    proc.stdin.close()
    out = proc.stdout.read()
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit("bench_cpython: workload failed (exit %d)" % proc.returncode)
    return float(out.strip().splitlines()[-1]), ru.ru_maxrss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--site", required=True)
    ap.add_argument("--python", default="/usr/bin/python3.11")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("workloads", nargs="*", default=list(WORKLOADS))
    a = ap.parse_args()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "OBJMEM_"))}
    sides = {"pymalloc": base, "objmem": dict(base, PYTHONPATH=os.path.abspath(a.site))}
    ratios = []
    print("%-15s %10s %10s %7s %10s %10s %7s" % ("workload", "pymalloc s", "objmem s", "time",
                                                 "pym RSS MB", "om RSS MB", "RSS"))
    for name in a.workloads:
        best = {s: (float("inf"), float("inf")) for s in sides}
        for _ in range(a.rounds):
            for s, env in sides.items():
                t, rss = measure(a.python, WORKLOADS[name], env)
                best[s] = (min(best[s][0], t), min(best[s][1], rss))
        (tp, rp), (to, ro) = best["pymalloc"], best["objmem"]
        ratios.append((to / tp, ro / rp))
        print("%-15s %10.3f %10.3f %7.2f %10.1f %10.1f %7.2f" % (
            name, tp, to, to / tp, rp / 1024, ro / 1024, ro / rp), flush=True)
    if not ratios:
        return
    geo = math.exp(sum(math.log(t) for t, _ in ratios) / len(ratios))
    worst_t = max(t for t, _ in ratios)
    worst_r = max(r for _, r in ratios)
    print("\ntargets (objmem / pymalloc):")
    print("  every workload <= 1.00x time: %s (worst %.2fx)" % (
        "met" if worst_t <= 1.0 else "NOT met", worst_t))
    print("  geometric mean <= 0.95x time: %s (%.2fx)" % ("met" if geo <= 0.95 else "NOT met", geo))
    print("  peak RSS <= pymalloc + 5%%: %s (worst %.2fx)" % (
        "met" if worst_r <= 1.05 else "NOT met", worst_r))


if __name__ == "__main__":
    main()
