#!/usr/bin/env python3
"""Where a near-duplicate ends: the cosine (native MiniLM) above which an added fact is the same
fact again, not a new one.

Pairs from the fact templates of recency_eval.py (4 topics x 8 values x 4 wordings):
- same fact, small edits (case, punctuation, a filler word, a contraction): should merge;
- same fact, another wording: may merge;
- another value in the same wording ("I live in Lisbon." / "I live in Porto."): must never merge;
- the fact negated ("I no longer live in Lisbon.", "I don't drink oolong tea."): must never merge.
Prints the cosine range of each kind, then, per threshold, the share of each kind that the
running server actually merges (`dedup_threshold` on `POST /v1/memories/`: event NONE), which
adds Engram's guards (negation cues, numbers) to the cosine.

    python3 Benchmarks/scripts/dedup_study.py .build/release/engram > Benchmarks/results/dedup-study.jsonl
"""
import itertools, json, os, shutil, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(__file__))
from recency_eval import TOPICS  # noqa: E402


def edits(text):
    yield text.lower()
    yield text.rstrip(".") + "!"
    yield text.rstrip(".")
    yield text.replace("I ", "I really ", 1) if "I " in text else text + " Really."
    yield text.replace("I am", "I'm").replace("I have", "I've") if ("I am" in text or "I have" in text) else "Note: " + text


def negations(text):
    swaps = [("I am ", "I am not "), ("I live", "I no longer live"), ("I drink", "I never drink"), ("I go ", "I never go "),
             ("I work", "I no longer work"), ("I have ", "I have not "), ("is ", "is not "), ("I took up", "I gave up"),
             ("I moved to", "I never moved to"), ("We settled", "We never settled"), ("I started", "I quit")]
    for old, new in swaps:
        if old in text:
            yield text.replace(old, new, 1)
    yield "It is not true that " + text[0].lower() + text[1:]


def embed(engram, texts):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for t in texts:
            f.write(json.dumps({"text": t}) + "\n")
    try:
        out = subprocess.run([engram, "embed", "--input", f.name, "--json"], check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(f.name)
    return {t: json.loads(line)["embedding"] for t, line in zip(texts, out.splitlines())}


def cosine(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    return dot / (sum(x * x for x in a) ** 0.5 * sum(y * y for y in b) ** 0.5)


def main(engram):
    pairs = {"small edit": [], "other wording": [], "other value": [], "negation": []}
    for _, values, templates in TOPICS.values():
        for template in templates:
            for v in values:
                text = template.format(v=v)
                pairs["small edit"] += [(text, e) for e in edits(text) if e != text]
                pairs["other value"] += [(text, template.format(v=w)) for w in values if w != v]
                pairs["negation"] += [(text, n) for n in negations(text)]
        for v in values:
            pairs["other wording"] += [(a.format(v=v), b.format(v=v)) for a, b in itertools.combinations(templates, 2)]
    texts = sorted({t for kind in pairs.values() for pair in kind for t in pair})
    vectors = embed(engram, texts)
    scores = {kind: [cosine(vectors[a], vectors[b]) for a, b in kind_pairs] for kind, kind_pairs in pairs.items()}
    for kind, values in scores.items():
        print(json.dumps({"measure": "dedup_pairs", "kind": kind, "pairs": len(values), "min": round(min(values), 4),
                          "max": round(max(values), 4), "mean": round(sum(values) / len(values), 4)}))
    for threshold in (0.85, 0.88, 0.9, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98):
        row = {"measure": "dedup_threshold_cosine_only", "threshold": threshold}
        for kind, values in scores.items():
            row[kind.replace(" ", "_") + "_merged"] = round(sum(v >= threshold for v in values) / len(values), 4)
        print(json.dumps(row))
    served(engram, pairs)


def served(engram, pairs):
    import urllib.request
    work = tempfile.mkdtemp(prefix="engram-dedup-")
    server = subprocess.Popen([engram, "serve", "--store", os.path.join(work, "store"), "--port", "0", "--no-metrics"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        host = "http://" + json.loads(server.stdout.readline())["listening"]

        def add(text, user, threshold):
            body = json.dumps({"messages": text, "user_id": user, "infer": False, "dedup_threshold": threshold}).encode()
            request = urllib.request.Request(host + "/v1/memories/", body, {"Content-Type": "application/json"})
            return json.load(urllib.request.urlopen(request))["results"][0]["event"]

        for threshold in (0.85, 0.9, 0.95):
            row = {"measure": "dedup_threshold_served", "threshold": threshold}
            for kind, kind_pairs in pairs.items():
                merged = 0
                for i, (a, b) in enumerate(kind_pairs):
                    user = f"{threshold}-{kind}-{i}"
                    add(a, user, 1.0)
                    merged += add(b, user, threshold) == "NONE"
                row[kind.replace(" ", "_") + "_merged"] = round(merged / len(kind_pairs), 4)
            print(json.dumps(row), flush=True)
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".build/release/engram")
