#!/bin/bash
# DR runbooks on a two-disk stand-in, through the CLI: restore --as with both disks compared byte
# for byte with the guest's disks at the copy; --dry-run changes nothing; a restore interrupted
# by a job cancel and by kill -9 of holdfastd leaves nothing named like a finished disk and the
# next restore works; --in-place refused while the guest runs, then (shut off) it boots with
# the point's data and its own UUID; a planned failover (source shut down, final copy, marked,
# autostart off, renamed since the DR guest takes its name on this host; the DR guest runs with
# the data written just before; dr copy and snapshot of the source refused) and its re-run; an
# emergency failover of a guest destroyed and undefined, with its RPO, and its re-run.
# qemu-img is wrapped (a test double at the process boundary) only to make one convert slow.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hf.sh"
tb_init
tb_libvirt_up
tb_image
tb_guest_define f1 w2k8-6003-esu3 extra-disk=32M
tb_guest_define e1 w2k8-6003-esu3
tb_guest_define e2 w2k8-6003-esu3
tb_guest_define n1 agent=none
tb_guest_start f1
tb_guest_start e1
tb_guest_start e2
tb_guest_start n1
tb_wait_agent f1 120
tb_wait_agent e1 120
tb_wait_agent e2 120
STORE=$TB_DIR/drstore
mkdir -p "$TB_DIR/bin"
cat >"$TB_DIR/bin/qemu-img" <<SH
#!/bin/sh
if [ "\$1" = convert ] && [ -e "$TB_DIR/fail-second" ]; then
	n=\$(( \$(cat "$TB_DIR/nconv" 2>/dev/null || echo 0) + 1 )); echo \$n >"$TB_DIR/nconv"
	[ \$n -lt 2 ] || { echo "qemu-img: injected failure" >&2; exit 1; }
fi
/usr/bin/qemu-img "\$@" || exit \$?
if [ "\$1" = convert ] && [ -e "$TB_DIR/slow" ]; then : >"$TB_DIR/convert-done"; exec sleep 300; fi
SH
chmod +x "$TB_DIR/bin/qemu-img"
export PATH=$TB_DIR/bin:$PATH
CONF="[drstore main]
path = $STORE
[drstore crit]
path = $STORE
rpo-warn = 1
rpo-critical = 2
[host dr]
uri = $TB_URI
guests = ${TB_PREFIX}dr-*"
hf_up <<<"$CONF"
W=$(tb_dom f1)
E=$(tb_dom e1)
UUID=$(tb_virsh domuuid "$W" | tr -d '[:space:]')
VDB=$TB_DIR/f1-vdb.qcow2
result() { jq -r ".job.result.$1" "$ASSERT_TMP/out"; }
# a marker file on the second disk (the stand-in mounts vdb at /mnt/vdb)
vdb_write() { tb_guest_exec f1 "echo '$1' >/mnt/vdb/m.txt && sync"; }
# frozen through the agent: both disks captured, a copy without holdfast's own quiesce
capture_copy() {
	tb_virsh domfsfreeze "$W" >/dev/null &&
		qemu-img convert -U -f qcow2 -O qcow2 "$(tb_disk f1)" "$TB_DIR/ref$1-vda.qcow2" &&
		qemu-img convert -U -f qcow2 -O qcow2 "$VDB" "$TB_DIR/ref$1-vdb.qcow2" &&
		hf --json dr copy "$W" --quiesce no >"$TB_DIR/copy$1.json" 2>&1
	local rc=$?
	tb_virsh domfsthaw "$W" >/dev/null
	return $rc
}

check "write a.txt = first" hf_guest_write f1 first a.txt
check "write vdb marker one" vdb_write one
check "full copy of the two-disk guest" capture_copy 1
P1=$(jq -r '.job.result.point' "$TB_DIR/copy1.json")
check "write a.txt = second" hf_guest_write f1 second a.txt
check "write vdb marker two" vdb_write two
check "incremental copy" capture_copy 2
P2=$(jq -r '.job.result.point' "$TB_DIR/copy2.json")
jcheck "two points, both disks in each" \
	"[.points[] | [.point, .disks]] == [[\"$P1\",2],[\"$P2\",2]]" hf --json dr list "$W"

# ---- restore --as, both disks byte for byte ----
R1=$(tb_dom r1)
jcheck "dr restore $P2 --as $R1: two disks, checks, shut off" \
	".job.state == \"succeeded\" and (.job.result.disks | length) == 2 and .job.result.state == \"shutoff\" and .job.result.already_restored == false" \
	hf --json dr restore "$W" "$P2" --as "$R1"
for t in vda vdb; do
	check "restored $t equals the guest's $t at point 2, byte for byte" \
		qemu-img compare -f qcow2 -F qcow2 "$TB_DIR/$R1-$t.qcow2" "$TB_DIR/ref2-$t.qcow2"
done
check "no temporary file left" sh -c "! ls '$TB_DIR'/*.hf-partial 2>/dev/null"
check "the new guest records the point it came from" \
	sh -c "virsh -c '$TB_URI' dumpxml '$R1' | grep -q 'point=\"$P2\"'"
jcheck "the same restore again: already restored, exit 0" \
	'.job.state == "succeeded" and .job.result.already_restored == true' \
	hf --json dr restore "$W" "$P2" --as "$R1"
expect_exit "a restore of another point onto that name: conflict" 1 hf dr restore "$W" "$P1" --as "$R1"
grep_out "... naming it" "already exists"

# ---- --host: onto another configured host (here the same libvirtd under another [host]) ----
R4=$(tb_dom dr-r4)
jcheck "dr restore --host dr: defined through host dr" \
	".job.state == \"succeeded\" and .job.result.host == \"dr\" and .job.host == \"dr\"" \
	hf --json dr restore "$W" "$P1" --as "$R4" --host dr
check "... host dr lists it" sh -c "for i in \$(seq 1 50); do '$HF_BUILD/cli/holdfast' --socket '$HF_SOCK' --json guests --host dr --all | jq -e '.guests[] | select(.name == \"$R4\")' >/dev/null && exit 0; sleep 0.1; done; exit 1"
expect_exit "dr restore --host of a host that is not configured" 4 hf dr restore "$W" "$P1" --as x --host nowhere
grep_out "... naming it" "host 'nowhere' is not configured"

# ---- --dry-run ----
R2=$(tb_dom r2)
jcheck "dr restore --dry-run: the plan (2 images, host, checks), nothing done" \
	".job.state == \"succeeded\" and .job.result.dry_run and (.job.result.plan | length) == 2 and .job.result.host == \"lab\" and all(.job.result.checks[]; .ok)" \
	hf --json dr restore "$W" "$P2" --as "$R2" --dry-run
check "--dry-run as a person reads it" hf dr restore "$W" "$P2" --as "$R2" --dry-run
grep_out "... says nothing was done" "dry run, nothing done"
check "... no guest $R2, no file for it" \
	sh -c "! virsh -c '$TB_URI' dominfo '$R2' >/dev/null 2>&1 && ! ls '$TB_DIR/$R2'* 2>/dev/null"

# ---- interrupted restores ----
R3=$(tb_dom r3)
finished() { ls "$TB_DIR/$R3-vda.qcow2" "$TB_DIR/$R3-vdb.qcow2" 2>/dev/null; }
wait_file() { for _ in $(seq 1 600); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }
touch "$TB_DIR/slow"
JOB=$(hf dr restore "$W" "$P2" --as "$R3" --no-wait)
check "a restore is writing (slow convert)" wait_file "$TB_DIR/convert-done"
check "cancel it" hf jobs cancel "$JOB"
for _ in $(seq 1 100); do hf --json jobs show "$JOB" | jq -e '.job.state == "cancelled"' >/dev/null 2>&1 && break; sleep 0.1; done
jcheck "... the job is cancelled" '.job.state == "cancelled"' hf --json jobs show "$JOB"
check "... nothing left: no finished-looking disk, no temporary file, no journal" \
	sh -c "! ls '$TB_DIR/$R3'* '$TB_DIR'/hfstate/drrestore/*.json 2>/dev/null"
rm -f "$TB_DIR/convert-done"
hf dr restore "$W" "$P2" --as "$R3" --no-wait >/dev/null
check "a restore is writing again" wait_file "$TB_DIR/convert-done"
kill -9 "$HF_PID"
wait "$HF_PID" 2>/dev/null || true
HF_PID=
check "after kill -9 of holdfastd: no file named like a finished disk" sh -c "[ -z \"\$(ls '$TB_DIR/$R3-vda.qcow2' '$TB_DIR/$R3-vdb.qcow2' 2>/dev/null)\" ]"
ls "$TB_DIR/$R3"* 2>/dev/null | sed 's/^/  left: /'
rm -f "$TB_DIR/slow"
hf_up <<<"$CONF"
R5=$(tb_dom r5)
jcheck "the next restore on that host (another name) undoes the dead one first" \
	".job.state == \"succeeded\" and (.job.result.recovered | test(\"$R3\"))" \
	hf --json dr restore "$W" "$P1" --as "$R5"
check "... nothing of $R3 is left, no journal" \
	sh -c "! ls '$TB_DIR/$R3'* '$TB_DIR'/hfstate/drrestore/*.json 2>/dev/null"
jcheck "a restore to that name works" '.job.state == "succeeded" and (.job.result | has("recovered") | not)' \
	hf --json dr restore "$W" "$P2" --as "$R3"
check "... its disks equal point 2" sh -c "qemu-img compare -f qcow2 -F qcow2 '$TB_DIR/$R3-vda.qcow2' '$TB_DIR/ref2-vda.qcow2' && qemu-img compare -f qcow2 -F qcow2 '$TB_DIR/$R3-vdb.qcow2' '$TB_DIR/ref2-vdb.qcow2'"
check "... and no temporary file is left" sh -c "! ls '$TB_DIR'/*.hf-partial 2>/dev/null"

# ---- in place ----
expect_exit "--in-place while the guest runs: refused" 1 hf dr restore "$W" "$P1" --in-place
grep_out "... saying it must be shut off" "needs it shut off"
check "... the guest still runs, no file was made" \
	sh -c "[ \"\$(virsh -q -c '$TB_URI' domstate '$W')\" = running ] && ! ls '$TB_DIR'/*.hf-partial '$TB_DIR'/*.hf-before-restore-* 2>/dev/null"
check "shut the guest off" tb_virsh destroy "$W"
sums() { sha256sum "$(tb_disk f1)" "$VDB"; }
SUMS=$(sums)
touch "$TB_DIR/fail-second"
expect_exit "--in-place whose second disk fails to write: the job fails" 1 hf dr restore "$W" "$P1" --in-place
grep_out "... naming the failure" "injected failure"
rm -f "$TB_DIR/fail-second" "$TB_DIR/nconv"
[ "$(sums)" = "$SUMS" ] && ok "... the guest's images are exactly as they were" || bad "in-place failure changed the images"
check "... no temporary or kept file, no journal" \
	sh -c "! ls '$TB_DIR'/*.hf-partial '$TB_DIR'/*.hf-before-restore-* '$TB_DIR'/hfstate/drrestore/*.json 2>/dev/null"
jcheck "--in-place --keep-old of point 1 (shut off)" \
	'.job.state == "succeeded" and .job.result.in_place and (.job.result.disks | length) == 2 and (.job.result.kept | length) == 2' \
	hf --json dr restore "$W" "$P1" --in-place --keep-old
cp "$ASSERT_TMP/out" "$TB_DIR/inplace.json"
jcheck "... the guest's DR checkpoints are dropped (the new images carry no bitmaps)" \
	'(.job.result.checkpoints_dropped | length) > 0' cat "$TB_DIR/inplace.json"
check "... libvirt lists none of them" sh -c "! virsh -q -c '$TB_URI' checkpoint-list '$W' --name | grep -q '^hf-dr-'"
check "... same disk paths, the point's data (vda, vdb byte for byte)" \
	sh -c "qemu-img compare -f qcow2 -F qcow2 '$(tb_disk f1)' '$TB_DIR/ref1-vda.qcow2' && qemu-img compare -f qcow2 -F qcow2 '$VDB' '$TB_DIR/ref1-vdb.qcow2'"
KEPT=$(cd "$TB_DIR" && sha256sum "f1-data.qcow2.hf-before-restore-$P1" "f1-vdb.qcow2.hf-before-restore-$P1" 2>/dev/null | awk '{print $1}')
[ "$KEPT" = "$(echo "$SUMS" | awk '{print $1}')" ] && ok "... the old images kept as IMAGE.hf-before-restore-$P1, byte-identical" || bad "kept images: '$KEPT'"
rm -f "$TB_DIR"/*.hf-before-restore-*
check "... same UUID" sh -c "[ \"\$(virsh -q -c '$TB_URI' domuuid '$W' | tr -d '[:space:]')\" = '$UUID' ]"
check "start it" tb_guest_start f1
check "its agent answers" tb_wait_agent f1 180
OUT=$(hf_guest_read f1 a.txt)
[ "$OUT" = first ] && ok "the guest boots with point 1's data (a.txt = first)" || bad "after in-place: a.txt='$OUT'"
OUT=$(tb_guest_exec f1 'cat /mnt/vdb/m.txt')
[ "$OUT" = one ] && ok "... and its second disk's (marker one)" || bad "after in-place: vdb marker '$OUT'"

# ---- planned failover (DR host: the same host, so the source is renamed) ----
check "write a.txt = third" hf_guest_write f1 third a.txt
check "write vdb marker three" vdb_write three
jcheck "dr failover --planned --dry-run: a plan, nothing changes" \
	'.job.state == "succeeded" and .job.result.dry_run' hf --json dr failover "$W" --planned --dry-run
check "... the guest still runs" sh -c "[ \"\$(virsh -q -c '$TB_URI' domstate '$W')\" = running ]"
FJOB=$(hf dr failover "$W" --planned --timeout 240 --no-wait)
CJOB=$(hf dr copy "$W" --no-wait)
FJOB2=$(hf dr failover "$W" --planned --timeout 240 --no-wait)
jcheck "dr failover --planned runs (holding the guest)" '.job.state == "running" and .job.guest != null' hf --json jobs show "$FJOB"
jcheck "... a DR copy of the guest submitted meanwhile waits (queued)" '.job.state == "queued"' hf --json jobs show "$CJOB"
jcheck "... and so does a second failover of it" '.job.state == "queued"' hf --json jobs show "$FJOB2"
final() { for _ in $(seq 1 3000); do hf --json jobs show "$1" | jq -e '.job.state != "running" and .job.state != "queued"' >/dev/null 2>&1 && return 0; sleep 0.2; done; return 1; }
check "... the failover ends" final "$FJOB"
jcheck "dr failover --planned" \
	'.job.state == "succeeded" and .job.result.mode == "planned" and ([.job.result.steps[] | .step] == ["source","stop source","final copy","verify","mark source","restore","start","agent"]) and all(.job.result.steps[]; .ok)' \
	hf --json jobs show "$FJOB"
PF=$(result point)
FO_S=$(jq '[.job.result.steps[].seconds] | add' "$ASSERT_TMP/out")
jq -c '.job.result.steps[] | [.step, .seconds, .detail]' "$ASSERT_TMP/out" | sed 's/^/  /'
both_final() { final "$CJOB" && final "$FJOB2"; }
check "... the queued copy and the second failover end" both_final
FFIN=$(hf --json jobs show "$FJOB" | jq -r .job.finished)
jcheck "... the copy ran only once the failover had ended (copying the DR guest that has the name now)" \
	".job.state == \"succeeded\" and .job.started >= \"$FFIN\" and .job.result.kind == \"full\" and (.job.result.dir | contains(\"$UUID\") | not)" hf --json jobs show "$CJOB"
jcheck "... the second failover went on from the mark (after the first, not beside it)" \
	".job.state == \"succeeded\" and .job.result.point == \"$PF\" and .job.result.restore.already_restored" hf --json jobs show "$FJOB2"
SRC="$W.failed-over"
check "the source: renamed, shut off, autostart off, marked" \
	sh -c "[ \"\$(virsh -q -c '$TB_URI' domstate '$SRC')\" = 'shut off' ] && virsh -c '$TB_URI' dominfo '$SRC' | grep -Eq 'Autostart: +disable' && virsh -c '$TB_URI' metadata '$SRC' https://holdfast.dev/xmlns/dr-failover/1 | grep -q 'point=\"$PF\"'"
check "the DR guest runs under the guest's name" sh -c "[ \"\$(virsh -q -c '$TB_URI' domstate '$W')\" = running ]"
OUT=$(hf_guest_read f1 a.txt)
[ "$OUT" = third ] && ok "the DR guest has the data written just before the failover (a.txt = third)" || bad "DR guest: a.txt='$OUT'"
OUT=$(tb_guest_exec f1 'cat /mnt/vdb/m.txt')
[ "$OUT" = three ] && ok "... and on its second disk (marker three)" || bad "DR guest vdb marker '$OUT'"
expect_exit "dr copy of the failed-over source: refused" 1 hf dr copy "lab/$SRC"
grep_out "... naming the failover" "was failed over to"
expect_exit "snapshot of the failed-over source: refused" 1 hf snapshot create "lab/$SRC"
grep_out "... naming the failover" "was failed over to"
jcheck "the planned failover again: idempotent, goes on from the mark" \
	".job.state == \"succeeded\" and .job.result.point == \"$PF\" and .job.result.restore.already_restored and (.job.result.steps[0].detail | test(\"marked as failed over already\"))" \
	hf --json dr failover "$W" --planned --timeout 240
check "the same, as a person reads it" hf dr failover "$W" --planned --timeout 240
grep_out "... the steps" "ok .*restore .*was restored already"
grep_out "... the source" "shut off, autostart off, marked"
check "still one running guest of that name, the source shut off" \
	sh -c "[ \"\$(virsh -q -c '$TB_URI' domstate '$W')\" = running ] && [ \"\$(virsh -q -c '$TB_URI' domstate '$SRC')\" = 'shut off' ]"

# ---- emergency failover: the source is lost ----
check "write a.txt = before-loss in e1" hf_guest_write e1 before-loss a.txt
jcheck "a copy of e1" '.job.state == "succeeded"' hf --json dr copy "$E"
PE=$(result point)
expect_exit "--emergency while the source runs: refused" 1 hf dr failover "$E" --emergency
grep_out "... naming it" "run it on both sides"
check "the source is lost (destroyed and undefined)" sh -c "virsh -q -c '$TB_URI' destroy '$E' >/dev/null && virsh -q -c '$TB_URI' undefine --checkpoints-metadata '$E' >/dev/null"
jcheck "dr failover --emergency: the newest verified point, started, RPO given" \
	".job.state == \"succeeded\" and .job.result.point == \"$PE\" and .job.result.rpo_s >= 0 and .job.result.source.reachable == false and (.job.result.note | test(\"fenced\"))" \
	hf --json dr failover "$E" --emergency --timeout 240
OUT=$(hf_guest_read e1 a.txt)
[ "$OUT" = before-loss ] && ok "the emergency guest runs with the point's data" || bad "emergency guest: a.txt='$OUT'"
jcheck "the emergency failover again: idempotent" \
	'.job.state == "succeeded" and .job.result.restore.already_restored' \
	hf --json dr failover "$E" --emergency --timeout 240

# emergency failover of a source that crashed but whose host answers: only marked (and renamed,
# as the DR guest takes its name on this host), nothing else done to it
E2=$(tb_dom e2)
check "write a.txt = crashed in e2" hf_guest_write e2 crashed a.txt
jcheck "a copy of e2" '.job.state == "succeeded"' hf --json dr copy "$E2"
PE2=$(result point)
check "e2 crashes (destroyed, still defined)" tb_virsh destroy "$E2"
jcheck "dr failover --emergency --dry-run of e2: the point it would use and the plan" \
	".job.state == \"succeeded\" and .job.result.dry_run and .job.result.point == \"$PE2\" and (.job.result.restore.plan | length) == 1" \
	hf --json dr failover "$E2" --emergency --dry-run
check "... nothing changed: e2 shut off, not renamed, not marked" \
	sh -c "[ \"\$(virsh -q -c '$TB_URI' domstate '$E2')\" = 'shut off' ] && ! virsh -c '$TB_URI' metadata '$E2' https://holdfast.dev/xmlns/dr-failover/1 >/dev/null 2>&1"
jcheck "dr failover --emergency of e2: its host answers, so the source is marked" \
	".job.state == \"succeeded\" and .job.result.point == \"$PE2\" and .job.result.source.reachable and .job.result.source.marked and .job.result.source.name == \"$E2.failed-over\"" \
	hf --json dr failover "$E2" --emergency --timeout 240
check "... the source: shut off, renamed, marked emergency" \
	sh -c "[ \"\$(virsh -q -c '$TB_URI' domstate '$E2.failed-over')\" = 'shut off' ] && virsh -c '$TB_URI' metadata '$E2.failed-over' https://holdfast.dev/xmlns/dr-failover/1 | grep -q 'mode=\"emergency\"'"
OUT=$(hf_guest_read e2 a.txt)
[ "$OUT" = crashed ] && ok "the DR guest of e2 runs with the point's data" || bad "e2 DR guest: a.txt='$OUT'"

# a source that does not shut down (no agent, and the stand-in ignores the ACPI power button)
N1=$(tb_dom n1)
jcheck "a copy of n1 (no agent: crash-consistent)" '.job.state == "succeeded"' hf --json dr copy "$N1"
expect_exit "planned failover of n1 without --force-off: refused after the timeout" 1 \
	hf dr failover "$N1" --planned --timeout 10
grep_out "... saying what to do" "did not shut down within 10 s.*--force-off"
check "... nothing changed: n1 runs, not renamed, not marked" \
	sh -c "[ \"\$(virsh -q -c '$TB_URI' domstate '$N1')\" = running ] && ! virsh -c '$TB_URI' metadata '$N1' https://holdfast.dev/xmlns/dr-failover/1 >/dev/null 2>&1"
expect_exit "with --force-off: powered off, copied, marked, restored, started; its agent never answers" 1 \
	hf dr failover "$N1" --planned --force-off --timeout 10
grep_out "... the steps up to there" "ok .*stop source .*powered off (--force-off)"
grep_out "... the failed step named" "agent did not answer within 10 s"
check "... the source is shut off and marked, the DR guest runs" \
	sh -c "[ \"\$(virsh -q -c '$TB_URI' domstate '$N1.failed-over')\" = 'shut off' ] && [ \"\$(virsh -q -c '$TB_URI' domstate '$N1')\" = running ]"

# dr status exits 1 when a guest is critical (store "crit": the same directory, 1 s / 2 s)
jcheck "dr status: ok, exit 0; the three failed-over guests say so instead of an RPO" \
	'.state == "ok" and ([.guests[] | select(.state == "failed-over") | .failed_over.mode] | sort) == ["emergency","emergency","planned"]' \
	hf --json dr status
sleep 2.1
expect_exit "dr status against rpo-critical = 2 s: critical, exit 1" 1 hf --json dr status --store crit
cp "$ASSERT_TMP/out" "$TB_DIR/status.json"
jcheck "... the state says critical" '.state == "critical"' cat "$TB_DIR/status.json"
tb_measure failover_planned_s="$FO_S"
hf_finish
