#!/usr/bin/python3
"""One-time set-up: teach the locally installed AWS CLI (and boto3) fleetyard's jobs extension.

fleetyard accepts `jobExecutionsConfig.maxConcurrentExecutions` on CreateJob (a per-job cap on
executions released to devices and not yet finished). The stock CLI refuses unknown options, so
this script loads the CLI's own installed `iot` model, adds the member to CreateJobRequest (and
to the Job shape, so describe-job shows it), and registers the result with

    aws configure add-model --service-model file://<generated> --service-name iot

which writes ~/.aws/models/iot/<version>/service-2.json. Nothing is copied from the model into
the repository: the extension is generated from whatever model is installed, at run time.
Afterwards `aws iot create-job ... --job-executions-config "maxConcurrentExecutions=5"` works.

Usage: scripts/aws-add-jobs-model.py [--aws /usr/bin/aws] [--dry-run]
Undo:  rm -r ~/.aws/models/iot
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

MEMBER = "jobExecutionsConfig"
SHAPE = "JobExecutionsConfig"
LIMIT_SHAPE = "MaxConcurrentExecutions"
LIMIT_MAX = 100000  # FY_JOBS_CONCURRENT_MAX in jobs/jobs.h


def cli_model_path(aws):
    """The iot service-2.json the CLI itself loads (its vendored botocore's data directory)."""
    with open(aws) as f:
        interpreter = f.readline()[2:].strip() or sys.executable
    code = ("import os\ntry:\n import awscli.botocore as b\nexcept ImportError:\n import botocore as b\n"
            "print(os.path.join(os.path.dirname(b.__file__), 'data', 'iot'))")
    data = subprocess.run([interpreter, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip()
    version = sorted(os.listdir(data))[-1]
    return os.path.join(data, version, "service-2.json")


def extend(model):
    shapes = model["shapes"]
    shapes[LIMIT_SHAPE] = {"type": "integer", "min": 1, "max": LIMIT_MAX}
    shapes[SHAPE] = {
        "type": "structure",
        "members": {"maxConcurrentExecutions": {
            "shape": LIMIT_SHAPE,
            "documentation": "<p>fleetyard: at most this many of the job's executions are "
                             "released to devices and not yet finished at any time.</p>"}},
        "documentation": "<p>fleetyard extension: per-job concurrency.</p>",
    }
    member = {"shape": SHAPE, "documentation": "<p>fleetyard: per-job concurrency limit.</p>"}
    shapes["CreateJobRequest"]["members"][MEMBER] = member
    shapes["Job"]["members"][MEMBER] = dict(member)
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--aws", default="/usr/bin/aws", help="the AWS CLI to extend")
    ap.add_argument("--dry-run", action="store_true", help="print the generated model's path only")
    args = ap.parse_args()
    src = cli_model_path(args.aws)
    with open(src) as f:
        model = extend(json.load(f))
    fd, path = tempfile.mkstemp(prefix="fleetyard-iot-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(model, f)
    try:
        if args.dry_run:
            print(path)
            return 0
        subprocess.run([args.aws, "configure", "add-model", "--service-model", "file://" + path,
                        "--service-name", "iot"], check=True)
        print(f"extended the iot model of {args.aws} (from {src}) with {MEMBER}")
        return 0
    finally:
        if not args.dry_run:
            os.unlink(path)


if __name__ == "__main__":
    sys.exit(main())
