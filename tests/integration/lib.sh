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
ASSERT_TMP=$T
# shellcheck source=../assert.sh
. "$HF_SRC/tests/assert.sh"
SOCK=$T/holdfastd.sock
CONF=$T/holdfastd.conf
DLOG=$T/daemon.log
DPID=

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
	assert_summary
}
