#!/bin/bash
# holdfast on real libvirtd + QEMU: inventory of running stand-ins, then snapshot create, list,
# revert and delete on a running guest, with data written before and after through the agent
# (revert must bring the data back), and a quiesced snapshot whose freeze and thaw show in the
# agent's log. Drives holdfastd only through the holdfast CLI.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hf.sh"
tb_init
tb_libvirt_up
tb_image
tb_guest_define w1 w2k8-6003-esu3
tb_guest_define w2 w2k8-6002-unpatched
tb_guest_start w1 && tb_guest_start w2
tb_wait_agent w1 90 && tb_wait_agent w2 90
hf_up
W1=$(tb_dom w1) W2=$(tb_dom w2)

jcheck "inventory lists both running stand-ins as 2008 guests" \
	"[.guests[] | select(.name == \"$W1\" or .name == \"$W2\") | [.state, .os.win2008]] == [[\"running\",true],[\"running\",true]]" hf --json guests
jcheck "guest show: a qcow2 disk with its real size" '.guest.disks[0].format == "qcow2" and .guest.disks[0].capacity > 0' hf --json guest show "$W1"

check "write data before the snapshot" hf_guest_write w1 before-snapshot state.txt
jcheck "quiesced snapshot is application-consistent (VSS through the agent)" \
	'.job.state == "succeeded" and .job.result.snapshot.consistency == "application" and .job.result.snapshot.owner == "holdfast"' \
	hf --json snapshot create "$W1" --name s1 --quiesce yes
check "agent log shows the freeze" grep -q "guest-fsfreeze-freeze" "$(tb_console w1)"
check "agent log shows the thaw" grep -q "guest-fsfreeze-thaw" "$(tb_console w1)"
check "guest writable after the snapshot (thawed)" hf_guest_write w1 after-snapshot state.txt
OUT=$(hf_guest_read w1 state.txt)
[ "$OUT" = after-snapshot ] && ok "data after the snapshot is in the guest" || bad "data after the snapshot: got '$OUT'"

jcheck "snapshot list shows s1, holdfast-owned, internal with memory" \
	'.snapshots | map(select(.name == "s1"))[0] | .owner == "holdfast" and .kind == "internal" and .memory' hf --json snapshot list "$W1"
jcheck "revert to s1, thawed after (s1 was taken while frozen)" '.job.state == "succeeded" and .job.result.state == "running" and (.job.result.thaw | test("^thawed"))' hf --json snapshot revert "$W1" s1
tb_wait_agent w1 60 >/dev/null 2>&1 || true
OUT=$(hf_guest_read w1 state.txt)
[ "$OUT" = before-snapshot ] && ok "revert brought the data back (read through the agent)" || bad "after revert the guest has '$OUT', wanted 'before-snapshot'"

jcheck "crash-consistent snapshot without quiesce" '.job.result.snapshot.consistency == "crash"' hf --json snapshot create "$W2" --name plain
jcheck "default-named snapshot" '.job.result.snapshot.name | test("^hf-[0-9]{8}T[0-9]{6}Z$")' hf --json snapshot create "$W2"

# a snapshot made behind holdfast's back is foreign and protected
tb_virsh snapshot-create-as "$W2" by-hand --description "made with virsh" >/dev/null
jcheck "snapshot made with virsh is listed as foreign" '.snapshots[] | select(.name == "by-hand") | .owner == "foreign"' hf --json snapshot list "$W2"
expect_exit "holdfast refuses to delete it" 1 hf snapshot delete "$W2" by-hand
check "it is still there" tb_virsh snapshot-info "$W2" by-hand
jcheck "delete holdfast's own snapshot" '.job.state == "succeeded"' hf --json snapshot delete "$W1" s1
jcheck "it is gone" '[.snapshots[].name] | index("s1") == null' hf --json snapshot list "$W1"

# revert of a snapshot libvirt 9.0 cannot revert: refused clearly
tb_virsh snapshot-create-as "$W2" ext-disk --disk-only --atomic >/dev/null 2>&1 && {
	expect_exit "external snapshot revert is refused" 1 hf snapshot revert "$W2" ext-disk
	grep_out "the refusal says why" "external"
}

# inventory follows libvirt events
tb_virsh destroy "$W2" >/dev/null
if hf_wait_state w2 shutoff; then ok "inventory follows a guest stopped outside holdfast"; else bad "inventory did not see the stop"; fi
hf_finish
