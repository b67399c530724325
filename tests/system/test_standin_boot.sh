#!/bin/bash
# test_standin_boot.sh - self-test of the system test bed: three stand-ins at once (winqga as
# Windows Server 2008 with ESU year 3, the real Linux qemu-ga, a silent agent); checks what
# they answer through libvirt, that fsfreeze really freezes the guest's data disk, that a
# silent agent times out, and that cleanup (normal and on SIGTERM) leaves nothing behind.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)

if [ "${1:-}" = --inner ]; then
	. "$HERE/lib.sh"
	tb_init
	tb_libvirt_up
	tb_image
	if [ "${2:-}" = interrupted ]; then # the outer test sends SIGTERM while this boots
		tb_guest_define victim w2k8-6002-unpatched
		tb_guest_start victim
		echo "INNER-STARTED"
		sleep 120 & # bash runs the TERM trap only between commands: wait is interruptible
		wait $!
		exit 0
	fi
	PASS=0
	check() { # description command...
		local d=$1
		shift
		if "$@"; then
			PASS=$((PASS + 1))
			echo "ok - $d"
		else
			echo "not ok - $d"
			exit 1
		fi
	}
	tb_guest_define win w2k8-6003-esu3
	tb_guest_define lin agent=qemu-ga hostname=linux-standin
	tb_guest_define mute w2k8-6003-noesu agent=silent
	for g in win lin mute; do tb_guest_start $g; done
	tb_wait_agent win 90
	tb_wait_agent lin 90

	osw=$(tb_agent win '{"execute":"guest-get-osinfo"}')
	check "winqga answers guest-get-osinfo as Windows Server 2008" \
		jq -e '.return | .id == "mswindows" and ."version-id" == "2008" and
			."kernel-release" == "6003" and ."kernel-version" == "6.0"' <<<"$osw"
	osl=$(tb_agent lin '{"execute":"guest-get-osinfo"}')
	check "real qemu-ga answers as Linux" jq -e '.return.id == "holdfast-standin" and
		(."return"."kernel-release" | startswith("6."))' <<<"$osl"
	check "domain XML carries libosinfo win/2k8" \
		grep -q '<libosinfo:os id="http://microsoft.com/win/2k8"/>' \
		<(tb_virsh dumpxml "$(tb_dom win)")

	out=$(tb_exec_raw win 'C:\Windows\System32\reg.exe' query \
		'HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion' /v BuildLabEx | od -An -c | tr -s ' ')
	want=$(printf '\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\r\n    BuildLabEx    REG_SZ    6003.21481.amd64fre.vistasp2_ldr_escrow.220406-1606\r\n\r\n' |
		od -An -c | tr -s ' ')
	check "reg query through libvirt: exact bytes" test "$out" = "$want"
	rc=0
	out=$(tb_exec_raw win 'C:\Windows\System32\wbem\WMIC.exe' path SoftwareLicensingProduct \
		"where" "ID='16c08c85-0c8b-4009-9b2b-f1f7319e45f9'" get LicenseStatus | od -An -c | tr -s ' ') || rc=$?
	want=$(printf 'LicenseStatus  \r\r\n1              \r\r\n\r\r\n' | od -An -c | tr -s ' ')
	check "ESU year 3 licence query: exact bytes, exit 0" test "$out/$rc" = "$want/0"

	tb_guest_exec win 'echo before-freeze >/mnt/data/marker && sync' >/dev/null
	check "data written through the agent reads back" \
		test "$(tb_guest_exec win 'cat /mnt/data/marker')" = before-freeze
	# a ticker in the guest appends its clock to the data disk every 0.1 s; a freeze must stall it
	tb_guest_exec win '(while :; do cut -d" " -f1 /proc/uptime >>/mnt/data/ticks; usleep 100000; done) >/dev/null 2>&1 &' >/dev/null
	sleep 1
	check "guest-fsfreeze-freeze freezes the data volume" \
		jq -e '.return == 1' <<<"$(tb_agent win '{"execute":"guest-fsfreeze-freeze"}')"
	check "status frozen" jq -e '.return == "frozen"' \
		<<<"$(tb_agent win '{"execute":"guest-fsfreeze-status"}')"
	sleep 3
	check "thaw thaws it" jq -e '.return == 1' <<<"$(tb_agent win '{"execute":"guest-fsfreeze-thaw"}')"
	sleep 1
	gap=$(tb_guest_exec win 'awk "NR > 1 && \$1 - p > m { m = \$1 - p } { p = \$1 } END { print m + 0 }" /mnt/data/ticks')
	check "a write in the guest blocked while frozen (longest gap ${gap}s >= 2.5s)" \
		awk -v g="$gap" 'BEGIN { exit !(g >= 2.5) }'
	check "FIFREEZE and FITHAW in the agent's console log" \
		grep -q 'FITHAW /mnt/data: ok' "$(tb_console win)"
	check "qemu-ga: virsh domfsfreeze / domfsthaw" \
		bash -c "virsh -c $TB_URI domfsfreeze $(tb_dom lin) | grep -q 'Froze 1' &&
			virsh -c $TB_URI domfsthaw $(tb_dom lin) | grep -q 'Thawed 1'"

	t0=$(tb_now)
	rc=0
	err=$(tb_agent mute '{"execute":"guest-ping"}' 3 2>&1) || rc=$?
	took=$(tb_since "$t0")
	check "silent agent: error in bounded time (${took}s: $err)" \
		awk -v r="$rc" -v t="$took" 'BEGIN { exit !(r != 0 && t < 15) }'
	tb_measure "guests=3 boot_win=${TB_BOOT_S[win]} boot_qemu_ga=${TB_BOOT_S[lin]}"
	echo "inner: $PASS checks passed"
	exit 0
fi

# ---- outer: run the scenario as a child, then prove it left nothing behind
. "$HERE/lib.sh" # for tb_skip / tb_live_pids only; the inner run owns the test bed
[ "$(id -u)" -eq 0 ] || tb_skip "system tests need root"
command -v virsh >/dev/null || tb_skip "virsh missing"
before_libvirtd=$(tb_live_pids libvirtd | wc -l)
before_virtlogd=$(tb_live_pids virtlogd | wc -l)
kvm_before=$(stat -c '%U:%G %a' /dev/kvm 2>/dev/null || echo none)
T0=$(date +%s.%N)

leftovers() { # runid dir
	local n=0
	[ ! -e "$2" ] || { echo "left: $2"; n=1; }
	if pgrep -f "guest=hft-$1-" >/dev/null; then echo "left: QEMU of hft-$1-*"; n=1; fi
	if [ "$(tb_live_pids libvirtd | wc -l)" -gt "$before_libvirtd" ]; then echo "left: libvirtd"; n=1; fi
	if [ "$(tb_live_pids virtlogd | wc -l)" -gt "$before_virtlogd" ]; then echo "left: virtlogd"; n=1; fi
	if [ "$before_libvirtd" != 0 ] &&
		virsh -q -c qemu:///system list --all --name | grep -q "^hft-$1-"; then
		echo "left: domains hft-$1-*"
		n=1
	fi
	[ "$(stat -c '%U:%G %a' /dev/kvm 2>/dev/null || echo none)" = "$kvm_before" ] ||
		{ echo "left: /dev/kvm permissions changed"; n=1; }
	return $n
}

run1=a$$
dir1=$(mktemp -d /tmp/hft.XXXXXX)
rc=0
TB_RUNID=$run1 TB_DIR=$dir1 bash "$0" --inner || rc=$?
[ "$rc" -ne 77 ] || exit 77
[ "$rc" -eq 0 ] || { echo "not ok - scenario failed (exit $rc)"; exit 1; }
leftovers "$run1" "$dir1" || { echo "not ok - cleanup after a passing run"; exit 1; }
echo "ok - cleanup after a passing run left no domains, daemons or files"

run2=b$$
dir2=$(mktemp -d /tmp/hft.XXXXXX)
TB_RUNID=$run2 TB_DIR=$dir2 bash "$0" --inner interrupted >"$dir2.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
	grep -q INNER-STARTED "$dir2.log" 2>/dev/null && break
	sleep 0.1
done
kill -TERM "$pid"
wait "$pid" || true
grep -q "cleanup done" "$dir2.log" || { cat "$dir2.log"; echo "not ok - no cleanup on SIGTERM"; exit 1; }
rm -f "$dir2.log"
leftovers "$run2" "$dir2" || { echo "not ok - cleanup after SIGTERM"; exit 1; }
echo "ok - cleanup after SIGTERM left no domains, daemons or files"
echo "TB-MEASURE selftest_wall_seconds=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
