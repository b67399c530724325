/* drapi.c - DR copies of libvirt guests into a DR store; dr.list and dr.verify.
 *
 * A copy (a job): clean up what a copy that died left (drrecover.h), plan it per disk
 * (drplan.h: incremental from the guest's newest point while its checkpoint and bitmaps are
 * usable; a disk added, resized or at max-chain in full; else a full, with the reasons),
 * create POINT.partial, push- or pull-mode backup with a new checkpoint hf-dr-STORE-POINT
 * (drrecover.h, drpull.h),
 * rebase each pushed incremental image onto its parent's image (libvirt names the live disk as
 * the backing file), seal (SHA-256 of every file unless the pull hashed it as written, fsync,
 * manifest), verify (qemu-img check),
 * publish by rename, then drop the guest's older checkpoints of that store (other stores keep
 * theirs: each store's copies stay incremental). The guest's directory is locked throughout
 * (drstore_lock). Any failure discards the
 * partial directory and the new checkpoint, so the next copy is again an incremental of the
 * last published point; a store that ran full is named. */
#include "jobcall.h"
#include "drapi.h"
#include "drmark.h"
#include "checks.h"
#include "drnvram.h"

#include <string.h>

#include "daemon.h"
#include "drplan.h"
#include "drrecover.h"
#include "drpull.h"
#include "drstore.h"
#include "drtest.h"
#include "log.h"
#include "policy.h" /* g_autoptr(cJSON) */
#include "statefile.h"
#include "timefmt.h"

/* The store a request names, or the first configured one. */
const DrStore *drapi_store(Call *call, HfError *err)
{
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(call->params, "store"));
	GPtrArray *all = call->d->cfg->drstores;
	const DrStore *s = name ? drstore_named(all, name) : all->len ? all->pdata[0] : NULL;
	if (s)
		return s;
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

typedef struct {
	Host *host;   /* referenced */
	char *root;   /* the store's path */
	char *store;  /* its name */
	char **roots; /* every store's path (leftovers of dead copies) */
	int agent_timeout, max_chain;
	int mode, pull_port; /* [drstore] mode, pull-port, pull-host (drpull.h) */
	char *pull_host;
	int pull_tls; /* [drstore] pull-tls, pull-tls-dir */
	char *pull_tls_dir;
	char *scratch_dir; /* [drstore] scratch-dir (NULL: the default) */
} CopyCtx;

static void copy_ctx_free(void *p)
{
	CopyCtx *c = p;
	host_unref(c->host);
	g_free(c->root);
	g_free(c->store);
	g_free(c->pull_host);
	g_free(c->pull_tls_dir);
	g_free(c->scratch_dir);
	g_strfreev(c->roots);
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

/* Rebase every incremental image onto its parent point's image (relative, no data copied). */
static int rebase(const char *partial, const cJSON *m, HfError *err)
{
	const cJSON *d;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(m, "disks"))
	{
		const char *f = cJSON_GetStringValue(cJSON_GetObjectItem(d, "file"));
		const char *parent = drstore_disk_parent(m, d);
		if (!parent)
			continue;
		g_autofree char *p = g_build_filename(partial, f, NULL);
		g_autofree char *back = g_strdup_printf("../%s/%s", parent, f);
		const char *argv[] = {"rebase", "-u", "-f", "qcow2", "-F",
				      "qcow2",	"-b", back, p,	     NULL};
		if (drstore_qemu_img(err, argv) < 0)
			return -1;
	}
	return 0;
}

/* Drop the guest's DR checkpoints of this store (drrecover_ck_of_store: hf-dr-STORE-*, and
 * legacy hf-dr-POINT ones whose point is in gdir) except `keep` (bitmaps cost guest write
 * speed); other stores' checkpoints stay, their next copies are incrementals of them.
 * Failures go to the array warnings. */
static void prune_checkpoints(DrvConn *c, const char *guest, const char *store, const char *gdir,
			      const char *keep, cJSON *warnings)
{
	DrCkStore k = {store, gdir, keep};
	HfError e = {0};
	if (drrecover_ck_drop(c, guest, drrecover_ck_store_but, &k, 0, NULL, warnings, &e) < 0)
		cJSON_AddItemToArray(warnings, cJSON_CreateString(e.message));
}

static double copy_stored(const cJSON *m)
{
	const cJSON *d;
	double stored = 0;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(m, "disks")) stored +=
	    cJSON_GetNumberValue(cJSON_GetObjectItem(d, "stored_size"));
	return stored;
}

/* The copy after the backup: manifest, rebase, seal, verify, publish. */
static int finish_point(Job *job, const char *gdir, const char *partial, DrPointInfo *info,
			const DrPlan *plan, const DrvBackupResult *br, const cJSON *compared,
			const char *transport, cJSON **out, HfError *err)
{
	g_autoptr(cJSON) m = drstore_manifest_new(info);
	/* how the disks came: "push" (QEMU wrote them), else the pull's unix, tcp or tcp+tls */
	cJSON_AddStringToObject(m, "transport", transport ? transport : "push");
	if (compared) /* dr verify --compare: the rebuilt disks equal the guest's at this instant */
		cJSON_AddItemToObject(m, "compared", cJSON_Duplicate(compared, 1));
	for (guint i = 0; i < br->disks->len; i++) {
		const DrvBackupDisk *d = br->disks->pdata[i];
		g_autofree char *f = g_path_get_basename(d->file);
		bool full = !info->parent ||
			    g_strv_contains((const char *const *)plan->full_targets, d->target);
		drstore_manifest_add_disk(m, d->target, f, d->source, d->capacity,
					  full ? NULL : info->parent);
		if (d->sha256) /* pulled: hashed as written, backed by its parent already */
			drstore_manifest_disk_hashed(m, d->target, d->sha256);
	}
	cJSON_AddItemToObject(m, "full_disks", cJSON_Duplicate(plan->full_disks, 1));
	/* disks not copied (cdroms, passthrough LUNs), with why: a restore names what it lacks */
	cJSON *sk = cJSON_AddArrayToObject(m, "skipped_disks");
	for (guint i = 0; br->skipped && i < br->skipped->len; i++)
		cJSON_AddItemToArray(sk, cJSON_CreateString(br->skipped->pdata[i]));
	/* the guest's build-check verdict at copy time (the cached one, with its age; null when
	 * the guest was never checked): what was copied, as Windows sees itself */
	cJSON *check = checks_cached(info->host, info->guest);
	cJSON_AddItemToObject(m, "check", check ? check : cJSON_CreateNull());
	if (info->parent && !((DrvBackupDisk *)br->disks->pdata[0])->sha256) {
		job_progress(job, 82, "rebasing onto point %s", info->parent);
		if (rebase(partial, m, err) < 0)
			return -1;
	}
	job_progress(job, 85, "checksums (SHA-256) and fsync");
	if (drnvram_capture(partial, m, err) < 0 || drstore_seal(partial, m, err) < 0)
		return -1;
	/* the seal's SHA-256 read of a pushed image is its read-back; a pulled image was hashed
	 * as written: one more full read would prove nothing new */
	job_progress(job, 92, "verifying (qemu-img check)");
	const cJSON *d;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(m, "disks"))
	{
		const char *f = cJSON_GetStringValue(cJSON_GetObjectItem(d, "file"));
		g_autofree char *p = g_build_filename(partial, f, NULL);
		const char *argv[] = {"check", "-q", "-f", "qcow2", p, NULL};
		if (drstore_qemu_img(err, argv) < 0)
			return -1;
	}
	if (drstore_publish(gdir, info->point, err) < 0)
		return -1;
	*out = g_steal_pointer(&m);
	return 0;
}

/* A failed copy: nothing published, the .partial and the new checkpoint gone; a store that
 * ran full is named with what to do. */
static int copy_failed(CopyCtx *ctx, DrvConn *c, const char *guest, const char *partial,
		       const char *ck, HfError *err)
{
	HfError e = {0};
	drstore_discard(partial);
	drv_checkpoint_delete(c, guest, ck, DRV_CHECKPOINT_DELETE_BROKEN, &e);
	if (strcmp(err->code, HF_ERR_NO_SPACE) && !strstr(err->message, "No space left") &&
	    !strstr(err->message, "ENOSPC"))
		return -1;
	g_autofree char *why = g_strdup(err->message);
	error_clear(err);
	return error_set(err, HF_ERR_NO_SPACE,
			 "DR store '%s' (%s) ran out of space during the copy of guest '%s': %s; "
			 "nothing was published and the older points are intact; free space in "
			 "the store and copy again (the next copy is again an incremental of the "
			 "newest point)",
			 ctx->store, ctx->root, guest, why);
}

static cJSON *copy_result(const char *addr, const DrPointInfo *info, const DrPlan *plan,
			  const cJSON *m, const DrvBackupResult *br, const char *dir,
			  const char *backend, cJSON *repairs, gint64 t0)
{
	cJSON *res = cJSON_CreateObject();
	cJSON_AddStringToObject(res, "guest", addr);
	cJSON_AddStringToObject(res, "point", info->point);
	cJSON_AddStringToObject(res, "kind", info->kind);
	if (info->full_reason)
		cJSON_AddStringToObject(res, "full_reason", info->full_reason);
	cJSON_AddItemToObject(res, "full_disks", cJSON_Duplicate(plan->full_disks, 1));
	cJSON_AddItemToObject(res, "skipped_disks",
			      cJSON_Duplicate(cJSON_GetObjectItem(m, "skipped_disks"), 1));
	cJSON_AddItemToObject(res, "parent",
			      info->parent ? cJSON_CreateString(info->parent) : cJSON_CreateNull());
	cJSON_AddNumberToObject(res, "stored", copy_stored(m));
	cJSON_AddNumberToObject(res, "processed", (double)br->processed);
	cJSON_AddNumberToObject(res, "seconds", (double)(g_get_monotonic_time() - t0) / 1e6);
	cJSON_AddStringToObject(res, "consistency", info->consistency);
	cJSON_AddStringToObject(res, "consistency_reason", info->consistency_reason);
	cJSON_AddBoolToObject(res, "started_paused", br->started_paused);
	cJSON_AddItemToObject(res, "repairs", cJSON_Duplicate(repairs, 1));
	cJSON_AddStringToObject(res, "dir", dir);
	cJSON_AddStringToObject(res, "backend", backend);
	return res;
}

/* A shut-off guest copied again after it was last copied shut down cleanly: its shut-off
 * reason is now "destroyed" (holdfast powered it off after that copy), but when nothing was
 * written since (an incremental of every disk that copied no byte) the disks are that point's
 * and keep its consistency. The reason, or NULL. */
static char *unchanged(const DrvBackupResult *br, const DrPlan *plan, GPtrArray *points)
{
	const cJSON *last = drstore_point(points, plan->parent); /* this guest's newest */
	if (!br->started_paused || !plan->parent || cJSON_GetArraySize(plan->full_disks) ||
	    br->processed || !last ||
	    g_strcmp0(cJSON_GetStringValue(cJSON_GetObjectItem(last, "consistency")),
		      "application"))
		return NULL;
	const char *why = cJSON_GetStringValue(cJSON_GetObjectItem(last, "consistency_reason"));
	if (why && g_str_has_prefix(why, "unchanged since point "))
		return g_strdup(why); /* still unchanged since that point */
	return g_strdup_printf("unchanged since point %s (not a byte written since): %s",
			       plan->parent, why ? why : "");
}

/* A shut-off guest the copy started paused: powered off when the job is done with its
 * checkpoints (libvirt deletes checkpoints of running guests only). */
typedef struct {
	DrvConn *c;
	const char *guest;
	bool on;
} OffAgain;

static void off_again(OffAgain *o)
{
	HfError e = {0};
	if (o->on && drv_domain_destroy(o->c, o->guest, 0, &e) < 0)
		hf_log("hf-dr", LOG_LVL_ERROR,
		       "guest %s was started paused for a DR copy and stays paused: %s", o->guest,
		       e.message);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(OffAgain, off_again)

/* dr verify --compare's first disk that the chain rebuilds wrong (drpull.h), or NULL. */
static const cJSON *compare_mismatch(const cJSON *compared)
{
	const cJSON *d;
	cJSON_ArrayForEach(d, compared) if (cJSON_IsFalse(cJSON_GetObjectItem(d, "identical")))
	    return d;
	return NULL;
}

/* dr verify --compare found that the chain of point `parent` rebuilds a disk wrong: said in
 * that point's manifest (compare_failed: target, offset, time), so that no later copy stands
 * on it (drplan) even if its checkpoint cannot be dropped; the files' checksums are untouched
 * (the manifest is not among them). */
static void mark_compare_failed(const char *gdir, const char *parent, const cJSON *bad,
				cJSON *repairs)
{
	if (!parent || !bad)
		return;
	g_autofree char *path = g_build_filename(gdir, parent, DRSTORE_MANIFEST, NULL);
	g_autoptr(cJSON) doc = NULL;
	HfError e = {0};
	g_autofree char *now = timefmt_iso(g_get_real_time() / G_USEC_PER_SEC);
	if (statefile_read_json(path, &doc, &e) == 0 && cJSON_IsObject(doc)) {
		cJSON *o = cJSON_Duplicate(bad, 1);
		cJSON_AddStringToObject(o, "time", now);
		cJSON_DeleteItemFromObject(doc, "compare_failed");
		cJSON_AddItemToObject(doc, "compare_failed", o);
		statefile_write_json(path, doc, &e);
	}
	if (e.code[0])
		cJSON_AddItemToArray(repairs, cJSON_CreateString(e.message));
}

/* dr verify --compare: the chain the new point will stand on, verified as dr verify does
 * (checksums, qemu-img check) before the copy starts, so that nothing is published on a chain
 * that fails; the new point's own images are checked as any copy's are (finish_point). */
static int compare_chain(Job *job, GPtrArray *points, const char *parent, cJSON *verified,
			 HfError *err)
{
	if (!parent)
		return 0;
	job_progress(job, 2, "verifying the chain of point %s", parent);
	return drstore_verify_chain(points, parent, verified, err);
}

/* dr copy --dry-run: the plan, in the store's words; nothing is done (a dead copy's leftovers
 * stay, no checkpoint is dropped, nothing written); a store without room fails it. */
static int copy_dry_run(Job *job, const CopyCtx *ctx, DrvConn *c, const DrvGuest *g,
			const DrPlan *plan, const char *gdir, HfError *err)
{
	cJSON *res = cJSON_CreateObject();
	g_autofree char *addr = g_strdup_printf("%s/%s", host_name(ctx->host), g->name);
	cJSON_AddStringToObject(res, "guest", addr);
	cJSON_AddBoolToObject(res, "dry_run", 1);
	cJSON_AddStringToObject(res, "kind", plan->why_full ? "full" : "incremental");
	if (plan->why_full)
		cJSON_AddStringToObject(res, "full_reason", plan->why_full);
	cJSON_AddItemToObject(res, "full_disks", cJSON_Duplicate(plan->full_disks, 1));
	cJSON_AddItemToObject(res, "parent",
			      plan->parent ? cJSON_CreateString(plan->parent) : cJSON_CreateNull());
	cJSON_AddStringToObject(res, "store", ctx->store);
	cJSON_AddStringToObject(res, "dir", gdir);
	const cJSON *cmp = cJSON_GetObjectItem(job_params(job), "compare");
	DrPullOpts how = {.mode = ctx->mode,
			  .host = ctx->pull_host,
			  .tls = ctx->pull_tls,
			  .compare = cJSON_IsTrue(cmp) ? (cJSON *)cmp : NULL};
	const char *t = drpull_transport(&how, c->uri, g->state == DRV_STATE_RUNNING);
	cJSON_AddStringToObject(res, "mode", strcmp(t, "push") ? "pull" : "push");
	cJSON_AddStringToObject(res, "transport", t);
	cJSON_AddBoolToObject(res, "drops_checkpoints", plan->drop_checkpoints);
	int rc = drplan_space(plan, g, ctx->store, ctx->root, err);
	cJSON_AddStringToObject(res, "space", rc == 0 ? "ok" : err->message);
	job_set_result(job, res);
	return rc;
}

static int copy_job(Job *job, HfError *err)
{
	CopyCtx *ctx = job_ctx(job);
	const cJSON *p = job_params(job);
	const char *guest = job_guest(job);
	bool forced = cJSON_IsTrue(cJSON_GetObjectItem(p, "full"));
	g_autoptr(cJSON) compared =
	    cJSON_IsTrue(cJSON_GetObjectItem(p, "compare")) ? cJSON_CreateArray() : NULL;
	g_autoptr(cJSON) verified = compared ? cJSON_CreateArray() : NULL;
	g_autoptr(HostConn) hc = host_conn_get(ctx->host, err);
	g_autoptr(DrvGuest) g = NULL;
	g_autoptr(GPtrArray) points = NULL;
	g_autoptr(DrvBackupResult) br = NULL;
	g_autoptr(cJSON) repairs = cJSON_CreateArray();
	g_autofree char *partial = NULL;
	g_auto(DrPlan) plan = {0};
	Run run = {job};
	gint64 t0 = g_get_monotonic_time();

	if (!hc || drv_guest_get(host_conn_drv(hc), guest, 0, &g, err) < 0 ||
	    drmark_refuse(host_conn_drv(hc), guest, "DR copy", err) < 0)
		return -1;
	DrvConn *c = host_conn_drv(hc);
	g_autofree char *gdir = drstore_guest_dir(ctx->root, g->uuid);
	/* one writer in the guest's directory (a guest with the same UUID on another host) */
	g_autofree char *holder = g_strdup_printf("dr.copy of %s/%s into DR store '%s'",
						  host_name(ctx->host), guest, ctx->store);
	g_auto(DrStoreLock) lk = DRSTORE_LOCK_INIT;
	bool dry = cJSON_IsTrue(cJSON_GetObjectItem(p, "dry_run")); /* writes nothing, waits not */
	if (!dry && drstore_lock(gdir, holder, DRSTORE_LOCK_WAIT, on_cancelled, &run, &lk, err) < 0)
		return -1;
	/* a copy that died with holdfastd: its backup job, checkpoint and .partial */
	if (!dry && drrecover_guest(c, guest, ctx->roots, repairs, err) < 0)
		return -1;
	if (!dry)
		drrecover_orphans(c, guest, gdir, repairs);
	if (drstore_points(gdir, &points, err) < 0 ||
	    drplan_make(c, g, host_name(ctx->host), points, forced, ctx->max_chain, &plan, err) < 0)
		return -1;
	const char *asked = cJSON_GetStringValue(cJSON_GetObjectItem(p, "full_reason"));
	if (forced && asked) /* a dr-copy policy's full-every (scheddr.c) says why */
		drplan_set_full(&plan, g, asked);
	if (dry)
		return copy_dry_run(job, ctx, c, g, &plan, gdir, err);
	if (plan.drop_checkpoints) {
		prune_checkpoints(c, guest, ctx->store, gdir, NULL, repairs);
		g_autofree char *why = g_strdup_printf("dropped the guest's checkpoints of DR store "
						       "'%s': their dirty bitmaps are unusable",
						       ctx->store);
		cJSON_AddItemToArray(repairs, cJSON_CreateString(why));
	}
	if (drplan_space(&plan, g, ctx->store, ctx->root, err) < 0 ||
	    (compared && compare_chain(job, points, plan.parent, verified, err) < 0))
		return -1;
	int64_t now = g_get_real_time() / G_USEC_PER_SEC;
	g_autofree char *point = drstore_point_id(gdir, now);
	g_autofree char *ck = drrecover_ck_name(ctx->store, point); /* hf-dr-STORE-POINT */
	job_progress(job, 2, "%s copy of %s to point %s%s%s",
		     plan.why_full ? "full" : "incremental", guest, point,
		     plan.why_full ? ": " : "", plan.why_full ? plan.why_full : "");
	if (drstore_begin(gdir, point, &partial, err) < 0)
		return -1;
	DrvBackupSpec spec = {
	    .dir = partial,
	    .checkpoint = ck,
	    .incremental = plan.incremental,
	    .full_disks = (const char *const *)plan.full_targets,
	    .quiesce =
		g_strcmp0(cJSON_GetStringValue(cJSON_GetObjectItem(p, "quiesce")), "no") != 0,
	    .agent_timeout = ctx->agent_timeout,
	    .cancelled = on_cancelled,
	    .leave_paused = true, /* OffAgain */
	};
	const char *transport = NULL; /* a pull's: unix, tcp or tcp+tls */
	bool left_paused = false; /* a failed pull of a guest it started paused (OffAgain) */
	DrPullOpts how = {.mode = ctx->mode,
			  .port = ctx->pull_port,
			  .host = ctx->pull_host,
			  .tls = ctx->pull_tls,
			  .tls_dir = ctx->pull_tls_dir,
			  .transport = &transport,
			  .scratch_dir = ctx->scratch_dir,
			  .parent = plan.parent,
			  .compare = compared,
			  .left_paused = &left_paused};
	if (drpull_backup(c, guest, &spec, &how, on_progress, &run, &br, err) < 0) {
		host_report(ctx->host, guest, err);
		const cJSON *bad = compare_mismatch(compared);
		if (bad) { /* the chain restores something else */
			mark_compare_failed(gdir, plan.parent, bad, repairs);
			prune_checkpoints(c, guest, ctx->store, gdir, NULL, repairs);
		}
		int rc = copy_failed(ctx, c, guest, partial, ck, err);
		g_auto(OffAgain) off = {c, guest, left_paused}; /* after the checkpoints went */
		return rc;
	}
	g_auto(OffAgain) off = {c, guest, br->started_paused};
	if (br->full_reason) { /* found out by libvirt at backup-begin: a full was taken */
		drplan_set_full(&plan, g, br->full_reason);
		plan.drop_checkpoints = true;
		prune_checkpoints(c, guest, ctx->store, gdir, ck, repairs);
	}
	bool vss = !g_strcmp0(br->consistency, "filesystem") && g->win2008;
	g_autofree char *same = unchanged(br, &plan, points);
	g_autofree char *addr = g_strdup_printf("%s/%s", host_name(ctx->host), guest);
	DrPointInfo info = {
	    .point = point,
	    .guest = guest,
	    .uuid = g->uuid,
	    .host = host_name(ctx->host),
	    .kind = plan.why_full ? "full" : "incremental",
	    .checkpoint = ck,
	    .parent = plan.parent,
	    .full_reason = plan.why_full,
	    .consistency = same || vss ? "application" : br->consistency,
	    .consistency_reason = same ? same : br->consistency_reason,
	    .domain_xml = br->domain_xml,
	    .time = now,
	    .duration_s = (double)(g_get_monotonic_time() - t0) / 1e6,
	    .frozen_s = br->frozen_s,
	    .processed = br->processed,
	};
	g_autoptr(cJSON) m = NULL;
	if (finish_point(job, gdir, partial, &info, &plan, br, compared, transport, &m, err) < 0)
		return copy_failed(ctx, c, guest, partial, ck, err);
	cJSON *res = copy_result(addr, &info, &plan, m, br, gdir, c->drv->name, repairs, t0);
	if (transport) /* pulled: was the NBD export encrypted (tcp+tls)? */
		cJSON_AddStringToObject(res, "transport", transport);
	if (compared) { /* dr verify --compare: its chain verified, every disk identical */
		cJSON_AddItemToArray(verified, cJSON_CreateString(point));
		cJSON_AddItemToObject(res, "verified", g_steal_pointer(&verified));
		cJSON_AddItemToObject(res, "compared", cJSON_Duplicate(compared, 1));
		cJSON_AddBoolToObject(res, "ok", 1);
	}
	/* the result is complete before the job has it (job_to_json reads it on the main loop) */
	prune_checkpoints(c, guest, ctx->store, gdir, ck, cJSON_AddArrayToObject(res, "warnings"));
	job_set_result(job, res);
	hf_log("hf-dr", LOG_LVL_INFO, "%s DR copy of %s: point %s, %.0f bytes stored", info.kind,
	       addr, point, copy_stored(m));
	return 0;
}

/* The dr.copy job of guest on h into store s (takes params). */
static JobSpec copy_spec(Daemon *d, Host *h, const char *guest, const DrStore *s, cJSON *params)
{
	CopyCtx *ctx = g_new0(CopyCtx, 1);
	ctx->host = host_ref(h);
	ctx->root = g_strdup(s->path);
	ctx->store = g_strdup(s->name);
	ctx->roots = drrecover_roots();
	ctx->max_chain = s->max_chain;
	ctx->mode = s->mode;
	ctx->pull_port = s->pull_port;
	ctx->pull_host = g_strdup(s->pull_host);
	ctx->pull_tls = s->pull_tls;
	ctx->pull_tls_dir = g_strdup(s->pull_tls_dir);
	ctx->scratch_dir = g_strdup(s->scratch_dir);
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
	return spec;
}

/* The request's copy job of guest on h into s (dr copy, dr verify --compare). */
static void copy_submit(Call *call, Host *h, const char *guest, const DrStore *s)
{
	HfError err = {0};
	if (jobcall_host_check(h, &err) < 0) {
		call_reply_error(call, &err);
		return;
	}
	JobSpec spec = copy_spec(call->d, h, guest, s, cJSON_Duplicate(call->params, 1));
	spec.kind = call->method->name;
	jobcall_submit(call, &spec);
}

void drapi_copy(Call *call, Host *h, const char *guest)
{
	HfError err = {0};
	const DrStore *s = drapi_store(call, &err);
	if (s)
		copy_submit(call, h, guest, s);
	else
		call_reply_error(call, &err);
}

Job *drapi_copy_submit(Daemon *d, Host *h, const char *guest, const DrStore *s, cJSON *params)
{
	JobSpec spec = copy_spec(d, h, guest, s, params);
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
	const DrStore *s = drapi_store(call, &err);
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
		/* every chain once: from each point no other point's disk names as its parent */
		g_autoptr(GHashTable) parents =
		    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		for (guint j = 0; j < pts->len; j++) {
			g_auto(GStrv) deps = drstore_point_deps(pts->pdata[j]);
			for (char **q = deps; *q; q++)
				g_hash_table_add(parents, g_strdup(*q));
		}
		for (guint i = 0; i < pts->len; i++) {
			const char *id =
			    cJSON_GetStringValue(cJSON_GetObjectItem(pts->pdata[i], "point"));
			if (g_hash_table_contains(parents, id))
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

char *drapi_guest_dir(Daemon *d, const DrStore *s, const char *addr)
{
	Host *h = NULL;
	g_autofree char *name = NULL;
	HfError ignore = {0};
	if (addr && hosts_resolve(d->hosts, addr, &h, &name, &ignore) == 0) {
		g_autoptr(DrvGuest) g = host_guest(h, name);
		g_autofree char *gd = g && g->uuid ? drstore_guest_dir(s->path, g->uuid) : NULL;
		if (gd && g_file_test(gd, G_FILE_TEST_IS_DIR))
			return g_steal_pointer(&gd);
	}
	return addr ? drstore_find_guest(s->path, addr) : NULL;
}

Host *drapi_point_host(Daemon *d, const char *gdir, char **name)
{
	g_autoptr(cJSON) m = gdir ? drstore_newest(gdir) : NULL;
	const char *hn = cJSON_GetStringValue(cJSON_GetObjectItem(m, "host"));
	*name = g_strdup(hn);
	return hn ? hosts_find(d->hosts, hn) : NULL;
}

/* dr verify --compare: a new incremental copy in pull mode whose rebuilt disks are compared
 * with a fresh full read of the guest at the same instant (copy_job, drpull.h). */
static void verify_compare(Call *call, const DrStore *s, const char *addr)
{
	HfError err = {0};
	Host *h = NULL;
	g_autofree char *guest = NULL;
	if (cJSON_GetObjectItem(call->params, "point")) {
		error_set(&err, HF_ERR_INVALID_PARAMS,
			  "dr verify --compare checks a point it takes now (the guest's disks can "
			  "only be read as they are now); leave POINT out, or verify POINT without "
			  "--compare");
		call_reply_error(call, &err);
		return;
	}
	if (hosts_resolve(call->d->hosts, addr, &h, &guest, &err) < 0) {
		call_reply_error(call, &err);
		return;
	}
	const DrvDriver *drv = drv_for_uri(host_uri(h));
	if (!drv || !drv->backup_pull || g_str_has_prefix(host_uri(h), "test:")) {
		error_set(&err, HF_ERR_UNSUPPORTED,
			  "dr verify --compare of %s/%s: the comparison reads the guest's disks "
			  "through a pull-mode backup, which host %s (%s) does not have; run dr "
			  "verify without --compare",
			  host_name(h), guest, host_name(h), drv ? drv->name : "no driver");
		call_reply_error(call, &err);
		return;
	}
	copy_submit(call, h, guest, s);
}

void drapi_verify(Call *call)
{
	HfError err = {0};
	const char *guest = cJSON_GetStringValue(cJSON_GetObjectItem(call->params, "guest"));
	const DrStore *s = drapi_store(call, &err);
	if (!s) {
		call_reply_error(call, &err);
		return;
	}
	if (cJSON_IsTrue(cJSON_GetObjectItem(call->params, "compare"))) {
		verify_compare(call, s, guest);
		return;
	}
	g_autofree char *gdir = drapi_guest_dir(call->d, s, guest);
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
