/* nightly.c - the per-guest job of a policy run, crash recovery of half-made snapshots and
 * snapshot pinning. */
#include "nightly.h"

#include <string.h>
#include <sys/statvfs.h>

#include "log.h"
#include "ownstore.h"
#include "statefile.h"

#define OWN_SKEW_S 120 /* as ownstore.c: hypervisor clock vs ours */

NightlyCtx *nightly_ctx_new(Host *h, const char *state_dir, int agent_timeout)
{
	NightlyCtx *c = g_new0(NightlyCtx, 1);
	c->snap.host = host_ref(h);
	c->snap.state_dir = g_strdup(state_dir);
	c->snap.agent_timeout = agent_timeout;
	c->uri = g_strdup(host_uri(h));
	return c;
}

void nightly_ctx_free(void *p)
{
	NightlyCtx *c = p;
	host_unref(c->snap.host);
	g_free(c->snap.state_dir);
	g_free(c->policy);
	if (c->tz)
		g_time_zone_unref(c->tz);
	g_free(c->rules_hash);
	g_free(c->applied_hash);
	g_free(c->uri);
	g_free(c);
}

/* ---- free space ---- */

static bool uri_local(const char *uri)
{
	return !strcmp(uri, "qemu:///system") || g_str_has_prefix(uri, "test:///");
}

/* The lowest free percentage over the filesystems of the guest's disks; -1 = unknown. */
static double disks_free(const DrvGuest *g, const char *uri, char **where)
{
	double low = -1;
	if (!uri_local(uri))
		return -1;
	for (guint i = 0; i < g->disks->len; i++) {
		const DrvDisk *d = g->disks->pdata[i];
		struct statvfs st;
		if (!d->path || (d->device && strcmp(d->device, "disk")))
			continue;
		g_autofree char *dir = g_path_get_dirname(d->path);
		if (statvfs(dir, &st) < 0 || st.f_blocks == 0)
			continue;
		double pct = 100.0 * (double)st.f_bavail / (double)st.f_blocks;
		if (low < 0 || pct < low) {
			low = pct;
			g_free(*where);
			*where = g_steal_pointer(&dir);
		}
	}
	return low;
}

/* 1 = skip the guest (result set), 0 = go on. */
static int check_space(Job *job, NightlyCtx *ctx, DrvConn *c, cJSON *res, HfError *err)
{
	g_autoptr(DrvGuest) g = NULL;
	g_autofree char *where = NULL;
	if (drv_guest_get(c, job_guest(job), 0, &g, err) < 0)
		return -1;
	double pct = disks_free(g, ctx->uri, &where);
	cJSON *f = cJSON_AddObjectToObject(res, "free");
	if (pct < 0) {
		cJSON_AddStringToObject(f, "percent", "unknown");
		return 0;
	}
	cJSON_AddNumberToObject(f, "percent", (int)pct);
	cJSON_AddStringToObject(f, "path", where);
	if (ctx->min_free <= 0 || pct >= ctx->min_free)
		return 0;
	g_autofree char *why = g_strdup_printf(
	    "skipped: %s has %.1f%% free, below min-free %d%% (a guest pauses when its storage "
	    "fills); free space there or lower min-free",
	    where, pct, ctx->min_free);
	hf_log("hf-sched", LOG_LVL_WARNING, "%s/%s: %s", job_host(job), job_guest(job), why);
	cJSON_ReplaceItemInObject(res, "skipped", cJSON_CreateString(why));
	return 1;
}

/* ---- the slot's snapshot ---- */

static DrvSnapshot *find_snap(GPtrArray *snaps, const char *name)
{
	for (guint i = 0; snaps && i < snaps->len; i++)
		if (!strcmp(((DrvSnapshot *)snaps->pdata[i])->name, name))
			return snaps->pdata[i];
	return NULL;
}

/* 1 = the slot's snapshot exists already (done), 0 = take it, -1 = error. */
static int slot_state(Job *job, NightlyCtx *ctx, DrvConn *c, const OwnKey *k, const char *name,
		      HfError *err)
{
	g_autoptr(GPtrArray) snaps = NULL;
	if (drv_snapshot_list(c, job_guest(job), 0, &snaps, err) < 0)
		return -1;
	DrvSnapshot *s = find_snap(snaps, name);
	if (!s)
		return 0;
	g_autoptr(cJSON) own = ownstore_lookup(k, name, s->creation_time);
	const char *pol = cJSON_GetStringValue(cJSON_GetObjectItem(own, "policy"));
	if (own && !cJSON_IsTrue(cJSON_GetObjectItem(own, "pending")) && pol &&
	    !strcmp(pol, ctx->policy))
		return 1;
	if (own) { /* pending: half-made by holdfast in an earlier attempt */
		hf_log("hf-sched", LOG_LVL_WARNING,
		       "%s/%s: removing half-made snapshot %s (intent recorded, never committed)",
		       job_host(job), job_guest(job), name);
		if (drv_snapshot_delete(c, job_guest(job), name, 0, err) < 0)
			return -1;
		ownstore_drop(k, name, NULL);
		return 0;
	}
	return error_set(
	    err, HF_ERR_CONFLICT,
	    "guest %s/%s already has a snapshot '%s' that holdfast did not make; it is "
	    "left alone and this slot is not taken (rename or delete it)",
	    job_host(job), job_guest(job), name);
}

static cJSON *take(Job *job, NightlyCtx *ctx, DrvConn *c, const OwnKey *k, bool *existing,
		   HfError *err)
{
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(job_params(job), "name"));
	int st = slot_state(job, ctx, c, k, name, err);
	if (st < 0)
		return NULL;
	*existing = st == 1;
	if (st == 1) {
		job_progress(job, 60, "snapshot %s exists: this slot is done", name);
		return cJSON_CreateNull();
	}
	if (snapshot_job_create(job, err) < 0)
		return NULL;
	g_autoptr(cJSON) jj = job_to_json(job);
	cJSON *res = cJSON_GetObjectItem(jj, "result");
	cJSON *snap = cJSON_DetachItemFromObject(res, "snapshot");
	return snap ? snap : cJSON_CreateNull();
}

/* ---- retention ---- */

typedef struct {
	GPtrArray *snaps; /* DrvSnapshot* */
	RetentionSnapshot *rs;
	cJSON *records;
} Owned;

static void owned_clear(Owned *o)
{
	g_clear_pointer(&o->snaps, g_ptr_array_unref);
	g_clear_pointer(&o->rs, g_free);
	g_clear_pointer(&o->records, cJSON_Delete);
}

static cJSON *record_of(const cJSON *records, const DrvSnapshot *s)
{
	cJSON *r;
	cJSON_ArrayForEach(r, records)
	{
		const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(r, "name"));
		if (n && !strcmp(n, s->name) && !cJSON_IsTrue(cJSON_GetObjectItem(r, "pending")) &&
		    (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(r, "created")) ==
			s->creation_time)
			return r;
	}
	return NULL;
}

static int owned_load(Job *job, NightlyCtx *ctx, DrvConn *c, const OwnKey *k, Owned *o,
		      HfError *err)
{
	if (drv_snapshot_list(c, job_guest(job), 0, &o->snaps, err) < 0 ||
	    !(o->records = ownstore_records(k, err)))
		return -1;
	o->rs = g_new0(RetentionSnapshot, o->snaps->len + 1);
	for (guint i = 0; i < o->snaps->len; i++) {
		const DrvSnapshot *s = o->snaps->pdata[i];
		const cJSON *r = record_of(o->records, s);
		const char *pol = cJSON_GetStringValue(cJSON_GetObjectItem(r, "policy"));
		const cJSON *taken = cJSON_GetObjectItem(r, "taken");
		o->rs[i] = (RetentionSnapshot){
		    .name = s->name,
		    .created =
			cJSON_IsNumber(taken) ? (int64_t)taken->valuedouble : s->creation_time,
		    .pinned = cJSON_IsTrue(cJSON_GetObjectItem(r, "pinned")),
		    .owned = pol && !strcmp(pol, ctx->policy),
		};
	}
	return 0;
}

static int prune(Job *job, NightlyCtx *ctx, DrvConn *c, const OwnKey *k, cJSON *res, HfError *err)
{
	Owned o = {0};
	g_autoptr(RetentionPlan) plan = NULL;
	const RetentionRules *rules = &ctx->rules;
	bool changed = strcmp(ctx->rules_hash, ctx->applied_hash) != 0;
	g_autofree char *now_text = retention_rules_format(&ctx->rules);
	g_autofree char *text = NULL;
	int rc = -1;

	job_progress(job, 92, "applying retention");
	if (owned_load(job, ctx, c, k, &o, err) < 0)
		goto out;
	if (retention_plan(o.rs, o.snaps->len, rules, ctx->tz, &plan, err) < 0)
		goto out;
	double share = retention_plan_share(plan);
	if (changed && !ctx->approved && share * 100.0 > ctx->prune_limit) {
		cJSON *h = cJSON_AddObjectToObject(res, "held");
		cJSON_AddStringToObject(h, "rules", now_text);
		cJSON_AddNumberToObject(h, "owned", (double)plan->owned);
		cJSON_AddNumberToObject(h, "would_prune", (double)plan->pruned);
		cJSON_AddNumberToObject(h, "share", share);
		hf_log(
		    "hf-sched", LOG_LVL_WARNING,
		    "%s/%s: policy %s: new rules (%s) would prune %zu of %zu snapshots (> %d%%): "
		    "held back until `holdfast policy apply %s`; the previous rules stay",
		    job_host(job), job_guest(job), ctx->policy, now_text, plan->pruned, plan->owned,
		    ctx->prune_limit, ctx->policy);
		rules = &ctx->applied_rules;
		g_clear_pointer(&plan, retention_plan_free);
		if (retention_plan(o.rs, o.snaps->len, rules, ctx->tz, &plan, err) < 0)
			goto out;
	} else
		cJSON_ReplaceItemInObject(res, "applied", cJSON_CreateTrue());
	text = retention_rules_format(rules);
	cJSON_ReplaceItemInObject(res, "rules", cJSON_CreateString(text));
	cJSON *pruned = cJSON_GetObjectItem(res, "pruned");
	cJSON *perr = cJSON_GetObjectItem(res, "prune_errors");
	int kept = 0;
	for (guint i = 0; i < o.snaps->len; i++) {
		const RetentionDecision *d = &plan->decisions[i];
		const DrvSnapshot *s = o.snaps->pdata[i];
		HfError e = {0};
		if (d->keep) {
			kept += o.rs[i].owned;
			continue;
		}
		if (drv_snapshot_delete(c, job_guest(job), s->name, 0, &e) < 0) {
			cJSON_AddItemToArray(perr, cJSON_CreateString(e.message));
			continue;
		}
		ownstore_drop(k, s->name, NULL);
		hf_log("hf-sched", LOG_LVL_INFO, "%s/%s: policy %s pruned snapshot %s: %s",
		       job_host(job), job_guest(job), ctx->policy, s->name, d->reason);
		cJSON *pj = cJSON_CreateObject();
		cJSON_AddStringToObject(pj, "name", s->name);
		cJSON_AddStringToObject(pj, "reason", d->reason);
		cJSON_AddItemToArray(pruned, pj);
	}
	cJSON_ReplaceItemInObject(res, "kept", cJSON_CreateNumber(kept));
	rc = 0;
out:
	owned_clear(&o);
	return rc;
}

static char *guest_uuid(DrvConn *c, const char *guest, HfError *err)
{
	g_autoptr(DrvGuest) g = NULL;
	if (drv_guest_get(c, guest, 0, &g, err) < 0)
		return NULL;
	return g_strdup(g->uuid ? g->uuid : g->name);
}

int nightly_job(Job *job, HfError *err)
{
	NightlyCtx *ctx = job_ctx(job);
	g_autoptr(HostConn) hc = host_conn_get(ctx->snap.host, err);
	g_autofree char *uuid = NULL;
	cJSON *res = cJSON_CreateObject();
	bool existing = false;

	if (!hc)
		goto fail;
	DrvConn *c = host_conn_drv(hc);
	if (!(uuid = guest_uuid(c, job_guest(job), err)))
		goto fail;
	OwnKey k = {ctx->snap.state_dir, host_name(ctx->snap.host), uuid};
	cJSON_AddNullToObject(res, "snapshot");
	cJSON_AddBoolToObject(res, "existing", 0);
	cJSON_AddNullToObject(res, "skipped");
	cJSON_AddArrayToObject(res, "pruned");
	cJSON_AddNumberToObject(res, "kept", 0);
	cJSON_AddArrayToObject(res, "prune_errors");
	cJSON_AddBoolToObject(res, "applied", 0);
	cJSON_AddNullToObject(res, "rules");
	if (!ctx->prune_only) {
		int sp = check_space(job, ctx, c, res, err);
		if (sp < 0)
			goto fail;
		if (sp > 0) {
			job_set_result(job, res);
			return 0;
		}
		cJSON *snap = take(job, ctx, c, &k, &existing, err);
		if (!snap)
			goto fail;
		cJSON_ReplaceItemInObject(res, "snapshot", snap);
		cJSON_ReplaceItemInObject(res, "existing", cJSON_CreateBool(existing));
	}
	if (job_cancelled(job)) {
		error_set(err, HF_ERR_CANCELLED, "cancelled before retention was applied");
		goto fail;
	}
	if (prune(job, ctx, c, &k, res, err) < 0)
		goto fail;
	job_set_result(job, res);
	return 0;
fail:
	cJSON_Delete(res);
	return -1;
}

/* ---- recovery ---- */

int nightly_job_recover(Job *job, HfError *err)
{
	NightlyCtx *ctx = job_ctx(job);
	g_autoptr(HostConn) hc = host_conn_get(ctx->snap.host, err);
	g_autoptr(GPtrArray) snaps = NULL;
	g_autofree char *uuid = NULL;
	cJSON *r;

	if (!hc)
		return -1;
	DrvConn *c = host_conn_drv(hc);
	if (!(uuid = guest_uuid(c, job_guest(job), err)) ||
	    drv_snapshot_list(c, job_guest(job), 0, &snaps, err) < 0)
		return -1;
	OwnKey k = {ctx->snap.state_dir, host_name(ctx->snap.host), uuid};
	g_autoptr(cJSON) records = ownstore_records(&k, err);
	if (!records)
		return -1;
	cJSON *res = cJSON_CreateObject(), *found = cJSON_AddArrayToObject(res, "half_made");
	cJSON_ArrayForEach(r, records)
	{
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(r, "name"));
		int64_t intent = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(r, "intent"));
		if (!name || !cJSON_IsTrue(cJSON_GetObjectItem(r, "pending")))
			continue;
		DrvSnapshot *s = find_snap(snaps, name);
		const char *action;
		HfError e = {0};
		bool drop = true;
		if (!s)
			action = "never created: record dropped";
		else if (s->creation_time < intent - OWN_SKEW_S)
			action =
			    "a snapshot of that name predates the intent: not holdfast's, kept";
		else if (drv_snapshot_delete(c, job_guest(job), name, 0, &e) == 0)
			action = "made by holdfast, never committed: removed";
		else {
			action =
			    e.message; /* kept with its record: tried again at the next start */
			drop = false;
		}
		if (drop)
			ownstore_drop(&k, name, NULL);
		hf_log("hf-sched", LOG_LVL_WARNING, "%s/%s: half-made snapshot %s (job %.0f): %s",
		       job_host(job), job_guest(job), name,
		       cJSON_GetNumberValue(cJSON_GetObjectItem(r, "job")), action);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "snapshot", name);
		cJSON_AddItemToObject(o, "job", cJSON_Duplicate(cJSON_GetObjectItem(r, "job"), 1));
		cJSON_AddStringToObject(o, "action", action);
		cJSON_AddItemToArray(found, o);
	}
	job_set_result(job, res);
	return 0;
}

/* ---- finding half-made snapshots at start ---- */

static void recover_file(Daemon *d, const char *host, const char *path)
{
	HfError err = {0};
	g_autoptr(cJSON) doc = NULL;
	cJSON *r;
	int n = 0;
	Host *h = hosts_find(d->hosts, host);
	const char *guest;

	if (statefile_read_json(path, &doc, &err) < 0 || !doc)
		return;
	guest = cJSON_GetStringValue(cJSON_GetObjectItem(doc, "guest"));
	cJSON_ArrayForEach(r, cJSON_GetObjectItem(doc, "snapshots"))
	{
		if (!cJSON_IsTrue(cJSON_GetObjectItem(r, "pending")))
			continue;
		n++;
		hf_log("hf-sched", LOG_LVL_WARNING,
		       "found half-made snapshot %s of %s/%s (intent of job %.0f, never committed)",
		       cJSON_GetStringValue(cJSON_GetObjectItem(r, "name")), host,
		       guest ? guest : "?", cJSON_GetNumberValue(cJSON_GetObjectItem(r, "job")));
	}
	if (!n || !h || !guest)
		return;
	NightlyCtx *c = nightly_ctx_new(h, d->cfg->state_dir, d->cfg->agent_timeout);
	cJSON *params = cJSON_CreateObject();
	cJSON_AddNumberToObject(params, "pending", n);
	JobSpec spec = {.kind = "snapshot.recover",
			.host = host,
			.guest = guest,
			.params = params,
			.run = nightly_job_recover,
			.ctx = c,
			.ctx_free = nightly_ctx_free};
	jobs_submit(d->jobs, &spec);
}

void nightly_recover(Daemon *d)
{
	g_autofree char *top = g_build_filename(d->cfg->state_dir, "snapshots", NULL);
	g_autoptr(GDir) dir = g_dir_open(top, 0, NULL);
	const char *host, *f;
	while (dir && (host = g_dir_read_name(dir))) {
		g_autofree char *hd = g_build_filename(top, host, NULL);
		g_autoptr(GDir) d2 = g_dir_open(hd, 0, NULL);
		while (d2 && (f = g_dir_read_name(d2)))
			if (g_str_has_suffix(f, ".json")) {
				g_autofree char *path = g_build_filename(hd, f, NULL);
				recover_file(d, host, path);
			}
	}
}

/* ---- pin / unpin ---- */

typedef struct {
	Host *host;
	char *guest, *state_dir;
	bool pin;
} PinReq;

static void pin_free(PinReq *p)
{
	host_unref(p->host);
	g_free(p->guest);
	g_free(p->state_dir);
	g_free(p);
}

static cJSON *t_pin(Call *call, HfError *err)
{
	PinReq *p = call->data;
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(call->params, "snapshot"));
	g_autoptr(HostConn) hc = host_conn_get(p->host, err);
	g_autoptr(GPtrArray) snaps = NULL;
	g_autofree char *uuid = NULL;

	if (!hc)
		return NULL;
	DrvConn *c = host_conn_drv(hc);
	if (!(uuid = guest_uuid(c, p->guest, err)) ||
	    drv_snapshot_list(c, p->guest, 0, &snaps, err) < 0)
		return NULL;
	DrvSnapshot *s = find_snap(snaps, name);
	if (!s) {
		error_set(err, HF_ERR_NOT_FOUND,
			  "guest %s/%s has no snapshot '%s'; see `holdfast snapshot list %s/%s`",
			  host_name(p->host), p->guest, name, host_name(p->host), p->guest);
		return NULL;
	}
	OwnKey k = {p->state_dir, host_name(p->host), uuid};
	if (ownstore_pin(&k, name, s->creation_time, p->pin, err) < 0)
		return NULL;
	hf_log("hf-sched", LOG_LVL_INFO, "%s snapshot %s of %s/%s", p->pin ? "pinned" : "unpinned",
	       name, host_name(p->host), p->guest);
	cJSON *own = ownstore_lookup(&k, name, s->creation_time);
	cJSON *r = cJSON_CreateObject();
	g_autofree char *addr = g_strdup_printf("%s/%s", host_name(p->host), p->guest);
	cJSON_AddStringToObject(r, "guest", addr);
	cJSON_AddItemToObject(r, "snapshot", snapshot_to_json(s, own));
	cJSON_Delete(own);
	return r;
}

static void handle_pin(Call *call, bool pin)
{
	HfError err = {0};
	Host *h = NULL;
	char *guest = NULL;
	const char *addr = cJSON_GetStringValue(cJSON_GetObjectItem(call->params, "guest"));
	if (hosts_resolve(call->d->hosts, addr, &h, &guest, &err) < 0) {
		call_reply_error(call, &err);
		return;
	}
	PinReq *p = g_new0(PinReq, 1);
	p->host = host_ref(h);
	p->guest = guest;
	p->state_dir = g_strdup(call->d->cfg->state_dir);
	p->pin = pin;
	call->data = p;
	call->data_free = (GDestroyNotify)pin_free;
	call_in_thread(call, t_pin);
}

void nightly_handle_pin(Call *call)
{
	handle_pin(call, true);
}

void nightly_handle_unpin(Call *call)
{
	handle_pin(call, false);
}
