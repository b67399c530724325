/* renderfo.c - dr restore and dr failover outcomes for people (runbooks): what was restored
 * where, the steps of a failover with their times, the RPO (--json prints the documents). */
#include <string.h>

#include "output.h"
#include "render.h"

static const cJSON *obj(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

void renderfo_steps(const cJSON *res, GString *out)
{
	const cJSON *s;
	cJSON_ArrayForEach(s, obj(res, "steps"))
	{
		g_string_append_printf(
		    out, "  %-6s %6.1fs  %-12s %s\n", cJSON_IsTrue(obj(s, "ok")) ? "ok" : "FAILED",
		    num(s, "seconds", 0), strd(s, "step", "?"), strd(s, "detail", ""));
	}
}

void renderfo_restore(const cJSON *res, GString *out, GString *warn)
{
	const cJSON *d;
	const char *name = strd(res, "name", "?"), *host = strd(res, "host", "?");
	bool in_place = cJSON_IsTrue(obj(res, "in_place"));
	if (cJSON_IsTrue(obj(res, "already_restored"))) {
		g_string_append_printf(
		    out,
		    "%s on host %s was restored from point %s already (it is %s); "
		    "nothing done\n",
		    name, host, strd(res, "point", "?"), strd(res, "state", "?"));
		return;
	}
	if (cJSON_IsTrue(obj(res, "dry_run")))
		g_string_append_printf(
		    out,
		    "dry run, nothing done: point %s of %s would be restored %s %s on host %s:\n",
		    strd(res, "point", "?"), strd(res, "source", "?"),
		    in_place ? "in place into" : "as", name, host);
	else
		g_string_append_printf(out, "restored point %s of %s %s %s on host %s (shut off)\n",
				       strd(res, "point", "?"), strd(res, "source", "?"),
				       in_place ? "in place into" : "as", name, host);
	cJSON_ArrayForEach(d, obj(res, "plan"))
	{
		g_autofree char *sz = output_human_size((uint64_t)num(d, "virtual_size", 0));
		g_string_append_printf(
		    out, "  %-5s %s (%s)%s%s\n", strd(d, "target", "?"), strd(d, "to", "?"), sz,
		    str(d, "keep_as") ? ", old image kept as " : "", strd(d, "keep_as", ""));
	}
	cJSON_ArrayForEach(d, obj(res, "checks"))
	{
		g_string_append_printf(out, "  check %-6s %s: %s\n",
				       cJSON_IsTrue(obj(d, "ok")) ? "ok" : "FAILED",
				       strd(d, "check", "?"), strd(d, "detail", ""));
	}
	if (str(res, "recovered"))
		g_string_append_printf(out, "  an earlier restore of this name had died: %s\n",
				       str(res, "recovered"));
	if (str(res, "warning"))
		g_string_append_printf(warn, "holdfast: warning: %s\n", str(res, "warning"));
}

void renderfo_failover(const cJSON *res, GString *out, GString *warn)
{
	const cJSON *t = obj(res, "target"), *src = obj(res, "source");
	g_string_append_printf(out, "%s failover of %s to %s/%s: %s\n", strd(res, "mode", "?"),
			       strd(res, "guest", "?"), strd(t, "host", "?"), strd(t, "name", "?"),
			       cJSON_IsTrue(obj(res, "dry_run")) ? "dry run, nothing changed"
								 : "the guest runs there");
	renderfo_steps(res, out);
	if (str(res, "point")) {
		g_autofree char *rpo = cJSON_IsNumber(obj(res, "rpo_s"))
					   ? render_duration(num(res, "rpo_s", 0))
					   : g_strdup("?");
		g_string_append_printf(out, "point %s (%s); RPO %s\n", str(res, "point"),
				       strd(res, "point_time", "?"), rpo);
	}
	g_string_append_printf(out, "source %s/%s: %s\n", strd(src, "host", "?"),
			       strd(src, "name", "?"),
			       cJSON_IsTrue(obj(src, "marked")) ? "shut off, autostart off, marked"
			       : cJSON_IsTrue(obj(src, "reachable")) ? "unchanged"
								     : "not reachable, left alone");
	if (str(res, "note"))
		g_string_append_printf(out, "note: %s\n", str(res, "note"));
}
