"""Thing types through boto3 and /usr/bin/aws: CreateThingType, DescribeThingType,
ListThingTypes, DeprecateThingType, DeleteThingType (with the configurable waiting period),
and the bad-input answers (AWS exception code asserted, state unchanged)."""
import datetime
import json
import re
import time

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
import requests
from botocore.exceptions import ClientError

from conftest import Server, error_code, run_aws

SEARCHABLE_MAX = 3
DESCRIPTION_MAX = 2028
NAME_MAX = 128
SHORT_WAIT = 1  # --thing-type-delete-wait of the second server
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def type_arn(server, name):
    return "arn:aws:iot:%s:123456789012:thingtype/%s" % (server.env["AWS_DEFAULT_REGION"], name)


def raises(code, fn, *args, **kw):
    with pytest.raises(ClientError) as e:
        fn(*args, **kw)
    assert error_code(e) == code, e.value.response
    return e.value.response


def signed(server, method, path, body=b""):
    creds = botocore.credentials.Credentials(server.env["AWS_ACCESS_KEY_ID"],
                                             server.env["AWS_SECRET_ACCESS_KEY"])
    req = botocore.awsrequest.AWSRequest(method=method, url=server.endpoint + path, data=body)
    botocore.auth.SigV4Auth(creds, "iot", server.env["AWS_DEFAULT_REGION"]).add_auth(req)
    return requests.request(method, req.url, headers=dict(req.headers), data=body, timeout=10)


def describe(iot, name):
    d = iot.describe_thing_type(thingTypeName=name)
    d.pop("ResponseMetadata")
    return d


def type_names(iot, **kw):
    out, token = [], None
    while True:
        r = iot.list_thing_types(**(dict(kw, nextToken=token) if token else kw))
        out += [t["thingTypeName"] for t in r["thingTypes"]]
        token = r.get("nextToken")
        if not token:
            return out


def tags_of(iot, arn):
    return {t["Key"]: t.get("Value") for t in iot.list_tags_for_resource(resourceArn=arn)["tags"]}


# ---- create / describe ----

def test_create_and_describe_minimal(iot, server):
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=2)
    r = iot.create_thing_type(thingTypeName="sensor")
    assert r["thingTypeName"] == "sensor"
    assert r["thingTypeArn"] == type_arn(server, "sensor")
    assert UUID_RE.match(r["thingTypeId"])
    d = describe(iot, "sensor")
    assert d["thingTypeName"] == "sensor" and d["thingTypeId"] == r["thingTypeId"]
    assert d["thingTypeArn"] == type_arn(server, "sensor")
    assert d["thingTypeProperties"] == {}
    meta = d["thingTypeMetadata"]
    assert meta["deprecated"] is False and "deprecationDate" not in meta
    assert meta["creationDate"] >= before


def test_create_with_properties_and_tags(iot, server):
    props = {"thingTypeDescription": "Door sensors, v2 (blue)",
             "searchableAttributes": ["room", "floor", "serial"]}
    iot.create_thing_type(thingTypeName="door", thingTypeProperties=props,
                          tags=[{"Key": "team", "Value": "ops"}, {"Key": "env"}])
    assert describe(iot, "door")["thingTypeProperties"] == props
    assert tags_of(iot, type_arn(server, "door")) == {"team": "ops", "env": ""}


def test_create_is_idempotent_for_identical_definition(iot):
    props = {"thingTypeDescription": "d", "searchableAttributes": ["a"]}
    first = iot.create_thing_type(thingTypeName="t", thingTypeProperties=props)
    again = iot.create_thing_type(thingTypeName="t", thingTypeProperties=props)
    assert again["thingTypeId"] == first["thingTypeId"]
    assert again["thingTypeArn"] == first["thingTypeArn"]


@pytest.mark.parametrize("props", [
    {"thingTypeDescription": "other"},
    {"thingTypeDescription": "d"},
    {"thingTypeDescription": "d", "searchableAttributes": ["a", "b"]},
    {},
])
def test_create_with_different_definition_already_exists(iot, props):
    orig = {"thingTypeDescription": "d", "searchableAttributes": ["a"]}
    iot.create_thing_type(thingTypeName="t", thingTypeProperties=orig)
    before = describe(iot, "t")
    resp = raises("ResourceAlreadyExistsException", iot.create_thing_type, thingTypeName="t",
                  thingTypeProperties=props)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert describe(iot, "t") == before


def test_searchable_attribute_limit(iot):
    ok = ["a%d" % i for i in range(SEARCHABLE_MAX)]
    iot.create_thing_type(thingTypeName="ok", thingTypeProperties={"searchableAttributes": ok})
    raises("InvalidRequestException", iot.create_thing_type, thingTypeName="bad",
           thingTypeProperties={"searchableAttributes": ok + ["one-more"]})
    assert type_names(iot) == ["ok"]


@pytest.mark.parametrize("kw", [
    {"thingTypeName": "bad name"},
    {"thingTypeName": "x" * (NAME_MAX + 1)},
    {"thingTypeName": "t",
     "thingTypeProperties": {"thingTypeDescription": "x" * (DESCRIPTION_MAX + 1)}},
    {"thingTypeName": "t", "thingTypeProperties": {"thingTypeDescription": "tab\there"}},
    {"thingTypeName": "t", "thingTypeProperties": {"searchableAttributes": ["bad name"]}},
    {"thingTypeName": "t", "thingTypeProperties": {"searchableAttributes": [""]}},
    {"thingTypeName": "t", "tags": [{"Key": "aws:reserved", "Value": "x"}]},
    {"thingTypeName": "t", "tags": [{"Key": "k" * 129, "Value": "x"}]},
    {"thingTypeName": "t", "tags": [{"Key": "k", "Value": "v" * 257}]},
])
def test_create_bad_input(iot, server, kw):
    raises("InvalidRequestException", iot.create_thing_type, **kw)
    assert type_names(iot) == []


def test_description_limit_exactly(iot):
    desc = "x" * DESCRIPTION_MAX
    iot.create_thing_type(thingTypeName="t", thingTypeProperties={"thingTypeDescription": desc})
    assert describe(iot, "t")["thingTypeProperties"]["thingTypeDescription"] == desc


@pytest.mark.parametrize("body", [
    b'{"thingTypeProperties": ',
    b'{"thingTypeProperties": {"bogus": 1}}',
    b'{"thingTypeProperties": {"thingTypeDescription": 5}}',
    b'{"thingTypeProperties": {"searchableAttributes": "a"}}',
    b'{"thingTypeProperties": {"searchableAttributes": [1]}}',
    b'{"thingTypeProperties": {"mqtt5Configuration": []}}',
    b'{"thingTypeProperties": {"mqtt5Configuration": {"propagatingAttributes": [{}]}}}',
    b'{"thingTypeProperties": {"mqtt5Configuration": {"other": 1}}}',
    b'{"tags": "x"}',
    b'{"tags": [{"Value": "no key"}]}',
    b'{"extra": true}',
])
def test_create_malformed_body(iot, server, body):
    r = signed(server, "POST", "/thing-types/t", body)
    assert r.status_code == 400, r.text
    assert r.headers["x-amzn-ErrorType"] == "InvalidRequestException"
    assert type_names(iot) == []


def test_mqtt5_configuration_passthrough(iot, server):
    mqtt5 = {"propagatingAttributes": [
        {"userPropertyKey": "serial", "thingAttribute": "serialNumber"},
        {"userPropertyKey": "iot:client", "connectionAttribute": "iot:ClientId"}]}
    body = {"thingTypeProperties": {"thingTypeDescription": "m", "mqtt5Configuration": mqtt5}}
    r = signed(server, "POST", "/thing-types/m5", json.dumps(body).encode())
    assert r.status_code == 200, r.text
    d = signed(server, "GET", "/thing-types/m5").json()
    assert d["thingTypeProperties"] == body["thingTypeProperties"]
    listed = signed(server, "GET", "/thing-types").json()["thingTypes"]
    assert listed[0]["thingTypeProperties"]["mqtt5Configuration"] == mqtt5


def test_describe_missing(iot):
    resp = raises("ResourceNotFoundException", iot.describe_thing_type, thingTypeName="nope")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 404


# ---- list ----

def test_list_shape_and_filter(iot, server):
    iot.create_thing_type(thingTypeName="b", thingTypeProperties={"thingTypeDescription": "B"})
    iot.create_thing_type(thingTypeName="a")
    items = iot.list_thing_types()["thingTypes"]
    assert [t["thingTypeName"] for t in items] == ["a", "b"]
    b = items[1]
    assert set(b) == {"thingTypeName", "thingTypeArn", "thingTypeProperties", "thingTypeMetadata"}
    assert b["thingTypeArn"] == type_arn(server, "b")
    assert b["thingTypeProperties"] == {"thingTypeDescription": "B"}
    assert b["thingTypeMetadata"]["deprecated"] is False
    assert type_names(iot, thingTypeName="b") == ["b"]
    assert type_names(iot, thingTypeName="zz") == []
    raises("InvalidRequestException", iot.list_thing_types, thingTypeName="bad name")
    raises("InvalidRequestException", iot.list_thing_types, maxResults=251)
    raises("InvalidRequestException", iot.list_thing_types, nextToken="garbage")


def test_list_pagination(iot, aws):
    want = ["type-%02d" % i for i in range(12)]
    for n in reversed(want):
        iot.create_thing_type(thingTypeName=n)
    pages, token = [], None
    while True:
        r = iot.list_thing_types(maxResults=5, **({"nextToken": token} if token else {}))
        pages.append([t["thingTypeName"] for t in r["thingTypes"]])
        token = r.get("nextToken")
        if not token:
            break
    assert [len(p) for p in pages] == [5, 5, 2]
    assert sum(pages, []) == want
    cli = aws("iot", "list-thing-types", "--page-size", "5")
    assert cli.rc == 0, cli.err
    assert [t["thingTypeName"] for t in cli.json["thingTypes"]] == want


# ---- deprecate ----

def test_deprecate_and_undo(iot):
    iot.create_thing_type(thingTypeName="t")
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=2)
    iot.deprecate_thing_type(thingTypeName="t")
    meta = describe(iot, "t")["thingTypeMetadata"]
    assert meta["deprecated"] is True and meta["deprecationDate"] >= before
    iot.deprecate_thing_type(thingTypeName="t")  # again: still deprecated, same date
    assert describe(iot, "t")["thingTypeMetadata"]["deprecationDate"] == meta["deprecationDate"]
    iot.deprecate_thing_type(thingTypeName="t", undoDeprecate=True)
    meta = describe(iot, "t")["thingTypeMetadata"]
    assert meta["deprecated"] is False and "deprecationDate" not in meta


def test_create_thing_against_deprecated_or_unknown_type(iot):
    """CreateThing inserts first and reads the stored thing only when the name is taken or the
    type refuses: an identical create of an existing thing still succeeds with its thingId after
    its type was deprecated; a new thing is refused; a different one of that name, or one naming
    an unknown type, is ResourceAlreadyExists. Nothing changes."""
    iot.create_thing_type(thingTypeName="t")
    attrs = {"attributes": {"fw": "1"}}
    made = iot.create_thing(thingName="dev", thingTypeName="t", attributePayload=attrs)
    iot.deprecate_thing_type(thingTypeName="t")
    again = iot.create_thing(thingName="dev", thingTypeName="t", attributePayload=attrs)
    assert again["thingId"] == made["thingId"]
    raises("InvalidRequestException", iot.create_thing, thingName="new", thingTypeName="t")
    raises("ResourceAlreadyExistsException", iot.create_thing, thingName="dev",
           thingTypeName="t", attributePayload={"attributes": {"fw": "2"}})
    raises("ResourceAlreadyExistsException", iot.create_thing, thingName="dev",
           thingTypeName="nope")
    raises("ResourceNotFoundException", iot.create_thing, thingName="new", thingTypeName="nope")
    d = iot.describe_thing(thingName="dev")
    assert d["version"] == 1 and d["attributes"] == {"fw": "1"} and d["thingTypeName"] == "t"
    assert [t["thingName"] for t in iot.list_things()["things"]] == ["dev"]


def test_deprecate_bad_input(iot, server):
    raises("ResourceNotFoundException", iot.deprecate_thing_type, thingTypeName="nope")
    iot.create_thing_type(thingTypeName="t")
    for body in (b'{"undoDeprecate": "yes"}', b'{"other": 1}', b'{'):
        r = signed(server, "POST", "/thing-types/t/deprecate", body)
        assert r.status_code == 400 and r.headers["x-amzn-ErrorType"] == "InvalidRequestException"
    assert describe(iot, "t")["thingTypeMetadata"]["deprecated"] is False


def test_cli_deprecate(aws):
    aws("iot", "create-thing-type", "--thing-type-name", "t")
    assert aws("iot", "deprecate-thing-type", "--thing-type-name", "t").rc == 0
    d = aws("iot", "describe-thing-type", "--thing-type-name", "t").json
    assert d["thingTypeMetadata"]["deprecated"] is True
    assert aws("iot", "deprecate-thing-type", "--thing-type-name", "t", "--undo-deprecate").rc == 0
    d = aws("iot", "describe-thing-type", "--thing-type-name", "t").json
    assert d["thingTypeMetadata"]["deprecated"] is False


# ---- delete (default 300 s waiting period on the session server) ----

def test_delete_needs_deprecation(iot, aws):
    iot.create_thing_type(thingTypeName="t")
    resp = raises("InvalidRequestException", iot.delete_thing_type, thingTypeName="t")
    assert "deprecate" in resp["Error"]["Message"]
    r = aws("iot", "delete-thing-type", "--thing-type-name", "t")
    assert r.rc == 254 and "InvalidRequestException" in r.err
    assert type_names(iot) == ["t"]


def test_delete_within_waiting_period(iot):
    iot.create_thing_type(thingTypeName="t")
    iot.deprecate_thing_type(thingTypeName="t")
    resp = raises("InvalidRequestException", iot.delete_thing_type, thingTypeName="t")
    assert "300" in resp["Error"]["Message"]
    assert type_names(iot) == ["t"]


def test_delete_missing(iot):
    raises("ResourceNotFoundException", iot.delete_thing_type, thingTypeName="nope")
    raises("InvalidRequestException", iot.delete_thing_type, thingTypeName="bad name")


# ---- delete with a short waiting period (second server) ----

@pytest.fixture(scope="module")
def short_wait_server():
    s = Server(extra_args=["--thing-type-delete-wait", str(SHORT_WAIT)]).start()
    yield s
    report = s.sanitizer_report()
    s.cleanup()
    assert report is None, report


@pytest.fixture
def iot2(short_wait_server):
    return short_wait_server.client("iot")


def test_delete_after_waiting_period(iot2, short_wait_server):
    iot2.create_thing_type(thingTypeName="w", tags=[{"Key": "k", "Value": "v"}])
    iot2.deprecate_thing_type(thingTypeName="w")
    raises("InvalidRequestException", iot2.delete_thing_type, thingTypeName="w")
    time.sleep(SHORT_WAIT + 0.2)
    iot2.delete_thing_type(thingTypeName="w")
    raises("ResourceNotFoundException", iot2.describe_thing_type, thingTypeName="w")
    # the tags went with it, and the name can be used again
    iot2.create_thing_type(thingTypeName="w")
    assert iot2.list_tags_for_resource(
        resourceArn=type_arn(short_wait_server, "w"))["tags"] == []
    iot2.deprecate_thing_type(thingTypeName="w")
    time.sleep(SHORT_WAIT + 0.2)
    r = run_aws(short_wait_server, "iot", "delete-thing-type", "--thing-type-name", "w")
    assert r.rc == 0, r.err


def test_delete_refused_while_things_use_it(iot2):
    iot2.create_thing_type(thingTypeName="used")
    iot2.create_thing(thingName="user-1", thingTypeName="used")
    iot2.deprecate_thing_type(thingTypeName="used")
    time.sleep(SHORT_WAIT + 0.2)
    resp = raises("InvalidRequestException", iot2.delete_thing_type, thingTypeName="used")
    assert "things" in resp["Error"]["Message"]
    assert describe(iot2, "used")["thingTypeMetadata"]["deprecated"] is True
    iot2.update_thing(thingName="user-1", removeThingType=True)
    iot2.delete_thing_type(thingTypeName="used")
    assert "thingTypeName" not in iot2.describe_thing(thingName="user-1")
    iot2.delete_thing(thingName="user-1")


def test_undeprecated_type_cannot_be_deleted(iot2):
    iot2.create_thing_type(thingTypeName="back")
    iot2.deprecate_thing_type(thingTypeName="back")
    time.sleep(SHORT_WAIT + 0.2)
    iot2.deprecate_thing_type(thingTypeName="back", undoDeprecate=True)
    raises("InvalidRequestException", iot2.delete_thing_type, thingTypeName="back")
    assert describe(iot2, "back")["thingTypeMetadata"]["deprecated"] is False
