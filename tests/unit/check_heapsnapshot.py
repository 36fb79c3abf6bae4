#!/usr/bin/env python3
"""check_heapsnapshot.py FILE NODES [CLASS=COUNT ...] - the schema check of a
Chrome DevTools .heapsnapshot against its own meta section (test_pictures.c):
field counts, every type / string / node index in range, edge counts that add
up, node 0 a synthetic root whose edges reach every root, ids unique. NODES is
the expected node count (objects + 1); CLASS=COUNT the expected number of
nodes of a class name. Exit 0 when all holds, else 1 with the reason."""
import json
import sys


def fail(msg):
    print("heapsnapshot: " + msg)
    sys.exit(1)


def main():
    path, want_nodes = sys.argv[1], int(sys.argv[2])
    with open(path, encoding="utf-8") as f:
        snap = json.load(f)
    meta = snap["snapshot"]["meta"]
    nf, ef = meta["node_fields"], meta["edge_fields"]
    for k in ("type", "name", "id", "self_size", "edge_count"):
        if k not in nf:
            fail("node field %s missing" % k)
    for k in ("type", "name_or_index", "to_node"):
        if k not in ef:
            fail("edge field %s missing" % k)
    node_types, edge_types = meta["node_types"][0], meta["edge_types"][0]
    nodes, edges, strings = snap["nodes"], snap["edges"], snap["strings"]
    n, e = snap["snapshot"]["node_count"], snap["snapshot"]["edge_count"]
    if len(nodes) != n * len(nf):
        fail("nodes: %d numbers for %d nodes" % (len(nodes), n))
    if len(edges) != e * len(ef):
        fail("edges: %d numbers for %d edges" % (len(edges), e))
    if n != want_nodes:
        fail("node_count %d, expected %d" % (n, want_nodes))
    T, N, I, S, C = (nf.index(k) for k in ("type", "name", "id", "self_size", "edge_count"))
    ET, EN, ETO = (ef.index(k) for k in ("type", "name_or_index", "to_node"))
    ids, classes, total_edges = set(), {}, 0
    for i in range(n):
        row = nodes[i * len(nf):(i + 1) * len(nf)]
        if not 0 <= row[T] < len(node_types):
            fail("node %d: type %d" % (i, row[T]))
        if not 0 <= row[N] < len(strings):
            fail("node %d: name %d" % (i, row[N]))
        if row[I] in ids:
            fail("node %d: id %d twice" % (i, row[I]))
        ids.add(row[I])
        if row[S] < 0 or row[C] < 0:
            fail("node %d: negative size or edge count" % i)
        total_edges += row[C]
        classes[strings[row[N]]] = classes.get(strings[row[N]], 0) + 1
    if node_types[nodes[T]] != "synthetic":
        fail("node 0 is not the synthetic root")
    if total_edges != e:
        fail("edge counts add up to %d, edge_count %d" % (total_edges, e))
    for k in range(e):
        row = edges[k * len(ef):(k + 1) * len(ef)]
        if not 0 <= row[ET] < len(edge_types):
            fail("edge %d: type %d" % (k, row[ET]))
        if row[ETO] % len(nf) or not 0 <= row[ETO] < len(nodes):
            fail("edge %d: to_node %d" % (k, row[ETO]))
        kind = edge_types[row[ET]]
        if kind in ("property", "internal", "context", "shortcut") and not 0 <= row[EN] < len(strings):
            fail("edge %d: name %d" % (k, row[EN]))
    for arg in sys.argv[3:]:
        name, count = arg.rsplit("=", 1)
        if classes.get(name, 0) != int(count):
            fail("class %s: %d nodes, expected %s" % (name, classes.get(name, 0), count))
    print("heapsnapshot: ok, %d nodes, %d edges, %d strings" % (n, e, len(strings)))


main()
