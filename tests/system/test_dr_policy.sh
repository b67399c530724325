#!/bin/bash
# A DR policy on a real QEMU stand-in, night after night on holdfastd's test clock: action =
# dr-copy, full-every = 3, keep-last = 3. Data is written in the guest before every night. The
# store holds the right kinds (full, incremental, incremental, full, ...), counted from the
# store; retention keeps three points and, when a base has to go while its child is kept,
# consolidates the child (self-contained, or rebased) before deleting the base; every kept point
# verifies (dr verify) and restores with the data of its night (the chain flattened, the file
# read with debugfs). Leases (a point in use by a restore) are covered by the unit tests
# (test_drretain.c), not here.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hf.sh"
tb_init
tb_libvirt_up
tb_image
tb_guest_define d1 w2k8-6003-esu3
tb_guest_start d1
tb_wait_agent d1 90
STORE=$TB_DIR/drstore
export HOLDFAST_TEST_CLOCK=1 HOLDFAST_TEST_CLOCK_START=2026-03-01T12:00:00Z
hf_up <<CONF
[policy drn]
schedule = *-*-* 02:00:00
guests = $TB_PREFIX*
action = dr-copy
store = site
full-every = 3
keep-last = 3
[drstore site]
path = $STORE
CONF
W=$(tb_dom d1)
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
last_guest() { # the guest's entry in the newest policy.run job's result
	hf --json jobs list | jq '[.jobs[] | select(.kind == "policy.run")] | last | .result.guests[0]'
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
	P=$(jq -r '.result.point' <<<"$G")
	POINTS+=("$P")
	TEXT[$P]=night$n
	want=${KINDS[$((n - 1))]}
	if jq -e --arg k "$want" '.state == "done" and .result.kind == $k' <<<"$G" >/dev/null; then
		ok "night $n: point $P, a $want copy"
	else bad "night $n: wanted a $want copy: $G"; fi
	have=$(hf --json dr list "$W" | jq '.points | length')
	[ "$have" -eq $((n < 3 ? n : 3)) ] && ok "night $n: $have point(s) kept" || bad "night $n: $have points in the store"
	case $n in
	4 | 5 | 7)
		jq -e --arg b "${POINTS[$((n - 4))]}" --arg c "${POINTS[$((n - 3))]}" \
			'[.result.pruned[].point] == [$b] and [.result.consolidated[].point] == [$c]' <<<"$G" >/dev/null &&
			ok "night $n: base ${POINTS[$((n - 4))]} deleted, its child ${POINTS[$((n - 3))]} consolidated first" ||
			bad "night $n: pruned/consolidated: $(jq -c '.result' <<<"$G")"
		;;
	6)
		jq -e --arg b "${POINTS[2]}" '[.result.pruned[].point] == [$b] and (.result.consolidated | length) == 0' <<<"$G" >/dev/null &&
			ok "night 6: ${POINTS[2]} deleted, nothing to consolidate (the next point is a full)" ||
			bad "night 6: $(jq -c '.result' <<<"$G")"
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
	'[.jobs[] | select(.kind == "dr.copy") | .params | select(.full) | .full_reason] == ["no restore point of this guest in the store yet","full-every 3: 3 copies since the last full","full-every 3: 3 copies since the last full"]' \
	hf --json jobs list
jcheck "every night's copy ran as a dr.copy job, retention as a policy.drretain job" \
	'([.jobs[] | select(.kind == "dr.copy" and .state == "succeeded")] | length) == 7 and ([.jobs[] | select(.kind == "policy.drretain" and .state == "succeeded")] | length) == 7' \
	hf --json jobs list
check "every deletion and consolidation is logged with its reason" \
	sh -c "[ \$(grep -c 'retention: deleted point .*beyond keep-last 3' '$HF_LOG') = 4 ] && [ \$(grep -c 'retention: consolidated point .*made self-contained' '$HF_LOG') = 3 ]"
hf_finish
