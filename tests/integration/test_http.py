"""The HTTP layer as clients see it: SigV4 enforcement, AWS error rendering, body cap, routing
by credential scope, the reset and ping extensions, configuration switches."""
import concurrent.futures
import importlib
import json
import os
import time

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
import requests
from botocore.exceptions import ClientError

from conftest import Server, error_code, run_aws


def signed(server, method, path, body=b"", service="iot", secret=None, headers=None):
    creds = botocore.credentials.Credentials(
        server.env["AWS_ACCESS_KEY_ID"], secret or server.env["AWS_SECRET_ACCESS_KEY"])
    req = botocore.awsrequest.AWSRequest(method=method, url=server.endpoint + path, data=body,
                                         headers=headers or {})
    botocore.auth.SigV4Auth(creds, service, server.env["AWS_DEFAULT_REGION"]).add_auth(req)
    return requests.request(method, req.url, headers=dict(req.headers), data=body, timeout=10)


def test_ping_signed_with_both_control_plane_names(server):
    for svc in ("iot", "execute-api"):
        r = signed(server, "GET", "/fleetyard/ping", service=svc)
        assert r.status_code == 200 and r.json() == {"ok": True}
        assert r.headers["x-amzn-RequestId"]


def test_unsigned_request_is_refused(server):
    r = requests.get(server.endpoint + "/things", timeout=10)
    assert r.status_code == 403
    assert r.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert "message" in r.json()


def test_wrong_secret_is_refused_and_changes_nothing(server, iot):
    bad = server.client("iot")
    bad._request_signer._credentials = botocore.credentials.Credentials(
        server.env["AWS_ACCESS_KEY_ID"], "x" * 40)
    with pytest.raises(ClientError) as e:
        bad.create_thing(thingName="sneaky")
    assert error_code(e) == "InvalidSignatureException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert iot.list_things()["things"] == []


def test_unknown_access_key_is_refused(server):
    c = server.client("iot")
    c._request_signer._credentials = botocore.credentials.Credentials("AKIAUNKNOWNUNKNOWN00", "x")
    with pytest.raises(ClientError) as e:
        c.list_things()
    assert error_code(e) == "UnrecognizedClientException"


def test_clock_skew_window(server, monkeypatch):
    import datetime as real_datetime
    import types
    base = real_datetime.datetime

    class Shifted(base):
        offset = real_datetime.timedelta(0)

        @classmethod
        def utcnow(cls):
            return base.utcnow() + cls.offset

    # botocore signs with botocore.auth, or botocore.crt.auth when awscrt is installed (Debian's
    # is); both read the clock through their module-level name `datetime`.
    fake = types.SimpleNamespace(datetime=Shifted, timezone=real_datetime.timezone)
    monkeypatch.setattr(botocore.auth, "datetime", fake)
    try:
        crt_auth = importlib.import_module("botocore.crt.auth")
        monkeypatch.setattr(crt_auth, "datetime", fake)
    except ImportError:
        pass
    c = server.client("iot")
    Shifted.offset = real_datetime.timedelta(minutes=14)
    c.list_things()
    Shifted.offset = real_datetime.timedelta(minutes=16)
    with pytest.raises(ClientError) as e:
        c.list_things()
    assert error_code(e) == "InvalidSignatureException"
    Shifted.offset = -real_datetime.timedelta(minutes=16)
    with pytest.raises(ClientError) as e:
        c.list_things()
    assert error_code(e) == "InvalidSignatureException"


def test_tampered_body_is_refused(server, reset):
    body = json.dumps({"attributePayload": {"attributes": {"a": "1"}}}).encode()
    creds = botocore.credentials.Credentials(server.env["AWS_ACCESS_KEY_ID"],
                                             server.env["AWS_SECRET_ACCESS_KEY"])
    req = botocore.awsrequest.AWSRequest(method="POST", url=server.endpoint + "/things/t1",
                                         data=body)
    botocore.auth.SigV4Auth(creds, "iot", "us-east-1").add_auth(req)
    r = requests.post(req.url, headers=dict(req.headers), data=body.replace(b"1", b"2"))
    assert r.status_code == 403
    assert r.headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    assert signed(server, "GET", "/things/t1").status_code == 404


def test_malformed_json_body(server, reset):
    r = signed(server, "POST", "/things/t1", body=b'{"attributePayload": ')
    assert r.status_code == 400
    assert r.headers["x-amzn-ErrorType"] == "InvalidRequestException"
    assert signed(server, "GET", "/things/t1").status_code == 404


def test_duplicate_keys_rejected(server, reset):
    r = signed(server, "POST", "/things/t1", body=b'{"thingTypeName":"a","thingTypeName":"b"}')
    assert r.status_code == 400
    assert r.headers["x-amzn-ErrorType"] == "InvalidRequestException"


def test_body_size_cap(server, reset):
    big = b'{"attributePayload":{"attributes":{"a":"' + b"x" * (1024 * 1024) + b'"}}}'
    r = signed(server, "POST", "/things/t1", body=big)
    assert r.status_code == 413
    assert r.headers["x-amzn-ErrorType"] == "RequestEntityTooLargeException"
    assert signed(server, "GET", "/things/t1").status_code == 404


def test_unknown_operation(server):
    r = signed(server, "GET", "/no/such/route")
    assert r.status_code == 404
    assert r.headers["x-amzn-ErrorType"] == "UnknownOperationException"


def test_scope_routes_service(server):
    # The ping route belongs to the control plane; signed for iot-data it does not exist.
    r = signed(server, "GET", "/fleetyard/ping", service="iotdata")
    assert r.status_code == 404


def test_bad_scope_service(server):
    r = signed(server, "GET", "/fleetyard/ping", service="s3")
    assert r.status_code == 403
    assert r.headers["x-amzn-ErrorType"] == "InvalidSignatureException"


def test_cli_error_rendering(server, reset):
    res = run_aws(server, "iot", "describe-thing", "--thing-name", "nope")
    assert res.rc == 254
    assert "ResourceNotFoundException" in res.err and "DescribeThing" in res.err


def test_no_auth_switch_accepts_unsigned_requests():
    s = Server(extra_args=["--no-auth"])
    try:
        s.start()
        r = requests.get(s.endpoint + "/fleetyard/ping", timeout=5)
        assert r.status_code == 200 and r.json() == {"ok": True}
    finally:
        s.cleanup()


def test_reset_disabled_without_flag(tmp_path):
    import subprocess
    import time
    from conftest import SERVER_BIN, read_env
    p = subprocess.Popen([SERVER_BIN, "--data-dir", str(tmp_path), "--http-port", "0",
                          "--mqtt-port", "0"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if (tmp_path / "env.sh").exists():
                break
            time.sleep(0.05)
        s = Server(data_dir=str(tmp_path))
        s.env = read_env(str(tmp_path / "env.sh"))
        r = signed(s, "POST", "/fleetyard/reset")
        assert r.status_code == 403
        assert r.headers["x-amzn-ErrorType"] == "ForbiddenException"
    finally:
        p.terminate()
        p.wait(10)


def test_bad_command_line():
    import subprocess
    from conftest import SERVER_BIN
    p = subprocess.run([SERVER_BIN, "--no-such-option"], capture_output=True, text=True)
    assert p.returncode == 2 and "unknown option" in p.stderr
    p = subprocess.run([SERVER_BIN, "--account-id", "12"], capture_output=True, text=True)
    assert p.returncode == 2 and "account-id" in p.stderr
    p = subprocess.run([SERVER_BIN, "--http-port", "70000"], capture_output=True, text=True)
    assert p.returncode == 2


def test_config_file_and_account(tmp_path):
    cfg = tmp_path / "fy.conf"
    cfg.write_text("# test\naccount-id = 210987654321\nregion = eu-west-1\n")
    s = Server(extra_args=["--config", str(cfg)])
    try:
        s.start()
        assert s.env["AWS_DEFAULT_REGION"] == "eu-west-1"
        iot = s.client("iot")
        arn = iot.create_thing(thingName="t1")["thingArn"]
        assert arn == "arn:aws:iot:eu-west-1:210987654321:thing/t1"
    finally:
        s.cleanup()


def worker_status(pid, field):
    """Field of /proc status (a string) for each MHD worker thread of pid, by thread id."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                if f.read().strip() != "MHD-worker":
                    continue
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                out[tid] = next(x.split()[1] for x in f if x.startswith(field + ":"))
        except FileNotFoundError:
            pass
    return out


def worker_wakeups(pid):
    """Voluntary context switches of each MHD worker thread of pid."""
    return {t: int(v) for t, v in worker_status(pid, "voluntary_ctxt_switches").items()}


def test_connections_spread_over_worker_threads():
    """One thread accepts and hands connections to MHD's pool round robin: four clients on four
    connections keep all four worker threads busy, none waits behind another's connection."""
    s = Server(extra_args=["--no-auth", "--threads", "4"])
    try:
        s.start()
        sessions = [requests.Session() for _ in range(4)]
        for sess in sessions:  # one connection each, opened in turn
            assert sess.get(s.endpoint + "/fleetyard/ping", timeout=5).status_code == 200
        before = worker_wakeups(s.proc.pid)
        assert len(before) == 4

        def burst(sess):
            return [sess.get(s.endpoint + "/fleetyard/ping", timeout=5).status_code
                    for _ in range(300)]
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            codes = sum(pool.map(burst, sessions), [])
        assert codes == [200] * 1200
        after = worker_wakeups(s.proc.pid)
        woken = sorted(after[t] - before[t] for t in before)
        assert woken[0] >= 150, f"a worker thread served (almost) nothing: {woken}"
        for sess in sessions:
            sess.close()
    finally:
        s.cleanup()


def test_more_connections_than_threads_and_stop_with_connections_open():
    s = Server(extra_args=["--no-auth", "--threads", "2"])
    try:
        s.start()
        sessions = [requests.Session() for _ in range(40)]

        def use(sess):
            return [sess.get(s.endpoint + "/fleetyard/ping", timeout=5).status_code
                    for _ in range(5)]
        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            assert sum(pool.map(use, sessions), []) == [200] * 200
        started = time.monotonic()
        assert s.stop() == 0  # idle keep-alive connections still open
        assert time.monotonic() - started < 5
    finally:
        s.cleanup()


def test_bad_bind_address_and_taken_port_refuse_to_start(tmp_path):
    import socket
    import subprocess
    from conftest import SERVER_BIN

    def start(port, bind, sub):
        return subprocess.run([SERVER_BIN, "--data-dir", str(tmp_path / sub), "--http-port",
                               str(port), "--mqtt-port", "0", "--no-broker", "--http-bind", bind],
                              capture_output=True, text=True, timeout=30)
    p = start(0, "not-an-address", "a")
    assert p.returncode != 0 and "bind address not-an-address is not an IPv4 literal" in p.stderr
    with socket.socket() as taken:  # no SO_REUSEPORT sharing: the second listener must fail
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        p = start(port, "127.0.0.1", "b")
        assert p.returncode != 0 and f"cannot listen on 127.0.0.1:{port}" in p.stderr


def worker_cpus(pid):
    """The CPUs each MHD worker thread of pid may run on (Cpus_allowed_list)."""
    return sorted(worker_status(pid, "Cpus_allowed_list").values())


def serve_on_four_connections(s):
    sessions = [requests.Session() for _ in range(4)]
    try:
        def burst(sess):
            return [sess.get(s.endpoint + "/fleetyard/ping", timeout=5).status_code
                    for _ in range(50)]
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            assert sum(pool.map(burst, sessions), []) == [200] * 200
    finally:
        for sess in sessions:
            sess.close()


@pytest.mark.parametrize("mode", ["auto", "true", "false"])
def test_worker_threads_pinned_round_robin(mode):
    """With --cpu-affinity auto (the default; 4 threads is a multiple of 2 CPUs) or true, each
    worker thread that served a request runs on one CPU, the CPUs taken in turn; with false
    they keep the process's CPUs."""
    usable = sorted(os.sched_getaffinity(0))
    if len(usable) < 2:
        pytest.skip("one CPU: nothing to pin to")
    threads = len(usable) if len(usable) >= 4 else 2 * len(usable)  # a multiple, 4 at least
    args = ["--no-auth", "--threads", str(threads)] if mode == "auto" else \
        ["--no-auth", "--threads", "4", "--cpu-affinity", mode]
    s = Server(extra_args=args)
    try:
        s.start()
        before = worker_cpus(s.proc.pid)
        serve_on_four_connections(s)
        after = worker_cpus(s.proc.pid)
        whole = before[0]
        assert before == [whole] * len(before), before  # nothing pinned before any request
        pinned = [c for c in after if c != whole]
        if mode == "false":
            assert pinned == [], after
            return
        assert len(pinned) == 4, after  # four connections, four threads, each pinned once
        assert all(c.isdigit() for c in pinned), after  # one CPU each
        counts = {c: pinned.count(c) for c in pinned}
        assert len(counts) == min(4, len(usable)), counts
        assert max(counts.values()) - min(counts.values()) <= 1, counts  # in turn
    finally:
        s.cleanup()


def test_bad_cpu_affinity_is_refused():
    import subprocess
    from conftest import SERVER_BIN
    p = subprocess.run([SERVER_BIN, "--cpu-affinity", "sometimes"], capture_output=True,
                       text=True)
    assert p.returncode == 2 and "cpu-affinity must be auto|true|false" in p.stderr
