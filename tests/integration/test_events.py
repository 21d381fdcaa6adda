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


@pytest.fixture
def registry_watcher(iot, wd, devices):
    _, _, crt, key = new_cert(iot, wd, "rev")
    w = devices(crt, key, "registry-watcher")
    assert w.connect() == 0
    for t in ("thing", "thingType", "thingTypeAssociation", "thingGroupMembership"):
        assert w.subscribe(f"$aws/events/{t}/#") == (1,)
    return w


def by_topic(d, want, timeout=5):
    return dict(events(d, "$aws/events/", timeout=timeout, want=want))


def test_registry_events(server, iot, registry_watcher):
    iot.update_event_configurations(eventConfigurations={
        t: {"Enabled": True} for t in ("THING", "THING_TYPE", "THING_TYPE_ASSOCIATION",
                                       "THING_GROUP_MEMBERSHIP")})
    account = server.env.get("FLEETYARD_ACCOUNT_ID", "123456789012")
    iot.create_thing_type(thingTypeName="ev-type",
                          thingTypeProperties={"searchableAttributes": ["loc"]})
    made = iot.create_thing(thingName="ev-t1", thingTypeName="ev-type",
                            attributePayload={"attributes": {"loc": "A"}})
    got = by_topic(registry_watcher, 3)
    ty = got["$aws/events/thingType/ev-type/created"]
    assert ty["eventType"] == "THING_TYPE_EVENT" and ty["operation"] == "CREATED"
    assert ty["searchableAttributes"] == ["loc"] and ty["isDeprecated"] is False
    th = got["$aws/events/thing/ev-t1/created"]
    assert th["eventType"] == "THING_EVENT" and th["operation"] == "CREATED"
    assert th["thingId"] == made["thingId"] and th["thingTypeName"] == "ev-type"
    assert th["attributes"] == {"loc": "A"} and th["accountId"] == account
    assert th["versionNumber"] == 1 and th["timestamp"] > 10**12
    assoc = got["$aws/events/thingTypeAssociation/thing/ev-t1/thingType/ev-type/added"]
    assert assoc["operation"] == "ADDED" and assoc["thingName"] == "ev-t1"

    iot.update_thing(thingName="ev-t1", attributePayload={"attributes": {"loc": "B"}},
                     removeThingType=True)
    got = by_topic(registry_watcher, 2)
    up = got["$aws/events/thing/ev-t1/updated"]
    assert up["versionNumber"] == 2 and up["attributes"] == {"loc": "B"}
    assert "$aws/events/thingTypeAssociation/thing/ev-t1/thingType/ev-type/removed" in got

    iot.create_thing_group(thingGroupName="ev-g")
    iot.add_thing_to_thing_group(thingGroupName="ev-g", thingName="ev-t1")
    added = by_topic(registry_watcher, 1)[
        "$aws/events/thingGroupMembership/thingGroup/ev-g/thing/ev-t1/added"]
    assert added["operation"] == "ADDED" and added["groupArn"].endswith(":thinggroup/ev-g")
    assert added["thingArn"] == made["thingArn"] and "groupName" not in added
    iot.remove_thing_from_thing_group(thingGroupName="ev-g", thingName="ev-t1")
    assert "$aws/events/thingGroupMembership/thingGroup/ev-g/thing/ev-t1/removed" in by_topic(
        registry_watcher, 1)

    iot.deprecate_thing_type(thingTypeName="ev-type")
    dep = by_topic(registry_watcher, 1)["$aws/events/thingType/ev-type/updated"]
    assert dep["isDeprecated"] is True and dep["deprecationDate"] > 10**12
    iot.delete_thing(thingName="ev-t1")
    gone = by_topic(registry_watcher, 1)["$aws/events/thing/ev-t1/deleted"]
    assert gone["operation"] == "DELETED" and gone["attributes"] == {"loc": "B"}


def test_group_events(server, iot, wd, devices):
    _, _, crt, key = new_cert(iot, wd, "gev")
    w = devices(crt, key, "group-watcher")
    assert w.connect() == 0
    assert w.subscribe("$aws/events/thingGroup/#") == (1,)
    assert w.subscribe("$aws/events/thingGroupHierarchy/#") == (1,)
    iot.update_event_configurations(eventConfigurations={
        "THING_GROUP": {"Enabled": True}, "THING_GROUP_HIERARCHY": {"Enabled": True}})
    root = iot.create_thing_group(thingGroupName="ev-root")
    child = iot.create_thing_group(thingGroupName="ev-child", parentGroupName="ev-root",
                                   thingGroupProperties={"thingGroupDescription": "d1"})
    got = by_topic(w, 3)
    made = got["$aws/events/thingGroup/ev-child/created"]
    assert made["eventType"] == "THING_GROUP_EVENT" and made["operation"] == "CREATED"
    assert made["thingGroupId"] == child["thingGroupId"] and made["description"] == "d1"
    assert made["parentGroupName"] == "ev-root" and made["parentGroupId"] == root["thingGroupId"]
    assert made["rootToParentThingGroups"] == [{"groupArn": root["thingGroupArn"],
                                                "groupId": root["thingGroupId"]}]
    assert got["$aws/events/thingGroup/ev-root/created"]["rootToParentThingGroups"] == []
    h = got["$aws/events/thingGroupHierarchy/thingGroup/ev-root/childThingGroup/ev-child/added"]
    assert h["operation"] == "ADDED" and h["childGroupId"] == child["thingGroupId"]
    iot.update_thing_group(thingGroupName="ev-child",
                           thingGroupProperties={"thingGroupDescription": "d2"})
    up = by_topic(w, 1)["$aws/events/thingGroup/ev-child/updated"]
    assert up["versionNumber"] == 2 and up["description"] == "d2"
    iot.delete_thing_group(thingGroupName="ev-child")
    got = by_topic(w, 2)
    assert got["$aws/events/thingGroup/ev-child/deleted"]["operation"] == "DELETED"
    assert "$aws/events/thingGroupHierarchy/thingGroup/ev-root/childThingGroup/ev-child/removed" \
        in got
