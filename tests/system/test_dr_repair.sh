#!/bin/bash
# DR chains repair themselves (issue 6): a checkpoint deleted behind holdfast's back, QEMU
# stopped without saving its dirty bitmaps (kill -9), a guest destroyed and started again, a
# snapshot reverted, a second disk attached, a disk resized, the max-chain cap (per disk), a
# disk removed, copies of a paused and of a shut-off guest. After each event the next copy is
# correct (a full where the bitmap cannot be trusted, reported with the reason) and its
# flattened chain equals the guest's disk captured while frozen, byte for byte; a two-disk
# point restores to a new domain with both disks equal. Drives holdfastd through the CLI.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hf.sh"
tb_init
tb_libvirt_up
tb_image
tb_guest_define d1 w2k8-6003-esu3
tb_guest_start d1
tb_wait_agent d1 120
STORE=$TB_DIR/drstore
hf_up <<CONF
[drstore main]
path = $STORE
max-chain = 2
CONF
W=$(tb_dom d1)
UUID=$(tb_virsh domuuid "$W" | tr -d '[:space:]')
GD=$STORE/$UUID
VDB=$TB_DIR/d1-vdb.qcow2
COPY=$TB_DIR/copy.json # the newest copy's reply

disk_of() { tb_virsh domblklist "$1" --details | awk -v t="$2" '$3 == t {print $4}'; }
# the guest frozen through its agent, every disk captured (ref-N-TARGET.qcow2), a copy without
# holdfast's own quiesce (the thaw rewrites the ext4 superblock), thawed
frozen_copy() {
	local t rc
	tb_virsh domfsfreeze "$W" >/dev/null || return 1
	for t in vda vdb; do
		[ -n "$(disk_of "$W" $t)" ] || continue
		qemu-img convert -U -f qcow2 -O qcow2 "$(disk_of "$W" $t)" "$TB_DIR/ref-$1-$t.qcow2"
	done
	hf --json dr copy "$W" --quiesce no >"$COPY" 2>&1
	rc=$?
	tb_virsh domfsthaw "$W" >/dev/null
	return $rc
}
# every disk of point $2 (its chain, read by qemu-img) equals reference $1
same_as_ref() {
	local f t
	for f in "$TB_DIR/ref-$1-"*.qcow2; do
		t=${f##*-}; t=${t%.qcow2}
		qemu-img compare -q -f qcow2 -F qcow2 "$GD/$2/$t.qcow2" "$f" || { echo "disk $t differs"; return 1; }
	done
}
res() { jq -r ".job.result.$1" "$COPY"; }
write() { tb_guest_exec d1 "dd if=/dev/urandom of=/mnt/data/$1 bs=64k count=${2:-16} 2>/dev/null && sync"; }
qemu_pid() { cat "/run/libvirt/qemu/$W.pid"; }
wait_off() {
	local i
	for i in $(seq 1 300); do
		[ "$(tb_virsh domstate "$W")" = "shut off" ] && return 0
		sleep 0.1
	done
	return 1
}
restart() { tb_guest_start d1 && tb_wait_agent d1 120; }
checkpoints() { local l; l=$(tb_virsh checkpoint-list "$W" --name) || { echo "virsh failed"; return; }; grep -c . <<<"$l" || true; }

check "write data" write a
jcheck "first copy: full (bytes copied counted)" '.job.state == "succeeded" and .job.result.kind == "full" and .job.result.processed > 0' hf --json dr copy "$W"

# 1. checkpoint deleted behind holdfast's back
CK=$(tb_virsh checkpoint-list "$W" --name | head -1)
check "virsh checkpoint-delete $CK (outside holdfast)" tb_virsh checkpoint-delete "$W" "$CK"
check "write data" write b
check "copy after the checkpoint vanished (guest frozen around it)" frozen_copy 1
jcheck "... a full, reported: the checkpoint is gone" \
	".job.result.kind == \"full\" and (.job.result.full_reason | test(\"checkpoint '$CK' .* is gone\")) and .job.result.full_disks == [{\"target\":\"vda\",\"reason\":.job.result.full_reason}]" \
	cat "$COPY"
P=$(res point)
check "... equal to the guest's disk" same_as_ref 1 "$P"

# 2. destroy + start: QEMU gets SIGTERM and saves its bitmaps: an incremental stays correct
check "write data" write c
check "virsh destroy (power off, no guest shutdown) and start again" sh -c "virsh -q -c '$TB_URI' destroy '$W' >/dev/null"
check "... guest back" restart
check "write data" write d
check "copy after destroy + start" frozen_copy 2
jcheck "... incremental from the point before (the bitmap survived the destroy)" \
	".job.result.kind == \"incremental\" and .job.result.parent == \"$P\" and .job.result.full_disks == []" cat "$COPY"
P=$(res point)
check "... its chain equals the guest's disk (no write lost across the destroy)" same_as_ref 2 "$P"

# 3. QEMU killed (-9): the bitmap was never written; libvirt still lists the checkpoint.
# a) copied while shut off: libvirt checks bitmaps of running guests only, so the backup-begin
# of the incremental fails ("checkpoint inconsistent") and the same job takes a full
check "write data" write e
check "kill -9 QEMU of the guest" kill -9 "$(qemu_pid)"
check "... the guest is off (crashed)" wait_off
CK=$(tb_virsh checkpoint-list "$W" --name | tail -1)
check "libvirt still lists checkpoint $CK" test "$CK" = "hf-dr-main-$P"
jcheck "copy of the crashed, shut-off guest: a full in the same job, reported; crash-consistent (crashed)" \
	".job.state == \"succeeded\" and .job.result.kind == \"full\" and .job.result.started_paused and (.job.result.full_reason | test(\"checkpoint '$CK' is unusable: .*checkpoint inconsistent\")) and .job.result.consistency == \"crash\" and (.job.result.consistency_reason | test(\"crashed\"))" \
	hf --json dr copy "$W"
P=$(jq -r .job.result.point "$ASSERT_TMP/out")
check "... equal to the shut-off disk" qemu-img compare -q -f qcow2 -F qcow2 "$GD/$P/vda.qcow2" "$(disk_of "$W" vda)"
check "... the broken checkpoint dropped, the new one kept" test "$(tb_virsh checkpoint-list "$W" --name | tr -d ' \n')" = "hf-dr-main-$P"
# b) copied running again: detected before the copy
check "... guest back" restart
check "write data" write e2
check "kill -9 QEMU again" kill -9 "$(qemu_pid)"
check "... the guest is off (crashed)" wait_off
check "... guest back" restart
CK=$(tb_virsh checkpoint-list "$W" --name | tail -1)
check "libvirt still lists checkpoint $CK" test "$CK" = "hf-dr-main-$P"
check "write data" write f
check "copy after the unclean stop" frozen_copy 3
jcheck "... a full, reported: the bitmap is unusable; holdfast dropped the guest's hf-dr-* checkpoints" \
	".job.result.kind == \"full\" and (.job.result.full_reason | test(\"dirty bitmap of checkpoint '$CK' .* unusable\")) and (.job.result.repairs | any(test(\"dropped\")))" \
	cat "$COPY"
P=$(res point)
check "... equal to the guest's disk" same_as_ref 3 "$P"
[ "$(checkpoints)" = 1 ] && ok "one checkpoint left (the new point's)" || bad "checkpoints: $(tb_virsh checkpoint-list "$W" --name | tr '\n' ' ')"

# 4. snapshot + revert. Measured on libvirt 9.0 + QEMU 7.2: an internal snapshot can be
# taken while DR checkpoints exist, but QEMU refuses to apply one while the image has dirty
# bitmaps ("Device has active dirty bitmaps"), and a running guest is left shut off. holdfast's
# snapshot revert therefore drops its DR checkpoints first; the next copy is a full.
check "holdfast snapshot while a DR checkpoint exists" hf snapshot create "$W" --name s1
check "write data after the snapshot" write g 32
expect_exit "plain virsh snapshot-revert is refused by QEMU while the DR bitmap exists" 1 \
	tb_virsh snapshot-revert "$W" s1
grep_out "... with QEMU's reason" "Device has active dirty bitmaps"
check "... and the guest was left shut off" wait_off
check "... guest back" restart
check "holdfast snapshot revert s1 works (drops holdfast's DR checkpoints first)" hf snapshot revert "$W" s1
check "... no checkpoint left" test "$(checkpoints)" = 0
check "... the reverted guest's agent answers" tb_wait_agent d1 120
OUT=" $(tb_guest_exec d1 'ls /mnt/data | tr "\n" " "') "
case $OUT in
*" g "*) bad "the reverted guest still has the file written after s1:$OUT" ;;
*" f "*) ok "the reverted guest has f (before s1) and lacks g (written after s1)" ;;
*) bad "no listing of the reverted guest's data disk:$OUT" ;;
esac
check "copy after the revert" frozen_copy 4
jcheck "... a full, reported" '.job.result.kind == "full" and (.job.result.full_reason | test("gone"))' cat "$COPY"
P=$(res point)
check "... equal to the reverted guest's disk" same_as_ref 4 "$P"

# 5. a second disk attached: a full of that disk only, the first stays incremental
qemu-img create -q -f qcow2 "$VDB" 32M && chmod 644 "$VDB"
check "attach a second qcow2 disk (persistent)" tb_virsh attach-disk "$W" "$VDB" vdb --subdriver qcow2 --persistent
check "write 4 MiB to it in the guest, more data on vda" \
	tb_guest_exec d1 'for i in $(seq 1 50); do [ -b /dev/vdb ] && break; sleep 0.1; done; dd if=/dev/urandom of=/dev/vdb bs=1M count=4 seek=3 conv=fsync 2>/dev/null && dd if=/dev/urandom of=/mnt/data/h bs=64k count=8 2>/dev/null && sync'
check "copy after the disk was added" frozen_copy 5
jcheck "... an incremental of vda, a full of vdb (disk added), per-disk parents in the manifest" \
	".job.result.kind == \"incremental\" and .job.result.parent == \"$P\" and (.job.result.full_disks | length == 1 and .[0].target == \"vdb\" and (.[0].reason | test(\"added\")))" \
	cat "$COPY"
P5=$(res point)
jcheck "... manifest: vda backed by $P, vdb a full image" \
	"[.disks[] | [.target, .parent]] == [[\"vda\",\"$P\"],[\"vdb\",null]]" cat "$GD/$P5/manifest.json"
check "... both disks equal the guest's" same_as_ref 5 "$P5"
check "write to both disks" \
	tb_guest_exec d1 'dd if=/dev/urandom of=/dev/vdb bs=64k count=4 seek=7 conv=fsync 2>/dev/null && dd if=/dev/urandom of=/mnt/data/i bs=64k count=4 2>/dev/null && sync'
check "next copy" frozen_copy 6
jcheck "... both disks incremental" ".job.result.kind == \"incremental\" and .job.result.full_disks == [] and .job.result.parent == \"$P5\"" cat "$COPY"
P6=$(res point)
check "... both disks equal the guest's" same_as_ref 6 "$P6"
jcheck "dr verify of the two-disk point" ".job.state == \"succeeded\"" hf --json dr verify "$W" "$P6"
R=$(tb_dom r1)
jcheck "dr restore of the two-disk point to a new domain" \
	".job.state == \"succeeded\" and .job.result.name == \"$R\"" hf --json dr restore "$W" "$P6" --as "$R"
for t in vda vdb; do
	check "restored $t equals the guest's $t at that point" \
		qemu-img compare -q -f qcow2 -F qcow2 "$(disk_of "$R" $t)" "$TB_DIR/ref-6-$t.qcow2"
done

# 6. a resized disk: a full of that disk; vdb's chain then reaches max-chain 2 on the next copy
check "grow vda to 80 MiB" tb_virsh blockresize "$W" vda 80M
check "copy after the resize" frozen_copy 7
jcheck "... vda full (resized), vdb incremental" \
	'.job.result.kind == "incremental" and (.job.result.full_disks | length == 1 and .[0].target == "vda" and (.[0].reason | test("resized")))' \
	cat "$COPY"
P7=$(res point)
check "... both disks equal the guest's" same_as_ref 7 "$P7"
check "write data" write j
check "next copy" frozen_copy 8
jcheck "... vdb full: chain reached max-chain 2 (vdb had 2 incrementals); vda incremental" \
	'.job.result.kind == "incremental" and .job.result.full_disks == [{"target":"vdb","reason":"chain reached max-chain 2"}]' \
	cat "$COPY"
P8=$(res point)
check "... both disks equal the guest's" same_as_ref 8 "$P8"
jcheck "dr verify of the whole store" '.job.state == "succeeded"' hf --json dr verify "$W"

# 7. a disk removed: the next point simply does not have it
check "detach vdb (live and persistent)" tb_virsh detach-disk "$W" vdb --persistent
gone_vdb() { local i; for i in $(seq 1 100); do [ -z "$(disk_of "$W" vdb)" ] && return 0; sleep 0.1; done; return 1; }
check "... gone from the guest" gone_vdb
check "write data" write k
check "copy after the disk was removed" frozen_copy 9
jcheck "... an incremental of vda alone" \
	".job.result.kind == \"incremental\" and .job.result.parent == \"$P8\" and .job.result.full_disks == []" cat "$COPY"
P9=$(res point)
jcheck "... the point has vda only" '[.disks[].target] == ["vda"]' cat "$GD/$P9/manifest.json"
check "... equal to the guest's disk" same_as_ref 9 "$P9"

# 8. copies of a paused and of a shut-off guest
check "pause the guest" tb_virsh suspend "$W"
jcheck "copy of the paused guest: crash-consistent, no freeze tried" \
	'.job.state == "succeeded" and .job.result.consistency == "crash" and (.job.result.consistency_reason | test("paused"))' \
	hf --json dr copy "$W"
check "resume" tb_virsh resume "$W"
tb_guest_exec d1 'sync; poweroff -f' >/dev/null 2>&1 || true
check "the guest powered itself off" wait_off
STATE=$(tb_virsh domstate "$W" --reason)
[ "$STATE" = "shut off (shutdown)" ] && ok "libvirt: $STATE" || bad "libvirt says '$STATE'"
jcheck "copy of the shut-off guest (--full): started paused, application-consistent (it shut down cleanly)" \
	'.job.state == "succeeded" and .job.result.kind == "full" and .job.result.started_paused and .job.result.consistency == "application" and (.job.result.consistency_reason | test("shut down cleanly"))' \
	hf --json dr copy "$W" --full
P=$(jq -r .job.result.point "$ASSERT_TMP/out")
check "... the guest is shut off again" test "$(tb_virsh domstate "$W")" = "shut off"
check "... point $P equals the shut-off disk" qemu-img compare -q -f qcow2 -F qcow2 "$GD/$P/vda.qcow2" "$(disk_of "$W" vda)"
STATE=$(tb_virsh domstate "$W" --reason)
[ "$STATE" = "shut off (destroyed)" ] && ok "libvirt now says: $STATE (holdfast powered it off)" || bad "libvirt says '$STATE'"
jcheck "copy again, still shut off: nothing written since, so still application-consistent" \
	".job.state == \"succeeded\" and .job.result.kind == \"incremental\" and .job.result.processed == 0 and .job.result.consistency == \"application\" and (.job.result.consistency_reason | test(\"unchanged since point $P\"))" \
	hf --json dr copy "$W"
check "start, write data, destroy (power off without a shutdown)" \
	sh -c "virsh -q -c '$TB_URI' start '$W' >/dev/null"
check "... agent" tb_wait_agent d1 120
check "... write" write l
check "... destroy" tb_virsh destroy "$W"
jcheck "copy of the destroyed guest: crash-consistent, the reason named" \
	'.job.state == "succeeded" and .job.result.processed > 0 and .job.result.consistency == "crash" and (.job.result.consistency_reason | test("destroyed"))' \
	hf --json dr copy "$W"
check "... the guest is shut off again" test "$(tb_virsh domstate "$W")" = "shut off"
bitmaps() { qemu-img info --output=json "$(disk_of "$W" vda)" | jq -r '[."format-specific".data.bitmaps[]?.name] | join(" ")'; }
cks_are_bitmaps() { local b; b=$(bitmaps) && [ -n "$b" ] && [ "$(tb_virsh checkpoint-list "$W" --name | tr -d ' \n')" = "$b" ]; }
check "no bitmap left behind in the shut-off guest's image: only the newest checkpoint's" cks_are_bitmaps
# libvirt 9.0 refuses a snapshot of a shut-off guest that has checkpoints ("cannot perform
# block operations while checkpoint exists"): holdfast drops its own DR checkpoints first (the
# guest started paused for it, powered off again) and says the next DR copy is a full. A
# revert of the shut-off guest to the running snapshot s1 does the same.
expect_exit "plain virsh snapshot of the shut-off guest with a DR checkpoint: refused by libvirt" 1 \
	tb_virsh snapshot-create-as "$W" off0
grep_out "... with libvirt's reason" "cannot perform block operations while checkpoint exists"
jcheck "holdfast snapshot of it works, warning that the next DR copy is a full" \
	'.job.state == "succeeded" and (.job.result.warning | test("next DR copy of this guest is a full"))' \
	hf --json snapshot create "$W" --name off1
check "... the guest is shut off again" test "$(tb_virsh domstate "$W")" = "shut off"
jcheck "the copy after it: a full, reported" '.job.state == "succeeded" and .job.result.kind == "full" and (.job.result.full_reason | test("gone"))' \
	hf --json dr copy "$W"
check "holdfast snapshot revert s1 of the shut-off guest works" hf snapshot revert "$W" s1
none_left() {
	local i
	[ "$(checkpoints)" = 0 ] && i=$(qemu-img info -U --output=json "$(disk_of "$W" vda)") &&
		[ -z "$(jq -r '[."format-specific".data.bitmaps[]?.name] | join(" ")' <<<"$i")" ]
}
check "... no checkpoint, no bitmap left" none_left
check "... the guest runs (s1 was taken running)" test "$(tb_virsh domstate "$W")" = running
jcheck "the next copy: a full, reported" '.job.state == "succeeded" and .job.result.kind == "full" and (.job.result.full_reason | test("gone"))' \
	hf --json dr copy "$W"
jcheck "dr list: every point verified" '(.points | length) > 0 and all(.points[]; .verified)' hf --json dr list "$W"
hf_finish
