"""The AWS IoT Device SDK v2 for JavaScript (npm aws-iot-device-sdk-v2, installed into
tests/sdk by scripts/setup.sh) against fleetyard: its shadow client connects over mutual TLS
with a CreateKeysAndCertificate certificate, receives the delta an operator caused with
/usr/bin/aws, reports back, reads its shadow and updates a named shadow."""
import json
import os
import shutil
import subprocess
import threading

import pytest

from conftest import ROOT
from test_broker import new_cert, wd  # noqa: F401 (fixture)

SDK_DIR = os.path.join(ROOT, "tests", "sdk")
NODE = shutil.which("node")


def sdk_ready():
    return NODE and os.path.isdir(os.path.join(SDK_DIR, "node_modules", "aws-iot-device-sdk-v2"))


class Lines:
    """The JSON lines a node process prints, read in a thread."""

    def __init__(self, proc):
        self.proc = proc
        self.events = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.events.append(json.loads(line))
                self.cond.notify_all()

    def wait(self, name, timeout=20):
        with self.cond:
            ok = self.cond.wait_for(
                lambda: any(e["event"] in (name, "error") for e in self.events), timeout)
            assert ok, (name, self.events)
            ev = next(e for e in self.events if e["event"] in (name, "error"))
            assert ev["event"] == name, ev
            return ev


@pytest.mark.skipif(not sdk_ready() and not os.environ.get("FY_REQUIRE_SDK"),
                    reason="scripts/setup.sh installs the SDK into tests/sdk")
def test_sdk_shadow_client(server, iot, wd, aws, tmp_path):
    thing = "sdk-device"
    iot.create_thing(thingName=thing)
    _, arn, crt, key = new_cert(iot, wd, thing)
    iot.attach_thing_principal(thingName=thing, principal=arn)
    proc = subprocess.Popen(
        [NODE, os.path.join(SDK_DIR, "shadow_client.js"), "localhost",
         server.env["FLEETYARD_MQTT_PORT"], server.env["FLEETYARD_ROOT_CA"], crt, key, thing],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=SDK_DIR)
    try:
        lines = Lines(proc)
        lines.wait("subscribed")
        body = tmp_path / "desired.json"
        body.write_text(json.dumps({"state": {"desired": {"led": "on"}}}))
        r = aws("iot-data", "update-thing-shadow", "--thing-name", thing,
                "--cli-binary-format", "raw-in-base64-out", "--payload", f"file://{body}",
                str(tmp_path / "out.json"))
        assert r.rc == 0, r.err
        delta = lines.wait("delta")
        assert delta["state"] == {"led": "on"} and delta["version"] == 1
        got = lines.wait("get")
        assert got["state"]["reported"] == {"led": "on"} and "delta" not in got["state"]
        assert got["clientToken"] == "sdk-get" and got["version"] == 2
        named = lines.wait("named")
        assert named["state"]["reported"] == {"firmware": "1.2.3"} and named["version"] == 1
        lines.wait("done")
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    data = server.client("iot-data")
    doc = json.loads(data.get_thing_shadow(thingName=thing, shadowName="sdk")["payload"].read())
    assert doc["state"]["reported"] == {"firmware": "1.2.3"}


@pytest.mark.skipif(not sdk_ready() and not os.environ.get("FY_REQUIRE_SDK"),
                    reason="scripts/setup.sh installs the SDK into tests/sdk")
def test_sdk_jobs_client(server, iot, wd):
    """The SDK's jobs client: notify-next after an operator's CreateJob, start-next, update
    SUCCEEDED; the operator then sees the execution SUCCEEDED."""
    thing = "sdk-jobs-device"
    thing_arn = iot.create_thing(thingName=thing)["thingArn"]
    _, arn, crt, key = new_cert(iot, wd, thing)
    iot.attach_thing_principal(thingName=thing, principal=arn)
    proc = subprocess.Popen(
        [NODE, os.path.join(SDK_DIR, "jobs_client.js"), "localhost",
         server.env["FLEETYARD_MQTT_PORT"], server.env["FLEETYARD_ROOT_CA"], crt, key, thing],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=SDK_DIR)
    try:
        lines = Lines(proc)
        lines.wait("subscribed")
        iot.create_job(jobId="sdk-job", targets=[thing_arn], document='{"action":"blink"}')
        n = lines.wait("notify-next")
        assert n["jobId"] == "sdk-job" and n["status"] == "QUEUED"
        s = lines.wait("started")
        assert s["status"] == "IN_PROGRESS" and s["document"] == {"action": "blink"}
        assert s["clientToken"] == "sdk-start"
        u = lines.wait("updated")
        assert u["status"] == "SUCCEEDED" and u["clientToken"] == "sdk-done"
        lines.wait("done")
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    ex = iot.describe_job_execution(jobId="sdk-job", thingName=thing)["execution"]
    assert ex["status"] == "SUCCEEDED" and ex["statusDetails"]["detailsMap"] == {
        "progress": "started"}
