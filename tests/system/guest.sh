# guest.sh - stand-in guests for the test bed (sourced by lib.sh; see lib.sh for the overview)

tb_dom() { echo "$TB_PREFIX$1"; }            # full libvirt name of a test-bed guest
tb_console() { echo "$TB_DIR/$1.console"; }  # its serial console (append='on')
tb_disk() { echo "$TB_DIR/$1-data.qcow2"; }  # its data disk (ext4, /mnt/data in the guest)

tb_identity_file() { # NAME or PATH -> the identity file, or empty
	if [ -f "$1" ]; then
		echo "$1"
	elif [ -f "$TB_HERE/identities/$1" ]; then
		echo "$TB_HERE/identities/$1"
	fi
}

# tb_make_disk PATH SIZE [POPULATE_DIR]: an ext4-formatted qcow2 disk
tb_make_disk() {
	local raw=$1.raw
	truncate -s "$2" "$raw"
	mkfs.ext4 -q -F -L hfdata -E root_owner=0:0 ${3:+-d "$3"} "$raw"
	qemu-img convert -q -f raw -O qcow2 "$raw" "$1"
	rm -f "$raw"
}

# tb_kvm_probe: KVM only counts when a probe guest really boots and answers its agent
tb_kvm_probe() {
	[ -n "$TB_KVM_OK" ] && { [ "$TB_KVM_OK" = 1 ]; return; }
	TB_KVM_OK=0
	if [ ! -c /dev/kvm ] || ! qemu-system-x86_64 -accel help 2>/dev/null | grep -qx kvm; then
		tb_log "KVM probe: no usable /dev/kvm"
		return 1
	fi
	getent group kvm >/dev/null && chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
	TB_ACCEL_FORCE=kvm tb_guest_define kvmprobe agent=winqga
	if tb_guest_start kvmprobe && tb_wait_agent kvmprobe 30 &&
		[ "$(tb_virsh domstate "$(tb_dom kvmprobe)")" = running ]; then
		TB_KVM_OK=1
	fi
	tb_guest_remove kvmprobe
	tb_log "KVM probe: $([ "$TB_KVM_OK" = 1 ] && echo "guest booted and answered: using KVM" || echo "guest did not come up: using TCG")"
	[ "$TB_KVM_OK" = 1 ]
}

# tb_guest_define NAME [IDENTITY] [AGENT] [SIZE...] [key=value...]
#   identity=NAME|FILE  identity (tests/system/identities/NAME, or a file put on the data disk)
#   agent=winqga|qemu-ga|silent|none|nochannel   (none: channel, no agent; nochannel: neither)
#   disk=SIZE           data disk size (default $TB_DISK_SIZE); extra-disk=SIZE adds vdb, vdc...
#   set=key=value       identity override for winqga (repeatable)
#   os=win2k8|win2k8r2|none|URL   libosinfo id in the domain metadata (default from identity)
#   mem=MiB  hostname=NAME (qemu-ga guests)
tb_guest_define() {
	local name=$1 a identity='' agent=winqga disk=$TB_DISK_SIZE mem=$TB_MEM_MIB
	local os='' hostname='' sets='' idfile='' extra=() vt=qemu cmdline populate dom
	shift
	for a in "$@"; do
		case $a in
		identity=*) identity=${a#*=} ;;
		agent=*) agent=${a#*=} ;;
		disk=*) disk=${a#*=} ;;
		extra-disk=*) extra+=("${a#*=}") ;;
		set=*) sets="$sets hf.set=${a#set=}" ;;
		os=*) os=${a#*=} ;;
		mem=*) mem=${a#*=} ;;
		hostname=*) hostname=${a#*=} ;;
		winqga | qemu-ga | silent | none | nochannel) agent=$a ;;
		[0-9]*[KMG]) extra+=("$a") ;;
		*) identity=$a ;;
		esac
	done
	[ -n "$TB_KERNEL" ] || tb_image
	[ -n "$identity" ] || [ "$agent" != winqga ] || identity=w2k8-6003-esu3
	dom=$(tb_dom "$name")
	if [ "${TB_ACCEL_FORCE:-}" = kvm ]; then
		vt=kvm
	elif [ "$TB_ACCEL" = kvm ] && tb_kvm_probe; then
		vt=kvm
	fi
	[ -z "$identity" ] || idfile=$(tb_identity_file "$identity")
	[ "$agent" != winqga ] || [ -n "$idfile" ] || { tb_log "no identity '$identity'"; return 1; }
	populate=$TB_DIR/$name.populate
	rm -rf "$populate"
	mkdir -p "$populate"
	if [ -f "$identity" ]; then # a file: it goes on the guest's data disk
		mkdir -p "$populate/.winqga"
		cp "$identity" "$populate/.winqga/identity"
	fi
	tb_make_disk "$(tb_disk "$name")" "$disk" "$populate"
	rm -rf "$populate"
	local i=0 disks="" letter
	for a in "${extra[@]}"; do
		i=$((i + 1))
		letter=$(printf "\\x$(printf %x $((97 + i)))")
		tb_make_disk "$TB_DIR/$name-vd$letter.qcow2" "$a"
		disks="$disks
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' discard='unmap'/>
      <source file='$TB_DIR/$name-vd$letter.qcow2'/>
      <target dev='vd$letter' bus='virtio'/>
    </disk>"
	done
	if [ -z "$os" ]; then
		if [ "$agent" = qemu-ga ]; then
			os=none
		elif [ -n "$idfile" ] && [ "$(sed -n 's/^build *= *//p' "$idfile")" -ge 7600 ] 2>/dev/null; then
			os=win2k8r2
		else
			os=win2k8
		fi
	fi
	case $os in
	win2k8) os=http://microsoft.com/win/2k8 ;;
	win2k8r2) os=http://microsoft.com/win/2k8r2 ;;
	esac
	local meta=""
	[ "$os" = none ] || meta="<metadata>
    <libosinfo:libosinfo xmlns:libosinfo=\"http://libosinfo.org/xmlns/libvirt/domain/1.0\">
      <libosinfo:os id=\"$os\"/>
    </libosinfo:libosinfo>
  </metadata>"
	local channel="<channel type='unix'>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>"
	[ "$agent" != nochannel ] || { channel=""; agent=none; }
	cmdline="console=ttyS0 panic=-1 hf.agent=$agent"
	[ "${TB_KERNEL_VERBOSE:-0}" = 1 ] || cmdline="$cmdline quiet"
	[ -z "$idfile" ] || [ -f "$identity" ] || cmdline="$cmdline hf.identity=$identity"
	[ -z "$hostname" ] || cmdline="$cmdline hf.hostname=$hostname"
	cmdline="$cmdline$sets"
	cat >"$TB_DIR/$name.xml" <<XML
<domain type='$vt'>
  <name>$dom</name>
  <title>holdfast stand-in $name</title>
  <description>holdfast test bed stand-in guest (agent $agent${identity:+, identity $identity})</description>
  $meta
  <memory unit='MiB'>$mem</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$TB_KERNEL</kernel>
    <initrd>$TB_INITRD</initrd>
    <cmdline>$cmdline</cmdline>
  </os>
  <features><acpi/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' discard='unmap'/>
      <source file='$(tb_disk "$name")'/>
      <target dev='vda' bus='virtio'/>
    </disk>$disks
    $channel
    <serial type='file'>
      <source path='$(tb_console "$name")' append='on'/>
      <target port='0'/>
    </serial>
    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
XML
	TB_DOMAINS+=("$name")
	tb_virsh define "$TB_DIR/$name.xml" >/dev/null
	tb_log "defined $dom ($vt, agent $agent${identity:+, identity $identity}, $mem MiB, disk $disk)"
}

# tb_guest_start NAME: virsh start; the clock for tb_wait_agent's boot time starts here
tb_guest_start() {
	TB_T_START[$1]=$(tb_now)
	unset "TB_BOOT_S[$1]"
	tb_virsh start "$(tb_dom "$1")" >/dev/null
}

# tb_agent NAME JSON [TIMEOUT_S=10]: one agent command through libvirt; prints the reply
tb_agent() {
	tb_virsh qemu-agent-command "$(tb_dom "$1")" "$2" --timeout "${3:-10}"
}

# tb_wait_agent NAME [TIMEOUT_S=60]: until guest-ping answers; logs and records boot time
tb_wait_agent() {
	local name=$1 timeout=${2:-60} t0 dom state
	dom=$(tb_dom "$name")
	t0=$(tb_now)
	while awk -v a="$t0" -v b="$(tb_now)" -v t="$timeout" 'BEGIN { exit !(b - a < t) }'; do
		if tb_virsh qemu-agent-command "$dom" '{"execute":"guest-ping"}' --timeout 2 >/dev/null 2>&1; then
			if [ -n "${TB_BOOT_S[$name]:-}" ]; then # booted before: not a boot time
				tb_log "$dom: agent answers (waited $(tb_since "$t0") s)"
				return 0
			fi
			TB_BOOT_S[$name]=$(tb_since "${TB_T_START[$name]:-$t0}")
			tb_log "$dom: agent answers ${TB_BOOT_S[$name]} s after start"
			tb_measure "boot_to_agent_seconds=${TB_BOOT_S[$name]} guest=$name"
			return 0
		fi
		state=$(tb_virsh domstate "$dom" 2>/dev/null || echo gone)
		case $state in
		running) ;;
		*) tb_log "$dom is $state while waiting for its agent"; return 1 ;;
		esac
		sleep 0.1
	done
	tb_log "$dom: no agent answer within $timeout s"
	return 1
}

# tb_guest_up NAME [define args...]: define + start + wait for the agent (60 s)
tb_guest_up() {
	tb_guest_define "$@"
	tb_guest_start "$1"
	tb_wait_agent "$1" "${TB_AGENT_TIMEOUT:-60}"
}

# tb_exec_raw NAME PATH [ARG...]: guest-exec + guest-exec-status until exited; writes the
# program's stdout bytes to stdout, its stderr bytes to stderr; returns its exit code
# (TB_EXIT holds the signed value). TB_EXEC_TIMEOUT (s, default 60) bounds the wait.
tb_exec_raw() {
	local name=$1 path=$2 req pid r t0 dom
	shift 2
	dom=$(tb_dom "$name")
	local argv='[' a
	for a in "$@"; do # one jq per argument: jq itself would take "-c" as its own option
		[ "$argv" = '[' ] || argv="$argv,"
		argv="$argv$(printf '%s' "$a" | jq -Rs .)"
	done
	argv="$argv]"
	req=$(jq -nc --arg p "$path" --argjson a "$argv" \
		'{execute: "guest-exec", arguments: {path: $p, arg: $a, "capture-output": true}}')
	r=$(tb_virsh qemu-agent-command "$dom" "$req" --timeout 10) || return 125
	pid=$(jq -r '.return.pid' <<<"$r")
	t0=$(tb_now)
	while :; do
		r=$(tb_virsh qemu-agent-command "$dom" \
			"{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":$pid}}" --timeout 10) || return 125
		[ "$(jq -r '.return.exited' <<<"$r")" = true ] && break
		awk -v a="$t0" -v b="$(tb_now)" -v t="${TB_EXEC_TIMEOUT:-60}" 'BEGIN { exit !(b - a > t) }' &&
			{ tb_log "$dom: pid $pid still running after ${TB_EXEC_TIMEOUT:-60} s"; return 124; }
		sleep 0.05
	done
	jq -r '.return["out-data"] // empty' <<<"$r" | base64 -d
	jq -r '.return["err-data"] // empty' <<<"$r" | base64 -d >&2
	TB_EXIT=$(jq -r '.return.exitcode // (128 + .return.signal)' <<<"$r")
	return $((TB_EXIT & 255))
}

# tb_guest_exec NAME 'sh command': runs it in the guest with /bin/sh -c (winqga's test-bed
# escape hatch, or qemu-ga); the data disk is /mnt/data. Output and exit code as tb_exec_raw.
tb_guest_exec() {
	tb_exec_raw "$1" /bin/sh -c "$2"
}

# tb_wait_console NAME REGEX [TIMEOUT_S=30]: until the guest's console shows REGEX
tb_wait_console() {
	local i n=$((${3:-30} * 10))
	for ((i = 0; i < n; i++)); do
		grep -qE "$2" "$(tb_console "$1")" 2>/dev/null && return 0
		sleep 0.1
	done
	tb_log "$(tb_dom "$1"): console never showed /$2/"
	return 1
}

# tb_guest_remove NAME: destroy + undefine (with snapshot/checkpoint metadata) + its files
tb_guest_remove() {
	local dom
	dom=$(tb_dom "$1")
	tb_virsh destroy "$dom" >/dev/null 2>&1 || true
	tb_virsh undefine "$dom" --snapshots-metadata --checkpoints-metadata >/dev/null 2>&1 || true
	rm -f "$TB_DIR/$1"-*.qcow2 "$TB_DIR/$1.xml" "$TB_DIR/$1.console"
}

# tb_cleanup: trap handler; safe to call twice
tb_cleanup() {
	local rc=$? dom n pid a
	set +e
	trap - EXIT INT TERM
	[ -n "${TB_DIR:-}" ] || return "$rc"
	for ((n = ${#TB_CLEANUP_HOOKS[@]} - 1; n >= 0; n--)); do
		eval "${TB_CLEANUP_HOOKS[n]}"
	done
	# background jobs of this shell (sleep, tail...): ours, stop them
	for pid in $(jobs -p); do kill "$pid" 2>/dev/null; done
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		for n in "${TB_DOMAINS[@]}"; do
			[ -s "$(tb_console "$n")" ] || continue
			echo "---- console of $(tb_dom "$n") (last 25 lines) ----"
			tail -n 25 "$(tb_console "$n")"
		done
	fi
	if [ "$TB_STARTED_LIBVIRTD" = 1 ] && ! tb_libvirt_answers; then
		tb_log "libvirtd is down (killed by the test?): starting it to remove the guests"
		libvirtd -d
		for n in $(seq 1 100); do tb_libvirt_answers && break; sleep 0.1; done
	fi
	if tb_libvirt_answers; then
		for dom in $(tb_virsh list --all --name 2>/dev/null | grep "^$TB_PREFIX"); do
			tb_virsh destroy "$dom" >/dev/null 2>&1
			tb_virsh undefine "$dom" --snapshots-metadata --checkpoints-metadata >/dev/null 2>&1 ||
				tb_log "could not undefine $dom"
		done
	fi
	tb_state_release
	if [ "$TB_KEEP" = 1 ]; then
		tb_log "TB_KEEP=1: files kept in $TB_DIR"
	else
		rm -rf "$TB_DIR"
	fi
	tb_log "cleanup done (exit $rc)"
	return "$rc"
}

tb_wait_gone() {
	local i
	for i in $(seq 1 100); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	kill -KILL "$1" 2>/dev/null
}
