#!/bin/bash
# [drstore] scratch-dir: pull-mode copies keep their copy-before-write scratch files
# (hf-dr-STORE-POINT-UUID-TARGET.scratch, named after the copy's checkpoint) in a directory of the
# hypervisor host instead of the point's .partial in the store; nothing is left there after a
# copy. kill -9 of holdfastd while a full pull copy of a guest with a 2 GiB second disk runs
# (holdfastd stopped with SIGSTOP as soon as the scratch files appear, so the export is still
# being read): the libvirt backup job outlives it; after the restart the job is recognised by
# its scratch files' names and aborted, the guest's filesystems thawed (stopped there, holdfastd
# died between its fs-freeze and the thaw), the half-made checkpoint deleted, the scratch files
# and the .partial gone, and the next copy (a full: nothing was published) and an incremental
# work.
# A pull job whose scratch file names a store this holdfastd does not have (another holdfastd's
# copy) is left alone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hf.sh"
tb_init && tb_libvirt_up && tb_image
ASSERT_TMP=$TB_DIR
# d1: a 2.2 GiB second disk with 2 GiB of data (written before the start with qemu-io), so that
# a full pull copy of it takes a while
tb_guest_define d1 w2k8-6003-esu3 extra-disk=2200M
VDB=$(tb_virsh domblklist "$(tb_dom d1)" --details | awk '$3 == "vdb" {print $4}')
check "2 GiB of data on d1's second disk" qemu-io -f qcow2 -c "write -P 0x5a 64M 512M" \
	-c "write -P 0x5b 576M 512M" -c "write -P 0x5c 1088M 512M" -c "write -P 0x5d 1600M 512M" "$VDB"
tb_guest_start d1
tb_wait_agent d1 120
STORE=$TB_DIR/drstore
SCR=$TB_DIR/scratch
mkdir -p "$SCR" && chmod 0755 "$SCR"
conf() {
	cat <<CONF
[drstore main]
path = $STORE
mode = pull
scratch-dir = $SCR
CONF
}
hf_up < <(conf)
hf_dr_env d1 "$STORE"
checkpoints() { tb_virsh checkpoint-list "$W" --name | tr '\n' ' ' | sed 's/ *$//'; }
partials() { ls -d "$GD"/*.partial 2>/dev/null | wc -l; }
scratch_files() { ls "$SCR" | grep -c '\.scratch$' || true; }
job_running() { # (no grep -q in a pipe: virsh would die of SIGPIPE under pipefail)
	local o
	o=$(tb_virsh domjobinfo "$W") && grep -q 'Job type: *Unbounded' <<<"$o"
}
wait_job() {
	local i
	for i in $(seq 1 300); do job_running && return 0; sleep 0.1; done
	return 1
}
wait_no_job() {
	local i
	for i in $(seq 1 300); do job_running || return 0; sleep 0.1; done
	return 1
}
# holdfastd stopped the moment the copy's scratch files appear (its export not read yet)
stop_at_scratch() {
	local i f
	for i in $(seq 1 3000); do
		for f in "$SCR"/hf-dr-main-*-vdb.scratch; do
			[ -e "$f" ] && kill -STOP "$HF_PID" && return 0
		done
		sleep 0.01
	done
	return 1
}

expect_exit "holdfastd --check-config accepts scratch-dir" 0 \
	"$HF_BUILD/daemon/holdfastd" --check-config --config "$TB_DIR/holdfastd.conf"
printf '[drstore bad]\npath = %s/bad\nscratch-dir = relative/dir\n' "$TB_DIR" >"$TB_DIR/bad.conf"
expect_exit "... and refuses a relative one" 1 "$HF_BUILD/daemon/holdfastd" --check-config --config "$TB_DIR/bad.conf"
grep_out "... naming the key" "scratch-dir"

# ---- kill -9 of holdfastd during a full pull copy ----
hf --json dr copy "$W" >"$TB_DIR/killed.json" 2>&1 &
COPY=$!
check "the copy's scratch files appear in scratch-dir: holdfastd stopped there" stop_at_scratch
check "... its backup job runs" wait_job
check "... one scratch file per disk in $SCR" test "$(scratch_files)" = 2
check "... none in the .partial" sh -c "! ls '$GD'/*.partial/*.scratch 2>/dev/null"
HALF=$(basename "$(ls -d "$GD"/*.partial)" .partial)
check "... named after its checkpoint and the guest's UUID: hf-dr-main-$HALF-$UUID-vda.scratch" test -e "$SCR/hf-dr-main-$HALF-$UUID-vda.scratch"
check "... which exists" test "$(checkpoints)" = "hf-dr-main-$HALF"
FS=$(tb_virsh qemu-agent-command "$W" '{"execute":"guest-fsfreeze-status"}' --timeout 5 2>&1 || true)
tb_log "the guest's filesystems when holdfastd is killed: $FS"
check "kill -9 holdfastd" hf_kill9 "$COPY"
check "... the libvirt backup job outlives it" job_running
hf_up < <(conf)
check "holdfastd restarted: the leftover backup job is aborted" wait_no_job
check "... the half-made checkpoint deleted" test -z "$(checkpoints)"
check "... the scratch files gone" test "$(scratch_files)" = 0
check "... the .partial discarded" test "$(partials)" = 0
grep -q "aborted the backup job of a DR copy that died with holdfastd (point $HALF, scratch files in $SCR)" "$HF_LOG" &&
	ok "... logged, with the scratch directory" || bad "no log line about the leftover job"
if grep -q '"frozen"' <<<"$FS"; then
	grep -q "thawed [0-9]* filesystem(s) a DR copy that died had frozen" "$HF_LOG" &&
		ok "... the filesystems it had frozen thawed (logged)" || bad "no log line about the thaw"
fi
jcheck "the next copy works (a full: no point was published)" \
	'.job.state == "succeeded" and .job.result.kind == "full"' hf --json dr copy "$W"
P1=$(jq -r .job.result.point "$ASSERT_TMP/out")
check "... no scratch file left in scratch-dir" test "$(scratch_files)" = 0
check "... its checkpoint" test "$(checkpoints)" = "hf-dr-main-$P1"
check "... the guest's filesystems thawed (holdfastd died between freeze and thaw): data written in it" \
	tb_guest_exec d1 'dd if=/dev/urandom of=/mnt/data/blob bs=1M count=3 2>/dev/null && sync'
jcheck "an incremental pull copy with scratch-dir" \
	".job.state == \"succeeded\" and .job.result.kind == \"incremental\" and .job.result.parent == \"$P1\"" \
	hf --json dr copy "$W"
check "... no scratch file left" test "$(scratch_files)" = 0
jcheck "dr verify of the chain" '.job.state == "succeeded" and (.job.result.verified | length) == 2' \
	hf --json dr verify "$W"

# ---- a pull job of a store this holdfastd does not have: never touched ----
FOREIGN=$SCR/hf-dr-elsewhere-20260101T000000Z-vdb.scratch
mkdir -p "$TB_DIR/foreign" && chmod 777 "$TB_DIR/foreign" # QEMU's user makes the socket
cat >"$TB_DIR/foreign.xml" <<XML
<domainbackup mode='pull'><server transport='unix' socket='$TB_DIR/foreign/nbd.sock'/><disks><disk name='vda' backup='no'/><disk name='vdb' backup='yes' type='file'><scratch file='$FOREIGN'/></disk></disks></domainbackup>
XML
check "a pull job with a scratch file of DR store 'elsewhere' (virsh backup-begin)" \
	tb_virsh backup-begin "$W" "$TB_DIR/foreign.xml"
hf_down
hf_up < <(conf)
check "holdfastd restarted: that backup job still runs" job_running
grep -q "DR store 'elsewhere', which this holdfastd does not have, is left alone" "$HF_LOG" &&
	ok "... logged as left alone" || bad "no log line about the foreign job"
check "... its checkpoints untouched" test "$(checkpoints)" = "hf-dr-main-$(ls "$GD" | grep -v '^\.' | sort | tail -1)"
check "end it" tb_virsh domjobabort "$W"
check "... gone" wait_no_job
rm -f "$FOREIGN"
hf_finish
