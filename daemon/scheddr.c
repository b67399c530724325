/* scheddr.c - dr-copy policy runs: the copy, then chain-aware retention (scheddr.h). */
#include "scheddr.h"

#include <string.h>

#include "drapi.h"
#include "drprune.h"
#include "drretain.h"
#include "drstore.h"
#include "log.h"

static const DrStore *store_named(const char *name)
{
	return drstore_named(sched->d->cfg->drstores, name);
}

/* The guest's points in the store (empty when none): those of its series, HOST/NAME (its
 * directory, per UUID, may hold a clone's too; copies take parents only in their series,
 * drplan.h). Reads its manifests only. */
static GPtrArray *points_of(const char *gdir, const RunGuest *g)
{
	g_autoptr(GPtrArray) pts = NULL;
	HfError e = {0};
	GPtrArray *mine = g_ptr_array_new_with_free_func((GDestroyNotify)cJSON_Delete);
	if (!gdir || drstore_points(gdir, &pts, &e) < 0)
		return mine;
	for (guint i = 0; i < pts->len; i++) {
		const cJSON *m = pts->pdata[i];
		if (!g_strcmp0(cJSON_GetStringValue(cJSON_GetObjectItem(m, "host")), g->host) &&
		    !g_strcmp0(cJSON_GetStringValue(cJSON_GetObjectItem(m, "guest")), g->name))
			g_ptr_array_add(mine, g_steal_pointer(&pts->pdata[i]));
	}
	return mine;
}

static Job *copy_submit(Run *r, RunGuest *g, Host *h, const DrStore *s, const DrRetainSet *set,
			char **why)
{
	const DrvDriver *drv = drv_for_uri(host_uri(h));
	if (!drv || !drv->backup_push || g_str_has_prefix(host_uri(h), "test:")) {
		*why =
		    g_strdup_printf("dr-copy policies copy guests of libvirt hosts with backups; "
				    "host %s (%s) has none: take the guest out of the policy",
				    g->host, host_uri(h));
		return NULL;
	}
	g_autofree char *full_why = NULL;
	bool full = drretain_next_full(set->pts, set->n, r->full_every, &full_why);
	cJSON *params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "guest", g->addr);
	cJSON_AddStringToObject(params, "store", s->name);
	cJSON_AddBoolToObject(params, "full", full);
	if (full_why)
		cJSON_AddStringToObject(params, "full_reason", full_why);
	cJSON_AddStringToObject(params, "quiesce", r->quiesce);
	cJSON_AddStringToObject(params, "policy", r->ps->name);
	cJSON_AddNumberToObject(params, "run", (double)r->id);
	cJSON_AddNumberToObject(params, "attempt", g->attempts + 1);
	g->mark = g_get_real_time() / G_USEC_PER_SEC;
	hf_log("hf-sched", LOG_LVL_INFO, "policy %s: %s: %s DR copy to store %s%s%s", r->ps->name,
	       g->addr, full ? "full" : "incremental", s->name, full ? ": " : "",
	       full ? full_why : "");
	return drapi_copy_submit(sched->d, h, g->name, s, params);
}

static Job *retain_submit(Run *r, RunGuest *g, const DrStore *s, const char *gdir)
{
	DrPruneCtx *c = drprune_ctx_new();
	c->root = g_strdup(s->path);
	c->gdir = g_strdup(gdir); /* NULL: the job looks for it by address */
	c->store = g_strdup(s->name);
	c->policy = g_strdup(r->ps->name);
	c->tz = g_time_zone_ref(r->tz);
	c->rules = r->rules;
	c->rules_hash = g_strdup(r->rules_hash);
	sched_guest_rules(r, g, &c->applied_rules, &c->applied_hash, &c->approved);
	c->prune_limit = r->prune_limit;
	cJSON *params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "policy", r->ps->name);
	cJSON_AddNumberToObject(params, "run", (double)r->id);
	cJSON_AddStringToObject(params, "store", s->name);
	if (g->point)
		cJSON_AddStringToObject(params, "point", g->point);
	cJSON_AddNumberToObject(params, "attempt", g->attempts + 1);
	JobSpec spec = {.kind = "policy.drretain",
			.host = g->host,
			.guest = g->name,
			.params = params,
			.run = drprune_job,
			.ctx = c,
			.ctx_free = drprune_ctx_free};
	return jobs_submit(sched->d->jobs, &spec);
}

Job *scheddr_submit(Run *r, RunGuest *g, Host *h, char **why)
{
	const DrStore *s = store_named(r->store);
	if (!s) {
		*why = g_strdup_printf("DR store '%s' is no longer in the configuration",
				       r->store ? r->store : "?");
		return NULL;
	}
	g_autofree char *gdir = drapi_guest_dir(sched->d, s, g->addr);
	if (r->prune_only)
		g->phase = SCHED_DR_RETAIN;
	/* the guest's points, read once: a copy's full-every and an earlier attempt's point */
	g_autoptr(GPtrArray) pts = g->phase == SCHED_DR_COPY ? points_of(gdir, g) : NULL;
	g_autoptr(DrRetainSet) set = pts ? drretain_set_new(pts, NULL) : NULL;
	if (g->phase == SCHED_DR_COPY && g->mark) {
		/* an earlier attempt, or a crash: a point made since then is this run's copy */
		if (set->n && set->pts[set->n - 1].time >= g->mark) {
			g->phase = SCHED_DR_RETAIN;
			g_free(g->point);
			g->point = g_strdup(set->pts[set->n - 1].id);
			cJSON_Delete(g->result);
			g->result = cJSON_CreateObject();
			cJSON_AddStringToObject(g->result, "point", g->point);
			cJSON_AddItemToObject(
			    g->result, "kind",
			    cJSON_Duplicate(cJSON_GetObjectItem(pts->pdata[pts->len - 1], "kind"),
					    1));
			hf_log("hf-sched", LOG_LVL_INFO,
			       "policy %s: %s: point %s was copied before the interruption",
			       r->ps->name, g->addr, g->point);
		}
	}
	return g->phase == SCHED_DR_COPY ? copy_submit(r, g, h, s, set, why)
					 : retain_submit(r, g, s, gdir);
}

static void dup_item(cJSON *to, const cJSON *from, const char *key, bool nonempty)
{
	const cJSON *v = cJSON_GetObjectItem(from, key);
	if (!v || (nonempty && (cJSON_IsNull(v) || (cJSON_IsArray(v) && !cJSON_GetArraySize(v)))))
		return;
	cJSON_DeleteItemFromObject(to, key);
	cJSON_AddItemToObject(to, key, cJSON_Duplicate(v, 1));
}

bool scheddr_succeeded(RunGuest *g, const cJSON *res)
{
	if (g->phase == SCHED_DR_COPY) {
		cJSON *o = cJSON_CreateObject();
		static const char *const keys[] = {"point", "kind", "full_reason", "parent",
						   "stored"};
		for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
			dup_item(o, res, keys[i], false);
		g_free(g->point);
		g->point = g_strdup(cJSON_GetStringValue(cJSON_GetObjectItem(res, "point")));
		cJSON_Delete(g->result);
		g->result = o;
		g->phase = SCHED_DR_RETAIN;
		return true;
	}
	cJSON *o = g->result ? g->result : cJSON_CreateObject();
	g->result = o;
	static const char *const keys[] = {"pruned", "consolidated", "kept", "rules"};
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
		dup_item(o, res, keys[i], false);
	static const char *const opt[] = {"held", "skipped_steps", "recovered"};
	for (size_t i = 0; i < G_N_ELEMENTS(opt); i++)
		dup_item(o, res, opt[i], true);
	return false;
}
