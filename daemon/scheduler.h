/* scheduler.h - policies -> runs -> per-guest nightly jobs, with a crash-safe journal.
 *
 * Slots. Each policy's next slot is calendar_next() after the last slot that started (UTC
 * instants, calendar.h). When the daemon's clock (clock.h) passes a slot, the run starts;
 * when several slots passed (the daemon was down, or a run was still going) only the latest
 * runs, once (systemd's Persistent=true). A policy first seen at time T has no slot before T.
 * A manual `holdfast policy run` is a run of its own (named by the time it started) and does
 * not consume a slot.
 *
 * Journal: STATE_DIR/schedule.json (statefile.h: temp file, fsync, rename, fsync the
 * directory) holds per policy the last slot, the first-seen time, the active run with each
 * guest's state, the last finished run's summary, and per guest the hash and counts of the
 * retention rules last applied (and a held-back change). It is written BEFORE a run submits
 * its first job (so a slot can never run twice) and updated as guests finish. At start, a run
 * the journal shows in progress is completed: guests done (or skipped, or failed for good)
 * are not redone, the others run once; snapshot names come from the slot, so a guest whose
 * snapshot was taken just before a crash is recognised as done, not doubled. Pending
 * ownership records (half-made snapshots) are handed to "snapshot.recover" jobs first.
 *
 * Runs in `holdfast jobs`: a "policy.run" job (host "policy:NAME", no guest) stands for the
 * whole run and ends with its summary as result (failed when any guest failed); each guest
 * is a "policy.nightly" job (nightly.h) with params policy, slot, run, name. Limits: at most
 * max-concurrent guests of a run at once (0 = no limit), and each host's max-jobs through the
 * job queue; starts spread by stagger; guests not started within max-runtime are skipped and
 * running ones cancelled; a guest that already has a job queued or running when its turn
 * comes is skipped and reported; a failed guest is retried `retries` times after
 * retry-backoff, 2x, 4x ... seconds. A run ending with failures runs the policy's notify
 * command (sh -c) with the summary on stdin, bounded to 60 s, never blocking the loop.
 *
 * Policies with action = dr-copy run the same way; their guests' jobs are "dr.copy" then
 * "policy.drretain" (scheddr.h).
 *
 * All functions run on the main thread. */
#pragma once

#include <cjson/cJSON.h>

#include "daemon.h"
#include "policy.h"

void scheduler_start(Daemon *d);
/* After a reload: the new policies apply (runs in progress finish with their settings). */
void scheduler_reload(Daemon *d);
/* SIGTERM: start nothing new; runs in progress resume at the next start. */
void scheduler_stop(void);
/* After the main loop ended (writes the journal). */
void scheduler_free(void);

/* ---- internals, shared with the method handlers (policyapi.c) ---- */

typedef enum { G_PENDING, G_RETRY, G_RUNNING, G_DONE, G_FAILED, G_SKIPPED } GState;

typedef struct Run Run;
typedef struct PolState PolState;

typedef struct {
	Run *run;
	char *addr, *host, *name;
	GState state;
	int attempts, offset;
	int64_t due; /* clock time it may start */
	Job *job;    /* while not final */
	guint watch;
	int64_t job_id;
	char *note;    /* why skipped or failed */
	cJSON *result; /* the nightly job's result, compacted */
	/* dr-copy policies (scheddr.h): a "dr.copy" job, then a "policy.drretain" job */
	int phase;    /* SCHED_DR_COPY or SCHED_DR_RETAIN */
	int64_t mark; /* real time the copy was submitted (0 = never): finds it after a crash */
	char *point;  /* the restore point the copy made */
} RunGuest;

enum { SCHED_DR_COPY, SCHED_DR_RETAIN };

/* Shared by a run and its "policy.run" job, which waits on it on a worker thread. */
typedef struct {
	GMutex m;
	GCond c;
	bool done;
	cJSON *summary;
	char code[32], msg[256];
	gint ref;
	char *policy;
	int64_t run_id;
} RunSync;

struct Run {
	PolState *ps;
	int64_t id, slot, started, deadline, parent_id;
	char *reason;
	bool manual, prune_only, cancelled, deadline_hit;
	/* the policy's settings when the run started */
	char *quiesce, *rules_hash, *rules_text, *notify;
	PolicyAction action;
	char *store; /* dr-copy */
	int full_every;
	RetentionRules rules;
	GTimeZone *tz;
	int prune_limit, min_free, retries, backoff, max_concurrent;
	GPtrArray *guests; /* RunGuest* */
	int running;
	RunSync *sync;
};

struct PolState {
	char *name;
	int64_t last_slot, since;
	char *approved;	    /* rules hash approved by `policy apply` */
	cJSON *guests;	    /* "HOST/NAME" -> {"applied":HASH,"rules":[6],"held":{..}|null} */
	cJSON *last_run;    /* summary of the last finished run */
	cJSON *pending_run; /* a run of the journal, resumed once the hosts are up */
	Run *run;
};

typedef struct {
	Daemon *d;
	GHashTable *pols; /* name -> PolState* */
	char *path;
	int64_t next_run_id, started;
	guint timer, flush, sweep;
	bool recovered, stopping;
} Sched;

extern Sched *sched;

const char *sched_gstate_name(GState s);
Policy *sched_policy(const char *name);
PolState *sched_pol_state(const char *name);
void sched_tick(void);
/* schedstate.c: the journal (written now, or coalesced shortly after) and notify. */
void schedstate_save(bool now);
void schedstate_load(void);
PolState *schedstate_pol_new(const char *name, int64_t since);
cJSON *schedstate_run_json(const Run *r, bool guests);
cJSON *schedstate_rules_json(const RetentionRules *r);
void schedstate_rules_from_json(const cJSON *a, RetentionRules *r);
void schedstate_notify(const char *policy, const char *cmd, const cJSON *summary);
/* What the journal and the summary keep of a nightly job's result. */
cJSON *schedstate_compact(const cJSON *res);
/* A guest's job applied the run's rules (res "applied") or held a change back (res "held"). */
void schedstate_guest_rules(Run *r, const RunGuest *g, const cJSON *res);
Run *sched_run_start(PolState *ps, const Policy *p, int64_t slot, const char *reason, bool manual,
		     bool prune_only);
void sched_run_cancel(Run *r, const char *why);
/* A guest's retention state: the rules applied last (or the run's), their hash, approval. */
void sched_guest_rules(const Run *r, const RunGuest *g, RetentionRules *applied, char **hash,
		       bool *approved);
/* The next slot of a policy (0 when none). */
int64_t sched_next_slot(const Policy *p, const PolState *ps);
