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
# started, removes users/groups it created, puts /dev/kvm permissions back, removes its files.
#
# Functions (details above each one, here and in guest.sh):
#   tb_init                 root + tools present (else exit 77 "SKIP: ..."), $TB_DIR, traps
#   tb_on_cleanup 'CMD'     run CMD first in tb_cleanup (last registered first): stop holdfastd
#   tb_libvirt_up           qemu:///system answering; users/dirs/virtlogd/libvirtd if needed
#   tb_libvirtd_kill [SIG]  kill the libvirtd the test bed started (guests keep running)
#   tb_libvirtd_restart     start it again and wait until it answers
#   tb_image                stand-in kernel + initramfs, built once per key in $TB_CACHE
#   tb_kvm_probe            0 when a KVM probe guest boots and answers (TB_ACCEL=kvm)
#   tb_guest_define NAME [IDENTITY] [AGENT] [SIZE...] [key=value...]  define (see guest.sh)
#   tb_guest_start NAME / tb_wait_agent NAME [S] / tb_guest_up NAME ...  boot, boot time
#   tb_agent NAME JSON [S]  one agent command through libvirt, prints the reply
#   tb_guest_exec NAME 'sh' run a shell command in the guest (/mnt/data = data disk)
#   tb_exec_raw NAME PATH ARG...  guest-exec a (Windows) program, raw stdout bytes, exit code
#   tb_wait_console NAME REGEX [S]  wait for the serial console (the agent logs every line)
#   tb_dom / tb_console / tb_disk NAME   domain name, console file, data disk of a guest
#   tb_guest_remove NAME    destroy + undefine + files;  tb_cleanup: everything (the trap)
#   tb_measure k=v...       "TB-MEASURE k=v" lines for benches and notes
#   tb_tls_pki DIR          NBD TLS: a test CA, QEMU's server side in /etc/pki/qemu (only when
#                           absent), the client side in DIR; 1 when /etc/pki/qemu is not ours
# Environment: TB_URI (qemu:///system), TB_ACCEL (tcg|kvm), TB_RUNID, TB_PREFIX (hft-RUNID-),
#   TB_DIR (run dir), TB_CACHE (image cache, default $TB_BUILD_ROOT/standin-cache),
#   TB_BUILD_ROOT, TB_AGENT_BIN (static winqga), TB_MEM_MIB (256), TB_DISK_SIZE (64M),
#   TB_KEEP=1 (keep files), TB_KERNEL_VERBOSE=1 (kernel messages on the console),
#   TB_AGENT_TIMEOUT (tb_guest_up, 60 s), TB_EXEC_TIMEOUT (tb_exec_raw, 60 s).
# Bash runs a trap only between commands: wait for long things with "cmd & wait $!" so that
# SIGTERM (meson's timeout) cleans up at once.
set -euo pipefail

TB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TB_URI=${TB_URI:-qemu:///system}
TB_ACCEL=${TB_ACCEL:-tcg}
TB_RUNID=${TB_RUNID:-$(printf '%x%x' $$ "$(date +%s)" | tail -c 8)}
TB_PREFIX=${TB_PREFIX:-hft-$TB_RUNID-}
TB_BUILD_ROOT=${TB_BUILD_ROOT:-${MESON_BUILD_ROOT:-${HF_BUILD:-}}}
TB_CACHE=${TB_CACHE:-${TB_BUILD_ROOT:+$TB_BUILD_ROOT/standin-cache}}
TB_CACHE=${TB_CACHE:-/var/tmp/holdfast-standin-cache}
TB_AGENT_BIN=${TB_AGENT_BIN:-${TB_BUILD_ROOT:+$TB_BUILD_ROOT/tests/system/winqga-static}}
TB_MEM_MIB=${TB_MEM_MIB:-256}
TB_DISK_SIZE=${TB_DISK_SIZE:-64M}
TB_KEEP=${TB_KEEP:-0}
TB_DIR=${TB_DIR:-}
TB_STARTED_LIBVIRTD=0 TB_STARTED_VIRTLOGD=0
TB_CLEANUP_HOOKS=()
TB_DOMAINS=()
TB_KERNEL='' TB_INITRD='' TB_KVM_OK=''
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

# live (not zombie) pids of a program; daemons reparented to a non-reaping init linger as zombies
tb_live_pids() {
	local p
	for p in $(pgrep -x "$1"); do
		[ "$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f1)" = Z ] || echo "$p"
	done
}

tb_on_cleanup() { TB_CLEANUP_HOOKS+=("$1"); }

tb_libvirt_answers() { timeout 10 virsh -q -c "$TB_URI" version >/dev/null 2>&1; }

# Machine setup is shared by concurrent test-bed runs: the first run records what it changed
# (daemons started, accounts created, /dev/kvm permissions) in $TB_STATE/setup, every run
# registers in $TB_STATE/users, and the last one out undoes what was recorded.
TB_STATE=${TB_STATE:-/run/holdfast-tb}
TB_LOCKED=0 TB_REGISTERED=0
tb_state_lock() {
	[ "$TB_LOCKED" = 0 ] || return 0
	mkdir -p "$TB_STATE/users"
	exec 8>"$TB_STATE/lock"
	flock 8
	TB_LOCKED=1
}
tb_state_unlock() {
	[ "$TB_LOCKED" = 1 ] || return 0
	flock -u 8
	exec 8>&-
	TB_LOCKED=0
}
tb_state_add() { echo "$1" >>"$TB_STATE/setup"; }
tb_state_has() { grep -qx "$1" "$TB_STATE/setup" 2>/dev/null; }

tb_ensure_accounts() {
	if ! getent group kvm >/dev/null; then
		groupadd --system kvm && tb_state_add account=group:kvm
	fi
	if ! getent passwd libvirt-qemu >/dev/null; then
		useradd --system -g kvm -d /var/lib/libvirt -s /usr/sbin/nologin -c "Libvirt Qemu" \
			libvirt-qemu && tb_state_add account=user:libvirt-qemu
	fi
	if ! getent group libvirt-qemu >/dev/null; then
		groupadd --system libvirt-qemu && tb_state_add account=group:libvirt-qemu
	fi
	mkdir -p /var/lib/libvirt/images /var/lib/libvirt/qemu /var/log/libvirt/qemu /run/libvirt
}

# libvirt 9.0 re-probes QEMU (30 s per call here) whenever /dev/kvm is not usable by its qemu
# user, as when /dev/kvm is root:root 0600 without udev: make it root:kvm 0660 as udev would;
# the last run out puts it back
tb_kvm_perms() {
	[ -c /dev/kvm ] && getent group kvm >/dev/null || return 0
	local cur
	cur=$(stat -c '%U:%G %a' /dev/kvm)
	[ "$cur" = "root:kvm 660" ] && return 0
	grep -q '^kvm-perms=' "$TB_STATE/setup" 2>/dev/null || tb_state_add "kvm-perms=$cur"
	chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
	tb_log "/dev/kvm was $cur: root:kvm 660 until the test bed is done"
}

# tb_libvirtd_start: start libvirtd (and virtlogd) when they are not running; records it
tb_libvirtd_start() {
	local i
	if [ -z "$(tb_live_pids virtlogd)" ]; then
		virtlogd -d && tb_state_add started=virtlogd
	fi
	if [ -z "$(tb_live_pids libvirtd)" ]; then
		libvirtd -d && tb_state_add started=libvirtd
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
	local t0 rc=0
	t0=$(tb_now)
	tb_state_lock
	echo $$ >"$TB_STATE/users/$TB_RUNID"
	TB_REGISTERED=1
	if ! tb_libvirt_answers; then
		if [ "$TB_URI" != qemu:///system ] || ! command -v groupadd >/dev/null; then
			tb_state_unlock
			tb_skip "$TB_URI does not answer and the test bed cannot start it"
		fi
		tb_ensure_accounts
		tb_kvm_perms
		tb_libvirtd_start || rc=1
	fi
	# libvirtd answers but virtlogd is gone (a run outside the test bed stopped it): domains
	# with file consoles cannot start without it
	if [ "$TB_URI" = qemu:///system ] && [ -z "$(tb_live_pids virtlogd)" ]; then
		virtlogd -d && { tb_state_has started=virtlogd || tb_state_add started=virtlogd; }
	fi
	tb_kvm_perms
	tb_state_unlock
	[ "$rc" = 0 ] || return 1
	TB_STARTED_LIBVIRTD=0 TB_STARTED_VIRTLOGD=0
	tb_state_has started=libvirtd && TB_STARTED_LIBVIRTD=1
	tb_state_has started=virtlogd && TB_STARTED_VIRTLOGD=1
	tb_log "libvirt up in $(tb_since "$t0") s (started by the test bed: libvirtd=$TB_STARTED_LIBVIRTD virtlogd=$TB_STARTED_VIRTLOGD)"
}

# tb_state_release: this run is done; the last run out undoes the recorded machine setup
tb_state_release() {
	local f pid line others
	[ "$TB_REGISTERED" = 1 ] || return 0
	tb_state_lock
	rm -f "$TB_STATE/users/$TB_RUNID"
	for f in "$TB_STATE"/users/*; do
		[ -e "$f" ] || continue
		kill -0 "$(cat "$f")" 2>/dev/null || rm -f "$f"
	done
	others=$(ls "$TB_STATE/users" | wc -l)
	if [ "$others" -gt 0 ]; then
		[ ! -s "$TB_STATE/setup" ] || tb_log "machine setup kept for $others other test-bed run(s)"
	elif [ -f "$TB_STATE/setup" ]; then
		if tb_state_has started=libvirtd; then
			pid=$(tb_libvirtd_pid)
			[ -z "$pid" ] || { kill -TERM "$pid"; tb_wait_gone "$pid"; }
			rm -f /run/libvirtd.pid
		fi
		if tb_state_has started=virtlogd; then
			pid=$(cat /run/virtlogd.pid 2>/dev/null || tb_live_pids virtlogd | head -1)
			[ -z "$pid" ] || { kill -TERM "$pid"; tb_wait_gone "$pid"; }
			rm -f /run/virtlogd.pid
		fi
		line=$(sed -n 's/^kvm-perms=//p' "$TB_STATE/setup")
		[ -z "$line" ] || { chown "${line% *}" /dev/kvm && chmod "${line#* }" /dev/kvm; }
		tb_tls_undo
		for f in user:libvirt-qemu group:libvirt-qemu group:kvm; do
			tb_state_has "account=$f" || continue
			case $f in
			user:*) userdel "${f#user:}" ;;
			group:*) groupdel "${f#group:}" 2>/dev/null ;;
			esac
		done
		rm -f "$TB_STATE/setup"
	fi
	tb_state_unlock
	TB_REGISTERED=0
}

# tb_tls_pki DIR: certificates for NBD over TLS (libvirt's <server tls='yes'>): a CA, a server
# certificate for 127.0.0.1/localhost and a client certificate, made with openssl once for all
# runs in $TB_STATE/pki. libvirt 9.0's QEMU takes the server side from backup_tls_x509_cert_dir
# (default: default_tls_x509_cert_dir, /etc/pki/qemu): installed there only when neither key is
# set in qemu.conf and /etc/pki/qemu does not exist (recorded; the last TLS run out removes
# it, as tb_state_release does after a run that died); a /etc/pki/qemu the test bed did not
# make is never touched (returns 1). DIR gets ca-cert.pem, client-cert.pem, client-key.pem.
TB_TLS_QEMU=/etc/pki/qemu
tb_tls_pki() {
	local dir=$1 k ext
	tb_state_lock
	if ! tb_state_has "tls-pki=$TB_TLS_QEMU"; then
		if [ -e "$TB_TLS_QEMU" ] ||
			grep -Eq '^[[:space:]]*(backup|default)_tls_x509_cert_dir' /etc/libvirt/qemu.conf 2>/dev/null; then
			tb_state_unlock
			tb_log "$TB_TLS_QEMU exists or qemu.conf names a TLS directory: not touching it"
			return 1
		fi
		rm -rf "$TB_STATE/pki" && mkdir -m 700 "$TB_STATE/pki"
		ext=$TB_STATE/pki/ext
		(
			# (set -e does not hold in a subshell left of ||: every step is checked)
			cd "$TB_STATE/pki" &&
				openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca-cert.pem -days 3 \
					-subj "/CN=holdfast test-bed CA" -addext basicConstraints=critical,CA:TRUE \
					-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null || exit 1
			for k in server client; do
				printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n' \
					"$([ $k = server ] && echo serverAuth || echo clientAuth)" >"$ext" || exit 1
				[ $k = client ] || echo 'subjectAltName=IP:127.0.0.1,DNS:localhost' >>"$ext"
				openssl req -newkey rsa:2048 -nodes -keyout "$k-key.pem" -out "$k.csr" \
					-subj "/CN=$([ $k = server ] && echo localhost || echo holdfastd)" 2>/dev/null &&
					openssl x509 -req -in "$k.csr" -CA ca-cert.pem -CAkey ca-key.pem -days 3 \
						-set_serial "0x$(openssl rand -hex 8)" -extfile "$ext" -out "$k-cert.pem" 2>/dev/null ||
					exit 1
			done
		) || { tb_state_unlock; tb_log "openssl could not make the test certificates"; return 1; }
		if [ ! -d /etc/pki ]; then
			mkdir /etc/pki && tb_state_add made-dir=/etc/pki
		fi
		mkdir -m 755 "$TB_TLS_QEMU" && tb_state_add "tls-pki=$TB_TLS_QEMU"
		# QEMU runs as libvirt-qemu: its key readable by that group only
		install -m 644 "$TB_STATE/pki/ca-cert.pem" "$TB_STATE/pki/server-cert.pem" "$TB_TLS_QEMU/"
		install -m 640 -g "$(getent group libvirt-qemu >/dev/null && echo libvirt-qemu || echo root)" \
			"$TB_STATE/pki/server-key.pem" "$TB_TLS_QEMU/"
		tb_log "NBD TLS: test CA and server certificate installed in $TB_TLS_QEMU until the last TLS run is done"
	fi
	mkdir -p "$TB_STATE/tls-users" && echo $$ >"$TB_STATE/tls-users/$TB_RUNID"
	tb_state_unlock
	tb_on_cleanup tb_tls_release
	mkdir -p "$dir" && chmod 700 "$dir" &&
		cp "$TB_STATE/pki/ca-cert.pem" "$TB_STATE/pki/client-cert.pem" "$TB_STATE/pki/client-key.pem" "$dir/"
}
# tb_tls_release: this run is done with TLS; the last one out removes what tb_tls_pki installed
tb_tls_release() {
	local f
	tb_state_lock
	rm -f "$TB_STATE/tls-users/$TB_RUNID"
	for f in "$TB_STATE"/tls-users/*; do
		[ -e "$f" ] || continue
		kill -0 "$(cat "$f")" 2>/dev/null || rm -f "$f"
	done
	[ -n "$(ls "$TB_STATE/tls-users" 2>/dev/null)" ] || tb_tls_undo
	tb_state_unlock
}
# (locked) remove the recorded TLS setup and its records
tb_tls_undo() {
	if tb_state_has "tls-pki=$TB_TLS_QEMU"; then
		rm -rf "$TB_TLS_QEMU" "$TB_STATE/pki"
		sed -i "\|^tls-pki=$TB_TLS_QEMU\$|d" "$TB_STATE/setup"
		tb_log "NBD TLS: $TB_TLS_QEMU removed"
	fi
	if tb_state_has made-dir=/etc/pki; then
		rmdir /etc/pki 2>/dev/null || true
		sed -i '\|^made-dir=/etc/pki$|d' "$TB_STATE/setup"
	fi
}

tb_libvirtd_pid() { cat /run/libvirtd.pid 2>/dev/null || tb_live_pids libvirtd | head -1; }

# tb_libvirtd_kill [SIGNAL]: kill the libvirtd this test bed started (reconnect tests);
# running guests stay up. Refuses (exit 77) when libvirtd belongs to someone else.
tb_libvirtd_kill() {
	local pid sig=${1:-KILL} i
	[ "$TB_STARTED_LIBVIRTD" = 1 ] || tb_skip "libvirtd was not started by the test bed; not killing it"
	# (other test-bed runs sharing it see a restart too: that is what their guests survive)
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
