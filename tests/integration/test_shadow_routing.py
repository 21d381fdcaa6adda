"""Shadow requests are served by the plugin and routed to subscribers only once someone may
receive them (broker_plugin/reserved.c): until a subscription that can match a request topic is
admitted, the plugin consumes them (mosquitto neither stores nor routes them). A device sees
the same either way: its answers, and for QoS 1 a plain PUBACK. A fresh server for the module,
so that no earlier test has subscribed to a request topic."""
import json
import threading
import time

import paho.mqtt.client as mqtt
import pytest
import ssl

from conftest import Server
from test_broker import devices, new_cert, wd  # noqa: F401 (fixtures)
from test_shadow_mqtt import P, next_on


@pytest.fixture(scope="module")
def server():
    s = Server().start()
    yield s
    s.stop()


def device(iot, wd, devices, name):
    iot.create_thing(thingName=name)
    _, arn, crt, key = new_cert(iot, wd, name)
    iot.attach_thing_principal(thingName=name, principal=arn)
    d = devices(crt, key, name)
    assert d.connect() == 0
    return d, crt, key


def mqtt5_update(server, crt, key, client_id, topic, body):
    """An MQTT 5 client publishes body at QoS 1; returns (PUBACK seen, the accepted answer)."""
    got, acked, answers = threading.Event(), threading.Event(), []
    c = mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv5)
    c.tls_set(ca_certs=server.env["FLEETYARD_ROOT_CA"], certfile=crt, keyfile=key,
              tls_version=ssl.PROTOCOL_TLS_CLIENT)
    c.on_message = lambda cl, u, m: (answers.append(json.loads(m.payload)), got.set())
    c.on_publish = lambda cl, u, mid: acked.set()
    c.on_subscribe = lambda cl, u, mid, codes, props: subscribed.set()
    subscribed = threading.Event()
    c.connect("127.0.0.1", int(server.env["FLEETYARD_MQTT_PORT"]))
    c.loop_start()
    try:
        c.subscribe(topic + "/accepted", 1)
        assert subscribed.wait(5)
        c.publish(topic, json.dumps(body), qos=1)
        return acked.wait(5), answers[0] if got.wait(5) else None
    finally:
        c.disconnect()
        c.loop_stop()


def test_requests_answered_before_and_after_a_request_subscriber(server, iot, wd, devices):
    d, crt, key = device(iot, wd, devices, "route-dev")
    p = P.format("route-dev")
    assert d.subscribe(p + "/update/accepted") == (1,)  # not a request topic
    # nobody may receive requests: consumed; QoS 0 and QoS 1 (a plain PUBACK) both answered
    d.publish(p + "/update", json.dumps({"state": {"reported": {"q": 0}}, "clientToken": "a"}), qos=0)
    assert next_on(d, p + "/update/accepted")["clientToken"] == "a"
    d.publish(p + "/update", json.dumps({"state": {"reported": {"q": 1}}, "clientToken": "b"}), qos=1)
    assert next_on(d, p + "/update/accepted")["clientToken"] == "b"
    # bad input is still answered, and changes nothing
    assert d.subscribe(p + "/update/rejected") == (1,)
    d.publish(p + "/update", '{"state": {"reported": ', qos=0)
    rej = next_on(d, p + "/update/rejected")
    assert rej["code"] == 400 and rej["message"] == "Invalid JSON"
    # a get carries its clientToken (built into the answer)
    assert d.subscribe(p + "/get/accepted") == (1,)
    d.publish(p + "/get", json.dumps({"clientToken": "g1"}), qos=0)
    got = next_on(d, p + "/get/accepted")
    assert got["clientToken"] == "g1" and got["version"] == 2
    # MQTT 5 at QoS 1 is routed as before (its PUBACK would otherwise say "not authorized")
    acked, ans = mqtt5_update(server, crt, key, "route-dev-v5", p + "/update",
                              {"state": {"reported": {"q": 5}}, "clientToken": "c"})
    assert acked and ans and ans["clientToken"] == "c" and ans["version"] == 3
    assert next_on(d, p + "/update/accepted")["clientToken"] == "c"  # every subscriber gets it
    # a watcher subscribes to the request topics: from now on it receives them too
    w, _, _ = device(iot, wd, devices, "route-watch")
    assert w.subscribe("$aws/things/+/shadow/update") == (1,)
    for qos, tok in ((0, "d"), (1, "e")):
        body = {"state": {"reported": {"after": qos}}, "clientToken": tok}
        d.publish(p + "/update", json.dumps(body), qos=qos)
        assert next_on(w, p + "/update") == body
        assert next_on(d, p + "/update/accepted")["clientToken"] == tok
    # the stored shadow went through every request once
    data = server.client("iot-data")
    doc = json.loads(data.get_thing_shadow(thingName="route-dev")["payload"].read())
    assert doc["version"] == 5 and doc["state"]["reported"] == {"q": 5, "after": 1}


def test_retained_request_is_kept(server, iot, wd, devices):
    """A retained request is served and kept as the topic's retained message (routed, even
    with no request subscriber)."""
    d, _, _ = device(iot, wd, devices, "route-ret")
    p = P.format("route-ret")
    assert d.subscribe(p + "/update/accepted") == (1,)
    d.publish(p + "/update", json.dumps({"state": {"reported": {"r": 1}}}), qos=1, retain=True)
    assert next_on(d, p + "/update/accepted")["state"]["reported"] == {"r": 1}
    data = server.client("iot-data")
    m = data.get_retained_message(topic=p + "/update")
    assert json.loads(m["payload"]) == {"state": {"reported": {"r": 1}}}
    w, _, _ = device(iot, wd, devices, "route-ret-watch")  # mosquitto kept it too
    assert w.subscribe(p + "/update") == (1,)
    m = w.receive(timeout=5)
    assert m and m[0] == p + "/update" and m[2]
    assert json.loads(m[1]) == {"state": {"reported": {"r": 1}}}
