#!/bin/bash
# DR copies in pull mode over TCP with TLS ([drstore] pull-tls, pull-tls-dir): libvirt's
# <server transport='tcp' tls='yes'> (QEMU's server certificate from qemu.conf's
# backup_tls_x509_cert_dir, by default /etc/pki/qemu), holdfastd's libnbd requiring TLS with its
# client certificate. pull-host = 127.0.0.1 forces TCP on this machine, as test_dr_pull.sh does.
# Checked: holdfastd's client files checked up front (client-key.pem missing: the copy fails
# naming it, no backup job, no checkpoint); pull-tls = no: plain tcp; the hypervisor without a
# server certificate (only when /etc/pki/qemu is absent): holdfast's error names qemu.conf's key
# and the directory; then with a test CA (tb_tls_pki: /etc/pki/qemu installed only when absent,
# removed after): a full and an incremental over TLS (transport tcp+tls), a plain NBD client
# refused by the export while a TLS copy reads it (qemu-img, no TLS, then with TLS to prove the
# export was up), dr verify --compare over TLS (qemu-img with a tls-creds-x509 object); a local
# guest with pull-tls = yes stays on the unix socket.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hf.sh"
tb_init && tb_libvirt_up && tb_image
tb_guest_define d1 w2k8-6003-esu3 extra-disk=512M
VDB=$TB_DIR/d1-vdb.qcow2
# vdb: 256 MiB of random data, so a full copy reads long enough to probe its export
hf_random_disk "$VDB" 256 512M
tb_guest_start d1
tb_wait_agent d1 120
PORT=$(hf_free_port)
CLI=$TB_DIR/pki-client NOKEY=$TB_DIR/pki-nokey SELF=$TB_DIR/pki-self
# a client side that is complete but trusted by no hypervisor (its own self-signed CA)
mkdir -p "$SELF" && openssl req -x509 -newkey rsa:2048 -nodes -keyout "$SELF/client-key.pem" \
	-out "$SELF/client-cert.pem" -days 1 -subj /CN=self 2>/dev/null && cp "$SELF/client-cert.pem" "$SELF/ca-cert.pem"
mkdir -p "$NOKEY" && cp "$SELF/ca-cert.pem" "$SELF/client-cert.pem" "$NOKEY/"
# [drstore NAME] with its path $TB_DIR/dr-NAME and further lines; tcp: pulls over TCP
store() { printf '[drstore %s]\npath = %s/dr-%s\n' "$1" "$TB_DIR" "$1" && shift && printf '%s\n' "$@"; }
tcp=$(printf 'mode = pull\npull-host = 127.0.0.1\npull-port = %s' "$PORT")
hf_up <<CONF
$(store tls "$tcp" "pull-tls-dir = $CLI")
$(store nokey "$tcp" "pull-tls = yes" "pull-tls-dir = $NOKEY")
$(store self "$tcp" "pull-tls-dir = $SELF")
$(store plain "$tcp" "pull-tls = no")
$(store local "mode = pull" "pull-tls = yes")
CONF
hf_dr_env d1 "$TB_DIR/dr-tls"
res() { jq -r ".job.result.$1" "$ASSERT_TMP/out"; }
cks() { tb_virsh checkpoint-list "$W" --name | sort; }
no_job() { tb_virsh domjobinfo "$W" | grep -q 'Job type: *None'; }
# a failed copy into store $1: no point, no .partial, no backup job running
left_nothing() { [ -z "$(find "$TB_DIR/dr-$1" -name manifest.json -o -name '*.partial' 2>/dev/null)" ] && no_job; }

CKS0=$(cks)
expect_exit "TLS copy with pull-tls-dir lacking client-key.pem fails" 1 hf dr copy "$W" --store nokey
grep_out "... naming the missing file" "$NOKEY/client-key.pem: No such file or directory"
grep_out "... and what it must contain" "it must hold the private key of client-cert.pem"
sed -n 's/^/# /p' "$ASSERT_TMP/out" "$ASSERT_TMP/err" | head -3
check "... before any backup job: none runs, nothing published" left_nothing nokey
[ "$(cks)" = "$CKS0" ] && ok "... no checkpoint made" || bad "checkpoints: $CKS0 -> $(cks)"

jcheck "pull-tls = no: a full over plain TCP (transport tcp)" \
	'.job.state == "succeeded" and .job.result.kind == "full" and .job.result.transport == "tcp"' \
	hf --json dr copy "$W" --store plain
check "... said in the log" grep -q "pull-mode copy of $W.*(127.0.0.1:[0-9]*), transport tcp$" "$HF_LOG"

if [ ! -e /etc/pki/qemu ] && ! grep -Eq '^[[:space:]]*(backup|default)_tls_x509_cert_dir' /etc/libvirt/qemu.conf; then
	expect_exit "TLS copy while the hypervisor has no server certificate fails" 1 hf dr copy "$W" --store self
	grep_out "... naming qemu.conf's key" "backup_tls_x509_cert_dir in /etc/libvirt/qemu.conf"
	grep_out "... and the directory with the missing file" "(/etc/pki/qemu/ca-cert.pem is missing)"
	grep_out "... and what it must hold" "server-cert.pem"
	sed -n 's/^/# /p' "$ASSERT_TMP/out" "$ASSERT_TMP/err" | head -3
	check "... no backup job left, nothing published" left_nothing self
else
	echo "# skipped: the no-server-certificate error (/etc/pki/qemu exists or qemu.conf names a directory)"
fi

if ! tb_tls_pki "$CLI"; then
	echo "# skipped: TLS copies (a /etc/pki/qemu that the test bed did not make is never touched)"
	hf_finish
	exit $?
fi

# a TLS copy's export refuses a client without TLS (qemu-img, plain NBD) while a TLS client
# (qemu-img with holdfastd's client certificate) reads it: probed while holdfastd reads vdb
JOB=$(hf --json --no-wait dr copy "$W" --store tls | jq -r '.job.id')
PROBED=''
for _ in $(seq 1 1500); do
	J=$(hf --json jobs show "$JOB")
	if echo "$J" | jq -e '.job.message | test("reading disk vdb")' >/dev/null 2>&1; then
		PLAIN_RC=0 TLS_RC=0
		tb_virsh backup-dumpxml "$W" >"$TB_DIR/backup.xml" 2>&1 || true
		timeout 20 qemu-img info "nbd://127.0.0.1:$PORT/vdb" >"$TB_DIR/plain.out" 2>&1 || PLAIN_RC=$?
		timeout 20 qemu-img info --object "tls-creds-x509,id=t0,endpoint=client,dir=$CLI" \
			--image-opts "driver=nbd,host=127.0.0.1,port=$PORT,export=vdb,tls-creds=t0" >"$TB_DIR/tls.out" 2>&1 || TLS_RC=$?
		PROBED=1
		break
	fi
	echo "$J" | jq -e '.job.state == "running" or .job.state == "queued"' >/dev/null || break
	sleep 0.02
done
for _ in $(seq 1 600); do
	hf --json jobs show "$JOB" >"$ASSERT_TMP/out"
	jq -e '.job.state == "running" or .job.state == "queued"' "$ASSERT_TMP/out" >/dev/null || break
	sleep 0.1
done
jq -e '.job.state == "succeeded" and .job.result.kind == "full" and .job.result.transport == "tcp+tls"' \
	"$ASSERT_TMP/out" >/dev/null && ok "a full over TCP with TLS (transport tcp+tls)" || { bad "full over TLS"; cat "$ASSERT_TMP/out"; }
P1=$(res point)
check "... said in the log" grep -q "pull-mode copy of $W.*(127.0.0.1:$PORT), transport tcp+tls$" "$HF_LOG"
if [ -z "$PROBED" ]; then
	echo "# skipped: the plain-client probe (the copy never showed 'reading disk vdb')"
elif [ "$TLS_RC" != 0 ]; then
	echo "# skipped: the plain-client probe (the export was gone before the TLS probe: $(head -c 300 "$TB_DIR/tls.out"))"
else
	check "... libvirt's backup job: <server transport='tcp' tls='yes'>" grep -q "<server transport='tcp' tls='yes'" "$TB_DIR/backup.xml"
	[ "$PLAIN_RC" != 0 ] && grep -qi "tls" "$TB_DIR/plain.out" &&
		ok "... while it ran, the export refused a plain NBD client ($(tr '\n' ' ' <"$TB_DIR/plain.out" | head -c 160)) and served a TLS one" ||
		{ bad "the TLS export served a plain client (exit $PLAIN_RC)"; cat "$TB_DIR/plain.out"; }
fi

check "write data in the guest" \
	tb_guest_exec d1 'dd if=/dev/urandom of=/mnt/data/blob bs=1M count=3 2>/dev/null && echo one >/mnt/data/a.txt && sync'
jcheck "an incremental over TCP with TLS (transport tcp+tls)" \
	".job.state == \"succeeded\" and .job.result.kind == \"incremental\" and .job.result.parent == \"$P1\" and .job.result.transport == \"tcp+tls\"" \
	hf --json dr copy "$W" --store tls
P2=$(res point)
check "write more" tb_guest_exec d1 'echo two >/mnt/data/a.txt && sync'
jcheck "dr verify --compare over TLS: a new incremental, both disks identical (qemu-img with tls-creds)" \
	".job.state == \"succeeded\" and .job.result.parent == \"$P2\" and .job.result.transport == \"tcp+tls\" and ([.job.result.compared[] | select(.identical)] | length) == 2 and .job.result.ok" \
	hf --json dr verify "$W" --store tls --compare
jcheck "dr verify of the TLS store's chains" \
	".job.state == \"succeeded\" and (.job.result.verified | index(\"$P1\")) != null" hf --json dr verify "$W" --store tls
check "... no backup job left" no_job

expect_exit "a client certificate the hypervisor does not trust: the copy fails" 1 hf dr copy "$W" --store self
grep_out "... saying the TLS connection failed and which CA must sign what" "with TLS (the hypervisor's server certificate must be signed by the CA in pull-tls-dir"
sed -n 's/^/# /p' "$ASSERT_TMP/out" "$ASSERT_TMP/err" | head -3
check "... nothing published, no backup job left" left_nothing self

jcheck "pull-tls = yes, local guest: the unix socket stays plain (transport unix)" \
	'.job.state == "succeeded" and .job.result.transport == "unix"' hf --json dr copy "$W" --store local
hf_finish
