/* drrestore.c - dr.restore: a restore point as a new, shut-off guest; dr.status: RPO per guest. */
#include "drrestore.h"
#include "drxml.h"

#include <glib/gstdio.h>
#include <string.h>

#include "jobcall.h"
#include "daemon.h"
#include "drapi.h"
#include "drstore.h"
#include "log.h"
#include "policy.h" /* g_autoptr(cJSON) */
#include "timefmt.h"

/* ---- dr.restore ---- */

typedef struct {
	Host *host; /* referenced */
	char *gdir, *point, *name, *dir;
} RestoreCtx;

static void restore_ctx_free(void *p)
{
	RestoreCtx *r = p;
	host_unref(r->host);
	g_free(r->gdir);
	g_free(r->point);
	g_free(r->name);
	g_free(r->dir);
	g_free(r);
}

static void unlink_all(GPtrArray *paths)
{
	for (guint i = 0; i < paths->len; i++)
		g_unlink(paths->pdata[i]);
}

/* new file per disk target: DIR/NAME-TARGET.qcow2; none may exist. */
static int plan_files(const RestoreCtx *r, const cJSON *m, GHashTable *files, HfError *err)
{
	const cJSON *d;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(m, "disks"))
	{
		const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(d, "target"));
		const char *src = cJSON_GetStringValue(cJSON_GetObjectItem(d, "source"));
		if (!t)
			return error_set(err, HF_ERR_FAILED,
					 "restore point %s: a disk has no target", r->point);
		g_autofree char *sdir = src ? g_path_get_dirname(src) : NULL;
		const char *dir = r->dir ? r->dir : sdir;
		if (!dir || !g_path_is_absolute(dir))
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "restore point %s: disk %s has no source path to restore "
					 "next to; give --dir DIR",
					 r->point, t);
		g_autofree char *base = g_strdup_printf("%s-%s.qcow2", r->name, t);
		char *p = g_build_filename(dir, base, NULL);
		g_hash_table_insert(files, g_strdup(t), p);
		if (g_file_test(p, G_FILE_TEST_EXISTS))
			return error_set(err, HF_ERR_CONFLICT,
					 "%s exists already; remove it or restore with another "
					 "name or --dir",
					 p);
	}
	return 0;
}

/* qemu-img convert of each disk's top image (through its chain) into its new file. */
static int flatten(Job *job, const RestoreCtx *r, const cJSON *m, GHashTable *files,
		   GPtrArray *made, HfError *err)
{
	const char *pdir = cJSON_GetStringValue(cJSON_GetObjectItem(m, "dir"));
	const cJSON *d;
	int i = 0, n = cJSON_GetArraySize(cJSON_GetObjectItem(m, "disks"));
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(m, "disks"))
	{
		const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(d, "target"));
		const char *f = cJSON_GetStringValue(cJSON_GetObjectItem(d, "file"));
		const char *to = g_hash_table_lookup(files, t);
		g_autofree char *from = g_build_filename(pdir, f ? f : "?", NULL);
		if (job_cancelled(job))
			return error_set(err, HF_ERR_CANCELLED, "restore of %s cancelled", r->name);
		job_progress(job, 30 + 60 * i++ / (n ? n : 1), "flattening disk %s into %s", t, to);
		g_ptr_array_add(made, g_strdup(to));
		const char *argv[] = {"convert", "-f", "qcow2", "-O", "qcow2", from, to, NULL};
		if (drstore_qemu_img(err, argv) < 0)
			return -1;
	}
	return 0;
}

static const cJSON *find_point(GPtrArray *pts, const char *id)
{
	for (guint i = 0; i < pts->len; i++)
		if (!g_strcmp0(cJSON_GetStringValue(cJSON_GetObjectItem(pts->pdata[i], "point")),
			       id))
			return pts->pdata[i];
	return NULL;
}

static int restore_job(Job *job, HfError *err)
{
	RestoreCtx *r = job_ctx(job);
	g_autoptr(GPtrArray) pts = NULL;
	g_autoptr(GHashTable) files =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_autoptr(GPtrArray) made = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(cJSON) chain = cJSON_CreateArray();
	g_autoptr(DrvGuest) old = NULL;
	if (drstore_points(r->gdir, &pts, err) < 0)
		return -1;
	const cJSON *m = find_point(pts, r->point);
	if (!m)
		return error_set(err, HF_ERR_NOT_FOUND,
				 "restore point %s not found in %s; see holdfast dr list", r->point,
				 r->gdir);
	job_progress(job, 2, "verifying point %s and its chain", r->point);
	if (drstore_verify_chain(pts, r->point, chain, err) < 0)
		return -1;
	g_autoptr(HostConn) hc = host_conn_get(r->host, err);
	if (!hc)
		return -1;
	DrvConn *c = host_conn_drv(hc);
	HfError e = {0};
	if (drv_guest_get(c, r->name, 0, &old, &e) == 0)
		return error_set(err, HF_ERR_CONFLICT,
				 "guest '%s' already exists on host %s; choose another name "
				 "with --as or remove that guest first",
				 r->name, host_name(r->host));
	if (strcmp(e.code, HF_ERR_NOT_FOUND))
		return error_set(err, e.code, "%s", e.message);
	if (plan_files(r, m, files, err) < 0)
		return -1;
	const char *xml = cJSON_GetStringValue(cJSON_GetObjectItem(m, "domain_xml"));
	DrXmlOpts xo = {.name = r->name, .files = files};
	g_autofree char *nxml = drxml_restore(xml, &xo, err);
	if (!nxml)
		return -1;
	if (flatten(job, r, m, files, made, err) < 0 ||
	    (job_progress(job, 92, "defining guest %s", r->name),
	     drv_domain_define(c, nxml, 0, err) < 0)) {
		unlink_all(made);
		return -1;
	}
	cJSON *res = cJSON_CreateObject();
	cJSON_AddStringToObject(res, "guest", job_guest(job));
	cJSON_AddStringToObject(res, "name", r->name);
	cJSON_AddStringToObject(res, "host", host_name(r->host));
	cJSON_AddStringToObject(res, "source",
				cJSON_GetStringValue(cJSON_GetObjectItem(m, "guest")));
	cJSON_AddStringToObject(res, "point", r->point);
	cJSON_AddItemToObject(res, "verified", g_steal_pointer(&chain));
	cJSON *disks = cJSON_AddObjectToObject(res, "disks");
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, files);
	while (g_hash_table_iter_next(&it, &k, &v))
		cJSON_AddStringToObject(disks, k, v);
	cJSON_AddStringToObject(res, "state", "shutoff");
	job_set_result(job, res);
	hf_log("hf-dr", LOG_LVL_INFO, "restored point %s as guest %s on %s", r->point, r->name,
	       host_name(r->host));
	return 0;
}

/* The host to restore onto: the guest's host, else the host the point was copied from. */
static Host *restore_host(Call *call, const char *guest, const char *gdir, HfError *err)
{
	Host *h = NULL;
	g_autofree char *name = NULL;
	HfError e = {0};
	if (hosts_resolve(call->d->hosts, guest, &h, &name, &e) == 0)
		return h;
	g_autoptr(GPtrArray) pts = NULL;
	if (drstore_points(gdir, &pts, err) < 0)
		return NULL;
	const char *hn =
	    pts->len ? cJSON_GetStringValue(cJSON_GetObjectItem(pts->pdata[pts->len - 1], "host"))
		     : NULL;
	h = hn ? hosts_find(call->d->hosts, hn) : NULL;
	if (!h)
		error_set(err, HF_ERR_NOT_FOUND,
			  "guest '%s': neither it nor the host '%s' its points were copied from is "
			  "configured; add that [host] to %s",
			  guest, hn ? hn : "?", call->d->cfg->path);
	return h;
}

void drrestore_handle(Call *call)
{
	HfError err = {0};
	const cJSON *p = call->params;
	const char *guest = cJSON_GetStringValue(cJSON_GetObjectItem(p, "guest"));
	const char *point = cJSON_GetStringValue(cJSON_GetObjectItem(p, "point"));
	const char *as = cJSON_GetStringValue(cJSON_GetObjectItem(p, "as"));
	const char *dir = cJSON_GetStringValue(cJSON_GetObjectItem(p, "dir"));
	const DrStore *s = drapi_store(call, &err);
	g_autofree char *gdir = s ? drstore_find_guest(s->path, guest) : NULL;
	Host *h = NULL;
	if (s && !gdir)
		error_set(&err, HF_ERR_NOT_FOUND,
			  "no restore points of guest '%s' in DR store '%s' (%s)", guest, s->name,
			  s->path);
	else if (s && (!*as || strchr(as, '/') || strlen(as) > 200))
		error_set(&err, HF_ERR_INVALID_PARAMS,
			  "'%s' is not a guest name for --as (1-200 characters, no '/')", as);
	else if (s && dir && !g_path_is_absolute(dir))
		error_set(&err, HF_ERR_INVALID_PARAMS, "--dir '%s' is not an absolute path", dir);
	else if (s && !drstore_point_id_valid(point))
		error_set(&err, HF_ERR_INVALID_PARAMS,
			  "'%s' is not a restore point id (e.g. 20261121T061500Z; see dr list)",
			  point);
	else if (s)
		h = restore_host(call, guest, gdir, &err);
	if (h && jobcall_host_check(h, &err) < 0)
		h = NULL;
	g_autoptr(DrvGuest) taken = h ? host_guest(h, as) : NULL;
	if (taken)
		error_set(&err, HF_ERR_CONFLICT,
			  "guest '%s' already exists on host %s; choose another name with --as or "
			  "remove that guest first",
			  as, host_name(h));
	if (err.code[0]) {
		call_reply_error(call, &err);
		return;
	}
	RestoreCtx *r = g_new0(RestoreCtx, 1);
	r->host = host_ref(h);
	r->gdir = g_steal_pointer(&gdir);
	r->point = g_strdup(point);
	r->name = g_strdup(as);
	r->dir = g_strdup(dir);
	JobSpec spec = {
	    .kind = call->method->name,
	    .host = host_name(h),
	    .guest = as,
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
static cJSON *status_row(const StatusCtx *s, GPtrArray *pts, int64_t now, int *level)
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
	cJSON_AddStringToObject(r, "state", STATES[*level]);
	cJSON_AddNumberToObject(r, "points", pts->len);
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
		cJSON_AddItemToArray(arr, status_row(s, pts, now, &level));
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
