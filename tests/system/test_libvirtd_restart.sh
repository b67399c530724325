#!/bin/bash
# test_libvirtd_restart.sh - self-test of the test bed's libvirtd kill/restart (what holdfast's
# reconnect tests use): the guest keeps running and its agent answers again afterwards.
set -euo pipefail
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
tb_init
tb_libvirt_up
[ "$TB_STARTED_LIBVIRTD" = 1 ] || tb_skip "libvirtd was already running; the test bed only kills its own"
tb_guest_up g1 w2k8-6003-noesu
dom=$(tb_dom g1)
tb_libvirtd_kill KILL
if tb_libvirt_answers; then echo "not ok - libvirtd still answers after kill"; exit 1; fi
pgrep -f "guest=$dom" >/dev/null || { echo "not ok - QEMU died with libvirtd"; exit 1; }
echo "ok - guest runs on without libvirtd"
tb_libvirtd_restart
[ "$(tb_virsh domstate "$dom")" = running ] || { echo "not ok - guest not running after restart"; exit 1; }
echo "ok - libvirtd restarted; guest still running"
tb_wait_agent g1 30 || { echo "not ok - agent does not answer after restart"; exit 1; }
[ "$(tb_guest_exec g1 'echo back')" = back ] || { echo "not ok - guest-exec after restart"; exit 1; }
echo "ok - agent answers after the restart"
