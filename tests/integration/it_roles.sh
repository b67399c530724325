#!/bin/bash
# Authorization from SO_PEERCRED: read-only group may list, not mutate; admin group may mutate;
# others cannot reach the socket. Needs root to make users and groups (skips otherwise).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root to create test users"; exit 77; }
command -v runuser >/dev/null || { echo "SKIP: runuser missing"; exit 77; }

SUF=$$
RO_G=hfro$SUF AD_G=hfad$SUF RO_U=hfro$SUF AD_U=hfad$SUF NO_U=hfno$SUF
groupadd "$RO_G"; groupadd "$AD_G"
useradd -M -N -g "$RO_G" "$RO_U"
useradd -M -N -g "$AD_G" "$AD_U" # not in the read-only group: the socket's ACL lets it in
useradd -M -N -g nogroup "$NO_U"
undo_users() {
	userdel "$RO_U" 2>/dev/null || true
	userdel "$AD_U" 2>/dev/null || true
	userdel "$NO_U" 2>/dev/null || true
	groupdel "$RO_G" 2>/dev/null || true
	groupdel "$AD_G" 2>/dev/null || true
}
trap 'undo_users; cleanup' EXIT

write_conf <<CONF
admin-group = $AD_G
readonly-group = $RO_G
[host demo]
uri = test://$FLEET
CONF
start_daemon

as() { local u=$1; shift; runuser -u "$u" -- "$HOLDFAST" --socket "$SOCK" "$@"; }

check "socket is mode 0660, group $RO_G" test "$(stat -c '%a %G' "$SOCK")" = "660 $RO_G"
if command -v getfacl >/dev/null; then
	check "socket ACL: admin group rw, others nothing" sh -c "getfacl -p '$SOCK' 2>/dev/null | grep -qx 'group:$AD_G:rw-' && getfacl -p '$SOCK' | grep -qx 'other::---'"
fi
jcheck "read-only user lists guests" '.guests | length == 5' as "$RO_U" --json guests
jcheck "read-only user lists snapshots" '.snapshots | length == 2' as "$RO_U" --json snapshot list w2k8-sql01
expect_exit "read-only user cannot create a snapshot (exit 5)" 5 as "$RO_U" snapshot create w2k8-dc01 --name ro-try
grep_out "refusal names the role" "admin"
expect_exit "read-only user cannot reload (exit 5)" 5 as "$RO_U" reload
jcheck "admin-group user creates a snapshot" '.job.state == "succeeded"' as "$AD_U" --json snapshot create w2k8-dc01 --name admin-made
jcheck "admin-group user deletes it" '.job.state == "succeeded"' as "$AD_U" --json snapshot delete w2k8-dc01 admin-made
expect_exit "user in neither group: permission denied (exit 5)" 5 as "$NO_U" guests
jcheck "nothing was made by the read-only user" '[.snapshots[].name] | index("ro-try") == null' hf --json snapshot list w2k8-dc01
daemon_alive "after refusals"
finish
