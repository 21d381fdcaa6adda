"""TagResource, UntagResource and ListTagsForResource on thing groups and thing types, through
boto3 and /usr/bin/aws; limits tested on both sides, bad input changes nothing."""
import pytest
from botocore.exceptions import ClientError

from conftest import error_code
from test_thing_groups import send_signed

TAGS_MAX = 50
KEY_MAX = 128
VALUE_MAX = 256
PAGE = 25  # ListTagsForResource page size


def arn(server, kind, name):
    return "arn:aws:iot:%s:123456789012:%s/%s" % (server.env["AWS_DEFAULT_REGION"], kind, name)


def raises(code, fn, *args, **kw):
    with pytest.raises(ClientError) as e:
        fn(*args, **kw)
    assert error_code(e) == code, e.value.response
    return e.value.response["Error"]["Message"]


def tags_of(iot, resource):
    out, token = [], None
    while True:
        kw = {"nextToken": token} if token else {}
        r = iot.list_tags_for_resource(resourceArn=resource, **kw)
        out += r["tags"]
        token = r.get("nextToken")
        if not token:
            return {t["Key"]: t["Value"] for t in out}


def tag_list(d):
    return [{"Key": k, "Value": v} for k, v in d.items()]


@pytest.fixture
def group(iot, server):
    iot.create_thing_group(thingGroupName="g")
    return arn(server, "thinggroup", "g")


def test_tag_list_untag_thing_group(iot, group):
    assert iot.list_tags_for_resource(resourceArn=group)["tags"] == []
    iot.tag_resource(resourceArn=group, tags=[{"Key": "env", "Value": "prod"},
                                              {"Key": "team", "Value": "a"}])
    iot.tag_resource(resourceArn=group, tags=[{"Key": "env", "Value": "dev"},
                                              {"Key": "empty"}])
    r = iot.list_tags_for_resource(resourceArn=group)
    assert r["tags"] == [{"Key": "empty", "Value": ""}, {"Key": "env", "Value": "dev"},
                         {"Key": "team", "Value": "a"}]
    assert "nextToken" not in r
    iot.untag_resource(resourceArn=group, tagKeys=["env", "not-there"])
    assert tags_of(iot, group) == {"empty": "", "team": "a"}


def test_tags_on_thing_types(iot, server):
    iot.create_thing_type(thingTypeName="bulb")
    t = arn(server, "thingtype", "bulb")
    iot.tag_resource(resourceArn=t, tags=[{"Key": "k", "Value": "v"}])
    assert tags_of(iot, t) == {"k": "v"}
    iot.untag_resource(resourceArn=t, tagKeys=["k"])
    assert tags_of(iot, t) == {}


def test_create_thing_group_tags_share_the_table(iot, server):
    iot.create_thing_group(thingGroupName="g", tags=[{"Key": "a", "Value": "1"}])
    g = arn(server, "thinggroup", "g")
    assert tags_of(iot, g) == {"a": "1"}
    iot.tag_resource(resourceArn=g, tags=[{"Key": "b", "Value": "2"}])
    assert tags_of(iot, g) == {"a": "1", "b": "2"}
    raises("InvalidRequestException", iot.create_thing_group, thingGroupName="h",
           tags=[{"Key": "aws:x", "Value": "1"}])
    many = tag_list({"k%02d" % i: "v" for i in range(TAGS_MAX + 1)})
    raises("InvalidRequestException", iot.create_thing_group, thingGroupName="h", tags=many)
    raises("ResourceNotFoundException", iot.describe_thing_group, thingGroupName="h")
    iot.create_thing_group(thingGroupName="h", tags=many[:TAGS_MAX])
    assert len(tags_of(iot, arn(server, "thinggroup", "h"))) == TAGS_MAX


def test_deleting_a_group_deletes_its_tags(iot, server, group):
    iot.tag_resource(resourceArn=group, tags=[{"Key": "k", "Value": "v"}])
    iot.delete_thing_group(thingGroupName="g")
    raises("ResourceNotFoundException", iot.list_tags_for_resource, resourceArn=group)
    iot.create_thing_group(thingGroupName="g")
    assert tags_of(iot, group) == {}


def test_key_and_value_limits(iot, server, group):
    before = {"keep": "me"}
    iot.tag_resource(resourceArn=group, tags=tag_list(before))
    ok = {"k" * KEY_MAX: "v" * VALUE_MAX, "with space/and:_.=+-@": "x", "ключ": "значение"}
    iot.tag_resource(resourceArn=group, tags=tag_list(ok))
    assert tags_of(iot, group) == dict(before, **ok)
    bad_tags = (
        [{"Key": "k" * (KEY_MAX + 1), "Value": "v"}],
        [{"Key": "k", "Value": "v" * (VALUE_MAX + 1)}],
        [{"Key": "bad*key", "Value": "v"}],
        [{"Key": "aws:reserved", "Value": "v"}],
        [{"Key": "AWS:reserved", "Value": "v"}],
        [{"Key": "fine", "Value": "v"}, {"Key": "aws:x", "Value": "v"}],
    )
    for bad in bad_tags:
        raises("InvalidRequestException", iot.tag_resource, resourceArn=group, tags=bad)
    raises("InvalidRequestException", iot.untag_resource, resourceArn=group,
           tagKeys=["aws:reserved"])
    # an empty key never leaves botocore; send it raw
    body = b'{"resourceArn": "%s", "tags": [{"Key": "", "Value": "v"}]}' % group.encode()
    r = send_signed(server, iot, "POST", "/tags", body)
    assert r.status_code == 400
    assert r.headers["x-amzn-ErrorType"].startswith("InvalidRequestException")
    for body in (b'{"resourceArn": "%s", "tags": [{"Key": "k", "Extra": 1}]}' % group.encode(),
                 b'{"resourceArn": "%s", "tags": {"k": "v"}}' % group.encode(),
                 b'{"resourceArn": "%s"}' % group.encode()):
        r = send_signed(server, iot, "POST", "/tags", body)
        assert r.status_code == 400, body
    assert tags_of(iot, group) == dict(before, **ok)


def test_tags_per_resource_limit(iot, group):
    first = {"k%02d" % i: "v" for i in range(TAGS_MAX - 1)}
    iot.tag_resource(resourceArn=group, tags=tag_list(first))
    iot.tag_resource(resourceArn=group, tags=[{"Key": "last", "Value": "v"}])  # exactly 50
    assert len(tags_of(iot, group)) == TAGS_MAX
    iot.tag_resource(resourceArn=group, tags=[{"Key": "last", "Value": "changed"}])  # overwrite
    raises("LimitExceededException", iot.tag_resource, resourceArn=group,
           tags=[{"Key": "one-more", "Value": "v"}, {"Key": "k00", "Value": "new"}])
    after = tags_of(iot, group)
    assert len(after) == TAGS_MAX and "one-more" not in after
    assert after["k00"] == "v" and after["last"] == "changed"
    too_many = tag_list({"x%02d" % i: "v" for i in range(TAGS_MAX + 1)})
    raises("InvalidRequestException", iot.tag_resource, resourceArn=group, tags=too_many)


def test_resource_errors(iot, server):
    iot.create_thing(thingName="t")
    iot.create_thing_group(thingGroupName="g")
    cases = (
        ("InvalidRequestException", arn(server, "thing", "t")),  # things take no tags
        ("InvalidRequestException", "not-an-arn"),
        ("InvalidRequestException", "arn:aws:s3:::bucket/g"),
        ("InvalidRequestException", arn(server, "widget", "g")),
        ("ResourceNotFoundException", arn(server, "thinggroup", "nope")),
        ("ResourceNotFoundException", arn(server, "thingtype", "nope")),
        ("ResourceNotFoundException", "arn:aws:iot:eu-west-9:999999999999:thinggroup/g"),
    )
    for code, resource in cases:
        raises(code, iot.tag_resource, resourceArn=resource, tags=[{"Key": "k", "Value": "v"}])
        raises(code, iot.untag_resource, resourceArn=resource, tagKeys=["k"])
        raises(code, iot.list_tags_for_resource, resourceArn=resource)
    assert tags_of(iot, arn(server, "thinggroup", "g")) == {}


def test_list_tags_pagination(iot, group):
    want = {"k%02d" % i: "v%d" % i for i in range(PAGE + 5)}
    iot.tag_resource(resourceArn=group, tags=tag_list(want))
    r = iot.list_tags_for_resource(resourceArn=group)
    assert len(r["tags"]) == PAGE and r["nextToken"]
    r2 = iot.list_tags_for_resource(resourceArn=group, nextToken=r["nextToken"])
    assert len(r2["tags"]) == 5 and "nextToken" not in r2
    assert [t["Key"] for t in r["tags"] + r2["tags"]] == sorted(want)
    raises("InvalidRequestException", iot.list_tags_for_resource, resourceArn=group,
           nextToken="bogus")


def test_cli_tags(aws, server):
    assert aws("iot", "create-thing-group", "--thing-group-name", "g",
               "--tags", "Key=a,Value=1").rc == 0
    g = arn(server, "thinggroup", "g")
    keys = ["Key=k%02d,Value=v" % i for i in range(PAGE + 5)]
    r = aws("iot", "tag-resource", "--resource-arn", g, "--tags", *keys)
    assert r.rc == 0, r.err
    r = aws("iot", "list-tags-for-resource", "--resource-arn", g)  # the CLI follows nextToken
    assert r.rc == 0 and len(r.json["tags"]) == PAGE + 6
    assert aws("iot", "untag-resource", "--resource-arn", g, "--tag-keys", "a", "k00").rc == 0
    r = aws("iot", "list-tags-for-resource", "--resource-arn", g)
    assert {t["Key"] for t in r.json["tags"]} == {"k%02d" % i for i in range(1, PAGE + 5)}
    r = aws("iot", "tag-resource", "--resource-arn", g, "--tags", "Key=aws:x,Value=1")
    assert r.rc == 254 and "InvalidRequestException" in r.err
    r = aws("iot", "list-tags-for-resource", "--resource-arn", arn(server, "thinggroup", "nope"))
    assert r.rc == 254 and "ResourceNotFoundException" in r.err


def test_tags_on_policy_with_policy_name_characters(iot, server):
    """Policy names allow +=,.@ which thing names do not; the ARN check follows the type."""
    import json
    document = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}]})
    iot.create_policy(policyName="dev.policy@v1", policyDocument=document)
    p = arn(server, "policy", "dev.policy@v1")
    iot.tag_resource(resourceArn=p, tags=[{"Key": "k", "Value": "v"}])
    assert tags_of(iot, p) == {"k": "v"}
    raises("InvalidRequestException", iot.list_tags_for_resource,
           resourceArn=arn(server, "cacert", "not-hex"))
    raises("ResourceNotFoundException", iot.list_tags_for_resource,
           resourceArn=arn(server, "cacert", "ab" * 32))
    iot.delete_policy(policyName="dev.policy@v1")
    raises("ResourceNotFoundException", iot.list_tags_for_resource, resourceArn=p)
