"""Things through boto3 and /usr/bin/aws: CreateThing, DescribeThing, UpdateThing, DeleteThing,
ListThings, their pagination, and the bad-input answers (AWS exception code asserted, state
unchanged)."""
import json
import os
import re
import sqlite3
import time

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
import requests
from botocore.exceptions import ClientError

from conftest import error_code

NAME_MAX = 128
ATTRS_MAX = 3          # attributes of a thing without a thing type
ATTRS_MAX_TYPED = 50   # attributes of a thing with a thing type
ATTR_KEY_MAX = 128
ATTR_VALUE_MAX = 800
PAGE_MAX = 250
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def thing_arn(server, name):
    return "arn:aws:iot:%s:123456789012:thing/%s" % (server.env["AWS_DEFAULT_REGION"], name)


def raises(code, fn, *args, **kw):
    with pytest.raises(ClientError) as e:
        fn(*args, **kw)
    assert error_code(e) == code, e.value.response
    return e.value.response


def signed(server, method, path, body=b""):
    """A SigV4-signed request with a raw body, for what boto3 would never send."""
    creds = botocore.credentials.Credentials(server.env["AWS_ACCESS_KEY_ID"],
                                             server.env["AWS_SECRET_ACCESS_KEY"])
    req = botocore.awsrequest.AWSRequest(method=method, url=server.endpoint + path, data=body)
    botocore.auth.SigV4Auth(creds, "iot", server.env["AWS_DEFAULT_REGION"]).add_auth(req)
    return requests.request(method, req.url, headers=dict(req.headers), data=body, timeout=10)


def all_things(iot, **kw):
    """Every thing through nextToken; returns (items, pages)."""
    items, pages, token = [], 0, None
    while True:
        r = iot.list_things(**(dict(kw, nextToken=token) if token else kw))
        items += r["things"]
        pages += 1
        token = r.get("nextToken")
        if not token:
            return items, pages


def names(iot, **kw):
    return [t["thingName"] for t in all_things(iot, **kw)[0]]


def attrs(n, prefix="k"):
    return {"%s%d" % (prefix, i): "v%d" % i for i in range(n)}


def snapshot(iot, name):
    d = iot.describe_thing(thingName=name)
    d.pop("ResponseMetadata")
    return d


# ---- CreateThing / DescribeThing ----

def test_create_and_describe_minimal(iot, server):
    r = iot.create_thing(thingName="t1")
    assert r["thingName"] == "t1"
    assert r["thingArn"] == thing_arn(server, "t1")
    assert UUID_RE.match(r["thingId"])
    d = snapshot(iot, "t1")
    assert d == {"defaultClientId": "t1", "thingName": "t1", "thingId": r["thingId"],
                 "thingArn": thing_arn(server, "t1"), "attributes": {}, "version": 1}


def test_create_with_type_attributes_and_billing_group(iot):
    iot.create_thing_type(thingTypeName="sensor")
    r = iot.create_thing(thingName="t:1_-x", thingTypeName="sensor",
                         attributePayload={"attributes": {"a": "1", "b.c/d@e#f,g:h-i_j": ""}},
                         billingGroupName="bg")
    d = snapshot(iot, "t:1_-x")
    assert d["thingId"] == r["thingId"]
    assert d["thingTypeName"] == "sensor"
    assert d["attributes"] == {"a": "1", "b.c/d@e#f,g:h-i_j": ""}
    assert d["billingGroupName"] == "bg"
    assert d["version"] == 1


def test_create_is_idempotent_for_identical_config(iot):
    iot.create_thing_type(thingTypeName="ty")
    kw = dict(thingName="t", thingTypeName="ty", attributePayload={"attributes": {"a": "1"}})
    first = iot.create_thing(**kw)
    again = iot.create_thing(**kw)
    assert again["thingId"] == first["thingId"] and again["thingArn"] == first["thingArn"]
    assert snapshot(iot, "t")["version"] == 1


@pytest.mark.parametrize("change", [
    {"attributePayload": {"attributes": {"a": "2"}}},
    {"attributePayload": {"attributes": {}}},
    {"thingTypeName": "other"},
    {"billingGroupName": "bg"},
])
def test_create_with_different_config_already_exists(iot, change):
    iot.create_thing_type(thingTypeName="ty")
    iot.create_thing_type(thingTypeName="other")
    iot.create_thing(thingName="t", thingTypeName="ty", attributePayload={"attributes": {"a": "1"}})
    before = snapshot(iot, "t")
    kw = dict({"thingName": "t", "thingTypeName": "ty",
               "attributePayload": {"attributes": {"a": "1"}}}, **change)
    resp = raises("ResourceAlreadyExistsException", iot.create_thing, **kw)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert resp["Error"]["Message"]
    assert snapshot(iot, "t") == before


def test_already_exists_body_names_the_resource(iot, server):
    r = iot.create_thing(thingName="t")
    body = signed(server, "POST", "/things/t",
                  json.dumps({"attributePayload": {"attributes": {"a": "1"}}}).encode()).json()
    assert body["resourceId"] == r["thingId"]
    assert body["resourceArn"] == thing_arn(server, "t")


@pytest.mark.parametrize("name", ["bad name", "bad!", "x" * (NAME_MAX + 1), "caf\u00e9", "a.b"])
def test_create_bad_name(iot, name):
    raises("InvalidRequestException", iot.create_thing, thingName=name)
    assert names(iot) == []


def test_name_length_limit_exactly(iot):
    iot.create_thing(thingName="x" * NAME_MAX)
    assert names(iot) == ["x" * NAME_MAX]


def test_attribute_count_without_type(iot):
    iot.create_thing(thingName="ok", attributePayload={"attributes": attrs(ATTRS_MAX)})
    assert snapshot(iot, "ok")["attributes"] == attrs(ATTRS_MAX)
    raises("InvalidRequestException", iot.create_thing, thingName="bad",
           attributePayload={"attributes": attrs(ATTRS_MAX + 1)})
    assert names(iot) == ["ok"]


def test_attribute_count_with_type(iot):
    iot.create_thing_type(thingTypeName="ty")
    iot.create_thing(thingName="ok", thingTypeName="ty",
                     attributePayload={"attributes": attrs(ATTRS_MAX_TYPED)})
    assert len(snapshot(iot, "ok")["attributes"]) == ATTRS_MAX_TYPED
    raises("InvalidRequestException", iot.create_thing, thingName="bad", thingTypeName="ty",
           attributePayload={"attributes": attrs(ATTRS_MAX_TYPED + 1)})
    assert names(iot) == ["ok"]


@pytest.mark.parametrize("attributes", [
    {"k" * (ATTR_KEY_MAX + 1): "v"},
    {"k": "v" * (ATTR_VALUE_MAX + 1)},
    {"bad key": "v"},
    {"k": "bad value"},
    {"k": "quote\"d"},
    {"": "v"},
])
def test_create_bad_attributes(iot, attributes):
    raises("InvalidRequestException", iot.create_thing, thingName="t",
           attributePayload={"attributes": attributes})
    assert names(iot) == []


def test_attribute_lengths_exactly(iot):
    a = {"k" * ATTR_KEY_MAX: "v" * ATTR_VALUE_MAX}
    iot.create_thing(thingName="t", attributePayload={"attributes": a})
    assert snapshot(iot, "t")["attributes"] == a


def test_create_unknown_type(iot):
    raises("ResourceNotFoundException", iot.create_thing, thingName="t", thingTypeName="nope")
    assert names(iot) == []


def test_create_with_deprecated_type(iot):
    iot.create_thing_type(thingTypeName="old")
    iot.deprecate_thing_type(thingTypeName="old")
    raises("InvalidRequestException", iot.create_thing, thingName="t", thingTypeName="old")
    assert names(iot) == []
    iot.deprecate_thing_type(thingTypeName="old", undoDeprecate=True)
    iot.create_thing(thingName="t", thingTypeName="old")


@pytest.mark.parametrize("body", [
    b'{"attributePayload": ',
    b'[]',
    b'{"thingTypeName": 5}',
    b'{"unknownMember": 1}',
    b'{"attributePayload": {"attributes": {"a": 1}}}',
    b'{"attributePayload": {"attributes": ["a"]}}',
    b'{"attributePayload": {"attributes": {}, "extra": true}}',
    b'{"attributePayload": {"merge": "yes"}}',
])
def test_create_malformed_body(iot, server, body):
    r = signed(server, "POST", "/things/t", body)
    assert r.status_code == 400, r.text
    assert r.headers["x-amzn-ErrorType"] == "InvalidRequestException"
    assert r.json()["message"]
    assert names(iot) == []


def test_describe_missing(iot, server):
    resp = raises("ResourceNotFoundException", iot.describe_thing, thingName="nope")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_cli_create_describe(aws, server):
    r = aws("iot", "create-thing", "--thing-name", "cli1", "--attribute-payload",
            '{"attributes": {"color": "red"}}')
    assert r.rc == 0, r.err
    assert r.json["thingArn"] == thing_arn(server, "cli1")
    d = aws("iot", "describe-thing", "--thing-name", "cli1").json
    assert d["attributes"] == {"color": "red"} and d["version"] == 1
    assert d["thingId"] == r.json["thingId"]
    bad = aws("iot", "create-thing", "--thing-name", "bad name")
    assert bad.rc == 254 and "InvalidRequestException" in bad.err
    missing = aws("iot", "describe-thing", "--thing-name", "nope")
    assert missing.rc == 254 and "ResourceNotFoundException" in missing.err


# ---- UpdateThing ----

def test_update_replaces_attributes(iot):
    iot.create_thing(thingName="t", attributePayload={"attributes": {"a": "1", "b": "2"}})
    iot.update_thing(thingName="t", attributePayload={"attributes": {"c": "3"}})
    d = snapshot(iot, "t")
    assert d["attributes"] == {"c": "3"} and d["version"] == 2


def test_update_merges_and_empty_value_removes(iot):
    iot.create_thing(thingName="t", attributePayload={"attributes": {"a": "1", "b": "2"}})
    iot.update_thing(thingName="t",
                     attributePayload={"attributes": {"a": "", "b": "20", "c": "3", "zz": ""},
                                       "merge": True})
    d = snapshot(iot, "t")
    assert d["attributes"] == {"b": "20", "c": "3"} and d["version"] == 2


def test_update_version_counts_and_expected_version(iot):
    iot.create_thing(thingName="t")
    for v in range(1, 4):
        iot.update_thing(thingName="t", expectedVersion=v,
                         attributePayload={"attributes": {"n": str(v)}})
    assert snapshot(iot, "t")["version"] == 4
    before = snapshot(iot, "t")
    resp = raises("VersionConflictException", iot.update_thing, thingName="t", expectedVersion=3,
                  attributePayload={"attributes": {"n": "x"}})
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert snapshot(iot, "t") == before


def test_update_type_change_and_removal(iot):
    iot.create_thing_type(thingTypeName="a")
    iot.create_thing_type(thingTypeName="b")
    iot.create_thing(thingName="t", thingTypeName="a")
    iot.update_thing(thingName="t", thingTypeName="b")
    assert snapshot(iot, "t")["thingTypeName"] == "b"
    iot.update_thing(thingName="t", removeThingType=True)
    d = snapshot(iot, "t")
    assert "thingTypeName" not in d and d["version"] == 3


def test_update_bad_inputs_change_nothing(iot):
    iot.create_thing_type(thingTypeName="ty")
    iot.create_thing_type(thingTypeName="old")
    iot.deprecate_thing_type(thingTypeName="old")
    iot.create_thing(thingName="t", thingTypeName="ty",
                     attributePayload={"attributes": attrs(ATTRS_MAX + 1)})
    before = snapshot(iot, "t")
    raises("InvalidRequestException", iot.update_thing, thingName="t", thingTypeName="ty",
           removeThingType=True)
    raises("ResourceNotFoundException", iot.update_thing, thingName="t", thingTypeName="nope")
    raises("InvalidRequestException", iot.update_thing, thingName="t", thingTypeName="old")
    # without its type the thing would have more attributes than allowed
    raises("InvalidRequestException", iot.update_thing, thingName="t", removeThingType=True)
    raises("InvalidRequestException", iot.update_thing, thingName="t",
           attributePayload={"attributes": attrs(ATTRS_MAX_TYPED - ATTRS_MAX, "m"),
                             "merge": True})
    raises("InvalidRequestException", iot.update_thing, thingName="t",
           attributePayload={"attributes": {"bad key": "v"}, "merge": True})
    raises("InvalidRequestException", iot.update_thing, thingName="t",
           attributePayload={"attributes": {"k": "v" * (ATTR_VALUE_MAX + 1)}})
    raises("ResourceNotFoundException", iot.update_thing, thingName="nope",
           attributePayload={"attributes": {}})
    assert snapshot(iot, "t") == before


def test_update_limit_applies_to_result(iot):
    iot.create_thing(thingName="t", attributePayload={"attributes": attrs(ATTRS_MAX)})
    raises("InvalidRequestException", iot.update_thing, thingName="t",
           attributePayload={"attributes": {"extra": "1"}, "merge": True})
    # removing one in the same merge keeps the count at the limit
    iot.update_thing(thingName="t",
                     attributePayload={"attributes": {"extra": "1", "k0": ""}, "merge": True})
    assert snapshot(iot, "t")["attributes"] == {"k1": "v1", "k2": "v2", "extra": "1"}


@pytest.mark.parametrize("body", [
    b'{"expectedVersion": "1"}',
    b'{"removeThingType": "true"}',
    b'{"attributePayload": {"attributes": {"a": null}}}',
    b'{"bogus": 1}',
    b'{',
])
def test_update_malformed_body(iot, server, body):
    iot.create_thing(thingName="t", attributePayload={"attributes": {"a": "1"}})
    before = snapshot(iot, "t")
    r = signed(server, "PATCH", "/things/t", body)
    assert r.status_code == 400, r.text
    assert r.headers["x-amzn-ErrorType"] == "InvalidRequestException"
    assert snapshot(iot, "t") == before


def test_cli_update(aws):
    aws("iot", "create-thing", "--thing-name", "t")
    r = aws("iot", "update-thing", "--thing-name", "t", "--attribute-payload",
            '{"attributes": {"a": "1"}, "merge": true}', "--expected-version", "1")
    assert r.rc == 0, r.err
    assert aws("iot", "describe-thing", "--thing-name", "t").json["attributes"] == {"a": "1"}
    r = aws("iot", "update-thing", "--thing-name", "t", "--expected-version", "1",
            "--attribute-payload", '{"attributes": {}}')
    assert r.rc == 254 and "VersionConflictException" in r.err
    d = aws("iot", "describe-thing", "--thing-name", "t").json
    assert d["attributes"] == {"a": "1"} and d["version"] == 2


# ---- DeleteThing ----

def test_delete(iot):
    iot.create_thing(thingName="t", attributePayload={"attributes": {"a": "1"}})
    iot.delete_thing(thingName="t")
    raises("ResourceNotFoundException", iot.describe_thing, thingName="t")
    assert names(iot) == [] and names(iot, attributeName="a", attributeValue="1") == []


def test_delete_missing_is_ok(iot):
    iot.delete_thing(thingName="never-was")
    iot.delete_thing(thingName="never-was", expectedVersion=3)


def test_delete_expected_version(iot):
    iot.create_thing(thingName="t")
    iot.update_thing(thingName="t", attributePayload={"attributes": {"a": "1"}})
    raises("VersionConflictException", iot.delete_thing, thingName="t", expectedVersion=1)
    assert snapshot(iot, "t")["version"] == 2
    iot.delete_thing(thingName="t", expectedVersion=2)
    assert names(iot) == []


def test_delete_bad_name_and_version(iot, server):
    iot.create_thing(thingName="t")
    raises("InvalidRequestException", iot.delete_thing, thingName="bad name")
    r = signed(server, "DELETE", "/things/t?expectedVersion=abc")
    assert r.status_code == 400 and r.headers["x-amzn-ErrorType"] == "InvalidRequestException"
    assert names(iot) == ["t"]


def test_delete_removes_group_memberships(iot):
    iot.create_thing_group(thingGroupName="g")
    iot.create_thing(thingName="t")
    iot.add_thing_to_thing_group(thingGroupName="g", thingName="t")
    assert iot.list_things_in_thing_group(thingGroupName="g")["things"] == ["t"]
    iot.delete_thing(thingName="t")
    assert iot.list_things_in_thing_group(thingGroupName="g")["things"] == []
    iot.create_thing(thingName="t")
    assert iot.list_thing_groups_for_thing(thingName="t")["thingGroups"] == []


def test_cli_delete(aws):
    aws("iot", "create-thing", "--thing-name", "t")
    r = aws("iot", "delete-thing", "--thing-name", "t", "--expected-version", "7")
    assert r.rc == 254 and "VersionConflictException" in r.err
    assert aws("iot", "delete-thing", "--thing-name", "t").rc == 0
    assert aws("iot", "delete-thing", "--thing-name", "t").rc == 0
    assert aws("iot", "list-things").json["things"] == []


# ---- ListThings ----

def make_things(iot, n, **kw):
    for i in range(n):
        iot.create_thing(thingName="thing-%03d" % i, **kw)
    return ["thing-%03d" % i for i in range(n)]


def test_list_pagination_boto3(iot):
    want = make_things(iot, 30)
    items, pages = all_things(iot, maxResults=7)
    assert pages == 5
    assert [t["thingName"] for t in items] == want
    first = iot.list_things(maxResults=7)
    assert len(first["things"]) == 7 and first["nextToken"]
    last = iot.list_things(maxResults=30)
    assert len(last["things"]) == 30 and "nextToken" not in last


def test_list_paginator(iot):
    want = make_things(iot, 30)
    pages = list(iot.get_paginator("list_things").paginate(PaginationConfig={"PageSize": 7}))
    assert [len(p["things"]) for p in pages] == [7, 7, 7, 7, 2]
    assert [t["thingName"] for p in pages for t in p["things"]] == want


def test_list_pagination_cli(aws, iot):
    want = make_things(iot, 30)
    r = aws("iot", "list-things", "--page-size", "7")
    assert r.rc == 0, r.err
    assert [t["thingName"] for t in r.json["things"]] == want
    r = aws("iot", "list-things", "--max-items", "10", "--page-size", "7")
    assert [t["thingName"] for t in r.json["things"]] == want[:10]
    assert r.json["NextToken"]
    r2 = aws("iot", "list-things", "--page-size", "7", "--starting-token", r.json["NextToken"])
    assert [t["thingName"] for t in r2.json["things"]] == want[10:]


def test_list_item_shape(iot, server):
    iot.create_thing_type(thingTypeName="ty")
    iot.create_thing(thingName="a", attributePayload={"attributes": {"x": "1"}})
    iot.create_thing(thingName="b", thingTypeName="ty")
    things = iot.list_things()["things"]
    assert things == [
        {"thingName": "a", "thingArn": thing_arn(server, "a"), "attributes": {"x": "1"},
         "version": 1},
        {"thingName": "b", "thingTypeName": "ty", "thingArn": thing_arn(server, "b"),
         "attributes": {}, "version": 1},
    ]


def test_list_filters(iot):
    iot.create_thing_type(thingTypeName="cam")
    iot.create_thing(thingName="a", attributePayload={"attributes": {"color": "red"}})
    iot.create_thing(thingName="b", attributePayload={"attributes": {"color": "reddish"}})
    iot.create_thing(thingName="c", thingTypeName="cam",
                     attributePayload={"attributes": {"color": "red"}})
    iot.create_thing(thingName="d", thingTypeName="cam",
                     attributePayload={"attributes": {"size": "red"}})
    iot.create_thing(thingName="e", attributePayload={"attributes": {"color": "blue"}})
    assert names(iot, attributeName="color", attributeValue="red") == ["a", "c"]
    assert names(iot, attributeName="color", attributeValue="red",
                 usePrefixAttributeValue=True) == ["a", "b", "c"]
    assert names(iot, attributeName="color", attributeValue="re",
                 usePrefixAttributeValue=True) == ["a", "b", "c"]
    assert names(iot, attributeName="color") == ["a", "b", "c", "e"]
    assert names(iot, thingTypeName="cam") == ["c", "d"]
    assert names(iot, thingTypeName="cam", attributeName="color", attributeValue="red") == ["c"]
    assert names(iot, thingTypeName="cam", attributeName="color", attributeValue="r",
                 usePrefixAttributeValue=True) == ["c"]
    assert names(iot, thingTypeName="nope") == []
    assert names(iot, attributeName="color", attributeValue="green") == []


def test_list_filters_are_case_sensitive_and_search_is_not(iot):
    """ListThings' attribute filters match exactly and page in name order, fleet indexing
    matches values case-insensitively (AWS): one attribute index serves both (0021)."""
    for name, value in (("ca", "Ab"), ("cb", "ab"), ("cc", "AB"), ("cd", "ab"), ("ce", "abc")):
        iot.create_thing(thingName=name, attributePayload={"attributes": {"case": value}})
    items, pages = all_things(iot, attributeName="case", attributeValue="ab", maxResults=1)
    assert [t["thingName"] for t in items] == ["cb", "cd"] and pages >= 2
    assert names(iot, attributeName="case", attributeValue="A",
                 usePrefixAttributeValue=True) == ["ca", "cc"]
    assert names(iot, attributeName="case", attributeValue="aB") == []
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_things(attributeValue="ab")
    iot.update_indexing_configuration(thingIndexingConfiguration={"thingIndexingMode": "REGISTRY"})
    found = iot.search_index(queryString="attributes.case:ab")["things"]
    assert sorted(t["thingName"] for t in found) == ["ca", "cb", "cc", "cd"]


def test_list_filters_paginate(iot):
    iot.create_thing_type(thingTypeName="ty")
    for i in range(20):
        iot.create_thing(thingName="t%02d" % i, thingTypeName="ty",
                         attributePayload={"attributes": {"p": "v%d" % (i % 3)}})
    want = ["t%02d" % i for i in range(20) if i % 3 == 1]
    items, pages = all_things(iot, attributeName="p", attributeValue="v1", maxResults=2)
    assert [t["thingName"] for t in items] == want and pages == 4
    items, _ = all_things(iot, attributeName="p", attributeValue="v", usePrefixAttributeValue=True,
                          maxResults=3)
    assert [t["thingName"] for t in items] == ["t%02d" % i for i in range(20)]
    items, _ = all_things(iot, thingTypeName="ty", maxResults=6)
    assert len(items) == 20


def test_list_bad_inputs(iot, server):
    iot.create_thing(thingName="t")
    raises("InvalidRequestException", iot.list_things, maxResults=PAGE_MAX + 1)
    raises("InvalidRequestException", iot.list_things, nextToken="not-a-token")
    raises("InvalidRequestException", iot.list_things, attributeName="bad name",
           attributeValue="x")
    raises("InvalidRequestException", iot.list_things, thingTypeName="bad type")
    raises("InvalidRequestException", iot.list_things, attributeValue="x")
    for q in ("maxResults=0", "maxResults=x", "usePrefixAttributeValue=maybe"):
        r = signed(server, "GET", "/things?" + q)
        assert r.status_code == 400 and r.headers["x-amzn-ErrorType"] == "InvalidRequestException"
    assert len(iot.list_things(maxResults=PAGE_MAX)["things"]) == 1


def test_list_stays_fast_with_100k_things(iot, server):
    """100,000 things (inserted straight into the database the way CreateThing stores them):
    every page is served in name order from an index (exact filters), a walk of things in name
    order (prefix filters with many matches) or a small sort (prefix filters with few)."""
    iot.create_thing_type(thingTypeName="big")
    n = 100_000
    db = sqlite3.connect(os.path.join(server.data_dir, "fleetyard.db"), timeout=30)
    with db:
        type_id = db.execute("SELECT id FROM thing_types WHERE name = 'big'").fetchone()[0]
        db.executemany(
            "INSERT INTO things(name, thing_id, type_id, version, creation_date, modified_date) "
            "VALUES (?, '00000000-0000-4000-8000-000000000000', ?, 1, 0, 0)",
            (("b%06d" % i, type_id if i % 10 == 7 else None) for i in range(n)))
        db.executemany(
            "INSERT INTO thing_attributes(thing, key, value, thing_name) "
            "SELECT id, 'shard', ?, name FROM things WHERE name = ?",
            (("s%d" % (i % 100), "b%06d" % i) for i in range(n)))
    db.close()
    calls = [
        dict(),
        dict(thingTypeName="big"),
        dict(attributeName="shard", attributeValue="s7"),
        dict(attributeName="shard", attributeValue="s7", thingTypeName="big"),
        dict(attributeName="shard"),  # 100,000 matches: walks things in name order
        dict(attributeName="shard", attributeValue="s", usePrefixAttributeValue=True),
        dict(attributeName="shard", attributeValue="s7", usePrefixAttributeValue=True),  # sorts
    ]
    for kw in calls:
        token, seen = None, []
        t0 = time.monotonic()
        for _ in range(3):
            r = iot.list_things(maxResults=250, **(dict(kw, nextToken=token) if token else kw))
            assert len(r["things"]) == 250
            seen += [t["thingName"] for t in r["things"]]
            token = r["nextToken"]
        per_page = (time.monotonic() - t0) / 3
        assert per_page < 0.25, (kw, per_page)
        assert seen == sorted(seen) and len(set(seen)) == 750
    typed = iot.list_things(attributeName="shard", attributeValue="s7", thingTypeName="big",
                            maxResults=250)["things"]
    assert all(t["attributes"] == {"shard": "s7"} and t["thingTypeName"] == "big"
               for t in typed)
