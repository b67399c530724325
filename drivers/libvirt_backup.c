/* libvirt_backup.c - the libvirt driver's push-mode backups and checkpoints (DR copies).
 *
 * One copy = one virDomainBackupBegin in push mode with a new checkpoint: every qcow2 disk of
 * the running guest goes to DIR/TARGET.qcow2, in full or (incremental) only the clusters dirty
 * since a named checkpoint. libvirt 9.0 refuses a quiesced checkpoint, so quiescing is an agent
 * fs-freeze right before backup-begin and a thaw right after it returns (the block job has its
 * point in time by then; the frozen window measured 0.17 s in the lab). The thaw always runs.
 * Completion is polled from the domain's job stats, which also give the progress. */
#include "libvirt_priv.h"

#include "drckpt.h"

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include <inttypes.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#define POLL_US (100 * 1000)

G_DEFINE_AUTOPTR_CLEANUP_FUNC(virDomainCheckpoint, virDomainCheckpointFree)

/* The backup and checkpoint XML for the guest's disks; qcow2 disks only (bitmaps). */
/* Why a disk of the guest is not copied, or NULL when it is. */
static const char *skip_reason(const DrvDisk *d)
{
	if (!strcmp(d->device, "cdrom") || !strcmp(d->device, "floppy"))
		return "removable media, not copied";
	if (!strcmp(d->device, "lun"))
		return "SCSI passthrough LUN: QEMU cannot take a point-in-time copy of it; protect "
		       "it at the storage side (a restore lacks it)";
	if (strcmp(d->device, "disk"))
		return "not a disk, not copied";
	if (!d->path)
		return "no source, nothing to copy";
	return NULL;
}

int lv_backup_pick_disks(LvConn *c, virDomainPtr dom, const char *guest, const DrvGuest *g,
			 const DrvBackupSpec *spec, DrvBackupResult *res, GPtrArray *skip,
			 HfError *err)
{
	if (!res->skipped)
		res->skipped = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < g->disks->len; i++) {
		const DrvDisk *d = g->disks->pdata[i];
		const char *why = skip_reason(d);
		if (why) {
			g_ptr_array_add(skip, g_markup_escape_text(d->target, -1));
			g_ptr_array_add(res->skipped,
					g_strdup_printf("%s (%s%s%s): %s", d->target, d->device,
							d->path ? " " : "", d->path ? d->path : "",
							why));
			continue;
		}
		if (g_strcmp0(d->format, "qcow2"))
			return error_set(err, HF_ERR_UNSUPPORTED,
					 "cannot copy disk '%s' (%s) of guest '%s' on host %s: it "
					 "is %s, and DR copies need qcow2 images (dirty bitmaps); "
					 "convert it with qemu-img convert -O qcow2",
					 d->target, d->path, guest, c->base.uri,
					 d->format ? d->format : "of unknown format");
		bool full = !spec->incremental ||
			    (spec->full_disks &&
			     g_strv_contains((const char *const *)spec->full_disks, d->target));
		DrvBackupDisk *bd = g_new0(DrvBackupDisk, 1);
		bd->target = g_strdup(d->target);
		bd->file = g_strdup_printf("%s/%s.qcow2", spec->dir, d->target);
		bd->source = g_strdup(d->path);
		bd->export_name = g_strdup(d->target);
		bd->bitmap = full ? NULL : g_strdup_printf("backup-%s", d->target);
		virDomainBlockInfo bi;
		if (dom && virDomainGetBlockInfo(dom, d->target, &bi, 0) == 0)
			bd->capacity = bi.capacity;
		virResetLastError();
		g_ptr_array_add(res->disks, bd);
	}
	if (res->disks->len)
		return 0;
	return error_set(err, HF_ERR_UNSUPPORTED, "guest '%s' on host %s has no disk image to copy",
			 guest, c->base.uri);
}

char *lv_checkpoint_text(const DrvBackupSpec *spec, const DrvBackupResult *res, GPtrArray *skip)
{
	g_autofree char *ck = g_markup_escape_text(spec->checkpoint, -1);
	GString *k = g_string_new(NULL);
	g_string_append_printf(k, "<domaincheckpoint>\n  <name>%s</name>\n  <disks>\n", ck);
	for (guint i = 0; i < res->disks->len + skip->len; i++) {
		bool on = i < res->disks->len;
		g_autofree char *t =
		    g_markup_escape_text(on ? ((DrvBackupDisk *)res->disks->pdata[i])->target
					    : (const char *)skip->pdata[i - res->disks->len],
					 -1);
		g_string_append_printf(k, "    <disk name='%s' checkpoint='%s'/>\n", t,
				       on ? "bitmap" : "no");
	}
	g_string_append(k, "  </disks>\n</domaincheckpoint>\n");
	return g_string_free(k, FALSE);
}

/* <domainbackup mode='push'>: per disk its target file in the point's directory. */
static int build_xml(LvConn *c, virDomainPtr dom, const char *guest, const DrvGuest *g,
		     const DrvBackupSpec *spec, DrvBackupResult *res, char **backup_xml,
		     char **ck_xml, HfError *err)
{
	g_autoptr(GPtrArray) skip = g_ptr_array_new_with_free_func(g_free);
	if (lv_backup_pick_disks(c, dom, guest, g, spec, res, skip, err) < 0)
		return -1;
	g_autoptr(GString) b = g_string_new("<domainbackup mode='push'>\n");
	if (spec->incremental) {
		g_autofree char *inc = g_markup_escape_text(spec->incremental, -1);
		g_string_append_printf(b, "  <incremental>%s</incremental>\n", inc);
	}
	g_string_append(b, "  <disks>\n");
	for (guint i = 0; i < res->disks->len; i++) {
		const DrvBackupDisk *d = res->disks->pdata[i];
		g_autofree char *t = g_markup_escape_text(d->target, -1);
		g_autofree char *f = g_markup_escape_text(d->file, -1);
		/* per disk (libvirt >= 7.6): a disk added or resized since the checkpoint in full */
		g_string_append_printf(b,
				       "    <disk name='%s' backup='yes' type='file'%s><target "
				       "file='%s'/><driver type='qcow2'/></disk>\n",
				       t, !d->bitmap && spec->incremental ? " backupmode='full'" : "",
				       f);
	}
	for (guint i = 0; i < skip->len; i++)
		g_string_append_printf(b, "    <disk name='%s' backup='no'/>\n",
				       (const char *)skip->pdata[i]);
	g_string_append(b, "  </disks>\n</domainbackup>\n");
	*backup_xml = g_string_free(g_steal_pointer(&b), FALSE);
	*ck_xml = lv_checkpoint_text(spec, res, skip);
	return 0;
}

/* Freeze (when asked), begin the backup, thaw. Fills the result's consistency. */
int lv_backup_begin_quiesced(LvConn *c, virDomainPtr dom, const char *guest,
			     const DrvBackupSpec *spec, const char *bxml, const char *kxml,
			     DrvBackupResult *res, HfError *err)
{
	HfError ferr = {0};
	int n = 0;
	bool frozen = false;
	gint64 t0 = 0;

	if (!spec->quiesce) {
		if (!res->consistency) { /* else decided by the guest's state (shut off, paused) */
			res->consistency = g_strdup("crash");
			res->consistency_reason = g_strdup("quiesce not requested");
		}
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
		/* a failed thaw can mean the freeze did not hold (Windows VSS lets writes go
		 * after ~10 s and then reports it at the thaw): the copy is not trusted beyond
		 * crash consistency */
		if (t0 && terr.code[0]) {
			res->consistency = g_strdup("crash");
			res->consistency_reason =
			    g_strdup_printf("%d filesystem(s) frozen through the guest agent for "
					    "%.2f s, but the thaw "
					    "failed, so the freeze may not have held: %s",
					    n, res->frozen_s, terr.message);
		} else if (t0) {
			res->consistency = g_strdup("filesystem");
			res->consistency_reason = g_strdup_printf(
			    "%d filesystem(s) frozen through the guest agent for %.2f s", n,
			    res->frozen_s);
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

/* A backup job reports its bytes as disk_processed/disk_total (libvirt 9.0: data_* stay 0). */
static uint64_t job_bytes(virTypedParameterPtr p, int n, bool total)
{
	uint64_t v =
	    stat_u64(p, n, total ? VIR_DOMAIN_JOB_DISK_TOTAL : VIR_DOMAIN_JOB_DISK_PROCESSED);
	return v ? v
		 : stat_u64(p, n,
			    total ? VIR_DOMAIN_JOB_DATA_TOTAL : VIR_DOMAIN_JOB_DATA_PROCESSED);
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
		if (virDomainGetJobStats(dom, &type, &p, &np, 0) < 0) {
			lv_error(err, c, guest, NULL, "cannot follow the DR copy of");
			/* the .partial is about to go: never leave QEMU writing into it unwatched
			 */
			if (virDomainAbortJob(dom) < 0)
				virResetLastError();
			return -1;
		}
		uint64_t done = job_bytes(p, np, false);
		uint64_t total = job_bytes(p, np, true);
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
	res->processed = job_bytes(p, np, false);
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

/* libvirt's shut-off reason, and whether it means the guest shut down by itself. */
static const char *shutoff_reason(int reason, bool *clean)
{
	static const char *const names[] = {
	    [VIR_DOMAIN_SHUTOFF_UNKNOWN] = "unknown",
	    [VIR_DOMAIN_SHUTOFF_SHUTDOWN] = "shutdown",
	    [VIR_DOMAIN_SHUTOFF_DESTROYED] = "destroyed",
	    [VIR_DOMAIN_SHUTOFF_CRASHED] = "crashed",
	    [VIR_DOMAIN_SHUTOFF_MIGRATED] = "migrated",
	    [VIR_DOMAIN_SHUTOFF_SAVED] = "saved",
	    [VIR_DOMAIN_SHUTOFF_FAILED] = "failed",
	    [VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT] = "from-snapshot",
	    [VIR_DOMAIN_SHUTOFF_DAEMON] = "daemon",
	};
	*clean = reason == VIR_DOMAIN_SHUTOFF_SHUTDOWN;
	return reason >= 0 && reason < (int)G_N_ELEMENTS(names) && names[reason] ? names[reason]
										 : "unknown";
}

/* A live-only mark on a shut-off guest that a copy started paused: it goes when the guest
 * stops, so a guest that still has it was left paused by a copy, running or dead. The mark
 * names the holdfastd process (owner = "BOOT-ID PID START-TIME"): only a copy whose process is
 * gone from this machine's current boot is known dead; a mark of another machine (or of an
 * earlier boot: a remote hypervisor) may be another holdfastd's running copy. */
#define LV_NS_DRCOPY "https://holdfast.dev/xmlns/drcopy/1"

typedef enum { MARK_NONE, MARK_DEAD, MARK_LIVE, MARK_ELSEWHERE } PausedMark;

/* /proc/PID/stat's start time (field 22), 0 when the process is gone. */
static guint64 proc_start(long pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%ld/stat", pid);
	g_autofree char *st = NULL;
	const char *p = g_file_get_contents(path, &st, NULL, NULL) ? strrchr(st, ')') : NULL;
	g_auto(GStrv) f = p && p[1] ? g_strsplit(p + 2, " ", 0) : NULL;
	return f && g_strv_length(f) > 19 ? g_ascii_strtoull(f[19], NULL, 10) : 0;
}

static char *boot_id(void)
{
	g_autofree char *b = NULL;
	if (!g_file_get_contents("/proc/sys/kernel/random/boot_id", &b, NULL, NULL))
		return g_strdup("unknown-boot");
	return g_strdup(g_strstrip(b));
}

static PausedMark paused_mark(virDomainPtr dom, char **owner)
{
	char *m = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, LV_NS_DRCOPY,
				       VIR_DOMAIN_AFFECT_LIVE);
	virResetLastError();
	if (!m)
		return MARK_NONE;
	g_autoptr(xmlDoc) doc = xmlReadMemory(m, (int)strlen(m), NULL, NULL,
					      XML_PARSE_NONET | XML_PARSE_NOERROR |
						  XML_PARSE_NOWARNING);
	free(m);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	xmlChar *o = root ? xmlGetProp(root, BAD_CAST "owner") : NULL;
	if (!o) /* a mark of a holdfastd before owners were recorded */
		return MARK_DEAD;
	*owner = g_strdup((const char *)o);
	xmlFree(o);
	char boot[64] = "";
	long pid = 0;
	guint64 start = 0;
	g_autofree char *mine = boot_id();
	if (sscanf(*owner, "%63s %ld %" G_GUINT64_FORMAT, boot, &pid, &start) != 3 ||
	    strcmp(boot, mine))
		return MARK_ELSEWHERE;
	return start && proc_start(pid) == start ? MARK_LIVE : MARK_DEAD;
}

/* A paused guest a copy started paused: powered off when that copy is known dead; else the
 * error says whose copy holds it. 0: nothing to do (no mark) or powered off. */
static int off_if_dead(LvConn *c, virDomainPtr dom, const char *guest, HfError *err)
{
	g_autofree char *owner = NULL;
	PausedMark mk = paused_mark(dom, &owner);
	if (mk == MARK_NONE)
		return 0;
	if (mk == MARK_DEAD)
		return virDomainDestroy(dom) < 0
			   ? lv_error(err, c, guest, NULL,
				      "cannot power off again (left paused by a DR copy that died)")
			   : 0;
	return error_set(err, HF_ERR_CONFLICT,
			 "guest '%s' on host %s was started paused by a DR copy that %s (holdfastd "
			 "%s); it is left alone: try again when that copy is done, or power the "
			 "guest off (virsh destroy %s) if no holdfastd copies it any more",
			 guest, c->base.uri,
			 mk == MARK_LIVE ? "still runs in this machine's holdfastd"
					 : "another holdfastd (or one before a reboot) made",
			 owner, guest);
}

/* A shut-off guest: started paused (no guest code runs) for the copy; its consistency is
 * decided by how it went off. */
static int start_paused(LvConn *c, virDomainPtr dom, const char *guest, int reason,
			DrvBackupResult *res, HfError *err)
{
	bool clean = false;
	const char *why = shutoff_reason(reason, &clean);
	if (virDomainCreateWithFlags(dom, VIR_DOMAIN_START_PAUSED) < 0) {
		g_autofree char *act = g_strdup_printf(
		    "guest is shut off; the DR copy starts it paused (no guest code runs) to read "
		    "its disks, and that failed: cannot start");
		return lv_error(err, c, guest, NULL, act);
	}
	res->started_paused = true;
	g_autofree char *boot = boot_id();
	g_autofree char *mark =
	    g_strdup_printf("<started-paused owner='%s %ld %" G_GUINT64_FORMAT "'/>", boot,
			    (long)getpid(), proc_start((long)getpid()));
	if (virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, mark, "hfdrcopy", LV_NS_DRCOPY,
				 VIR_DOMAIN_AFFECT_LIVE) < 0)
		virResetLastError(); /* only the recovery after a crash misses it */
	res->consistency = g_strdup(clean ? "application" : "crash");
	res->consistency_reason =
	    clean ? g_strdup_printf("shut down cleanly (libvirt's shut-off reason: %s); copied "
				    "shut off, started paused without running guest code",
				    why)
		  : g_strdup_printf("shut off without a clean shutdown (libvirt's shut-off "
				    "reason: %s); copied started paused without running guest code",
				    why);
	return 0;
}

static int push(LvConn *c, virDomainPtr dom, const char *guest, const DrvBackupSpec *spec,
		DrvProgressFn progress, void *opaque, const char *bxml, const char *kxml,
		DrvBackupResult *res, HfError *err)
{
	if (progress)
		progress(opaque, 0,
			 spec->incremental ? "starting an incremental copy"
					   : "starting a full copy");
	if (lv_backup_begin_quiesced(c, dom, guest, spec, bxml, kxml, res, err) < 0) {
		drop_checkpoint(dom, spec->checkpoint);
		return -1;
	}
	if (wait_job(c, dom, guest, spec, progress, opaque, res, err) < 0) {
		drop_checkpoint(dom, spec->checkpoint);
		return -1;
	}
	return 0;
}

static int backup_run(LvConn *c, virDomainPtr dom, const char *guest, const DrvBackupSpec *spec,
		      DrvProgressFn progress, void *opaque, DrvBackupResult *res, HfError *err)
{
	g_autofree char *bxml = NULL, *kxml = NULL;
	g_autofree char *xml = virDomainGetXMLDesc(dom, 0);
	if (!xml)
		return lv_error(err, c, guest, NULL, "cannot read");
	g_autofree char *what = g_strdup_printf("guest '%s' on host %s", guest, c->base.uri);
	g_autoptr(DrvGuest) g = drv_guest_new();
	if (lv_xml_guest_parse(xml, what, g, err) < 0 ||
	    build_xml(c, dom, guest, g, spec, res, &bxml, &kxml, err) < 0)
		return -1;
	if (push(c, dom, guest, spec, progress, opaque, bxml, kxml, res, err) == 0)
		return 0;
	/* libvirt's VIR_ERR_CHECKPOINT_INCONSISTENT text */
	if (!spec->incremental || !strstr(err->message, "checkpoint inconsistent"))
		return -1;
	/* the bitmap of the checkpoint is missing or broken (unclean stop of QEMU): a full */
	res->full_reason =
	    g_strdup_printf("checkpoint '%s' is unusable: %s", spec->incremental, err->message);
	error_clear(err);
	DrvBackupSpec full = *spec;
	full.incremental = NULL;
	g_ptr_array_set_size(res->disks, 0);
	g_ptr_array_set_size(res->skipped, 0);
	g_clear_pointer(&bxml, g_free);
	g_clear_pointer(&kxml, g_free);
	if (spec->quiesce) { /* decided again by the second freeze */
		g_free(res->consistency);
		g_free(res->consistency_reason);
		res->consistency = res->consistency_reason = NULL;
	}
	if (build_xml(c, dom, guest, g, &full, res, &bxml, &kxml, err) < 0)
		return -1;
	return push(c, dom, guest, &full, progress, opaque, bxml, kxml, res, err);
}

/* The guest's state before a copy, push or pull: one a copy that died left paused is powered
 * off first; a shut-off one is started paused (start_paused: no guest code runs, consistency
 * from its shut-off reason); a paused one is copied without a freeze (its agent cannot answer).
 * *sp: spec with quiesce as it can be done; *out: the result begun (the guest's definition),
 * its started_paused says to power the guest off again. */
int lv_backup_prepare(LvConn *c, virDomainPtr dom, const char *guest, const DrvBackupSpec *spec,
		      DrvBackupSpec *sp, DrvBackupResult **out, HfError *err)
{
	int state = 0, reason = 0;
	if (!spec || !spec->dir || !spec->checkpoint)
		return error_set(err, HF_ERR_INTERNAL,
				 "DR copy of guest '%s': no target or checkpoint given", guest);
	g_autoptr(DrvBackupResult) res = g_new0(DrvBackupResult, 1);
	res->disks = g_ptr_array_new_with_free_func((GDestroyNotify)drv_backup_disk_free);
	if (virDomainGetState(dom, &state, &reason, 0) < 0)
		return lv_error(err, c, guest, NULL, "cannot read the state of");
	/* left paused by a copy that died (it was shut off): off again; a running copy's: no */
	if (state == VIR_DOMAIN_PAUSED &&
	    (off_if_dead(c, dom, guest, err) < 0 || virDomainGetState(dom, &state, &reason, 0) < 0))
		return error_is_set(err) ? -1 : lv_error(err, c, guest, NULL, "cannot read the state of");
	res->domain_xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
	if (!res->domain_xml)
		return lv_error(err, c, guest, NULL, "cannot read");
	*sp = *spec;
	if (state == VIR_DOMAIN_SHUTOFF) {
		if (start_paused(c, dom, guest, reason, res, err) < 0)
			return -1;
		sp->quiesce = false; /* consistency from the shut-off reason (start_paused) */
	} else if (state == VIR_DOMAIN_PAUSED && spec->quiesce) {
		sp->quiesce = false; /* the agent cannot answer while the CPUs are stopped */
		res->consistency = g_strdup("crash");
		res->consistency_reason =
		    g_strdup("the guest is paused: its agent cannot freeze the filesystems");
	} else if (state != VIR_DOMAIN_RUNNING && state != VIR_DOMAIN_PAUSED) {
		return error_set(err, HF_ERR_FAILED,
				 "DR copy of guest '%s' on host %s: the guest is neither running, "
				 "paused nor shut off (libvirt state %d); copy it when it is",
				 guest, c->base.uri, state);
	}
	*out = g_steal_pointer(&res);
	return 0;
}

/* A guest the copy started paused, powered off again (after a failure, or when the caller
 * does not keep it paused); a failure to do so fails the copy (when rc == 0). */
int lv_backup_off_again(LvConn *c, virDomainPtr dom, const char *guest, int rc,
			const DrvBackupResult *res, HfError *err)
{
	if (!res->started_paused || virDomainDestroy(dom) == 0)
		return rc;
	HfError e = {0};
	lv_error(&e, c, guest, NULL, "cannot power off again (it was started paused for the DR copy)");
	if (rc == 0)
		error_set(err, e.code, "%s", e.message);
	return -1;
}

int lv_backup_push(DrvConn *dc, const char *guest, const DrvBackupSpec *spec,
		   DrvProgressFn progress, void *opaque, unsigned flags, DrvBackupResult **out,
		   HfError *err)
{
	LvConn *c = lv_conn(dc);
	g_autoptr(virDomain) dom = lv_domain(c, guest, err);

	g_autoptr(DrvBackupResult) res = NULL;
	DrvBackupSpec sp;
	if (!dom || lv_backup_prepare(c, dom, guest, spec, &sp, &res, err) < 0)
		return -1;
	int rc = backup_run(c, dom, guest, &sp, progress, opaque, res, err);
	if (rc < 0 || !spec->leave_paused)
		rc = lv_backup_off_again(c, dom, guest, rc, res, err);
	if (rc < 0)
		return -1;
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

/* Did the last libvirt error say the checkpoint's bitmap is not there? Only then may just the
 * metadata go (any other failure, e.g. a busy job, would leave the bitmap in the image). */
static bool bitmap_gone(void)
{
	const virError *e = virGetLastError();
	/* libvirt: "bitmap 'X' not found in backing chain of 'vda'", "missing or broken bitmap";
	 * QEMU: "Dirty bitmap 'X' not found"; "inconsistent" bitmaps likewise */
	return e && e->message && strstr(e->message, "itmap") &&
	       (strstr(e->message, "not found") || strstr(e->message, "missing") ||
		strstr(e->message, "broken") || strstr(e->message, "nconsistent"));
}

int lv_checkpoint_delete(DrvConn *dc, const char *guest, const char *name, unsigned flags,
			 HfError *err)
{
	LvConn *c = lv_conn(dc);
	g_autoptr(virDomain) dom = lv_domain(c, guest, err);
	if (!dom)
		return -1;
	g_autoptr(virDomainCheckpoint) ck = virDomainCheckpointLookupByName(dom, name, 0);
	unsigned how = flags & DRV_CHECKPOINT_DELETE_IMAGES_GONE
			   ? VIR_DOMAIN_CHECKPOINT_DELETE_METADATA_ONLY
			   : 0;
	if (ck && virDomainCheckpointDelete(ck, how) == 0)
		return 0;
	/* libvirt 9.0 deletes checkpoints (their bitmaps) of running guests only; dropping just
	 * the metadata of a shut-off guest would leave its bitmaps in the images */
	if (ck && virDomainIsActive(dom) == 0) {
		virResetLastError();
		return error_set(
		    err, HF_ERR_UNSUPPORTED,
		    "checkpoint '%s' of guest '%s' on host %s stays for now: the guest "
		    "is shut off, and libvirt deletes checkpoints of running guests only",
		    name, guest, c->base.uri);
	}
	/* "bitmap 'X' not found in backing chain of 'vda'": the bitmap went with an unclean stop
	 * of QEMU; only libvirt's record of it is left */
	if (ck && (flags & DRV_CHECKPOINT_DELETE_BROKEN) &&
	    virDomainCheckpointDelete(ck, VIR_DOMAIN_CHECKPOINT_DELETE_METADATA_ONLY) == 0)
		return 0;
	g_autofree char *act = g_strdup_printf("cannot delete checkpoint '%s' of", name);
	return lv_error(err, c, guest, NULL, act);
}

int lv_checkpoint_check(DrvConn *dc, const char *guest, const char *name, unsigned flags,
			char **why, HfError *err)
{
	LvConn *c = lv_conn(dc);
	g_autoptr(virDomain) dom = lv_domain(c, guest, err);
	if (!dom)
		return -1;
	if (virDomainIsActive(dom) != 1)
		return 1; /* libvirt validates bitmaps of a running guest only; backup_push retries
			   */
	g_autoptr(virDomainCheckpoint) ck = virDomainCheckpointLookupByName(dom, name, 0);
	g_autofree char *xml = ck ? virDomainCheckpointGetXMLDesc(ck, 0) : NULL;
	if (!xml) {
		g_autofree char *act = g_strdup_printf("cannot read checkpoint '%s' of", name);
		return lv_error(err, c, guest, NULL, act);
	}
	/* libvirt's own check: redefining a checkpoint with VALIDATE fails when a disk's bitmap
	 * is missing or inconsistent (after QEMU stopped without writing its bitmaps) */
	g_autoptr(virDomainCheckpoint) again = virDomainCheckpointCreateXML(
	    dom, xml,
	    VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE | VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE_VALIDATE);
	if (again)
		return 1;
	const virError *e = virGetLastError();
	if (e && e->code == VIR_ERR_CHECKPOINT_INCONSISTENT) {
		*why = g_strdup(e->message);
		virResetLastError();
		return 0;
	}
	g_autofree char *act = g_strdup_printf("cannot check checkpoint '%s' of", name);
	return lv_error(err, c, guest, NULL, act);
}

int lv_backup_job_targets(DrvConn *dc, const char *guest, unsigned flags, char ***targets,
			  HfError *err)
{
	LvConn *c = lv_conn(dc);
	g_autoptr(virDomain) dom = lv_domain(c, guest, err);
	*targets = NULL;
	if (!dom)
		return -1;
	g_autofree char *xml = virDomainBackupGetXMLDesc(dom, 0);
	if (!xml) {
		const virError *e = virGetLastError();
		if (e && (e->code == VIR_ERR_NO_DOMAIN_BACKUP ||
			  e->code == VIR_ERR_OPERATION_INVALID || e->code == VIR_ERR_NO_SUPPORT)) {
			virResetLastError();
			return 0; /* no backup job (or a driver without backups) */
		}
		return lv_error(err, c, guest, NULL, "cannot read the backup job of");
	}
	g_autoptr(xmlDoc) doc = xmlReadMemory(xml, (int)strlen(xml), "backup.xml", NULL,
					      XML_PARSE_NONET | XML_PARSE_NOERROR);
	g_autoptr(xmlXPathContext) ctx = doc ? xmlXPathNewContext(doc) : NULL;
	g_autoptr(xmlXPathObject) o =
	    ctx ? xmlXPathEvalExpression(BAD_CAST "//disk/target/@file | //disk/scratch/@file", ctx)
		: NULL;
	GStrvBuilder *b = g_strv_builder_new();
	for (int i = 0; o && o->nodesetval && i < o->nodesetval->nodeNr; i++) {
		xmlChar *v = xmlNodeGetContent(o->nodesetval->nodeTab[i]);
		if (v)
			g_strv_builder_add(b, (const char *)v);
		xmlFree(v);
	}
	*targets = g_strv_builder_end(b);
	g_strv_builder_unref(b);
	return 0;
}

int lv_backup_abort(DrvConn *dc, const char *guest, unsigned flags, HfError *err)
{
	LvConn *c = lv_conn(dc);
	g_autoptr(virDomain) dom = lv_domain(c, guest, err);
	if (!dom)
		return -1;
	virDomainJobInfo ji;
	bool job = !(flags & DRV_BACKUP_ABORT_MARKED_ONLY) && virDomainGetJobInfo(dom, &ji) == 0 &&
		   ji.type != VIR_DOMAIN_JOB_NONE;
	virResetLastError();
	if (job && virDomainAbortJob(dom) < 0)
		return lv_error(err, c, guest, NULL, "cannot abort the backup job of");
	for (int i = 0; job; i++) {
		if (i == 600) /* 60 s */
			return error_set(err, HF_ERR_TIMEOUT,
					 "the backup job of guest '%s' on host %s was aborted but "
					 "still runs after 60 s; check virsh domjobinfo %s",
					 guest, c->base.uri, guest);
		g_usleep(POLL_US);
		job = virDomainGetJobInfo(dom, &ji) == 0 && ji.type != VIR_DOMAIN_JOB_NONE;
		virResetLastError();
	}
	if (flags & DRV_BACKUP_ABORT_MARKED_ONLY)
		return off_if_dead(c, dom, guest, err);
	return 0;
}

/* QEMU 7.2 cannot apply an internal snapshot while the image holds persistent dirty bitmaps
 * ("Device has active dirty bitmaps": a running guest is left shut off, qemu-img snapshot -a
 * refuses), so a guest with DR checkpoints could not be reverted; and libvirt 9.0 refuses an
 * internal snapshot of a shut-off guest that has checkpoints ("cannot perform block operations
 * while checkpoint exists"). Before such a revert or snapshot (`what`: "revert to snapshot 'X'"),
 * drop holdfast's own DR checkpoints, of every store (drckpt.h; the next DR copy to each store
 * finds its checkpoint gone and takes a full, reported); checkpoints anyone else made are never
 * deleted: refuse, naming them. *dropped (may be NULL): how many were deleted. (Not the
 * daemon's drrecover_ck_drop: this one starts a shut-off guest paused, deletes children first
 * and stops at the first failure.) */
int lv_checkpoints_drop_for(LvConn *c, virDomainPtr dom, const char *guest, const char *what,
			    int *dropped, HfError *err)
{
	virDomainCheckpointPtr *cks = NULL;
	int n = virDomainListAllCheckpoints(dom, &cks, VIR_DOMAIN_CHECKPOINT_LIST_TOPOLOGICAL);
	if (n < 0)
		return lv_error(err, c, guest, NULL, "cannot list the checkpoints of");
	g_autoptr(GString) foreign = g_string_new(NULL);
	for (int i = 0; i < n; i++) {
		const char *name = virDomainCheckpointGetName(cks[i]);
		if (!drckpt_ours(name))
			g_string_append_printf(foreign, "%s%s", foreign->len ? ", " : "", name);
	}
	int rc = 0;
	/* libvirt deletes checkpoints of running guests only: a shut-off guest is started paused
	 * (no guest code runs) for it and powered off again */
	bool paused = false;
	if (n > 0 && !foreign->len && virDomainIsActive(dom) == 0) {
		if (virDomainCreateWithFlags(dom, VIR_DOMAIN_START_PAUSED) < 0)
			rc =
			    lv_error(err, c, guest, NULL,
				     "cannot start paused (to delete its DR checkpoints before the "
				     "snapshot operation)");
		paused = rc == 0;
	}
	if (foreign->len)
		rc = error_set(err, HF_ERR_CONFLICT,
			       "cannot %s of guest '%s' on host %s: the guest has checkpoints (%s) "
			       "that holdfast did not make, and QEMU/libvirt cannot do that while "
			       "they exist; delete them (virsh checkpoint-delete) and try again",
			       what, guest, c->base.uri, foreign->str);
	/* children first (the list is topological: parents first) */
	for (int i = n - 1; rc == 0 && i >= 0; i--) {
		if (virDomainCheckpointDelete(cks[i], 0) < 0 &&
		    (!bitmap_gone() ||
		     virDomainCheckpointDelete(cks[i], VIR_DOMAIN_CHECKPOINT_DELETE_METADATA_ONLY) <
			 0)) {
			g_autofree char *act =
			    g_strdup_printf("cannot delete DR checkpoint '%s' (needed to %s) of",
					    virDomainCheckpointGetName(cks[i]), what);
			rc = lv_error(err, c, guest, NULL, act);
		} else if (dropped) {
			(*dropped)++;
		}
	}
	if (paused && virDomainDestroy(dom) < 0 && rc == 0)
		rc = lv_error(
		    err, c, guest, NULL,
		    "cannot power off again (started paused to delete its DR checkpoints)");
	for (int i = 0; i < n; i++)
		virDomainCheckpointFree(cks[i]);
	free(cks);
	return rc;
}
