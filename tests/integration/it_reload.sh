#!/bin/bash
# SIGHUP / `holdfast reload`: a broken config is refused and the old one stays; a good one applies.
. "$(dirname "$0")/lib.sh"
start_daemon
jcheck "one host at start" '.hosts | length == 1' hf --json guests

cp "$CONF" "$T/good.conf"
printf '[host second]\nuri = test:///default\nbogus-key = 1\n' >>"$CONF"
kill -HUP "$DPID"; sleep 0.5
jcheck "SIGHUP with a broken config keeps the old one" '(.hosts | length) == 1 and (.guests | length) == 5' hf --json guests
check "refusal is logged with file, line and key" grep -q "reload refused.*$CONF:[0-9]*:.*bogus-key" "$DLOG"
expect_exit "holdfast reload with a broken config fails" 1 hf reload
grep_out "reload error names the key" "bogus-key"

cp "$T/good.conf" "$CONF"
printf '[host second]\nuri = test:///default\nguests = all\n' >>"$CONF"
jcheck "holdfast reload with a good config" '.reloaded and .hosts == 2' hf --json reload
sleep 0.5
jcheck "new host is connected and listed" '[.hosts[] | {(.name): .state}] | add == {"demo":"connected","second":"connected"}' hf --json guests --all
jcheck "test:///default's guest appears" '[.guests[] | select(.host == "second") | .name] == ["test"]' hf --json guests --all

cp "$T/good.conf" "$CONF"
sed -i 's/^uri = test.*/&\nguests = w2k8-s*/' "$CONF"
kill -HUP "$DPID"; sleep 0.5
jcheck "guests= filter change applies on reload" '[.guests[].name] == ["w2k8-sql01"]' hf --json guests --all
daemon_alive "after reloads"
finish
