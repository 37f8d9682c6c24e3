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
import argparse, asyncio, json, random, re, socket, sys, time
from urllib.parse import urlsplit

import httpx


class Connection:
    """A minimal keep-alive HTTP/1.1 client: each request goes out in one write (head and body
    together, TCP_NODELAY), so the server never waits on the client between them. (httpx writes
    the head and the body separately; with 50 coroutines on a busy event loop the body trailed the
    head by ~3 ms at p50, which the server's own timing then counted.) Also far lighter on the CPU
    that the server shares."""

    def __init__(self, base, key):
        url = urlsplit(base)
        self.host, self.port, self.key = url.hostname, url.port or 80, key

    async def __aenter__(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self

    async def __aexit__(self, *exc):
        self.writer.close()

    async def post(self, path, payload):
        body = json.dumps(payload).encode()
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Token {self.key}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        self.writer.write(head + body)
        status = int((await self.reader.readline()).split()[1])
        headers = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, value = line.decode().split(":", 1)
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding") == "chunked":
            data = b""
            while (size := int((await self.reader.readline()).strip(), 16)) > 0:
                data += (await self.reader.readexactly(size + 2))[:-2]  # the chunk, without its CRLF
            await self.reader.readline()
        else:
            data = await self.reader.readexactly(int(headers.get("content-length", 0)))
        if status >= 400:
            raise RuntimeError(f"{status} {data[:200]!r}")
        return headers, json.loads(data)


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
        async with Connection(args.host, args.key) as http:
            i = 0
            while time.monotonic() < deadline:
                i += 1
                user = "user%d" % rng.choices(range(args.tenants), weights)[0]
                start = time.perf_counter()
                try:
                    if rng.random() < args.add_fraction:
                        text = f"load test note {n}-{i}: {rng.choice(queries)}"
                        _, answer = await http.post("/v3/memories/add/", {"messages": [{"role": "user", "content": text}], "user_id": user})
                        stats["add_e2e"].append((time.perf_counter() - start) * 1e3)
                        acked.extend((m["id"], text) for m in answer["results"])
                    else:
                        answer_headers, _ = await http.post("/v3/memories/search/", {"query": rng.choice(queries), "filters": {"user_id": user}, "top_k": 10})
                        stats["search_e2e"].append((time.perf_counter() - start) * 1e3)
                        t = timing(answer_headers.get("server-timing"))
                        stats["search_total"].append(t["total"])
                        stats["search_embed"].append(t.get("embed", 0))
                        stats["search_excl_embed"].append(t["total"] - t.get("embed", 0))
                        stats["search_store"].append(t.get("search", 0))
                        for name, value in t.items():
                            if name not in ("total", "embed", "search"):
                                stats.setdefault("search_" + name, []).append(value)
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
        **{f"{name}_{p}_ms": percentile(stats[name], q) for name in sorted(stats) if name.startswith("search_") and name not in
           ("search_e2e", "search_total", "search_embed", "search_excl_embed", "search_store") for p, q in (("p50", 0.5), ("p99", 0.99))},
    }))
    sys.exit(1 if stats["errors"] or lost else 0)


asyncio.run(main())
