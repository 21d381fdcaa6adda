"""Fleet indexing benchmark (not part of the test suite; prints figures, asserts only that the
answers are right): 100,000 things with attributes and shadows, SearchIndex latency p50/p99
for a selective, a broad and a shadow-range query, each side by side with the same selection
made by a full scan (a leading-wildcard or non-indexable form of the query), and the server's
resident memory afterwards.

    FY_BUILD_DIR=build /usr/bin/python3 -m pytest -q -s -p no:cacheprovider \\
        tests/bench/bench_index.py          (also run by tests/bench/run.sh)
"""
import json
import os
import sqlite3
import time

import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from conftest import Server  # noqa: E402

N = int(os.environ.get("FY_INDEX_BENCH_THINGS", "100000"))
ROUNDS = 50



def populate(server):
    db = sqlite3.connect(os.path.join(server.data_dir, "fleetyard.db"), timeout=60)
    now = time.time()
    with db:
        db.execute("INSERT INTO thing_types(id, name, type_id, creation_date) "
                   "VALUES (1, 'sensor', 'ty', ?)", (now,))
        db.executemany(
            "INSERT INTO things(id, name, thing_id, type_id, creation_date, modified_date) "
            "VALUES (?, ?, ?, 1, ?, ?)",
            ((i, "bench-%06d" % i, "id-%06d" % i, now, now) for i in range(N)))
        db.executemany(
            "INSERT INTO thing_attributes(thing, key, value) VALUES (?, ?, ?)",
            ((i, k, v) for i in range(N) for k, v in (
                ("serial", "SN%06d" % i), ("site", ("north", "south")[i % 2]),
                ("floor", str(i % 20)))))
        db.executemany(
            "INSERT INTO shadows(thing_name, name, doc, version, updated) VALUES (?, '', ?, 1, ?)",
            (("bench-%06d" % i, json.dumps({"state": {"reported": {"temp": (i % 400) / 10.0,
                                                                  "battery": i % 101}}}), now)
             for i in range(N)))
        db.execute("DELETE FROM index_dirty")
    db.close()


def timed(iot, query, rounds=ROUNDS):
    times, names = [], None
    for _ in range(rounds):
        t0 = time.perf_counter()
        r = iot.search_index(queryString=query, maxResults=100)
        times.append((time.perf_counter() - t0) * 1000)
        names = [t["thingName"] for t in r["things"]]
    times.sort()
    return times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.99))], names


def search_all_members(iot, group):
    names, token = [], None
    while True:
        r = iot.list_things_in_thing_group(thingGroupName=group, maxResults=250,
                                           **({"nextToken": token} if token else {}))
        names += r["things"]
        token = r.get("nextToken")
        if not token:
            return names


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0


def test_search_latency_100k():
    s = Server().start()
    try:
        iot = s.client("iot")
        iot.update_indexing_configuration(thingIndexingConfiguration={
            "thingIndexingMode": "REGISTRY_AND_SHADOW"})
        t0 = time.time()
        populate(s)
        print("\n# %d things with 3 attributes and a shadow loaded in %.1f s" % (N, time.time() - t0))
        cases = [
            ("selective", "attributes.serial:SN04201*", "attributes.serial:*N04201?"),
            ("exact", "attributes.serial:SN042017", "attributes.serial:*N042017"),
            ("broad", "attributes.site:north", "attributes.site:*orth"),
            ("shadow range", "shadow.reported.temp:[20 TO 20.5]", None),
        ]
        for label, query, scan in cases:
            p50, p99, names = timed(iot, query)
            line = "# %-12s %-38s p50 %7.2f ms  p99 %7.2f ms" % (label, query, p50, p99)
            if scan:
                s50, s99, scan_names = timed(iot, scan, rounds=10)
                assert scan_names == names
                line += "   | full scan %-26s p50 %7.2f ms  p99 %7.2f ms" % (scan, s50, s99)
            print(line)
            assert names, label
        for name, query, want in (("half", "attributes.site:north", N // 2),
                                  ("few", "attributes.floor:7", N // 20)):
            t0 = time.perf_counter()
            iot.create_dynamic_thing_group(thingGroupName=name, queryString=query)
            ms = (time.perf_counter() - t0) * 1000
            while iot.describe_thing_group(thingGroupName=name)["status"] != "ACTIVE":
                time.sleep(0.05)
            active = (time.perf_counter() - t0) * 1000
            n = len(search_all_members(iot, name))
            assert n == want, (query, n)
            print("# create-dynamic-thing-group %-22s %6d members: call %6.1f ms, ACTIVE after "
                  "%6.1f ms (chunks of 1000 things)" % (query, n, ms, active))
        print("# server resident memory: %.0f MB" % rss_mb(s.proc.pid))
    finally:
        s.cleanup()
