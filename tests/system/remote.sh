# remote.sh - a "remote" libvirt host for system tests (sourced after lib.sh): this machine's
# libvirtd reached through qemu+ssh, via an sshd of the test bed's own (127.0.0.1, a free port,
# keys made for the run, nothing of root's ~/.ssh touched), so holdfastd takes every path of a
# host that is not this one: the ssh transport, NBD over TCP to the URI's host for pull-mode
# copies, scratch files on "that" host, restores and test boots defined over ssh.
# tb_remote_up sets TB_REMOTE_URI; the sshd goes at cleanup.

tb_remote_up() {
	local d=$TB_DIR/ssh port i
	[ -x /usr/sbin/sshd ] || tb_skip "no sshd here (apt-get install openssh-server)"
	mkdir -p "$d" /run/sshd && chmod 700 "$d"
	ssh-keygen -q -t ed25519 -N '' -f "$d/host_key" && ssh-keygen -q -t ed25519 -N '' -f "$d/id" &&
		cp "$d/id.pub" "$d/authorized_keys" || return 1
	port=$((20000 + RANDOM % 20000))
	while ss -ltn | grep -q ":$port "; do port=$((20000 + RANDOM % 20000)); done
	cat >"$d/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $d/host_key
PidFile $d/sshd.pid
AuthorizedKeysFile $d/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
CONF
	# libvirt runs this instead of ssh (URI command=): host keys in the run's own file
	cat >"$d/ssh" <<SH
#!/bin/sh
exec ssh -o UserKnownHostsFile=$d/known_hosts -o StrictHostKeyChecking=no -o BatchMode=yes "\$@"
SH
	chmod +x "$d/ssh"
	/usr/sbin/sshd -f "$d/sshd_config" -E "$d/sshd.log" || return 1
	tb_on_cleanup tb_remote_down
	TB_REMOTE_URI="qemu+ssh://root@127.0.0.1:$port/system?keyfile=$d/id&command=$d/ssh&no_tty=1&no_verify=1"
	for i in $(seq 1 50); do
		virsh -q -c "$TB_REMOTE_URI" version >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	tb_log "libvirt over ssh does not answer: $(tail -3 "$d/sshd.log")"
	return 1
}

tb_remote_down() {
	local pid
	pid=$(cat "$TB_DIR/ssh/sshd.pid" 2>/dev/null) && kill "$pid" 2>/dev/null
	return 0
}
