"""bench_counts - instructions and cache misses per operation, next to ns.

    python3 bench/bench_counts.py BENCH_BIN_DIR [FILTER ...]

(`make bench-counts` builds the Release benchmarks and runs this.) The
machine is shared and noisy; callgrind's counts are not. For every entry of
the bench/counts*.list files whose label contains one of the FILTER words
(all entries without a filter), this runs the entry's command twice, from
BENCH_BIN_DIR:

  1. plainly, for the time: the first output line "R <label> <ns/op> ..."
     gives ns/op (a worker that prints no R line shows "-");
  2. with BENCH_COUNTS=1 under
        valgrind --tool=callgrind --cache-sim=yes --toggle-collect=<FUNCTION>
     where the command runs FUNCTION's workload once (plus, outside FUNCTION,
     whatever warm-up it wants) and prints "C <operations>".

and prints per operation: instructions (Ir), L1 misses (I1 + D1 read and
write misses) and last-level misses (ILmr + DLmr + DLmw) as callgrind's cache
simulation counts them, and the ratio of Ir to the first entry of the same
group (the label up to its last '/': by convention objmem's row comes first).

Adding a workload: a line in a bench/counts*.list file (a file of your own
area keeps merges apart, e.g. bench/counts_obj.list):

    <group>/<peer>   <FUNCTION>   <command relative to BENCH_BIN_DIR...>

and in the program: under BENCH_COUNTS=1, run the measured body once inside
a non-inlined FUNCTION (no tail call out of it) and print "C <ops>".
"""
import glob
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def entries():
    for path in sorted(glob.glob(os.path.join(HERE, "counts*.list"))):
        with open(path) as f:
            for line in f:
                line = line.split("#", 1)[0].split()
                if len(line) >= 3:
                    yield line[0], line[1], line[2:]


def first_line(text, tag):
    for line in text.splitlines():
        f = line.split()
        if f and f[0] == tag:
            return f[1:]
    return None


def timed(bindir, cmd):
    r = subprocess.run(cmd, cwd=bindir, capture_output=True, text=True)
    f = first_line(r.stdout, "R")
    try:
        return float(f[1]) if r.returncode == 0 and f else None
    except (ValueError, IndexError):
        return None


def counted(bindir, fn, cmd):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        env = dict(os.environ, BENCH_COUNTS="1")
        vg = ["valgrind", "--tool=callgrind", "--cache-sim=yes", "--collect-atstart=no",
              "--toggle-collect=" + fn, "--callgrind-out-file=" + out]
        r = subprocess.run(vg + cmd, cwd=bindir, capture_output=True, text=True, env=env)
        c = first_line(r.stdout, "C")
        if r.returncode != 0 or not c or not os.path.exists(out):
            sys.stderr.write(r.stderr[-2000:])
            return None
        events = totals = None
        with open(out) as f:
            for line in f:
                if line.startswith("events:"):
                    events = line.split()[1:]
                elif line.startswith("summary:") or line.startswith("totals:"):
                    totals = [int(x) for x in line.split()[1:]]
        if not events or not totals:
            return None
        ev = dict(zip(events, totals))
        ops = float(c[0])
        l1 = ev.get("I1mr", 0) + ev.get("D1mr", 0) + ev.get("D1mw", 0)
        ll = ev.get("ILmr", 0) + ev.get("DLmr", 0) + ev.get("DLmw", 0)
        return ev.get("Ir", 0) / ops, l1 / ops, ll / ops


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    bindir = sys.argv[1]
    filters = sys.argv[2:]
    print("== bench_counts: callgrind (--cache-sim=yes --toggle-collect) per operation")
    load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else "?"
    rev = subprocess.run(["git", "-C", HERE, "describe", "--always", "--dirty=-modified"],
                         capture_output=True, text=True).stdout.strip()
    print("commit:   %s   load: %s" % (rev or "? (not a git checkout)", " ".join(load)))
    print("Ir: instructions; L1: I1+D1 misses; LL: last-level misses (callgrind's simulated\n"
          "caches); ns: CPU time of one plain run (noisy); Ir/first: Ir over the group's first row\n")
    print("%-24s %9s %8s %8s %9s %9s" % ("workload/peer", "Ir/op", "L1/op", "LL/op", "ns/op",
                                          "Ir/first"))
    first = {}
    for label, fn, cmd in entries():
        if filters and not any(w in label for w in filters):
            continue
        if not os.access(os.path.join(bindir, cmd[0]), os.X_OK):
            print("%-24s skipped: %s not built" % (label, cmd[0]))
            continue
        cmd = ["./" + cmd[0]] + cmd[1:]
        ns = timed(bindir, cmd)
        c = counted(bindir, fn, cmd)
        if c is None:
            print("%-24s failed under callgrind" % label)
            continue
        group = label.rsplit("/", 1)[0]
        first.setdefault(group, c[0])
        print("%-24s %9.1f %8.2f %8.3f %9s %9.2f" % (
            label, c[0], c[1], c[2], "%.2f" % ns if ns is not None else "-", c[0] / first[group]))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
