#!/usr/bin/env bash
# Benchmark: CreateThing/DescribeThing with FY_BENCH_THINGS (default 100000) things next to the
# HTTP floor, on a fresh server in a temp dir. Not part of the test suite.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$ROOT/scripts/setup.sh"
fy_install_missing
fy_build "$ROOT/build"
dir=$(mktemp -d)
"$ROOT/build/fleetyard-server" --data-dir "$dir" --http-port 0 --mqtt-port 0 --no-broker --log-level warn \
    >"$dir/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do [[ -s $dir/env.sh ]] && break; sleep 0.1; done
. "$dir/env.sh"
port=${FLEETYARD_ENDPOINT##*:}
"$ROOT/build/bench_http" 127.0.0.1 "$port" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" \
    "$AWS_DEFAULT_REGION" "$pid" "${FY_BENCH_THINGS:-100000}" "${FY_BENCH_THREADS:-4}"
for b in "$ROOT"/build/bench_*; do
    [[ $(basename "$b") == bench_http ]] && continue
    echo; echo "== $(basename "$b")"; "$b"
done
# MQTT: mosquitto with the fleetyard plugin vs the same TLS listener without it (issue 4);
# needs fleetyard-sim (built when libmosquitto-dev is installed). Runs on its own too.
if [[ -x $ROOT/build/fleetyard-sim ]]; then
    echo; echo "== bench_broker"
    /usr/bin/python3 "$ROOT/tests/bench/bench_broker.py" --build "$ROOT/build"
fi
# Device publish throughput with AWS IoT v2 logging off, at ERROR and at DEBUG for all events
# (issue 9); needs fleetyard-sim. Runs on its own too.
if [[ -x $ROOT/build/fleetyard-sim ]]; then
    echo; echo "== bench_logging"
    /usr/bin/python3 "$ROOT/tests/bench/bench_logging.py" --build "$ROOT/build"
fi
# Shadow update round trip vs a plain MQTT echo round trip, 1,000 simulated devices (issue 5),
# and one job to simulated devices with maxConcurrentExecutions 500 (issue 6); both need
# fleetyard-sim and run on their own too.
if [[ -x $ROOT/build/fleetyard-sim ]]; then
    echo; echo "== bench_shadow"
    /usr/bin/python3 "$ROOT/tests/bench/bench_shadow.py" --build "$ROOT/build"
fi
if [[ -x $ROOT/build/fleetyard-sim ]]; then
    echo; echo "== bench_jobs"
    /usr/bin/python3 "$ROOT/tests/bench/bench_jobs.py" --build "$ROOT/build" --devices "${FY_BENCH_JOB_DEVICES:-10000}"
fi
# Fleet indexing at 100,000 things (issue 7): SearchIndex latencies next to full scans.
echo; echo "== bench_index"
FY_BUILD_DIR="$ROOT/build" /usr/bin/python3 -m pytest -q -s -p no:cacheprovider \
    "$ROOT/tests/bench/bench_index.py"
