"""Event configurations (UpdateEventConfigurations / DescribeEventConfigurations) and the job
events they enable (AWS_IOT_BEHAVIOUR.md sections 5 and 7): $aws/events/job/<jobId>/<operation>
and $aws/events/jobExecution/<jobId>/<operation>, published only when enabled."""
import json
import time

import pytest

from test_broker import devices, new_cert, wd  # noqa: F401 (fixtures)

TYPES = ["THING", "THING_GROUP", "THING_TYPE", "THING_GROUP_MEMBERSHIP", "THING_GROUP_HIERARCHY",
         "THING_TYPE_ASSOCIATION", "JOB", "JOB_EXECUTION", "POLICY", "CERTIFICATE",
         "CA_CERTIFICATE"]


def events(d, prefix, timeout=5, want=1):
    out = []
    deadline = time.time() + timeout
    while time.time() < deadline and len(out) < want:
        m = d.receive(timeout=max(0.01, deadline - time.time()))
        if m and m[0].startswith(prefix):
            out.append((m[0], json.loads(m[1])))
    return out


def test_describe_defaults_and_update(iot, aws):
    out = iot.describe_event_configurations()
    assert set(out["eventConfigurations"]) == set(TYPES)
    assert not any(v["Enabled"] for v in out["eventConfigurations"].values())
    iot.update_event_configurations(eventConfigurations={"JOB": {"Enabled": True}})
    out = iot.describe_event_configurations()
    assert out["eventConfigurations"]["JOB"]["Enabled"] is True
    assert out["eventConfigurations"]["THING"]["Enabled"] is False
    assert out["lastModifiedDate"] >= out["creationDate"]
    r = aws("iot", "update-event-configurations", "--event-configurations",
            '{"JOB":{"Enabled":false},"JOB_EXECUTION":{"Enabled":true}}')
    assert r.rc == 0, r.err
    cfg = iot.describe_event_configurations()["eventConfigurations"]
    assert cfg["JOB"]["Enabled"] is False and cfg["JOB_EXECUTION"]["Enabled"] is True


def test_bad_configuration_changes_nothing(server, iot):
    from conftest import signed_request
    for body in ({"eventConfigurations": {"NOPE": {"Enabled": True}}},
                 {"eventConfigurations": {"JOB": {"Enabled": "yes"}}},
                 {"eventConfigurations": {"JOB": True}},
                 {"other": 1}):
        r = signed_request(server, "PATCH", "/event-configurations", json.dumps(body).encode())
        assert r.status_code == 400, (body, r.text)
        assert r.headers["x-amzn-ErrorType"].startswith("InvalidRequestException")
    cfg = iot.describe_event_configurations()["eventConfigurations"]
    assert not any(v["Enabled"] for v in cfg.values())


@pytest.fixture
def watcher(iot, wd, devices):
    _, _, crt, key = new_cert(iot, wd, "ev")
    w = devices(crt, key, "event-watcher")
    assert w.connect() == 0
    assert w.subscribe("$aws/events/job/#") == (1,)
    assert w.subscribe("$aws/events/jobExecution/#") == (1,)
    return w


def run_job(server, iot, job_id, thing):
    arn = iot.create_thing(thingName=thing)["thingArn"]
    iot.create_job(jobId=job_id, targets=[arn], document='{"op":"x"}')
    jd = server.client("iot-jobs-data")
    deadline = time.time() + 5
    while not jd.get_pending_job_executions(thingName=thing)["queuedJobs"]:
        assert time.time() < deadline
        time.sleep(0.05)
    jd.update_job_execution(jobId=job_id, thingName=thing, status="SUCCEEDED",
                            statusDetails={"step": "done"})
    return arn


def test_job_events_when_enabled(server, iot, watcher):
    iot.update_event_configurations(eventConfigurations={
        "JOB": {"Enabled": True}, "JOB_EXECUTION": {"Enabled": True}})
    thing_arn = run_job(server, iot, "ev-job", "ev-thing")
    got = dict(events(watcher, "$aws/events/", want=2))
    ex = got["$aws/events/jobExecution/ev-job/succeeded"]
    assert ex["eventType"] == "JOB_EXECUTION" and ex["operation"] == "succeeded"
    assert ex["jobId"] == "ev-job" and ex["thingArn"] == thing_arn
    assert ex["status"] == "SUCCEEDED" and ex["statusDetails"] == {"step": "done"}
    assert len(ex["eventId"]) == 32 and abs(ex["timestamp"] - time.time()) < 120
    job = got["$aws/events/job/ev-job/completed"]
    assert job["eventType"] == "JOB" and job["status"] == "COMPLETED"
    assert job["targetSelection"] == "SNAPSHOT" and job["targets"] == [thing_arn]
    assert job["jobProcessDetails"]["numberOfSucceededThings"] == 1
    assert "completedAt" in job and "comment" not in job
    iot.delete_job(jobId="ev-job")
    deleted = events(watcher, "$aws/events/job/ev-job/deleted", timeout=10)
    assert deleted and deleted[0][1]["operation"] == "deleted"


def test_canceled_job_event(server, iot, watcher):
    iot.update_event_configurations(eventConfigurations={"JOB": {"Enabled": True}})
    arn = iot.create_thing(thingName="ev-cancel")["thingArn"]
    iot.create_job(jobId="ev-cancel-job", targets=[arn], document='{"op":"x"}')
    iot.cancel_job(jobId="ev-cancel-job", comment="stop it")
    got = events(watcher, "$aws/events/job/ev-cancel-job/canceled")
    assert got and got[0][1]["status"] == "CANCELED" and got[0][1]["comment"] == "stop it"


def test_no_events_when_disabled(server, iot, watcher):
    run_job(server, iot, "quiet-job", "quiet-thing")
    assert events(watcher, "$aws/events/", timeout=1.5) == []
