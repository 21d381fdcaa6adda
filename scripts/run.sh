#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build, and run fleetyard with its defaults
# (data in ./data, SQLite, HTTP on 127.0.0.1:8080). Extra arguments go to fleetyard-server
# (see --help). In another shell: `. data/env.sh` and use the AWS CLI with
# --endpoint-url "$FLEETYARD_ENDPOINT".
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/scripts/setup.sh"
fy_install_missing
fy_build "$ROOT/build"
exec "$ROOT/build/fleetyard-server" --data-dir "${FY_DATA_DIR:-./data}" "$@"
