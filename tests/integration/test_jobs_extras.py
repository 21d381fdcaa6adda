"""Jobs against a real fleetyard-server with paho devices: namespaced (customer-managed) jobs and
their notify-namespace topic, documentParameters validation, presigned URL placeholders signed
on delivery (MQTT and HTTP) but not in GetJobDocument, the first wave released by CreateJob
itself, continuous-job joiners outside the rollout rate, and abort rules applied at the update
that crosses the threshold."""
import datetime
import hashlib
import hmac
import json
import time
import urllib.parse

import pytest
from botocore.exceptions import ClientError

from conftest import error_code, signed_request
from test_broker import devices, new_cert, wd  # noqa: F401 (fixtures)
from test_jobs import fleet, jobs, pending, thing_arn, wait  # noqa: F401 (fixtures)
from test_shadow_mqtt import next_on, nothing_on

J = "$aws/things/{}/jobs"
PARAM_KEY_MAX = 128  # FY_JOBS_PARAM_KEY_MAX
PARAM_VALUE_MAX = 512  # FY_JOBS_PARAM_VALUE_MAX
NAMESPACE_MAX = 64  # FY_JOBS_NAMESPACE_MAX
ROLE = "arn:aws:iam::123456789012:role/fw-download"


def device(iot, wd, devices, name, *subs):
    iot.create_thing(thingName=name)
    _, arn, crt, key = new_cert(iot, wd, name)
    iot.attach_thing_principal(thingName=name, principal=arn)
    d = devices(crt, key, name)
    assert d.connect() == 0
    for s in subs:
        assert d.subscribe(J.format(name) + "/" + s) == (1,)
    return d


def create_raw(server, job_id, body):
    return signed_request(server, "PUT", "/jobs/" + job_id, json.dumps(body).encode())


# ---- the first wave ----

def test_create_job_releases_the_first_wave_itself(iot, wd, devices, jobs):
    """notify-next goes out before CreateJob answers (no wait for the scheduler's 200 ms pass),
    and the first wave respects maximumPerMinute."""
    d = device(iot, wd, devices, "fw-dev", "notify-next")
    lat = []
    for i in range(20):
        iot.create_job(jobId=f"fast-{i}", targets=[thing_arn(iot, "fw-dev")], document="{}")
        t0 = time.time()
        m = next_on(d, J.format("fw-dev") + "/notify-next", timeout=2)
        lat.append(time.time() - t0)
        assert m is not None and "execution" in m
        jobs.update_job_execution(thingName="fw-dev", jobId=f"fast-{i}", status="SUCCEEDED")
        while next_on(d, J.format("fw-dev") + "/notify-next", timeout=0.3):
            pass  # the empty notify-next after the update
    lat.sort()
    print("notify-next after CreateJob returned: p50 %.1f ms, max %.1f ms" % (
        lat[len(lat) // 2] * 1e3, lat[-1] * 1e3))
    assert lat[len(lat) // 2] < 0.01 and lat[-3] < 0.05, lat  # the scheduler's pass: 0-200 ms
    names = fleet(iot, "fw", 3)
    iot.create_job(jobId="rated", targets=[iot.describe_thing_group(
        thingGroupName="fw")["thingGroupArn"]], document="{}",
        jobExecutionsRolloutConfig={"maximumPerMinute": 1})
    assert sum("rated" in pending(jobs, t) for t in names) == 1  # at once, and only one
    time.sleep(0.5)
    assert sum("rated" in pending(jobs, t) for t in names) == 1


# ---- namespaces ----

def test_namespaced_job(iot, wd, devices, jobs, server):
    ns_topic = J.format("ns-dev") + "/nsj/notify-namespace-ns1/"
    d = device(iot, wd, devices, "ns-dev", "notify-next", "notify", "nsj/notify-namespace-ns1/")
    arn = thing_arn(iot, "ns-dev")
    iot.create_job(jobId="nsj", targets=[arn], document='{"op":"gg"}', namespaceId="ns1")
    m = next_on(d, ns_topic)
    assert m["execution"]["jobId"] == "nsj" and m["execution"]["status"] == "QUEUED"
    assert m["execution"]["jobDocument"] == {"op": "gg"}
    # customer-managed: not in the thing's ordinary pending list or notifications
    assert nothing_on(d, J.format("ns-dev") + "/notify-next")
    assert pending(jobs, "ns-dev") == []
    iot.create_job(jobId="plain", targets=[arn], document="{}")
    assert next_on(d, J.format("ns-dev") + "/notify")["jobs"]["QUEUED"][0]["jobId"] == "plain"
    assert next_on(d, J.format("ns-dev") + "/notify-next")["execution"]["jobId"] == "plain"
    assert nothing_on(d, ns_topic)
    # the control plane
    assert iot.describe_job(jobId="nsj")["job"]["namespaceId"] == "ns1"
    assert "namespaceId" not in iot.describe_job(jobId="plain")["job"]
    assert [j["jobId"] for j in iot.list_jobs(namespaceId="ns1")["jobs"]] == ["nsj"]
    assert iot.list_jobs(namespaceId="other")["jobs"] == []
    assert {j["jobId"] for j in iot.list_jobs()["jobs"]} == {"nsj", "plain"}
    assert [e["jobId"] for e in iot.list_job_executions_for_thing(
        thingName="ns-dev", namespaceId="ns1")["executionSummaries"]] == ["nsj"]
    # the device works it by its id; every change is on the namespace topic
    d.publish(J.format("ns-dev") + "/nsj/update", json.dumps({"status": "IN_PROGRESS"}))
    assert next_on(d, J.format("ns-dev") + "/nsj/update/accepted") is not None
    assert next_on(d, ns_topic)["execution"]["status"] == "IN_PROGRESS"
    d.publish(J.format("ns-dev") + "/nsj/update", json.dumps({"status": "SUCCEEDED"}))
    assert next_on(d, ns_topic)["execution"]["status"] == "SUCCEEDED"
    assert nothing_on(d, J.format("ns-dev") + "/notify")
    # namespaceId must match where the API takes it
    with pytest.raises(ClientError) as ei:
        iot.delete_job(jobId="nsj", namespaceId="other")
    assert error_code(ei) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as ei:
        iot.update_job(jobId="nsj", description="x", namespaceId="other")
    assert error_code(ei) == "ResourceNotFoundException"
    iot.update_job(jobId="nsj", description="x", namespaceId="ns1")
    iot.delete_job(jobId="nsj", namespaceId="ns1", force=True)


def test_greengrass_namespace_topics(iot, wd, devices):
    """The topics the Greengrass nucleus uses for its deployments (namespace aws-gg-deployment):
    notify-next-namespace-<ns>, $next/namespace-<ns>/get and <jobId>/namespace-<ns>/update."""
    ns = "aws-gg-deployment"
    p = J.format("gg-core")
    d = device(iot, wd, devices, "gg-core", f"notify-next-namespace-{ns}", "notify-next",
               f"$next/namespace-{ns}/get/accepted", f"dep1/namespace-{ns}/update/accepted",
               f"plain1/namespace-{ns}/get/rejected")
    arn = thing_arn(iot, "gg-core")
    iot.create_job(jobId="dep1", targets=[arn], document='{"components":{}}', namespaceId=ns)
    m = next_on(d, f"{p}/notify-next-namespace-{ns}")
    assert m["execution"]["jobId"] == "dep1" and m["execution"]["jobDocument"] == {"components": {}}
    d.publish(f"{p}/$next/namespace-{ns}/get", json.dumps({"clientToken": "g1"}))
    got = next_on(d, f"{p}/$next/namespace-{ns}/get/accepted")
    assert got["execution"]["jobId"] == "dep1" and got["clientToken"] == "g1"
    d.publish(f"{p}/dep1/namespace-{ns}/update", json.dumps({"status": "IN_PROGRESS"}))
    assert next_on(d, f"{p}/dep1/namespace-{ns}/update/accepted") is not None
    assert nothing_on(d, f"{p}/notify-next-namespace-{ns}")  # the next one is still dep1
    iot.create_job(jobId="plain1", targets=[arn], document="{}")
    assert next_on(d, p + "/notify-next")["execution"]["jobId"] == "plain1"
    d.publish(f"{p}/plain1/namespace-{ns}/get", "{}")  # not a job of that namespace
    assert next_on(d, f"{p}/plain1/namespace-{ns}/get/rejected")["code"] == "ResourceNotFound"
    d.publish(f"{p}/dep1/namespace-{ns}/update", json.dumps({"status": "SUCCEEDED"}))
    assert next_on(d, f"{p}/notify-next-namespace-{ns}") == {"timestamp": pytest.approx(
        time.time(), abs=5)}


def test_namespace_id_validation(iot, server):
    arn = iot.create_thing(thingName="nv")["thingArn"]
    body = {"targets": [arn], "document": "{}"}
    for bad in ["a/b", "a+", "", "n" * (NAMESPACE_MAX + 1)]:
        r = create_raw(server, "nv1", dict(body, namespaceId=bad))
        assert r.status_code == 400 and "InvalidRequest" in r.headers["x-amzn-ErrorType"], bad
    assert create_raw(server, "nv1", dict(body, namespaceId="n" * NAMESPACE_MAX)).status_code == 200
    assert iot.describe_job(jobId="nv1")["job"]["namespaceId"] == "n" * NAMESPACE_MAX


# ---- documentParameters ----

def test_document_parameters_validated_then_refused(iot, server):
    """AWS accepts documentParameters only with AWS managed templates (fleetyard has none):
    malformed maps fail AWS's key/value checks; well-formed ones, at the limits, are refused
    for that reason. Nothing is created either way."""
    arn = iot.create_thing(thingName="dp")["thingArn"]
    body = {"targets": [arn], "document": '{"url":"${aws:iot:parameter:url}"}'}
    cases = [
        ({"k" * (PARAM_KEY_MAX + 1): "v"}, "key"),
        ({"a.b": "v"}, "key"),
        ({"k": "v" * (PARAM_VALUE_MAX + 1)}, "value"),
        ({"k": ""}, "value"),
        ({"k": "a\u0007b"}, "value"),
        ({"k" * PARAM_KEY_MAX: "v" * PARAM_VALUE_MAX}, "managed templates"),
        ({"url": "https://x"}, "managed templates"),
    ]
    for params, why in cases:
        r = create_raw(server, "dp1", dict(body, documentParameters=params))
        assert r.status_code == 400 and "InvalidRequest" in r.headers["x-amzn-ErrorType"]
        assert why in r.json()["message"], (why, r.json())
    iot.create_job_template(jobTemplateId="tp", description="d", document="{}")
    tpl = iot.describe_job_template(jobTemplateId="tp")["jobTemplateArn"]
    with pytest.raises(ClientError) as ei:
        iot.create_job(jobId="dp2", targets=[arn], jobTemplateArn=tpl,
                       documentParameters={"url": "https://x"})
    assert error_code(ei) == "InvalidRequestException"
    assert iot.list_jobs()["jobs"] == []


# ---- presigned URLs ----

def check_presigned(url, server, expires, now):
    """Recomputes the URL's SigV4 (S3 query form) with the operator credential."""
    u = urllib.parse.urlsplit(url)
    q = urllib.parse.parse_qsl(u.query, keep_blank_values=True)
    params = dict(q)
    assert params["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert params["X-Amz-Expires"] == str(expires)
    assert params["X-Amz-SignedHeaders"] == "host"
    signed_at = datetime.datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    assert abs(signed_at - now) < 5, (signed_at, now)
    ak, day, region, svc, term = params["X-Amz-Credential"].split("/")
    assert ak == server.env["AWS_ACCESS_KEY_ID"] and svc == "s3" and term == "aws4_request"
    cq = "&".join(f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
                  for k, v in sorted(q) if k != "X-Amz-Signature")
    creq = f"GET\n{u.path}\n{cq}\nhost:{u.netloc}\n\nhost\nUNSIGNED-PAYLOAD"
    scope = f"{day}/{region}/s3/aws4_request"
    sts = "AWS4-HMAC-SHA256\n{}\n{}\n{}".format(params["X-Amz-Date"], scope,
                                                 hashlib.sha256(creq.encode()).hexdigest())
    k = ("AWS4" + server.env["AWS_SECRET_ACCESS_KEY"]).encode()
    for part in (day, region, "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    assert hmac.new(k, sts.encode(), hashlib.sha256).hexdigest() == params["X-Amz-Signature"]
    return region, signed_at


def test_presigned_urls_signed_on_delivery(iot, wd, devices, jobs, server):
    src = "https://s3.eu-central-1.amazonaws.com/fw-bucket/images/v2.bin"
    doc = {"url": "${aws:iot:s3-presigned-url:" + src + "}", "size": 3}
    d = device(iot, wd, devices, "ps-dev", "notify-next", "ps/get/accepted",
               "start-next/accepted")
    iot.create_job(jobId="ps", targets=[thing_arn(iot, "ps-dev")], document=json.dumps(doc),
                   presignedUrlConfig={"roleArn": ROLE, "expiresInSec": 120})
    nxt = next_on(d, J.format("ps-dev") + "/notify-next")["execution"]["jobDocument"]
    assert nxt["size"] == 3 and nxt["url"].startswith(src + "?X-Amz-Algorithm=")
    assert check_presigned(nxt["url"], server, 120, time.time())[0] == "eu-central-1"
    time.sleep(1.1)
    d.publish(J.format("ps-dev") + "/ps/get", "{}")
    got = next_on(d, J.format("ps-dev") + "/ps/get/accepted")["execution"]["jobDocument"]
    _, t1 = check_presigned(got["url"], server, 120, time.time())
    assert got["url"] != nxt["url"]  # signed again at each delivery
    d.publish(J.format("ps-dev") + "/start-next", "{}")
    started = next_on(d, J.format("ps-dev") + "/start-next/accepted")["execution"]["jobDocument"]
    check_presigned(started["url"], server, 120, time.time())
    http = jobs.describe_job_execution(thingName="ps-dev", jobId="ps", includeJobDocument=True)
    check_presigned(json.loads(http["execution"]["jobDocument"])["url"], server, 120, time.time())
    # the operator reads the document as written
    assert json.loads(iot.get_job_document(jobId="ps")["document"]) == doc
    # without presignedUrlConfig the placeholder reaches the device unchanged
    iot.create_job(jobId="ps2", targets=[thing_arn(iot, "ps-dev")], document=json.dumps(doc))
    raw = jobs.describe_job_execution(thingName="ps-dev", jobId="ps2", includeJobDocument=True)
    assert json.loads(raw["execution"]["jobDocument"]) == doc
    # default expiry 3600 s
    iot.create_job(jobId="ps3", targets=[thing_arn(iot, "ps-dev")], document=json.dumps(doc),
                   presignedUrlConfig={"roleArn": ROLE})
    dflt = jobs.describe_job_execution(thingName="ps-dev", jobId="ps3", includeJobDocument=True)
    check_presigned(json.loads(dflt["execution"]["jobDocument"])["url"], server, 3600, time.time())


def test_presigned_url_config_limits(iot, server):
    arn = iot.create_thing(thingName="pl")["thingArn"]
    body = {"targets": [arn], "document": "{}"}
    for i, (cfg, ok) in enumerate([({"roleArn": ROLE, "expiresInSec": 59}, False),
                                   ({"roleArn": ROLE, "expiresInSec": 3601}, False),
                                   ({"roleArn": "r" * 19}, False),
                                   ({"roleArn": "r" * 2049}, False),
                                   ({"roleArn": ROLE, "expiresInSec": 60}, True),
                                   ({"roleArn": ROLE, "expiresInSec": 3600}, True),
                                   ({"roleArn": "r" * 20}, True),
                                   ({"roleArn": "r" * 2048}, True)]):
        r = create_raw(server, f"pl{i}", dict(body, presignedUrlConfig=cfg))
        assert (r.status_code == 200) == ok, (cfg, r.text)
        if not ok:
            assert "presignedUrlConfig" in r.json()["message"]
    assert iot.describe_job(jobId="pl4")["job"]["presignedUrlConfig"]["expiresInSec"] == 60


# ---- continuous joiners and abort ----

def test_continuous_joiners_skip_the_rollout_rate(iot, jobs):
    names = fleet(iot, "cj", 3)
    garn = iot.describe_thing_group(thingGroupName="cj")["thingGroupArn"]
    iot.create_job(jobId="cj", targets=[garn], document="{}", targetSelection="CONTINUOUS",
                   jobExecutionsRolloutConfig={"maximumPerMinute": 1})
    assert sum("cj" in pending(jobs, t) for t in names) == 1
    iot.create_thing(thingName="cj-late")
    iot.add_thing_to_thing_group(thingGroupName="cj", thingName="cj-late")
    assert wait(lambda: "cj" in pending(jobs, "cj-late"), 3)  # despite the rate being spent
    time.sleep(0.5)
    assert sum("cj" in pending(jobs, t) for t in names) == 1  # the initial set still waits


def test_continuous_joiners_keep_the_concurrency_limit(iot, jobs, server):
    fleet(iot, "cc", 1)
    garn = iot.describe_thing_group(thingGroupName="cc")["thingGroupArn"]
    body = {"targets": [garn], "document": "{}", "targetSelection": "CONTINUOUS",
            "jobExecutionsConfig": {"maxConcurrentExecutions": 1}}
    assert create_raw(server, "cc", body).status_code == 200
    assert pending(jobs, "cc-00") == ["cc"]
    iot.create_thing(thingName="cc-late")
    iot.add_thing_to_thing_group(thingGroupName="cc", thingName="cc-late")
    time.sleep(1.0)
    assert pending(jobs, "cc-late") == []  # one in flight already
    jobs.update_job_execution(thingName="cc-00", jobId="cc", status="SUCCEEDED")
    assert wait(lambda: pending(jobs, "cc-late") == ["cc"], 3)


def test_abort_applies_at_the_update(iot, jobs):
    names = fleet(iot, "ab", 6)
    garn = iot.describe_thing_group(thingGroupName="ab")["thingGroupArn"]
    iot.create_job(jobId="ab", targets=[garn], document="{}",
                   abortConfig={"criteriaList": [{"failureType": "FAILED", "action": "CANCEL",
                                                  "thresholdPercentage": 50,
                                                  "minNumberOfExecutedThings": 2}]})
    jobs.update_job_execution(thingName=names[0], jobId="ab", status="FAILED")
    assert iot.describe_job(jobId="ab")["job"]["status"] == "IN_PROGRESS"
    jobs.update_job_execution(thingName=names[1], jobId="ab", status="FAILED")
    job = iot.describe_job(jobId="ab")["job"]  # no wait: the update itself canceled it
    assert job["status"] == "CANCELED" and job["reasonCode"] == "AUTO_ABORT"
    assert job["jobProcessDetails"]["numberOfCanceledThings"] == 4
