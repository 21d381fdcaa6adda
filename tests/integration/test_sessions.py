"""Persistent sessions (AWS_IOT_BEHAVIOUR.md section 8): a device that connects with
cleanSession=0 keeps its subscriptions while offline and receives the QoS 1 messages published
meanwhile when it comes back (sessionPresent=1); iot:Receive is still checked for them."""
import time

import paho.mqtt.client as mqtt

from test_broker import Device, devices, new_cert, wd  # noqa: F401 (fixtures)


class PersistentDevice(Device):
    def __init__(self, server, cert, key, client_id):
        super().__init__(server, cert, key, client_id)
        self.c._clean_session = False
        self.session_present = None

    def _on_connect(self, client, userdata, flags, rc):
        self.session_present = flags.get("session present")
        super()._on_connect(client, userdata, flags, rc)


def test_offline_qos1_messages_are_delivered_on_return(server, iot, wd, devices):
    _, _, crt, key = new_cert(iot, wd, "ps")
    d = PersistentDevice(server, crt, key, "persistent-1")
    assert d.connect() == 0 and d.session_present == 0
    assert d.subscribe("device/persistent-1/cmd/#", qos=1) == (1,)
    d.close()
    time.sleep(0.3)
    sender = devices(crt, key, "sender-1")
    assert sender.connect() == 0
    sender.publish("device/persistent-1/cmd/a", b"while away", qos=1)
    sender.publish("device/persistent-1/cmd/b", b"qos0 is not queued", qos=0)
    back = PersistentDevice(server, crt, key, "persistent-1")
    try:
        assert back.connect() == 0
        assert back.session_present == 1
        assert back.receive() == ("device/persistent-1/cmd/a", b"while away", False)
        assert back.receive(timeout=0.5) is None
    finally:
        back.close()


def test_offline_session_of_a_revoked_certificate_queues_nothing(server, iot, wd, devices):
    cert_id, _, crt, key = new_cert(iot, wd, "ps2")
    _, _, crt2, key2 = new_cert(iot, wd, "ps2-sender")
    d = PersistentDevice(server, crt, key, "persistent-2")
    assert d.connect() == 0
    assert d.subscribe("device/persistent-2/cmd/#", qos=1) == (1,)
    d.close()
    iot.update_certificate(certificateId=cert_id, newStatus="INACTIVE")
    time.sleep(0.6)  # the plugin re-checks within FY_PLUGIN_SECURITY_POLL_MS (the hint is faster)
    sender = devices(crt2, key2, "sender-2")
    assert sender.connect() == 0
    sender.publish("device/persistent-2/cmd/a", b"must not be queued", qos=1)
    iot.update_certificate(certificateId=cert_id, newStatus="ACTIVE")
    back = PersistentDevice(server, crt, key, "persistent-2")
    try:
        assert back.connect() == 0
        assert back.receive(timeout=1) is None
    finally:
        back.close()
