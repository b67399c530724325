/* drtest.c - dr.test: a restore point booted in isolation (drtest.h): the request, the plan
 * (overlays, domain name, host), the scratch domain's life and its teardown. What runs inside
 * the booted guest (agent wait, build check, port checks) and the manifest record are in
 * drtestrun.c. */
#include "drtest.h"
#include "drtestrun.h"

#include <errno.h>
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
#include "statefile.h"
#include "timefmt.h"

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

/* ---- what a test leaves, and what an earlier holdfastd left ---- */

/* The test domains whose test runs in this holdfastd now: never swept. */
static GMutex active_lock;
static GHashTable *active;

static void active_set(const char *name, bool on)
{
	g_mutex_lock(&active_lock);
	if (on && !active)
		active = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	if (on)
		g_hash_table_add(active, g_strdup(name));
	else if (active && g_hash_table_remove(active, name) && !g_hash_table_size(active))
		g_clear_pointer(&active, g_hash_table_unref);
	g_mutex_unlock(&active_lock);
}

static bool active_has(const char *name)
{
	g_mutex_lock(&active_lock);
	bool r = active && g_hash_table_contains(active, name);
	g_mutex_unlock(&active_lock);
	return r;
}

static void note(GString *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void note(GString *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (s->len)
		g_string_append(s, "; ");
	g_string_append_vprintf(s, fmt, ap);
	va_end(ap);
}

/* Remove what a test made in its directory (overlays, the NVRAM copy, its mark), then the
 * directory; anything else in it stays (and so does the directory). What could not be removed
 * goes into left. */
static void remove_dir(const char *dir, GString *left)
{
	g_autoptr(GError) ge = NULL;
	g_autoptr(GDir) d = g_dir_open(dir, 0, &ge);
	const char *n;
	if (!d) {
		if (!g_error_matches(ge, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			note(left, "%s (%s)", dir, ge->message);
		return;
	}
	while ((n = g_dir_read_name(d)))
		if (g_str_has_suffix(n, ".qcow2") || !strcmp(n, TEST_NVRAM) ||
		    !strcmp(n, DRTEST_MARK)) {
			g_autofree char *p = g_build_filename(dir, n, NULL);
			if (g_unlink(p) < 0 && errno != ENOENT)
				note(left, "%s (%s)", p, g_strerror(errno));
		}
	if (g_rmdir(dir) < 0 && errno != ENOENT)
		note(left, "directory %s (%s)", dir, g_strerror(errno));
}

/* Is the guest a test boot holdfast made: every disk an overlay in the test's directory? */
static bool is_ours(const DrTestCtx *t, const DrvGuest *g)
{
	return drtestrun_disks_in(t->dir, g);
}

/* Destroy and undefine a test domain: 0, or -1 with what remains (and the virsh commands that
 * remove it) in warn. */
static int domain_remove(DrvConn *c, const char *name, Host *h, GString *warn)
{
	HfError e = {0};
	if (drv_domain_destroy(c, name, 0, &e) == 0 && drv_domain_undefine(c, name, 0, &e) == 0)
		return 0;
	note(warn,
	     "test domain %s is still defined on host %s (%s); remove it: virsh -c %s destroy %s; "
	     "virsh -c %s undefine %s --nvram",
	     name, host_name(h), e.message, host_uri(h), name, host_uri(h), name);
	hf_log("hf-dr", LOG_LVL_WARNING, "test boot teardown: %s: %s", name, e.message);
	return -1;
}

/* The domain and its overlays, or the note of what remains: -1 when the domain is still
 * defined (its overlays are then kept: it uses them). */
static int remove_test(DrvConn *c, Host *h, const char *name, const char *dir, GString *warn)
{
	if (name && domain_remove(c, name, h, warn) < 0) {
		note(warn, "its overlays stay in %s until it is gone: then rm -r %s", dir, dir);
		return -1;
	}
	g_autoptr(GString) left = g_string_new(NULL);
	remove_dir(dir, left);
	if (left->len) {
		note(warn, "left behind by test boot %s: %s; remove them by hand (rm -r %s)",
		     name ? name : dir, left->str, dir);
		hf_log("hf-dr", LOG_LVL_WARNING, "test boot teardown: left %s", left->str);
	}
	return 0;
}

/* Test boots an earlier holdfastd left on this host (it died mid-test): hf-test-* domains with
 * holdfast's test record, not kept, whose disks are overlays in their directory under the
 * test root; and test directories of this host without a domain. Never a test running here,
 * never anything else. Removed, listed in res "swept"; what cannot be is in warn. */
static void sweep(DrvConn *c, const DrTestCtx *t, cJSON *res, GString *warn)
{
	g_autofree char *root = g_path_get_dirname(t->dir);
	g_autoptr(GPtrArray) gs = NULL;
	g_autoptr(GHashTable) defined = g_hash_table_new(g_str_hash, g_str_equal);
	HfError e = {0};
	if (drv_guest_list(c, 0, &gs, &e) < 0) {
		note(warn, "test boots left by an earlier holdfastd not looked for: %s", e.message);
		return;
	}
	cJSON *swept = cJSON_CreateArray();
	for (guint i = 0; i < gs->len; i++) {
		const DrvGuest *g = gs->pdata[i];
		g_autofree char *rec = NULL;
		g_hash_table_add(defined, g->name);
		if (!g_str_has_prefix(g->name, DRTEST_PREFIX) || !strcmp(g->name, t->name) ||
		    active_has(g->name) ||
		    drv_metadata_get(c, g->name, DRXML_NS_RESTORE, 0, &rec, &e) < 0 ||
		    !drtest_stale(g, rec, root))
			continue;
		g_autofree char *dir = g_build_filename(root, g->name, NULL);
		if (remove_test(c, t->host, g->name, dir, warn) == 0)
			cJSON_AddItemToArray(swept, cJSON_CreateString(g->name));
	}
	g_autoptr(GDir) d = g_dir_open(root, 0, NULL);
	const char *n;
	while (d && (n = g_dir_read_name(d))) {
		if (!strcmp(n, t->name) || active_has(n) ||
		    !drtest_dir_stale(root, n, host_name(t->host), defined))
			continue;
		/* a test defined since the list above (another job's --keep) keeps its overlays */
		g_autoptr(DrvGuest) now = NULL;
		HfError ge = {0};
		if (drv_guest_get(c, n, 0, &now, &ge) == 0 || strcmp(ge.code, HF_ERR_NOT_FOUND))
			continue;
		g_autofree char *dir = g_build_filename(root, n, NULL);
		remove_test(c, t->host, NULL, dir, warn);
		g_autofree char *what = g_strdup_printf("%s (overlays only)", dir);
		cJSON_AddItemToArray(swept, cJSON_CreateString(what));
	}
	if (cJSON_GetArraySize(swept))
		cJSON_AddItemToObject(res, "swept", swept);
	else
		cJSON_Delete(swept);
}

/* A leftover of a test that died (same point, same name): removed first. A guest of that name
 * that is not a holdfast test boot is never touched: conflict. */
static int leftover_remove(DrvConn *c, const DrTestCtx *t, cJSON *res, GString *warn,
			   HfError *err)
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
	}
	if (remove_test(c, t->host, g ? t->name : NULL, t->dir, warn) < 0)
		return error_set(err, HF_ERR_CONFLICT, "a test boot of this point is left: %s",
				 warn->str);
	if (g)
		cJSON_AddBoolToObject(res, "leftover_removed", 1);
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
	/* whose directory this is: a sweep after a crash removes it only from this host */
	g_autofree char *mark = g_build_filename(t->dir, DRTEST_MARK, NULL);
	g_autoptr(cJSON) mk = cJSON_CreateObject();
	cJSON_AddStringToObject(mk, "host", host_name(t->host));
	cJSON_AddStringToObject(mk, "domain", t->name);
	if (statefile_write_json(mark, mk, err) < 0)
		return -1;
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

/* ---- the job ---- */

static void result_head(const DrTestCtx *t, const char *guest, cJSON *res)
{
	cJSON_AddStringToObject(res, "guest", guest);
	cJSON_AddStringToObject(res, "point", t->point);
	cJSON_AddStringToObject(res, "host", host_name(t->host));
	cJSON_AddStringToObject(res, "domain", t->name);
	cJSON_AddStringToObject(res, "dir", t->dir);
}

/* A kept test guest says so in its record: a sweep leaves it alone. */
static void mark_kept(DrvConn *c, const DrTestCtx *t, const DrXmlRecord *r, GString *warn)
{
	g_autofree char *el = drxml_element(NULL, NULL, "restore", "point", r->point, "guest",
					    r->guest, "uuid", r->uuid, "time", r->time, "mode",
					    r->mode, "kept", "yes", NULL);
	HfError e = {0};
	if (drv_metadata_set(c, t->name, DRXML_NS_RESTORE, "hfdr", el, 0, &e) < 0)
		note(warn,
		     "the kept test guest %s is not marked kept (%s): a test boot of another "
		     "point after a restart of holdfastd may remove it",
		     t->name, e.message);
}

/* Tear the test down: its domain (when it is ours), its overlays, the log files it made. What
 * remains goes into warn with the commands that remove it; -1 when the domain is (or may be)
 * still defined. */
static int teardown(DrvConn *c, const DrTestCtx *t, GPtrArray *logs, GString *warn)
{
	g_autoptr(DrvGuest) g = NULL;
	HfError e = {0};
	bool defined = drv_guest_get(c, t->name, 0, &g, &e) == 0 && is_ours(t, g);
	for (guint i = 0; i < logs->len; i++)
		g_unlink(logs->pdata[i]);
	if (!g && strcmp(e.code, HF_ERR_NOT_FOUND)) {
		note(warn,
		     "cannot tell whether test domain %s is still defined on host %s (%s): check "
		     "with virsh -c %s dominfo %s, then remove it and %s",
		     t->name, host_name(t->host), e.message, host_uri(t->host), t->name, t->dir);
		return -1;
	}
	return remove_test(c, t->host, defined ? t->name : NULL, t->dir, warn);
}

/* Defined, booted, checked, then kept or torn down; c: the test host. */
static int test_live(Job *job, DrTestCtx *t, DrvConn *c, const cJSON *m, const char *xml,
		     const DrXmlRecord *rec, cJSON *res, HfError *err)
{
	g_autoptr(GPtrArray) logs = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GString) warn = g_string_new(NULL);
	g_autofree char *nvram_from = nvram_of(m);
	g_autofree char *nvram = g_build_filename(t->dir, TEST_NVRAM, NULL);
	job_progress(job, 2, "preparing %s (overlays in %s)", t->name, t->dir);
	sweep(c, t, res, warn);
	int rc = leftover_remove(c, t, res, warn, err);
	if (rc == 0)
		rc = make_overlays(t, cJSON_GetObjectItem(res, "disks"), err);
	if (rc == 0 && nvram_from)
		rc = drstore_copy_file(nvram_from, nvram, err);
	if (rc == 0) {
		new_log_files(xml, logs);
		job_progress(job, 5, "defining %s on %s (no network)", t->name, host_name(t->host));
		rc = drv_domain_define(c, xml, 0, err);
	}
	if (rc == 0)
		rc = drtestrun_boot(job, c, t, m, res, err);
	if (rc < 0 && !err->code[0])
		error_set(err, HF_ERR_INTERNAL, "test boot failed without a reason");
	bool kept = t->keep && rc == 0;
	if (kept)
		mark_kept(c, t, rec, warn);
	else
		job_progress(job, 97, "tearing %s down", t->name);
	if (!kept && teardown(c, t, logs, warn) < 0) { /* the job must not pass: it is left */
		if (rc == 0)
			error_set(err, HF_ERR_FAILED,
				  "test boot of point %s passed, but its teardown failed: %s",
				  t->point, warn->str);
		else
			g_strlcat(err->message, "; teardown failed too (see teardown_error)",
				  sizeof err->message);
		rc = -1;
	}
	cJSON_AddBoolToObject(res, "kept", kept);
	if (warn->len)
		cJSON_AddStringToObject(res, "teardown_error", warn->str);
	return rc;
}

/* The test; res is private to this thread until test_job hands it over. */
static int test_run(Job *job, DrTestCtx *t, cJSON *res, HfError *err)
{
	g_autoptr(GPtrArray) pts = NULL;
	g_autoptr(GHashTable) files =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_autofree char *xml = NULL, *nvram = NULL;
	g_autofree char *now = timefmt_iso(g_get_real_time() / G_USEC_PER_SEC);
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
	g_autofree char *nvram_from = nvram_of(m);
	if (nvram_from)
		nvram = g_build_filename(t->dir, TEST_NVRAM, NULL);
	/* holdfast's test record: what tells a sweep the domain is a test boot of ours */
	DrXmlRecord rec = {.point = t->point,
			   .guest = guest,
			   .uuid = cJSON_GetStringValue(cJSON_GetObjectItem(m, "uuid")),
			   .time = now,
			   .mode = "test"};
	DrXmlOpts xo = {.name = t->name,
			.files = files,
			.isolate = true,
			.nvram = nvram,
			.record = &rec,
			.left_out = g_ptr_array_new_with_free_func(g_free)};
	xml = drxml_restore(cJSON_GetStringValue(cJSON_GetObjectItem(m, "domain_xml")), &xo, err);
	drxml_left_out(xo.left_out, res);
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
	active_set(t->name, true);
	int rc = test_live(job, t, host_conn_drv(hc), m, xml, &rec, res, err);
	active_set(t->name, false);
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
	g_autofree char *gdir = s ? drapi_guest_dir(call->d, s, guest) : NULL;
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
