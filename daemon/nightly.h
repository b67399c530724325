/* nightly.h - the per-guest job of a policy run ("policy.nightly") and snapshot pinning.
 *
 * One job per guest and slot: (1) unless prune_only, skip the guest with a warning when its
 * disk images' filesystem has less than min-free percent free (local hosts; "unknown" for
 * remote ones); (2) take the slot's snapshot hf-POLICY-YYYYMMDDTHHMMSSZ through
 * snapshot.create, recorded with the policy and slot; a snapshot of that name that holdfast
 * already committed for this policy means the slot is done (never doubled); one half-made by
 * holdfast (pending record, created after the intent) is removed and taken again; one holdfast
 * did not make fails the job and is never touched; (3) prune the policy's own snapshots of the
 * guest by retention_plan (pinned, newest and foreign never), each deletion logged with its
 * rule. A rules change (hash differs from the guest's last applied hash) that would prune more
 * than prune-limit percent is held back: the previously applied rules stay in force and the
 * result says so, until `holdfast policy apply`.
 *
 * Result: {"snapshot":S|null,"existing":bool,"skipped":TEXT|null,"free":{..},
 *          "pruned":[{"name","reason"}],"kept":N,"prune_errors":[..],"applied":bool,
 *          "rules":TEXT,"held":{"rules","owned","would_prune","share"}|null}
 *
 * "snapshot.recover" jobs remove what a crash left half-made: for every pending ownership
 * record of the guest, the snapshot of that name is deleted when it was created after the
 * intent (holdfast made it), the record dropped when no such snapshot exists; a snapshot that
 * predates the intent is not holdfast's and is kept. */
#pragma once

#include "daemon.h"
#include "jobs.h"
#include "policy.h"
#include "retention.h"
#include "snapshot.h"

typedef struct {
	SnapCtx snap; /* first: snapshot_job_create() reads the job's ctx as a SnapCtx */
	char *policy;
	GTimeZone *tz;
	RetentionRules rules, applied_rules;
	char *rules_hash, *applied_hash;
	bool approved; /* `policy apply` approved rules_hash */
	bool prune_only;
	int prune_limit, min_free;
	char *uri;
} NightlyCtx;

NightlyCtx *nightly_ctx_new(Host *h, const char *state_dir, int agent_timeout);
void nightly_ctx_free(void *ctx);
int nightly_job(Job *job, HfError *err);
int nightly_job_recover(Job *job, HfError *err);
/* At start: report every pending ownership record and submit a recovery job per guest. */
void nightly_recover(Daemon *d);

/* snapshot.pin / snapshot.unpin */
void nightly_handle_pin(Call *call);
void nightly_handle_unpin(Call *call);
