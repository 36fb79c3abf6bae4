#!/usr/bin/env python3
"""leak_guide.py - docs/leak-hunting.md's outputs come from here, so the
guide cannot go stale. Builds examples/leak_hunt.c the usual Release way
(-O3 -DNDEBUG: no -g, gcc's default of no frame pointers) against the
static library of BUILD, and once more with -g, runs every command marked
<!-- run: CMD --> in the guide (in a scratch directory, objmem on PATH, the
output of stderr too) and puts its output in the fenced block that
follows the marker. Addresses (0x7f...) are shown as 0x7f..., the only
normalisation.

  leak_guide.py BUILD --check   fail (exit 1, with a diff) if the guide differs
  leak_guide.py BUILD --write   rewrite docs/leak-hunting.md (make leak-guide),
                                and docs/leak-report.png when chromium is there
"""
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GUIDE = os.path.join(SRC, "docs", "leak-hunting.md")
MARK = re.compile(r"<!-- run: (.*?) -->\n```[a-z]*\n.*?```\n", re.S)


def libs(build):
    cache = open(os.path.join(build, "CMakeCache.txt")).read()
    out = []
    if re.search(r"^LIBDW_LIBRARY:FILEPATH=/", cache, re.M):
        out.append("-ldw")
    if re.search(r"^OM_LIBUNWIND_LIB:FILEPATH=/", cache, re.M):
        out.append("-lunwind")
    return out + ["-lm", "-ldl", "-lpthread"]


def compile_example(build, work):
    cc = os.environ.get("CC", "cc")
    common = ["-std=c11", "-I", os.path.join(SRC, "include"),
              os.path.join(SRC, "examples", "leak_hunt.c"),
              os.path.join(build, "libobjmem.a")] + libs(build)
    # what CMAKE_BUILD_TYPE=Release gives: -O3 -DNDEBUG, nothing else
    subprocess.run([cc, "-O3", "-DNDEBUG"] + common + ["-o", os.path.join(work, "leak_hunt")],
                   check=True)
    subprocess.run([cc, "-O2", "-g"] + common + ["-o", os.path.join(work, "leak_hunt_g")],
                   check=True)
    os.makedirs(os.path.join(work, "lh"))
    os.makedirs(os.path.join(work, "lhg"))
    bindir = os.path.join(work, "bin")
    os.makedirs(bindir)
    os.symlink(os.path.join(os.path.abspath(build), "objmem"), os.path.join(bindir, "objmem"))
    return bindir


def run(cmd, work, bindir):
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    env.pop("OBJMEM_LEAKS", None)
    env.pop("OBJMEM_DEBUG", None)
    p = subprocess.run(["sh", "-c", cmd], cwd=work, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    out = re.sub(r"0x7[0-9a-f]{7,}", "0x7f...", p.stdout)  # mmap addresses: 0x7e.. too
    out = out.replace(SRC + "/", "")
    return "$ %s\n%s" % (cmd, out)


def generate(build, work):
    bindir = compile_example(build, work)
    text = open(GUIDE).read()

    def fill(m):
        return "<!-- run: %s -->\n```\n%s```\n" % (m.group(1), run(m.group(1), work, bindir))
    return MARK.sub(fill, text)


def screenshot(work):
    chrome = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chrome or not os.path.exists(os.path.join(work, "report.html")):
        print("leak_guide: no chromium or no report.html: docs/leak-report.png not made")
        return
    subprocess.run([chrome, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--no-first-run", "--user-data-dir=" + os.path.join(work, "profile"),
                    "--virtual-time-budget=5000", "--window-size=1200,1250",
                    "--screenshot=" + os.path.join(SRC, "docs", "leak-report.png"),
                    "file://" + os.path.join(work, "report.html")],
                   stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL, timeout=120)
    print("leak_guide: wrote docs/leak-report.png")


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("--check", "--write"):
        print(__doc__)
        return 2
    build = sys.argv[1]
    work = tempfile.mkdtemp(prefix="om-guide.")
    try:
        new = generate(build, work)
        old = open(GUIDE).read()
        if sys.argv[2] == "--write":
            open(GUIDE, "w").write(new)
            screenshot(work)
            print("leak_guide: wrote docs/leak-hunting.md")
            return 0
        if new != old:
            sys.stdout.writelines(difflib.unified_diff(
                old.splitlines(True), new.splitlines(True), "docs/leak-hunting.md", "generated"))
            print("leak_guide: docs/leak-hunting.md is stale: run `make leak-guide`")
            return 1
        print("leak_guide: docs/leak-hunting.md matches its commands' outputs")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
