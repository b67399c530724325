/* checks.h - build checks of the fleet: the per-guest evidence cache, its background refresh,
 * the bounded parallel fan-out and the check.run / check.classify methods.
 *
 * check.run is a job (design.md: "build check of a fleet" is long work): the request returns
 * the job at once; the job's result is the check document
 *   {"checks":[{"guest":"HOST/NAME","host":..,"name":..,"checked":ISO|null,"age_s":N|null,
 *     "cached":bool,"agent":{"version":..,"missing":[..],"calls":N,"ms":N}|null,
 *     "os":{"windows":bool,"id":..,"name":..}|null,"evidence":{..}|null,"verdict":{..}|null,
 *     "policy":{"pass":bool,"reasons":[..]}|null,"error":{"code":..,"message":..}|null}],
 *    "summary":{"ok":N,"attention":N,"critical":N,"failed":N,"policy_failures":N}}
 * "evidence" is buildcheck_evidence_to_json() (the schema check.classify takes); "verdict" is
 * classified at report time from the cached evidence, so months-behind is always current.
 * "policy" is null when no rule is set (neither in the config nor in the request).
 *
 * The cache (memory + STATE_DIR/checks.json, written atomically) keeps each guest's last
 * evidence with its time. check.run serves cached evidence unless `refresh` is set, the guest
 * was never checked, its last check failed, or (check-interval > 0) it is older than
 * check-interval. The background refresh re-collects guests older than check-interval
 * (0 = only on demand). Collections run on a thread pool, at most check-parallel per host at
 * once across all requests; a guest already being collected is never collected twice: a
 * request waits for that collection instead. Guests that are not running are served from the
 * cache, or reported as agent-unavailable when there is none.
 *
 * The module keeps one instance for the daemon (checks_start / checks_stop in main.c). */
#pragma once

#include <cjson/cJSON.h>

#include "daemon.h"
#include "error.h"

void checks_start(Daemon *d);
/* Stop the refresh timer, drop queued collections, write the cache. */
void checks_stop(void);

/* check.run (main thread): resolve the guests, submit the job; *reply = {"job":J}. */
int checks_submit(Daemon *d, const cJSON *params, cJSON **reply, HfError *err);
/* check.classify (any thread): {"verdict":..,"policy":..|null} for params.evidence. */
cJSON *checks_classify(const HfConfig *cfg, const cJSON *params, HfError *err);
/* Any thread: the cached build-check entry of HOST/GUEST as check.run reports it (checked,
 * age_s, stale, verdict, error; without the evidence), classified now; NULL when the guest was
 * never checked. For DR manifests: the guest's verdict at copy time. */
cJSON *checks_cached(const char *host, const char *guest);
