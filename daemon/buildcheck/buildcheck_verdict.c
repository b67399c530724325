/* buildcheck_verdict.c - the verdict struct: building it up, names, and its JSON form. */
#include "bcclassify.h"
#include "bcutil.h"

#include <stdio.h>
#include <string.h>

static const char *const fact_names[BC_FACT_COUNT] = {
    [BC_FACT_PRODUCT] = "product",
    [BC_FACT_VERSION] = "version",
    [BC_FACT_ROLE] = "role",
    [BC_FACT_EDITION] = "edition",
    [BC_FACT_ARCH] = "arch",
    [BC_FACT_SERVER_CORE] = "server-core",
    [BC_FACT_ESU_ELIGIBLE] = "esu-eligible",
    [BC_FACT_BUILD] = "build",
    [BC_FACT_REVISION] = "revision",
    [BC_FACT_PATCH_MONTH] = "patch-month",
    [BC_FACT_MONTHS_BEHIND] = "months-behind",
    [BC_FACT_ESU_ERA] = "esu-era-updates",
    [BC_FACT_ESU_LICENCE] = "esu-licence-active",
    [BC_FACT_PREREQ_SHA2] = "prereq-sha2-kb4474419",
    [BC_FACT_PREREQ_SSU] = "prereq-servicing-stack",
    [BC_FACT_PREREQ_LICPREP] = "prereq-licensing-package",
    [BC_FACT_PREREQ_ROLLUP] = "prereq-rollup-2019-10",
    [BC_FACT_COLLECTED] = "oldest-evidence",
};

const char *buildcheck_fact_name(BcFactId f)
{
	return f < BC_FACT_COUNT ? fact_names[f] : "?";
}

const char *buildcheck_product_name(BcProduct p)
{
	static const char *const names[] = {
	    "unknown",
	    "vista",
	    "server2008-rtm-6001",
	    "server2008-sp2-6002",
	    "server2008-sp2-6003",
	    "server2008r2-7600",
	    "server2008r2-7601",
	    "other",
	};
	return p <= BC_PRODUCT_OTHER ? names[p] : "?";
}

const char *buildcheck_status_name(BcStatus s)
{
	static const char *const names[] = {"ok", "attention", "critical"};
	return s <= BC_STATUS_CRITICAL ? names[s] : "?";
}

void buildcheck_verdict_init(BcVerdict *v)
{
	memset(v, 0, sizeof *v);
	v->server_core = v->esu_eligible = v->esu_era = v->licence_active = BC_TRI_UNKNOWN;
	v->build = v->revision = v->months_behind = -1;
	v->reasons = g_ptr_array_new_with_free_func(g_free);
	v->contradictions = g_ptr_array_new_with_free_func(g_free);
	for (int f = 0; f < BC_FACT_COUNT; f++)
		v->facts[f].cites = g_array_new(FALSE, TRUE, sizeof(BcCite));
}

void buildcheck_verdict_clear(BcVerdict *v)
{
	if (v->reasons)
		g_ptr_array_unref(v->reasons);
	if (v->contradictions)
		g_ptr_array_unref(v->contradictions);
	for (int f = 0; f < BC_FACT_COUNT; f++) {
		g_free(v->facts[f].value);
		g_free(v->facts[f].note);
		if (v->facts[f].cites)
			g_array_unref(v->facts[f].cites);
	}
	memset(v, 0, sizeof *v);
}

void buildcheck_verdict_cite(BcVerdict *v, BcFactId f, BcSource s, const char *field,
			     const char *fmt, ...)
{
	BcCite c = {.source = s};
	va_list ap;
	GArray *cites = v->facts[f].cites;
	snprintf(c.field, sizeof c.field, "%s", field);
	va_start(ap, fmt);
	vsnprintf(c.value, sizeof c.value, fmt, ap);
	va_end(ap);
	for (guint i = 0; i < cites->len; i++) {
		const BcCite *o = &g_array_index(cites, BcCite, i);
		if (o->source == s && !strcmp(o->field, c.field) && !strcmp(o->value, c.value))
			return;
	}
	g_array_append_val(cites, c);
}

void buildcheck_verdict_copy_cites(BcVerdict *v, BcFactId to, BcFactId from)
{
	const GArray *src = v->facts[from].cites;
	for (guint i = 0; i < src->len; i++) {
		const BcCite *c = &g_array_index(src, BcCite, i);
		buildcheck_verdict_cite(v, to, c->source, c->field, "%s", c->value);
	}
}

void buildcheck_verdict_set(BcVerdict *v, BcFactId f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_free(v->facts[f].value);
	v->facts[f].value = g_strdup_vprintf(fmt, ap);
	va_end(ap);
}

void buildcheck_verdict_note(BcVerdict *v, BcFactId f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *add = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	char *old = v->facts[f].note;
	v->facts[f].note = old ? g_strconcat(old, "; ", add, NULL) : g_steal_pointer(&add);
	g_free(old);
}

void buildcheck_verdict_reason(BcVerdict *v, BcStatus level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *r = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_ptr_array_add(v->reasons, g_strdup_printf("%s: %s", buildcheck_status_name(level), r));
	g_free(r);
	if (level > v->status)
		v->status = level;
}

void buildcheck_verdict_contradiction(BcVerdict *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *r = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	buildcheck_verdict_reason(v, BC_STATUS_ATTENTION, "contradiction: %s", r);
	g_ptr_array_add(v->contradictions, r);
}

void buildcheck_verdict_month(int index, char out[8])
{
	char tmp[32];
	snprintf(tmp, sizeof tmp, "%04d-%02d", CLAMP(index / 12, 0, 9999), index % 12 + 1);
	memcpy(out, tmp, 7);
	out[7] = '\0';
}

static void add_text(cJSON *o, const char *key, const char *s)
{
	g_autofree char *u = g_utf8_make_valid(s, -1);
	cJSON_AddStringToObject(o, key, u);
}

static cJSON *strings_json(GPtrArray *a)
{
	cJSON *arr = cJSON_CreateArray();
	for (guint i = 0; i < a->len; i++) {
		g_autofree char *u = g_utf8_make_valid(a->pdata[i], -1);
		cJSON_AddItemToArray(arr, cJSON_CreateString(u));
	}
	return arr;
}

/* {"status":..,"product":..,"reasons":[..],"contradictions":[..],"facts":{"build":{"value":
 * "6003" | null,"note":..,"approximate":true,"conflict":true,"evidence":[{"source":..,
 * "field":..,"value":..}]}, ...}} */
cJSON *buildcheck_verdict_to_json(const BcVerdict *v)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "status", buildcheck_status_name(v->status));
	cJSON_AddStringToObject(root, "product", buildcheck_product_name(v->product));
	cJSON_AddItemToObject(root, "reasons", strings_json(v->reasons));
	cJSON_AddItemToObject(root, "contradictions", strings_json(v->contradictions));
	cJSON *facts = cJSON_AddObjectToObject(root, "facts");
	for (int f = 0; f < BC_FACT_COUNT; f++) {
		const BcFact *fa = &v->facts[f];
		cJSON *o = cJSON_AddObjectToObject(facts, fact_names[f]);
		if (fa->value)
			add_text(o, "value", fa->value);
		else
			cJSON_AddNullToObject(o, "value");
		if (fa->note)
			add_text(o, fa->value ? "note" : "unknown", fa->note);
		if (fa->approximate)
			cJSON_AddTrueToObject(o, "approximate");
		if (fa->conflict)
			cJSON_AddTrueToObject(o, "conflict");
		cJSON *ev = cJSON_AddArrayToObject(o, "evidence");
		for (guint i = 0; i < fa->cites->len; i++) {
			const BcCite *c = &g_array_index(fa->cites, BcCite, i);
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "source", buildcheck_source_name(c->source));
			cJSON_AddStringToObject(e, "field", c->field);
			add_text(e, "value", c->value);
			cJSON_AddItemToArray(ev, e);
		}
	}
	return root;
}
