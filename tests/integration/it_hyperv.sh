#!/bin/bash
# Hyper-V guests end to end: holdfastd with [host] sections pointing at hf-wsman-sim (HTTPS with
# a certificate made here), everything through the holdfast CLI: guests, snapshot create / list /
# revert / delete, dr copy, auth and certificate failures, failed and slow jobs, dropped
# connections, malformed replies and quota faults; never a password in any output or log.
. "$(dirname "$0")/lib.sh"
SIM=$HF_BUILD/tests/wsman-sim/hf-wsman-sim
[ -x "$SIM" ] || { echo "hf-wsman-sim not built (libmicrohttpd missing): skipped"; exit 77; }
command -v openssl >/dev/null || { echo "openssl missing: skipped"; exit 77; }
PASS='s3cret-Hv!pw:x'
SPID=

make_cert() { # NAME: a throwaway self-signed certificate for 127.0.0.1
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=$1" \
		-addext "subjectAltName=IP:127.0.0.1" -keyout "$T/$1.key" -out "$T/$1.crt" >/dev/null 2>&1
}
pin_of() { # CERT: sha256//BASE64 of its public key
	echo "sha256//$(openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der |
		openssl dgst -sha256 -binary | base64)"
}
make_cert hv
make_cert other
printf 'hfadmin:%s\n' "$PASS" >"$T/sim.creds"
printf 'hfadmin:%s\n' "$PASS" >"$T/good.creds"
printf 'hfadmin\nwrong-password\n' >"$T/bad.creds"
printf 'hfadmin:%s\n' "$PASS" >"$T/leaky.creds"
chmod 600 "$T/sim.creds" "$T/good.creds" "$T/bad.creds"
chmod 644 "$T/leaky.creds"

"$SIM" --fleet "$HF_SRC/tests/wsman-sim/fixtures/fleet.ini" --credentials-file "$T/sim.creds" \
	--port 0 --tls-port 0 --tls-cert "$T/hv.crt" --tls-key "$T/hv.key" --port-file "$T/ports" \
	--log "$T/requests.log" --export-root "$T/export" --export-host-path 'D:\HolDR' \
	--vhdx-kib 64 --job-ms 300 >"$T/sim.out" 2>&1 &
SPID=$!
trap 'rc=$?; kill $SPID 2>/dev/null; wait $SPID 2>/dev/null; (exit $rc); cleanup' EXIT
for _ in $(seq 100); do [ -s "$T/ports" ] && grep -q https "$T/ports" && break; sleep 0.1; done
HTTP=$(sed -n 's/^http=//p' "$T/ports")
HTTPS=$(sed -n 's/^https=//p' "$T/ports")
control() { curl -sS -X POST --data-binary "$1" "http://127.0.0.1:$HTTP/control" >/dev/null; }

write_conf <<CONF
[host hv]
uri = hyperv://127.0.0.1:$HTTPS
credentials = $T/good.creds
ca-file = $T/hv.crt
export-path = D:\\HolDR
job-timeout = 3

[host hvpin]
uri = hyperv://127.0.0.1:$HTTPS
credentials = $T/good.creds
pinned-key = $(pin_of "$T/hv.crt")
guests = legacy01

[host badauth]
uri = hyperv://127.0.0.1:$HTTPS
credentials = $T/bad.creds
ca-file = $T/hv.crt

[host wrongca]
uri = hyperv://127.0.0.1:$HTTPS
credentials = $T/good.creds
ca-file = $T/other.crt

[host wrongpin]
uri = hyperv://127.0.0.1:$HTTPS
credentials = $T/good.creds
pinned-key = $(pin_of "$T/other.crt")

[host leaky]
uri = hyperv://127.0.0.1:$HTTPS
credentials = $T/leaky.creds
ca-file = $T/hv.crt

[host plain]
uri = hyperv://127.0.0.1:$HTTP
credentials = $T/good.creds
allow-unencrypted = true
guests = nokvp01

[host demo]
uri = test://$FLEET
CONF

# Every CLI output also goes to $T/cli.log (checked for the password at the end).
hfx() {
	local rc=0
	hf "$@" >"$T/x.out" 2>"$T/x.err" || rc=$?
	cat "$T/x.out" "$T/x.err" >>"$T/cli.log"
	cat "$T/x.out"
	cat "$T/x.err" >&2
	return $rc
}
host_json() { hfx --json guests --all | jq -c --arg h "$1" '.hosts[] | select(.name == $h)'; }
wait_hv() { # until host hv is connected again
	for _ in $(seq 150); do
		[ "$(hf --json guests --all | jq -r '.hosts[] | select(.name == "hv") | .state')" = connected ] && return 0
		sleep 0.2
	done
	return 1
}

check "config with Hyper-V keys passes --check-config" "$HOLDFASTD" --check-config --config "$CONF"
start_daemon

# --- config keys are validated by the driver
cp "$CONF" "$T/badkey.conf"
printf '[host x]\nuri = hyperv://h\nauht = basic\n' >>"$T/badkey.conf"
expect_exit "unknown Hyper-V key refused by --check-config" 1 "$HOLDFASTD" --check-config --config "$T/badkey.conf"
grep_out "... naming the known keys" "known: uri, guests, max-jobs, auth, credentials"

# --- guests, marked by host
jcheck "Hyper-V guests listed with host and address" \
	'[.guests[] | select(.host == "hv")] | map(.address) | sort == ["hv/app01","hv/db01","hv/legacy01","hv/nokvp01","hv/prod01","hv/web01"]' \
	hfx --json guests --all
jcheck "2008 recognised from KVP (web01: 2008, running, GUID as uuid)" \
	'.guests[] | select(.address == "hv/web01") | .os.win2008 and .os.source == "hyperv-kvp" and .state == "running" and .uuid == "6A7C3E1F-2B4D-4E8F-9A0B-1C2D3E4F5A61"' \
	hfx --json guests --all
jcheck "off guest: state shutoff, OS unknown without KVP" \
	'.guests[] | select(.address == "hv/db01") | .state == "shutoff" and .os.win2008 == false' hfx --json guests --all
jcheck "saved guest: state saved" '.guests[] | select(.address == "hv/app01") | .state == "saved"' hfx --json guests --all
jcheck "default listing shows the 2008 guests only" \
	'[.guests[] | select(.host == "hv") | .name] | sort == ["legacy01","prod01","web01"]' hfx --json guests
jcheck "guest show (live)" '.guest.name == "web01" and .snapshots == 2' hfx --json guest show hv/web01
jcheck "vCPUs and memory from the VM's own resource settings (not a checkpoint's or a template's)" \
	'.guest.vcpus == 4 and .guest.memory_mib == 6144' hfx --json guest show hv/web01
jcheck "... in the listing too (defaults of the fleet file: 2 vCPUs, 4096 MiB)" \
	'[.guests[] | select(.address == "hv/web01" or .address == "hv/legacy01") | [.vcpus, .memory_mib]] == [[4, 6144], [2, 4096]] or [.guests[] | select(.address == "hv/web01" or .address == "hv/legacy01") | [.vcpus, .memory_mib]] == [[2, 4096], [4, 6144]]' \
	hfx --json guests --all
# --- build check on Hyper-V guests: KVP gives the build but no revision, and says so
jcheck "check hv/web01: 6003 from KVP" \
	'.checks[0].guest == "hv/web01" and .checks[0].verdict.product == "server2008-sp2-6003"' \
	hfx --json check hv/web01 --refresh
jcheck "... revision unknown, and why (KVP has none)" \
	'.checks[0].verdict.facts.revision.value == null and (.checks[0].verdict.facts.revision.unknown | test("hyperv-kvp")) and (.checks[0].verdict.facts.revision.unknown | test("no revision"))' \
	hfx --json check hv/web01
jcheck "check hv/legacy01: 2008 RTM 6001 is critical" \
	'.checks[0].verdict.product == "server2008-rtm-6001" and .checks[0].verdict.status == "critical"' \
	hfx --json check hv/legacy01 --refresh
jcheck "check hv/nokvp01: unknown, with the KVP reason" \
	'.checks[0].verdict.product == "unknown" and (.checks[0].verdict.reasons | join(" ") | test("reports no KVP items"))' \
	hfx --json check hv/nokvp01 --refresh
expect_exit "check exits 1 when a Hyper-V guest fails the policy" 1 hfx check hv/web01 --require-build 7601
jcheck "pinned public key (no CA) connects" '.state == "connected" and .guests == 1' host_json hvpin
jcheck "plain HTTP host connects when allow-unencrypted=true" '.state == "connected"' host_json plain
check "... with a warning in the log" grep -q "allow-unencrypted=true: WS-Man over plain HTTP" "$DLOG"

# --- auth and certificate failures: host unreachable with the reason
jcheck "bad credentials: unreachable, says authentication failed and names the file" \
	'.state == "unreachable" and (.error | test("authentication failed for user hfadmin")) and (.error | contains("bad.creds"))' \
	host_json badauth
jcheck "certificate from another CA refused" '.state == "unreachable" and (.error | test("TLS"))' host_json wrongca
jcheck "wrong pinned key refused" '.state == "unreachable" and (.error | test("pinned-key"))' host_json wrongpin
jcheck "group/world-readable credentials file refused with chmod 600" \
	'.state == "unreachable" and (.error | test("chmod 600")) and (.error | contains("leaky.creds"))' host_json leaky
expect_exit "operations on an unreachable Hyper-V host fail (exit 1)" 1 hfx snapshot list badauth/web01

# --- snapshots
jcheck "list: parent tree, current, foreign" \
	'[.snapshots[] | {name, parent, current, owner, kind}] == [{"name":"before-esu","parent":null,"current":false,"owner":"foreign","kind":"other"},{"name":"nightly-2025-12-16","parent":"before-esu","current":true,"owner":"foreign","kind":"other"}]' \
	hfx --json snapshot list hv/web01
jcheck "create (renamed to the given name), quiesce=try records the fallback" \
	'.job.state == "succeeded" and .job.result.snapshot.name == "hf-one" and .job.result.snapshot.owner == "holdfast" and .job.result.snapshot.consistency == "crash" and (.job.result.snapshot.consistency_reason | test("fell back to a standard checkpoint")) and .job.result.snapshot.parent == "nightly-2025-12-16"' \
	hfx --json snapshot create hv/web01 --name hf-one --quiesce try
check "CreateSnapshot asked for application consistency" grep -q "op=CreateSnapshot .*consistency=1" "$T/requests.log"
jcheck "new checkpoint is current, under its parent" \
	'[.snapshots[] | select(.name == "hf-one")] | .[0].current and .[0].parent == "nightly-2025-12-16" and .[0].consistency == "crash"' \
	hfx --json snapshot list hv/web01
expect_exit "quiesce=yes when Hyper-V falls back: the job fails" 1 hfx snapshot create hv/web01 --name hf-strict --quiesce yes
grep_out "... saying why" "fell back to a standard checkpoint"
jcheck "... and the fallback checkpoint is gone" '[.snapshots[].name] | index("hf-strict") == null' hfx --json snapshot list hv/web01
jcheck "off guest: application-consistent even with quiesce=yes" \
	'.job.state == "succeeded" and .job.result.snapshot.consistency == "application"' \
	hfx --json snapshot create hv/db01 --name off-1 --quiesce yes
expect_exit "duplicate checkpoint name refused" 1 hfx snapshot create hv/web01 --name hf-one
grep_out "... naming it" "already has a checkpoint named 'hf-one'"
expect_exit "revert of a running guest refused" 1 hfx snapshot revert hv/web01 hf-one
grep_out "... saying it must be off or saved" "only to a VM that is off or saved"
control "vm-state web01 off"
jcheck "revert (ApplySnapshot) of an off guest" '.job.state == "succeeded" and .job.result.reverted == "before-esu" and .job.result.state == "saved"' \
	hfx --json snapshot revert hv/web01 before-esu
jcheck "before-esu is current now" '.snapshots[] | select(.name == "before-esu") | .current' hfx --json snapshot list hv/web01
expect_exit "deleting a foreign checkpoint refused" 1 hfx snapshot delete hv/web01 nightly-2025-12-16
grep_out "... with the ownership rule" "not made by holdfast"
jcheck "delete own (DestroySnapshot)" '.job.state == "succeeded" and .job.result.owner == "holdfast"' hfx --json snapshot delete hv/web01 hf-one
jcheck "--force deletes a foreign one" '.job.result.owner == "foreign" and .job.result.forced' hfx --json snapshot delete hv/web01 nightly-2025-12-16 --force
jcheck "list after deletes" '[.snapshots[].name] == ["before-esu"]' hfx --json snapshot list hv/web01
expect_exit "unknown snapshot: exit 1" 1 hfx snapshot delete hv/web01 nope --force
grep_out "... named" "'nope'"

# --- DR copy
jcheck "dr copy --full: export of a recovery checkpoint, with progress" \
	'.job.state == "succeeded" and .job.progress == 100 and (.job.result.dest | startswith("D:\\HolDR\\legacy01-"))' \
	hfx --json dr copy hv/legacy01 --full
D=$(find "$T/export" -maxdepth 2 -type d -name legacy01 | head -n1)
check "exported config and disk on the host" test -s "$D/Virtual Machines/6A7C3E1F-2B4D-4E8F-9A0B-1C2D3E4F5A63.vmcx" -a -s "$D/Virtual Hard Disks/legacy01.vhdx"
check "recovery checkpoint created and destroyed" sh -c "grep -q 'op=CreateSnapshot .*vm=legacy01 type=32768' '$T/requests.log' && [ \$(grep -c 'op=DestroySnapshot' '$T/requests.log') -ge 3 ]"
jcheck "no recovery checkpoint left" '.snapshots == []' hfx --json snapshot list hv/legacy01
jcheck "dr copy --dest" '.job.state == "succeeded" and .job.result.dest == "D:\\HolDR\\manual"' hfx --json dr copy hv/legacy01 --full --dest 'D:\HolDR\manual'
expect_exit "dr copy to an existing export fails the job" 1 hfx dr copy hv/legacy01 --full --dest 'D:\HolDR\manual'
expect_exit "dr copy of a libvirt guest: unsupported yet" 1 hfx dr copy demo/w2k8-dc01 --full
grep_out "... said so" "unsupported by this backend yet"
expect_exit "dr copy without --full refused" 1 hfx dr copy hv/legacy01

# cancel during the export: the Hyper-V job is terminated, the recovery checkpoint removed,
# nothing exported, the result says where incomplete files may be
control "job-ms 2500"
J=$("$HOLDFAST" --socket "$SOCK" --json --no-wait dr copy hv/legacy01 --full --dest 'D:\HolDR\cancelled' | jq -r '.job.id')
for _ in $(seq 1 100); do
	"$HOLDFAST" --socket "$SOCK" --json jobs show "$J" | jq -e '.job.message | test("ExportSystemDefinition|exporting")' >/dev/null 2>&1 && break
	sleep 0.1
done
check "cancel the export while Hyper-V runs it" hfx jobs cancel "$J"
jcheck "the job ends cancelled, saying the Hyper-V job stopped" \
	'.job.state == "cancelled" and (.job.error.message | test("stopped with JobState 8")) and (.job.error.message | test("incomplete"))' \
	sh -c "$HOLDFAST --socket $SOCK --json jobs watch $J; true"
check "holdfast asked Hyper-V to terminate the export job" grep -q 'op=RequestStateChange .*resource=.*Msvm_ConcreteJob.* to=4 return=0' "$T/requests.log"
check "nothing exported" test ! -e "$T/export/cancelled"
jcheck "the recovery checkpoint was removed" '.snapshots == []' hfx --json snapshot list hv/legacy01
control "job-ms 300"

# --- failing, slow and misbehaving hosts
control "fail-jobs 1 CreateSnapshot"
expect_exit "a failed Hyper-V job fails the snapshot job" 1 hfx snapshot create hv/web01 --name will-fail
grep_out "... with Hyper-V's ErrorDescription" "could not create a checkpoint"
expect_exit "production-only VM without VSS: the job's reason reported" 1 hfx snapshot create hv/prod01 --name p1
grep_out "... reason" "Production checkpoints cannot be created"
control "job-ms 10000"
expect_exit "a job longer than job-timeout fails" 1 hfx snapshot create hv/web01 --name slow
grep_out "... as a timeout" "did not finish within 3 s"
control "job-ms 300"
control "quota 1 Enumerate"
expect_exit "quota fault reported" 1 hfx guest show hv/web01
grep_out "... naming the quota" "quota"
control "malformed 3"
expect_exit "malformed reply: an error, not a crash" 1 hfx guest show hv/web01
grep_out "... saying it is not XML" "not well-formed"
hfx --json snapshot list hv/web01 >/dev/null 2>&1 || true
hfx --json guest show hv/db01 >/dev/null 2>&1 || true
control "malformed off"
daemon_alive "after malformed replies"
control "drop always"
expect_exit "dropped connections: host unreachable" 1 hfx guest show hv/web01
grep_out "... with the reason" "cannot reach Hyper-V host"
control "drop off"
check "the host reconnects" wait_hv
jcheck "and works again" '.guest.name == "web01"' hfx --json guest show hv/web01

# --- no credentials anywhere
check "password not in the daemon log" sh -c "! grep -qF -- '$PASS' '$DLOG'"
check "password not in any CLI output" sh -c "! grep -qF -- 's3cret-Hv' '$T/cli.log'"
check "CLI output was captured" test -s "$T/cli.log"
daemon_alive "after the Hyper-V tests"
finish
