#!/usr/bin/env python3
"""Why the memory layer does not rank keyword queries with SQLite FTS5: scoped FTS5 queries over
200,000 memories (debian-known-item texts cycled, 2,000 Zipf-sized tenants, the tenant as an indexed
column ANDed into the MATCH, bm25() with the scope column weighted 0) measured with Python's sqlite3
(SQLite 3.40, Debian 12). Prints p50/p99 per tenant size, with and without ranking.

    python3 Benchmarks/scripts/fts5_scoped.py
"""
import json, random, re, sqlite3, time

docs = [json.loads(l)['text'] for l in open('data/debian-known-item/docs.jsonl')]
queries = [json.loads(l)['text'] for l in open('data/debian-known-item/queries.jsonl')][:200]
random.seed(7)
tenants = random.choices(range(2000), weights=[1 / (t + 1) for t in range(2000)], k=200_000)
db = sqlite3.connect(':memory:')
db.execute("CREATE VIRTUAL TABLE f USING fts5(text, scope, tokenize='unicode61 remove_diacritics 2')")
db.executemany("INSERT INTO f(rowid, text, scope) VALUES (?, ?, ?)",
               ((i + 1, docs[i % len(docs)], 'u%x' % tenants[i]) for i in range(200_000)))


def match(tenant, text):
    terms = list(dict.fromkeys(re.findall(r'\w+', text.lower())))[:32]
    return 'scope:"u%x" AND text:(%s)' % (tenant, ' OR '.join('"%s"' % t for t in terms))


for ranked in (True, False):
    sql = ("SELECT rowid, bm25(f, 1.0, 0.0) AS s FROM f WHERE f MATCH ? ORDER BY s LIMIT 100" if ranked
           else "SELECT rowid FROM f WHERE f MATCH ?")
    for tenant in (0, 5, 50, 500):
        latencies = []
        for text in queries:
            start = time.perf_counter()
            db.execute(sql, (match(tenant, text),)).fetchall()
            latencies.append((time.perf_counter() - start) * 1e3)
        latencies.sort()
        print(json.dumps({"ranked": ranked, "tenant_memories": tenants.count(tenant),
                          "p50_ms": round(latencies[100], 2), "p99_ms": round(latencies[198], 2)}))
