#!/bin/bash
# Start, stop, restart: --check-config, one daemon per socket, SIGTERM exits 0, job journal.
. "$(dirname "$0")/lib.sh"
default_conf
check "--check-config OK" "$HOLDFASTD" --check-config --config "$CONF"
grep_out "says OK" "OK"
printf '[daemon]\nlog-level = chatty\n' >"$T/bad.conf"
expect_exit "--check-config on a bad file exits 1" 1 "$HOLDFASTD" --check-config --config "$T/bad.conf"
grep_out "names file and line" "$T/bad.conf:2:"
expect_exit "start with a bad config exits 2" 2 "$HOLDFASTD" --foreground --config "$T/bad.conf"
expect_exit "missing config file is named" 2 "$HOLDFASTD" --foreground --config "$T/none.conf"
grep_out "missing file named" "$T/none.conf"

start_daemon
expect_exit "a second daemon on the same socket is refused" 1 "$HOLDFASTD" --foreground --config "$CONF"
grep_out "says another holdfastd listens" "another holdfastd"
daemon_alive "first daemon unaffected"
check "make a snapshot" hf snapshot create w2k8-dc01 --name keep-me
check "stop with SIGTERM exits 0" stop_daemon
check "socket removed on exit" test ! -e "$SOCK"

start_daemon
jcheck "job journal survives a restart" '[.jobs[] | select(.kind == "snapshot.create")] | length == 1 and .[0].state == "succeeded"' hf --json jobs list
jcheck "new job ids continue after the journal" '.job.id >= 2' hf --json snapshot create w2k8-dc01 --name after-restart
# kill -9 leaves a stale socket: the next start must take it over
kill -9 "$DPID"; wait "$DPID" 2>/dev/null || true; DPID=
check "stale socket left by kill -9" test -S "$SOCK"
start_daemon
daemon_alive "restart after kill -9 reuses the stale socket"

# Background mode: holdfastd returns once it is ready.
stop_daemon
check "daemonizes and returns when ready" "$HOLDFASTD" --config "$CONF"
check "socket answers at once" hf version
DPID=$(pgrep -f "holdfastd --config $CONF" | head -1)
kill -TERM "$DPID"; for _ in $(seq 1 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$DPID" 2>/dev/null; then bad "background daemon did not stop"; else ok "background daemon stops on SIGTERM"; fi; DPID=
finish
