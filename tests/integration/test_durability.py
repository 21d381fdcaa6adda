"""State survives restarts, and a kill -9 in the middle of a burst of writes loses no write the
server acknowledged."""
import os
import threading
import time

from conftest import Server


def test_state_survives_restart():
    s = Server()
    try:
        s.start()
        iot = s.client("iot")
        iot.create_thing(thingName="keep-me", attributePayload={"attributes": {"a": "1"}})
        creds = (s.env["AWS_ACCESS_KEY_ID"], s.env["AWS_SECRET_ACCESS_KEY"])
        assert s.stop() == 0, "SIGTERM must stop the server cleanly"
        s.start()
        assert (s.env["AWS_ACCESS_KEY_ID"], s.env["AWS_SECRET_ACCESS_KEY"]) == creds
        t = s.client("iot").describe_thing(thingName="keep-me")
        assert t["attributes"] == {"a": "1"} and t["version"] == 1
    finally:
        s.cleanup()


def test_kill9_during_write_burst_loses_no_acknowledged_write():
    s = Server()
    try:
        s.start()
        acked, stop = [], threading.Event()
        lock = threading.Lock()

        def writer(n):
            iot = s.client("iot")
            i = 0
            while not stop.is_set():
                name = f"w{n}-{i}"
                try:
                    iot.create_thing(thingName=name)
                except Exception:
                    return  # the server died under us: this write was not acknowledged
                with lock:
                    acked.append(name)
                i += 1

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        s.kill9()
        stop.set()
        for t in threads:
            t.join(30)
        assert len(acked) > 20, "the burst produced too few writes to mean anything"
        s.start()
        iot = s.client("iot")
        names = set()
        for page in iot.get_paginator("list_things").paginate(PaginationConfig={"PageSize": 250}):
            names.update(t["thingName"] for t in page["things"])
        missing = [n for n in acked if n not in names]
        assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {missing[:5]}"
    finally:
        s.cleanup()
