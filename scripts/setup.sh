#!/usr/bin/env bash
# Installs the Debian 12 packages fleetyard needs (only those missing) and builds it into
# build/ (or $FY_BUILD_DIR). Sourced or run by scripts/run.sh and scripts/test.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PACKAGES=(
    build-essential cmake pkg-config clang llvm
    libmicrohttpd-dev libjansson-dev libsqlite3-dev libssl-dev
    libmosquitto-dev mosquitto-dev mosquitto mosquitto-clients
    awscli python3 python3-boto3 python3-botocore python3-paho-mqtt python3-pytest
    python3-requests sqlite3 openssl
)

fy_install_missing() {
    local missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    echo "setup: installing ${missing[*]}"
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

# The AWS IoT Device SDK v2 for JavaScript, for tests/integration/test_sdk.py: Node.js and npm
# from Debian when there is no node yet, then the locked SDK into tests/sdk/node_modules (its
# native part ships prebuilt for linux-x64-glibc; nothing is compiled).
fy_install_sdk() {
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        local sudo=""
        [[ $(id -u) -ne 0 ]] && sudo=sudo
        echo "setup: installing nodejs npm"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
            nodejs npm >/dev/null
    fi
    [[ -d "$ROOT/tests/sdk/node_modules/aws-iot-device-sdk-v2" ]] && return 0
    echo "setup: installing the AWS IoT Device SDK v2 (npm) into tests/sdk"
    (cd "$ROOT/tests/sdk" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

# fy_build DIR [cmake options...]
fy_build() {
    local dir=$1
    shift
    cmake -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE="${FY_BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null ||
        return 1
    local log rc
    log=$(mktemp)
    cmake --build "$dir" -j"$(nproc)" >"$log" 2>&1 && rc=0 || rc=$?
    grep -Ev '^\[ *[0-9]+%\]|^gmake|Built target|Scanning dependencies|Consolidate compiler' "$log" || true
    rm -f "$log"
    return $rc
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    fy_install_missing
    fy_build "${FY_BUILD_DIR:-$ROOT/build}"
fi
