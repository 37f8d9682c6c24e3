#!/usr/bin/env python3
"""End-to-end check of `engram serve` with the real mem0ai client (pip install mem0ai).

    MEM0_TELEMETRY=false python3 scripts/mem0_e2e.py path/to/engram

Starts the server on a free loopback port with two keys (one unrestricted, one restricted to user
alice), runs add → search → get_all → get → update → history → delete → delete_all →
batch_update → batch_delete → create/get_memory_export → delete_users → reset through
mem0ai.MemoryClient, checks that the
restricted key neither sees nor deletes bob's memories, stops the server with SIGTERM and expects a
clean exit. Exits non-zero on the first failed check.
"""
import json, os, shutil, signal, subprocess, sys, tempfile, time

os.environ.setdefault("MEM0_TELEMETRY", "false")
from mem0 import MemoryClient  # noqa: E402


def check(condition, message):
    if not condition:
        raise SystemExit(f"FAILED: {message}")


def check_operations(host):
    """Health and readiness without a key; /metrics parsed by prometheus-client's text parser."""
    import urllib.request
    from prometheus_client.parser import text_string_to_metric_families
    for path in ("/healthz", "/readyz"):
        with urllib.request.urlopen(host + path) as response:
            check(response.status == 200, f"{path}: {response.status}")
    request = urllib.request.Request(host + "/metrics", headers={"Authorization": "Token admin-key"})
    with urllib.request.urlopen(request) as response:
        families = {f.name: f for f in text_string_to_metric_families(response.read().decode())}
    searches = sum(s.value for s in families["engram_http_requests"].samples
                   if s.name == "engram_http_requests_total" and s.labels.get("route") == "/v3/memories/search" and s.labels.get("status") == "200")
    check(searches >= 2, f"search requests counted: {searches}")
    check("engram_request_part_duration_seconds" in families and "engram_memories" in families, f"metric families: {sorted(families)}")
    # The same search asked again is answered from the query-embedding cache.
    hits = sum(s.value for s in families["engram_query_cache_hits"].samples if s.name == "engram_query_cache_hits_total")
    check(hits >= 1 and "engram_query_cache_misses" in families, f"query cache hits: {hits}")


def main(engram, database=None):
    work = tempfile.mkdtemp(prefix="engram-e2e-")
    keys = os.path.join(work, "keys.json")
    with open(keys, "w") as f:
        json.dump({"admin-key": {}, "alice-key": {"user_id": ["alice"]}}, f)
    log_path = os.path.join(work, "server.log")
    log = open(log_path, "w")
    server = subprocess.Popen([engram, "serve", "--store", os.path.join(work, "store"), "--port", "0", "--api-keys", keys,
                               "--checkpoint-interval", "1", "--log-format", "json"] + (["--database", database] if database else []),
                              stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        host = "http://" + json.loads(server.stdout.readline())["listening"]
        admin = MemoryClient(api_key="admin-key", host=host)
        alice = MemoryClient(api_key="alice-key", host=host)

        added = admin.add([{"role": "user", "content": "I am vegetarian and allergic to peanuts"},
                           {"role": "assistant", "content": "Noted!"}], user_id="alice", metadata={"topic": "food"})
        check(len(added["results"]) == 1 and added["results"][0]["event"] == "ADD", f"add: {added}")
        memory_id = added["results"][0]["id"]
        admin.add("My favourite city is Lisbon", user_id="alice", metadata={"topic": "travel"})
        bob = admin.add("Bob drives a red truck", user_id="bob")["results"][0]["id"]
        manifest = os.path.join(work, "store", "index", "manifest.json")
        for _ in range(50):  # the server checkpoints every second when enough has changed
            if os.path.exists(manifest):
                break
            time.sleep(0.1)
        check(os.path.exists(manifest), "periodic checkpoint while serving")

        hits = admin.search("what can she eat?", filters={"user_id": "alice"}, top_k=5)["results"]
        check(hits and hits[0]["id"] == memory_id and "score" in hits[0], f"search: {hits}")
        check(all(h["user_id"] == "alice" for h in hits), "search stays in alice's scope")
        food = admin.search("anything", filters={"AND": [{"user_id": "alice"}, {"topic": "travel"}]})["results"]
        check([h["memory"] for h in food] == ["My favourite city is Lisbon"], f"filtered search: {food}")

        page = admin.get_all(filters={"user_id": "alice"}, page=1, page_size=10)
        check(page["count"] == 2 and len(page["results"]) == 2, f"get_all: {page}")
        got = admin.get(memory_id)
        check(got["memory"] == "I am vegetarian and allergic to peanuts" and got["metadata"] == {"topic": "food"}, f"get: {got}")

        admin.update(memory_id, text="I am vegan and allergic to peanuts")
        check(admin.get(memory_id)["memory"] == "I am vegan and allergic to peanuts", "update")
        events = [e["event"] for e in admin.history(memory_id)]
        check(events == ["ADD", "UPDATE"], f"history: {events}")

        # The restricted key: alice's memories only.
        check(len(alice.get_all(filters={"user_id": "alice"})["results"]) == 2, "alice-key lists alice")
        for attempt in (lambda: alice.get(bob), lambda: alice.delete(bob), lambda: alice.history(bob),
                        lambda: alice.search("truck", filters={"user_id": "bob"}), lambda: alice.get_all(filters={"user_id": "bob"}),
                        lambda: alice.delete_all(user_id="bob"), lambda: alice.delete_users(user_id="bob")):
            try:
                attempt()
                check(False, "alice-key reached bob's memories")
            except SystemExit:
                raise
            except Exception:
                pass
        check(admin.get(bob)["memory"] == "Bob drives a red truck", "bob's memory survives alice-key")
        check({e["name"] for e in alice.users()["results"]} == {"alice"}, "alice-key sees only alice among entities")

        admin.delete(memory_id)
        check(admin.get_all(filters={"user_id": "alice"})["count"] == 1, "delete")
        admin.delete_all(user_id="alice")
        check(admin.get_all(filters={"user_id": "alice"})["count"] == 0, "delete_all")
        check(admin.get_all(filters={"user_id": "bob"})["count"] == 1, "delete_all keeps other users")

        # Time and truth through the client's pass-through fields: supersedes + valid_from on add,
        # as_of / include_superseded / recency_half_life_days on search and get_all.
        lisbon = admin.add("Erin lives in Lisbon", user_id="erin", infer=False, valid_from="2025-01-01")["results"][0]
        paris = admin.add("Erin lives in Paris", user_id="erin", infer=False, valid_from="2026-06-01", supersedes=lisbon["id"])["results"][0]
        check(paris["valid_from"].startswith("2026-06-01") and paris["valid_to"] is None and paris["superseded_by"] is None, f"supersede: {paris}")
        closed = admin.get(lisbon["id"])
        check(closed["valid_to"].startswith("2026-06-01") and closed["superseded_by"] == paris["id"], f"superseded: {closed}")
        where = lambda **kw: [h["memory"] for h in admin.search("where does Erin live", filters={"user_id": "erin"}, **kw)["results"]]
        check(where() == ["Erin lives in Paris"], f"current: {where()}")
        check(where(as_of="2025-06-01") == ["Erin lives in Lisbon"], f"as_of: {where(as_of='2025-06-01')}")
        check(admin.get_all(filters={"user_id": "erin"}, include_superseded=True)["count"] == 2, "include_superseded")
        decayed = admin.search("where does Erin live", filters={"user_id": "erin"}, recency_half_life_days=30, include_superseded=True)["results"]
        check(all(0 < h["score_details"]["recency"] <= 1 for h in decayed), f"recency: {decayed}")
        check([e["event"] for e in admin.history(lisbon["id"])] == ["ADD", "SUPERSEDE"], "history records the supersession")

        # Mem0's write fields: infer=False keeps every non-system message with its role (and name as
        # actor_id); expiration_date (a day: its end) can be changed and cleared by update; fields
        # Engram does not implement are refused by name.
        raw = admin.add([{"role": "system", "content": "be brief"}, {"role": "user", "content": "Finn keeps bees", "name": "finn"},
                         {"role": "assistant", "content": "Bees noted"}], user_id="finn", infer=False, expiration_date="2099-12-31")["results"]
        check([(m["memory"], m["metadata"]) for m in raw] == [("Finn keeps bees", {"actor_id": "finn", "role": "user"}),
                                                              ("Bees noted", {"role": "assistant"})], f"infer=False: {raw}")
        check(raw[0]["expiration_date"].startswith("2099-12-31T23:59:59"), f"an expiration day ends at its end: {raw[0]}")
        admin.update(raw[0]["id"], expiration_date=None)
        check("expiration_date" not in admin.get(raw[0]["id"]), "expiration_date=None clears the expiry")
        admin.update(raw[0]["id"], expiration_date="2098-01-01")
        check(admin.get(raw[0]["id"])["expiration_date"].startswith("2098-01-01T23:59:59"), "expiration_date updated")
        # immutable=True: kept and reported; update and delete refused (409), the memory unchanged.
        fixed = admin.add("Finn is allergic to wasps", user_id="finn", infer=False, immutable=True)["results"][0]
        check(fixed["immutable"] is True, f"immutable: {fixed}")
        for attempt in (lambda: admin.update(fixed["id"], text="Finn likes wasps"), lambda: admin.delete(fixed["id"])):
            try:
                attempt()
                check(False, "an immutable memory was changed")
            except SystemExit:
                raise
            except Exception as error:
                check("immutable" in str(error) or "409" in str(error), f"immutable refused: {error}")
        check(admin.get(fixed["id"])["memory"] == "Finn is allergic to wasps", "immutable memory unchanged")
        try:
            admin.add("x", user_id="finn", custom_categories=[{"a": "b"}])
            check(False, "custom_categories is refused")
        except SystemExit:
            raise
        except Exception as error:
            check("custom_categories" in str(error) or "422" in str(error), f"custom_categories refused by name: {error}")

        # Nested metadata: stored and returned as given; filters address nested keys with dots.
        prefs = {"prefs": {"food": "thai", "spice": 3, "tags": ["hot", "sour"]}, "history": [{"year": 2024}, 7, None]}
        nested = admin.add("Gil orders pad thai", user_id="gil", infer=False, metadata=prefs)["results"][0]
        admin.add("Gil orders sushi", user_id="gil", infer=False, metadata={"prefs": {"food": "japanese", "spice": 1}})
        check(admin.get(nested["id"])["metadata"] == {**prefs, "role": "user"}, f"nested metadata round trip: {admin.get(nested['id'])}")
        found = admin.search("what does Gil order", filters={"AND": [{"user_id": "gil"}, {"prefs.food": "thai"}]})["results"]
        check([h["memory"] for h in found] == ["Gil orders pad thai"], f"dotted filter: {found}")
        spicy = admin.get_all(filters={"AND": [{"user_id": "gil"}, {"prefs.spice": {"gte": 2}}, {"prefs.tags": "sour"}]})["results"]
        check([m["memory"] for m in spicy] == ["Gil orders pad thai"], f"dotted range + array filter: {spicy}")

        # batch_update and batch_delete: one transaction each.
        batch = [m["id"] for m in admin.add([{"role": "user", "content": "Dana likes jazz"},
                                              {"role": "user", "content": "Dana plays chess"}], user_id="dana")["results"]]
        admin.batch_update([{"memory_id": batch[0], "text": "Dana likes blues"}, {"memory_id": batch[1], "metadata": {"level": "club"}}])
        check(admin.get(batch[0])["memory"] == "Dana likes blues" and admin.get(batch[1])["metadata"] == {"level": "club"}, "batch_update")
        try:
            alice.batch_delete([{"memory_id": batch[0]}])
            check(False, "alice-key batch-deleted dana's memory")
        except SystemExit:
            raise
        except Exception:
            pass
        admin.batch_delete([{"memory_id": i} for i in batch])
        check(admin.get_all(filters={"user_id": "dana"})["count"] == 0, "batch_delete")

        # create_memory_export / get_memory_export: the memories of the scope, read when fetched.
        export = admin.create_memory_export(schema=json.dumps({"type": "object", "title": "Bob"}), user_id="bob")
        got = admin.get_memory_export(memory_export_id=export["id"])
        check(got["id"] == export["id"] and [m["memory"] for m in got["results"]] == ["Bob drives a red truck"], f"memory export: {got}")
        try:
            alice.get_memory_export(memory_export_id=export["id"])
            check(False, "alice-key read bob's export")
        except SystemExit:
            raise
        except Exception:
            pass

        # delete_users (one entity) and reset (every entity the key sees).
        admin.add("Carol collects stamps", user_id="carol ü")
        admin.add("The planner agent prefers short plans", agent_id="planner")
        admin.delete_users(user_id="carol ü")
        check(admin.get_all(filters={"user_id": "carol ü"})["count"] == 0, "delete_users")
        check(admin.get_all(filters={"user_id": "bob"})["count"] == 1, "delete_users keeps other users")
        admin.reset()
        check(admin.users()["count"] == 0 and admin.get_all(filters={"agent_id": "planner"})["count"] == 0, "reset")

        try:
            MemoryClient(api_key="wrong-key", host=host)
            check(False, "a wrong key is refused")
        except SystemExit:
            raise
        except Exception:
            pass

        check_operations(host)
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=30)
        log.close()
        with open(log_path) as f:
            lines = f.read().splitlines()
        shutil.rmtree(work, ignore_errors=True)
    check(code == 0, f"server exit status {code} after SIGTERM")
    # --log-format json: every line an object; one per request, with its route and status, the key's
    # digest and never the key or a memory's text.
    records = [json.loads(line) for line in lines]
    requests = [r for r in records if r.get("message") == "request"]
    check(any(r.get("route") == "/v3/memories/search" and r.get("status") == 200 and r.get("request_id") for r in requests),
          f"request log lines: {requests[:3]}")
    check(not any(word in line for line in lines for word in ("vegetarian", "Lisbon", "admin-key")), "no memory text or key in the log")
    print("mem0ai end-to-end: ok")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
