#!/bin/bash
# One guest copied into two DR stores (3-2-1: a local one and an offsite one): each store keeps
# its own checkpoint (hf-dr-STORE-POINT), so after fulls into both, the next copy into each is an
# incremental of that store's newest point; every point's flattened chain equals the guest's
# disk at that copy (qemu-img compare); libvirt keeps exactly one checkpoint per store. A copy
# into a guest directory whose lock is held (STORE/UUID/.lock) waits for it, then copies.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hf.sh"
tb_init
tb_libvirt_up
tb_image
tb_guest_define s1 w2k8-6003-esu3
tb_guest_start s1
tb_wait_agent s1 90
SA=$TB_DIR/dr-local
SB=$TB_DIR/dr-offsite
hf_up <<CONF
[drstore local]
path = $SA
[drstore off-site]
path = $SB
CONF
W=$(tb_dom s1)
UUID=$(tb_virsh domuuid "$W" | tr -d '[:space:]')

# The guest frozen through its agent (no writes), its disk captured as ref-$2, a copy into
# store $1 without holdfast's own quiesce, thawed (as test_dr.sh: an exact reference).
frozen_copy() {
	tb_virsh domfsfreeze "$W" >/dev/null &&
		qemu-img convert -U -f qcow2 -O qcow2 "$(tb_disk s1)" "$TB_DIR/ref-$2.qcow2" &&
		hf --json dr copy "$W" --store "$1" --quiesce no >"$TB_DIR/copy-$2.json" 2>&1
	local rc=$?
	tb_virsh domfsthaw "$W" >/dev/null
	return $rc
}
res() { jq -r ".job.result.$2" "$TB_DIR/copy-$1.json"; }
checkpoints() { tb_virsh checkpoint-list "$W" --name | sed '/^$/d' | sort | tr '\n' ' '; }
same_disk() { # store dir, point, reference
	qemu-img compare -f qcow2 -F qcow2 "$1/$UUID/$2/vda.qcow2" "$TB_DIR/ref-$3.qcow2"
}

check "write data before the fulls" hf_guest_write s1 first a.txt
check "full copy into store local" frozen_copy local a1
jcheck "... a full" '.job.state == "succeeded" and .job.result.kind == "full"' cat "$TB_DIR/copy-a1.json"
PA1=$(res a1 point)
check "full copy into store off-site" frozen_copy off-site b1
jcheck "... a full (the first point of that store)" \
	'.job.state == "succeeded" and .job.result.kind == "full"' cat "$TB_DIR/copy-b1.json"
PB1=$(res b1 point)
CK=$(checkpoints)
[ "$CK" = "hf-dr-local-$PA1 hf-dr-off-site-$PB1 " ] &&
	ok "one checkpoint per store: $CK" || bad "checkpoints after two fulls: '$CK'"

check "write 4 MiB in the guest" \
	tb_guest_exec s1 'dd if=/dev/urandom of=/mnt/data/blob1 bs=1M count=4 2>/dev/null && echo second >/mnt/data/a.txt && sync'
check "copy into store local" frozen_copy local a2
jcheck "... an incremental of local's full" \
	".job.state == \"succeeded\" and .job.result.kind == \"incremental\" and .job.result.parent == \"$PA1\"" \
	cat "$TB_DIR/copy-a2.json"
PA2=$(res a2 point)
check "write 1 MiB more" \
	tb_guest_exec s1 'dd if=/dev/urandom of=/mnt/data/blob2 bs=64k count=16 2>/dev/null && echo third >/mnt/data/a.txt && sync'
check "copy into store off-site" frozen_copy off-site b2
jcheck "... an incremental of off-site's full (local's copy left its checkpoint alone)" \
	".job.state == \"succeeded\" and .job.result.kind == \"incremental\" and .job.result.parent == \"$PB1\"" \
	cat "$TB_DIR/copy-b2.json"
PB2=$(res b2 point)
STORED=$(res b2 stored)
if [ "$STORED" -lt $((5 * 1048576 * 3)) ]; then ok "off-site's incremental stored $STORED bytes for 5 MiB written"
else bad "off-site's incremental stored $STORED bytes for 5 MiB written (a full?)"; fi
CK=$(checkpoints)
[ "$CK" = "hf-dr-local-$PA2 hf-dr-off-site-$PB2 " ] &&
	ok "each copy dropped only its own store's older checkpoint: $CK" || bad "checkpoints: '$CK'"

jcheck "dr list --store local: full, incremental" \
	"[.points[] | [.point, .kind, .parent, .verified]] == [[\"$PA1\",\"full\",null,true],[\"$PA2\",\"incremental\",\"$PA1\",true]]" \
	hf --json dr list "$W" --store local
jcheck "dr list --store off-site: full, incremental" \
	"[.points[] | [.point, .kind, .parent, .verified]] == [[\"$PB1\",\"full\",null,true],[\"$PB2\",\"incremental\",\"$PB1\",true]]" \
	hf --json dr list "$W" --store off-site
check "local $PA1: the chain equals the guest's disk at that copy" same_disk "$SA" "$PA1" a1
check "local $PA2: the rebased chain equals the guest's disk at that copy" same_disk "$SA" "$PA2" a2
check "off-site $PB1: the chain equals the guest's disk at that copy" same_disk "$SB" "$PB1" b1
check "off-site $PB2: the rebased chain equals the guest's disk at that copy" same_disk "$SB" "$PB2" b2
jcheck "dr verify of both stores" '.job.state == "succeeded" and .job.result.ok' hf --json dr verify "$W" --store local
jcheck "... off-site" '.job.state == "succeeded" and .job.result.ok' hf --json dr verify "$W" --store off-site

# the guest directory's lock: a copy waits while another holder has it, then copies
check "the guest directory holds its lock file" test -e "$SA/$UUID/.lock"
flock -x "$SA/$UUID/.lock" sleep 4 &
HOLD=$!
sleep 0.5
T0=$(tb_now)
jcheck "a copy into local while the lock is held waits, then copies an incremental" \
	".job.state == \"succeeded\" and .job.result.kind == \"incremental\" and .job.result.parent == \"$PA2\"" \
	hf --json dr copy "$W" --store local
WAITED=$(tb_since "$T0")
wait "$HOLD"
awk -v w="$WAITED" 'BEGIN { exit !(w >= 3) }' && ok "... it waited for the holder (${WAITED} s)" ||
	bad "the copy took ${WAITED} s: it did not wait for the lock"
jcheck "the lock file is never listed as a point" '.points | length == 3' hf --json dr list "$W" --store local

hf_finish
