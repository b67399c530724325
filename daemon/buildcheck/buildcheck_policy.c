/* buildcheck_policy.c - does a verdict pass the configured policy? (CLI exit status) */
#include "buildcheck.h"

#include <string.h>

void buildcheck_policy_init(BcPolicy *p)
{
	*p = (BcPolicy){
	    .require_build = 0, .min_licence_year = 0, .max_patch_age = -1, .fail_on = -1};
}

static int policy_int(const cJSON *j, const char *key, int min, int max, int *dst, HfError *err)
{
	if (!cJSON_IsNumber(j) || !(j->valuedouble >= min && j->valuedouble <= max) ||
	    j->valuedouble != (int)j->valuedouble)
		return error_set(err, HF_ERR_INVALID_PARAMS, "policy %s: expected an integer %d-%d",
				 key, min, max);
	*dst = (int)j->valuedouble;
	return 0;
}

int buildcheck_policy_from_json(const cJSON *json, BcPolicy *p, HfError *err)
{
	const cJSON *j;
	buildcheck_policy_init(p);
	if (!cJSON_IsObject(json))
		return error_set(err, HF_ERR_INVALID_PARAMS, "policy: expected an object");
	cJSON_ArrayForEach(j, json)
	{
		int rc;
		if (strcmp(j->string, "require-build") == 0) {
			rc = policy_int(j, j->string, 0, 65535, &p->require_build, err);
		} else if (strcmp(j->string, "min-esu-licence-year") == 0) {
			rc = policy_int(j, j->string, 0, 3, &p->min_licence_year, err);
		} else if (strcmp(j->string, "max-patch-age-months") == 0) {
			rc = policy_int(j, j->string, 0, 1200, &p->max_patch_age, err);
		} else if (strcmp(j->string, "fail-on") == 0) {
			rc = -1;
			for (BcStatus s = BC_STATUS_ATTENTION; s <= BC_STATUS_CRITICAL; s++)
				if (cJSON_IsString(j) &&
				    strcmp(j->valuestring, buildcheck_status_name(s)) == 0) {
					p->fail_on = (int)s;
					rc = 0;
				}
			if (rc < 0)
				error_set(err, HF_ERR_INVALID_PARAMS,
					  "policy fail-on: expected \"attention\" or \"critical\"");
		} else {
			rc = error_set(err, HF_ERR_INVALID_PARAMS, "policy: unknown key '%.40s'",
				       j->string);
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

bool buildcheck_policy_check(const BcPolicy *p, const BcVerdict *v, GPtrArray *reasons)
{
	guint before = reasons->len;
	if (p->require_build > 0 && v->build != p->require_build)
		g_ptr_array_add(reasons, v->build < 0
					     ? g_strdup_printf("build %d required, the "
							       "build is unknown",
							       p->require_build)
					     : g_strdup_printf("build %d required, found %d",
							       p->require_build, v->build));
	if (p->min_licence_year > 0 && v->licence_year < p->min_licence_year) {
		g_autofree char *found =
		    v->licence_active == BC_TRI_UNKNOWN ? g_strdup("the licence state is unknown")
		    : v->licence_year ? g_strdup_printf("found year %d", v->licence_year)
				      : g_strdup("found none");
		g_ptr_array_add(reasons,
				g_strdup_printf("an active ESU licence of year %d or later "
						"required, %s",
						p->min_licence_year, found));
	}
	if (p->max_patch_age >= 0 && (v->months_behind < 0 || v->months_behind > p->max_patch_age))
		g_ptr_array_add(reasons, v->months_behind < 0
					     ? g_strdup_printf("patches at most %d months behind "
							       "required, the patch age is unknown",
							       p->max_patch_age)
					     : g_strdup_printf("patches at most %d months behind "
							       "required, found %d",
							       p->max_patch_age, v->months_behind));
	if (p->fail_on >= 0 && (int)v->status >= p->fail_on)
		g_ptr_array_add(reasons,
				g_strdup_printf("verdict %s (policy fails on %s)",
						buildcheck_status_name(v->status),
						buildcheck_status_name((BcStatus)p->fail_on)));
	return reasons->len == before;
}
