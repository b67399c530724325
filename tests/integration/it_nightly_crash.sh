#!/bin/bash
# kill -9 of holdfastd in the middle of a nightly run over five guests (max-concurrent 1,
# stagger 600 s on the test clock), then a restart: the journal is consistent, the run is
# completed (guests done before the crash are not redone), nothing is doubled, a half-made
# snapshot holdfast left is removed and taken again, foreign snapshots are never touched
# (one named like the slot makes its guest fail, which runs the notify command).
# The test driver forgets snapshots when the daemon dies, so the fleet is regenerated from
# holdfast's committed ownership records (what a real hypervisor would still have).
. "$(dirname "$0")/lib.sh"
export HOLDFAST_TEST_CLOCK=1 HOLDFAST_TEST_CLOCK_START=2027-01-01T00:00:00Z
SLOTNAME=hf-crashy-20270101T023000Z
conf() {
	write_conf <<CONF
[host demo]
uri = test://$1

[policy crashy]
schedule = *-*-* 02:30:00
guests = w2k8*
max-concurrent = 1
stagger = 600
keep-last = 3
notify = cat > $T/notify.json
CONF
}
conf "$FLEET"
wait_idle() {
	for _ in $(seq 1 500); do
		if hf --json policy list | jq -e '.ready' >/dev/null &&
			[ "$(hf --json jobs list --state running | jq '[.jobs[] | select(.kind != "policy.run")] | length')" = 0 ] &&
			[ "$(hf --json jobs list --state queued | jq '[.jobs[] | select(.kind != "policy.run")] | length')" = 0 ]; then
			return 0
		fi
		sleep 0.01
	done
	bad "jobs did not finish"
}
start_daemon
wait_idle
hf debug clock --set 2027-01-01T02:30:00Z >/dev/null
wait_idle
# the guests in the order of their staggered starts
mapfile -t ORDER < <(hf --json schedule | jq -r '.schedule | sort_by(.next) | .[] | "\(.next) \(.guest)"')
[ "${#ORDER[@]}" = 5 ] && ok "five guests, starts spread by stagger" || bad "schedule: ${ORDER[*]}"
jcheck "the run is in progress in the journal" '.policies.crashy.run.slot == "2027-01-01T02:30:00Z"' cat "$T/state/schedule.json"
hf debug clock --set "${ORDER[1]%% *}" >/dev/null
wait_idle
jcheck "two guests done before the crash (journal)" '.policies.crashy.run.counts.done == 2' cat "$T/state/schedule.json"
DONE_BEFORE=$(jq -c '[.policies.crashy.run.guests[] | select(.state == "done") | {guest, job}] | sort_by(.guest)' "$T/state/schedule.json")
hf debug clock --set "${ORDER[2]%% *}" >/dev/null # the third starts ...
kill -9 "$DPID"                                   # ... and holdfastd dies
wait "$DPID" 2>/dev/null || true
DPID=
jcheck "journal readable after kill -9" '.policies.crashy.run != null' cat "$T/state/schedule.json"

# what the hypervisor still has: committed snapshots, plus what we plant for the crash cases
G4=${ORDER[3]#* demo/}
G5=${ORDER[4]#* demo/}
NOW=$(date +%s)
for f in "$T"/state/snapshots/demo/*.json; do
	g=$(jq -r .guest "$f")
	jq -r '.snapshots[] | select(.pending != true) | "<test:domainsnapshot><name>\(.name)</name><state>running</state><creationTime>\(.created)</creationTime><active>0</active></test:domainsnapshot>"' "$f" >"$T/snaps.$g"
done
U4=$(virsh -c "test://$FLEET" domuuid "$G4" 2>/dev/null | awk "NR == 1")
mkdir -p "$T/state/snapshots/demo"
O4=$T/state/snapshots/demo/$U4.json
[ -f "$O4" ] || echo "{\"guest\":\"$G4\",\"snapshots\":[]}" >"$O4"
# a crash between create and commit on guest 4: intent recorded, the snapshot exists
jq --argjson t "$NOW" '.snapshots += [{"name":"'$SLOTNAME'","pending":true,"intent":$t,"job":999}]' "$O4" >"$O4.new" && mv "$O4.new" "$O4"
echo "<test:domainsnapshot><name>$SLOTNAME</name><state>running</state><creationTime>$NOW</creationTime><active>0</active></test:domainsnapshot>" >>"$T/snaps.$G4"
# guest 5: someone else made a snapshot with the slot's name
echo "<test:domainsnapshot><name>$SLOTNAME</name><description>made by hand</description><state>running</state><creationTime>1600000000</creationTime><active>0</active></test:domainsnapshot>" >>"$T/snaps.$G5"
awk -v dir="$T" '/<domain type=/ { n = "" }
			/<name>/ && !n { n = $0; gsub(/.*<name>|<\/name>.*/, "", n) }
	{ print }
	/<test:runstate>/ { f = dir "/snaps." n; while ((getline l < f) > 0) print l; n = "" }' "$FLEET" >"$T/fleet2.xml"
conf "$T/fleet2.xml"
export HOLDFAST_TEST_CLOCK_START=2027-01-01T03:00:00Z
start_daemon
wait_idle
jcheck "interrupted jobs are marked with the reason" '[.jobs[] | select(.state == "interrupted")] | all(.error.code == "interrupted")' hf --json jobs list
jcheck "the half-made snapshot was found and removed" '[.jobs[] | select(.kind == "snapshot.recover" and .guest == "demo/'"$G4"'")] | last | .result.half_made[0].action | test("removed")' hf --json jobs list
jcheck "the run is resumed, not restarted" '.policies.crashy.run.reason == "resumed"' cat "$T/state/schedule.json"
hf debug clock --advance 600 >/dev/null
wait_idle
jcheck "the run completed: four done, the guest with a foreign slot-named snapshot failed" '.policies[0].running == false and .policies[0].last_run.counts.done == 4 and .policies[0].last_run.counts.failed == 1 and .policies[0].last_slot == "2027-01-01T02:30:00Z"' hf --json policy list
jcheck "guests done before the crash were not redone" "[.jobs[] | select(.kind == \"policy.run\") | .result.guests // empty] | last | map(select(.state == \"done\")) as \$d | $DONE_BEFORE | all(. as \$g | \$d | any(.guest == \$g.guest and .job == \$g.job))" hf --json jobs list
for g in w2k8-dc01 w2k8-sql01 w2k8-web01 w2k8r2-app01 w2k8-files01; do
	n=$(hf --json snapshot list "$g" | jq --arg s "$SLOTNAME" '[.snapshots[] | select(.name == $s)] | length')
	[ "$n" = 1 ] && ok "$g: exactly one snapshot for the slot" || bad "$g: $n snapshots for the slot"
	u=$(virsh -c "test://$FLEET" domuuid "$g" 2>/dev/null | awk "NR == 1")
	f=$T/state/snapshots/demo/$u.json
	[ -f "$f" ] || echo '{"snapshots":[]}' >"$f"
	jcheck "$g: ownership records consistent (no pending left)" '[.snapshots[] | select(.pending)] | length == 0' cat "$f"
done
jcheck "$G5: the foreign slot-named snapshot is untouched and foreign" '.snapshots[] | select(.name == "'$SLOTNAME'") | .owner == "foreign" and .description == "made by hand"' hf --json snapshot list "$G5"
jcheck "w2k8-sql01's foreign snapshots untouched" '[.snapshots[] | select(.owner == "foreign") | .name] | contains(["before-sp4","vendor-baseline"])' hf --json snapshot list w2k8-sql01
jcheck "the notify command got the run's summary with the failure" '.policy == "crashy" and .counts.failed == 1 and ([.guests[] | select(.state == "failed") | .note] | .[0] | test("did not make"))' cat "$T/notify.json"
jcheck "journal consistent: no run in progress, last run recorded" '.policies.crashy.run == null and .policies.crashy.last_run.reason == "resumed"' cat "$T/state/schedule.json"
daemon_alive "after the crash and recovery"
finish
