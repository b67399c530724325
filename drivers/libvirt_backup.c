/* libvirt_backup.c - the libvirt driver's push-mode backups and checkpoints (DR copies).
 *
 * One copy = one virDomainBackupBegin in push mode with a new checkpoint: every qcow2 disk of
 * the running guest goes to DIR/TARGET.qcow2, in full or (incremental) only the clusters dirty
 * since a named checkpoint. libvirt 9.0 refuses a quiesced checkpoint, so quiescing is an agent
 * fs-freeze right before backup-begin and a thaw right after it returns (the block job has its
 * point in time by then; the frozen window measured 0.17 s in the lab). The thaw always runs.
 * Completion is polled from the domain's job stats, which also give the progress. */
#include "libvirt_priv.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define POLL_US (100 * 1000)

G_DEFINE_AUTOPTR_CLEANUP_FUNC(virDomainCheckpoint, virDomainCheckpointFree)

/* The backup and checkpoint XML for the guest's disks; qcow2 disks only (bitmaps). */
static int build_xml(LvConn *c, const char *guest, const DrvGuest *g, const DrvBackupSpec *spec,
		     DrvBackupResult *res, char **backup_xml, char **ck_xml, HfError *err)
{
	g_autoptr(GString) b = g_string_new("<domainbackup mode='push'>\n");
	g_autoptr(GString) k = g_string_new("<domaincheckpoint>\n");
	g_autofree char *ckname = g_markup_escape_text(spec->checkpoint, -1);

	if (spec->incremental) {
		g_autofree char *inc = g_markup_escape_text(spec->incremental, -1);
		g_string_append_printf(b, "  <incremental>%s</incremental>\n", inc);
	}
	g_string_append(b, "  <disks>\n");
	g_string_append_printf(k, "  <name>%s</name>\n  <disks>\n", ckname);
	for (guint i = 0; i < g->disks->len; i++) {
		const DrvDisk *d = g->disks->pdata[i];
		g_autofree char *t = g_markup_escape_text(d->target, -1);
		if (strcmp(d->device, "disk") || !d->path) {
			g_string_append_printf(b, "    <disk name='%s' backup='no'/>\n", t);
			g_string_append_printf(k, "    <disk name='%s' checkpoint='no'/>\n", t);
			continue;
		}
		if (!d->format || strcmp(d->format, "qcow2"))
			return error_set(
			    err, HF_ERR_UNSUPPORTED,
			    "cannot copy disk '%s' (%s) of guest '%s' on host %s: it is "
			    "%s, and incremental DR copies need qcow2 images (dirty "
			    "bitmaps); convert it with qemu-img convert -O qcow2",
			    d->target, d->path, guest, c->base.uri,
			    d->format ? d->format : "of unknown format");
		DrvBackupDisk *bd = g_new0(DrvBackupDisk, 1);
		bd->target = g_strdup(d->target);
		bd->file = g_strdup_printf("%s/%s.qcow2", spec->dir, d->target);
		bd->source = g_strdup(d->path);
		g_ptr_array_add(res->disks, bd);
		g_autofree char *f = g_markup_escape_text(bd->file, -1);
		g_string_append_printf(b,
				       "    <disk name='%s' backup='yes' type='file'><target "
				       "file='%s'/><driver type='qcow2'/></disk>\n",
				       t, f);
		g_string_append_printf(k, "    <disk name='%s' checkpoint='bitmap'/>\n", t);
	}
	if (!res->disks->len)
		return error_set(err, HF_ERR_UNSUPPORTED,
				 "guest '%s' on host %s has no disk image to copy", guest,
				 c->base.uri);
	g_string_append(b, "  </disks>\n</domainbackup>\n");
	g_string_append(k, "  </disks>\n</domaincheckpoint>\n");
	*backup_xml = g_string_free(g_steal_pointer(&b), FALSE);
	*ck_xml = g_string_free(g_steal_pointer(&k), FALSE);
	return 0;
}

/* Freeze (when asked), begin the backup, thaw. Fills the result's consistency. */
static int begin_quiesced(LvConn *c, virDomainPtr dom, const char *guest, const DrvBackupSpec *spec,
			  const char *bxml, const char *kxml, DrvBackupResult *res, HfError *err)
{
	HfError ferr = {0};
	int n = 0;
	bool frozen = false;
	gint64 t0 = 0;

	if (!spec->quiesce) {
		res->consistency = g_strdup("crash");
		res->consistency_reason = g_strdup("quiesce not requested");
	} else if (drv_fs_freeze(&c->base, guest, spec->agent_timeout, 0, &n, &ferr) == 0) {
		frozen = true;
		t0 = g_get_monotonic_time();
	} else {
		res->consistency = g_strdup("crash");
		res->consistency_reason = g_strdup_printf(
		    "the guest agent did not freeze the filesystems: %s", ferr.message);
		/* a freeze that timed out may still happen in the guest: thaw regardless */
		frozen = !strcmp(ferr.code, HF_ERR_AGENT_TIMEOUT);
	}
	int rc = virDomainBackupBegin(dom, bxml, kxml, 0);
	if (rc < 0)
		lv_error(err, c, guest, NULL, "cannot start the DR copy (backup) of");
	if (frozen) {
		HfError terr = {0};
		if (t0)
			res->frozen_s = (double)(g_get_monotonic_time() - t0) / 1e6;
		if (drv_fs_thaw(&c->base, guest, spec->agent_timeout, 0, NULL, &terr) < 0) {
			error_clear(&terr);
			drv_fs_thaw(&c->base, guest, spec->agent_timeout, 0, NULL, &terr);
		}
		if (t0) {
			res->consistency = g_strdup("filesystem");
			res->consistency_reason = g_strdup_printf(
			    "%d filesystem(s) frozen through the guest agent for %.2f s%s%s", n,
			    res->frozen_s, terr.code[0] ? "; the thaw failed: " : "",
			    terr.code[0] ? terr.message : "");
		}
	}
	return rc < 0 ? -1 : 0;
}

static uint64_t stat_u64(virTypedParameterPtr p, int n, const char *name)
{
	unsigned long long v = 0;
	if (virTypedParamsGetULLong(p, n, name, &v) != 1)
		return 0;
	return v;
}

/* Poll the job until it ends; abort it when the caller cancels. */
static int wait_job(LvConn *c, virDomainPtr dom, const char *guest, const DrvBackupSpec *spec,
		    DrvProgressFn progress, void *opaque, DrvBackupResult *res, HfError *err)
{
	int last = -1;
	bool aborted = false;
	for (;;) {
		int type = 0, np = 0;
		virTypedParameterPtr p = NULL;
		if (virDomainGetJobStats(dom, &type, &p, &np, 0) < 0)
			return lv_error(err, c, guest, NULL, "cannot follow the DR copy of");
		uint64_t done = stat_u64(p, np, VIR_DOMAIN_JOB_DATA_PROCESSED);
		uint64_t total = stat_u64(p, np, VIR_DOMAIN_JOB_DATA_TOTAL);
		virTypedParamsFree(p, np);
		if (type == VIR_DOMAIN_JOB_NONE)
			break;
		int pct = total ? (int)(done * 100 / total) : 0;
		if (progress && pct != last) {
			g_autofree char *m = g_strdup_printf(
			    "copying: %" PRIu64 " of %" PRIu64 " MiB", done >> 20, total >> 20);
			progress(opaque, pct, m);
			last = pct;
		}
		if (!aborted && spec->cancelled && spec->cancelled(opaque)) {
			aborted = true;
			if (virDomainAbortJob(dom) < 0)
				virResetLastError();
		}
		g_usleep(POLL_US);
	}
	int type = 0, np = 0;
	virTypedParameterPtr p = NULL;
	if (virDomainGetJobStats(dom, &type, &p, &np, VIR_DOMAIN_JOB_STATS_COMPLETED) < 0)
		return lv_error(err, c, guest, NULL, "cannot read the result of the DR copy of");
	const char *msg = NULL;
	virTypedParamsGetString(p, np, VIR_DOMAIN_JOB_ERRMSG, &msg);
	g_autofree char *why = g_strdup(msg ? msg : "no reason given");
	res->processed = stat_u64(p, np, VIR_DOMAIN_JOB_DATA_PROCESSED);
	virTypedParamsFree(p, np);
	if (aborted)
		return error_set(err, HF_ERR_CANCELLED,
				 "DR copy of guest '%s' on host %s cancelled", guest, c->base.uri);
	if (type != VIR_DOMAIN_JOB_COMPLETED)
		return error_set(err, HF_ERR_FAILED,
				 "DR copy (backup job) of guest '%s' on host %s failed: %s; check "
				 "free space at the target and the libvirtd log",
				 guest, c->base.uri, why);
	return 0;
}

static void drop_checkpoint(virDomainPtr dom, const char *name)
{
	g_autoptr(virDomainCheckpoint) ck = virDomainCheckpointLookupByName(dom, name, 0);
	if (ck && virDomainCheckpointDelete(ck, 0) < 0)
		virResetLastError();
	virResetLastError();
}

int lv_backup_push(DrvConn *dc, const char *guest, const DrvBackupSpec *spec,
		   DrvProgressFn progress, void *opaque, unsigned flags, DrvBackupResult **out,
		   HfError *err)
{
	LvConn *c = lv_conn(dc);
	g_autoptr(virDomain) dom = lv_domain(c, guest, err);
	g_autofree char *bxml = NULL, *kxml = NULL;

	if (!dom)
		return -1;
	if (!spec || !spec->dir || !spec->checkpoint)
		return error_set(err, HF_ERR_INTERNAL,
				 "DR copy of guest '%s': no target or "
				 "checkpoint given",
				 guest);
	if (virDomainIsActive(dom) != 1)
		return error_set(err, HF_ERR_UNSUPPORTED,
				 "DR copy of guest '%s' on host %s: the guest is not running, and "
				 "copies of shut-off guests are not done yet; start it first",
				 guest, c->base.uri);
	g_autofree char *xml = virDomainGetXMLDesc(dom, 0);
	g_autofree char *ixml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
	if (!xml || !ixml)
		return lv_error(err, c, guest, NULL, "cannot read");
	g_autofree char *what = g_strdup_printf("guest '%s' on host %s", guest, c->base.uri);
	g_autoptr(DrvGuest) g = drv_guest_new();
	if (lv_xml_guest_parse(xml, what, g, err) < 0)
		return -1;
	g_autoptr(DrvBackupResult) res = g_new0(DrvBackupResult, 1);
	res->disks = g_ptr_array_new_with_free_func((GDestroyNotify)drv_backup_disk_free);
	res->domain_xml = g_steal_pointer(&ixml);
	if (build_xml(c, guest, g, spec, res, &bxml, &kxml, err) < 0)
		return -1;
	for (guint i = 0; i < res->disks->len; i++) {
		DrvBackupDisk *d = res->disks->pdata[i];
		virDomainBlockInfo bi;
		if (virDomainGetBlockInfo(dom, d->target, &bi, 0) == 0)
			d->capacity = bi.capacity;
		virResetLastError();
	}
	if (progress)
		progress(opaque, 0,
			 spec->incremental ? "starting an incremental copy"
					   : "starting a full copy");
	if (begin_quiesced(c, dom, guest, spec, bxml, kxml, res, err) < 0) {
		drop_checkpoint(dom, spec->checkpoint);
		return -1;
	}
	if (wait_job(c, dom, guest, spec, progress, opaque, res, err) < 0) {
		drop_checkpoint(dom, spec->checkpoint);
		return -1;
	}
	*out = g_steal_pointer(&res);
	return 0;
}

int lv_checkpoint_list(DrvConn *dc, const char *guest, unsigned flags, char ***out, HfError *err)
{
	LvConn *c = lv_conn(dc);
	g_autoptr(virDomain) dom = lv_domain(c, guest, err);
	virDomainCheckpointPtr *cks = NULL;

	if (!dom)
		return -1;
	int n = virDomainListAllCheckpoints(dom, &cks, VIR_DOMAIN_CHECKPOINT_LIST_TOPOLOGICAL);
	if (n < 0)
		return lv_error(err, c, guest, NULL, "cannot list the checkpoints of");
	GStrvBuilder *b = g_strv_builder_new();
	for (int i = 0; i < n; i++) {
		g_strv_builder_add(b, virDomainCheckpointGetName(cks[i]));
		virDomainCheckpointFree(cks[i]);
	}
	free(cks);
	*out = g_strv_builder_end(b);
	g_strv_builder_unref(b);
	return 0;
}

int lv_checkpoint_delete(DrvConn *dc, const char *guest, const char *name, unsigned flags,
			 HfError *err)
{
	LvConn *c = lv_conn(dc);
	g_autoptr(virDomain) dom = lv_domain(c, guest, err);
	if (!dom)
		return -1;
	g_autoptr(virDomainCheckpoint) ck = virDomainCheckpointLookupByName(dom, name, 0);
	if (!ck || virDomainCheckpointDelete(ck, 0) < 0) {
		g_autofree char *act = g_strdup_printf("cannot delete checkpoint '%s' of", name);
		return lv_error(err, c, guest, NULL, act);
	}
	return 0;
}
