/* jobs.c - the job queue, workers, watchers and the job journal (STATE_DIR/jobs.json). */
#include "jobs.h"

#include <string.h>

#include <openssl/crypto.h>

#include "log.h"
#include "statefile.h"
#include "timefmt.h"

#define JOBS_HISTORY 1000 /* finished jobs kept in memory and in the journal */
#define JOBS_FLUSH_DELAY_MS 200

typedef struct {
	guint id;
	JobWatchFn fn;
	void *opaque;
} Watcher;

struct Job {
	gint ref;
	Jobs *jobs;
	int64_t id;
	char *kind, *host, *guest;
	char *also_host; /* a second host slot (NULL: none) */
	Job *parent;	 /* jobs_nest: runs inside this job (ref), on its guest and host slot */
	cJSON *params;
	JobRunFn run;
	void *ctx;
	GDestroyNotify ctx_free;
	GMutex lock; /* protects the fields below */
	JobState state;
	int progress;
	char *message;
	int64_t created, started, finished; /* unix seconds; 0 = not yet */
	cJSON *result;
	HfError error;
	gint cancel;
	/* main thread only */
	GArray *watchers; /* Watcher */
	guint next_watch;
	gboolean notify_pending;
};

struct Jobs {
	GHashTable *by_id;	      /* int64 id -> Job* (ref) */
	GQueue all;		      /* Job*, oldest first */
	GQueue queued;		      /* Job*, FIFO */
	GHashTable *running_per_host; /* host -> GUINT count */
	GHashTable *busy_guests;      /* "host/guest" -> GUINT running jobs holding it */
	unsigned running;
	int64_t next_id;
	char *journal;
	StateWriter *writer; /* jobs.json */
	GThreadPool *pool;
	JobHostLimitFn limit;
	void *limit_ctx;
	guint flush_source;
	bool stopping;
	GSourceFunc stopped_fn;
	gpointer stopped_data;
	guint stop_timer;
};

static const char *const state_names[] = {"queued", "running",	 "succeeded",
					  "failed", "cancelled", "interrupted"};

const char *job_state_name(JobState s)
{
	return state_names[s];
}

static int64_t now_s(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

static Job *job_ref(Job *j)
{
	g_atomic_int_inc(&j->ref);
	return j;
}

static void job_unref(Job *j)
{
	if (!g_atomic_int_dec_and_test(&j->ref))
		return;
	g_free(j->kind);
	g_free(j->host);
	g_free(j->guest);
	g_free(j->also_host);
	if (j->parent)
		job_unref(j->parent);
	g_free(j->message);
	cJSON_Delete(j->params);
	cJSON_Delete(j->result);
	if (j->ctx_free)
		j->ctx_free(j->ctx);
	if (j->watchers)
		g_array_unref(j->watchers);
	g_mutex_clear(&j->lock);
	g_free(j);
}

static char *guest_key(const Job *j)
{
	return g_strdup_printf("%s/%s", j->host, j->guest ? j->guest : "");
}

int64_t job_id(const Job *j)
{
	return j->id;
}
const char *job_host(const Job *j)
{
	return j->host;
}
const char *job_guest(const Job *j)
{
	return j->guest;
}
const cJSON *job_params(const Job *j)
{
	return j->params;
}
void *job_ctx(const Job *j)
{
	return j->ctx;
}

bool job_is_final(Job *j)
{
	g_mutex_lock(&j->lock);
	bool f = j->state >= JOB_SUCCEEDED;
	g_mutex_unlock(&j->lock);
	return f;
}

static void add_time(cJSON *o, const char *key, int64_t t)
{
	if (!t) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	g_autofree char *s = timefmt_iso(t);
	cJSON_AddStringToObject(o, key, s);
}

cJSON *job_to_json(Job *j)
{
	cJSON *o = cJSON_CreateObject();
	g_autofree char *addr = guest_key(j);

	cJSON_AddNumberToObject(o, "id", (double)j->id);
	cJSON_AddStringToObject(o, "kind", j->kind);
	cJSON_AddStringToObject(o, "host", j->host);
	if (j->guest)
		cJSON_AddStringToObject(o, "guest", addr);
	else
		cJSON_AddNullToObject(o, "guest");
	g_mutex_lock(&j->lock);
	cJSON_AddStringToObject(o, "state", state_names[j->state]);
	cJSON_AddNumberToObject(o, "progress", j->progress);
	cJSON_AddStringToObject(o, "message", j->message ? j->message : "");
	add_time(o, "created", j->created);
	add_time(o, "started", j->started);
	add_time(o, "finished", j->finished);
	cJSON_AddItemToObject(o, "params", cJSON_Duplicate(j->params, 1));
	cJSON_AddItemToObject(o, "result",
			      j->result ? cJSON_Duplicate(j->result, 1) : cJSON_CreateNull());
	if (j->error.code[0]) {
		cJSON *e = cJSON_AddObjectToObject(o, "error");
		cJSON_AddStringToObject(e, "code", j->error.code);
		cJSON_AddStringToObject(e, "message", j->error.message);
	} else
		cJSON_AddNullToObject(o, "error");
	g_mutex_unlock(&j->lock);
	return o;
}

/* ---- journal ---- */

static gboolean flush_now(gpointer data)
{
	Jobs *jobs = data;
	cJSON *doc = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(doc, "jobs");

	jobs->flush_source = 0;
	cJSON_AddNumberToObject(doc, "next_id", (double)jobs->next_id);
	for (GList *l = jobs->all.head; l; l = l->next)
		cJSON_AddItemToArray(arr, job_to_json(l->data));
	statewriter_put_json(jobs->writer, doc); /* written by its own thread, not the loop */
	cJSON_Delete(doc);
	return G_SOURCE_REMOVE;
}

/* Write the journal now and wait until it is on disk (shutdown). */
static void flush_sync(Jobs *jobs)
{
	if (jobs->flush_source) {
		g_source_remove(jobs->flush_source);
		jobs->flush_source = 0;
	}
	flush_now(jobs);
	statewriter_sync(jobs->writer);
}

static void journal_dirty(Jobs *jobs)
{
	if (!jobs->flush_source)
		jobs->flush_source = g_timeout_add(JOBS_FLUSH_DELAY_MS, flush_now, jobs);
}

static void journal_load(Jobs *jobs)
{
	HfError err = {0};
	cJSON *doc = NULL, *o;

	if (statefile_read_json(jobs->journal, &doc, &err) < 0) {
		hf_log("hf-jobs", LOG_LVL_WARNING, "%s", err.message);
		return;
	}
	cJSON_ArrayForEach(o, cJSON_GetObjectItem(doc, "jobs"))
	{
		const char *st = cJSON_GetStringValue(cJSON_GetObjectItem(o, "state"));
		const char *kind = cJSON_GetStringValue(cJSON_GetObjectItem(o, "kind"));
		const char *host = cJSON_GetStringValue(cJSON_GetObjectItem(o, "host"));
		const char *guest = cJSON_GetStringValue(cJSON_GetObjectItem(o, "guest"));
		double id = cJSON_GetNumberValue(cJSON_GetObjectItem(o, "id"));
		if (!st || !kind || !host || !(id >= 1))
			continue;
		Job *j = g_new0(Job, 1);
		j->ref = 1;
		j->jobs = jobs;
		j->id = (int64_t)id;
		j->kind = g_strdup(kind);
		j->host = g_strdup(host);
		if (guest && strchr(guest, '/'))
			j->guest = g_strdup(strchr(guest, '/') + 1);
		g_mutex_init(&j->lock);
		j->params = cJSON_Duplicate(cJSON_GetObjectItem(o, "params"), 1);
		cJSON *res = cJSON_GetObjectItem(o, "result");
		j->result = cJSON_IsNull(res) ? NULL : cJSON_Duplicate(res, 1);
		j->progress = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(o, "progress"));
		j->message = g_strdup(cJSON_GetStringValue(cJSON_GetObjectItem(o, "message")));
		j->created = timefmt_parse(cJSON_GetStringValue(cJSON_GetObjectItem(o, "created")));
		j->started =
		    MAX(0, timefmt_parse(cJSON_GetStringValue(cJSON_GetObjectItem(o, "started"))));
		j->finished =
		    MAX(0, timefmt_parse(cJSON_GetStringValue(cJSON_GetObjectItem(o, "finished"))));
		j->state = JOB_INTERRUPTED;
		for (int s = 0; s < (int)G_N_ELEMENTS(state_names); s++)
			if (!strcmp(st, state_names[s]))
				j->state = (JobState)s;
		cJSON *e = cJSON_GetObjectItem(o, "error");
		const char *ecode = cJSON_GetStringValue(cJSON_GetObjectItem(e, "code"));
		const char *emsg = cJSON_GetStringValue(cJSON_GetObjectItem(e, "message"));
		if (ecode)
			error_set(&j->error, ecode, "%s", emsg ? emsg : "");
		if (j->state < JOB_SUCCEEDED) {
			j->state = JOB_INTERRUPTED;
			j->finished = now_s();
			error_clear(&j->error);
			error_set(&j->error, HF_ERR_INTERRUPTED,
				  "holdfastd stopped while this job was %s; check the guest and "
				  "run the job again",
				  st);
		}
		j->watchers = g_array_new(FALSE, FALSE, sizeof(Watcher));
		g_hash_table_insert(jobs->by_id, &j->id, j);
		g_queue_push_tail(&jobs->all, j);
		jobs->next_id = MAX(jobs->next_id, j->id + 1);
	}
	double next = cJSON_GetNumberValue(cJSON_GetObjectItem(doc, "next_id"));
	if (next > (double)jobs->next_id)
		jobs->next_id = (int64_t)next;
	cJSON_Delete(doc);
}

/* ---- watchers ---- */

static gboolean notify_main(gpointer data)
{
	Job *j = data;

	/* Clear the flag under the lock BEFORE reading the state: a change made after this point
	 * schedules a new notification, one made before is in the JSON read below. */
	g_mutex_lock(&j->lock);
	j->notify_pending = FALSE;
	g_mutex_unlock(&j->lock);
	bool final = job_is_final(j);
	cJSON *json = job_to_json(j);
	/* Copy: a callback may unwatch. */
	g_autoptr(GArray) ws = g_array_copy(j->watchers);
	for (guint i = 0; i < ws->len; i++) {
		Watcher *w = &g_array_index(ws, Watcher, i);
		w->fn(j, json, final, w->opaque);
	}
	if (final)
		g_array_set_size(j->watchers, 0);
	cJSON_Delete(json);
	return G_SOURCE_REMOVE;
}

/* Schedule a watcher notification from any thread (coalesced). */
static void job_notify(Job *j)
{
	g_mutex_lock(&j->lock);
	gboolean pending = j->notify_pending;
	j->notify_pending = TRUE;
	g_mutex_unlock(&j->lock);
	if (!pending)
		g_idle_add_full(G_PRIORITY_DEFAULT, notify_main, job_ref(j),
				(GDestroyNotify)job_unref);
}

guint jobs_watch(Job *j, JobWatchFn fn, void *opaque)
{
	Watcher w = {++j->next_watch, fn, opaque};
	g_array_append_val(j->watchers, w);
	return w.id;
}

void jobs_unwatch(Job *j, guint id)
{
	for (guint i = 0; i < j->watchers->len; i++)
		if (g_array_index(j->watchers, Watcher, i).id == id) {
			g_array_remove_index(j->watchers, i);
			return;
		}
}

/* ---- worker side ---- */

void job_progress(Job *j, int percent, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_mutex_lock(&j->lock);
	j->progress = CLAMP(percent, 0, 100);
	g_free(j->message);
	j->message = msg;
	g_mutex_unlock(&j->lock);
	hf_log("hf-jobs", LOG_LVL_DEBUG, "job %" G_GINT64_FORMAT " %d%% %s", j->id, percent, msg);
	job_notify(j);
}

bool job_cancelled(Job *j)
{
	return g_atomic_int_get(&j->cancel) != 0;
}

void job_set_result(Job *j, cJSON *result)
{
	g_mutex_lock(&j->lock);
	cJSON_Delete(j->result);
	j->result = result;
	g_mutex_unlock(&j->lock);
}

static void pump(Jobs *jobs);

static guint host_running(Jobs *jobs, const char *host)
{
	return GPOINTER_TO_UINT(g_hash_table_lookup(jobs->running_per_host, host));
}

/* The host slots a job takes: its host's and also_host's; none for a nested job. */
static void slots_add(Jobs *jobs, const Job *j, int delta)
{
	const char *hosts[] = {j->host, j->also_host};
	for (size_t i = 0; i < G_N_ELEMENTS(hosts) && !j->parent; i++)
		if (hosts[i])
			g_hash_table_insert(
			    jobs->running_per_host, g_strdup(hosts[i]),
			    GUINT_TO_POINTER((guint)((int)host_running(jobs, hosts[i]) + delta)));
}

static void finish(Jobs *jobs, Job *j, JobState st, const HfError *err)
{
	g_mutex_lock(&j->lock);
	bool was_running = j->state == JOB_RUNNING;
	j->state = st;
	j->finished = now_s();
	if (st == JOB_SUCCEEDED) {
		j->progress = 100;
		g_free(j->message);
		j->message = g_strdup("done");
	}
	if (err && err->code[0])
		j->error = *err;
	g_mutex_unlock(&j->lock);
	if (was_running) {
		g_autofree char *gk = guest_key(j);
		guint busy = GPOINTER_TO_UINT(g_hash_table_lookup(jobs->busy_guests, gk));
		slots_add(jobs, j, -1);
		if (busy > 1)
			g_hash_table_insert(jobs->busy_guests, g_strdup(gk),
					    GUINT_TO_POINTER(busy - 1));
		else
			g_hash_table_remove(jobs->busy_guests, gk);
		jobs->running--;
	}
	hf_log("hf-jobs", st == JOB_SUCCEEDED ? LOG_LVL_INFO : LOG_LVL_WARNING,
	       "job %" G_GINT64_FORMAT " %s %s/%s: %s%s%s", j->id, j->kind, j->host,
	       j->guest ? j->guest : "", state_names[st], err && err->code[0] ? ": " : "",
	       err && err->code[0] ? err->message : "");
	job_notify(j);
	journal_dirty(jobs);
}

typedef struct {
	Job *job;
	HfError err;
	int rc;
} Done;

static gboolean done_main(gpointer data)
{
	Done *d = data;
	Job *j = d->job;
	Jobs *jobs = j->jobs;
	JobState st = d->rc == 0 ? JOB_SUCCEEDED : JOB_FAILED;

	if (d->rc < 0 && !strcmp(d->err.code, HF_ERR_CANCELLED))
		st = JOB_CANCELLED;
	finish(jobs, j, st, &d->err);
	job_unref(j);
	g_free(d);
	if (jobs->stopping && jobs->running == 0 && jobs->stop_timer) {
		g_source_remove(jobs->stop_timer);
		jobs->stop_timer = 0;
		flush_sync(jobs);
		jobs->stopped_fn(jobs->stopped_data);
	} else
		pump(jobs);
	return G_SOURCE_REMOVE;
}

static void worker(gpointer data, gpointer user)
{
	Done *d = g_new0(Done, 1);
	d->job = data;
	d->rc = d->job->run(d->job, &d->err);
	if (d->rc < 0 && !d->err.code[0])
		error_set(&d->err, HF_ERR_INTERNAL, "job failed without saying why");
	/* GLib keeps idle pool threads past g_thread_pool_free; one still holding OpenSSL's
	 * per-thread state (a checksum ran here) when main() returns races OPENSSL_cleanup and
	 * leaks it. Free it now; the next job re-creates it if it needs it. */
	OPENSSL_thread_stop();
	g_main_context_invoke(NULL, done_main, d);
}

/* ---- queue ---- */

static void start(Jobs *jobs, Job *j)
{
	g_autofree char *gk = guest_key(j);
	guint busy = GPOINTER_TO_UINT(g_hash_table_lookup(jobs->busy_guests, gk));
	slots_add(jobs, j, +1);
	g_hash_table_insert(jobs->busy_guests, g_steal_pointer(&gk), GUINT_TO_POINTER(busy + 1));
	jobs->running++;
	g_mutex_lock(&j->lock);
	j->state = JOB_RUNNING;
	j->started = now_s();
	g_free(j->message);
	j->message = g_strdup("started");
	g_mutex_unlock(&j->lock);
	job_notify(j);
	journal_dirty(jobs);
	g_thread_pool_push(jobs->pool, job_ref(j), NULL);
}

static bool has_slot(Jobs *jobs, const char *host)
{
	return !host || (int)host_running(jobs, host) < jobs->limit(jobs->limit_ctx, host);
}

/* A free slot on its host(s) and its guest not busy; a nested job: its parent still runs
 * (and so holds the guest and a slot for it). */
static bool can_start(Jobs *jobs, Job *j)
{
	if (j->parent) {
		g_mutex_lock(&j->parent->lock);
		bool running = j->parent->state == JOB_RUNNING;
		g_mutex_unlock(&j->parent->lock);
		if (running)
			return true;
		job_unref(j->parent); /* the parent ended first: an ordinary job from now */
		j->parent = NULL;
	}
	g_autofree char *gk = guest_key(j);
	return has_slot(jobs, j->host) && has_slot(jobs, j->also_host) &&
	       !g_hash_table_contains(jobs->busy_guests, gk);
}

static void pump(Jobs *jobs)
{
	if (jobs->stopping)
		return;
	for (GList *l = jobs->queued.head; l;) {
		Job *j = l->data;
		GList *next = l->next;
		if (can_start(jobs, j)) {
			g_queue_delete_link(&jobs->queued, l);
			start(jobs, j);
		}
		l = next;
	}
}

static void trim_history(Jobs *jobs)
{
	for (GList *l = jobs->all.head; l && jobs->all.length > JOBS_HISTORY;) {
		GList *next = l->next;
		Job *j = l->data;
		if (job_is_final(j)) {
			g_hash_table_remove(jobs->by_id, &j->id);
			g_queue_delete_link(&jobs->all, l);
			job_unref(j);
		}
		l = next;
	}
}

Job *jobs_submit(Jobs *jobs, JobSpec *spec)
{
	Job *j = g_new0(Job, 1);
	j->ref = 1;
	j->jobs = jobs;
	j->id = jobs->next_id++;
	j->kind = g_strdup(spec->kind);
	j->host = g_strdup(spec->host);
	j->guest = g_strdup(spec->guest);
	if (spec->also_host && strcmp(spec->also_host, spec->host))
		j->also_host = g_strdup(spec->also_host);
	j->params = spec->params ? spec->params : cJSON_CreateObject();
	spec->params = NULL;
	j->run = spec->run;
	j->ctx = spec->ctx;
	j->ctx_free = spec->ctx_free;
	g_mutex_init(&j->lock);
	j->state = JOB_QUEUED;
	j->created = now_s();
	j->message = g_strdup("queued");
	j->watchers = g_array_new(FALSE, FALSE, sizeof(Watcher));
	g_hash_table_insert(jobs->by_id, &j->id, j);
	g_queue_push_tail(&jobs->all, j);
	trim_history(jobs);
	hf_log("hf-jobs", LOG_LVL_INFO, "job %" G_GINT64_FORMAT " %s %s/%s queued", j->id, j->kind,
	       j->host, j->guest ? j->guest : "");
	if (jobs->stopping) {
		HfError e = {0};
		error_set(&e, HF_ERR_CANCELLED,
			  "holdfastd is stopping; submit the job again later");
		finish(jobs, j, JOB_CANCELLED, &e);
		return j;
	}
	g_queue_push_tail(&jobs->queued, j);
	journal_dirty(jobs);
	pump(jobs);
	return j;
}

bool jobs_nest(Jobs *jobs, Job *child, Job *parent)
{
	g_mutex_lock(&child->lock);
	bool queued = child->state == JOB_QUEUED;
	g_mutex_unlock(&child->lock);
	g_autofree char *ck = guest_key(child), *pk = guest_key(parent);
	if (!queued || child->parent || child == parent || !child->guest || strcmp(ck, pk))
		return false;
	child->parent = job_ref(parent);
	pump(jobs);
	return true;
}

Job *jobs_get(Jobs *jobs, int64_t id)
{
	return g_hash_table_lookup(jobs->by_id, &id);
}

cJSON *jobs_list_json(Jobs *jobs, const char *state, const char *guest)
{
	cJSON *arr = cJSON_CreateArray();
	for (GList *l = jobs->all.head; l; l = l->next) {
		Job *j = l->data;
		g_autofree char *gk = guest_key(j);
		if (guest && (!j->guest || (strcmp(gk, guest) && strcmp(j->guest, guest))))
			continue;
		g_mutex_lock(&j->lock);
		bool skip = state && strcmp(state_names[j->state], state);
		g_mutex_unlock(&j->lock);
		if (!skip)
			cJSON_AddItemToArray(arr, job_to_json(j));
	}
	return arr;
}

int jobs_cancel(Jobs *jobs, int64_t id, HfError *err)
{
	Job *j = jobs_get(jobs, id);
	if (!j)
		return error_set(err, HF_ERR_NOT_FOUND,
				 "job %" G_GINT64_FORMAT " not found (see `holdfast jobs list`)",
				 id);
	g_mutex_lock(&j->lock);
	JobState st = j->state;
	g_mutex_unlock(&j->lock);
	if (st == JOB_QUEUED) {
		HfError e = {0};
		g_queue_remove(&jobs->queued, j);
		error_set(&e, HF_ERR_CANCELLED, "cancelled before it started");
		finish(jobs, j, JOB_CANCELLED, &e);
		return 0;
	}
	if (st != JOB_RUNNING)
		return error_set(err, HF_ERR_CONFLICT,
				 "job %" G_GINT64_FORMAT " already ended (%s); nothing to cancel",
				 id, state_names[st]);
	g_atomic_int_set(&j->cancel, 1);
	job_progress(j, j->progress, "cancel requested; stopping at the next safe point");
	return 0;
}

unsigned jobs_running(Jobs *jobs)
{
	return jobs->running;
}

static gboolean stop_timeout(gpointer data)
{
	Jobs *jobs = data;
	jobs->stop_timer = 0;
	for (GList *l = jobs->all.head; l; l = l->next) {
		Job *j = l->data;
		g_mutex_lock(&j->lock);
		if (j->state == JOB_RUNNING) {
			j->state = JOB_INTERRUPTED;
			j->finished = now_s();
			error_set(
			    &j->error, HF_ERR_INTERRUPTED,
			    "holdfastd stopped before this job ended; check the guest and run "
			    "the job again");
		}
		g_mutex_unlock(&j->lock);
	}
	flush_sync(jobs);
	jobs->stopped_fn(jobs->stopped_data);
	return G_SOURCE_REMOVE;
}

void jobs_shutdown(Jobs *jobs, int timeout_s, GSourceFunc done, gpointer data)
{
	Job *j;
	HfError e = {0};

	jobs->stopping = true;
	jobs->stopped_fn = done;
	jobs->stopped_data = data;
	error_set(&e, HF_ERR_CANCELLED, "holdfastd stopped before the job started");
	while ((j = g_queue_pop_head(&jobs->queued)))
		finish(jobs, j, JOB_CANCELLED, &e);
	if (jobs->running == 0) {
		flush_sync(jobs);
		done(data);
		return;
	}
	hf_log("hf-jobs", LOG_LVL_INFO, "waiting up to %d s for %u running job(s)", timeout_s,
	       jobs->running);
	jobs->stop_timer = g_timeout_add_seconds((guint)timeout_s, stop_timeout, jobs);
}

Jobs *jobs_new(const char *state_dir, JobHostLimitFn limit, void *limit_ctx, HfError *err)
{
	Jobs *jobs = g_new0(Jobs, 1);
	GError *gerr = NULL;

	jobs->by_id = g_hash_table_new(g_int64_hash, g_int64_equal);
	g_queue_init(&jobs->all);
	g_queue_init(&jobs->queued);
	jobs->running_per_host = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	jobs->busy_guests = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	jobs->next_id = 1;
	jobs->journal = g_build_filename(state_dir, "jobs.json", NULL);
	jobs->writer = statewriter_new(jobs->journal, "hf-jobs", "job journal");
	jobs->limit = limit;
	jobs->limit_ctx = limit_ctx;
	jobs->pool = g_thread_pool_new(worker, jobs, 256, FALSE, &gerr);
	if (!jobs->pool) {
		error_set(err, HF_ERR_INTERNAL, "cannot start job workers: %s", gerr->message);
		g_error_free(gerr);
		jobs_free(jobs);
		return NULL;
	}
	journal_load(jobs);
	return jobs;
}

void jobs_free(Jobs *jobs)
{
	Job *j;
	if (!jobs)
		return;
	if (jobs->pool)
		g_thread_pool_free(jobs->pool, FALSE, TRUE);
	if (jobs->flush_source)
		flush_sync(jobs);
	statewriter_free(jobs->writer);
	if (jobs->stop_timer)
		g_source_remove(jobs->stop_timer);
	while ((j = g_queue_pop_head(&jobs->all)))
		job_unref(j);
	g_queue_clear(&jobs->queued);
	g_hash_table_unref(jobs->by_id);
	g_hash_table_unref(jobs->running_per_host);
	g_hash_table_unref(jobs->busy_guests);
	g_free(jobs->journal);
	g_free(jobs);
}
