#!/usr/bin/env bash
# Quick start, command 2: the same set-up, then every test:
#   1. release build: C unit tests (ctest) and integration tests (pytest, real server + clients)
#   2. ASan/UBSan build: the same two suites again
#   3. libFuzzer targets (clang), each for FY_FUZZ_SECONDS (default 20)
#   4. source gates: banned functions, clang-format
# Exit status 0 only when every stage passed. FY_QUICK=1 runs stage 1 only.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/scripts/setup.sh"
set +e
cd "$ROOT"
failed=()
stage() { echo; echo "=== $*"; }

fy_install_missing || exit 1
fy_install_sdk || exit 1
export FY_REQUIRE_SDK=1 # test_sdk.py fails rather than skips when the SDK is missing

run_suites() { # run_suites BUILD_DIR LABEL
    local dir=$1 label=$2
    stage "$label: unit tests (ctest)"
    (cd "$dir" && ctest --output-on-failure -j2) || failed+=("$label ctest")
    stage "$label: integration tests (pytest)"
    FY_BUILD_DIR="$dir" /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration
    local rc=$?
    [[ $rc -eq 0 ]] || failed+=("$label pytest")
}

stage "build (release)"
if fy_build "$ROOT/build"; then run_suites "$ROOT/build" release; else failed+=("release build"); fi

if [[ -z "${FY_QUICK:-}" ]]; then
    stage "build (ASan/UBSan)"
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1
    if FY_BUILD_TYPE=Debug fy_build "$ROOT/build-asan" -DFY_SANITIZE=ON; then
        run_suites "$ROOT/build-asan" asan
    else
        failed+=("asan build")
    fi

    stage "fuzz (libFuzzer, ${FY_FUZZ_SECONDS:-20}s per target)"
    "$ROOT/tests/fuzz/run.sh" || failed+=("fuzz")

    stage "source gates"
    "$ROOT/tests/gates.sh" || failed+=("gates")
fi

echo
if [[ ${#failed[@]} -eq 0 ]]; then
    echo "ALL STAGES PASSED"
    exit 0
fi
echo "FAILED STAGES: ${failed[*]}"
exit 1
