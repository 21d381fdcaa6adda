"""Lifecycle events, connectivity and live security changes (issue 4):
$aws/events/presence/connected|disconnected/<clientId> with AWS's payload, tracked per
connection (takeover -> DUPLICATE_CLIENTID for the older one); connectivity per client id in the
database; a certificate made INACTIVE or REVOKED disconnects its live clients within a second;
a detached policy stops the next publish; '$' client ids are reserved."""
import json
import os
import sqlite3
import time

import pytest

from test_broker import (DEV, allow_all, devices, fleet, new_cert, server_log_has,  # noqa: F401
                         wait_until, wd)

EV = "$aws/events/presence/{}/{}"
PROPAGATION_S = 1.0  # issue 4: a security change reaches connected clients within one second


def event(d, kind, client_id, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = d.receive(timeout=max(0.01, deadline - time.time()))
        if m and m[0] == EV.format(kind, client_id):
            return json.loads(m[1])
    return None


@pytest.fixture
def watcher(iot, wd, devices):
    _, _, crt, key = new_cert(iot, wd, "watcher")
    w = devices(crt, key, "watcher")
    assert w.connect() == 0
    assert w.subscribe("$aws/events/presence/+/+") == (1,)
    return w


def connectivity(server, client_id):
    db = sqlite3.connect(os.path.join(server.data_dir, "fleetyard.db"), timeout=5)
    try:
        row = db.execute("SELECT connected, timestamp, disconnect_reason, session_id, "
                         "version_number FROM connectivity WHERE client_id = ?",
                         (client_id,)).fetchone()
    finally:
        db.close()
    return row


def test_connected_and_disconnected_events(iot, wd, devices, watcher, server):
    cert_id, _, crt, key = new_cert(iot, wd, "p1")
    before = int(time.time() * 1000)
    d = devices(crt, key, "presence-1")
    assert d.connect() == 0
    ev = event(watcher, "connected", "presence-1")
    assert ev["clientId"] == "presence-1" and ev["eventType"] == "connected"
    assert ev["principalIdentifier"] == cert_id and ev["ipAddress"] == "127.0.0.1"
    assert before - 1000 <= ev["timestamp"] <= time.time() * 1000 + 1000
    assert len(ev["sessionIdentifier"]) == 36 and ev["versionNumber"] >= 1
    row = connectivity(server, "presence-1")
    assert row[0] == 1 and row[3] == ev["sessionIdentifier"]
    d.close()
    gone = event(watcher, "disconnected", "presence-1")
    assert gone["eventType"] == "disconnected"
    assert gone["sessionIdentifier"] == ev["sessionIdentifier"]
    assert gone["versionNumber"] == ev["versionNumber"]
    assert gone["clientInitiatedDisconnect"] is False and gone["disconnectReason"]
    assert wait_until(lambda: connectivity(server, "presence-1")[0] == 0)
    # the next connection of the same client id has a higher versionNumber
    d2 = devices(crt, key, "presence-1")
    assert d2.connect() == 0
    assert event(watcher, "connected", "presence-1")["versionNumber"] > ev["versionNumber"]


def test_takeover_reports_duplicate_clientid(iot, wd, devices, watcher, server):
    _, _, crt, key = new_cert(iot, wd, "p2")
    first = devices(crt, key, "presence-2")
    assert first.connect() == 0
    one = event(watcher, "connected", "presence-2")
    second = devices(crt, key, "presence-2")
    assert second.connect() == 0
    assert first.disconnected.wait(5)
    seen = {}
    for _ in range(2):
        m = watcher.receive(timeout=5)
        assert m, seen
        seen[m[0]] = json.loads(m[1])
    gone = seen[EV.format("disconnected", "presence-2")]
    two = seen[EV.format("connected", "presence-2")]
    assert gone["sessionIdentifier"] == one["sessionIdentifier"]
    assert gone["disconnectReason"] == "DUPLICATE_CLIENTID"
    assert two["sessionIdentifier"] != one["sessionIdentifier"]
    # the newer session stays connected in the connectivity table
    row = connectivity(server, "presence-2")
    assert row[0] == 1 and row[3] == two["sessionIdentifier"]


def test_forbidden_publish_reports_forbidden_access(fleet, devices, watcher):  # noqa: F811
    crt, key, _ = fleet[DEV[0]]
    d = devices(crt, key, DEV[0])
    assert d.connect() == 0
    d.c.publish(f"device/{DEV[1]}/temp", b"x", qos=1)
    assert d.disconnected.wait(5)
    assert event(watcher, "disconnected", DEV[0])["disconnectReason"] == "FORBIDDEN_ACCESS"


def test_dollar_client_ids_are_reserved(iot, wd, devices, server):
    _, _, crt, key = new_cert(iot, wd, "p3")
    for cid in ("$fleetyard-link", "$anything"):
        d = devices(crt, key, cid)
        assert d.connect() == 5, cid  # CONNACK: not authorised
    assert server_log_has(server, "client ids starting with '$' are reserved")


@pytest.mark.parametrize("status", ["INACTIVE", "REVOKED"])
def test_deactivated_certificate_disconnects_live_client(iot, wd, devices, watcher, status):
    cert_id, _, crt, key = new_cert(iot, wd, "p4")
    d = devices(crt, key, "presence-4")
    assert d.connect() == 0
    event(watcher, "connected", "presence-4")
    t0 = time.time()
    iot.update_certificate(certificateId=cert_id, newStatus=status)
    assert d.disconnected.wait(5)
    assert time.time() - t0 < PROPAGATION_S, time.time() - t0
    assert event(watcher, "disconnected", "presence-4")["disconnectReason"] == "AUTH_ERROR"
    again = devices(crt, key, "presence-4")
    assert again.connect() == 5


def test_detached_policy_stops_the_next_publish(iot, wd, devices):
    _, arn, crt, key = new_cert(iot, wd, "p5")
    d = devices(crt, key, "presence-5")
    assert d.connect() == 0
    assert d.subscribe("device/presence-5/#") == (1,)
    d.publish("device/presence-5/a", b"1")
    assert d.receive() == ("device/presence-5/a", b"1", False)
    iot.detach_policy(policyName="allow-all", target=arn)
    # nothing allows iot:Connect any more: the client is disconnected within a second
    assert d.disconnected.wait(PROPAGATION_S + 0.5)


def test_new_policy_version_applies_to_live_client(iot, wd, devices):
    """Narrowing the default version of an attached policy: the publish the old version allowed
    is refused (connection closed), the one still allowed goes through."""
    doc = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"},
        {"Effect": "Allow", "Action": ["iot:Publish", "iot:Subscribe", "iot:Receive"],
         "Resource": "*"}]}
    iot.create_policy(policyName="narrowing", policyDocument=json.dumps(doc))
    out = iot.create_keys_and_certificate(setAsActive=True)
    crt = wd.write("p6.crt", out["certificatePem"])
    key = wd.write("p6.key", out["keyPair"]["PrivateKey"])
    iot.attach_policy(policyName="narrowing", target=out["certificateArn"])
    d = devices(crt, key, "presence-6")
    assert d.connect() == 0
    assert d.subscribe("ok/#") == (1,)
    doc["Statement"][1]["Resource"] = ["arn:aws:iot:*:*:topic/ok/*",
                                       "arn:aws:iot:*:*:topicfilter/ok/*"]
    iot.create_policy_version(policyName="narrowing", policyDocument=json.dumps(doc),
                              setAsDefault=True)
    time.sleep(PROPAGATION_S)
    d.publish("ok/1", b"fine")
    assert d.receive() == ("ok/1", b"fine", False)
    d.c.publish("other/1", b"no", qos=1)
    assert d.disconnected.wait(5)


def test_registered_ca_trusted_without_restart(iot, wd, devices, server):
    """A CA registered while the broker runs is trusted from its first device (the listener's
    capath is kept equal to the registered CAs); making the CA INACTIVE disconnects its
    devices within a second."""
    from test_certificates import register_test_ca
    ca, ca_pem = register_test_ca(iot, wd, name="plant")
    wd.make_csr("plant-dev", cn="plant device")
    pem = wd.sign("plant-dev", ca="plant")
    out = iot.register_certificate(certificatePem=pem, caCertificatePem=ca_pem, status="ACTIVE")
    allow_all(iot, out["certificateArn"])
    d = devices(wd.path("plant-dev.crt"), wd.path("plant-dev.key"), "plant-dev")
    deadline = time.time() + 2
    rc = d.connect()
    while rc != 0 and time.time() < deadline:  # the directory is written within a poll
        time.sleep(0.1)
        d = devices(wd.path("plant-dev.crt"), wd.path("plant-dev.key"), "plant-dev")
        rc = d.connect()
    assert rc == 0
    cas = os.listdir(os.path.join(server.data_dir, "pki", "cas"))
    assert any(n.endswith(".0") for n in cas), cas
    t0 = time.time()
    iot.update_ca_certificate(certificateId=ca["certificateId"], newStatus="INACTIVE")
    assert d.disconnected.wait(5)
    assert time.time() - t0 < PROPAGATION_S
