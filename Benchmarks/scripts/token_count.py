#!/usr/bin/env python3
"""How the token count `engram memory recall` charges compares with real chat-model tokenizers.

For each set of English texts: the least ratio (Engram's estimate / the tokenizer's count, per
text; >= 1 means never an undercount) and the ratio in total, for cl100k_base and o200k_base
(pip `bpe-openai`: the tables ship with it, no download).

    python3 Benchmarks/scripts/token_count.py .build/release/engram > Benchmarks/results/token-count.jsonl
"""
import glob, json, os, subprocess, sys, tempfile

import bpe_openai


def sets():
    here = os.path.join(os.path.dirname(__file__), "..", "..", "data")
    debian = [json.loads(l)["text"] for l in open(os.path.join(here, "debian-known-item", "docs.jsonl"))]
    debian += [json.loads(l)["text"] for l in open(os.path.join(here, "minilm-debian-20k", "base.jsonl"))]
    queries = [json.loads(l)["text"] for l in open(os.path.join(here, "debian-known-item", "queries.jsonl"))]
    prose = []
    for path in sorted(glob.glob("/usr/share/common-licenses/*")):
        with open(path, errors="ignore") as f:
            prose += [p.strip() for p in f.read().split("\n\n") if len(p.strip()) > 40]
    # Memory lines as recall writes them: a date, then a short fact.
    facts = [f"[2026-0{1 + i % 9}-1{i % 10}] " + t for i, t in enumerate(queries)]
    return {"debian descriptions": debian, "debian queries": queries, "licence prose": prose, "dated memory lines": facts}


def engram_counts(engram, texts):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for t in texts:
            f.write(json.dumps({"text": t}) + "\n")
    try:
        out = subprocess.run([engram, "memory", "count-tokens", "--input", f.name], check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(f.name)
    return [int(x) for x in out.split()]


def main(engram):
    encodings = {name: bpe_openai.get_encoding(name) for name in ("cl100k_base", "o200k_base")}
    for name, texts in sets().items():
        texts = [t for t in texts if t]
        ours = engram_counts(engram, texts)
        row = {"measure": "token_count", "set": name, "texts": len(texts)}
        for enc_name, enc in encodings.items():
            theirs = [len(enc.encode(t)) for t in texts]
            row[f"{enc_name}_least_ratio"] = round(min(o / t for o, t in zip(ours, theirs) if t), 3)
            row[f"{enc_name}_total_ratio"] = round(sum(ours) / sum(theirs), 3)
            row[f"{enc_name}_undercounted_texts"] = sum(o < t for o, t in zip(ours, theirs))
        print(json.dumps(row))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".build/release/engram")
