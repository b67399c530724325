/* scheddr.h - the guests of a dr-copy policy run (scheduler.h).
 *
 * Each guest of the run gets two jobs, one after the other, through the same per-host limits,
 * max-concurrent, stagger, retries and journal as snapshot runs:
 *   1. "dr.copy" (drapi.h, the job of `holdfast dr copy`) into the policy's store: full when
 *      the guest has no point there or full-every copies were made since the last full
 *      (counted from the store: drretain_next_full), else incremental (the copy itself still
 *      goes full when the chain cannot go on, and says why). The real time the copy was
 *      submitted is journalled ("mark"): after a crash, a point of the guest made since then
 *      means the copy is done and is not taken twice.
 *   2. "policy.drretain" (drprune.h): the keep-* rules on the guest's restore points, chain
 *      aware, with consolidation; held-back rule changes (prune-limit) as for snapshots.
 * A `policy apply` run (prune only) runs step 2 alone. A guest whose copy fails is retried
 * and reported like a failed snapshot; the other guests go on. The guest's result:
 *   {"point","kind","full_reason","stored","pruned":[{"point","reason"}],
 *    "consolidated":[{"point","reason"}],"kept":N,"held":{..}?,"skipped_steps":[..]?,
 *    "recovered":[..]?}
 * Main thread only. */
#pragma once

#include "scheduler.h"

/* Submit the guest's next job (the copy or the retention); NULL with *why when it cannot. */
Job *scheddr_submit(Run *r, RunGuest *g, Host *h, char **why);
/* A job of the guest succeeded: true when that was the copy (the retention comes next). */
bool scheddr_succeeded(RunGuest *g, const cJSON *res);
