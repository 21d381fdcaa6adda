#!/usr/bin/python3
"""Jobs benchmark (issue 6): one job to --devices simulated devices (default 10,000) with
jobExecutionsConfig.maxConcurrentExecutions --max (default 500), driven by fleetyard-sim.

Starts fleetyard-server in a temp dir on free ports, provisions the devices with
`fleetyard-sim provision --csr --group bench-jobs`, connects them all with
`fleetyard-sim devices --jobs --job-work W --job-jitter J --event-log F` (each device:
notify-next -> start-next -> W seconds (+-J) of work -> update SUCCEEDED), then creates the job on the group (a
signed request: the SDKs do not know jobExecutionsConfig) and polls DescribeJob every
--poll seconds until every execution SUCCEEDED. Reports:
  - time from CreateJob until all SUCCEEDED, next to the devices' own floor
    (devices / max x W: the rollout cannot be faster than the devices work);
  - notify-next latency: the first wave from CreateJob's answer, and after release: the i-th
    notify-next beyond the first --max against the i-th update sent (a device's update releases
    the next execution in the same transaction);
  - proof that the limit held, three ways: the devices' event log (executions notified and not
    yet finished, never above --max), DescribeJob's numberOfInProgressThings at every poll, and
    ListJobExecutionsForJob's startedAt/lastUpdatedAt intervals (largest overlap).
Everything it started is stopped on exit, failure or Ctrl-C.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_broker import ROOT, iot_client  # noqa: E402
from bench_shadow import run_bench  # noqa: E402

TARGET_P99_MS = 50.0


def percentile(values, q):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


class Bench:
    def __init__(self, fleet, a):
        self.f = fleet
        self.a = a
        self.iot = None

    def client(self):
        return iot_client(self.f.env)

    def create_job(self, group_arn):
        e = self.f.env
        body = json.dumps({"targets": [group_arn], "document": json.dumps({"op": "bench"}),
                           "jobExecutionsConfig": {"maxConcurrentExecutions": self.a.max}})
        creds = botocore.credentials.Credentials(e["AWS_ACCESS_KEY_ID"],
                                                 e["AWS_SECRET_ACCESS_KEY"])
        url = e["FLEETYARD_ENDPOINT"] + "/jobs/bench"
        req = botocore.awsrequest.AWSRequest(method="PUT", url=url, data=body.encode())
        botocore.auth.SigV4Auth(creds, "iot", e["AWS_DEFAULT_REGION"]).add_auth(req)
        r = requests.put(url, headers=dict(req.headers), data=body.encode(), timeout=120)
        if r.status_code != 200:
            raise RuntimeError("CreateJob: %d %s" % (r.status_code, r.text))

    def start_devices(self):
        self.events = os.path.join(self.f.dir, "events.log")
        argv = self.f.device_argv("devices", "--jobs", "--job-work", str(self.a.work),
                                  "--job-jitter", str(self.a.jitter),
                                  "--duration", "0", "--event-log", self.events,
                                  "--concurrency", "200")
        argv.remove("--quiet")
        self.sim = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True, env=self.f.sim_env())
        self.f.procs.append(self.sim)
        self.progress = []
        threading.Thread(target=lambda: [self.progress.append(line) for line in self.sim.stderr],
                         daemon=True).start()
        end = time.time() + self.a.devices / 50 + 60
        while time.time() < end:
            last = self.progress[-1] if self.progress else ""
            if (" %d/%d connected" % (self.a.devices, self.a.devices)) in last:
                return
            if self.sim.poll() is not None:
                raise RuntimeError("fleetyard-sim devices exited: %s" % "".join(self.progress))
            time.sleep(0.5)
        raise RuntimeError("devices did not all connect: %s" % (self.progress[-1:],))

    def poll_job(self, t0):
        polls, most = [], 0
        end = time.time() + self.a.timeout
        while time.time() < end:
            d = self.iot.describe_job(jobId="bench")["job"]["jobProcessDetails"]
            polls.append((time.time() - t0, d))
            most = max(most, d["numberOfInProgressThings"])
            if d["numberOfSucceededThings"] == self.a.devices:
                return time.time() - t0, polls, most
            time.sleep(self.a.poll)
        raise RuntimeError("not all SUCCEEDED after %.0f s: %r" % (self.a.timeout, polls[-1]))

    def stop_devices(self):
        self.sim.send_signal(signal.SIGTERM)
        out, _ = self.sim.communicate(timeout=60)
        self.f.procs.remove(self.sim)
        rows = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
        return rows[-1] if rows else {}

    def executions(self):
        rows = []
        for page in self.iot.get_paginator("list_job_executions_for_job").paginate(jobId="bench"):
            rows += [r["jobExecutionSummary"] for r in page["executionSummaries"]]
        return rows


def ts(v):
    return v.timestamp() if hasattr(v, "timestamp") else float(v)


def max_overlap(intervals):
    points = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals],
                    key=lambda p: (p[0], p[1]))
    cur = most = 0
    for _, d in points:
        cur += d
        most = max(most, cur)
    return most


def analyze_events(path, t_create, m):
    ev = {"notify": [], "send": [], "start": [], "done": []}
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) >= 2 and p[1] in ev:
                ev[p[1]].append(int(p[0]) / 1e9)
    for v in ev.values():
        v.sort()
    first = [(t - t_create) * 1000 for t in ev["notify"][:m]]
    after = [(n - s) * 1000 for n, s in zip(ev["notify"][m:], ev["send"])]
    # executions a device holds: notified and not yet finished (update sent), at every event
    marks = sorted([(t, 1) for t in ev["notify"]] + [(t, -1) for t in ev["send"]],
                   key=lambda p: (p[0], p[1]))
    cur = held = 0
    for _, d in marks:
        cur += d
        held = max(held, cur)
    return ev, first, after, held


def update_rtt(path):
    sent, out = {}, []
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) >= 3 and p[1] == "send":
                sent[p[2]] = int(p[0])
            elif len(p) >= 3 and p[1] == "done" and p[2] in sent:
                out.append((int(p[0]) - sent.pop(p[2])) / 1e6)
    return out


def run(bench, a):
    f = bench.f
    f.start_server()
    secs = f.provision(a.devices, "--group", "bench-jobs", "--quiet")
    print("provisioned %d devices in %.1f s" % (a.devices, secs), flush=True)
    bench.iot = bench.client()
    t = time.time()
    bench.start_devices()
    print("connected %d devices in %.1f s" % (a.devices, time.time() - t), flush=True)
    group = bench.iot.describe_thing_group(thingGroupName="bench-jobs")["thingGroupArn"]
    t_create0 = time.time()
    bench.create_job(group)
    t_create = time.time()
    total, polls, most_polled = bench.poll_job(t_create0)
    summary = bench.stop_devices()
    execs = bench.executions()
    intervals = [(ts(e["startedAt"]), ts(e["lastUpdatedAt"])) for e in execs if e.get("startedAt")]
    ev, first, after, held = analyze_events(bench.events, t_create, a.max)
    upd = update_rtt(bench.events)
    floor = a.devices / a.max * a.work
    print("one job, %d devices, maxConcurrentExecutions %d, %.2f s (+-%.0f%%) of work per device"
          % (a.devices, a.max, a.work, 100 * a.jitter))
    print("  CreateJob answered in %.2f s" % (t_create - t_create0))
    print("  all SUCCEEDED %.1f s after CreateJob (devices' floor %.1f s: %.2fx)"
          % (total, floor, total / floor if floor else float("nan")))
    print("  notify-next, first wave (%d): p50 %.1f ms, p99 %.1f ms after CreateJob's answer"
          % (len(first), percentile(first, 0.5), percentile(first, 0.99)))
    p99 = percentile(after, 0.99)
    print("  notify-next after release (%d): p50 %.2f ms, p99 %.2f ms, max %.2f ms (target p99 "
          "< %.0f ms: %s)" % (len(after), percentile(after, 0.5), p99,
                             max(after) if after else float("nan"), TARGET_P99_MS,
                             "met" if p99 < TARGET_P99_MS else "NOT met"))
    print("  a device's update round trip (send -> update/accepted; the release happens in the "
          "same transaction): p50 %.2f ms, p99 %.2f ms" % (percentile(upd, 0.5),
                                                         percentile(upd, 0.99)))
    print("  limit %d: devices held at most %d executions (notified, update not yet sent); "
          "DescribeJob numberOfInProgressThings at most %d over %d polls; largest overlap of "
          "ListJobExecutionsForJob startedAt..lastUpdatedAt: %d of %d executions"
          % (a.max, held, most_polled, len(polls), max_overlap(intervals), len(execs)))
    print("  devices: %s" % json.dumps({k: summary.get(k) for k in (
        "connected", "notify_next", "jobs_started", "succeeded", "job_errors", "reconnects")}))
    print("  load average: %.2f %.2f %.2f" % os.getloadavg())
    if a.json_out:
        with open(a.json_out, "w") as out:
            json.dump({"params": vars(a), "total_s": total, "floor_s": floor,
                       "first_wave_ms": first, "after_release_ms": after, "held_max": held,
                       "in_progress_max": most_polled, "overlap_max": max_overlap(intervals),
                       "polls": polls, "devices": summary}, out, default=str)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.environ.get("FY_BUILD_DIR", os.path.join(ROOT, "build")))
    ap.add_argument("--devices", type=int, default=10000)
    ap.add_argument("--max", type=int, default=500, help="maxConcurrentExecutions")
    ap.add_argument("--work", type=float, default=1.0, help="seconds each device works")
    ap.add_argument("--jitter", type=float, default=0.5,
                    help="work time uniform in work * [1-j, 1+j] (0: devices in lockstep)")
    ap.add_argument("--poll", type=float, default=0.25, help="DescribeJob poll interval")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--json-out")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs, event log)")
    a = ap.parse_args()
    return run_bench(a, "fy-bench-jobs-", "bench_jobs", lambda fleet, a: run(Bench(fleet, a), a))


if __name__ == "__main__":
    sys.exit(main())
