/* policy.c - parsing and validation of [policy NAME] sections. */
#include "policy.h"

#include <errno.h>
#include <string.h>

#include "drstore.h"
#include "timefmt.h"

Policy *policy_new(const char *name, int line)
{
	Policy *p = g_new0(Policy, 1);
	p->name = g_strdup(name);
	p->line = line;
	p->quiesce = g_strdup("try");
	p->prune_limit = 50;
	p->retry_backoff = 300;
	p->full_every = 7;
	return p;
}

void policy_free(Policy *p)
{
	if (!p)
		return;
	g_free(p->name);
	g_free(p->schedule);
	g_free(p->timezone);
	if (p->cal)
		calendar_free(p->cal);
	g_free(p->guests);
	g_strfreev(p->globs);
	g_free(p->tag);
	g_free(p->quiesce);
	g_free(p->notify);
	g_free(p->store);
	g_free(p);
}

static int int_key(const char *v, int lo, int hi, int *out, HfError *err)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi)
		return error_set(err, HF_ERR_CONFIG, "'%s' is not a whole number in %d..%d", v, lo,
				 hi);
	*out = (int)n;
	return 0;
}

static int guests_key(Policy *p, const char *v, HfError *err)
{
	g_clear_pointer(&p->globs, g_strfreev);
	g_clear_pointer(&p->tag, g_free);
	if (!*v)
		return error_set(err, HF_ERR_CONFIG,
				 "empty; name the guests: globs over NAME or HOST/NAME (w2k8-*, "
				 "demo/app*), * for all, or tag:NAME");
	if (g_str_has_prefix(v, "tag:")) {
		if (!v[4] || strchr(v + 4, ' ') || strchr(v + 4, ','))
			return error_set(err, HF_ERR_CONFIG, "tag: needs one tag name (tag:NAME)");
		p->tag = g_strdup(v + 4);
	} else {
		char **w = g_strsplit_set(v, ", ", -1), **o = w;
		for (char **s = w; *s; s++)
			if (**s)
				*o++ = *s;
			else
				g_free(*s);
		*o = NULL;
		p->globs = w;
		for (char **s = w; *s; s++)
			if (strchr(*s, '/') != strrchr(*s, '/'))
				return error_set(err, HF_ERR_CONFIG,
						 "'%s': use NAME or HOST/NAME globs", *s);
	}
	g_free(p->guests);
	p->guests = g_strdup(v);
	return 0;
}

static const char *const int_keys[] = {"max-concurrent", "stagger",    "max-runtime",
				       "prune-limit",	 "min-free",   "retries",
				       "retry-backoff",	 "full-every", NULL};

static int *int_field(Policy *p, int i, int *lo, int *hi)
{
	int *f[] = {&p->max_concurrent, &p->stagger, &p->max_runtime,	&p->prune_limit,
		    &p->min_free,	&p->retries, &p->retry_backoff, &p->full_every};
	static const int los[] = {0, 0, 0, 0, 0, 0, 1, 1};
	static const int his[] = {10000, 86400, 7 * 86400, 100, 99, 20, 86400, 1000};
	*lo = los[i];
	*hi = his[i];
	return f[i];
}

int policy_set(Policy *p, const char *key, const char *v, int line, HfError *err)
{
	if (!strcmp(key, "schedule")) {
		g_autoptr(Calendar) c = NULL;
		if (calendar_parse(v, NULL, &c, err) < 0)
			return -1;
		g_free(p->schedule);
		p->schedule = g_strdup(v);
		p->schedule_line = line;
		return 0;
	}
	if (!strcmp(key, "timezone")) {
		GTimeZone *tz = g_time_zone_new_identifier(v);
		if (!tz)
			return error_set(err, HF_ERR_CONFIG,
					 "'%s' is not a time zone (an IANA name such as "
					 "Europe/Berlin, or UTC)",
					 v);
		g_time_zone_unref(tz);
		g_free(p->timezone);
		p->timezone = g_strdup(v);
		return 0;
	}
	if (!strcmp(key, "guests"))
		return guests_key(p, v, err);
	if (!strcmp(key, "quiesce")) {
		if (strcmp(v, "no") && strcmp(v, "yes") && strcmp(v, "try"))
			return error_set(err, HF_ERR_CONFIG, "'%s' is not one of no, yes, try", v);
		g_free(p->quiesce);
		p->quiesce = g_strdup(v);
		return 0;
	}
	if (g_str_has_prefix(key, "keep-")) {
		HfError e = {0};
		if (retention_rules_set(&p->rules, key, v, &e) < 0)
			return error_set(err, HF_ERR_CONFIG, "%s", e.message);
		return 0;
	}
	if (!strcmp(key, "action")) {
		if (strcmp(v, "snapshot") && strcmp(v, "dr-copy"))
			return error_set(err, HF_ERR_CONFIG, "'%s' is not one of snapshot, dr-copy",
					 v);
		p->action = strcmp(v, "snapshot") ? POLICY_DR_COPY : POLICY_SNAPSHOT;
		return 0;
	}
	if (!strcmp(key, "store")) {
		if (!*v)
			return error_set(err, HF_ERR_CONFIG,
					 "empty; name a [drstore NAME] section");
		g_free(p->store);
		p->store = g_strdup(v);
		p->store_line = line;
		return 0;
	}
	if (!strcmp(key, "notify")) {
		if (!*v)
			return error_set(err, HF_ERR_CONFIG,
					 "empty; give a command or drop the key");
		g_free(p->notify);
		p->notify = g_strdup(v);
		return 0;
	}
	if (!strcmp(key, "full-every"))
		p->full_every_line = line;
	for (int i = 0; int_keys[i]; i++)
		if (!strcmp(key, int_keys[i])) {
			int lo, hi, *f = int_field(p, i, &lo, &hi);
			return int_key(v, lo, hi, f, err);
		}
	return error_set(err, HF_ERR_CONFIG,
			 "unknown key (known: schedule, timezone, guests, quiesce, keep-last, "
			 "keep-hourly, keep-daily, keep-weekly, keep-monthly, keep-yearly, "
			 "max-concurrent, stagger, max-runtime, prune-limit, min-free, retries, "
			 "retry-backoff, notify, action, store, full-every)");
}

const char *policy_action_name(PolicyAction a)
{
	return a == POLICY_DR_COPY ? "dr-copy" : "snapshot";
}

/* dr-copy needs a store that exists; store is meaningless for snapshots. */
static int store_check(const Policy *p, const char *file, const GPtrArray *drstores, HfError *err)
{
	if (p->action != POLICY_DR_COPY) {
		if (p->store || p->full_every_line)
			return error_set(err, HF_ERR_CONFIG,
					 "%s:%d: [policy %s] %s: only for action = dr-copy (this "
					 "policy takes snapshots); drop the key or set the action",
					 file, p->store ? p->store_line : p->full_every_line,
					 p->name, p->store ? "store" : "full-every");
		return 0;
	}
	if (!p->store)
		return error_set(err, HF_ERR_CONFIG,
				 "%s:%d: [policy %s] store: missing; action = dr-copy needs store "
				 "= NAME of a [drstore NAME] section",
				 file, p->line, p->name);
	for (guint i = 0; drstores && i < drstores->len; i++)
		if (!strcmp(((const DrStore *)drstores->pdata[i])->name, p->store))
			return 0;
	return error_set(err, HF_ERR_CONFIG,
			 "%s:%d: [policy %s] store: no [drstore %s] section in this file; add it "
			 "(path = DIR) or name another store",
			 file, p->store_line, p->name, p->store);
}

int policy_finish(Policy *p, const char *file, const GPtrArray *drstores, HfError *err)
{
	HfError e = {0};
	if (!p->schedule)
		return error_set(err, HF_ERR_CONFIG,
				 "%s:%d: [policy %s] schedule: missing (e.g. schedule = *-*-* "
				 "02:30:00)",
				 file, p->line, p->name);
	if (!p->guests)
		return error_set(err, HF_ERR_CONFIG,
				 "%s:%d: [policy %s] guests: missing (globs such as w2k8-*, or "
				 "tag:NAME)",
				 file, p->line, p->name);
	g_autoptr(GTimeZone) tz = g_time_zone_new_identifier(p->timezone ? p->timezone : "UTC");
	if (calendar_parse(p->schedule, tz, &p->cal, &e) < 0)
		return error_set(err, HF_ERR_CONFIG, "%s:%d: [policy %s] schedule: %s", file,
				 p->schedule_line, p->name, e.message);
	return store_check(p, file, drstores, err);
}

bool policy_selects(const Policy *p, const char *host, const char *name, char *const *tags)
{
	if (p->tag)
		return tags && g_strv_contains((const char *const *)tags, p->tag);
	g_autofree char *addr = g_strdup_printf("%s/%s", host, name);
	for (char **g = p->globs; g && *g; g++)
		if (g_pattern_match_simple(*g, strchr(*g, '/') ? addr : name))
			return true;
	return false;
}

char *policy_rules_hash(const RetentionRules *r)
{
	g_autofree char *text = retention_rules_format(r);
	return g_compute_checksum_for_string(G_CHECKSUM_SHA256, text, -1);
}

int policy_offset(const Policy *p, const char *address)
{
	if (p->stagger <= 0)
		return 0;
	g_autofree char *key = g_strdup_printf("%s\n%s", p->name, address);
	return (int)(g_str_hash(key) % (guint)p->stagger);
}

char *policy_snapshot_name(const Policy *p, int64_t slot)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(slot);
	g_autofree char *stamp = g_date_time_format(dt, "%Y%m%dT%H%M%SZ");
	return g_strdup_printf("hf-%s-%s", p->name, stamp);
}

cJSON *policy_to_json(const Policy *p)
{
	cJSON *o = cJSON_CreateObject();
	g_autofree char *rules = retention_rules_format(&p->rules);
	cJSON_AddStringToObject(o, "name", p->name);
	cJSON_AddStringToObject(o, "schedule", p->schedule);
	cJSON_AddStringToObject(o, "normalized",
				p->cal ? calendar_normalized(p->cal) : p->schedule);
	cJSON_AddStringToObject(o, "timezone", p->timezone ? p->timezone : "UTC");
	cJSON_AddStringToObject(o, "guests", p->guests);
	cJSON_AddStringToObject(o, "quiesce", p->quiesce);
	cJSON_AddStringToObject(o, "rules", rules);
	cJSON_AddNumberToObject(o, "max_concurrent", p->max_concurrent);
	cJSON_AddNumberToObject(o, "stagger", p->stagger);
	cJSON_AddNumberToObject(o, "max_runtime", p->max_runtime);
	cJSON_AddNumberToObject(o, "prune_limit", p->prune_limit);
	cJSON_AddNumberToObject(o, "min_free", p->min_free);
	cJSON_AddNumberToObject(o, "retries", p->retries);
	cJSON_AddNumberToObject(o, "retry_backoff", p->retry_backoff);
	if (p->notify)
		cJSON_AddStringToObject(o, "notify", p->notify);
	else
		cJSON_AddNullToObject(o, "notify");
	cJSON_AddStringToObject(o, "action", policy_action_name(p->action));
	if (p->action == POLICY_DR_COPY) {
		cJSON_AddStringToObject(o, "store", p->store);
		cJSON_AddNumberToObject(o, "full_every", p->full_every);
	}
	return o;
}
