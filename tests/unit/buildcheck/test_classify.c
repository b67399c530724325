/* Unit tests: the classifier on the false claims of windows-builds.md, contradictions, unknowns,
 * months behind, status and policy. */
#include "bctest.h"

#define NOW "2026-03-01T00:00:00Z"

static void classify_server(int build, int rev, const char *extra, BcVerdict *v)
{
	g_autofree char *e = bct_server(0, build, rev, "ServerStandard", extra);
	bct_classify(e, NOW, v);
}

/* False: "build 6003 requires the ESU licensing package / means ESU". 6003 from April 2019,
 * no licence: 6003, not ESU era, licence not active, no contradiction. */
static void test_6003_is_not_esu(void **state)
{
	BcVerdict v;
	classify_server(6003, 20489, LIC(ESU_Y1, -1), &v);
	assert_int_equal(v.product, BC_PRODUCT_2008_SP2_6003);
	assert_string_equal(v.patch_month, "2019-04");
	assert_int_equal(v.esu_era, BC_TRI_NO);
	assert_int_equal(v.licence_active, BC_TRI_NO);
	assert_string_equal(bct_fact(&v, BC_FACT_ESU_LICENCE), "no");
	assert_int_equal(v.contradictions->len, 0);
	buildcheck_verdict_clear(&v);
}

/* False: "without ESU a patched SP2 stays at 6002". January 2020 (last free month) is 6003 and
 * not ESU era; and the March 19, 2019 preview is already 6003. */
static void test_free_updates_make_6003(void **state)
{
	BcVerdict v;
	classify_server(6003, 20705, LIC(ESU_Y1, 0), &v);
	assert_int_equal(v.product, BC_PRODUCT_2008_SP2_6003);
	assert_string_equal(v.patch_month, "2020-01");
	assert_int_equal(v.esu_era, BC_TRI_NO);
	assert_int_equal(v.contradictions->len, 0);
	buildcheck_verdict_clear(&v);
	classify_server(6003, 20491, "", &v);
	assert_string_equal(v.patch_month, "2019-03");
	assert_true(strstr(v.facts[BC_FACT_PATCH_MONTH].note, "KB4489887") != NULL);
	buildcheck_verdict_clear(&v);
}

/* False: "vistasp2_ldr_escrow identifies 6003". The last 6002 kernel is on that branch. */
static void test_escrow_branch_on_6002(void **state)
{
	BcVerdict v;
	bct_classify("{'sources':[{'source':'registry','major':6,'minor':0,"
		     "'buildlabex':'6002.24566.amd64fre.vistasp2_ldr_escrow.190311-1800',"
		     "'edition-id':'ServerEnterprise'}]}",
		     NOW, &v);
	assert_int_equal(v.product, BC_PRODUCT_2008_SP2_6002);
	assert_int_equal(v.revision, 24566);
	assert_int_equal(v.arch, BC_ARCH_AMD64);
	assert_string_equal(v.patch_month, "2019-03");
	assert_int_equal(v.esu_era, BC_TRI_NO);
	assert_int_equal(v.status, BC_STATUS_CRITICAL);
	assert_true(bct_cited(&v, BC_FACT_BUILD, BC_SRC_REGISTRY, "buildlabex"));
	buildcheck_verdict_clear(&v);
}

/* The April 2019 SSU is not what made 6003, and not enough for ESU. */
static void test_april_ssu_not_enough(void **state)
{
	BcVerdict v;
	classify_server(6003, 20731, ",{'source':'update-list','updates':['KB4493730']}", &v);
	assert_string_equal(bct_fact(&v, BC_FACT_PREREQ_SSU), "missing");
	assert_true(strstr(v.facts[BC_FACT_PREREQ_SSU].note, "KB4493730") != NULL);
	assert_string_equal(bct_fact(&v, BC_FACT_PREREQ_SHA2), "missing");
	assert_true(bct_any(v.reasons, "prereq-sha2"));
	buildcheck_verdict_clear(&v);
}

/* ESU-era revision and licence are two facts: an ESU-era revision without a licence is a
 * contradiction (bypass tool?), with a licence it is not. */
static void test_esu_era_without_licence(void **state)
{
	BcVerdict v;
	classify_server(6003, 21163, LIC(ESU_Y2, 0), &v);
	assert_int_equal(v.esu_era, BC_TRI_YES);
	assert_int_equal(v.licence_active, BC_TRI_NO);
	assert_true(bct_any(v.contradictions, "without an active ESU licence"));
	assert_int_equal(v.status, BC_STATUS_CRITICAL); /* 2021-07 is far behind 2026-02 */
	buildcheck_verdict_clear(&v);
	classify_server(6003, 21163, LIC(ESU_Y2, 1), &v);
	assert_int_equal(v.licence_year, 2);
	assert_int_equal(v.contradictions->len, 0);
	buildcheck_verdict_clear(&v);
	/* licence unknown: no contradiction, but said */
	classify_server(6003, 21163, "", &v);
	assert_int_equal(v.licence_active, BC_TRI_UNKNOWN);
	assert_true(strstr(v.facts[BC_FACT_ESU_LICENCE].note, "licence-query not asked"));
	assert_true(bct_any(v.reasons, "ESU licence state unknown"));
	buildcheck_verdict_clear(&v);
}

static void test_vista_6003(void **state)
{
	BcVerdict v;
	bct_classify("{'sources':[{'source':'hyperv-kvp','major':6,'minor':0,'build':6003,"
		     "'role':'workstation','product-name':'Windows Vista (TM) Business'}]}",
		     NOW, &v);
	assert_int_equal(v.product, BC_PRODUCT_VISTA);
	assert_true(bct_any(v.contradictions, "Vista"));
	assert_int_equal(v.esu_eligible, BC_TRI_NO);
	buildcheck_verdict_clear(&v);
}

static void test_sources_disagree(void **state)
{
	BcVerdict v;
	bct_classify("{'sources':[{'source':'registry','major':6,'minor':0,'build':6003,"
		     "'edition-id':'ServerStandard'},{'source':'hyperv-kvp','major':6,'minor':0,"
		     "'build':6002,'role':'server'}]}",
		     NOW, &v);
	assert_int_equal(v.build, 6003); /* registry is trusted before KVP */
	assert_true(v.facts[BC_FACT_BUILD].conflict);
	assert_true(bct_any(v.contradictions, "registry build 6003, hyperv-kvp build 6002"));
	assert_int_equal(v.facts[BC_FACT_BUILD].cites->len, 2);
	assert_true(v.status >= BC_STATUS_ATTENTION);
	buildcheck_verdict_clear(&v);
}

/* KVP or the agent's osinfo alone: the build, never the revision; say why. */
static void test_unknown_with_reason(void **state)
{
	BcVerdict v;
	bct_classify("{'sources':[{'source':'hyperv-kvp','major':6,'minor':0,'build':6003,"
		     "'role':'server','product-name':'Windows Server (R) 2008 Datacenter'},"
		     "{'source':'file-version','unavailable':'the agent has no guest-exec'}]}",
		     NOW, &v);
	assert_int_equal(v.product, BC_PRODUCT_2008_SP2_6003);
	assert_null(v.facts[BC_FACT_REVISION].value);
	const char *why = v.facts[BC_FACT_REVISION].note;
	assert_true(strstr(why, "hyperv-kvp") && strstr(why, "the agent has no guest-exec") &&
		    strstr(why, "registry not asked"));
	assert_null(v.facts[BC_FACT_PATCH_MONTH].value);
	assert_int_equal(v.months_behind, -1);
	assert_int_equal(v.esu_era, BC_TRI_UNKNOWN);
	assert_int_equal(v.esu_eligible, BC_TRI_YES); /* Datacenter, from the product name */
	assert_true(bct_any(v.reasons, "patch level unknown"));
	buildcheck_verdict_clear(&v);
	/* nothing at all */
	bct_classify("{'sources':[{'source':'agent-osinfo','unavailable':'no guest-get-osinfo'}]}",
		     NOW, &v);
	assert_int_equal(v.product, BC_PRODUCT_UNKNOWN);
	assert_true(strstr(v.facts[BC_FACT_PRODUCT].note, "no guest-get-osinfo") != NULL);
	assert_int_equal(v.status, BC_STATUS_ATTENTION);
	buildcheck_verdict_clear(&v);
	/* 6.0.6003 without anything that tells server from workstation */
	bct_classify("{'sources':[{'source':'ver','major':6,'minor':0,'build':6003}]}", NOW, &v);
	assert_int_equal(v.product, BC_PRODUCT_UNKNOWN);
	assert_true(strstr(v.facts[BC_FACT_PRODUCT].note, "Server 2008 or Vista") != NULL);
	buildcheck_verdict_clear(&v);
}

/* Patch Tuesday decides the newest released month; approximate rows say "at most". */
static void test_months_behind(void **state)
{
	static const struct {
		int rev;
		const char *now;
		int behind;
		bool approx;
	} cases[] = {
	    {21163, "2021-08-09T12:00:00Z", 0, false}, /* before Aug 10, 2021 */
	    {21163, "2021-08-10T12:00:00Z", 1, false}, /* Patch Tuesday */
	    {20705, "2020-03-20T00:00:00Z", 2, false},
	    {21300, "2022-06-20T00:00:00Z", 11, true}, /* 2021-07..2022-04: at most 11 */
	    {23717, "2030-01-01T00:00:00Z", 0, false}, /* nothing after 2026-01 */
	    {22015, "2023-06-20T00:00:00Z", 3, true},  /* L row */
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		BcVerdict v;
		g_autofree char *e = bct_server(0, 6003, cases[i].rev, "ServerStandard", "");
		bct_classify(e, cases[i].now, &v);
		assert_int_equal(v.months_behind, cases[i].behind);
		assert_int_equal(v.facts[BC_FACT_MONTHS_BEHIND].approximate, cases[i].approx);
		buildcheck_verdict_clear(&v);
	}
	/* 6002 without a revision: at least since March 2019 */
	BcVerdict v;
	g_autofree char *e = bct_server(0, 6002, -1, "ServerStandard", "");
	bct_classify(e, "2020-03-20T00:00:00Z", &v);
	assert_int_equal(v.months_behind, 12);
	assert_true(strstr(v.facts[BC_FACT_MONTHS_BEHIND].note, "at least") != NULL);
	assert_int_equal(v.status, BC_STATUS_CRITICAL);
	assert_int_equal(v.esu_era, BC_TRI_NO);
	buildcheck_verdict_clear(&v);
}

/* Fully patched, licensed, prerequisites present: ok. */
static void test_ok(void **state)
{
	BcVerdict v;
	g_autofree char *e =
	    bct_server(0, 6003, 21481, "ServerStandardCore", LIC(ESU_Y3, 1) PREREQS);
	bct_classify(e, "2022-06-20T00:00:00Z", &v);
	assert_int_equal(v.status, BC_STATUS_OK);
	assert_int_equal(v.reasons->len, 0);
	assert_int_equal(v.server_core, BC_TRI_YES);
	assert_true(bct_cited(&v, BC_FACT_SERVER_CORE, BC_SRC_REGISTRY, "edition-id"));
	assert_int_equal(v.esu_eligible, BC_TRI_YES);
	assert_string_equal(bct_fact(&v, BC_FACT_ESU_LICENCE), "year 3");
	assert_string_equal(bct_fact(&v, BC_FACT_PREREQ_ROLLUP), "present");
	assert_string_equal(bct_fact(&v, BC_FACT_PREREQ_LICPREP), "present");
	buildcheck_verdict_clear(&v);
	/* same guest, R2 */
	g_autofree char *r2 = bct_server(1, 7601, 25954, "ServerDatacenter",
					 LIC(ESU_Y3, 1) ",{'source':'update-list','updates':"
							"['KB4474419','KB4538483']}");
	bct_classify(r2, "2022-06-20T00:00:00Z", &v);
	assert_int_equal(v.product, BC_PRODUCT_2008R2_7601);
	assert_int_equal(v.server_core, BC_TRI_NO);
	assert_int_equal(v.esu_era, BC_TRI_YES);
	assert_null(v.facts[BC_FACT_PREREQ_SSU].value); /* no R2 SSU in the table */
	assert_int_equal(v.status, BC_STATUS_OK);
	buildcheck_verdict_clear(&v);
}

/* InstallationType (R2 and later) decides Server Core, from whichever source gave it. */
static void test_installation_type(void **state)
{
	BcVerdict v;
	g_autofree char *e = bct_server(1, 7601, 25661, "ServerEnterprise",
					",{'source':'wmi','installation-type':'Server Core'}");
	bct_classify(e, NOW, &v);
	assert_int_equal(v.server_core, BC_TRI_YES);
	assert_true(bct_cited(&v, BC_FACT_SERVER_CORE, BC_SRC_WMI, "installation-type"));
	buildcheck_verdict_clear(&v);
}

static void test_not_eligible(void **state)
{
	BcVerdict v;
	g_autofree char *web = bct_server(0, 6003, 20731, "ServerWeb", "");
	bct_classify(web, NOW, &v);
	assert_int_equal(v.esu_eligible, BC_TRI_NO);
	assert_string_equal(bct_fact(&v, BC_FACT_EDITION), "ServerWeb");
	buildcheck_verdict_clear(&v);
	bct_classify("{'sources':[{'source':'registry','major':6,'minor':0,'build':6003,"
		     "'edition-id':'ServerEnterprise','arch':'ia64'}]}",
		     NOW, &v);
	assert_int_equal(v.esu_eligible, BC_TRI_NO);
	assert_true(strstr(v.facts[BC_FACT_ESU_ELIGIBLE].note, "IA-64") != NULL);
	buildcheck_verdict_clear(&v);
	/* a licence on a non-eligible edition */
	g_autofree char *lic = bct_server(0, 6003, 20731, "ServerWeb", LIC(ESU_Y1, 1));
	bct_classify(lic, NOW, &v);
	assert_true(bct_any(v.reasons, "not eligible"));
	buildcheck_verdict_clear(&v);
}

/* Unusable evidence is an error, never a crash. */
static void test_bad_buildlabex_in_struct(void **state)
{
	BcEvidence ev;
	BcVerdict v;
	HfError err = {0};
	buildcheck_evidence_init(&ev);
	BcItem *it = buildcheck_evidence_item(&ev, BC_SRC_REGISTRY, 0);
	it->buildlabex = g_strdup("6003.x.amd64fre.b.190320-1700");
	assert_int_equal(buildcheck_classify(&ev, 0, &v, &err), -1);
	assert_string_equal(err.code, HF_ERR_INVALID_PARAMS);
	assert_non_null(strstr(err.message, "registry"));
	buildcheck_verdict_clear(&v);
	buildcheck_evidence_clear(&ev);
}

static void test_policy(void **state)
{
	BcVerdict v;
	BcPolicy p;
	g_autoptr(GPtrArray) reasons = g_ptr_array_new_with_free_func(g_free);
	buildcheck_policy_init(&p);
	p.require_build = 6003;
	p.min_licence_year = 3;
	p.max_patch_age = 3;
	g_autofree char *good = bct_server(0, 6003, 21481, "ServerStandard", LIC(ESU_Y3, 1));
	bct_classify(good, "2022-06-20T00:00:00Z", &v);
	assert_true(buildcheck_policy_check(&p, &v, reasons));
	assert_int_equal(reasons->len, 0);
	p.fail_on = BC_STATUS_ATTENTION; /* prerequisites unknown: attention */
	assert_false(buildcheck_policy_check(&p, &v, reasons));
	assert_true(bct_any(reasons, "verdict attention"));
	buildcheck_verdict_clear(&v);
	buildcheck_policy_init(&p);
	p.require_build = 6003;
	p.min_licence_year = 1;
	p.max_patch_age = 3;
	g_ptr_array_set_size(reasons, 0);
	g_autofree char *old = bct_server(0, 6002, -1, "ServerStandard", "");
	bct_classify(old, NOW, &v);
	assert_false(buildcheck_policy_check(&p, &v, reasons));
	assert_int_equal(reasons->len, 3);
	assert_true(bct_any(reasons, "build 6003 required, found 6002"));
	assert_true(bct_any(reasons, "licence state is unknown"));
	buildcheck_verdict_clear(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_6003_is_not_esu),
	    cmocka_unit_test(test_free_updates_make_6003),
	    cmocka_unit_test(test_escrow_branch_on_6002),
	    cmocka_unit_test(test_april_ssu_not_enough),
	    cmocka_unit_test(test_esu_era_without_licence),
	    cmocka_unit_test(test_vista_6003),
	    cmocka_unit_test(test_sources_disagree),
	    cmocka_unit_test(test_unknown_with_reason),
	    cmocka_unit_test(test_months_behind),
	    cmocka_unit_test(test_ok),
	    cmocka_unit_test(test_installation_type),
	    cmocka_unit_test(test_not_eligible),
	    cmocka_unit_test(test_bad_buildlabex_in_struct),
	    cmocka_unit_test(test_policy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
