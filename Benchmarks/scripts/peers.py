#!/usr/bin/env python3
"""Run the peer libraries (FAISS, hnswlib, USearch) on the same files as `engram bench` and print the
same JSON lines (index, metric, n, dim, k, ef, threads, batch, build_seconds, recall, qps).

    pip install faiss-cpu hnswlib usearch numpy
    python3 Benchmarks/scripts/peers.py --base B.fvecs --queries Q.fvecs --groundtruth G.ivecs \
        --peer faiss-flat|faiss-hnsw|faiss-hnswsq|hnswlib|usearch [--dtype f32|bf16|i8] [--ef 16,32,64] [--batch] [--threads N]

faiss-hnswsq is FAISS's HNSW over 8-bit scalar-quantized vectors (IndexHNSWSQ, QT_8bit); --dtype
chooses USearch's stored scalar type.

Single-query mode calls the library once per query from Python, as ann-benchmarks does; --batch
passes all queries in one call (the library's own loop, no Python per query) on --query-threads
threads (default 1). --threads sets the build threads. FAISS's bundled OpenBLAS
may not recognize the CPU: run with OPENBLAS_CORETYPE set (see README) and check `blas_core` in the output.
"""
import argparse, json, os, sys, time
import numpy as np


def read_vecs(path, dtype):
    raw = np.fromfile(path, dtype=np.int32)
    d = raw[0]
    rows = raw.reshape(-1, d + 1)
    assert (rows[:, 0] == d).all(), f"{path}: inconsistent dimensions"
    return rows[:, 1:].copy().view(dtype)


def recall(found, truth, k):
    return float(np.mean([len(set(f[:k]) & set(t[:k])) / k for f, t in zip(found, truth)]))


def timed_queries(search, queries, batch, runs):
    best = float("inf")
    found = None
    for r in range(runs + 1):  # one untimed warm-up pass
        t = time.perf_counter()
        if batch:
            found = search(queries)
        else:
            found = [search(q[None, :])[0] for q in queries]
        if r > 0:
            best = min(best, time.perf_counter() - t)
    return np.asarray(found), len(queries) / best


def blas_core():
    try:
        from threadpoolctl import threadpool_info
        return ";".join(f"{i.get('internal_api')}:{i.get('architecture')}" for i in threadpool_info())
    except Exception:
        return os.environ.get("OPENBLAS_CORETYPE", "auto")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--groundtruth", required=True)
    p.add_argument("--peer", required=True, choices=["faiss-flat", "faiss-hnsw", "faiss-hnswsq", "hnswlib", "usearch"])
    p.add_argument("--dtype", default="f32", choices=["f32", "bf16", "f16", "i8"], help="USearch: the stored scalar type")
    p.add_argument("--metric", default="cosine", choices=["cosine", "ip", "l2"])
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--m", type=int, default=16)
    p.add_argument("--ef-construction", type=int, default=200)
    p.add_argument("--ef", default="16,24,32,48,64,96,128,256")
    p.add_argument("--threads", type=int, default=1, help="build threads")
    p.add_argument("--query-threads", type=int, default=1, help="threads of the library's own batch loop (--batch)")
    p.add_argument("--batch", action="store_true")
    p.add_argument("--runs", type=int, default=1)
    a = p.parse_args()

    base = read_vecs(a.base, np.float32)
    queries = read_vecs(a.queries, np.float32)
    truth = read_vecs(a.groundtruth, np.int32)
    if a.metric == "cosine":
        base = base / np.linalg.norm(base, axis=1, keepdims=True)
        queries = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    n, dim = base.shape
    efs = [None] if a.peer == "faiss-flat" else [int(x) for x in a.ef.split(",")]

    t = time.perf_counter()
    if a.peer.startswith("faiss"):
        import faiss
        faiss.omp_set_num_threads(a.threads)
        ip = a.metric != "l2"
        if a.peer == "faiss-flat":
            index = faiss.IndexFlatIP(dim) if ip else faiss.IndexFlatL2(dim)
        elif a.peer == "faiss-hnswsq":
            index = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, a.m, faiss.METRIC_INNER_PRODUCT if ip else faiss.METRIC_L2)
            index.hnsw.efConstruction = a.ef_construction
            index.train(base)
        else:
            index = faiss.IndexHNSWFlat(dim, a.m, faiss.METRIC_INNER_PRODUCT if ip else faiss.METRIC_L2)
            index.hnsw.efConstruction = a.ef_construction
        index.add(base)
        def make_search(ef):
            if ef is not None:
                index.hnsw.efSearch = ef
            return lambda q: index.search(q, a.k)[1]
    elif a.peer == "hnswlib":
        import hnswlib
        index = hnswlib.Index(space="ip" if a.metric != "l2" else "l2", dim=dim)
        index.init_index(max_elements=n, ef_construction=a.ef_construction, M=a.m, random_seed=100)
        index.set_num_threads(a.threads)
        index.add_items(base, np.arange(n))
        index.set_num_threads(a.query_threads)
        def make_search(ef):
            index.set_ef(ef)
            return lambda q: index.knn_query(q, k=a.k)[0]
    else:
        from usearch.index import Index
        index = Index(ndim=dim, metric="ip" if a.metric != "l2" else "l2sq", dtype=a.dtype,
                      connectivity=a.m, expansion_add=a.ef_construction)
        index.add(np.arange(n), base, threads=a.threads)
        def make_search(ef):
            index.expansion_search = ef
            threads = a.query_threads
            return lambda q: np.atleast_2d(index.search(q, a.k, threads=threads).keys)
    build = time.perf_counter() - t
    if a.peer.startswith("faiss"):
        faiss.omp_set_num_threads(a.query_threads)

    for ef in efs:
        found, qps = timed_queries(make_search(ef), queries, a.batch, a.runs)
        name = a.peer + ("-" + a.dtype if a.peer == "usearch" else "")
        print(json.dumps({"index": name, "metric": a.metric, "n": n, "dim": dim, "k": a.k, "ef": ef,
                          "threads": a.threads, "query_threads": a.query_threads, "batch": a.batch, "build_seconds": round(build, 4),
                          "recall": round(recall(found, truth, a.k), 5), "qps": round(qps, 1),
                          "blas": blas_core()}), flush=True)


if __name__ == "__main__":
    main()
