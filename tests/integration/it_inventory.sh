#!/bin/bash
# Inventory through the daemon: guests, guest show, version, errors and exit codes.
. "$(dirname "$0")/lib.sh"
start_daemon

jcheck "version reports daemon and libvirt" '.version != null and .protocol == 1 and (.libvirt | test("^[0-9]+\\."))' hf --json version
jcheck "guests lists the five Windows 2008 guests" '[.guests[].name] | sort == ["w2k8-dc01","w2k8-files01","w2k8-sql01","w2k8-web01","w2k8r2-app01"]' hf --json guests
jcheck "guests --all adds the Debian guest" '(.guests | length) == 6 and ([.guests[] | select(.name == "debian-tools") | .os.win2008] == [false])' hf --json guests --all
jcheck "--json accepted after the command" '.guests | length == 5' hf guests --json
jcheck "host entry says connected" '.hosts == [{"name":"demo","uri":"test://'"$FLEET"'","state":"connected","error":null,"guests":5}]' hf --json guests
jcheck "states: running and shut off" '[.guests[] | {(.name): .state}] | add == {"w2k8-dc01":"running","w2k8-files01":"shutoff","w2k8-sql01":"running","w2k8-web01":"shutoff","w2k8r2-app01":"running"}' hf --json guests
jcheck "recognition by libosinfo and by holdfast metadata" '[.guests[] | select(.name == "w2k8-files01" or .name == "w2k8r2-app01") | [.os.source, .os.id]] == [["holdfast","win2k8"],["libosinfo","http://microsoft.com/win/2k8r2"]]' hf --json guests
jcheck "holdfast tags" '.guests[] | select(.name == "w2k8-files01") | .tags == ["files","prod"]' hf --json guests
jcheck "guest show: disks, memory, vcpus, title" '.guest.name == "w2k8-sql01" and (.guest.disks | length) == 2 and .guest.memory_mib == 8192 and .guest.vcpus == 4 and (.guest.title | test("SQL")) and .snapshots == 2' hf --json guest show w2k8-sql01
jcheck "guest show by HOST/NAME" '.guest.address == "demo/w2k8-dc01"' hf --json guest show demo/w2k8-dc01
jcheck "guests --host demo" '.guests | length == 5' hf --json guests --host demo

check "human guests table" hf guests
grep_out "table shows a guest" "w2k8-sql01"
check "human guest show" hf guest show w2k8-sql01
grep_out "guest show lists a disk path" "sql01-data.qcow2"

expect_exit "unknown guest: exit 4" 4 hf guest show no-such-guest
grep_out "unknown guest is named" "no-such-guest"
expect_exit "unknown host in address: exit 4" 4 hf guest show nohost/w2k8-dc01
expect_exit "unknown host filter: exit 4" 4 hf guests --host nohost
jcheck "--json error document" '.error.code == "not-found"' bash -c "'$HOLDFAST' --socket '$SOCK' --json guest show no-such-guest; true"
expect_exit "usage error: exit 2" 2 hf guest show
expect_exit "unknown command: exit 2" 2 hf frobnicate
expect_exit "bad enum value: exit 2" 2 hf snapshot create w2k8-dc01 --quiesce maybe
check "help" hf help
grep_out "help lists snapshot create" "snapshot create"
expect_exit "daemon unreachable: exit 3" 3 "$HOLDFAST" --socket "$T/nope.sock" guests
grep_out "unreachable message names the socket" "$T/nope.sock"
HOLDFAST_SOCKET=$SOCK check "HOLDFAST_SOCKET is honoured" "$HOLDFAST" guests

daemon_alive "after bad requests"
finish
