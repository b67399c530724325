#!/bin/bash
# A nightly policy on real QEMU stand-ins: one run snapshots every selected guest, the guest
# whose VSS freeze hangs gets a crash-consistent snapshot with the reason (bounded), retention
# keeps exactly keep-last of the policy's own snapshots, and a snapshot made outside holdfast
# is never pruned.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hf.sh"
tb_init
tb_libvirt_up
tb_image
tb_guest_define w1 w2k8-6003-esu3
tb_guest_define hang w2k8-hang-freeze
tb_guest_start w1 && tb_guest_start hang
tb_wait_agent w1 90 && tb_wait_agent hang 90
W1=$(tb_dom w1) HANG=$(tb_dom hang)
tb_virsh snapshot-create-as "$W1" by-hand --description "made with virsh" >/dev/null
hf_up <<CONF
agent-timeout = 3
[policy night]
schedule = *-*-* 02:30:00
timezone = Europe/Berlin
guests = $TB_PREFIX*
quiesce = try
keep-last = 2
CONF

jcheck "policy listed with its next run (02:30 Berlin = 00:30 or 01:30 UTC)" '.policies[0].name == "night" and (.policies[0].next | test("T0[01]:30:00Z$"))' hf --json policy list
t0=$(tb_now)
jcheck "policy run: every guest done" '.job.state == "succeeded"' hf --json policy run night
tb_measure nightly_run_s="$(tb_since "$t0")" guests=2
jcheck "w1: one application-consistent nightly snapshot" \
	'[.snapshots[] | select(.policy == "night")] | length == 1 and .[0].consistency == "application"' hf --json snapshot list "$W1"
jcheck "hang: crash-consistent, the reason names the agent timeout" \
	'[.snapshots[] | select(.policy == "night")] | length == 1 and .[0].consistency == "crash" and (.[0].consistency_reason | test("agent-timeout"))' \
	hf --json snapshot list "$HANG"
if tb_guest_exec hang 'echo ok >/mnt/data/after && sync' >/dev/null 2>&1; then ok "hang guest thawed after the run"; else bad "hang guest still frozen"; fi
for i in 2 3; do
	sleep 1.2 # manual runs are named after the second they ran in
	jcheck "policy run $i" '.job.state == "succeeded"' hf --json policy run night
done
jcheck "keep-last 2: w1 keeps two nightly snapshots" '[.snapshots[] | select(.policy == "night")] | length == 2' hf --json snapshot list "$W1"
jcheck "keep-last 2: hang keeps two" '[.snapshots[] | select(.policy == "night")] | length == 2' hf --json snapshot list "$HANG"
jcheck "the virsh-made snapshot was not pruned" '.snapshots[] | select(.name == "by-hand") | .owner == "foreign"' hf --json snapshot list "$W1"
check "every prune was logged with its rule" grep -q "keep-last" "$HF_LOG"
jcheck "runs are visible in jobs" '[.jobs[] | select(.kind == "policy.run")] | length == 3' hf --json jobs list
hf_finish
