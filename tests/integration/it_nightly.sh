#!/bin/bash
# 400 simulated nights of a daily 02:30 Europe/Berlin policy on the test driver, driven by the
# daemon's test clock (HOLDFAST_TEST_CLOCK=1, `holdfast debug clock`), no sleeps for the
# scheduler. The timeline mirrors tests/unit/sched/test_nightly.c (same rules, pin, retention
# change, downtime; DST changes and the leap day on the way), so the kept set at the end is
# that test's hand-computed expectation with the policy's snapshot names:
#   2027-05-10  start, R1 = keep-daily 7, keep-weekly 4, keep-monthly 6, keep-yearly 1
#   2027-07-05  pin the snapshot of 2027-07-04
#   2027-12-01  SIGHUP with R2 = keep-daily 5, keep-weekly 2, keep-monthly 3, keep-yearly 1:
#               prunes more than prune-limit 25 % -> held back, R1 stays
#   2027-12-03  `holdfast policy apply`: R2 prunes the expected six
#   2028-06-08  daemon stopped; 06-09, 06-10 and 06-11 02:30 missed
#   2028-06-11  daemon restarted at 12:00: exactly one catch-up run (slot 06-11)
#   2028-06-12  last night
# The test driver forgets its snapshots when holdfastd restarts, so the fleet file is
# regenerated from holdfast's ownership records before the restart (a hypervisor keeps them).
. "$(dirname "$0")/lib.sh"
export HOLDFAST_TEST_CLOCK=1
GUESTS="w2k8-dc01 w2k8-sql01"
cp "$FLEET" "$T/fleet.xml"

policy_conf() { # $1 = fleet file, $2.. = keep rules
	local fleet=$1; shift
	write_conf <<CONF
[host demo]
uri = test://$fleet

[policy nightly]
schedule = *-*-* 02:30:00
timezone = Europe/Berlin
guests = w2k8-dc01, demo/w2k8-sql01
quiesce = try
prune-limit = 25
$(printf '%s\n' "$@")
CONF
}
R1="keep-daily = 7
keep-weekly = 4
keep-monthly = 6
keep-yearly = 1"
R2="keep-daily = 5
keep-weekly = 2
keep-monthly = 3
keep-yearly = 1"
policy_conf "$T/fleet.xml" "$R1"

# local 12:00 of each day is 10:00Z (CEST) or 11:00Z (CET); 10:00Z is the same local date
day_utc() { date -u -d "$1 10:00:00 UTC" +%Y-%m-%dT%H:%M:%SZ; }
wait_idle() { # until the policy has no run in progress and no job is queued or running
	for _ in $(seq 1 500); do
		if hf --json policy list | jq -e '.ready and .policies[0].running == false' >/dev/null &&
			[ "$(hf --json jobs list --state running | jq '.jobs | length')" = 0 ] &&
			[ "$(hf --json jobs list --state queued | jq '.jobs | length')" = 0 ]; then
			return 0
		fi
		sleep 0.01
	done
	bad "run did not finish"; hf --json policy list | jq -c ".policies[0] | {running,last_slot}"; hf --json jobs list --state running | jq -c "[.jobs[] | {id,kind,state,message}]"; hf --json jobs list --state queued | jq -c "[.jobs[] | {id,kind,state,message}]"; exit 1
}
names() { hf --json snapshot list "$1" | jq -r '[.snapshots[].name] | sort | join(" ")'; }

T0=$(day_utc 2027-05-09)
export HOLDFAST_TEST_CLOCK_START=${T0%T*}T22:00:00Z # 2027-05-10 00:00 CEST
start_daemon
jcheck "policy listed with its next slot" '.policies[0].name == "nightly" and .policies[0].next == "2027-05-10T00:30:00Z"' hf --json policy list
jcheck "schedule: next run per guest" '[.schedule[].guest] == ["demo/w2k8-dc01","demo/w2k8-sql01"]' hf --json schedule
expect_exit "debug clock cannot go backwards" 2 hf debug clock --set 2020-01-01T00:00:00Z

t0=$(date +%s)
day=2027-05-10
step() { # move the clock to day $1 10:00Z and wait for its run
	hf debug clock --set "$(day_utc "$1")" >/dev/null
	wait_idle
}
while [ "$day" != 2028-06-13 ]; do
	case $day in
	2027-07-05)
		step "$day"
		for g in $GUESTS; do hf snapshot pin "$g" hf-nightly-20270704T003000Z >/dev/null; done
		jcheck "pinned shows in the list" '.snapshots[] | select(.name == "hf-nightly-20270704T003000Z") | .pinned and .policy == "nightly"' hf --json snapshot list w2k8-dc01
		;;
	2027-12-01)
		step "$day"
		policy_conf "$T/fleet.xml" "$R2"
		kill -HUP "$DPID"
		for _ in $(seq 1 100); do grep -q "configuration reloaded" "$DLOG" && break; sleep 0.02; done
		;;
	2027-12-02)
		step "$day"
		jcheck "rules change held back (> prune-limit)" '.policy.held | keys == ["demo/w2k8-dc01","demo/w2k8-sql01"]' hf --json policy show nightly
		jcheck "held: the count of what it would prune" '.policy.held["demo/w2k8-dc01"].would_prune > 0 and .policy.held["demo/w2k8-dc01"].share > 0.25' hf --json policy show nightly
		jcheck "the run's job reports the held change" '[.jobs[] | select(.kind == "policy.nightly")] | last | .result.held.rules == "keep-daily 5, keep-weekly 2, keep-monthly 3, keep-yearly 1"' hf --json jobs list
		;;
	2027-12-03)
		step "$day"
		jcheck "still 17 kept per guest before apply (R1)" '[.snapshots[] | select(.owner == "holdfast")] | length == 17' hf --json snapshot list w2k8-dc01
		jcheck "policy apply approves and prunes the held guests" '.approved and .held_guests == 2 and .job.kind == "policy.run"' hf --json policy apply nightly
		wait_idle
		jcheck "apply pruned exactly the six of the hand computation" '[.jobs[] | select(.kind == "policy.nightly" and .guest == "demo/w2k8-dc01")] | last | [.result.pruned[].name] | sort == ["hf-nightly-20270530T003000Z","hf-nightly-20270627T003000Z","hf-nightly-20270725T003000Z","hf-nightly-20271107T013000Z","hf-nightly-20271114T013000Z","hf-nightly-20271127T013000Z"]' hf --json jobs list
		jcheck "nothing held any more" '.policy.held == {} and .policy.approved' hf --json policy show nightly
		;;
	2028-06-08)
		step "$day"
		stop_daemon
		# the hypervisor keeps snapshots across a daemon restart; the test driver does not
		for f in "$T"/state/snapshots/demo/*.json; do
			g=$(jq -r .guest "$f")
			jq -r '.snapshots[] | select(.pending != true) | "<test:domainsnapshot><name>\(.name)</name><state>running</state><creationTime>\(.created)</creationTime><active>0</active></test:domainsnapshot>"' "$f" >"$T/snaps.$g"
		done
		awk -v dir="$T" '/<domain type=/ { n = "" }
			/<name>/ && !n { n = $0; gsub(/.*<name>|<\/name>.*/, "", n) }
			{ print }
			/<test:runstate>/ { f = dir "/snaps." n; while ((getline l < f) > 0) print l; n = "" }' "$FLEET" >"$T/fleet2.xml"
		policy_conf "$T/fleet2.xml" "$R2"
		export HOLDFAST_TEST_CLOCK_START=$(day_utc 2028-06-11)
		start_daemon
		wait_idle
		jcheck "exactly one catch-up run after the downtime (slot 06-11)" '.policies[0].last_run.reason == "catch-up" and .policies[0].last_run.slot == "2028-06-11T00:30:00Z" and .policies[0].last_slot == "2028-06-11T00:30:00Z"' hf --json policy list
		jcheck "no run for the slots of 06-09 and 06-10" '[.jobs[] | select(.kind == "policy.run") | .params.slot] | map(select(startswith("2028-06-09") or startswith("2028-06-10"))) == []' hf --json jobs list
		day=2028-06-12
		continue
		;;
	*) step "$day" ;;
	esac
	day=$(date -u -d "$day + 1 day" +%Y-%m-%d)
done
t1=$(date +%s)
ok "400 simulated days in $((t1 - t0)) s"

EXPECT="hf-nightly-20270704T003000Z hf-nightly-20271226T013000Z hf-nightly-20280227T013000Z hf-nightly-20280326T010000Z hf-nightly-20280430T003000Z hf-nightly-20280528T003000Z hf-nightly-20280604T003000Z hf-nightly-20280606T003000Z hf-nightly-20280607T003000Z hf-nightly-20280608T003000Z hf-nightly-20280611T003000Z hf-nightly-20280612T003000Z"
[ "$(names w2k8-dc01)" = "$EXPECT" ] && ok "w2k8-dc01 keeps the hand-computed set" || bad "w2k8-dc01 kept: $(names w2k8-dc01)"
[ "$(names w2k8-sql01)" = "before-sp4 $EXPECT vendor-baseline" ] && ok "w2k8-sql01: same set, foreign snapshots untouched" || bad "w2k8-sql01 kept: $(names w2k8-sql01)"
jcheck "the pinned one is still pinned" '[.snapshots[] | select(.pinned) | .name] == ["hf-nightly-20270704T003000Z"]' hf --json snapshot list w2k8-sql01
runs=$(grep -c "policy nightly: run [0-9]* (\(scheduled\|catch-up\))" "$DLOG" || true)
slots=$(grep -o "policy nightly: run [0-9]* (\(scheduled\|catch-up\)) of slot [^:]*:[^:]*:[^:]*" "$DLOG" | sed 's/.* of slot //' | sort -u | wc -l)
[ "$runs" = 398 ] && ok "398 slot runs (400 days, 2 lost to the downtime)" || bad "$runs slot runs"
[ "$slots" = "$runs" ] && ok "no slot ran twice" || bad "$slots distinct slots in $runs runs"
check "every prune is logged with its rule" grep -q "policy nightly pruned snapshot hf-nightly-20271031T003000Z: beyond keep-daily" "$DLOG"
grep -q "pruned snapshot before-sp4\|pruned snapshot vendor-baseline" "$DLOG" && bad "a foreign snapshot was pruned" || ok "no foreign snapshot pruned"

expect_exit "pin of a foreign snapshot is refused" 4 hf snapshot pin w2k8-sql01 before-sp4
grep_out "refusal explains" "not made by holdfast"
check "policy simulate prints a table" hf policy simulate nightly --days 30
grep_out "simulate has a day-by-day table" "DATE"
check "human policy list" hf policy list
check "human schedule" hf schedule
jcheck "policy show: guests and last run" '.policy.selected == ["demo/w2k8-dc01","demo/w2k8-sql01"] and .policy.last_run.counts.done == 2' hf --json policy show nightly
jcheck "manual run: a policy.run job that summarises the guests" '.job.kind == "policy.run" and .job.state == "succeeded" and .job.result.counts.done == 2' hf --json policy run nightly
daemon_alive "after 400 nights"
finish
