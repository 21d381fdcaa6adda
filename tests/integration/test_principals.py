"""Thing principals: attach/detach through the x-amzn-principal header, V1 listings with
pagination, V2 listings and exclusive attachments (raw signed requests: the Debian botocore
predates them)."""
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
import requests
from botocore.exceptions import ClientError

from conftest import error_code


def signed(server, method, path, headers=None):
    creds = botocore.credentials.Credentials(server.env["AWS_ACCESS_KEY_ID"],
                                             server.env["AWS_SECRET_ACCESS_KEY"])
    req = botocore.awsrequest.AWSRequest(method=method, url=server.endpoint + path, data=b"",
                                         headers=headers or {})
    botocore.auth.SigV4Auth(creds, "iot", server.env["AWS_DEFAULT_REGION"]).add_auth(req)
    return requests.request(method, req.url, headers=dict(req.headers), timeout=10)


def test_attach_list_detach(iot, aws):
    arn = iot.create_keys_and_certificate()["certificateArn"]
    for i in range(5):
        iot.create_thing(thingName=f"t{i}")
        r = aws("iot", "attach-thing-principal", "--thing-name", f"t{i}", "--principal", arn)
        assert r.rc == 0, r.err
    assert iot.list_thing_principals(thingName="t0")["principals"] == [arn]
    names, token = [], None
    while True:
        kw = {"principal": arn, "maxResults": 2}
        if token:
            kw["nextToken"] = token
        page = iot.list_principal_things(**kw)
        names += page["things"]
        token = page.get("nextToken")
        if not token:
            break
    assert names == [f"t{i}" for i in range(5)]
    r = aws("iot", "list-principal-things", "--principal", arn)
    assert r.rc == 0 and r.json["things"] == names
    iot.detach_thing_principal(thingName="t0", principal=arn)
    assert iot.list_thing_principals(thingName="t0")["principals"] == []
    iot.detach_thing_principal(thingName="t0", principal=arn)  # not attached: still fine


def test_bad_principals(iot):
    iot.create_thing(thingName="t")
    with pytest.raises(ClientError) as e:
        iot.attach_thing_principal(thingName="t",
                                   principal="arn:aws:iot:us-east-1:123456789012:cert/" + "a" * 64)
    assert error_code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        iot.attach_thing_principal(thingName="t", principal="not-an-arn")
    assert error_code(e) == "InvalidRequestException"
    arn = iot.create_keys_and_certificate()["certificateArn"]
    with pytest.raises(ClientError) as e:
        iot.attach_thing_principal(thingName="missing", principal=arn)
    assert error_code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        iot.list_thing_principals(thingName="missing")
    assert error_code(e) == "ResourceNotFoundException"
    assert iot.list_thing_principals(thingName="t")["principals"] == []


def test_v2_and_exclusive(server, iot):
    arn = iot.create_keys_and_certificate()["certificateArn"]
    iot.create_thing(thingName="a")
    iot.create_thing(thingName="b")
    hdr = {"x-amzn-principal": arn}
    r = signed(server, "PUT", "/things/a/principals?thingPrincipalType=EXCLUSIVE_THING", hdr)
    assert r.status_code == 200, r.text
    r = signed(server, "PUT", "/things/b/principals", hdr)
    assert r.status_code == 400 and r.headers["x-amzn-ErrorType"] == "InvalidRequestException"
    r = signed(server, "GET", "/things/a/principals-v2")
    assert r.json()["thingPrincipalObjects"] == [
        {"principal": arn, "thingPrincipalType": "EXCLUSIVE_THING"}]
    r = signed(server, "GET", "/principals/things-v2?thingPrincipalType=NON_EXCLUSIVE_THING", hdr)
    assert r.json()["principalThingObjects"] == []
    r = signed(server, "GET", "/principals/things-v2", hdr)
    assert r.json()["principalThingObjects"] == [
        {"thingName": "a", "thingPrincipalType": "EXCLUSIVE_THING"}]
    r = signed(server, "PUT", "/things/a/principals?thingPrincipalType=SOMETIMES", hdr)
    assert r.status_code == 400
    # A non-exclusive principal attached to two things cannot become exclusive.
    arn2 = iot.create_keys_and_certificate()["certificateArn"]
    iot.attach_thing_principal(thingName="a", principal=arn2)
    iot.attach_thing_principal(thingName="b", principal=arn2)
    r = signed(server, "PUT", "/things/a/principals?thingPrincipalType=EXCLUSIVE_THING",
               {"x-amzn-principal": arn2})
    assert r.status_code == 400
    assert iot.list_principal_things(principal=arn2)["things"] == ["a", "b"]
