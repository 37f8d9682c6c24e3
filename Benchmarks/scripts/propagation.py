#!/usr/bin/env python3
"""Propagation delay between two `engram serve` nodes on one PostgreSQL database: how long after
node A acknowledges an add (or a delete) node B's derived index shows it (or stops showing it).

    python3 Benchmarks/scripts/propagation.py --database postgres://postgres@127.0.0.1:55432/prop \
        [--engram .build/release/engram] [--probes 300] [--load-clients 6] [--seed-index DIR]

Starts both nodes itself (fresh index directories or copies of --seed-index, the native embedder). While `--load-clients`
clients keep both nodes busy with searches and adds (a tenth adds, spread over 2,000 Zipf-drawn
tenants, like Benchmarks/scripts/server_load.py), a probe adds a memory to a tenant of its own on
A, then lists that tenant on B (the list is served from B's derived state, not from the database)
every millisecond until the memory is there; then deletes it through A and lists on B until it is
gone. Delay = first list that shows the change, counted from A's acknowledgement, so it includes
up to one list round trip. Prints one JSON line; exits non-zero on any error or a probe that never
arrives (10 s).
"""
import argparse, asyncio, json, os, random, shutil, sys, tempfile, time

import httpx

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from engram_nodes import serve, stop  # noqa: E402

KEY = "propagation"


def percentile(values, p):
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * p))], 2) if values else None


async def load(base, clients, deadline, queries, stats):
    weights = [1 / (t + 1) for t in range(2000)]
    rng = random.Random(5)

    async def client(n):
        async with httpx.AsyncClient(base_url=base[n % 2], headers={"Authorization": f"Token {KEY}"}, timeout=60) as http:
            i = 0
            while time.monotonic() < deadline:
                i += 1
                user = "user%d" % rng.choices(range(2000), weights)[0]
                if rng.random() < 0.1:
                    r = await http.post("/v1/memories/", json={"messages": [{"role": "user", "content": f"load {n}-{i}: {rng.choice(queries)}"}],
                                                               "user_id": user, "infer": False})
                else:
                    r = await http.post("/v2/memories/search/", json={"query": rng.choice(queries), "filters": {"user_id": user}})
                stats["load_requests"] += 1
                if r.status_code >= 400:
                    stats["errors"] += 1
                    print(f"load error {r.status_code}: {r.text[:200]}", file=sys.stderr)

    await asyncio.gather(*(client(n) for n in range(clients)))


async def until(http, user, predicate):
    """Lists `user` on `http` every millisecond until `predicate(ids)`; the time it first holds."""
    give_up = time.perf_counter() + 10
    while time.perf_counter() < give_up:
        r = await http.post("/v2/memories/", json={"filters": {"user_id": user}})
        r.raise_for_status()
        body = r.json()
        ids = {m["id"] for m in (body["results"] if isinstance(body, dict) else body)}
        if predicate(ids):
            return time.perf_counter()
        await asyncio.sleep(0.001)
    raise TimeoutError(f"{user}: no propagation within 10 s")


async def probes(base, count, stats):
    headers = {"Authorization": f"Token {KEY}"}
    async with httpx.AsyncClient(base_url=base[0], headers=headers, timeout=60) as a, \
               httpx.AsyncClient(base_url=base[1], headers=headers, timeout=60) as b:
        for i in range(count):
            user = f"probe-{os.getpid()}-{i}"
            r = await a.post("/v1/memories/", json={"messages": [{"role": "user", "content": f"probe memory {i}"}], "user_id": user, "infer": False})
            acknowledged = time.perf_counter()
            r.raise_for_status()
            memory = r.json()["results"][0]["id"]
            stats["add_ms"].append((await until(b, user, lambda ids: memory in ids) - acknowledged) * 1e3)
            r = await a.delete(f"/v1/memories/{memory}/")
            acknowledged = time.perf_counter()
            r.raise_for_status()
            stats["delete_ms"].append((await until(b, user, lambda ids: memory not in ids) - acknowledged) * 1e3)
            await asyncio.sleep(0.02)


async def run(args, base):
    queries = [json.loads(l)["text"] for l in open(args.queries)]
    stats = {"add_ms": [], "delete_ms": [], "load_requests": 0, "errors": 0}
    began = time.monotonic()
    deadline = began + 3600
    loader = asyncio.create_task(load(base, args.load_clients, deadline, queries, stats)) if args.load_clients else None
    await asyncio.sleep(2 if loader else 0)  # the load under way before the first probe
    try:
        await probes(base, args.probes, stats)
    finally:
        if loader:
            loader.cancel()
            await asyncio.gather(loader, return_exceptions=True)
    elapsed = time.monotonic() - began
    return {
        "probes": args.probes, "load_clients": args.load_clients,
        "load_requests_per_second": round(stats["load_requests"] / elapsed, 1), "errors": stats["errors"],
        **{f"{kind}_{name}_ms": percentile(stats[f"{kind}_ms"], q) for kind in ("add", "delete")
           for name, q in (("p50", 0.5), ("p99", 0.99), ("max", 1.0))},
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--database", required=True)
    ap.add_argument("--engram", default=".build/release/engram")
    ap.add_argument("--probes", type=int, default=300)
    ap.add_argument("--load-clients", type=int, default=6)
    ap.add_argument("--queries", default="data/debian-known-item/queries.jsonl")
    ap.add_argument("--seed-index", help="index directory copied to both nodes before they start (a database that holds memories)")
    args = ap.parse_args()
    scratch = tempfile.mkdtemp(prefix="engram-propagation-")
    nodes = []
    try:
        for name in ("a", "b"):
            if args.seed_index:
                shutil.copytree(args.seed_index, os.path.join(scratch, name, "index"))
            nodes.append(serve(args.engram, scratch, name, args.database, KEY, quiet=True))
        result = asyncio.run(run(args, [url for _, url in nodes]))
        print(json.dumps(result))
        sys.exit(1 if result["errors"] else 0)
    finally:
        stop([node for node, _ in nodes])
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
