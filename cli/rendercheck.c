/* rendercheck.c - the build check for people and asset inventories: check.run's document as a
 * table or RFC 4180 CSV, its exit status, and check.classify's verdict with its evidence. */
#include <string.h>

#include "output.h"
#include "render.h"


static const cJSON *fact(const cJSON *verdict, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(verdict, "facts"),
						name);
}

/* A fact's value, "~" before approximate ones, "?" when unknown. */
static char *fact_text(const cJSON *verdict, const char *name)
{
	const cJSON *f = fact(verdict, name);
	const char *v = str(f, "value");
	if (!verdict || cJSON_IsNull(verdict))
		return g_strdup("-");
	if (!v)
		return g_strdup("?");
	return g_strdup_printf(
	    "%s%s", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "approximate")) ? "~" : "", v);
}

static char *build_revision(const cJSON *verdict)
{
	const char *b = str(fact(verdict, "build"), "value");
	const char *r = str(fact(verdict, "revision"), "value");
	if (!verdict || cJSON_IsNull(verdict))
		return g_strdup("-");
	return g_strdup_printf("%s.%s", b ? b : "?", r ? r : "?");
}

static bool not_windows(const cJSON *c)
{
	return cJSON_IsFalse(
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "os"), "windows"));
}

static char *check_verdict(const cJSON *c)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(c, "error");
	if (cJSON_IsObject(e))
		return g_strdup_printf("not checked (%s)", strd(e, "code", "error"));
	if (not_windows(c))
		return g_strdup("not Windows");
	return g_strdup(strd(cJSON_GetObjectItemCaseSensitive(c, "verdict"), "status", "-"));
}

static const char *check_policy(const cJSON *c)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(c, "policy");
	if (!cJSON_IsObject(p))
		return "-";
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "pass")) ? "pass" : "FAIL";
}

static char *check_age(const cJSON *c)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(c, "age_s");
	return cJSON_IsNumber(a) ? render_duration(a->valuedouble) : g_strdup("-");
}

/* Every reason of one check: verdict reasons, contradictions, policy failures, the error. */
static GPtrArray *check_reasons(const cJSON *c)
{
	GPtrArray *r = g_ptr_array_new_with_free_func(g_free);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "verdict");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(c, "policy");
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(c, "error");
	const cJSON *s;
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(v, "reasons"))
	    g_ptr_array_add(r, g_strdup(cJSON_GetStringValue(s)));
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(v, "contradictions"))
	    g_ptr_array_add(r, g_strdup_printf("contradiction: %s", cJSON_GetStringValue(s)));
	if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(p, "pass")))
		cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(p, "reasons"))
		    g_ptr_array_add(r, g_strdup_printf("policy: %s", cJSON_GetStringValue(s)));
	if (cJSON_IsObject(e))
		g_ptr_array_add(r, g_strdup_printf("not checked: %s (%s)", strd(e, "message", ""),
						   strd(e, "code", "error")));
	e = cJSON_GetObjectItemCaseSensitive(c, "refresh_error");
	if (cJSON_IsObject(e))
		g_ptr_array_add(r, g_strdup_printf("stale: the last refresh failed: %s (%s); the "
						   "verdict is from the older evidence",
						   strd(e, "message", ""), strd(e, "code", "error")));
	for (guint i = 0; i < r->len; i++)
		if (!r->pdata[i])
			r->pdata[i] = g_strdup("?");
	return r;
}

void render_check(const cJSON *doc, GString *out, GString *warn)
{
	static const char *const hdr[] = {
	    "GUEST",   "PRODUCT", "BUILD.REVISION", "PATCH MONTH", "BEHIND", "ESU ERA",
	    "LICENCE", "VERDICT", "POLICY",	    "AGE",	   NULL};
	static const char *const hdr_np[] = {"GUEST",  "PRODUCT", "BUILD.REVISION", "PATCH MONTH",
					     "BEHIND", "ESU ERA", "LICENCE",	    "VERDICT",
					     "AGE",    NULL};
	const cJSON *checks = cJSON_GetObjectItemCaseSensitive(doc, "checks");
	const cJSON *sum = cJSON_GetObjectItemCaseSensitive(doc, "summary");
	const cJSON *c;
	bool policy = false;

	cJSON_ArrayForEach(c, checks) policy =
	    policy || cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(c, "policy"));
	g_autoptr(OutputTable) t = output_table_new(policy ? hdr : hdr_np);
	output_table_align_right(t, 4);
	cJSON_ArrayForEach(c, checks)
	{
		/* a non-Windows guest has no build facts: dashes, not question marks */
		const cJSON *v =
		    not_windows(c) ? NULL : cJSON_GetObjectItemCaseSensitive(c, "verdict");
		char *cells[10], **p = cells;
		*p++ = output_field(c, "guest");
		*p++ = not_windows(c) ? g_strdup("not-windows") : g_strdup(strd(v, "product", "-"));
		*p++ = build_revision(v);
		*p++ = fact_text(v, "patch-month");
		*p++ = fact_text(v, "months-behind");
		*p++ = fact_text(v, "esu-era-updates");
		*p++ = fact_text(v, "esu-licence-active");
		*p++ = check_verdict(c);
		if (policy)
			*p++ = g_strdup(check_policy(c));
		*p++ = check_age(c);
		output_table_add_owned(t, cells);
	}
	if (!output_table_rows(t)) {
		g_string_append(out, "no guests to check\n");
		return;
	}
	output_table_render(t, 0, out);
	cJSON_ArrayForEach(c, checks)
	{
		g_autoptr(GPtrArray) r = check_reasons(c);
		if (r->len)
			g_string_append_printf(out, "\n%s:\n", strd(c, "guest", "?"));
		for (guint i = 0; i < r->len; i++)
			g_string_append_printf(out, "  - %s\n", (const char *)r->pdata[i]);
	}
	g_string_append_printf(out,
			       "\n%d guest(s): %.0f ok, %.0f attention, %.0f critical, %.0f "
			       "not checked",
			       cJSON_GetArraySize(checks), num(sum, "ok", 0),
			       num(sum, "attention", 0), num(sum, "critical", 0),
			       num(sum, "failed", 0));
	if (policy)
		g_string_append_printf(out, "; %.0f fail the policy",
				       num(sum, "policy_failures", 0));
	g_string_append(out, " (AGE: of the evidence; --refresh collects it again)\n");
	if (num(sum, "failed", 0) > 0)
		g_string_append_printf(warn, "holdfast: %.0f guest(s) could not be checked\n",
				       num(sum, "failed", 0));
	if (num(sum, "stale", 0) > 0)
		g_string_append_printf(warn,
				       "holdfast: %.0f guest(s) could not be checked again: their "
				       "verdict is from older evidence\n",
				       num(sum, "stale", 0));
}

/* RFC 4180: quote a field that has a comma, a quote, CR or LF; double the quotes. */
static void csv_field(GString *out, const char *s, bool last)
{
	if (!s)
		s = "";
	if (strpbrk(s, ",\"\r\n")) {
		g_string_append_c(out, '"');
		for (; *s; s++) {
			if (*s == '"')
				g_string_append_c(out, '"');
			g_string_append_c(out, *s);
		}
		g_string_append_c(out, '"');
	} else
		g_string_append(out, s);
	g_string_append(out, last ? "\r\n" : ",");
}

void render_check_csv(const cJSON *doc, GString *out)
{
	static const char *const hdr[] = {
	    "guest",	   "host",	    "name",    "product", "build",  "revision",
	    "patch_month", "months_behind", "esu_era", "licence", "status", "policy",
	    "reasons",	   "checked",	    "age_s",   "error",	  NULL};
	const cJSON *c;
	for (const char *const *h = hdr; *h; h++)
		csv_field(out, *h, !h[1]);
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "checks"))
	{
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "verdict");
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(c, "error");
		g_autoptr(GPtrArray) r = check_reasons(c);
		g_ptr_array_add(r, NULL);
		g_autofree char *reasons = g_strjoinv("; ", (char **)r->pdata);
		g_autofree char *age = output_field(c, "age_s");
		g_autofree char *status = check_verdict(c);
		const char *pol = check_policy(c);
		const char *fields[] = {
		    str(c, "guest"),
		    str(c, "host"),
		    str(c, "name"),
		    not_windows(c) ? "not-windows" : str(v, "product"),
		    str(fact(v, "build"), "value"),
		    str(fact(v, "revision"), "value"),
		    str(fact(v, "patch-month"), "value"),
		    str(fact(v, "months-behind"), "value"),
		    str(fact(v, "esu-era-updates"), "value"),
		    str(fact(v, "esu-licence-active"), "value"),
		    status,
		    strcmp(pol, "-") ? pol : "",
		    reasons,
		    str(c, "checked"),
		    strcmp(age, "-") ? age : "",
		    cJSON_IsObject(e) ? str(e, "code") : "",
		};
		for (size_t i = 0; i < G_N_ELEMENTS(fields); i++)
			csv_field(out, fields[i], i + 1 == G_N_ELEMENTS(fields));
	}
}

int render_check_exit(const cJSON *doc)
{
	const cJSON *sum = cJSON_GetObjectItemCaseSensitive(doc, "summary");
	if (!cJSON_IsObject(sum))
		return 1;
	return num(sum, "failed", 1) > 0 || num(sum, "policy_failures", 1) > 0 ||
			       num(sum, "stale", 0) > 0
		   ? 1
		   : 0;
}

void render_classify(const cJSON *r, GString *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, "verdict");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(r, "policy");
	const cJSON *f, *s;
	g_string_append_printf(out, "verdict: %s (%s)\n", strd(v, "status", "?"),
			       strd(v, "product", "?"));
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(v, "reasons"))
	    g_string_append_printf(out, "  - %s\n", cJSON_GetStringValue(s));
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(v, "contradictions"))
	    g_string_append_printf(out, "  - contradiction: %s\n", cJSON_GetStringValue(s));
	if (cJSON_IsObject(p)) {
		bool pass = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "pass"));
		g_string_append_printf(out, "policy: %s\n", pass ? "pass" : "FAIL");
		cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(p, "reasons"))
		    g_string_append_printf(out, "  - %s\n", cJSON_GetStringValue(s));
	}
	g_string_append(out, "facts:\n");
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(v, "facts"))
	{
		const char *val = str(f, "value");
		const char *why = val ? str(f, "note") : str(f, "unknown");
		const cJSON *e;
		g_string_append_printf(out, "  %-26s %s%s%s%s\n", f->string, val ? val : "unknown",
				       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "conflict"))
					   ? " (sources disagree)"
					   : "",
				       why ? ": " : "", why ? why : "");
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(f, "evidence"))
		    g_string_append_printf(out, "  %-26s   <- %s %s = %s\n", "",
					   strd(e, "source", "?"), strd(e, "field", "?"),
					   strd(e, "value", ""));
	}
}

