"""bench_trace's CPython side: [(i, i*0.5, "k%d" % i) for i in range(n)]
built and dropped with tracemalloc off, start(1) and start(10).
Prints "D version" and "R name value" lines (ns per element, allocations,
tracer bytes per trace)."""
import sys
import time
import tracemalloc

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000


def build(n):
    return [(i, i * 0.5, "k%d" % i) for i in range(n)]


def measure(reps=5):
    build(n)  # warm-up
    t = []
    for _ in range(reps):
        t0 = time.process_time_ns()
        x = build(n)
        del x
        t.append((time.process_time_ns() - t0) / n)
    t.sort()
    return t[len(t) // 2]


print("D CPython", sys.version.split()[0])
b0 = sys.getallocatedblocks()
x = build(n)
allocs = sys.getallocatedblocks() - b0
del x
print("R allocs", allocs)
print("R off %.2f" % measure())
for nf in (1, 10):
    tracemalloc.start(nf)
    print("R nframe%d %.2f" % (nf, measure()))
    b0 = sys.getallocatedblocks()
    x = build(n)
    live = sys.getallocatedblocks()
    print("R mem%d %.2f" % (nf, tracemalloc.get_tracemalloc_memory() / live))
    del x
    tracemalloc.stop()
    sys.stdout.flush()
