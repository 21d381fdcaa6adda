#!/usr/bin/python3
"""Shadow benchmark (issue 5): shadow update round trip vs a plain MQTT request/echo round trip
through the same broker, with --devices simulated devices (default 1,000), driven by
fleetyard-sim.

Starts, in a temp dir on free 127.0.0.1 ports, fleetyard-server (HTTP API + its mosquitto with
the plugin, --log-level warn), provisions the devices with `fleetyard-sim provision --csr`
(thing, certificate, the simulator's default policy: each device may use its own
$aws/things/<thing>/* and device/<thing>/* topics), then runs `fleetyard-sim rr`, alternating
the two kinds for --rounds rounds:
  shadow  a device publishes $aws/things/<t>/shadow/update (a reported value; each one is a
          stored shadow version) and waits for update/accepted on its own subscription
  echo    a device publishes on device/<t>/echo, which it subscribes to itself
at each --qos level (default 1, then 0), used for the requests and for the subscription to the
answers, so that both kinds exchange the same MQTT packets (at QoS 1: PUBLISH and PUBACK each
way; the plugin answers at QoS 1, which the broker delivers at the subscription's QoS, as AWS
IoT delivers shadow answers), in two loads:
  latency     --rate requests/s per device (default 1: 1,000 round trips/s in all)
  throughput  closed loop: each device sends its next request when the answer arrives
and prints median/p99 latency, round trips/s, their ratio, and the broker's (mosquitto with the
plugin) and the server's CPU per round trip, sampled over the measured window only: on a shared
machine the rates move with other work, CPU per round trip hardly does.
Targets: median shadow latency under 1 ms; shadow throughput at least 0.5 of echo.
Everything it started is stopped on exit, failure or Ctrl-C. Exit status 0 even when a target is
missed (it is a measurement).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_broker  # noqa: E402
from bench_broker import ROOT, proc_cpu  # noqa: E402

TARGETS = {"median_ms": 1.0, "throughput_ratio": 0.5}


class Fleet(bench_broker.Bench):
    """A fleetyard-server in a temp dir (bench_broker's, for spawning and stopping) and devices
    provisioned by fleetyard-sim."""

    def __init__(self, build, prefix):
        self.a = types.SimpleNamespace(build=build)
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.procs = []
        self.sim = os.path.join(build, "fleetyard-sim")

    @property
    def broker_pid(self):
        return self.pids["plugin"]

    def sim_env(self):
        env = dict(os.environ)
        env.update(self.env)
        return env

    def provision(self, n, *extra):
        self.state = os.path.join(self.dir, "devices")
        t0 = time.time()
        p = subprocess.run([self.sim, "provision", "--state", self.state, "--count", str(n),
                            "--csr", "--json", *extra], env=self.sim_env(), capture_output=True,
                           text=True, timeout=3600)
        if p.returncode != 0:
            raise RuntimeError("provisioning failed: %s" % p.stderr[-2000:])
        return time.time() - t0

    def device_argv(self, mode, *extra):
        return [self.sim, mode, "--state", self.state, "--host", "localhost", "--port",
                self.env["FLEETYARD_MQTT_PORT"], "--cafile", self.env["FLEETYARD_ROOT_CA"],
                "--json", "--quiet", *extra]

    def cpu(self):
        return proc_cpu(self.broker_pid), proc_cpu(self.server.pid)


def rr_run(fleet, kind, rate, duration, qos):
    """One fleetyard-sim rr run; the result row with the broker's and server's CPU seconds over
    the measured window."""
    p = subprocess.Popen(fleet.device_argv("rr", "--rr", kind, "--rate", str(rate),
                                           "--duration", str(duration), "--qos", str(qos)),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=fleet.sim_env())
    fleet.procs.append(p)
    row = None
    before = None
    for line in p.stdout:
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        if r.get("phase") == "measuring":
            before = fleet.cpu()
        else:
            after = fleet.cpu()
            row = r
    err = p.stderr.read()
    p.wait(60)
    fleet.procs.remove(p)
    if p.returncode != 0 or not row or not before:
        raise RuntimeError("fleetyard-sim rr %s failed: %s" % (kind, err[-2000:]))
    row["broker_cpu_s"] = after[0] - before[0]
    row["server_cpu_s"] = after[1] - before[1]
    return row


def summarize(rows):
    med = statistics.median
    n = sum(r["round_trips"] for r in rows)
    return {
        "p50_ms": med(r["latency"]["p50_us"] for r in rows) / 1000,
        "p99_ms": med(r["latency"]["p99_us"] for r in rows) / 1000,
        "rt_per_s": med(r["round_trips_per_s"] for r in rows),
        "broker_us_per_rt": 1e6 * sum(r["broker_cpu_s"] for r in rows) / max(n, 1),
        "server_us_per_rt": 1e6 * sum(r["server_cpu_s"] for r in rows) / max(n, 1),
        "errors": sum(r["rejected"] + r["timeouts"] for r in rows),
    }


def report(res, a, qos):
    print("\nshadow update vs echo round trip, QoS %d, %d devices, %d rounds of %.0f s "
          "(medians of rounds)" % (qos, a.devices, a.rounds, a.duration))
    print("%-34s %12s %12s %8s" % ("", "shadow", "echo", "ratio"))
    for load in ("latency", "throughput"):
        s, e = summarize(res[load]["shadow"]), summarize(res[load]["echo"])
        label = ("%s load (%g req/s per device)" % (load, a.rate) if load == "latency"
                 else "throughput load (closed loop)")
        print(label)
        for key, fmt in (("p50_ms", "%.3f ms"), ("p99_ms", "%.3f ms"),
                         ("rt_per_s", "%.0f/s"), ("broker_us_per_rt", "%.1f us"),
                         ("server_us_per_rt", "%.1f us"), ("errors", "%d")):
            ratio = s[key] / e[key] if e[key] else float("nan")
            print("  %-32s %12s %12s %8.2f" % (key, fmt % s[key], fmt % e[key], ratio))
        res[load]["summary"] = {"shadow": s, "echo": e}
    lat = res["latency"]["summary"]["shadow"]["p50_ms"]
    thr = res["throughput"]["summary"]
    ratio = thr["shadow"]["rt_per_s"] / thr["echo"]["rt_per_s"]
    cpu_ratio = thr["echo"]["broker_us_per_rt"] / thr["shadow"]["broker_us_per_rt"]
    print("target (QoS %d): median shadow round trip < %.1f ms: %.3f ms, %s" % (
        qos, TARGETS["median_ms"], lat, "met" if lat < TARGETS["median_ms"] else "NOT met"))
    print("target (QoS %d): shadow throughput >= %.1f x echo: %.2f (by broker CPU per round "
          "trip: %.2f), %s" % (qos, TARGETS["throughput_ratio"], ratio, cpu_ratio,
                               "met" if ratio >= TARGETS["throughput_ratio"] else "NOT met"))


def run(fleet, a):
    fleet.start_server()
    secs = fleet.provision(a.devices)
    print("provisioned %d devices in %.1f s" % (a.devices, secs), flush=True)
    every = {}
    for qos in a.qos:
        res = every["qos%d" % qos] = {"latency": {"shadow": [], "echo": []},
                                      "throughput": {"shadow": [], "echo": []}}
        for i in range(a.rounds):
            order = ("shadow", "echo") if i % 2 == 0 else ("echo", "shadow")
            for load, rate in (("latency", a.rate), ("throughput", 0)):
                for kind in order:
                    row = rr_run(fleet, kind, rate, a.duration, qos)
                    res[load][kind].append(row)
                    print("qos %d round %d %-10s %-6s p50 %.3f ms p99 %.3f ms %7.0f rt/s "
                          "broker %.1f us/rt" % (qos, i + 1, load, kind,
                                                 row["latency"]["p50_us"] / 1000,
                                                 row["latency"]["p99_us"] / 1000,
                                                 row["round_trips_per_s"],
                                                 1e6 * row["broker_cpu_s"]
                                                 / max(row["round_trips"], 1)), flush=True)
    for qos in a.qos:
        report(every["qos%d" % qos], a, qos)
    print("load average: %.2f %.2f %.2f" % os.getloadavg())
    res = every
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump(res, f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.environ.get("FY_BUILD_DIR", os.path.join(ROOT, "build")),
                    help="build dir with fleetyard-server, fleetyard_plugin.so, fleetyard-sim")
    ap.add_argument("--devices", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=5, help="measured seconds per run")
    ap.add_argument("--rate", type=float, default=1,
                    help="requests/s per device for the latency load (default 1)")
    ap.add_argument("--qos", type=lambda v: [int(q) for q in v.split(",")], default=[1, 0],
                    help="QoS levels to measure, each for requests and for the subscription to "
                         "the answers (default 1,0: QoS 1 as the AWS IoT Device SDKs use it)")
    ap.add_argument("--json-out", help="write every measurement to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    a = ap.parse_args()
    return run_bench(a, "fy-bench-shadow-", "bench_shadow", run)


def run_bench(a, prefix, name, fn):
    """Runs fn(fleet, a) on a fresh Fleet (bench_broker.run_bench: stops everything, also on a
    signal; keeps the temp dir only with --keep or on failure). Returns the exit status."""
    return bench_broker.run_bench(Fleet(a.build, prefix), fn, a, name)


if __name__ == "__main__":
    sys.exit(main())
