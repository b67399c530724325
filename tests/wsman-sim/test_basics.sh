#!/usr/bin/env bash
# hf-wsman-sim self-test: auth, enumeration (one item per Pull, batching, EPR mode), wire
# rules, KVP items of 2008 guests, checkpoint listing, selectors. Run by meson (integration).
. "$(dirname "$0")/test_lib.sh"
sim_start

WEB01=6A7C3E1F-2B4D-4E8F-9A0B-1C2D3E4F5A61
VMS='SELECT * FROM Msvm_ComputerSystem WHERE Description="Microsoft Virtual Machine"'

# --- authentication
code=$(curl -sS -o /dev/null -D "$T/hdr" -w '%{http_code}' -X POST \
	-H 'Content-Type: application/soap+xml;charset=UTF-8' --data-binary '<x/>' "$URL")
check "401 without credentials" test "$code" = 401
check "401 offers Basic realm=WSMAN" grep -q 'WWW-Authenticate: Basic realm="WSMAN"' "$T/hdr"
check "401 offers Negotiate" grep -q 'WWW-Authenticate: Negotiate' "$T/hdr"
code=$(curl -sS -o /dev/null -w '%{http_code}' -u "$SIM_USER:wrong" -X POST \
	-H 'Content-Type: application/soap+xml;charset=UTF-8' --data-binary '<x/>' "$URL")
check "401 with a wrong password" test "$code" = 401
code=$(curl -sS -o /dev/null -w '%{http_code}' -u "$SIM_USER:$SIM_PASS" "$URL")
check "GET /wsman is 405" test "$code" = 405

# --- one item per Pull without MaxElements
enumerate "$VMS"
check "Enumerate on v2/* with WQL: 200 and a context" test "$CODE" = 200 -a -n "$CTX"
check "EnumerateResponse carries no items" lacks "<p:Msvm_ComputerSystem"
check "RelatesTo echoes the MessageID" has "<a:RelatesTo>$(cat "$T/msgid")</a:RelatesTo>"
check "prefixes s/a/n/w and xml:lang on the Envelope" \
	has '<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">'
pulls=0 items=0
while [ -n "$CTX" ] && [ $pulls -lt 20 ]; do
	pull
	pulls=$((pulls + 1))
	items=$((items + $(count '<p:Msvm_ComputerSystem ')))
	[ $pulls -eq 1 ] && cp "$T/resp" "$T/first"
done
check "6 VMs, one per Pull, the host left out" test $pulls -eq 6 -a $items -eq 6
check "the last Pull has EndOfSequence and no context" has "<n:EndOfSequence/>"
cp "$T/first" "$T/resp"
check "instance has xsi:type" has 'xsi:type="p:Msvm_ComputerSystem_Type"'
check "NULL as xsi:nil" has '<p:NameFormat xsi:nil="true"/>'
check "datetime as cim:Datetime" has '<p:InstallDate><cim:Datetime>2019-04-09T10:00:00.000000Z</cim:Datetime></p:InstallDate>'
grep -oE '<p:[A-Za-z]+[ >/]' "$T/resp" | sed -E 's/<p:|[ >/]$//g' | grep -v Msvm_ >"$T/names"
check "properties in alphabetical order" sh -c "sort -f -c '$T/names'"

# --- batching: OptimizeEnumeration + MaxElements
enumerate "$VMS" '<w:OptimizeEnumeration/><w:MaxElements>4</w:MaxElements>'
check "optimized Enumerate returns the first 4" test "$(count '<p:Msvm_ComputerSystem ')" = 4 -a -n "$CTX"
pull 100
check "Pull MaxElements=100 returns the rest and ends" \
	test "$(count '<p:Msvm_ComputerSystem ')" = 2 -a -z "$CTX"
check "... with n:EndOfSequence" has "<n:EndOfSequence/>"
enumerate "$VMS" '<w:OptimizeEnumeration/><w:MaxElements>50</w:MaxElements>'
check "everything in one optimized Enumerate: w:EndOfSequence, no context" \
	test "$(count '<p:Msvm_ComputerSystem ')" = 6 -a -z "$CTX"
check "... with w:EndOfSequence" has "<w:EndOfSequence/>"

# --- the host itself: localized Caption/Description
enumerate "SELECT * FROM Msvm_ComputerSystem WHERE Name='HV-LAB01'"
pull
check "host Description is the hosting one" has "<p:Description>Microsoft Hosting Computer System</p:Description>"

# --- EnumerateEPR
enumerate "SELECT * FROM Msvm_ComputerSystem WHERE Name='$WEB01'" \
	'<w:EnumerationMode>EnumerateEPR</w:EnumerationMode>'
pull
check "EnumerateEPR gives an a:EndpointReference" has "<a:EndpointReference><a:Address>"
check "... with the Name selector" has "<w:Selector Name=\"Name\">$WEB01</w:Selector>"

# --- KVP of a 2008 SP2 guest
enumerate "ASSOCIATORS OF {Msvm_ComputerSystem.CreationClassName='Msvm_ComputerSystem',Name='$WEB01'} WHERE AssocClass=Msvm_SystemDevice ResultClass=Msvm_KvpExchangeComponent" \
	'<w:OptimizeEnumeration/><w:MaxElements>10</w:MaxElements>'
check "one KvpExchangeComponent" test "$(count '<p:Msvm_KvpExchangeComponent ')" = 1
check "13 intrinsic items for 2008" test "$(count '<p:GuestIntrinsicExchangeItems>')" = 13
check "items are escaped embedded INSTANCEs" \
	has '&lt;INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"&gt;'
check "OSVersion 6.0.6003" has '&lt;VALUE&gt;6.0.6003&lt;/VALUE&gt;&lt;/PROPERTY&gt;&lt;PROPERTY NAME="Description"'
check "CSDVersion Service Pack 2" has '&lt;VALUE&gt;Service Pack 2&lt;/VALUE&gt;'
check "no R2-only OSEditionId on 2008" lacks 'OSEditionId'
enumerate "ASSOCIATORS OF {Msvm_ComputerSystem.CreationClassName='Msvm_ComputerSystem',Name='6A7C3E1F-2B4D-4E8F-9A0B-1C2D3E4F5A66'} WHERE AssocClass=Msvm_SystemDevice ResultClass=Msvm_KvpExchangeComponent" \
	'<w:OptimizeEnumeration/><w:MaxElements>10</w:MaxElements>'
check "a '&' in KVP data is escaped twice" has 'corp.example &amp;amp; &amp;lt;lab&amp;gt;'
enumerate "ASSOCIATORS OF {Msvm_ComputerSystem.CreationClassName='Msvm_ComputerSystem',Name='6A7C3E1F-2B4D-4E8F-9A0B-1C2D3E4F5A65'} WHERE AssocClass=Msvm_SystemDevice ResultClass=Msvm_KvpExchangeComponent" \
	'<w:OptimizeEnumeration/><w:MaxElements>10</w:MaxElements>'
check "no integration services: items NULL" has '<p:GuestIntrinsicExchangeItems xsi:nil="true"/>'

# --- checkpoints with parents
enumerate "SELECT * FROM Msvm_VirtualSystemSettingData WHERE VirtualSystemIdentifier='$WEB01' AND VirtualSystemType='Microsoft:Hyper-V:Snapshot:Realized'" \
	'<w:OptimizeEnumeration/><w:MaxElements>10</w:MaxElements>'
check "two checkpoints of web01" test "$(count '<p:Msvm_VirtualSystemSettingData ')" = 2
check "the second's Parent is the first" \
	has '<p:Parent>\\HV-LAB01\root\virtualization\v2:Msvm_VirtualSystemSettingData.InstanceID="Microsoft:0B1C2D3E-4F5A-4B6C-8D7E-8F9A0B1C2D31"</p:Parent>'
check "the root has a NULL Parent" has '<p:Parent xsi:nil="true"/>'
enumerate "SELECT * FROM Msvm_VirtualSystemSettingData WHERE InstanceID='Microsoft:$WEB01'" \
	'<w:OptimizeEnumeration/><w:MaxElements>10</w:MaxElements>'
check "realized settings: UserSnapshotType 3" has '<p:UserSnapshotType>3</p:UserSnapshotType>'

# --- Get with case-insensitive selector names and values
code=$(soap http://schemas.xmlsoap.org/ws/2004/09/transfer/Get "$V2/Msvm_ComputerSystem" '' \
	"$(selector_set creationclassname=msvm_computersystem NAME="${WEB01,,}")")
check "Get with lower-case selectors finds web01" test "$code" = 200
check "... and returns it" has '<p:ElementName>web01</p:ElementName>'

check "request log counts Pulls" test "$(ops Pull)" -ge 8
finish
