/* jobs.h - long work as jobs: a queue, worker threads, progress, watchers and a journal.
 *
 * Every mutating operation is a job. A request returns the job at once; the work runs on a
 * worker thread (hypervisor calls never block the event loop). Limits: per host (max-jobs) and
 * one job at a time per guest, so jobs never collide on a guest's hypervisor lock. All Jobs
 * functions run on the main thread except job_progress/job_cancelled/job_set_result/job_ctx,
 * which a job's run function calls on its worker thread. */
#pragma once

#include <cjson/cJSON.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

typedef enum {
	JOB_QUEUED,
	JOB_RUNNING,
	JOB_SUCCEEDED,
	JOB_FAILED,
	JOB_CANCELLED,
	JOB_INTERRUPTED,
} JobState;

typedef struct Job Job;
typedef struct Jobs Jobs;

/* Runs on a worker thread. Return 0 (result set with job_set_result) or -1 with err. */
typedef int (*JobRunFn)(Job *job, HfError *err);
/* Called on the main thread after each change; `final` on the last call for this job. */
typedef void (*JobWatchFn)(Job *job, const cJSON *job_json, bool final, void *opaque);
/* The concurrency limit of a host (asked on the main thread). */
typedef int (*JobHostLimitFn)(void *ctx, const char *host);

typedef struct {
	const char *kind;  /* method name: "snapshot.create" */
	const char *host;  /* host name */
	const char *guest; /* guest name on that host (NULL for host-wide jobs) */
	const char *also_host; /* NULL, or a second host whose max-jobs the job counts against */
	cJSON *params;     /* taken */
	JobRunFn run;
	void *ctx;         /* handed to the run function via job_ctx() */
	GDestroyNotify ctx_free;
} JobSpec;

Jobs *jobs_new(const char *state_dir, JobHostLimitFn limit, void *limit_ctx, HfError *err);
void jobs_free(Jobs *jobs);

Job *jobs_submit(Jobs *jobs, JobSpec *spec);
/* Let queued job `child` run inside running job `parent` of the same host and guest (the
 * parent waits for it): it starts although the parent holds the guest, takes no host slot
 * (it uses the parent's), and keeps the guest busy until it ends. false when child is not
 * queued or the two are not of one guest. */
bool jobs_nest(Jobs *jobs, Job *child, Job *parent);
Job *jobs_get(Jobs *jobs, int64_t id);
/* Array of job JSON objects, oldest first, filtered by state name and guest address. */
cJSON *jobs_list_json(Jobs *jobs, const char *state, const char *guest);
int jobs_cancel(Jobs *jobs, int64_t id, HfError *err);
unsigned jobs_running(Jobs *jobs);
/* Stop starting jobs, cancel queued ones, wait up to timeout_s for running ones, mark the rest
 * interrupted in the journal, then call done. */
void jobs_shutdown(Jobs *jobs, int timeout_s, GSourceFunc done, gpointer data);

guint jobs_watch(Job *job, JobWatchFn fn, void *opaque);
void jobs_unwatch(Job *job, guint watch_id);

cJSON *job_to_json(Job *job);
int64_t job_id(const Job *job);
bool job_is_final(Job *job);
const char *job_host(const Job *job);
const char *job_guest(const Job *job);
const cJSON *job_params(const Job *job);
void *job_ctx(const Job *job);
void job_progress(Job *job, int percent, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
bool job_cancelled(Job *job);
void job_set_result(Job *job, cJSON *result);
const char *job_state_name(JobState s);
