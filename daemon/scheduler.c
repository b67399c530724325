/* scheduler.c - slots, runs, the schedule journal and recovery (scheduler.h). */
#include "scheduler.h"

#include <string.h>

#include "clock.h"
#include "log.h"
#include "nightly.h"
#include "policy.h"
#include "scheddr.h"
#include "statefile.h"
#include "timefmt.h"

#define NOT_READY_RETRY_MS 50
#define REAL_TIMER_MAX_S 3600

Sched *sched;

static const char *const gstate_names[] = {"pending", "retry",	"running",
					   "done",    "failed", "skipped"};

const char *sched_gstate_name(GState s)
{
	return gstate_names[s];
}

static GState gstate_parse(const char *s)
{
	for (int i = 0; i < (int)G_N_ELEMENTS(gstate_names); i++)
		if (s && !strcmp(s, gstate_names[i]))
			return (GState)i;
	return G_PENDING;
}

Policy *sched_policy(const char *name)
{
	GPtrArray *ps = sched->d->cfg->policies;
	for (guint i = 0; name && i < ps->len; i++)
		if (!strcmp(((Policy *)ps->pdata[i])->name, name))
			return ps->pdata[i];
	return NULL;
}

/* ---- the parent job ---- */

static RunSync *sync_ref(RunSync *y)
{
	g_atomic_int_inc(&y->ref);
	return y;
}

static void sync_unref(void *p)
{
	RunSync *y = p;
	if (!g_atomic_int_dec_and_test(&y->ref))
		return;
	g_mutex_clear(&y->m);
	g_cond_clear(&y->c);
	cJSON_Delete(y->summary);
	g_free(y->policy);
	g_free(y);
}

static void sync_done(RunSync *y, cJSON *summary, const char *code, const char *msg)
{
	g_mutex_lock(&y->m);
	if (!y->done) {
		y->done = true;
		y->summary = summary;
		summary = NULL;
		if (code) {
			g_strlcpy(y->code, code, sizeof y->code);
			g_strlcpy(y->msg, msg, sizeof y->msg);
		}
		g_cond_signal(&y->c);
	}
	g_mutex_unlock(&y->m);
	cJSON_Delete(summary);
}

static gboolean cancel_idle(gpointer data)
{
	RunSync *y = data;
	PolState *ps = sched ? g_hash_table_lookup(sched->pols, y->policy) : NULL;
	if (ps && ps->run && ps->run->id == y->run_id)
		sched_run_cancel(ps->run, "the run's job was cancelled");
	return G_SOURCE_REMOVE;
}

static int parent_job(Job *job, HfError *err)
{
	RunSync *y = job_ctx(job);
	bool asked = false;
	g_mutex_lock(&y->m);
	while (!y->done) {
		g_cond_wait_until(&y->c, &y->m, g_get_monotonic_time() + G_USEC_PER_SEC / 4);
		if (!asked && job_cancelled(job)) {
			asked = true;
			g_idle_add_full(G_PRIORITY_DEFAULT, cancel_idle, sync_ref(y), sync_unref);
		}
	}
	cJSON *sum = y->summary;
	y->summary = NULL;
	g_mutex_unlock(&y->m);
	if (sum)
		job_set_result(job, sum);
	if (y->code[0])
		return error_set(err, y->code, "%s", y->msg);
	return 0;
}

/* ---- runs ---- */

static void run_free(Run *r)
{
	g_ptr_array_unref(r->guests);
	g_free(r->reason);
	g_free(r->quiesce);
	g_free(r->rules_hash);
	g_free(r->rules_text);
	g_free(r->notify);
	g_free(r->store);
	if (r->tz)
		g_time_zone_unref(r->tz);
	if (r->sync)
		sync_unref(r->sync);
	g_free(r);
}

static void guest_free(void *p)
{
	RunGuest *g = p;
	Job *live = g->job && sched ? jobs_get(sched->d->jobs, g->job_id) : NULL;
	if (live)
		jobs_unwatch(live, g->watch);
	g_free(g->addr);
	g_free(g->host);
	g_free(g->name);
	g_free(g->note);
	g_free(g->point);
	cJSON_Delete(g->result);
	g_free(g);
}

static RunGuest *guest_add(Run *r, const Policy *p, const char *host, const char *name)
{
	RunGuest *g = g_new0(RunGuest, 1);
	g->run = r;
	g->host = g_strdup(host);
	g->name = g_strdup(name);
	g->addr = g_strdup_printf("%s/%s", host, name);
	g->offset = p ? policy_offset(p, g->addr) : 0;
	g->due = r->started + g->offset;
	g_ptr_array_add(r->guests, g);
	return g;
}

static Run *run_new(PolState *ps, const Policy *p, int64_t slot, const char *reason)
{
	Run *r = g_new0(Run, 1);
	r->ps = ps;
	r->slot = slot;
	r->started = clock_now();
	r->reason = g_strdup(reason);
	r->guests = g_ptr_array_new_with_free_func(guest_free);
	r->quiesce = g_strdup(p->quiesce);
	r->rules = p->rules;
	r->rules_hash = policy_rules_hash(&p->rules);
	r->rules_text = retention_rules_format(&p->rules);
	r->tz = g_time_zone_ref(calendar_zone(p->cal));
	r->prune_limit = p->prune_limit;
	r->min_free = p->min_free;
	r->retries = p->retries;
	r->backoff = p->retry_backoff;
	r->max_concurrent = p->max_concurrent;
	r->deadline = p->max_runtime ? r->started + p->max_runtime : 0;
	r->notify = g_strdup(p->notify);
	r->action = p->action;
	r->store = g_strdup(p->store);
	r->full_every = p->full_every;
	return r;
}

static void parent_submit(Run *r)
{
	r->sync = g_new0(RunSync, 1);
	r->sync->ref = 1;
	g_mutex_init(&r->sync->m);
	g_cond_init(&r->sync->c);
	r->sync->policy = g_strdup(r->ps->name);
	r->sync->run_id = r->id;
	g_autofree char *host = g_strdup_printf("policy:%s", r->ps->name);
	g_autofree char *slot = timefmt_iso(r->slot);
	cJSON *params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "policy", r->ps->name);
	cJSON_AddNumberToObject(params, "run", (double)r->id);
	cJSON_AddStringToObject(params, "slot", slot);
	cJSON_AddStringToObject(params, "reason", r->reason);
	cJSON_AddNumberToObject(params, "guests", r->guests->len);
	JobSpec spec = {.kind = "policy.run",
			.host = host,
			.params = params,
			.run = parent_job,
			.ctx = sync_ref(r->sync),
			.ctx_free = sync_unref};
	Job *j = jobs_submit(sched->d->jobs, &spec);
	r->parent_id = job_id(j);
}

/* Guests of the inventory the policy selects (or those with a held change, for apply). */
static void select_guests(Run *r, const Policy *p, bool held_only)
{
	Hosts *hs = sched->d->hosts;
	for (guint i = 0; i < hosts_count(hs); i++) {
		Host *h = hosts_nth(hs, i);
		g_autoptr(GPtrArray) gs = host_guests(h);
		for (guint j = 0; j < gs->len; j++) {
			const DrvGuest *dg = gs->pdata[j];
			if (!policy_selects(p, host_name(h), dg->name, dg->tags))
				continue;
			g_autofree char *addr = g_strdup_printf("%s/%s", host_name(h), dg->name);
			cJSON *st = cJSON_GetObjectItem(r->ps->guests, addr);
			if (held_only && !cJSON_IsObject(cJSON_GetObjectItem(st, "held")))
				continue;
			guest_add(r, p, host_name(h), dg->name);
		}
	}
}

Run *sched_run_start(PolState *ps, const Policy *p, int64_t slot, const char *reason, bool manual,
		     bool prune_only)
{
	Run *r = run_new(ps, p, slot, reason);
	r->id = sched->next_run_id++;
	r->manual = manual;
	r->prune_only = prune_only;
	select_guests(r, p, prune_only);
	if (!manual)
		ps->last_slot = slot;
	ps->run = r;
	parent_submit(r);
	schedstate_save(true); /* before the first guest's job: a slot never runs twice */
	g_autofree char *s = timefmt_iso(slot);
	hf_log("hf-sched", LOG_LVL_INFO,
	       "policy %s: run %" G_GINT64_FORMAT " (%s) of slot %s: %u guest(s)", ps->name, r->id,
	       reason, s, r->guests->len);
	return r;
}

/* A run the journal shows in progress: complete it. */
static void run_resume(PolState *ps, const Policy *p)
{
	g_autoptr(cJSON) j = g_steal_pointer(&ps->pending_run);
	cJSON *g;
	Run *r = run_new(ps, p, (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "slot_utc")),
			 "resumed");
	r->id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "id"));
	r->manual = cJSON_IsTrue(cJSON_GetObjectItem(j, "manual"));
	r->prune_only = cJSON_IsTrue(cJSON_GetObjectItem(j, "prune_only"));
	cJSON_ArrayForEach(g, cJSON_GetObjectItem(j, "guests"))
	{
		const char *addr = cJSON_GetStringValue(cJSON_GetObjectItem(g, "guest"));
		const char *slash = addr ? strchr(addr, '/') : NULL;
		if (!slash)
			continue;
		g_autofree char *host = g_strndup(addr, (gsize)(slash - addr));
		RunGuest *rg = guest_add(r, p, host, slash + 1);
		rg->state = gstate_parse(cJSON_GetStringValue(cJSON_GetObjectItem(g, "state")));
		rg->attempts = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(g, "attempts"));
		rg->job_id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(g, "job"));
		rg->note = g_strdup(cJSON_GetStringValue(cJSON_GetObjectItem(g, "note")));
		cJSON *res = cJSON_GetObjectItem(g, "result");
		rg->result = cJSON_IsObject(res) ? cJSON_Duplicate(res, 1) : NULL;
		rg->phase = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(g, "phase"));
		rg->mark = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(g, "mark"));
		rg->point = g_strdup(cJSON_GetStringValue(cJSON_GetObjectItem(g, "point")));
		if (rg->state == G_RUNNING || rg->state == G_RETRY) {
			rg->state = G_PENDING; /* interrupted: run once more (idempotent by name) */
			rg->due = r->started;
		}
	}
	ps->run = r;
	parent_submit(r);
	schedstate_save(true);
	unsigned left = 0;
	for (guint i = 0; i < r->guests->len; i++)
		left += ((RunGuest *)r->guests->pdata[i])->state == G_PENDING;
	g_autofree char *s = timefmt_iso(r->slot);
	hf_log("hf-sched", LOG_LVL_WARNING,
	       "policy %s: run %" G_GINT64_FORMAT " of slot %s was interrupted; completing it: %u "
	       "of %u guest(s) left",
	       ps->name, r->id, s, left, r->guests->len);
}

static cJSON *run_summary(Run *r, int *failed)
{
	cJSON *o = schedstate_run_json(r, true);
	g_autofree char *fin = timefmt_iso(clock_now());
	cJSON_AddStringToObject(o, "policy", r->ps->name);
	cJSON_AddStringToObject(o, "finished", fin);
	*failed = 0;
	for (guint i = 0; i < r->guests->len; i++)
		*failed += ((RunGuest *)r->guests->pdata[i])->state == G_FAILED;
	return o;
}

static void run_finish(Run *r)
{
	PolState *ps = r->ps;
	int failed;
	cJSON *sum = run_summary(r, &failed);
	cJSON_Delete(ps->last_run);
	ps->last_run = cJSON_Duplicate(sum, 1);
	cJSON_DeleteItemFromObject(ps->last_run, "guests"); /* the job keeps the details */
	ps->run = NULL;
	schedstate_save(true);
	hf_log(failed ? "hf-sched" : "hf-sched", failed ? LOG_LVL_WARNING : LOG_LVL_INFO,
	       "policy %s: run %" G_GINT64_FORMAT " finished: %u guest(s), %d failed", ps->name,
	       r->id, r->guests->len, failed);
	if (failed && r->notify)
		schedstate_notify(ps->name, r->notify, sum);
	g_autofree char *msg = g_strdup_printf("%d of %u guest(s) failed; see the result and "
					       "`holdfast jobs list`",
					       failed, r->guests->len);
	sync_done(r->sync, sum, failed ? HF_ERR_FAILED : NULL, msg);
	run_free(r);
}

void sched_run_cancel(Run *r, const char *why)
{
	for (guint i = 0; i < r->guests->len; i++) {
		RunGuest *g = r->guests->pdata[i];
		if (g->state == G_PENDING || g->state == G_RETRY) {
			g->state = G_SKIPPED;
			g_free(g->note);
			g->note = g_strdup(why);
		} else if (g->state == G_RUNNING && g->job)
			jobs_cancel(sched->d->jobs, g->job_id, NULL);
	}
	r->cancelled = true;
	sched_tick();
}

/* ---- guests of a run ---- */

static bool guest_busy(const char *addr, int64_t *job)
{
	static const char *const states[] = {"running", "queued"};
	for (int i = 0; i < 2; i++) {
		g_autoptr(cJSON) a = jobs_list_json(sched->d->jobs, states[i], addr);
		cJSON *j = cJSON_GetArrayItem(a, 0);
		if (j) {
			*job = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "id"));
			return true;
		}
	}
	return false;
}

static void guest_end(RunGuest *g, GState st, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void guest_end(RunGuest *g, GState st, const char *fmt, ...)
{
	va_list ap;
	g->state = st;
	g_free(g->note);
	g->note = NULL;
	if (fmt) {
		va_start(ap, fmt);
		g->note = g_strdup_vprintf(fmt, ap);
		va_end(ap);
		hf_log("hf-sched", LOG_LVL_WARNING, "policy %s: %s %s: %s", g->run->ps->name,
		       g->addr, gstate_names[st], g->note);
	}
}

static void child_event(Job *job, const cJSON *json, bool final, void *opaque)
{
	RunGuest *g = opaque;
	Run *r = g->run;
	const char *state = cJSON_GetStringValue(cJSON_GetObjectItem(json, "state"));
	const cJSON *res = cJSON_GetObjectItem(json, "result");
	const cJSON *e = cJSON_GetObjectItem(json, "error");
	const char *code = cJSON_GetStringValue(cJSON_GetObjectItem(e, "code"));
	const char *msg = cJSON_GetStringValue(cJSON_GetObjectItem(e, "message"));

	if (!final || !g->job || (job && job_id(job) != g->job_id))
		return;
	Job *live = jobs_get(sched->d->jobs, g->job_id); /* g->job may be gone from history */
	if (live)
		jobs_unwatch(live, g->watch);
	g->job = NULL;
	r->running--;
	if (!state) {
		guest_end(g, G_FAILED, "job %" G_GINT64_FORMAT " vanished from the job list",
			  g->job_id);
	} else if (r->action == POLICY_DR_COPY && !strcmp(state, "succeeded") &&
		   scheddr_succeeded(g, res)) {
		g->state = G_PENDING; /* the copy is in: its retention next */
		g->due = clock_now();
	} else if (!strcmp(state, "succeeded")) {
		if (r->action != POLICY_DR_COPY) {
			cJSON_Delete(g->result);
			g->result = schedstate_compact(res);
		}
		schedstate_guest_rules(r, g, res);
		const char *skip = cJSON_GetStringValue(cJSON_GetObjectItem(res, "skipped"));
		if (skip)
			guest_end(g, G_SKIPPED, "%s", skip);
		else
			guest_end(g, G_DONE, NULL);
	} else if (sched->stopping && code && !strcmp(code, HF_ERR_CANCELLED)) {
		g->state = G_PENDING; /* holdfastd is stopping: the guest runs at the next start */
	} else if (code && !strcmp(code, HF_ERR_CANCELLED)) {
		guest_end(g, G_FAILED, "cancelled: %s", msg ? msg : "");
	} else if (g->attempts <= r->retries && !r->cancelled) {
		int64_t wait = (int64_t)r->backoff << MIN(g->attempts - 1, 20);
		g->state = G_RETRY;
		g->due = clock_now() + wait;
		g_free(g->note);
		g->note = g_strdup_printf("attempt %d failed (%s); retry in %" G_GINT64_FORMAT " s",
					  g->attempts, msg ? msg : "?", wait);
		hf_log("hf-sched", LOG_LVL_WARNING, "policy %s: %s: %s", r->ps->name, g->addr,
		       g->note);
	} else
		guest_end(g, G_FAILED, "%s [%s]", msg ? msg : "failed", code ? code : "?");
	schedstate_save(true); /* a guest done is never redone after a crash */
	if (!sched->stopping)
		sched_tick();
}

void sched_guest_rules(const Run *r, const RunGuest *g, RetentionRules *applied, char **hash,
		       bool *approved)
{
	cJSON *st = cJSON_GetObjectItem(r->ps->guests, g->addr);
	const char *h = cJSON_GetStringValue(cJSON_GetObjectItem(st, "applied"));
	*hash = g_strdup(h ? h : r->rules_hash);
	if (h)
		schedstate_rules_from_json(cJSON_GetObjectItem(st, "rules"), applied);
	else
		*applied = r->rules;
	*approved = r->ps->approved && !strcmp(r->ps->approved, r->rules_hash);
}

static Job *nightly_submit(Run *r, RunGuest *g, Host *h)
{
	const HfConfig *cfg = sched->d->cfg;
	NightlyCtx *c = nightly_ctx_new(h, cfg->state_dir, cfg->agent_timeout);
	c->policy = g_strdup(r->ps->name);
	c->tz = g_time_zone_ref(r->tz);
	c->rules = r->rules;
	c->rules_hash = g_strdup(r->rules_hash);
	sched_guest_rules(r, g, &c->applied_rules, &c->applied_hash, &c->approved);
	c->prune_only = r->prune_only;
	c->prune_limit = r->prune_limit;
	c->min_free = r->min_free;

	cJSON *params = cJSON_CreateObject();
	g_autofree char *name = NULL;
	cJSON_AddStringToObject(params, "policy", r->ps->name);
	cJSON_AddNumberToObject(params, "run", (double)r->id);
	cJSON_AddNumberToObject(params, "slot", (double)r->slot);
	if (!r->prune_only) {
		const Policy p = {.name = r->ps->name};
		name = policy_snapshot_name(&p, r->slot);
		cJSON_AddStringToObject(params, "name", name);
		cJSON_AddStringToObject(params, "quiesce", r->quiesce);
		cJSON_AddStringToObject(params, "description",
					"nightly snapshot (holdfast policy)");
	} else
		cJSON_AddBoolToObject(params, "prune_only", 1);
	cJSON_AddNumberToObject(params, "attempt", g->attempts + 1);
	JobSpec spec = {.kind = "policy.nightly",
			.host = g->host,
			.guest = g->name,
			.params = params,
			.run = nightly_job,
			.ctx = c,
			.ctx_free = nightly_ctx_free};
	return jobs_submit(sched->d->jobs, &spec);
}

static void child_submit(Run *r, RunGuest *g)
{
	Host *h = hosts_find(sched->d->hosts, g->host);
	g_autofree char *why = NULL;
	if (!h) {
		guest_end(g, G_FAILED, "host %s is no longer in the configuration", g->host);
		return;
	}
	Job *j =
	    r->action == POLICY_DR_COPY ? scheddr_submit(r, g, h, &why) : nightly_submit(r, g, h);
	if (!j) {
		guest_end(g, G_FAILED, "%s", why);
		return;
	}
	g->attempts++;
	g->state = G_RUNNING;
	g->job = j;
	g->job_id = job_id(g->job);
	g->watch = jobs_watch(g->job, child_event, g);
	r->running++;
	if (r->action == POLICY_DR_COPY)
		schedstate_save(true); /* the copy's mark, before the copy can publish */
}

/* Safety net: a child whose final notification was missed (jobs.c coalesces notifications)
 * is picked up here, once a second while a run has children. */
static gboolean sweep_cb(gpointer data)
{
	GHashTableIter it;
	gpointer v;
	g_autoptr(GPtrArray) ended = g_ptr_array_new();
	g_hash_table_iter_init(&it, sched->pols);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		Run *r = ((PolState *)v)->run;
		for (guint i = 0; r && i < r->guests->len; i++) {
			RunGuest *g = r->guests->pdata[i];
			Job *j = g->job ? jobs_get(sched->d->jobs, g->job_id) : NULL;
			if (g->job && (!j || job_is_final(j)))
				g_ptr_array_add(ended, g);
		}
	}
	for (guint i = 0; i < ended->len; i++) {
		RunGuest *g = ended->pdata[i];
		Job *j = jobs_get(sched->d->jobs, g->job_id);
		g_autoptr(cJSON) json = j ? job_to_json(j) : cJSON_CreateObject();
		hf_log("hf-sched", LOG_LVL_DEBUG, "job %" G_GINT64_FORMAT " ended unnoticed",
		       g->job_id);
		child_event(j, json, true, g);
		if (!sched || sched->stopping)
			break;
	}
	return G_SOURCE_CONTINUE;
}

/* Start what is due; returns the next time something becomes due (INT64_MAX = nothing). */
static int64_t run_pump(Run *r)
{
	int64_t now = clock_now(), next = INT64_MAX;
	bool open = false;

	if (r->deadline && now >= r->deadline && !r->deadline_hit) {
		r->deadline_hit = true;
		hf_log("hf-sched", LOG_LVL_WARNING,
		       "policy %s: run %" G_GINT64_FORMAT " reached "
		       "max-runtime",
		       r->ps->name, r->id);
		for (guint i = 0; i < r->guests->len; i++) {
			RunGuest *g = r->guests->pdata[i];
			if (g->state == G_PENDING || g->state == G_RETRY)
				guest_end(g, G_SKIPPED, "max-runtime reached before it started");
			else if (g->state == G_RUNNING && g->job)
				jobs_cancel(sched->d->jobs, g->job_id, NULL);
		}
	}
	for (guint i = 0; i < r->guests->len; i++) {
		RunGuest *g = r->guests->pdata[i];
		int64_t busy = 0;
		if (g->state != G_PENDING && g->state != G_RETRY)
			continue;
		bool full = r->max_concurrent && r->running >= r->max_concurrent;
		if (g->due > now) {
			next = MIN(next, g->due);
		} else if (full) {
			/* waits for a running guest of this run */
		} else if (guest_busy(g->addr, &busy)) {
			guest_end(g, G_SKIPPED, "its previous job %" G_GINT64_FORMAT " still runs",
				  busy);
		} else
			child_submit(r, g); /* may end the guest at once (failed) */
		open = open || g->state == G_PENDING || g->state == G_RETRY;
	}
	if (r->deadline && !r->deadline_hit)
		next = MIN(next, r->deadline);
	if (r->running == 0 && !open) {
		run_finish(r);
		return 0; /* re-evaluate: the next slot may be due */
	}
	if (r->parent_id) {
		Job *pj = jobs_get(sched->d->jobs, r->parent_id);
		unsigned done = 0;
		for (guint i = 0; i < r->guests->len; i++)
			done += ((RunGuest *)r->guests->pdata[i])->state >= G_DONE;
		if (pj && !job_is_final(pj))
			job_progress(pj, r->guests->len ? (int)(100 * done / r->guests->len) : 0,
				     "%u of %u guest(s) done, %d running", done, r->guests->len,
				     r->running);
	}
	return next;
}

/* ---- slots ---- */

PolState *sched_pol_state(const char *name)
{
	PolState *ps = g_hash_table_lookup(sched->pols, name);
	if (!ps) {
		ps = schedstate_pol_new(name, clock_now());
		schedstate_save(true);
	}
	return ps;
}

int64_t sched_next_slot(const Policy *p, const PolState *ps)
{
	int64_t next = 0;
	HfError e = {0};
	if (calendar_next(p->cal, MAX(ps->last_slot, ps->since), &next, &e) < 0)
		return 0;
	return next;
}

static bool hosts_ready(void)
{
	Hosts *hs = sched->d->hosts;
	for (guint i = 0; i < hosts_count(hs); i++)
		if (host_state(hosts_nth(hs, i), NULL) == HOST_CONNECTING)
			return false;
	return true;
}

static gboolean timer_cb(gpointer data)
{
	sched->timer = 0;
	sched_tick();
	return G_SOURCE_REMOVE;
}

static void arm_ms(guint ms)
{
	if (sched->timer)
		g_source_remove(sched->timer);
	sched->timer = g_timeout_add(ms, timer_cb, NULL);
}

static void arm(int64_t next)
{
	if (sched->timer) {
		g_source_remove(sched->timer);
		sched->timer = 0;
	}
	if (next == INT64_MAX || clock_is_test())
		return; /* the test clock ticks us when it moves */
	int64_t d = CLAMP(next - clock_now(), 1, REAL_TIMER_MAX_S);
	sched->timer = g_timeout_add_seconds((guint)d, timer_cb, NULL);
}

void sched_tick(void)
{
	static bool in_tick;
	int64_t next = INT64_MAX;
	GHashTableIter it;
	gpointer v;

	if (!sched || sched->stopping || in_tick)
		return;
	if (!hosts_ready()) {
		arm_ms(NOT_READY_RETRY_MS);
		return;
	}
	in_tick = true;
	if (!sched->recovered) {
		sched->recovered = true;
		nightly_recover(sched->d);
	}
	GPtrArray *pols = sched->d->cfg->policies;
	for (guint i = 0; i < pols->len; i++) {
		const Policy *p = pols->pdata[i];
		PolState *ps = sched_pol_state(p->name);
		int64_t slot = 0, now = clock_now();
		HfError e = {0};
		if (ps->pending_run)
			run_resume(ps, p);
		if (!ps->run && calendar_last_before(p->cal, now, MAX(ps->last_slot, ps->since),
						     &slot, &e) == 1)
			sched_run_start(ps, p, slot,
					slot < sched->started ? "catch-up" : "scheduled", false,
					false);
	}
	/* Runs (also of policies a reload removed) */
	bool again = false;
	g_hash_table_iter_init(&it, sched->pols);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		PolState *ps = v;
		if (!ps->run)
			continue;
		int64_t n = run_pump(ps->run);
		again = again || n == 0;
		next = MIN(next, n ? n : INT64_MAX);
	}
	for (guint i = 0; i < pols->len; i++) {
		const Policy *p = pols->pdata[i];
		PolState *ps = g_hash_table_lookup(sched->pols, p->name);
		int64_t n = ps && !ps->run ? sched_next_slot(p, ps) : 0;
		if (n)
			next = MIN(next, n);
	}
	in_tick = false;
	if (again)
		sched_tick();
	else
		arm(next);
}

static void clock_moved(void *opaque)
{
	sched_tick();
}

/* ---- life cycle ---- */

void scheduler_start(Daemon *d)
{
	sched = g_new0(Sched, 1);
	sched->d = d;
	sched->pols = g_hash_table_new(g_str_hash, g_str_equal);
	sched->path = g_build_filename(d->cfg->state_dir, "schedule.json", NULL);
	sched->next_run_id = 1;
	sched->started = clock_now();
	sched->sweep = g_timeout_add_seconds(1, sweep_cb, NULL);
	schedstate_load();
	clock_watch(clock_moved, NULL);
	hf_log("hf-sched", LOG_LVL_INFO, "scheduler started: %u polic%s", d->cfg->policies->len,
	       d->cfg->policies->len == 1 ? "y" : "ies");
	sched_tick();
}

void scheduler_reload(Daemon *d)
{
	if (sched)
		sched_tick();
}

void scheduler_stop(void)
{
	GHashTableIter it;
	gpointer v;
	if (!sched)
		return;
	sched->stopping = true;
	if (sched->timer) {
		g_source_remove(sched->timer);
		sched->timer = 0;
	}
	g_hash_table_iter_init(&it, sched->pols);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		PolState *ps = v;
		if (ps->run)
			sync_done(ps->run->sync, schedstate_run_json(ps->run, true),
				  HF_ERR_INTERRUPTED,
				  "holdfastd stopped during the run; it is completed at the next "
				  "start");
	}
	schedstate_save(true);
}

static void pol_state_free(PolState *ps)
{
	if (ps->run)
		run_free(ps->run);
	g_free(ps->name);
	g_free(ps->approved);
	cJSON_Delete(ps->guests);
	cJSON_Delete(ps->last_run);
	cJSON_Delete(ps->pending_run);
	g_free(ps);
}

void scheduler_free(void)
{
	GHashTableIter it;
	gpointer v;
	if (!sched)
		return;
	clock_watch(NULL, NULL);
	schedstate_save(true);
	g_source_remove(sched->sweep);
	if (sched->timer)
		g_source_remove(sched->timer);
	g_hash_table_iter_init(&it, sched->pols);
	while (g_hash_table_iter_next(&it, NULL, &v))
		pol_state_free(v);
	g_hash_table_unref(sched->pols);
	g_free(sched->path);
	g_clear_pointer(&sched, g_free);
}
