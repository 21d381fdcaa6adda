#!/usr/bin/env bash
# Builds every tests/fuzz/fuzz_*.c with clang + libFuzzer and runs each for FY_FUZZ_SECONDS
# seconds on a scratch copy of its seed corpus (tests/fuzz/corpus/<name>/).
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$ROOT/scripts/setup.sh"
secs=${FY_FUZZ_SECONDS:-20}
dir="$ROOT/build-fuzz"
CC=clang FY_BUILD_TYPE=Debug fy_build "$dir" -DFY_FUZZ=ON -DCMAKE_C_COMPILER=clang || exit 1
status=0
for src in "$ROOT"/tests/fuzz/fuzz_*.c; do
    [[ -e $src ]] || continue
    name=$(basename "$src" .c)
    seeds="$ROOT/tests/fuzz/corpus/${name#fuzz_}"
    work=$(mktemp -d)
    [[ -d $seeds ]] && cp -r "$seeds"/. "$work"/
    if "$dir/$name" -max_total_time="$secs" -print_final_stats=0 "$work" >"$work.log" 2>&1; then
        echo "fuzz $name: ok ($(grep -c . "$work.log") log lines, ${secs}s)"
    else
        echo "fuzz $name: FAILED"; tail -40 "$work.log"; status=1
    fi
    rm -rf "$work" "$work.log"
done
exit $status
