#!/usr/bin/env python3
"""The deployment recipe of docs/DEPLOY.md, run for real: two `engram serve` nodes on one PostgreSQL
database behind nginx (round robin), driven by the real mem0ai client (pip install mem0ai).

    python3 scripts/two_nodes_e2e.py ENGRAM_BINARY postgres://user@host:port/database

Adds on one node and searches, updates and deletes through the other; checks that whatever goes
through nginx lands on both nodes; that a deleted memory never comes back on either; and prints the
measured propagation delays. Exits non-zero on the first failed check.
"""
import shutil, sys, tempfile, time

from mem0 import MemoryClient

from engram_nodes import check, eventually, nginx, serve, stop


def main(engram, database):
    work = tempfile.mkdtemp(prefix="engram-two-nodes-")
    key = "deploy-key"
    processes = []
    try:
        node_a, url_a = serve(engram, work, "a", database, key)
        processes.append(node_a)
        node_b, url_b = serve(engram, work, "b", database, key)
        processes.append(node_b)
        balancer, url_lb = nginx(work, [url_a, url_b])
        processes.append(balancer)
        a, b, lb = (MemoryClient(api_key=key, host=u) for u in (url_a, url_b, url_lb))

        def ids(client, user):
            return {m["id"] for m in client.get_all(filters={"user_id": user}, page=1, page_size=100)["results"]}

        # Added on A: read at once on A, soon on B.
        added = a.add("I am vegetarian and allergic to peanuts", user_id="alice", metadata={"topic": "food"})["results"][0]["id"]
        check(added in ids(a, "alice"), "read-your-writes on the node that took the add")
        delay = eventually(lambda: added in ids(b, "alice"))
        check(delay is not None, "the add reaches the other node")
        hits = b.search("what can she eat?", filters={"user_id": "alice"}, top_k=3)["results"]
        check(hits and hits[0]["id"] == added, f"search through B finds what A added: {hits}")

        # Updated and deleted through B: gone on A too, for good.
        b.update(added, text="I am vegan and allergic to peanuts")
        check(eventually(lambda: a.get(added)["memory"] == "I am vegan and allergic to peanuts") is not None, "the update reaches A")
        b.delete(added)
        check(eventually(lambda: added not in ids(a, "alice")) is not None, "the delete reaches A")
        time.sleep(0.5)
        check(added not in ids(a, "alice") and added not in ids(b, "alice"), "a deleted memory never comes back")

        # Through nginx (round robin): every add lands on both nodes.
        through = [lb.add(f"fact number {i} about the garden", user_id="bob")["results"][0]["id"] for i in range(10)]
        for client, name in ((a, "A"), (b, "B")):
            check(eventually(lambda: set(through) <= ids(client, "bob")) is not None, f"adds through nginx reach {name}")
        found = lb.search("garden facts", filters={"user_id": "bob"}, top_k=10)["results"]
        check(len(found) == 10, f"search through nginx: {len(found)} hits")
        lb.delete_all(user_id="bob")
        for client, name in ((a, "A"), (b, "B")):
            check(eventually(lambda: not ids(client, "bob")) is not None, f"delete_all through nginx reaches {name}")
        print(f"two nodes behind nginx: ok (first propagation {delay * 1e3:.0f} ms)")
    finally:
        stop(processes)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
