#!/usr/bin/env python3
"""Exact (brute-force) known-item retrieval quality of given embeddings, ties to the earlier document.

Separates an embedding's effect on retrieval from an index's: the store's own `engram memory eval`
also depends on its graph and on how ties among duplicate documents fall.

    engram embed --input data/debian-known-item/docs.jsonl --output docs.fvecs [--precision bfloat16]
    engram embed --input data/debian-known-item/queries.jsonl --output queries.fvecs [--precision bfloat16]
    python3 Benchmarks/scripts/exact_known_item.py docs.fvecs queries.fvecs
"""
import argparse, json
import numpy as np


def fvecs(path):
    a = np.fromfile(path, dtype=np.int32)
    return a.reshape(-1, a[0] + 1)[:, 1:].view(np.float32)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("docs")
    p.add_argument("queries")
    p.add_argument("--data", default="data/debian-known-item")
    a = p.parse_args()
    ids = [json.loads(l)["id"] for l in open(a.data + "/docs.jsonl")]
    relevant = [json.loads(l)["relevant"] for l in open(a.data + "/queries.jsonl")]
    scores = fvecs(a.queries) @ fvecs(a.docs).T
    top = np.argsort(-scores, axis=1, kind="stable")[:, :10]
    mrr = hit1 = hit10 = 0.0
    for i, r in enumerate(relevant):
        ranked = [ids[j] for j in top[i]]
        if r in ranked:
            k = ranked.index(r)
            mrr, hit10, hit1 = mrr + 1 / (k + 1), hit10 + 1, hit1 + (k == 0)
    n = len(relevant)
    print(json.dumps({"mode": "exact", "queries": n, "mrr@10": round(mrr / n, 4), "hit@1": round(hit1 / n, 4), "hit@10": round(hit10 / n, 4)}))


if __name__ == "__main__":
    main()
