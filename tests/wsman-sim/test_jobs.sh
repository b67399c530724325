#!/usr/bin/env bash
# hf-wsman-sim self-test: Invoke and jobs: CreateSnapshot -> job polling -> completed,
# rename, apply, state changes, failing/slow jobs, the EPR wrapper mode, a recovery
# checkpoint exported to the export root and destroyed.
. "$(dirname "$0")/test_lib.sh"
sim_start --job-ms 300

WEB01=6A7C3E1F-2B4D-4E8F-9A0B-1C2D3E4F5A61
DB01=6A7C3E1F-2B4D-4E8F-9A0B-1C2D3E4F5A62
PROD01=6A7C3E1F-2B4D-4E8F-9A0B-1C2D3E4F5A66
SNAPSVC="$V2/Msvm_VirtualSystemSnapshotService"
MGMTSVC="$V2/Msvm_VirtualSystemManagementService"
SVC_SEL=$(selector_set CreationClassName=Msvm_VirtualSystemSnapshotService)
MGMT_SEL=$(selector_set CreationClassName=Msvm_VirtualSystemManagementService)
XSI='xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'

# create_snapshot VM_GUID TYPE [SETTINGS]: Invoke CreateSnapshot; sets JOB.
create_snapshot() {
	CODE=$(soap "$SNAPSVC/CreateSnapshot" "$SNAPSVC" "<p:CreateSnapshot_INPUT xmlns:p=\"$SNAPSVC\"><p:AffectedSystem>$(epr Msvm_ComputerSystem CreationClassName=Msvm_ComputerSystem Name="$1")</p:AffectedSystem><p:SnapshotSettings>${3:-}</p:SnapshotSettings><p:SnapshotType>$2</p:SnapshotType></p:CreateSnapshot_INPUT>" "$SVC_SEL")
	JOB=$(job_id)
}
# new_snapshot JOB: the VSSD InstanceID of the checkpoint a job created.
new_snapshot() {
	enumerate "ASSOCIATORS OF {Msvm_ConcreteJob.InstanceID='$1'} WHERE AssocClass=Msvm_AffectedJobElement ResultClass=Msvm_VirtualSystemSettingData" \
		'<w:OptimizeEnumeration/><w:MaxElements>5</w:MaxElements>'
	value p:InstanceID
}
state_of() {
	enumerate "SELECT * FROM Msvm_ComputerSystem WHERE Name='$1'" \
		'<w:OptimizeEnumeration/><w:MaxElements>5</w:MaxElements>'
	value p:EnabledState
}
request_state() {
	CODE=$(soap "$V2/Msvm_ComputerSystem/RequestStateChange" "$V2/Msvm_ComputerSystem" \
		"<p:RequestStateChange_INPUT xmlns:p=\"$V2/Msvm_ComputerSystem\"><p:RequestedState>$2</p:RequestedState></p:RequestStateChange_INPUT>" \
		"$(selector_set CreationClassName=Msvm_ComputerSystem Name="$1")")
	JOB=$(job_id)
}

# --- CreateSnapshot with consistency settings -> 4096 + job -> completed
SETTINGS='&lt;INSTANCE CLASSNAME="Msvm_VirtualSystemSnapshotSettingData"&gt;&lt;PROPERTY NAME="ConsistencyLevel" TYPE="uint8"&gt;&lt;VALUE&gt;2&lt;/VALUE&gt;&lt;/PROPERTY&gt;&lt;/INSTANCE&gt;'
create_snapshot "$WEB01" 2 "$SETTINGS"
check "CreateSnapshot: HTTP 200, ReturnValue 4096" test "$CODE" = 200 -a "$(value p:ReturnValue)" = 4096
check "Job reference without an EndpointReference wrapper" \
	has '<p:Job><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address><a:ReferenceParameters><w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/Msvm_ConcreteJob</w:ResourceURI>'
check "ResultingSnapshot is NULL" has '<p:ResultingSnapshot xsi:nil="true"/>'
enumerate "SELECT * FROM Msvm_ConcreteJob WHERE InstanceID='$JOB'"
pull
check "the job runs first (JobState 4, PercentComplete < 100)" \
	test "$(value p:JobState)" = 4 -a "$(value p:PercentComplete)" -lt 100
check "the job completes (JobState 7)" test "$(wait_job "$JOB")" = 7
check "... with PercentComplete 100" test "$(value p:PercentComplete)" = 100
SNAP=$(new_snapshot "$JOB")
check "Msvm_AffectedJobElement leads to the new checkpoint" test -n "$SNAP"
check "it has Hyper-V's default name" has '<p:ElementName>web01 - ('

# --- rename it with ModifySystemSettings
CODE=$(soap "$MGMTSVC/ModifySystemSettings" "$MGMTSVC" "<p:ModifySystemSettings_INPUT xmlns:p=\"$MGMTSVC\"><p:SystemSettings>&lt;INSTANCE CLASSNAME=\"Msvm_VirtualSystemSettingData\"&gt;&lt;PROPERTY NAME=\"InstanceID\" TYPE=\"string\"&gt;&lt;VALUE&gt;$SNAP&lt;/VALUE&gt;&lt;/PROPERTY&gt;&lt;PROPERTY NAME=\"ElementName\" TYPE=\"string\"&gt;&lt;VALUE&gt;holdfast-nightly &amp;amp; more&lt;/VALUE&gt;&lt;/PROPERTY&gt;&lt;/INSTANCE&gt;</p:SystemSettings></p:ModifySystemSettings_INPUT>" "$MGMT_SEL")
check "ModifySystemSettings renames: ReturnValue 0" test "$CODE" = 200 -a "$(value p:ReturnValue)" = 0
enumerate "SELECT * FROM Msvm_VirtualSystemSettingData WHERE InstanceID='$SNAP'" \
	'<w:OptimizeEnumeration/><w:MaxElements>5</w:MaxElements>'
check "the checkpoint has the new name" has '<p:ElementName>holdfast-nightly &amp; more</p:ElementName>'
check "its Parent is web01's previous current checkpoint" has '0B1C2D3E-4F5A-4B6C-8D7E-8F9A0B1C2D32"</p:Parent>'

# --- WMI errors are return codes, not faults
create_snapshot "$WEB01" 7
check "SnapshotType 7: HTTP 200, ReturnValue 32773" test "$CODE" = 200 -a "$(value p:ReturnValue)" = 32773
request_state "$DB01" 9
check "pausing an off VM: 32775" test "$(value p:ReturnValue)" = 32775

# --- state changes take a job
request_state "$DB01" 2
check "starting db01: 4096" test "$(value p:ReturnValue)" = 4096
check "db01 is starting (10) meanwhile" test "$(state_of "$DB01")" = 10
check "the start job completes" test "$(wait_job "$JOB")" = 7
check "db01 runs (2)" test "$(state_of "$DB01")" = 2

# --- apply: not while running; after turning off, the VM comes back saved
CODE=$(soap "$SNAPSVC/ApplySnapshot" "$SNAPSVC" "<p:ApplySnapshot_INPUT xmlns:p=\"$SNAPSVC\"><p:Snapshot>$(epr Msvm_VirtualSystemSettingData InstanceID=Microsoft:0B1C2D3E-4F5A-4B6C-8D7E-8F9A0B1C2D31)</p:Snapshot></p:ApplySnapshot_INPUT>" "$SVC_SEL")
check "ApplySnapshot on a running VM: 32775" test "$(value p:ReturnValue)" = 32775
request_state "$WEB01" 3
check "turning web01 off completes" test "$(wait_job "$JOB")" = 7
CODE=$(soap "$SNAPSVC/ApplySnapshot" "$SNAPSVC" "<p:ApplySnapshot_INPUT xmlns:p=\"$SNAPSVC\"><p:Snapshot><a:EndpointReference>$(epr Msvm_VirtualSystemSettingData InstanceID=Microsoft:0B1C2D3E-4F5A-4B6C-8D7E-8F9A0B1C2D31)</a:EndpointReference></p:Snapshot></p:ApplySnapshot_INPUT>" "$SVC_SEL")
JOB=$(job_id)
check "ApplySnapshot (wrapped EPR) on an off VM: 4096" test "$(value p:ReturnValue)" = 4096
check "the apply job completes" test "$(wait_job "$JOB")" = 7
check "web01 is saved after applying a running checkpoint" test "$(state_of "$WEB01")" = 6
enumerate "SELECT * FROM Msvm_VirtualSystemSettingData WHERE InstanceID='Microsoft:$WEB01'" \
	'<w:OptimizeEnumeration/><w:MaxElements>5</w:MaxElements>'
check "web01 now runs from before-esu" has '0B1C2D3E-4F5A-4B6C-8D7E-8F9A0B1C2D31"</p:Parent>'

# --- failing and slow jobs, wrapper mode
control "fail-jobs 1 CreateSnapshot" >/dev/null
create_snapshot "$WEB01" 2
check "an injected failure ends in JobState 10" test "$(wait_job "$JOB")" = 10
check "... with ErrorCode 32768" test "$(value p:ErrorCode)" = 32768
check "... and an ErrorDescription" has "could not create a checkpoint"
create_snapshot "$PROD01" 2
check "production-only checkpoint of a 2008 guest fails" test "$(wait_job "$JOB")" = 10
check "... saying why" has "Production checkpoints cannot be created for 'prod01'"
control "job-ms 60000
epr-wrapper on" >/dev/null
create_snapshot "$DB01" 2
check "wrapper mode: p:Job holds an a:EndpointReference" has '<p:Job><a:EndpointReference><a:Address>'
enumerate "SELECT * FROM Msvm_ConcreteJob WHERE InstanceID='$JOB'"
pull
check "a slow job still runs" test "$(value p:JobState)" = 4
control "job-ms 300
epr-wrapper off" >/dev/null

# --- recovery checkpoint -> export it -> destroy it
create_snapshot "$WEB01" 32768
check "recovery checkpoint job completes" test "$(wait_job "$JOB")" = 7
REC=$(new_snapshot "$JOB")
check "it is of type Snapshot:Recovery" has '<p:VirtualSystemType>Microsoft:Hyper-V:Snapshot:Recovery</p:VirtualSystemType>'
EXPORT_SETTINGS="&lt;INSTANCE CLASSNAME=\"Msvm_VirtualSystemExportSettingData\"&gt;&lt;PROPERTY NAME=\"CopySnapshotConfiguration\" TYPE=\"uint8\"&gt;&lt;VALUE&gt;2&lt;/VALUE&gt;&lt;/PROPERTY&gt;&lt;PROPERTY NAME=\"CopyVmStorage\" TYPE=\"boolean\"&gt;&lt;VALUE&gt;TRUE&lt;/VALUE&gt;&lt;/PROPERTY&gt;&lt;PROPERTY NAME=\"CreateVmExportSubdirectory\" TYPE=\"boolean\"&gt;&lt;VALUE&gt;TRUE&lt;/VALUE&gt;&lt;/PROPERTY&gt;&lt;PROPERTY NAME=\"SnapshotVirtualSystem\" TYPE=\"string\"&gt;&lt;VALUE&gt;\\\\\\\\HV-LAB01\\\\root\\\\virtualization\\\\v2:Msvm_VirtualSystemSettingData.InstanceID=&amp;quot;$REC&amp;quot;&lt;/VALUE&gt;&lt;/PROPERTY&gt;&lt;/INSTANCE&gt;"
export_vm() {
	CODE=$(soap "$MGMTSVC/ExportSystemDefinition" "$MGMTSVC" "<p:ExportSystemDefinition_INPUT xmlns:p=\"$MGMTSVC\"><p:ComputerSystem>$(epr Msvm_ComputerSystem CreationClassName=Msvm_ComputerSystem Name="$WEB01")</p:ComputerSystem><p:ExportDirectory>$1</p:ExportDirectory><p:ExportSettingData>$EXPORT_SETTINGS</p:ExportSettingData></p:ExportSystemDefinition_INPUT>" "$MGMT_SEL")
	JOB=$(job_id)
}
export_vm "/etc/hf-outside"
check "export outside the export root: 32773" test "$CODE" = 200 -a "$(value p:ReturnValue)" = 32773
export_vm "$T/export\\dr\\2025-12-17"
check "ExportSystemDefinition: 4096" test "$(value p:ReturnValue)" = 4096
check "the export job completes" test "$(wait_job "$JOB")" = 7
D="$T/export/dr/2025-12-17/web01"
check "config written" test -s "$D/Virtual Machines/$WEB01.vmcx"
check "the exported checkpoint's config written" test -s "$D/Snapshots/${REC#Microsoft:}.vmcx"
check "a 64 KiB VHDX starting with vhdxfile" \
	test "$(stat -c %s "$D/Virtual Hard Disks/web01.vhdx")" = 65536 -a "$(head -c 8 "$D/Virtual Hard Disks/web01.vhdx")" = vhdxfile
check "the disk content names the VM and checkpoint" \
	grep -q "holdfast-sim disk $WEB01 at ${REC#Microsoft:} block 00000000" "$D/Virtual Hard Disks/web01.vhdx"
export_vm "$T/export\\dr\\2025-12-17"
check "exporting over an existing export fails the job" test "$(wait_job "$JOB")" = 10
CODE=$(soap "$SNAPSVC/DestroySnapshot" "$SNAPSVC" "<p:DestroySnapshot_INPUT xmlns:p=\"$SNAPSVC\"><p:AffectedSnapshot>$(epr Msvm_VirtualSystemSettingData InstanceID="$REC")</p:AffectedSnapshot></p:DestroySnapshot_INPUT>" "$SVC_SEL")
JOB=$(job_id)
check "DestroySnapshot completes" test "$(wait_job "$JOB")" = 7
enumerate "SELECT * FROM Msvm_VirtualSystemSettingData WHERE InstanceID='$REC'" \
	'<w:OptimizeEnumeration/><w:MaxElements>5</w:MaxElements>'
check "the recovery checkpoint is gone" test "$(count '<p:Msvm_VirtualSystemSettingData ')" = 0
finish
