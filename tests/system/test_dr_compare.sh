#!/bin/bash
# dr copy --dry-run (the plan, nothing done) and dr verify --compare: a new incremental copy taken in pull mode, whose chain (the new image
# and every image behind it) is compared byte for byte with the whole disk exported by the same
# backup job: the guest's disk at that instant, a fresh full read, so the comparison needs
# neither a pause nor a quiet guest. Checked here: a running guest after data was written
# (identical, recorded in the manifest, the chain verified too); a chain that is wrong in a way
# checksums cannot see (a stored image altered and its manifest's SHA-256 updated to match:
# plain dr verify passes) -> --compare fails naming the disk and the first differing offset,
# publishes nothing, drops the guest's DR checkpoints, and the next copy is a correct full; a
# shut-off guest (started paused for the pull, powered off again after it).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hf.sh"
tb_init && tb_libvirt_up && tb_image && hf_standin d1 w2k8-6003-esu3
STORE=$TB_DIR/drstore
hf_up <<CONF
[drstore main]
path = $STORE
CONF
hf_dr_env d1 "$STORE"
res() { jq -r ".job.result.$1" "$ASSERT_TMP/out"; }
npoints() { find "$GD" -mindepth 2 -maxdepth 2 -name manifest.json | wc -l; }
hf_cks() { tb_virsh checkpoint-list "$W" --name 2>/dev/null | grep -c '^hf-dr-'; }

jcheck "dr copy --dry-run of a guest without points: a full, in pull mode (running), nothing done" \
	'.job.state == "succeeded" and .job.result.dry_run and .job.result.kind == "full" and .job.result.mode == "pull" and .job.result.transport == "unix" and .job.result.space == "ok"' \
	hf --json dr copy "$W" --dry-run
check "... no point, no checkpoint" sh -c "[ ! -d '$GD' ] || [ \$(find '$GD' -name manifest.json | wc -l) = 0 ]; [ \$(virsh -q -c '$TB_URI' checkpoint-list '$W' --name | grep -c .) = 0 ]"
jcheck "full copy" '.job.state == "succeeded" and .job.result.kind == "full"' hf --json dr copy "$W"
P1=$(res point)
jcheck "dr copy --dry-run now: an incremental on $P1" \
	".job.state == \"succeeded\" and .job.result.dry_run and .job.result.kind == \"incremental\" and .job.result.parent == \"$P1\"" \
	hf --json dr copy "$W" --dry-run
[ "$(npoints)" = 1 ] && ok "... still one point" || bad "points after a dry run: $(npoints)"
expect_exit "dr copy --dry-run in words" 0 hf dr copy "$W" --dry-run
grep_out "... says what it would do" "would take an incremental copy in pull mode over unix into DR store 'main'"
check "write data in the guest" \
	tb_guest_exec d1 'dd if=/dev/urandom of=/mnt/data/blob bs=1M count=3 2>/dev/null && echo one >/mnt/data/a.txt && sync'
expect_exit "dr verify POINT --compare is refused (a point of the past cannot be read again)" 2 \
	hf dr verify "$W" "$P1" --compare
jcheck "dr verify --compare of the running guest: a new incremental, every disk identical, its chain verified" \
	".job.state == \"succeeded\" and .job.kind == \"dr.verify\" and .job.result.kind == \"incremental\" and .job.result.parent == \"$P1\" and ([.job.result.compared[] | select(.identical)] | length) == 1 and (.job.result.compared[0].bytes > 0) and (.job.result.verified | index(\"$P1\")) != null and .job.result.ok" \
	hf --json dr verify "$W" --compare
P2=$(res point)
check "... the guest kept running" sh -c "[ \"\$(virsh -q -c '$TB_URI' domstate '$W')\" = running ]"
jcheck "... the manifest of $P2 records the comparison" '.compared[0].target == "vda" and .compared[0].identical' cat "$GD/$P2/manifest.json"
expect_exit "dr verify --compare in words" 0 hf dr verify "$W" --compare
grep_out "... vda identical" "vda .*rebuilt from the store: identical"
P3=$(ls "$GD" | grep -v partial | sort | tail -1)

# a chain that restores the wrong bytes although every checksum matches: the newest image gets
# 64 KiB it never had, and its manifest the image's new SHA-256 and size
IMG=$GD/$P3/vda.qcow2
VSIZE=$(qemu-img info --output=json "$IMG" | jq '.["virtual-size"]')
OFF=$((VSIZE - (2 << 20)))
check "alter 64 KiB at offset $OFF of $P3's image" qemu-io -f qcow2 -c "write -P 0x5a $OFF 64k" "$IMG"
SUM=$(sha256sum "$IMG" | cut -d' ' -f1)
SIZE=$(stat -c %s "$IMG")
jq --arg s "$SUM" --argjson z "$SIZE" '(.files[] | select(.name == "vda.qcow2")) |= (.sha256 = $s | .size = $z)' \
	"$GD/$P3/manifest.json" >"$TB_DIR/m.json" && mv "$TB_DIR/m.json" "$GD/$P3/manifest.json"
expect_exit "plain dr verify cannot see it (checksums and qemu-img check pass)" 0 hf dr verify "$W"
BEFORE=$(npoints)
expect_exit "dr verify --compare fails" 1 hf dr verify "$W" --compare
grep_out "... naming disk vda and the first differing offset $OFF" "disk vda: the disk the DR store rebuilds .* first at offset $OFF:"
[ "$(npoints)" = "$BEFORE" ] && ok "... nothing published ($BEFORE points)" || bad "points: $BEFORE -> $(npoints)"
check "... no .partial left" sh -c "! ls -d '$GD'/*.partial 2>/dev/null"
[ "$(hf_cks)" = 0 ] && ok "... the guest's DR checkpoints are dropped" || bad "hf-dr checkpoints left: $(hf_cks)"
check "... the guest still runs" sh -c "[ \"\$(virsh -q -c '$TB_URI' domstate '$W')\" = running ]"
jcheck "... $P3's manifest says so (no copy stands on it again)" \
	".compare_failed.target == \"vda\" and .compare_failed.offset == $OFF" cat "$GD/$P3/manifest.json"
jcheck "the next copy is a full, with the reason" \
	'.job.state == "succeeded" and .job.result.kind == "full" and (.job.result.full_reason | test("dr verify --compare found that the chain of point"))' \
	hf --json dr copy "$W"
jcheck "dr verify --compare on the new full: identical" \
	'.job.state == "succeeded" and .job.result.kind == "incremental" and .job.result.compared[0].identical' \
	hf --json dr verify "$W" --compare

# a shut-off guest: the pull starts it paused (no guest code runs) and powers it off again
check "power the guest off" tb_virsh destroy "$W"
jcheck "dr verify --compare of the shut-off guest: started paused, identical" \
	'.job.state == "succeeded" and .job.result.started_paused and .job.result.kind == "incremental" and .job.result.compared[0].identical' \
	hf --json dr verify "$W" --compare
check "... shut off again afterwards" sh -c "[ \"\$(virsh -q -c '$TB_URI' domstate '$W')\" = 'shut off' ]"
# a difference found in a shut-off guest: its checkpoints go before it is powered off again
P5=$(ls "$GD" | grep -v partial | sort | tail -1)
IMG=$GD/$P5/vda.qcow2
check "alter 64 KiB of $P5's image (manifest updated to match)" qemu-io -f qcow2 -c "write -P 0x6b $OFF 64k" "$IMG"
jq --arg s "$(sha256sum "$IMG" | cut -d' ' -f1)" --argjson z "$(stat -c %s "$IMG")" \
	'(.files[] | select(.name == "vda.qcow2")) |= (.sha256 = $s | .size = $z)' "$GD/$P5/manifest.json" >"$TB_DIR/m.json" &&
	mv "$TB_DIR/m.json" "$GD/$P5/manifest.json"
expect_exit "dr verify --compare of the shut-off guest finds it" 1 hf dr verify "$W" --compare
[ "$(hf_cks)" = 0 ] && ok "... the DR checkpoints of the shut-off guest are dropped" || bad "hf-dr checkpoints left: $(hf_cks)"
check "... shut off again" sh -c "[ \"\$(virsh -q -c '$TB_URI' domstate '$W')\" = 'shut off' ]"
jcheck "... the next copy is a full" '.job.state == "succeeded" and .job.result.kind == "full"' hf --json dr copy "$W"
jcheck "dr verify of every chain" '.job.state == "succeeded"' hf --json dr verify "$W"

# a guest left paused by a copy: powered off only when that copy's holdfastd is known dead
mark() { tb_virsh metadata "$W" https://holdfast.dev/xmlns/drcopy/1 --live --key hfdrcopy --set "<started-paused owner='$1'/>"; }
check "start the guest paused, marked as by another machine's holdfastd" sh -c "virsh -q -c '$TB_URI' start '$W' --paused >/dev/null" && mark "0000-other-boot 4242 777"
expect_exit "dr copy leaves it alone (that copy may still run)" 1 hf dr copy "$W"
grep_out "... saying whose copy holds it" "another holdfastd (or one before a reboot) made (holdfastd 0000-other-boot 4242 777)"
check "... still paused" sh -c "[ \"\$(virsh -q -c '$TB_URI' domstate '$W')\" = paused ]"
check "marked by a holdfastd of this boot that is gone" mark "$(cat /proc/sys/kernel/random/boot_id) 999999 1"
jcheck "dr copy powers it off and copies it started paused" \
	'.job.state == "succeeded" and .job.result.started_paused' hf --json dr copy "$W"
check "... shut off again" sh -c "[ \"\$(virsh -q -c '$TB_URI' domstate '$W')\" = 'shut off' ]"

# a disk the copy does not take is recorded, not skipped in silence
cat >"$TB_DIR/cdrom.xml" <<XML
<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><target dev='sdz' bus='sata'/><readonly/></disk>
XML
check "add an empty cdrom (sdz) to the shut-off guest" tb_virsh attach-device "$W" "$TB_DIR/cdrom.xml" --config
jcheck "the next copy names the cdrom as not copied (result and manifest)" \
	'.job.state == "succeeded" and (.job.result.skipped_disks | length) == 1 and (.job.result.skipped_disks[0] | test("^sdz \\(cdrom\\): removable media"))' \
	hf --json dr copy "$W"
jcheck "... in the manifest" '.skipped_disks[0] | test("^sdz")' cat "$GD/$(res point)/manifest.json"
hf_finish
