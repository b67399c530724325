# assert.sh - check helpers shared by the integration and system tests. Each prints an
# "ok - ..." or "not ok - ..." line and counts it; assert_summary prints "N passed, N failed".
# Needs ASSERT_TMP (a scratch directory) and jq.
PASSED=0
FAILED=0

ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
bad() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }

# check DESC CMD...: CMD must exit 0
check() {
	local d=$1; shift
	if "$@" >"$ASSERT_TMP/out" 2>"$ASSERT_TMP/err"; then ok "$d"; else bad "$d (exit $?)"; sed 's/^/    /' "$ASSERT_TMP/out" "$ASSERT_TMP/err"; fi
}

# expect_exit DESC CODE CMD...: CMD must exit with CODE
expect_exit() {
	local d=$1 want=$2; shift 2
	local rc=0
	"$@" >"$ASSERT_TMP/out" 2>"$ASSERT_TMP/err" || rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$d"; else bad "$d (exit $rc, wanted $want)"; sed 's/^/    /' "$ASSERT_TMP/out" "$ASSERT_TMP/err"; fi
}

# jcheck DESC JQ-EXPR CMD...: CMD's stdout must satisfy the jq expression
jcheck() {
	local d=$1 expr=$2; shift 2
	# -s: jq 1.6 -e exits 0 when its input is empty
	if "$@" >"$ASSERT_TMP/out" 2>"$ASSERT_TMP/err" && [ -s "$ASSERT_TMP/out" ] &&
		jq -e "$expr" "$ASSERT_TMP/out" >/dev/null 2>&1; then ok "$d"
	else bad "$d"; echo "    jq: $expr"; sed -n '1,40s/^/    /p' "$ASSERT_TMP/out" "$ASSERT_TMP/err"; fi
}

# grep_out DESC PATTERN: the last command's stdout+stderr contains PATTERN
grep_out() {
	if grep -q -- "$2" "$ASSERT_TMP/out" "$ASSERT_TMP/err"; then ok "$1"; else bad "$1 (no '$2')"; sed -n '1,20s/^/    /p' "$ASSERT_TMP/out" "$ASSERT_TMP/err"; fi
}

assert_summary() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}
