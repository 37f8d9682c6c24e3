#!/usr/bin/env python3
"""Throughput of sentence-transformers (PyTorch, CPU) on the same texts as `engram bench-embed`,
printed as the same JSON line. Reference only: never a runtime dependency of Engram.

    pip install sentence-transformers
    python3 Benchmarks/scripts/embed_peer.py --input data/minilm-debian-20k/base.jsonl --count 1000 --threads 2
"""
import argparse, json, os, time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--input", required=True)
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--single", type=int, default=200)
    p.add_argument("--model", default=os.path.expanduser("~/.cache/engram/models/all-MiniLM-L6-v2"))
    p.add_argument("--batch-size", type=int, default=32)
    a = p.parse_args()
    import torch
    torch.set_num_threads(a.threads)
    from sentence_transformers import SentenceTransformer
    with open(a.input) as f:
        lines = [l.rstrip("\n") for l in f][: a.count]
    texts = [json.loads(l)["text"] for l in lines] if a.input.endswith(".jsonl") else lines
    model = SentenceTransformer(a.model, device="cpu")
    model.encode(texts[:32], batch_size=a.batch_size)
    t = time.perf_counter()
    model.encode(texts, batch_size=a.batch_size, normalize_embeddings=True)
    batch = time.perf_counter() - t
    lat = []
    for s in texts[: a.single]:
        t = time.perf_counter()
        model.encode([s], normalize_embeddings=True)
        lat.append((time.perf_counter() - t) * 1e3)
    lat.sort()
    print(json.dumps({"embedder": f"sentence-transformers {__import__('sentence_transformers').__version__} / torch {torch.__version__}",
                      "texts": len(texts), "threads": a.threads, "sentences_per_second": round(len(texts) / batch),
                      "single_p50_ms": lat[len(lat) // 2], "single_p99_ms": lat[min(len(lat) - 1, int(0.99 * len(lat)))]}))


if __name__ == "__main__":
    main()
