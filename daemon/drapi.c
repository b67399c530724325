/* drapi.c - DR copies of libvirt guests into a DR store; dr.list and dr.verify.
 *
 * A copy (a job): choose full or incremental (incremental when the guest's newest point has a
 * checkpoint libvirt still knows and the same disks; else a full, with the reason recorded),
 * create POINT.partial, push-mode backup with a new checkpoint hf-dr-POINT, rebase each
 * incremental image onto its parent's image (libvirt names the live disk as the backing file),
 * seal (SHA-256 of every file, fsync, manifest), verify (qemu-img check, checksums recomputed),
 * publish by rename, then drop the guest's older hf-dr-* checkpoints. Any failure discards the
 * partial directory and the new checkpoint, so the next copy is again an incremental of the
 * last published point. */
#include "jobcall.h"
#include "drapi.h"
#include "drmark.h"
#include "drnvram.h"

#include <string.h>

#include "daemon.h"
#include "drstore.h"
#include "drtest.h"
#include "log.h"
#include "policy.h" /* g_autoptr(cJSON) */

#define CK_PREFIX "hf-dr-"

/* The store a request names, or the first configured one. */
static const DrStore *store_for(Call *call, HfError *err)
{
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(call->params, "store"));
	GPtrArray *all = call->d->cfg->drstores;
	for (guint i = 0; i < all->len; i++) {
		const DrStore *s = all->pdata[i];
		if (!name || !strcmp(s->name, name))
			return s;
	}
	if (name)
		error_set(err, HF_ERR_NOT_FOUND,
			  "DR store '%s' is not in %s; add [drstore %s] "
			  "with path = DIR",
			  name, call->d->cfg->path, name);
	else
		error_set(err, HF_ERR_CONFIG,
			  "no DR store configured: add a [drstore NAME] section "
			  "with path = DIR to %s and reload",
			  call->d->cfg->path);
	return NULL;
}

const DrStore *drapi_store(Call *call, HfError *err)
{
	return store_for(call, err);
}

typedef struct {
	Host *host; /* referenced */
	char *root; /* the store's path */
	int agent_timeout;
} CopyCtx;

static void copy_ctx_free(void *p)
{
	CopyCtx *c = p;
	host_unref(c->host);
	g_free(c->root);
	g_free(c);
}

typedef struct {
	Job *job;
} Run;

static void on_progress(void *opaque, int pct, const char *msg)
{
	Run *r = opaque;
	job_progress(r->job, 5 + pct * 75 / 100, "%s", msg);
}

static bool on_cancelled(void *opaque)
{
	return job_cancelled(((Run *)opaque)->job);
}

/* Why the next copy must be full, or NULL when an incremental from `last` is possible. */
static char *full_reason(DrvConn *c, const DrvGuest *g, const cJSON *last, bool forced,
			 HfError *err)
{
	if (forced)
		return g_strdup("full copy requested (--full)");
	if (!last)
		return g_strdup("no earlier restore point of this guest in the store");
	const char *ck = cJSON_GetStringValue(cJSON_GetObjectItem(last, "checkpoint"));
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(last, "point"));
	g_auto(GStrv) cks = NULL;
	if (drv_checkpoint_list(c, g->name, 0, &cks, err) < 0)
		return NULL;
	if (!ck || !g_strv_contains((const char *const *)cks, ck))
		return g_strdup_printf("checkpoint '%s' of point %s is gone from the hypervisor "
				       "(deleted, or lost with a snapshot revert)",
				       ck ? ck : "?", id);
	/* the same qcow2 disks with the same sizes */
	const cJSON *d;
	guint n = 0;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(last, "disks"))
	{
		const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(d, "target"));
		double vs = cJSON_GetNumberValue(cJSON_GetObjectItem(d, "virtual_size"));
		bool found = false;
		for (guint i = 0; i < g->disks->len; i++) {
			const DrvDisk *x = g->disks->pdata[i];
			if (t && !strcmp(x->target, t) && !strcmp(x->device, "disk"))
				found = !x->capacity || (double)x->capacity == vs;
		}
		if (!found)
			return g_strdup_printf("disk %s was removed or resized since point %s",
					       t ? t : "?", id);
		n++;
	}
	guint now = 0;
	for (guint i = 0; i < g->disks->len; i++)
		now += !strcmp(((DrvDisk *)g->disks->pdata[i])->device, "disk");
	if (now != n)
		return g_strdup_printf("a disk was added since point %s", id);
	return NULL;
}

/* Rebase every incremental image onto the parent's image (relative, no data copied). */
static int rebase(const char *partial, const cJSON *m, const char *parent, HfError *err)
{
	const cJSON *d;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(m, "disks"))
	{
		const char *f = cJSON_GetStringValue(cJSON_GetObjectItem(d, "file"));
		g_autofree char *p = g_build_filename(partial, f, NULL);
		g_autofree char *back = g_strdup_printf("../%s/%s", parent, f);
		const char *argv[] = {"rebase", "-u", "-f", "qcow2", "-F",
				      "qcow2",	"-b", back, p,	     NULL};
		if (drstore_qemu_img(err, argv) < 0)
			return -1;
	}
	return 0;
}

/* Drop the guest's hf-dr-* checkpoints except `keep` (bitmaps cost guest write speed). */
static void prune_checkpoints(DrvConn *c, const char *guest, const char *keep, cJSON *res)
{
	g_auto(GStrv) cks = NULL;
	HfError e = {0};
	if (drv_checkpoint_list(c, guest, 0, &cks, &e) < 0) {
		cJSON_AddStringToObject(res, "warning", e.message);
		return;
	}
	for (char **k = cks; *k; k++) {
		if (!g_str_has_prefix(*k, CK_PREFIX) || !strcmp(*k, keep))
			continue;
		error_clear(&e);
		if (drv_checkpoint_delete(c, guest, *k, 0, &e) < 0)
			cJSON_AddStringToObject(res, "warning", e.message);
	}
}

static int copy_stored(const cJSON *m, double *stored)
{
	const cJSON *d;
	*stored = 0;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(m, "disks")) *stored +=
	    cJSON_GetNumberValue(cJSON_GetObjectItem(d, "stored_size"));
	return 0;
}

/* The copy after the backup: rebase, manifest, seal, verify, publish. */
static int finish_point(Job *job, const char *gdir, const char *partial, DrPointInfo *info,
			const DrvBackupResult *br, cJSON **out, HfError *err)
{
	g_autoptr(cJSON) m = drstore_manifest_new(info);
	for (guint i = 0; i < br->disks->len; i++) {
		const DrvBackupDisk *d = br->disks->pdata[i];
		g_autofree char *f = g_path_get_basename(d->file);
		drstore_manifest_add_disk(m, d->target, f, d->source, d->capacity);
	}
	if (info->parent) {
		job_progress(job, 82, "rebasing onto point %s", info->parent);
		if (rebase(partial, m, info->parent, err) < 0)
			return -1;
	}
	job_progress(job, 85, "checksums (SHA-256) and fsync");
	if (drnvram_capture(partial, m, err) < 0 || drstore_seal(partial, m, err) < 0)
		return -1;
	job_progress(job, 92, "verifying (qemu-img check, checksums recomputed)");
	const cJSON *d;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(m, "disks"))
	{
		const char *f = cJSON_GetStringValue(cJSON_GetObjectItem(d, "file"));
		g_autofree char *p = g_build_filename(partial, f, NULL);
		const char *argv[] = {"check", "-q", "-f", "qcow2", p, NULL};
		if (drstore_qemu_img(err, argv) < 0)
			return -1;
	}
	if (drstore_check_files(partial, m, err) < 0)
		return -1;
	if (drstore_publish(gdir, info->point, err) < 0)
		return -1;
	*out = g_steal_pointer(&m);
	return 0;
}

static int copy_job(Job *job, HfError *err)
{
	CopyCtx *ctx = job_ctx(job);
	const cJSON *p = job_params(job);
	const char *guest = job_guest(job);
	bool forced = cJSON_IsTrue(cJSON_GetObjectItem(p, "full"));
	g_autoptr(HostConn) hc = host_conn_get(ctx->host, err);
	g_autoptr(DrvGuest) g = NULL;
	g_autoptr(GPtrArray) points = NULL;
	g_autoptr(DrvBackupResult) br = NULL;
	g_autofree char *partial = NULL;
	Run run = {job};
	gint64 t0 = g_get_monotonic_time();

	if (!hc || drv_guest_get(host_conn_drv(hc), guest, 0, &g, err) < 0 ||
	    drmark_refuse(host_conn_drv(hc), guest, "DR copy", err) < 0)
		return -1;
	DrvConn *c = host_conn_drv(hc);
	g_autofree char *gdir = drstore_guest_dir(ctx->root, g->uuid);
	if (drstore_points(gdir, &points, err) < 0)
		return -1;
	const cJSON *last = points->len ? points->pdata[points->len - 1] : NULL;
	g_autofree char *why_full = full_reason(c, g, last, forced, err);
	if (err->code[0])
		return -1;
	int64_t now = g_get_real_time() / G_USEC_PER_SEC;
	g_autofree char *point = drstore_point_id(gdir, now);
	g_autofree char *ck = g_strconcat(CK_PREFIX, point, NULL);
	const char *parent =
	    why_full ? NULL : cJSON_GetStringValue(cJSON_GetObjectItem(last, "point"));
	job_progress(job, 2, "%s copy of %s to point %s%s%s", why_full ? "full" : "incremental",
		     guest, point, why_full ? ": " : "", why_full ? why_full : "");
	if (drstore_begin(gdir, point, &partial, err) < 0)
		return -1;
	DrvBackupSpec spec = {
	    .dir = partial,
	    .checkpoint = ck,
	    .incremental =
		why_full ? NULL : cJSON_GetStringValue(cJSON_GetObjectItem(last, "checkpoint")),
	    .quiesce =
		g_strcmp0(cJSON_GetStringValue(cJSON_GetObjectItem(p, "quiesce")), "no") != 0,
	    .agent_timeout = ctx->agent_timeout,
	    .cancelled = on_cancelled,
	};
	if (drv_backup_push(c, guest, &spec, on_progress, &run, 0, &br, err) < 0) {
		drstore_discard(partial);
		host_report(ctx->host, guest, err);
		return -1;
	}
	bool vss = !g_strcmp0(br->consistency, "filesystem") && g->win2008;
	g_autofree char *addr = g_strdup_printf("%s/%s", host_name(ctx->host), guest);
	DrPointInfo info = {
	    .point = point,
	    .guest = guest,
	    .uuid = g->uuid,
	    .host = host_name(ctx->host),
	    .kind = why_full ? "full" : "incremental",
	    .checkpoint = ck,
	    .parent = parent,
	    .full_reason = why_full,
	    .consistency = vss ? "application" : br->consistency,
	    .consistency_reason = br->consistency_reason,
	    .domain_xml = br->domain_xml,
	    .time = now,
	    .duration_s = (double)(g_get_monotonic_time() - t0) / 1e6,
	    .frozen_s = br->frozen_s,
	    .processed = br->processed,
	};
	g_autoptr(cJSON) m = NULL;
	if (finish_point(job, gdir, partial, &info, br, &m, err) < 0) {
		HfError e = {0};
		drstore_discard(partial);
		drv_checkpoint_delete(c, guest, ck, 0, &e);
		return -1;
	}
	cJSON *res = cJSON_CreateObject();
	double stored = 0;
	copy_stored(m, &stored);
	cJSON_AddStringToObject(res, "guest", addr);
	cJSON_AddStringToObject(res, "point", point);
	cJSON_AddStringToObject(res, "kind", info.kind);
	if (why_full)
		cJSON_AddStringToObject(res, "full_reason", why_full);
	cJSON_AddItemToObject(res, "parent",
			      parent ? cJSON_CreateString(parent) : cJSON_CreateNull());
	cJSON_AddNumberToObject(res, "stored", stored);
	cJSON_AddNumberToObject(res, "processed", (double)br->processed);
	cJSON_AddNumberToObject(res, "seconds", (double)(g_get_monotonic_time() - t0) / 1e6);
	cJSON_AddStringToObject(res, "consistency", info.consistency);
	cJSON_AddStringToObject(res, "consistency_reason", info.consistency_reason);
	cJSON_AddStringToObject(res, "dir", gdir);
	cJSON_AddStringToObject(res, "backend", c->drv->name);
	prune_checkpoints(c, guest, ck, res);
	job_set_result(job, res);
	hf_log("hf-dr", LOG_LVL_INFO, "%s DR copy of %s: point %s, %.0f bytes stored", info.kind,
	       addr, point, stored);
	return 0;
}

void drapi_copy(Call *call, Host *h, const char *guest)
{
	HfError err = {0};
	const DrStore *s = store_for(call, &err);
	if (!s) {
		call_reply_error(call, &err);
		return;
	}
	if (jobcall_host_check(h, &err) < 0) {
		call_reply_error(call, &err);
		return;
	}
	Job *job = drapi_copy_submit(call->d, h, guest, s, cJSON_Duplicate(call->params, 1));
	cJSON *r = cJSON_CreateObject();
	cJSON_AddItemToObject(r, "job", job_to_json(job));
	call_reply_result(call, r);
}

Job *drapi_copy_submit(Daemon *d, Host *h, const char *guest, const DrStore *s, cJSON *params)
{
	CopyCtx *ctx = g_new0(CopyCtx, 1);
	ctx->host = host_ref(h);
	ctx->root = g_strdup(s->path);
	ctx->agent_timeout = d->cfg->agent_timeout;
	JobSpec spec = {
	    .kind = "dr.copy",
	    .host = host_name(h),
	    .guest = guest,
	    .params = params,
	    .run = copy_job,
	    .ctx = ctx,
	    .ctx_free = copy_ctx_free,
	};
	return jobs_submit(d->jobs, &spec);
}

/* ---- dr.list ---- */

static cJSON *point_row(const cJSON *m)
{
	static const char *const keep[] = {
	    "guest",   "host",	 "uuid",	"point",       "time",
	    "kind",    "parent", "full_reason", "consistency", "consistency_reason",
	    "verified"};
	cJSON *r = cJSON_CreateObject();
	for (size_t i = 0; i < G_N_ELEMENTS(keep); i++) {
		const cJSON *v = cJSON_GetObjectItem(m, keep[i]);
		cJSON_AddItemToObject(r, keep[i], v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
	}
	double stored = 0, virt = 0;
	const cJSON *d;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(m, "disks"))
	{
		stored += cJSON_GetNumberValue(cJSON_GetObjectItem(d, "stored_size"));
		virt += cJSON_GetNumberValue(cJSON_GetObjectItem(d, "virtual_size"));
	}
	cJSON_AddNumberToObject(r, "stored", stored);
	cJSON_AddNumberToObject(r, "virtual_size", virt);
	cJSON_AddNumberToObject(r, "disks", cJSON_GetArraySize(cJSON_GetObjectItem(m, "disks")));
	drtest_list_row(m, r); /* rto_s and last_test from the point's test boots */
	return r;
}

static int add_points(const char *gdir, cJSON *arr, HfError *err)
{
	g_autoptr(GPtrArray) pts = NULL;
	if (drstore_points(gdir, &pts, err) < 0)
		return -1;
	for (guint i = 0; i < pts->len; i++)
		cJSON_AddItemToArray(arr, point_row(pts->pdata[i]));
	return 0;
}

/* Runs on a worker thread: reads manifests only. call->data: the store's path. */
static cJSON *list_thread(Call *call, HfError *err)
{
	const char *root = call->data;
	const char *guest = cJSON_GetStringValue(cJSON_GetObjectItem(call->params, "guest"));
	g_autoptr(cJSON) r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "path", root);
	cJSON *arr = cJSON_AddArrayToObject(r, "points");
	if (guest) {
		g_autofree char *gdir = drstore_find_guest(root, guest);
		if (!gdir)
			return error_set(err, HF_ERR_NOT_FOUND,
					 "no restore points of guest '%s' in the DR store at %s; "
					 "take one with holdfast dr copy %s",
					 guest, root, guest),
			       NULL;
		return add_points(gdir, arr, err) < 0 ? NULL : g_steal_pointer(&r);
	}
	g_autoptr(GDir) d = g_dir_open(root, 0, NULL);
	const char *n;
	while (d && (n = g_dir_read_name(d))) {
		g_autofree char *gdir = g_build_filename(root, n, NULL);
		if (g_file_test(gdir, G_FILE_TEST_IS_DIR) && add_points(gdir, arr, err) < 0)
			return NULL;
	}
	return g_steal_pointer(&r);
}

void drapi_list(Call *call)
{
	HfError err = {0};
	const DrStore *s = store_for(call, &err);
	if (!s) {
		call_reply_error(call, &err);
		return;
	}
	call->data = g_strdup(s->path);
	call->data_free = g_free;
	call_in_thread(call, list_thread);
}

/* ---- dr.verify ---- */

typedef struct {
	char *gdir;
} VerifyCtx;

static void verify_ctx_free(void *p)
{
	VerifyCtx *v = p;
	g_free(v->gdir);
	g_free(v);
}

static int verify_job(Job *job, HfError *err)
{
	VerifyCtx *v = job_ctx(job);
	const char *point = cJSON_GetStringValue(cJSON_GetObjectItem(job_params(job), "point"));
	g_autoptr(GPtrArray) pts = NULL;
	if (drstore_points(v->gdir, &pts, err) < 0)
		return -1;
	g_autoptr(cJSON) done = cJSON_CreateArray();
	if (point) {
		job_progress(job, 5, "verifying point %s and its chain", point);
		if (drstore_verify_chain(pts, point, done, err) < 0)
			return -1;
	} else {
		/* every chain once: from each point no other point names as its parent */
		for (guint i = 0; i < pts->len; i++) {
			const char *id =
			    cJSON_GetStringValue(cJSON_GetObjectItem(pts->pdata[i], "point"));
			bool parent = false;
			for (guint j = 0; j < pts->len && !parent; j++)
				parent = !g_strcmp0(cJSON_GetStringValue(cJSON_GetObjectItem(
							pts->pdata[j], "parent")),
						    id);
			if (parent)
				continue;
			job_progress(job, (int)(5 + 90 * i / pts->len), "verifying the chain of %s",
				     id);
			if (drstore_verify_chain(pts, id, done, err) < 0)
				return -1;
		}
	}
	cJSON *res = cJSON_CreateObject();
	cJSON_AddStringToObject(res, "guest", job_guest(job));
	cJSON_AddBoolToObject(res, "ok", 1);
	cJSON_AddItemToObject(res, "verified", g_steal_pointer(&done));
	job_set_result(job, res);
	return 0;
}

void drapi_verify(Call *call)
{
	HfError err = {0};
	const char *guest = cJSON_GetStringValue(cJSON_GetObjectItem(call->params, "guest"));
	const DrStore *s = store_for(call, &err);
	if (!s) {
		call_reply_error(call, &err);
		return;
	}
	g_autofree char *gdir = drstore_find_guest(s->path, guest);
	if (!gdir) {
		error_set(&err, HF_ERR_NOT_FOUND,
			  "no restore points of guest '%s' in DR store '%s' "
			  "(%s)",
			  guest, s->name, s->path);
		call_reply_error(call, &err);
		return;
	}
	/* the job runs under the guest's host when it is configured: one job per guest at once */
	Host *h = NULL;
	g_autofree char *name = NULL;
	HfError ignore = {0};
	bool on_host = hosts_resolve(call->d->hosts, guest, &h, &name, &ignore) == 0;
	VerifyCtx *v = g_new0(VerifyCtx, 1);
	v->gdir = g_steal_pointer(&gdir);
	JobSpec spec = {
	    .kind = call->method->name,
	    .host = on_host ? host_name(h) : s->name,
	    .guest = on_host ? name : guest,
	    .params = cJSON_Duplicate(call->params, 1),
	    .run = verify_job,
	    .ctx = v,
	    .ctx_free = verify_ctx_free,
	};
	jobcall_submit(call, &spec);
}
