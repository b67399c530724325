/* schedstate.c - the scheduler's journal STATE_DIR/schedule.json (scheduler.h) and the
 * notify command of a run that ended with failures. Main thread only. */
#include <gio/gio.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "scheduler.h"
#include "statefile.h"
#include "timefmt.h"

#define FLUSH_DELAY_MS 100
#define NOTIFY_TIMEOUT_S 60

/* ---- journal ---- */

cJSON *schedstate_rules_json(const RetentionRules *r)
{
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; i < RETENTION_N_RULES; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber(r->keep[i]));
	return a;
}

void schedstate_rules_from_json(const cJSON *a, RetentionRules *r)
{
	memset(r, 0, sizeof *r);
	for (int i = 0; i < RETENTION_N_RULES; i++) {
		double v = cJSON_GetNumberValue(cJSON_GetArrayItem(a, i));
		r->keep[i] = v >= 0 && v <= RETENTION_KEEP_MAX ? (unsigned)v : 0;
	}
}

static cJSON *guest_json(const RunGuest *g)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "guest", g->addr);
	cJSON_AddStringToObject(o, "state", sched_gstate_name(g->state));
	cJSON_AddNumberToObject(o, "attempts", g->attempts);
	cJSON_AddNumberToObject(o, "offset", g->offset);
	if (g->job_id)
		cJSON_AddNumberToObject(o, "job", (double)g->job_id);
	else
		cJSON_AddNullToObject(o, "job");
	if (g->note)
		cJSON_AddStringToObject(o, "note", g->note);
	if (g->result)
		cJSON_AddItemToObject(o, "result", cJSON_Duplicate(g->result, 1));
	if (g->run->action == POLICY_DR_COPY) {
		cJSON_AddNumberToObject(o, "phase", g->phase);
		cJSON_AddNumberToObject(o, "mark", (double)g->mark);
		if (g->point)
			cJSON_AddStringToObject(o, "point", g->point);
	}
	return o;
}

cJSON *schedstate_run_json(const Run *r, bool guests)
{
	cJSON *o = cJSON_CreateObject();
	g_autofree char *slot = timefmt_iso(r->slot);
	g_autofree char *started = timefmt_iso(r->started);
	cJSON_AddNumberToObject(o, "id", (double)r->id);
	cJSON_AddNumberToObject(o, "slot_utc", (double)r->slot);
	cJSON_AddStringToObject(o, "slot", slot);
	cJSON_AddStringToObject(o, "started", started);
	cJSON_AddStringToObject(o, "reason", r->reason);
	cJSON_AddBoolToObject(o, "manual", r->manual);
	cJSON_AddBoolToObject(o, "prune_only", r->prune_only);
	cJSON_AddStringToObject(o, "rules", r->rules_text);
	if (r->parent_id)
		cJSON_AddNumberToObject(o, "job", (double)r->parent_id);
	int n[G_SKIPPED + 1] = {0};
	for (guint i = 0; i < r->guests->len; i++)
		n[((RunGuest *)r->guests->pdata[i])->state]++;
	cJSON *c = cJSON_AddObjectToObject(o, "counts");
	for (int i = 0; i <= G_SKIPPED; i++)
		cJSON_AddNumberToObject(c, sched_gstate_name((GState)i), n[i]);
	if (guests) {
		cJSON *a = cJSON_AddArrayToObject(o, "guests");
		for (guint i = 0; i < r->guests->len; i++)
			cJSON_AddItemToArray(a, guest_json(r->guests->pdata[i]));
	}
	return o;
}

static gboolean flush_cb(gpointer data)
{
	HfError err = {0};
	cJSON *doc = cJSON_CreateObject(), *pols;
	GHashTableIter it;
	gpointer v;

	sched->flush = 0;
	cJSON_AddNumberToObject(doc, "version", 1);
	cJSON_AddNumberToObject(doc, "next_run", (double)sched->next_run_id);
	pols = cJSON_AddObjectToObject(doc, "policies");
	g_hash_table_iter_init(&it, sched->pols);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		PolState *ps = v;
		cJSON *o = cJSON_AddObjectToObject(pols, ps->name);
		cJSON_AddNumberToObject(o, "last_slot", (double)ps->last_slot);
		cJSON_AddNumberToObject(o, "since", (double)ps->since);
		if (ps->approved)
			cJSON_AddStringToObject(o, "approved", ps->approved);
		cJSON_AddItemToObject(o, "guests", cJSON_Duplicate(ps->guests, 1));
		cJSON_AddItemToObject(o, "last_run",
				      ps->last_run ? cJSON_Duplicate(ps->last_run, 1)
						   : cJSON_CreateNull());
		cJSON_AddItemToObject(
		    o, "run", ps->run ? schedstate_run_json(ps->run, true) : cJSON_CreateNull());
	}
	if (statefile_write_json(sched->path, doc, &err) < 0)
		hf_log("hf-sched", LOG_LVL_ERROR, "schedule journal not saved: %s", err.message);
	cJSON_Delete(doc);
	return G_SOURCE_REMOVE;
}

void schedstate_save(bool now)
{
	if (now) {
		if (sched->flush)
			g_source_remove(sched->flush);
		flush_cb(NULL);
	} else if (!sched->flush)
		sched->flush = g_timeout_add(FLUSH_DELAY_MS, flush_cb, NULL);
}

PolState *schedstate_pol_new(const char *name, int64_t since)
{
	PolState *ps = g_new0(PolState, 1);
	ps->name = g_strdup(name);
	ps->since = since;
	ps->guests = cJSON_CreateObject();
	g_hash_table_insert(sched->pols, ps->name, ps);
	return ps;
}

void schedstate_load(void)
{
	HfError err = {0};
	g_autoptr(cJSON) doc = NULL;
	cJSON *o;

	if (statefile_read_json(sched->path, &doc, &err) < 0) {
		hf_log("hf-sched", LOG_LVL_ERROR,
		       "schedule journal unreadable, starting afresh: %s", err.message);
		return;
	}
	sched->next_run_id =
	    MAX(1, (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(doc, "next_run")));
	cJSON_ArrayForEach(o, cJSON_GetObjectItem(doc, "policies"))
	{
		PolState *ps = schedstate_pol_new(
		    o->string, (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(o, "since")));
		ps->last_slot = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(o, "last_slot"));
		ps->approved = g_strdup(cJSON_GetStringValue(cJSON_GetObjectItem(o, "approved")));
		cJSON *g = cJSON_GetObjectItem(o, "guests");
		if (cJSON_IsObject(g)) {
			cJSON_Delete(ps->guests);
			ps->guests = cJSON_Duplicate(g, 1);
		}
		cJSON *lr = cJSON_GetObjectItem(o, "last_run");
		ps->last_run = cJSON_IsObject(lr) ? cJSON_Duplicate(lr, 1) : NULL;
		cJSON *run = cJSON_GetObjectItem(o, "run");
		ps->pending_run = cJSON_IsObject(run) ? cJSON_Duplicate(run, 1) : NULL;
	}
}

/* ---- notify ---- */

typedef struct {
	GSubprocess *sp;
	guint timer;
	char *policy;
} Notify;

static gboolean notify_kill(gpointer data)
{
	Notify *n = data;
	n->timer = 0;
	hf_log("hf-sched", LOG_LVL_WARNING,
	       "policy %s: notify command still running after %d s: "
	       "killed",
	       n->policy, NOTIFY_TIMEOUT_S);
	g_subprocess_force_exit(n->sp);
	return G_SOURCE_REMOVE;
}

static void notify_done(GObject *src, GAsyncResult *res, gpointer data)
{
	Notify *n = data;
	g_autoptr(GError) e = NULL;
	if (!g_subprocess_communicate_finish(n->sp, res, NULL, NULL, &e))
		hf_log("hf-sched", LOG_LVL_WARNING, "policy %s: notify command: %s", n->policy,
		       e->message);
	else if (!g_subprocess_get_successful(n->sp))
		hf_log("hf-sched", LOG_LVL_WARNING, "policy %s: notify command failed (status %d)",
		       n->policy, g_subprocess_get_status(n->sp));
	else
		hf_log("hf-sched", LOG_LVL_INFO, "policy %s: notify command ran", n->policy);
	if (n->timer)
		g_source_remove(n->timer);
	g_object_unref(n->sp);
	g_free(n->policy);
	g_free(n);
}

void schedstate_notify(const char *policy, const char *cmd, const cJSON *summary)
{
	g_autoptr(GError) e = NULL;
	const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	GSubprocess *sp = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_STDIN_PIPE, &e);
	if (!sp) {
		hf_log("hf-sched", LOG_LVL_WARNING, "policy %s: cannot run notify command: %s",
		       policy, e->message);
		return;
	}
	char *text = cJSON_PrintUnformatted(summary);
	g_autoptr(GBytes) in = g_bytes_new_take(text, strlen(text));
	Notify *n = g_new0(Notify, 1);
	n->sp = sp;
	n->policy = g_strdup(policy);
	n->timer = g_timeout_add_seconds(NOTIFY_TIMEOUT_S, notify_kill, n);
	g_subprocess_communicate_async(sp, in, NULL, notify_done, n);
}

/* ---- results of guests ---- */

/* Keep what the journal and the summary need of a nightly job's result. */
cJSON *schedstate_compact(const cJSON *res)
{
	cJSON *o = cJSON_CreateObject();
	const cJSON *snap = cJSON_GetObjectItem(res, "snapshot");
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(snap, "name"));
	if (name)
		cJSON_AddStringToObject(o, "snapshot", name);
	else
		cJSON_AddNullToObject(o, "snapshot");
	cJSON_AddBoolToObject(o, "existing", cJSON_IsTrue(cJSON_GetObjectItem(res, "existing")));
	cJSON_AddItemToObject(o, "pruned", cJSON_Duplicate(cJSON_GetObjectItem(res, "pruned"), 1));
	cJSON_AddItemToObject(o, "kept", cJSON_Duplicate(cJSON_GetObjectItem(res, "kept"), 1));
	cJSON *held = cJSON_GetObjectItem(res, "held");
	if (cJSON_IsObject(held))
		cJSON_AddItemToObject(o, "held", cJSON_Duplicate(held, 1));
	cJSON *pe = cJSON_GetObjectItem(res, "prune_errors");
	if (cJSON_GetArraySize(pe))
		cJSON_AddItemToObject(o, "prune_errors", cJSON_Duplicate(pe, 1));
	return o;
}

void schedstate_guest_rules(Run *r, const RunGuest *g, const cJSON *res)
{
	cJSON *st = cJSON_GetObjectItem(r->ps->guests, g->addr);
	if (!st) {
		st = cJSON_CreateObject();
		cJSON_AddItemToObject(r->ps->guests, g->addr, st);
	}
	if (cJSON_IsTrue(cJSON_GetObjectItem(res, "applied"))) {
		cJSON_DeleteItemFromObject(st, "applied");
		cJSON_AddStringToObject(st, "applied", r->rules_hash);
		cJSON_DeleteItemFromObject(st, "rules");
		cJSON_AddItemToObject(st, "rules", schedstate_rules_json(&r->rules));
		cJSON_DeleteItemFromObject(st, "held");
	}
	cJSON *held = cJSON_GetObjectItem(res, "held");
	if (cJSON_IsObject(held)) {
		cJSON_DeleteItemFromObject(st, "held");
		cJSON_AddItemToObject(st, "held", cJSON_Duplicate(held, 1));
	}
}
