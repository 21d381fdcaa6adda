#!/usr/bin/python3
"""Broker benchmark (issue 4): mosquitto with the fleetyard plugin vs the same mosquitto TLS
configuration without it, side by side in one run, driven by fleetyard-sim.

Starts, in a temp dir on free 127.0.0.1 ports:
  plugin side  fleetyard-server (HTTP API + its mosquitto with the plugin), with --log-level warn;
               K device certificates from CreateKeysAndCertificate (boto3, signed with the data
               dir's credentials) and one IoT policy allowing client/bench-*, publish/receive
               on topic/bench/* and subscribe to topicfilter/bench/*, attached to each.
  bare side    /usr/sbin/mosquitto with the server's own mosquitto.conf minus the plugin lines:
               same listener, CA, server certificate, require_certificate, set_tcp_nodelay,
               max_qos, message_size_limit, persistence and log types. The one change is
               allow_anonymous true, as without the plugin nothing else admits a client (the TLS
               layer still requires a certificate from the CA).
Then measures, alternating the sides:
  (c) VmRSS of each mosquitto before and with --hold-clients idle connections (fresh brokers)
  (a) throughput device->device, QoS 0 and QoS 1 (--publishers to --subscribers, 1:1 topics)
  (b) mutual-TLS connection rate (--storm-clients connections, as fast as possible)
and prints the ratios against issue 4's targets. Everything it started is stopped on exit,
failure or Ctrl-C. Exit status 0 even when a target is missed (it is a measurement).
"""
import argparse
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import boto3
from botocore.config import Config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MOSQUITTO = "/usr/sbin/mosquitto"
TARGETS = {"throughput": 0.85, "connect": 0.9, "memory_kb": 4.0}


class Stop(Exception):
    pass


def on_signal(signum, frame):
    raise Stop("signal %d" % signum)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError("process exited early (rc %s)" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("port %d never opened" % port)


def read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            if line.startswith("export "):
                k, _, v = line[len("export "):].strip().partition("=")
                env[k] = v.strip("'\"")
    return env


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def proc_cpu(pid):
    """utime + stime of pid, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_note(row):
    c = row["cpu"]
    return "cpu: sim %.0f%%, broker %.0f%% of %.1f s" % (
        100 * c["sim_s"] / c["wall_s"], 100 * c["broker_s"] / c["wall_s"], c["wall_s"])


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for %d" % pid)


def iot_client(env):
    """boto3 iot client of a server's env.sh (no retries: a failure shows)."""
    return boto3.client("iot", endpoint_url=env["FLEETYARD_ENDPOINT"],
                        region_name=env["AWS_DEFAULT_REGION"],
                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                        config=Config(retries={"max_attempts": 1}))


def throughput_args(ap, rounds_help):
    """The options every MQTT benchmark shares (build dir, rounds, fleetyard-sim throughput,
    --json-out, --keep)."""
    ap.add_argument("--build", default=os.environ.get("FY_BUILD_DIR", os.path.join(ROOT, "build")),
                    help="build dir with fleetyard-server, fleetyard_plugin.so, fleetyard-sim")
    ap.add_argument("--rounds", type=int, default=3, help=rounds_help)
    ap.add_argument("--duration", type=float, default=5, help="seconds per throughput run")
    ap.add_argument("--publishers", type=int, default=10)
    ap.add_argument("--subscribers", type=int, default=10)
    ap.add_argument("--size", type=int, default=64, help="payload bytes")
    ap.add_argument("--json-out", help="write every measurement to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")


def save_json(a, res):
    """Writes the measurements to --json-out, when given."""
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump(res, f, indent=1)


def run_bench(bench, run, a, name):
    """Runs run(bench, a) with the file limit raised and SIGINT/SIGTERM turned into Stop; stops
    everything the bench started and removes its temp dir (kept with --keep or on failure).
    Returns the exit status."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by the brokers
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    rc = 0
    try:
        run(bench, a)
    except (Stop, RuntimeError, subprocess.TimeoutExpired) as e:
        print("%s: %s" % (name, e), file=sys.stderr)
        rc = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        bench.stop_all()
        if a.keep or rc:
            print("logs kept in %s" % bench.dir, file=sys.stderr)
        else:
            shutil.rmtree(bench.dir, ignore_errors=True)
    return rc


class Bench:
    def __init__(self, args):
        self.a = args
        self.dir = tempfile.mkdtemp(prefix="fy-bench-broker-")
        self.procs = []
        self.sim = os.path.join(args.build, "fleetyard-sim")
        self.results = {"bare": {}, "plugin": {}, "params": vars(args)}

    # ---- processes ----
    def spawn(self, argv, log_name, **kw):
        log = open(os.path.join(self.dir, log_name), "ab")
        p = subprocess.Popen(argv, stdout=kw.pop("stdout", log), stderr=log, **kw)
        self.procs.append(p)
        return p

    def stop_all(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in reversed(self.procs):
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []

    def start_server(self):
        data = os.path.join(self.dir, "fy")
        self.server = self.spawn([os.path.join(self.a.build, "fleetyard-server"), "--data-dir",
                                  data, "--http-port", "0", "--mqtt-port", "0",
                                  "--log-level", "warn"], "server.log")
        env_sh = os.path.join(data, "env.sh")
        end = time.time() + 20
        while not os.path.exists(env_sh):
            if self.server.poll() is not None or time.time() > end:
                raise RuntimeError("fleetyard-server did not start; see server.log")
            time.sleep(0.05)
        self.env = read_env(env_sh)
        self.data = data
        self.ports = {"plugin": int(self.env["FLEETYARD_MQTT_PORT"])}
        self.pids = {"plugin": self.broker_child()}

    def broker_child(self):
        out = subprocess.run(["pgrep", "-P", str(self.server.pid), "-x", "mosquitto"],
                             capture_output=True, text=True).stdout.split()
        if len(out) != 1:
            raise RuntimeError("cannot find the server's mosquitto: %r" % out)
        return int(out[0])

    def start_bare(self):
        bare = os.path.join(self.dir, "bare")
        os.mkdir(bare, 0o700)
        port = free_port()
        lines = []
        with open(os.path.join(self.data, "mosquitto.conf")) as f:
            for line in f:
                word = line.split(" ", 1)[0].strip()
                if word.startswith("plugin"):
                    continue
                if word == "allow_anonymous":
                    line = "allow_anonymous true\n"
                elif word == "persistence_location":
                    line = "persistence_location %s/\n" % bare
                elif word == "listener" and line.split()[1] == "0":
                    break  # the server's internal-link socket listener: the server's, not TLS
                elif word == "listener":
                    line = "listener %d 127.0.0.1\n" % port
                lines.append(line)
        conf = os.path.join(bare, "mosquitto.conf")
        with open(conf, "w") as f:
            f.writelines(lines)
        p = self.spawn([MOSQUITTO, "-c", conf], "bare.log")
        wait_port(port, p)
        self.ports["bare"] = port
        self.pids["bare"] = p.pid

    # ---- provisioning ----
    def provision(self):
        iot = iot_client(self.env)
        self.cert_args = []
        arns = []
        for i in range(self.a.certs):
            c = iot.create_keys_and_certificate(setAsActive=True)
            crt, key = (os.path.join(self.dir, "dev%d.%s" % (i, ext)) for ext in ("crt", "key"))
            with open(crt, "w") as f:
                f.write(c["certificatePem"])
            with open(key, "w") as f:
                f.write(c["keyPair"]["PrivateKey"])
            os.chmod(key, 0o600)
            self.cert_args += ["--cert", crt, "--key", key]
            arns.append(c["certificateArn"])
        prefix = arns[0].rsplit(":", 1)[0]  # arn:aws:iot:<region>:<account>
        doc = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iot:Connect", "Resource": prefix + ":client/bench-*"},
            {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
             "Resource": prefix + ":topic/bench/*"},
            {"Effect": "Allow", "Action": "iot:Subscribe",
             "Resource": prefix + ":topicfilter/bench/*"}]}
        iot.create_policy(policyName="bench", policyDocument=json.dumps(doc))
        for arn in arns:
            iot.attach_policy(policyName="bench", target=arn)

    # ---- fleetyard-sim ----
    def sim_argv(self, mode, side, extra):
        return ([self.sim, mode, "--host", "127.0.0.1", "--port", str(self.ports[side]),
                 "--cafile", self.env["FLEETYARD_ROOT_CA"], "--json"] + self.cert_args + extra)

    def run_sim(self, mode, side, extra, timeout=300):
        """Runs fleetyard-sim; the last row gets the CPU seconds the simulator and the broker
        used meanwhile, and the wall time (which of them was the limit)."""
        t0, sim0, broker0 = time.time(), children_cpu(), proc_cpu(self.pids[side])
        p = subprocess.run(self.sim_argv(mode, side, extra), capture_output=True, text=True,
                           timeout=timeout)
        rows = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
        if p.returncode != 0 or not rows:
            raise RuntimeError("fleetyard-sim %s on %s failed (rc %d): %s" %
                               (mode, side, p.returncode, p.stderr.strip()[-2000:]))
        rows[-1]["cpu"] = {"wall_s": time.time() - t0, "sim_s": children_cpu() - sim0,
                           "broker_s": proc_cpu(self.pids[side]) - broker0}
        return rows

    def memory(self, side):
        pid = self.pids[side]
        before = rss_kb(pid)
        p = self.spawn(self.sim_argv("hold", side, ["--clients", str(self.a.hold_clients)]),
                       "sim-hold-%s.log" % side, stdout=subprocess.PIPE, text=True)
        first = json.loads(p.stdout.readline() or "null") or {}
        if first.get("connected") != self.a.hold_clients:
            raise RuntimeError("hold on %s: %r" % (side, first))
        time.sleep(self.a.settle)
        with_conns = rss_kb(pid)
        p.send_signal(signal.SIGTERM)
        last = json.loads(p.stdout.readline() or "null") or {}
        p.wait(30)
        self.procs.remove(p)
        n = self.a.hold_clients
        r = {"clients": n, "rss_before_kb": before, "rss_with_kb": with_conns,
             "kb_per_connection": (with_conns - before) / n,
             "still_connected": last.get("still_connected"),
             "connections_per_s": first.get("connections_per_s")}
        self.results[side]["memory"] = r
        time.sleep(2)  # let the broker drop the connections before the next step
        return r

    def throughput(self, side, qos):
        a = self.a
        row = self.run_sim("throughput", side, [
            "--publishers", str(a.publishers), "--subscribers", str(a.subscribers),
            "--size", str(a.size), "--qos", str(qos), "--duration", str(a.duration),
            "--id-offset", "100000"])[-1]
        self.results[side].setdefault("qos%d" % qos, []).append(row)
        return row

    def storm(self, side):
        rows = self.run_sim("storm", side, ["--clients", str(self.a.storm_clients),
                                            "--concurrency", str(self.a.concurrency)])
        row = dict(rows[0], cpu=rows[-1]["cpu"])
        self.results[side].setdefault("storm", []).append(row)
        time.sleep(1)
        return row


def median(rows, key):
    return statistics.median(r[key] for r in rows) if rows else 0.0


def pair_ratios(b_rows, p_rows, key):
    """plugin/bare of each round: the two sides ran back to back, so machine load that drifts
    between rounds mostly cancels."""
    return [p[key] / b[key] if b[key] else 0.0 for b, p in zip(b_rows, p_rows)]


def line(what, bare, plugin, ratio, target, ok):
    print("%-34s %14s %14s %8s   %-22s %s" % (what, bare, plugin, ratio, target,
                                              "met" if ok else "MISSED"))


def broker_us_per(row, count_key):
    """Broker CPU microseconds per message or connection of one run."""
    n = row[count_key]
    return 1e6 * row["cpu"]["broker_s"] / n if n else 0.0


def report_rate(label, b_rows, p_rows, key, target, lat, count_key):
    """Rate ratio (what the targets are about) and, because other work on a shared machine
    moves rates a lot, the broker's CPU per unit, which it hardly moves: bare/plugin of that is
    the capacity ratio when the broker is the bottleneck."""
    rb, rp = median(b_rows, key), median(p_rows, key)
    ratios = pair_ratios(b_rows, p_rows, key)
    ratio = statistics.median(ratios) if ratios else 0.0
    line(label, "%.0f" % rb, "%.0f" % rp, "%.3f" % ratio, ">= %.2f" % target, ratio >= target)
    print("%-34s %14.0f %14.0f   per round: %s" % (
        "    p50 latency, us", statistics.median(r[lat]["p50_us"] for r in b_rows),
        statistics.median(r[lat]["p50_us"] for r in p_rows),
        " ".join("%.3f" % x for x in ratios)))
    cb = statistics.median(broker_us_per(r, count_key) for r in b_rows)
    cp = statistics.median(broker_us_per(r, count_key) for r in p_rows)
    cap = cb / cp if cp else 0.0
    line("    broker CPU us each; bare/plugin", "%.1f" % cb, "%.1f" % cp, "%.3f" % cap,
         ">= %.2f" % target, cap >= target)
    return {"rate_ratio": ratio, "cpu_ratio": cap, "bare_cpu_us": cb, "plugin_cpu_us": cp}


def report(res, a):
    b, p = res["bare"], res["plugin"]
    print("\n== results (%d rounds, sides alternated; medians, ratio = median of the "
          "per-round ratios; load average %.1f)" % (a.rounds, os.getloadavg()[0]))
    print("%-34s %14s %14s %8s   %-22s" % ("", "bare mosquitto", "with plugin", "ratio",
                                           "target"))
    summary = {}
    for qos in (0, 1):
        k = "qos%d" % qos
        summary[k] = report_rate("(a) QoS %d msgs/s received" % qos, b[k], p[k],
                                 "received_per_s", TARGETS["throughput"], "latency", "received")
    summary["connect"] = report_rate("(b) mutual-TLS connections/s", b["storm"], p["storm"],
                                     "connections_per_s", TARGETS["connect"], "connect_latency",
                                     "connected")
    mb, mp = b["memory"]["kb_per_connection"], p["memory"]["kb_per_connection"]
    summary["memory_added_kb"] = mp - mb
    line("(c) RSS KB per connection (N=%d)" % a.hold_clients, "%.2f" % mb, "%.2f" % mp,
         "+%.2f" % (mp - mb), "plugin adds < %.0f KB" % TARGETS["memory_kb"],
         mp - mb < TARGETS["memory_kb"])
    res["summary"] = summary
    print("\nper run:")
    for side in ("bare", "plugin"):
        for k in ("qos0", "qos1"):
            print("  %-6s %s received/s: %s" % (side, k, ", ".join(
                "%.0f" % r["received_per_s"] for r in res[side][k])))
        print("  %-6s storm connections/s: %s" % (side, ", ".join(
            "%.0f" % r["connections_per_s"] for r in res[side]["storm"])))
        m = res[side]["memory"]
        print("  %-6s RSS %d KB -> %d KB with %d connections" % (
            side, m["rss_before_kb"], m["rss_with_kb"], m["clients"]))


def run(bench, a):
    print("temp dir %s" % bench.dir)
    bench.start_server()
    bench.provision()
    bench.start_bare()
    print("plugin side: port %d pid %d; bare side: port %d pid %d; %d certificates" % (
        bench.ports["plugin"], bench.pids["plugin"], bench.ports["bare"], bench.pids["bare"],
        a.certs))
    for side in ("bare", "plugin"):
        m = bench.memory(side)
        print("(c) %-6s %d connections: RSS %d -> %d KB, %.2f KB per connection" % (
            side, m["clients"], m["rss_before_kb"], m["rss_with_kb"], m["kb_per_connection"]))
    for rnd in range(a.rounds):
        order = ("bare", "plugin") if rnd % 2 == 0 else ("plugin", "bare")
        for qos in (0, 1):
            for side in order:
                r = bench.throughput(side, qos)
                print("(a) round %d %-6s QoS %d: sent %.0f/s received %.0f/s, p50 %.0f us, "
                      "p99 %.0f us; %s" % (rnd + 1, side, qos, r["sent_per_s"],
                                           r["received_per_s"], r["latency"]["p50_us"],
                                           r["latency"]["p99_us"], cpu_note(r)))
        for side in order:
            r = bench.storm(side)
            print("(b) round %d %-6s %d connections: %.0f/s, p50 %.0f us, p99 %.0f us, "
                  "%d refused %d failed; %s" % (rnd + 1, side, r["connected"],
                                                r["connections_per_s"],
                                                r["connect_latency"]["p50_us"],
                                                r["connect_latency"]["p99_us"], r["refused"],
                                                r["failed"], cpu_note(r)))
        sys.stdout.flush()
    report(bench.results, a)
    save_json(a, bench.results)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    throughput_args(ap, "throughput/storm rounds (default 3)")
    ap.add_argument("--storm-clients", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=100, help="handshakes in flight (storm)")
    ap.add_argument("--hold-clients", type=int, default=2000, help="idle connections for (c)")
    ap.add_argument("--settle", type=float, default=2, help="seconds before sampling RSS")
    ap.add_argument("--certs", type=int, default=8, help="device certificates to spread over")
    a = ap.parse_args()
    return run_bench(Bench(a), run, a, "bench_broker")


if __name__ == "__main__":
    sys.exit(main())
