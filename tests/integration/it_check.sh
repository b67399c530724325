#!/bin/bash
# Build checks through the daemon on the test driver (no guest agent there): check of the fleet
# as a job with per-guest errors, the evidence cache (seeded state file), policies and exit
# codes, --csv, classify of evidence on stdin, config validation.
. "$(dirname "$0")/lib.sh"

# Evidence as `holdfast --json check` gives it: a 6003 guest with ESU year 3 (May 2022 rollup)
cat >"$T/esu3.json" <<'JSON'
{"sources":[
 {"source":"registry","collected-at":"2024-05-01T10:00:00Z","major":6,"minor":0,"build":6003,
  "product-name":"Windows Server (R) 2008 Enterprise","edition-id":"ServerEnterprise",
  "csd-version":"Service Pack 2","buildlab":"6003.vistasp2_ldr_escrow.220406-1606",
  "buildlabex":"6003.21481.amd64fre.vistasp2_ldr_escrow.220406-1606","role":"server"},
 {"source":"file-version","collected-at":"2024-05-01T10:00:00Z","major":6,"minor":0,"build":6003,"revision":21481},
 {"source":"update-list","collected-at":"2024-05-01T10:00:00Z",
  "updates":["KB955430","KB4474419","KB4493730","KB4550737","KB4575904","KB5014010"]},
 {"source":"licence-query","collected-at":"2024-05-01T10:00:00Z","licences":[
  {"id":"553673ed-6ddf-419c-a153-b760283472fd","status":1},
  {"id":"04fa0286-fa74-401e-bbe9-fbfbb158010d","status":1},
  {"id":"16c08c85-0c8b-4009-9b2b-f1f7319e45f9","status":1}]}]}
JSON
# ... and a 6002 guest not patched past March 2019 (KB4489880), no ESU licence installed
cat >"$T/6002.json" <<'JSON'
{"sources":[
 {"source":"registry","collected-at":"2024-05-01T10:00:00Z","major":6,"minor":0,"build":6002,
  "product-name":"Windows Server (R) 2008 Standard","edition-id":"ServerStandard",
  "csd-version":"Service Pack 2","buildlabex":"6002.24564.amd64fre.vistasp2_ldr_escrow.190311-1800"},
 {"source":"file-version","collected-at":"2024-05-01T10:00:00Z","major":6,"minor":0,"build":6002,"revision":24564},
 {"source":"update-list","collected-at":"2024-05-01T10:00:00Z","updates":["KB955430","KB4489880"]},
 {"source":"licence-query","collected-at":"2024-05-01T10:00:00Z","licences":[
  {"id":"553673ed-6ddf-419c-a153-b760283472fd","status":-1}]}]}
JSON

# A cache seeded with the ESU guest's evidence for w2k8-dc01 (running on the test driver)
mkdir -p "$T/state"
jq -n --slurpfile ev "$T/esu3.json" '{version: 1, checks: [{host: "demo", name: "w2k8-dc01",
	checked: "2024-05-01T10:00:00Z", agent: {version: "4.2.0", missing: [], calls: 9, ms: 40},
	os: {windows: true, id: "mswindows", name: "Windows Server (R) 2008 Enterprise"},
	evidence: $ev[0], error: null}]}' >"$T/state/checks.json"
write_conf <<CONF
check-interval = 0
check-timeout = 5
[host demo]
uri = test://$FLEET
CONF
start_daemon

# ---- the cache: seeded evidence served with its age, classified now ----
expect_exit "cached ESU guest passes the default (no) policy: exit 0" 0 hf --json check w2k8-dc01 --fail-on none --no-refresh
jcheck "cached evidence: 6003 with ESU year 3, age > 0, cached" '.checks | length == 1 and .[0].cached and .[0].age_s > 0 and .[0].verdict.product == "server2008-sp2-6003" and .[0].verdict.facts["esu-licence-active"].value == "year 3" and .[0].verdict.facts["esu-era-updates"].value == "yes" and .[0].policy == null' \
	hf --json check w2k8-dc01
jcheck "single-guest job carries the guest" '.job.guest == "demo/w2k8-dc01"' hf --json --no-wait check w2k8-dc01
expect_exit "policy require-build 6003 passes: exit 0" 0 hf check w2k8-dc01 --require-build 6003 --min-esu-year 3
grep_out "table shows the build.revision" "6003.21481"
grep_out "table shows the licence" "year 3"
grep_out "table has the policy column" "POLICY"
expect_exit "policy require-build 6002 fails: exit 1" 1 hf check w2k8-dc01 --require-build 6002
grep_out "policy failure is explained" "build 6002 required, found 6003"
jcheck "policy result in JSON" '.checks[0].policy.pass == false and .summary.policy_failures == 1' \
	sh -c "$HOLDFAST --socket $SOCK --json check w2k8-dc01 --max-patch-age 1; true"
expect_exit "max patch age fails on an old rollup: exit 1" 1 hf check w2k8-dc01 --max-patch-age 1

expect_exit "csv of the cached guest: exit 0" 0 hf --csv check w2k8-dc01
if head -1 "$T/out" | grep -q $'^guest,host,name,product,build,revision,patch_month,months_behind,esu_era,licence,status,policy,reasons,checked,age_s,error\r$'; then
	ok "csv header row with CRLF"
else bad "csv header row"; head -2 "$T/out" | od -c | head; fi
if python3 -c 'import csv,sys; r=list(csv.reader(open(sys.argv[1], newline=""))); sys.exit(not (len(r) == 2 and all(len(x) == 16 for x in r) and r[1][3] == "server2008-sp2-6003" and r[1][9] == "year 3"))' "$T/out"; then
	ok "csv parses (RFC 4180): 16 fields, product and licence"
else bad "csv does not parse as expected"; cat "$T/out"; fi

# ---- the fleet on the test driver: every guest reported, none checkable ----
expect_exit "fleet check: exit 1 (guests could not be checked)" 1 hf --json check --refresh
jcheck "fleet check reports every guest" '[.checks[].guest] | sort == ["demo/debian-tools","demo/w2k8-dc01","demo/w2k8-files01","demo/w2k8-sql01","demo/w2k8-web01","demo/w2k8r2-app01"]' \
	sh -c "$HOLDFAST --socket $SOCK --json check --refresh; true"
jcheck "running guests: agent commands unsupported by the test backend" '[.checks[] | select(.name != "w2k8-files01" and .name != "w2k8-web01" and .name != "w2k8-dc01") | .error.code] | unique == ["unsupported"]' \
	sh -c "$HOLDFAST --socket $SOCK --json check --refresh; true"
jcheck "error names the guest and the missing agent support" '.checks[] | select(.name == "w2k8-sql01") | .error.message | test("w2k8-sql01") and test("not supported")' \
	sh -c "$HOLDFAST --socket $SOCK --json check --refresh; true"
jcheck "shut-off guests: agent-unavailable, never checked" '[.checks[] | select(.name == "w2k8-files01" or .name == "w2k8-web01") | [.error.code, .checked, .verdict]] | unique == [["agent-unavailable", null, null]]' \
	sh -c "$HOLDFAST --socket $SOCK --json check; true"
jcheck "a failed refresh keeps the older evidence, marked stale with the refresh's error" '.checks[] | select(.name == "w2k8-dc01") | .stale and .refresh_error.code == "unsupported" and .error == null and .verdict.product == "server2008-sp2-6003"' \
	sh -c "$HOLDFAST --socket $SOCK --json check --refresh; true"
jcheck "summary counts the failures and the stale guest" '.summary.failed == 5 and .summary.stale == 1 and .summary.policy_failures == 0' \
	sh -c "$HOLDFAST --socket $SOCK --json check --refresh; true"
jcheck "check.run is a job (--no-wait)" '.job.kind == "check.run" and .job.host == "*"' hf --json --no-wait check
expect_exit "unknown guest: exit 4" 4 hf check nosuchguest
grep_out "unknown guest is named" "nosuchguest"

# ---- --csv ----
hf --csv check >"$T/fleet.csv" 2>/dev/null || true
if python3 -c 'import csv,sys; r=list(csv.reader(open(sys.argv[1], newline=""))); sys.exit(not (len(r) == 7 and all(len(x) == 16 for x in r)))' "$T/fleet.csv"; then
	ok "fleet csv: header + 6 rows of 16 fields"
else bad "fleet csv"; cat "$T/fleet.csv"; fi
expect_exit "--csv with --json: usage error" 2 hf --csv --json check
expect_exit "--csv on another command: usage error" 2 hf --csv guests
grep_out "--csv refusal names the command" "only for"
check "human table of the fleet" sh -c "$HOLDFAST --socket $SOCK check; true"
grep_out "table header" "BUILD.REVISION"
grep_out "failures are listed with reasons" "not checked:"

# ---- --refresh collects again; a failure is reported beside the older evidence ----
jcheck "--refresh collects again (fails on the test driver): stale verdict + the error" '.checks[0].cached == false and .checks[0].stale and .checks[0].refresh_error.code == "unsupported" and .checks[0].verdict.product == "server2008-sp2-6003"' \
	sh -c "$HOLDFAST --socket $SOCK --json check w2k8-dc01 --refresh; true"
expect_exit "a stale guest: exit 1" 1 hf check w2k8-dc01 --refresh
grep_out "the table says the verdict is stale" "stale: the last refresh failed"
for _ in $(seq 1 40); do # written on the main thread at most 0.5 s after a collection
	jq -e '[.checks[]] | length >= 4' "$T/state/checks.json" >/dev/null 2>&1 && break
	sleep 0.1
done
jcheck "the cache file holds every checked guest" '[.checks[] | .host + "/" + .name] | length >= 4' cat "$T/state/checks.json"

# ---- classify: evidence on stdin ----
jcheck "classify 6003 + ESU year 3" '.verdict.product == "server2008-sp2-6003" and .verdict.facts["esu-licence-active"].value == "year 3" and .verdict.facts.revision.value == "21481" and .policy == null' \
	sh -c "$HOLDFAST --socket $SOCK --json classify <$T/esu3.json"
jcheck "classify 6002: critical, no ESU" '.verdict.product == "server2008-sp2-6002" and .verdict.status == "critical" and .verdict.facts["esu-era-updates"].value == "no"' \
	sh -c "$HOLDFAST --socket $SOCK --json classify <$T/6002.json"
expect_exit "classify human output: exit 0" 0 sh -c "$HOLDFAST --socket $SOCK classify <$T/esu3.json"
grep_out "human verdict line" "verdict: critical (server2008-sp2-6003)"
grep_out "facts cite their evidence" "<- file-version revision = 21481"
expect_exit "classify 6002 against require-build 6003: exit 1" 1 sh -c "$HOLDFAST --socket $SOCK classify --require-build 6003 <$T/6002.json"
grep_out "policy failure named" "build 6003 required, found 6002"
expect_exit "classify ESU guest against min-esu-year 3: exit 0" 0 sh -c "$HOLDFAST --socket $SOCK classify --min-esu-year 3 <$T/esu3.json"
jcheck "--evidence on the command line" '.verdict.product == "server2008-sp2-6002"' hf --json classify --evidence "$(cat "$T/6002.json")"
expect_exit "malformed JSON on stdin: exit 2" 2 sh -c "printf '{\"sources\": [' | $HOLDFAST --socket $SOCK classify"
grep_out "malformed JSON is explained" "not valid JSON"
expect_exit "not an object: exit 2" 2 sh -c "echo '[1,2]' | $HOLDFAST --socket $SOCK classify"
expect_exit "wrong type in the evidence: exit 2" 2 sh -c "echo '{\"sources\":[{\"source\":\"registry\",\"build\":\"6003\"}]}' | $HOLDFAST --socket $SOCK classify"
grep_out "the bad field is named" "build"
expect_exit "unknown source: exit 2" 2 sh -c "echo '{\"sources\":[{\"source\":\"tea-leaves\"}]}' | $HOLDFAST --socket $SOCK classify"
expect_exit "empty stdin: exit 2" 2 sh -c "$HOLDFAST --socket $SOCK classify </dev/null"
jcheck "huge string refused, daemon alive" '.error.code == "invalid-params"' \
	sh -c "python3 -c 'import json; print(json.dumps({\"sources\":[{\"source\":\"registry\",\"product-name\":\"x\"*5000}]}))' | $HOLDFAST --socket $SOCK --json classify; true"
daemon_alive "after hostile classify input"

# ---- config validation ----
cp "$CONF" "$T/good.conf"
for bad in "check-interval = -1" "check-timeout = 0" "check-parallel = 65" "check-min-esu-year = 4" \
	"check-max-patch-age = -2" "check-fail-on = sometimes" "check-require-build = x" "check-bogus = 1"; do
	sed "s/^check-interval = 0$/$bad/" "$T/good.conf" >"$T/bad.conf"
	expect_exit "config '$bad' refused" 1 "$HOLDFASTD" --check-config --config "$T/bad.conf"
	grep_out "config error names the key of '$bad'" "${bad%% =*}"
done
sed "s/^check-interval = 0$/check-interval = 3600\ncheck-fail-on = critical\ncheck-require-build = 6003/" "$T/good.conf" >"$T/ok.conf"
expect_exit "valid check keys accepted" 0 "$HOLDFASTD" --check-config --config "$T/ok.conf"

# ---- the cache survives a restart; a malformed cache file is ignored ----
stop_daemon
jcheck "state file written atomically as JSON" '.version == 1 and (.checks | length) >= 4' cat "$T/state/checks.json"
echo '{"version":1,"checks":[{"host":"demo","name":"w2k8-sql01","checked":"bogus"},{"host":"demo","name":"w2k8-dc01","checked":"2024-05-01T10:00:00Z","evidence":{"sources":[{"source":"nope"}]}}]}' >"$T/state/checks.json"
start_daemon
jcheck "malformed cache entries dropped, daemon serves" '.checks[0].cached == false' sh -c "$HOLDFAST --socket $SOCK --json check w2k8-dc01; true"
grep -q "malformed entries dropped" "$DLOG" && ok "malformed cache logged" || bad "malformed cache not logged"

# ---- an empty fleet passes ----
stop_daemon
sed 's/^uri = .*/&\nguests = nomatch*/' "$T/good.conf" >"$CONF"
start_daemon
jcheck "empty fleet: no checks" '.checks == [] and .summary.failed == 0' hf --json check
expect_exit "empty fleet: exit 0" 0 hf check
grep_out "empty fleet says so" "no guests to check"
finish
