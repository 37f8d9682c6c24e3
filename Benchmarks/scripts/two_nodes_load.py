#!/usr/bin/env python3
"""The server load test (Benchmarks/scripts/server_load.py) through nginx in front of one node, then
in front of two nodes on the same PostgreSQL database (round robin): requests/s and server time.

    # a 200k-memory store of real texts on the database, and index files to start the nodes from:
    engram memory bench --store /tmp/seed --database URL --texts data/debian-known-item/docs.jsonl \
        --native-identity --searches 10 --single-adds 0
    python3 Benchmarks/scripts/two_nodes_load.py --database URL --seed-index /tmp/seed/index \
        [--engram .build/release/engram] [--nodes 1,2] [--clients 50] [--seconds 30]

Each node starts from a copy of the seed's index files (a node's files are its own; a copy of
another node's catches up at open). Prints one JSON line per configuration (server_load.py's, with
"nodes"); exits non-zero when a run reports errors or lost adds.
"""
import argparse, json, os, shutil, subprocess, sys, tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from engram_nodes import nginx, serve, stop  # noqa: E402

KEY = "load-test"


def run(args, count):
    work = tempfile.mkdtemp(prefix="engram-two-nodes-load-")
    processes = []
    try:
        urls = []
        for i in range(count):
            name = f"node{i}"
            if args.seed_index:
                shutil.copytree(args.seed_index, os.path.join(work, name, "index"))
            node, url = serve(args.engram, work, name, args.database, KEY, quiet=True)
            processes.append(node)
            urls.append(url)
        balancer, url = nginx(work, urls)
        processes.append(balancer)
        load = subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "server_load.py"),
                               "--host", url, "--key", KEY, "--clients", str(args.clients), "--seconds", str(args.seconds)],
                              stdout=subprocess.PIPE, text=True)
        result = json.loads(load.stdout.strip().splitlines()[-1])
        return {"nodes": count, "balancer": "nginx", **result}, load.returncode
    finally:
        stop(processes)
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--database", required=True)
    ap.add_argument("--seed-index", help="index directory copied to every node before it starts")
    ap.add_argument("--engram", default=".build/release/engram")
    ap.add_argument("--nodes", default="1,2")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30)
    args = ap.parse_args()
    failed = False
    for count in (int(n) for n in args.nodes.split(",")):
        result, code = run(args, count)
        print(json.dumps(result), flush=True)
        failed = failed or code != 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
