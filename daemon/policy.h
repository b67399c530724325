/* policy.h - [policy NAME] sections of holdfastd.conf: nightly snapshots and their retention.
 *
 *   [policy nightly]
 *   schedule = *-*-* 02:30:00      OnCalendar style (calendar.h); required
 *   timezone = Europe/Berlin       zone of the schedule and of the retention periods (UTC)
 *   guests = w2k8-*, demo/app*     globs over NAME or HOST/NAME, or tag:NAME (required)
 *   quiesce = try                  no | yes | try (try)
 *   keep-last / keep-hourly / keep-daily / keep-weekly / keep-monthly / keep-yearly = N
 *                                  PBS prune rules (retention.h); none = keep everything
 *   max-concurrent = 4             guests snapshotted at once by this policy (0 = no limit;
 *                                  each host's max-jobs applies as well)
 *   stagger = 600                  spread the guests' starts over this many seconds,
 *                                  deterministically per guest (0)
 *   max-runtime = 14400            guests not started this long after the run began are
 *                                  skipped, running ones cancelled (0 = no limit)
 *   prune-limit = 50               a rules change that would prune more than this percent of a
 *                                  guest's snapshots waits for `holdfast policy apply` (50)
 *   min-free = 10                  skip a guest, with a warning, when the filesystem of its
 *                                  disk images has less free space, percent (0 = off)
 *   retries = 2, retry-backoff = 300
 *                                  a failed guest is tried again after backoff, 2x backoff ...
 *   notify = /usr/local/bin/mail-admins
 *                                  run (sh -c) with a JSON summary on stdin when a run ends
 *                                  with failures
 *   action = snapshot              snapshot (nightly snapshots, the default) or dr-copy
 *   store = dr                     dr-copy: the [drstore NAME] the copies go to (required)
 *   full-every = 7                 dr-copy: a full copy every N-th run for a guest,
 *                                  incrementals between, counted from the guest's points in
 *                                  the store (scheddr.h); 1 = always full (7)
 * For dr-copy the keep-* rules choose among the guest's RESTORE POINTS in the store, chain
 * aware (drretain.h); quiesce, the schedule keys and the limits work as for snapshots;
 * min-free does not apply (the copy refuses a full store itself).
 * Every key is validated; config.c prefixes errors with file, line, section and key. */
#pragma once

#include <cjson/cJSON.h>
#include <glib.h>
#include <stdbool.h>

#include "calendar.h"
#include "error.h"
#include "retention.h"

#ifndef HF_CJSON_AUTOPTR
#define HF_CJSON_AUTOPTR
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cJSON, cJSON_Delete)
#endif

typedef enum { POLICY_SNAPSHOT, POLICY_DR_COPY } PolicyAction;

typedef struct {
	char *name;
	int line;
	char *schedule;
	int schedule_line;
	char *timezone; /* NULL = UTC */
	Calendar *cal;	/* after policy_finish */
	char *guests;	/* as given */
	char **globs;	/* NULL with tag */
	char *tag;
	char *quiesce;
	RetentionRules rules;
	int max_concurrent, stagger, max_runtime, prune_limit, min_free, retries, retry_backoff;
	char *notify;
	PolicyAction action;
	char *store; /* dr-copy: a [drstore] name */
	int store_line;
	int full_every;
	int full_every_line; /* 0 = not given */
} Policy;

Policy *policy_new(const char *name, int line);
void policy_free(Policy *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Policy, policy_free)

/* One key of the section; the message names only the problem (the caller adds the place). */
int policy_set(Policy *p, const char *key, const char *value, int line, HfError *err);
/* After the section: required keys, the schedule in its zone, a dr-copy policy's store among
 * drstores (DrStore*; may be NULL: no stores). Messages carry file and line. */
int policy_finish(Policy *p, const char *file, const GPtrArray *drstores, HfError *err);
const char *policy_action_name(PolicyAction a);

/* Does the policy select this guest (tags may be NULL)? */
bool policy_selects(const Policy *p, const char *host, const char *name, char *const *tags);
/* Stable text of the retention rules ("keep-daily 7, keep-weekly 4") and its hash. */
char *policy_rules_hash(const RetentionRules *r);
/* The stagger offset of a guest in 0..stagger-1 seconds: stable across restarts. */
int policy_offset(const Policy *p, const char *address);
/* Snapshot name of a slot: hf-NAME-YYYYMMDDTHHMMSSZ (UTC). */
char *policy_snapshot_name(const Policy *p, int64_t slot);
cJSON *policy_to_json(const Policy *p);
