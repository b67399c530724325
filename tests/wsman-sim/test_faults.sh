#!/usr/bin/env bash
# hf-wsman-sim self-test: SOAP faults with their real codes, enumeration context expiry,
# and the misbehaviour switches (quota, timeout, drop, malformed) via POST /control and
# SIGUSR1 + --control-file.
. "$(dirname "$0")/test_lib.sh"
sim_start --control-file "$T/ctl"

VMS='SELECT * FROM Msvm_ComputerSystem WHERE Description="Microsoft Virtual Machine"'
# is_fault HTTP SUBCODE CODE: the last reply is that fault.
is_fault() {
	test "$CODE" = "$1" && has "<s:Subcode><s:Value>$2</s:Value></s:Subcode>" &&
		has "Code=\"$3\"" && has "<a:RelatesTo>$(cat "$T/msgid")</a:RelatesTo>"
}

CODE=$(soap "$EN/Enumerate" "$V2/Msvm_ComputerSystem" "<n:Enumerate>$WQL_FILTER$VMS</w:Filter></n:Enumerate>")
check "a class URI with a WQL filter: CannotProcessFilter 2150858778" \
	is_fault 500 n:CannotProcessFilter 2150858778
enumerate "SELECT * FROM Msvm_NoSuchClass"
check "a class not in the namespace: 2150858778" is_fault 500 n:CannotProcessFilter 2150858778
check "... naming the class" has "The class Msvm_NoSuchClass does not exist in the root/virtualization/v2 namespace."
enumerate "SELECT * FROM Msvm_ComputerSystem WHERE Name='unterminated"
check "WQL syntax error: CannotProcessFilter" is_fault 500 n:CannotProcessFilter 2150858778
enumerate "SELECT * FROM Msvm_ComputerSystem WHERE Bogus=1"
check "unknown property in WHERE: CannotProcessFilter" is_fault 500 n:CannotProcessFilter 2150858778
CODE=$(soap "$EN/Enumerate" "$V2/Msvm_ComputerSystem" "<n:Enumerate/>")
check "a class URI without a filter enumerates that class" test "$CODE" = 200

CODE=$(soap "$V2/Msvm_ComputerSystem/RequestStateChange" "$V2/Msvm_ComputerSystem" \
	"<p:RequestStateChange_INPUT xmlns:p=\"$V2/Msvm_ComputerSystem\"><p:RequestedState>2</p:RequestedState></p:RequestStateChange_INPUT>" \
	"$(selector_set CreationClassName=Msvm_ComputerSystem Name=00000000-0000-0000-0000-000000000000)")
check "Invoke on an unknown VM: InvalidSelectors 2150858843" is_fault 500 w:InvalidSelectors 2150858843
CODE=$(soap "$V2/Msvm_ComputerSystem/RequestStateChange" "$V2/Msvm_ComputerSystem" \
	"<p:RequestStateChange_INPUT xmlns:p=\"$V2/Msvm_ComputerSystem\"><p:RequestedState>2</p:RequestedState></p:RequestStateChange_INPUT>" \
	"$(selector_set Colour=blue)")
check "an unknown selector name: InvalidSelectors" is_fault 500 w:InvalidSelectors 2150858843
CODE=$(soap "$V2/Msvm_ComputerSystem/Explode" "$V2/Msvm_ComputerSystem" "<p:Explode_INPUT xmlns:p=\"$V2/Msvm_ComputerSystem\"/>")
check "an unknown method: ActionNotSupported" is_fault 500 a:ActionNotSupported 2150858771

CTX=uuid:00000000-0000-0000-0000-000000000000
pull
check "Pull with an unknown context: InvalidEnumerationContext 2150858779" \
	is_fault 500 n:InvalidEnumerationContext 2150858779
control "enum-expiry-ms 200" >/dev/null
enumerate "$VMS"
sleep 0.5
pull
check "an expired context: InvalidEnumerationContext" is_fault 500 n:InvalidEnumerationContext 2150858779
control "enum-expiry-ms 60000" >/dev/null

# --- misbehaviour
check "control: ok" test "$(control "quota 1")" = ok
enumerate "$VMS"
check "quota: QuotaLimit 2150859173" is_fault 500 w:QuotaLimit 2150859173
enumerate "$VMS"
check "quota fired once only" test "$CODE" = 200
control "timeout 1 Pull" >/dev/null
pull
check "timeout on Pull: TimedOut 2150858793" is_fault 500 w:TimedOut 2150858793
control "drop 1" >/dev/null
rc=0
soap "$EN/Enumerate" "$V2/*" "<n:Enumerate>$WQL_FILTER$VMS</w:Filter></n:Enumerate>" >/dev/null 2>&1 || rc=$?
check "drop: the connection closes without a reply (curl 52)" test "$rc" = 52
control "malformed 1" >/dev/null
enumerate "$VMS"
check "malformed: HTTP 200 with a broken envelope" test "$CODE" = 200
check "... that is not well-formed" sh -c "! grep -q '</s:Envelope>' '$T/resp'"
enumerate "$VMS"
check "then well-formed again" well_formed
code=$(curl -sS -o "$T/resp" -w '%{http_code}' -X POST --data-binary "bogus" "$CONTROL")
check "a bad control command: 400 with help" test "$code" = 400
check "... listing the commands" has "fail-jobs"
control "stats" >"$T/resp"
check "stats count operations" has "op Enumerate "

# --- SIGUSR1 applies --control-file
echo "quota always Pull" >"$T/ctl"
kill -USR1 "$SIM_PID"
sleep 0.3
enumerate "$VMS"
pull
check "SIGUSR1 + control file: quota on every Pull" is_fault 500 w:QuotaLimit 2150859173
control "reset" >/dev/null
enumerate "$VMS"
pull
check "reset turns misbehaviour off" test "$CODE" = 200

code=$(curl -sS -o /dev/null -w '%{http_code}' -u "$SIM_USER:$SIM_PASS" -H 'Content-Type: text/xml' --data-binary '<x/>' "$URL")
check "wrong Content-Type: 415" test "$code" = 415
code=$(curl -sS -o "$T/resp" -w '%{http_code}' -u "$SIM_USER:$SIM_PASS" \
	-H 'Content-Type: application/soap+xml;charset=UTF-8' --data-binary '<not-soap' "$URL")
check "not XML: a fault" test "$code" = 500
finish
