/* checks.c - the build-check cache, its background refresh and the per-host bounded fan-out
 * (see checks.h for the behaviour; checkreport.c turns entries into the check document). */
#include "checks.h"

#include <string.h>

#include "checkreport.h"
#include "collect.h"
#include "log.h"
#include "statefile.h"
#include "timefmt.h"

#define CHECKS_FILE "checks.json"
#define CHECKS_TICK_MAX_S 30
#define CHECKS_FLUSH_DELAY_MS 500
#define CHECKS_WAIT_SLICE_US (250 * 1000)

typedef struct {
	Host *host; /* ref */
	char *key;
	char *guest;
	int timeout_s;
} Task;

typedef struct {
	GQueue pending; /* Task* */
	int running;
	int limit;
} HostQ;

typedef struct {
	Daemon *d;
	GMutex lock;	     /* protects everything below */
	GCond done;	     /* broadcast after every collection */
	GHashTable *entries; /* "host/guest" -> CheckEntry* */
	GHashTable *queues;  /* host name -> HostQ* */
	GThreadPool *pool;
	char *path;
	StateWriter *writer; /* checks.json */
	int running;
	int waiters; /* check.run jobs using this state */
	bool stopping;
	gint flush_pending;
	guint tick_source; /* main thread */
} Checks;

static Checks *checks; /* the daemon's one instance */

static void task_free(Task *t)
{
	host_unref(t->host);
	g_free(t->key);
	g_free(t->guest);
	g_free(t);
}

static void hostq_free(HostQ *q)
{
	g_queue_clear_full(&q->pending, (GDestroyNotify)task_free);
	g_free(q);
}

static int64_t now_s(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

/* ---- the cache file ---- */

static gboolean flush_main(gpointer data)
{
	Checks *cs = data;
	cJSON *doc = cJSON_CreateObject(), *arr;
	GHashTableIter it;
	gpointer v;

	g_atomic_int_set(&cs->flush_pending, 0);
	cJSON_AddNumberToObject(doc, "version", 1);
	arr = cJSON_AddArrayToObject(doc, "checks");
	g_mutex_lock(&cs->lock);
	g_hash_table_iter_init(&it, cs->entries);
	while (g_hash_table_iter_next(&it, NULL, &v))
		if (((CheckEntry *)v)->checked)
			cJSON_AddItemToArray(arr, checkreport_entry_save(v));
	g_mutex_unlock(&cs->lock);
	statewriter_put_json(cs->writer, doc); /* its own thread writes it */
	cJSON_Delete(doc);
	return G_SOURCE_REMOVE;
}

/* Any thread: write the cache soon, on the main thread. */
static void flush_soon(Checks *cs)
{
	if (g_atomic_int_compare_and_exchange(&cs->flush_pending, 0, 1))
		g_timeout_add(CHECKS_FLUSH_DELAY_MS, flush_main, cs);
}

static void cache_load(Checks *cs)
{
	HfError err = {0};
	cJSON *doc = NULL, *o;
	guint n = 0, bad = 0;

	if (statefile_read_json(cs->path, &doc, &err) < 0) {
		hf_log("hf-check", LOG_LVL_WARNING, "build-check cache ignored: %s", err.message);
		return;
	}
	cJSON_ArrayForEach(o, cJSON_GetObjectItem(doc, "checks"))
	{
		CheckEntry *e = checkreport_entry_load(o);
		if (!e) {
			bad++;
			continue;
		}
		g_hash_table_replace(cs->entries, e->key, e);
		n++;
	}
	cJSON_Delete(doc);
	if (n || bad)
		hf_log("hf-check", bad ? LOG_LVL_WARNING : LOG_LVL_INFO,
		       "build-check cache: %u guest(s) loaded from %s%s", n, cs->path,
		       bad ? "; malformed entries dropped" : "");
}

/* ---- collections (worker threads) ---- */

static CheckEntry *entry_get(Checks *cs, const char *host, const char *guest)
{
	g_autofree char *key = g_strdup_printf("%s/%s", host, guest);
	CheckEntry *e = g_hash_table_lookup(cs->entries, key);
	if (!e) {
		e = checkreport_entry_new(host, guest);
		g_hash_table_insert(cs->entries, e->key, e);
	}
	return e;
}

static void start_locked(Checks *cs, HostQ *q, Task *t)
{
	q->running++;
	cs->running++;
	g_thread_pool_push(cs->pool, t, NULL);
}

static void task_run(gpointer data, gpointer user)
{
	Task *t = data;
	Checks *cs = user;
	BcEvidence ev;
	CollectInfo ci;
	HfError err = {0};
	int rc = -1;

	buildcheck_evidence_init(&ev);
	collect_info_init(&ci);
	HostConn *hc = host_conn_get(t->host, &err);
	if (hc) {
		rc = collect_guest(host_conn_drv(hc), t->guest, t->timeout_s, &ev, &ci, &err);
		if (rc < 0 && (!strcmp(err.code, HF_ERR_HOST_UNREACHABLE) ||
			       !strcmp(err.code, HF_ERR_NOT_FOUND)))
			host_report(t->host, t->guest, &err);
		host_conn_put(hc);
	}
	hf_log("hf-check", rc == 0 ? LOG_LVL_DEBUG : LOG_LVL_INFO, "check of %s: %s%s", t->key,
	       rc == 0 ? "collected" : "failed: ", rc == 0 ? "" : err.message);

	g_mutex_lock(&cs->lock);
	CheckEntry *e = g_hash_table_lookup(cs->entries, t->key);
	if (e)
		checkreport_entry_store(e, now_s(), rc == 0 ? &ev : NULL, &ci, &err);
	HostQ *q = g_hash_table_lookup(cs->queues, host_name(t->host));
	cs->running--;
	q->running--;
	Task *next = cs->stopping ? NULL : g_queue_pop_head(&q->pending);
	if (next)
		start_locked(cs, q, next);
	g_cond_broadcast(&cs->done);
	g_mutex_unlock(&cs->lock);
	flush_soon(cs);
	buildcheck_evidence_clear(&ev);
	collect_info_clear(&ci);
	task_free(t);
}

/* Queue a collection of e (not busy) on its host, at most `parallel` at once per host. */
static void submit_locked(Checks *cs, Host *h, CheckEntry *e, int timeout_s, int parallel)
{
	HostQ *q = g_hash_table_lookup(cs->queues, host_name(h));
	Task *t = g_new0(Task, 1);

	if (!q) {
		q = g_new0(HostQ, 1);
		g_queue_init(&q->pending);
		g_hash_table_insert(cs->queues, g_strdup(host_name(h)), q);
	}
	q->limit = parallel;
	t->host = host_ref(h);
	t->key = g_strdup(e->key);
	t->guest = g_strdup(e->guest);
	t->timeout_s = timeout_s;
	e->busy = true;
	if (q->running < q->limit)
		start_locked(cs, q, t);
	else
		g_queue_push_tail(&q->pending, t);
}

/* ---- background refresh (main thread) ---- */

static void arm_tick(Checks *cs);

static gboolean tick(gpointer data)
{
	Checks *cs = data;
	const HfConfig *cfg = cs->d->cfg;
	int64_t now = now_s();
	guint n = 0;

	cs->tick_source = 0;
	if (cfg->check_interval > 0 && !cs->stopping) {
		for (guint i = 0; i < hosts_count(cs->d->hosts); i++) {
			Host *h = hosts_nth(cs->d->hosts, i);
			if (host_state(h, NULL) != HOST_CONNECTED)
				continue;
			g_autoptr(GPtrArray) gs = host_guests(h);
			g_mutex_lock(&cs->lock);
			for (guint j = 0; j < gs->len; j++) {
				const DrvGuest *g = gs->pdata[j];
				if (g->state != DRV_STATE_RUNNING && g->state != DRV_STATE_BLOCKED)
					continue;
				CheckEntry *e = entry_get(cs, host_name(h), g->name);
				if (e->busy ||
				    (e->attempted && now - e->attempted < cfg->check_interval))
					continue;
				submit_locked(cs, h, e, cfg->check_timeout, cfg->check_parallel);
				n++;
			}
			g_mutex_unlock(&cs->lock);
		}
		if (n)
			hf_log("hf-check", LOG_LVL_INFO, "background build check of %u guest(s)",
			       n);
	}
	arm_tick(cs);
	return G_SOURCE_REMOVE;
}

static void arm_tick(Checks *cs)
{
	int iv = cs->d->cfg->check_interval;
	guint period = iv > 0 ? (guint)MIN(iv, CHECKS_TICK_MAX_S) : CHECKS_TICK_MAX_S;
	if (!cs->stopping)
		cs->tick_source = g_timeout_add_seconds(period, tick, cs);
}

void checks_start(Daemon *d)
{
	Checks *cs = g_new0(Checks, 1);
	GError *gerr = NULL;

	cs->d = d;
	g_mutex_init(&cs->lock);
	g_cond_init(&cs->done);
	cs->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					    (GDestroyNotify)checkreport_entry_free);
	cs->queues =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)hostq_free);
	cs->path = g_build_filename(d->cfg->state_dir, CHECKS_FILE, NULL);
	cs->writer = statewriter_new(cs->path, "hf-check", "build-check cache");
	cs->pool = g_thread_pool_new(task_run, cs, -1, FALSE, &gerr);
	if (!cs->pool)
		g_error("cannot start build-check workers: %s", gerr->message);
	cache_load(cs);
	arm_tick(cs);
	checks = cs;
}

void checks_stop(void)
{
	Checks *cs = checks;
	GHashTableIter it;
	gpointer k, v;

	if (!cs)
		return;
	if (cs->tick_source)
		g_source_remove(cs->tick_source);
	cs->tick_source = 0;
	g_mutex_lock(&cs->lock);
	cs->stopping = true;
	g_hash_table_iter_init(&it, cs->queues);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		Task *t;
		while ((t = g_queue_pop_head(&((HostQ *)v)->pending))) {
			CheckEntry *e = g_hash_table_lookup(cs->entries, t->key);
			if (e)
				e->busy = false;
			task_free(t);
		}
	}
	bool idle = cs->running == 0 && cs->waiters == 0;
	g_cond_broadcast(&cs->done);
	g_mutex_unlock(&cs->lock);
	flush_main(cs);
	statewriter_sync(cs->writer);
	if (!idle)
		return; /* collections still run on workers: leave them their state */
	g_thread_pool_free(cs->pool, TRUE, TRUE);
	g_hash_table_unref(cs->entries);
	g_hash_table_unref(cs->queues);
	g_mutex_clear(&cs->lock);
	g_cond_clear(&cs->done);
	statewriter_free(cs->writer);
	g_free(cs->path);
	g_free(cs);
	checks = NULL;
}

/* ---- check.run ---- */

typedef struct {
	Host *host; /* ref */
	char *guest;
	bool running;
	bool waited; /* collected for this request */
} Target;

typedef struct {
	GPtrArray *targets; /* Target* */
	bool refresh;
	int timeout_s, parallel, interval;
	BcPolicy policy;
} RunCtx;

static void target_free(Target *t)
{
	host_unref(t->host);
	g_free(t->guest);
	g_free(t);
}

static void run_ctx_free(RunCtx *rc)
{
	g_ptr_array_unref(rc->targets);
	g_free(rc);
}

static bool needs_collect(const RunCtx *rc, const CheckEntry *e, int64_t now)
{
	return rc->refresh || !e->checked || !e->evidence ||
	       (rc->interval > 0 && now - e->checked >= rc->interval);
}

static int run_job(Job *job, HfError *err)
{
	RunCtx *rc = job_ctx(job);
	Checks *cs = checks;
	guint n = rc->targets->len, fresh = 0;
	int64_t now = now_s();

	if (!cs)
		return error_set(err, HF_ERR_INTERNAL, "the build checker is not running");
	g_mutex_lock(&cs->lock);
	cs->waiters++; /* checks_stop leaves the state alone while a job uses it */
	for (guint i = 0; i < n; i++) {
		Target *t = rc->targets->pdata[i];
		CheckEntry *e = entry_get(cs, host_name(t->host), t->guest);
		if (!t->running || cs->stopping)
			continue;
		if (e->busy || needs_collect(rc, e, now)) {
			if (!e->busy)
				submit_locked(cs, t->host, e, rc->timeout_s, rc->parallel);
			t->waited = true;
			fresh++;
		}
	}
	job_progress(job, 0, "checking %u guest(s), %u from the cache", n, n - fresh);
	for (;;) {
		guint busy = 0;
		for (guint i = 0; i < n; i++) {
			Target *t = rc->targets->pdata[i];
			g_autofree char *key =
			    g_strdup_printf("%s/%s", host_name(t->host), t->guest);
			CheckEntry *e = g_hash_table_lookup(cs->entries, key);
			busy += t->waited && e && e->busy;
		}
		if (!busy)
			break;
		if (job_cancelled(job)) {
			cs->waiters--;
			g_mutex_unlock(&cs->lock);
			return error_set(err, HF_ERR_CANCELLED,
					 "cancelled with %u guest(s) still being checked (their "
					 "results still go to the cache)",
					 busy);
		}
		job_progress(job, (int)(100 * (fresh - busy) / MAX(fresh, 1)),
			     "%u of %u guest(s) collected", fresh - busy, fresh);
		g_cond_wait_until(&cs->done, &cs->lock,
				  g_get_monotonic_time() + CHECKS_WAIT_SLICE_US);
	}
	/* copies: classification runs without the lock */
	g_autoptr(GPtrArray) copies =
	    g_ptr_array_new_with_free_func((GDestroyNotify)checkreport_entry_free);
	for (guint i = 0; i < n; i++) {
		Target *t = rc->targets->pdata[i];
		CheckEntry *e = entry_get(cs, host_name(t->host), t->guest);
		CheckEntry *c = checkreport_entry_copy(e);
		c->cached = !t->waited;
		if (!t->running && !c->evidence)
			checkreport_entry_not_running(c);
		g_ptr_array_add(copies, c);
	}
	cs->waiters--;
	g_mutex_unlock(&cs->lock);
	job_set_result(job, checkreport_document(copies, &rc->policy, now_s()));
	return 0;
}

static void add_target(RunCtx *rc, GHashTable *seen, Host *h, const DrvGuest *g)
{
	g_autofree char *key = g_strdup_printf("%s/%s", host_name(h), g->name);
	if (!g_hash_table_add(seen, g_steal_pointer(&key)))
		return;
	Target *t = g_new0(Target, 1);
	t->host = host_ref(h);
	t->guest = g_strdup(g->name);
	t->running = g->state == DRV_STATE_RUNNING || g->state == DRV_STATE_BLOCKED;
	g_ptr_array_add(rc->targets, t);
}

static int resolve_targets(Daemon *d, const cJSON *guests, RunCtx *rc, HfError *err)
{
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	const cJSON *a;

	if (cJSON_GetArraySize(guests) == 0) {
		for (guint i = 0; i < hosts_count(d->hosts); i++) {
			Host *h = hosts_nth(d->hosts, i);
			g_autoptr(GPtrArray) gs = host_guests(h);
			for (guint j = 0; j < gs->len; j++)
				add_target(rc, seen, h, gs->pdata[j]);
		}
		return 0;
	}
	cJSON_ArrayForEach(a, guests)
	{
		Host *h = NULL;
		g_autofree char *name = NULL;
		if (hosts_resolve(d->hosts, a->valuestring, &h, &name, err) < 0)
			return -1;
		g_autoptr(DrvGuest) g = host_guest(h, name);
		if (!g)
			return error_set(err, HF_ERR_NOT_FOUND, "guest '%s' not found",
					 a->valuestring);
		add_target(rc, seen, h, g);
	}
	return 0;
}

int checks_submit(Daemon *d, const cJSON *params, cJSON **reply, HfError *err)
{
	RunCtx *rc = g_new0(RunCtx, 1);
	const HfConfig *cfg = d->cfg;

	rc->targets = g_ptr_array_new_with_free_func((GDestroyNotify)target_free);
	rc->refresh = cJSON_IsTrue(cJSON_GetObjectItem(params, "refresh"));
	rc->timeout_s = cfg->check_timeout;
	rc->parallel = cfg->check_parallel;
	rc->interval = cfg->check_interval;
	if (checkreport_policy(cfg, params, &rc->policy, err) < 0 ||
	    resolve_targets(d, cJSON_GetObjectItem(params, "guests"), rc, err) < 0) {
		run_ctx_free(rc);
		return -1;
	}
	Target *one = rc->targets->len == 1 ? rc->targets->pdata[0] : NULL;
	JobSpec spec = {
	    .kind = "check.run",
	    .host = one ? host_name(one->host) : "*",
	    .guest = one ? one->guest : NULL,
	    .params = cJSON_Duplicate(params, 1),
	    .run = run_job,
	    .ctx = rc,
	    .ctx_free = (GDestroyNotify)run_ctx_free,
	};
	Job *job = jobs_submit(d->jobs, &spec);
	*reply = cJSON_CreateObject();
	cJSON_AddItemToObject(*reply, "job", job_to_json(job));
	return 0;
}

cJSON *checks_classify(const HfConfig *cfg, const cJSON *params, HfError *err)
{
	BcPolicy p;
	if (checkreport_policy(cfg, params, &p, err) < 0)
		return NULL;
	return checkreport_classify(cJSON_GetObjectItem(params, "evidence"), &p, now_s(), err);
}

cJSON *checks_cached(const char *host, const char *guest)
{
	Checks *cs = checks;
	if (!cs)
		return NULL;
	g_autofree char *key = g_strdup_printf("%s/%s", host, guest);
	g_mutex_lock(&cs->lock);
	CheckEntry *e = g_hash_table_lookup(cs->entries, key);
	CheckEntry *c = e && e->checked ? checkreport_entry_copy(e) : NULL;
	g_mutex_unlock(&cs->lock);
	if (!c)
		return NULL;
	c->cached = true;
	g_autoptr(GPtrArray) one =
	    g_ptr_array_new_with_free_func((GDestroyNotify)checkreport_entry_free);
	g_ptr_array_add(one, c);
	BcPolicy p;
	buildcheck_policy_init(&p);
	cJSON *doc = checkreport_document(one, &p, now_s());
	cJSON *r = cJSON_DetachItemFromArray(cJSON_GetObjectItem(doc, "checks"), 0);
	cJSON_Delete(doc);
	cJSON_DeleteItemFromObject(r, "evidence"); /* the verdict and its reasons are enough */
	cJSON_DeleteItemFromObject(r, "policy");
	return r;
}
