/* renderdr.c - DR copies for people: dr list and dr status as tables, the outcome of dr verify
 * and dr test jobs in words (sizes and ages human-readable; --json prints the documents). */
#include <string.h>

#include "output.h"
#include "render.h"
#include "timefmt.h"

static const cJSON *obj(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* "3h12m ago", "4d03h ago" from an ISO time; "-" when missing. */
static char *age_of(const char *iso, int64_t now)
{
	int64_t t = iso ? timefmt_parse(iso) : -1, a = MAX(now - t, 0);
	if (t < 0)
		return g_strdup("-");
	if (a >= 2 * 86400)
		return g_strdup_printf("%" G_GINT64_FORMAT "d%02dh ago", a / 86400,
				       (int)(a % 86400 / 3600));
	g_autofree char *d = render_duration((double)a);
	return g_strdup_printf("%s ago", d);
}

static char *seconds(const cJSON *v)
{
	return cJSON_IsNumber(v) ? g_strdup_printf("%.1fs", v->valuedouble) : g_strdup("-");
}

/* ---- dr list ---- */

void renderdr_list(const cJSON *r, GString *out, GString *warn)
{
	static const char *const hdr[] = {"GUEST",  "POINT",	"KIND", "PARENT", "CONSISTENCY",
					  "STORED", "VERIFIED", "RTO",	NULL};
	const cJSON *pts = obj(r, "points"), *p;
	const char *first = str(cJSON_GetArrayItem(pts, 0), "guest");
	bool many = false;
	cJSON_ArrayForEach(p, pts) many |= g_strcmp0(str(p, "guest"), first) != 0;
	/* one guest: no GUEST column (the headers from POINT on) */
	g_autoptr(OutputTable) t = output_table_new(many ? hdr : hdr + 1);
	output_table_align_right(t, many ? 5 : 4);
	output_table_align_right(t, many ? 7 : 6);
	cJSON_ArrayForEach(p, pts)
	{
		const cJSON *v = obj(p, "verified");
		char *c[] = {
		    many ? output_field(p, "guest") : NULL,
		    output_field(p, "point"),
		    output_field(p, "kind"),
		    output_field(p, "parent"),
		    output_field(p, "consistency"),
		    output_human_size((uint64_t)num(p, "stored", 0)),
		    g_strdup(cJSON_IsTrue(v)	? "yes"
			     : cJSON_IsFalse(v) ? "NO"
						: "-"),
		    seconds(obj(p, "rto_s")),
		};
		output_table_add_owned(t, many ? c : c + 1);
	}
	if (!output_table_rows(t)) {
		g_string_append_printf(out, "no restore points in %s\n",
				       strd(r, "path", "the store"));
		return;
	}
	if (!many)
		g_string_append_printf(out, "restore points of %s in %s\n", first ? first : "?",
				       strd(r, "path", "?"));
	output_table_render(t, 0, out);
}

/* ---- dr status ---- */

void renderdr_status(const cJSON *r, GString *out, GString *warn)
{
	static const char *const hdr[] = {"GUEST", "NEWEST POINT", "AGE", "POINTS",
					  "STATE", "RTO",	   NULL};
	g_autoptr(OutputTable) t = output_table_new(hdr);
	int64_t now = g_get_real_time() / G_USEC_PER_SEC;
	const cJSON *g;
	output_table_align_right(t, 2);
	output_table_align_right(t, 3);
	output_table_align_right(t, 5);
	cJSON_ArrayForEach(g, obj(r, "guests"))
	{
		const char *host = str(g, "host"), *name = str(g, "guest");
		const char *st = strd(g, "state", "?");
		char *c[] = {
		    host && name ? g_strdup_printf("%s/%s", host, name) : output_field(g, "guest"),
		    str(g, "point") ? output_field(g, "point") : g_strdup("none verified"),
		    age_of(str(g, "time"), now),
		    output_field(g, "points"),
		    strcmp(st, "ok") ? g_ascii_strup(st, -1) : g_strdup(st),
		    seconds(obj(g, "rto_s")),
		};
		output_table_add_owned(t, c);
	}
	g_autofree char *w = render_duration(num(r, "rpo_warn_s", 0));
	g_autofree char *c = render_duration(num(r, "rpo_critical_s", 0));
	if (output_table_rows(t))
		output_table_render(t, 0, out);
	else
		g_string_append(out, "no guests with restore points\n");
	g_string_append_printf(out, "RPO: %s (warn after %s, critical after %s) in %s\n",
			       strd(r, "state", "?"), w, c, strd(r, "path", "?"));
}

/* ---- dr verify, dr test (job outcomes) ---- */

static void verify_outcome(const cJSON *job, const cJSON *res, GString *out)
{
	const cJSON *v = obj(res, "verified");
	g_autofree char *list = output_scalar(v);
	g_string_append_printf(out, "verified %d restore point(s) of %s: %s\n",
			       cJSON_GetArraySize(v), strd(res, "guest", strd(job, "guest", "?")),
			       list);
	g_string_append(out, "checksums (SHA-256) and qemu-img check of every image in their "
			     "chains: ok\n");
	const cJSON *d;
	if (cJSON_IsArray(obj(res, "compared")))
		g_string_append_printf(out, "new point %s (%s), compared with the guest's disks at "
					    "the same instant:\n",
				       strd(res, "point", "?"), strd(res, "kind", "?"));
	cJSON_ArrayForEach(d, obj(res, "compared"))
	{
		g_autofree char *sz = output_human_size((uint64_t)num(d, "bytes", 0));
		g_autofree char *t = seconds(obj(d, "seconds"));
		g_string_append_printf(out, "  %-6s %s rebuilt from the store: %s (%s)\n",
				       strd(d, "target", "?"), sz,
				       cJSON_IsTrue(obj(d, "identical")) ? "identical" : "DIFFERENT", t);
	}
}

static void check_line(const cJSON *c, GString *out)
{
	const char *err = str(c, "error");
	if (!cJSON_IsObject(c))
		return;
	if (err) {
		g_string_append_printf(out, "  build check:   not run (%s)\n", err);
		return;
	}
	const cJSON *pol = obj(c, "policy_pass");
	g_string_append_printf(
	    out, "  build check:   %s, %s %s.%s, patched %s (%s months behind), ESU licence %s%s\n",
	    strd(c, "status", "?"), strd(c, "product", "?"), strd(c, "build", "?"),
	    strd(c, "revision", "?"), strd(c, "patch_month", "?"), strd(c, "months_behind", "?"),
	    strd(c, "esu_licence", "?"),
	    cJSON_IsBool(pol) ? (cJSON_IsTrue(pol) ? "; policy pass" : "; policy FAIL") : "");
}

static void test_outcome(const cJSON *res, GString *out)
{
	const cJSON *d, *p;
	if (cJSON_IsTrue(obj(res, "dry_run"))) {
		g_string_append_printf(
		    out,
		    "dr test of %s point %s (dry run, nothing done): would define "
		    "%s on host %s with no network, overlays:\n",
		    strd(res, "guest", "?"), strd(res, "point", "?"), strd(res, "domain", "?"),
		    strd(res, "host", "?"));
		cJSON_ArrayForEach(d, obj(res, "disks"))
		{
			g_string_append_printf(out, "  %s  %s over %s\n", d->string,
					       strd(d, "overlay", "?"), strd(d, "backing", "?"));
		}
		return;
	}
	g_string_append_printf(out, "test boot of %s point %s (%s on host %s): %s\n",
			       strd(res, "guest", "?"), strd(res, "point", "?"),
			       strd(res, "domain", "?"), strd(res, "host", "?"),
			       cJSON_IsTrue(obj(res, "ok")) ? "ok" : "FAILED");
	g_autofree char *rto = seconds(obj(res, "rto_s"));
	g_string_append_printf(out, "  RTO:           %s from start to the guest agent's answer\n",
			       rto);
	check_line(obj(res, "check"), out);
	if (cJSON_GetArraySize(obj(res, "ports"))) {
		g_string_append(out, "  ports:         ");
		cJSON_ArrayForEach(p, obj(res, "ports"))
		{
			g_string_append_printf(
			    out, "%s%.0f %s", p == obj(res, "ports")->child ? "" : ", ",
			    num(p, "port", 0),
			    cJSON_IsTrue(obj(p, "listening")) ? "listening" : "NOT listening");
		}
		g_string_append_c(out, '\n');
	}
	if (cJSON_IsTrue(obj(res, "kept")))
		g_string_append_printf(out,
				       "  kept:          %s runs, overlays in %s (remove both when "
				       "done)\n",
				       strd(res, "domain", "?"), strd(res, "dir", "?"));
	else
		g_string_append(out, "  torn down:     test guest removed, overlays deleted\n");
	if (str(res, "record_error"))
		g_string_append_printf(out, "  not recorded in the manifest: %s\n",
				       str(res, "record_error"));
}

static void copy_dry_outcome(const cJSON *res, GString *out)
{
	const cJSON *d;
	g_string_append_printf(out, "dr copy of %s (dry run, nothing done): would take a%s %s copy",
			       strd(res, "guest", "?"),
			       strcmp(strd(res, "kind", ""), "incremental") ? "" : "n",
			       strd(res, "kind", "?"));
	if (str(res, "mode"))
		g_string_append_printf(out, " in %s mode%s%s into DR store '%s' (%s)",
				       str(res, "mode"), strcmp(str(res, "mode"), "pull") ? "" : " over ",
				       strcmp(str(res, "mode"), "pull") ? "" : strd(res, "transport", "?"),
				       strd(res, "store", "?"), strd(res, "dir", "?"));
	g_string_append_c(out, '\n');
	if (str(res, "full_reason"))
		g_string_append_printf(out, "  why full:      %s\n", str(res, "full_reason"));
	if (str(res, "parent"))
		g_string_append_printf(out, "  parent:        point %s\n", str(res, "parent"));
	cJSON_ArrayForEach(d, obj(res, "full_disks"))
	{
		g_string_append_printf(out, "  disk %-8s  in full: %s\n", strd(d, "target", "?"),
				       strd(d, "reason", "?"));
	}
	if (cJSON_IsTrue(obj(res, "drops_checkpoints")))
		g_string_append(out, "  first:         drop the guest's unusable DR checkpoints\n");
	if (str(res, "space"))
		g_string_append_printf(out, "  space:         %s\n", str(res, "space"));
}

bool renderdr_outcome(const cJSON *job, GString *out, GString *warn)
{
	const char *kind = strd(job, "kind", "");
	const cJSON *res = obj(job, "result");
	if (!cJSON_IsObject(res))
		return false;
	if (!strcmp(kind, "dr.verify"))
		verify_outcome(job, res, out);
	else if (!strcmp(kind, "dr.test"))
		test_outcome(res, out);
	else if (!strcmp(kind, "dr.copy") && cJSON_IsTrue(obj(res, "dry_run")))
		copy_dry_outcome(res, out);
	else
		return false;
	if (str(res, "teardown_error"))
		g_string_append_printf(warn, "holdfast: warning: %s\n", str(res, "teardown_error"));
	return true;
}
