#!/bin/bash
# dr-copy.sh - issue 6's DR copy benchmark, in one run on one stand-in guest (QEMU TCG) whose
# second disk (vdb, qcow2, 2 GiB virtual) holds 1.5 GiB of random data written before it starts:
#   - baseline: `qemu-img convert -U -O qcow2` of that disk (it fdatasyncs at the end)
#   - holdfast full copy ([drstore] mode = push, mode = pull on the unix socket, and pull over
#     TCP with TLS as from a remote hypervisor), each INCLUDING SHA-256,
#     manifest, fsync and qemu-img check, not quiesced (like convert); ratio = convert time /
#     copy time (goal >= 0.9x); the SHA-256 speed of this CPU (openssl speed) for the floor
#   - incrementals after 64 MiB of random writes in the guest: bytes stored / bytes written
#     (goal <= 1.1) and time; and after 256 scattered 4 KiB writes (stored at 64 KiB clusters)
#   - the guest's write throughput (dd oflag=direct in the guest) without a copy and during one
# Every timing is repeated 3 times; medians are printed. Needs root.
# Usage: bench/dr-copy.sh [BUILD_DIR]
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
export TB_BUILD_ROOT=$BUILD TB_AGENT_BIN=$BUILD/tests/system/winqga-static
export TB_CACHE=$BUILD/standin-cache HF_BUILD=$BUILD HF_SRC=$SRC
. "$SRC/tests/system/lib.sh"
. "$SRC/tests/system/hf.sh"
tb_init
tb_libvirt_up
tb_image
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); other QEMU guests running: $(($(pgrep -c qemu-system || true)))"
tb_guest_define b1 w2k8-6003-esu3 extra-disk=2G
DISK=$TB_DIR/b1-vdb.qcow2
head -c $((1536 << 20)) /dev/urandom >"$TB_DIR/vdb.raw"
truncate -s 2G "$TB_DIR/vdb.raw"
rm -f "$DISK"
qemu-img convert -q -f raw -O qcow2 "$TB_DIR/vdb.raw" "$DISK"
rm -f "$TB_DIR/vdb.raw"
tb_guest_start b1
tb_wait_agent b1 120
TLS=yes
tb_tls_pki "$TB_DIR/nbd-pki" || TLS=
PORT=$(hf_free_port)
hf_up <<CONF
[drstore push]
path = $TB_DIR/store-push
mode = push
[drstore pull]
path = $TB_DIR/store-pull
mode = pull
[drstore tls]
path = $TB_DIR/store-tls
mode = pull
pull-host = 127.0.0.1
pull-port = $PORT
pull-tls-dir = $TB_DIR/nbd-pki
CONF
W=$(tb_dom b1)
echo "disk: $(qemu-img info -U --output=json "$DISK" | jq -r '"\(."virtual-size" / 1073741824) GiB virtual, \(."actual-size" / 1048576 | floor) MiB allocated"')"

ms() { date +%s%3N; }
median() { sort -n | sed -n 2p; } # of three
# one copy into store $1 (more args: --full ...), not quiesced (qemu-img convert is not
# either; the agent's freeze adds its own time): prints "ms stored". Every timed step starts
# after a sync, so no step pays for the writeback of the one before.
copy() {
	local store=$1 t out
	shift
	sync
	t=$(ms)
	out=$(hf --json dr copy "$W" --store "$store" --quiesce no "$@")
	t=$(($(ms) - t))
	echo "$out" | jq -e '.job.state == "succeeded"' >/dev/null || { echo "copy failed: $out" >&2; exit 1; }
	echo "$t $(echo "$out" | jq '.job.result.stored')"
}
# in the guest: N MiB of random data at MiB offset OFF of vdb
guest_write() { tb_guest_exec b1 "dd if=/dev/urandom of=/dev/vdb bs=1M count=$1 seek=$2 oflag=direct 2>/dev/null"; }
# in the guest: 256 writes of 4 KiB at scattered 4 KiB-aligned offsets of vdb (seed $1)
guest_scatter() {
	tb_guest_exec b1 "i=0; s=$1; while [ \$i -lt 256 ]; do s=\$(( (s * 1103515245 + 12345) % 2147483648 )); dd if=/dev/urandom of=/dev/vdb bs=4k count=1 seek=\$(( s % 393216 )) oflag=direct 2>/dev/null; i=\$((i+1)); done"
}
# in the guest: MiB/s of 256 MiB written with O_DIRECT into the data the copy reads last (zeroes:
# no urandom cost in the guest)
# (busybox dd prints no rate: timed with /proc/uptime, 10 ms resolution)
guest_dd() {
	tb_guest_exec b1 "a=\$(cut -d' ' -f1 /proc/uptime); dd if=/dev/zero of=/dev/vdb bs=1M count=256 seek=1200 oflag=direct 2>/dev/null; b=\$(cut -d' ' -f1 /proc/uptime); echo \$a \$b" |
		awk '{ printf "%.1f\n", 256 / ($2 - $1) }'
}

SHA=$(openssl speed -evp sha256 -seconds 1 -bytes 1048576 2>/dev/null | awk '/^sha256/ { printf "%.0f", $2 / 1000 }')
echo "SHA-256 (OpenSSL, 1 MiB blocks, one core): $SHA MB/s: $(awk -v s="$SHA" 'BEGIN { printf "%.0f", 1610612736 / s / 1000 }') ms to hash this disk's 1.5 GiB"
echo "== full copies (3 runs each, interleaved) =="
: >"$TB_DIR/conv" >"$TB_DIR/push" >"$TB_DIR/pull"
for r in 1 2 3; do
	rm -f "$TB_DIR/conv.qcow2"
	sync
	t=$(ms)
	qemu-img convert -U -f qcow2 -O qcow2 "$DISK" "$TB_DIR/conv.qcow2"
	echo $(($(ms) - t)) >>"$TB_DIR/conv"
	copy push --full >>"$TB_DIR/push"
	copy pull --full >>"$TB_DIR/pull"
	echo "run $r: convert $(tail -1 "$TB_DIR/conv") ms, push $(tail -1 "$TB_DIR/push" | cut -d' ' -f1) ms, pull $(tail -1 "$TB_DIR/pull" | cut -d' ' -f1) ms"
done
CONV=$(median <"$TB_DIR/conv")
PUSH=$(cut -d' ' -f1 "$TB_DIR/push" | median)
PULL=$(cut -d' ' -f1 "$TB_DIR/pull" | median)
echo "qemu-img convert -U (baseline):                 $CONV ms"
echo "holdfast full copy, push mode, with SHA-256:    $PUSH ms  ($(awk -v b="$CONV" -v t="$PUSH" 'BEGIN { printf "%.2fx", b / t }') of convert's speed)"
echo "holdfast full copy, pull mode, with SHA-256:    $PULL ms  ($(awk -v b="$CONV" -v t="$PULL" 'BEGIN { printf "%.2fx", b / t }') of convert's speed)"
# convert's time swings with the host's writeback (its fdatasync waits for it): the best runs
# of each side too
BC=$(sort -n "$TB_DIR/conv" | head -1)
BP=$(cut -d' ' -f1 "$TB_DIR/pull" | sort -n | head -1)
echo "best of 3: convert $BC ms, pull $BP ms ($(awk -v b="$BC" -v t="$BP" 'BEGIN { printf "%.2fx", b / t }') of convert's speed)"
if [ -n "$TLS" ]; then
	: >"$TB_DIR/tls"
	for r in 1 2 3; do copy tls --full >>"$TB_DIR/tls"; done
	TLSMS=$(cut -d' ' -f1 "$TB_DIR/tls" | median)
	echo "holdfast full copy, pull over TCP with TLS:     $TLSMS ms  ($(awk -v b="$CONV" -v t="$TLSMS" 'BEGIN { printf "%.2fx", b / t }') of convert's speed; $(awk -v u="$PULL" -v t="$TLSMS" 'BEGIN { printf "%.2fx", t / u }') the time of the unix-socket pull)"
else
	echo "(no TLS figure: /etc/pki/qemu belongs to someone else)"
fi
echo "(the full copies also copy vda, the 64 MiB system disk: $(jq '[.disks[] | select(.target == "vda") | .stored_size] | add' "$(ls -d "$TB_DIR"/store-pull/*/*/ | tail -1)manifest.json") bytes stored for it in pull mode)"

echo "== incrementals after 64 MiB of random writes (3 runs per mode) =="
for mode in push pull; do
	copy "$mode" --full >/dev/null
	: >"$TB_DIR/inc-$mode"
	for r in 1 2 3; do
		guest_write 64 $((r * 400 + 37))
		copy "$mode" >>"$TB_DIR/inc-$mode"
	done
	T=$(cut -d' ' -f1 "$TB_DIR/inc-$mode" | median)
	S=$(cut -d' ' -f2 "$TB_DIR/inc-$mode" | median)
	echo "$mode: $T ms; stored $S bytes for 67108864 written: $(awk -v s="$S" 'BEGIN { printf "%.3f", s / 67108864 }') (both disks' images)"
done
echo "== incrementals after 256 scattered 4 KiB writes (1 MiB; 3 runs, pull mode) =="
: >"$TB_DIR/scat"
for r in 1 2 3; do
	guest_scatter "$r"
	copy pull >>"$TB_DIR/scat"
done
T=$(cut -d' ' -f1 "$TB_DIR/scat" | median)
S=$(cut -d' ' -f2 "$TB_DIR/scat" | median)
echo "pull: $T ms; stored $S bytes for 1048576 written: $(awk -v s="$S" 'BEGIN { printf "%.1f", s / 1048576 }')x (64 KiB clusters)"

echo "== dr verify --compare after 64 MiB of random writes (3 runs): a new incremental + its chain vs a fresh full read of both disks =="
: >"$TB_DIR/cmp" >"$TB_DIR/cmp-base"
for r in 1 2 3; do
	guest_write 64 $((r * 400 + 53))
	sync
	t=$(ms)
	out=$(hf --json dr verify "$W" --store pull --compare)
	echo $(($(ms) - t)) >>"$TB_DIR/cmp"
	echo "$out" | jq -e '.job.state == "succeeded" and ([.job.result.compared[] | select(.identical)] | length) == 2' >/dev/null || { echo "compare failed: $out" >&2; exit 1; }
	sync
	t=$(ms)
	qemu-img compare -U -f qcow2 -F qcow2 "$DISK" "$DISK" >/dev/null
	echo $(($(ms) - t)) >>"$TB_DIR/cmp-base"
done
CMP=$(median <"$TB_DIR/cmp")
CMPB=$(median <"$TB_DIR/cmp-base")
echo "dr verify --compare: $CMP ms; baseline qemu-img compare -U of vdb with itself (both disks read twice by us, vdb twice here): $CMPB ms ($(awk -v b="$CMPB" -v t="$CMP" 'BEGIN { printf "%.2fx", b / t }'))"

echo "== guest write throughput (dd 256 MiB oflag=direct in the guest; 3 runs) =="
: >"$TB_DIR/dd-idle"
for r in 1 2 3; do guest_dd >>"$TB_DIR/dd-idle"; done
echo "no copy running:          $(median <"$TB_DIR/dd-idle") MiB/s"
for mode in push pull; do
	: >"$TB_DIR/dd-$mode"
	for r in 1 2 3; do
		JOB=$(hf --json --no-wait dr copy "$W" --store "$mode" --full --quiesce no | jq -r '.job.id')
		until hf --json jobs show "$JOB" | jq -e '.job.progress >= 6 or (.job.state != "running" and .job.state != "queued")' >/dev/null; do sleep 0.02; done
		v=$(guest_dd)
		st=$(hf --json jobs show "$JOB" | jq -r '.job.state')
		echo "$v" >>"$TB_DIR/dd-$mode"
		until hf --json jobs show "$JOB" | jq -e '.job.state != "running" and .job.state != "queued"' >/dev/null; do sleep 0.1; done
		echo "  $mode run $r: $v MiB/s (the copy was $st when dd ended)"
	done
	echo "during a $mode-mode copy: $(median <"$TB_DIR/dd-$mode") MiB/s"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
hf_down
