#!/usr/bin/env python3
"""Clustered synthetic datasets with exact ground truth, for checking the HNSW index on shapes the
shipped MiniLM data does not have (README, "On data we do not ship").

    python3 Benchmarks/scripts/synthetic_sets.py --out /tmp/synthetic

Writes, as fvecs/ivecs (top 100 ids per query):
  sift-like-{base,q,gt}  50,000 x 128, non-negative integers 0..255 around 200 centres, l2;
  glove-like-{base,q,gt} 30,000 x 100, 100 centres, norms spread 0.5..3, cosine;
  d{192,256,768}-{base,q,gt} 20,000 x d, 100 centres, cosine.
Then, for example:
    engram bench --base $OUT/glove-like-base.fvecs --queries $OUT/glove-like-q.fvecs \\
        --groundtruth $OUT/glove-like-gt.ivecs --index hnsw --metric cosine --threads 2 --ef 16,32,64,128
"""
import argparse, os
import numpy as np


def fvecs(path, x):
    x = np.asarray(x, dtype=np.float32)
    n, d = x.shape
    out = np.empty((n, d + 1), dtype=np.float32)
    out[:, 0] = np.int32(d).view(np.float32)
    out[:, 1:] = x
    out.tofile(path)


def ivecs(path, x):
    x = np.asarray(x, dtype=np.int32)
    n, d = x.shape
    out = np.empty((n, d + 1), dtype=np.int32)
    out[:, 0] = d
    out[:, 1:] = x
    out.tofile(path)


def cosine_truth(base, queries):
    b = base / np.linalg.norm(base, axis=1, keepdims=True)
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    return np.argsort(-(q @ b.T), axis=1)[:, :100]


def save(out, name, base, queries, truth):
    fvecs(os.path.join(out, f"{name}-base.fvecs"), base)
    fvecs(os.path.join(out, f"{name}-q.fvecs"), queries)
    ivecs(os.path.join(out, f"{name}-gt.ivecs"), truth)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    out = p.parse_args().out
    os.makedirs(out, exist_ok=True)

    rng = np.random.default_rng(5)
    centres = rng.integers(0, 120, size=(200, 128))
    x = np.clip(centres[rng.integers(0, 200, size=50_500)] + rng.normal(0, 20, size=(50_500, 128)), 0, 255).round()
    base, queries = x[:50_000], x[50_000:]
    d2 = (queries ** 2).sum(1)[:, None] + (base ** 2).sum(1)[None, :] - 2 * queries @ base.T
    save(out, "sift-like", base, queries, np.argsort(d2, axis=1)[:, :100])

    centres = rng.normal(size=(100, 100))
    y = centres[rng.integers(0, 100, size=30_500)] + rng.normal(0, 0.8, size=(30_500, 100))
    y *= rng.uniform(0.5, 3, size=(30_500, 1))
    save(out, "glove-like", y[:30_000], y[30_000:], cosine_truth(y[:30_000], y[30_000:]))

    rng = np.random.default_rng(9)
    for d in (192, 256, 768):
        centres = rng.normal(size=(100, d))
        y = centres[rng.integers(0, 100, size=20_500)] + rng.normal(0, 0.9, size=(20_500, d))
        save(out, f"d{d}", y[:20_000], y[20_000:], cosine_truth(y[:20_000], y[20_000:]))


if __name__ == "__main__":
    main()
