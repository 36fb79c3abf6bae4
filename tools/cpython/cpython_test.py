"""Run CPython's own test modules twice, plainly and on objmem, and compare.

    python3.11 cpython_test.py --site BUILD/cpython-site [--jobs 2] test_gc ...

Each run is `python3.11 -m test -jN <modules>`; the objmem run has
PYTHONPATH=<site> (its sitecustomize installs objmem in every interpreter,
the regrtest workers and the subprocesses tests start included) and
OBJMEM_CPYTHON_REPORT, so every process appends its counters at exit, and
OBJMEM_CPYTHON_CHECK=1, so every process verifies the heap at exit.
Exit status 1 when a module that passes plainly does not pass on objmem,
when a process reports a failed heap check or a bad free, or when objmem
served nothing.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

# "[ 3/30/1] test_x failed (2 failures) -- running: ..." (3.11 regrtest, -jN)
LINE = re.compile(r"\[\s*\d+/\d+(?:/\d+)?\] (test_\w+)(?: (.*))?$")
OK = ("passed", "env changed", "skipped", "no tests")


def outcome(rest):
    rest = (rest or "").split(" -- ")[0].strip()
    if rest.startswith("passed"):
        return "passed"
    if "env changed" in rest:
        return "env changed"
    if rest.startswith("skipped") or "resource denied" in rest:
        return "skipped"
    if rest.startswith("run no tests"):
        return "no tests"
    if rest.startswith("crashed"):
        return "crashed"
    if rest.startswith("timed out") or "timeout" in rest:
        return "timed out"
    return "failed" if rest.startswith("failed") else (rest or "failed")


def run(label, python, modules, jobs, env, timeout):
    cmd = [python, "-m", "test", "-j%d" % jobs, "--timeout", str(timeout)] + modules
    results = {}
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="om-cpython-test-") as cwd:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, errors="replace")
        for line in proc.stdout:
            line = line.rstrip("\n")
            m = LINE.search(line)
            if m:
                results[m.group(1)] = outcome(m.group(2))
                print("[%s] %s" % (label, line[m.start():]), flush=True)
            elif line.startswith(("== Tests result", "Tests result")) or "Fatal Python" in line:
                print("[%s] %s" % (label, line), flush=True)
            elif results and not line.startswith(("0:", "   ")) and re.search(
                    r"Error|FAIL|Traceback|Segmentation|objmem", line):
                print("[%s]   %s" % (label, line), flush=True)
        proc.wait()
    secs = time.monotonic() - t0
    for m in modules:
        results.setdefault(m, "missing")
    print("[%s] %d modules in %.0f s (regrtest exit %d)" % (label, len(modules), secs,
                                                           proc.returncode), flush=True)
    return results, secs


def read_reports(path):
    procs, total, bad = 0, {}, []
    if not os.path.exists(path):
        return procs, total, bad
    with open(path) as f:
        for line in f:
            kv = dict(x.split("=", 1) for x in line.split())
            procs += 1
            for k, v in kv.items():
                if k not in ("pid", "check"):
                    total[k] = total.get(k, 0) + int(v)
            if kv.get("check") == "FAIL" or kv.get("bad_frees", "0") != "0":
                bad.append(line.strip())
    return procs, total, bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--site", required=True, help="the cpython-site directory")
    ap.add_argument("--python", default="/usr/bin/python3.11")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=900, help="per module, seconds")
    ap.add_argument("modules", nargs="+")
    a = ap.parse_args()
    site = os.path.abspath(a.site)
    if not os.path.exists(os.path.join(site, "sitecustomize.py")):
        sys.exit("cpython_test: %s has no sitecustomize.py (build objmem_cpython)" % site)

    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("OBJMEM_", "PYTHON"))}
    plain, t_plain = run("plain", a.python, a.modules, a.jobs, base, a.timeout)

    report = tempfile.NamedTemporaryFile(prefix="om-cpython-report-", delete=False).name
    env = dict(base, PYTHONPATH=site, OBJMEM_CPYTHON_REPORT=report, OBJMEM_CPYTHON_CHECK="1")
    for k in ("OBJMEM_CPYTHON_MEM", "OBJMEM_DEBUG"):
        if k in os.environ:
            env[k] = os.environ[k]
    om, t_om = run("objmem", a.python, a.modules, a.jobs, env, a.timeout)
    procs, total, bad = read_reports(report)
    os.unlink(report)

    print("\n%-22s %-12s %-12s" % ("module", "plain", "objmem"))
    regress = []
    for m in a.modules:
        mark = ""
        if plain[m] in OK and om[m] not in OK:
            regress.append(m)
            mark = "  <-- REGRESSION"
        elif plain[m] != om[m]:
            mark = "  (differs)"
        print("%-22s %-12s %-12s%s" % (m, plain[m], om[m], mark))
    print("\ntime: plain %.0f s, objmem %.0f s" % (t_plain, t_om))
    print("objmem counters, summed over %d interpreter processes (reported at exit):" % procs)
    for k in ("blocks_served", "bytes_served", "frees", "reallocs", "foreign_frees",
              "foreign_reallocs", "failures", "live_blocks", "bad_frees"):
        print("  %-17s %d" % (k, total.get(k, 0)))
    status = 0
    if regress:
        print("FAIL: pass plainly, not on objmem: " + " ".join(regress))
        status = 1
    if bad:
        print("FAIL: processes with a failed heap check or bad frees:\n  " + "\n  ".join(bad[:10]))
        status = 1
    if procs == 0 or total.get("blocks_served", 0) == 0:
        print("FAIL: no process reported objmem counters: objmem served nothing")
        status = 1
    if status == 0:
        print("cpython-test: OK (%d modules; every module that passes plainly passes on objmem)"
              % len(a.modules))
    return status


if __name__ == "__main__":
    sys.exit(main())
