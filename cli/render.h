/* render.h - how each method's result looks to a person (tables, key: value). Methods without
 * a renderer of their own get the generic key: value printer, so new methods work unchanged.
 * `out` is for stdout, `warn` for stderr (notes such as unreachable hosts). */
#pragma once

#include <cjson/cJSON.h>
#include <glib.h>

#include "methods.h"

/* Field access for the renderers (render.c, rendercheck.c): NULL / dflt when absent. */
static inline const char *str(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static inline const char *strd(const cJSON *o, const char *key, const char *dflt)
{
	const char *s = str(o, key);
	return s ? s : dflt;
}

static inline double num(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

void render_result(const HfMethod *m, const cJSON *result, GString *out, GString *warn);

void render_version(const cJSON *r, GString *out);
void render_guests(const cJSON *r, GString *out, GString *warn);
void render_guest(const cJSON *r, GString *out);
void render_snapshots(const cJSON *r, GString *out);
void render_jobs(const cJSON *r, GString *out);
/* One job (J) as key: value. */
void render_job(const cJSON *job, GString *out);
/* What a finished, succeeded job did ("created snapshot ... consistency ..."). */
void render_job_outcome(const cJSON *job, GString *out, GString *warn);
/* One-line summary of a job for messages: "job 7 (snapshot.create of demo/w2k8-dc01)". */
char *render_job_label(const cJSON *job);
/* The progress line while following a job (no newline): state, percent, message, elapsed. */
char *render_progress(const cJSON *job, double elapsed_s);
/* "2008", "2008 R2" or "other" from a guest's "os" object. */
const char *render_os_short(const cJSON *os);
/* check.run's document (checks.h): a table (GUEST, PRODUCT, BUILD.REVISION, PATCH MONTH,
 * BEHIND, ESU ERA, LICENCE, VERDICT, [POLICY,] AGE), then each guest's reasons, then a summary;
 * or RFC 4180 CSV with a header row (CRLF line ends). */
void render_check(const cJSON *doc, GString *out, GString *warn);
void render_check_csv(const cJSON *doc, GString *out);
/* 0 when every guest was checked and passes the policy, else 1 (HF_EXIT_FAILED). */
int render_check_exit(const cJSON *doc);
/* check.classify's {"verdict":..,"policy":..}: facts with their evidence. */
void render_classify(const cJSON *r, GString *out);
/* renderdr.c: dr list / dr status tables; dr verify and dr test job outcomes (false: not a
 * DR job this file renders). */
void renderdr_list(const cJSON *r, GString *out, GString *warn);
void renderdr_status(const cJSON *r, GString *out, GString *warn);
bool renderdr_outcome(const cJSON *job, GString *out, GString *warn);
/* renderfo.c: the outcomes of dr restore and dr failover jobs (their results); the steps of
 * a failover (also printed when it failed). */
void renderfo_restore(const cJSON *res, GString *out, GString *warn);
void renderfo_failover(const cJSON *res, GString *out, GString *warn);
void renderfo_steps(const cJSON *res, GString *out);
/* "1m05s", "3s", "2h01m". */
char *render_duration(double seconds);
