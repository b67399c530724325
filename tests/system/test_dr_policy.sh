#!/bin/bash
# A DR policy on a real QEMU stand-in, night after night on holdfastd's test clock: action =
# dr-copy, full-every = 3, keep-last = 3. Data is written in the guest before every night. The
# store holds the right kinds (full, incremental, incremental, full, ...), counted from the
# store; retention keeps three points and, when a base has to go while its child is kept,
# consolidates the child (self-contained, or rebased) before deleting the base; every kept point
# verifies (dr verify) and restores with the data of its night (the chain flattened, the file
# read with debugfs). A second guest whose copy fails every night (its disk is gone) does not
# stop the first. A rules change that would prune too much is held back until `policy apply`,
# whose prune-only run then consolidates and prunes. holdfastd killed (-9) right after a night's
# copy: after the restart the run completes and that night has exactly one point. Leases (a point
# in use by a restore) are covered by the unit tests (test_drretain.c); here a point booted by
# `dr test` (which leases it) is neither deleted nor rewritten by a night's retention, and goes
# once the test has ended.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hf.sh"
tb_init
tb_libvirt_up
tb_image
tb_guest_define d1 w2k8-6003-esu3
tb_guest_define broken w2k8-6003-esu3
rm -f "$(tb_disk broken)" # never starts: every copy of it fails
tb_guest_start d1
tb_wait_agent d1 90
STORE=$TB_DIR/drstore
export HOLDFAST_TEST_CLOCK=1 HOLDFAST_TEST_CLOCK_START=2026-03-01T12:00:00Z
conf() { # $1: keep-last
	cat <<CONF
[policy drn]
schedule = *-*-* 02:00:00
guests = $TB_PREFIX*
action = dr-copy
store = site
full-every = 3
keep-last = $1
[drstore site]
path = $STORE
test-dir = $TB_DIR/drtest
CONF
}
hf_up < <(conf 3)
W=$(tb_dom d1) B=$(tb_dom broken)
UUID=$(tb_virsh domuuid "$W" | tr -d '[:space:]')
GD=$STORE/$UUID

restored_file() { # point file: the file as restored from the point (chain flattened)
	qemu-img convert -f qcow2 -O raw "$GD/$1/vda.qcow2" "$TB_DIR/restored.raw" &&
		debugfs -R "cat /$2" "$TB_DIR/restored.raw" 2>/dev/null
}
wait_run() { # until the run of slot $1 finished
	local i
	for i in $(seq 1 1200); do
		hf --json policy list | jq -e --arg s "$1" \
			'.ready and .policies[0].running == false and .policies[0].last_run.slot == $s' \
			>/dev/null 2>&1 && return 0
		sleep 0.25
	done
	return 1
}
last_guest() { # d1's entry in the newest policy.run job's result
	hf --json jobs list | jq --arg g "lab/$W" \
		'[.jobs[] | select(.kind == "policy.run" and (.result.guests | type) == "array")] | last | .result.guests[] | select(.guest == $g)'
}

jcheck "policy show: a dr-copy policy with its store and full-every" \
	'.policy.action == "dr-copy" and .policy.store == "site" and .policy.full_every == 3 and .policy.rules == "keep-last 3"' \
	hf --json policy show drn
jcheck "policy simulate: kinds by full-every, consolidations shown" \
	'[.days[].created[0].kind] == ["full","incremental","incremental","full","incremental","incremental","full"] and (.days[3].consolidated | length) == 1 and (.days[3].pruned | length) == 1' \
	hf --json policy simulate drn --days 7

KINDS=(full incremental incremental full incremental incremental full)
declare -A TEXT
POINTS=()
for n in 1 2 3 4 5 6 7; do
	day=$(printf '2026-03-%02d' $((n + 1)))
	check "night $n: write data in the guest" \
		tb_guest_exec d1 "echo night$n >/mnt/data/a.txt && dd if=/dev/urandom of=/mnt/data/blob$n bs=64k count=8 2>/dev/null && sync"
	t0=$(tb_now)
	hf debug clock --set "${day}T02:00:30Z" >/dev/null
	if wait_run "${day}T02:00:00Z"; then ok "night $n: the scheduled run finished ($(tb_since "$t0") s)"
	else bad "night $n: no finished run for slot ${day}T02:00:00Z"; tail -30 "$HF_LOG"; fi
	G=$(last_guest)
	P=$(jq -r '.result.point' <<<"${G:-null}")
	POINTS+=("$P")
	TEXT[$P]=night$n
	want=${KINDS[$((n - 1))]}
	if jq -e --arg k "$want" '.state == "done" and .result.kind == $k' <<<"${G:-null}" >/dev/null; then
		ok "night $n: point $P, a $want copy"
	else bad "night $n: wanted a $want copy: $G"; fi
	[ $n -ne 1 ] || jcheck "night 1: the broken guest failed, named in the run's result; d1 done" \
		"[.jobs[] | select(.kind == \"policy.run\")] | last | (.state == \"failed\") and (.result.guests[] | select(.guest == \"lab/$B\") | .state == \"failed\" and (.note | length) > 0)" \
		hf --json jobs list
	case $n in 4 | 7)
		jq -e '.result.full_reason == "full-every 3: 3 copies since the last full"' <<<"${G:-null}" >/dev/null &&
			ok "night $n: the point says why it is full (full-every)" || bad "night $n: full_reason $(jq .result.full_reason <<<"${G:-null}")"
		;;
	esac
	have=$(hf --json dr list "$W" | jq '.points | length')
	[ "$have" -eq $((n < 3 ? n : 3)) ] && ok "night $n: $have point(s) kept" || bad "night $n: $have points in the store"
	case $n in
	4 | 5 | 7)
		jq -e --arg b "${POINTS[$((n - 4))]}" --arg c "${POINTS[$((n - 3))]}" \
			'[.result.pruned[].point] == [$b] and [.result.consolidated[].point] == [$c]' <<<"${G:-null}" >/dev/null &&
			ok "night $n: base ${POINTS[$((n - 4))]} deleted, its child ${POINTS[$((n - 3))]} consolidated first" ||
			bad "night $n: pruned/consolidated: $(jq -c '.result' <<<"${G:-null}")"
		;;
	6)
		jq -e --arg b "${POINTS[2]}" '[.result.pruned[].point] == [$b] and (.result.consolidated | length) == 0' <<<"${G:-null}" >/dev/null &&
			ok "night 6: ${POINTS[2]} deleted, nothing to consolidate (the next point is a full)" ||
			bad "night 6: $(jq -c '.result' <<<"${G:-null}")"
		;;
	esac
done

P5=${POINTS[4]} P6=${POINTS[5]} P7=${POINTS[6]}
jcheck "the store holds nights 5, 6, 7: self-contained (consolidated), incremental, full" \
	"[.points[] | [.point, .kind]] == [[\"$P5\",\"full\"],[\"$P6\",\"incremental\"],[\"$P7\",\"full\"]]" \
	hf --json dr list "$W"
check "night 5's manifest records the consolidation (copied as incremental, since_full 2)" \
	jq -e '.consolidated.copied_as == "incremental" and .consolidated.since_full == 2 and .disks[0].parent == null and .verified' "$GD/$P5/manifest.json"
check "night 5's image has no backing file any more" \
	sh -c "qemu-img info --output=json '$GD/$P5/vda.qcow2' | jq -e 'has(\"backing-filename\") | not'"
check "night 6 is still backed by night 5's image" \
	sh -c "qemu-img info --output=json '$GD/$P6/vda.qcow2' | jq -e '.\"backing-filename\" == \"../$P5/vda.qcow2\"'"
check "no leftovers of consolidation or deletion in the store" \
	sh -c "! ls -d '$GD'/*.hf-* '$GD'/*.partial 2>/dev/null"
jcheck "dr verify: every kept point and chain" \
	".job.state == \"succeeded\" and (.job.result.verified | sort) == ([\"$P5\",\"$P6\",\"$P7\"] | sort)" \
	hf --json dr verify "$W"
for p in "$P5" "$P6" "$P7"; do
	OUT=$(restored_file "$p" a.txt)
	[ "$OUT" = "${TEXT[$p]}" ] && ok "point $p restores a.txt = ${TEXT[$p]}" || bad "point $p: a.txt='$OUT', wanted ${TEXT[$p]}"
done
jcheck "the scheduler asked for the fulls by full-every, counted from the store" \
	'[.jobs[] | select(.kind == "dr.copy" and .guest == "lab/'"$W"'") | .params | select(.full) | .full_reason] == ["no restore point of this guest in the store yet","full-every 3: 3 copies since the last full","full-every 3: 3 copies since the last full"]' \
	hf --json jobs list
jcheck "every night's copy ran as a dr.copy job, retention as a policy.drretain job" \
	'([.jobs[] | select(.kind == "dr.copy" and .state == "succeeded")] | length) == 7 and ([.jobs[] | select(.kind == "policy.drretain" and .state == "succeeded")] | length) == 7' \
	hf --json jobs list
check "every deletion and consolidation is logged with its reason" \
	sh -c "[ \$(grep -c 'retention: deleted point .*beyond keep-last 3' '$HF_LOG') = 4 ] && [ \$(grep -c 'retention: consolidated point .*made self-contained' '$HF_LOG') = 3 ]"
jcheck "policy simulate: the next retention of d1 would prune nothing now" \
	"[.now[] | select(.guest == \"lab/$W\") | .points, (.pruned | length)] == [3, 0]" \
	hf --json policy simulate drn --days 1

# keep-last 1 would prune 3 of 4 points (> prune-limit 50%): held back, the old rules go on
conf 1 >"$TB_DIR/drn.conf"
sed -i "/^\[policy drn\]/,\$d" "$TB_DIR/holdfastd.conf"
cat "$TB_DIR/drn.conf" >>"$TB_DIR/holdfastd.conf"
printf '[host lab]\nuri = %s\nguests = %s*\n' "$TB_URI" "$TB_PREFIX" >>"$TB_DIR/holdfastd.conf"
kill -HUP "$HF_PID"
for _ in $(seq 1 100); do grep -q "configuration reloaded" "$HF_LOG" && break; sleep 0.05; done
check "write data for night 8" tb_guest_exec d1 "echo night8 >/mnt/data/a.txt && sync"
hf debug clock --set 2026-03-09T02:00:30Z >/dev/null
wait_run 2026-03-09T02:00:00Z && ok "night 8: the run finished" || bad "night 8: no finished run"
G=$(last_guest)
P8=$(jq -r '.result.point' <<<"${G:-null}")
TEXT[$P8]=night8
jq -e --arg p5 "$P5" --arg p6 "$P6" '.result.held.rules == "keep-last 1" and [.result.pruned[].point] == [$p5] and [.result.consolidated[].point] == [$p6]' <<<"${G:-null}" >/dev/null &&
	ok "night 8: keep-last 1 held back, keep-last 3 applied (pruned $P5, consolidated $P6)" ||
	bad "night 8: $(jq -c .result <<<"${G:-null}")"
jcheck "policy show: the held change for d1" ".policy.held[\"lab/$W\"].would_prune == 3" hf --json policy show drn
jcheck "policy apply: a prune-only run for the held guest" '.approved and .held_guests == 1' hf --json policy apply drn
for _ in $(seq 1 600); do
	hf --json policy list | jq -e '.policies[0].running == false and .policies[0].last_run.reason == "apply"' >/dev/null && break
	sleep 0.25
done
G=$(last_guest)
jq -e --arg p6 "$P6" --arg p7 "$P7" --arg p8 "$P8" '.state == "done" and .result.point == null and [.result.pruned[].point] == [$p7, $p6] and [.result.consolidated[].point] == [$p8]' <<<"${G:-null}" >/dev/null &&
	ok "apply: $P8 made self-contained, then $P7 and $P6 deleted" || bad "apply: $(jq -c . <<<"${G:-null}")"
jcheck "one point left, a full (consolidated)" "[.points[] | [.point, .kind]] == [[\"$P8\",\"full\"]]" hf --json dr list "$W"
OUT=$(restored_file "$P8" a.txt)
[ "$OUT" = night8 ] && ok "point $P8 restores a.txt = night8" || bad "point $P8: a.txt='$OUT'"
jcheck "dr verify after apply" ".job.state == \"succeeded\" and .job.result.verified == [\"$P8\"]" hf --json dr verify "$W"

# kill -9 right after night 9's copy: the restarted daemon completes the run, no second copy
check "write data for night 9" tb_guest_exec d1 "echo night9 >/mnt/data/a.txt && sync"
COPIES=$(hf --json jobs list | jq '[.jobs[] | select(.kind == "dr.copy" and .state == "succeeded")] | length')
hf debug clock --set 2026-03-10T02:00:30Z >/dev/null
for _ in $(seq 1 1200); do
	[ "$(hf --json jobs list | jq '[.jobs[] | select(.kind == "dr.copy" and .state == "succeeded")] | length')" -gt "$COPIES" ] && break
	sleep 0.05
done
kill -9 "$HF_PID"
wait "$HF_PID" 2>/dev/null || true
HF_PID=
export HOLDFAST_TEST_CLOCK_START=2026-03-10T02:00:40Z
hf_up < <(conf 1)
wait_run 2026-03-10T02:00:00Z && ok "night 9: the interrupted run was completed after the restart" || bad "night 9: not completed"
jcheck "night 9: one new point (not copied twice), the older one gone by keep-last 1" \
	'(.points | length) == 1 and .points[0].kind == "full"' hf --json dr list "$W"
P9=$(hf --json dr list "$W" | jq -r '.points[0].point')
n=$(grep -c "DR copy of lab/$W: point" "$HF_LOG" || true)
[ "$n" = 9 ] && ok "nine copies of d1 published in nine nights (none twice)" || bad "$n copies of d1 published in nine nights"
G=$(last_guest)
if [ "$(jq -r .result.point <<<"${G:-null}" 2>/dev/null)" != "$P9" ]; then
	# the kill came after the whole run: the journal has it done, the job journal lost its
	# result (written coalesced); dr list above shows the one point
	tb_log "night 9: the run had finished before the kill; its job's result was not journalled"
	# the same fact from the daemon's log: night 9's retention deleted P8 once, nothing twice
	[ "$(grep -c "retention: deleted point $P8 " "$HF_LOG")" = 1 ] &&
		ok "night 9: only $P8 pruned, once (from the log)" || bad "night 9: $P8 deleted $(grep -c "retention: deleted point $P8 " "$HF_LOG") times"
else
	jq -e --arg p8 "$P8" --arg p9 "$P9" '.state == "done" and [.result.pruned[].point] == [$p8]' <<<"${G:-null}" >/dev/null &&
		ok "night 9: point $P9, only $P8 pruned (no second copy of the night)" || bad "night 9: $(jq -c . <<<"${G:-null}")"
fi
OUT=$(restored_file "$P9" a.txt)
[ "$OUT" = night9 ] && ok "point $P9 restores a.txt = night9" || bad "point $P9: a.txt='$OUT'"
run_now() { local rc=0; hf --json policy run drn || rc=$?; [ "$rc" -eq 1 ]; } # exit 1: the broken guest failed
jcheck "policy run (manual): d1 done (its 10th copy: a full), the broken guest failed" \
	".job.kind == \"policy.run\" and .job.result.reason == \"manual\" and .job.result.counts.done == 1 and .job.result.counts.failed == 1 and (.job.result.guests[] | select(.guest == \"lab/$W\") | .result.kind == \"full\")" \
	run_now
grep -q "was copied before the interruption" "$HF_LOG" && tb_log "night 9: the restart found the copy in the store (journal mark)" ||
	tb_log "night 9: the restart resumed after the copy was journalled"
# a point in use by a test boot (leased) survives a night's retention that would delete it
P10=$(hf --json dr list "$W" | jq -r '.points[-1].point')
tb_on_cleanup 'for d in $(virsh -q -c "$TB_URI" list --all --name | grep "^hf-test-$TB_PREFIX"); do virsh -q -c "$TB_URI" destroy "$d"; virsh -q -c "$TB_URI" undefine "$d" --nvram; done >/dev/null 2>&1'
TJ=$(hf --json --no-wait dr test "$W" "$P10" --port 9 --timeout 300 | jq -r '.job.id')
[ -n "$TJ" ] && [ "$TJ" != null ] && ok "dr test of $P10 started (job $TJ; port 9 never listens: it runs until cancelled)" || bad "dr test did not start"
check "write data for night 11" tb_guest_exec d1 "echo night11 >/mnt/data/a.txt && sync"
hf debug clock --set 2026-03-11T02:00:30Z >/dev/null
wait_run 2026-03-11T02:00:00Z && ok "night 11: the run finished" || bad "night 11: no finished run"
G=$(last_guest)
P11=$(jq -r '.result.point' <<<"${G:-null}")
jcheck "the test boot still runs (its lease is held)" '.job.state == "running" or .job.state == "queued"' hf --json jobs show "$TJ"
jq -e '.state == "done" and .result.pruned == [] and .result.consolidated == []' <<<"${G:-null}" >/dev/null &&
	ok "night 11: leased $P10 kept and not rewritten (keep-last 1 would delete it)" || bad "night 11: $(jq -c .result <<<"${G:-null}")"
jcheck "two points: the leased one and night 11's" "[.points[].point] == [\"$P10\", \"$P11\"]" hf --json dr list "$W"
hf jobs cancel "$TJ" >/dev/null 2>&1 || true
for _ in $(seq 1 600); do
	hf --json jobs show "$TJ" | jq -e '.job.state | . == "succeeded" or . == "failed" or . == "cancelled"' >/dev/null && break
	sleep 0.25
done
check "write data for night 12" tb_guest_exec d1 "echo night12 >/mnt/data/a.txt && sync"
hf debug clock --set 2026-03-12T02:00:30Z >/dev/null
wait_run 2026-03-12T02:00:00Z && ok "night 12: the run finished" || bad "night 12: no finished run"
G=$(last_guest)
P12=$(jq -r '.result.point' <<<"${G:-null}")
jq -e --arg a "$P10" --arg b "$P11" --arg c "$P12" '[.result.pruned[].point] == [$b, $a] and [.result.consolidated[].point] == [$c]' <<<"${G:-null}" >/dev/null &&
	ok "night 12: the test has ended: $P12 made self-contained, $P11 and $P10 deleted" || bad "night 12: $(jq -c .result <<<"${G:-null}")"
OUT=$(restored_file "$P12" a.txt)
[ "$OUT" = night12 ] && ok "point $P12 restores a.txt = night12" || bad "point $P12: a.txt='$OUT'"
check "no sanitizer report in holdfastd's log" sh -c "! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' '$HF_LOG'"
hf_finish
