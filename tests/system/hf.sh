# hf.sh - holdfastd + holdfast on the system test bed (sourced after lib.sh; hf_up after tb_init).
# hf_up starts the built holdfastd on qemu:///system managing only this run's guests
# ($TB_PREFIX*); tb_cleanup's EXIT trap stops it through hf_down.
HF_BUILD=${HF_BUILD:-$TB_BUILD_ROOT}
: "${HF_SRC:?HF_SRC must point at the source tree}"
HF_SOCK= HF_LOG= HF_PID=
# shellcheck source=../assert.sh
. "$HF_SRC/tests/assert.sh"

hf() { "$HF_BUILD/cli/holdfast" --socket "$HF_SOCK" "$@"; }

hf_up() { # extra [daemon] lines on stdin (optional); call after tb_init
	[ -n "$TB_DIR" ] || { tb_log "hf_up before tb_init"; return 1; }
	HF_SOCK=$TB_DIR/holdfastd.sock
	HF_LOG=$TB_DIR/holdfastd.log
	ASSERT_TMP=$TB_DIR
	{
		printf '[daemon]\nsocket = %s\nstate-dir = %s/hfstate\nlog-level = debug\n' "$HF_SOCK" "$TB_DIR"
		printf 'shutdown-timeout = 20\n'
		[ -t 0 ] || cat
		printf '[host lab]\nuri = %s\nguests = %s*\n' "$TB_URI" "$TB_PREFIX"
	} >"$TB_DIR/holdfastd.conf"
	# stop holdfastd first when the test bed cleans up (also when the test fails)
	tb_on_cleanup 'hf_down || true'
	"$HF_BUILD/daemon/holdfastd" --foreground --config "$TB_DIR/holdfastd.conf" >>"$HF_LOG" 2>&1 &
	HF_PID=$!
	local i
	for i in $(seq 1 100); do
		hf version >/dev/null 2>&1 && break
		sleep 0.1
	done
	for i in $(seq 1 100); do
		hf --json guests --all | jq -e '.hosts[0].state == "connected"' >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	tb_log "holdfastd did not connect to $TB_URI"; tail -20 "$HF_LOG" >&2
	return 1
}

hf_down() {
	[ -n "$HF_PID" ] || return 0
	local rc=0
	kill -TERM "$HF_PID" 2>/dev/null || true
	wait "$HF_PID" 2>/dev/null || rc=$?
	HF_PID=
	return $rc
}

# Wait until holdfast lists guest $1 in state $2 (inventory follows libvirt events).
hf_wait_state() {
	local i
	for i in $(seq 1 "${3:-100}"); do
		hf --json guests --all | jq -e --arg n "$(tb_dom "$1")" --arg s "$2" \
			'.guests[] | select(.name == $n) | .state == $s' >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# Data in the guest, read and written through its agent (test-bed escape hatch).
hf_guest_write() { tb_guest_exec "$1" "echo '$2' >/mnt/data/$3 && sync"; }
hf_guest_read() { tb_guest_exec "$1" "cat /mnt/data/$2 2>/dev/null || echo MISSING"; }

hf_finish() {
	local rc=0
	hf_down || rc=$?
	if [ "$rc" -eq 0 ]; then ok "holdfastd exits 0 on SIGTERM"; else bad "holdfastd exited $rc"; fi
	if [ "$FAILED" -ne 0 ]; then echo "---- holdfastd log ----"; tail -n 80 "$HF_LOG"; fi
	assert_summary
}

# hf_standin NAME [tb_guest_define args...]: a stand-in defined, started, its agent answering
hf_standin() { tb_guest_define "$@" && tb_guest_start "$1" && tb_wait_agent "$1" 120; }
# hf_dr_env NAME STORE: W (the guest's libvirt name), UUID, GD (its directory in the DR store)
hf_dr_env() {
	W=$(tb_dom "$1")
	UUID=$(tb_virsh domuuid "$W" | tr -d '[:space:]')
	GD=$2/$UUID
}
# hf_random_disk PATH MIB SIZE: a qcow2 image of SIZE whose first MIB MiB are random data (a
# second disk a full copy takes a while to read)
hf_random_disk() {
	head -c $(($2 << 20)) /dev/urandom >"$1.raw" && truncate -s "$3" "$1.raw" && rm -f "$1" &&
		qemu-img convert -q -f raw -O qcow2 "$1.raw" "$1" && rm -f "$1.raw"
}
# hf_free_port: a TCP port free here whose next one is free too (pull-port tries the next)
hf_free_port() {
	local p=$((20000 + RANDOM % 20000))
	while ss -ltn | grep -q ":$p \|:$((p + 1)) "; do p=$((20000 + RANDOM % 20000)); done
	echo "$p"
}
# hf_kill9 [PID]: holdfastd killed with SIGKILL (nothing of it cleans up); PID: a background
# command that was waiting for it, reaped too
hf_kill9() {
	kill -9 "$HF_PID" || return 1
	wait "$HF_PID" 2>/dev/null
	HF_PID=
	[ -z "$1" ] || wait "$1" 2>/dev/null
	return 0
}
