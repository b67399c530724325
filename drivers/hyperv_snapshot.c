/* hyperv_snapshot.c - Hyper-V checkpoints (create with a name via a rename, list with the parent
 * tree, apply, delete) and the full DR export of a recovery checkpoint.
 *
 * Kind: checkpoints are "other" (Hyper-V's own AVHDX chains, neither libvirt-internal nor
 * -external). Consistency (this driver quiesces by itself, DRV_CAP_SELF_QUIESCE): the VM's
 * UserSnapshotType decides what Hyper-V takes (2 production only, 3 production falling back to
 * standard, 5 standard). A production checkpoint (VSS in the guest, no memory state: IsSaved
 * false) is "application"; a standard one of a running VM (IsSaved true: memory saved) is
 * "crash" with the reason. holdfast never changes the VM's checkpoint type. */
#include "hyperv.h"

#include <string.h>

#define VSSD "Msvm_VirtualSystemSettingData"
#define SNAPSVC "Msvm_VirtualSystemSnapshotService"
#define MGMTSVC "Msvm_VirtualSystemManagementService"
#define TYPE_SNAPSHOT "Microsoft:Hyper-V:Snapshot:Realized"

static WsmanInst *realized_settings(HvConn *c, const char *guid, HfError *err)
{
	g_autofree char *iid = g_strconcat("Microsoft:", guid, NULL);
	g_autofree char *q = wsman_wql_quote(iid);
	g_autofree char *wql = g_strdup_printf("SELECT * FROM " VSSD " WHERE InstanceID=%s", q);
	g_autoptr(GPtrArray) r = NULL;
	if (wsman_enumerate(c->ws, wql, "reading a virtual machine's settings", &r, err) < 0) {
		hyperv_fail(c, err);
		return NULL;
	}
	return r->len ? g_ptr_array_steal_index(r, 0) : NULL;
}

/* Checkpoints of the VM (WsmanInst* VSSDs) and, in *current, the GUID it runs from. */
static GPtrArray *checkpoints(HvConn *c, const WsmanInst *vm, char **current, HfError *err)
{
	const char *guid = wsman_inst_get(vm, "Name");
	g_autofree char *q = wsman_wql_quote(guid);
	g_autofree char *wql =
	    g_strdup_printf("SELECT * FROM " VSSD " WHERE VirtualSystemIdentifier="
			    "%s AND VirtualSystemType='" TYPE_SNAPSHOT "'",
			    q);
	g_autofree char *what =
	    g_strdup_printf("listing checkpoints of guest '%s'", wsman_inst_get(vm, "ElementName"));
	GPtrArray *r = NULL;
	if (wsman_enumerate(c->ws, wql, what, &r, err) < 0) {
		hyperv_fail(c, err);
		return NULL;
	}
	if (current) {
		g_autoptr(WsmanInst) rs = realized_settings(c, guid, err);
		if (error_is_set(err)) {
			g_ptr_array_unref(r);
			return NULL;
		}
		*current = rs ? wsman_path_guid(wsman_inst_get(rs, "Parent")) : NULL;
	}
	return r;
}

static DrvSnapshot *snapshot_from(const WsmanInst *s, const GPtrArray *all, const char *current)
{
	DrvSnapshot *d = drv_snapshot_new();
	g_autofree char *id = wsman_path_guid(wsman_inst_get(s, "InstanceID"));
	g_autofree char *parent = wsman_path_guid(wsman_inst_get(s, "Parent"));
	d->name = g_strdup(wsman_inst_get(s, "ElementName"));
	d->creation_time = hyperv_datetime(wsman_inst_get(s, "CreationTime"));
	d->has_memory = wsman_inst_bool(s, "IsSaved");
	d->state = g_strdup(d->has_memory ? "running" : "disk-snapshot");
	d->kind = DRV_SNAP_OTHER;
	d->current = id && current && !g_ascii_strcasecmp(id, current);
	const char *notes = wsman_inst_get(s, "Notes");
	d->description = notes && *notes ? g_strdup(notes) : NULL;
	for (guint i = 0; parent && i < all->len; i++) {
		g_autofree char *pid = wsman_path_guid(wsman_inst_get(all->pdata[i], "InstanceID"));
		if (pid && !g_ascii_strcasecmp(pid, parent))
			d->parent = g_strdup(wsman_inst_get(all->pdata[i], "ElementName"));
	}
	return d;
}

int hyperv_snapshot_list(DrvConn *dc, const char *guest, unsigned flags, GPtrArray **out,
			 HfError *err)
{
	HvConn *c = hv_conn(dc);
	g_autoptr(WsmanInst) vm = hyperv_vm(c, guest, err);
	g_autofree char *current = NULL;
	g_autoptr(GPtrArray) cps = vm ? checkpoints(c, vm, &current, err) : NULL;
	if (!cps)
		return -1;
	GPtrArray *r = g_ptr_array_new_with_free_func((GDestroyNotify)drv_snapshot_free);
	for (guint i = 0; i < cps->len; i++)
		if (wsman_inst_get(cps->pdata[i], "ElementName"))
			g_ptr_array_add(r, snapshot_from(cps->pdata[i], cps, current));
	*out = r;
	return 0;
}

/* The checkpoint named name (its InstanceID), unique or HF_ERR_CONFLICT. */
static char *find_checkpoint(HvConn *c, const WsmanInst *vm, const char *guest, const char *name,
			     HfError *err)
{
	g_autoptr(GPtrArray) cps = checkpoints(c, vm, NULL, err);
	char *found = NULL;
	unsigned n = 0;
	for (guint i = 0; cps && i < cps->len; i++) {
		if (g_strcmp0(wsman_inst_get(cps->pdata[i], "ElementName"), name))
			continue;
		if (n++ == 0)
			found = g_strdup(wsman_inst_get(cps->pdata[i], "InstanceID"));
	}
	if (!cps)
		return NULL;
	if (n > 1) {
		g_free(found);
		error_set(err, HF_ERR_CONFLICT,
			  "guest '%s' on Hyper-V host %s has %u checkpoints named '%s': rename "
			  "them in Hyper-V Manager",
			  guest, c->host, n, name);
		return NULL;
	}
	if (!found)
		error_set(err, HF_ERR_NOT_FOUND,
			  "snapshot '%s' of guest '%s' not found on Hyper-V host %s", name, guest,
			  c->host);
	return found;
}

static int invoke(HvConn *c, const char *cls, const char *method, const WsmanParam *p, size_t n,
		  const char *what, DrvProgressFn progress, void *opaque, int from, int to,
		  char **job_id, HfError *err)
{
	WsmanCall call = {.cls = cls,
			  .method = method,
			  .params = p,
			  .n_params = n,
			  .what = what,
			  .job_timeout_s = c->job_timeout,
			  .progress = progress,
			  .opaque = opaque,
			  .pct_from = from,
			  .pct_to = to};
	if (wsman_call(c->ws, &call, job_id, err) < 0)
		return hyperv_fail(c, err);
	return 0;
}

static int destroy(HvConn *c, const char *iid, const char *what, HfError *err)
{
	g_autoptr(WsmanRef) ref = wsman_ref_new(WSMAN_V2 VSSD, "InstanceID", iid, NULL);
	WsmanParam p[] = {{"AffectedSnapshot", WSMAN_P_REF, NULL, ref}};
	return invoke(c, SNAPSVC, "DestroySnapshot", p, 1, what, NULL, NULL, 0, 0, NULL, err);
}

/* CreateSnapshot of type `type` and the new checkpoint's settings (via Msvm_AffectedJobElement). */
static WsmanInst *create(HvConn *c, const WsmanInst *vm, int type, const char *level,
			 const char *what, DrvProgressFn progress, void *opaque, int from, int to,
			 HfError *err)
{
	g_autoptr(WsmanRef) ref = hyperv_vm_ref(c, wsman_inst_get(vm, "Name"), err);
	if (!ref)
		return NULL;
	const char *props[] = {"ConsistencyLevel", "uint8", level, NULL};
	g_autofree char *settings =
	    level ? wsman_embedded_instance("Msvm_VirtualSystemSnapshotSettingData", props)
		  : g_strdup("");
	g_autofree char *stype = g_strdup_printf("%d", type);
	g_autofree char *job = NULL;
	WsmanParam p[] = {{"AffectedSystem", WSMAN_P_REF, NULL, ref},
			  {"SnapshotSettings", WSMAN_P_TEXT, settings, NULL},
			  {"SnapshotType", WSMAN_P_TEXT, stype, NULL}};
	if (invoke(c, SNAPSVC, "CreateSnapshot", p, 3, what, progress, opaque, from, to, &job,
		   err) < 0)
		return NULL;
	if (!job) {
		error_set(err, HF_ERR_PROTOCOL,
			  "%s on Hyper-V host %s: CreateSnapshot finished without a job to find "
			  "the checkpoint from",
			  what, c->host);
		return NULL;
	}
	g_autofree char *q = wsman_wql_quote(job);
	g_autofree char *wql = g_strdup_printf("ASSOCIATORS OF {Msvm_ConcreteJob.InstanceID=%s} "
					       "WHERE AssocClass=Msvm_AffectedJobElement "
					       "ResultClass=" VSSD,
					       q);
	g_autoptr(GPtrArray) r = NULL;
	if (wsman_enumerate(c->ws, wql, what, &r, err) < 0) {
		hyperv_fail(c, err);
		return NULL;
	}
	for (guint i = 0; i < r->len; i++)
		if (wsman_inst_get(r->pdata[i], "InstanceID"))
			return g_ptr_array_steal_index(r, i);
	error_set(err, HF_ERR_PROTOCOL, "%s on Hyper-V host %s: the job %s names no new checkpoint",
		  what, c->host, job);
	return NULL;
}

typedef struct {
	long long state, ust;
	const char *level; /* ConsistencyLevel to ask for */
} Plan;

/* Refuse up front what cannot give the consistency asked for. */
static int plan(HvConn *c, const char *guest, const char *mode, Plan *pl, HfError *err)
{
	pl->level = strcmp(mode, "no") ? "1" : "2";
	if (strcmp(mode, "yes"))
		return 0;
	if (pl->state == 6 || pl->state == 9)
		return error_set(
		    err, HF_ERR_CONFLICT,
		    "guest '%s' on Hyper-V host %s is %s: a production (VSS) checkpoint "
		    "needs it running or off; no checkpoint taken (quiesce=yes)",
		    guest, c->host, pl->state == 6 ? "saved" : "paused");
	if (pl->state != 3 && pl->ust == 5)
		return error_set(
		    err, HF_ERR_UNSUPPORTED,
		    "guest '%s' on Hyper-V host %s is set to standard checkpoints "
		    "(UserSnapshotType 5): Hyper-V will not quiesce it; set Production "
		    "checkpoints in Hyper-V Manager or use --quiesce try; no checkpoint "
		    "taken (quiesce=yes)",
		    guest, c->host);
	return 0;
}

/* Consistency of the new checkpoint from the VM's state, type and what Hyper-V made. */
static void consistency(const Plan *pl, const char *mode, const WsmanInst *s, DrvSnapshot *d)
{
	bool saved = wsman_inst_bool(s, "IsSaved");
	if (pl->state == 3) {
		d->consistency = g_strdup("application");
		d->consistency_reason =
		    g_strdup("guest was off: no I/O in flight, as consistent as "
			     "its last shutdown");
	} else if (pl->state == 6 || pl->state == 9) {
		d->consistency = g_strdup("crash");
		d->consistency_reason = g_strdup_printf("guest was %s: the checkpoint holds its "
							"saved memory state, no VSS in the guest",
							pl->state == 6 ? "saved" : "paused");
	} else if (!saved) {
		d->consistency = g_strdup("application");
		d->consistency_reason = g_strdup("Hyper-V production checkpoint: VSS in the guest "
						 "(Backup integration service)");
	} else {
		d->consistency = g_strdup("crash");
		d->consistency_reason = g_strdup(
		    !strcmp(mode, "no") ? "quiesce not requested (--quiesce no): standard "
					  "checkpoint (saved memory state)"
		    : pl->ust == 5	? "the VM is set to standard checkpoints (UserSnapshotType "
					  "5): saved memory state, no VSS"
				   : "Hyper-V fell back to a standard checkpoint (saved memory "
				     "state): the guest's VSS / Backup integration service did "
				     "not take a production checkpoint");
	}
}

int hyperv_snapshot_create(DrvConn *dc, const char *guest, const DrvSnapshotSpec *spec,
			   unsigned flags, DrvSnapshot **out, HfError *err)
{
	HvConn *c = hv_conn(dc);
	const char *mode = spec->quiesce ? spec->quiesce : "no";
	g_autofree char *what =
	    g_strdup_printf("creating snapshot '%s' of guest '%s'", spec->name, guest);
	g_autoptr(WsmanInst) vm = hyperv_vm(c, guest, err);
	Plan pl = {0};
	if (!vm)
		return -1;
	const char *guid = wsman_inst_get(vm, "Name");
	g_autoptr(WsmanInst) rs = realized_settings(c, guid, err);
	if (error_is_set(err))
		return -1;
	wsman_inst_int(vm, "EnabledState", &pl.state);
	if (!rs || !wsman_inst_int(rs, "UserSnapshotType", &pl.ust))
		pl.ust = 3;
	if (plan(c, guest, mode, &pl, err) < 0)
		return -1;
	HfError e = {0};
	g_autofree char *dup = find_checkpoint(c, vm, guest, spec->name, &e);
	if (dup || !strcmp(e.code, HF_ERR_CONFLICT))
		return error_set(
		    err, HF_ERR_CONFLICT,
		    "guest '%s' on Hyper-V host %s already has a checkpoint named '%s'", guest,
		    c->host, spec->name);
	if (strcmp(e.code, HF_ERR_NOT_FOUND))
		return error_set(err, e.code, "%s", e.message);

	g_autoptr(WsmanInst) s = create(c, vm, 2, pl.level, what, NULL, NULL, 0, 0, err);
	if (!s)
		return -1;
	const char *iid = wsman_inst_get(s, "InstanceID");
	g_autoptr(DrvSnapshot) d = drv_snapshot_new();
	consistency(&pl, mode, s, d);
	HfError ignored = {0};
	if (!strcmp(mode, "yes") && strcmp(d->consistency, "application")) {
		destroy(c, iid, what, &ignored);
		return error_set(err, HF_ERR_FAILED,
				 "%s on Hyper-V host %s: %s; the fallback checkpoint was deleted "
				 "(quiesce=yes)",
				 what, c->host, d->consistency_reason);
	}
	/* CreateSnapshot takes no name: rename the new checkpoint. */
	const char *props[] = {"InstanceID", "string",	 iid, "ElementName",
			       "string",     spec->name, NULL};
	g_autofree char *vssd = wsman_embedded_instance(VSSD, props);
	WsmanParam p[] = {{"SystemSettings", WSMAN_P_TEXT, vssd, NULL}};
	if (invoke(c, MGMTSVC, "ModifySystemSettings", p, 1, what, NULL, NULL, 0, 0, NULL, err) <
	    0) {
		destroy(c, iid, what, &ignored); /* never leave a checkpoint with Hyper-V's name */
		return -1;
	}
	g_autofree char *current = NULL;
	g_autoptr(GPtrArray) cps = checkpoints(c, vm, &current, err);
	if (!cps)
		return -1;
	g_autofree char *id = wsman_path_guid(iid);
	for (guint i = 0; i < cps->len; i++) {
		g_autofree char *cid = wsman_path_guid(wsman_inst_get(cps->pdata[i], "InstanceID"));
		if (cid && id && !g_ascii_strcasecmp(cid, id)) {
			DrvSnapshot *r = snapshot_from(cps->pdata[i], cps, current);
			r->consistency = g_steal_pointer(&d->consistency);
			r->consistency_reason = g_steal_pointer(&d->consistency_reason);
			*out = r;
			return 0;
		}
	}
	return error_set(err, HF_ERR_FAILED, "%s on Hyper-V host %s: the new checkpoint vanished",
			 what, c->host);
}

int hyperv_snapshot_revert(DrvConn *dc, const char *guest, const char *name, unsigned flags,
			   HfError *err)
{
	HvConn *c = hv_conn(dc);
	g_autoptr(WsmanInst) vm = hyperv_vm(c, guest, err);
	long long st = 0;
	if (!vm)
		return -1;
	wsman_inst_int(vm, "EnabledState", &st);
	if (st != 3 && st != 6)
		return error_set(
		    err, HF_ERR_CONFLICT,
		    "guest '%s' on Hyper-V host %s is %s: Hyper-V applies a checkpoint "
		    "only to a VM that is off or saved; shut it down or save it first "
		    "(holdfast does not do that for you)",
		    guest, c->host, drv_state_name(hyperv_state(st)));
	g_autofree char *iid = find_checkpoint(c, vm, guest, name, err);
	if (!iid)
		return -1;
	g_autofree char *what =
	    g_strdup_printf("reverting guest '%s' to snapshot '%s'", guest, name);
	g_autoptr(WsmanRef) ref = wsman_ref_new(WSMAN_V2 VSSD, "InstanceID", iid, NULL);
	WsmanParam p[] = {{"Snapshot", WSMAN_P_REF, NULL, ref}};
	return invoke(c, SNAPSVC, "ApplySnapshot", p, 1, what, NULL, NULL, 0, 0, NULL, err);
}

int hyperv_snapshot_delete(DrvConn *dc, const char *guest, const char *name, unsigned flags,
			   HfError *err)
{
	HvConn *c = hv_conn(dc);
	g_autoptr(WsmanInst) vm = hyperv_vm(c, guest, err);
	g_autofree char *iid = vm ? find_checkpoint(c, vm, guest, name, err) : NULL;
	if (!iid)
		return -1;
	g_autofree char *what =
	    g_strdup_printf("deleting snapshot '%s' of guest '%s'", name, guest);
	return destroy(c, iid, what, err);
}

/* ---- DR export: recovery checkpoint -> ExportSystemDefinition of it -> destroy it ---- */

int hyperv_export_full(DrvConn *dc, const char *guest, DrvExportSpec *spec, unsigned flags,
		       HfError *err)
{
	HvConn *c = hv_conn(dc);
	g_autofree char *dest = NULL;
	const char *dest_dir = spec->dest_dir;
	DrvProgressFn progress = spec->progress;
	void *opaque = spec->opaque;
	if (dest_dir && *dest_dir) {
		dest = g_strdup(dest_dir);
	} else if (c->export_path) {
		g_autoptr(GDateTime) now = g_date_time_new_now_utc();
		g_autofree char *stamp = g_date_time_format(now, "%Y%m%dT%H%M%SZ");
		dest = g_strdup_printf("%s\\%s-%s", c->export_path, guest, stamp);
	} else {
		return error_set(
		    err, HF_ERR_CONFIG,
		    "no destination for the DR copy of guest '%s': give --dest (a path "
		    "on Hyper-V host %s) or set export-path= in its [host] section",
		    guest, c->host);
	}
	g_autofree char *what = g_strdup_printf("DR copy of guest '%s' to %s", guest, dest);
	g_autoptr(WsmanInst) vm = hyperv_vm(c, guest, err);
	if (!vm)
		return -1;
	if (progress)
		progress(opaque, 5, "taking a recovery checkpoint");
	g_autoptr(WsmanInst) rec = create(c, vm, 32768, NULL, what, progress, opaque, 5, 25, err);
	if (!rec)
		return -1;
	const char *iid = wsman_inst_get(rec, "InstanceID");
	g_autofree char *path = wsman_object_path(c->host_name, VSSD, "InstanceID", iid);
	const char *props[] = {"CopySnapshotConfiguration",
			       "uint8",
			       "2",
			       "CopyVmRuntimeInformation",
			       "boolean",
			       "TRUE",
			       "CopyVmStorage",
			       "boolean",
			       "TRUE",
			       "CreateVmExportSubdirectory",
			       "boolean",
			       "TRUE",
			       "SnapshotVirtualSystem",
			       "string",
			       path,
			       NULL};
	g_autofree char *settings =
	    wsman_embedded_instance("Msvm_VirtualSystemExportSettingData", props);
	g_autoptr(WsmanRef) ref = hyperv_vm_ref(c, wsman_inst_get(vm, "Name"), err);
	int rc = -1;
	if (ref) {
		WsmanParam p[] = {{"ComputerSystem", WSMAN_P_REF, NULL, ref},
				  {"ExportDirectory", WSMAN_P_TEXT, dest, NULL},
				  {"ExportSettingData", WSMAN_P_TEXT, settings, NULL}};
		if (progress)
			progress(opaque, 25, "exporting the recovery checkpoint");
		WsmanCall call = {.cls = MGMTSVC,
				  .method = "ExportSystemDefinition",
				  .params = p,
				  .n_params = 3,
				  .what = what,
				  .job_timeout_s = c->job_timeout,
				  .progress = progress,
				  .opaque = opaque,
				  .cancelled = spec->cancelled,
				  .pct_from = 25,
				  .pct_to = 90};
		rc = wsman_call(c->ws, &call, NULL, err) < 0 ? hyperv_fail(c, err) : 0;
		if (rc < 0 && !strcmp(err->code, HF_ERR_CANCELLED))
			error_prefix(err,
				     "files already exported under %s on Hyper-V host %s "
				     "are incomplete: delete them",
				     dest, c->host);
	}
	if (progress)
		progress(opaque, 92, "deleting the recovery checkpoint");
	HfError derr = {0};
	if (destroy(c, iid, what, &derr) < 0) {
		if (rc == 0)
			return error_set(
			    err, derr.code,
			    "%s: exported, but the recovery checkpoint %s could not be "
			    "deleted (delete it in Hyper-V Manager): %s",
			    what, iid, derr.message);
		error_prefix(err, "recovery checkpoint %s also left behind (%s)", iid,
			     derr.message);
	}
	if (rc == 0) {
		spec->exported = g_strdup(dest);
		if (progress)
			progress(opaque, 100, "exported");
	}
	return rc;
}
