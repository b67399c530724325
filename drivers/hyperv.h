/* hyperv.h - the Hyper-V driver (WS-Management to root/virtualization/v2), internals shared by
 * hyperv.c (config, connection, guests, KVP) and hyperv_snapshot.c (checkpoints, DR export).
 *
 * URI: hyperv://HOST[:PORT] (HTTPS, default port 5986; with allow-unencrypted=true plain HTTP,
 * default port 5985). [host] keys: auth=basic|ntlm|negotiate, credentials=FILE (user:password
 * or two lines; mode 0600 or stricter, owned by root or the daemon's user), ca-file=FILE,
 * pinned-key=sha256//BASE64, allow-unencrypted=true|false, job-timeout=SECONDS (default 600),
 * export-path=HOST-PATH (default destination of DR copies), batch=N (MaxElements per Pull,
 * default 100; 0 = one item per Pull, for comparison only).
 *
 * Guests are VMs (Msvm_ComputerSystem, Description "Microsoft Virtual Machine"), addressed by
 * ElementName; uuid is the VM's GUID (Name). Hyper-V allows two VMs with the same name: such a
 * name is listed once, with a description naming every GUID, and every operation on it fails
 * with HF_ERR_CONFLICT until the VMs are renamed in Hyper-V Manager. */
#pragma once

#include "driver.h"
#include "wsman.h"

typedef struct {
	DrvConn base; /* first: a HvConn is a DrvConn */
	WsmanClient *ws;
	char *host;	 /* HOST of the URI, for messages */
	char *host_name; /* the Hyper-V host's computer name (object paths) */
	char *export_path;
	int job_timeout;
	gint dead; /* set when a call found the host unreachable */
} HvConn;

extern const DrvDriver drv_hyperv;

static inline HvConn *hv_conn(DrvConn *c)
{
	return (HvConn *)c;
}

/* The VM named guest: HF_ERR_NOT_FOUND when there is none, HF_ERR_CONFLICT (naming the GUIDs)
 * when the name is not unique. */
WsmanInst *hyperv_vm(HvConn *c, const char *guest, HfError *err);
/* A VM's EPR, from EnumerateEPR (falls back to the key selectors). */
WsmanRef *hyperv_vm_ref(HvConn *c, const char *guid, HfError *err);
/* Remember that the host is gone when err says so (alive() then answers false). */
int hyperv_fail(HvConn *c, HfError *err);
/* Parse GuestIntrinsicExchangeItems (embedded INSTANCE strings) into name -> data. */
GHashTable *hyperv_kvp_items(const GPtrArray *items);
/* CIM datetime (2025-12-17T09:55:22.702341Z, or the DMTF form 20251217095522.702341+000) to unix
 * seconds; 0 when not parseable. */
int64_t hyperv_datetime(const char *s);
/* EnabledState to the guest state. */
DrvGuestState hyperv_state(long long enabled_state);

/* hyperv_snapshot.c */
int hyperv_snapshot_list(DrvConn *conn, const char *guest, unsigned flags, GPtrArray **out,
			 HfError *err);
int hyperv_snapshot_create(DrvConn *conn, const char *guest, const DrvSnapshotSpec *spec,
			   unsigned flags, DrvSnapshot **out, HfError *err);
int hyperv_snapshot_revert(DrvConn *conn, const char *guest, const char *snapshot, unsigned flags,
			   HfError *err);
int hyperv_snapshot_delete(DrvConn *conn, const char *guest, const char *snapshot, unsigned flags,
			   HfError *err);
int hyperv_export_full(DrvConn *conn, const char *guest, DrvExportSpec *spec, unsigned flags,
		       HfError *err);
