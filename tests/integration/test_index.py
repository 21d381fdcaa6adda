"""Fleet indexing through boto3 and /usr/bin/aws: indexing configuration, SearchIndex over a
prepared fleet (each query's answer computed independently in Python from the fleet below),
pagination, result shape, InvalidQuery, aggregations, dynamic thing groups, fleet metrics."""
import json
import os
import sqlite3

import pytest
from botocore.exceptions import ClientError

from conftest import error_code, run_aws, signed_request

# The fleet: name -> (type, attributes, classic reported, classic desired, named cfg reported,
# connectivity (connected, timestamp ms, reason) or None, static groups)
FLEET = {
    "dev-a1": ("sensor", {"location": "Building-A", "fw": "1.0.0", "floor": "3"},
               {"temperature": 22.5, "battery": 85, "tags": [1, 2], "mode": "Auto"},
               {"interval": 60}, {"level": 5}, (1, 1000, None), ["prod"]),
    "dev-a2": ("sensor", {"location": "Building-A", "fw": "1.1.0", "floor": "10"},
               {"temperature": 18, "battery": 40, "on": True}, {"temperature": 18}, None,
               (0, 2000, "CLIENT_INITIATED_DISCONNECT"), ["prod"]),
    "dev-b1": ("sensor", {"location": "Building-B", "fw": "1.0.0", "floor": "7"},
               {"temperature": 30, "battery": 99}, None, {"level": 9}, (1, 3000, None), []),
    "gw-1": ("gateway", {"location": "Building-B", "fw": "2.0"}, None, None, None, None,
             ["lab"]),
    "loose": (None, {}, None, None, None, None, []),
}


def attr(name, key):
    return FLEET[name][1].get(key)


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def rep(name, key):
    r = FLEET[name][2]
    return r.get(key) if r else None


def connected(name):
    c = FLEET[name][5]
    return bool(c and c[0])


def has_delta(name):
    d, r = FLEET[name][3], FLEET[name][2] or {}
    return d is not None and any(r.get(k) != v for k, v in d.items())


# (query, predicate over a thing name)
QUERIES = [
    ("thingName:dev-a1", lambda n: n == "dev-a1"),
    ("thingName:DEV-A1", lambda n: n == "dev-a1"),
    ("thingName:dev-*", lambda n: n.startswith("dev-")),
    ("thingName:dev-a?", lambda n: n in ("dev-a1", "dev-a2")),
    ("thingName:*1", lambda n: n.endswith("1")),
    ("*", lambda n: True),
    ("thingTypeName:sensor", lambda n: FLEET[n][0] == "sensor"),
    ("thingTypeName:*", lambda n: FLEET[n][0] is not None),
    ("thingGroupNames:prod", lambda n: "prod" in FLEET[n][6]),
    ("attributes.location:Building-A", lambda n: attr(n, "location") == "Building-A"),
    ("attributes.location:building-b", lambda n: attr(n, "location") == "Building-B"),
    ('attributes.location:"Building-A"', lambda n: attr(n, "location") == "Building-A"),
    ("attributes.fw:1.0.0 AND thingTypeName:sensor",
     lambda n: attr(n, "fw") == "1.0.0" and FLEET[n][0] == "sensor"),
    ("attributes.fw:1.* OR thingGroupNames:lab",
     lambda n: (attr(n, "fw") or "").startswith("1.") or "lab" in FLEET[n][6]),
    ("attributes.floor>5", lambda n: (num(attr(n, "floor")) or 0) > 5),
    ("attributes.floor:[3 TO 7]", lambda n: 3 <= (num(attr(n, "floor")) or -1) <= 7),
    ("attributes.floor:{3 TO 10}", lambda n: 3 < (num(attr(n, "floor")) or -1) < 10),
    ("attributes.floor<=7", lambda n: num(attr(n, "floor")) is not None and num(attr(n, "floor")) <= 7),
    ("attributes.floor:*", lambda n: attr(n, "floor") is not None),
    ("NOT attributes.floor:*", lambda n: attr(n, "floor") is None),
    ("thingName:dev* AND -attributes.location:Building-A",
     lambda n: n.startswith("dev") and attr(n, "location") != "Building-A"),
    ("thingName:dev-a1 OR thingName:dev-a2 AND attributes.floor:3",
     lambda n: n == "dev-a1" or (n == "dev-a2" and attr(n, "floor") == "3")),
    ("(thingName:dev-a1 OR thingName:dev-a2) AND attributes.floor:10",
     lambda n: n in ("dev-a1", "dev-a2") and attr(n, "floor") == "10"),
    ("thingName:(dev-a1 OR gw-1)", lambda n: n in ("dev-a1", "gw-1")),
    ("shadow.reported.temperature>20", lambda n: (rep(n, "temperature") or 0) > 20),
    ("shadow.reported.temperature:[18 TO 22.5]",
     lambda n: rep(n, "temperature") is not None and 18 <= rep(n, "temperature") <= 22.5),
    ("shadow.reported.battery<50", lambda n: rep(n, "battery") is not None and rep(n, "battery") < 50),
    ("shadow.reported.tags:2", lambda n: 2 in (rep(n, "tags") or [])),
    ("shadow.reported.mode:auto", lambda n: rep(n, "mode") == "Auto"),
    ("shadow.reported.on:true", lambda n: rep(n, "on") is True),
    ("shadow.reported.battery:*", lambda n: rep(n, "battery") is not None),
    ("shadow.desired.interval:60", lambda n: (FLEET[n][3] or {}).get("interval") == 60),
    ("shadow.hasDelta:true", lambda n: has_delta(n)),
    ("shadow.hasDelta:false", lambda n: FLEET[n][2] is not None and not has_delta(n)),
    ("shadow.name.cfg.reported.level>4", lambda n: (FLEET[n][4] or {}).get("level", 0) > 4),
    ("shadow.name.cfg.reported.level:[1 TO 6]",
     lambda n: 1 <= (FLEET[n][4] or {}).get("level", 0) <= 6),
    ("connectivity.connected:true", lambda n: connected(n)),
    ("connectivity.connected:false", lambda n: not connected(n)),
    ("connectivity.timestamp>=2000", lambda n: FLEET[n][5] is not None and FLEET[n][5][1] >= 2000),
    ("connectivity.disconnectReason:CLIENT_INITIATED_DISCONNECT",
     lambda n: FLEET[n][5] is not None and FLEET[n][5][2] == "CLIENT_INITIATED_DISCONNECT"),
    ("Building-A", lambda n: attr(n, "location") == "Building-A"),
]

CONFIG = {"thingIndexingMode": "REGISTRY_AND_SHADOW", "thingConnectivityIndexingMode": "STATUS",
          "namedShadowIndexingMode": "ON", "filter": {"namedShadowNames": ["cfg"]},
          "customFields": [{"name": "attributes.floor", "type": "Number"},
                           {"name": "attributes.location", "type": "String"}]}


def build_fleet(server, iot, data):
    iot.update_indexing_configuration(thingIndexingConfiguration=CONFIG,
                                      thingGroupIndexingConfiguration={"thingGroupIndexingMode": "ON"})
    for t in ("sensor", "gateway"):
        iot.create_thing_type(thingTypeName=t)
    for g in ("prod", "lab"):
        iot.create_thing_group(thingGroupName=g)
    for name, (ttype, attrs, reported, desired, named, _c, groups) in FLEET.items():
        kw = {"thingTypeName": ttype} if ttype else {}
        iot.create_thing(thingName=name, attributePayload={"attributes": attrs}, **kw)
        for g in groups:
            iot.add_thing_to_thing_group(thingGroupName=g, thingName=name)
        state = {}
        if reported is not None:
            state["reported"] = reported
        if desired is not None:
            state["desired"] = desired
        if state:
            data.update_thing_shadow(thingName=name, payload=json.dumps({"state": state}))
        if named is not None:
            data.update_thing_shadow(thingName=name, shadowName="cfg",
                                     payload=json.dumps({"state": {"reported": named}}))
    db = sqlite3.connect(os.path.join(server.data_dir, "fleetyard.db"), timeout=10)
    with db:
        for name, spec in FLEET.items():
            if spec[5]:
                db.execute("INSERT INTO connectivity(client_id, connected, timestamp, "
                           "disconnect_reason) VALUES (?, ?, ?, ?)", (name,) + spec[5])
    db.close()


@pytest.fixture
def fleet(server, iot, data):
    build_fleet(server, iot, data)
    return iot


def search(iot, query, **kw):
    names, token = [], None
    while True:
        args = dict(queryString=query, **kw)
        if token:
            args["nextToken"] = token
        r = iot.search_index(**args)
        names += [t["thingName"] for t in r["things"]]
        token = r.get("nextToken")
        if not token:
            return names


def raises(code, fn, *args, **kw):
    with pytest.raises(ClientError) as e:
        fn(*args, **kw)
    assert error_code(e) == code, e.value.response
    return e.value.response["Error"]["Message"]


@pytest.mark.parametrize("query,pred", QUERIES, ids=[q for q, _ in QUERIES])
def test_search_construct(fleet, query, pred):
    want = sorted(n for n in FLEET if pred(n))
    assert search(fleet, query) == want


def test_search_pages_and_shape(fleet):
    r = fleet.search_index(indexName="AWS_Things", queryString="thingName:dev*", maxResults=2)
    assert [t["thingName"] for t in r["things"]] == ["dev-a1", "dev-a2"] and r.get("nextToken")
    assert search(fleet, "thingName:dev*", maxResults=1) == ["dev-a1", "dev-a2", "dev-b1"]
    t = r["things"][0]
    assert t["thingTypeName"] == "sensor" and t["attributes"]["floor"] == "3"
    assert t["thingGroupNames"] == ["prod"] and len(t["thingId"]) > 0
    shadow = json.loads(t["shadow"])
    assert shadow["reported"]["battery"] == 85 and shadow["hasDelta"] is True
    assert shadow["delta"] == {"interval": 60} and shadow["name"]["cfg"]["reported"] == {"level": 5}
    assert t["connectivity"] == {"connected": True, "timestamp": 1000}
    loose = fleet.search_index(queryString="thingName:loose")["things"][0]
    assert "shadow" not in loose and loose["connectivity"] == {"connected": False}
    raises("InvalidRequestException", fleet.search_index, queryString="*", nextToken="bogus")


def test_search_cli(server, fleet):
    r = run_aws(server, "iot", "search-index", "--index-name", "AWS_Things", "--query-string",
                "shadow.reported.temperature>20 AND thingName:dev-a1")
    assert r.rc == 0, r.err
    things = r.json["things"]
    assert [t["thingName"] for t in things] == ["dev-a1"]
    assert json.loads(things[0]["shadow"])["reported"]["battery"] == 85


@pytest.mark.parametrize("query,where", [
    ("thingName:", "position 10"), ("(thingName:x", "position 12"),
    ("thingName:x)", "position 11"), ("nosuch.field:1", "nosuch.field"),
    ("thingName:*x OR thingName:*y", "leading wildcard"), ("attributes.floor:[1 2]", "TO expected"),
    ("registry.version:abc", "number"), ("a" * 1001, "longer than 1000"),
])
def test_invalid_query(fleet, query, where):
    msg = raises("InvalidQueryException", fleet.search_index, queryString=query)
    assert where in msg


def test_configuration(server, iot):
    got = iot.get_indexing_configuration()
    assert got["thingIndexingConfiguration"]["thingIndexingMode"] == "OFF"
    assert got["thingGroupIndexingConfiguration"]["thingGroupIndexingMode"] == "OFF"
    raises("ResourceNotFoundException", iot.search_index, queryString="*")
    raises("ResourceNotFoundException", iot.describe_index, indexName="AWS_Things")
    assert iot.list_indices()["indexNames"] == []
    bad = [{"thingIndexingMode": "SOMETIMES"},
           {"thingIndexingMode": "REGISTRY", "namedShadowIndexingMode": "ON"},
           {"thingIndexingMode": "OFF", "thingConnectivityIndexingMode": "STATUS"},
           {"thingIndexingMode": "REGISTRY",
            "customFields": [{"name": "shadow.reported.x", "type": "Number"}]},
           {"thingIndexingMode": "REGISTRY", "customFields": [{"name": "thingName", "type": "String"}]},
           {"thingIndexingMode": "REGISTRY_AND_SHADOW", "namedShadowIndexingMode": "ON",
            "filter": {"namedShadowNames": ["n%d" % i for i in range(11)]}}]
    for cfg in bad:
        raises("InvalidRequestException", iot.update_indexing_configuration,
               thingIndexingConfiguration=cfg)
    assert iot.get_indexing_configuration()["thingIndexingConfiguration"]["thingIndexingMode"] == "OFF"
    iot.update_indexing_configuration(thingIndexingConfiguration={"thingIndexingMode": "REGISTRY"})
    got = iot.get_indexing_configuration()["thingIndexingConfiguration"]
    assert got["thingIndexingMode"] == "REGISTRY"
    assert {"name": "thingName", "type": "String"} in got["managedFields"]
    d = iot.describe_index(indexName="AWS_Things")
    assert d["indexStatus"] == "ACTIVE" and d["schema"] == "REGISTRY"
    assert iot.list_indices()["indexNames"] == ["AWS_Things"]
    msg = raises("InvalidQueryException", iot.search_index, queryString="shadow.reported.x:1")
    assert "not indexed" in msg
    raises("InvalidQueryException", iot.search_index, queryString="connectivity.connected:true")
    raises("ResourceNotFoundException", iot.search_index, indexName="AWS_ThingGroups",
           queryString="*")
    iot.update_indexing_configuration(thingIndexingConfiguration=CONFIG,
                                      thingGroupIndexingConfiguration={"thingGroupIndexingMode": "ON"})
    d = iot.describe_index(indexName="AWS_Things")
    assert d["schema"] == "MULTI_INDEXING_MODE"
    assert iot.list_indices()["indexNames"] == ["AWS_ThingGroups", "AWS_Things"]
    page = iot.list_indices(maxResults=1)
    assert page["indexNames"] == ["AWS_ThingGroups"]
    assert iot.list_indices(nextToken=page["nextToken"])["indexNames"] == ["AWS_Things"]
    # the list begun before the token was read is released (ASan builds check at server stop)
    raises("InvalidRequestException", iot.list_indices, nextToken="not-a-token")


def test_group_index(fleet):
    fleet.create_thing_group(thingGroupName="child", parentGroupName="prod",
                             thingGroupProperties={"thingGroupDescription": "line one",
                                                   "attributePayload": {"attributes": {"k": "5"}}})
    r = fleet.search_index(indexName="AWS_ThingGroups", queryString="parentGroupNames:prod")
    assert [g["thingGroupName"] for g in r["thingGroups"]] == ["child"]
    g = r["thingGroups"][0]
    assert g["parentGroupNames"] == ["prod"] and g["thingGroupDescription"] == "line one"
    assert g["attributes"] == {"k": "5"}
    r = fleet.search_index(indexName="AWS_ThingGroups", queryString="attributes.k>4 OR thingGroupName:lab")
    assert sorted(g["thingGroupName"] for g in r["thingGroups"]) == ["child", "lab"]


def floors(pred=lambda n: True):
    return [num(attr(n, "floor")) for n in FLEET if attr(n, "floor") is not None and pred(n)]


def test_statistics(fleet):
    vals = floors()
    s = fleet.get_statistics(queryString="*", aggregationField="attributes.floor")["statistics"]
    mean = sum(vals) / len(vals)
    assert s["count"] == len(vals) and s["sum"] == sum(vals)
    assert s["minimum"] == min(vals) and s["maximum"] == max(vals)
    assert abs(s["average"] - mean) < 1e-9
    assert abs(s["sumOfSquares"] - sum(v * v for v in vals)) < 1e-9
    var = sum((v - mean) ** 2 for v in vals) / len(vals)
    assert abs(s["variance"] - var) < 1e-9 and abs(s["stdDeviation"] - var ** 0.5) < 1e-9
    s = fleet.get_statistics(queryString="thingTypeName:sensor")["statistics"]
    assert s["count"] == 3 and s["maximum"] == 1  # registry.version by default
    s = fleet.get_statistics(queryString="*", aggregationField="connectivity.connected")["statistics"]
    assert s["count"] == len(FLEET) and s["sum"] == sum(connected(n) for n in FLEET)
    s = fleet.get_statistics(queryString="*", aggregationField="attributes.location")["statistics"]
    assert s == {"count": sum(1 for n in FLEET if attr(n, "location"))}
    raises("InvalidAggregationException", fleet.get_statistics, queryString="*",
           aggregationField="nosuch")


def test_cardinality_percentiles_buckets(fleet):
    c = fleet.get_cardinality(queryString="*", aggregationField="attributes.location")
    assert c["cardinality"] == len({attr(n, "location") for n in FLEET if attr(n, "location")})
    assert fleet.get_cardinality(queryString="thingName:none*",
                                 aggregationField="attributes.location")["cardinality"] == 0
    p = fleet.get_percentiles(queryString="*", aggregationField="attributes.floor",
                              percents=[0, 50, 100])["percentiles"]
    vals = sorted(floors())
    assert p == [{"percent": 0.0, "value": vals[0]}, {"percent": 50.0, "value": vals[1]},
                 {"percent": 100.0, "value": vals[-1]}]
    assert fleet.get_percentiles(queryString="thingName:none*",
                                 aggregationField="attributes.floor")["percentiles"] == []
    raises("InvalidAggregationException", fleet.get_percentiles, queryString="*",
           aggregationField="attributes.location")
    b = fleet.get_buckets_aggregation(queryString="thingName:dev*", aggregationField="attributes.fw",
                                      bucketsAggregationType={"termsAggregation": {"maxBuckets": 1}})
    assert b["totalCount"] == 3 and b["buckets"] == [{"keyValue": "1.0.0", "count": 2}]


def members(iot, group):
    return sorted(iot.list_things_in_thing_group(thingGroupName=group)["things"])


def test_dynamic_groups(server, fleet):
    r = fleet.create_dynamic_thing_group(thingGroupName="bldg-a",
                                         queryString="attributes.location:Building-A",
                                         thingGroupProperties={"thingGroupDescription": "A"})
    assert r["queryString"] == "attributes.location:Building-A" and r["indexName"] == "AWS_Things"
    assert r["thingGroupArn"].endswith(":thinggroup/bldg-a") and r["queryVersion"] == "2017-09-30"
    assert members(fleet, "bldg-a") == ["dev-a1", "dev-a2"]
    groups = fleet.list_thing_groups_for_thing(thingName="dev-a1")["thingGroups"]
    assert sorted(g["groupName"] for g in groups) == ["bldg-a", "prod"]
    doc = fleet.search_index(queryString="thingName:dev-a1")["things"][0]
    assert doc["thingGroupNames"] == ["prod"]  # the indexed field holds static groups
    fleet.create_dynamic_thing_group(thingGroupName="tagged", queryString="thingName:gw-1",
                                     tags=[{"Key": "team", "Value": "ops"}])
    arn = fleet.describe_thing_group(thingGroupName="tagged")["thingGroupArn"]
    assert fleet.list_tags_for_resource(resourceArn=arn)["tags"] == [{"Key": "team", "Value": "ops"}]
    assert members(fleet, "tagged") == ["gw-1"]
    d = fleet.describe_thing_group(thingGroupName="bldg-a")
    assert d["status"] == "ACTIVE" and d["queryString"] == "attributes.location:Building-A"
    raises("InvalidRequestException", fleet.add_thing_to_thing_group, thingGroupName="bldg-a",
           thingName="gw-1")
    raises("InvalidRequestException", fleet.remove_thing_from_thing_group,
           thingGroupName="bldg-a", thingName="dev-a1")
    raises("ResourceAlreadyExistsException", fleet.create_dynamic_thing_group,
           thingGroupName="bldg-a", queryString="*")
    raises("InvalidQueryException", fleet.create_dynamic_thing_group, thingGroupName="bad",
           queryString="thingName:(")
    raises("ResourceNotFoundException", fleet.describe_thing_group, thingGroupName="bad")
    v = fleet.update_dynamic_thing_group(thingGroupName="bldg-a",
                                         thingGroupProperties={"thingGroupDescription": "B"},
                                         queryString="shadow.reported.temperature>25")["version"]
    assert v == 2 and members(fleet, "bldg-a") == ["dev-b1"]
    raises("VersionConflictException", fleet.update_dynamic_thing_group, thingGroupName="bldg-a",
           thingGroupProperties={}, expectedVersion=1)
    raises("InvalidRequestException", fleet.update_dynamic_thing_group, thingGroupName="prod",
           thingGroupProperties={}, queryString="*")
    raises("InvalidRequestException", fleet.delete_dynamic_thing_group, thingGroupName="prod")
    raises("InvalidRequestException", fleet.update_indexing_configuration,
           thingIndexingConfiguration={"thingIndexingMode": "OFF"})
    fleet.delete_dynamic_thing_group(thingGroupName="bldg-a")
    raises("ResourceNotFoundException", fleet.describe_thing_group, thingGroupName="bldg-a")
    fleet.delete_dynamic_thing_group(thingGroupName="bldg-a")  # deleting nothing succeeds
    assert [g["groupName"] for g in fleet.list_thing_groups_for_thing(thingName="dev-b1")["thingGroups"]] == []


def test_dynamic_groups_cli(server, fleet):
    r = run_aws(server, "iot", "create-dynamic-thing-group", "--thing-group-name", "fw1",
                "--query-string", "attributes.fw:1.0.0", "--thing-group-properties",
                "thingGroupDescription=Devices requiring firmware updates")
    assert r.rc == 0, r.err
    r = run_aws(server, "iot", "list-things-in-thing-group", "--thing-group-name", "fw1")
    assert sorted(r.json["things"]) == sorted(n for n in FLEET if attr(n, "fw") == "1.0.0")
    assert run_aws(server, "iot", "delete-dynamic-thing-group", "--thing-group-name", "fw1").rc == 0


def test_fleet_metrics(server, fleet):
    r = run_aws(server, "iot", "create-fleet-metric", "--metric-name", "Connected",
                "--query-string", "connectivity.connected:true", "--aggregation-type",
                "name=Statistics,values=count", "--period", "300", "--aggregation-field",
                "connectivity.connected", "--description", "Count of connected devices")
    assert r.rc == 0, r.err
    assert r.json["metricArn"].endswith(":fleetmetric/Connected")
    d = fleet.describe_fleet_metric(metricName="Connected")
    assert d["queryString"] == "connectivity.connected:true" and d["period"] == 300
    assert d["aggregationType"] == {"name": "Statistics", "values": ["count"]}
    assert d["version"] == 1 and d["indexName"] == "AWS_Things"
    fleet.create_fleet_metric(metricName="Floors", queryString="*", period=60,
                              aggregationType={"name": "Percentiles", "values": ["50"]},
                              aggregationField="attributes.floor", unit="Count",
                              description="x" * 1024)
    names = [m["metricName"] for m in fleet.list_fleet_metrics()["fleetMetrics"]]
    assert names == ["Connected", "Floors"]
    page = fleet.list_fleet_metrics(maxResults=1)
    assert [m["metricName"] for m in page["fleetMetrics"]] == ["Connected"]
    fleet.update_fleet_metric(metricName="Floors", indexName="AWS_Things", period=120,
                              expectedVersion=1)
    assert fleet.describe_fleet_metric(metricName="Floors")["period"] == 120
    raises("VersionConflictException", fleet.update_fleet_metric, metricName="Floors",
           indexName="AWS_Things", expectedVersion=1)
    raises("ResourceAlreadyExistsException", fleet.create_fleet_metric, metricName="Floors",
           queryString="*", period=60, aggregationType={"name": "Cardinality"},
           aggregationField="thingName")
    r = signed_request(server, "PUT", "/fleet-metric/Bad", json.dumps(
        {"queryString": "*", "period": 30, "aggregationType": {"name": "Cardinality"},
         "aggregationField": "thingName"}).encode())
    assert r.status_code == 400 and r.headers["x-amzn-ErrorType"].startswith("InvalidRequestException")
    for bad in ({"period": 61}, {"period": 90}, {"queryString": "thingName:("},
                {"unit": "Furlongs"}, {"description": "x" * 1025},
                {"aggregationType": {"name": "Statistics", "values": ["median"]}}):
        args = dict(metricName="Bad", queryString="*", period=60,
                    aggregationType={"name": "Cardinality"}, aggregationField="thingName")
        args.update(bad)
        with pytest.raises(ClientError) as e:
            fleet.create_fleet_metric(**args)
        assert error_code(e) in ("InvalidRequestException", "InvalidQueryException")
    fleet.delete_fleet_metric(metricName="Connected")
    fleet.delete_fleet_metric(metricName="Connected")
    raises("ResourceNotFoundException", fleet.describe_fleet_metric, metricName="Connected")
