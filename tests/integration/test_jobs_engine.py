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
