#!/usr/bin/env python3
"""Load test of `engram serve` from a second process: concurrent clients mixing searches and adds
for a fixed time, then a check that every acknowledged add is there, and latency percentiles from
the client (end to end) and from the server's Server-Timing header (total, and the query embedding
in it).

    python3 Benchmarks/scripts/server_load.py --host http://127.0.0.1:8765 --key KEY [--clients 50] [--seconds 30]

Tenants are drawn like `engram memory bench` makes them (user0..userN-1, Zipf), queries from
data/debian-known-item/queries.jsonl. Prints one JSON line; exits non-zero on any error response or
lost add.
"""
import argparse, asyncio, json, random, re, sys, time

import httpx


def percentile(values, p):
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * p))], 3) if values else None


def timing(header):
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"(\w+);dur=([0-9.]+)", header or "")}


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--tenants", type=int, default=2000)
    ap.add_argument("--add-fraction", type=float, default=0.1)
    ap.add_argument("--queries", default="data/debian-known-item/queries.jsonl")
    args = ap.parse_args()

    queries = [json.loads(l)["text"] for l in open(args.queries)]
    weights = [1 / (t + 1) for t in range(args.tenants)]
    rng = random.Random(11)
    stats = {"search_e2e": [], "search_total": [], "search_embed": [], "search_excl_embed": [], "search_store": [], "add_e2e": [], "errors": 0}
    acked = []
    headers = {"Authorization": f"Token {args.key}"}
    deadline = time.monotonic() + args.seconds

    async def client(n):
        async with httpx.AsyncClient(base_url=args.host, headers=headers, timeout=60) as http:
            i = 0
            while time.monotonic() < deadline:
                i += 1
                user = "user%d" % rng.choices(range(args.tenants), weights)[0]
                start = time.perf_counter()
                try:
                    if rng.random() < args.add_fraction:
                        text = f"load test note {n}-{i}: {rng.choice(queries)}"
                        r = await http.post("/v3/memories/add/", json={"messages": [{"role": "user", "content": text}], "user_id": user})
                        stats["add_e2e"].append((time.perf_counter() - start) * 1e3)
                        r.raise_for_status()
                        acked.extend((m["id"], text) for m in r.json()["results"])
                    else:
                        r = await http.post("/v3/memories/search/", json={"query": rng.choice(queries), "filters": {"user_id": user}, "top_k": 10})
                        stats["search_e2e"].append((time.perf_counter() - start) * 1e3)
                        r.raise_for_status()
                        t = timing(r.headers.get("server-timing"))
                        stats["search_total"].append(t["total"])
                        stats["search_embed"].append(t.get("embed", 0))
                        stats["search_excl_embed"].append(t["total"] - t.get("embed", 0))
                        stats["search_store"].append(t.get("search", 0))
                except Exception as e:  # noqa: BLE001
                    stats["errors"] += 1
                    print(f"error: {e!r}", file=sys.stderr)

    began = time.monotonic()
    await asyncio.gather(*(client(n) for n in range(args.clients)))
    elapsed = time.monotonic() - began
    lost = 0
    async with httpx.AsyncClient(base_url=args.host, headers=headers, timeout=60) as http:
        for memory_id, text in acked:
            r = await http.get(f"/v1/memories/{memory_id}/")
            if r.status_code != 200 or r.json()["memory"] != text:
                lost += 1
    requests = len(stats["search_e2e"]) + len(stats["add_e2e"])
    print(json.dumps({
        "clients": args.clients, "seconds": round(elapsed, 1), "requests": requests, "requests_per_second": round(requests / elapsed, 1),
        "errors": stats["errors"], "adds_acknowledged": len(acked), "adds_lost": lost,
        "search_e2e_p50_ms": percentile(stats["search_e2e"], 0.5), "search_e2e_p99_ms": percentile(stats["search_e2e"], 0.99),
        "search_server_p50_ms": percentile(stats["search_total"], 0.5), "search_server_p99_ms": percentile(stats["search_total"], 0.99),
        "search_embed_p50_ms": percentile(stats["search_embed"], 0.5), "search_embed_p99_ms": percentile(stats["search_embed"], 0.99),
        "search_server_excluding_embed_p50_ms": percentile(stats["search_excl_embed"], 0.5),
        "search_server_excluding_embed_p99_ms": percentile(stats["search_excl_embed"], 0.99),
        "search_store_p50_ms": percentile(stats["search_store"], 0.5), "search_store_p99_ms": percentile(stats["search_store"], 0.99),
        "add_e2e_p50_ms": percentile(stats["add_e2e"], 0.5), "add_e2e_p99_ms": percentile(stats["add_e2e"], 0.99),
    }))
    sys.exit(1 if stats["errors"] or lost else 0)


asyncio.run(main())
