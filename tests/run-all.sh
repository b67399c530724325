#!/bin/bash
# run-all.sh - the README's test command: install what is missing, build twice (plain and
# ASan+UBSan), run every suite (unit, integration, system), the unit suite again under
# valgrind, and print one closing line "N passed, N failed, N skipped" over all of them.
set -uo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=${HF_TEST_OUT:-$SRC/build-tests}
cd "$SRC"

bash tests/setup-deps.sh all || { echo "run-all: dependency installation failed"; echo "0 passed, 1 failed"; exit 1; }
mkdir -p "$OUT"
TOTAL_P=0 TOTAL_F=0 TOTAL_S=0
FAILED_SUITES=()

count() { # name builddir: add the results of the last meson test run in builddir
	local log p f s
	# meson writes testlog-WRAPPER.json when --wrapper is given: take the newest log
	log=$(ls -t "$2"/meson-logs/testlog*.json 2>/dev/null | head -n 1)
	[ -n "$log" ] && [ -f "$log" ] || { TOTAL_F=$((TOTAL_F + 1)); FAILED_SUITES+=("$1 (no test log)"); return; }
	p=$(jq -s '[.[] | select(.result == "OK" or .result == "EXPECTEDFAIL")] | length' "$log")
	s=$(jq -s '[.[] | select(.result == "SKIP")] | length' "$log")
	f=$(jq -s '[.[] | select(.result != "OK" and .result != "EXPECTEDFAIL" and .result != "SKIP")] | length' "$log")
	TOTAL_P=$((TOTAL_P + p)) TOTAL_F=$((TOTAL_F + f)) TOTAL_S=$((TOTAL_S + s))
	if [ "$f" -ne 0 ]; then
		FAILED_SUITES+=("$1: $(jq -rs '[.[] | select(.result != "OK" and .result != "EXPECTEDFAIL" and .result != "SKIP") | .name] | join(", ")' "$log")")
	fi
	echo "== $1: $p passed, $f failed, $s skipped"
}

build() { # dir meson-args...
	local dir=$1; shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" -Dwerror=true "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; return 1; }
	fi
	ninja -C "$dir" >"$dir.build.log" 2>&1 || { tail -n 80 "$dir.build.log"; return 1; }
}

suite() { # name builddir meson-test-args...
	local name=$1 dir=$2; shift 2
	echo "== running $name"
	rm -f "$dir"/meson-logs/testlog*.json
	meson test -C "$dir" --print-errorlogs "$@" 2>&1 | tail -n 40
	count "$name" "$dir"
}

T0=$(date +%s)
if build "$OUT/plain"; then
	suite unit "$OUT/plain" --suite unit
	suite integration "$OUT/plain" --suite integration --num-processes 2
	T1=$(date +%s)
	suite system "$OUT/plain" --suite system --num-processes 1
	echo "== system suite wall time: $(($(date +%s) - T1)) s"
	suite valgrind-unit "$OUT/plain" --suite unit \
		--wrapper "valgrind --error-exitcode=66 --leak-check=full --errors-for-leak-kinds=definite --suppressions=/usr/share/glib-2.0/valgrind/glib.supp --suppressions=$SRC/tests/valgrind.supp -q"
	HF_DAEMON_WRAPPER="valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 --suppressions=/usr/share/glib-2.0/valgrind/glib.supp --suppressions=$SRC/tests/valgrind.supp -q" \
		suite valgrind-daemon "$OUT/plain" --num-processes 2 it-inventory it-snapshots it-protocol
else
	TOTAL_F=$((TOTAL_F + 1)); FAILED_SUITES+=("plain build")
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$SRC/tests/lsan.supp:print_suppressions=0
if build "$OUT/asan" -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug; then
	suite asan-unit "$OUT/asan" --suite unit
	suite asan-integration "$OUT/asan" --suite integration --num-processes 2
else
	TOTAL_F=$((TOTAL_F + 1)); FAILED_SUITES+=("asan build")
fi
echo "== running fuzz (libFuzzer, WS-Man response parser, 60 s)"
rc=0
bash tests/fuzz/run-fuzz.sh 60 "$OUT/fuzz" >"$OUT/fuzz.log" 2>&1 || rc=$?
tail -n 5 "$OUT/fuzz.log"
case $rc in
0) TOTAL_P=$((TOTAL_P + 1)); echo "== fuzz: 1 passed" ;;
77) TOTAL_S=$((TOTAL_S + 1)); echo "== fuzz: skipped (no clang)" ;;
*) TOTAL_F=$((TOTAL_F + 1)); FAILED_SUITES+=("fuzz (exit $rc, see $OUT/fuzz.log)") ;;
esac
echo "== wall time: $(($(date +%s) - T0)) s"
for s in "${FAILED_SUITES[@]}"; do echo "FAILED: $s"; done
echo "$TOTAL_P passed, $TOTAL_F failed, $TOTAL_S skipped"
[ "$TOTAL_F" -eq 0 ]
