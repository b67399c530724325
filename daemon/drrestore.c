/* drrestore.c - dr.restore (a restore point as a new, shut-off guest, or in place: drrun.c)
 * and dr.status (RPO per guest). */
#include "drrestore.h"
#include "drmark.h"
#include "drrun.h"

#include <glib/gstdio.h>
#include <string.h>

#include "jobcall.h"
#include "daemon.h"
#include "drapi.h"
#include "drstore.h"
#include "drtest.h"
#include "log.h"
#include "policy.h" /* g_autoptr(cJSON) */
#include "timefmt.h"

/* ---- dr.restore ---- */

typedef struct {
	DrRunSpec s;
	char *gdir, *point, *name, *dir, *state_dir;
} RestoreCtx;

static void restore_ctx_free(void *p)
{
	RestoreCtx *r = p;
	host_unref(r->s.host);
	g_free(r->gdir);
	g_free(r->point);
	g_free(r->name);
	g_free(r->dir);
	g_free(r->state_dir);
	g_free(r);
}

static int restore_job(Job *job, HfError *err)
{
	RestoreCtx *r = job_ctx(job);
	cJSON *res = NULL;
	if (drrun_restore(job, &r->s, &res, err) < 0)
		return -1;
	cJSON_AddStringToObject(res, "guest", job_guest(job));
	job_set_result(job, res);
	return 0;
}

/* The host to restore onto: --host, else the guest's host, else the host the point was copied
 * from. */
static Host *restore_host(Call *call, const char *guest, const char *gdir, HfError *err)
{
	const char *want = cJSON_GetStringValue(cJSON_GetObjectItem(call->params, "host"));
	Host *h = NULL;
	g_autofree char *name = NULL;
	HfError e = {0};
	if (want && !(h = hosts_find(call->d->hosts, want)))
		error_set(err, HF_ERR_NOT_FOUND,
			  "host '%s' is not configured; add a [host %s] to %s", want, want,
			  call->d->cfg->path);
	if (want || hosts_resolve(call->d->hosts, guest, &h, &name, &e) == 0)
		return h;
	g_autofree char *hn = NULL;
	h = drapi_point_host(call->d, gdir, &hn);
	if (!h)
		error_set(err, HF_ERR_NOT_FOUND,
			  "guest '%s': neither it nor the host '%s' its points were copied from is "
			  "configured; add that [host] to %s or give --host",
			  guest, hn ? hn : "?", call->d->cfg->path);
	return h;
}

/* The parameters that make sense together; err when not. */
static int restore_params(const cJSON *p, const char *guest, HfError *err)
{
	const char *point = cJSON_GetStringValue(cJSON_GetObjectItem(p, "point"));
	const char *as = cJSON_GetStringValue(cJSON_GetObjectItem(p, "as"));
	const char *dir = cJSON_GetStringValue(cJSON_GetObjectItem(p, "dir"));
	bool in_place = cJSON_IsTrue(cJSON_GetObjectItem(p, "in_place"));
	if (!drstore_point_id_valid(point))
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "'%s' is not a restore point id (e.g. 20261121T061500Z; see dr "
				 "list)",
				 point);
	if (in_place && (cJSON_GetObjectItem(p, "host") || dir))
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "--in-place restores guest '%s' where it is, into its own image "
				 "files: --host and --dir do not apply",
				 guest);
	if (!in_place && cJSON_IsTrue(cJSON_GetObjectItem(p, "keep_old")))
		return error_set(err, HF_ERR_INVALID_PARAMS, "--keep-old goes with --in-place");
	if (!in_place && !as)
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "give the new guest's name with --as NAME, or restore guest '%s' "
				 "itself with --in-place (shut off)",
				 guest);
	return drrun_check_names(as, dir, err);
}

void drrestore_handle(Call *call)
{
	HfError err = {0};
	const cJSON *p = call->params;
	const char *guest = cJSON_GetStringValue(cJSON_GetObjectItem(p, "guest"));
	const char *as = cJSON_GetStringValue(cJSON_GetObjectItem(p, "as"));
	bool in_place = cJSON_IsTrue(cJSON_GetObjectItem(p, "in_place"));
	const DrStore *s = drapi_store(call, &err);
	g_autofree char *gdir = s ? drapi_guest_dir(call->d, s, guest) : NULL;
	g_autofree char *own = NULL;
	Host *h = NULL;
	if (s && !gdir)
		error_set(&err, HF_ERR_NOT_FOUND,
			  "no restore points of guest '%s' in DR store '%s' (%s)", guest, s->name,
			  s->path);
	else if (s && restore_params(p, guest, &err) == 0 && in_place)
		hosts_resolve(call->d->hosts, guest, &h, &own, &err);
	else if (s && !err.code[0])
		h = restore_host(call, guest, gdir, &err);
	if (in_place && own && as && strcmp(as, own))
		error_set(&err, HF_ERR_INVALID_PARAMS,
			  "--in-place restores guest '%s' under its own name, not as '%s'", own,
			  as);
	if (h && !err.code[0] && jobcall_host_check(h, &err) < 0)
		h = NULL;
	if (err.code[0] || !h) {
		call_reply_error(call, &err);
		return;
	}
	RestoreCtx *r = g_new0(RestoreCtx, 1);
	r->gdir = g_steal_pointer(&gdir);
	r->point = g_strdup(cJSON_GetStringValue(cJSON_GetObjectItem(p, "point")));
	r->name = g_strdup(in_place ? own : as);
	r->dir = g_strdup(cJSON_GetStringValue(cJSON_GetObjectItem(p, "dir")));
	r->state_dir = g_strdup(call->d->cfg->state_dir);
	r->s = (DrRunSpec){
	    .host = host_ref(h),
	    .gdir = r->gdir,
	    .point = r->point,
	    .name = r->name,
	    .dir = r->dir,
	    .state_dir = r->state_dir,
	    .in_place = in_place,
	    .keep_old = cJSON_IsTrue(cJSON_GetObjectItem(p, "keep_old")),
	    .dry_run = cJSON_IsTrue(cJSON_GetObjectItem(p, "dry_run")),
	    .pct0 = 2,
	    .pct1 = 98,
	};
	JobSpec spec = {
	    .kind = call->method->name,
	    .host = host_name(h),
	    .guest = r->name,
	    .params = cJSON_Duplicate(p, 1),
	    .run = restore_job,
	    .ctx = r,
	    .ctx_free = restore_ctx_free,
	};
	jobcall_submit(call, &spec);
}

/* ---- dr.status ---- */

typedef struct {
	char *root;
	int64_t warn, critical;
} StatusCtx;

static void status_ctx_free(void *p)
{
	StatusCtx *s = p;
	g_free(s->root);
	g_free(s);
}

static const char *const STATES[] = {"ok", "warn", "critical"};

/* One guest's row; *level: 0 ok, 1 warn, 2 critical. */
static cJSON *status_row(const StatusCtx *s, const char *gdir, GPtrArray *pts, int64_t now,
			 int *level)
{
	const cJSON *newest = pts->pdata[pts->len - 1], *v = NULL;
	for (guint i = pts->len; i-- > 0 && !v;)
		if (cJSON_IsTrue(cJSON_GetObjectItem(pts->pdata[i], "verified")))
			v = pts->pdata[i];
	cJSON *r = cJSON_CreateObject();
	static const char *const keep[] = {"guest", "host", "uuid"};
	for (size_t i = 0; i < G_N_ELEMENTS(keep); i++) {
		const cJSON *x = cJSON_GetObjectItem(newest, keep[i]);
		cJSON_AddItemToObject(r, keep[i], x ? cJSON_Duplicate(x, 1) : cJSON_CreateNull());
	}
	int64_t t = v ? timefmt_parse(cJSON_GetStringValue(cJSON_GetObjectItem(v, "time"))) : -1;
	int64_t age = t < 0 ? -1 : MAX(now - t, 0);
	*level = age < 0 || age >= s->critical ? 2 : age >= s->warn ? 1 : 0;
	const cJSON *id = v ? cJSON_GetObjectItem(v, "point") : NULL;
	cJSON_AddItemToObject(r, "point", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
	const cJSON *tm = v ? cJSON_GetObjectItem(v, "time") : NULL;
	cJSON_AddItemToObject(r, "time", tm ? cJSON_Duplicate(tm, 1) : cJSON_CreateNull());
	if (age >= 0)
		cJSON_AddNumberToObject(r, "age_s", (double)age);
	else
		cJSON_AddNullToObject(r, "age_s");
	cJSON *fo =
	    drmark_store_get(gdir, cJSON_GetStringValue(cJSON_GetObjectItem(newest, "point")));
	if (fo) { /* the guest runs at the DR host now: its copies here stopped on purpose */
		*level = 0;
		cJSON_AddItemToObject(r, "failed_over", fo);
	}
	cJSON_AddStringToObject(r, "state", fo ? "failed-over" : STATES[*level]);
	cJSON_AddNumberToObject(r, "points", pts->len);
	drtest_status_row(pts, r); /* the RTO measured by the newest test boot */
	return r;
}

/* Runs on a worker thread: reads manifests only. */
static cJSON *status_thread(Call *call, HfError *err)
{
	const StatusCtx *s = call->data;
	const char *guest = cJSON_GetStringValue(cJSON_GetObjectItem(call->params, "guest"));
	int64_t now = g_get_real_time() / G_USEC_PER_SEC;
	g_autoptr(cJSON) r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "path", s->root);
	cJSON_AddNumberToObject(r, "rpo_warn_s", (double)s->warn);
	cJSON_AddNumberToObject(r, "rpo_critical_s", (double)s->critical);
	cJSON *arr = cJSON_AddArrayToObject(r, "guests");
	g_autoptr(GPtrArray) dirs = g_ptr_array_new_with_free_func(g_free);
	if (guest) {
		char *gdir = drstore_find_guest(s->root, guest);
		if (!gdir)
			return error_set(err, HF_ERR_NOT_FOUND,
					 "no restore points of guest '%s' in the DR store at %s; "
					 "take one with holdfast dr copy %s",
					 guest, s->root, guest),
			       NULL;
		g_ptr_array_add(dirs, gdir);
	} else {
		g_autoptr(GDir) d = g_dir_open(s->root, 0, NULL);
		const char *n;
		while (d && (n = g_dir_read_name(d)))
			g_ptr_array_add(dirs, g_build_filename(s->root, n, NULL));
	}
	int worst = 0;
	for (guint i = 0; i < dirs->len; i++) {
		g_autoptr(GPtrArray) pts = NULL;
		if (!g_file_test(dirs->pdata[i], G_FILE_TEST_IS_DIR))
			continue;
		if (drstore_points(dirs->pdata[i], &pts, err) < 0)
			return NULL;
		if (!pts->len)
			continue;
		int level = 0;
		cJSON_AddItemToArray(arr, status_row(s, dirs->pdata[i], pts, now, &level));
		worst = MAX(worst, level);
	}
	cJSON_AddStringToObject(r, "state", STATES[worst]);
	return g_steal_pointer(&r);
}

void drrestore_status(Call *call)
{
	HfError err = {0};
	const DrStore *st = drapi_store(call, &err);
	if (!st) {
		call_reply_error(call, &err);
		return;
	}
	StatusCtx *s = g_new0(StatusCtx, 1);
	s->root = g_strdup(st->path);
	s->warn = st->rpo_warn;
	s->critical = st->rpo_critical;
	call->data = s;
	call->data_free = status_ctx_free;
	call_in_thread(call, status_thread);
}
