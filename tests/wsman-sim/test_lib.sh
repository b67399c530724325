# test_lib.sh - helpers for hf-wsman-sim's self-tests: start the simulator, send real SOAP
# envelopes with curl, pick values out of replies. Sourced by test_*.sh.
set -euo pipefail

: "${WSMAN_SIM:?WSMAN_SIM must point at the built hf-wsman-sim}"
: "${WSMAN_SIM_SRC:?WSMAN_SIM_SRC must point at tests/wsman-sim}"
command -v curl >/dev/null || { echo "curl missing: skipped"; exit 77; }

V2=http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2
T=$(mktemp -d /tmp/hfsim.XXXXXX)
SIM_PID=
CTX=
CODE=
FAILED=0
SIM_USER=hfadmin
SIM_PASS='s3cret:with colon'
SIM_WRAPPER=${SIM_WRAPPER:-}

cleanup() {
	if [ -n "$SIM_PID" ] && kill -0 "$SIM_PID" 2>/dev/null; then
		kill -TERM "$SIM_PID"
		wait "$SIM_PID" || FAILED=1
	fi
	if [ "$FAILED" -ne 0 ]; then
		echo "---- request log ----"
		tail -n 40 "$T/requests.log" 2>/dev/null || true
		echo "---- simulator output ----"
		tail -n 20 "$T/sim.out" 2>/dev/null || true
	fi
	rm -rf "$T"
}
trap cleanup EXIT

# sim_start [extra simulator options...]: fixture fleet (or $SIM_FLEET), Basic auth, HTTP on a
# free port.
sim_start() {
	printf '%s:%s\n' "$SIM_USER" "$SIM_PASS" >"$T/creds"
	$SIM_WRAPPER "$WSMAN_SIM" --fleet "${SIM_FLEET:-$WSMAN_SIM_SRC/fixtures/fleet.ini}" \
		--credentials-file "$T/creds" --port-file "$T/ports" --log "$T/requests.log" \
		--export-root "$T/export" --vhdx-kib 64 "$@" >"$T/sim.out" 2>&1 &
	SIM_PID=$!
	for _ in $(seq 100); do
		[ -s "$T/ports" ] && break
		kill -0 "$SIM_PID" 2>/dev/null || { cat "$T/sim.out"; exit 1; }
		sleep 0.1
	done
	HTTP_PORT=$(sed -n 's/^http=//p' "$T/ports")
	HTTPS_PORT=$(sed -n 's/^https=//p' "$T/ports")
	URL=http://127.0.0.1:${HTTP_PORT:-0}/wsman
	CONTROL=http://127.0.0.1:${HTTP_PORT:-0}/control
}

ok() { echo "ok - $*"; }
fail() {
	echo "FAIL - $*"
	FAILED=1
}
# check DESCRIPTION COMMAND...: run COMMAND, report.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}
# has PATTERN: the last reply ($T/resp) contains the fixed string PATTERN.
has() { grep -qF -- "$1" "$T/resp"; }
lacks() { ! grep -qF -- "$1" "$T/resp"; }
# count PATTERN: occurrences of PATTERN in the last reply.
count() { { grep -oF -- "$1" "$T/resp" || true; } | wc -l; }
# value ELEMENT: text of the first <ELEMENT>...</ELEMENT> (prefix included) in the last reply.
value() { { grep -oE "<$1>[^<]*</$1>" "$T/resp" || true; } | head -n1 | sed -E "s/<[^>]*>//g"; }
# values ELEMENT: the texts of every <ELEMENT>, one a line.
values() { { grep -oE "<$1>[^<]*</$1>" "$T/resp" || true; } | sed -E "s/<[^>]*>//g"; }
well_formed() { ! command -v xmllint >/dev/null || xmllint --noout "$T/resp" 2>/dev/null; }

control() { curl -sS -X POST --data-binary "$1" "$CONTROL"; }

# soap ACTION RESOURCE_URI BODY [HEADER_XML]: post an envelope; prints the HTTP status,
# the reply goes to $T/resp. CURL_EXTRA may add curl options (e.g. other credentials).
soap() {
	local id
	id=uuid:$(cat /proc/sys/kernel/random/uuid)
	echo "$id" >"$T/msgid"
	cat >"$T/req" <<XML
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header><a:To>$URL</a:To><w:ResourceURI s:mustUnderstand="true">$2</w:ResourceURI><a:ReplyTo><a:Address s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo><a:Action s:mustUnderstand="true">$1</a:Action><w:MaxEnvelopeSize s:mustUnderstand="true">512000</w:MaxEnvelopeSize><a:MessageID>$id</a:MessageID><w:OperationTimeout>PT60S</w:OperationTimeout>${4:-}</s:Header><s:Body>$3</s:Body></s:Envelope>
XML
	curl -sS -o "$T/resp" -w '%{http_code}' ${CURL_EXTRA:-} -u "$SIM_USER:$SIM_PASS" \
		-H 'Content-Type: application/soap+xml;charset=UTF-8' --data-binary @"$T/req" "$URL"
}

EN=http://schemas.xmlsoap.org/ws/2004/09/enumeration
WQL_FILTER='<w:Filter Dialect="http://schemas.microsoft.com/wbem/wsman/1/WQL">'
# enumerate WQL [EXTRA_BODY]: Enumerate on V2/* with a WQL filter; sets CODE and CTX.
enumerate() {
	CODE=$(soap "$EN/Enumerate" "$V2/*" "<n:Enumerate>${2:-}$WQL_FILTER$1</w:Filter></n:Enumerate>")
	CTX=$(value n:EnumerationContext)
}
# pull [MAX]: one Pull on CTX; sets CODE and CTX (empty at the end).
pull() {
	local max=
	[ -n "${1:-}" ] && max="<n:MaxElements>$1</n:MaxElements>"
	CODE=$(soap "$EN/Pull" "$V2/*" "<n:Pull><n:EnumerationContext>$CTX</n:EnumerationContext>$max</n:Pull>")
	CTX=$(value n:EnumerationContext)
}
# selector_set NAME=VALUE...: a w:SelectorSet header.
selector_set() {
	local out='<w:SelectorSet>' kv
	for kv in "$@"; do out="$out<w:Selector Name=\"${kv%%=*}\">${kv#*=}</w:Selector>"; done
	echo "$out</w:SelectorSet>"
}
# epr CLASS NAME=VALUE...: the address and reference parameters of an instance.
epr() {
	local cls=$1
	shift
	echo "<a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address><a:ReferenceParameters><w:ResourceURI>$V2/$cls</w:ResourceURI>$(selector_set "$@")</a:ReferenceParameters>"
}
# job_id: the InstanceID selector of the first reference (p:Job) in the last reply.
job_id() { { grep -oE '<w:Selector Name="InstanceID">[^<]*' "$T/resp" || true; } | head -n1 | sed 's/.*>//'; }
# wait_job ID: poll Msvm_ConcreteJob until JobState leaves 4; prints the final JobState.
wait_job() {
	local state=4
	for _ in $(seq 100); do
		enumerate "SELECT * FROM Msvm_ConcreteJob WHERE InstanceID='$1'"
		pull
		state=$(value p:JobState)
		[ "$state" != 4 ] && break
		sleep 0.1
	done
	echo "$state"
}
# ops NAME: how many requests of operation NAME the log shows.
ops() { grep -c " op=$1 " "$T/requests.log" || true; }

finish() {
	[ "$FAILED" -eq 0 ] && echo "all passed"
	exit "$FAILED"
}
