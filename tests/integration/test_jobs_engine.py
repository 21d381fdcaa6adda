"""Jobs end to end with MQTT devices: notify / notify-next after HTTP changes and scheduler
releases, the device protocol over MQTT answered by the same state machine as HTTP, and the
rollout surviving a kill -9 of fleetyard-server without losing, duplicating or re-releasing an
execution."""
import json
import time

from conftest import Server
from test_broker import devices, new_cert, wd  # noqa: F401 (fixtures)


def messages(dev, timeout=1.0):
    """Everything the device receives until it has been quiet for timeout seconds."""
    got = []
    while True:
        m = dev.receive(timeout=timeout)
        if m is None:
            return got
        got.append((m[0].rsplit("/", 1)[-1], json.loads(m[1])))


def first(dev, suffix, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = dev.receive(timeout=max(0.05, deadline - time.time()))
        if m and m[0].endswith("/" + suffix):
            return json.loads(m[1])
    return None


def test_notify_next_follows_http_and_mqtt_changes(server, iot, wd, devices):  # noqa: F811
    iot.create_thing(thingName="nd1")
    arn = iot.describe_thing(thingName="nd1")["thingArn"]
    _, _, crt, key = new_cert(iot, wd, "nd1")
    d = devices(crt, key, "nd1")
    assert d.connect() == 0
    assert d.subscribe("$aws/things/nd1/jobs/notify-next") == (1,)
    assert d.subscribe("$aws/things/nd1/jobs/notify") == (1,)
    assert d.subscribe("$aws/things/nd1/jobs/+/update/accepted") == (1,)
    iot.create_job(jobId="n1", targets=[arn], document='{"step":1}')
    got = dict(messages(d))
    nxt, notify = got.get("notify-next"), got.get("notify")
    assert nxt and nxt["execution"]["jobId"] == "n1" and nxt["execution"]["status"] == "QUEUED"
    assert nxt["execution"]["jobDocument"] == {"step": 1} and isinstance(nxt["timestamp"], int)
    assert [e["jobId"] for e in notify["jobs"]["QUEUED"]] == ["n1"]
    iot.create_job(jobId="n2", targets=[arn], document="{}")
    got = messages(d)
    assert [m for m in got if m[0] == "notify"], got
    assert not [m for m in got if m[0] == "notify-next"], "the next job did not change"
    iot.cancel_job(jobId="n1")  # over HTTP: the next job becomes n2
    nxt = first(d, "notify-next")
    assert nxt and nxt["execution"]["jobId"] == "n2"
    d.publish("$aws/things/nd1/jobs/n2/update",
              json.dumps({"status": "SUCCEEDED", "clientToken": "c1"}))
    acc = first(d, "accepted")
    assert acc and acc["clientToken"] == "c1"
    nxt = first(d, "notify-next")
    assert nxt is not None and "execution" not in nxt, nxt
    assert iot.describe_job_execution(jobId="n2", thingName="nd1")["execution"]["status"] == \
        "SUCCEEDED"


def test_kill9_loses_nothing_and_releases_nothing_twice():
    s = Server()
    try:
        s.start()
        iot, jobs = s.client("iot"), s.client("iot-jobs-data")
        iot.create_thing_group(thingGroupName="k9")
        things = [f"k9-{i}" for i in range(6)]
        for t in things:
            iot.create_thing(thingName=t)
            iot.add_thing_to_thing_group(thingGroupName="k9", thingName=t)
        arn = iot.describe_thing_group(thingGroupName="k9")["thingGroupArn"]
        iot.create_job(jobId="k9", targets=[arn], document="{}",
                       jobExecutionsRolloutConfig={"maximumPerMinute": 2})

        def visible():
            return sorted(t for t in things
                          if jobs.get_pending_job_executions(thingName=t)["queuedJobs"])
        deadline = time.time() + 5
        while len(visible()) < 2 and time.time() < deadline:
            time.sleep(0.05)
        before = visible()
        assert len(before) == 2
        jobs.update_job_execution(thingName=before[0], jobId="k9", status="SUCCEEDED")
        s.kill9()
        s.start()
        iot, jobs = s.client("iot"), s.client("iot-jobs-data")
        time.sleep(1.0)  # several scheduler passes after the restart
        assert visible() == before[1:], "the rate's minute survives: nothing more released"
        summaries = iot.list_job_executions_for_job(jobId="k9")["executionSummaries"]
        assert sorted(x["thingArn"].split("/")[-1] for x in summaries) == things
        assert all(x["jobExecutionSummary"]["executionNumber"] == 1 for x in summaries)
        details = iot.describe_job(jobId="k9")["job"]["jobProcessDetails"]
        assert details["numberOfSucceededThings"] == 1 and details["numberOfQueuedThings"] == 5
        assert s.stop() == 0
    finally:
        s.cleanup()


def test_twenty_mqtt_devices_never_exceed_the_concurrency_limit(server, iot, wd, devices):  # noqa: F811
    """20 devices run one job with maxConcurrentExecutions 5 over MQTT (notify-next, update
    IN_PROGRESS, update SUCCEEDED 0.2 s later) while the test polls how many are working; a
    device that finishes releases the next thing in the same request."""
    import threading
    from test_jobs import iot_server
    from conftest import signed_request
    limit, n = 5, 20
    names = [f"md-{i:02d}" for i in range(n)]
    iot.create_thing_group(thingGroupName="md")
    for t in names:
        iot.create_thing(thingName=t)
        iot.add_thing_to_thing_group(thingGroupName="md", thingName=t)
    _, _, crt, key = new_cert(iot, wd, "md")
    finished_at, notified_at, lock = {}, {}, threading.Lock()
    devs = []

    def on_message(dev, thing, msg):
        if not msg.topic.endswith("/notify-next"):
            return
        ex = json.loads(msg.payload).get("execution")
        if not ex or ex["status"] != "QUEUED":
            return
        with lock:
            notified_at.setdefault(thing, time.time())
        topic = f"$aws/things/{thing}/jobs/{ex['jobId']}/update"
        dev.c.publish(topic, json.dumps({"status": "IN_PROGRESS"}), qos=1)

        def finish():
            with lock:
                finished_at[thing] = time.time()
            dev.c.publish(topic, json.dumps({"status": "SUCCEEDED"}), qos=1)
        threading.Timer(0.2, finish).start()

    for t in names:
        d = devices(crt, key, t)
        d.c.on_message = (lambda dev, thing: lambda c, u, m: on_message(dev, thing, m))(d, t)
        assert d.connect() == 0
        assert d.subscribe(f"$aws/things/{t}/jobs/notify-next") == (1,)
        devs.append(d)
    body = {"targets": [iot.describe_thing_group(thingGroupName="md")["thingGroupArn"]],
            "document": "{}", "jobExecutionsConfig": {"maxConcurrentExecutions": limit}}
    r = signed_request(iot_server(iot), "PUT", "/jobs/md", json.dumps(body).encode())
    assert r.status_code == 200, r.text
    most, deadline = 0, time.time() + 30
    while time.time() < deadline:
        # one atomic read: executions working now (devices start theirs as soon as told)
        working = len(iot.list_job_executions_for_job(jobId="md", status="IN_PROGRESS")[
            "executionSummaries"])
        most = max(most, working)
        if iot.describe_job(jobId="md")["job"]["status"] == "COMPLETED":
            break
    assert iot.describe_job(jobId="md")["job"]["status"] == "COMPLETED"
    assert 0 < most <= limit, most
    d = iot.describe_job(jobId="md")["job"]["jobProcessDetails"]
    assert d["numberOfSucceededThings"] == n
    # each release after the first wave follows some device's finish: the gap is the rollout's
    # reaction time (the finishing update itself releases the next thing)
    firsts = sorted(notified_at.values())[limit:]
    ends = sorted(finished_at.values())
    gaps = sorted(t - max(e for e in ends if e <= t) for t in firsts if any(e <= t for e in ends))
    print(f"release after a finish: p50 {gaps[len(gaps) // 2] * 1000:.0f} ms, "
          f"max {gaps[-1] * 1000:.0f} ms over {len(gaps)} releases; most working at once {most}")
    assert gaps and gaps[len(gaps) // 2] < 0.1 and gaps[-1] < 1.0, gaps
