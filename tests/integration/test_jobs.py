"""Jobs against a real fleetyard-server: the control plane with boto3 and /usr/bin/aws, the device
side with boto3 'iot-jobs-data', and the rollout engine (scheduler thread) releasing executions
within their limits. Bad input gets AWS's error type and changes nothing."""
import json
import os
import subprocess
import tempfile
import time

import pytest
from botocore.exceptions import ClientError

from conftest import AWS_CLI, error_code, signed_request

DOC = {"operation": "firmwareUpdate", "version": "1.1.0"}
DOCUMENT_MAX = 32768  # FY_JOBS_DOCUMENT_MAX
TARGETS_MAX = 100  # FY_JOBS_TARGETS_MAX
DETAILS_MAX = 10  # FY_JOBS_DETAILS_MAX
CONCURRENT_MAX = 100000  # FY_JOBS_CONCURRENT_MAX


@pytest.fixture
def jobs(server, reset):
    return server.client("iot-jobs-data")


def group_arn(iot, name):
    return iot.describe_thing_group(thingGroupName=name)["thingGroupArn"]


def thing_arn(iot, name):
    return iot.describe_thing(thingName=name)["thingArn"]


def fleet(iot, group, n, parent=None):
    kw = {"parentGroupName": parent} if parent else {}
    iot.create_thing_group(thingGroupName=group, **kw)
    names = [f"{group}-{i:02d}" for i in range(n)]
    for t in names:
        iot.create_thing(thingName=t)
        iot.add_thing_to_thing_group(thingGroupName=group, thingName=t)
    return names


def wait(cond, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    return cond()


def pending(jobs, thing):
    r = jobs.get_pending_job_executions(thingName=thing)
    return [e["jobId"] for e in r["inProgressJobs"] + r["queuedJobs"]]


def counts(iot, job_id):
    return iot.describe_job(jobId=job_id)["job"]["jobProcessDetails"]


def test_create_describe_list(iot, jobs):
    things = fleet(iot, "fw", 2)
    nested = fleet(iot, "fw-child", 1, parent="fw")
    r = iot.create_job(jobId="j1", targets=[group_arn(iot, "fw")], document=json.dumps(DOC),
                       description="Firmware 1.1.0",
                       timeoutConfig={"inProgressTimeoutInMinutes": 30},
                       tags=[{"Key": "team", "Value": "fw"}])
    assert r["jobId"] == "j1" and r["jobArn"].endswith(":job/j1")
    assert r["description"] == "Firmware 1.1.0"
    job = iot.describe_job(jobId="j1")["job"]
    assert job["status"] == "IN_PROGRESS" and job["targetSelection"] == "SNAPSHOT"
    assert job["targets"] == [group_arn(iot, "fw")]
    assert job["timeoutConfig"] == {"inProgressTimeoutInMinutes": 30}
    assert job["jobProcessDetails"]["numberOfQueuedThings"] == 3
    assert json.loads(iot.get_job_document(jobId="j1")["document"]) == DOC
    for t in things + nested:
        assert wait(lambda: pending(jobs, t) == ["j1"]), t
    iot.create_job(jobId="j2", targets=[thing_arn(iot, things[0])], document="{}",
                   targetSelection="CONTINUOUS")
    ids = lambda **kw: [j["jobId"] for j in iot.list_jobs(**kw)["jobs"]]
    assert ids() == ["j1", "j2"]
    assert ids(targetSelection="CONTINUOUS") == ["j2"]
    assert ids(thingGroupName="fw") == ["j1"]
    assert ids(status="COMPLETED") == []
    page = iot.list_jobs(maxResults=1)
    assert [j["jobId"] for j in page["jobs"]] == ["j1"] and page["nextToken"]
    assert [j["jobId"] for j in iot.list_jobs(nextToken=page["nextToken"])["jobs"]] == ["j2"]
    summaries = iot.list_job_executions_for_job(jobId="j1")["executionSummaries"]
    assert sorted(s["thingArn"].split("/")[-1] for s in summaries) == sorted(things + nested)
    for_thing = iot.list_job_executions_for_thing(thingName=things[0])["executionSummaries"]
    assert sorted(e["jobId"] for e in for_thing) == ["j1", "j2"]


def test_device_flow_over_http(iot, jobs):
    t = fleet(iot, "dv", 1)[0]
    iot.create_job(jobId="dj", targets=[thing_arn(iot, t)], document=json.dumps(DOC))
    assert wait(lambda: pending(jobs, t) == ["dj"])
    ex = jobs.start_next_pending_job_execution(thingName=t, statusDetails={"step": "download"},
                                               stepTimeoutInMinutes=5)["execution"]
    assert ex["jobId"] == "dj" and ex["status"] == "IN_PROGRESS" and ex["thingName"] == t
    assert json.loads(ex["jobDocument"]) == DOC and ex["versionNumber"] == 2
    assert ex["statusDetails"] == {"step": "download"} and ex["executionNumber"] == 1
    d = jobs.describe_job_execution(thingName=t, jobId="$next")["execution"]
    assert d["jobId"] == "dj" and d["status"] == "IN_PROGRESS"
    assert 290 <= d["approximateSecondsBeforeTimedOut"] <= 300
    with pytest.raises(ClientError) as e:
        jobs.update_job_execution(thingName=t, jobId="dj", status="SUCCEEDED", expectedVersion=1)
    assert error_code(e) == "VersionConflictException"
    r = jobs.update_job_execution(thingName=t, jobId="dj", status="SUCCEEDED", expectedVersion=2,
                                  statusDetails={"result": "ok"}, includeJobExecutionState=True,
                                  includeJobDocument=True)
    assert r["executionState"] == {"status": "SUCCEEDED", "statusDetails": {"result": "ok"},
                                   "versionNumber": 3}
    assert json.loads(r["jobDocument"]) == DOC
    with pytest.raises(ClientError) as e:
        jobs.update_job_execution(thingName=t, jobId="dj", status="IN_PROGRESS")
    assert error_code(e) == "InvalidStateTransitionException"
    x = iot.describe_job_execution(jobId="dj", thingName=t)["execution"]
    assert x["status"] == "SUCCEEDED" and x["statusDetails"]["detailsMap"] == {"result": "ok"}
    assert x["thingArn"] == thing_arn(iot, t) and x["versionNumber"] == 3
    assert wait(lambda: iot.describe_job(jobId="dj")["job"]["status"] == "COMPLETED")
    job = iot.describe_job(jobId="dj")["job"]
    assert job["jobProcessDetails"]["numberOfSucceededThings"] == 1 and "completedAt" in job
    assert pending(jobs, t) == []
    with pytest.raises(ClientError) as e:
        jobs.describe_job_execution(thingName=t, jobId="$next")
    assert error_code(e) == "ResourceNotFoundException"


def test_bad_input_changes_nothing(iot, jobs):
    t = fleet(iot, "bad", 1)[0]
    arn = thing_arn(iot, t)
    cases = [
        ({"targets": ["not-an-arn"], "document": "{}"}, "InvalidRequestException"),
        ({"targets": [arn.replace(t, "missing")], "document": "{}"}, "ResourceNotFoundException"),
        ({"targets": [arn], "document": "[1]"}, "InvalidRequestException"),
        ({"targets": [arn]}, "InvalidRequestException"),
        ({"targets": [arn], "document": "{}", "documentSource": "https://x/y"},
         "InvalidRequestException"),
        ({"targets": [arn] * (TARGETS_MAX + 1), "document": "{}"}, "InvalidRequestException"),
        ({"targets": [arn], "document": "{}", "timeoutConfig": {"inProgressTimeoutInMinutes": 10081}},
         "InvalidRequestException"),
        ({"targets": [arn], "document": "{}",
          "jobExecutionsRolloutConfig": {"maximumPerMinute": 1001}}, "InvalidRequestException"),
        ({"targets": [arn], "document": "{}", "abortConfig": {"criteriaList": [
            {"failureType": "FAILED", "action": "CANCEL", "thresholdPercentage": 101,
             "minNumberOfExecutedThings": 1}]}}, "InvalidRequestException"),
        ({"targets": [arn], "document": "{}", "jobExecutionsRetryConfig": {"criteriaList": [
            {"failureType": "FAILED", "numberOfRetries": 6},
            {"failureType": "TIMED_OUT", "numberOfRetries": 5}]}}, "InvalidRequestException"),
        ({"targets": [arn], "document": "{}",
          "schedulingConfig": {"startTime": "2020-01-01T00:00"}}, "InvalidRequestException"),
    ]
    for kw, code in cases:
        with pytest.raises(ClientError) as e:
            iot.create_job(jobId="bad", **kw)
        assert error_code(e) == code, kw
        with pytest.raises(ClientError) as e:
            iot.describe_job(jobId="bad")
        assert error_code(e) == "ResourceNotFoundException"
    big = json.dumps({"p": "x" * (DOCUMENT_MAX - 9)})
    assert len(big) == DOCUMENT_MAX
    iot.create_job(jobId="big", targets=[arn], document=big)
    with pytest.raises(ClientError) as e:
        iot.create_job(jobId="big2", targets=[arn], document=json.dumps({"p": "x" * (DOCUMENT_MAX - 8)}))
    assert error_code(e) == "InvalidRequestException"
    with pytest.raises(ClientError) as e:
        iot.create_job(jobId="big", targets=[arn], document="{}")
    assert error_code(e) == "ResourceAlreadyExistsException"
    assert wait(lambda: pending(jobs, t) == ["big"])
    ok_details = {f"k{i}": "v" for i in range(DETAILS_MAX)}
    jobs.update_job_execution(thingName=t, jobId="big", status="IN_PROGRESS",
                              statusDetails=ok_details)
    for details in ({f"k{i}": "v" for i in range(DETAILS_MAX + 1)}, {"bad key": "v"}):
        with pytest.raises(ClientError) as e:
            jobs.update_job_execution(thingName=t, jobId="big", status="SUCCEEDED",
                                      statusDetails=details)
        assert error_code(e) == "InvalidRequestException"
    with pytest.raises(ClientError) as e:
        jobs.update_job_execution(thingName=t, jobId="big", status="TIMED_OUT")
    assert error_code(e) == "InvalidRequestException"
    x = iot.describe_job_execution(jobId="big", thingName=t)["execution"]
    assert x["status"] == "IN_PROGRESS" and x["versionNumber"] == 2
    iot.create_job(jobId="hundred", targets=[arn] * TARGETS_MAX, document="{}")
    assert iot.describe_job(jobId="hundred")["job"]["jobProcessDetails"]["numberOfQueuedThings"] == 1
    r = signed_request(iot_server(iot), "PUT", "/jobs/extmax", json.dumps(
        {"targets": [arn], "document": "{}",
         "jobExecutionsConfig": {"maxConcurrentExecutions": CONCURRENT_MAX}}).encode())
    assert r.status_code == 200, r.text
    r = signed_request(iot_server(iot), "PUT", "/jobs/extover", json.dumps(
        {"targets": [arn], "document": "{}",
         "jobExecutionsConfig": {"maxConcurrentExecutions": CONCURRENT_MAX + 1}}).encode())
    assert r.status_code == 400 and r.headers["x-amzn-ErrorType"] == "InvalidRequestException"
    r = signed_request(iot_server(iot), "PUT", "/jobs/ext0", json.dumps(
        {"targets": [arn], "document": "{}", "jobExecutionsConfig": {"maxConcurrentExecutions": 0}}
    ).encode())
    assert r.status_code == 400 and r.headers["x-amzn-ErrorType"] == "InvalidRequestException"


def iot_server(iot):
    class S:
        endpoint = iot.meta.endpoint_url
        env = {"AWS_ACCESS_KEY_ID": iot._request_signer._credentials.access_key,
               "AWS_SECRET_ACCESS_KEY": iot._request_signer._credentials.secret_key,
               "AWS_DEFAULT_REGION": iot.meta.region_name}
    return S


def test_cancel_and_delete(iot, jobs):
    a, b = fleet(iot, "cx", 2)
    iot.create_job(jobId="cx", targets=[group_arn(iot, "cx")], document="{}")
    assert wait(lambda: pending(jobs, a) == ["cx"] and pending(jobs, b) == ["cx"])
    jobs.start_next_pending_job_execution(thingName=a)
    with pytest.raises(ClientError) as e:
        iot.delete_job(jobId="cx")
    assert error_code(e) == "InvalidStateTransitionException"
    r = iot.cancel_job(jobId="cx", reasonCode="BAD_BUILD", comment="bad build")
    assert r["jobId"] == "cx" and r["jobArn"].endswith(":job/cx")
    job = iot.describe_job(jobId="cx")["job"]
    assert job["status"] == "CANCELED" and job["reasonCode"] == "BAD_BUILD"
    assert job["comment"] == "bad build" and job["forceCanceled"] is False
    assert job["jobProcessDetails"]["numberOfCanceledThings"] == 1
    assert job["jobProcessDetails"]["numberOfInProgressThings"] == 1
    assert pending(jobs, a) == ["cx"] and pending(jobs, b) == []
    iot.cancel_job(jobId="cx", force=True)
    job = iot.describe_job(jobId="cx")["job"]
    assert job["forceCanceled"] is True and job["jobProcessDetails"]["numberOfCanceledThings"] == 2
    x = iot.describe_job_execution(jobId="cx", thingName=a)["execution"]
    assert x["status"] == "CANCELED" and x["forceCanceled"] is True
    with pytest.raises(ClientError) as e:
        iot.cancel_job(jobId="cx", reasonCode="lower case")
    assert error_code(e) == "InvalidRequestException"
    iot.delete_job(jobId="cx")

    def gone():
        try:
            iot.describe_job(jobId="cx")
        except ClientError as ex:
            return error_code_of(ex) == "ResourceNotFoundException"
        return False
    assert wait(gone)
    iot.create_job(jobId="cx", targets=[group_arn(iot, "cx")], document="{}")


def error_code_of(ex):
    return ex.response["Error"]["Code"]


def test_execution_cancel_and_delete(iot, jobs):
    a, b = fleet(iot, "ec", 2)
    iot.create_job(jobId="ec", targets=[group_arn(iot, "ec")], document="{}")
    assert wait(lambda: pending(jobs, a) == ["ec"] and pending(jobs, b) == ["ec"])
    jobs.start_next_pending_job_execution(thingName=a)
    with pytest.raises(ClientError) as e:
        iot.cancel_job_execution(jobId="ec", thingName=a)
    assert error_code(e) == "InvalidStateTransitionException"
    with pytest.raises(ClientError) as e:
        iot.cancel_job_execution(jobId="ec", thingName=a, force=True, expectedVersion=1)
    assert error_code(e) == "VersionConflictException"
    iot.cancel_job_execution(jobId="ec", thingName=a, force=True, expectedVersion=2,
                             statusDetails={"why": "operator"})
    iot.cancel_job_execution(jobId="ec", thingName=b)
    assert pending(jobs, a) == [] and pending(jobs, b) == []
    with pytest.raises(ClientError) as e:
        iot.cancel_job_execution(jobId="ec", thingName=b)
    assert error_code(e) == "InvalidStateTransitionException"
    iot.delete_job_execution(jobId="ec", thingName=a, executionNumber=1)
    with pytest.raises(ClientError) as e:
        iot.describe_job_execution(jobId="ec", thingName=a)
    assert error_code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        iot.delete_job_execution(jobId="ec", thingName=a, executionNumber=1)
    assert error_code(e) == "ResourceNotFoundException"


def test_concurrency_limit_never_exceeded(iot, jobs):
    things = fleet(iot, "mc", 8)
    body = {"targets": [group_arn(iot, "mc")], "document": "{}",
            "jobExecutionsConfig": {"maxConcurrentExecutions": 3}}
    r = signed_request(iot_server(iot), "PUT", "/jobs/mc", json.dumps(body).encode())
    assert r.status_code == 200, r.text
    assert iot.describe_job(jobId="mc")["job"]["jobProcessDetails"]["numberOfQueuedThings"] == 8
    done, most = set(), 0
    deadline = time.time() + 20
    while len(done) < len(things) and time.time() < deadline:
        visible = [t for t in things if t not in done and pending(jobs, t) == ["mc"]]
        most = max(most, len(visible))
        for t in visible[:1]:
            jobs.update_job_execution(thingName=t, jobId="mc", status="SUCCEEDED")
            done.add(t)
        time.sleep(0.05)
    assert most <= 3 and len(done) == len(things), (most, done)
    assert wait(lambda: iot.describe_job(jobId="mc")["job"]["status"] == "COMPLETED")


def test_rate_limit(iot, jobs):
    things = fleet(iot, "rl", 3)
    iot.create_job(jobId="rl", targets=[group_arn(iot, "rl")], document="{}",
                   jobExecutionsRolloutConfig={"maximumPerMinute": 1})
    assert wait(lambda: sum(pending(jobs, t) == ["rl"] for t in things) == 1)
    time.sleep(1.0)
    assert sum(pending(jobs, t) == ["rl"] for t in things) == 1
    job = iot.describe_job(jobId="rl")["job"]
    assert job["isConcurrent"] is True and job["jobProcessDetails"]["processingTargets"]


def test_continuous_targets(iot, jobs):
    fleet(iot, "ct", 1)
    iot.create_job(jobId="ct", targets=[group_arn(iot, "ct")], document="{}",
                   targetSelection="CONTINUOUS")
    iot.create_thing(thingName="ct-late")
    iot.add_thing_to_thing_group(thingGroupName="ct", thingName="ct-late")
    assert wait(lambda: pending(jobs, "ct-late") == ["ct"])
    iot.remove_thing_from_thing_group(thingGroupName="ct", thingName="ct-late")
    assert wait(lambda: pending(jobs, "ct-late") == [])
    x = iot.describe_job_execution(jobId="ct", thingName="ct-late")["execution"]
    assert x["status"] == "REMOVED"
    iot.add_thing_to_thing_group(thingGroupName="ct", thingName="ct-late")
    assert wait(lambda: pending(jobs, "ct-late") == ["ct"])
    x = iot.describe_job_execution(jobId="ct", thingName="ct-late")["execution"]
    assert x["executionNumber"] == 2 and x["status"] == "QUEUED"
    assert iot.describe_job(jobId="ct")["job"]["status"] == "IN_PROGRESS"


def test_abort_and_retry(iot, jobs):
    things = fleet(iot, "ar", 4)
    iot.create_job(
        jobId="ar", targets=[group_arn(iot, "ar")], document="{}",
        jobExecutionsRetryConfig={"criteriaList": [{"failureType": "FAILED", "numberOfRetries": 1}]},
        abortConfig={"criteriaList": [{"failureType": "FAILED", "action": "CANCEL",
                                       "thresholdPercentage": 50, "minNumberOfExecutedThings": 3}]})
    assert wait(lambda: all(pending(jobs, t) == ["ar"] for t in things))
    jobs.update_job_execution(thingName=things[0], jobId="ar", status="FAILED")
    assert wait(lambda: pending(jobs, things[0]) == ["ar"])
    x = jobs.describe_job_execution(thingName=things[0], jobId="ar")["execution"]
    assert x["executionNumber"] == 2 and x["status"] == "QUEUED"
    summary = iot.list_job_executions_for_thing(thingName=things[0])["executionSummaries"]
    assert sorted(s["jobExecutionSummary"]["retryAttempt"] for s in summary) == [0, 1]
    jobs.update_job_execution(thingName=things[0], jobId="ar", status="FAILED")
    jobs.update_job_execution(thingName=things[1], jobId="ar", status="SUCCEEDED")
    time.sleep(0.5)
    assert iot.describe_job(jobId="ar")["job"]["status"] == "IN_PROGRESS"
    jobs.update_job_execution(thingName=things[2], jobId="ar", status="FAILED")
    assert wait(lambda: pending(jobs, things[2]) == ["ar"])
    time.sleep(0.5)
    assert iot.describe_job(jobId="ar")["job"]["status"] == "IN_PROGRESS", "retried: not final"
    jobs.update_job_execution(thingName=things[2], jobId="ar", status="FAILED")
    assert wait(lambda: iot.describe_job(jobId="ar")["job"]["status"] == "CANCELED")
    job = iot.describe_job(jobId="ar")["job"]
    assert job["jobProcessDetails"]["numberOfCanceledThings"] == 1
    assert job["jobProcessDetails"]["numberOfFailedThings"] == 2
    assert job["reasonCode"] == "AUTO_ABORT"
    assert pending(jobs, things[3]) == []


def test_templates(iot, jobs):
    t = fleet(iot, "tp", 1)[0]
    r = iot.create_job_template(jobTemplateId="fw", description="firmware", document=json.dumps(DOC),
                                timeoutConfig={"inProgressTimeoutInMinutes": 10})
    assert r["jobTemplateId"] == "fw" and r["jobTemplateArn"].endswith(":jobtemplate/fw")
    with pytest.raises(ClientError) as e:
        iot.create_job_template(jobTemplateId="fw", description="again", document="{}")
    assert error_code(e) == "ConflictException"
    with pytest.raises(ClientError) as e:
        iot.create_job_template(jobTemplateId="nodoc", description="x")
    assert error_code(e) == "InvalidRequestException"
    d = iot.describe_job_template(jobTemplateId="fw")
    assert d["description"] == "firmware" and json.loads(d["document"]) == DOC
    assert d["timeoutConfig"] == {"inProgressTimeoutInMinutes": 10}
    assert [x["jobTemplateId"] for x in iot.list_job_templates()["jobTemplates"]] == ["fw"]
    iot.create_job(jobId="fromtp", targets=[thing_arn(iot, t)], jobTemplateArn=r["jobTemplateArn"])
    job = iot.describe_job(jobId="fromtp")["job"]
    assert job["jobTemplateArn"] == r["jobTemplateArn"]
    assert job["timeoutConfig"] == {"inProgressTimeoutInMinutes": 10}
    assert json.loads(iot.get_job_document(jobId="fromtp")["document"]) == DOC
    iot.create_job_template(jobTemplateId="copy", description="from job",
                            jobArn=job["jobArn"])
    assert json.loads(iot.describe_job_template(jobTemplateId="copy")["document"]) == DOC
    iot.delete_job_template(jobTemplateId="fw")
    with pytest.raises(ClientError) as e:
        iot.describe_job_template(jobTemplateId="fw")
    assert error_code(e) == "ResourceNotFoundException"


def cli_with_model(server, home, *args):
    env = server.cli_env()
    env["HOME"] = home
    p = subprocess.run([AWS_CLI, "--endpoint-url", server.endpoint, "--output", "json", *args],
                       capture_output=True, text=True, env=env, timeout=60)
    return p


def test_cli_extension_walkthrough(server, iot, jobs):
    """The lifecycle walkthrough's create-job command, verbatim, after the documented set-up."""
    fleet(iot, "wk", 4)
    home = tempfile.mkdtemp(prefix="fy-aws-home-")
    script = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "aws-add-jobs-model.py")
    env = dict(os.environ, HOME=home)
    subprocess.run(["/usr/bin/python3", script], check=True, env=env, capture_output=True)
    with open(os.path.join(home, "doc.json"), "w") as f:
        json.dump(DOC, f)
    p = cli_with_model(server, home, "iot", "create-job", "--job-id", "wk",
                       "--targets", group_arn(iot, "wk"), "--document",
                       "file://" + os.path.join(home, "doc.json"), "--description",
                       "Firmware update to version 1.1.0", "--target-selection", "CONTINUOUS",
                       "--job-executions-config", "maxConcurrentExecutions=5",
                       "--timeout-config", "inProgressTimeoutInMinutes=30")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["jobArn"].endswith(":job/wk")
    p = cli_with_model(server, home, "iot", "describe-job", "--job-id", "wk")
    job = json.loads(p.stdout)["job"]
    assert job["jobExecutionsConfig"] == {"maxConcurrentExecutions": 5}
    assert job["targetSelection"] == "CONTINUOUS" and job["status"] == "IN_PROGRESS"
    assert job["jobProcessDetails"]["numberOfQueuedThings"] == 4
    p = cli_with_model(server, home, "iot", "create-job", "--job-id", "wk0", "--targets",
                       group_arn(iot, "wk"), "--document", "{}", "--job-executions-config",
                       "maxConcurrentExecutions=0")
    assert p.returncode != 0
    stock = tempfile.mkdtemp(prefix="fy-aws-stock-")
    p = cli_with_model(server, stock, "iot", "create-job", "--job-id", "x", "--targets", "a",
                       "--job-executions-config", "maxConcurrentExecutions=5")
    os.rmdir(stock)
    assert p.returncode != 0 and "Unknown options" in p.stderr
    p = cli_with_model(server, home, "iot", "cancel-job", "--job-id", "wk", "--force")
    assert p.returncode == 0, p.stderr
    p = cli_with_model(server, home, "iot", "delete-job", "--job-id", "wk", "--force")
    assert p.returncode == 0, p.stderr
    subprocess.run(["rm", "-rf", home], check=False)


def test_dynamic_group_target(iot, jobs):
    """A continuous job on a dynamic group: members at creation get executions, a thing that
    comes to match the query later gets one too, one that stops matching is REMOVED."""
    iot.update_indexing_configuration(thingIndexingConfiguration={"thingIndexingMode": "REGISTRY"})
    attrs = lambda v: {"attributes": {"fw": v}}
    iot.create_thing(thingName="dy-1", attributePayload=attrs("1.0"))
    iot.create_thing(thingName="dy-2", attributePayload=attrs("2.0"))
    g = iot.create_dynamic_thing_group(thingGroupName="old-fw", queryString="attributes.fw:1.0")
    iot.create_job(jobId="dy", targets=[g["thingGroupArn"]], document="{}",
                   targetSelection="CONTINUOUS")
    assert wait(lambda: pending(jobs, "dy-1") == ["dy"])
    assert pending(jobs, "dy-2") == []
    iot.update_thing(thingName="dy-2", attributePayload=attrs("1.0"))
    assert wait(lambda: pending(jobs, "dy-2") == ["dy"])
    iot.update_thing(thingName="dy-1", attributePayload=attrs("3.0"))
    assert wait(lambda: pending(jobs, "dy-1") == [])
    assert iot.describe_job_execution(jobId="dy", thingName="dy-1")["execution"]["status"] == \
        "REMOVED"


def test_update_job(iot, jobs):
    t = fleet(iot, "uj", 1)[0]
    iot.create_job(jobId="uj", targets=[thing_arn(iot, t)], document="{}", description="v1",
                   timeoutConfig={"inProgressTimeoutInMinutes": 5})
    iot.update_job(jobId="uj", description="v2",
                   jobExecutionsRolloutConfig={"maximumPerMinute": 10},
                   abortConfig={"criteriaList": [{"failureType": "ALL", "action": "CANCEL",
                                                  "thresholdPercentage": 50,
                                                  "minNumberOfExecutedThings": 1}]})
    job = iot.describe_job(jobId="uj")["job"]
    assert job["description"] == "v2" and job["timeoutConfig"] == {"inProgressTimeoutInMinutes": 5}
    assert job["jobExecutionsRolloutConfig"] == {"maximumPerMinute": 10}
    assert job["abortConfig"]["criteriaList"][0]["failureType"] == "ALL"
    with pytest.raises(ClientError) as e:
        iot.update_job(jobId="uj", timeoutConfig={"inProgressTimeoutInMinutes": 0})
    assert error_code(e) == "InvalidRequestException"
    assert iot.describe_job(jobId="uj")["job"]["timeoutConfig"] == {"inProgressTimeoutInMinutes": 5}
    with pytest.raises(ClientError) as e:
        iot.update_job(jobId="missing", description="x")
    assert error_code(e) == "ResourceNotFoundException"
