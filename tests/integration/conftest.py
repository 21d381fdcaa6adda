"""Integration fixtures: a real fleetyard-server on free ports in a temp data dir.

Fixtures:
  server      -- a running server for the whole session (module-scoped restarts via Server()).
  iot         -- boto3 'iot' client bound to the server (no retries).
  data        -- boto3 'iot-data' client.
  aws         -- aws(*args) runs /usr/bin/aws against the server; returns Result(rc, out, err, json).
  reset       -- wipes all state before the test (the server runs with --enable-reset).
Servers listen on 127.0.0.1 only and are always stopped.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass

import boto3
import pytest
from botocore.config import Config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("FY_BUILD_DIR", os.path.join(ROOT, "build"))
SERVER_BIN = os.path.join(BUILD, "fleetyard-server")
AWS_CLI = "/usr/bin/aws"


def read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("export "):
                k, _, v = line[len("export "):].partition("=")
                env[k] = v.strip("'\"")
    return env


class Server:
    """A fleetyard-server process; start() waits until env.sh is written."""

    def __init__(self, data_dir=None, extra_args=()):
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="fy-it-")
        self.extra_args = list(extra_args)
        self.proc = None
        self.env = {}
        self.log_path = os.path.join(self.data_dir, "server.log")

    def start(self, timeout=15):
        env_sh = os.path.join(self.data_dir, "env.sh")
        if os.path.exists(env_sh):
            os.unlink(env_sh)
        args = [SERVER_BIN, "--data-dir", self.data_dir, "--http-port", "0",
                "--mqtt-port", "0", "--enable-reset"] + self.extra_args
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited early:\n" + self.read_log())
            if os.path.exists(env_sh):
                self.env = read_env(env_sh)
                if self.env.get("FLEETYARD_ENDPOINT"):
                    return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("server did not start:\n" + self.read_log())

    @property
    def endpoint(self):
        return self.env["FLEETYARD_ENDPOINT"]

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-8000:]
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode if self.proc else None
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()
            self.log = None
        return rc

    def kill9(self):
        return self.stop(sig=signal.SIGKILL)

    def cleanup(self):
        self.stop()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def client(self, service, **kw):
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name=self.env["AWS_DEFAULT_REGION"],
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
            config=Config(retries={"max_attempts": 1}, **kw))

    def cli_env(self):
        env = dict(os.environ)
        env.update({k: v for k, v in self.env.items()})
        env.update({"AWS_PAGER": "", "AWS_MAX_ATTEMPTS": "1", "AWS_CONFIG_FILE": "/dev/null",
                    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
        return env

    def sanitizer_report(self):
        """Stops the server first: LeakSanitizer reports only when the process exits."""
        self.stop()
        log = self.read_log()
        for marker in ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer"):
            if marker in log:
                return log
        return None


@dataclass
class Result:
    rc: int
    out: str
    err: str

    @property
    def json(self):
        return json.loads(self.out) if self.out.strip() else {}


def run_aws(server, *args, input=None):
    p = subprocess.run([AWS_CLI, "--endpoint-url", server.endpoint, "--output", "json", *args],
                       capture_output=True, text=True, env=server.cli_env(), input=input,
                       timeout=60)
    return Result(p.returncode, p.stdout, p.stderr)


@pytest.fixture(scope="session")
def server():
    s = Server().start()
    yield s
    report = s.sanitizer_report()
    s.cleanup()
    assert report is None, report


@pytest.fixture
def reset(server):
    iot = server.client("iot")
    # The reset endpoint is a fleetyard extension: POST /fleetyard/reset, SigV4-signed.
    import botocore.auth
    import botocore.awsrequest
    import requests
    creds = iot._request_signer._credentials
    req = botocore.awsrequest.AWSRequest(method="POST", url=server.endpoint + "/fleetyard/reset",
                                         data=b"")
    botocore.auth.SigV4Auth(creds, "iot", server.env["AWS_DEFAULT_REGION"]).add_auth(req)
    r = requests.post(req.url, headers=dict(req.headers), data=b"", timeout=10)
    assert r.status_code == 200, r.text
    return server


@pytest.fixture
def iot(server, reset):
    return server.client("iot")


@pytest.fixture
def data(server, reset):
    return server.client("iot-data")


@pytest.fixture
def aws(server, reset):
    return lambda *args, **kw: run_aws(server, *args, **kw)


def error_code(excinfo):
    """The AWS error code of a botocore ClientError raised in pytest.raises."""
    return excinfo.value.response["Error"]["Code"]


def signed_request(server, method, path, body=b"", service="iot", headers=None):
    """A raw SigV4-signed request (for input the SDKs refuse to send)."""
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    import requests
    creds = botocore.credentials.Credentials(server.env["AWS_ACCESS_KEY_ID"],
                                             server.env["AWS_SECRET_ACCESS_KEY"])
    req = botocore.awsrequest.AWSRequest(method=method, url=server.endpoint + path, data=body,
                                         headers=headers or {})
    botocore.auth.SigV4Auth(creds, service, server.env["AWS_DEFAULT_REGION"]).add_auth(req)
    return requests.request(method, req.url, headers=dict(req.headers), data=body, timeout=10)
