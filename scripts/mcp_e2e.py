#!/usr/bin/env python3
"""End-to-end check of `engram mcp` with the real MCP Python client (pip install mcp, 2.x).

    python3 scripts/mcp_e2e.py path/to/engram

Spawns `engram mcp --store DIR --user alice` on stdio, lists the tools, then add → search → list →
get → update → delete → delete_all through tool calls; checks that filters narrow, that the model
cannot reach bob's memories (another server on the same store, scoped to bob, holds one), and that
malformed calls are answered as tool errors without ending the server. Then the same tools over
MCP's streamable HTTP transport at `/mcp` on `engram serve`: a key restricted to alice works in her
scope by default and is refused bob's. Exits non-zero on the first failed check.
"""
import asyncio, json, os, re, shutil, signal, subprocess, sys, tempfile

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client


def check(condition, message):
    if not condition:
        raise SystemExit(f"FAILED: {message}")


async def call(session, tool, arguments):
    result = await session.call_tool(tool, arguments)
    text = result.content[0].text
    return result.is_error, (text if result.is_error else json.loads(text))


async def main(engram):
    work = tempfile.mkdtemp(prefix="engram-mcp-")
    store = os.path.join(work, "store")
    try:
        # bob's memory first, through a server scoped to bob (the store is one process's at a time).
        async with stdio_client(StdioServerParameters(command=engram, args=["mcp", "--store", store, "--user", "bob"])) as (r, w):
            async with ClientSession(r, w) as bob:
                await bob.initialize()
                error, added = await call(bob, "add_memories", {"messages": "Bob drives a red truck"})
                check(not error, f"bob's add: {added}")
                bob_id = added["results"][0]["id"]

        async with stdio_client(StdioServerParameters(command=engram, args=["mcp", "--store", store, "--user", "alice"])) as (r, w):
            async with ClientSession(r, w) as s:
                await s.initialize()
                tools = {t.name: t for t in (await s.list_tools()).tools}
                expected = {"add_memories", "search_memories", "list_memories", "get_memory", "update_memory", "delete_memory", "delete_all_memories",
                            "recall_context"}
                check(expected <= set(tools), f"tools: {sorted(tools)}")
                check(all(tools[n].description and tools[n].input_schema.get("type") == "object" for n in expected), "every tool has a description and a schema")

                error, added = await call(s, "add_memories", {"messages": [{"role": "user", "content": "I am vegetarian"},
                                                                           {"role": "assistant", "content": "Noted"},
                                                                           {"role": "user", "content": "My favourite city is Lisbon"}],
                                                              "metadata": {"topic": "life"}})
                check(not error and [m["event"] for m in added["results"]] == ["ADD", "ADD"], f"add: {added}")
                veg = added["results"][0]["id"]
                error, again = await call(s, "add_memories", {"messages": "I am vegetarian"})
                check(not error and again["results"][0]["event"] == "NONE", f"a duplicate is not stored twice: {again}")

                error, hits = await call(s, "search_memories", {"query": "what does she eat", "limit": 5})
                check(not error and hits["results"] and all(h["user_id"] == "alice" for h in hits["results"]), f"search: {hits}")
                error, none = await call(s, "search_memories", {"query": "truck", "filters": {"user_id": "bob"}})
                check(not error and none["results"] == [], f"a filter naming bob finds nothing of bob's: {none}")
                error, listed = await call(s, "list_memories", {"filters": {"topic": "life"}})
                check(not error and listed["count"] == 2, f"list with a filter: {listed}")

                # A changed fact supersedes the old one; recall hands a dated, budgeted context.
                error, lisbon = await call(s, "search_memories", {"query": "favourite city", "limit": 1})
                error, porto = await call(s, "add_memories", {"messages": "My favourite city is Porto", "supersedes": lisbon["results"][0]["id"]})
                check(not error and porto["results"][0]["event"] == "ADD", f"supersede: {porto}")
                error, cities = await call(s, "search_memories", {"query": "favourite city"})
                check(not error and "Lisbon" not in json.dumps(cities) and "Porto" in json.dumps(cities), f"current only: {cities}")
                error, then = await call(s, "search_memories", {"query": "favourite city", "as_of": "2000-01-01"})
                check(not error and then["results"] == [], f"nothing was true in 2000: {then}")
                error, every = await call(s, "list_memories", {"include_superseded": True})
                check(not error and every["count"] == 3, f"every version: {every}")
                error, context = await call(s, "recall_context", {"query": "plan a trip for her", "budget_tokens": 40})
                check(not error and context["tokens"] <= 40 and re.search(r"^\[\d{4}-\d\d-\d\d\] My favourite city is Porto$", context["context"], re.M), f"recall: {context}")
                error, text = await call(s, "recall_context", {"query": "x"})
                check(error and "budget_tokens" in text, f"recall without a budget: {text}")

                error, got = await call(s, "get_memory", {"memory_id": veg})
                check(not error and got["memory"] == "I am vegetarian", f"get: {got}")
                error, updated = await call(s, "update_memory", {"memory_id": veg, "text": "I am vegan"})
                check(not error and updated["memory"] == "I am vegan", f"update: {updated}")

                for tool in ("get_memory", "update_memory", "delete_memory"):
                    error, text = await call(s, tool, {"memory_id": bob_id, "text": "x"})
                    check(error and "no memory" in text, f"{tool} of bob's memory: {text}")
                # Malformed calls: tool errors, and the server goes on.
                for tool, arguments in (("search_memories", {}), ("search_memories", {"query": "x", "limit": "ten"}),
                                        ("get_memory", {"memory_id": "not-an-id"}), ("add_memories", {"messages": 7}),
                                        ("list_memories", {"filters": {"nope": {"$bad": 1}}}), ("no_such_tool", {}),
                                        ("delete_all_memories", {})):
                    error, text = await call(s, tool, arguments)
                    check(error and text, f"{tool} {arguments} is a tool error: {text}")

                error, deleted = await call(s, "delete_memory", {"memory_id": veg})
                check(not error, f"delete: {deleted}")
                error, gone = await call(s, "delete_all_memories", {"confirm": True})
                check(not error and gone["deleted"] == 2, f"delete_all (both versions of the city): {gone}")
                error, empty = await call(s, "list_memories", {})
                check(not error and empty["count"] == 0, f"alice has none left: {empty}")

        async with stdio_client(StdioServerParameters(command=engram, args=["mcp", "--store", store, "--user", "bob"])) as (r, w):
            async with ClientSession(r, w) as bob:
                await bob.initialize()
                error, listed = await call(bob, "list_memories", {})
                check(not error and [m["id"] for m in listed["results"]] == [bob_id], f"bob's memory survives alice's deletes: {listed}")
        await over_http(engram, store, work, bob_id)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("mcp end-to-end: ok")


async def over_http(engram, store, work, bob_id):
    keys = os.path.join(work, "keys.json")
    with open(keys, "w") as f:
        json.dump({"admin-key": {}, "alice-key": {"user_id": ["alice"]}}, f)
    server = subprocess.Popen([engram, "serve", "--store", store, "--port", "0", "--api-keys", keys],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        host = "http://" + json.loads(server.stdout.readline())["listening"]

        async def tools(url, key):
            client = create_mcp_http_client(headers={"Authorization": f"Token {key}"})
            return client, streamable_http_client(url, http_client=client, terminate_on_close=False)

        client, transport = await tools(host + "/mcp", "alice-key")  # the key's one user: alice
        async with client, transport as (r, w):
            async with ClientSession(r, w) as s:
                await s.initialize()
                check(len((await s.list_tools()).tools) >= 7, "tools over HTTP")
                error, added = await call(s, "add_memories", {"messages": "Alice reads on trains"})
                check(not error and added["results"][0]["user_id"] == "alice", f"add over HTTP: {added}")
                error, hits = await call(s, "search_memories", {"query": "trains"})
                check(not error and hits["results"][0]["memory"] == "Alice reads on trains", f"search over HTTP: {hits}")
                error, text = await call(s, "get_memory", {"memory_id": bob_id})
                check(error, "bob's memory out of reach over HTTP")
        import urllib.error, urllib.request
        request = urllib.request.Request(host + "/mcp?user_id=bob", method="POST", data=b"{}",
                                         headers={"Authorization": "Token alice-key", "Content-Type": "application/json"})
        try:
            urllib.request.urlopen(request)
            check(False, "alice-key got an answer in bob's scope")
        except urllib.error.HTTPError as e:
            check(e.code == 403, f"alice-key in bob's scope: {e.code}")
        client, transport = await tools(host + "/mcp?user_id=bob", "alice-key")
        try:
            async with client, transport as (r, w):
                async with ClientSession(r, w) as s:
                    await s.initialize()
            check(False, "alice-key reached bob's scope over MCP")
        except SystemExit:
            raise
        except BaseException:
            pass
        client, transport = await tools(host + "/mcp?user_id=bob", "admin-key")
        async with client, transport as (r, w):
            async with ClientSession(r, w) as s:
                await s.initialize()
                error, listed = await call(s, "list_memories", {})
                check(not error and [m["id"] for m in listed["results"]] == [bob_id], f"admin in bob's scope: {listed}")
    finally:
        server.send_signal(signal.SIGTERM)
        check(server.wait(timeout=30) == 0, "serve exits cleanly")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
