/* snapshot.c - snapshot jobs and the JSON of guests and snapshots. */
#include "snapshot.h"

#include <string.h>

#include "clock.h"
#include "drmark.h"
#include "log.h"
#include "ownstore.h"
#include "timefmt.h"

#define AGENT_OS_TIMEOUT_S 5

SnapCtx *snapshot_ctx_new(Host *h, const char *state_dir, int agent_timeout)
{
	SnapCtx *c = g_new0(SnapCtx, 1);
	c->host = host_ref(h);
	c->state_dir = g_strdup(state_dir);
	c->agent_timeout = agent_timeout;
	return c;
}

void snapshot_ctx_free(void *ctx)
{
	SnapCtx *c = ctx;
	host_unref(c->host);
	g_free(c->state_dir);
	g_free(c);
}

int snapshot_name_check(const char *name, HfError *err)
{
	size_t n = strlen(name);
	if (n == 0 || n > 128 || name[0] == '.' || name[0] == '-' || strchr(name, '/'))
		goto bad;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			goto bad;
	return 0;
bad:
	return error_set(err, HF_ERR_INVALID_PARAMS,
			 "snapshot name '%s' is not allowed: use 1-128 printable characters, no "
			 "'/', not starting with '.' or '-'",
			 name);
}

char *snapshot_default_name(int64_t t)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
	return g_date_time_format(dt, "hf-%Y%m%dT%H%M%SZ");
}

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

cJSON *guest_to_json(const DrvGuest *g, const char *host, bool unreachable)
{
	cJSON *o = cJSON_CreateObject(), *os, *disks;
	g_autofree char *addr = g_strdup_printf("%s/%s", host, g->name);

	cJSON_AddStringToObject(o, "address", addr);
	cJSON_AddStringToObject(o, "host", host);
	cJSON_AddStringToObject(o, "name", g->name);
	add_str(o, "uuid", g->uuid);
	add_str(o, "title", g->title);
	add_str(o, "description", g->description);
	cJSON_AddStringToObject(o, "state",
				unreachable ? "host-unreachable" : drv_state_name(g->state));
	os = cJSON_AddObjectToObject(o, "os");
	add_str(os, "id", g->os_id);
	add_str(os, "source", g->os_source);
	cJSON_AddBoolToObject(os, "win2008", g->win2008);
	cJSON_AddNumberToObject(o, "vcpus", g->vcpus);
	cJSON_AddNumberToObject(o, "memory_mib", (double)(g->memory_kib / 1024));
	cJSON_AddBoolToObject(o, "persistent", g->persistent);
	disks = cJSON_AddArrayToObject(o, "disks");
	for (guint i = 0; i < g->disks->len; i++) {
		const DrvDisk *d = g->disks->pdata[i];
		cJSON *dj = cJSON_CreateObject();
		add_str(dj, "target", d->target);
		add_str(dj, "device", d->device);
		add_str(dj, "path", d->path);
		add_str(dj, "format", d->format);
		cJSON_AddNumberToObject(dj, "capacity", (double)d->capacity);
		cJSON_AddNumberToObject(dj, "allocation", (double)d->allocation);
		cJSON_AddItemToArray(disks, dj);
	}
	cJSON *tags = cJSON_AddArrayToObject(o, "tags");
	for (char **t = g->tags; t && *t; t++)
		cJSON_AddItemToArray(tags, cJSON_CreateString(*t));
	return o;
}

cJSON *snapshot_to_json(const DrvSnapshot *s, const cJSON *own)
{
	static const char *const kinds[] = {"internal", "external", "other"};
	cJSON *o = cJSON_CreateObject();
	g_autofree char *created = timefmt_iso(s->creation_time);

	cJSON_AddStringToObject(o, "name", s->name);
	add_str(o, "description", s->description);
	add_str(o, "parent", s->parent);
	cJSON_AddStringToObject(o, "created", created);
	add_str(o, "state", s->state);
	cJSON_AddStringToObject(o, "kind", kinds[s->kind]);
	cJSON_AddBoolToObject(o, "memory", s->has_memory);
	cJSON_AddBoolToObject(o, "current", s->current);
	cJSON_AddStringToObject(o, "owner", own ? "holdfast" : "foreign");
	add_str(o, "consistency", cJSON_GetStringValue(cJSON_GetObjectItem(own, "consistency")));
	add_str(o, "consistency_reason", cJSON_GetStringValue(cJSON_GetObjectItem(own, "reason")));
	add_str(o, "quiesce", cJSON_GetStringValue(cJSON_GetObjectItem(own, "quiesce")));
	cJSON_AddBoolToObject(o, "pinned", cJSON_IsTrue(cJSON_GetObjectItem(own, "pinned")));
	add_str(o, "policy", cJSON_GetStringValue(cJSON_GetObjectItem(own, "policy")));
	return o;
}

static gint by_time(gconstpointer a, gconstpointer b)
{
	const DrvSnapshot *x = *(DrvSnapshot *const *)a, *y = *(DrvSnapshot *const *)b;
	return x->creation_time < y->creation_time ? -1 : x->creation_time > y->creation_time;
}

/* The guest's uuid (ownership records are kept per uuid). */
static char *guest_uuid(DrvConn *c, const char *guest, DrvGuest **out, HfError *err)
{
	DrvGuest *g = NULL;
	if (drv_guest_get(c, guest, 0, &g, err) < 0)
		return NULL;
	char *u = g_strdup(g->uuid ? g->uuid : g->name);
	if (out)
		*out = g;
	else
		drv_guest_free(g);
	return u;
}

cJSON *snapshot_list_json(HostConn *hc, const char *state_dir, const char *host, const char *guest,
			  HfError *err)
{
	DrvConn *c = host_conn_drv(hc);
	g_autoptr(GPtrArray) snaps = NULL;
	g_autofree char *uuid = guest_uuid(c, guest, NULL, err);
	g_autofree char *addr = g_strdup_printf("%s/%s", host, guest);

	if (!uuid || drv_snapshot_list(c, guest, 0, &snaps, err) < 0)
		return NULL;
	g_ptr_array_sort(snaps, by_time);
	OwnKey k = {state_dir, host, uuid};
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "guest", addr);
	cJSON *arr = cJSON_AddArrayToObject(o, "snapshots");
	for (guint i = 0; i < snaps->len; i++) {
		const DrvSnapshot *s = snaps->pdata[i];
		cJSON *own = ownstore_lookup(&k, s->name, s->creation_time);
		cJSON_AddItemToArray(arr, snapshot_to_json(s, own));
		cJSON_Delete(own);
	}
	return o;
}

/* ---- create ---- */

typedef struct {
	const char *consistency;
	char *reason;
	bool frozen; /* maybe frozen: a timed-out freeze may still complete in the guest */
} Quiesce;

/* Does the guest agent speak for Windows (VSS behind fs-freeze)? 1 yes, 0 no, -1 unknown (an
 * old agent without guest-get-osinfo, or a backend without agent commands), -2 when the agent
 * is absent or silent (e set): then no freeze is sent at all. */
static int agent_is_windows(DrvConn *c, const char *guest, int timeout, HfError *e)
{
	g_autofree char *reply = NULL;
	if (drv_agent_command(c, guest, "{\"execute\":\"guest-get-osinfo\"}",
			      MIN(timeout, AGENT_OS_TIMEOUT_S), 0, &reply, e) < 0) {
		bool dead = !strcmp(e->code, HF_ERR_AGENT_TIMEOUT) ||
			    !strcmp(e->code, HF_ERR_AGENT_UNAVAILABLE);
		if (!dead)
			error_clear(e);
		return dead ? -2 : -1;
	}
	cJSON *r = cJSON_Parse(reply);
	const char *id =
	    cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "return"), "id"));
	int win = id ? !strcmp(id, "mswindows") : -1;
	cJSON_Delete(r);
	return win;
}

static int quiesce(Job *job, DrvConn *c, const DrvGuest *g, const char *mode, int timeout,
		   Quiesce *q, HfError *err)
{
	HfError ferr = {0};
	int n = 0;

	if (g->state == DRV_STATE_SHUTOFF) {
		q->consistency = "application";
		q->reason = g_strdup("guest was shut off: no I/O in flight, as consistent as its "
				     "last shutdown");
		return 0;
	}
	if (!strcmp(mode, "no")) {
		q->consistency = "crash";
		q->reason = g_strdup("quiesce not requested (--quiesce no)");
		return 0;
	}
	job_progress(job, 10, "asking the guest agent for the guest's OS");
	int win = agent_is_windows(c, g->name, timeout, &ferr);
	if (win != -2)
		job_progress(job, 20, "freezing guest filesystems (bound %d s)", timeout);
	if (win != -2 && drv_fs_freeze(c, g->name, timeout, 0, &n, &ferr) == 0) {
		q->frozen = true;
		bool vss = win == 1 || (win < 0 && g->win2008);
		q->consistency = vss ? "application" : "filesystem";
		q->reason = g_strdup_printf(
		    vss ? "%d filesystem(s) frozen through the guest agent (Windows VSS)"
			: "%d filesystem(s) frozen through the guest agent (no VSS on this OS)",
		    n);
		return 0;
	}
	/* A freeze that timed out may still happen in the guest later: thaw regardless. When the
	 * agent was already silent or absent, no freeze was sent and nothing needs a thaw. */
	q->frozen = win != -2 && !strcmp(ferr.code, HF_ERR_AGENT_TIMEOUT);
	if (!strcmp(mode, "yes")) {
		error_set(err, ferr.code, "%s; no snapshot taken (quiesce=yes)", ferr.message);
		return -1;
	}
	q->consistency = "crash";
	q->reason = g_strdup_printf("quiesce failed, fell back to crash-consistent: %s [%s]",
				    ferr.message, ferr.code);
	hf_log("hf-snap", LOG_LVL_WARNING, "%s: %s", g->name, q->reason);
	return 0;
}

/* Always thaw after a (possible) freeze; a second try when the first fails. */
static char *thaw(Job *job, DrvConn *c, const char *guest, int timeout)
{
	HfError e = {0};
	int n = 0;
	job_progress(job, 70, "thawing guest filesystems");
	for (int i = 0; i < 2; i++) {
		error_clear(&e);
		if (drv_fs_thaw(c, guest, timeout, 0, &n, &e) == 0)
			return NULL;
	}
	hf_log("hf-snap", LOG_LVL_ERROR, "%s: thaw failed, the guest may still be frozen: %s",
	       guest, e.message);
	return g_strdup_printf("thaw failed, the guest may still be frozen (%s); run `virsh "
			       "domfsthaw %s` or restart the guest agent",
			       e.message, guest);
}

/* Record what a self-quiescing driver reports; never a silent downgrade: quiesce=yes with
 * less than application consistency fails (and the snapshot goes). */
static int self_quiesced(DrvConn *c, const char *guest, DrvSnapshot *snap, const char *mode,
			 Quiesce *q, HfError *err)
{
	HfError e = {0};
	q->consistency = snap->consistency ? snap->consistency : "crash";
	q->reason =
	    g_strdup(snap->consistency_reason ? snap->consistency_reason
					      : "the driver did not report the consistency");
	if (!strcmp(mode, "yes") && strcmp(q->consistency, "application")) {
		drv_snapshot_delete(c, guest, snap->name, 0, &e);
		return error_set(
		    err, HF_ERR_FAILED,
		    "snapshot of %s is only %s-consistent (%s); deleted it (quiesce=yes)", guest,
		    q->consistency, q->reason);
	}
	if (!strcmp(mode, "try") && strcmp(q->consistency, "application"))
		hf_log("hf-snap", LOG_LVL_WARNING, "%s: %s", guest, q->reason);
	return 0;
}

/* A nightly snapshot (scheduler): params "policy" and "slot" go into the ownership record. */
static int policy_tag(const OwnKey *k, const cJSON *p, const char *name, HfError *err)
{
	const char *policy = cJSON_GetStringValue(cJSON_GetObjectItem(p, "policy"));
	const cJSON *slot = cJSON_GetObjectItem(p, "slot");
	if (!policy)
		return 0;
	return ownstore_set_policy(k, name, policy,
				   cJSON_IsNumber(slot) ? (int64_t)slot->valuedouble : 0,
				   clock_now(), err);
}

int snapshot_job_create(Job *job, HfError *err)
{
	SnapCtx *ctx = job_ctx(job);
	const cJSON *p = job_params(job);
	const char *guest = job_guest(job);
	const char *mode = cJSON_GetStringValue(cJSON_GetObjectItem(p, "quiesce"));
	const cJSON *to = cJSON_GetObjectItem(p, "timeout");
	int timeout = cJSON_IsNumber(to) ? to->valueint : ctx->agent_timeout;
	g_autofree char *name = g_strdup(cJSON_GetStringValue(cJSON_GetObjectItem(p, "name")));
	g_autoptr(HostConn) hc = host_conn_get(ctx->host, err);
	g_autoptr(DrvGuest) g = NULL;
	g_autoptr(DrvSnapshot) snap = NULL;
	g_autofree char *thaw_err = NULL;
	Quiesce q = {0};
	int rc;

	if (!hc)
		return -1;
	DrvConn *c = host_conn_drv(hc);
	if (!mode)
		mode = "no";
	if (!name)
		name = snapshot_default_name(g_get_real_time() / G_USEC_PER_SEC);
	job_progress(job, 5, "checking guest %s", guest);
	g_autofree char *uuid = guest_uuid(c, guest, &g, err);
	if (!uuid || drmark_refuse(c, guest, "snapshots", err) < 0)
		goto fail;
	/* Drivers that quiesce by themselves (Hyper-V production checkpoints): no agent freeze. */
	bool self_q = (c->drv->caps & DRV_CAP_SELF_QUIESCE) != 0;
	if (!self_q && quiesce(job, c, g, mode, timeout, &q, err) < 0) {
		if (q.frozen)
			thaw_err = thaw(job, c, guest, timeout);
		goto fail;
	}
	OwnKey k = {ctx->state_dir, host_name(ctx->host), uuid};
	if (job_cancelled(job))
		rc = error_set(err, HF_ERR_CANCELLED, "cancelled before the snapshot was taken");
	else if ((rc = ownstore_intent(&k, guest, name, job_id(job), err)) == 0 &&
		 (rc = policy_tag(&k, p, name, err)) == 0) {
		job_progress(job, 50, "creating snapshot %s", name);
		DrvSnapshotSpec spec = {
		    .name = name,
		    .description = cJSON_GetStringValue(cJSON_GetObjectItem(p, "description")),
		    .quiesce = mode,
		};
		rc = drv_snapshot_create(c, guest, &spec, 0, &snap, err);
		if (rc == 0 && self_q)
			rc = self_quiesced(c, guest, snap, mode, &q, err);
	}
	if (q.frozen)
		thaw_err = thaw(job, c, guest, timeout);
	if (rc < 0) {
		if (strcmp(err->code,
			   HF_ERR_CONFLICT)) /* never drop the record of an existing one */
			ownstore_drop(&k, name, NULL);
		goto fail;
	}
	job_progress(job, 90, "recording snapshot %s", name);
	if (ownstore_commit(&k, name, snap->creation_time, q.consistency, q.reason, mode, err) < 0)
		goto fail;
	cJSON *own = ownstore_lookup(&k, name, snap->creation_time);
	cJSON *res = cJSON_CreateObject();
	cJSON_AddItemToObject(res, "snapshot", snapshot_to_json(snap, own));
	cJSON_Delete(own);
	if (thaw_err)
		cJSON_AddStringToObject(res, "warning", thaw_err);
	else if (snap->dropped_checkpoints)
		cJSON_AddStringToObject(
		    res, "warning",
		    "the guest is shut off and had holdfast DR checkpoints, which "
		    "libvirt does not allow beside a new snapshot: they were "
		    "deleted, so the next DR copy of this guest is a full");
	job_set_result(job, res);
	g_free(q.reason);
	return 0;
fail:
	if (thaw_err)
		error_prefix(err, "%s; also", thaw_err);
	host_report(ctx->host, guest, err);
	g_free(q.reason);
	return -1;
}

/* ---- revert / delete ---- */

static DrvSnapshot *find_snapshot(DrvConn *c, const char *host, const char *guest, const char *name,
				  HfError *err)
{
	g_autoptr(GPtrArray) snaps = NULL;
	if (drv_snapshot_list(c, guest, 0, &snaps, err) < 0)
		return NULL;
	for (guint i = 0; i < snaps->len; i++) {
		DrvSnapshot *s = snaps->pdata[i];
		if (!strcmp(s->name, name))
			return g_ptr_array_steal_index(snaps, i);
	}
	error_set(err, HF_ERR_NOT_FOUND,
		  "guest %s/%s has no snapshot '%s'; see `holdfast snapshot list %s/%s`", host,
		  guest, name, host, guest);
	return NULL;
}

/* A snapshot with memory that holdfast took while the guest's filesystems were frozen resumes
 * FROZEN after a revert: the guest kernel and its agent continue exactly between freeze and
 * thaw (seen on QEMU: writes block and qemu-ga refuses guest-exec until a thaw). So thaw, and
 * retry while the agent channel comes back after QEMU restarted with the snapshot. Returns a
 * note for the job result. */
static char *thaw_after_revert(Job *job, DrvConn *c, const char *guest, int timeout)
{
	gint64 until = g_get_monotonic_time() + (gint64)timeout * G_USEC_PER_SEC;
	HfError e = {0};
	int n = 0;

	job_progress(job, 70, "thawing %s: the snapshot was taken with frozen filesystems", guest);
	for (;;) {
		error_clear(&e);
		if (drv_fs_thaw(c, guest, timeout, 0, &n, &e) == 0)
			return g_strdup_printf("thawed %d filesystem(s) frozen in the snapshot", n);
		if (strcmp(e.code, HF_ERR_AGENT_UNAVAILABLE) || g_get_monotonic_time() > until)
			break;
		g_usleep(250 * 1000);
	}
	hf_log("hf-snap", LOG_LVL_ERROR, "%s: thaw after revert failed: %s", guest, e.message);
	return g_strdup_printf("thaw after revert failed, the guest may be frozen (%s); run `virsh "
			       "domfsthaw %s`",
			       e.message, guest);
}

int snapshot_job_revert(Job *job, HfError *err)
{
	SnapCtx *ctx = job_ctx(job);
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(job_params(job), "snapshot"));
	const char *guest = job_guest(job);
	g_autoptr(HostConn) hc = host_conn_get(ctx->host, err);
	g_autoptr(DrvSnapshot) s = NULL;
	g_autoptr(DrvGuest) g = NULL;
	g_autofree char *uuid = NULL, *thaw_note = NULL;
	cJSON *own = NULL;

	if (!hc)
		return -1;
	DrvConn *c = host_conn_drv(hc);
	job_progress(job, 10, "looking up snapshot %s", name);
	/* a revert to a running snapshot would start a failed-over source: refused */
	if (!(uuid = guest_uuid(c, guest, NULL, err)) ||
	    drmark_refuse(c, guest, "snapshot reverts", err) < 0 ||
	    !(s = find_snapshot(c, host_name(ctx->host), guest, name, err)))
		goto fail;
	OwnKey k = {ctx->state_dir, host_name(ctx->host), uuid};
	own = ownstore_lookup(&k, name, s->creation_time);
	const char *cons = cJSON_GetStringValue(cJSON_GetObjectItem(own, "consistency"));
	const char *q = cJSON_GetStringValue(cJSON_GetObjectItem(own, "quiesce"));
	bool frozen_inside = s->has_memory && q && strcmp(q, "no") && cons &&
			     (!strcmp(cons, "application") || !strcmp(cons, "filesystem")) &&
			     !(c->drv->caps & DRV_CAP_SELF_QUIESCE);
	job_progress(job, 30, "reverting %s to %s", guest, name);
	if (drv_snapshot_revert(c, guest, name, 0, err) < 0 ||
	    drv_guest_get(c, guest, 0, &g, err) < 0)
		goto fail;
	if (frozen_inside && g->state == DRV_STATE_RUNNING)
		thaw_note = thaw_after_revert(job, c, guest, ctx->agent_timeout);
	cJSON *res = cJSON_CreateObject();
	cJSON_AddStringToObject(res, "reverted", name);
	cJSON_AddStringToObject(res, "state", drv_state_name(g->state));
	if (thaw_note)
		cJSON_AddStringToObject(res, "thaw", thaw_note);
	job_set_result(job, res);
	host_guest_changed(ctx->host, guest);
	cJSON_Delete(own);
	return 0;
fail:
	cJSON_Delete(own);
	host_report(ctx->host, guest, err);
	return -1;
}

int snapshot_job_delete(Job *job, HfError *err)
{
	SnapCtx *ctx = job_ctx(job);
	const cJSON *p = job_params(job);
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(p, "snapshot"));
	bool force = cJSON_IsTrue(cJSON_GetObjectItem(p, "force"));
	const char *guest = job_guest(job);
	g_autoptr(HostConn) hc = host_conn_get(ctx->host, err);
	g_autoptr(DrvSnapshot) s = NULL;
	g_autofree char *uuid = NULL;
	cJSON *own = NULL;

	if (!hc)
		return -1;
	DrvConn *c = host_conn_drv(hc);
	job_progress(job, 10, "looking up snapshot %s", name);
	if (!(uuid = guest_uuid(c, guest, NULL, err)) ||
	    !(s = find_snapshot(c, host_name(ctx->host), guest, name, err)))
		goto fail;
	OwnKey k = {ctx->state_dir, host_name(ctx->host), uuid};
	own = ownstore_lookup(&k, name, s->creation_time);
	if (!own && !force) {
		error_set(err, HF_ERR_PERMISSION,
			  "snapshot '%s' of %s/%s was not made by holdfast, so holdfast will not "
			  "delete it; add --force to delete it anyway",
			  name, host_name(ctx->host), guest);
		goto fail;
	}
	job_progress(job, 40, "deleting snapshot %s", name);
	if (drv_snapshot_delete(c, guest, name, 0, err) < 0)
		goto fail;
	if (own)
		ownstore_drop(&k, name, NULL);
	hf_log("hf-snap", LOG_LVL_INFO, "deleted snapshot %s of %s/%s (%s%s)", name,
	       host_name(ctx->host), guest, own ? "holdfast-owned" : "foreign",
	       force ? ", --force" : "");
	cJSON *res = cJSON_CreateObject();
	cJSON_AddStringToObject(res, "deleted", name);
	cJSON_AddStringToObject(res, "owner", own ? "holdfast" : "foreign");
	cJSON_AddBoolToObject(res, "forced", force);
	job_set_result(job, res);
	cJSON_Delete(own);
	return 0;
fail:
	cJSON_Delete(own);
	if (strcmp(err->code, HF_ERR_PERMISSION))
		host_report(ctx->host, guest, err);
	return -1;
}
