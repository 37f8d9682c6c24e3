#!/usr/bin/env python3
"""Does stemming help keyword and hybrid recall on debian-known-item? BM25 (k1 1.2, b 0.75, Engram's
tokens: lower-cased letters and digits) over all documents, without and with NLTK's Porter stemmer,
alone and fused with Engram's vector ranking (equal-weight min-max fusion at depth 100) from
`engram memory eval --dump-rankings R.jsonl`.

    python3 Benchmarks/scripts/stemming_study.py R.jsonl
"""
import collections, json, math, re, sys
from nltk.stem.porter import PorterStemmer

docs = [json.loads(l) for l in open('data/debian-known-item/docs.jsonl')]
queries = [json.loads(l) for l in open('data/debian-known-item/queries.jsonl')]
dumped = [json.loads(l) for l in open(sys.argv[1])]
porter = PorterStemmer()


def bm25_rankings(stem):
    norm = (lambda t: porter.stem(t)) if stem else (lambda t: t)
    tokens = [[norm(t) for t in re.findall(r'[a-z0-9]+', d['text'].lower())] for d in docs]
    postings = collections.defaultdict(list)
    for i, toks in enumerate(tokens):
        for term, tf in collections.Counter(toks).items():
            postings[term].append((i, tf))
    n, avg = len(docs), sum(map(len, tokens)) / len(docs)
    out = []
    for q in queries:
        scores = collections.defaultdict(float)
        for term in set(norm(t) for t in re.findall(r'[a-z0-9]+', q['text'].lower())):
            idf = math.log(1 + (n - len(postings[term]) + 0.5) / (len(postings[term]) + 0.5))
            for i, tf in postings[term]:
                scores[i] += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len(tokens[i]) / avg))
        out.append([(str(docs[i]['id']), s) for i, s in sorted(scores.items(), key=lambda x: (-x[1], x[0]))[:100]])
    return out


def fuse(vector, keyword):
    fused = collections.defaultdict(float)
    for lst in (vector, keyword):
        if lst:
            hi, lo = max(s for _, s in lst), min(s for _, s in lst)
            for d, s in lst:
                fused[d] += 0.5 * ((s - lo) / (hi - lo) if hi > lo else 1)
    return [d for d, _ in sorted(fused.items(), key=lambda x: -x[1])]


def metrics(ranked_lists):
    mrr = h1 = h10 = 0
    for q, ranked in zip(queries, ranked_lists):
        top = ranked[:10]
        if str(q['relevant']) in top:
            r = top.index(str(q['relevant']))
            mrr, h10, h1 = mrr + 1 / (r + 1), h10 + 1, h1 + (r == 0)
    return {"mrr@10": round(mrr / len(queries), 4), "hit@1": round(h1 / len(queries), 4), "hit@10": round(h10 / len(queries), 4)}


vector = [[(d.strip('"'), s) for d, s in row['vector']] for row in dumped]
for stem in (False, True):
    keyword = bm25_rankings(stem)
    print(json.dumps({"stemming": stem, "keyword": metrics([[d for d, _ in k] for k in keyword]),
                      "hybrid": metrics([fuse(v, k) for v, k in zip(vector, keyword)])}))
