#!/usr/bin/env python3
"""cg_asm.py - a function's instructions with their callgrind costs.

    valgrind --tool=callgrind --dump-instr=yes --toggle-collect=BODY \\
        --callgrind-out-file=OUT ./bench ...
    python3 bench/cg_asm.py OUT BINARY FUNCTION [--per N] [--events Ir,D1mr,...]

Prints gdb's disassembly of FUNCTION (in BINARY, which needs symbols, not
debug information), each instruction with its Ir from OUT, divided by N
(operations per run, so that costs read per operation). objmem's code lives
in the section objmem_text, where callgrind_annotate finds no source lines:
this is how its fast paths are read instruction by instruction
(bench/RESULTS.md quotes them). Names with callgrind's recursion suffix
("'2") are matched too.
"""
import re
import subprocess
import sys
from collections import defaultdict


def costs(path, func, event="Ir"):
    """event's cost by instruction address inside func (all recursion levels)."""
    out = defaultdict(int)
    col = 0
    names = {}
    cur = None
    skip = False
    last_addr = 0
    npos = 1
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("events:"):
            col = line.split()[1:].index(event)
            continue
        if line.startswith("positions:"):
            npos = len(line.split()) - 1  # instr [line]: the cost follows them
            continue
        m = re.match(r"^fn=\((\d+)\)(?: (.*))?$", line)
        if m:
            if m.group(2):
                names[m.group(1)] = m.group(2)
            name = names.get(m.group(1), "")
            cur = re.sub(r"'\d+$", "", name) == func
            continue
        m = re.match(r"^c?fn=\((\d+)\)(?: (.*))?$", line)
        if m:
            if m.group(2):
                names[m.group(1)] = m.group(2)
            continue
        if line.startswith("calls="):
            skip = True  # the next cost line is the call's inclusive cost
            continue
        if not cur or not line or not (line[0] in "0123456789+-*"):
            if skip and line and line[0] in "0123456789+-*":
                skip = False
            continue
        parts = line.split()
        a = parts[0]
        if a.startswith("0x"):
            addr = int(a, 16)
        elif a.startswith("+"):
            addr = last_addr + int(a[1:], 16 if a[1:].startswith("0x") else 10)
        elif a.startswith("-"):
            addr = last_addr - int(a[1:], 16 if a[1:].startswith("0x") else 10)
        elif a == "*":
            addr = last_addr
        else:
            addr = int(a)
        last_addr = addr
        if skip:
            skip = False
            continue
        if len(parts) > npos + col:
            out[addr] += int(parts[npos + col])
    return out


def disassemble(binary, func):
    cmd = ["gdb", "-batch", "-ex", f"disassemble '{func}'", binary]
    text = subprocess.run(cmd, capture_output=True, text=True).stdout
    rows = []
    for line in text.splitlines():
        m = re.match(r"^\s*(?:=>)?\s*0x([0-9a-f]+) <\+(\d+)>:\s*(.*)$", line)
        if m:
            rows.append((int(m.group(1), 16), int(m.group(2)), m.group(3)))
    return rows


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    out, binary, func = sys.argv[1:4]
    per = 1
    if "--per" in sys.argv:
        per = float(sys.argv[sys.argv.index("--per") + 1])
    events = ["Ir"]
    if "--events" in sys.argv:
        events = sys.argv[sys.argv.index("--events") + 1].split(",")
    cs = [costs(out, func, e) for e in events]
    c = cs[0]
    rows = disassemble(binary, func)
    if not rows or not c:
        sys.exit(f"cg_asm: no instructions or no costs for {func}")
    # callgrind's addresses are the loaded ones, gdb's the file's: the shift
    # that puts the most cost addresses on instruction starts
    starts = {r[0] for r in rows}
    best, best_hits = 0, -1
    for r in rows[:64]:
        shift = min(c) - r[0]
        hits = sum(1 for a in c if (a - shift) in starts)
        if hits > best_hits:
            best, best_hits = shift, hits
    totals = [0.0] * len(events)
    for addr, rel, ins in rows:
        vals = [e.get(addr + best, 0) / per for e in cs]
        totals = [t + v for t, v in zip(totals, vals)]
        print("".join(f"{v:10.2f}" for v in vals) + f"  <+{rel:<4}> {ins}")
    print("".join(f"{t:10.2f}" for t in totals) + f"  total {','.join(events)} per op ({func})")


if __name__ == "__main__":
    main()
