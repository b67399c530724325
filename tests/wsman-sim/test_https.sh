#!/usr/bin/env bash
# hf-wsman-sim self-test: HTTPS with a self-signed certificate generated here (openssl CLI):
# verified against its own CA, refused against another, 401 then 200 over TLS.
. "$(dirname "$0")/test_lib.sh"
command -v openssl >/dev/null || { echo "openssl missing: skipped"; exit 77; }

# make_cert NAME: a throwaway self-signed certificate for 127.0.0.1 (key never leaves $T).
make_cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=$1" \
		-addext "subjectAltName=IP:127.0.0.1" \
		-keyout "$T/$1.key" -out "$T/$1.crt" >/dev/null 2>&1
}
make_cert hv-sim
make_cert other
sim_start --tls-cert "$T/hv-sim.crt" --tls-key "$T/hv-sim.key"
URL=https://127.0.0.1:$HTTPS_PORT/wsman
check "HTTPS listener on a port of its own, no plain HTTP" test -n "$HTTPS_PORT" -a -z "$HTTP_PORT"

code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$T/hv-sim.crt" -X POST \
	-H 'Content-Type: application/soap+xml;charset=UTF-8' --data-binary '<x/>' "$URL")
check "401 over TLS without credentials" test "$code" = 401
CURL_EXTRA="--cacert $T/hv-sim.crt"
enumerate 'SELECT * FROM Msvm_ComputerSystem WHERE Description="Microsoft Virtual Machine"' \
	'<w:OptimizeEnumeration/><w:MaxElements>100</w:MaxElements>'
check "Enumerate over verified TLS" test "$CODE" = 200 -a "$(count '<p:Msvm_ComputerSystem ')" = 6
rc=0
CURL_EXTRA="--cacert $T/other.crt" soap "$EN/Enumerate" "$V2/*" '<n:Enumerate/>' >/dev/null 2>&1 || rc=$?
check "a certificate from another CA is refused (curl 60)" test "$rc" = 60
finish
