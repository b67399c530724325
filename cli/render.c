/* render.c - per-method renderers for people; the generic printer for everything else. */
#include "render.h"

#include <string.h>

#include "output.h"
#include "timefmt.h"


/* The fields of `o` not named in `known`, printed generically. */
static void rest(GString *out, const cJSON *o, const char *const *known, unsigned width)
{
	const cJSON *v;
	cJSON_ArrayForEach(v, o)
	{
		bool k = false;
		for (const char *const *n = known; *n && !k; n++)
			k = v->string && !strcmp(v->string, *n);
		if (!k) {
			output_kv(out, o, 0, width, known);
			return;
		}
	}
}

char *render_duration(double s)
{
	long t = s < 0 ? 0 : (long)(s + 0.5);
	if (t < 60)
		return g_strdup_printf("%lds", t);
	if (t < 3600)
		return g_strdup_printf("%ldm%02lds", t / 60, t % 60);
	return g_strdup_printf("%ldh%02ldm", t / 3600, (t % 3600) / 60);
}

/* ---- version, reload ---- */

void render_version(const cJSON *r, GString *out)
{
	static const char *const known[] = {"version", "protocol", "cli", NULL};
	g_autofree char *d =
	    g_strdup_printf("%s (protocol %.0f)", strd(r, "version", "-"), num(r, "protocol", 0));
	output_kv_line(out, 0, 11, "holdfast",
		       HF_VERSION " (protocol " G_STRINGIFY(HF_PROTOCOL_VERSION) ")");
	output_kv_line(out, 0, 11, "holdfastd", d);
	const cJSON *v;
	cJSON_ArrayForEach(v, r)
	{
		bool k = false;
		for (const char *const *n = known; *n; n++)
			k = k || !strcmp(v->string, *n);
		if (k)
			continue;
		g_autofree char *s = output_scalar(v);
		output_kv_line(out, 0, 11, v->string, s);
	}
}

static void render_reload(const cJSON *r, GString *out)
{
	static const char *const known[] = {"reloaded", "hosts", NULL};
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "reloaded")))
		g_string_append_printf(out, "configuration reloaded: %.0f host%s\n",
				       num(r, "hosts", 0), num(r, "hosts", 0) == 1 ? "" : "s");
	else
		g_string_append(out, "configuration not reloaded\n");
	rest(out, r, known, 0);
}

/* ---- guests ---- */

const char *render_os_short(const cJSON *os)
{
	const char *id = str(os, "id");
	g_autofree char *l = id ? g_ascii_strdown(id, -1) : NULL;

	if (l && (strstr(l, "2k8r2") || strstr(l, "2008r2") || strstr(l, "2008-r2")))
		return "2008 R2";
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(os, "win2008")) ||
	    (l && (strstr(l, "2k8") || strstr(l, "2008"))))
		return "2008";
	return "other";
}

static bool is_disk(const cJSON *d)
{
	const char *dev = str(d, "device");
	return !dev || !strcmp(dev, "disk");
}

static char *disks_summary(const cJSON *disks)
{
	const cJSON *d;
	unsigned n = 0;
	double total = 0;
	cJSON_ArrayForEach(d, disks) if (is_disk(d))
	{
		n++;
		total += num(d, "capacity", 0);
	}
	if (!n)
		return g_strdup("0");
	g_autofree char *h = output_human_size((uint64_t)total);
	return g_strdup_printf("%u (%s)", n, h);
}

static char *memory(const cJSON *g)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(g, "memory_mib");
	if (!cJSON_IsNumber(m))
		return g_strdup("-");
	return output_human_size((uint64_t)m->valuedouble * 1024 * 1024);
}

void render_guests(const cJSON *r, GString *out, GString *warn)
{
	static const char *const hdr[] = {"HOST",   "NAME",  "STATE", "OS", "VCPU",
					  "MEMORY", "DISKS", "TITLE", NULL};
	g_autoptr(OutputTable) t = output_table_new(hdr);
	const cJSON *g, *h;

	output_table_align_right(t, 4);
	output_table_align_right(t, 5);
	cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(r, "guests"))
	{
		char *c[] = {
		    output_field(g, "host"),
		    output_field(g, "name"),
		    output_field(g, "state"),
		    g_strdup(render_os_short(cJSON_GetObjectItemCaseSensitive(g, "os"))),
		    output_field(g, "vcpus"),
		    memory(g),
		    disks_summary(cJSON_GetObjectItemCaseSensitive(g, "disks")),
		    str(g, "title") ? g_strdup(str(g, "title")) : g_strdup(""),
		};
		output_table_add_owned(t, c);
	}
	if (output_table_rows(t))
		output_table_render(t, 0, out);
	else
		g_string_append(out, "no guests (--all also lists guests that are not Windows "
				     "Server 2008)\n");
	cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(r, "hosts"))
	{
		const char *st = str(h, "state");
		if (!st || !strcmp(st, "connected"))
			continue;
		g_string_append_printf(warn, "holdfast: warning: host %s (%s) is %s",
				       strd(h, "name", "?"), strd(h, "uri", "?"), st);
		if (str(h, "error"))
			g_string_append_printf(warn, ": %s", str(h, "error"));
		g_string_append(warn, "; its guests may be missing or stale\n");
	}
}

static char *os_long(const cJSON *os)
{
	const char *s = render_os_short(os);
	const char *id = str(os, "id"), *src = str(os, "source");
	GString *o = g_string_new(strcmp(s, "other") ? "Windows Server " : "");
	g_string_append(o, strcmp(s, "other") ? s : "not Windows Server 2008");
	if (id)
		g_string_append_printf(o, " (%s%s%s)", id, src ? ", from " : "", src ? src : "");
	return g_string_free(o, FALSE);
}

void render_guest(const cJSON *r, GString *out)
{
	static const char *const keys[] = {"address", "host",	     "name",  "uuid",
					   "title",   "description", "state", NULL};
	static const char *const known[] = {"address",	   "host",  "name", "uuid",  "title",
					    "description", "state", "os",   "vcpus", "memory_mib",
					    "tags",	   "disks", NULL};
	static const char *const rknown[] = {"guest", "snapshots", NULL};
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(r, "guest");
	const unsigned w = 12;

	for (const char *const *k = keys; *k; k++) {
		g_autofree char *v = output_field(g, *k);
		output_kv_line(out, 0, w, *k, v);
	}
	g_autofree char *os = os_long(cJSON_GetObjectItemCaseSensitive(g, "os"));
	g_autofree char *vcpus = output_field(g, "vcpus");
	g_autofree char *mem = memory(g);
	g_autofree char *tags = output_field(g, "tags");
	g_autofree char *snaps = output_field(r, "snapshots");
	output_kv_line(out, 0, w, "os", os);
	output_kv_line(out, 0, w, "vcpus", vcpus);
	output_kv_line(out, 0, w, "memory", mem);
	output_kv_line(out, 0, w, "tags", tags);
	output_kv_line(out, 0, w, "snapshots", snaps);
	rest(out, g, known, w);
	rest(out, r, rknown, w);

	static const char *const hdr[] = {"TARGET",    "DEVICE", "FORMAT", "CAPACITY",
					  "ALLOCATED", "PATH",	 NULL};
	g_autoptr(OutputTable) t = output_table_new(hdr);
	const cJSON *d;
	output_table_align_right(t, 3);
	output_table_align_right(t, 4);
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(g, "disks"))
	{
		const cJSON *cap = cJSON_GetObjectItemCaseSensitive(d, "capacity");
		const cJSON *alloc = cJSON_GetObjectItemCaseSensitive(d, "allocation");
		char *c[] = {
		    output_field(d, "target"),
		    output_field(d, "device"),
		    output_field(d, "format"),
		    cJSON_IsNumber(cap) ? output_human_size((uint64_t)cap->valuedouble) : NULL,
		    cJSON_IsNumber(alloc) ? output_human_size((uint64_t)alloc->valuedouble) : NULL,
		    output_field(d, "path"),
		};
		output_table_add_owned(t, c);
	}
	output_kv_line(out, 0, w, "disks", output_table_rows(t) ? NULL : "-");
	if (output_table_rows(t))
		output_table_render(t, 2, out);
}

/* ---- snapshots ---- */

void render_snapshots(const cJSON *r, GString *out)
{
	static const char *const hdr[] = {"NAME", "CREATED", "OWNER",	    "CONSISTENCY",
					  "KIND", "CURRENT", "DESCRIPTION", NULL};
	g_autoptr(OutputTable) t = output_table_new(hdr);
	const cJSON *s;

	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(r, "snapshots"))
	{
		char *c[] = {
		    output_field(s, "name"),
		    output_field(s, "created"),
		    output_field(s, "owner"),
		    output_field(s, "consistency"),
		    output_field(s, "kind"),
		    g_strdup(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "current")) ? "*"
											  : ""),
		    g_strdup(strd(s, "description", "")),
		};
		output_table_add_owned(t, c);
	}
	if (output_table_rows(t))
		output_table_render(t, 0, out);
	else
		g_string_append_printf(out, "%s has no snapshots\n", strd(r, "guest", "the guest"));
}

/* ---- jobs ---- */

static char *job_note(const cJSON *j)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
	if (cJSON_IsObject(e))
		return g_strdup_printf("%s: %s", strd(e, "code", "error"), strd(e, "message", ""));
	return g_strdup(strd(j, "message", ""));
}

void render_jobs(const cJSON *r, GString *out)
{
	static const char *const hdr[] = {"ID",	      "KIND",	 "GUEST",   "STATE",
					  "PROGRESS", "CREATED", "MESSAGE", NULL};
	g_autoptr(OutputTable) t = output_table_new(hdr);
	const cJSON *j;

	output_table_align_right(t, 0);
	output_table_align_right(t, 4);
	cJSON_ArrayForEach(j, cJSON_GetObjectItemCaseSensitive(r, "jobs"))
	{
		char *c[] = {
		    output_field(j, "id"),
		    output_field(j, "kind"),
		    output_field(j, "guest"),
		    output_field(j, "state"),
		    g_strdup_printf("%.0f%%", num(j, "progress", 0)),
		    output_field(j, "created"),
		    job_note(j),
		};
		output_table_add_owned(t, c);
	}
	if (output_table_rows(t))
		output_table_render(t, 0, out);
	else
		g_string_append(out, "no jobs\n");
}

void render_job(const cJSON *job, GString *out)
{
	g_autoptr(cJSON) j = cJSON_Duplicate(job, 1);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");

	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "progress"))) {
		g_autofree char *p = g_strdup_printf("%.0f%%", num(j, "progress", 0));
		cJSON_ReplaceItemInObjectCaseSensitive(j, "progress", cJSON_CreateString(p));
	}
	if (cJSON_IsObject(e)) {
		g_autofree char *m =
		    g_strdup_printf("%s (%s)", strd(e, "message", ""), strd(e, "code", "error"));
		cJSON_ReplaceItemInObjectCaseSensitive(j, "error", cJSON_CreateString(m));
	}
	output_kv(out, j, 0, 0, NULL);
}

char *render_job_label(const cJSON *job)
{
	const char *g = str(job, "guest");
	return g_strdup_printf("job %.0f (%s%s%s)", num(job, "id", 0), strd(job, "kind", "?"),
			       g ? " of " : "", g ? g : "");
}

static double job_seconds(const cJSON *job)
{
	const char *a = str(job, "started"), *b = str(job, "finished");
	int64_t ta = a ? timefmt_parse(a) : -1, tb = b ? timefmt_parse(b) : -1;
	return ta >= 0 && tb >= ta ? (double)(tb - ta) : -1;
}

void render_job_outcome(const cJSON *job, GString *out, GString *warn)
{
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(job, "result");
	const char *kind = strd(job, "kind", "");
	const char *guest = strd(job, "guest", "?");
	double secs = job_seconds(job);
	g_autofree char *took = secs >= 0 ? render_duration(secs) : g_strdup("?");
	g_autofree char *when = g_strdup_printf("job %.0f, %s", num(job, "id", 0), took);
	const cJSON *l;

	/* a guest made from a restore point without a device of the source (dr restore, test,
	 * failover): said whatever the kind */
	cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(res, "left_out"))
	{
		if (cJSON_IsString(l))
			g_string_append_printf(warn, "holdfast: warning: disk %s\n", l->valuestring);
	}
	if (renderdr_outcome(job, out, warn))
		return;
	if (!strcmp(kind, "snapshot.create") && cJSON_IsObject(res)) {
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(res, "snapshot");
		const char *reason = str(s, "consistency_reason");
		g_string_append_printf(out, "created snapshot %s of %s (%s)\n",
				       strd(s, "name", "?"), guest, when);
		g_string_append_printf(out, "consistency: %s%s%s%s\n",
				       strd(s, "consistency", "unknown"), reason ? " (" : "",
				       reason ? reason : "", reason ? ")" : "");
		if (str(res, "warning"))
			g_string_append_printf(warn, "holdfast: warning: %s\n",
					       str(res, "warning"));
	} else if (!strcmp(kind, "snapshot.revert") && cJSON_IsObject(res)) {
		g_string_append_printf(out, "reverted %s to snapshot %s (%s)", guest,
				       strd(res, "reverted", "?"), when);
		if (str(res, "state"))
			g_string_append_printf(out, "; the guest is now %s", str(res, "state"));
		g_string_append_c(out, '\n');
	} else if (!strcmp(kind, "dr.restore") && cJSON_IsObject(res)) {
		renderfo_restore(res, out, warn);
	} else if (!strcmp(kind, "dr.failover") && cJSON_IsObject(res)) {
		renderfo_failover(res, out, warn);
	} else if (!strcmp(kind, "snapshot.delete") && cJSON_IsObject(res)) {
		bool forced = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "forced"));
		const char *owner = str(res, "owner");
		g_string_append_printf(out, "deleted snapshot %s of %s (%s)%s\n",
				       strd(res, "deleted", "?"), guest, when,
				       owner && !strcmp(owner, "foreign") && forced
					   ? "; it was a foreign snapshot (--force)"
					   : "");
	} else {
		g_autofree char *label = render_job_label(job);
		g_string_append_printf(out, "%s succeeded (%s)\n", label, took);
		if (cJSON_IsObject(res))
			output_kv(out, res, 2, 0, NULL);
		else if (res && !cJSON_IsNull(res)) {
			g_autofree char *s = output_scalar(res);
			g_string_append_printf(out, "  result: %s\n", s);
		}
	}
}

char *render_progress(const cJSON *job, double elapsed)
{
	g_autofree char *d = render_duration(elapsed);
	const char *msg = str(job, "message");
	return g_strdup_printf("job %.0f %s %3.0f%%%s%s  %s", num(job, "id", 0),
			       strd(job, "state", "?"), num(job, "progress", 0),
			       msg && msg[0] ? "  " : "", msg ? msg : "", d);
}

/* ---- dispatch ---- */

static void r_version(const cJSON *r, GString *o, GString *w)
{
	render_version(r, o);
}
static void r_reload(const cJSON *r, GString *o, GString *w)
{
	render_reload(r, o);
}
static void r_guest(const cJSON *r, GString *o, GString *w)
{
	render_guest(r, o);
}
static void r_snapshots(const cJSON *r, GString *o, GString *w)
{
	render_snapshots(r, o);
}
static void r_jobs(const cJSON *r, GString *o, GString *w)
{
	render_jobs(r, o);
}
static void r_job(const cJSON *r, GString *o, GString *w)
{
	render_job(cJSON_GetObjectItemCaseSensitive(r, "job"), o);
}
static void r_cancel(const cJSON *r, GString *o, GString *w)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(r, "job");
	g_autofree char *label = render_job_label(j);
	g_string_append_printf(o, "%s: cancel requested; state now %s\n", label,
			       strd(j, "state", "?"));
}

static void r_classify(const cJSON *r, GString *o, GString *w)
{
	render_classify(r, o);
}

/* ---- policies and schedules ---- */

static char *names_of(const cJSON *a, bool with_reason)
{
	GString *s = g_string_new(NULL);
	const cJSON *e;
	cJSON_ArrayForEach(e, a)
	{
		const char *n = cJSON_IsString(e) ? e->valuestring : str(e, "name");
		g_string_append_printf(s, "%s%s", s->len ? ", " : "", n ? n : "?");
		if (str(e, "kind")) /* a dr-copy policy's points */
			g_string_append_printf(s, " %s", str(e, "kind"));
		if (with_reason && str(e, "reason"))
			g_string_append_printf(s, " (%s)", str(e, "reason"));
	}
	if (!s->len)
		g_string_append(s, "-");
	return g_string_free(s, FALSE);
}

static void r_simulate(const cJSON *r, GString *o, GString *w)
{
	static const char *const hdr[] = {"DATE", "TAKEN", "KEPT", "PRUNED (WHY)", NULL};
	g_autoptr(OutputTable) t = output_table_new(hdr);
	const cJSON *d;
	g_string_append_printf(o, "policy %s: %s; %s; from %s (nothing is touched)\n",
			       strd(r, "policy", "?"), strd(r, "schedule", "?"),
			       strd(r, "rules", "?"), strd(r, "start", "?"));
	output_table_align_right(t, 2);
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(r, "days"))
	{
		char *c[] = {
		    output_field(d, "date"),
		    names_of(cJSON_GetObjectItemCaseSensitive(d, "created"), false),
		    g_strdup_printf("%d", cJSON_GetArraySize(
					      cJSON_GetObjectItemCaseSensitive(d, "existing"))),
		    names_of(cJSON_GetObjectItemCaseSensitive(d, "pruned"), true),
		};
		output_table_add_owned(t, c);
	}
	output_table_render(t, 0, o);
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(r, "days"))
	{
		g_autofree char *c =
		    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(d, "consolidated"))
			? names_of(cJSON_GetObjectItemCaseSensitive(d, "consolidated"), true)
			: NULL;
		if (c)
			g_string_append_printf(o, "%s consolidated: %s\n", strd(d, "date", "?"), c);
	}
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(r, "now"))
	{
		g_autofree char *p = names_of(cJSON_GetObjectItemCaseSensitive(d, "pruned"), true);
		g_autofree char *c =
		    names_of(cJSON_GetObjectItemCaseSensitive(d, "consolidated"), true);
		g_string_append_printf(
		    o, "%s now: %d point(s) in the store; would prune: %s; would consolidate: %s\n",
		    strd(d, "guest", "?"),
		    (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d, "points")), p, c);
	}
	const cJSON *days = cJSON_GetObjectItemCaseSensitive(r, "days");
	const cJSON *last = cJSON_GetArrayItem(days, cJSON_GetArraySize(days) - 1);
	g_autofree char *kept = names_of(cJSON_GetObjectItemCaseSensitive(last, "existing"), false);
	g_string_append_printf(o, "kept at the end: %s\n", kept);
}

static void r_policies(const cJSON *r, GString *o, GString *w)
{
	static const char *const hdr[] = {"NAME",  "SCHEDULE", "TZ",	   "GUESTS", "RULES",
					  "NEXT",  "LAST SLOT", "HELD", NULL};
	g_autoptr(OutputTable) t = output_table_new(hdr);
	const cJSON *p;
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(r, "policies"))
	{
		int held = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "held"));
		char *c[] = {
		    output_field(p, "name"),	 output_field(p, "normalized"),
		    output_field(p, "timezone"), output_field(p, "guests"),
		    !g_strcmp0(str(p, "action"), "dr-copy") /* DR policies say where to */
			? g_strdup_printf("dr-copy to %s, full-every %.0f; %s", strd(p, "store", "?"),
					  num(p, "full_every", 0),
					  strd(p, "rules", "?"))
			: output_field(p, "rules"),
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "running"))
			? g_strdup("running now")
			: output_field(p, "next"),
		    output_field(p, "last_slot"),
		    held ? g_strdup_printf("%d guest(s): policy apply", held) : g_strdup("-"),
		};
		output_table_add_owned(t, c);
	}
	if (output_table_rows(t))
		output_table_render(t, 0, o);
	else
		g_string_append(o, "no policies ([policy NAME] sections in holdfastd.conf)\n");
}

static void r_schedule(const cJSON *r, GString *o, GString *w)
{
	static const char *const hdr[] = {"POLICY", "GUEST", "SLOT", "STARTS", "STATE", NULL};
	g_autoptr(OutputTable) t = output_table_new(hdr);
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(r, "schedule"))
	{
		char *c[] = {output_field(e, "policy"), output_field(e, "guest"),
			     output_field(e, "slot"), output_field(e, "next"),
			     output_field(e, "state")};
		output_table_add_owned(t, c);
	}
	if (output_table_rows(t))
		output_table_render(t, 0, o);
	else
		g_string_append(o, "nothing scheduled\n");
}

static const struct {
	const char *method;
	void (*fn)(const cJSON *r, GString *out, GString *warn);
} renderers[] = {
    {"daemon.version", r_version}, {"daemon.reload", r_reload},	   {"guests.list", render_guests},
    {"guest.show", r_guest},	   {"snapshot.list", r_snapshots}, {"jobs.list", r_jobs},
    {"jobs.get", r_job},	   {"jobs.cancel", r_cancel},	   {"check.classify", r_classify},
    {"policy.simulate", r_simulate}, {"policy.list", r_policies},    {"schedule.list", r_schedule},
    {"dr.list", renderdr_list},	     {"dr.status", renderdr_status},
};

void render_result(const HfMethod *m, const cJSON *result, GString *out, GString *warn)
{
	for (size_t i = 0; i < G_N_ELEMENTS(renderers); i++)
		if (!strcmp(renderers[i].method, m->name) && cJSON_IsObject(result)) {
			renderers[i].fn(result, out, warn);
			return;
		}
	if (cJSON_IsObject(result) && cJSON_GetArraySize(result) == 0)
		g_string_append(out, "ok\n");
	else
		output_kv(out, result, 0, 0, NULL);
}
