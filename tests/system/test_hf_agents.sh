#!/bin/bash
# Guest agents that misbehave, through holdfast: a VSS freeze that hangs (timeout, the guest is
# thawed, the snapshot recorded as crash-consistent with the reason), a silent agent and a
# missing agent (clear errors in bounded time), and the real Linux qemu-ga (not Windows:
# filesystem-consistent).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hf.sh"
tb_init
tb_libvirt_up
tb_image
tb_guest_define hang w2k8-hang-freeze
tb_guest_define mute agent=silent
tb_guest_define linux agent=qemu-ga
tb_guest_start hang && tb_guest_start mute && tb_guest_start linux
tb_wait_agent hang 90 && tb_wait_agent linux 90
tb_wait_console mute "STANDIN: up" 90 || true
hf_up
HANG=$(tb_dom hang) MUTE=$(tb_dom mute) LINUX=$(tb_dom linux)

t0=$(tb_now)
jcheck "hanging freeze with quiesce=try: crash-consistent, reason recorded" \
	'.job.state == "succeeded" and .job.result.snapshot.consistency == "crash" and (.job.result.snapshot.consistency_reason | test("quiesce failed")) and (.job.result.snapshot.consistency_reason | test("agent-timeout"))' \
	hf --json snapshot create "$HANG" --name try1 --quiesce try --timeout 3
el=$(tb_since "$t0")
tb_measure hang_try_s="$el"
awk -v e="$el" 'BEGIN { exit !(e < 25) }' && ok "bounded: ${el}s with a 3 s agent bound" || bad "took ${el}s"
check "the thaw was sent after the timeout" grep -q "guest-fsfreeze-thaw" "$(tb_console hang)"
if tb_guest_exec hang 'echo thawed >/mnt/data/t && sync' >/dev/null 2>&1; then ok "guest filesystem is writable again (thawed)"; else bad "guest still frozen"; fi
jcheck "the list records it as crash with the reason" '.snapshots[] | select(.name == "try1") | .consistency == "crash" and (.consistency_reason | length > 10)' hf --json snapshot list "$HANG"

expect_exit "hanging freeze with quiesce=yes fails the job" 1 hf snapshot create "$HANG" --name yes1 --quiesce yes --timeout 3
grep_out "names the agent timeout" "agent-timeout"
jcheck "no snapshot was taken for quiesce=yes" '[.snapshots[].name] | index("yes1") == null' hf --json snapshot list "$HANG"

t0=$(tb_now)
expect_exit "silent agent, quiesce=yes: fails" 1 hf snapshot create "$MUTE" --name m1 --quiesce yes --timeout 3
el=$(tb_since "$t0")
tb_measure silent_agent_s="$el"
awk -v e="$el" 'BEGIN { exit !(e < 25) }' && ok "silent agent bounded: ${el}s" || bad "silent agent took ${el}s"
grep_out "error names the agent" "agent"

NONE=$(tb_dom none)
tb_guest_define none agent=none
tb_guest_start none
tb_wait_console none "STANDIN: up" 90 || true
for _ in $(seq 1 50); do hf --json guests | jq -e --arg n "$NONE" '[.guests[].name] | index($n) != null' >/dev/null && break; sleep 0.1; done
t0=$(tb_now)
jcheck "no agent, quiesce=try: crash-consistent with agent-unavailable" \
	'.job.result.snapshot.consistency == "crash" and (.job.result.snapshot.consistency_reason | test("agent-unavailable"))' \
	hf --json snapshot create "$NONE" --name n1 --quiesce try
el=$(tb_since "$t0")
awk -v e="$el" 'BEGIN { exit !(e < 10) }' && ok "missing agent answered fast: ${el}s" || bad "missing agent took ${el}s"

jcheck "real Linux qemu-ga: filesystem-consistent, not VSS" \
	'.job.result.snapshot.consistency == "filesystem" and (.job.result.snapshot.consistency_reason | test("no VSS"))' \
	hf --json snapshot create "$LINUX" --name l1 --quiesce yes
jcheck "the Linux guest is not listed as a 2008 guest" "[.guests[].name] | index(\"$LINUX\") == null" hf --json guests
hf_finish
