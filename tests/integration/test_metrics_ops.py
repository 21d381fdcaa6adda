"""Issue 9, operations metrics on GET /metrics: HTTP requests by operation and status with
latency histograms, MQTT connections and messages in/out, authorization denials by action,
shadow updates by protocol, database size and commit latency (server and broker). Every
scrape is checked line by line against the text format (prom_util.parse), and the counters
must move by what the test did. The broker's counters reach the server through broker_stats
about once a second, hence the waits."""
import json
import os
import signal

import requests

from prom_util import flat, parse
from test_broker import (Device, devices, mosquitto_kids, mosquitto_of, mqtt_port_open,  # noqa: F401
                         new_cert, own_server, wait_until, wd)

FAMILIES = {
    "fleetyard_http_requests_total": "counter",
    "fleetyard_http_request_duration_seconds": "histogram",
    "fleetyard_connected_devices": "gauge",
    "fleetyard_mqtt_connections_total": "counter",
    "fleetyard_mqtt_messages_received_total": "counter",
    "fleetyard_mqtt_messages_sent_total": "counter",
    "fleetyard_authorization_denials_total": "counter",
    "fleetyard_shadow_updates_total": "counter",
    "fleetyard_jobs": "gauge",
    "fleetyard_job_executions": "gauge",
    "fleetyard_database_bytes": "gauge",
    "fleetyard_database_wal_bytes": "gauge",
    "fleetyard_db_commit_duration_seconds": "histogram",
}


def families(server):
    r = requests.get(server.endpoint + "/metrics", timeout=5)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/plain; version=0.0.4"
    return parse(r.text)


def scrape(server):
    return flat(families(server))


def http(op, status):
    return 'fleetyard_http_requests_total{operation="%s",status="%d"}' % (op, status)


def hist_count(op):
    return 'fleetyard_http_request_duration_seconds_count{operation="%s"}' % op


def denials(action):
    return 'fleetyard_authorization_denials_total{action="%s"}' % action


def shadow(protocol, outcome):
    return 'fleetyard_shadow_updates_total{protocol="%s",outcome="%s"}' % (protocol, outcome)


COMMIT = 'fleetyard_db_commit_duration_seconds_count{process="%s"}'


def moved(server, before, key, by):
    """Waits until key grew by at least `by` (the broker writes its counters every second)."""
    return wait_until(lambda: scrape(server).get(key, 0) >= before.get(key, 0) + by, timeout=6)


def test_every_family_present_typed_and_well_formed(server, iot):
    iot.list_things()
    fams = families(server)
    for name, kind in FAMILIES.items():
        assert name in fams, name
        assert fams[name]["type"] == kind, name
        assert fams[name]["help"], name
    m = flat(fams)
    assert m["fleetyard_database_bytes"] >= m["fleetyard_database_wal_bytes"] >= 0
    assert m["fleetyard_database_bytes"] > 0
    for action in ("connect", "publish", "subscribe", "receive"):
        assert denials(action) in m
    for p in ("mqtt", "http"):
        for o in ("accepted", "rejected"):
            assert shadow(p, o) in m
    for proc in ("server", "broker"):
        assert COMMIT % proc in m


def test_http_requests_counted_by_operation_status_and_timed(server, iot):
    iot.create_thing(thingName="metrics-http")
    before = scrape(server)
    for _ in range(3):
        iot.describe_thing(thingName="metrics-http")
    for _ in range(2):
        try:
            iot.describe_thing(thingName="metrics-missing")
        except iot.exceptions.ResourceNotFoundException:
            pass
    assert requests.get(server.endpoint + "/things", timeout=5).status_code == 403  # unsigned
    after = scrape(server)
    assert after[http("DescribeThing", 200)] - before.get(http("DescribeThing", 200), 0) == 3
    assert after[http("DescribeThing", 404)] - before.get(http("DescribeThing", 404), 0) == 2
    assert after[hist_count("DescribeThing")] - before.get(hist_count("DescribeThing"), 0) == 5
    assert after[http("none", 403)] - before.get(http("none", 403), 0) == 1
    # a scrape is a request too: the one before this scrape was counted
    assert after[http("GetMetrics", 200)] > before.get(http("GetMetrics", 200), 0)
    fams = families(server)
    durations = {s[1]["operation"]: s[3] for s in
                 fams["fleetyard_http_request_duration_seconds"]["samples"]
                 if s[0].endswith("_sum")}
    assert 0 < durations["DescribeThing"] < 60


POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"},
    {"Effect": "Allow", "Action": "iot:Publish", "Resource": "arn:aws:iot:*:*:topic/ok/*"},
    {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": [
        "arn:aws:iot:*:*:topicfilter/ok/*", "arn:aws:iot:*:*:topicfilter/secret/*"]},
    {"Effect": "Allow", "Action": "iot:Receive", "Resource": "arn:aws:iot:*:*:topic/ok/*"}]}


def limited_cert(iot, wd, name):
    out = iot.create_keys_and_certificate(setAsActive=True)
    try:
        iot.create_policy(policyName="metrics-limited", policyDocument=json.dumps(POLICY))
    except iot.exceptions.ResourceAlreadyExistsException:
        pass
    iot.attach_policy(policyName="metrics-limited", target=out["certificateArn"])
    return wd.write(name + ".crt", out["certificatePem"]), \
        wd.write(name + ".key", out["keyPair"]["PrivateKey"])


def test_mqtt_connections_and_messages_move(server, iot, wd, devices):
    _, _, crt, key = new_cert(iot, wd, "mm")
    before = scrape(server)
    d = devices(crt, key, "metrics-msgs")
    assert d.connect() == 0
    assert d.subscribe("ok/metrics") == (1,)
    for i in range(5):
        d.publish("ok/metrics", b"m%d" % i)
    for _ in range(5):
        assert d.receive() is not None
    assert moved(server, before, "fleetyard_mqtt_connections_total", 1)
    assert moved(server, before, "fleetyard_mqtt_messages_received_total", 5)
    assert moved(server, before, "fleetyard_mqtt_messages_sent_total", 5)
    assert scrape(server)["fleetyard_connected_devices"] >= 1


def test_authorization_denials_by_action(server, iot, wd, devices):
    before = scrape(server)
    _, _, crt, key = new_cert(iot, wd, "nopol", policy=False)
    assert devices(crt, key, "metrics-noconnect").connect() != 0
    assert moved(server, before, denials("connect"), 1)

    lcrt, lkey = limited_cert(iot, wd, "lim")
    pub = devices(lcrt, lkey, "metrics-pub")
    assert pub.connect() == 0
    pub.c.publish("denied/x", b"no", qos=0)
    assert pub.disconnected.wait(5) or wait_until(lambda: not pub.c.is_connected())
    assert moved(server, before, denials("publish"), 1)

    sub = devices(lcrt, lkey, "metrics-sub")
    assert sub.connect() == 0
    sub.c.subscribe("nope/x", 1)
    assert moved(server, before, denials("subscribe"), 1)

    # subscribing to secret/# is allowed, receiving on it is not
    rcv = devices(lcrt, lkey, "metrics-rcv")
    assert rcv.connect() == 0
    assert rcv.subscribe("secret/x") == (1,)
    _, _, crt2, key2 = new_cert(iot, wd, "all")
    sender = devices(crt2, key2, "metrics-sender")
    assert sender.connect() == 0
    sender.publish("secret/x", b"hidden")
    assert moved(server, before, denials("receive"), 1)
    assert rcv.receive(timeout=0.5) is None


def test_shadow_updates_by_protocol(server, iot, data, wd, devices):
    _, _, crt, key = new_cert(iot, wd, "sh")
    before = scrape(server)
    d = devices(crt, key, "metrics-shadow")
    assert d.connect() == 0
    assert d.subscribe("$aws/things/metrics-sh/shadow/update/+") == (1,)
    d.publish("$aws/things/metrics-sh/shadow/update", b'{"state":{"reported":{"a":1}}}')
    d.publish("$aws/things/metrics-sh/shadow/update", b"not json")
    data.update_thing_shadow(thingName="metrics-sh", payload=b'{"state":{"desired":{"a":2}}}')
    try:
        data.update_thing_shadow(thingName="metrics-sh", payload=b"not json")
    except data.exceptions.InvalidRequestException:
        pass
    assert moved(server, before, shadow("mqtt", "accepted"), 1)
    assert moved(server, before, shadow("mqtt", "rejected"), 1)
    after = scrape(server)
    assert after[shadow("http", "accepted")] - before[shadow("http", "accepted")] == 1
    assert after[shadow("http", "rejected")] - before[shadow("http", "rejected")] == 1


def test_database_commit_latency_moves_in_both_processes(server, iot, wd, devices):
    before = scrape(server)
    iot.create_thing(thingName="metrics-db")
    after = scrape(server)
    assert after[COMMIT % "server"] > before[COMMIT % "server"]
    _, _, crt, key = new_cert(iot, wd, "db")
    d = devices(crt, key, "metrics-db")
    assert d.connect() == 0
    d.publish("$aws/things/metrics-db/shadow/update", b'{"state":{"reported":{"b":1}}}')
    assert moved(server, before, COMMIT % "broker", 1)


def test_broker_counters_survive_a_broker_restart(own_server, wd):
    s = own_server()
    iot = s.client("iot")
    _, _, crt, key = new_cert(iot, wd, "rs")
    d = Device(s, crt, key, "metrics-restart")
    try:
        assert d.connect() == 0
        d.publish("ok/restart", b"1")
    finally:
        d.close()
    key_c, key_in = "fleetyard_mqtt_connections_total", "fleetyard_mqtt_messages_received_total"
    assert wait_until(lambda: scrape(s).get(key_c, 0) >= 1 and scrape(s).get(key_in, 0) >= 1,
                      timeout=6)
    first = scrape(s)
    m = mosquitto_of(s)
    os.kill(m, signal.SIGKILL)
    assert wait_until(lambda: mosquitto_kids(s) not in ([], [m]) and mqtt_port_open(s),
                      timeout=15)
    assert scrape(s)[key_c] >= first[key_c]  # still there while the new broker starts
    d = Device(s, crt, key, "metrics-restart-2")
    try:
        assert d.connect() == 0
    finally:
        d.close()
    assert wait_until(lambda: scrape(s)[key_c] == first[key_c] + 1, timeout=6)
    assert scrape(s)[key_in] >= first[key_in]
