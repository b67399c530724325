#!/bin/bash
# A host that cannot be reached: shown as unreachable with the reason; everything else works.
. "$(dirname "$0")/lib.sh"
write_conf <<CONF
[host demo]
uri = test://$FLEET
[host gone]
uri = qemu+tcp://127.0.0.1:1/system
CONF
start_daemon
sleep 0.5
jcheck "unreachable host is reported with its error" '.hosts[] | select(.name == "gone") | .state == "unreachable" and (.error | length > 0)' hf --json guests
jcheck "the reachable host is served" '[.guests[] | select(.host == "demo")] | length == 5' hf --json guests
expect_exit "snapshot on a guest of the unreachable host fails fast" 1 hf snapshot create gone/w2k8-x
grep_out "error says host unreachable" "unreachable"
check "daemon logs the reconnect backoff" grep -q "retrying in" "$DLOG"
jcheck "snapshot on the good host still works" '.job.state == "succeeded"' hf --json snapshot create w2k8-dc01
daemon_alive "with an unreachable host"
finish
