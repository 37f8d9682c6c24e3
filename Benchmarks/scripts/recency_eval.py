#!/usr/bin/env python3
"""What recency weighting and supersession do when facts change over time.

A synthetic population: each user has a few topics (drink, city, sport, ...) whose value changes
3-5 times over two years (a new fact each time: "These days I drink oolong tea"), and unrelated
facts in between. Asked "what does the user drink?", the right answer is the latest value.

Two ways an agent can store the changes:
- unmarked: every fact added as a new memory (the agent did not link it to the old one), so a
  search sees every version; recency weighting (half-life 30 / 90 / 365 days) is what can prefer
  the newest;
- superseded: each change added with `supersedes` = the previous value, so a default search sees
  only current facts, and `as_of` recovers the value at a past instant.

Each question filters on its topic, so that its candidates are the versions of one fact: hit@1
(the top hit is the right version) measures how a search chooses among versions, not how well
the embedder matches questions to facts. Native MiniLM embedder, hybrid mode.

    python3 Benchmarks/scripts/recency_eval.py .build/release/engram > Benchmarks/results/recency-eval.jsonl
"""
import datetime, json, os, random, shutil, subprocess, sys, tempfile

TOPICS = {
    "drink": ("What does the user like to drink?", ["green tea", "black coffee", "oolong tea", "espresso", "matcha", "rooibos", "hot chocolate", "chai"],
              ["These days I mostly drink {v}.", "My favourite drink is {v} now.", "I have switched to {v}.", "I drink {v} every morning."]),
    "city": ("Where does the user live?", ["Lisbon", "Porto", "Berlin", "Madrid", "Oslo", "Vienna", "Prague", "Dublin"],
             ["I live in {v}.", "I moved to {v}.", "Home is {v} these days.", "We settled in {v}."]),
    "sport": ("Which sport does the user do?", ["running", "swimming", "climbing", "tennis", "cycling", "yoga", "rowing", "boxing"],
              ["I go {v} twice a week.", "My sport is {v} now.", "I took up {v}.", "Lately I do a lot of {v}."]),
    "job": ("What is the user's job?", ["nurse", "teacher", "software engineer", "chef", "architect", "pilot", "lawyer", "farmer"],
            ["I work as a {v}.", "I am a {v} now.", "I started a new job as a {v}.", "My job: {v}."]),
}
OTHER = ["I have a dog called Rex.", "My sister lives abroad.", "I am allergic to peanuts.", "I read before sleeping.",
         "I prefer window seats.", "My birthday is in May.", "I play the piano badly.", "I dislike loud restaurants."]
NOW = datetime.datetime(2026, 11, 30, tzinfo=datetime.timezone.utc)


def population(users, rng):
    facts, questions = [], []
    for u in range(users):
        user = f"user{u}"
        for topic, (question, values, templates) in TOPICS.items():
            chain = rng.sample(values, rng.randint(3, 5))
            # Every change in the past two years (a future valid_from would leave the old value current).
            days = sorted(rng.sample(range(1, 730), len(chain)), reverse=True)
            previous = None
            for level, value in enumerate(chain):
                day = NOW - datetime.timedelta(days=days[level])
                fid = f"{u:08d}-{list(TOPICS).index(topic):04d}-4000-8000-{level:012d}"
                facts.append({"id": fid, "text": rng.choice(templates).format(v=value), "user_id": user, "valid_from": day.isoformat(),
                              "level": level, "previous": previous, "metadata": {"topic": topic}})
                previous = fid
            latest = fid
            # The topic filter leaves the versions of one fact: which version comes first is the question.
            questions.append({"query": question, "filters": {"user_id": user, "topic": topic}, "limit": 1, "expected": latest,
                              "past": (chain, facts[-len(chain):])})
        for i, text in enumerate(rng.sample(OTHER, 4)):
            facts.append({"id": f"{u:08d}-ffff-4000-8000-{i:012d}", "text": text, "user_id": user,
                          "valid_from": (NOW - datetime.timedelta(days=rng.randint(1, 700))).isoformat(), "level": 0, "previous": None,
                          "metadata": {"topic": "other"}})
    return facts, questions


def run(engram, args):
    return subprocess.run([engram] + args, check=True, capture_output=True, text=True).stdout


def load(engram, store, facts, supersede):
    for level in range(max(f["level"] for f in facts) + 1):
        path = os.path.join(store, f"level{level}.jsonl")
        with open(path, "w") as f:
            for fact in facts:
                if fact["level"] != level:
                    continue
                line = {k: fact[k] for k in ("id", "text", "user_id", "valid_from", "metadata")}
                if supersede and fact["previous"]:
                    line["supersedes"] = fact["previous"]
                f.write(json.dumps(line) + "\n")
        run(engram, ["memory", "import", "--store", store, "--input", path])


def hit_at_1(engram, store, questions, extra, expected=lambda q: q["expected"]):
    path = os.path.join(store, "queries.jsonl")
    with open(path, "w") as f:
        for q in questions:
            f.write(json.dumps({k: q[k] for k in ("query", "filters", "limit", "as_of") if k in q}) + "\n")
    out = run(engram, ["memory", "search", "--store", store, "--queries", path, "--json", "--mode", "hybrid"] + extra).splitlines()
    hits = [json.loads(line)["results"] for line in out]
    return round(sum(bool(h) and h[0]["id"] == expected(q) for h, q in zip(hits, questions)) / len(questions), 4)


def main(engram, users=200):
    rng = random.Random(11)
    facts, questions = population(users, rng)
    work = tempfile.mkdtemp(prefix="engram-recency-")
    try:
        for supersede in (False, True):
            store = os.path.join(work, "superseded" if supersede else "unmarked")
            os.makedirs(store)
            load(engram, store, facts, supersede)
            storing = "superseded" if supersede else "unmarked"
            for half_life in (None, 30, 90, 365):
                questions = [{k: v for k, v in q.items() if k != "as_of"} for q in questions]
                extra = ["--recency-half-life-days", str(half_life)] if half_life else []
                print(json.dumps({"measure": "recency_eval", "storing": storing, "recency_half_life_days": half_life,
                                  "users": users, "questions": len(questions), "hit_at_1_latest": hit_at_1(engram, store, questions, extra)}))
            if supersede:
                # As of a day after each chain's first change: the first value is the right one.
                for q in questions:
                    chain_facts = q["past"][1]
                    first, second = chain_facts[0], chain_facts[1]
                    q["as_of"] = (datetime.datetime.fromisoformat(second["valid_from"]) - datetime.timedelta(days=1)).date().isoformat()
                    q["first"] = first["id"]
                print(json.dumps({"measure": "recency_eval", "storing": storing, "as_of": "the day before the first change",
                                  "users": users, "questions": len(questions),
                                  "hit_at_1_value_then": hit_at_1(engram, store, questions, [], expected=lambda q: q["first"])}))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".build/release/engram")
