"""Device shadows over MQTT, served by the plugin (AWS_IOT_BEHAVIOUR.md section 4): paho
devices publish get/update/delete on $aws/things/<thing>/shadow/[name/<shadow>/]... and receive
accepted/rejected, update/documents and update/delta; the same documents are visible over HTTP
(iot-data) because both sides use shadow/."""
import json
import time

import pytest

from test_broker import DEV, devices, fleet, new_cert, wd  # noqa: F401 (fixtures)

P = "$aws/things/{}/shadow"


def next_on(d, topic, timeout=5):
    """The payload (parsed) of the next message on topic; other topics are skipped."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = d.receive(timeout=max(0.01, deadline - time.time()))
        if m and m[0] == topic:
            return json.loads(m[1])
    return None


def nothing_on(d, topic, wait=0.5):
    deadline = time.time() + wait
    while time.time() < deadline:
        m = d.receive(timeout=max(0.01, deadline - time.time()))
        if m and m[0] == topic:
            return False
    return True


@pytest.fixture
def dev(iot, wd, devices):
    """A connected device 'shadow-dev' (allow-all policy) subscribed to its shadow topics."""
    iot.create_thing(thingName="shadow-dev")
    _, arn, crt, key = new_cert(iot, wd, "shadow-dev")
    iot.attach_thing_principal(thingName="shadow-dev", principal=arn)
    d = devices(crt, key, "shadow-dev")
    assert d.connect() == 0
    assert d.subscribe(P.format("shadow-dev") + "/#") == (1,)
    return d


def request(d, topic, body):
    d.publish(topic, json.dumps(body) if isinstance(body, dict) else body)


def test_update_accepted_documents_delta(dev, data):
    p = P.format("shadow-dev")
    request(dev, p + "/update", {"state": {"desired": {"color": "red"}}, "clientToken": "t1"})
    acc = next_on(dev, p + "/update/accepted")
    assert acc["state"] == {"desired": {"color": "red"}} and acc["version"] == 1
    assert acc["clientToken"] == "t1" and acc["metadata"]["desired"]["color"]["timestamp"] > 0
    docs = next_on(dev, p + "/update/documents")
    assert docs["current"]["state"]["desired"] == {"color": "red"} and docs["current"]["version"] == 1
    delta = next_on(dev, p + "/update/delta")
    assert delta["state"] == {"color": "red"} and delta["version"] == 1
    # the device reports: documents, no delta any more; the operator reads it over HTTP
    request(dev, p + "/update", {"state": {"reported": {"color": "red"}}})
    assert next_on(dev, p + "/update/accepted")["version"] == 2
    assert nothing_on(dev, p + "/update/delta")
    doc = json.loads(data.get_thing_shadow(thingName="shadow-dev")["payload"].read())
    assert doc["state"] == {"desired": {"color": "red"}, "reported": {"color": "red"}}
    assert doc["version"] == 2


def test_get_and_delete(dev):
    p = P.format("shadow-dev")
    request(dev, p + "/get", {"clientToken": "g0"})
    rej = next_on(dev, p + "/get/rejected")
    assert rej["code"] == 404 and rej["message"] == "No shadow exists with name: 'shadow-dev'"
    assert rej["clientToken"] == "g0"
    request(dev, p + "/update", {"state": {"reported": {"a": 1}, "desired": {"a": 2}}})
    next_on(dev, p + "/update/accepted")
    request(dev, p + "/get", b"")  # an empty payload is a valid get
    got = next_on(dev, p + "/get/accepted")
    assert got["state"]["delta"] == {"a": 2} and got["version"] == 1 and "clientToken" not in got
    request(dev, p + "/delete", {"clientToken": "d1"})
    deleted = next_on(dev, p + "/delete/accepted")
    assert deleted["version"] == 1 and deleted["clientToken"] == "d1"
    request(dev, p + "/delete", b"")
    assert next_on(dev, p + "/delete/rejected")["code"] == 404


def test_named_shadow(dev, data):
    p = P.format("shadow-dev") + "/name/config"
    request(dev, p + "/update", {"state": {"reported": {"fw": "1.0"}}})
    assert next_on(dev, p + "/update/accepted")["version"] == 1
    request(dev, p + "/get", b"{}")
    assert next_on(dev, p + "/get/accepted")["state"]["reported"] == {"fw": "1.0"}
    names = data.list_named_shadows_for_thing(thingName="shadow-dev")["results"]
    assert names == ["config"]
    # the classic shadow is another document
    request(dev, P.format("shadow-dev") + "/get", b"")
    assert next_on(dev, P.format("shadow-dev") + "/get/rejected")["code"] == 404


def test_version_conflict_changes_nothing(dev, data):
    p = P.format("shadow-dev")
    request(dev, p + "/update", {"state": {"reported": {"v": 1}}})
    next_on(dev, p + "/update/accepted")
    request(dev, p + "/update", {"state": {"reported": {"v": 2}}, "version": 7, "clientToken": "c"})
    rej = next_on(dev, p + "/update/rejected")
    assert rej == {"code": 409, "message": "Version conflict", "timestamp": rej["timestamp"],
                   "clientToken": "c"}
    request(dev, p + "/update", {"state": {"reported": {"v": 3}}, "version": 1})
    assert next_on(dev, p + "/update/accepted")["version"] == 2
    doc = json.loads(data.get_thing_shadow(thingName="shadow-dev")["payload"].read())
    assert doc["state"]["reported"] == {"v": 3}


@pytest.mark.parametrize("body,code,msg", [
    (b"{not json", 400, "Invalid JSON"),
    (b'"\\\xde\xa1', 400, "Invalid JSON"),  # non-ASCII bytes in malformed JSON
    (b'{"clientToken":"x"}', 400, "Missing required node: state"),
    (b'{"state":[]}', 400, "State node must be an object"),
    (b'{"state":{"desired":{"a":[1,null]}}}', 400, "State contains an invalid node"),
    (b'{"state":{"desired":{"a":{"b":{"c":{"d":{"e":{"f":{"g":1}}}}}}}}}', 400,
     "JSON contains too many levels of nesting; maximum is 6"),
    (b'{"state":{"desired":{"a":1}},"version":"x"}', 400, "Invalid version"),
    (b'{"state":{"desired":{"a":1}},"clientToken":"' + b"t" * 65 + b'"}', 400,
     "Invalid clientToken"),
    (b'{"state":{"desired":{"a":"' + b"x" * 8200 + b'"}}}', 413,
     "The payload exceeds the maximum size allowed"),
])
def test_bad_updates_rejected_and_change_nothing(dev, data, body, code, msg):
    p = P.format("shadow-dev")
    request(dev, p + "/update", body)
    rej = next_on(dev, p + "/update/rejected")
    assert rej["code"] == code and rej["message"].startswith(msg), rej
    with pytest.raises(data.exceptions.ResourceNotFoundException):
        data.get_thing_shadow(thingName="shadow-dev")


def test_depth_and_size_limits_accept_the_edge(dev):
    p = P.format("shadow-dev")
    request(dev, p + "/update", {"state": {"desired": {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}}})
    assert next_on(dev, p + "/update/accepted")["version"] == 1
    # {"desired":{"a":"x..."}} serialized is exactly FY_SHADOW_DOC_MAX (8192) bytes
    big = "x" * (8192 - len('{"desired":{"a":""}}'))
    request(dev, p + "/update", {"state": {"desired": {"a": big}}})
    assert next_on(dev, p + "/update/accepted")["version"] == 2


def test_unregistered_thing_has_a_shadow(iot, wd, devices):
    _, arn, crt, key = new_cert(iot, wd, "loose")
    d = devices(crt, key, "loose-client")
    assert d.connect() == 0
    p = P.format("never-registered")
    d.subscribe(p + "/update/accepted")
    request(d, p + "/update", {"state": {"reported": {"x": 1}}})
    assert next_on(d, p + "/update/accepted")["version"] == 1


def test_policy_decides_shadow_access(fleet, devices, server):  # noqa: F811
    """The walkthrough device policy allows only device/<self>/... topics: a shadow request is
    an iot:Publish like any other and is refused (connection closed) without touching the
    shadow."""
    crt, key, _ = fleet[DEV[0]]
    d = devices(crt, key, DEV[0])
    assert d.connect() == 0
    d.c.publish(P.format(DEV[0]) + "/update", json.dumps({"state": {"reported": {"x": 1}}}))
    assert d.disconnected.wait(5)
    data = server.client("iot-data")
    with pytest.raises(data.exceptions.ResourceNotFoundException):
        data.get_thing_shadow(thingName=DEV[0])


SHADOW_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "iot:Connect",
         "Resource": "arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}"},
        {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
         "Resource": "arn:aws:iot:*:*:topic/$aws/things/${iot:Connection.Thing.ThingName}/shadow/*"},
        {"Effect": "Allow", "Action": "iot:Subscribe",
         "Resource": "arn:aws:iot:*:*:topicfilter/$aws/things/*/shadow/*"},
    ],
}


def test_receive_needs_the_policy(iot, wd, devices):
    """Two things with a per-thing shadow policy: each gets its own answers; a subscription to
    the other thing's answers is allowed but its messages are never delivered (iot:Receive)."""
    iot.create_policy(policyName="shadow-policy", policyDocument=json.dumps(SHADOW_POLICY))
    ds = {}
    for name in ("sd-a", "sd-b"):
        iot.create_thing(thingName=name)
        _, arn, crt, key = new_cert(iot, wd, name, policy=False)
        iot.attach_policy(policyName="shadow-policy", target=arn)
        iot.attach_thing_principal(thingName=name, principal=arn)
        ds[name] = devices(crt, key, name)
        assert ds[name].connect() == 0
    a, b = ds["sd-a"], ds["sd-b"]
    assert a.subscribe(P.format("sd-a") + "/update/accepted") == (1,)
    assert b.subscribe(P.format("sd-a") + "/update/accepted") == (1,)
    request(a, P.format("sd-a") + "/update", {"state": {"reported": {"on": True}}})
    assert next_on(a, P.format("sd-a") + "/update/accepted")["version"] == 1
    assert nothing_on(b, P.format("sd-a") + "/update/accepted")


def test_operator_cli_update_reaches_the_device(dev, aws, tmp_path):
    """Issue 5: an operator sets desired state with the stock CLI; the device gets accepted,
    documents and delta over MQTT, reports, and the operator reads the report back."""
    p = P.format("shadow-dev")
    body = tmp_path / "desired.json"
    body.write_text(json.dumps({"state": {"desired": {"interval": 30}}, "clientToken": "op"}))
    r = aws("iot-data", "update-thing-shadow", "--thing-name", "shadow-dev",
            "--cli-binary-format", "raw-in-base64-out", "--payload", f"file://{body}",
            str(tmp_path / "out.json"))
    assert r.rc == 0, r.err
    acc = next_on(dev, p + "/update/accepted")
    assert acc["clientToken"] == "op" and acc["state"]["desired"] == {"interval": 30}
    assert next_on(dev, p + "/update/documents")["current"]["version"] == 1
    delta = next_on(dev, p + "/update/delta")
    assert delta["state"] == {"interval": 30} and delta["version"] == 1
    request(dev, p + "/update", {"state": {"reported": {"interval": 30}}})
    assert next_on(dev, p + "/update/accepted")["version"] == 2
    r = aws("iot-data", "get-thing-shadow", "--thing-name", "shadow-dev",
            str(tmp_path / "get.json"))
    assert r.rc == 0, r.err
    got = json.loads((tmp_path / "get.json").read_text())
    assert got["state"] == {"desired": {"interval": 30}, "reported": {"interval": 30}}
    assert "delta" not in got["state"]


def test_http_named_update_and_delete_reach_the_device(dev, data):
    p = P.format("shadow-dev") + "/name/ota"
    data.update_thing_shadow(thingName="shadow-dev", shadowName="ota",
                             payload=json.dumps({"state": {"desired": {"fw": "2.0"}}}))
    assert next_on(dev, p + "/update/delta")["state"] == {"fw": "2.0"}
    data.delete_thing_shadow(thingName="shadow-dev", shadowName="ota")
    assert next_on(dev, p + "/delete/accepted")["version"] == 1


def test_http_rejection_publishes_nothing(dev, data):
    p = P.format("shadow-dev")
    with pytest.raises(data.exceptions.InvalidRequestException):
        data.update_thing_shadow(thingName="shadow-dev", payload=b'{"state":[]}')
    assert nothing_on(dev, p + "/update/rejected")


def test_burst_served_together(dev):
    """A burst of requests arrives within one broker loop pass and is served in one transaction
    (broker_plugin/shadow_batch.c): each still gets its own answer, in order, with its own
    version, and a conflicting or invalid one is rejected alone."""
    p = P.format("shadow-dev")
    n = 300  # more than FY_PLUGIN_SHADOW_BATCH_MAX (128): a full queue is served at once too
    for i in range(n):
        body = {"state": {"reported": {"i": i}}, "clientToken": "b%d" % i}
        if i == 100:
            body["version"] = 1  # long past: 409
        request(dev, p + "/update", body if i != 200 else "{not json")
    accepted, rejected = [], []
    deadline = time.time() + 20
    while len(accepted) + len(rejected) < n and time.time() < deadline:
        m = dev.receive(timeout=1)
        if m and m[0] == p + "/update/accepted":
            accepted.append(json.loads(m[1]))
        elif m and m[0] == p + "/update/rejected":
            rejected.append(json.loads(m[1]))
    assert len(accepted) == n - 2 and len(rejected) == 2
    assert [a["version"] for a in accepted] == list(range(1, n - 1))
    assert [a["clientToken"] for a in accepted] == ["b%d" % i for i in range(n) if i not in (100, 200)]
    assert sorted(r["code"] for r in rejected) == [400, 409]
    assert [r.get("clientToken") for r in rejected if r["code"] == 409] == ["b100"]
    request(dev, p + "/get", {"clientToken": "last"})
    got = next_on(dev, p + "/get/accepted")
    assert got["version"] == n - 2 and got["state"]["reported"] == {"i": n - 1}


def test_documents_to_an_exact_subscription(iot, wd, devices):
    """update/documents is published once a subscription that can take it was admitted (the
    plugin skips it before: nobody could receive it); a device subscribed to exactly that topic
    gets it, one subscribed to accepted only still gets its answers."""
    for name in ("docs-dev", "acc-dev"):
        iot.create_thing(thingName=name)
    _, arn, crt, key = new_cert(iot, wd, "docs-dev")
    iot.attach_thing_principal(thingName="docs-dev", principal=arn)
    iot.attach_thing_principal(thingName="acc-dev", principal=arn)
    watcher, device = devices(crt, key, "docs-dev"), devices(crt, key, "acc-dev")
    assert watcher.connect() == 0 and device.connect() == 0
    p = P.format("acc-dev")
    assert device.subscribe(p + "/update/accepted") == (1,)
    assert watcher.subscribe(p + "/update/documents") == (1,)
    request(device, p + "/update", {"state": {"reported": {"v": 1}}, "clientToken": "d1"})
    assert next_on(device, p + "/update/accepted")["clientToken"] == "d1"
    docs = next_on(watcher, p + "/update/documents")
    assert docs and docs["current"]["state"]["reported"] == {"v": 1} and docs["clientToken"] == "d1"
