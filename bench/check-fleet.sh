#!/bin/bash
# check-fleet.sh - issue 4's benchmark on the system test bed (root, libvirtd + QEMU/TCG):
# 8 running stand-in guests (winqga answering as Windows Server 2008, mixed identities).
#  1. fleet check wall time (`holdfast --json check --refresh` of all 8) vs the slowest
#     single-guest check measured in the same run (each guest alone, --refresh); goal <= 1.5x.
#  2. the collector's overhead: holdfastd's time for one guest's check vs the same agent
#     commands sent raw with `virsh qemu-agent-command` (guest-info, guest-get-osinfo and one
#     guest-exec + guest-exec-status loop per program of the check), same guest, same run.
# Usage: bench/check-fleet.sh [BUILD_DIR] [RUNS]     (prints TB-MEASURE lines and ratios)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
RUNS=${2:-3}
export TB_BUILD_ROOT=$BUILD HF_BUILD=$BUILD
. "$SRC/tests/system/lib.sh"
tb_init
tb_libvirt_up
tb_image

IDS=(w2k8-6002-unpatched w2k8-6003-noesu w2k8-6003-esu3 w2k8r2-7601 w2k8-6003-esu3 w2k8-6003-noesu
	w2k8-6002-unpatched w2k8-6003-esu3)
for i in "${!IDS[@]}"; do tb_guest_define "b$i" "${IDS[$i]}"; done
for i in "${!IDS[@]}"; do tb_guest_start "b$i"; done
for i in "${!IDS[@]}"; do tb_wait_agent "b$i" 180; done

D=$TB_DIR/hf
mkdir -p "$D"
printf '[daemon]\nsocket = %s/s.sock\nstate-dir = %s/state\nlog-level = warning\ncheck-interval = 0\ncheck-timeout = 20\ncheck-parallel = 8\n[host tb]\nuri = %s\nguests = %s*\n' \
	"$D" "$D" "$TB_URI" "$TB_PREFIX" >"$D/hf.conf"
"$BUILD/daemon/holdfastd" --foreground --config "$D/hf.conf" 2>"$D/d.log" &
DPID=$!
trap 'rc=$?; kill $DPID 2>/dev/null || true; wait $DPID 2>/dev/null || true; (exit $rc) || true; tb_cleanup' EXIT
HF="$BUILD/cli/holdfast --socket $D/s.sock"
for _ in $(seq 1 200); do
	$HF --json guests --all 2>/dev/null | jq -e '(.guests | length) == 8' >/dev/null && break
	sleep 0.1
done
ms() { echo $(($(date +%s%N) / 1000000)); }

best_fleet= best_slowest=
for r in $(seq 1 "$RUNS"); do
	slowest=0
	for i in "${!IDS[@]}"; do
		a=$(ms)
		$HF --json check --refresh "$(tb_dom "b$i")" >"$D/one.json" || true
		b=$(ms)
		jq -e '.checks[0].error == null' "$D/one.json" >/dev/null || echo "warning: b$i: $(jq -c '.checks[0].error' "$D/one.json")"
		[ $((b - a)) -gt "$slowest" ] && slowest=$((b - a))
	done
	a=$(ms)
	$HF --json check --refresh >"$D/fleet.json" || true
	b=$(ms)
	fleet=$((b - a))
	echo "run $r: fleet of 8 ${fleet} ms, slowest single guest ${slowest} ms ($(jq '.summary' -c "$D/fleet.json"))"
	tb_measure "fleet_check_ms=$fleet slowest_single_ms=$slowest run=$r"
	[ -z "$best_fleet" ] || [ "$fleet" -lt "$best_fleet" ] && best_fleet=$fleet
	[ -z "$best_slowest" ] || [ "$slowest" -lt "$best_slowest" ] && best_slowest=$slowest
done
awk -v f="$best_fleet" -v s="$best_slowest" 'BEGIN {printf "fleet/slowest-single (best of runs): %d ms / %d ms = %.2fx (goal <= 1.5x)\n", f, s, f / s}'

# ---- collector overhead vs raw agent round trips (guest b2, ESU year 3) ----
DOM=$(tb_dom b2)
raw_exec() { # PATH ARG...: guest-exec + guest-exec-status until exited, through virsh
	local req pid r
	req=$(jq -nc --arg p "$1" '$ARGS.positional as $a | {execute: "guest-exec", arguments: {path: $p, arg: $a[1:], "capture-output": true}}' --args "$@")
	pid=$(tb_virsh qemu-agent-command "$DOM" "$req" | jq .return.pid)
	while :; do
		r=$(tb_virsh qemu-agent-command "$DOM" "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":$pid}}")
		[ "$(jq .return.exited <<<"$r")" = true ] && break
		sleep 0.01
	done
}
raw_check() {
	tb_virsh qemu-agent-command "$DOM" '{"execute":"guest-info"}' >/dev/null
	tb_virsh qemu-agent-command "$DOM" '{"execute":"guest-get-osinfo"}' >/dev/null
	raw_exec 'C:\Windows\System32\reg.exe' query 'HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
	raw_exec 'C:\Windows\System32\reg.exe' query 'HKLM\SYSTEM\CurrentControlSet\Control\ProductOptions' /v ProductType
	raw_exec 'C:\Windows\System32\wbem\WMIC.exe' datafile where "name='C:\\\\Windows\\\\System32\\\\ntoskrnl.exe'" get Version /value
	raw_exec 'C:\Windows\System32\wbem\WMIC.exe' qfe get HotFixID
	for id in 553673ed-6ddf-419c-a153-b760283472fd 04fa0286-fa74-401e-bbe9-fbfbb158010d 16c08c85-0c8b-4009-9b2b-f1f7319e45f9; do
		raw_exec 'C:\Windows\System32\wbem\WMIC.exe' path SoftwareLicensingProduct where "ID='$id'" get ID,LicenseStatus /value
	done
}
best_raw= best_hf= best_cli=
for r in $(seq 1 "$RUNS"); do
	a=$(ms); raw_check; b=$(ms)
	raw=$((b - a))
	a=$(ms); $HF --json check --refresh "$DOM" >"$D/one.json" || true; b=$(ms)
	cli=$((b - a))
	hfms=$(jq '.checks[0].agent.ms' "$D/one.json")
	calls=$(jq '.checks[0].agent.calls' "$D/one.json")
	echo "run $r: raw virsh round trips ${raw} ms; holdfast check ${cli} ms end to end, collector ${hfms} ms for $calls agent calls"
	tb_measure "raw_virsh_ms=$raw holdfast_cli_ms=$cli collector_ms=$hfms agent_calls=$calls run=$r"
	[ -z "$best_raw" ] || [ "$raw" -lt "$best_raw" ] && best_raw=$raw
	[ -z "$best_hf" ] || [ "$hfms" -lt "$best_hf" ] && best_hf=$hfms
	[ -z "$best_cli" ] || [ "$cli" -lt "$best_cli" ] && best_cli=$cli
done
awk -v h="$best_hf" -v c="$best_cli" -v r="$best_raw" 'BEGIN {printf "collector/raw virsh (best of runs): %d ms / %d ms = %.2fx; end to end via holdfast %d ms = %.2fx\n", h, r, h / r, c, c / r}'
echo "(raw virsh pays a process start and a libvirt connection per call; the collector reuses one connection)"
