"""IoT policies through boto3 and /usr/bin/aws: documents validated by the engine, versions
(limit 5), default version, deletion rules, attachments to certificates and thing groups with
their limits, listings, and effective policies across a group hierarchy."""
import json

import pytest
from botocore.exceptions import ClientError

from conftest import error_code, signed_request

WALKTHROUGH = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["iot:Connect", "iot:Publish", "iot:Subscribe", "iot:Receive"],
         "Resource": ["arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}",
                      "arn:aws:iot:*:*:topic/device/${iot:Connection.Thing.ThingName}/*",
                      "arn:aws:iot:*:*:topicfilter/device/${iot:Connection.Thing.ThingName}/*"]},
        {"Effect": "Allow",
         "Action": ["iot:GetThingShadow", "iot:UpdateThingShadow", "iot:DeleteThingShadow"],
         "Resource": ["arn:aws:iot:*:*:thing/${iot:Connection.Thing.ThingName}"]}]}


def doc(n=0):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iot:Publish",
         "Resource": f"arn:aws:iot:us-east-1:123456789012:topic/t{n}"}]})


def test_create_get_list_cli(aws, tmp_path, iot):
    f = tmp_path / "p.json"
    f.write_text(json.dumps(WALKTHROUGH, indent=2))
    r = aws("iot", "create-policy", "--policy-name", "device-policy", "--policy-document",
            f"file://{f}")
    assert r.rc == 0, r.err
    assert r.json["policyVersionId"] == "1"
    assert r.json["policyArn"] == "arn:aws:iot:us-east-1:123456789012:policy/device-policy"
    assert json.loads(r.json["policyDocument"]) == WALKTHROUGH
    g = iot.get_policy(policyName="device-policy")
    assert g["defaultVersionId"] == "1" and json.loads(g["policyDocument"]) == WALKTHROUGH
    r = aws("iot", "list-policies")
    assert [p["policyName"] for p in r.json["policies"]] == ["device-policy"]
    r = aws("iot", "create-policy", "--policy-name", "device-policy", "--policy-document",
            f"file://{f}")
    assert r.rc != 0 and "ResourceAlreadyExistsException" in r.err


@pytest.mark.parametrize("bad", [
    "not json",
    json.dumps({"Version": "2012-10-17"}),
    json.dumps({"Version": "2012-10-17", "Statement": [{"Action": "iot:*", "Resource": "*"}]}),
    json.dumps({"Version": "1999-01-01", "Statement": [
        {"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}),
    json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iot:*", "Resource": "*",
         "Condition": {"NoSuchOperator": {"a": "b"}}}]}),
])
def test_malformed_policy_changes_nothing(iot, bad):
    with pytest.raises(ClientError) as e:
        iot.create_policy(policyName="p", policyDocument=bad)
    assert error_code(e) == "MalformedPolicyException"
    assert iot.list_policies()["policies"] == []


def test_versions(iot):
    iot.create_policy(policyName="p", policyDocument=doc(1))
    for n in range(2, 6):
        v = iot.create_policy_version(policyName="p", policyDocument=doc(n))
        assert v["policyVersionId"] == str(n) and v["isDefaultVersion"] is False
    with pytest.raises(ClientError) as e:
        iot.create_policy_version(policyName="p", policyDocument=doc(6))
    assert error_code(e) == "VersionsLimitExceededException"
    assert len(iot.list_policy_versions(policyName="p")["policyVersions"]) == 5
    with pytest.raises(ClientError) as e:
        iot.create_policy_version(policyName="p", policyDocument="{")
    assert error_code(e) == "MalformedPolicyException"
    iot.set_default_policy_version(policyName="p", policyVersionId="3")
    assert iot.get_policy(policyName="p")["defaultVersionId"] == "3"
    assert iot.get_policy_version(policyName="p", policyVersionId="3")["isDefaultVersion"]
    with pytest.raises(ClientError) as e:
        iot.delete_policy_version(policyName="p", policyVersionId="3")
    assert error_code(e) == "DeleteConflictException"
    with pytest.raises(ClientError) as e:
        iot.delete_policy(policyName="p")
    assert error_code(e) == "DeleteConflictException"
    for n in (1, 2, 4, 5):
        iot.delete_policy_version(policyName="p", policyVersionId=str(n))
    v = iot.create_policy_version(policyName="p", policyDocument=doc(7), setAsDefault=True)
    assert v["policyVersionId"] == "6" and v["isDefaultVersion"] is True
    with pytest.raises(ClientError) as e:
        iot.get_policy_version(policyName="p", policyVersionId="1")
    assert error_code(e) == "ResourceNotFoundException"
    iot.delete_policy_version(policyName="p", policyVersionId="3")
    iot.delete_policy(policyName="p")
    with pytest.raises(ClientError) as e:
        iot.get_policy(policyName="p")
    assert error_code(e) == "ResourceNotFoundException"


def test_attachments_and_limits(iot):
    cert = iot.create_keys_and_certificate()["certificateArn"]
    for n in range(11):
        iot.create_policy(policyName=f"p{n:02d}", policyDocument=doc(n))
    for n in range(10):
        iot.attach_policy(policyName=f"p{n:02d}", target=cert)
    iot.attach_policy(policyName="p00", target=cert)  # again: no-op
    with pytest.raises(ClientError) as e:
        iot.attach_policy(policyName="p10", target=cert)
    assert error_code(e) == "LimitExceededException"
    got = iot.list_attached_policies(target=cert, pageSize=4)
    assert [p["policyName"] for p in got["policies"]] == ["p00", "p01", "p02", "p03"]
    rest = iot.list_attached_policies(target=cert, marker=got["nextMarker"], pageSize=100)
    assert len(rest["policies"]) == 6 and "nextMarker" not in rest
    assert iot.list_targets_for_policy(policyName="p00")["targets"] == [cert]
    with pytest.raises(ClientError) as e:
        iot.delete_policy(policyName="p00")
    assert error_code(e) == "DeleteConflictException"
    iot.detach_policy(policyName="p00", target=cert)
    assert iot.list_targets_for_policy(policyName="p00")["targets"] == []
    iot.create_thing_group(thingGroupName="g")
    garn = iot.describe_thing_group(thingGroupName="g")["thingGroupArn"]
    iot.attach_policy(policyName="p00", target=garn)
    iot.attach_policy(policyName="p01", target=garn)
    with pytest.raises(ClientError) as e:
        iot.attach_policy(policyName="p02", target=garn)
    assert error_code(e) == "LimitExceededException"


def test_bad_targets(iot):
    iot.create_policy(policyName="p", policyDocument=doc())
    missing = "arn:aws:iot:us-east-1:123456789012:cert/" + "b" * 64
    for target, code in [(missing, "ResourceNotFoundException"),
                         ("arn:aws:iot:us-east-1:123456789012:thinggroup/none",
                          "ResourceNotFoundException"),
                         ("arn:aws:iot:us-east-1:123456789012:thing/t", "InvalidRequestException"),
                         ("garbage", "InvalidRequestException")]:
        with pytest.raises(ClientError) as e:
            iot.attach_policy(policyName="p", target=target)
        assert error_code(e) == code, target
    cert = iot.create_keys_and_certificate()["certificateArn"]
    with pytest.raises(ClientError) as e:
        iot.attach_policy(policyName="nope", target=cert)
    assert error_code(e) == "ResourceNotFoundException"
    assert iot.list_targets_for_policy(policyName="p")["targets"] == []


def test_effective_policies_through_group_hierarchy(iot, aws):
    cert = iot.create_keys_and_certificate(setAsActive=True)["certificateArn"]
    for n in ("own", "root", "leaf", "other"):
        iot.create_policy(policyName=n, policyDocument=doc())
    iot.create_thing_group(thingGroupName="root")
    iot.create_thing_group(thingGroupName="leaf", parentGroupName="root")
    iot.create_thing_group(thingGroupName="elsewhere")
    arn = lambda g: iot.describe_thing_group(thingGroupName=g)["thingGroupArn"]
    iot.attach_policy(policyName="own", target=cert)
    iot.attach_policy(policyName="root", target=arn("root"))
    iot.attach_policy(policyName="leaf", target=arn("leaf"))
    iot.attach_policy(policyName="other", target=arn("elsewhere"))
    iot.create_thing(thingName="dev")
    iot.add_thing_to_thing_group(thingGroupName="leaf", thingName="dev")
    eff = iot.get_effective_policies(principal=cert, thingName="dev")["effectivePolicies"]
    assert sorted(p["policyName"] for p in eff) == ["leaf", "own", "root"]
    assert all(p["policyDocument"] == doc() for p in eff)
    only_cert = iot.get_effective_policies(principal=cert)["effectivePolicies"]
    assert [p["policyName"] for p in only_cert] == ["own"]
    rec = iot.list_attached_policies(target=arn("leaf"), recursive=True)["policies"]
    assert sorted(p["policyName"] for p in rec) == ["leaf", "root"]
    flat = iot.list_attached_policies(target=arn("leaf"))["policies"]
    assert [p["policyName"] for p in flat] == ["leaf"]
    with pytest.raises(ClientError) as e:
        iot.get_effective_policies(principal=cert, thingName="ghost")
    assert error_code(e) == "ResourceNotFoundException"
    r = aws("iot", "get-effective-policies", "--principal", cert, "--thing-name", "dev")
    assert r.rc == 0 and len(r.json["effectivePolicies"]) == 3


def walkthrough_device(iot, thing="dev1"):
    iot.create_thing(thingName=thing)
    cert = iot.create_keys_and_certificate(setAsActive=True)["certificateArn"]
    iot.attach_thing_principal(thingName=thing, principal=cert)
    if "device-policy" not in [p["policyName"] for p in iot.list_policies()["policies"]]:
        iot.create_policy(policyName="device-policy", policyDocument=json.dumps(WALKTHROUGH))
    iot.attach_policy(policyName="device-policy", target=cert)
    return cert


def decide(iot, cert, client, action, resource, **kw):
    r = iot.test_authorization(principal=cert, clientId=client,
                               authInfos=[{"actionType": action, "resources": [resource]}], **kw)
    return r["authResults"][0]


A = "arn:aws:iot:us-east-1:123456789012:"


def test_test_authorization_walkthrough_policy(iot):
    cert = walkthrough_device(iot)
    walkthrough_device(iot, "dev2")
    r = decide(iot, cert, "dev1", "CONNECT", A + "client/dev1")
    assert r["authDecision"] == "ALLOWED"
    assert [p["policyName"] for p in r["allowed"]["policies"]] == ["device-policy"]
    assert decide(iot, cert, "dev1", "PUBLISH", A + "topic/device/dev1/t")["authDecision"] == \
        "ALLOWED"
    assert decide(iot, cert, "dev1", "SUBSCRIBE", A + "topicfilter/device/dev1/#")[
        "authDecision"] == "ALLOWED"
    assert decide(iot, cert, "dev1", "PUBLISH", A + "topic/device/dev2/t")["authDecision"] == \
        "IMPLICIT_DENY"
    assert decide(iot, cert, "dev1", "RECEIVE", A + "topic/device/dev2/t")["authDecision"] == \
        "IMPLICIT_DENY"
    # connecting with a neighbour's client id: no thing is associated, the variable is missing
    r = decide(iot, cert, "dev2", "CONNECT", A + "client/dev2")
    assert r["authDecision"] == "IMPLICIT_DENY"
    assert "iot:Connection.Thing.ThingName" in r["missingContextValues"]


def test_test_authorization_deny_add_skip_and_groups(iot):
    cert = walkthrough_device(iot)
    iot.create_policy(policyName="deny-pub", policyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "iot:Publish",
                                                "Resource": A + "topic/device/dev1/secret"}]}))
    r = decide(iot, cert, "dev1", "PUBLISH", A + "topic/device/dev1/secret",
               policyNamesToAdd=["deny-pub"])
    assert r["authDecision"] == "EXPLICIT_DENY"
    assert [p["policyName"] for p in r["denied"]["explicitDeny"]["policies"]] == ["deny-pub"]
    r = decide(iot, cert, "dev1", "CONNECT", A + "client/dev1",
               policyNamesToSkip=["device-policy"])
    assert r["authDecision"] == "IMPLICIT_DENY"
    # a policy on the thing's group (through the hierarchy) applies to the associated thing
    iot.create_thing_group(thingGroupName="plant")
    iot.create_thing_group(thingGroupName="line", parentGroupName="plant")
    iot.add_thing_to_thing_group(thingGroupName="line", thingName="dev1")
    iot.attach_policy(policyName="deny-pub",
                      target=iot.describe_thing_group(thingGroupName="plant")["thingGroupArn"])
    r = decide(iot, cert, "dev1", "PUBLISH", A + "topic/device/dev1/secret")
    assert r["authDecision"] == "EXPLICIT_DENY"
    assert decide(iot, cert, "dev1", "PUBLISH", A + "topic/device/dev1/open")["authDecision"] == \
        "ALLOWED"


def test_test_authorization_bad_input(iot, server):
    cert = walkthrough_device(iot)
    for body in ({"principal": cert, "authInfos": []},
                 {"principal": cert, "authInfos": [{"actionType": "FLY", "resources": ["x"]}]},
                 {"principal": cert, "authInfos": [{"actionType": "CONNECT"}]},
                 {"principal": cert, "authInfos": [
                     {"actionType": "CONNECT", "resources": ["x"]}] * 11}):
        r = signed_request(server, "POST", "/test-authorization", json.dumps(body).encode())
        assert r.status_code == 400, body
        assert r.headers["x-amzn-ErrorType"] == "InvalidRequestException"
    with pytest.raises(ClientError) as e:
        iot.test_authorization(principal=cert, clientId="dev1", authInfos=[
            {"actionType": "CONNECT", "resources": [A + "client/dev1"]}],
            policyNamesToAdd=["no-such-policy"])
    assert error_code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        iot.test_authorization(principal=A + "cert/" + "c" * 64, authInfos=[
            {"actionType": "CONNECT", "resources": [A + "client/x"]}])
    assert error_code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        iot.test_authorization(principal="nope", authInfos=[
            {"actionType": "CONNECT", "resources": [A + "client/x"]}])
    assert error_code(e) == "InvalidRequestException"


def test_policy_and_ca_tags(iot):
    out = iot.create_policy(policyName="tagged", policyDocument=doc(),
                            tags=[{"Key": "team", "Value": "fw"}])
    arn = out["policyArn"]
    assert iot.list_tags_for_resource(resourceArn=arn)["tags"] == [{"Key": "team", "Value": "fw"}]
    iot.tag_resource(resourceArn=arn, tags=[{"Key": "env", "Value": "prod"}])
    assert len(iot.list_tags_for_resource(resourceArn=arn)["tags"]) == 2
    with pytest.raises(ClientError) as e:
        iot.create_policy(policyName="badtags", policyDocument=doc(),
                          tags=[{"Key": "aws:reserved", "Value": "x"}])
    assert error_code(e) == "InvalidRequestException"
    with pytest.raises(ClientError):
        iot.get_policy(policyName="badtags")
    iot.delete_policy(policyName="tagged")
    iot.create_policy(policyName="tagged", policyDocument=doc())
    assert iot.list_tags_for_resource(resourceArn=arn)["tags"] == []
