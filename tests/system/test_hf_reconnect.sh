#!/bin/bash
# libvirtd killed and restarted while holdfastd runs: holdfastd reports the host unreachable,
# keeps serving, reconnects with backoff and carries on (a snapshot after the restart works).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hf.sh"
tb_init
tb_libvirt_up
tb_image
tb_guest_up w1 w2k8-6003-noesu
hf_up
W1=$(tb_dom w1)
jcheck "snapshot before the restart" '.job.state == "succeeded"' hf --json snapshot create "$W1" --name pre
tb_libvirtd_kill
for _ in $(seq 1 100); do hf --json guests | jq -e '.hosts[0].state == "unreachable"' >/dev/null 2>&1 && break; sleep 0.1; done
jcheck "host shown unreachable with the reason" '.hosts[0].state == "unreachable" and (.hosts[0].error | length > 0)' hf --json guests
jcheck "its guests show host-unreachable" ".guests[] | select(.name == \"$W1\") | .state == \"host-unreachable\"" hf --json guests
expect_exit "a snapshot meanwhile fails fast with host-unreachable" 1 hf snapshot create "$W1" --name during
grep_out "says unreachable" "unreachable"
check "holdfastd still answers" hf version
tb_libvirtd_restart
t0=$(tb_now)
for _ in $(seq 1 300); do hf --json guests | jq -e '.hosts[0].state == "connected"' >/dev/null 2>&1 && break; sleep 0.1; done
el=$(tb_since "$t0")
tb_measure reconnect_s="$el"
jcheck "reconnected after libvirtd came back (${el}s)" '.hosts[0].state == "connected"' hf --json guests
jcheck "guest running again in the inventory" ".guests[] | select(.name == \"$W1\") | .state == \"running\"" hf --json guests
jcheck "snapshot after the restart works" '.job.state == "succeeded"' hf --json snapshot create "$W1" --name post
jcheck "both snapshots listed" '[.snapshots[].name] == ["pre","post"]' hf --json snapshot list "$W1"
hf_finish
