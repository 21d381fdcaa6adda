"""fleetyard-sim as a device simulator against a real server of its own (issue 8): 200 devices
provisioned over the HTTP API (idempotently), reporting shadows and answering deltas,
completing a job, reconnecting after the broker is killed, then cleaned up. The tests run in
order on one module server; each takes well under a minute."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import BUILD, Server

SIM = os.path.join(BUILD, "fleetyard-sim")
N = 200

pytestmark = pytest.mark.skipif(not os.path.exists(SIM), reason="fleetyard-sim not built")


@pytest.fixture(scope="module")
def fleet():
    s = Server().start()
    state = tempfile.mkdtemp(prefix="fy-sim-state-")
    yield s, os.path.join(state, "sim")
    s.cleanup()
    shutil.rmtree(state, ignore_errors=True)


def sim_env(server):
    env = dict(os.environ)
    env.update(server.env)
    return env


def provision_args(state):
    return [SIM, "provision", "--state", state, "--count", str(N), "--csr", "--name", "dev-%d",
            "--thing-type", "sensor", "--attr", "site=plant-%m4", "--attr", "serial=SN%d",
            "--group", "simfleet", "--json", "--quiet"]


def run_json(server, argv, timeout=60):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                       env=sim_env(server))
    rows = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
    return p.returncode, rows, p.stderr


def device_args(server, state, *extra):
    return [SIM, "devices", "--state", state, "--host", "localhost", "--port",
            server.env["FLEETYARD_MQTT_PORT"], "--cafile", server.env["FLEETYARD_ROOT_CA"],
            "--json", *extra]


class Running:
    """A devices run in the background; stderr progress lines are kept."""

    def __init__(self, server, argv):
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=sim_env(server))
        self.lines = []
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.p.stderr:
            self.lines.append(line.strip())

    def connected(self):
        for line in reversed(self.lines):
            if " connected" in line and "/" in line:
                return int(line.split(": ", 1)[1].split("/", 1)[0])
        return 0

    def reconnects(self):
        for line in reversed(self.lines):
            if line.endswith(" reconnects"):
                return int(line.rsplit(" ", 2)[-2])
        return 0

    def wait_connected(self, n, timeout):
        end = time.time() + timeout
        while time.time() < end:
            if self.connected() >= n:
                return True
            assert self.p.poll() is None, "\n".join(self.lines[-20:])
            time.sleep(0.2)
        return False

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        out, _ = self.p.communicate(timeout=20)
        self.t.join(5)
        rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        return self.p.returncode, rows[-1]


def test_provision_is_idempotent(fleet):
    server, state = fleet
    iot = server.client("iot")
    rc, rows, err = run_json(server, provision_args(state))
    assert rc == 0, err
    assert rows[-1]["done"] == N and rows[-1]["failed"] == 0
    t = iot.describe_thing(thingName="dev-7")
    assert t["thingTypeName"] == "sensor"
    assert t["attributes"] == {"site": "plant-3", "serial": "SN7"}
    assert len(iot.list_thing_principals(thingName="dev-7")["principals"]) == 1
    rc, rows, err = run_json(server, provision_args(state))
    assert rc == 0, err
    assert rows[-1]["done"] == 0 and rows[-1]["reused"] == N
    # a device lost from the list (say, interrupted after its certificate) is completed with
    # the same certificate, not a second one
    with open(os.path.join(state, "devices.txt")) as f:
        names = f.read().splitlines()
    with open(os.path.join(state, "devices.txt"), "w") as f:
        f.write("\n".join(n for n in names if n != "dev-7") + "\n")
    rc, rows, err = run_json(server, provision_args(state))
    assert rc == 0, err
    assert rows[-1]["done"] == 1 and rows[-1]["reused"] == N - 1
    assert len(iot.list_thing_principals(thingName="dev-7")["principals"]) == 1
    things = iot.get_paginator("list_things_in_thing_group").paginate(thingGroupName="simfleet")
    assert sum(len(p["things"]) for p in things) == N
    assert len([c for p in iot.get_paginator("list_certificates").paginate()
                for c in p["certificates"]]) == N


def test_devices_report_shadows_and_answer_deltas(fleet):
    server, state = fleet
    data = server.client("iot-data")
    run = Running(server, device_args(server, state, "--shadow-interval", "1", "--duration",
                                      "0", "--telemetry-rate", "1"))
    try:
        assert run.wait_connected(N, 30), "\n".join(run.lines[-5:])
        data.update_thing_shadow(thingName="dev-3",
                                 payload=json.dumps({"state": {"desired": {"interval": 30}}}))
        time.sleep(2.5)
    finally:
        rc, summary = run.stop()
    assert rc == 0
    assert summary["connected"] == N and summary["refused"] == 0
    assert summary["reports"] >= N and summary["shadow_rejected"] == 0
    assert summary["deltas"] >= 1 and summary["telemetry"] >= N
    doc = json.loads(data.get_thing_shadow(thingName="dev-3")["payload"].read())
    assert doc["state"]["reported"]["interval"] == 30
    assert "delta" not in doc["state"]
    for name in ("dev-0", "dev-199"):
        doc = json.loads(data.get_thing_shadow(thingName=name)["payload"].read())
        assert 15 <= doc["state"]["reported"]["temperature"] <= 35
        assert 5 <= doc["state"]["reported"]["battery"] <= 100


def test_devices_complete_a_job(fleet):
    server, state = fleet
    iot = server.client("iot")
    group = iot.describe_thing_group(thingGroupName="simfleet")["thingGroupArn"]
    run = Running(server, device_args(server, state, "--jobs", "--job-work", "0.2",
                                      "--duration", "0"))
    try:
        assert run.wait_connected(N, 30)
        iot.create_job(jobId="simjob", targets=[group], document=json.dumps({"op": "update"}))
        end = time.time() + 40
        while time.time() < end:  # the scheduler completes the job after the last execution
            if iot.describe_job(jobId="simjob")["job"]["status"] == "COMPLETED":
                break
            time.sleep(0.5)
    finally:
        rc, summary = run.stop()
    assert rc == 0
    details = iot.describe_job(jobId="simjob")["job"]["jobProcessDetails"]
    assert details["numberOfSucceededThings"] == N, details
    assert iot.describe_job(jobId="simjob")["job"]["status"] == "COMPLETED"
    assert summary["succeeded"] == N and summary["job_errors"] == 0


def test_jobs_agent_outcomes_match_the_server(fleet):
    """Devices fail, reject and drop their connection mid-job with the given probabilities; a
    dropped device reconnects and finishes the job it had started. What the devices counted is
    what DescribeJob counts."""
    server, state = fleet
    iot = server.client("iot")
    group = iot.describe_thing_group(thingGroupName="simfleet")["thingGroupArn"]
    run = Running(server, device_args(server, state, "--jobs", "--job-work", "0.2",
                                      "--job-jitter", "0.5", "--job-fail", "0.2",
                                      "--job-reject", "0.1", "--job-drop", "0.1",
                                      "--backoff-min", "0.2", "--backoff-max", "1",
                                      "--duration", "0"))
    try:
        assert run.wait_connected(N, 30)
        iot.create_job(jobId="simjob2", targets=[group], document=json.dumps({"op": "x"}))
        end = time.time() + 40
        while time.time() < end:
            d = iot.describe_job(jobId="simjob2")["job"]
            if d["status"] == "COMPLETED":
                break
            time.sleep(0.5)
    finally:
        rc, summary = run.stop()
    assert rc == 0
    details = iot.describe_job(jobId="simjob2")["job"]["jobProcessDetails"]
    assert details["numberOfSucceededThings"] == summary["succeeded"]
    assert details["numberOfFailedThings"] == summary["failed"]
    assert details["numberOfRejectedThings"] == summary["rejected"]
    assert summary["succeeded"] + summary["failed"] + summary["rejected"] == N
    assert summary["failed"] > 0 and summary["rejected"] > 0 and summary["dropped"] > 0
    assert summary["reconnects"] >= summary["dropped"]


def mosquitto_pid(server):
    out = subprocess.run(["pgrep", "-P", str(server.proc.pid), "-x", "mosquitto"],
                         capture_output=True, text=True).stdout.split()
    return int(out[0]) if len(out) == 1 else None


def test_devices_reconnect_after_the_broker_restarts(fleet):
    server, state = fleet
    run = Running(server, device_args(server, state, "--duration", "0", "--backoff-min", "0.2",
                                      "--backoff-max", "2", "--shadow-interval", "1"))
    try:
        assert run.wait_connected(N, 30)
        old = mosquitto_pid(server)
        os.kill(old, signal.SIGKILL)
        end = time.time() + 40
        while time.time() < end and not (run.reconnects() >= N and run.connected() == N):
            assert run.p.poll() is None, "\n".join(run.lines[-20:])
            time.sleep(0.2)
        assert run.reconnects() >= N and run.connected() == N, "\n".join(run.lines[-5:])
        assert mosquitto_pid(server) not in (None, old)
    finally:
        rc, summary = run.stop()
    assert rc == 0
    assert summary["connected"] == N and summary["reconnects"] >= N


def test_rr_measures_shadow_and_echo_round_trips(fleet):
    server, state = fleet
    data = server.client("iot-data")
    runs = (("shadow", "2", 0), ("echo", "2", 0), ("shadow", "0", 0), ("shadow", "2", 1),
            ("echo", "2", 1))
    for kind, rate, qos in runs:
        argv = device_args(server, state, "--duration", "1", "--rate", rate, "--quiet")
        argv[1] = "rr"
        rc, rows, err = run_json(server, argv + ["--rr", kind, "--qos", str(qos)])
        assert rc == 0, err
        assert rows[0]["phase"] == "measuring"
        r = rows[-1]
        assert r["rr"] == kind and r["devices"] == N and r["qos"] == qos
        assert r["rejected"] == 0 and r["timeouts"] == 0
        assert r["round_trips"] >= (N if rate != "0" else 1)
        assert r["latency"]["count"] == r["round_trips"]
        # requests and the subscription to the answers at --qos: answers come at that QoS
        # (the plugin answers at QoS 1, delivered at most at the subscription's)
        assert r["answers_at_qos1"] == (r["round_trips"] if qos == 1 else 0), (kind, qos, r)
    doc = json.loads(data.get_thing_shadow(thingName="dev-5")["payload"].read())
    assert doc["state"]["reported"]["seq"] >= 2


def test_cleanup_removes_every_device(fleet):
    server, state = fleet
    iot = server.client("iot")
    # a provisioning run stopped after CreateThing: the thing exists, its marker too
    iot.create_thing(thingName="dev-900", thingTypeName="sensor")
    open(os.path.join(state, "certs", "dev-900.thing"), "w").close()
    rc, rows, err = run_json(server, [SIM, "cleanup", "--state", state, "--json", "--quiet"])
    assert rc == 0, err
    assert rows[-1]["removed"] == N + 1 and rows[-1]["failed"] == 0
    assert iot.list_things(thingTypeName="sensor")["things"] == []
    assert iot.list_certificates()["certificates"] == []
    assert os.listdir(os.path.join(state, "certs")) == []
    rc, rows, err = run_json(server, [SIM, "cleanup", "--state", state, "--json", "--quiet"])
    assert rc == 0 and rows[-1]["removed"] == 0
