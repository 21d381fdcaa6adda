"""fleetyard-sim against a real server: devices connect over mutual TLS with certificates from
CreateKeysAndCertificate, publish to each other, and a policy that does not allow the client id
is refused (a few seconds in all)."""
import json
import os
import subprocess
import tempfile

import pytest

from conftest import BUILD

SIM = os.path.join(BUILD, "fleetyard-sim")

pytestmark = pytest.mark.skipif(not os.path.exists(SIM), reason="fleetyard-sim not built")


def device_files(iot, tmp, policy_doc):
    c = iot.create_keys_and_certificate(setAsActive=True)
    crt, key = os.path.join(tmp, "dev.crt"), os.path.join(tmp, "dev.key")
    with open(crt, "w") as f:
        f.write(c["certificatePem"])
    with open(key, "w") as f:
        f.write(c["keyPair"]["PrivateKey"])
    prefix = c["certificateArn"].rsplit(":", 1)[0]
    doc = json.dumps(policy_doc(prefix))
    iot.create_policy(policyName="sim", policyDocument=doc)
    iot.attach_policy(policyName="sim", target=c["certificateArn"])
    return ["--cert", crt, "--key", key]


def allow_bench(prefix):
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iot:Connect", "Resource": prefix + ":client/sim-*"},
        {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
         "Resource": prefix + ":topic/sim/*"},
        {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": prefix + ":topicfilter/sim/*"}]}


def sim(server, mode, cert_args, *args):
    argv = [SIM, mode, "--port", server.env["FLEETYARD_MQTT_PORT"], "--cafile",
            server.env["FLEETYARD_ROOT_CA"], "--id", "sim-%d", "--topic", "sim/%d", "--json",
            *cert_args, *args]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    return p.returncode, [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")], \
        p.stderr


def test_sim_publishes_device_to_device(iot, server):
    with tempfile.TemporaryDirectory() as tmp:
        certs = device_files(iot, tmp, allow_bench)
        rc, rows, err = sim(server, "throughput", certs, "--publishers", "2", "--subscribers",
                            "2", "--qos", "1", "--duration", "1")
        assert rc == 0, err
        r = rows[-1]
        assert r["sent"] > 0 and r["received"] == r["sent"]
        assert r["latency"]["count"] == r["received"]
        rc, rows, err = sim(server, "storm", certs, "--clients", "20")
        assert rc == 0, err
        assert rows[0]["connected"] == 20 and rows[-1]["still_connected"] == 20


def test_sim_counts_refused_connections(iot, server):
    def other_ids(prefix):
        doc = allow_bench(prefix)
        doc["Statement"][0]["Resource"] = prefix + ":client/other-*"
        return doc

    with tempfile.TemporaryDirectory() as tmp:
        certs = device_files(iot, tmp, other_ids)
        rc, rows, err = sim(server, "storm", certs, "--clients", "3")
        assert rc == 1
        assert rows[0]["connected"] == 0 and rows[0]["refused"] == 3
