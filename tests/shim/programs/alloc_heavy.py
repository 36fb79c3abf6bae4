# alloc_heavy.py - an allocation-heavy Python workload for make shim-test:
# dicts, lists, strings, tuples, sets, JSON and sorting, with a digest of
# the results printed (the same on any allocator). Size: argv[1] (rows).
import hashlib, json, sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
h = hashlib.sha256()
rows = [{"id": i, "name": "user%d" % i, "tags": [str(i % 7), str(i % 11)], "score": (i * 7919) % 1000 / 7}
        for i in range(n)]
text = json.dumps(rows)
h.update(text.encode())
back = json.loads(text)
assert back == rows
index = {}
for r in back:
    index.setdefault(r["tags"][0], []).append((r["score"], r["name"]))
for k in sorted(index):
    index[k].sort()
    h.update(repr(index[k][:50]).encode())
words = text.replace('"', " ").replace(",", " ").split()
freq = {}
for w in words:
    freq[w] = freq.get(w, 0) + 1
top = sorted(freq.items(), key=lambda kv: (-kv[1], kv[0]))[:30]
s = set()
for i in range(n):
    s.add((i * 31) % (n // 3 + 1))
    if i % 3 == 0:
        s.discard(i // 2)
chunks = [bytes(range(i % 256)) * (i % 5 + 1) for i in range(n // 4)]
h.update(b"".join(chunks))
print(len(text), len(words), len(s), top[:5])
print(h.hexdigest())
