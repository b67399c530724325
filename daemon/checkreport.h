/* checkreport.h - build-check cache entries and the check document built from them (the JSON
 * side of daemon/checks.c): save/load of one entry, the effective policy of a request, the
 * classification of cached evidence into verdicts, and check.classify. */
#pragma once

#include <cjson/cJSON.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "buildcheck.h"
#include "collect.h"
#include "config.h"
#include "error.h"

typedef struct {
	char *key; /* "host/guest" */
	char *host, *guest;
	int64_t checked;   /* unix seconds of the evidence's collection; 0 = never */
	int64_t attempted; /* unix seconds of the last collection attempt (memory only) */
	cJSON *evidence;   /* buildcheck_evidence_to_json of the last good collection, or NULL */
	cJSON *agent;	 /* collect_info_agent_json; NULL when unknown */
	cJSON *os;	 /* collect_info_os_json; NULL when unknown */
	HfError error;	 /* why the last collection failed (with evidence: a failed refresh,
			  * the older evidence is kept and reported as stale) */
	bool busy;	 /* a collection runs (checks.c) */
	bool cached;	 /* report only: served from the cache */
} CheckEntry;

CheckEntry *checkreport_entry_new(const char *host, const char *guest);
void checkreport_entry_free(CheckEntry *e);
CheckEntry *checkreport_entry_copy(const CheckEntry *e);
/* Record a collection: ev NULL when it failed with err. A failed refresh keeps the last good
 * evidence (and its time); the failure is reported beside it, never instead of it. */
void checkreport_entry_store(CheckEntry *e, int64_t now, const BcEvidence *ev,
			     const CollectInfo *ci, const HfError *err);
/* Mark a copy as "not running, never checked". */
void checkreport_entry_not_running(CheckEntry *e);
/* The state-file form and back (NULL when malformed). */
cJSON *checkreport_entry_save(const CheckEntry *e);
CheckEntry *checkreport_entry_load(const cJSON *o);

/* The request's policy: config defaults (check-require-build, ...) overridden by the params
 * require_build, min_esu_year, max_patch_age, fail_on. */
int checkreport_policy(const HfConfig *cfg, const cJSON *params, BcPolicy *p, HfError *err);
bool checkreport_policy_active(const BcPolicy *p);
/* {"checks":[..],"summary":{..}} for the entries (CheckEntry*), classified at `now`. */
cJSON *checkreport_document(GPtrArray *entries, const BcPolicy *p, int64_t now);
/* check.classify: {"verdict":..,"policy":..|null}; NULL with err on invalid evidence. */
cJSON *checkreport_classify(const cJSON *evidence, const BcPolicy *p, int64_t now, HfError *err);
