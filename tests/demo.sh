#!/bin/bash
# demo.sh - the README's first command: install what is missing, build, start holdfastd on the
# bundled demo fleet and walk through guests, snapshots, build checks, DR copies and a test
# boot of one (QEMU only), and jobs with the holdfast CLI.
#   HF_DEMO=testdrv   use libvirt's test driver fleet (configs/demo-fleet.xml)
#   HF_DEMO=qemu      three stand-in Windows 2008 guests on real QEMU (needs root, libvirtd)
#   default: qemu when the machine allows it, else testdrv, saying which and why.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${HF_DEMO_BUILD:-$SRC/build}
cd "$SRC"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$'; printf ' %q' "$@"; printf '\n'; "$@"; }

bash tests/setup-deps.sh run
say "building holdfast"
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" >/dev/null
ninja -C "$BUILD" >/dev/null
PATH=$BUILD/cli:$BUILD/daemon:$PATH

MODE=${HF_DEMO:-auto}
qemu_ok() { # what the QEMU demo needs; the reason on stdout when something is missing
	[ "$(id -u)" -eq 0 ] || { echo "it needs root (qemu:///system)"; return 1; }
	for p in qemu-system-x86_64 virsh libvirtd virtlogd qemu-img mkfs.ext4 busybox dpkg-deb; do
		command -v "$p" >/dev/null || { echo "'$p' is missing"; return 1; }
	done
	[ -x "$BUILD/tests/system/winqga-static" ] || { echo "the stand-in agent was not built"; return 1; }
}
if [ "$MODE" = auto ]; then
	if why=$(qemu_ok); then
		MODE=qemu
	else
		MODE=testdrv
		echo "demo: real QEMU is not possible here ($why); using libvirt's test driver"
	fi
fi

RUN=$BUILD/demo-run
mkdir -p "$RUN"
export HOLDFAST_SOCKET=$RUN/holdfastd.sock
DPID=
stop_daemon() { [ -z "$DPID" ] || { kill -TERM "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; DPID=; }; }
trap stop_daemon EXIT

if [ "$MODE" = qemu ]; then
	say "demo on real QEMU (TCG): three stand-in Windows Server 2008 guests"
	export TB_BUILD_ROOT=$BUILD TB_AGENT_BIN=$BUILD/tests/system/winqga-static
	export TB_CACHE=$BUILD/standin-cache TB_PREFIX=hfdemo-
	# shellcheck source=system/lib.sh
	. tests/system/lib.sh
	tb_init # its cleanup (EXIT) removes the guests and stops what it started
	tb_on_cleanup stop_daemon
	tb_libvirt_up
	tb_image
	# 6002 never patched past March 2019; 6003 patched to January 2020 without an ESU licence;
	# 6003 with ESU year 3 and its May 2022 rollup
	tb_guest_define dc01 w2k8-6002-unpatched
	tb_guest_define sql01 w2k8-6003-noesu
	tb_guest_define app01 w2k8-6003-esu3
	for g in dc01 sql01 app01; do tb_guest_start $g; done
	for g in dc01 sql01 app01; do tb_wait_agent $g 120; done
	CONF=$RUN/demo-qemu.conf
	printf '[daemon]\nsocket = %s\nstate-dir = %s/state\n[host lab]\nuri = qemu:///system\nguests = hfdemo-*\n[drstore dr]\npath = %s/drstore\n' \
		"$HOLDFAST_SOCKET" "$RUN" "$RUN" >"$CONF"
	rm -rf "$RUN/drstore"
	GUEST=$(tb_dom sql01)
else
	say "demo on libvirt's test driver (configs/demo-fleet.xml)"
	CONF=$BUILD/configs/demo.conf
	GUEST=w2k8-sql01
fi
rm -rf "$RUN/state"
run holdfastd --check-config --config "$CONF"
holdfastd --foreground --config "$CONF" 2>"$RUN/holdfastd.log" &
DPID=$!
for _ in $(seq 1 100); do holdfast version >/dev/null 2>&1 && break; sleep 0.1; done
sleep 0.5

say "who is there"
run holdfast version
run holdfast guests
run holdfast guests --all
run holdfast guest show "$GUEST"
say "snapshots"
run holdfast snapshot list "$GUEST"
run holdfast snapshot create "$GUEST" --name before-patching --description "before the monthly rollup" --quiesce try
run holdfast snapshot create "$GUEST"
run holdfast snapshot list "$GUEST"
run holdfast snapshot revert "$GUEST" before-patching
run holdfast snapshot delete "$GUEST" before-patching
FOREIGN=$(holdfast --json snapshot list "$GUEST" | jq -r '[.snapshots[] | select(.owner == "foreign")][0].name // empty')
if [ -n "$FOREIGN" ]; then
	say "a snapshot holdfast did not make is protected"
	run holdfast snapshot delete "$GUEST" "$FOREIGN" || echo "(refused, exit $?: as it should be)"
fi
if [ "$MODE" = qemu ]; then
	say "Windows build and ESU status inside the guests"
	run holdfast check
	run holdfast --csv check
	say "disaster-recovery copies: a full, data written in the guest, an incremental of what changed"
	run holdfast dr copy "$GUEST"
	tb_guest_exec sql01 'dd if=/dev/urandom of=/mnt/data/orders.db bs=1M count=2 2>/dev/null && sync'
	run holdfast dr copy "$GUEST"
	run holdfast dr list "$GUEST"
	run holdfast dr verify "$GUEST"
	say "the store's copy compared byte for byte with the guest at one instant (a new incremental)"
	run holdfast dr verify "$GUEST" --compare
	say "a test boot of the newest point (isolated, no network): the agent's answer time is the RTO"
	run holdfast dr test "$GUEST"
	run holdfast dr status
fi
say "jobs"
run holdfast jobs list
run holdfast --json jobs show 1 | head -n 20
say "done: the daemon log is in $RUN/holdfastd.log"
