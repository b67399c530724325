#!/bin/bash
# DR copies in pull mode ([drstore] mode = pull): libvirt exports the disks over NBD, holdfastd
# reads them with libnbd and writes each qcow2 itself, hashing it as written. A two-disk guest
# (vda: the ext4 data disk; vdb: 384 MiB of random data written before the guest starts):
# full, write, incremental, write, incremental; every point's chain compared byte for byte
# (qemu-img compare) with the guest's disks captured while frozen; the manifest's SHA-256 is the
# file's; incrementals are backed by their parent from the start; nothing is left behind (no
# backup job, no scratch file, no socket directory); dr verify; a cancelled copy leaves no point;
# an incremental pulled over TCP (pull-host/pull-port, the port taken: the next one) instead of
# the unix socket; a paused guest pulled without a freeze, crash-consistent.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hf.sh"
tb_init
tb_libvirt_up
tb_image
tb_guest_define d1 w2k8-6003-esu3 extra-disk=512M
VDB=$TB_DIR/d1-vdb.qcow2
# vdb: random data (the guest does not mount it), so a full copy takes a moment to cancel
hf_random_disk "$VDB" 384 512M
tb_guest_start d1
tb_wait_agent d1 120
STORE=$TB_DIR/drstore
PORT=$(hf_free_port)
# "tcp": the same store, pulled over NBD on TCP (as from a remote hypervisor) instead of a socket
hf_up <<CONF
[drstore main]
path = $STORE
mode = pull
[drstore tcp]
path = $STORE
mode = pull
pull-host = 127.0.0.1
pull-port = $PORT
pull-tls = no
CONF
W=$(tb_dom d1)
UUID=$(tb_virsh domuuid "$W" | tr -d '[:space:]')
GD=$STORE/$UUID
# the empty socket directory of a copy that died with holdfastd two hours ago: swept
STALE=$(mktemp -d /tmp/hf-nbd-XXXXXX)
touch -d '2 hours ago' "$STALE"
NBD_BEFORE=$(ls -d /tmp/hf-nbd-* 2>/dev/null | sort || true)

capture() {
	qemu-img convert -U -f qcow2 -O qcow2 "$(tb_disk d1)" "$TB_DIR/ref-$1-vda.qcow2" &&
		qemu-img convert -U -f qcow2 -O qcow2 "$VDB" "$TB_DIR/ref-$1-vdb.qcow2"
}
# the guest frozen through its agent: its disks captured, a copy without holdfast's own quiesce
frozen_copy() {
	local n=$1
	shift
	tb_virsh domfsfreeze "$W" >/dev/null && capture "$n" &&
		hf --json dr copy "$W" --quiesce no "$@" >"$TB_DIR/copy$n.json" 2>&1
	local rc=$?
	tb_virsh domfsthaw "$W" >/dev/null
	return $rc
}
res() { jq -r ".job.result.$2" "$TB_DIR/copy$1.json"; }
# every disk image of point $2 (copy $1): its chain equals the captured disks, byte for byte
same_as_captured() {
	local t
	for t in vda vdb; do
		qemu-img compare -f qcow2 -F qcow2 "$GD/$2/$t.qcow2" "$TB_DIR/ref-$1-$t.qcow2" || return 1
	done
}
# the manifest's SHA-256 of every file is the file's own
sums_match() {
	local m=$GD/$1/manifest.json n want got
	[ "$(jq '.files | length' "$m")" = 2 ] || return 1
	for n in $(jq -r '.files[].name' "$m"); do
		want=$(jq -r --arg n "$n" '.files[] | select(.name == $n) | .sha256' "$m")
		got=$(sha256sum "$GD/$1/$n" | cut -d' ' -f1)
		[ "$want" = "$got" ] || { echo "$n: manifest $want, file $got"; return 1; }
	done
}
nothing_left() {
	[ -z "$(ls "$GD"/*/*.scratch "$GD"/*.partial 2>/dev/null)" ] || { echo "leftovers in $GD"; return 1; }
	[ -z "$(comm -13 <(echo "$NBD_BEFORE") <(ls -d /tmp/hf-nbd-* 2>/dev/null | sort))" ] || { echo "socket dir left"; return 1; }
	tb_virsh domjobinfo "$W" | grep -q 'Job type: *None' || { echo "a job still runs"; return 1; }
}

check "full copy in pull mode (guest frozen around it)" frozen_copy 1
jq -e '.job.state == "succeeded" and .job.result.kind == "full"' "$TB_DIR/copy1.json" >/dev/null &&
	ok "... a verified full point" || { bad "full copy"; cat "$TB_DIR/copy1.json"; }
P1=$(res 1 point)
grep_log() { grep -q "$1" "$HF_LOG"; }
check "... read over NBD by holdfastd (pull mode)" grep_log "pull-mode copy of $W"
check "... both disks equal the captured ones" same_as_captured 1 "$P1"
check "... SHA-256 in the manifest = the files' (hashed as written)" sums_match "$P1"
check "... qemu-img check: no errors, no leaks" \
	sh -c "qemu-img check -q '$GD/$P1/vda.qcow2' && qemu-img check -q '$GD/$P1/vdb.qcow2'"
check "... no backup job, scratch file or socket directory left" nothing_left
check "... the stale socket directory of a dead copy was swept" test ! -e "$STALE"
FULL_STORED=$(res 1 stored)
[ "$FULL_STORED" -gt $((384 << 20)) ] && ok "full stored $FULL_STORED bytes (384 MiB of data on vdb)" ||
	bad "full stored only $FULL_STORED bytes"

check "write 4 MiB in the guest" \
	tb_guest_exec d1 'dd if=/dev/urandom of=/mnt/data/blob1 bs=1M count=4 2>/dev/null && echo second >/mnt/data/a.txt && sync'
# a dirty range that reads as zero: 1 MiB of vdb's data discarded (the guest does not mount it)
check "discard 1 MiB of vdb's data in the guest" \
	tb_guest_exec d1 'blkdiscard -o 6553600 -l 1048576 /dev/vdb'
check "incremental in pull mode" frozen_copy 2
jq -e ".job.state == \"succeeded\" and .job.result.kind == \"incremental\" and .job.result.parent == \"$P1\"" \
	"$TB_DIR/copy2.json" >/dev/null && ok "... incremental, parent the full" || { bad "incremental"; cat "$TB_DIR/copy2.json"; }
P2=$(res 2 point)
INC_STORED=$(res 2 stored)
[ "$INC_STORED" -lt $((12 << 20)) ] && ok "incremental stored $INC_STORED bytes for 5 MiB written" ||
	bad "incremental stored $INC_STORED bytes for 5 MiB written"
check "... backed by the parent's images from the start (relative, no rebase)" \
	sh -c "qemu-img info --output=json '$GD/$P2/vda.qcow2' | jq -e '.\"backing-filename\" == \"../$P1/vda.qcow2\" and .\"backing-filename-format\" == \"qcow2\"' &&
		qemu-img info --output=json '$GD/$P2/vdb.qcow2' | jq -e '.\"backing-filename\" == \"../$P1/vdb.qcow2\"'"
check "... the discarded range is stored as zero clusters (dirty, reads as zero)" \
	sh -c "qemu-img map --output=json '$GD/$P2/vdb.qcow2' | jq -e 'any(.[]; .start <= 6553600 and .start + .length > 6553600 and .zero and (.data | not) and .depth == 0)'"
check "... the chains equal the captured disks" same_as_captured 2 "$P2"
check "... SHA-256 = the files'" sums_match "$P2"
check "... manifest: every disk's parent is the full" \
	jq -e "[.disks[].parent] == [\"$P1\", \"$P1\"]" "$GD/$P2/manifest.json"
check "... nothing left behind" nothing_left

check "write more" \
	tb_guest_exec d1 'dd if=/dev/urandom of=/mnt/data/blob2 bs=64k count=16 2>/dev/null && echo third >/mnt/data/a.txt && sync'
check "second incremental in pull mode" frozen_copy 3
P3=$(res 3 point)
jq -e ".job.result.kind == \"incremental\" and .job.result.parent == \"$P2\"" "$TB_DIR/copy3.json" >/dev/null &&
	ok "... incremental, parent the first incremental" || { bad "second incremental"; cat "$TB_DIR/copy3.json"; }
check "... the chains (3 images each) equal the captured disks" same_as_captured 3 "$P3"
check "... SHA-256 = the files'" sums_match "$P3"
jcheck "dr verify: every point and chain" \
	".job.state == \"succeeded\" and (.job.result.verified | sort) == ([\"$P1\",\"$P2\",\"$P3\"] | sort)" \
	hf --json dr verify "$W"
check "restored from point 2: a.txt = second" \
	sh -c "qemu-img convert -f qcow2 -O raw '$GD/$P2/vda.qcow2' '$TB_DIR/r.raw' && [ \"\$(debugfs -R 'cat /a.txt' '$TB_DIR/r.raw' 2>/dev/null)\" = second ]"

# a cancelled copy: no point, no .partial, no job, the new checkpoint gone; the next copy works
N0=$(hf --json dr list "$W" | jq '.points | length')
CKS0=$(tb_virsh checkpoint-list "$W" --name | sort)
JOB=$(hf --json --no-wait dr copy "$W" --full --quiesce no | jq -r '.job.id')
SEEN=0
for _ in $(seq 1 600); do
	J=$(hf --json jobs show "$JOB")
	echo "$J" | jq -e '.job.message | test("reading disk")' >/dev/null 2>&1 && { SEEN=1; break; }
	echo "$J" | jq -e '.job.state == "running" or .job.state == "queued"' >/dev/null || break
	sleep 0.02
done
[ "$SEEN" = 1 ] && ok "the copy is reading over NBD" || bad "never saw the copy reading: $(hf --json jobs show "$JOB")"
hf jobs cancel "$JOB" >/dev/null || true
for _ in $(seq 1 300); do
	hf --json jobs show "$JOB" | jq -e '.job.state == "running" or .job.state == "queued"' >/dev/null || break
	sleep 0.1
done
jcheck "the cancelled copy ends cancelled" '.job.state == "cancelled"' \
	hf --json jobs show "$JOB"
jcheck "... and leaves no point" ".points | length == $N0" hf --json dr list "$W"
check "... nothing left behind (job, .partial, scratch, socket)" nothing_left
check "... the checkpoints are as before" sh -c "[ \"\$(virsh -q -c '$TB_URI' checkpoint-list '$W' --name | sort)\" = '$CKS0' ]"
check "write more" tb_guest_exec d1 'echo fourth >/mnt/data/a.txt && sync'
# pull-port taken (as by another copy from the same hypervisor): the next port is used
python3 -c "import socket, time; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', $PORT)); s.listen(); time.sleep(900)" &
BUSY=$!
tb_on_cleanup "kill $BUSY 2>/dev/null || true"
check "the next copy (over TCP) is again an incremental of point 3" frozen_copy 4 --store tcp
kill "$BUSY" 2>/dev/null || true
jq -e ".job.state == \"succeeded\" and .job.result.kind == \"incremental\" and .job.result.parent == \"$P3\"" \
	"$TB_DIR/copy4.json" >/dev/null && ok "... incremental, parent point 3" || { bad "copy over TCP"; cat "$TB_DIR/copy4.json"; }
P4=$(res 4 point)
check "... read over NBD on TCP, on the next port as pull-port was taken" grep_log "pull-mode copy of $W.*(127.0.0.1:$((PORT + 1)))"
check "... the chains equal the captured disks" same_as_captured 4 "$P4"
check "... SHA-256 = the files'" sums_match "$P4"
check "... nothing left behind" nothing_left

# a paused guest: pulled without a freeze (its agent cannot answer), crash-consistent, said why
check "pause the guest" tb_virsh suspend "$W"
check "capture its disks (paused: they do not change)" capture 5
jcheck "a pull of the paused guest: crash-consistent because it is paused" \
	'.job.state == "succeeded" and .job.result.consistency == "crash" and (.job.result.consistency_reason | test("paused"))' \
	hf --json dr copy "$W" --store main
P5=$(jq -r '.job.result.point' "$ASSERT_TMP/out")
check "... its chains equal the captured disks" same_as_captured 5 "$P5"
check "resume the guest" tb_virsh resume "$W"

tb_measure dr_pull_full_stored="$FULL_STORED" dr_pull_inc_stored="$INC_STORED" dr_pull_inc_written=$((5 << 20))
hf_finish
