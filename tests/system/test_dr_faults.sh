#!/bin/bash
# DR copies under faults (issue 6): a DR store on a small filesystem (tmpfs, 64 MiB) that fills
# up during a copy -> the job fails naming the store, the older points stay intact and verified,
# nothing is half-published, the new checkpoint is gone, and after space is freed the next copy
# is again an incremental of the last good point; a full copy that cannot fit is refused before
# it starts. kill -9 of holdfastd while a copy runs (the backup job slowed with QMP
# block-job-set-speed so that it is still running) -> after the restart the libvirt job is
# aborted, the half-made checkpoint and the .partial are gone, and the next copy works; a backup
# job holdfast did not start is left alone; a shut-off guest started paused by a copy that died
# is powered off again. Drives holdfastd through the CLI.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hf.sh"
tb_init
tb_libvirt_up
tb_image
ASSERT_TMP=$TB_DIR
SMALL=$TB_DIR/small
mkdir -p "$SMALL"
mount -t tmpfs -o size=64m,mode=0755 hfsmall "$SMALL" || tb_skip "cannot mount a tmpfs"
tb_on_cleanup "umount -l '$SMALL' 2>/dev/null || true"
# d2: a 2.2 GiB second disk with 2 GiB of data (written before the start with qemu-io), so
# that its copy is still running when the test has found and slowed its block job
tb_guest_define d1 w2k8-6003-esu3
tb_guest_define d2 w2k8-6003-esu3 extra-disk=2200M
VDB2=$(tb_virsh domblklist "$(tb_dom d2)" --details | awk '$3 == "vdb" {print $4}')
check "2 GiB of data on d2's second disk" qemu-io -f qcow2 -c "write -P 0x5a 64M 512M" \
	-c "write -P 0x5b 576M 512M" -c "write -P 0x5c 1088M 512M" -c "write -P 0x5d 1600M 512M" "$VDB2"
tb_guest_start d1
tb_guest_start d2
tb_wait_agent d1 120
tb_wait_agent d2 120
conf() {
	cat <<CONF
[drstore small]
path = $SMALL/store
[drstore big]
path = $TB_DIR/big
CONF
}
hf_up < <(conf)
W=$(tb_dom d1)
W2=$(tb_dom d2)
GD=$SMALL/store/$(tb_virsh domuuid "$W" | tr -d '[:space:]')
GD2=$TB_DIR/big/$(tb_virsh domuuid "$W2" | tr -d '[:space:]')
checkpoints() { tb_virsh checkpoint-list "$1" --name | tr '\n' ' ' | sed 's/ *$//'; }
partials() { ls -d "$1"/*.partial 2>/dev/null | wc -l; }

# ---- the store fills up ----
jcheck "full copy into the small store" '.job.state == "succeeded" and .job.result.kind == "full"' \
	hf --json dr copy "$W" --store small
P1=$(jq -r .job.result.point "$ASSERT_TMP/out")
FREE=$(df -B1 --output=avail "$SMALL" | tail -1)
check "fill the store's filesystem up to 8 MiB free" \
	dd if=/dev/zero of="$SMALL/filler" bs=1M count=$((FREE / 1048576 - 8))
check "write 24 MiB of data in the guest" \
	tb_guest_exec d1 'dd if=/dev/urandom of=/mnt/data/big bs=1M count=24 2>/dev/null && sync'
expect_exit "an incremental that does not fit fails" 1 hf dr copy "$W" --store small
grep_out "... with no-space" "no-space"
grep_out "... naming the store and its path" "DR store 'small' ($SMALL/store) ran out of space"
grep_out "... saying the older points are intact" "older points are intact"
check "... nothing half-published: no .partial left" test "$(partials "$GD")" = 0
jcheck "... the store lists the one good point" "[.points[].point] == [\"$P1\"]" hf --json dr list "$W" --store small
jcheck "... which still verifies" '.job.state == "succeeded"' hf --json dr verify "$W" --store small
check "... the new checkpoint was removed (only the good point's)" test "$(checkpoints "$W")" = "hf-dr-small-$P1"
expect_exit "a full copy that cannot fit is refused before it starts" 1 hf dr copy "$W" --store small --full
grep_out "... naming the store, free and needed bytes" "DR store 'small' ($SMALL/store) has [0-9]* bytes free, and the full copy"
check "... no .partial" test "$(partials "$GD")" = 0
check "free the space" rm -f "$SMALL/filler"
jcheck "the next copy is again an incremental of the last good point" \
	".job.state == \"succeeded\" and .job.result.kind == \"incremental\" and .job.result.parent == \"$P1\"" \
	hf --json dr copy "$W" --store small
jcheck "dr verify of the store" '.job.state == "succeeded" and (.job.result.verified | length) == 2' \
	hf --json dr verify "$W" --store small

# ---- kill -9 of holdfastd during a copy ----
# the backup's QEMU block jobs (push mode, one per disk) run at up to 8 MiB/s once the test
# finds them (QMP block-job-set-speed)
job_ids() { tb_virsh qemu-monitor-command "$W2" '{"execute":"query-block-jobs"}' | jq -r '.return[].device'; }
slow_down() {
	local i id ids
	for i in $(seq 1 600); do
		ids=$(job_ids)
		if [ -n "$ids" ]; then
			for id in $ids; do # one block job per disk
				tb_virsh qemu-monitor-command "$W2" \
					"{\"execute\":\"block-job-set-speed\",\"arguments\":{\"device\":\"$id\",\"speed\":8388608}}" >/dev/null || true
			done
			return
		fi
		sleep 0.02
	done
	return 1
}
job_running() { # (no grep -q in a pipe: virsh would die of SIGPIPE under pipefail)
	local o
	o=$(tb_virsh domjobinfo "$W2") && grep -q 'Job type: *Unbounded' <<<"$o"
}
wait_no_job() {
	local i
	for i in $(seq 1 300); do job_running || return 0; sleep 0.1; done
	return 1
}
hf --json dr copy "$W2" --store big >"$TB_DIR/killed.json" 2>&1 &
COPY=$!
check "the backup job of the copy starts; slowed to 8 MiB/s" slow_down
check "... it runs" job_running
check "... into a .partial directory" test "$(partials "$GD2")" = 1
HALF=$(basename "$(ls -d "$GD2"/*.partial)" .partial)
check "... with its new checkpoint hf-dr-big-$HALF" test "$(checkpoints "$W2")" = "hf-dr-big-$HALF"
check "kill -9 holdfastd" hf_kill9 "$COPY"
check "... the libvirt backup job outlives it" job_running
hf_up < <(conf)
check "holdfastd restarted: the leftover backup job is aborted" wait_no_job
check "... the half-made checkpoint deleted" test -z "$(checkpoints "$W2")"
check "... the .partial discarded" test "$(partials "$GD2")" = 0
grep -q "aborted the backup job of a DR copy that died" "$HF_LOG" && ok "... logged" || bad "no log line about the leftover job"
jcheck "the next copy works (a full: no point was published)" \
	'.job.state == "succeeded" and .job.result.kind == "full"' hf --json dr copy "$W2" --store big
jcheck "... and verifies" '.job.state == "succeeded"' hf --json dr verify "$W2" --store big

# a backup job holdfast did not start (target outside the stores): never touched
mkdir -p "$TB_DIR/foreign" && chmod 777 "$TB_DIR/foreign"
cat >"$TB_DIR/foreign.xml" <<XML
<domainbackup mode='push'><disks><disk name='vda' backup='no'/><disk name='vdb' backup='yes' type='file'><target file='$TB_DIR/foreign/vdb.qcow2'/><driver type='qcow2'/></disk></disks></domainbackup>
XML
check "a foreign backup job (virsh backup-begin, outside the stores)" tb_virsh backup-begin "$W2" "$TB_DIR/foreign.xml"
check "... slowed" slow_down
hf_down
hf_up < <(conf)
check "holdfastd restarted: the foreign backup job still runs" job_running
check "end it" tb_virsh domjobabort "$W2"
check "... gone" wait_no_job

# kill -9 while copying a shut-off guest (started paused for the copy): it goes off again
check "power d2 off" tb_virsh destroy "$W2"
CKS=$(checkpoints "$W2")
hf --json dr copy "$W2" --store big --full >"$TB_DIR/killed2.json" 2>&1 &
COPY=$!
check "the copy starts the shut-off guest paused; its backup job slowed" slow_down
check "... the guest is paused" test "$(tb_virsh domstate "$W2")" = paused
check "kill -9 holdfastd" hf_kill9 "$COPY"
check "... the job outlives it, the guest stays paused" sh -c "virsh -q -c '$TB_URI' domstate '$W2' | grep -qx paused"
hf_up < <(conf)
check "holdfastd restarted: the job is aborted" wait_no_job
check "... the guest is shut off again" test "$(tb_virsh domstate "$W2")" = "shut off"
check "... the half-made checkpoint deleted (the published point's stays)" test "$(checkpoints "$W2")" = "$CKS"
check "... the .partial discarded" test "$(partials "$GD2")" = 0
jcheck "the next copy of the shut-off guest works" \
	'.job.state == "succeeded" and .job.result.started_paused' hf --json dr copy "$W2" --store big
check "... and it is shut off again" test "$(tb_virsh domstate "$W2")" = "shut off"
hf_finish
