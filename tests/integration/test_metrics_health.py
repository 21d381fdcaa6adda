"""Issue 9, health: GET /health/live and GET /health/ready answer without a signature (container
health checks and load balancers do not sign); ready means the database answers and the broker
is reachable through the internal link, otherwise 503 with what is down."""
import requests

from conftest import Server


def test_live_and_ready_unsigned(server):
    r = requests.get(server.endpoint + "/health/live", timeout=5)
    assert r.status_code == 200 and r.json() == {"status": "live"}
    r = requests.get(server.endpoint + "/health/ready", timeout=5)
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ready", "database": True, "broker": True}


def test_health_is_read_only(server):
    r = requests.post(server.endpoint + "/health/live", timeout=5)
    assert r.status_code == 403  # only GET is public; anything else needs a signature


def test_not_ready_without_broker():
    s = Server(extra_args=["--no-broker"]).start()
    try:
        r = requests.get(s.endpoint + "/health/ready", timeout=5)
        assert r.status_code == 503
        assert r.headers["x-amzn-ErrorType"] == "ServiceUnavailableException"
        assert "broker down" in r.json()["message"] and "database ok" in r.json()["message"]
        assert requests.get(s.endpoint + "/health/live", timeout=5).status_code == 200
    finally:
        s.cleanup()


def test_not_ready_when_broker_dies():
    """The broker is killed: readiness turns 503 until the server has restarted it."""
    import os
    import signal
    import time
    s = Server().start()
    try:
        kids = os.popen(f"pgrep -P {s.proc.pid} mosquitto").read().split()
        assert kids
        os.kill(int(kids[0]), signal.SIGKILL)
        seen = set()
        deadline = time.time() + 10
        while time.time() < deadline and not {503, 200} <= seen:
            code = requests.get(s.endpoint + "/health/ready", timeout=5).status_code
            if 503 in seen or code == 503:
                seen.add(code)
            time.sleep(0.02)
        assert 503 in seen
    finally:
        s.cleanup()
