# lib.sh - integration test helpers: the built holdfastd + holdfast on a temp socket, on
# libvirt's test driver with configs/demo-fleet.xml. Sourced by it_*.sh (run by meson test).
set -euo pipefail

: "${HF_BUILD:?HF_BUILD must point at the meson build directory}"
: "${HF_SRC:?HF_SRC must point at the source tree}"
HOLDFASTD=$HF_BUILD/daemon/holdfastd
HOLDFAST=$HF_BUILD/cli/holdfast
FLEET=$HF_SRC/configs/demo-fleet.xml
# HF_DAEMON_WRAPPER, e.g. "valgrind --error-exitcode=99 --leak-check=full", runs the daemon under it.
HF_DAEMON_WRAPPER=${HF_DAEMON_WRAPPER:-}

T=$(mktemp -d /tmp/hfit.XXXXXX)
chmod 755 "$T"
SOCK=$T/holdfastd.sock
CONF=$T/holdfastd.conf
DLOG=$T/daemon.log
DPID=
PASSED=0
FAILED=0

cleanup() {
	local rc=$?
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		kill -TERM "$DPID" 2>/dev/null || true
		wait "$DPID" 2>/dev/null || true
	fi
	if [ "$FAILED" -ne 0 ] || [ "$rc" -ne 0 ]; then
		echo "---- daemon log ($DLOG) ----"
		tail -n 60 "$DLOG" 2>/dev/null || true
	fi
	rm -rf "$T"
}
trap cleanup EXIT

write_conf() { # extra lines for [daemon] on stdin are appended after the defaults
	{
		echo "[daemon]"
		echo "socket = $SOCK"
		echo "state-dir = $T/state"
		echo "log-level = debug"
		echo "shutdown-timeout = 10"
		cat
	} >"$CONF"
}

default_conf() {
	write_conf <<CONF
[host demo]
uri = test://$FLEET
CONF
}

start_daemon() {
	[ -f "$CONF" ] || default_conf
	$HF_DAEMON_WRAPPER "$HOLDFASTD" --foreground --config "$CONF" >>"$DLOG" 2>&1 &
	DPID=$!
	for _ in $(seq 1 200); do
		if "$HOLDFAST" --socket "$SOCK" version >/dev/null 2>&1; then
			wait_connected
			return 0
		fi
		kill -0 "$DPID" 2>/dev/null || { echo "holdfastd died at start"; cat "$DLOG"; exit 1; }
		sleep 0.05
	done
	echo "holdfastd did not answer on $SOCK"
	exit 1
}

wait_connected() { # until no host is still "connecting"
	for _ in $(seq 1 200); do
		hf --json guests --all | jq -e '[.hosts[] | select(.state == "connecting")] | length == 0' >/dev/null && return 0
		sleep 0.05
	done
}

stop_daemon() {
	kill -TERM "$DPID"
	local rc=0
	wait "$DPID" || rc=$?
	DPID=
	return $rc
}

hf() { "$HOLDFAST" --socket "$SOCK" "$@"; }

ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
bad() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }

# check DESC CMD...: CMD must exit 0
check() {
	local d=$1; shift
	if "$@" >"$T/out" 2>"$T/err"; then ok "$d"; else bad "$d (exit $?)"; sed 's/^/    /' "$T/out" "$T/err"; fi
}

# expect_exit DESC CODE CMD...: CMD must exit with CODE
expect_exit() {
	local d=$1 want=$2; shift 2
	local rc=0
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$d"; else bad "$d (exit $rc, wanted $want)"; sed 's/^/    /' "$T/out" "$T/err"; fi
}

# jcheck DESC JQ-EXPR CMD...: CMD's stdout must satisfy the jq expression
jcheck() {
	local d=$1 expr=$2; shift 2
	if "$@" >"$T/out" 2>"$T/err" && jq -e "$expr" "$T/out" >/dev/null 2>&1; then ok "$d"
	else bad "$d"; echo "    jq: $expr"; sed 's/^/    /' "$T/out" "$T/err" | head -40; fi
}

# grep_out DESC PATTERN: the last command's stdout+stderr contains PATTERN
grep_out() {
	if grep -q -- "$2" "$T/out" "$T/err"; then ok "$1"; else bad "$1 (no '$2')"; sed 's/^/    /' "$T/out" "$T/err" | head -20; fi
}

daemon_alive() {
	if kill -0 "$DPID" 2>/dev/null && hf version >/dev/null 2>&1; then ok "daemon still serving: $*"; else bad "daemon died: $*"; fi
}

# The daemon must exit 0 on SIGTERM and its log must hold no sanitizer or valgrind report.
check_daemon_exit() {
	if [ -n "$DPID" ]; then
		local rc=0
		kill -TERM "$DPID" 2>/dev/null || true
		wait "$DPID" || rc=$?
		DPID=
		if [ "$rc" -eq 0 ]; then ok "daemon exits 0 on SIGTERM"; else bad "daemon exited $rc on SIGTERM (sanitizer or valgrind report?)"; fi
	fi
	if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|definitely lost: [1-9]|Invalid (read|write)" "$DLOG" 2>/dev/null; then
		bad "sanitizer/valgrind report in the daemon log"
		grep -E -A 30 "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|definitely lost|Invalid (read|write)" "$DLOG" | head -60
	fi
}

finish() {
	check_daemon_exit
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}
