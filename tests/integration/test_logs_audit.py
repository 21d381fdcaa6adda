"""Issue 9, audit: every control-plane change (any operation that does not only read) is
recorded when the request finishes, with its outcome, in the log group fleetyard/audit (one
stream per access key), readable with `aws logs filter-log-events`. Completeness is checked
against the route tables in api/*.c: every mutating route, called once, leaves a record."""
import glob
import json
import os
import re
from urllib.parse import quote

import pytest

from conftest import ROOT, signed_request

AUDIT = "fleetyard/audit"
SERVICES = {"FY_SVC_IOT": "iot", "FY_SVC_DATA": "iotdata", "FY_SVC_JOBS": "iot-jobs-data",
            "FY_SVC_LOGS": "logs"}
READ_PREFIXES = ("Get", "List", "Describe", "Filter", "Search", "Test")
ROW = re.compile(r'\{(FY_SVC_\w+),\s*"(\w+)",\s*"([^"]+)",\s*(\w+),\s*"(\w+)"\}')


@pytest.fixture
def logs(server, reset):
    return server.client("logs")


def records(logs, pattern=""):
    out = []
    pages = logs.get_paginator("filter_log_events").paginate(logGroupName=AUDIT,
                                                             filterPattern=pattern)
    for p in pages:
        out += [dict(json.loads(e["message"]), stream=e["logStreamName"]) for e in p["events"]]
    return out


def outcomes(logs, ops):
    """{operation: [outcome, ...]} of the audit records of the operations in ops, in order."""
    got = {}
    for r in records(logs):
        if r["operation"] in ops:
            got.setdefault(r["operation"], []).append(r["outcome"])
    return got


def routes():
    rows = []
    for path in sorted(glob.glob(os.path.join(ROOT, "api", "*.c"))):
        with open(path) as f:
            rows += ROW.findall(f.read())
    return rows


def is_read(method, op):
    return method in ("GET", "HEAD") or op.startswith(READ_PREFIXES)


def test_change_recorded_with_outcome(iot, logs, server):
    iot.create_thing(thingName="aud-1")
    iot.update_thing(thingName="aud-1", attributePayload={"attributes": {"a": "1"}})
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.update_thing(thingName="aud-missing", attributePayload={"attributes": {"a": "1"}})
    iot.describe_thing(thingName="aud-1")
    iot.list_things()
    rec = records(logs, '"aud-"')
    ops = [(r["operation"], r["outcome"]) for r in rec]
    assert ops == [("CreateThing", "Success"), ("UpdateThing", "Success"),
                   ("UpdateThing", "Failure")]
    key = server.env["AWS_ACCESS_KEY_ID"]
    assert all(r["accessKey"] == key and r["stream"] == key for r in rec)
    assert rec[0]["resource"] == "/things/aud-1" and rec[0]["status"] == 200
    assert rec[2]["errorType"] == "ResourceNotFoundException" and rec[2]["status"] == 404
    assert rec[0]["requestId"] and rec[0]["time"] > 0


def test_record_keeps_escaped_text_exact(iot, logs):
    """The record is written member by member: a refusal whose message repeats a name with
    quotes, backslashes and non-ASCII text still reads back as JSON with exactly the message
    the client was given, and the members in the documented order."""
    bad = 'aud-"q\\é'
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.create_thing(thingName=bad)
    told = e.value.response["Error"]["Message"]
    assert bad in told
    rec = [r for r in records(logs) if r["operation"] == "CreateThing"]
    assert len(rec) == 1 and rec[0]["message"] == told
    assert rec[0]["resource"] == "/things/" + quote(bad, safe="")  # the path as sent
    assert rec[0]["status"] == 400
    assert list(rec[0])[:10] == ["time", "accessKey", "operation", "method", "resource",
                                 "requestId", "status", "outcome", "errorType", "message"]


def test_logs_changes_name_the_group(logs):
    logs.create_log_group(logGroupName="aud-g")
    logs.put_retention_policy(logGroupName="aud-g", retentionInDays=1)
    logs.describe_log_groups()
    rec = records(logs, '"log-group:aud-g"')
    assert [r["operation"] for r in rec] == ["CreateLogGroup", "PutRetentionPolicy"]


def test_unauthenticated_change_is_recorded(server, logs):
    import requests
    r = requests.post(server.endpoint + "/things/aud-anon", data=b"{}", timeout=5)
    assert r.status_code == 403
    rec = records(logs, '"/things/aud-anon"')
    assert len(rec) == 1 and rec[0]["outcome"] == "Failure" and rec[0]["status"] == 403


def test_cli_reads_audit(aws, iot):
    iot.create_thing(thingName="aud-cli")
    r = aws("logs", "filter-log-events", "--log-group-name", AUDIT, "--filter-pattern",
            '"CreateThing"')
    assert r.rc == 0, r.err
    assert any(json.loads(e["message"])["resource"] == "/things/aud-cli" for e in r.json["events"])


def test_every_mutating_route_is_audited(server, reset, logs):
    rows = routes()
    assert len(rows) > 100
    logs_ops = []
    with open(os.path.join(ROOT, "api", "logs.c")) as f:
        logs_ops = re.findall(r'\{FY_SVC_LOGS, "POST", "/", \w+, "(\w+)"\}', f.read())
    expected = set()
    for svc, method, pattern, _, op in rows:
        if is_read(method, op) or op in ("Logs", "Reset"):
            continue
        path = re.sub(r"\{[^}]+\}", "audit-x", pattern)
        signed_request(server, method, path, b"{}", service=SERVICES[svc])
        expected.add(op)
    for op in logs_ops:
        if is_read("POST", op):
            continue
        signed_request(server, "POST", "/", b'{"logGroupName":"audit-x"}', service="logs",
                       headers={"X-Amz-Target": "Logs_20140328." + op,
                                "Content-Type": "application/x-amz-json-1.1"})
        expected.add(op)
    seen = {r["operation"] for r in records(logs)}
    assert expected - seen == set(), sorted(expected - seen)
    assert len(expected) > 50


POLICY_DOC = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}]})


def test_change_tx_handlers_record_once(iot, logs):
    """Handlers whose one transaction is the change (FY_DB_RETURN_IN_CHANGE_TX) write their
    success record in it: exactly one per successful call; a refused call leaves its failure
    record alone."""
    iot.create_policy(policyName="aud-pol", policyDocument=POLICY_DOC)
    iot.create_policy_version(policyName="aud-pol", policyDocument=POLICY_DOC)
    iot.set_default_policy_version(policyName="aud-pol", policyVersionId="2")
    iot.delete_policy_version(policyName="aud-pol", policyVersionId="1")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.create_policy_version(policyName="aud-pol-missing", policyDocument=POLICY_DOC)
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.delete_policy(policyName="aud-pol-missing")
    iot.delete_policy(policyName="aud-pol")
    ops = [(r["operation"], r["outcome"]) for r in records(logs, '"aud-pol"')]
    assert ops == [("CreatePolicy", "Success"), ("CreatePolicyVersion", "Success"),
                   ("SetDefaultPolicyVersion", "Success"), ("DeletePolicyVersion", "Success"),
                   ("CreatePolicyVersion", "Failure"), ("DeletePolicy", "Failure"),
                   ("DeletePolicy", "Success")]


def test_change_tx_attach_records_once(iot, logs, server):
    iot.create_policy(policyName="aud-att", policyDocument=POLICY_DOC)
    arn = iot.create_keys_and_certificate(setAsActive=True)["certificateArn"]
    iot.attach_policy(policyName="aud-att", target=arn)
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.attach_policy(policyName="aud-att-missing", target=arn)
    rec = [r for r in records(logs, '"AttachPolicy"')]
    assert [(r["outcome"], r["status"]) for r in rec] == [("Success", 200), ("Failure", 404)]


def test_change_tx_certificates_record_once(iot, logs):
    cid = iot.create_keys_and_certificate(setAsActive=True)["certificateId"]
    iot.update_certificate(certificateId=cid, newStatus="INACTIVE")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.update_certificate(certificateId="0" * 64, newStatus="INACTIVE")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.delete_certificate(certificateId="0" * 64)
    iot.delete_certificate(certificateId=cid)
    rec = records(logs, '"Certificate"')
    ops = [(r["operation"], r["outcome"]) for r in rec if r["operation"] != "CreateKeysAndCertificate"]
    assert ops == [("UpdateCertificate", "Success"), ("UpdateCertificate", "Failure"),
                   ("DeleteCertificate", "Failure"), ("DeleteCertificate", "Success")]
    assert [r["outcome"] for r in rec if r["operation"] == "CreateKeysAndCertificate"] == [
        "Success"]


def test_change_tx_principals_logs_templates_record_once(iot, logs):
    """More handlers whose one transaction is the change: Attach/DetachThingPrincipal,
    CreateLogStream, Put/DeleteRetentionPolicy, SetV2LoggingLevel, Create/DeleteJobTemplate.
    One record per call, with its outcome."""
    iot.create_thing(thingName="aud-thing")
    arn = iot.create_keys_and_certificate(setAsActive=True)["certificateArn"]
    iot.attach_thing_principal(thingName="aud-thing", principal=arn)
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.attach_thing_principal(thingName="aud-thing-missing", principal=arn)
    iot.detach_thing_principal(thingName="aud-thing", principal=arn)
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.detach_thing_principal(thingName="aud-thing-missing", principal=arn)
    logs.create_log_group(logGroupName="aud-group")
    logs.create_log_stream(logGroupName="aud-group", logStreamName="s1")
    with pytest.raises(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_stream(logGroupName="aud-group", logStreamName="s1")
    logs.put_retention_policy(logGroupName="aud-group", retentionInDays=7)
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.put_retention_policy(logGroupName="aud-group-missing", retentionInDays=7)
    logs.delete_retention_policy(logGroupName="aud-group")
    iot.set_v2_logging_level(logTarget={"targetType": "THING_GROUP", "targetName": "aud-tg"},
                             logLevel="INFO")
    iot.create_job_template(jobTemplateId="aud-tpl", description="d", document="{}")
    with pytest.raises(iot.exceptions.ConflictException):
        iot.create_job_template(jobTemplateId="aud-tpl", description="d", document="{}")
    iot.delete_job_template(jobTemplateId="aud-tpl")
    want = {"AttachThingPrincipal": ["Success", "Failure"],
            "DetachThingPrincipal": ["Success", "Failure"],
            "CreateLogStream": ["Success", "Failure"],
            "PutRetentionPolicy": ["Success", "Failure"],
            "DeleteRetentionPolicy": ["Success"],
            "SetV2LoggingLevel": ["Success"],
            "CreateJobTemplate": ["Success", "Failure"],
            "DeleteJobTemplate": ["Success"]}
    assert outcomes(logs, want) == want


def test_change_tx_jobs_record_once(iot, logs):
    """CreateJob, UpdateJob, CancelJob, DeleteJob, CancelJobExecution, DeleteJobExecution: the
    record rides in the change's transaction (CreateJob's executions and first wave follow in
    transactions of their own, which cannot fail the call): one record per call."""
    iot.create_thing(thingName="aud-jt")
    arn = iot.describe_thing(thingName="aud-jt")["thingArn"]
    iot.create_job(jobId="aud-job", targets=[arn], document="{}")
    with pytest.raises(iot.exceptions.ResourceAlreadyExistsException):
        iot.create_job(jobId="aud-job", targets=[arn], document="{}")
    iot.update_job(jobId="aud-job", description="changed")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.update_job(jobId="aud-job-missing", description="x")
    iot.cancel_job_execution(jobId="aud-job", thingName="aud-jt")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.cancel_job_execution(jobId="aud-job", thingName="aud-jt-missing")
    iot.delete_job_execution(jobId="aud-job", thingName="aud-jt", executionNumber=1)
    iot.cancel_job(jobId="aud-job")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.cancel_job(jobId="aud-job-missing")
    iot.delete_job(jobId="aud-job")
    want = {"CreateJob": ["Success", "Failure"],
            "UpdateJob": ["Success", "Failure"], "CancelJobExecution": ["Success", "Failure"],
            "DeleteJobExecution": ["Success"], "CancelJob": ["Success", "Failure"],
            "DeleteJob": ["Success"]}
    assert outcomes(logs, want) == want


def test_change_tx_jobs_data_plane_record_once(iot, logs, server):
    """StartNextPendingJobExecution and UpdateJobExecution over HTTP (iot-jobs-data): one record
    per call. Over MQTT the broker's thread has no audit record to join."""
    jobs = server.client("iot-jobs-data")
    iot.create_thing(thingName="aud-jd")
    arn = iot.describe_thing(thingName="aud-jd")["thingArn"]
    iot.create_job(jobId="aud-jd-job", targets=[arn], document="{}")
    jobs.start_next_pending_job_execution(thingName="aud-jd")
    jobs.update_job_execution(jobId="aud-jd-job", thingName="aud-jd", status="SUCCEEDED")
    with pytest.raises(jobs.exceptions.InvalidStateTransitionException):
        jobs.update_job_execution(jobId="aud-jd-job", thingName="aud-jd", status="IN_PROGRESS")
    want = {"StartNextPendingJobExecution": ["Success"],
            "UpdateJobExecution": ["Success", "Failure"]}
    assert outcomes(logs, want) == want
