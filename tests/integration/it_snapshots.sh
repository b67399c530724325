#!/bin/bash
# Snapshots through the daemon on the test driver: create, list, revert, delete, ownership.
. "$(dirname "$0")/lib.sh"
start_daemon

jcheck "create a named snapshot (waits for the job)" '.job.state == "succeeded" and .job.result.snapshot.name == "before-patch" and .job.result.snapshot.owner == "holdfast" and .job.result.snapshot.consistency == "crash"' \
	hf --json snapshot create w2k8-dc01 --name before-patch --description "before KB4474419"
jcheck "default name hf-YYYYMMDDTHHMMSSZ" '.job.result.snapshot.name | test("^hf-[0-9]{8}T[0-9]{6}Z$")' hf --json snapshot create w2k8-dc01
jcheck "quiesce=try records consistency and why" '.job.result.snapshot.consistency != "crash" and (.job.result.snapshot.consistency_reason | length > 0) and .job.result.snapshot.quiesce == "try"' \
	hf --json snapshot create w2k8-sql01 --name q1 --quiesce try
jcheck "list: holdfast-owned vs foreign" '[.snapshots[] | {(.name): .owner}] | add == {"before-sp4":"foreign","vendor-baseline":"foreign","q1":"holdfast"}' hf --json snapshot list w2k8-sql01
jcheck "list: description kept" '.snapshots[] | select(.name == "before-patch") | .description == "before KB4474419"' hf --json snapshot list w2k8-dc01
check "human snapshot list" hf snapshot list w2k8-sql01
grep_out "table shows the foreign snapshot" "before-sp4"

expect_exit "duplicate name fails (exit 1)" 1 hf snapshot create w2k8-dc01 --name before-patch
grep_out "duplicate is explained" "before-patch"
jcheck "the failed duplicate left the original owned" '.snapshots[] | select(.name == "before-patch") | .owner == "holdfast"' hf --json snapshot list w2k8-dc01
expect_exit "bad snapshot name refused (exit 2)" 2 hf snapshot create w2k8-dc01 --name "a/b"

jcheck "revert to a holdfast snapshot" '.job.state == "succeeded" and .job.result.reverted == "before-patch"' hf --json snapshot revert w2k8-dc01 before-patch
jcheck "revert to a foreign snapshot works too" '.job.state == "succeeded"' hf --json snapshot revert w2k8-sql01 before-sp4
jcheck "reverted snapshot is current" '.snapshots[] | select(.name == "before-sp4") | .current' hf --json snapshot list w2k8-sql01
expect_exit "revert to unknown snapshot: exit 1" 1 hf snapshot revert w2k8-dc01 nope
grep_out "unknown snapshot is named" "nope"

expect_exit "deleting a foreign snapshot is refused" 1 hf snapshot delete w2k8-sql01 vendor-baseline
grep_out "refusal says why and how" "not made by holdfast"
jcheck "foreign snapshot still there" '[.snapshots[].name] | index("vendor-baseline") != null' hf --json snapshot list w2k8-sql01
jcheck "delete own snapshot" '.job.state == "succeeded" and .job.result.owner == "holdfast"' hf --json snapshot delete w2k8-sql01 q1
jcheck "--force deletes a foreign one" '.job.result.owner == "foreign" and .job.result.forced' hf --json snapshot delete w2k8-sql01 vendor-baseline --force
jcheck "list after deletes" '[.snapshots[].name] == ["before-sp4"]' hf --json snapshot list w2k8-sql01

# jobs
check "--no-wait prints the job id" hf snapshot create w2k8-web01 --name nowait --no-wait
JID=$(tr -dc 0-9 <"$ASSERT_TMP/out")
[ -n "$JID" ] && ok "job id printed: $JID" || bad "no job id printed"
jcheck "jobs watch follows it to the end" '.job.id == '"${JID:-0}"' and .job.state == "succeeded"' hf --json jobs watch "${JID:-0}"
jcheck "jobs show" '.job.kind == "snapshot.create" and .job.guest == "demo/w2k8-web01"' hf --json jobs show "${JID:-0}"
jcheck "jobs list has every job" '[.jobs[].kind] | length >= 10' hf --json jobs list
jcheck "jobs list --state failed" '[.jobs[].state] | unique == ["failed"]' hf --json jobs list --state failed
jcheck "jobs list --guest" '[.jobs[].guest] | unique == ["demo/w2k8-web01"]' hf --json jobs list --guest w2k8-web01
check "human jobs list" hf jobs list
expect_exit "cancel a finished job: conflict (exit 1)" 1 hf jobs cancel "${JID:-0}"
expect_exit "unknown job: exit 4" 4 hf jobs show 999999
jcheck "--no-wait --json gives the job document" '.job.state == "queued" or .job.state == "running" or .job.state == "succeeded"' hf --json --no-wait snapshot create w2k8-web01 --name nowait2

daemon_alive "after snapshot work"
finish
