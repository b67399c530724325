#!/bin/bash
# nightly.sh - issue 5's benchmark: one nightly run of a policy over a generated test-driver
# fleet of N guests (default 500), driven by the test clock. Prints the run's wall time,
# holdfastd's RSS (peak and now) and CPU time (from /proc), and, as the baseline measured in
# the same run, the same N guests snapshotted by N direct snapshot.create jobs (no scheduler):
# the ratio is the scheduler's overhead (journal fsync per guest, retention, bookkeeping).
# Usage: bench/nightly.sh [BUILD_DIR] [N]
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
N=${2:-500}
T=$(mktemp -d /tmp/hfbench.XXXXXX)
DPID=
trap 'kill $DPID 2>/dev/null; wait $DPID 2>/dev/null; rm -rf "$T"' EXIT

{
	echo "<node><cpu><nodes>1</nodes><sockets>1</sockets><cores>2</cores><threads>1</threads><mhz>2400</mhz><model>x86_64</model></cpu><memory>25165824</memory>"
	for i in $(seq 1 "$N"); do
		printf "<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'><name>w2k8-%04d</name><uuid>2008b000-0000-4000-8000-%012d</uuid>" "$i" "$i"
		printf "<metadata><libosinfo:libosinfo xmlns:libosinfo='http://libosinfo.org/xmlns/libvirt/domain/1.0'><libosinfo:os id='http://microsoft.com/win/2k8'/></libosinfo:libosinfo></metadata>"
		printf "<memory unit='GiB'>4</memory><vcpu>2</vcpu><os><type arch='x86_64'>hvm</type></os><devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/var/lib/libvirt/images/b%04d.qcow2'/><target dev='vda' bus='virtio'/></disk></devices><test:runstate>%d</test:runstate></domain>\n" "$i" $((i % 3 == 0 ? 5 : 1))
	done
	echo "</node>"
} >"$T/fleet.xml"

cat >"$T/hf.conf" <<CONF
[daemon]
socket = $T/s.sock
state-dir = $T/state
log-level = warning
max-jobs-per-host = 8
check-interval = 0
[host bench]
uri = test://$T/fleet.xml
[policy nightly]
schedule = *-*-* 02:30:00
guests = w2k8-*
quiesce = no
max-concurrent = 16
keep-daily = 7
CONF
HOLDFAST_TEST_CLOCK=1 HOLDFAST_TEST_CLOCK_START=2027-01-01T00:00:00Z \
	"$BUILD/daemon/holdfastd" --foreground --config "$T/hf.conf" 2>"$T/d.log" &
DPID=$!
HF="$BUILD/cli/holdfast --socket $T/s.sock"
for _ in $(seq 1 300); do
	$HF --json policy list 2>/dev/null | jq -e '.ready' >/dev/null 2>&1 && break
	sleep 0.05
done
cpu() { awk '{print $14 + $15}' /proc/$DPID/stat; } # utime + stime, clock ticks
HZ=$(getconf CLK_TCK)
ms() { echo $(($(date +%s%N) / 1000000)); }
wait_run() {
	while ! $HF --json policy list | jq -e '.policies[0].running == false and .policies[0].last_run != null' >/dev/null; do sleep 0.02; done
}

c0=$(cpu) a=$(ms)
$HF debug clock --set 2027-01-01T02:30:00Z >/dev/null
wait_run
b=$(ms) c1=$(cpu)
DONE=$($HF --json policy list | jq '.policies[0].last_run.counts.done')

# baseline: the same guests, one direct snapshot.create job each (same per-host limit)
c2=$(cpu) d=$(ms)
for i in $(seq 1 "$N"); do $HF --no-wait snapshot create "$(printf 'w2k8-%04d' "$i")" --name direct >/dev/null; done
while [ "$($HF --json jobs list --state queued | jq '.jobs | length')" != 0 ] ||
	[ "$($HF --json jobs list --state running | jq '.jobs | length')" != 0 ]; do sleep 0.02; done
e=$(ms) c3=$(cpu)

RSS=$(awk '/VmRSS/ {print $2}' /proc/$DPID/status)
HWM=$(awk '/VmHWM/ {print $2}' /proc/$DPID/status)
echo "fleet: $N guests (test driver), policy nightly (max-concurrent 16, host max-jobs 8)"
printf '%-46s %7d ms  cpu %6.2f s  (%d guests done)\n' "nightly run (snapshot + retention + journal)" $((b - a)) "$(echo "($c1 - $c0) / $HZ" | bc -l)" "$DONE"
printf '%-46s %7d ms  cpu %6.2f s\n' "baseline: $N direct snapshot.create jobs" $((e - d)) "$(echo "($c3 - $c2) / $HZ" | bc -l)"
awk -v a=$((b - a)) -v b=$((e - d)) 'BEGIN {printf "ratio nightly/direct wall time: %.2fx\n", a / b}'
echo "holdfastd RSS: $((RSS / 1024)) MiB now, peak $((HWM / 1024)) MiB; total CPU $(echo "$(cpu) / $HZ" | bc -l | xargs printf '%.2f') s"
