/* drtest.c - dr.test: a restore point booted in isolation (drtest.h): the request, the plan
 * (overlays, domain name, host), the scratch domain's life and its teardown. What runs inside
 * the booted guest (agent wait, build check, port checks) and the manifest record are in
 * drtestrun.c. */
#include "drtest.h"
#include "drtestrun.h"

#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <string.h>

#include "checkreport.h"
#include "daemon.h"
#include "drapi.h"
#include "drlease.h"
#include "drstore.h"
#include "drxml.h"
#include "jobcall.h"
#include "log.h"
#include "policy.h" /* g_autoptr(cJSON) */

#define TEST_NVRAM "nvram.fd"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlXPathContext, xmlXPathFreeContext)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlXPathObject, xmlXPathFreeObject)

static void ctx_free(void *p)
{
	DrTestCtx *t = p;
	if (t->leased) /* a job cancelled before it ran */
		drlease_release(t->gdir, t->point);
	if (t->host)
		host_unref(t->host);
	g_free(t->gdir);
	g_free(t->point);
	g_free(t->name);
	g_free(t->dir);
	if (t->ports)
		g_array_unref(t->ports);
	g_free(t);
}

/* The point's manifest among pts: `id`, or the newest verified one when id is NULL. */
static const cJSON *pick_point(GPtrArray *pts, const char *id)
{
	if (id)
		return drstore_point(pts, id);
	for (guint i = pts->len; i-- > 0;)
		if (cJSON_IsTrue(cJSON_GetObjectItem(pts->pdata[i], "verified")))
			return pts->pdata[i];
	return NULL;
}

/* ---- the scratch directory and domain ---- */

static char *overlay_path(const DrTestCtx *t, const char *target)
{
	g_autofree char *base = g_strconcat(target, ".qcow2", NULL);
	return g_build_filename(t->dir, base, NULL);
}

/* Remove what a test made in its directory (overlays, the NVRAM copy), then the directory;
 * anything else in it stays (and so does the directory). */
static void remove_dir(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *n;
	while (d && (n = g_dir_read_name(d)))
		if (g_str_has_suffix(n, ".qcow2") || !strcmp(n, TEST_NVRAM)) {
			g_autofree char *p = g_build_filename(dir, n, NULL);
			g_unlink(p);
		}
	g_rmdir(dir);
}

/* Is the guest a test boot holdfast made: every disk an overlay in the test's directory? */
static bool is_ours(const DrTestCtx *t, const DrvGuest *g)
{
	g_autofree char *prefix = g_strconcat(t->dir, "/", NULL);
	guint disks = 0;
	for (guint i = 0; i < g->disks->len; i++) {
		const DrvDisk *d = g->disks->pdata[i];
		if (strcmp(d->device, "disk"))
			continue;
		if (!d->path || !g_str_has_prefix(d->path, prefix))
			return false;
		disks++;
	}
	return disks > 0;
}

/* Destroy and undefine the test domain; failures are noted in res. */
static void domain_remove(DrvConn *c, const char *name, cJSON *res)
{
	HfError e = {0};
	if (drv_domain_destroy(c, name, 0, &e) < 0 || drv_domain_undefine(c, name, 0, &e) < 0) {
		cJSON_AddStringToObject(res, "teardown_error", e.message);
		hf_log("hf-dr", LOG_LVL_WARNING, "test boot teardown: %s", e.message);
	}
}

/* A leftover of a test that died (same point, same name): removed first. A guest of that name
 * that is not a holdfast test boot is never touched: conflict. */
static int leftover_remove(DrvConn *c, const DrTestCtx *t, cJSON *res, HfError *err)
{
	g_autoptr(DrvGuest) g = NULL;
	HfError e = {0};
	if (drv_guest_get(c, t->name, 0, &g, &e) < 0) {
		if (strcmp(e.code, HF_ERR_NOT_FOUND))
			return error_set(err, e.code, "%s", e.message);
	} else if (!is_ours(t, g)) {
		return error_set(err, HF_ERR_CONFLICT,
				 "guest '%s' exists on host %s and is not a holdfast test boot "
				 "(its disks are not overlays in %s); rename or remove it",
				 t->name, host_name(t->host), t->dir);
	} else {
		domain_remove(c, t->name, res);
		cJSON_AddBoolToObject(res, "leftover_removed", 1);
	}
	if (g_file_test(t->dir, G_FILE_TEST_IS_DIR))
		remove_dir(t->dir);
	return 0;
}

/* Files the domain logs into (serial/console file sources) that do not exist yet: the test
 * creates them, the teardown removes them. */
static void new_log_files(const char *xml, GPtrArray *out)
{
	g_autoptr(xmlDoc) doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
					      XML_PARSE_NONET | XML_PARSE_NOERROR);
	g_autoptr(xmlXPathContext) x = doc ? xmlXPathNewContext(doc) : NULL;
	g_autoptr(xmlXPathObject) r =
	    x ? xmlXPathEvalExpression(BAD_CAST "/domain/devices/*[@type='file']/source/@path", x)
	      : NULL;
	for (int i = 0; r && r->nodesetval && i < r->nodesetval->nodeNr; i++) {
		g_autofree char *p = (char *)xmlXPathCastNodeToString(r->nodesetval->nodeTab[i]);
		if (p && g_path_is_absolute(p) && !g_file_test(p, G_FILE_TEST_EXISTS))
			g_ptr_array_add(out, g_steal_pointer(&p));
	}
}

/* Per disk: the point's top image (its chain must open), the overlay over it. */
static int plan_disks(const DrTestCtx *t, const cJSON *m, GHashTable *files, cJSON *plan,
		      HfError *err)
{
	const char *pdir = cJSON_GetStringValue(cJSON_GetObjectItem(m, "dir"));
	const cJSON *d;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(m, "disks"))
	{
		const char *tg = cJSON_GetStringValue(cJSON_GetObjectItem(d, "target"));
		const char *f = cJSON_GetStringValue(cJSON_GetObjectItem(d, "file"));
		if (!tg || !f || strchr(tg, '/') || strchr(f, '/'))
			return error_set(err, HF_ERR_FAILED,
					 "restore point %s: a disk without a target or file in its "
					 "manifest; see holdfast dr verify",
					 t->point);
		g_autofree char *top = g_build_filename(pdir, f, NULL);
		char *ov = overlay_path(t, tg);
		cJSON *o = cJSON_AddObjectToObject(plan, tg);
		cJSON_AddStringToObject(o, "overlay", ov);
		cJSON_AddStringToObject(o, "backing", top);
		g_hash_table_insert(files, g_strdup(tg), ov);
	}
	if (!g_hash_table_size(files))
		return error_set(err, HF_ERR_FAILED, "restore point %s has no disks", t->point);
	return 0;
}

/* The whole chain of every disk opens (a removed parent image fails here, by name), then an
 * overlay per disk: qemu-img create -b TOP (absolute) -F qcow2; nothing below it is written. */
static int make_overlays(const DrTestCtx *t, const cJSON *plan, HfError *err)
{
	const cJSON *o;
	/* QEMU runs as its own user: it must reach the overlays (traverse, not list) */
	if (g_mkdir_with_parents(t->dir, 0711) < 0)
		return error_set(err, HF_ERR_FAILED, "cannot create the test directory %s: %s",
				 t->dir, g_strerror(errno));
	cJSON_ArrayForEach(o, plan)
	{
		const char *top = cJSON_GetStringValue(cJSON_GetObjectItem(o, "backing"));
		const char *ov = cJSON_GetStringValue(cJSON_GetObjectItem(o, "overlay"));
		const char *info[] = {"info", "-U", "--backing-chain", "-f", "qcow2", top, NULL};
		const char *mk[] = {"create", "-q", "-f", "qcow2", "-F",
				    "qcow2",  "-b", top,  ov,	   NULL};
		if (drstore_qemu_img(err, info) < 0) {
			error_prefix(
			    err,
			    "restore point %s: the chain of disk %s does not open (a parent "
			    "image missing or damaged? see holdfast dr verify)",
			    t->point, o->string);
			return -1;
		}
		if (drstore_qemu_img(err, mk) < 0)
			return -1;
	}
	return 0;
}

/* The point's NVRAM file (manifest "nvram": {"file"}), or NULL when it has none. */
static char *nvram_of(const cJSON *m)
{
	const char *pdir = cJSON_GetStringValue(cJSON_GetObjectItem(m, "dir"));
	const char *f =
	    cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "nvram"), "file"));
	return f && !strchr(f, '/') ? g_build_filename(pdir, f, NULL) : NULL;
}

/* A copy of the point's NVRAM for the test domain to write (the point's stays as it is). */
static int nvram_copy(const DrTestCtx *t, const char *from, const char *to, HfError *err)
{
	g_autofree char *data = NULL;
	gsize len = 0;
	g_autoptr(GError) ge = NULL;
	if (!g_file_get_contents(from, &data, &len, &ge) ||
	    !g_file_set_contents(to, data, (gssize)len, &ge))
		return error_set(err, HF_ERR_FAILED, "restore point %s: NVRAM copy: %s", t->point,
				 ge->message);
	return 0;
}

/* ---- the job ---- */

static void result_head(const DrTestCtx *t, const char *guest, cJSON *res)
{
	cJSON_AddStringToObject(res, "guest", guest);
	cJSON_AddStringToObject(res, "point", t->point);
	cJSON_AddStringToObject(res, "host", host_name(t->host));
	cJSON_AddStringToObject(res, "domain", t->name);
	cJSON_AddStringToObject(res, "dir", t->dir);
}

/* The test; res is private to this thread until test_job hands it over. */
static int test_run(Job *job, DrTestCtx *t, cJSON *res, HfError *err)
{
	g_autoptr(GPtrArray) pts = NULL;
	g_autoptr(GHashTable) files =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_autoptr(GPtrArray) logs = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *xml = NULL, *nvram_from = NULL, *nvram = NULL;
	if (drstore_points(t->gdir, &pts, err) < 0)
		return -1;
	cJSON *plan = cJSON_CreateObject(); /* owned by res below */
	const cJSON *m = pick_point(pts, t->point);
	const char *guest = cJSON_GetStringValue(cJSON_GetObjectItem(m, "guest"));
	result_head(t, guest ? guest : "?", res);
	cJSON_AddItemToObject(res, "disks", plan);
	if (!m)
		return error_set(err, HF_ERR_NOT_FOUND,
				 "restore point %s is gone from %s (pruned?); see holdfast dr list",
				 t->point, t->gdir);
	if (plan_disks(t, m, files, plan, err) < 0)
		return -1;
	if ((nvram_from = nvram_of(m)))
		nvram = g_build_filename(t->dir, TEST_NVRAM, NULL);
	DrXmlOpts xo = {.name = t->name, .files = files, .isolate = true, .nvram = nvram};
	xml = drxml_restore(cJSON_GetStringValue(cJSON_GetObjectItem(m, "domain_xml")), &xo, err);
	if (!xml)
		return -1;
	if (t->dry_run) {
		cJSON_AddBoolToObject(res, "dry_run", 1);
		cJSON_AddStringToObject(res, "network", "none (every interface removed)");
		job_progress(job, 100, "dry run: nothing done");
		return 0;
	}
	g_autoptr(HostConn) hc = host_conn_get(t->host, err);
	if (!hc)
		return -1;
	DrvConn *c = host_conn_drv(hc);
	job_progress(job, 2, "preparing %s (overlays in %s)", t->name, t->dir);
	if (leftover_remove(c, t, res, err) < 0)
		return -1;
	int rc = make_overlays(t, plan, err);
	if (rc == 0 && nvram)
		rc = nvram_copy(t, nvram_from, nvram, err);
	if (rc == 0) {
		new_log_files(xml, logs);
		job_progress(job, 5, "defining %s on %s (no network)", t->name, host_name(t->host));
		rc = drv_domain_define(c, xml, 0, err);
	}
	if (rc == 0)
		rc = drtestrun_boot(job, c, t, m, res, err);
	if (rc < 0 && !err->code[0])
		error_set(err, HF_ERR_INTERNAL, "test boot failed without a reason");
	if (t->keep && rc == 0) {
		cJSON_AddBoolToObject(res, "kept", 1);
	} else {
		job_progress(job, 97, "tearing %s down", t->name);
		HfError e = {0};
		g_autoptr(DrvGuest) g = NULL;
		if (drv_guest_get(c, t->name, 0, &g, &e) == 0 && is_ours(t, g))
			domain_remove(c, t->name, res);
		remove_dir(t->dir);
		for (guint i = 0; i < logs->len; i++)
			g_unlink(logs->pdata[i]);
		cJSON_AddBoolToObject(res, "kept", 0);
	}
	return rc;
}

static int test_job(Job *job, HfError *err)
{
	DrTestCtx *t = job_ctx(job);
	cJSON *res = cJSON_CreateObject();
	int rc = test_run(job, t, res, err);
	/* a kept test guest runs on overlays backed by the point: the lease stays (for the
	 * daemon's life: retention must not prune or rewrite the point under it) */
	if (!cJSON_IsTrue(cJSON_GetObjectItem(res, "kept")))
		drlease_release(t->gdir, t->point);
	t->leased = false;
	job_set_result(job, res); /* a failed test too: how far it got, what failed */
	hf_log("hf-dr", rc == 0 ? LOG_LVL_INFO : LOG_LVL_WARNING, "test boot %s: %s", t->name,
	       rc == 0 ? "ok" : err->message);
	return rc;
}

/* ---- the request ---- */

/* --port values: integers 1-65535. */
static GArray *parse_ports(const cJSON *p, HfError *err)
{
	g_autoptr(GArray) a = g_array_new(FALSE, FALSE, sizeof(guint));
	const cJSON *v;
	cJSON_ArrayForEach(v, cJSON_GetObjectItem(p, "port"))
	{
		const char *s = cJSON_GetStringValue(v);
		char *end = NULL;
		gint64 n = s ? g_ascii_strtoll(s, &end, 10) : 0;
		if (!s || !*s || *end || n < 1 || n > 65535)
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "--port '%s' is not a TCP port (1-65535)", s ? s : "?"),
			       NULL;
		guint u = (guint)n;
		g_array_append_val(a, u);
	}
	return g_steal_pointer(&a);
}

/* The guest's host; a guest gone from every host: the host its points were copied from. */
static Host *test_host(Call *call, const char *guest, const cJSON *m, HfError *err)
{
	Host *h = NULL;
	g_autofree char *name = NULL;
	HfError e = {0};
	if (hosts_resolve(call->d->hosts, guest, &h, &name, &e) == 0)
		return h;
	const char *hn = cJSON_GetStringValue(cJSON_GetObjectItem(m, "host"));
	if (!(h = hn ? hosts_find(call->d->hosts, hn) : NULL))
		error_set(err, HF_ERR_NOT_FOUND,
			  "guest '%s': neither it nor host '%s' (where its point was copied from) "
			  "is configured; add that [host] to %s",
			  guest, hn ? hn : "?", call->d->cfg->path);
	return h;
}

void drtest_handle(Call *call)
{
	HfError err = {0};
	const cJSON *p = call->params;
	const char *guest = cJSON_GetStringValue(cJSON_GetObjectItem(p, "guest"));
	const char *point = cJSON_GetStringValue(cJSON_GetObjectItem(p, "point"));
	const cJSON *timeout = cJSON_GetObjectItem(p, "timeout");
	const DrStore *s = drapi_store(call, &err);
	g_autofree char *gdir = s ? drstore_find_guest(s->path, guest) : NULL;
	g_autoptr(GPtrArray) pts = NULL;
	g_autoptr(GArray) ports = s ? parse_ports(p, &err) : NULL;
	DrTestCtx *t = g_new0(DrTestCtx, 1);
	const cJSON *m = NULL;
	Host *h = NULL;
	if (s && !gdir)
		error_set(&err, HF_ERR_NOT_FOUND,
			  "no restore points of guest '%s' in DR store '%s' (%s)", guest, s->name,
			  s->path);
	else if (ports && point && !drstore_point_id_valid(point))
		error_set(&err, HF_ERR_INVALID_PARAMS,
			  "'%s' is not a restore point id (e.g. 20261121T061500Z; see dr list)",
			  point);
	else if (ports && drstore_points(gdir, &pts, &err) == 0 && !(m = pick_point(pts, point)))
		error_set(&err, HF_ERR_NOT_FOUND, "guest '%s' has no %s%s; see holdfast dr list",
			  guest, point ? "restore point " : "verified restore point",
			  point ? point : "");
	if (m)
		h = test_host(call, guest, m, &err);
	if (h && !cJSON_IsTrue(cJSON_GetObjectItem(p, "dry_run")) &&
	    jobcall_host_check(h, &err) < 0)
		h = NULL;
	if (h && checkreport_policy(call->d->cfg, p, &t->policy, &err) < 0)
		h = NULL;
	if (!h) {
		ctx_free(t);
		call_reply_error(call, &err);
		return;
	}
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(m, "point"));
	/* default: inside the store, which QEMU must reach anyway (the overlays' backing
	 * images are there); a dot directory is never taken for a guest's directory */
	g_autofree char *root =
	    s->test_dir ? g_strdup(s->test_dir) : g_build_filename(s->path, ".hf-test", NULL);
	t->host = host_ref(h);
	t->gdir = g_steal_pointer(&gdir);
	t->point = g_strdup(id);
	const char *src = cJSON_GetStringValue(cJSON_GetObjectItem(m, "guest"));
	t->name = drtest_domain_name(src ? src : guest, id);
	t->dir = g_build_filename(root, t->name, NULL);
	t->ports = g_steal_pointer(&ports);
	t->timeout_s = cJSON_IsNumber(timeout) ? (int)timeout->valuedouble : 600;
	t->check_timeout = call->d->cfg->check_timeout;
	t->keep = cJSON_IsTrue(cJSON_GetObjectItem(p, "keep"));
	t->dry_run = cJSON_IsTrue(cJSON_GetObjectItem(p, "dry_run"));
	drlease_take(t->gdir, t->point); /* from now: retention keeps the point and its chain */
	t->leased = true;
	JobSpec spec = {
	    .kind = call->method->name,
	    .host = host_name(h),
	    .guest = t->name, /* one test of a point at a time; the source guest is not busy */
	    .params = cJSON_Duplicate(p, 1),
	    .run = test_job,
	    .ctx = t,
	    .ctx_free = ctx_free,
	};
	jobcall_submit(call, &spec);
}
