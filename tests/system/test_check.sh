#!/bin/bash
# test_check.sh - the build check through holdfastd against real libvirtd + QEMU stand-ins:
# one guest per identity (6002 unpatched, 6003 without ESU, 6003 with ESU year 3, R2 7601, an
# old agent without guest-get-osinfo / guest-exec), the real Linux qemu-ga, and an agent that
# goes silent after libvirt's guest-sync. `holdfast --json check` must report each one right,
# the silent one as agent-timeout within its bound, and the rest of the fleet regardless.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
: "${HF_BUILD:=${TB_BUILD_ROOT:?HF_BUILD or TB_BUILD_ROOT must name the build directory}}"
HOLDFASTD=$HF_BUILD/daemon/holdfastd
HOLDFAST=$HF_BUILD/cli/holdfast
CHECK_TIMEOUT=${CHECK_TIMEOUT:-4}

tb_init
tb_libvirt_up
tb_image

PASS=0 FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
# expect DESC JQ-EXPR: on the check document in $TB_DIR/check.json
expect() {
	if jq -e "$2" "$TB_DIR/check.json" >/dev/null; then ok "$1"; else
		bad "$1"; echo "    jq: $2"
	fi
}
# guest NAME: the check of stand-in NAME
g() { echo ".checks[] | select(.name == \"$(tb_dom "$1")\")"; }

declare -A IDS=([g6002]=w2k8-6002-unpatched [noesu]=w2k8-6003-noesu [esu3]=w2k8-6003-esu3
	[r2]=w2k8r2-7601 [old]=w2k8-old-agent [mute]=w2k8-silent-after-sync)
for n in "${!IDS[@]}"; do tb_guest_define "$n" "${IDS[$n]}"; done
tb_guest_define lin agent=qemu-ga hostname=linux-standin
for n in "${!IDS[@]}" lin; do tb_guest_start "$n"; done
for n in g6002 noesu esu3 r2 old lin; do tb_wait_agent "$n" 120; done
sleep 2 # the silent one booted alongside; it never answers a ping

HFDIR=$TB_DIR/holdfastd
mkdir -p "$HFDIR"
cat >"$HFDIR/holdfastd.conf" <<CONF
[daemon]
socket = $HFDIR/holdfastd.sock
state-dir = $HFDIR/state
log-level = debug
check-interval = 0
check-timeout = $CHECK_TIMEOUT
[host tb]
uri = $TB_URI
guests = $TB_PREFIX*
CONF
"$HOLDFASTD" --foreground --config "$HFDIR/holdfastd.conf" >"$HFDIR/daemon.log" 2>&1 &
HFPID=$!
tb_on_cleanup 'kill $HFPID 2>/dev/null; wait $HFPID 2>/dev/null || true'
hf() { "$HOLDFAST" --socket "$HFDIR/holdfastd.sock" "$@"; }
for _ in $(seq 1 200); do
	hf --json guests --all 2>/dev/null | jq -e '.hosts[0].state == "connected" and (.guests | length) == 7' >/dev/null && break
	sleep 0.1
done

t0=$(tb_now)
rc=0
hf --json check >"$TB_DIR/check.json" || rc=$?
wall=$(tb_since "$t0")
tb_measure "fleet_check_seconds=$wall guests=7 check_timeout=$CHECK_TIMEOUT"
[ "$rc" -eq 1 ] && ok "exit 1: the silent guest could not be checked" || bad "exit $rc, wanted 1"
expect "all seven guests reported" '.checks | length == 7'

expect "6002 unpatched: server2008-sp2-6002, critical" "$(g g6002) | .verdict.product == \"server2008-sp2-6002\" and .verdict.status == \"critical\" and .verdict.facts.revision.value == \"24564\""
expect "6003 without ESU: no licence, no ESU-era updates" "$(g noesu) | .verdict.product == \"server2008-sp2-6003\" and .verdict.facts[\"esu-licence-active\"].value == \"no\" and .verdict.facts[\"esu-era-updates\"].value == \"no\" and .verdict.facts[\"patch-month\"].value == \"2020-01\""
expect "6003 ESU year 3: licence year 3 active, ESU-era updates" "$(g esu3) | .verdict.facts[\"esu-licence-active\"].value == \"year 3\" and .verdict.facts[\"esu-era-updates\"].value == \"yes\" and .verdict.facts.revision.value == \"21481\""
expect "ESU guest's evidence has every source" "$(g esu3) | [.evidence.sources[] | select(.unavailable == null) | .source] | sort == [\"agent-osinfo\",\"file-version\",\"licence-query\",\"registry\",\"update-list\"]"
expect "R2: build 7601" "$(g r2) | .verdict.product == \"server2008r2-7601\" and .verdict.facts.build.value == \"7601\""
expect "old agent: what it lacks is stated" "$(g old) | (.agent.missing | index(\"guest-get-osinfo\") != null and index(\"guest-exec\") != null) and ([.evidence.sources[] | select(.source == \"registry\") | .unavailable | test(\"lacks guest-exec\")] == [true]) and .error == null"
expect "old agent: build unknown, not guessed" "$(g old) | .verdict.facts.build.value == null"
expect "Linux qemu-ga: not Windows, nothing parsed" "$(g lin) | .os.windows == false and .verdict.product == \"not-windows\" and (.verdict.reasons[0] | test(\"not Windows\")) and ([.evidence.sources[] | select(.unavailable == null)] == [])"
expect "silent agent: agent-timeout" "$(g mute) | .error.code == \"agent-timeout\" and .verdict == null"
# libvirt's own guest-sync may add its fixed 5 s once per agent connection
expect "silent agent failed within its bound" "$(g mute) | .agent.ms <= ($CHECK_TIMEOUT + 6) * 1000"
expect "summary: one failed, none ok-by-accident" '.summary.failed == 1'

# the cache: a second check is served from it and says so
hf --json check "$(tb_dom esu3)" >"$TB_DIR/check.json" || true
expect "second check served from the cache" '.checks[0].cached == true and .checks[0].verdict.facts["esu-licence-active"].value == "year 3"'
rc=0
hf --json check "$(tb_dom esu3)" --require-build 6003 --min-esu-year 3 >"$TB_DIR/check.json" || rc=$?
[ "$rc" -eq 0 ] && ok "policy 6003 + ESU year 3: the ESU guest passes" || bad "policy exit $rc"
rc=0
hf check "$(tb_dom noesu)" --min-esu-year 1 >/dev/null || rc=$?
[ "$rc" -eq 1 ] && ok "policy ESU year 1: the 6003 guest without ESU fails (exit 1)" || bad "policy exit $rc"
hf --csv check >"$TB_DIR/check.csv" || true
[ "$(wc -l <"$TB_DIR/check.csv")" -eq 8 ] && ok "csv: header + 7 rows" || bad "csv rows"
hf check >"$TB_DIR/check.txt" 2>&1 || true
sed 's/^/    /' "$TB_DIR/check.txt" | head -20

if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$HFDIR/daemon.log"; then
	bad "sanitizer report in the daemon log"
fi
kill -TERM $HFPID
wait $HFPID && ok "holdfastd exits 0" || bad "holdfastd exit status"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
