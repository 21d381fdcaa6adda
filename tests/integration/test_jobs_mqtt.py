"""The jobs device protocol over MQTT, served by the plugin (AWS_IOT_BEHAVIOUR.md section 5):
a paho device gets notify-next when a job is created for it, starts it with start-next,
reports progress and success with <jobId>/update, and the operator sees the result with
DescribeJobExecution; answers go only to the requesting client; rejections carry AWS's codes."""
import json
import time

import pytest

from test_broker import devices, new_cert, wd  # noqa: F401 (fixtures)
from test_shadow_mqtt import next_on, nothing_on

J = "$aws/things/{}/jobs"
DOC = {"operation": "reboot"}


@pytest.fixture
def agent(iot, wd, devices):
    iot.create_thing(thingName="job-dev")
    _, arn, crt, key = new_cert(iot, wd, "job-dev")
    iot.attach_thing_principal(thingName="job-dev", principal=arn)
    d = devices(crt, key, "job-dev")
    assert d.connect() == 0
    assert d.subscribe(J.format("job-dev") + "/notify-next") == (1,)
    assert d.subscribe(J.format("job-dev") + "/notify") == (1,)
    return d


def create_job(iot, job_id, thing="job-dev"):
    arn = iot.describe_thing(thingName=thing)["thingArn"]
    return iot.create_job(jobId=job_id, targets=[arn], document=json.dumps(DOC))


def request(d, topic, body):
    d.publish(topic, json.dumps(body))


def test_job_lifecycle_over_mqtt(agent, iot):
    p = J.format("job-dev")
    create_job(iot, "j1")
    nxt = next_on(agent, p + "/notify-next")
    assert nxt["execution"]["jobId"] == "j1" and nxt["execution"]["status"] == "QUEUED"
    assert nxt["execution"]["jobDocument"] == DOC
    request(agent, p + "/start-next", {"clientToken": "c1", "statusDetails": {"step": "1"}})
    started = next_on(agent, p + "/start-next/accepted")
    assert started["clientToken"] == "c1"
    ex = started["execution"]
    assert ex["jobId"] == "j1" and ex["status"] == "IN_PROGRESS" and ex["versionNumber"] >= 1
    request(agent, p + "/j1/update", {"status": "SUCCEEDED", "expectedVersion": ex["versionNumber"],
                                      "includeJobExecutionState": True, "clientToken": "c2"})
    upd = next_on(agent, p + "/j1/update/accepted")
    assert upd["executionState"]["status"] == "SUCCEEDED" and upd["clientToken"] == "c2"
    # nothing pending any more: notify-next without an execution
    deadline = time.time() + 5
    last = None
    while time.time() < deadline:
        m = next_on(agent, p + "/notify-next", timeout=1)
        if m is None:
            break
        last = m
    assert last is not None and "execution" not in last
    out = iot.describe_job_execution(jobId="j1", thingName="job-dev")["execution"]
    assert out["status"] == "SUCCEEDED"
    request(agent, p + "/get", {"clientToken": "g"})
    got = next_on(agent, p + "/get/accepted")
    assert got["inProgressJobs"] == [] and got["queuedJobs"] == [] and got["clientToken"] == "g"


def test_answers_go_only_to_the_requesting_client(agent, iot, wd, devices):
    """Another client subscribed to the thing's accepted topic sees nothing (AWS: replies go to
    the requesting client only), while notify-next is an ordinary subscription."""
    _, _, crt, key = new_cert(iot, wd, "spy")
    spy = devices(crt, key, "spy")
    assert spy.connect() == 0
    assert spy.subscribe(J.format("job-dev") + "/#") == (1,)
    create_job(iot, "j2")
    assert next_on(spy, J.format("job-dev") + "/notify-next")["execution"]["jobId"] == "j2"
    request(agent, J.format("job-dev") + "/get", {})
    assert next_on(agent, J.format("job-dev") + "/get/accepted")["queuedJobs"][0]["jobId"] == "j2"
    assert nothing_on(spy, J.format("job-dev") + "/get/accepted")


def test_describe_next_and_rejections(agent, iot):
    p = J.format("job-dev")
    create_job(iot, "j3")
    next_on(agent, p + "/notify-next")
    request(agent, p + "/$next/get", {"includeJobDocument": False, "clientToken": "n"})
    nxt = next_on(agent, p + "/$next/get/accepted")
    assert nxt["execution"]["jobId"] == "j3" and "jobDocument" not in nxt["execution"]
    request(agent, p + "/nope/get", {"clientToken": "x"})
    rej = next_on(agent, p + "/nope/get/rejected")
    assert rej["code"] == "ResourceNotFound" and rej["clientToken"] == "x"
    request(agent, p + "/j3/update", {"status": "BOGUS"})
    assert next_on(agent, p + "/j3/update/rejected")["code"] == "InvalidRequest"
    agent.publish(p + "/j3/update", b"{not json")
    assert next_on(agent, p + "/j3/update/rejected")["code"] in ("InvalidJson", "InvalidRequest")
    # a finished execution cannot go back: InvalidStateTransition with the current state
    request(agent, p + "/j3/update", {"status": "SUCCEEDED"})
    next_on(agent, p + "/j3/update/accepted")
    request(agent, p + "/j3/update", {"status": "IN_PROGRESS"})
    rej = next_on(agent, p + "/j3/update/rejected")
    assert rej["code"] == "InvalidStateTransition"
    assert rej["executionState"]["status"] == "SUCCEEDED"


def test_jobs_and_templates_take_tags(iot):
    arn = iot.create_thing(thingName="tag-thing")["thingArn"]
    job = iot.create_job(jobId="tagged", targets=[arn], document="{}",
                         tags=[{"Key": "team", "Value": "a"}])
    iot.tag_resource(resourceArn=job["jobArn"], tags=[{"Key": "env", "Value": "prod"}])
    tags = {t["Key"]: t["Value"] for t in iot.list_tags_for_resource(
        resourceArn=job["jobArn"])["tags"]}
    assert tags == {"team": "a", "env": "prod"}
    iot.untag_resource(resourceArn=job["jobArn"], tagKeys=["team"])
    assert iot.list_tags_for_resource(resourceArn=job["jobArn"])["tags"] == [
        {"Key": "env", "Value": "prod"}]
    tpl = iot.create_job_template(jobTemplateId="tpl", description="d", document="{}")
    iot.tag_resource(resourceArn=tpl["jobTemplateArn"], tags=[{"Key": "k", "Value": "v"}])
    assert iot.list_tags_for_resource(resourceArn=tpl["jobTemplateArn"])["tags"] == [
        {"Key": "k", "Value": "v"}]
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.tag_resource(resourceArn=job["jobArn"].replace("tagged", "nope"),
                         tags=[{"Key": "k", "Value": "v"}])
