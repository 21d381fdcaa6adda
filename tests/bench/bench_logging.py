#!/usr/bin/python3
"""Logging benchmark (issue 9): device publish throughput with AWS IoT v2 logging off
(defaultLogLevel DISABLED), at ERROR, and at DEBUG for all events, side by side in one run.

One fleetyard-server (HTTP API + its mosquitto with the plugin) in a temp dir on free ports,
the device certificates and policy of bench_broker.py, and fleetyard-sim throughput runs
(--publishers to --subscribers, 1:1 topics, QoS 0 and QoS 1). Each round runs the three
logging modes in a rotated order (SetV2LoggingOptions, then a pause longer than the plugin's
level cache, FY_LOGS_CACHE_MS); at DEBUG every publish is an event ("Publish-In": a JSON line
on the broker's stdout and a row in the log group AWSIotLogsV2). Prints msgs/s received per
mode, the ratio to "off" (median of the per-round ratios) against the targets
(DEBUG >= 0.80, ERROR >= 0.98), and the broker's CPU microseconds per message, which moves far
less than rates with other load on a shared machine. Exit status 0 even when a target is
missed (it is a measurement); 1 when something could not run.
"""
import argparse
import os
import sqlite3
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_broker import Bench, iot_client, run_bench, save_json, throughput_args  # noqa: E402

MODES = ("off", "ERROR", "DEBUG")
LEVEL = {"off": "DISABLED", "ERROR": "ERROR", "DEBUG": "DEBUG"}
TARGETS = {"ERROR": 0.98, "DEBUG": 0.80}
CACHE_S = 1.3  # > FY_LOGS_CACHE_MS: the plugin re-reads the levels at most once a second


def set_mode(iot, mode):
    iot.set_v2_logging_options(defaultLogLevel=LEVEL[mode], disableAllLogs=False)
    time.sleep(CACHE_S)


def log_rows(bench):
    """Events stored in AWSIotLogsV2 so far (to show DEBUG really logged every publish)."""
    db = sqlite3.connect(os.path.join(bench.data, "fleetyard.db"), timeout=10)
    try:
        return db.execute("SELECT count(*) FROM log_events WHERE grp = 'AWSIotLogsV2'").fetchone()[0]
    finally:
        db.close()


def throughput(bench, qos):
    a = bench.a
    return bench.run_sim("throughput", "plugin", [
        "--publishers", str(a.publishers), "--subscribers", str(a.subscribers),
        "--size", str(a.size), "--qos", str(qos), "--duration", str(a.duration),
        "--id-offset", "100000"])[-1]


def us_per_msg(row):
    return 1e6 * row["cpu"]["broker_s"] / row["received"] if row["received"] else 0.0


def report(res, a):
    print("\n== results (%d rounds, modes rotated; medians; ratio = median of the per-round "
          "ratios to off; load average %.1f)" % (a.rounds, os.getloadavg()[0]))
    print("%-12s %6s %14s %8s %10s %16s %8s" % ("", "mode", "received/s", "ratio", "target",
                                                  "broker CPU us/msg", "ratio"))
    summary = {}
    for qos in (0, 1):
        rows = res["qos%d" % qos]
        off = rows["off"]
        for mode in MODES:
            r = rows[mode]
            rate = statistics.median(x["received_per_s"] for x in r)
            cpu = statistics.median(us_per_msg(x) for x in r)
            ratios = [x["received_per_s"] / o["received_per_s"] for x, o in zip(r, off)
                      if o["received_per_s"]]
            cpu_ratios = [us_per_msg(o) / us_per_msg(x) for x, o in zip(r, off) if us_per_msg(x)]
            ratio = statistics.median(ratios) if ratios else 0.0
            cratio = statistics.median(cpu_ratios) if cpu_ratios else 0.0
            target = TARGETS.get(mode)
            verdict = "" if target is None else ("met" if ratio >= target else "MISSED")
            print("%-12s %6s %14.0f %8.3f %10s %16.1f %8.3f  %s" % (
                "QoS %d" % qos, mode, rate, ratio, ">= %.2f" % target if target else "-", cpu,
                cratio, verdict))
            summary["qos%d_%s" % (qos, mode)] = {"received_per_s": rate, "ratio": ratio,
                                                 "cpu_us_per_msg": cpu, "cpu_ratio": cratio,
                                                 "per_round": ratios}
    res["summary"] = summary
    print("\nper round received/s:")
    for qos in (0, 1):
        for mode in MODES:
            print("  QoS %d %-6s %s" % (qos, mode, ", ".join(
                "%.0f" % x["received_per_s"] for x in res["qos%d" % qos][mode])))
    print("AWSIotLogsV2 events stored during the run: %d" % res["log_events"])


def run(bench, a):
    print("temp dir %s" % bench.dir)
    bench.start_server()
    bench.provision()
    iot = iot_client(bench.env)
    print("server port %s, broker pid %d, %d certificates" % (
        bench.env["FLEETYARD_ENDPOINT"], bench.pids["plugin"], a.certs))
    res = {"qos0": {m: [] for m in MODES}, "qos1": {m: [] for m in MODES}, "params": vars(a)}
    events0 = log_rows(bench)
    for rnd in range(a.rounds):
        order = MODES[rnd % 3:] + MODES[:rnd % 3]
        for qos in (0, 1):
            for mode in order:
                set_mode(iot, mode)
                r = throughput(bench, qos)
                res["qos%d" % qos][mode].append(r)
                print("round %d QoS %d %-6s sent %.0f/s received %.0f/s, p50 %.0f us, "
                      "broker %.1f us/msg (%.0f%% cpu)" % (
                          rnd + 1, qos, mode, r["sent_per_s"], r["received_per_s"],
                          r["latency"]["p50_us"], us_per_msg(r),
                          100 * r["cpu"]["broker_s"] / r["cpu"]["wall_s"]))
                sys.stdout.flush()
    set_mode(iot, "off")
    res["log_events"] = log_rows(bench) - events0
    report(res, a)
    save_json(a, res)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    throughput_args(ap, "rounds of the three modes (default 3)")
    ap.add_argument("--certs", type=int, default=4, help="device certificates to spread over")
    a = ap.parse_args()
    return run_bench(Bench(a), run, a, "bench_logging")


if __name__ == "__main__":
    sys.exit(main())
