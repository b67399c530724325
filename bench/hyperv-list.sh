#!/bin/bash
# hyperv-list.sh - issue 7's benchmark: holdfastd lists N Hyper-V VMs (default 500) and their KVP
# items from hf-wsman-sim (--generate N), i.e. the connect-time inventory: the connection check,
# one WQL enumeration of the VMs and one of every Msvm_KvpExchangeComponent. Measured per mode
# over R runs (median): requests the simulator served (its `stats`) and wall time from the
# daemon's start to the host being connected with all N guests. Modes: batched pulls (batch=100:
# OptimizeEnumeration + MaxElements 100) vs one item per Pull (batch=0, no MaxElements: the way
# libvirt's hyperv driver pulls), printed as ratios single/batched.
# Usage: bench/hyperv-list.sh [BUILD_DIR] [N] [RUNS] [DELAY_MS]
#   DELAY_MS (default 0): simulated per-request latency (the simulator's delay-ms), e.g. 2 for a
#   LAN round trip to a real host.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
N=${2:-500}
R=${3:-5}
DELAY=${4:-0}
SIM=$BUILD/tests/wsman-sim/hf-wsman-sim
[ -x "$SIM" ] || { echo "no $SIM (needs libmicrohttpd)"; exit 1; }
T=$(mktemp -d /tmp/hfbench-hv.XXXXXX)
SPID= DPID=
trap 'kill $DPID $SPID 2>/dev/null; wait $DPID $SPID 2>/dev/null; rm -rf "$T"' EXIT

printf '[host]\nname=HV-BENCH\nlanguage=en-US\n' >"$T/fleet.ini"
printf 'bench:bench-pw\n' >"$T/creds"
chmod 600 "$T/creds"
"$SIM" --fleet "$T/fleet.ini" --generate "$N" --credentials-file "$T/creds" --port 0 \
	--port-file "$T/ports" --log /dev/null --control "delay-ms $DELAY" >"$T/sim.out" 2>&1 &
SPID=$!
for _ in $(seq 100); do [ -s "$T/ports" ] && break; sleep 0.05; done
PORT=$(sed -n 's/^http=//p' "$T/ports")
control() { curl -sS -X POST --data-binary "$1" "http://127.0.0.1:$PORT/control"; }
HF="$BUILD/cli/holdfast --socket $T/s.sock"

# run BATCH: one daemon start; prints "REQUESTS PULLS MS"
run() {
	printf '[daemon]\nsocket = %s/s.sock\nstate-dir = %s/state\nlog-level = warning\n[host hv]\nuri = hyperv://127.0.0.1:%s\nallow-unencrypted = true\ncredentials = %s/creds\nbatch = %s\n' \
		"$T" "$T" "$PORT" "$T" "$1" >"$T/hf.conf"
	control reset-stats >/dev/null
	local a b
	a=$(date +%s%N)
	"$BUILD/daemon/holdfastd" --foreground --config "$T/hf.conf" 2>>"$T/d.log" &
	DPID=$!
	for _ in $(seq 1 6000); do
		[ "$($HF --json guests --all 2>/dev/null | jq -r '.hosts[0] | "\(.state) \(.guests)"' 2>/dev/null)" = "connected $N" ] && break
		sleep 0.01
	done
	b=$(date +%s%N)
	kill "$DPID"
	wait "$DPID" || true
	DPID=
	control stats >"$T/stats"
	echo "$(awk '/^requests/ {print $2}' "$T/stats") $(awk '$1 == "op" && $2 == "Pull" {print $3}' "$T/stats") $(((b - a) / 1000000))"
}
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

for mode in 100 0; do
	: >"$T/runs.$mode"
	for _ in $(seq 1 "$R"); do run "$mode" >>"$T/runs.$mode"; done
done
REQ_B=$(cut -d' ' -f1 "$T/runs.100" | median) PULL_B=$(cut -d' ' -f2 "$T/runs.100" | median)
MS_B=$(cut -d' ' -f3 "$T/runs.100" | median)
REQ_S=$(cut -d' ' -f1 "$T/runs.0" | median) PULL_S=$(cut -d' ' -f2 "$T/runs.0" | median)
MS_S=$(cut -d' ' -f3 "$T/runs.0" | median)
echo "fleet: $N generated Hyper-V VMs (hf-wsman-sim, HTTP, delay-ms $DELAY), $R runs per mode, medians"
echo "listing = connection check + VMs + their KVP items (GuestIntrinsicExchangeItems), until the host is connected"
printf '%-44s %6s requests (%5s Pulls) %8s ms\n' "batched (MaxElements 100, OptimizeEnumeration)" "$REQ_B" "$PULL_B" "$MS_B"
printf '%-44s %6s requests (%5s Pulls) %8s ms\n' "one item per Pull (baseline, libvirt's way)" "$REQ_S" "$PULL_S" "$MS_S"
awk -v a="$REQ_S" -v b="$REQ_B" -v c="$MS_S" -v d="$MS_B" 'BEGIN {printf "ratio one-per-pull/batched: requests %.1fx, wall time %.1fx\n", a/b, c/(d > 0 ? d : 1)}'
