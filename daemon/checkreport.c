/* checkreport.c - build-check entries, policies and the check document (see checkreport.h). */
#include "checkreport.h"

#include <string.h>

#include "timefmt.h"

CheckEntry *checkreport_entry_new(const char *host, const char *guest)
{
	CheckEntry *e = g_new0(CheckEntry, 1);
	e->host = g_strdup(host);
	e->guest = g_strdup(guest);
	e->key = g_strdup_printf("%s/%s", host, guest);
	return e;
}

void checkreport_entry_free(CheckEntry *e)
{
	if (!e)
		return;
	g_free(e->key);
	g_free(e->host);
	g_free(e->guest);
	cJSON_Delete(e->evidence);
	cJSON_Delete(e->agent);
	cJSON_Delete(e->os);
	g_free(e);
}

static cJSON *dup_or_null(const cJSON *j)
{
	return j ? cJSON_Duplicate(j, 1) : NULL;
}

CheckEntry *checkreport_entry_copy(const CheckEntry *e)
{
	CheckEntry *c = checkreport_entry_new(e->host, e->guest);
	c->checked = e->checked;
	c->attempted = e->attempted;
	c->evidence = dup_or_null(e->evidence);
	c->agent = dup_or_null(e->agent);
	c->os = dup_or_null(e->os);
	c->error = e->error;
	c->busy = e->busy;
	c->cached = e->cached;
	return c;
}

void checkreport_entry_store(CheckEntry *e, int64_t now, const BcEvidence *ev,
			     const CollectInfo *ci, const HfError *err)
{
	e->attempted = now;
	e->busy = false;
	error_clear(&e->error);
	if (!ev)
		e->error = *err;
	if (!ev && e->evidence)
		return; /* a failed refresh: the last good evidence stays, marked stale */
	cJSON_Delete(e->evidence);
	cJSON_Delete(e->agent);
	cJSON_Delete(e->os);
	e->evidence = ev ? buildcheck_evidence_to_json(ev) : NULL;
	e->agent = ci->agent_calls > 0 ? collect_info_agent_json(ci) : NULL;
	e->os = ci->os_id ? collect_info_os_json(ci) : NULL;
	e->checked = now;
}

void checkreport_entry_not_running(CheckEntry *e)
{
	error_clear(&e->error);
	error_set(&e->error, HF_ERR_AGENT_UNAVAILABLE,
		  "guest '%s' is not running and was never checked: its guest agent cannot be "
		  "asked; start it and run the check again",
		  e->key);
}

static void add_error(cJSON *o, const HfError *err)
{
	if (!err->code[0]) {
		cJSON_AddNullToObject(o, "error");
		return;
	}
	cJSON *e = cJSON_AddObjectToObject(o, "error");
	cJSON_AddStringToObject(e, "code", err->code);
	cJSON_AddStringToObject(e, "message", err->message);
}

static void add_json(cJSON *o, const char *key, const cJSON *v)
{
	cJSON_AddItemToObject(o, key, v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
}

cJSON *checkreport_entry_save(const CheckEntry *e)
{
	cJSON *o = cJSON_CreateObject();
	g_autofree char *t = timefmt_iso(e->checked);
	cJSON_AddStringToObject(o, "host", e->host);
	cJSON_AddStringToObject(o, "name", e->guest);
	cJSON_AddStringToObject(o, "checked", t);
	add_json(o, "agent", e->agent);
	add_json(o, "os", e->os);
	add_json(o, "evidence", e->evidence);
	add_error(o, &e->error);
	return o;
}

CheckEntry *checkreport_entry_load(const cJSON *o)
{
	const char *host = cJSON_GetStringValue(cJSON_GetObjectItem(o, "host"));
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(o, "name"));
	const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(o, "checked"));
	const cJSON *ev = cJSON_GetObjectItem(o, "evidence");
	const cJSON *er = cJSON_GetObjectItem(o, "error");
	int64_t checked = t ? timefmt_parse(t) : -1;
	BcEvidence probe;
	HfError err = {0};

	if (!host || !name || checked <= 0)
		return NULL;
	CheckEntry *e = checkreport_entry_new(host, name);
	e->checked = checked;
	e->attempted = checked;
	if (cJSON_IsObject(ev)) {
		buildcheck_evidence_init(&probe);
		int rc = buildcheck_evidence_from_json(ev, &probe, &err);
		buildcheck_evidence_clear(&probe);
		if (rc < 0) {
			checkreport_entry_free(e);
			return NULL;
		}
		e->evidence = cJSON_Duplicate(ev, 1);
	}
	if (cJSON_IsObject(er) || !e->evidence) {
		const char *code = cJSON_GetStringValue(cJSON_GetObjectItem(er, "code"));
		const char *msg = cJSON_GetStringValue(cJSON_GetObjectItem(er, "message"));
		error_set(&e->error, code ? code : HF_ERR_FAILED, "%s", msg ? msg : "check failed");
	}
	if (cJSON_IsObject(cJSON_GetObjectItem(o, "agent")))
		e->agent = cJSON_Duplicate(cJSON_GetObjectItem(o, "agent"), 1);
	if (cJSON_IsObject(cJSON_GetObjectItem(o, "os")))
		e->os = cJSON_Duplicate(cJSON_GetObjectItem(o, "os"), 1);
	return e;
}

/* ---- policy ---- */

int checkreport_policy(const HfConfig *cfg, const cJSON *params, BcPolicy *p, HfError *err)
{
	const cJSON *v;
	buildcheck_policy_init(p);
	p->require_build = cfg->check_require_build;
	p->min_licence_year = cfg->check_min_esu_year;
	p->max_patch_age = cfg->check_max_patch_age;
	p->fail_on = cfg->check_fail_on;
	if (cJSON_IsNumber(v = cJSON_GetObjectItem(params, "require_build")))
		p->require_build = (int)v->valuedouble;
	if (cJSON_IsNumber(v = cJSON_GetObjectItem(params, "min_esu_year")))
		p->min_licence_year = (int)v->valuedouble;
	if (cJSON_IsNumber(v = cJSON_GetObjectItem(params, "max_patch_age")))
		p->max_patch_age = (int)v->valuedouble;
	if (cJSON_IsString(v = cJSON_GetObjectItem(params, "fail_on"))) {
		if (!strcmp(v->valuestring, "none"))
			p->fail_on = -1;
		else if (!strcmp(v->valuestring, "attention"))
			p->fail_on = BC_STATUS_ATTENTION;
		else if (!strcmp(v->valuestring, "critical"))
			p->fail_on = BC_STATUS_CRITICAL;
		else
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "fail_on '%s': expected none, attention or critical",
					 v->valuestring);
	}
	return 0;
}

bool checkreport_policy_active(const BcPolicy *p)
{
	return p->require_build > 0 || p->min_licence_year > 0 || p->max_patch_age >= 0 ||
	       p->fail_on >= 0;
}

static cJSON *strings(GPtrArray *a)
{
	cJSON *arr = cJSON_CreateArray();
	for (guint i = 0; i < a->len; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(a->pdata[i]));
	return arr;
}

static cJSON *policy_json(const BcPolicy *p, const BcVerdict *v, const HfError *failed)
{
	g_autoptr(GPtrArray) reasons = g_ptr_array_new_with_free_func(g_free);
	bool pass;
	if (!checkreport_policy_active(p))
		return cJSON_CreateNull();
	if (v) {
		pass = buildcheck_policy_check(p, v, reasons);
	} else {
		pass = false;
		g_ptr_array_add(reasons, g_strdup_printf("not checked: %s", failed->message));
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "pass", pass);
	cJSON_AddItemToObject(o, "reasons", strings(reasons));
	return o;
}

/* The classifier cannot say "not Windows" (it knows only Windows evidence): say it here. */
static void not_windows(cJSON *verdict, const cJSON *os)
{
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(os, "id"));
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(os, "name"));
	g_autofree char *why = g_strdup_printf(
	    "not Windows: the guest agent reports %s (id %s); the build check applies to "
	    "Windows guests only",
	    name ? name : "another OS", id ? id : "?");
	cJSON *reasons = cJSON_CreateArray();
	cJSON_AddItemToArray(reasons, cJSON_CreateString(why));
	cJSON_ReplaceItemInObject(verdict, "product", cJSON_CreateString("not-windows"));
	cJSON_ReplaceItemInObject(verdict, "reasons", reasons);
}

/* Classify evidence JSON at now; *verdict filled (caller clears) and its JSON returned. */
static cJSON *classify(const cJSON *evidence, int64_t now, BcVerdict *v, HfError *err)
{
	BcEvidence ev;
	cJSON *out = NULL;
	buildcheck_evidence_init(&ev);
	if (!cJSON_IsObject(evidence))
		error_set(err, HF_ERR_INVALID_PARAMS,
			  "evidence must be a JSON object {\"sources\":[...]} (the \"evidence\" of "
			  "`holdfast --json check`)");
	else if (buildcheck_evidence_from_json(evidence, &ev, err) == 0 &&
		 buildcheck_classify(&ev, (time_t)now, v, err) == 0)
		out = buildcheck_verdict_to_json(v);
	buildcheck_evidence_clear(&ev);
	return out;
}

cJSON *checkreport_classify(const cJSON *evidence, const BcPolicy *p, int64_t now, HfError *err)
{
	BcVerdict v;
	buildcheck_verdict_init(&v);
	cJSON *vj = classify(evidence, now, &v, err);
	cJSON *r = NULL;
	if (vj) {
		r = cJSON_CreateObject();
		cJSON_AddItemToObject(r, "verdict", vj);
		cJSON_AddItemToObject(r, "policy", policy_json(p, &v, NULL));
	}
	buildcheck_verdict_clear(&v);
	return r;
}

typedef struct {
	int ok, attention, critical, failed, policy_failures, stale;
} Summary;

static cJSON *entry_json(const CheckEntry *e, const BcPolicy *p, int64_t now, Summary *s)
{
	cJSON *o = cJSON_CreateObject();
	HfError err = e->error;
	BcVerdict v;
	cJSON *vj = NULL;

	buildcheck_verdict_init(&v);
	cJSON_AddStringToObject(o, "guest", e->key);
	cJSON_AddStringToObject(o, "host", e->host);
	cJSON_AddStringToObject(o, "name", e->guest);
	if (e->checked) {
		g_autofree char *t = timefmt_iso(e->checked);
		cJSON_AddStringToObject(o, "checked", t);
		cJSON_AddNumberToObject(o, "age_s", (double)MAX(0, now - e->checked));
	} else {
		cJSON_AddNullToObject(o, "checked");
		cJSON_AddNullToObject(o, "age_s");
	}
	cJSON_AddBoolToObject(o, "cached", e->cached);
	add_json(o, "agent", e->agent);
	add_json(o, "os", e->os);
	add_json(o, "evidence", e->evidence);
	cJSON_AddBoolToObject(o, "stale", e->evidence && err.code[0]);
	s->stale += e->evidence && err.code[0];
	if (e->evidence && err.code[0]) { /* the last refresh failed: say so beside the verdict */
		cJSON *re = cJSON_AddObjectToObject(o, "refresh_error");
		cJSON_AddStringToObject(re, "code", err.code);
		cJSON_AddStringToObject(re, "message", err.message);
	}
	if (e->evidence) {
		error_clear(&err);
		vj = classify(e->evidence, now, &v, &err);
	} else if (!err.code[0]) {
		error_set(&err, HF_ERR_CANCELLED,
			  "guest '%s' was not checked (holdfastd is "
			  "stopping)",
			  e->key);
	}
	if (vj && cJSON_IsFalse(cJSON_GetObjectItem(e->os, "windows")))
		not_windows(vj, e->os);
	cJSON_AddItemToObject(o, "verdict", vj ? vj : cJSON_CreateNull());
	cJSON *pj = policy_json(p, vj ? &v : NULL, &err);
	cJSON_AddItemToObject(o, "policy", pj);
	add_error(o, vj ? &(HfError){0} : &err);
	if (!vj)
		s->failed++;
	else if (v.status == BC_STATUS_OK)
		s->ok++;
	else if (v.status == BC_STATUS_ATTENTION)
		s->attention++;
	else
		s->critical++;
	if (vj && cJSON_IsFalse(cJSON_GetObjectItem(pj, "pass")))
		s->policy_failures++;
	buildcheck_verdict_clear(&v);
	return o;
}

cJSON *checkreport_document(GPtrArray *entries, const BcPolicy *p, int64_t now)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(doc, "checks");
	Summary s = {0};
	for (guint i = 0; i < entries->len; i++)
		cJSON_AddItemToArray(arr, entry_json(entries->pdata[i], p, now, &s));
	cJSON *sj = cJSON_AddObjectToObject(doc, "summary");
	cJSON_AddNumberToObject(sj, "ok", s.ok);
	cJSON_AddNumberToObject(sj, "attention", s.attention);
	cJSON_AddNumberToObject(sj, "critical", s.critical);
	cJSON_AddNumberToObject(sj, "failed", s.failed);
	cJSON_AddNumberToObject(sj, "policy_failures", s.policy_failures);
	cJSON_AddNumberToObject(sj, "stale", s.stale);
	return doc;
}
