# lib.sh - the system test bed: real libvirtd + QEMU with stand-in Windows Server 2008 guests.
# Sourced (bash) by the system tests, the benchmarks and the demo:
#
#   . tests/system/lib.sh
#   tb_init                                # checks (exit 77 = skip), run dir, cleanup trap
#   tb_libvirt_up                          # qemu:///system, started here when not running
#   tb_image                               # stand-in kernel + initramfs (cached)
#   tb_guest_define web1 w2k8-6003-esu3    # identity; agent=winqga by default
#   tb_guest_start web1; tb_wait_agent web1 60
#   tb_guest_exec web1 'echo hello >/mnt/data/f'
#
# Everything it creates is named $TB_PREFIX* (domains) or lives in $TB_DIR (files); tb_cleanup
# (trap on EXIT, INT, TERM) destroys and undefines those domains, stops only the daemons it
# started, removes users/groups it created and its files. See tests/system/README.md.
set -euo pipefail

TB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TB_URI=${TB_URI:-qemu:///system}
TB_ACCEL=${TB_ACCEL:-tcg}
TB_RUNID=${TB_RUNID:-$(printf '%x%x' $$ "$(date +%s)" | tail -c 8)}
TB_PREFIX=${TB_PREFIX:-hft-$TB_RUNID-}
TB_BUILD_ROOT=${TB_BUILD_ROOT:-${MESON_BUILD_ROOT:-${HF_BUILD:-}}}
TB_CACHE=${TB_CACHE:-${TB_BUILD_ROOT:+$TB_BUILD_ROOT/standin-cache}}
TB_CACHE=${TB_CACHE:-/var/tmp/holdfast-standin-cache}
TB_AGENT_BIN=${TB_AGENT_BIN:-${TB_BUILD_ROOT:+$TB_BUILD_ROOT/tests/system/winqga}}
TB_MEM_MIB=${TB_MEM_MIB:-256}
TB_DISK_SIZE=${TB_DISK_SIZE:-64M}
TB_KEEP=${TB_KEEP:-0}
TB_DIR=${TB_DIR:-}
TB_STARTED_LIBVIRTD=${TB_STARTED_LIBVIRTD:-0}
TB_STARTED_VIRTLOGD=${TB_STARTED_VIRTLOGD:-0}
TB_CREATED_ACCOUNTS=()
TB_DOMAINS=()
TB_KERNEL= TB_INITRD= TB_KVM_OK=
declare -A TB_T_START=() TB_BOOT_S=()

tb_log() { printf 'tb[%s]: %s\n' "$(date +%T.%N | cut -c1-12)" "$*" >&2; }
tb_now() { date +%s.%N; }
tb_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }
# one machine-readable measurement line: TB-MEASURE what=value [k=v...]
tb_measure() { echo "TB-MEASURE $*"; }
tb_skip() { echo "SKIP: $*"; exit 77; }
tb_virsh() { virsh -q -c "$TB_URI" "$@"; }

# tb_init: the checks a system test needs (missing pieces -> exit 77), run dir, traps
tb_init() {
	local p
	[ "$(id -u)" -eq 0 ] || tb_skip "system tests need root (qemu:///system, libvirt-qemu user)"
	for p in virsh libvirtd virtlogd qemu-system-x86_64 qemu-img mkfs.ext4 jq base64 busybox \
		dpkg-deb apt-get; do
		command -v "$p" >/dev/null 2>&1 || tb_skip "'$p' is missing (install: tests/setup-deps.sh run)"
	done
	[ -n "$TB_AGENT_BIN" ] && [ -x "$TB_AGENT_BIN" ] ||
		tb_skip "winqga not built (TB_AGENT_BIN=$TB_AGENT_BIN); run from meson test"
	if [ -z "$TB_DIR" ]; then
		TB_DIR=$(mktemp -d /tmp/hft.XXXXXX)
	fi
	chmod 755 "$TB_DIR" # QEMU runs as libvirt-qemu: it must reach its disks and console
	trap 'tb_cleanup' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	tb_log "run $TB_RUNID: domains $TB_PREFIX*, files $TB_DIR, cache $TB_CACHE"
}

tb_libvirt_answers() { timeout 10 virsh -q -c "$TB_URI" version >/dev/null 2>&1; }

tb_ensure_accounts() {
	if ! getent group kvm >/dev/null; then
		groupadd --system kvm && TB_CREATED_ACCOUNTS+=(group:kvm)
	fi
	if ! getent passwd libvirt-qemu >/dev/null; then
		useradd --system -g kvm -d /var/lib/libvirt -s /usr/sbin/nologin -c "Libvirt Qemu" \
			libvirt-qemu && TB_CREATED_ACCOUNTS+=(user:libvirt-qemu)
	fi
	if ! getent group libvirt-qemu >/dev/null; then
		groupadd --system libvirt-qemu && TB_CREATED_ACCOUNTS+=(group:libvirt-qemu)
	fi
	mkdir -p /var/lib/libvirt/images /var/lib/libvirt/qemu /var/log/libvirt/qemu /run/libvirt
}

# tb_libvirtd_start: start libvirtd (and virtlogd) when they are not running; remembers it did
tb_libvirtd_start() {
	local i
	if ! pgrep -x virtlogd >/dev/null; then
		virtlogd -d && TB_STARTED_VIRTLOGD=1
	fi
	if ! pgrep -x libvirtd >/dev/null; then
		libvirtd -d && TB_STARTED_LIBVIRTD=1
	fi
	for i in $(seq 1 200); do
		tb_libvirt_answers && return 0
		sleep 0.05
	done
	tb_log "libvirtd does not answer on $TB_URI"
	return 1
}

# tb_libvirt_up: qemu:///system usable; started here (without systemd) when not running
tb_libvirt_up() {
	local t0
	t0=$(tb_now)
	if tb_libvirt_answers; then
		tb_log "libvirt already running on $TB_URI (left as it is)"
		return 0
	fi
	[ "$TB_URI" = qemu:///system ] || tb_skip "$TB_URI does not answer"
	tb_ensure_accounts
	exec 8>/run/lock/holdfast-tb-libvirt.lock
	flock 8
	tb_libvirtd_start || { flock -u 8; return 1; }
	flock -u 8
	tb_log "libvirt up in $(tb_since "$t0") s (started: libvirtd=$TB_STARTED_LIBVIRTD virtlogd=$TB_STARTED_VIRTLOGD)"
}

tb_libvirtd_pid() { cat /run/libvirtd.pid 2>/dev/null || pgrep -x libvirtd | head -1; }

# tb_libvirtd_kill [SIGNAL]: kill the libvirtd this test bed started (reconnect tests);
# running guests stay up. Refuses (exit 77) when libvirtd belongs to someone else.
tb_libvirtd_kill() {
	local pid sig=${1:-KILL} i
	[ "$TB_STARTED_LIBVIRTD" = 1 ] || tb_skip "libvirtd was not started by the test bed; not killing it"
	pid=$(tb_libvirtd_pid)
	[ -n "$pid" ] || return 0
	kill -"$sig" "$pid"
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	rm -f /run/libvirtd.pid
	tb_log "libvirtd $pid killed ($sig)"
}

# tb_libvirtd_restart: start it again after tb_libvirtd_kill and wait until it answers
tb_libvirtd_restart() {
	local t0
	t0=$(tb_now)
	libvirtd -d
	local i
	for i in $(seq 1 200); do
		tb_libvirt_answers && break
		sleep 0.05
	done
	tb_libvirt_answers || return 1
	tb_log "libvirtd back in $(tb_since "$t0") s"
}

# tb_image: the stand-in kernel + initramfs (built from Debian packages, cached by key)
tb_image() {
	local line t0
	t0=$(tb_now)
	line=$("$TB_HERE/standin/build-image.sh" --cache "$TB_CACHE" --agent "$TB_AGENT_BIN" | tail -1)
	local KEY KERNEL INITRD CACHED BUILD_SECONDS
	eval "$line"
	# private copies: libvirt relabels what a domain uses; the cache stays untouched
	cp "$KERNEL" "$TB_DIR/vmlinuz"
	cp "$INITRD" "$TB_DIR/initrd.img"
	TB_KERNEL=$TB_DIR/vmlinuz TB_INITRD=$TB_DIR/initrd.img
	tb_log "stand-in image $KEY ($([ "$CACHED" = 1 ] && echo cached || echo built) in $BUILD_SECONDS s)"
	tb_measure "image_seconds=$BUILD_SECONDS cached=$CACHED key=$KEY"
}

. "$TB_HERE/guest.sh"
