#!/bin/bash
# demo.sh - the README's first command: install what is missing, build, start holdfastd on the
# bundled demo fleet and walk through guests, snapshots and jobs with the holdfast CLI.
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
if [ "$MODE" = auto ]; then
	if [ -f tests/system/lib.sh ] && [ "$(id -u)" -eq 0 ] && [ -e /usr/bin/qemu-system-x86_64 ]; then
		MODE=qemu
	else
		MODE=testdrv
		echo "demo: using libvirt's test driver (real QEMU needs root, qemu-system-x86 and the test bed)"
	fi
fi

RUN=$BUILD/demo-run
mkdir -p "$RUN"
export HOLDFAST_SOCKET=$RUN/holdfastd.sock
DPID=
stop() {
	[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null || true
	[ "$MODE" = qemu ] && declare -F tb_cleanup >/dev/null && tb_cleanup || true
}
trap stop EXIT

if [ "$MODE" = qemu ]; then
	say "demo on real QEMU (TCG): three stand-in Windows Server 2008 guests"
	# shellcheck source=/dev/null
	. tests/system/lib.sh
	tb_demo_fleet "$RUN" # defines and starts the stand-ins, writes $RUN/demo-qemu.conf
	CONF=$RUN/demo-qemu.conf
	GUEST=$(tb_demo_first_guest)
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
say "jobs"
run holdfast jobs list
run holdfast --json jobs show 1 | head -n 20
say "done: the daemon log is in $RUN/holdfastd.log"
