"""Issue 9, operator access control: operator access keys with IAM policies, managed with
`fleetyard-server keys` while the server runs. Allowed, denied (AccessDeniedException 403,
nothing changed, audited), disabled (UnrecognizedClientException), enabled again, rotated
(old secret refused, new works), the README's read-only key and jobs-on-one-group key, and
changes taking effect while the server runs. The administrator key (env.sh) is unrestricted."""
import json
import subprocess
import time
import uuid

import boto3
import pytest
from botocore.config import Config

from botocore.exceptions import ClientError
from conftest import AWS_CLI, SERVER_BIN, error_code, signed_request

AUDIT = "fleetyard/audit"
SETTLE = 0.3  # the server re-reads the key version at most every 100 ms

READ_ONLY = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": ["iot:Describe*", "iot:List*", "iot:Get*", "iot:Search*"],
    "Resource": "*"}]}


def jobs_on_group(region, account, group):
    arn = f"arn:aws:iot:{region}:{account}"
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow",
         "Action": ["iot:CreateJob", "iot:DescribeJob", "iot:CancelJob", "iot:GetJobDocument",
                    "iot:ListJobExecutionsForJob"],
         "Resource": [f"{arn}:job/{group}-*", f"{arn}:thinggroup/{group}"]},
        {"Effect": "Allow", "Action": ["iot:ListJobs", "iot:DescribeThingGroup"],
         "Resource": "*"}]}


def keys(server, *args, check=True, stdin=None):
    p = subprocess.run([SERVER_BIN, "keys", "--data-dir", server.data_dir, *args],
                       capture_output=True, text=True, timeout=30, input=stdin)
    if check:
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout) if p.stdout.strip() else {}
    return p


def error_code_of(ex):
    return ex.response["Error"]["Code"]


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def make_key(server, tmp_path):
    """make_key(policy or None) -> (key id, secret, name); deleted after the test."""
    made = []

    def make(policy=None, name=None):
        name = name or unique("op")
        args = ["create", "--name", name, "--description", "test key"]
        if policy is not None:
            f = tmp_path / f"{name}.json"
            f.write_text(json.dumps(policy))
            args += ["--policy-file", str(f)]
        out = keys(server, *args)["AccessKey"]
        made.append(out["AccessKeyId"])
        return out["AccessKeyId"], out["SecretAccessKey"], name

    yield make
    for k in made:
        keys(server, "delete", k, check=False)


def client(server, service, key_id, secret):
    return boto3.client(service, endpoint_url=server.endpoint,
                        region_name=server.env["AWS_DEFAULT_REGION"], aws_access_key_id=key_id,
                        aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1}))


def denial(server, name, action, resource, explicit=False):
    user = f"arn:aws:iam::{account(server)}:user/{name}"
    why = ("with an explicit deny in an identity-based policy" if explicit else
           f"because no identity-based policy allows the {action} action")
    return f"User: {user} is not authorized to perform: {action} on resource: {resource} {why}"


def account(server):
    return "123456789012"


def arn(server, rest):
    return f"arn:aws:iot:{server.env['AWS_DEFAULT_REGION']}:{account(server)}:{rest}"


def audit(server, key_id):
    logs = server.client("logs")
    # key ids have one length: the prefix selects the key's stream alone
    events = logs.filter_log_events(logGroupName=AUDIT, logStreamNamePrefix=key_id)["events"]
    assert all(e["logStreamName"] == key_id for e in events)
    return [json.loads(e["message"]) for e in events]


def test_allowed_denied_and_audited(server, iot, make_key):
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iot:CreateThing", "Resource": arn(server, "thing/ok-*")},
        {"Effect": "Allow", "Action": "iot:DescribeThing", "Resource": "*"}]}
    kid, secret, name = make_key(policy)
    op = client(server, "iot", kid, secret)
    op.create_thing(thingName="ok-1")
    assert op.describe_thing(thingName="ok-1")["thingName"] == "ok-1"
    with pytest.raises(op.exceptions.ClientError) as ex:
        op.create_thing(thingName="nope-1")
    err = ex.value.response
    assert err["Error"]["Code"] == "AccessDeniedException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert err["Error"]["Message"] == denial(server, name, "iot:CreateThing",
                                             arn(server, "thing/nope-1"))
    # nothing changed
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_thing(thingName="nope-1")
    with pytest.raises(op.exceptions.ClientError) as ex:
        op.delete_thing(thingName="ok-1")
    assert error_code(ex) == "AccessDeniedException"
    assert iot.describe_thing(thingName="ok-1")["thingName"] == "ok-1"
    # audited: the allowed change and both refusals, in the key's stream, with the key's name
    rec = [(r["operation"], r["outcome"], r.get("errorType"), r["status"], r["user"])
           for r in audit(server, kid)]
    assert rec == [("CreateThing", "Success", None, 200, name),
                   ("CreateThing", "Failure", "AccessDeniedException", 403, name),
                   ("DeleteThing", "Failure", "AccessDeniedException", 403, name)]


def test_denied_read_is_audited(server, iot, make_key):
    kid, secret, name = make_key({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iot:ListThings", "Resource": "*"}]})
    op = client(server, "iot", kid, secret)
    op.list_things()
    with pytest.raises(op.exceptions.ClientError) as ex:
        op.list_thing_groups()
    assert error_code(ex) == "AccessDeniedException"
    rec = audit(server, kid)
    assert [(r["operation"], r["errorType"]) for r in rec] == [
        ("ListThingGroups", "AccessDeniedException")]


def test_key_without_policy_is_denied_everything(server, iot, make_key):
    kid, secret, name = make_key()
    op = client(server, "iot", kid, secret)
    with pytest.raises(op.exceptions.ClientError) as ex:
        op.list_things()
    assert ex.value.response["Error"]["Message"] == denial(server, name, "iot:ListThings", "*")


def test_explicit_deny_wins(server, iot, make_key):
    kid, secret, name = make_key({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iot:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "iot:DeleteThing", "Resource": "*"}]})
    op = client(server, "iot", kid, secret)
    op.create_thing(thingName="keep-me")
    with pytest.raises(op.exceptions.ClientError) as ex:
        op.delete_thing(thingName="keep-me")
    assert ex.value.response["Error"]["Message"] == denial(
        server, name, "iot:DeleteThing", arn(server, "thing/keep-me"), explicit=True)
    assert iot.describe_thing(thingName="keep-me")


def test_disabled_then_enabled(server, iot, make_key):
    kid, secret, _ = make_key(READ_ONLY)
    op = client(server, "iot", kid, secret)
    op.list_things()
    out = keys(server, "disable", kid)["AccessKey"]
    assert out["Status"] == "Inactive" and "SecretAccessKey" not in out
    time.sleep(SETTLE)
    with pytest.raises(op.exceptions.ClientError) as ex:
        op.list_things()
    assert error_code(ex) == "UnrecognizedClientException"
    assert ex.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert ex.value.response["Error"]["Message"] == \
        "The security token included in the request is invalid."
    assert keys(server, "enable", kid)["AccessKey"]["Status"] == "Active"
    time.sleep(SETTLE)
    op.list_things()
    iot.list_things()  # the administrator key never changed


def test_rotate(server, iot, make_key):
    kid, secret, name = make_key(READ_ONLY)
    old = client(server, "iot", kid, secret)
    old.list_things()
    out = keys(server, "rotate", kid)["AccessKey"]
    assert out["AccessKeyId"] == kid and out["SecretAccessKey"] != secret
    assert out["LastRotatedDate"] and out["UserName"] == name
    time.sleep(SETTLE)
    with pytest.raises(old.exceptions.ClientError) as ex:
        old.list_things()
    assert error_code(ex) == "InvalidSignatureException"
    client(server, "iot", kid, out["SecretAccessKey"]).list_things()
    listed = {k["AccessKeyId"]: k for k in keys(server, "list")["AccessKeys"]}
    assert "SecretAccessKey" not in listed[kid] and listed[kid]["LastRotatedDate"]


def test_read_only_key(server, iot, make_key):
    iot.create_thing(thingName="ro-1")
    iot.create_thing_group(thingGroupName="ro-g")
    kid, secret, name = make_key(READ_ONLY)
    op = client(server, "iot", kid, secret)
    assert [t["thingName"] for t in op.list_things()["things"]] == ["ro-1"]
    assert op.describe_thing(thingName="ro-1")["thingName"] == "ro-1"
    assert op.describe_thing_group(thingGroupName="ro-g")["thingGroupName"] == "ro-g"
    op.list_jobs()
    for call in (lambda: op.create_thing(thingName="ro-2"),
                 lambda: op.delete_thing(thingName="ro-1"),
                 lambda: op.update_thing(thingName="ro-1",
                                         attributePayload={"attributes": {"a": "b"}}),
                 lambda: op.create_thing_group(thingGroupName="ro-h")):
        with pytest.raises(op.exceptions.ClientError) as ex:
            call()
        assert error_code(ex) == "AccessDeniedException"
    assert [t["thingName"] for t in iot.list_things()["things"]] == ["ro-1"]
    assert "attributes" not in iot.describe_thing(thingName="ro-1") or \
        iot.describe_thing(thingName="ro-1")["attributes"] == {}
    # the aws CLI with the key
    env = dict(server.cli_env(), AWS_ACCESS_KEY_ID=kid, AWS_SECRET_ACCESS_KEY=secret)
    base = [AWS_CLI, "--endpoint-url", server.endpoint, "--output", "json", "iot"]
    p = subprocess.run(base + ["list-things"], capture_output=True, text=True, env=env)
    assert p.returncode == 0 and json.loads(p.stdout)["things"][0]["thingName"] == "ro-1"
    p = subprocess.run(base + ["create-thing", "--thing-name", "ro-3"], capture_output=True,
                       text=True, env=env)
    assert p.returncode != 0 and "AccessDeniedException" in p.stderr
    assert "is not authorized to perform: iot:CreateThing" in p.stderr


def test_jobs_on_one_thing_group(server, iot, make_key):
    region = server.env["AWS_DEFAULT_REGION"]
    g1 = iot.create_thing_group(thingGroupName="line-1")["thingGroupArn"]
    g2 = iot.create_thing_group(thingGroupName="line-2")["thingGroupArn"]
    thing = iot.create_thing(thingName="press-7")["thingArn"]
    for group in ("line-1", "line-2"):  # a member keeps the jobs IN_PROGRESS (cancelable)
        iot.create_thing(thingName=f"{group}-press")
        iot.add_thing_to_thing_group(thingGroupName=group, thingName=f"{group}-press")
    kid, secret, name = make_key(jobs_on_group(region, account(server), "line-1"))
    op = client(server, "iot", kid, secret)
    doc = json.dumps({"op": "reboot"})
    op.create_job(jobId="line-1-a", targets=[g1], document=doc)
    assert op.describe_job(jobId="line-1-a")["job"]["targets"] == [g1]
    assert json.loads(op.get_job_document(jobId="line-1-a")["document"]) == {"op": "reboot"}
    refused = [("line-1-b", [g2], g2), ("line-1-c", [thing], thing),
               ("line-1-d", [g1, g2], g2), ("other-e", [g1], arn(server, "job/other-e"))]
    for job_id, targets, resource in refused:
        with pytest.raises(op.exceptions.ClientError) as ex:
            op.create_job(jobId=job_id, targets=targets, document=doc)
        assert ex.value.response["Error"]["Message"] == denial(server, name, "iot:CreateJob",
                                                               resource)
    assert [j["jobId"] for j in op.list_jobs()["jobs"]] == ["line-1-a"]
    iot.create_job(jobId="admin-job", targets=[g2], document=doc)
    with pytest.raises(op.exceptions.ClientError) as ex:
        op.cancel_job(jobId="admin-job")
    assert error_code(ex) == "AccessDeniedException"
    assert iot.describe_job(jobId="admin-job")["job"]["status"] == "IN_PROGRESS"
    op.cancel_job(jobId="line-1-a")
    assert iot.describe_job(jobId="line-1-a")["job"]["status"] in ("CANCELED", "CANCELLING")
    with pytest.raises(op.exceptions.ClientError) as ex:
        op.delete_thing(thingName="press-7")
    assert error_code(ex) == "AccessDeniedException"


def test_changes_take_effect_while_running(server, iot, make_key, tmp_path):
    kid, secret, name = make_key(READ_ONLY)
    op = client(server, "iot", kid, secret)
    with pytest.raises(op.exceptions.ClientError):
        op.create_thing(thingName="live-1")
    extra = tmp_path / "create-things.json"
    extra.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iot:CreateThing", "Resource": arn(server, "thing/live-*")}]}))
    got = keys(server, "attach-policy", kid, "--policy-file", str(extra))["AccessKey"]
    assert [p["PolicyName"] for p in got["Policies"]] == ["create-things", name]
    time.sleep(SETTLE)
    op.create_thing(thingName="live-1")
    keys(server, "detach-policy", kid, "--policy-name", "create-things")
    time.sleep(SETTLE)
    with pytest.raises(op.exceptions.ClientError) as ex:
        op.create_thing(thingName="live-2")
    assert error_code(ex) == "AccessDeniedException"
    keys(server, "delete", kid)
    time.sleep(SETTLE)
    with pytest.raises(op.exceptions.ClientError) as ex:
        op.list_things()
    assert error_code(ex) == "UnrecognizedClientException"
    assert kid not in [k["AccessKeyId"] for k in keys(server, "list")["AccessKeys"]]


def test_conditions(server, iot, make_key):
    def key(cond, name=None):
        return make_key({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iot:ListThings", "Resource": "*", "Condition": cond}]},
            name=name)

    def works(k):
        try:
            client(server, "iot", k[0], k[1]).list_things()
            return True
        except ClientError as ex:
            assert error_code_of(ex) == "AccessDeniedException"
            return False

    assert works(key({"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}))
    assert not works(key({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    assert not works(key({"StringEquals": {"aws:username": "someone-else"}}))
    name = unique("cond")
    assert works(key({"StringEquals": {"aws:username": name}}, name=name))
    assert works(key({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}))
    assert not works(key({"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}))
    assert works(key({"StringEquals": {"aws:PrincipalAccount": account(server)}}))


def test_data_plane_jobs_data_and_logs(server, iot, make_key):
    iot.create_thing(thingName="dev-a")
    iot.create_thing(thingName="dev-b")
    admin_data = server.client("iot-data")
    for t in ("dev-a", "dev-b"):
        admin_data.update_thing_shadow(thingName=t, payload=b'{"state":{"reported":{"x":1}}}')
    kid, secret, name = make_key({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["iot:GetThingShadow", "iotjobsdata:*"],
         "Resource": arn(server, "thing/dev-a")},
        {"Effect": "Allow", "Action": "logs:FilterLogEvents",
         "Resource": f"arn:aws:logs:*:*:log-group:{AUDIT}"}]})
    data = client(server, "iot-data", kid, secret)
    assert json.loads(data.get_thing_shadow(thingName="dev-a")["payload"].read())
    with pytest.raises(data.exceptions.ClientError) as ex:
        data.get_thing_shadow(thingName="dev-b")
    assert ex.value.response["Error"]["Message"] == denial(
        server, name, "iot:GetThingShadow", arn(server, "thing/dev-b"))
    with pytest.raises(data.exceptions.ClientError) as ex:
        data.update_thing_shadow(thingName="dev-a", payload=b'{"state":{"reported":{"x":2}}}')
    assert error_code(ex) == "AccessDeniedException"
    jd = client(server, "iot-jobs-data", kid, secret)
    assert jd.get_pending_job_executions(thingName="dev-a")["inProgressJobs"] == []
    with pytest.raises(jd.exceptions.ClientError) as ex:
        jd.get_pending_job_executions(thingName="dev-b")
    assert "iotjobsdata:GetPendingJobExecutions" in ex.value.response["Error"]["Message"]
    logs = client(server, "logs", kid, secret)
    logs.filter_log_events(logGroupName=AUDIT)
    with pytest.raises(logs.exceptions.ClientError) as ex:
        logs.filter_log_events(logGroupName="other")
    assert error_code(ex) == "AccessDeniedException"
    with pytest.raises(logs.exceptions.ClientError) as ex:
        logs.create_log_group(logGroupName="mine")
    assert ex.value.response["Error"]["Message"] == denial(
        server, name, "logs:CreateLogGroup",
        f"arn:aws:logs:{server.env['AWS_DEFAULT_REGION']}:{account(server)}:log-group:mine")


def test_keys_command_errors(server, make_key, tmp_path):
    kid, secret, name = make_key(READ_ONLY)
    p = keys(server, "create", "--name", name, check=False)
    assert p.returncode == 1 and "ResourceAlreadyExistsException" in p.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}')
    p = keys(server, "attach-policy", kid, "--policy-file", str(bad), check=False)
    assert p.returncode == 1 and "MalformedPolicyException" in p.stderr
    p = keys(server, "create", "--name", unique("op"), "--policy-file", str(bad), check=False)
    assert p.returncode == 1 and "MalformedPolicyException" in p.stderr
    for verb in ("disable", "enable", "rotate", "delete", "get"):
        p = keys(server, verb, "AKIANOSUCHKEY0000000", check=False)
        assert p.returncode == 1 and "ResourceNotFoundException" in p.stderr, verb
    p = keys(server, "detach-policy", kid, "--policy-name", "none", check=False)
    assert p.returncode == 1 and "ResourceNotFoundException" in p.stderr
    for bad_name in ("", "has space", "x" * 65):
        p = keys(server, "create", "--name", bad_name, check=False)
        assert p.returncode == 1 and "InvalidRequestException" in p.stderr, bad_name
    kid64, _, _ = make_key(None, name="y" * 64)
    assert keys(server, "get", kid64)["AccessKey"]["UserName"] == "y" * 64
    assert keys(server, "frobnicate", check=False).returncode == 1
    assert keys(server, check=False).returncode == 2
    # policies: the limit, both sides; attaching under an existing name replaces it
    for i in range(9):
        f = tmp_path / f"p{i}.json"
        f.write_text(json.dumps(READ_ONLY))
        keys(server, "attach-policy", kid, "--policy-file", str(f))
    keys(server, "attach-policy", kid, "--policy-file", str(tmp_path / "p0.json"))
    assert len(keys(server, "get", kid)["AccessKey"]["Policies"]) == 10
    f = tmp_path / "p10.json"
    f.write_text(json.dumps(READ_ONLY))
    p = keys(server, "attach-policy", kid, "--policy-file", str(f), check=False)
    assert p.returncode == 1 and "LimitExceededException" in p.stderr
    got = keys(server, "attach-policy", kid, "--policy-file", "-", "--policy-name", "stdin",
               check=False, stdin=json.dumps(READ_ONLY))
    assert got.returncode == 1 and "LimitExceededException" in got.stderr


def test_reset_keeps_keys(server, make_key):
    kid, secret, _ = make_key(READ_ONLY)
    op = client(server, "iot", kid, secret)
    op.list_things()
    assert signed_request(server, "POST", "/fleetyard/reset").status_code == 200
    time.sleep(SETTLE)
    op.list_things()
    with pytest.raises(op.exceptions.ClientError) as ex:
        op.create_thing(thingName="x")
    assert error_code(ex) == "AccessDeniedException"


def test_reset_needs_permission(server, make_key):
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    import requests
    kid, secret, name = make_key(READ_ONLY)
    req = botocore.awsrequest.AWSRequest(method="POST", url=server.endpoint + "/fleetyard/reset",
                                         data=b"")
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(kid, secret), "iot",
                            server.env["AWS_DEFAULT_REGION"]).add_auth(req)
    r = requests.post(req.url, headers=dict(req.headers), data=b"", timeout=10)
    assert r.status_code == 403 and r.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    assert "fleetyard:Reset" in r.json()["message"]


def test_requests_while_keys_change(server, iot, make_key, tmp_path):
    """Requests signed by a key keep being answered (200 or 403, never a failure of the server)
    while the command swaps the key's policies and other keys come and go: the server swaps its
    cached key set under requests still using the old one."""
    import threading
    kid, secret, name = make_key(READ_ONLY)
    iot.create_thing(thingName="busy-1")
    extra = tmp_path / "more.json"
    extra.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iot:UpdateThing", "Resource": "*"}]}))
    statuses, stop = [], threading.Event()

    def hammer():
        op = client(server, "iot", kid, secret)
        while not stop.is_set():
            for what, call in (
                    ("describe", lambda: op.describe_thing(thingName="busy-1")),
                    ("update", lambda: op.update_thing(
                        thingName="busy-1", attributePayload={"attributes": {"a": "1"}}))):
                try:
                    call()
                    statuses.append((what, 200))
                except ClientError as ex:
                    statuses.append((what, ex.response["ResponseMetadata"]["HTTPStatusCode"]))

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for i in range(6):
            keys(server, "attach-policy", kid, "--policy-file", str(extra))
            other, _, _ = make_key(READ_ONLY)
            time.sleep(0.15)
            keys(server, "detach-policy", kid, "--policy-name", "more")
            keys(server, "delete", other)
            time.sleep(0.15)
    finally:
        stop.set()
        for t in threads:
            t.join()
    # reads always allowed; updates allowed while the policy was attached, refused otherwise
    assert {s for w, s in statuses if w == "describe"} == {200}
    assert {s for w, s in statuses if w == "update"} == {200, 403}
