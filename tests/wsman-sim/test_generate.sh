#!/usr/bin/env bash
# hf-wsman-sim self-test: --generate 500 (the benchmark fleet): batched pulls are cut at
# MaxEnvelopeSize yet return every VM; the request log counts the requests. The host speaks
# German: Captions and the host's Description are localized, a VM's Description is not.
. "$(dirname "$0")/test_lib.sh"
SIM_FLEET=$WSMAN_SIM_SRC/fixtures/fleet-de.ini
sim_start --generate 500

VMS='SELECT * FROM Msvm_ComputerSystem WHERE Description="Microsoft Virtual Machine"'
enumerate "$VMS" '<w:OptimizeEnumeration/><w:MaxElements>1000</w:MaxElements>'
total=$(count '<p:Msvm_ComputerSystem ')
first=$total
while [ -n "$CTX" ]; do
	pull 1000
	total=$((total + $(count '<p:Msvm_ComputerSystem ')))
done
check "500 VMs in all" test "$total" = 500
check "the first batch was cut by the envelope size" test "$first" -lt 500 -a "$first" -gt 1
check "every response within MaxEnvelopeSize" test "$(wc -c <"$T/resp")" -le 512000
check "few requests when batched" test "$(ops Pull)" -le 3
enumerate "SELECT * FROM Msvm_VirtualSystemSettingData WHERE VirtualSystemIdentifier='$(grep -oE '<p:Name>[0-9A-F-]{36}</p:Name>' "$T/resp" | tail -n1 | sed -E 's/<[^>]*>//g')'" \
	'<w:OptimizeEnumeration/><w:MaxElements>10</w:MaxElements>'
check "generated VMs have settings" has "<p:VirtualSystemType>Microsoft:Hyper-V:System:Realized"
enumerate "SELECT * FROM Msvm_ComputerSystem WHERE Name='gen-vm-0001' OR Name='HV-BENCH01'" || true
check "OR is not in the WQL subset: a fault" test "$CODE" = 500
enumerate "SELECT * FROM Msvm_ComputerSystem WHERE Description&lt;&gt;'Microsoft Virtual Machine'" \
	'<w:OptimizeEnumeration/><w:MaxElements>10</w:MaxElements>'
check "the host's Description is localized" has "<p:Description>Microsoft-Hostcomputersystem</p:Description>"
check "... and its Caption" has "<p:Caption>Hostcomputersystem</p:Caption>"
check "... and the envelope's xml:lang" has '<s:Envelope xml:lang="de-DE"'
enumerate "SELECT * FROM Msvm_ComputerSystem WHERE ElementName='gen-vm-0001'" \
	'<w:OptimizeEnumeration/><w:MaxElements>10</w:MaxElements>'
check "a VM's Caption is localized" has "<p:Caption>Virtueller Computer</p:Caption>"
check "... its Description is not" has "<p:Description>Microsoft Virtual Machine</p:Description>"
finish
