#!/bin/bash
# nightly-qemu.sh - issue 5's QEMU benchmark: a nightly policy run over 4 stand-in guests on real
# libvirtd + QEMU (TCG) vs the sum of 4 single-guest snapshot times measured in the same run:
# the parallel efficiency. Needs root. Usage: bench/nightly-qemu.sh [BUILD_DIR] [GUESTS]
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
N=${2:-4}
export TB_BUILD_ROOT=$BUILD TB_AGENT_BIN=$BUILD/tests/system/winqga-static
export TB_CACHE=$BUILD/standin-cache HF_BUILD=$BUILD HF_SRC=$SRC
. "$SRC/tests/system/lib.sh"
. "$SRC/tests/system/hf.sh"
tb_init
tb_libvirt_up
tb_image
for i in $(seq 1 "$N"); do tb_guest_define "g$i" w2k8-6003-esu3; done
for i in $(seq 1 "$N"); do tb_guest_start "g$i"; done
for i in $(seq 1 "$N"); do tb_wait_agent "g$i" 120; done
hf_up <<CONF
max-jobs-per-host = $N
[policy bench]
schedule = *-*-* 02:30:00
guests = $TB_PREFIX*
quiesce = yes
keep-last = 10
CONF
ms() { date +%s%3N; }
sum=0
for i in $(seq 1 "$N"); do
	t=$(ms)
	hf --json snapshot create "$(tb_dom "g$i")" --name "single-$i" --quiesce yes >/dev/null
	d=$(($(ms) - t))
	sum=$((sum + d))
	echo "single-guest snapshot g$i: $d ms"
done
t=$(ms)
hf --json policy run bench | jq -e '.job.state == "succeeded"' >/dev/null
wall=$(($(ms) - t))
echo "nightly run over $N guests (quiesced, max-jobs $N): $wall ms"
echo "sum of the $N single-guest snapshots (same run):   $sum ms"
awk -v w="$wall" -v s="$sum" -v n="$N" 'BEGIN { printf "wall/sum %.2fx; parallel efficiency %.0f%% (100%% = perfect %dx speed-up)\n", w / s, 100 * s / (n * w), n }'
