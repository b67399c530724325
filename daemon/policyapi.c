/* policyapi.c - policy.*, schedule.list and debug.clock (policyapi.h). Main thread only. */
#include "policyapi.h"

#include <string.h>

#include "clock.h"
#include "drprune.h"
#include "drretain.h"
#include "drstore.h"
#include "scheduler.h"
#include "timefmt.h"

static void add_time(cJSON *o, const char *k, int64_t t)
{
	if (t <= 0) {
		cJSON_AddNullToObject(o, k);
		return;
	}
	g_autofree char *s = timefmt_iso(t);
	cJSON_AddStringToObject(o, k, s);
}

static const Policy *find(Call *call, HfError *err)
{
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(call->params, "name"));
	const Policy *p = sched ? sched_policy(name) : NULL;
	if (!p)
		error_set(err, HF_ERR_NOT_FOUND,
			  "no policy '%s' in the configuration; see `holdfast policy list`",
			  name ? name : "");
	return p;
}

static cJSON *held_of(const PolState *ps)
{
	cJSON *o = cJSON_CreateObject(), *g;
	cJSON_ArrayForEach(g, ps->guests)
	{
		cJSON *h = cJSON_GetObjectItem(g, "held");
		if (cJSON_IsObject(h))
			cJSON_AddItemToObject(o, g->string, cJSON_Duplicate(h, 1));
	}
	return o;
}

static cJSON *summary(const Policy *p)
{
	PolState *ps = sched_pol_state(p->name);
	cJSON *o = policy_to_json(p);
	add_time(o, "next", ps->run ? 0 : sched_next_slot(p, ps));
	add_time(o, "last_slot", ps->last_slot);
	cJSON_AddBoolToObject(o, "running", ps->run != NULL);
	cJSON_AddItemToObject(o, "held", held_of(ps));
	cJSON_AddItemToObject(o, "last_run",
			      ps->last_run ? cJSON_Duplicate(ps->last_run, 1) : cJSON_CreateNull());
	return o;
}

void policyapi_list(Call *call)
{
	cJSON *r = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(r, "policies");
	GPtrArray *pols = call->d->cfg->policies;
	for (guint i = 0; sched && i < pols->len; i++)
		cJSON_AddItemToArray(a, summary(pols->pdata[i]));
	/* false until the hosts answered and the journal was acted on after a start */
	cJSON_AddBoolToObject(r, "ready", sched && sched->recovered);
	call_reply_result(call, r);
}

static cJSON *selected(Daemon *d, const Policy *p)
{
	cJSON *a = cJSON_CreateArray();
	for (guint i = 0; i < hosts_count(d->hosts); i++) {
		Host *h = hosts_nth(d->hosts, i);
		g_autoptr(GPtrArray) gs = host_guests(h);
		for (guint j = 0; j < gs->len; j++) {
			const DrvGuest *g = gs->pdata[j];
			if (policy_selects(p, host_name(h), g->name, g->tags)) {
				g_autofree char *addr =
				    g_strdup_printf("%s/%s", host_name(h), g->name);
				cJSON_AddItemToArray(a, cJSON_CreateString(addr));
			}
		}
	}
	return a;
}

void policyapi_show(Call *call)
{
	HfError err = {0};
	const Policy *p = find(call, &err);
	if (!p) {
		call_reply_error(call, &err);
		return;
	}
	PolState *ps = sched_pol_state(p->name);
	cJSON *o = summary(p);
	g_autofree char *hash = policy_rules_hash(&p->rules);
	cJSON_AddStringToObject(o, "rules_hash", hash);
	cJSON_AddBoolToObject(o, "approved", ps->approved && !strcmp(ps->approved, hash));
	cJSON_AddItemToObject(o, "selected", selected(call->d, p));
	cJSON_AddItemToObject(o, "run",
			      ps->run ? schedstate_run_json(ps->run, true) : cJSON_CreateNull());
	cJSON *r = cJSON_CreateObject();
	cJSON_AddItemToObject(r, "policy", o);
	call_reply_result(call, r);
}

static cJSON *entries(const GPtrArray *a, bool reasons)
{
	cJSON *arr = cJSON_CreateArray();
	for (guint i = 0; i < a->len; i++) {
		const RetentionSimEntry *e = a->pdata[i];
		if (!reasons) {
			cJSON_AddItemToArray(arr, cJSON_CreateString(e->name));
			continue;
		}
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", e->name);
		cJSON_AddStringToObject(o, "reason", e->reason ? e->reason : "");
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

typedef struct {
	cJSON *sim; /* the reply, completed on a worker thread */
	char *root;
	char **guests; /* HOST/NAME */
	RetentionRules rules;
	GTimeZone *tz;
} DrSim;

static void dr_sim_free(void *v)
{
	DrSim *s = v;
	cJSON_Delete(s->sim);
	g_free(s->root);
	g_strfreev(s->guests);
	g_time_zone_unref(s->tz);
	g_free(s);
}

/* Worker thread: what each selected guest's retention would do to its points now. */
static cJSON *dr_now_thread(Call *call, HfError *err)
{
	DrSim *s = call->data;
	cJSON *now = cJSON_AddArrayToObject(s->sim, "now");
	for (char **g = s->guests; *g; g++) {
		g_autofree char *gdir = drstore_find_guest(s->root, *g);
		cJSON *o = drprune_preview(gdir, *g, &s->rules, s->tz, err);
		if (!o)
			return NULL;
		cJSON_AddStringToObject(o, "guest", *g);
		cJSON_AddItemToArray(now, o);
	}
	return g_steal_pointer(&s->sim);
}

/* A dr-copy policy: restore points from an empty store, full-every, consolidations; and what
 * the retention would do now to each selected guest's points. */
static void simulate_dr(Call *call, const Policy *p, int days)
{
	HfError err = {0};
	int64_t now = clock_now();
	cJSON *r =
	    drretain_simulate(NULL, 0, p->cal, &p->rules, NULL, p->full_every, now, days, &err);
	if (!r) {
		call_reply_error(call, &err);
		return;
	}
	g_autofree char *rules = retention_rules_format(&p->rules);
	g_autofree char *full = g_strdup_printf("%s, full-every %d", rules, p->full_every);
	cJSON_AddStringToObject(r, "policy", p->name);
	cJSON_AddStringToObject(r, "action", "dr-copy");
	cJSON_AddStringToObject(r, "schedule", calendar_normalized(p->cal));
	cJSON_AddStringToObject(r, "rules", full);
	add_time(r, "start", now);
	const DrStore *st = drstore_named(call->d->cfg->drstores, p->store);
	g_autoptr(cJSON) sel = selected(call->d, p);
	DrSim *s = g_new0(DrSim, 1);
	s->sim = r;
	s->root = g_strdup(st ? st->path : "/nonexistent");
	s->guests = g_new0(char *, cJSON_GetArraySize(sel) + 1);
	for (int i = 0; i < cJSON_GetArraySize(sel); i++)
		s->guests[i] = g_strdup(cJSON_GetArrayItem(sel, i)->valuestring);
	s->rules = p->rules;
	s->tz = g_time_zone_ref(calendar_zone(p->cal));
	call->data = s;
	call->data_free = dr_sim_free;
	call_in_thread(call, dr_now_thread);
}

void policyapi_simulate(Call *call)
{
	HfError err = {0};
	const Policy *p = find(call, &err);
	const cJSON *days = cJSON_GetObjectItem(call->params, "days");
	g_autoptr(RetentionSim) sim = NULL;
	int64_t now = clock_now();

	if (!p) {
		call_reply_error(call, &err);
		return;
	}
	if (p->action == POLICY_DR_COPY) {
		simulate_dr(call, p, cJSON_IsNumber(days) ? days->valueint : 30);
		return;
	}
	g_autofree char *prefix = g_strdup_printf("hf-%s-", p->name);
	if (retention_simulate(p->cal, &p->rules, NULL, NULL, 0, prefix, now,
			       cJSON_IsNumber(days) ? days->valueint : 30, &sim, &err) < 0) {
		call_reply_error(call, &err);
		return;
	}
	cJSON *r = cJSON_CreateObject(), *a;
	g_autofree char *rules = retention_rules_format(&p->rules);
	cJSON_AddStringToObject(r, "policy", p->name);
	cJSON_AddStringToObject(r, "schedule", calendar_normalized(p->cal));
	cJSON_AddStringToObject(r, "rules", rules);
	add_time(r, "start", now);
	a = cJSON_AddArrayToObject(r, "days");
	for (guint i = 0; i < sim->days->len; i++) {
		const RetentionSimDay *d = sim->days->pdata[i];
		cJSON *o = cJSON_CreateObject();
		g_autofree char *date =
		    g_strdup_printf("%04d-%02d-%02d", d->year, d->month, d->day);
		cJSON_AddStringToObject(o, "date", date);
		cJSON_AddItemToObject(o, "created", entries(d->created, false));
		cJSON_AddItemToObject(o, "pruned", entries(d->pruned, true));
		cJSON_AddItemToObject(o, "existing", entries(d->existing, false));
		cJSON_AddItemToArray(a, o);
	}
	call_reply_result(call, r);
}

static void reply_job(Call *call, Run *r, cJSON *extra)
{
	cJSON *res = extra ? extra : cJSON_CreateObject();
	Job *j = r ? jobs_get(call->d->jobs, r->parent_id) : NULL;
	cJSON_AddItemToObject(res, "job", j ? job_to_json(j) : cJSON_CreateNull());
	call_reply_result(call, res);
}

static bool busy(Call *call, PolState *ps, HfError *err)
{
	if (!ps->run)
		return false;
	error_set(err, HF_ERR_CONFLICT,
		  "policy %s is running (run %" G_GINT64_FORMAT ", job %" G_GINT64_FORMAT
		  "); try again when it ends",
		  ps->name, ps->run->id, ps->run->parent_id);
	return true;
}

void policyapi_run(Call *call)
{
	HfError err = {0};
	const Policy *p = find(call, &err);
	PolState *ps = p ? sched_pol_state(p->name) : NULL;
	if (!p || busy(call, ps, &err) || sched->stopping) {
		if (!err.code[0])
			error_set(&err, HF_ERR_CONFLICT, "holdfastd is stopping");
		call_reply_error(call, &err);
		return;
	}
	Run *r = sched_run_start(ps, p, clock_now(), "manual", true, false);
	reply_job(call, r, NULL);
	sched_tick();
}

void policyapi_apply(Call *call)
{
	HfError err = {0};
	const Policy *p = find(call, &err);
	PolState *ps = p ? sched_pol_state(p->name) : NULL;
	if (!p || busy(call, ps, &err)) {
		call_reply_error(call, &err);
		return;
	}
	g_free(ps->approved);
	ps->approved = policy_rules_hash(&p->rules);
	g_autoptr(cJSON) held = held_of(ps);
	int n = cJSON_GetArraySize(held);
	Run *r = n ? sched_run_start(ps, p, clock_now(), "apply", true, true) : NULL;
	if (!r)
		schedstate_save(true);
	cJSON *res = cJSON_CreateObject();
	g_autofree char *rules = retention_rules_format(&p->rules);
	cJSON_AddStringToObject(res, "policy", p->name);
	cJSON_AddStringToObject(res, "rules", rules);
	cJSON_AddBoolToObject(res, "approved", 1);
	cJSON_AddNumberToObject(res, "held_guests", n);
	reply_job(call, r, res);
	if (r)
		sched_tick();
}

void policyapi_schedule(Call *call)
{
	cJSON *res = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(res, "schedule");
	GPtrArray *pols = call->d->cfg->policies;
	for (guint i = 0; sched && i < pols->len; i++) {
		const Policy *p = pols->pdata[i];
		PolState *ps = sched_pol_state(p->name);
		int64_t next = sched_next_slot(p, ps);
		g_autoptr(cJSON) sel = selected(call->d, p);
		cJSON *g;
		cJSON_ArrayForEach(g, sel)
		{
			cJSON *o = cJSON_CreateObject();
			const RunGuest *rg = NULL;
			for (guint k = 0; ps->run && k < ps->run->guests->len; k++) {
				const RunGuest *x = ps->run->guests->pdata[k];
				if (!strcmp(x->addr, g->valuestring))
					rg = x;
			}
			cJSON_AddStringToObject(o, "policy", p->name);
			cJSON_AddStringToObject(o, "guest", g->valuestring);
			if (rg) {
				add_time(o, "slot", ps->run->slot);
				add_time(o, "next", rg->due);
				cJSON_AddStringToObject(o, "state", sched_gstate_name(rg->state));
			} else {
				add_time(o, "slot", next);
				add_time(o, "next",
					 next ? next + policy_offset(p, g->valuestring) : 0);
				cJSON_AddStringToObject(o, "state",
							ps->run ? "not in this run" : "waiting");
			}
			cJSON_AddItemToArray(a, o);
		}
	}
	call_reply_result(call, res);
}

void policyapi_clock(Call *call)
{
	HfError err = {0};
	cJSON *r = clock_debug(call->params, &err);
	if (!r) {
		call_reply_error(call, &err);
		return;
	}
	call_reply_result(call, r);
}
