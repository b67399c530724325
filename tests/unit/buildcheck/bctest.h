/* bctest.h - helpers for the buildcheck unit tests: evidence from compact JSON, verdict lookups.
 * Evidence is written with single quotes ('source':'registry') to keep the tests readable. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "bcutil.h" /* BcJson: g_autoptr for cJSON */
#include "buildcheck.h"
#include "facts.h"
#include "timefmt.h"

static inline cJSON *bct_json(const char *sq)
{
	g_autofree char *s = g_strdup(sq);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	cJSON *j = cJSON_Parse(s);
	if (!j)
		fail_msg("test JSON does not parse: %s", s);
	return j;
}

/* Evidence from single-quoted JSON; fails the test when it does not load. */
static inline void bct_load(const char *sq, BcEvidence *ev)
{
	HfError err = {0};
	cJSON *j = bct_json(sq);
	int rc = buildcheck_evidence_from_json(j, ev, &err);
	cJSON_Delete(j);
	if (rc < 0)
		fail_msg("evidence does not load: %s: %s", err.code, err.message);
}

static inline void bct_classify(const char *sq, const char *now, BcVerdict *v)
{
	BcEvidence ev;
	HfError err = {0};
	bct_load(sq, &ev);
	int rc = buildcheck_classify(&ev, (time_t)timefmt_parse(now), v, &err);
	buildcheck_evidence_clear(&ev);
	if (rc < 0)
		fail_msg("classify failed: %s", err.message);
}

/* A Server 2008 (R2 when minor is 1) guest: registry with EditionID, file version with the
 * revision (-1: no file-version source), plus extra sources (",{...}" or ""). */
static inline char *bct_server(int minor, int build, int revision, const char *edition,
			       const char *extra)
{
	g_autofree char *file =
	    revision < 0 ? g_strdup("")
			 : g_strdup_printf(",{'source':'file-version','major':6,'minor':%d,"
					   "'build':%d,'revision':%d}",
					   minor, build, revision);
	return g_strdup_printf("{'sources':[{'source':'registry','major':6,'minor':%d,"
			       "'build':%d,'edition-id':'%s','arch':'amd64'}%s%s]}",
			       minor, build, edition, file, extra);
}

static inline const char *bct_fact(const BcVerdict *v, BcFactId f)
{
	return v->facts[f].value ? v->facts[f].value : "(unknown)";
}

static inline bool bct_any(const GPtrArray *a, const char *needle)
{
	for (guint i = 0; i < a->len; i++)
		if (strstr(a->pdata[i], needle))
			return true;
	return false;
}

static inline bool bct_cited(const BcVerdict *v, BcFactId f, BcSource s, const char *field)
{
	const GArray *c = v->facts[f].cites;
	for (guint i = 0; i < c->len; i++) {
		const BcCite *x = &g_array_index(c, BcCite, i);
		if (x->source == s && strcmp(x->field, field) == 0)
			return true;
	}
	return false;
}

#define ESU_Y1 "553673ed-6ddf-419c-a153-b760283472fd"
#define ESU_Y2 "04fa0286-fa74-401e-bbe9-fbfbb158010d"
#define ESU_Y3 "16c08c85-0c8b-4009-9b2b-f1f7319e45f9"
#define LIC(id, st) ",{'source':'licence-query','licences':[{'id':'" id "','status':" #st "}]}"
#define PREREQS ",{'source':'update-list','updates':['KB4474419','KB4550737','KB4575904']}"
