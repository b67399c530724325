#!/bin/bash
# run-fuzz.sh - build the WS-Man response parser's libFuzzer target with clang and run it for a
# bounded time, seeded with the recorded-shape fixtures. Exit 0 when no crash was found.
# Usage: tests/fuzz/run-fuzz.sh [SECONDS (default 60)] [BUILD_DIR (default /tmp/holdfast-fuzz)]
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SECS=${1:-60}
BUILD=${2:-/tmp/holdfast-fuzz}
command -v clang >/dev/null || { echo "clang missing (apt-get install -y clang)"; exit 77; }
[ -f "$BUILD/build.ninja" ] || CC=clang meson setup "$BUILD" "$SRC" -Dtests=true >/dev/null
ninja -C "$BUILD" tests/fuzz/fuzz_wsman >/dev/null
CORPUS=$BUILD/fuzz-corpus
mkdir -p "$CORPUS"
cp "$SRC"/tests/unit/hyperv/fixtures/*.xml "$CORPUS"/
cd "$BUILD"
exec ./tests/fuzz/fuzz_wsman -max_total_time="$SECS" -max_len=65536 -rss_limit_mb=2048 \
	-print_final_stats=1 "$CORPUS"
