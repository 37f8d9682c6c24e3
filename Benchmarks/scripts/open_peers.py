#!/usr/bin/env python3
"""Open time and first-query latency of saved peer indexes (hnswlib load_index, USearch restore and
view), on the same base vectors, for comparison with `engram bench --index-file`.

    python3 Benchmarks/scripts/open_peers.py --base B.fvecs --queries Q.fvecs [--m 16] [--ef-construction 200]

Prints one JSON line per peer and mode: open_seconds, first_query_ms, warm_query_ms (the same query
repeated) and warm_mean_query_ms (one pass over all queries, one call each). Build and save happen first; the page cache is warm (as it is for `engram bench --index-file` right after `build`).
"""
import argparse, json, os, tempfile, time
import numpy as np


def read_fvecs(path):
    raw = np.fromfile(path, dtype=np.int32)
    d = raw[0]
    return raw.reshape(-1, d + 1)[:, 1:].copy().view(np.float32)


def timed(f):
    t = time.perf_counter()
    r = f()
    return r, time.perf_counter() - t


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--m", type=int, default=16)
    p.add_argument("--ef-construction", type=int, default=200)
    p.add_argument("--ef", type=int, default=64)
    a = p.parse_args()
    base = read_fvecs(a.base)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    queries = read_fvecs(a.queries)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    q = queries[:1]
    n, dim = base.shape
    tmp = tempfile.mkdtemp()

    import hnswlib
    h = hnswlib.Index(space="ip", dim=dim)
    h.init_index(max_elements=n, ef_construction=a.ef_construction, M=a.m)
    h.set_num_threads(os.cpu_count())
    h.add_items(base)
    path = os.path.join(tmp, "h.bin")
    h.save_index(path)
    del h
    def load():
        i = hnswlib.Index(space="ip", dim=dim)
        i.load_index(path, max_elements=n)
        i.set_ef(a.ef)
        i.set_num_threads(1)
        return i
    i, open_s = timed(load)
    _, first = timed(lambda: i.knn_query(q, k=10))
    _, warm = timed(lambda: i.knn_query(q, k=10))
    _, everything = timed(lambda: [i.knn_query(row, k=10) for row in queries])
    print(json.dumps({"peer": "hnswlib", "mode": "load_index", "n": n, "open_seconds": open_s,
                      "first_query_ms": first * 1e3, "warm_query_ms": warm * 1e3,
                      "warm_mean_query_ms": everything * 1e3 / len(queries)}))

    from usearch.index import Index
    u = Index(ndim=dim, metric="ip", dtype="f32", connectivity=a.m, expansion_add=a.ef_construction)
    u.add(np.arange(n), base, threads=os.cpu_count())
    upath = os.path.join(tmp, "u.usearch")
    u.save(upath)
    del u
    for mode in ["restore", "view"]:
        i, open_s = timed(lambda: Index.restore(upath, view=(mode == "view")))
        i.expansion_search = a.ef
        _, first = timed(lambda: i.search(q[0], 10, threads=1))
        _, warm = timed(lambda: i.search(q[0], 10, threads=1))
        _, everything = timed(lambda: [i.search(row, 10, threads=1) for row in queries])
        print(json.dumps({"peer": "usearch", "mode": mode, "n": n, "open_seconds": open_s,
                          "first_query_ms": first * 1e3, "warm_query_ms": warm * 1e3,
                          "warm_mean_query_ms": everything * 1e3 / len(queries)}))


if __name__ == "__main__":
    main()
