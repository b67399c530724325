/* drprune.h - a dr-copy policy's retention carried out on the store (plan: drretain.h), and
 * its per-guest job "policy.drretain".
 *
 * Consolidation of a kept point X whose base is deleted (all of X's rewritten disks at once):
 *   1. GDIR/X.hf-new/ is made beside X: each rewritten disk image is rebuilt there, with
 *      `qemu-img convert` (no kept base left: a self-contained image) or a copy rebased in safe
 *      mode (`qemu-img rebase -b ../BASE/FILE`) onto the nearest kept base; every other file
 *      of X is hard-linked (copied where links fail).
 *   2. The new images are fsynced and checked: `qemu-img check`, `qemu-img compare` against
 *      X's image (the guest's data must be identical through both chains), SHA-256 of every
 *      file. A manifest is written there: disks[].parent, kind (full once every disk is),
 *      point-level parent, files[], and "consolidated": {time, reason, copied_as, since_full,
 *      disks: {TARGET: {from, to}}}.
 *   3. The two directories are exchanged atomically (renameat2 RENAME_EXCHANGE), the
 *      directory fsynced, and X.hf-new (now X's old contents) removed. Where the filesystem
 *      cannot exchange (EINVAL/ENOSYS/EOPNOTSUPP, e.g. some NFS/SMB servers): X -> X.hf-old,
 *      X.hf-new -> X, remove X.hf-old; a crash between the two renames leaves no X for a
 *      moment, never a half one. (HOLDFAST_TEST_NO_RENAME_EXCHANGE in the environment takes
 *      this path everywhere: for tests.)
 * Deletion of a point B (only after the consolidations): B must no longer be a base of any
 * disk of any point in the store (re-read from the manifests), not be leased, not be the
 * newest verified point of its series (host and guest name, drretain.h), and carry a holdfast manifest (format 1, "point" = its name). Then
 * B -> B.hf-deleting (atomic: B is no longer a point), fsync, remove its files.
 * Recovery (drprune_recover, at the start of every retention of the guest): X.hf-new with X
 * present is removed (never swapped, or X's old contents after a swap); X.hf-new without X
 * is put in place when its manifest and checksums verify, else X.hf-old is put back; X.hf-old
 * with X present is removed; X.hf-deleting is removed. Only names POINT-ID.hf-{new,old,
 * deleting} are touched, and only their plain files: a directory inside is not ours and
 * stops the removal with an error.
 * Leases are asked again right before each consolidation and each deletion: a point leased
 * since the plan (or an ancestor of one) is skipped and reported. */
#pragma once

#include <cjson/cJSON.h>
#include <glib.h>

#include "drretain.h"
#include "error.h"
#include "jobs.h"

typedef struct {
	char *root;  /* the store's path */
	char *store; /* its name */
	char *policy;
	char *gdir; /* the guest's directory when known (from the copy), else found by address */
	GTimeZone *tz;
	RetentionRules rules, applied_rules;
	char *rules_hash, *applied_hash;
	bool approved; /* `policy apply` approved rules_hash */
	int prune_limit;
} DrPruneCtx;

DrPruneCtx *drprune_ctx_new(void);
void drprune_ctx_free(void *ctx);

/* The job (params: policy, run, point (the run's copy, may be absent)). Result:
 *   {"store","dir","pruned":[{"point","reason"}],"consolidated":[{"point","reason"}],
 *    "kept":N,"recovered":[{"dir","action"}],"skipped_steps":[..],"applied":bool,
 *    "rules":TEXT,"held":{..}|null} */
int drprune_job(Job *job, HfError *err);

/* What the retention of the guest in gdir (NULL: none yet) would do now under rules (nothing
 * is touched):
 * {"points":N,"pruned":[{"name","reason"}],"consolidated":[{"name","reason"}]}. */
cJSON *drprune_preview(const char *gdir, const char *addr, const RetentionRules *rules,
			GTimeZone *tz, HfError *err);
/* Finish or undo what an interrupted consolidation or deletion left in gdir. */
int drprune_recover(const char *gdir, cJSON *report, HfError *err);
/* Carry out a plan over the manifests `set` was made from: consolidations, then deletions.
 * Appends to res's "pruned", "consolidated" and "skipped_steps" arrays. With a job (may be
 * NULL): progress per step, and a cancel stops between two steps. */
int drprune_apply(Job *job, const char *gdir, GPtrArray *manifests, const DrRetainSet *set,
		  const DrRetainPlan *plan, cJSON *res, HfError *err);
