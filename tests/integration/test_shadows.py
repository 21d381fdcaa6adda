"""Device shadows over iot-data HTTP (boto3 and /usr/bin/aws): GetThingShadow, UpdateThingShadow,
DeleteThingShadow, ListNamedShadowsForThing; classic and named shadows, merge rules, delta,
metadata, versions, limits and AWS's error answers (AWS_IOT_BEHAVIOUR.md sections 1.3 and 4)."""
import json

import pytest
from botocore.exceptions import ClientError

from conftest import error_code, signed_request


def update(data, thing, doc, **kw):
    body = doc if isinstance(doc, (bytes, str)) else json.dumps(doc)
    r = data.update_thing_shadow(thingName=thing, payload=body, **kw)
    return json.loads(r["payload"].read())


def get(data, thing, **kw):
    return json.loads(data.get_thing_shadow(thingName=thing, **kw)["payload"].read())


def raw_update(server, thing, body, query=""):
    return signed_request(server, "POST", f"/things/{thing}/shadow{query}", body=body,
                          service="iotdata")


def test_classic_update_get_delta_metadata(data):
    acc = update(data, "dev1", {"state": {"desired": {"color": "red", "o": {"x": 1}},
                                          "reported": {"color": "blue", "o": {"x": 1}}},
                                "clientToken": "tok-1"})
    assert acc["version"] == 1 and acc["clientToken"] == "tok-1"
    assert acc["state"] == {"desired": {"color": "red", "o": {"x": 1}},
                            "reported": {"color": "blue", "o": {"x": 1}}}
    assert isinstance(acc["metadata"]["desired"]["o"]["x"]["timestamp"], int)
    assert isinstance(acc["timestamp"], int)
    doc = get(data, "dev1")
    assert doc["state"]["delta"] == {"color": "red"}
    assert doc["version"] == 1 and "timestamp" in doc
    assert set(doc["metadata"]) == {"desired", "reported"}
    assert "delta" not in doc["metadata"]


def test_accepted_has_only_what_was_sent(data):
    update(data, "dev1", {"state": {"desired": {"a": 1, "b": 2}}})
    acc = update(data, "dev1", {"state": {"reported": {"a": 1}}})
    assert acc["state"] == {"reported": {"a": 1}}
    assert acc["metadata"] == {"reported": {"a": {"timestamp": acc["timestamp"]}}}
    assert acc["version"] == 2 and "clientToken" not in acc
    assert get(data, "dev1")["state"]["delta"] == {"b": 2}


@pytest.mark.parametrize("before,req,after", [
    ({"o": {"x": 1, "y": 1}}, {"o": {"y": 2}}, {"o": {"x": 1, "y": 2}}),
    ({"l": [1, 2, 3]}, {"l": [4]}, {"l": [4]}),
    ({"a": 1, "b": 2}, {"a": None}, {"b": 2}),
    ({"o": {"x": 1, "y": 2}}, {"o": {"x": None}}, {"o": {"y": 2}}),
    ({"a": 1}, {"a": {"b": 1}}, {"a": {"b": 1}}),
    ({"a": {"b": 1}}, {"a": "s"}, {"a": "s"}),
])
def test_merge_rules(data, before, req, after):
    update(data, "dev1", {"state": {"desired": before}})
    update(data, "dev1", {"state": {"desired": req}})
    assert get(data, "dev1")["state"]["desired"] == after


def test_section_null_and_state_null(data):
    update(data, "dev1", {"state": {"desired": {"a": 1}, "reported": {"a": 2}}})
    update(data, "dev1", {"state": {"desired": None}})
    doc = get(data, "dev1")
    assert doc["state"] == {"reported": {"a": 2}} and doc["version"] == 2
    update(data, "dev1", {"state": None})
    doc = get(data, "dev1")
    assert doc["state"] == {} and doc["version"] == 3


def test_nested_delta_only_differing_leaves(data):
    update(data, "dev1", {"state": {"desired": {"o": {"x": 1, "y": 2}, "l": [1, 2]},
                                    "reported": {"o": {"x": 1, "y": 1}, "l": [1, 3], "r": 9}}})
    assert get(data, "dev1")["state"]["delta"] == {"o": {"y": 2}, "l": [1, 2]}
    update(data, "dev1", {"state": {"reported": {"o": {"y": 2}, "l": [1, 2]}}})
    assert "delta" not in get(data, "dev1")["state"]


def test_version_conflict_changes_nothing(data):
    update(data, "dev1", {"state": {"desired": {"a": 1}}})
    assert update(data, "dev1", {"state": {"desired": {"a": 2}}, "version": 1})["version"] == 2
    with pytest.raises(ClientError) as ei:
        update(data, "dev1", {"state": {"desired": {"a": 3}}, "version": 1})
    assert error_code(ei) == "ConflictException"
    assert ei.value.response["Error"]["Message"] == "Version conflict"
    doc = get(data, "dev1")
    assert doc["state"]["desired"] == {"a": 2} and doc["version"] == 2


def test_delete_then_versions_keep_counting(data):
    update(data, "dev1", {"state": {"desired": {"a": 1}}})
    update(data, "dev1", {"state": {"desired": {"a": 2}}})
    r = json.loads(data.delete_thing_shadow(thingName="dev1")["payload"].read())
    assert r["version"] == 2 and isinstance(r["timestamp"], int)
    with pytest.raises(ClientError) as ei:
        get(data, "dev1")
    assert error_code(ei) == "ResourceNotFoundException"
    assert ei.value.response["Error"]["Message"] == "No shadow exists with name: 'dev1'"
    with pytest.raises(ClientError) as ei:
        data.delete_thing_shadow(thingName="dev1")
    assert error_code(ei) == "ResourceNotFoundException"
    assert update(data, "dev1", {"state": {"reported": {"b": 1}}})["version"] == 3
    assert get(data, "dev1")["state"] == {"reported": {"b": 1}}


def test_named_shadows_and_listing(data):
    update(data, "dev1", {"state": {"reported": {"c": 1}}})
    for n in ["s3", "s1", "s2", "$package"]:
        update(data, "dev1", {"state": {"reported": {"n": n}}}, shadowName=n)
    assert get(data, "dev1", shadowName="s2")["state"]["reported"] == {"n": "s2"}
    assert get(data, "dev1")["state"]["reported"] == {"c": 1}
    r = data.list_named_shadows_for_thing(thingName="dev1")
    assert r["results"] == ["$package", "s1", "s2", "s3"] and "nextToken" not in r
    assert isinstance(r["timestamp"], int)
    names, kw = [], {}
    while True:
        r = data.list_named_shadows_for_thing(thingName="dev1", pageSize=3, **kw)
        names += r["results"]
        if not r.get("nextToken"):
            break
        kw = {"nextToken": r["nextToken"]}
    assert names == ["$package", "s1", "s2", "s3"]
    data.delete_thing_shadow(thingName="dev1", shadowName="s1")
    with pytest.raises(ClientError) as ei:
        get(data, "dev1", shadowName="s1")
    assert ei.value.response["Error"]["Message"] == "No shadow exists with name: 's1'"
    assert data.list_named_shadows_for_thing(thingName="dev1")["results"] == [
        "$package", "s2", "s3"]
    assert data.list_named_shadows_for_thing(thingName="nobody")["results"] == []


def test_shadow_for_unregistered_thing_and_kept_after_delete_thing(data, iot):
    iot.create_thing(thingName="reg1")
    update(data, "reg1", {"state": {"reported": {"a": 1}}})
    iot.delete_thing(thingName="reg1")
    assert get(data, "reg1")["state"]["reported"] == {"a": 1}
    assert update(data, "ghost", {"state": {"reported": {"a": 1}}})["version"] == 1


@pytest.mark.parametrize("body,msg", [
    (b"{nope", "Invalid JSON"),
    (b'{"version":1}', "Missing required node: state"),
    (b'{"state":1}', "State node must be an object"),
    (b'{"state":{"desired":[1]}}', "Desired node must be an object"),
    (b'{"state":{"reported":"x"}}', "Reported node must be an object"),
    (b'{"state":{},"version":"1"}', "Invalid version"),
    (b'{"state":{"desired":{"l":[1,null]}}}', "State contains an invalid node"),
    (b'{"state":{},"clientToken":"' + b"t" * 65 + b'"}', "Invalid clientToken"),
    (b'{"state":{"desired":{"a":{"b":{"c":{"d":{"e":{"f":{"g":1}}}}}}}}}',
     "JSON contains too many levels of nesting; maximum is 6"),
])
def test_bad_requests_rejected(server, data, body, msg):
    r = raw_update(server, "dev1", body)
    assert r.status_code == 400, r.text
    assert r.headers["x-amzn-ErrorType"].startswith("InvalidRequestException")
    assert r.json()["message"] == msg
    with pytest.raises(ClientError) as ei:
        get(data, "dev1")
    assert error_code(ei) == "ResourceNotFoundException"


def test_limits_both_sides(server, data):
    ok = {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}
    assert update(data, "dev1", {"state": {"desired": ok}})["version"] == 1
    # state object of exactly 8192 bytes is accepted, one more byte is not
    fill = 8192 - len('{"reported":{"k":""}}')
    body = json.dumps({"state": {"reported": {"k": "x" * fill}}}, separators=(",", ":"))
    assert update(data, "big", body)["version"] == 1
    body = json.dumps({"state": {"reported": {"k": "x" * (fill + 1)}}}, separators=(",", ":"))
    r = raw_update(server, "big2", body.encode())
    assert r.status_code == 413, r.text
    assert r.headers["x-amzn-ErrorType"].startswith("RequestEntityTooLargeException")
    assert r.json()["message"] == "The payload exceeds the maximum size allowed"
    # the merged document counts
    r = raw_update(server, "big", b'{"state":{"desired":{"z":1}}}')
    assert r.status_code == 413
    assert get(data, "big")["version"] == 1


def test_request_size_cap(server):
    small = b'{"state":{"reported":{"a":1}}}'
    assert raw_update(server, "pad", small + b" " * (9216 - len(small))).status_code == 200
    r = raw_update(server, "pad", small + b" " * (9217 - len(small)))
    assert r.status_code == 413


def test_invalid_utf8_is_415(server):
    r = raw_update(server, "dev1", b'{"state":{"reported":{"a":"\xff"}}}')
    assert r.status_code == 415
    assert r.headers["x-amzn-ErrorType"].startswith("UnsupportedDocumentEncodingException")


def test_bad_names(server, data):
    with pytest.raises(ClientError) as ei:
        get(data, "dev1", shadowName="bad/name")
    assert error_code(ei) in ("InvalidRequestException", "ResourceNotFoundException")
    r = raw_update(server, "dev1", b'{"state":{}}', query="?name=" + "n" * 65)
    assert r.status_code == 400


def test_cli_update_and_get(aws, tmp_path):
    p = tmp_path / "in.json"
    p.write_text(json.dumps({"state": {"reported": {"t": 22.5}, "desired": {"t": 20}}}))
    out = tmp_path / "out.json"
    r = aws("iot-data", "update-thing-shadow", "--thing-name", "cli1", "--cli-binary-format",
            "raw-in-base64-out", "--payload", f"file://{p}", str(out))
    assert r.rc == 0, r.err
    acc = json.loads(out.read_text())
    assert acc["version"] == 1 and acc["state"]["reported"] == {"t": 22.5}
    out2 = tmp_path / "get.json"
    r = aws("iot-data", "get-thing-shadow", "--thing-name", "cli1", str(out2))
    assert r.rc == 0, r.err
    assert json.loads(out2.read_text())["state"]["delta"] == {"t": 20}
    r = aws("iot-data", "get-thing-shadow", "--thing-name", "cli1", "--shadow-name", "nope",
            str(out2))
    assert r.rc != 0 and "ResourceNotFoundException" in r.err


def test_delete_shadows_with_thing_extension():
    """--delete-shadows-with-thing (a fleetyard extension, issue 5's wording): DeleteThing also
    deletes the thing's classic and named shadows; AWS (and fleetyard by default) keeps them."""
    from conftest import Server
    s = Server(extra_args=("--delete-shadows-with-thing", "--no-broker")).start()
    try:
        iot, data = s.client("iot"), s.client("iot-data")
        iot.create_thing(thingName="gone")
        update(data, "gone", {"state": {"reported": {"a": 1}}})
        update(data, "gone", {"state": {"reported": {"a": 2}}}, shadowName="n1")
        iot.delete_thing(thingName="gone")
        for kw in ({}, {"shadowName": "n1"}):
            with pytest.raises(data.exceptions.ResourceNotFoundException):
                get(data, "gone", **kw)
        assert update(data, "gone", {"state": {"reported": {"a": 3}}})["version"] == 1
    finally:
        s.cleanup()
