"""Thing groups through boto3 and /usr/bin/aws: hierarchy, membership rules, listings, and the
bad-input answers (AWS exception code asserted, state unchanged)."""
import re
import time

import pytest
from botocore.exceptions import ClientError

from conftest import error_code

DEPTH_MAX = 7
CHILDREN_MAX = 100
GROUPS_PER_THING_MAX = 10
GROUP_ATTRS_MAX = 50
NAME_MAX = 128
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def group_arn(server, name):
    env = server.env
    return "arn:aws:iot:%s:123456789012:thinggroup/%s" % (env["AWS_DEFAULT_REGION"], name)


def thing_arn(server, name):
    env = server.env
    return "arn:aws:iot:%s:123456789012:thing/%s" % (env["AWS_DEFAULT_REGION"], name)


def raises(code, fn, *args, **kw):
    with pytest.raises(ClientError) as e:
        fn(*args, **kw)
    assert error_code(e) == code, e.value.response
    return e.value.response["Error"]["Message"]


def all_pages(fn, key, **kw):
    """Follows nextToken by hand; returns (items, number of pages)."""
    items, pages, token = [], 0, None
    while True:
        args = dict(kw, nextToken=token) if token else dict(kw)
        r = fn(**args)
        items += r[key]
        pages += 1
        token = r.get("nextToken")
        if not token:
            return items, pages


def group_names(iot, **kw):
    items, _ = all_pages(iot.list_thing_groups, "thingGroups", **kw)
    return [g["groupName"] for g in items]


def groups_of(iot, thing):
    items, _ = all_pages(iot.list_thing_groups_for_thing, "thingGroups", thingName=thing)
    return sorted(g["groupName"] for g in items)


def things_in(iot, group, recursive=False):
    items, _ = all_pages(iot.list_things_in_thing_group, "things", thingGroupName=group,
                         recursive=recursive)
    return items


def chain(iot, prefix, n):
    """Creates prefix1 <- prefix2 <- ... <- prefixN (depth n); returns the names."""
    names = ["%s%d" % (prefix, i) for i in range(1, n + 1)]
    parent = None
    for name in names:
        kw = {"parentGroupName": parent} if parent else {}
        iot.create_thing_group(thingGroupName=name, **kw)
        parent = name
    return names


# ---- create / describe ----

def test_create_and_describe(iot, server):
    r = iot.create_thing_group(
        thingGroupName="LightBulbs",
        thingGroupProperties={"thingGroupDescription": "all bulbs",
                              "attributePayload": {"attributes": {"watts": "60", "k": "v"}}})
    assert r["thingGroupName"] == "LightBulbs"
    assert r["thingGroupArn"] == group_arn(server, "LightBulbs")
    assert UUID_RE.match(r["thingGroupId"])
    d = iot.describe_thing_group(thingGroupName="LightBulbs")
    assert d["thingGroupId"] == r["thingGroupId"]
    assert d["thingGroupArn"] == r["thingGroupArn"]
    assert d["version"] == 1
    assert d["thingGroupProperties"] == {
        "thingGroupDescription": "all bulbs",
        "attributePayload": {"attributes": {"watts": "60", "k": "v"}}}
    meta = d["thingGroupMetadata"]
    assert "parentGroupName" not in meta and "rootToParentThingGroups" not in meta
    assert meta["creationDate"].timestamp() > 0
    assert "indexName" not in d and "status" not in d


def test_create_is_idempotent_for_identical_definition(iot):
    props = {"thingGroupDescription": "d", "attributePayload": {"attributes": {"a": "1"}}}
    first = iot.create_thing_group(thingGroupName="g", thingGroupProperties=props)
    again = iot.create_thing_group(thingGroupName="g", thingGroupProperties=props)
    assert again["thingGroupId"] == first["thingGroupId"]
    other = {"thingGroupDescription": "other"}
    raises("ResourceAlreadyExistsException", iot.create_thing_group, thingGroupName="g",
           thingGroupProperties=other)
    iot.create_thing_group(thingGroupName="p")
    raises("ResourceAlreadyExistsException", iot.create_thing_group, thingGroupName="g",
           parentGroupName="p", thingGroupProperties=props)
    d = iot.describe_thing_group(thingGroupName="g")
    assert d["thingGroupProperties"] == props and d["version"] == 1
    assert "parentGroupName" not in d["thingGroupMetadata"]


def test_create_name_limits(iot):
    ok = "n" * NAME_MAX
    iot.create_thing_group(thingGroupName=ok)
    assert iot.describe_thing_group(thingGroupName=ok)["thingGroupName"] == ok
    iot.create_thing_group(thingGroupName="a:b_c-D9")
    for bad in ("n" * (NAME_MAX + 1), "has space", "semi;colon", "dot.name"):
        raises("InvalidRequestException", iot.create_thing_group, thingGroupName=bad)
    assert sorted(group_names(iot)) == sorted([ok, "a:b_c-D9"])


def test_create_with_missing_parent(iot):
    raises("ResourceNotFoundException", iot.create_thing_group, thingGroupName="orphan",
           parentGroupName="nope")
    raises("InvalidRequestException", iot.create_thing_group, thingGroupName="orphan",
           parentGroupName="bad parent")
    assert group_names(iot) == []


def test_create_attribute_limits(iot):
    attrs = {"k%02d" % i: "v" for i in range(GROUP_ATTRS_MAX)}
    iot.create_thing_group(thingGroupName="full",
                           thingGroupProperties={"attributePayload": {"attributes": attrs}})
    too_many = dict(attrs, extra="v")
    raises("InvalidRequestException", iot.create_thing_group, thingGroupName="over",
           thingGroupProperties={"attributePayload": {"attributes": too_many}})
    for bad in ({"bad key": "v"}, {"k": "bad value!"}, {"k" * 129: "v"}, {"k": "v" * 801}):
        raises("InvalidRequestException", iot.create_thing_group, thingGroupName="over",
               thingGroupProperties={"attributePayload": {"attributes": bad}})
    raises("InvalidRequestException", iot.create_thing_group, thingGroupName="over",
           thingGroupProperties={"thingGroupDescription": "x" * 2029})
    assert group_names(iot) == ["full"]


# ---- hierarchy ----

def test_hierarchy_depth_limit_and_root_to_parent_order(iot, server):
    names = chain(iot, "lvl", DEPTH_MAX)
    d = iot.describe_thing_group(thingGroupName=names[-1])
    meta = d["thingGroupMetadata"]
    assert meta["parentGroupName"] == names[-2]
    assert meta["rootToParentThingGroups"] == [
        {"groupName": n, "groupArn": group_arn(server, n)} for n in names[:-1]]
    msg = raises("InvalidRequestException", iot.create_thing_group, thingGroupName="lvl8",
                 parentGroupName=names[-1])
    assert str(DEPTH_MAX) in msg
    assert sorted(group_names(iot)) == sorted(names)
    child = iot.describe_thing_group(thingGroupName=names[1])["thingGroupMetadata"]
    assert child["rootToParentThingGroups"] == [
        {"groupName": names[0], "groupArn": group_arn(server, names[0])}]


def test_children_limit(iot):
    iot.create_thing_group(thingGroupName="parent")
    for i in range(CHILDREN_MAX):
        iot.create_thing_group(thingGroupName="c%03d" % i, parentGroupName="parent")
    raises("InvalidRequestException", iot.create_thing_group, thingGroupName="c100",
           parentGroupName="parent")
    kids = group_names(iot, parentGroup="parent", recursive=False)
    assert len(kids) == CHILDREN_MAX and "c100" not in kids
    # the limit is per parent: a grandchild is still fine
    iot.create_thing_group(thingGroupName="gc", parentGroupName="c000")


# ---- update ----

def test_update_merge_replace_and_version(iot):
    iot.create_thing_group(
        thingGroupName="g", thingGroupProperties={
            "thingGroupDescription": "d1", "attributePayload": {"attributes": {"a": "1", "b": "2"}}})
    r = iot.update_thing_group(thingGroupName="g", thingGroupProperties={
        "attributePayload": {"attributes": {"a": "", "c": "3"}, "merge": True}})
    assert r["version"] == 2
    d = iot.describe_thing_group(thingGroupName="g")
    assert d["thingGroupProperties"] == {"thingGroupDescription": "d1",
                                         "attributePayload": {"attributes": {"b": "2", "c": "3"}}}
    r = iot.update_thing_group(thingGroupName="g", expectedVersion=2, thingGroupProperties={
        "thingGroupDescription": "d2", "attributePayload": {"attributes": {"z": "9"}}})
    assert r["version"] == 3
    d = iot.describe_thing_group(thingGroupName="g")
    assert d["version"] == 3
    assert d["thingGroupProperties"] == {"thingGroupDescription": "d2",
                                         "attributePayload": {"attributes": {"z": "9"}}}


def test_update_bad_input_changes_nothing(iot):
    iot.create_thing_group(thingGroupName="g", thingGroupProperties={
        "attributePayload": {"attributes": {"a": "1"}}})
    before = iot.describe_thing_group(thingGroupName="g")
    raises("VersionConflictException", iot.update_thing_group, thingGroupName="g",
           expectedVersion=5, thingGroupProperties={"thingGroupDescription": "x"})
    raises("InvalidRequestException", iot.update_thing_group, thingGroupName="g",
           thingGroupProperties={"attributePayload": {"attributes": {"bad key": "v"}}})
    many = {"k%02d" % i: "v" for i in range(GROUP_ATTRS_MAX)}
    raises("InvalidRequestException", iot.update_thing_group, thingGroupName="g",
           thingGroupProperties={"attributePayload": {"attributes": many, "merge": True}})
    raises("ResourceNotFoundException", iot.update_thing_group, thingGroupName="nope",
           thingGroupProperties={"thingGroupDescription": "x"})
    after = iot.describe_thing_group(thingGroupName="g")
    assert after["version"] == before["version"] == 1
    assert after["thingGroupProperties"] == before["thingGroupProperties"]
    # 49 + 1 by merge reaches exactly the limit
    many.pop("k00")
    iot.update_thing_group(thingGroupName="g", thingGroupProperties={
        "attributePayload": {"attributes": many, "merge": True}})
    attrs = iot.describe_thing_group(thingGroupName="g")["thingGroupProperties"]
    assert len(attrs["attributePayload"]["attributes"]) == GROUP_ATTRS_MAX


# ---- delete ----

def test_delete_rules(iot):
    chain(iot, "d", 2)
    iot.create_thing(thingName="t")
    iot.add_thing_to_thing_group(thingGroupName="d2", thingName="t")
    msg = raises("InvalidRequestException", iot.delete_thing_group, thingGroupName="d1")
    assert msg == "Cannot delete thing group : d1 when there are still child groups attached to it"
    assert sorted(group_names(iot)) == ["d1", "d2"]
    raises("VersionConflictException", iot.delete_thing_group, thingGroupName="d2",
           expectedVersion=2)
    assert "d2" in group_names(iot)
    iot.delete_thing_group(thingGroupName="d2", expectedVersion=1)  # with a member thing
    assert group_names(iot) == ["d1"]
    assert groups_of(iot, "t") == []
    iot.delete_thing_group(thingGroupName="d1")
    iot.delete_thing_group(thingGroupName="d1")  # missing: success, like AWS
    iot.delete_thing_group(thingGroupName="never", expectedVersion=3)
    assert group_names(iot) == []
    raises("ResourceNotFoundException", iot.describe_thing_group, thingGroupName="d1")


def test_recreated_group_starts_fresh(iot):
    iot.create_thing_group(thingGroupName="g", tags=[{"Key": "k", "Value": "v"}])
    first = iot.describe_thing_group(thingGroupName="g")
    iot.delete_thing_group(thingGroupName="g")
    iot.create_thing_group(thingGroupName="g")
    again = iot.describe_thing_group(thingGroupName="g")
    assert again["thingGroupId"] != first["thingGroupId"] and again["version"] == 1
    assert iot.list_tags_for_resource(resourceArn=again["thingGroupArn"])["tags"] == []


def test_deleted_group_loses_its_policy_attachments(iot, server):
    import json
    document = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}]})
    g = iot.create_thing_group(thingGroupName="g")["thingGroupArn"]
    iot.create_policy(policyName="p", policyDocument=document)
    iot.attach_policy(policyName="p", target=g)
    assert len(iot.list_attached_policies(target=g)["policies"]) == 1
    iot.delete_thing_group(thingGroupName="g")
    iot.create_thing_group(thingGroupName="g")
    assert iot.list_attached_policies(target=g)["policies"] == []
    assert iot.list_targets_for_policy(policyName="p")["targets"] == []


# ---- listing ----

def make_tree(iot):
    """A(B(D, E(F)), C), X."""
    for name, parent in (("A", None), ("B", "A"), ("C", "A"), ("D", "B"), ("E", "B"),
                         ("F", "E"), ("X", None)):
        kw = {"parentGroupName": parent} if parent else {}
        iot.create_thing_group(thingGroupName=name, **kw)


def test_list_thing_groups_filters(iot, server):
    make_tree(iot)
    assert group_names(iot) == ["A", "B", "C", "D", "E", "F", "X"]
    assert group_names(iot, recursive=True) == ["A", "B", "C", "D", "E", "F", "X"]
    assert group_names(iot, recursive=False) == ["A", "X"]
    assert group_names(iot, parentGroup="A") == ["B", "C", "D", "E", "F"]
    assert group_names(iot, parentGroup="A", recursive=False) == ["B", "C"]
    assert group_names(iot, parentGroup="B", recursive=True) == ["D", "E", "F"]
    assert group_names(iot, parentGroup="F") == []
    assert group_names(iot, namePrefixFilter="E") == ["E"]
    assert group_names(iot, parentGroup="A", namePrefixFilter="D") == ["D"]
    r = iot.list_thing_groups(namePrefixFilter="A")
    assert r["thingGroups"] == [{"groupName": "A", "groupArn": group_arn(server, "A")}]
    raises("ResourceNotFoundException", iot.list_thing_groups, parentGroup="nope")
    raises("InvalidRequestException", iot.list_thing_groups, parentGroup="bad name")


def test_list_thing_groups_pagination(iot):
    names = ["g%02d" % i for i in range(7)]
    for n in names:
        iot.create_thing_group(thingGroupName=n)
    items, pages = all_pages(iot.list_thing_groups, "thingGroups", maxResults=3)
    assert [g["groupName"] for g in items] == names and pages == 3
    r = iot.list_thing_groups(maxResults=7)
    assert len(r["thingGroups"]) == 7 and "nextToken" not in r
    raises("InvalidRequestException", iot.list_thing_groups, nextToken="garbage!")
    raises("InvalidRequestException", iot.list_thing_groups, maxResults=251)


# ---- membership ----

def test_add_remove_by_name_and_arn(iot, server):
    make_tree(iot)
    iot.create_thing(thingName="t1")
    iot.add_thing_to_thing_group(thingGroupName="D", thingName="t1")
    iot.add_thing_to_thing_group(thingGroupName="D", thingName="t1")  # no-op
    iot.add_thing_to_thing_group(thingGroupArn=group_arn(server, "X"),
                                 thingArn=thing_arn(server, "t1"))
    assert groups_of(iot, "t1") == ["D", "X"]
    r = iot.list_thing_groups_for_thing(thingName="t1")
    assert r["thingGroups"][0] == {"groupName": "D", "groupArn": group_arn(server, "D")}
    iot.remove_thing_from_thing_group(thingGroupArn=group_arn(server, "X"), thingName="t1")
    iot.remove_thing_from_thing_group(thingGroupName="X", thingName="t1")  # not a member: no-op
    assert groups_of(iot, "t1") == ["D"]


def test_membership_bad_input(iot, server):
    make_tree(iot)
    iot.create_thing(thingName="t1")
    iot.add_thing_to_thing_group(thingGroupName="D", thingName="t1")
    # one static group per hierarchy: D's root is A, and so are C, E, F and A itself
    for other in ("A", "C", "E", "F"):
        raises("InvalidRequestException", iot.add_thing_to_thing_group,
               thingGroupName=other, thingName="t1")
    raises("ResourceNotFoundException", iot.add_thing_to_thing_group, thingGroupName="nope",
           thingName="t1")
    raises("ResourceNotFoundException", iot.add_thing_to_thing_group, thingGroupName="X",
           thingName="ghost")
    raises("ResourceNotFoundException", iot.remove_thing_from_thing_group, thingGroupName="X",
           thingName="ghost")
    raises("InvalidRequestException", iot.add_thing_to_thing_group, thingName="t1")
    raises("InvalidRequestException", iot.add_thing_to_thing_group, thingGroupName="X",
           thingArn="arn:aws:iot:us-east-1:123456789012:thinggroup/t1")
    raises("InvalidRequestException", iot.add_thing_to_thing_group, thingGroupName="A",
           thingGroupArn=group_arn(server, "X"), thingName="t1")
    raises("ResourceNotFoundException", iot.add_thing_to_thing_group,
           thingGroupArn="arn:aws:iot:eu-west-9:999999999999:thinggroup/X", thingName="t1")
    assert groups_of(iot, "t1") == ["D"]


def test_groups_per_thing_limit(iot):
    iot.create_thing(thingName="t")
    for i in range(GROUPS_PER_THING_MAX + 1):
        iot.create_thing_group(thingGroupName="r%02d" % i)
    for i in range(GROUPS_PER_THING_MAX):
        iot.add_thing_to_thing_group(thingGroupName="r%02d" % i, thingName="t")
    raises("InvalidRequestException", iot.add_thing_to_thing_group, thingGroupName="r10",
           thingName="t")
    raises("InvalidRequestException", iot.add_thing_to_thing_group, thingGroupName="r10",
           thingName="t", overrideDynamicGroups=True)  # no dynamic group to give up
    assert groups_of(iot, "t") == ["r%02d" % i for i in range(GROUPS_PER_THING_MAX)]
    iot.add_thing_to_thing_group(thingGroupName="r00", thingName="t")  # already in: fine


def test_dynamic_groups(iot):
    """A dynamic group made by the real engine (fleet indexing): its membership is the query's,
    never the static-group calls'; at the per-thing limit, overrideDynamicGroups trades it for a
    static group (the engine re-checks things on its own ticks: a membership the query does not
    give would not stay)."""
    iot.update_indexing_configuration(thingIndexingConfiguration={"thingIndexingMode": "REGISTRY"})
    iot.create_thing(thingName="t", attributePayload={"attributes": {"a": "1"}})
    iot.create_dynamic_thing_group(thingGroupName="dyn", queryString="attributes.a:1")
    d = iot.describe_thing_group(thingGroupName="dyn")
    assert d["indexName"] == "AWS_Things" and d["queryString"] == "attributes.a:1"
    assert d["queryVersion"] == "2017-09-30" and d["status"] == "ACTIVE"
    assert groups_of(iot, "t") == ["dyn"]
    raises("InvalidRequestException", iot.add_thing_to_thing_group, thingGroupName="dyn",
           thingName="t")
    raises("InvalidRequestException", iot.remove_thing_from_thing_group, thingGroupName="dyn",
           thingName="t")
    raises("InvalidRequestException", iot.update_thing_groups_for_thing, thingName="t",
           thingGroupsToAdd=["dyn"])
    raises("InvalidRequestException", iot.create_thing_group, thingGroupName="kid",
           parentGroupName="dyn")
    assert groups_of(iot, "t") == ["dyn"]
    # overrideDynamicGroups: at the limit, the thing leaves its dynamic group for the static one
    for i in range(GROUPS_PER_THING_MAX):
        iot.create_thing_group(thingGroupName="s%02d" % i)
    for i in range(GROUPS_PER_THING_MAX - 1):
        iot.add_thing_to_thing_group(thingGroupName="s%02d" % i, thingName="t")
    raises("InvalidRequestException", iot.add_thing_to_thing_group, thingGroupName="s09",
           thingName="t")
    assert "dyn" in groups_of(iot, "t")
    iot.add_thing_to_thing_group(thingGroupName="s09", thingName="t", overrideDynamicGroups=True)
    assert groups_of(iot, "t") == ["s%02d" % i for i in range(GROUPS_PER_THING_MAX)]
    time.sleep(0.6)  # engine passes run meanwhile: the full thing stays out of its dynamic group
    assert groups_of(iot, "t") == ["s%02d" % i for i in range(GROUPS_PER_THING_MAX)]


def test_update_thing_groups_for_thing(iot):
    make_tree(iot)
    iot.create_thing(thingName="t")
    iot.update_thing_groups_for_thing(thingName="t", thingGroupsToAdd=["D", "X"])
    assert groups_of(iot, "t") == ["D", "X"]
    # move inside the hierarchy: the removal happens before the addition
    iot.update_thing_groups_for_thing(thingName="t", thingGroupsToAdd=["F"],
                                      thingGroupsToRemove=["D"], overrideDynamicGroups=False)
    assert groups_of(iot, "t") == ["F", "X"]
    # all or nothing: a failing addition keeps the removal from happening
    raises("ResourceNotFoundException", iot.update_thing_groups_for_thing, thingName="t",
           thingGroupsToAdd=["nope"], thingGroupsToRemove=["X"])
    raises("InvalidRequestException", iot.update_thing_groups_for_thing, thingName="t",
           thingGroupsToAdd=["C"], thingGroupsToRemove=["X"])
    raises("ResourceNotFoundException", iot.update_thing_groups_for_thing, thingName="ghost",
           thingGroupsToAdd=["X"])
    raises("InvalidRequestException", iot.update_thing_groups_for_thing, thingName="t",
           thingGroupsToAdd=["bad name"])
    assert groups_of(iot, "t") == ["F", "X"]


def test_list_things_in_group_recursive_and_paged(iot):
    make_tree(iot)
    layout = {"A": ["a1"], "B": ["b1", "b2"], "E": ["e1"], "F": ["f1", "f2", "f3"], "X": ["x1"]}
    for group, things in layout.items():
        for t in things:
            iot.create_thing(thingName=t)
            iot.add_thing_to_thing_group(thingGroupName=group, thingName=t)
    assert things_in(iot, "B") == ["b1", "b2"]
    assert things_in(iot, "B", recursive=True) == ["b1", "b2", "e1", "f1", "f2", "f3"]
    assert things_in(iot, "A", recursive=True) == ["a1", "b1", "b2", "e1", "f1", "f2", "f3"]
    assert things_in(iot, "C", recursive=True) == []
    items, pages = all_pages(iot.list_things_in_thing_group, "things", thingGroupName="A",
                             recursive=True, maxResults=2)
    assert items == ["a1", "b1", "b2", "e1", "f1", "f2", "f3"] and pages == 4
    raises("ResourceNotFoundException", iot.list_things_in_thing_group, thingGroupName="nope")


def test_list_groups_for_thing_paged(iot):
    iot.create_thing(thingName="t")
    for i in range(5):
        iot.create_thing_group(thingGroupName="r%d" % i)
        iot.add_thing_to_thing_group(thingGroupName="r%d" % i, thingName="t")
    items, pages = all_pages(iot.list_thing_groups_for_thing, "thingGroups", thingName="t",
                             maxResults=2)
    assert [g["groupName"] for g in items] == ["r0", "r1", "r2", "r3", "r4"] and pages == 3
    raises("ResourceNotFoundException", iot.list_thing_groups_for_thing, thingName="ghost")


def test_deleting_a_thing_drops_its_memberships(iot):
    iot.create_thing_group(thingGroupName="g")
    iot.create_thing(thingName="t")
    iot.add_thing_to_thing_group(thingGroupName="g", thingName="t")
    iot.delete_thing(thingName="t")
    assert things_in(iot, "g") == []


def send_signed(server, iot, method, path, body):
    """A SigV4-signed raw request, for bodies botocore would refuse to build."""
    import botocore.auth
    import botocore.awsrequest
    import requests
    req = botocore.awsrequest.AWSRequest(method=method, url=server.endpoint + path, data=body)
    botocore.auth.SigV4Auth(iot._request_signer._credentials, "iot",
                            server.env["AWS_DEFAULT_REGION"]).add_auth(req)
    return requests.request(method, req.url, headers=dict(req.headers), data=body, timeout=10)


def test_malformed_bodies(iot, server):
    def send(method, path, body):
        return send_signed(server, iot, method, path, body)
    for body in (b"{", b"[]", b'{"unknown": 1}', b'{"thingGroupProperties": 3}',
                 b'{"thingGroupProperties": {"attributePayload": {"attributes": {"a": 1}}}}'):
        r = send("POST", "/thing-groups/g", body)
        assert r.status_code == 400, (body, r.text)
        assert r.headers["x-amzn-ErrorType"].startswith("InvalidRequestException")
    r = send("PUT", "/thing-groups/updateThingGroupsForThing",
             b'{"thingName": "t", "thingGroupsToAdd": [1]}')
    assert r.status_code == 400
    assert group_names(iot) == []


# ---- the stock CLI ----

def test_cli_group_lifecycle(aws, server):
    r = aws("iot", "create-thing-group", "--thing-group-name", "Bulbs",
            "--thing-group-properties",
            "thingGroupDescription=bulbs,attributePayload={attributes={w=60}}")
    assert r.rc == 0, r.err
    assert r.json["thingGroupArn"] == group_arn(server, "Bulbs")
    assert aws("iot", "create-thing-group", "--thing-group-name", "Halogen",
               "--parent-group-name", "Bulbs").rc == 0
    d = aws("iot", "describe-thing-group", "--thing-group-name", "Halogen").json
    assert d["thingGroupMetadata"]["rootToParentThingGroups"] == [
        {"groupName": "Bulbs", "groupArn": group_arn(server, "Bulbs")}]
    r = aws("iot", "update-thing-group", "--thing-group-name", "Bulbs",
            "--thing-group-properties", "attributePayload={attributes={x=1},merge=true}",
            "--expected-version", "1")
    assert r.rc == 0 and r.json["version"] == 2
    assert aws("iot", "create-thing", "--thing-name", "bulb1").rc == 0
    assert aws("iot", "add-thing-to-thing-group", "--thing-group-name", "Halogen",
               "--thing-name", "bulb1").rc == 0
    r = aws("iot", "list-things-in-thing-group", "--thing-group-name", "Bulbs", "--recursive")
    assert r.json["things"] == ["bulb1"]
    r = aws("iot", "list-thing-groups-for-thing", "--thing-name", "bulb1")
    assert [g["groupName"] for g in r.json["thingGroups"]] == ["Halogen"]
    assert aws("iot", "update-thing-groups-for-thing", "--thing-name", "bulb1",
               "--thing-groups-to-add", "Bulbs", "--thing-groups-to-remove", "Halogen").rc == 0
    r = aws("iot", "remove-thing-from-thing-group", "--thing-group-name", "Bulbs",
            "--thing-name", "bulb1")
    assert r.rc == 0
    r = aws("iot", "delete-thing-group", "--thing-group-name", "Bulbs")
    assert r.rc == 254 and "InvalidRequestException" in r.err
    assert "when there are still child groups attached to it" in r.err
    assert aws("iot", "delete-thing-group", "--thing-group-name", "Halogen").rc == 0
    assert aws("iot", "delete-thing-group", "--thing-group-name", "Bulbs").rc == 0
    assert aws("iot", "list-thing-groups").json["thingGroups"] == []


def test_cli_pagination_and_errors(aws):
    for i in range(5):
        assert aws("iot", "create-thing-group", "--thing-group-name", "g%d" % i).rc == 0
    # the CLI follows nextToken itself
    r = aws("iot", "list-thing-groups", "--page-size", "2")
    assert r.rc == 0 and [g["groupName"] for g in r.json["thingGroups"]] == [
        "g0", "g1", "g2", "g3", "g4"]
    r = aws("iot", "list-thing-groups", "--max-items", "2")
    assert len(r.json["thingGroups"]) == 2 and r.json.get("NextToken")
    r = aws("iot", "create-thing-group", "--thing-group-name", "g9", "--parent-group-name", "x")
    assert r.rc == 254 and "ResourceNotFoundException" in r.err
    r = aws("iot", "describe-thing-group", "--thing-group-name", "nope")
    assert r.rc == 254 and "ResourceNotFoundException" in r.err
    r = aws("iot", "update-thing-group", "--thing-group-name", "g0", "--thing-group-properties",
            "thingGroupDescription=x", "--expected-version", "9")
    assert r.rc == 254 and "VersionConflictException" in r.err
    assert aws("iot", "describe-thing-group", "--thing-group-name", "g0").json["version"] == 1
