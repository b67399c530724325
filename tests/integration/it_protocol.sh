#!/bin/bash
# Runs it_protocol (the C client) against a daemon on the demo fleet.
. "$(dirname "$0")/lib.sh"
start_daemon
if "$HF_BUILD/tests/integration/it_protocol" "$SOCK"; then ok "protocol abuse suite"; else bad "protocol abuse suite"; fi
daemon_alive "after the protocol suite"
check "drops were logged with the reason" grep -q "dropping client" "$DLOG"
finish
