/* drtestrun.c - inside a test boot (drtestrun.h): start, agent-ready (RTO), the build check,
 * TCP port checks through the guest's netstat -an, and the record in the point's manifest. */
#include "drtestrun.h"

#include <string.h>

#include "checkreport.h"
#include "collect.h"
#include "drstore.h"
#include "drtest.h"
#include "drxml.h"
#include "log.h"
#include "netstat.h"
#include "policy.h" /* g_autoptr(cJSON) */
#include "statefile.h"
#include "timefmt.h"

#define PING "{\"execute\":\"guest-ping\"}"
#define PING_TIMEOUT_S 2
#define POLL_US (250 * 1000)
#define PORT_POLL_US (2 * G_USEC_PER_SEC)
#define NETSTAT_EXE "C:\\Windows\\System32\\NETSTAT.EXE"

static int left_s(gint64 deadline)
{
	gint64 l = deadline - g_get_monotonic_time();
	return l <= 0 ? 0 : (int)((l + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
}

DrTestAgentWait drtestrun_wait_agent(Job *job, DrvConn *c, const char *name, gint64 deadline,
				     int pct, HfError *last, DrvGuestState *state)
{
	for (unsigned i = 0;; i++) {
		g_autofree char *reply = NULL;
		error_clear(last);
		if (drv_agent_command(c, name, PING, PING_TIMEOUT_S, 0, &reply, last) == 0)
			return DRTEST_AGENT_READY;
		if (job_cancelled(job))
			return DRTEST_AGENT_CANCELLED;
		g_autoptr(DrvGuest) g = NULL;
		HfError ge = {0};
		if (i % 8 == 7 && drv_guest_get(c, name, 0, &g, &ge) == 0 &&
		    g->state != DRV_STATE_RUNNING && g->state != DRV_STATE_BLOCKED) {
			*state = g->state;
			return DRTEST_AGENT_STOPPED;
		}
		if (!left_s(deadline))
			return DRTEST_AGENT_TIMEOUT;
		if (i % 20 == 0)
			job_progress(job, pct, "waiting for the agent of %s (%d s left)", name,
				     left_s(deadline));
		g_usleep(POLL_US);
	}
}

/* The test guest's agent: the errors a test boot reports. */
static int wait_agent(Job *job, DrvConn *c, const DrTestCtx *t, gint64 deadline, HfError *err)
{
	HfError e = {0};
	DrvGuestState st = DRV_STATE_RUNNING;
	switch (drtestrun_wait_agent(job, c, t->name, deadline, 10, &e, &st)) {
	case DRTEST_AGENT_READY:
		return 0;
	case DRTEST_AGENT_CANCELLED:
		return error_set(err, HF_ERR_CANCELLED, "test boot of %s cancelled", t->name);
	case DRTEST_AGENT_STOPPED:
		return error_set(err, HF_ERR_FAILED,
				 "test guest %s is %s before its agent answered (see its console "
				 "log)",
				 t->name, drv_state_name(st));
	default:
		return error_set(err, HF_ERR_AGENT_TIMEOUT,
				 "the agent of test guest %s never answered within %d s (last "
				 "answer: %s); raise --timeout or check that the guest boots",
				 t->name, t->timeout_s, e.message);
	}
}

/* The build check of the test guest: check.run's entry for it (collector + classifier). */
static cJSON *build_check(DrvConn *c, const DrTestCtx *t)
{
	BcEvidence ev;
	CollectInfo ci;
	HfError e = {0};
	int64_t now = g_get_real_time() / G_USEC_PER_SEC;
	buildcheck_evidence_init(&ev);
	collect_info_init(&ci);
	int rc = collect_guest(c, t->name, t->check_timeout, &ev, &ci, &e);
	g_autoptr(GPtrArray) one =
	    g_ptr_array_new_with_free_func((GDestroyNotify)checkreport_entry_free);
	CheckEntry *ce = checkreport_entry_new(host_name(t->host), t->name);
	checkreport_entry_store(ce, now, rc == 0 ? &ev : NULL, &ci, &e);
	g_ptr_array_add(one, ce);
	g_autoptr(cJSON) doc = checkreport_document(one, &t->policy, now);
	buildcheck_evidence_clear(&ev);
	collect_info_clear(&ci);
	return cJSON_DetachItemFromArray(cJSON_GetObjectItem(doc, "checks"), 0);
}

static const char *fact(const cJSON *verdict, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(verdict, "facts"), name), "value"));
}

static void add_str_or_null(cJSON *o, const char *k, const char *v)
{
	cJSON_AddItemToObject(o, k, v ? cJSON_CreateString(v) : cJSON_CreateNull());
}

/* The verdict in brief (manifest); *why: what failed, or NULL when the check passed. */
static cJSON *check_summary(const cJSON *entry, char **why)
{
	static const char *const facts[][2] = {
	    {"build", "build"},
	    {"revision", "revision"},
	    {"patch_month", "patch-month"},
	    {"months_behind", "months-behind"},
	    {"esu_licence", "esu-licence-active"},
	    {"esu_era", "esu-era-updates"},
	};
	const cJSON *v = cJSON_GetObjectItem(entry, "verdict");
	const cJSON *pol = cJSON_GetObjectItem(entry, "policy");
	const cJSON *er = cJSON_GetObjectItem(entry, "error");
	cJSON *s = cJSON_CreateObject();
	add_str_or_null(s, "status", cJSON_GetStringValue(cJSON_GetObjectItem(v, "status")));
	add_str_or_null(s, "product", cJSON_GetStringValue(cJSON_GetObjectItem(v, "product")));
	for (size_t i = 0; i < G_N_ELEMENTS(facts); i++)
		add_str_or_null(s, facts[i][0], fact(v, facts[i][1]));
	cJSON_AddItemToObject(s, "policy_pass",
			      cJSON_IsObject(pol)
				  ? cJSON_CreateBool(cJSON_IsTrue(cJSON_GetObjectItem(pol, "pass")))
				  : cJSON_CreateNull());
	const char *em = cJSON_GetStringValue(cJSON_GetObjectItem(er, "message"));
	add_str_or_null(s, "error", em);
	*why = NULL;
	if (em || !cJSON_IsObject(v)) {
		*why = g_strdup_printf("the build check could not run: %s", em ? em : "no verdict");
	} else if (cJSON_IsFalse(cJSON_GetObjectItem(pol, "pass"))) {
		GString *r = g_string_new("the build check fails the policy");
		const cJSON *x;
		const char *sep = ": ";
		cJSON_ArrayForEach(x, cJSON_GetObjectItem(pol, "reasons"))
		{
			g_string_append_printf(r, "%s%s", sep, cJSON_GetStringValue(x));
			sep = "; ";
		}
		*why = g_string_free(r, FALSE);
	}
	return s;
}

/* netstat -an in the guest until every port listens or the deadline; *missing: the ports that
 * do not ("8080, 3389"). NULL with err when netstat cannot run or its output is not a table. */
static cJSON *check_ports(Job *job, DrvConn *c, const DrTestCtx *t, gint64 deadline,
			  GString *missing, HfError *err)
{
	static const char *const argv[] = {"-an", NULL};
	g_autoptr(GArray) up = NULL;
	for (;;) {
		g_autofree char *out = NULL;
		gsize len = 0;
		int code = 0;
		if (up)
			g_clear_pointer(&up, g_array_unref);
		if (collect_program(c, t->name, MAX(t->check_timeout, 1), NETSTAT_EXE, argv, &out,
				    &len, &code, err) < 0 ||
		    netstat_listening(out, len, &up, err) < 0) {
			error_prefix(err, "port check in test guest %s", t->name);
			return NULL;
		}
		guint n = 0;
		for (guint i = 0; i < t->ports->len; i++)
			n += netstat_has(up, g_array_index(t->ports, guint, i));
		if (n == t->ports->len || !left_s(deadline) || job_cancelled(job))
			break;
		job_progress(job, 80, "%u of %u port(s) listening in %s (%d s left)", n,
			     t->ports->len, t->name, left_s(deadline));
		g_usleep(PORT_POLL_US);
	}
	cJSON *arr = cJSON_CreateArray();
	for (guint i = 0; i < t->ports->len; i++) {
		guint p = g_array_index(t->ports, guint, i);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "port", p);
		cJSON_AddBoolToObject(o, "listening", netstat_has(up, p));
		cJSON_AddItemToArray(arr, o);
		if (!netstat_has(up, p))
			g_string_append_printf(missing, "%s%u", missing->len ? ", " : "", p);
	}
	return arr;
}

/* Append the outcome to the point's manifest (temp file, fsync, rename: never torn). The
 * files[] checksums are untouched: the manifest is not among them. */
static void record(const cJSON *m, const cJSON *entry, cJSON *res)
{
	const char *pdir = cJSON_GetStringValue(cJSON_GetObjectItem(m, "dir"));
	g_autofree char *path = g_build_filename(pdir ? pdir : "?", DRSTORE_MANIFEST, NULL);
	g_autoptr(cJSON) doc = NULL;
	HfError e = {0};
	if (statefile_read_json(path, &doc, &e) == 0 && !cJSON_IsObject(doc))
		error_set(&e, HF_ERR_FAILED, "%s is gone or not a JSON object", path);
	if (!e.code[0]) {
		cJSON *tests = cJSON_GetObjectItem(doc, "tests");
		if (!cJSON_IsArray(tests)) {
			cJSON_DeleteItemFromObject(doc, "tests");
			tests = cJSON_AddArrayToObject(doc, "tests");
		}
		cJSON_AddItemToArray(tests, cJSON_Duplicate(entry, 1));
		statefile_write_json(path, doc, &e);
	}
	cJSON_AddBoolToObject(res, "recorded", !e.code[0]);
	if (e.code[0]) {
		cJSON_AddStringToObject(res, "record_error", e.message);
		hf_log("hf-dr", LOG_LVL_WARNING, "test boot not recorded: %s", e.message);
	}
}

/* Copy entry's members into res (the job's result carries the full check entry too). */
static void merge(cJSON *res, const cJSON *entry)
{
	const cJSON *x;
	cJSON_ArrayForEach(x, entry)
	{
		cJSON_DeleteItemFromObject(res, x->string);
		cJSON_AddItemToObject(res, x->string, cJSON_Duplicate(x, 1));
	}
}

int drtestrun_boot(Job *job, DrvConn *c, DrTestCtx *t, const cJSON *m, cJSON *res, HfError *err)
{
	g_autoptr(cJSON) entry = cJSON_CreateObject();
	g_autoptr(cJSON) check = NULL;
	g_autoptr(GString) missing = g_string_new(NULL);
	g_autoptr(GPtrArray) fails = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *now = timefmt_iso(g_get_real_time() / G_USEC_PER_SEC);
	HfError e = {0};
	const char *code = HF_ERR_FAILED;
	cJSON_AddStringToObject(entry, "time", now);
	cJSON_AddStringToObject(entry, "host", host_name(t->host));
	cJSON_AddStringToObject(entry, "domain", t->name);
	job_progress(job, 8, "starting %s", t->name);
	gint64 t0 = g_get_monotonic_time(), deadline = t0 + (gint64)t->timeout_s * G_USEC_PER_SEC;
	int rc = drv_domain_start(c, t->name, 0, &e);
	if (rc == 0)
		rc = wait_agent(job, c, t, deadline, &e);
	bool ready = rc == 0;
	cJSON_AddItemToObject(
	    entry, "rto_s",
	    ready ? cJSON_CreateNumber((double)((g_get_monotonic_time() - t0) / 1000) / 1000)
		  : cJSON_CreateNull());
	cJSON_AddBoolToObject(entry, "agent_ready", ready);
	if (!ready) {
		code = e.code;
		g_ptr_array_add(fails,
				strstr(e.message, "Permission denied")
				    ? g_strdup_printf("%s (QEMU's user must reach the overlays "
						      "in %s: set [drstore] test-dir)",
						      e.message, t->dir)
				    : g_strdup(e.message));
	} else {
		char *why = NULL;
		job_progress(job, 40, "agent ready after %.1f s; build check inside %s",
			     cJSON_GetNumberValue(cJSON_GetObjectItem(entry, "rto_s")), t->name);
		check = build_check(c, t);
		cJSON_AddItemToObject(entry, "check", check_summary(check, &why));
		if (why)
			g_ptr_array_add(fails, why);
	}
	if (ready && t->ports->len) {
		job_progress(job, 75, "port checks in %s", t->name);
		cJSON *ports = check_ports(job, c, t, deadline, missing, &e);
		if (!ports)
			g_ptr_array_add(fails, g_strdup(e.message));
		else if (missing->len)
			g_ptr_array_add(fails, g_strdup_printf("TCP port %s not listening in the "
							       "test guest (netstat -an) within "
							       "%d s",
							       missing->str, t->timeout_s));
		cJSON_AddItemToObject(entry, "ports", ports ? ports : cJSON_CreateNull());
	}
	g_ptr_array_add(fails, NULL);
	g_autofree char *failed = fails->len > 1 ? g_strjoinv("; ", (char **)fails->pdata) : NULL;
	if (failed && job_cancelled(job))
		code = HF_ERR_CANCELLED;
	cJSON_AddBoolToObject(entry, "ok", !failed);
	add_str_or_null(entry, "error", failed);
	record(m, entry, res);
	merge(res, entry);
	if (check)
		cJSON_AddItemToObject(res, "check_entry", g_steal_pointer(&check));
	if (failed)
		return error_set(err, code, "test boot of point %s (%s): %s", t->point, t->name,
				 failed);
	return 0;
}

char *drtest_domain_name(const char *guest, const char *point)
{
	const char *slash = strrchr(guest, '/');
	return g_strconcat("hf-test-", slash ? slash + 1 : guest, "-", point, NULL);
}

bool drtestrun_disks_in(const char *dir, const DrvGuest *g)
{
	g_autofree char *prefix = g_strconcat(dir, "/", NULL);
	guint disks = 0;
	for (guint i = 0; i < g->disks->len; i++) {
		const DrvDisk *d = g->disks->pdata[i];
		if (strcmp(d->device, "disk"))
			continue;
		if (!d->path || !g_str_has_prefix(d->path, prefix) ||
		    strchr(d->path + strlen(prefix), '/'))
			return false;
		disks++;
	}
	return disks > 0;
}

bool drtest_stale(const DrvGuest *g, const char *record, const char *root)
{
	if (!g_str_has_prefix(g->name, DRTEST_PREFIX) || strchr(g->name, '/'))
		return false;
	g_autoptr(GHashTable) a = drxml_attrs(record);
	if (!a || g_strcmp0(g_hash_table_lookup(a, "mode"), "test") ||
	    !g_strcmp0(g_hash_table_lookup(a, "kept"), "yes"))
		return false;
	g_autofree char *dir = g_build_filename(root, g->name, NULL);
	return drtestrun_disks_in(dir, g);
}

bool drtest_dir_stale(const char *root, const char *entry, const char *host, GHashTable *defined)
{
	if (!g_str_has_prefix(entry, DRTEST_PREFIX) || g_hash_table_contains(defined, entry))
		return false;
	g_autofree char *mark = g_build_filename(root, entry, DRTEST_MARK, NULL);
	g_autoptr(cJSON) m = NULL;
	HfError e = {0};
	if (!g_file_test(mark, G_FILE_TEST_IS_REGULAR) || statefile_read_json(mark, &m, &e) < 0)
		return false;
	return !g_strcmp0(cJSON_GetStringValue(cJSON_GetObjectItem(m, "host")), host) &&
	       !g_strcmp0(cJSON_GetStringValue(cJSON_GetObjectItem(m, "domain")), entry);
}

void drtest_list_row(const cJSON *manifest, cJSON *row)
{
	static const char *const keep[] = {"time", "ok", "rto_s"};
	const cJSON *tests = cJSON_GetObjectItem(manifest, "tests");
	const cJSON *rto = NULL;
	int n = cJSON_GetArraySize(tests);
	for (int i = n; i-- > 0 && !rto;)
		if (cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetArrayItem(tests, i), "rto_s")))
			rto = cJSON_GetObjectItem(cJSON_GetArrayItem(tests, i), "rto_s");
	cJSON_AddItemToObject(row, "rto_s", rto ? cJSON_Duplicate(rto, 1) : cJSON_CreateNull());
	const cJSON *last = cJSON_GetArrayItem(tests, n - 1);
	if (!cJSON_IsObject(last)) {
		cJSON_AddNullToObject(row, "last_test");
		return;
	}
	cJSON *o = cJSON_AddObjectToObject(row, "last_test");
	for (size_t i = 0; i < G_N_ELEMENTS(keep); i++) {
		const cJSON *v = cJSON_GetObjectItem(last, keep[i]);
		cJSON_AddItemToObject(o, keep[i], v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
	}
}

void drtest_status_row(GPtrArray *points, cJSON *row)
{
	const cJSON *best = NULL, *bp = NULL;
	const char *bt = NULL;
	for (guint i = 0; points && i < points->len; i++) {
		const cJSON *t;
		cJSON_ArrayForEach(t, cJSON_GetObjectItem(points->pdata[i], "tests"))
		{
			const char *tm = cJSON_GetStringValue(cJSON_GetObjectItem(t, "time"));
			if (tm && cJSON_IsNumber(cJSON_GetObjectItem(t, "rto_s")) &&
			    (!bt || strcmp(tm, bt) >= 0)) {
				best = t;
				bt = tm;
				bp = points->pdata[i];
			}
		}
	}
	const cJSON *rto = cJSON_GetObjectItem(best, "rto_s");
	const cJSON *id = cJSON_GetObjectItem(bp, "point");
	cJSON_AddItemToObject(row, "rto_s", rto ? cJSON_Duplicate(rto, 1) : cJSON_CreateNull());
	cJSON_AddItemToObject(row, "rto_point", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
	add_str_or_null(row, "rto_time", bt);
}
