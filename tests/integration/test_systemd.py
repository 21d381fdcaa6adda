"""Issue 9, operations: scripts/systemd/fleetyard.service and its example configuration.

systemd is not PID 1 here, so the unit is checked with `systemd-analyze verify` (which parses
every directive and checks the ExecStart binary) and its ExecStart command line is run as it is
written, with the install paths pointed at the build and a temporary directory: the server
must start from the example configuration, answer readiness, and stop cleanly on KillSignal."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import BUILD, ROOT, read_env

UNIT = os.path.join(ROOT, "scripts", "systemd", "fleetyard.service")
CONF = os.path.join(ROOT, "scripts", "systemd", "fleetyard.conf")
INSTALLED_BIN = "/usr/local/lib/fleetyard/fleetyard-server"


def directives():
    out = {}
    with open(UNIT) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith(("#", "[")):
                k, _, v = line.partition("=")
                out.setdefault(k, []).append(v)
    return out


def test_unit_directives():
    d = directives()
    one = {k: v[-1] for k, v in d.items()}
    assert one["Type"] == "simple" and one["User"] == "fleetyard"
    assert one["StateDirectory"] == "fleetyard" and one["Restart"] == "on-failure"
    assert one["KillSignal"] == "SIGTERM" and int(one["LimitNOFILE"]) >= 65536
    assert one["CapabilityBoundingSet"] == ""  # no capability: the ports are above 1024
    for k in ("NoNewPrivileges", "ProtectHome", "PrivateTmp"):
        assert one[k] == "yes", k
    assert one["ProtectSystem"] == "strict" and one["ReadWritePaths"] == "/var/lib/fleetyard"
    exec_start = one["ExecStart"].split()
    assert exec_start[0] == INSTALLED_BIN
    assert exec_start[exec_start.index("--data-dir") + 1] == "/var/lib/fleetyard"
    assert exec_start[exec_start.index("--config") + 1] == "/etc/fleetyard/fleetyard.conf"


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_analyze_verify(tmp_path):
    unit = tmp_path / "fleetyard.service"
    text = open(UNIT).read().replace(INSTALLED_BIN, os.path.join(BUILD, "fleetyard-server"))
    unit.write_text(text)
    p = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True,
                       timeout=60)
    # verify reports bad directives as warnings on stderr with status 0: both must be clean.
    assert p.returncode == 0 and "fleetyard.service" not in p.stderr, p.stderr
    # The check itself works: a bad directive is reported.
    unit.write_text(text.replace("Restart=on-failure", "Restart=sometimes"))
    p = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True,
                       timeout=60)
    assert "sometimes" in p.stderr


def test_exec_start_runs_the_server():
    data = tempfile.mkdtemp(prefix="fy-systemd-")
    conf = os.path.join(data, "fleetyard.conf")
    text = open(CONF).read()
    # Free ports and loopback here; everything else as shipped.
    text = re.sub(r"^http-port = \d+$", "http-port = 0", text, flags=re.M)
    text = re.sub(r"^mqtt-port = \d+$", "mqtt-port = 0", text, flags=re.M)
    text = re.sub(r"^(http|mqtt)-bind = .*$", r"\1-bind = 127.0.0.1", text, flags=re.M)
    with open(conf, "w") as f:
        f.write(text)
    state = os.path.join(data, "state")
    os.mkdir(state, 0o700)  # StateDirectory= creates it
    cmd = directives()["ExecStart"][-1]
    cmd = cmd.replace(INSTALLED_BIN, os.path.join(BUILD, "fleetyard-server"))
    cmd = cmd.replace("/etc/fleetyard/fleetyard.conf", conf).replace("/var/lib/fleetyard", state)
    p = subprocess.Popen(cmd.split(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        env_sh = os.path.join(state, "env.sh")
        deadline = time.time() + 15
        while not os.path.exists(env_sh) and time.time() < deadline:
            assert p.poll() is None, "the server exited"
            time.sleep(0.05)
        fy = read_env(env_sh)
        r = requests.get(fy["FLEETYARD_ENDPOINT"] + "/health/ready", timeout=5)
        assert r.status_code == 200, r.text
        assert fy["AWS_DEFAULT_REGION"] == "us-east-1"
        assert os.path.exists(os.path.join(state, "fleetyard.db"))
        p.send_signal(signal.SIGTERM)  # KillSignal=
        assert p.wait(30) == 0  # TimeoutStopSec=30
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        shutil.rmtree(data, ignore_errors=True)
