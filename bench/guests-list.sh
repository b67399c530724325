#!/bin/bash
# guests-list.sh - issue 2's benchmark: a generated test-driver fleet of N guests (default 1000).
# Measures `holdfast --json guests` latency (p50/p99 over R runs) and holdfastd's RSS, beside
# `virsh -c test:///FLEET list --all` on the same fleet in the same run, and prints the ratio.
# Usage: bench/guests-list.sh [BUILD_DIR] [N] [RUNS]
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
N=${2:-1000}
R=${3:-50}
T=$(mktemp -d /tmp/hfbench.XXXXXX)
trap 'kill $DPID 2>/dev/null; wait $DPID 2>/dev/null; rm -rf "$T"' EXIT
DPID=

{
	echo "<node><cpu><nodes>1</nodes><sockets>1</sockets><cores>2</cores><threads>1</threads><mhz>2400</mhz><model>x86_64</model></cpu><memory>25165824</memory>"
	for i in $(seq 1 "$N"); do
		printf "<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'><name>w2k8-%04d</name><uuid>2008b000-0000-4000-8000-%012d</uuid><title>bench guest %d</title>" "$i" "$i" "$i"
		printf "<metadata><libosinfo:libosinfo xmlns:libosinfo='http://libosinfo.org/xmlns/libvirt/domain/1.0'><libosinfo:os id='http://microsoft.com/win/2k8'/></libosinfo:libosinfo></metadata>"
		printf "<memory unit='GiB'>4</memory><vcpu>2</vcpu><os><type arch='x86_64'>hvm</type></os><devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/var/lib/libvirt/images/b%04d.qcow2'/><target dev='vda' bus='virtio'/></disk></devices><test:runstate>%d</test:runstate></domain>\n" "$i" $((i % 3 == 0 ? 5 : 1))
	done
	echo "</node>"
} >"$T/fleet.xml"

printf '[daemon]\nsocket = %s/s.sock\nstate-dir = %s/state\nlog-level = warning\n[host bench]\nuri = test://%s/fleet.xml\n' "$T" "$T" "$T" >"$T/hf.conf"
"$BUILD/daemon/holdfastd" --foreground --config "$T/hf.conf" 2>"$T/d.log" &
DPID=$!
HF="$BUILD/cli/holdfast --socket $T/s.sock"
for _ in $(seq 1 300); do
	[ "$($HF --json guests 2>/dev/null | jq '.guests | length' 2>/dev/null || echo 0)" = "$N" ] && break
	sleep 0.1
done

# times in ms, one per line
measure() { for _ in $(seq 1 "$R"); do
	local a b; a=$(date +%s%N); "$@" >/dev/null; b=$(date +%s%N); echo $(((b - a) / 1000)); done | sort -n; }
pct() { awk -v p="$1" '{v[NR]=$1} END {i=int((NR-1)*p/100)+1; printf "%.1f", v[i]/1000}'; }

measure $HF --json guests >"$T/hf.txt"
measure virsh -c "test://$T/fleet.xml" list --all >"$T/virsh.txt"
HF50=$(pct 50 <"$T/hf.txt") HF99=$(pct 99 <"$T/hf.txt")
V50=$(pct 50 <"$T/virsh.txt") V99=$(pct 99 <"$T/virsh.txt")
RSS=$(awk '/VmRSS/ {print $2}' /proc/$DPID/status)
COUNT=$($HF --json guests | jq '.guests | length')
echo "fleet: $N guests (test driver), $R runs each; holdfast returned $COUNT guests with disks and OS"
printf '%-40s p50 %8s ms   p99 %8s ms\n' "holdfast --json guests" "$HF50" "$HF99"
printf '%-40s p50 %8s ms   p99 %8s ms\n' "virsh list --all (baseline)" "$V50" "$V99"
awk -v a="$HF50" -v b="$V50" -v c="$HF99" -v d="$V99" 'BEGIN {printf "ratio holdfast/virsh: p50 %.2fx, p99 %.2fx\n", a/b, c/d}'
echo "holdfastd RSS: $((RSS / 1024)) MiB ($RSS KiB) with $N guests cached"
