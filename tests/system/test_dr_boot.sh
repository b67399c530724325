#!/bin/bash
# dr test: a restore point booted in isolation (SureBackup for KVM) on real libvirtd + QEMU.
# A two-disk stand-in answering as Windows Server 2008 SP2 6003 without ESU (January 2020 rollup) whose
# "services" listen on TCP 3389 (identity key listen, real sockets in the guest); a full copy,
# data written, an incremental; the incremental point test-booted with a port that listens and
# one that does not (exit 1 naming the port), then with the listening one only (ok). Checked:
# the build-check verdict of the test guest, the RTO recorded in the manifest, SHA-256 of every
# stored file equal before and after, no hf-test-* domain and no overlay left, --dry-run does
# nothing, a point whose chain is broken (parent image removed) fails naming the chain.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hf.sh"
tb_init
tb_libvirt_up
tb_image
ID=$TB_DIR/id-boot
{ cat "$TB_HERE/identities/w2k8-6003-noesu"; echo "listen = 3389"; } >"$ID"
tb_guest_define b1 "$ID" extra-disk=32M
tb_guest_start b1
tb_wait_agent b1 120
STORE=$TB_DIR/drstore
TDIR=$TB_DIR/drtest
CONF="check-timeout = 20
[drstore main]
path = $STORE
test-dir = $TDIR
[drstore nodir]
path = $STORE"
hf_up <<<"$CONF"
W=$(tb_dom b1)
UUID=$(tb_virsh domuuid "$W" | tr -d '[:space:]')
GD=$STORE/$UUID
# a test boot left behind by a failed assertion: removed with the test bed
tb_on_cleanup 'for d in $(virsh -q -c "$TB_URI" list --all --name | grep "^hf-test-$W-"); do virsh -q -c "$TB_URI" destroy "$d"; virsh -q -c "$TB_URI" undefine "$d" --nvram; done >/dev/null 2>&1'
# dr test's job document on one line without the bulky evidence (a failing jcheck prints it)
hfj() {
	local rc=0
	hf --json "$@" >"$TB_DIR/hfj.json" || rc=$?
	jq -c 'del(.job.result.check_entry)' "$TB_DIR/hfj.json"
	return $rc
}
test_domains() { tb_virsh list --all --name | grep -c "^hf-test-$W-" || true; }
sums() { (cd "$GD" && sha256sum ./*/*.qcow2); } # the images (the manifest records the tests)

OUT=$(tb_exec_raw b1 'C:\Windows\System32\NETSTAT.EXE' -an | tr -d '\r')
grep -q '^  TCP    0.0.0.0:3389 .*LISTENING$' <<<"$OUT" && ok "the source guest's netstat -an lists its service on 3389" ||
	bad "netstat -an of the source: $OUT"
check "start a listener by hand in the source guest (busybox nc -l -p 8081)" \
	tb_guest_exec b1 'nc -l -p 8081 </dev/null >/dev/null 2>&1 & sleep 0.2'
OUT=$(tb_exec_raw b1 'C:\Windows\System32\NETSTAT.EXE' -an | tr -d '\r')
grep -qE '^  TCP    (0.0.0.0|\[::\]):8081 .*LISTENING$' <<<"$OUT" && ok "... netstat -an shows it (read from the guest's /proc/net)" ||
	bad "netstat -an without 8081: $OUT"

check "write data before the full copy" hf_guest_write b1 first a.txt
jcheck "full copy" '.job.state == "succeeded" and .job.result.kind == "full"' hf --json dr copy "$W"
P1=$(jq -r '.job.result.point' "$ASSERT_TMP/out")
check "write data" hf_guest_write b1 second a.txt
jcheck "incremental copy" ".job.state == \"succeeded\" and .job.result.kind == \"incremental\" and .job.result.parent == \"$P1\"" \
	hf --json dr copy "$W"
P2=$(jq -r '.job.result.point' "$ASSERT_TMP/out")
D=hf-test-$W-$P2
sums >"$TB_DIR/sums-before"

jcheck "--dry-run: the plan (point, domain, overlay over the point's image, host)" \
	".job.state == \"succeeded\" and .job.result.dry_run and .job.result.point == \"$P2\" and .job.result.domain == \"$D\" and .job.result.host == \"lab\" and .job.result.disks.vda.backing == \"$GD/$P2/vda.qcow2\" and .job.result.disks.vda.overlay == \"$TDIR/$D/vda.qcow2\" and .job.result.disks.vdb.backing == \"$GD/$P2/vdb.qcow2\"" \
	hfj dr test "$W" "$P2" --dry-run
check "--dry-run defined nothing and made no overlay" sh -c "[ $(test_domains) = 0 ] && [ ! -e '$TDIR/$D' ]"
check "--dry-run in words names the domain" sh -c "'$HF_BUILD/cli/holdfast' --socket '$HF_SOCK' dr test '$W' --dry-run | grep -q '$D'"

# a port nobody listens on: the test fails (exit 1) and says which port
T0=$(tb_now)
expect_exit "test boot with a port that is not listening: exit 1" 1 hf --json dr test "$W" "$P2" --port 3389 --port 8080 --timeout 60
FAIL_S=$(tb_since "$T0")
cp "$ASSERT_TMP/out" "$TB_DIR/test1.json"
r1() { jq -e "$1" "$TB_DIR/test1.json" >/dev/null; }
r1 '.job.state == "failed" and (.job.error.message | test("TCP port 8080 not listening")) and (.job.error.message | test("3389") | not)' &&
	ok "... the job failed naming port 8080 (and not 3389)" || { bad "failure names the port"; jq .job.error "$TB_DIR/test1.json"; }
r1 '.job.result.agent_ready and .job.result.rto_s > 0 and .job.result.ports == [{"port":3389,"listening":true},{"port":8080,"listening":false}]' &&
	ok "... the guest came up (RTO measured); 3389 listening, 8080 not" || { bad "agent/ports in the result"; jq .job.result "$TB_DIR/test1.json"; }
r1 '.job.result.check.product == "server2008-sp2-6003" and .job.result.check.patch_month == "2020-01" and .job.result.check.esu_licence == "no" and .job.result.check.revision == "20705"' &&
	ok "... the build check ran inside the test guest: 6003.20705, patched 2020-01, no ESU (the identity)" ||
	{ bad "build-check verdict of the test guest"; jq .job.result.check "$TB_DIR/test1.json"; }
r1 '.job.result.check_entry.name == "'"$D"'" and .job.result.check_entry.os.windows == true and .job.result.check_entry.evidence != null' &&
	ok "... collected from the test domain's agent (evidence present)" || bad "check entry of the test domain"
r1 '.job.result.recorded == true and .job.result.kept == false' && ok "... recorded, torn down" || bad "recorded/kept"
check "no hf-test domain left" sh -c "[ \$(virsh -q -c '$TB_URI' list --all --name | grep -c '^hf-test-$W-') = 0 ]"
check "no overlay left" sh -c "[ ! -e '$TDIR/$D' ] && [ -z \"\$(ls -A '$TDIR' 2>/dev/null)\" ]"
check "no console log of the test domain left" sh -c "! ls '$TB_DIR'/hf-test-* 2>/dev/null"
jcheck "the manifest records the test: RTO, agent ready, verdict, ports, not ok, the error" \
	'length == 1 and (.[0] | .rto_s > 0 and .agent_ready and .ok == false and (.error | test("8080")) and .check.product == "server2008-sp2-6003" and .check.esu_licence == "no" and .check.months_behind != null and .ports[1] == {"port":8080,"listening":false} and .domain == "'"$D"'")' \
	jq -c .tests "$GD/$P2/manifest.json"

# the newest verified point by default, the listening port only: ok
T0=$(tb_now)
jcheck "test boot of the newest verified point with port 3389: ok" \
	".job.state == \"succeeded\" and .job.result.point == \"$P2\" and .job.result.ok and .job.result.rto_s > 0 and .job.result.ports == [{\"port\":3389,\"listening\":true}]" \
	hfj dr test "$W" --port 3389 --timeout 300
OK_S=$(tb_since "$T0")
RTO=$(jq -r '.job.result.rto_s' "$ASSERT_TMP/out")
jcheck "the manifest has both tests, the newest ok" 'length == 2 and .[1].ok and .[1].error == null' jq -c .tests "$GD/$P2/manifest.json"
jcheck "dr list: the point's RTO and last test" \
	".points[] | select(.point == \"$P2\") | .rto_s == $RTO and .last_test.ok" hf --json dr list "$W"
check "dr list in words has an RTO column" sh -c "'$HF_BUILD/cli/holdfast' --socket '$HF_SOCK' dr list '$W' | grep -q 'RTO'"
jcheck "dr status: the guest's measured RTO" \
	".guests[0].rto_s == $RTO and .guests[0].rto_point == \"$P2\"" hf --json dr status "$W"
check "dr status in words has an RTO column" sh -c "'$HF_BUILD/cli/holdfast' --socket '$HF_SOCK' dr status '$W' | grep -q 'RTO'"

# --keep leaves the test guest running; the next test of that point removes it first
D1=hf-test-$W-$P1
jcheck "--keep: the full point's test guest is left running" \
	'.job.state == "succeeded" and .job.result.ok and .job.result.kept' hfj dr test "$W" "$P1" --timeout 300 --keep
check "... running, its overlays in place" sh -c "[ \"\$(virsh -q -c '$TB_URI' domstate '$D1')\" = running ] && [ -f '$TDIR/$D1/vda.qcow2' ] && [ -f '$TDIR/$D1/vdb.qcow2' ]"
# a shell command in the kept test guest through its agent (the test bed's escape hatch)
texec() {
	local r pid
	r=$(tb_virsh qemu-agent-command "$1" "$(jq -nc --arg c "$2" '{execute: "guest-exec", arguments: {path: "/bin/sh", arg: ["-c", $c], "capture-output": true}}')") || return 1
	pid=$(jq -r .return.pid <<<"$r")
	for _ in $(seq 1 100); do
		r=$(tb_virsh qemu-agent-command "$1" "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":$pid}}")
		[ "$(jq -r .return.exited <<<"$r")" = true ] && break
		sleep 0.1
	done
	jq -r '.return["out-data"] // empty' <<<"$r" | base64 -d
}
OUT=$(texec "$D1" 'cat /mnt/data/a.txt; grep -q " /mnt/vdb " /proc/mounts && echo vdb-mounted')
[ "$OUT" = "first
vdb-mounted" ] && ok "... it runs the full point's data (a.txt = first; the source has second) with both disks" ||
	bad "the kept test guest reads: $OUT"
jcheck "the next test of that point removes the leftover first, then passes" \
	'.job.state == "succeeded" and .job.result.leftover_removed and .job.result.ok and .job.result.kept == false' \
	hfj dr test "$W" "$P1" --timeout 300
check "... no hf-test domain, no overlay" sh -c "[ \$(virsh -q -c '$TB_URI' list --all --name | grep -c '^hf-test-$W-') = 0 ] && [ ! -e '$TDIR/$D1' ]"
sums >"$TB_DIR/sums-after"
check "SHA-256 of every stored image equal before and after the test boots" diff "$TB_DIR/sums-before" "$TB_DIR/sums-after"
jcheck "dr verify: the chain still verifies" '.job.state == "succeeded"' hf --json dr verify "$W" "$P2"
check "no hf-test domain, no overlay" sh -c "[ \$(virsh -q -c '$TB_URI' list --all --name | grep -c '^hf-test-$W-') = 0 ] && [ ! -e '$TDIR/$D' ]"

# a broken chain: the full point's image removed; the incremental cannot boot
mv "$GD/$P1/vda.qcow2" "$TB_DIR/p1-aside.qcow2"
expect_exit "test boot of a point whose parent image is gone: exit 1" 1 hf dr test "$W" "$P2"
grep_out "... naming the point and the disk's chain" "restore point $P2: the chain of disk vda does not open"
grep_out "... quoting qemu-img on the missing parent" "$P1/vda.qcow2"
check "... nothing defined, no overlay" sh -c "[ \$(virsh -q -c '$TB_URI' list --all --name | grep -c '^hf-test-$W-') = 0 ] && [ ! -e '$TDIR/$D' ]"
mv "$TB_DIR/p1-aside.qcow2" "$GD/$P1/vda.qcow2"
expect_exit "an unknown point: not found (exit 4)" 4 hf dr test "$W" 20200101T000000Z

# without test-dir the overlays go inside the store (STORE/.hf-test), which QEMU reaches
jcheck "default test-dir: inside the store, the test boots" '.job.state == "succeeded" and .job.result.ok' \
	hf --json dr test "$W" "$P2" --store nodir --timeout 120
check "... and leaves no hf-test domain nor overlay" sh -c "[ \$(virsh -q -c '$TB_URI' list --all --name | grep -c '^hf-test-$W-') = 0 ] && [ -z \"\$(ls -A '$STORE/.hf-test' 2>/dev/null)\" ]"
jcheck "... and the store still lists only restore points" '([.points[].point] | length) > 0 and ([.points[].point] | all(test("^[0-9]{8}T")))' hf --json dr list --store nodir

# a cancelled test boot is torn down too
JOB=$(hf dr test "$W" "$P2" --no-wait --timeout 300)
up() { for _ in $(seq 1 600); do [ "$(tb_virsh domstate "$D" 2>/dev/null)" = running ] && return 0; sleep 0.1; done; return 1; }
check "a test boot is running (its domain is up)" up
check "cancel it" hf jobs cancel "$JOB"
for _ in $(seq 1 300); do hf --json jobs show "$JOB" | jq -e '.job.state != "running"' >/dev/null 2>&1 && break; sleep 0.1; done
jobshow() { hf --json jobs show "$JOB" | jq -c 'del(.job.result.check_entry)'; }
jcheck "... the job ends cancelled" '.job.state == "cancelled"' jobshow
check "... torn down: no hf-test domain, no overlay" sh -c "[ \$(virsh -q -c '$TB_URI' list --all --name | grep -c '^hf-test-$W-') = 0 ] && [ ! -e '$TDIR/$D' ]"

# a test boot whose holdfastd dies (kill -9) leaves its domain and overlays: the next test boot
# on the host sweeps them (its record and overlay directory say they are holdfast's)
JOB=$(hf dr test "$W" "$P2" --no-wait --timeout 300)
check "a test boot is running again (its domain is up)" up
kill -9 "$HF_PID"
wait "$HF_PID" 2>/dev/null || true
HF_PID=
check "... holdfastd killed: its test domain and overlays are left" \
	sh -c "virsh -q -c '$TB_URI' dominfo '$D' >/dev/null && [ -f '$TDIR/$D/vda.qcow2' ] && [ -f '$TDIR/$D/hf-test.json' ]"
check "... and a directory of another host's test boot, which is not ours to sweep" \
	sh -c "mkdir -p '$TDIR/hf-test-elsewhere' && echo '{\"host\":\"other\",\"domain\":\"hf-test-elsewhere\"}' >'$TDIR/hf-test-elsewhere/hf-test.json'"
hf_up <<<"$CONF"
jcheck "the next test boot (another point) sweeps the dead one's domain first" \
	".job.state == \"succeeded\" and .job.result.ok and any(.job.result.swept[]; . == \"$D\")" \
	hfj dr test "$W" "$P1" --timeout 300
check "... no hf-test domain, no overlay of it left" sh -c "[ \$(virsh -q -c '$TB_URI' list --all --name | grep -c '^hf-test-$W-') = 0 ] && [ ! -e '$TDIR/$D' ] && [ ! -e '$TDIR/$D1' ]"
check "... the other host's directory is untouched" test -f "$TDIR/hf-test-elsewhere/hf-test.json"
rm -r "$TDIR/hf-test-elsewhere"

check "no sanitizer report in holdfastd's log" sh -c "! grep -E 'runtime error:|ERROR: AddressSanitizer' '$HF_LOG'"
tb_measure dr_test_rto_s="$RTO" dr_test_ok_job_s="$OK_S" dr_test_failing_port_job_s="$FAIL_S"
hf_finish
