#!/bin/bash
# DR copies of a libvirt guest into a DR store (push mode, checkpoints): a full copy, data
# written in the guest, an incremental (small), more data, another incremental; dr verify; the
# rebased chain of every point compared byte for byte (qemu-img compare) with the guest's disk
# as captured right after that copy; a copy in progress and a leftover .partial never listed;
# one flipped byte -> dr verify names the file and the point. Drives holdfastd through the CLI.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hf.sh"
tb_init
tb_libvirt_up
tb_image
tb_guest_define d1 w2k8-6003-esu3
tb_guest_start d1
tb_wait_agent d1 90
STORE=$TB_DIR/drstore
hf_up <<CONF
[drstore main]
path = $STORE
CONF
W=$(tb_dom d1)
UUID=$(tb_virsh domuuid "$W" | tr -d '[:space:]')
GD=$STORE/$UUID

# the guest's disk as it is now (the reference for the point about to be taken)
capture() { qemu-img convert -U -f qcow2 -O qcow2 "$(tb_disk d1)" "$TB_DIR/ref-$1.qcow2"; }
# a file of the data disk as restored from a point (its chain flattened, read with debugfs)
restored_file() {
	qemu-img convert -f qcow2 -O raw "$GD/$1/vda.qcow2" "$TB_DIR/restored.raw" &&
		debugfs -R "cat /$2" "$TB_DIR/restored.raw" 2>/dev/null
}
# An exact reference: the guest frozen through its agent (no writes), the disk captured, a copy
# without holdfast's own quiesce taken, thawed. (A copy quiesced by holdfast differs from the
# live disk after the thaw by the ext4 superblock, which the thaw rewrites.)
frozen_copy() {
	tb_virsh domfsfreeze "$W" >/dev/null && capture "$1" &&
		hf --json dr copy "$W" --quiesce no >"$TB_DIR/copy$1.json" 2>&1
	local rc=$?
	tb_virsh domfsthaw "$W" >/dev/null
	return $rc
}
point_of() { jq -r '.job.result.point' "$ASSERT_TMP/out"; }
result() { jq -r ".job.result.$1" "$ASSERT_TMP/out"; }

expect_exit "dr list of a guest without points: not found" 4 hf dr list "$W"

check "write data before the full copy" hf_guest_write d1 first a.txt
expect_exit "build check of the guest (cached for the copy's manifest)" 0 hf check "$W" --fail-on none
T0=$(tb_now)
jcheck "full DR copy: a verified full point, quiesced through the agent" \
	'.job.state == "succeeded" and .job.result.kind == "full" and .job.result.consistency == "application"' \
	hf --json dr copy "$W"
FULL_S=$(tb_since "$T0")
P1=$(point_of); FULL_STORED=$(result stored)
jcheck "the manifest records the guest's build-check verdict at copy time" \
	'.check.verdict.product == "server2008-sp2-6003" and .check.verdict.facts["esu-licence-active"].value == "year 3" and (.check.age_s | type) == "number"' \
	cat "$GD/$P1/manifest.json"
OUT=$(restored_file "$P1" a.txt)
[ "$OUT" = first ] && ok "restored from the full point: the data written before it" || bad "full point has a.txt='$OUT'"
check "the full point is published (manifest + image), no .partial left" \
	sh -c "test -s '$GD/$P1/manifest.json' && test -s '$GD/$P1/vda.qcow2' && ! ls -d '$GD'/*.partial 2>/dev/null"

check "write 4 MiB of random data in the guest" \
	tb_guest_exec d1 'dd if=/dev/urandom of=/mnt/data/blob1 bs=1M count=4 2>/dev/null && echo second >/mnt/data/a.txt && sync'
check "incremental copy from the full point (guest frozen around it)" frozen_copy 2
cp "$TB_DIR/copy2.json" "$ASSERT_TMP/out"
jcheck "... incremental, parent the full point, crash-consistent as asked" \
	".job.state == \"succeeded\" and .job.result.kind == \"incremental\" and .job.result.parent == \"$P1\" and .job.result.consistency == \"crash\"" \
	cat "$TB_DIR/copy2.json"
P2=$(point_of); INC_STORED=$(result stored)
if [ "$INC_STORED" -lt $((4 * 1048576 * 3)) ]; then ok "incremental stored $INC_STORED bytes for 4 MiB written (small)"
else bad "incremental stored $INC_STORED bytes for 4 MiB written"; fi
check "the incremental's backing file is its parent's image (relative)" \
	sh -c "qemu-img info --output=json '$GD/$P2/vda.qcow2' | jq -e '.\"backing-filename\" == \"../$P1/vda.qcow2\"'"

check "write more data" \
	tb_guest_exec d1 'dd if=/dev/urandom of=/mnt/data/blob2 bs=64k count=16 2>/dev/null && echo third >/mnt/data/a.txt && sync'
# a copy in progress is never listed: poll dr list while the third copy runs
frozen_copy 3 &
CP=$!
SEEN=0
while kill -0 "$CP" 2>/dev/null; do
	n=$(hf --json dr list "$W" | jq '.points | length')
	[ "$n" -le 2 ] || { P=$(hf --json dr list "$W" | jq -r '.points[-1].point'); [ -f "$GD/$P/manifest.json" ] || SEEN=1; }
	sleep 0.05
done
wait "$CP"
[ "$SEEN" -eq 0 ] && ok "no incomplete point was ever listed during a copy" || bad "a point was listed before it was complete"
jq -e '.job.state == "succeeded" and .job.result.kind == "incremental"' "$TB_DIR/copy3.json" >/dev/null &&
	ok "second incremental" || { bad "second incremental"; cat "$TB_DIR/copy3.json"; }
P3=$(jq -r '.job.result.point' "$TB_DIR/copy3.json")

jcheck "dr list: full, incremental, incremental, all verified, consistency recorded" \
	"[.points[] | [.point, .kind, .verified, .consistency]] == [[\"$P1\",\"full\",true,\"application\"],[\"$P2\",\"incremental\",true,\"crash\"],[\"$P3\",\"incremental\",true,\"crash\"]] and all(.points[]; .stored > 0)" \
	hf --json dr list "$W"
jcheck "dr list without a guest lists the same points" '.points | length == 3' hf --json dr list
check "libvirt keeps only the newest checkpoint" \
	sh -c "[ \"\$(virsh -q -c '$TB_URI' checkpoint-list '$W' --name | grep -c .)\" = 1 ] && virsh -q -c '$TB_URI' checkpoint-list '$W' --name | grep -qx 'hf-dr-main-$P3'"
jcheck "dr verify: every point and chain" \
	".job.state == \"succeeded\" and .job.result.ok and (.job.result.verified | sort) == ([\"$P1\",\"$P2\",\"$P3\"] | sort)" \
	hf --json dr verify "$W"
check "point 2 ($P2): the rebased chain equals the guest's disk at that copy, byte for byte" \
	qemu-img compare -f qcow2 -F qcow2 "$GD/$P2/vda.qcow2" "$TB_DIR/ref-2.qcow2"
check "point 3 ($P3): the rebased chain equals the guest's disk at that copy, byte for byte" \
	qemu-img compare -f qcow2 -F qcow2 "$GD/$P3/vda.qcow2" "$TB_DIR/ref-3.qcow2"
for x in "$P1:first" "$P2:second" "$P3:third"; do
	OUT=$(restored_file "${x%%:*}" a.txt)
	[ "$OUT" = "${x#*:}" ] && ok "point ${x%%:*} restores a.txt = ${x#*:}" || bad "point ${x%%:*}: a.txt='$OUT'"
done

# a leftover of a copy that died is never listed and goes with the next copy
mkdir -p "$GD/20200101T000000Z.partial" && cp "$GD/$P3/manifest.json" "$GD/20200101T000000Z.partial/"
jcheck "a leftover .partial is not listed" '.points | length == 3' hf --json dr list "$W"
jcheck "--full forces a full copy" '.job.result.kind == "full" and .job.result.full_reason == "full copy requested (--full)"' \
	hf --json dr copy "$W" --full
P4=$(point_of)
check "the next copy discarded the leftover" test ! -e "$GD/20200101T000000Z.partial"

# one flipped byte in a stored image: verify fails, naming the file and the point
IMG=$GD/$P2/vda.qcow2
OFF=$(( $(stat -c %s "$IMG") / 2 ))
flip() { python3 -c "import sys; f=open(sys.argv[1],'r+b'); f.seek(int(sys.argv[2])); b=f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0]^1]))" "$IMG" "$OFF"; }
flip
expect_exit "dr verify fails on a flipped byte" 1 hf dr verify "$W" "$P3"
grep_out "... naming the file" "$IMG"
grep_out "... and the point" "restore point $P2"
jcheck "the newer full chain still verifies" ".job.state == \"succeeded\" and .job.result.verified == [\"$P4\"]" hf --json dr verify "$W" "$P4"
flip
jcheck "byte restored: the chain verifies again" '.job.state == "succeeded"' hf --json dr verify "$W" "$P3"

# dr status: the guest's newest verified point is the --full one just taken
jcheck "dr status: the guest, its newest verified point < 60 s old, state ok" \
	".state == \"ok\" and (.guests | length) == 1 and .guests[0].point == \"$P4\" and .guests[0].age_s < 60 and .guests[0].state == \"ok\" and .guests[0].points == 4" \
	hf --json dr status "$W"
jcheck "dr status without a guest: the same guest" '.guests | length == 1' hf --json dr status

# dr restore of point 2 as a new guest: verified, flattened next to the source's disk, defined shut off
R=$(tb_dom r1)
jcheck "dr restore of point $P2 as a new guest $R" \
	".job.state == \"succeeded\" and .job.result.name == \"$R\" and .job.result.state == \"shutoff\" and (.job.result.verified | index(\"$P2\")) != null" \
	hf --json dr restore "$W" "$P2" --as "$R"
RDISK=$(tb_virsh domblklist "$R" --details | awk '$3 == "vda" {print $4}')
check "the new guest is shut off, with its own UUID" \
	sh -c "[ \"\$(virsh -q -c '$TB_URI' domstate '$R')\" = 'shut off' ] && [ \"\$(virsh -q -c '$TB_URI' domuuid '$R' | tr -d '[:space:]')\" != '$UUID' ]"
[ "$RDISK" = "$(dirname "$(tb_disk d1)")/$R-vda.qcow2" ] && ok "its disk is a new file next to the source's ($RDISK)" || bad "restored disk is '$RDISK'"
check "... a flattened qcow2 (no backing file)" \
	sh -c "qemu-img info -U --output=json '$RDISK' | jq -e '.format == \"qcow2\" and (has(\"backing-filename\") | not)'"
check "... equal to the guest's disk at point 2, byte for byte" \
	qemu-img compare -f qcow2 -F qcow2 "$RDISK" "$TB_DIR/ref-2.qcow2"
check "the source guest is untouched (running, its own disk)" \
	sh -c "[ \"\$(virsh -q -c '$TB_URI' domstate '$W')\" = running ] && virsh -q -c '$TB_URI' domblklist '$W' | grep -q '$(tb_disk d1)'"
jcheck "the same restore again: already restored, nothing done" \
	'.job.state == "succeeded" and .job.result.already_restored' hf --json dr restore "$W" "$P2" --as "$R"
expect_exit "dr restore of another point onto an existing name fails" 1 hf dr restore "$W" "$P3" --as "$R"
grep_out "... naming the conflict" "guest '$R' already exists"
expect_exit "dr restore onto the source's own name fails" 1 hf dr restore "$W" "$P2" --as "$W"
check "start the restored guest" tb_virsh start "$R"
check "its agent answers" tb_wait_agent r1 120
OUT=$(tb_guest_exec r1 'cat /mnt/data/a.txt')
[ "$OUT" = second ] && ok "the restored guest reads a.txt = second (as written before point 2)" || bad "restored guest: a.txt='$OUT'"
OUT=$(tb_guest_exec d1 'cat /mnt/data/a.txt')
[ "$OUT" = third ] && ok "the source guest still reads a.txt = third" || bad "source guest: a.txt='$OUT'"

tb_measure dr_full_s="$FULL_S" dr_full_stored="$FULL_STORED" dr_inc_stored="$INC_STORED" dr_inc_written=4194304 \
	disk="$(qemu-img info -U --output=json "$(tb_disk d1)" | jq '."virtual-size"')"
hf_finish
