/* handlers.c - one handler per row of the method table (common/methods.c). */
#include <string.h>

#include "jobcall.h"
#include "checks.h"
#include "daemon.h"
#include "drapi.h"
#include "drcopy.h"
#include "drfailover.h"
#include "drrestore.h"
#include "drtest.h"
#include "log.h"
#include "nightly.h"
#include "policyapi.h"
#include "snapshot.h"

static void reply_err(Call *call, HfError *err)
{
	call_reply_error(call, err);
}

static const char *param_str(Call *call, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItem(call->params, k));
}

/* ---- daemon ---- */

static void h_version(Call *call)
{
	cJSON *r = cJSON_CreateObject();
	g_autofree char *glib = g_strdup_printf("%u.%u.%u", glib_major_version, glib_minor_version,
						glib_micro_version);
	cJSON_AddStringToObject(r, "version", HF_VERSION);
	cJSON_AddNumberToObject(r, "protocol", HF_PROTOCOL_VERSION);
	cJSON_AddStringToObject(r, "libvirt", call->d->libvirt_version);
	cJSON_AddStringToObject(r, "glib", glib);
	cJSON_AddStringToObject(r, "cjson", cJSON_Version());
	call_reply_result(call, r);
}

static void h_reload(Call *call)
{
	HfError err = {0};
	if (daemon_reload(call->d, &err) < 0)
		{ reply_err(call, &err); return; }
	cJSON *r = cJSON_CreateObject();
	cJSON_AddBoolToObject(r, "reloaded", 1);
	cJSON_AddNumberToObject(r, "hosts", hosts_count(call->d->hosts));
	call_reply_result(call, r);
}

/* ---- guests ---- */

static void h_guests(Call *call)
{
	const char *only = param_str(call, "host");
	bool all = cJSON_IsTrue(cJSON_GetObjectItem(call->params, "all"));
	Hosts *hs = call->d->hosts;
	HfError err = {0};
	cJSON *r, *guests, *hosts;

	if (only && !hosts_find(hs, only)) {
		error_set(&err, HF_ERR_NOT_FOUND, "host '%s' is not in the configuration", only);
		{ reply_err(call, &err); return; }
	}
	r = cJSON_CreateObject();
	guests = cJSON_AddArrayToObject(r, "guests");
	hosts = cJSON_AddArrayToObject(r, "hosts");
	for (guint i = 0; i < hosts_count(hs); i++) {
		Host *h = hosts_nth(hs, i);
		g_autofree char *herr = NULL;
		HostState st = host_state(h, &herr);
		if (only && strcmp(only, host_name(h)))
			continue;
		g_autoptr(GPtrArray) gs = host_guests(h);
		int n = 0;
		for (guint j = 0; j < gs->len; j++) {
			const DrvGuest *g = gs->pdata[j];
			if (!all && !g->win2008)
				continue;
			cJSON_AddItemToArray(guests,
					     guest_to_json(g, host_name(h), st != HOST_CONNECTED));
			n++;
		}
		cJSON *hj = cJSON_CreateObject();
		cJSON_AddStringToObject(hj, "name", host_name(h));
		cJSON_AddStringToObject(hj, "uri", host_uri(h));
		cJSON_AddStringToObject(hj, "state", host_state_name(st));
		if (herr)
			cJSON_AddStringToObject(hj, "error", herr);
		else
			cJSON_AddNullToObject(hj, "error");
		cJSON_AddNumberToObject(hj, "guests", n);
		cJSON_AddItemToArray(hosts, hj);
	}
	call_reply_result(call, r);
}

typedef struct {
	Host *host;
	char *guest;
	char *state_dir;
} Target;

static void target_free(Target *t)
{
	host_unref(t->host);
	g_free(t->guest);
	g_free(t->state_dir);
	g_free(t);
}

static bool resolve(Call *call, Target *out_host, HfError *err)
{
	Host *h = NULL;
	char *guest = NULL;
	if (hosts_resolve(call->d->hosts, param_str(call, "guest"), &h, &guest, err) < 0)
		return false;
	out_host->host = host_ref(h);
	out_host->guest = guest;
	out_host->state_dir = g_strdup(call->d->cfg->state_dir);
	return true;
}

/* Resolve the guest on the main thread, then run fn on a worker with call->data = Target. */
static void run_on_target(Call *call, CallThreadFn fn)
{
	HfError err = {0};
	Target *t = g_new0(Target, 1);
	if (!resolve(call, t, &err)) {
		g_free(t);
		{ reply_err(call, &err); return; }
	}
	call->data = t;
	call->data_free = (GDestroyNotify)target_free;
	call_in_thread(call, fn);
}

static cJSON *t_guest_show(Call *call, HfError *err)
{
	Target *t = call->data;
	g_autoptr(HostConn) hc = host_conn_get(t->host, NULL);
	g_autoptr(DrvGuest) g = NULL;
	cJSON *r = NULL;
	int nsnap = -1;

	if (hc && drv_guest_get(host_conn_drv(hc), t->guest, 0, &g, err) == 0) {
		g_autoptr(GPtrArray) snaps = NULL;
		HfError e = {0};
		if (drv_snapshot_list(host_conn_drv(hc), t->guest, 0, &snaps, &e) == 0)
			nsnap = (int)snaps->len;
	} else if (!hc) {
		g = host_guest(t->host, t->guest); /* last known, marked unreachable */
	}
	if (g) {
		r = cJSON_CreateObject();
		cJSON_AddItemToObject(r, "guest", guest_to_json(g, host_name(t->host), !hc));
		if (nsnap >= 0)
			cJSON_AddNumberToObject(r, "snapshots", nsnap);
		else
			cJSON_AddNullToObject(r, "snapshots");
	} else if (!err->code[0])
		error_set(err, HF_ERR_NOT_FOUND, "guest '%s' is gone from host '%s'", t->guest,
			  host_name(t->host));
	return r;
}

static void h_guest_show(Call *call)
{
	run_on_target(call, t_guest_show);
}

/* ---- snapshots ---- */

static cJSON *t_snapshot_list(Call *call, HfError *err)
{
	Target *t = call->data;
	g_autoptr(HostConn) hc = host_conn_get(t->host, err);
	cJSON *r = hc ? snapshot_list_json(hc, t->state_dir, host_name(t->host), t->guest, err)
		      : NULL;
	if (!r)
		host_report(t->host, t->guest, err);
	return r;
}

static void h_snapshot_list(Call *call)
{
	run_on_target(call, t_snapshot_list);
}

static void submit_job(Call *call, JobRunFn fn)
{
	HfError err = {0};
	Target t = {0};
	const char *name = param_str(call, "name");

	if (name && snapshot_name_check(name, &err) < 0)
		{ reply_err(call, &err); return; }
	if (!resolve(call, &t, &err))
		{ reply_err(call, &err); return; }
	if (jobcall_host_check(t.host, &err) < 0) {
		host_unref(t.host);
		g_free(t.guest);
		g_free(t.state_dir);
		reply_err(call, &err);
		return;
	}
	JobSpec spec = {
		.kind = call->method->name,
		.host = host_name(t.host),
		.guest = t.guest,
		.params = cJSON_Duplicate(call->params, 1),
		.run = fn,
		.ctx = snapshot_ctx_new(t.host, t.state_dir, call->d->cfg->agent_timeout),
		.ctx_free = snapshot_ctx_free,
	};
	jobcall_submit(call, &spec);
	host_unref(t.host);
	g_free(t.guest);
	g_free(t.state_dir);
}

static void h_snapshot_create(Call *call)
{
	submit_job(call, snapshot_job_create);
}

static void h_snapshot_revert(Call *call)
{
	submit_job(call, snapshot_job_revert);
}

static void h_snapshot_delete(Call *call)
{
	submit_job(call, snapshot_job_delete);
}

/* ---- jobs ---- */

static Job *find_job(Call *call, HfError *err)
{
	int64_t id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(call->params, "job"));
	Job *j = jobs_get(call->d->jobs, id);
	if (!j)
		error_set(err, HF_ERR_NOT_FOUND,
			  "job %" G_GINT64_FORMAT " not found (see `holdfast jobs list`)", id);
	return j;
}

static cJSON *wrap_job(cJSON *job)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddItemToObject(r, "job", job);
	return r;
}

static void h_jobs_list(Call *call)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddItemToObject(r, "jobs", jobs_list_json(call->d->jobs, param_str(call, "state"),
							 param_str(call, "guest")));
	call_reply_result(call, r);
}

static void h_jobs_get(Call *call)
{
	HfError err = {0};
	Job *j = find_job(call, &err);
	if (!j)
		{ reply_err(call, &err); return; }
	call_reply_result(call, wrap_job(job_to_json(j)));
}

static void h_jobs_cancel(Call *call)
{
	HfError err = {0};
	Job *j = find_job(call, &err);
	if (!j || jobs_cancel(call->d->jobs, job_id(j), &err) < 0)
		{ reply_err(call, &err); return; }
	call_reply_result(call, wrap_job(job_to_json(j)));
}

typedef struct {
	Call *call;
	Job *job;
	guint watch_id, close_id;
} Watch;

static void watch_event(Job *job, const cJSON *json, bool final, void *opaque)
{
	Watch *w = opaque;
	if (!final) {
		call_event(w->call, wrap_job(cJSON_Duplicate(json, 1)));
		return;
	}
	client_cancel_on_close(w->call->client, w->close_id);
	call_reply_result(w->call, wrap_job(cJSON_Duplicate(json, 1)));
	g_free(w);
}

static void watch_gone(void *opaque)
{
	Watch *w = opaque;
	HfError err = {0};
	jobs_unwatch(w->job, w->watch_id);
	error_set(&err, HF_ERR_CANCELLED, "client went away");
	call_reply_error(w->call, &err); /* frees the call; nothing is sent */
	g_free(w);
}

static void h_jobs_watch(Call *call)
{
	HfError err = {0};
	Job *j = find_job(call, &err);
	if (!j)
		{ reply_err(call, &err); return; }
	cJSON *now = job_to_json(j);
	if (job_is_final(j))
		{ call_reply_result(call, wrap_job(now)); return; }
	call_event(call, wrap_job(now));
	Watch *w = g_new0(Watch, 1);
	w->call = call;
	w->job = j;
	w->watch_id = jobs_watch(j, watch_event, w);
	w->close_id = client_on_close(call->client, watch_gone, w);
}

/* ---- build checks (daemon/checks.c) ---- */

/* A job: the fleet's checks run on worker threads, the result is the check document. */
static void h_check_run(Call *call)
{
	HfError err = {0};
	cJSON *r = NULL;
	if (checks_submit(call->d, call->params, &r, &err) < 0) {
		reply_err(call, &err);
		return;
	}
	call_reply_result(call, r);
}

/* Pure computation on the given evidence: answered at once on the main thread. */
static void h_check_classify(Call *call)
{
	HfError err = {0};
	cJSON *r = checks_classify(call->d->cfg, call->params, &err);
	if (!r) {
		reply_err(call, &err);
		return;
	}
	call_reply_result(call, r);
}

static const struct {
	const char *method;
	HandlerFn fn;
} handlers[] = {
	{"daemon.version", h_version},
	{"daemon.reload", h_reload},
	{"guests.list", h_guests},
	{"guest.show", h_guest_show},
	{"snapshot.create", h_snapshot_create},
	{"snapshot.list", h_snapshot_list},
	{"snapshot.revert", h_snapshot_revert},
	{"snapshot.delete", h_snapshot_delete},
	{"dr.copy", drcopy_handle},
	{"dr.list", drapi_list},
	{"dr.verify", drapi_verify},
	{"dr.restore", drrestore_handle},
	{"dr.failover", drfailover_handle},
	{"dr.test", drtest_handle},
	{"dr.status", drrestore_status},
	{"jobs.list", h_jobs_list},
	{"jobs.get", h_jobs_get},
	{"jobs.watch", h_jobs_watch},
	{"jobs.cancel", h_jobs_cancel},
	{"check.run", h_check_run},
	{"check.classify", h_check_classify},
	{"policy.list", policyapi_list},
	{"policy.show", policyapi_show},
	{"policy.simulate", policyapi_simulate},
	{"policy.run", policyapi_run},
	{"policy.apply", policyapi_apply},
	{"schedule.list", policyapi_schedule},
	{"snapshot.pin", nightly_handle_pin},
	{"snapshot.unpin", nightly_handle_unpin},
	{"debug.clock", policyapi_clock},
};

HandlerFn handlers_find(const char *method)
{
	for (size_t i = 0; i < G_N_ELEMENTS(handlers); i++)
		if (!strcmp(handlers[i].method, method))
			return handlers[i].fn;
	return NULL;
}
