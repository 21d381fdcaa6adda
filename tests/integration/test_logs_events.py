"""Issue 9, logging: AWS IoT v2 log events from the broker (Connect, Disconnect, Publish-In,
Subscribe, authorization failures, shadow and jobs requests over MQTT) and from the HTTP data
plane (shadow operations), recorded in the log group AWSIotLogsV2 and on stdout, per the
configured target levels: each target type and level puts events where configured and not
elsewhere."""
import json
import time

import pytest

from test_broker import allow_all, devices, new_cert, wait_until, wd  # noqa: F401

GROUP = "AWSIotLogsV2"
CACHE_S = 1.0  # logs/logs.h FY_LOGS_CACHE_MS: the broker re-reads levels at least this often


@pytest.fixture
def logs(server, reset):
    return server.client("logs")


def events(logs, term):
    try:
        out = logs.filter_log_events(logGroupName=GROUP, filterPattern=f'"{term}"')["events"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [json.loads(e["message"]) for e in out]


def types(logs, term):
    return [e["eventType"] for e in events(logs, term)]


def wait_types(logs, term, want, timeout=5):
    wait_until(lambda: set(want) <= set(types(logs, term)), timeout)
    return types(logs, term)


def set_level(iot, ttype, name, level):
    iot.set_v2_logging_level(logTarget={"targetType": ttype, "targetName": name}, logLevel=level)
    time.sleep(CACHE_S + 0.2)


def session(devices, crt, key, client_id, topic="t/x"):
    d = devices(crt, key, client_id)
    assert d.connect() == 0
    assert d.subscribe(topic) == (1,)
    d.publish(topic, "hello")
    assert d.receive() is not None
    d.close()


def test_client_id_target_info(iot, wd, devices, logs, server):
    set_level(iot, "CLIENT_ID", "log-a", "INFO")
    cert_id, _, crt, key = new_cert(iot, wd, "a")
    session(devices, crt, key, "log-a")
    session(devices, crt, key, "log-b")  # same certificate, not a target
    got = wait_types(logs, "log-a", ["Connect", "Subscribe", "Publish-In", "Disconnect"])
    ev = events(logs, "log-a")
    con = next(e for e in ev if e["eventType"] == "Connect")
    assert con["clientId"] == "log-a" and con["principalId"] == cert_id
    assert con["sourceIp"] == "127.0.0.1" and con["status"] == "Success"
    assert con["logLevel"] == "INFO" and con["protocol"] == "MQTT" and con["traceId"]
    assert len(con["timestamp"]) == 23  # "2017-08-10 15:37:23.476"
    pub = next(e for e in ev if e["eventType"] == "Publish-In")
    assert pub["topicName"] == "t/x"
    assert "Connect" in got and types(logs, "log-b") == []
    assert server_stdout_has(server, '"clientId":"log-a"')


def server_stdout_has(server, text):
    return text in server.read_log()


def test_error_level_logs_only_failures(iot, wd, devices, logs):
    set_level(iot, "CLIENT_ID", "log-e", "ERROR")
    doc = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["iot:Connect"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["iot:Publish"],
         "Resource": "arn:aws:iot:*:*:topic/ok"}]}
    iot.create_policy(policyName="narrow", policyDocument=json.dumps(doc))
    out = iot.create_keys_and_certificate(setAsActive=True)
    iot.attach_policy(policyName="narrow", target=out["certificateArn"])
    crt = wd.write("e.crt", out["certificatePem"])
    key = wd.write("e.key", out["keyPair"]["PrivateKey"])
    d = devices(crt, key, "log-e")
    assert d.connect() == 0
    d.c.publish("no", "x", qos=0)  # denied: the broker closes the connection, no PUBACK
    wait_types(logs, "log-e", ["Publish-In"])
    ev = events(logs, "log-e")
    assert [e["eventType"] for e in ev] == ["Publish-In"]
    assert ev[0]["status"] == "Failure" and ev[0]["logLevel"] == "ERROR"
    assert ev[0]["reason"] == "AUTHORIZATION_FAILURE" and ev[0]["topicName"] == "no"


def test_principal_id_target(iot, wd, devices, logs):
    cert_id, _, crt, key = new_cert(iot, wd, "p")
    _, _, crt2, key2 = new_cert(iot, wd, "p2")
    set_level(iot, "PRINCIPAL_ID", cert_id, "DEBUG")
    session(devices, crt, key, "log-p1")
    session(devices, crt2, key2, "log-p2")
    wait_types(logs, "log-p1", ["Connect", "Disconnect"])
    assert types(logs, "log-p2") == []


def test_source_ip_target_and_delete(iot, wd, devices, logs):
    _, _, crt, key = new_cert(iot, wd, "s")
    set_level(iot, "SOURCE_IP", "127.0.0.1", "INFO")
    session(devices, crt, key, "log-s1")
    wait_types(logs, "log-s1", ["Connect"])
    iot.delete_v2_logging_level(targetType="SOURCE_IP", targetName="127.0.0.1")
    time.sleep(CACHE_S + 0.2)
    session(devices, crt, key, "log-s2")
    time.sleep(0.5)
    assert types(logs, "log-s2") == []


def test_thing_group_target_includes_child_groups(iot, wd, devices, logs):
    iot.create_thing_group(thingGroupName="g-parent")
    iot.create_thing_group(thingGroupName="g-child", parentGroupName="g-parent")
    iot.create_thing_group(thingGroupName="g-other")
    for thing, grp in (("log-t1", "g-child"), ("log-t2", "g-other")):
        iot.create_thing(thingName=thing)
        iot.add_thing_to_thing_group(thingGroupName=grp, thingName=thing)
    set_level(iot, "THING_GROUP", "g-parent", "INFO")
    _, _, crt, key = new_cert(iot, wd, "g")
    session(devices, crt, key, "log-t1")
    session(devices, crt, key, "log-t2")
    wait_types(logs, "log-t1", ["Connect", "Publish-In"])
    assert types(logs, "log-t2") == []
    # a more specific target wins over the group's
    set_level(iot, "CLIENT_ID", "log-t1", "DISABLED")
    n = len(events(logs, "log-t1"))
    session(devices, crt, key, "log-t1")
    time.sleep(0.5)
    assert len(events(logs, "log-t1")) == n


def test_default_level_and_disable_all(iot, wd, devices, logs):
    _, _, crt, key = new_cert(iot, wd, "d")
    session(devices, crt, key, "log-d0")  # not configured: nothing
    iot.set_v2_logging_options(defaultLogLevel="INFO")
    time.sleep(CACHE_S + 0.2)
    session(devices, crt, key, "log-d1")
    wait_types(logs, "log-d1", ["Connect"])
    assert types(logs, "log-d0") == []
    iot.set_v2_logging_options(defaultLogLevel="INFO", disableAllLogs=True)
    time.sleep(CACHE_S + 0.2)
    session(devices, crt, key, "log-d2")
    time.sleep(0.5)
    assert types(logs, "log-d2") == []


def test_shadow_events_mqtt_and_http(iot, wd, devices, logs, server):
    iot.create_thing(thingName="log-sh")
    set_level(iot, "CLIENT_ID", "log-sh", "INFO")
    _, _, crt, key = new_cert(iot, wd, "sh")
    d = devices(crt, key, "log-sh")
    assert d.connect() == 0
    assert d.subscribe("$aws/things/log-sh/shadow/update/accepted") == (1,)
    d.publish("$aws/things/log-sh/shadow/update", json.dumps({"state": {"reported": {"a": 1}}}))
    assert d.receive() is not None
    wait_types(logs, "log-sh", ["UpdateThingShadow"])
    mq = [e for e in events(logs, "log-sh") if e["eventType"] == "UpdateThingShadow"]
    assert mq[0]["protocol"] == "MQTT" and mq[0]["status"] == "Success"
    # HTTP: resolved through the thing's groups (no client id on HTTP)
    iot.create_thing_group(thingGroupName="g-sh")
    iot.add_thing_to_thing_group(thingGroupName="g-sh", thingName="log-sh")
    set_level(iot, "THING_GROUP", "g-sh", "INFO")
    server.client("iot-data").update_thing_shadow(
        thingName="log-sh", payload=json.dumps({"state": {"reported": {"a": 2}}}))
    wait_until(lambda: any(e["protocol"] == "HTTP" for e in events(logs, "log-sh")))
    http = [e for e in events(logs, "log-sh") if e["protocol"] == "HTTP"]
    assert http[0]["eventType"] == "UpdateThingShadow" and http[0]["thingName"] == "log-sh"


def test_jobs_request_event(iot, wd, devices, logs):
    iot.create_thing(thingName="log-j")
    set_level(iot, "CLIENT_ID", "log-j", "INFO")
    _, _, crt, key = new_cert(iot, wd, "j")
    d = devices(crt, key, "log-j")
    assert d.connect() == 0
    assert d.subscribe("$aws/things/log-j/jobs/get/accepted") == (1,)
    d.publish("$aws/things/log-j/jobs/get", "{}")
    assert d.receive() is not None
    wait_types(logs, "log-j", ["GetPendingJobExecutions"])


def test_streams_of_iot_group(iot, wd, devices, logs):
    set_level(iot, "CLIENT_ID", "log-st", "INFO")
    _, _, crt, key = new_cert(iot, wd, "st")
    session(devices, crt, key, "log-st")
    wait_types(logs, "log-st", ["Connect"])
    names = [s["logStreamName"] for s in logs.describe_log_streams(logGroupName=GROUP)["logStreams"]]
    assert "MQTT" in names
    assert any(g["logGroupName"] == GROUP for g in logs.describe_log_groups()["logGroups"])
