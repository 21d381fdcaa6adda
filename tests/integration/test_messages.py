"""iot-data Publish, GetRetainedMessage and ListRetainedMessages: an operator's HTTP publish
reaches MQTT subscribers through the server's internal link; retained messages published by
devices (or over HTTP) are readable over HTTP; an empty retained payload deletes."""
import json
import time

import pytest

from conftest import error_code, signed_request
from test_broker import devices, new_cert, wd  # noqa: F401 (fixtures)
from test_shadow_mqtt import next_on


@pytest.fixture
def sub(iot, wd, devices):
    _, _, crt, key = new_cert(iot, wd, "sub")
    d = devices(crt, key, "msg-sub")
    assert d.connect() == 0
    assert d.subscribe("plant/#") == (1,)
    return d


def test_http_publish_reaches_subscribers(sub, data):
    data.publish(topic="plant/line1/cmd", qos=1, payload=b'{"go":true}')
    m = sub.receive()
    assert m == ("plant/line1/cmd", b'{"go":true}', False)


def test_cli_publish(sub, aws, tmp_path):
    r = aws("iot-data", "publish", "--topic", "plant/cli", "--qos", "0",
            "--cli-binary-format", "raw-in-base64-out", "--payload", "hello")
    assert r.rc == 0, r.err
    assert sub.receive() == ("plant/cli", b"hello", False)


def test_http_publish_is_a_shadow_request(iot, wd, devices, data):
    """Publishing on a shadow request topic over HTTP is a shadow update, as on AWS."""
    _, _, crt, key = new_cert(iot, wd, "hs")
    d = devices(crt, key, "http-shadow")
    assert d.connect() == 0
    d.subscribe("$aws/things/http-shadow/shadow/update/accepted")
    data.publish(topic="$aws/things/http-shadow/shadow/update", qos=1,
                 payload=json.dumps({"state": {"desired": {"x": 1}}}).encode())
    assert next_on(d, "$aws/things/http-shadow/shadow/update/accepted")["version"] == 1


def test_publish_bad_input(data):
    for kw in ({"topic": "a/#"}, {"topic": "a/+/b"}, {"topic": "t" * 257}):
        with pytest.raises(data.exceptions.InvalidRequestException):
            data.publish(payload=b"x", **kw)
    with pytest.raises(Exception) as ei:
        data.publish(topic="ok", qos=2, payload=b"x")  # botocore or the server refuses qos 2
    assert "qos" in str(ei.value).lower() or "InvalidRequest" in str(ei.value)
    # the topic limit, both sides
    data.publish(topic="t" * 256, payload=b"x")


def test_retained_messages(iot, wd, devices, data):
    _, _, crt, key = new_cert(iot, wd, "rt")
    d = devices(crt, key, "retainer")
    assert d.connect() == 0
    before = int(time.time() * 1000)
    d.publish("plant/cfg/a", b"A1", qos=1, retain=True)
    d.publish("plant/cfg/b", b"B", qos=0, retain=True)
    d.publish("plant/live", b"not kept", qos=1, retain=False)
    d.publish("plant/cfg/a", b"A2", qos=1, retain=True)

    def listed():
        return data.list_retained_messages()["retainedTopics"]
    deadline = time.time() + 5
    while len(listed()) < 2 and time.time() < deadline:
        time.sleep(0.05)
    got = {t["topic"]: t for t in listed()}
    assert set(got) == {"plant/cfg/a", "plant/cfg/b"}
    assert got["plant/cfg/a"]["payloadSize"] == 2 and got["plant/cfg/a"]["qos"] == 1
    assert got["plant/cfg/b"]["qos"] == 0
    one = data.get_retained_message(topic="plant/cfg/a")
    assert one["payload"] == b"A2" and one["topic"] == "plant/cfg/a"
    assert one["lastModifiedTime"] >= before - 1000
    with pytest.raises(data.exceptions.ResourceNotFoundException):
        data.get_retained_message(topic="plant/live")
    # an empty retained payload deletes
    d.publish("plant/cfg/b", b"", qos=1, retain=True)
    deadline = time.time() + 5
    while len(listed()) > 1 and time.time() < deadline:
        time.sleep(0.05)
    assert [t["topic"] for t in listed()] == ["plant/cfg/a"]


def test_retained_over_http_and_pagination(data):
    for i in range(5):
        data.publish(topic=f"fleet/r{i}", qos=1, retain=True, payload=f"v{i}".encode())
    deadline = time.time() + 5
    while len(data.list_retained_messages()["retainedTopics"]) < 5 and time.time() < deadline:
        time.sleep(0.05)
    seen, token = [], None
    while True:
        kw = {"maxResults": 2}
        if token:
            kw["nextToken"] = token
        page = data.list_retained_messages(**kw)
        assert len(page["retainedTopics"]) <= 2
        seen += [t["topic"] for t in page["retainedTopics"]]
        token = page.get("nextToken")
        if not token:
            break
    assert seen == [f"fleet/r{i}" for i in range(5)]
    with pytest.raises(Exception) as ei:
        data.list_retained_messages(maxResults=201)
    assert "maxResults" in str(ei.value) or error_code(ei) == "InvalidRequestException"


@pytest.mark.parametrize("path", ["/topics/ok?qos=2", "/topics/ok?qos=-1", "/topics/ok?retain=maybe",
                                  "/retainedMessage?maxResults=201",
                                  "/retainedMessage?maxResults=0"])
def test_out_of_range_parameters_refused_by_the_server(server, path):
    method = "POST" if path.startswith("/topics") else "GET"
    r = signed_request(server, method, path, body=b"x" if method == "POST" else b"",
                       service="iotdata")
    assert r.status_code == 400, r.text
    assert r.headers["x-amzn-ErrorType"].startswith("InvalidRequestException")


def test_page_size_limit_accepted(server):
    r = signed_request(server, "GET", "/retainedMessage?maxResults=200", service="iotdata")
    assert r.status_code == 200, r.text
