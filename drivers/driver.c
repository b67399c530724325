/* driver.c - dispatch through the driver vtable; plain-struct helpers. */
#include "driver.h"

#include <string.h>

static int unsupported(DrvConn *c, const char *op, HfError *err)
{
	return error_set(err, HF_ERR_UNSUPPORTED, "%s is not supported by the %s backend (%s)", op,
			 c->drv->name, c->uri);
}

#define CALL(c, op, desc, ...)                                                                     \
	((c)->drv->op ? (c)->drv->op(c, __VA_ARGS__) : unsupported(c, desc, err))

const char *drv_state_name(DrvGuestState s)
{
	static const char *const n[] = {"unknown", "running",     "blocked", "paused", "shutdown",
					"shutoff", "crashed", "pmsuspended", "saved"};
	return (unsigned)s < G_N_ELEMENTS(n) ? n[s] : "unknown";
}

const DrvDriver *drv_for_uri(const char *uri)
{
	for (size_t i = 0; drv_all[i]; i++)
		if (drv_all[i]->probe(uri))
			return drv_all[i];
	return NULL;
}

int drv_open(const char *uri, GHashTable *options, const DrvCallbacks *cb, unsigned flags,
	     DrvConn **out, HfError *err)
{
	const DrvDriver *d = drv_for_uri(uri);
	if (!d)
		return error_set(err, HF_ERR_CONFIG, "no driver accepts URI '%s'", uri);
	return d->open(uri, options, cb, flags, out, err);
}

void drv_close(DrvConn *c)
{
	if (c)
		c->drv->close(c);
}

bool drv_alive(DrvConn *c)
{
	return c && (!c->drv->alive || c->drv->alive(c));
}

int drv_guest_list(DrvConn *c, unsigned flags, GPtrArray **out, HfError *err)
{
	return CALL(c, guest_list, "listing guests", flags, out, err);
}

int drv_guest_get(DrvConn *c, const char *guest, unsigned flags, DrvGuest **out, HfError *err)
{
	return CALL(c, guest_get, "guest lookup", guest, flags, out, err);
}

int drv_snapshot_list(DrvConn *c, const char *guest, unsigned flags, GPtrArray **out,
		      HfError *err)
{
	return CALL(c, snapshot_list, "listing snapshots", guest, flags, out, err);
}

int drv_snapshot_create(DrvConn *c, const char *guest, const DrvSnapshotSpec *spec,
			unsigned flags, DrvSnapshot **out, HfError *err)
{
	return CALL(c, snapshot_create, "creating snapshots", guest, spec, flags, out, err);
}

int drv_snapshot_revert(DrvConn *c, const char *guest, const char *snap, unsigned flags,
			HfError *err)
{
	return CALL(c, snapshot_revert, "reverting snapshots", guest, snap, flags, err);
}

int drv_snapshot_delete(DrvConn *c, const char *guest, const char *snap, unsigned flags,
			HfError *err)
{
	return CALL(c, snapshot_delete, "deleting snapshots", guest, snap, flags, err);
}

int drv_fs_freeze(DrvConn *c, const char *guest, int timeout_s, unsigned flags, int *frozen,
		  HfError *err)
{
	return CALL(c, fs_freeze, "freezing guest filesystems", guest, timeout_s, flags, frozen,
		    err);
}

int drv_fs_thaw(DrvConn *c, const char *guest, int timeout_s, unsigned flags, int *thawed,
		HfError *err)
{
	return CALL(c, fs_thaw, "thawing guest filesystems", guest, timeout_s, flags, thawed, err);
}

int drv_agent_command(DrvConn *c, const char *guest, const char *cmd, int timeout_s,
		      unsigned flags, char **reply, HfError *err)
{
	return CALL(c, agent_command, "guest agent commands", guest, cmd, timeout_s, flags, reply,
		    err);
}

int drv_guest_kvp(DrvConn *c, const char *guest, unsigned flags, GHashTable **items,
		  HfError *err)
{
	return CALL(c, guest_kvp, "guest KVP data", guest, flags, items, err);
}

int drv_export_full(DrvConn *c, const char *guest, DrvExportSpec *spec, unsigned flags,
		    HfError *err)
{
	return CALL(c, export_full, "full DR copies (export)", guest, spec, flags, err);
}

int drv_backup_push(DrvConn *c, const char *guest, const DrvBackupSpec *spec,
		    DrvProgressFn progress, void *opaque, unsigned flags, DrvBackupResult **out,
		    HfError *err)
{
	return CALL(c, backup_push, "backups with checkpoints", guest, spec, progress, opaque,
		    flags, out, err);
}

int drv_checkpoint_list(DrvConn *c, const char *guest, unsigned flags, char ***out, HfError *err)
{
	return CALL(c, checkpoint_list, "checkpoints", guest, flags, out, err);
}

int drv_checkpoint_delete(DrvConn *c, const char *guest, const char *name, unsigned flags,
			  HfError *err)
{
	return CALL(c, checkpoint_delete, "checkpoints", guest, name, flags, err);
}

int drv_checkpoint_check(DrvConn *c, const char *guest, const char *name, unsigned flags,
			 char **why, HfError *err)
{
	return CALL(c, checkpoint_check, "checkpoints", guest, name, flags, why, err);
}

int drv_backup_job_targets(DrvConn *c, const char *guest, unsigned flags, char ***targets,
			   HfError *err)
{
	return CALL(c, backup_job_targets, "backup jobs", guest, flags, targets, err);
}

int drv_backup_pull(DrvConn *c, const char *guest, const DrvBackupSpec *spec,
		    const DrvPullSpec *pull, unsigned flags, DrvBackupResult **out, HfError *err)
{
	return CALL(c, backup_pull, "pull-mode backups (NBD)", guest, spec, pull, flags, out,
		    err);
}

int drv_backup_abort(DrvConn *c, const char *guest, unsigned flags, HfError *err)
{
	return CALL(c, backup_abort, "backup jobs", guest, flags, err);
}

int drv_domain_define(DrvConn *c, const char *xml, unsigned flags, HfError *err)
{
	return CALL(c, domain_define, "defining guests", xml, flags, err);
}

int drv_domain_start(DrvConn *c, const char *guest, unsigned flags, HfError *err)
{
	return CALL(c, domain_start, "starting guests", guest, flags, err);
}

int drv_domain_destroy(DrvConn *c, const char *guest, unsigned flags, HfError *err)
{
	return CALL(c, domain_destroy, "powering guests off", guest, flags, err);
}

int drv_domain_undefine(DrvConn *c, const char *guest, unsigned flags, HfError *err)
{
	return CALL(c, domain_undefine, "removing guests", guest, flags, err);
}

int drv_domain_shutdown(DrvConn *c, const char *guest, int timeout_s, unsigned flags,
			HfError *err)
{
	return CALL(c, domain_shutdown, "shutting guests down", guest, timeout_s, flags, err);
}

int drv_domain_rename(DrvConn *c, const char *guest, const char *new_name, unsigned flags,
		      HfError *err)
{
	return CALL(c, domain_rename, "renaming guests", guest, new_name, flags, err);
}

int drv_domain_autostart(DrvConn *c, const char *guest, int on, unsigned flags, bool *was,
			 HfError *err)
{
	return CALL(c, domain_autostart, "autostart", guest, on, flags, was, err);
}

int drv_metadata_get(DrvConn *c, const char *guest, const char *uri, unsigned flags, char **xml,
		     HfError *err)
{
	return CALL(c, metadata_get, "guest metadata", guest, uri, flags, xml, err);
}

int drv_metadata_set(DrvConn *c, const char *guest, const char *uri, const char *key,
		     const char *xml, unsigned flags, HfError *err)
{
	return CALL(c, metadata_set, "guest metadata", guest, uri, key, xml, flags, err);
}

void drv_backup_disk_free(DrvBackupDisk *d)
{
	if (!d)
		return;
	g_free(d->target);
	g_free(d->file);
	g_free(d->source);
	g_free(d->export_name);
	g_free(d->bitmap);
	g_free(d->sha256);
	g_free(d);
}

void drv_backup_result_free(DrvBackupResult *r)
{
	if (!r)
		return;
	if (r->disks)
		g_ptr_array_unref(r->disks);
	g_free(r->domain_xml);
	g_free(r->consistency);
	g_free(r->consistency_reason);
	g_free(r->full_reason);
	if (r->skipped)
		g_ptr_array_unref(r->skipped);
	g_free(r);
}

DrvDisk *drv_disk_new(void)
{
	return g_new0(DrvDisk, 1);
}

void drv_disk_free(DrvDisk *d)
{
	if (!d)
		return;
	g_free(d->target);
	g_free(d->device);
	g_free(d->path);
	g_free(d->format);
	g_free(d);
}

DrvGuest *drv_guest_new(void)
{
	DrvGuest *g = g_new0(DrvGuest, 1);
	g->disks = g_ptr_array_new_with_free_func((GDestroyNotify)drv_disk_free);
	return g;
}

void drv_guest_free(DrvGuest *g)
{
	if (!g)
		return;
	g_free(g->name);
	g_free(g->uuid);
	g_free(g->title);
	g_free(g->description);
	g_free(g->os_id);
	g_free(g->os_source);
	g_free(g->nvram);
	g_strfreev(g->tags);
	g_ptr_array_unref(g->disks);
	g_free(g);
}

DrvGuest *drv_guest_copy(const DrvGuest *g)
{
	DrvGuest *c = drv_guest_new();
	c->name = g_strdup(g->name);
	c->uuid = g_strdup(g->uuid);
	c->title = g_strdup(g->title);
	c->description = g_strdup(g->description);
	c->state = g->state;
	c->vcpus = g->vcpus;
	c->memory_kib = g->memory_kib;
	c->os_id = g_strdup(g->os_id);
	c->os_source = g_strdup(g->os_source);
	c->nvram = g_strdup(g->nvram);
	c->win2008 = g->win2008;
	c->tags = g_strdupv(g->tags);
	c->persistent = g->persistent;
	for (guint i = 0; i < g->disks->len; i++) {
		const DrvDisk *d = g->disks->pdata[i];
		DrvDisk *n = drv_disk_new();
		n->target = g_strdup(d->target);
		n->device = g_strdup(d->device);
		n->path = g_strdup(d->path);
		n->format = g_strdup(d->format);
		n->capacity = d->capacity;
		n->allocation = d->allocation;
		g_ptr_array_add(c->disks, n);
	}
	return c;
}

DrvSnapshot *drv_snapshot_new(void)
{
	return g_new0(DrvSnapshot, 1);
}

void drv_snapshot_free(DrvSnapshot *s)
{
	if (!s)
		return;
	g_free(s->name);
	g_free(s->description);
	g_free(s->parent);
	g_free(s->state);
	g_free(s->consistency);
	g_free(s->consistency_reason);
	g_free(s);
}

bool drv_os_is_win2008(const char *id)
{
	static const char *const ids[] = {"http://microsoft.com/win/2k8",
					  "http://microsoft.com/win/2k8r2", "win2k8", "win2k8r2"};
	for (size_t i = 0; id && i < G_N_ELEMENTS(ids); i++)
		if (!strcmp(id, ids[i]))
			return true;
	return false;
}

bool drv_uri_local(const char *uri)
{
	g_autoptr(GUri) u = uri ? g_uri_parse(uri, G_URI_FLAGS_NONE, NULL) : NULL;
	const char *host = u ? g_uri_get_host(u) : NULL;
	return !host || !*host;
}
