"""Issue 9, metrics: GET /fleetyard/metrics, unsigned, Prometheus text format, with gauges read
from the database at scrape time (connected devices, jobs and executions by status, stored log
events, logged authorization failures, audited changes by status, database size); the values
move with the fleet."""
import requests

from prom_util import flat, parse
from test_broker import devices, new_cert, wait_until, wd  # noqa: F401


def scrape(server):
    """{name{labels}: value} of every sample, after checking every line of the format."""
    r = requests.get(server.endpoint + "/fleetyard/metrics", timeout=5)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    return flat(parse(r.text))


def test_metrics_unsigned_and_moving(iot, server, wd, devices):
    m = scrape(server)
    assert m["fleetyard_connected_devices"] == 0
    assert m["fleetyard_database_bytes"] > 0
    _, _, crt, key = new_cert(iot, wd, "m")
    d = devices(crt, key, "metrics-dev")
    assert d.connect() == 0
    wait_until(lambda: scrape(server)["fleetyard_connected_devices"] == 1)
    iot.create_thing(thingName="metrics-t")
    iot.create_job(jobId="metrics-job", targets=[iot.describe_thing(thingName="metrics-t")["thingArn"]],
                   document="{}")
    m = scrape(server)
    assert m['fleetyard_jobs{status="IN_PROGRESS"}'] == 1
    assert sum(v for k, v in m.items() if k.startswith("fleetyard_job_executions")) == 1
    assert m['fleetyard_changes{status="200"}'] >= 2
    assert m['fleetyard_log_events{log_group="fleetyard/audit"}'] >= 2
    d.close()
    wait_until(lambda: scrape(server)["fleetyard_connected_devices"] == 0)


def test_denials_counted_when_logged(iot, server, wd, devices):
    iot.set_v2_logging_options(defaultLogLevel="ERROR")
    out = iot.create_keys_and_certificate(setAsActive=True)  # no policy: Connect refused
    crt = wd.write("n.crt", out["certificatePem"])
    key = wd.write("n.key", out["keyPair"]["PrivateKey"])
    import time
    time.sleep(1.2)  # the broker's level cache
    assert devices(crt, key, "metrics-denied").connect() != 0
    wait_until(lambda: scrape(server).get(
        'fleetyard_authorization_denials_logged{event="Connect"}', 0) == 1)


def test_only_get_is_unsigned(server):
    assert requests.post(server.endpoint + "/fleetyard/metrics", timeout=5).status_code == 403


def test_metrics_is_the_prometheus_endpoint_with_fleet_metrics(server, iot):
    """GET /metrics (unsigned) carries the server's gauges and the fleet metrics of index/."""
    r = requests.get(server.endpoint + "/metrics", timeout=5)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain")
    assert "fleetyard_connected_devices" in r.text and "fleetyard_jobs" in r.text
    assert requests.get(server.endpoint + "/fleetyard/metrics", timeout=5).text.split("\n")[0] \
        == r.text.split("\n")[0]
