"""The broker: fleetyard-server's supervised mosquitto with the fleetyard plugin, driven by
paho-mqtt devices over mutual TLS with certificates from CreateKeysAndCertificate.

Authentication: only a registered ACTIVE certificate (whose CA, if any, is ACTIVE) connects;
the MQTT username is not a credential. Certificates from a CA the broker does not trust are
refused during the TLS handshake (no CONNACK), including certificates registered with
RegisterCertificateWithoutCA: AWS accepts those only with SNI on its SNI_ONLY endpoint, and
mosquitto 2.0 has no hook to skip chain verification, so fleetyard refuses them at TLS.
Supervision: mosquitto dies with the server (SIGTERM or SIGKILL), is restarted when it dies,
and --no-broker runs the HTTP API alone.
"""
import json
import os
import queue
import signal
import socket
import ssl
import subprocess
import threading
import time

import paho.mqtt.client as mqtt
import pytest

from certs_util import Workdir
from conftest import Server
from test_principals import signed

SDK_USERNAME = "?SDK=Python&Version=1.0.0"  # what the AWS IoT Device SDKs send


class Device:
    """A paho-mqtt client over mutual TLS; connect() returns the CONNACK code, or None when
    the connection ended without one (TLS refusal)."""

    def __init__(self, server, cert, key, client_id, username=SDK_USERNAME):
        self.server = server
        self.c = mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv311, clean_session=True,
                             reconnect_on_failure=False)
        self.c.tls_set(ca_certs=server.env["FLEETYARD_ROOT_CA"], certfile=cert, keyfile=key,
                       tls_version=ssl.PROTOCOL_TLS_CLIENT)
        if username:
            self.c.username_pw_set(username)
        self.rc = None
        self.connack = threading.Event()
        self.disconnected = threading.Event()
        self.messages = queue.Queue()
        self.subacks = queue.Queue()
        self.c.on_connect = self._on_connect
        self.c.on_disconnect = lambda c, u, rc: self.disconnected.set()
        self.c.on_message = lambda c, u, m: self.messages.put((m.topic, m.payload, m.retain))
        self.c.on_subscribe = lambda c, u, mid, granted: self.subacks.put(granted)

    def _on_connect(self, client, userdata, flags, rc):
        self.rc = rc
        self.connack.set()

    def connect(self, timeout=5):
        """Runs the network loop in this thread until CONNACK (then in the background) or
        until the connection ends; a TLS alert from the broker ends it without CONNACK."""
        try:
            self.c.connect("127.0.0.1", int(self.server.env["FLEETYARD_MQTT_PORT"]),
                           keepalive=30)
            deadline = time.time() + timeout
            while not self.connack.is_set() and time.time() < deadline:
                if self.c.loop(0.05) != mqtt.MQTT_ERR_SUCCESS:
                    break
        except (ssl.SSLError, OSError):
            pass
        if self.rc == 0:
            self.c.loop_start()
        return self.rc

    def subscribe(self, topic, qos=1):
        self.c.subscribe(topic, qos)
        return self.subacks.get(timeout=5)

    def publish(self, topic, payload, qos=1, retain=False):
        info = self.c.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish()

    def receive(self, timeout=5):
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self):
        try:
            self.c.disconnect()
        except (ssl.SSLError, OSError):
            pass  # the broker already closed a refused connection
        self.c.loop_stop()
        self.disconnected.set()


@pytest.fixture
def devices(server):
    made = []

    def make(cert, key, client_id, **kw):
        d = Device(server, cert, key, client_id, **kw)
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


@pytest.fixture
def wd():
    return Workdir()


ALLOW_ALL = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*",'
             '"Resource":"*"}]}')


def allow_all(iot, cert_arn):
    """Attaches the jobs lab's broad policy (everything allowed) to a certificate."""
    try:
        iot.create_policy(policyName="allow-all", policyDocument=ALLOW_ALL)
    except iot.exceptions.ResourceAlreadyExistsException:
        pass
    iot.attach_policy(policyName="allow-all", target=cert_arn)


def new_cert(iot, wd, name, active=True, policy=True):
    """CreateKeysAndCertificate (with the allow-all policy attached unless policy=False);
    writes <name>.crt/.key into wd. Returns (id, arn, crt, key)."""
    out = iot.create_keys_and_certificate(setAsActive=active)
    crt = wd.write(name + ".crt", out["certificatePem"])
    key = wd.write(name + ".key", out["keyPair"]["PrivateKey"])
    if policy:
        allow_all(iot, out["certificateArn"])
    return out["certificateId"], out["certificateArn"], crt, key


def server_log_has(server, text, timeout=3):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in server.read_log():
            return True
        time.sleep(0.05)
    return False


def children(pid):
    p = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(x) for x in p.stdout.split()]


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def wait_until(pred, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


# ---- authentication ----------------------------------------------------------------------


def test_active_certificate_connects_publishes_and_receives(iot, wd, devices):
    cid, _, crt, key = new_cert(iot, wd, "dev")
    d = devices(crt, key, "sensor-1")
    assert d.connect() == 0
    assert d.subscribe("device/sensor-1/temp") == (1,)
    d.publish("device/sensor-1/temp", b'{"t":21.5}')
    assert d.receive() == ("device/sensor-1/temp", b'{"t":21.5}', False)


def test_username_is_not_a_credential(iot, wd, devices):
    _, _, crt, key = new_cert(iot, wd, "dev")
    assert devices(crt, key, "no-username", username=None).connect() == 0
    assert devices(crt, key, "other-username", username="admin").connect() == 0


@pytest.mark.parametrize("active,policy,reason", [
    (False, True, "certificate is INACTIVE"),
    (True, False, "iot:Connect denied"),  # a certificate without policies: implicit deny
])
def test_refused_connect_is_logged(iot, wd, devices, server, active, policy, reason):
    cid, _, crt, key = new_cert(iot, wd, "dev", active=active, policy=policy)
    assert devices(crt, key, "sensor-2").connect() == mqtt.CONNACK_REFUSED_NOT_AUTHORIZED
    assert server_log_has(server, f"(certificate {cid}): {reason}")


def test_revoked_certificate_refused(iot, wd, devices, server):
    cid, _, crt, key = new_cert(iot, wd, "dev")
    iot.update_certificate(certificateId=cid, newStatus="REVOKED")
    assert devices(crt, key, "sensor-3").connect() == mqtt.CONNACK_REFUSED_NOT_AUTHORIZED
    assert server_log_has(server, f"(certificate {cid}): certificate is REVOKED")


def test_reactivated_certificate_connects(iot, wd, devices):
    cid, _, crt, key = new_cert(iot, wd, "dev", active=False)
    assert devices(crt, key, "sensor-4").connect() == mqtt.CONNACK_REFUSED_NOT_AUTHORIZED
    iot.update_certificate(certificateId=cid, newStatus="ACTIVE")
    assert devices(crt, key, "sensor-4").connect() == 0


def test_deleted_certificate_refused(iot, wd, devices, server):
    """Signed by the fleetyard CA (TLS passes) but no longer registered."""
    cid, _, crt, key = new_cert(iot, wd, "dev", active=False, policy=False)
    iot.delete_certificate(certificateId=cid)
    assert devices(crt, key, "sensor-5").connect() == mqtt.CONNACK_REFUSED_NOT_AUTHORIZED
    assert server_log_has(server, f"(certificate {cid}): certificate is not registered")


def test_client_id_longer_than_128_bytes_refused(iot, wd, devices):
    _, _, crt, key = new_cert(iot, wd, "dev")
    assert devices(crt, key, "c" * 128).connect() == 0
    assert devices(crt, key, "c" * 129).connect() == mqtt.CONNACK_REFUSED_NOT_AUTHORIZED


def test_foreign_ca_refused_at_tls(iot, wd, devices, server):
    wd.make_ca("foreign", cn="Foreign CA")
    wd.make_csr("dev", cn="intruder")
    wd.sign("dev", ca="foreign")
    d = devices(wd.path("dev.crt"), wd.path("dev.key"), "intruder")
    assert d.connect() is None  # no CONNACK: the handshake failed
    assert server_log_has(server, "certificate verify failed")


def test_registered_without_ca_refused_at_tls(iot, wd, devices):
    wd.make_ca("foreign", cn="Foreign CA")
    wd.make_csr("dev", cn="sni-only")
    pem = wd.sign("dev", ca="foreign")
    out = iot.register_certificate_without_ca(certificatePem=pem, status="ACTIVE")
    assert iot.describe_certificate(certificateId=out["certificateId"])[
        "certificateDescription"]["certificateMode"] == "SNI_ONLY"
    assert devices(wd.path("dev.crt"), wd.path("dev.key"), "sni-only").connect() is None


# ---- authorization -----------------------------------------------------------------------


RESERVED = ["$aws/things/thing-a/shadow/update/accepted",
            "$aws/things/thing-a/shadow/update/delta",
            "$aws/things/thing-a/shadow/name/cfg/get/rejected",
            "$aws/things/thing-a/jobs/notify-next",
            "$aws/events/presence/connected/thing-a"]


def test_reserved_response_topics_are_not_publishable(iot, wd, devices, server):
    """A forged response is dropped and, as on AWS, the publisher is disconnected."""
    _, _, crt, key = new_cert(iot, wd, "dev")
    watcher = devices(crt, key, "watcher")
    assert watcher.connect() == 0
    for t in RESERVED:
        assert watcher.subscribe(t) == (1,)
    for t in RESERVED:
        d = devices(crt, key, "thing-a")
        assert d.connect() == 0
        d.c.publish(t, b"forged", qos=1)
        assert d.disconnected.wait(5), t
        assert server_log_has(server, f"denied iot:Publish on {t} to client thing-a")
    watcher.subscribe("device/watcher/barrier")
    watcher.publish("device/watcher/barrier", b"after")
    got = []  # the real presence events of thing-a arrive; no forged message does
    while True:
        m = watcher.receive(timeout=0.3)
        if m is None:
            break
        got.append(m)
    assert ("device/watcher/barrier", b"after", False) in got
    assert not [m for m in got if m[1] == b"forged"], got


def drop_connection(d):
    """Ends the TCP connection without DISCONNECT, so that the broker sends the will."""
    d.c.loop_stop()
    d.c.socket().close()


def test_will_message_is_sent(iot, wd, devices):
    _, _, crt, key = new_cert(iot, wd, "dev")
    watcher = devices(crt, key, "watcher")
    assert watcher.connect() == 0
    assert watcher.subscribe("device/+/status") == (1,)
    d = devices(crt, key, "dying")
    d.c.will_set("device/dying/status", b"gone", qos=1)
    assert d.connect() == 0
    drop_connection(d)
    assert watcher.receive() == ("device/dying/status", b"gone", False)


def test_will_on_reserved_topic_is_not_sent(iot, wd, devices):
    _, _, crt, key = new_cert(iot, wd, "dev")
    watcher = devices(crt, key, "watcher")
    assert watcher.connect() == 0
    assert watcher.subscribe(RESERVED[0]) == (1,)
    assert watcher.subscribe("device/+/status") == (1,)
    d = devices(crt, key, "thing-a")
    d.c.will_set(RESERVED[0], b"forged", qos=1)
    assert d.connect() == 0
    drop_connection(d)
    e = devices(crt, key, "other")
    e.c.will_set("device/other/status", b"gone", qos=1)
    assert e.connect() == 0
    drop_connection(e)
    assert watcher.receive() == ("device/other/status", b"gone", False)
    assert watcher.receive(timeout=0.3) is None


def test_session_takeover_disconnects_the_older_connection(iot, wd, devices):
    _, _, crt, key = new_cert(iot, wd, "dev")
    first = devices(crt, key, "same-id")
    assert first.connect() == 0
    second = devices(crt, key, "same-id")
    assert second.connect() == 0
    assert first.disconnected.wait(5)
    # the newer connection keeps its rights after the older one's DISCONNECT
    assert second.subscribe("device/same-id/x") == (1,)
    second.publish("device/same-id/x", b"still here")
    assert second.receive() == ("device/same-id/x", b"still here", False)


# ---- supervision -------------------------------------------------------------------------


@pytest.fixture
def own_server():
    servers = []

    def start(*args):
        s = Server(extra_args=args).start()
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.cleanup()


def mosquitto_kids(s):
    """Children of the server running mosquitto (a child between fork and exec still shows
    the server's own command line)."""
    kids = []
    for p in children(s.proc.pid):
        try:
            if "mosquitto" in open(f"/proc/{p}/cmdline").read():
                kids.append(p)
        except OSError:
            pass  # gone meanwhile
    return kids


def mosquitto_of(s):
    kids = mosquitto_kids(s)
    assert len(kids) == 1, kids
    return kids[0]


def mqtt_port_open(s):
    try:
        socket.create_connection(("127.0.0.1", int(s.env["FLEETYARD_MQTT_PORT"])), 1).close()
        return True
    except OSError:
        return False


def test_port_accepts_connections_when_env_sh_exists(own_server):
    s = own_server()
    assert mqtt_port_open(s)
    conf = open(os.path.join(s.data_dir, "mosquitto.conf")).read()
    for line in ["require_certificate true", "use_identity_as_username false",
                 "set_tcp_nodelay true", "max_qos 1", "message_size_limit 131072",
                 "allow_anonymous false", f"listener {s.env['FLEETYARD_MQTT_PORT']} 127.0.0.1"]:
        assert line in conf.splitlines(), line


def test_sigterm_stops_mosquitto(own_server):
    s = own_server()
    m = mosquitto_of(s)
    assert s.stop() == 0
    assert wait_until(lambda: not alive(m))


def test_mosquitto_dies_with_a_killed_server(own_server):
    s = own_server()
    m = mosquitto_of(s)
    s.kill9()
    assert wait_until(lambda: not alive(m))


def test_mosquitto_is_restarted(own_server, iot, wd):
    s = own_server()
    first = mosquitto_of(s)
    os.kill(first, signal.SIGKILL)
    assert wait_until(lambda: mosquitto_kids(s) not in ([], [first]) and mqtt_port_open(s))
    assert "restarting mosquitto" in s.read_log()
    # the restarted broker authenticates devices against the same database
    _, _, crt, key = new_cert(s.client("iot"), wd, "r")
    d = Device(s, crt, key, "after-restart")
    try:
        assert d.connect() == 0
        # the internal link reconnects by itself: an HTTP publish reaches the device again
        assert d.subscribe("device/after-restart/x") == (1,)
        data = s.client("iot-data")
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                data.publish(topic="device/after-restart/x", qos=1, payload=b"via link")
                break
            except data.exceptions.ServiceUnavailableException:
                time.sleep(0.2)
        assert d.receive() == ("device/after-restart/x", b"via link", False)
    finally:
        d.close()


def test_link_socket_is_private(own_server):
    s = own_server()
    st = os.stat(s.data_dir)
    assert st.st_mode & 0o077 == 0  # the link socket is reachable only through the data dir
    assert os.path.exists(os.path.join(s.data_dir, "link.sock"))
    assert "internal link connected" in s.read_log()


@pytest.mark.parametrize("client_id,user,password", [
    ("$fleetyard-link", "$fleetyard-link", "wrong-secret"),  # the link's name, not its secret
    ("$fleetyard-link", "$fleetyard-link", ""),
    ("device-1", "device-1", "x"),  # no certificate on the socket: never a device
])
def test_link_socket_refuses_strangers(own_server, client_id, user, password):
    s = own_server()
    sock = os.path.join(s.data_dir, "link.sock")
    args = ["mosquitto_pub", "--unix", sock, "-i", client_id, "-u", user, "-t", "device/x",
            "-m", "hello", "-q", "1"]
    if password:
        args += ["-P", password]
    p = subprocess.run(args, capture_output=True, text=True, timeout=10)
    assert p.returncode != 0, p.stdout + p.stderr
    assert "not authori" in (p.stdout + p.stderr).lower()


def test_no_broker(own_server):
    s = own_server("--no-broker")
    assert children(s.proc.pid) == []
    assert not mqtt_port_open(s)
    assert s.client("iot").list_things()["things"] == []
    data = s.client("iot-data")
    with pytest.raises(data.exceptions.ServiceUnavailableException):
        data.publish(topic="a/b", payload=b"x")
    # shadows work over HTTP without a broker
    data.update_thing_shadow(thingName="nb", payload=b'{"state":{"desired":{"a":1}}}')


# ---- IoT policies: the lifecycle walkthrough's device policy ------------------------------

DEVICE_POLICY = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["iot:Connect", "iot:Publish", "iot:Subscribe", "iot:Receive"],
      "Resource": [
        "arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}",
        "arn:aws:iot:*:*:topic/device/${iot:Connection.Thing.ThingName}/*",
        "arn:aws:iot:*:*:topicfilter/device/${iot:Connection.Thing.ThingName}/*"
      ]
    },
    {
      "Effect": "Allow",
      "Action": ["iot:GetThingShadow", "iot:UpdateThingShadow", "iot:DeleteThingShadow"],
      "Resource": ["arn:aws:iot:*:*:thing/${iot:Connection.Thing.ThingName}"]
    }
  ]
}"""
SUBSCRIBE_ALL = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
                 '"Action":"iot:Subscribe","Resource":"arn:aws:iot:*:*:topicfilter/device/*"}]}')
DEV = ["temp-sensor-01", "temp-sensor-02"]


@pytest.fixture
def fleet(iot, wd):
    """The walkthrough's steps 3-5 for two devices: policy, things in a group, one certificate
    per device with the policy and its thing attached. Returns {name: (crt, key, cert_arn)}."""
    try:
        iot.create_policy(policyName="device-policy", policyDocument=DEVICE_POLICY)
    except iot.exceptions.ClientError as e:
        if e.response["Error"]["Code"] == "UnknownOperationException":
            pytest.skip("the policy API is not there yet")
        raise
    iot.create_thing_group(thingGroupName="sensors")
    out = {}
    for name in DEV:
        iot.create_thing(thingName=name, attributePayload={"attributes": {"location": "A"}})
        iot.add_thing_to_thing_group(thingName=name, thingGroupName="sensors")
        _, arn, crt, key = new_cert(iot, wd, name, policy=False)
        iot.attach_policy(policyName="device-policy", target=arn)
        iot.attach_thing_principal(thingName=name, principal=arn)
        out[name] = (crt, key, arn)
    return out


def test_policy_device_connects_as_itself_and_uses_its_prefix(fleet, devices):
    d = devices(*fleet[DEV[0]][:2], DEV[0])
    assert d.connect() == 0
    assert d.subscribe(f"device/{DEV[0]}/#") == (1,)
    d.publish(f"device/{DEV[0]}/temp", b"21")
    assert d.receive() == (f"device/{DEV[0]}/temp", b"21", False)


def test_policy_refuses_another_client_id(fleet, devices, server):
    crt, key, _ = fleet[DEV[0]]
    assert devices(crt, key, DEV[1]).connect() == mqtt.CONNACK_REFUSED_NOT_AUTHORIZED
    assert devices(crt, key, "not-a-thing").connect() == mqtt.CONNACK_REFUSED_NOT_AUTHORIZED
    assert server_log_has(server, f"iot:Connect denied on arn:aws:iot:us-east-1:123456789012:"
                                  f"client/{DEV[1]}")


def test_policy_refuses_publishing_under_another_prefix(fleet, devices, server):
    d = devices(*fleet[DEV[0]][:2], DEV[0])
    assert d.connect() == 0
    d.c.publish(f"device/{DEV[1]}/temp", b"forged", qos=1)
    assert d.disconnected.wait(5)
    assert server_log_has(server, f"denied iot:Publish on arn:aws:iot:us-east-1:123456789012:"
                                  f"topic/device/{DEV[1]}/temp to client {DEV[0]}")


def test_policy_refuses_subscribing_under_another_prefix(fleet, devices, server):
    d = devices(*fleet[DEV[0]][:2], DEV[0])
    assert d.connect() == 0
    d.c.subscribe(f"device/{DEV[1]}/#", 1)
    assert d.disconnected.wait(5)
    assert server_log_has(server, f"denied iot:Subscribe on arn:aws:iot:us-east-1:123456789012:"
                                  f"topicfilter/device/{DEV[1]}/#")


def test_policy_refuses_receiving_another_devices_messages(fleet, iot, devices):
    """With Subscribe allowed on every device filter, delivery is still checked per message
    against iot:Receive: device 01 gets its own messages, not device 02's."""
    crt, key, arn = fleet[DEV[0]]
    iot.create_policy(policyName="subscribe-all", policyDocument=SUBSCRIBE_ALL)
    iot.attach_policy(policyName="subscribe-all", target=arn)
    d1 = devices(crt, key, DEV[0])
    assert d1.connect() == 0
    assert d1.subscribe("device/+/temp") == (1,)
    d2 = devices(*fleet[DEV[1]][:2], DEV[1])
    assert d2.connect() == 0
    d2.publish(f"device/{DEV[1]}/temp", b"theirs")
    d1.publish(f"device/{DEV[0]}/temp", b"mine")
    assert d1.receive() == (f"device/{DEV[0]}/temp", b"mine", False)
    assert d1.receive(timeout=0.3) is None


def test_policy_retained_publish_needs_retain_publish(fleet, devices, server):
    d = devices(*fleet[DEV[0]][:2], DEV[0])
    assert d.connect() == 0
    d.c.publish(f"device/{DEV[0]}/state", b"kept", qos=1, retain=True)
    assert d.disconnected.wait(5)
    assert server_log_has(server, "denied iot:RetainPublish")


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": e, "Action": a, "Resource": r} for e, a, r in statements]})


def test_explicit_deny_wins(iot, wd, devices, server):
    _, arn, crt, key = new_cert(iot, wd, "dev")
    iot.create_policy(policyName="no-alarms", policyDocument=doc(
        ("Deny", "iot:Publish", "arn:aws:iot:*:*:topic/alarms/*")))
    iot.attach_policy(policyName="no-alarms", target=arn)
    d = devices(crt, key, "dev")
    assert d.connect() == 0
    d.publish("status/dev", b"ok")
    d.c.publish("alarms/fire", b"x", qos=1)
    assert d.disconnected.wait(5)
    assert server_log_has(server, "denied iot:Publish on arn:aws:iot:us-east-1:123456789012:"
                                  "topic/alarms/fire to client dev")


def test_group_policy_applies_to_the_associated_thing(iot, wd, devices):
    _, arn, crt, key = new_cert(iot, wd, "dev", policy=False)
    iot.create_thing(thingName="g-dev")
    iot.create_thing_group(thingGroupName="parent")
    iot.create_thing_group(thingGroupName="child", parentGroupName="parent")
    iot.add_thing_to_thing_group(thingName="g-dev", thingGroupName="child")
    iot.attach_thing_principal(thingName="g-dev", principal=arn)
    iot.create_policy(policyName="group-policy", policyDocument=doc(
        ("Allow", "iot:Connect", "arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}")))
    iot.attach_policy(policyName="group-policy",
                      target=iot.describe_thing_group(thingGroupName="parent")["thingGroupArn"])
    assert devices(crt, key, "g-dev").connect() == 0
    # another client id: no associated thing, so no group policies and no ThingName
    assert devices(crt, key, "g-dev-2").connect() == mqtt.CONNACK_REFUSED_NOT_AUTHORIZED


def test_exclusive_thing_and_attribute_variables(iot, wd, devices, server):
    _, arn, crt, key = new_cert(iot, wd, "dev", policy=False)
    iot.create_thing(thingName="ex-dev", attributePayload={"attributes": {"site": "plant7"}})
    # Debian's botocore 1.29 predates thingPrincipalType: send the request as newer SDKs do
    r = signed(server, "PUT", "/things/ex-dev/principals?thingPrincipalType=EXCLUSIVE_THING",
               {"x-amzn-principal": arn})
    assert r.status_code == 200, r.text
    iot.create_policy(policyName="site-policy", policyDocument=doc(
        ("Allow", "iot:Connect", "*"),
        ("Allow", ["iot:Publish", "iot:Subscribe", "iot:Receive"],
         ["arn:aws:iot:*:*:topic/${iot:Connection.Thing.Attributes[site]}/*",
          "arn:aws:iot:*:*:topicfilter/${iot:Connection.Thing.Attributes[site]}/*"])))
    iot.attach_policy(policyName="site-policy", target=arn)
    d = devices(crt, key, "any-client-id")  # EXCLUSIVE_THING: the client id does not matter
    assert d.connect() == 0
    assert d.subscribe("plant7/#") == (1,)
    d.publish("plant7/line1", b"on")
    assert d.receive() == ("plant7/line1", b"on", False)
    d.c.publish("plant8/line1", b"x", qos=1)
    assert d.disconnected.wait(5)


def test_certificate_subject_variable(iot, wd, devices):
    wd.make_csr("cn", cn="meter-42")
    out = iot.create_certificate_from_csr(certificateSigningRequest=wd.read("cn.csr"),
                                          setAsActive=True)
    crt = wd.write("cn.crt", out["certificatePem"])
    iot.create_policy(policyName="cn-policy", policyDocument=doc(
        ("Allow", "iot:Connect",
         "arn:aws:iot:*:*:client/${iot:Certificate.Subject.CommonName}")))
    iot.attach_policy(policyName="cn-policy", target=out["certificateArn"])
    assert devices(crt, wd.path("cn.key"), "meter-42").connect() == 0
    assert devices(crt, wd.path("cn.key"), "meter-43").connect() == \
        mqtt.CONNACK_REFUSED_NOT_AUTHORIZED


def test_test_authorization_agrees_with_the_broker(fleet, iot, devices):
    """TestAuthorization and the broker use the same identity, policies and engine."""
    crt, key, arn = fleet[DEV[0]]
    topic = "arn:aws:iot:us-east-1:123456789012:topic/device/{}/temp"
    cases = [(DEV[0], "PUBLISH", topic.format(DEV[0])), (DEV[0], "PUBLISH", topic.format(DEV[1]))]
    for client_id, action, resource in cases:
        r = iot.test_authorization(principal=arn, clientId=client_id, authInfos=[
            {"actionType": action, "resources": [resource]}])
        decision = r["authResults"][0]["authDecision"]
        d = devices(crt, key, client_id)
        assert d.connect() == 0
        d.c.publish(resource.split(":topic/")[1], b"x", qos=1)
        dropped = d.disconnected.wait(1.5)
        assert (decision == "ALLOWED") == (not dropped), (resource, decision)
        d.close()
