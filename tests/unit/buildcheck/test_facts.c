/* Unit tests: every row of the fact table (daemon/buildcheck/facts.c) through the classifier,
 * and revisions at the range boundaries. */
#include "bctest.h"

#define NOW "2026-03-01T00:00:00Z"

static BcProduct server_product(int minor, int build, int rev, BcVerdict *v)
{
	g_autofree char *e = bct_server(minor, build, rev, "ServerStandard", "");
	bct_classify(e, NOW, v);
	return v->product;
}

static void check_month(int minor, int build, int rev, const char *month, bool approx)
{
	BcVerdict v;
	server_product(minor, build, rev, &v);
	if (!month) {
		assert_null(v.facts[BC_FACT_PATCH_MONTH].value);
	} else {
		if (strcmp(bct_fact(&v, BC_FACT_PATCH_MONTH), month) != 0)
			fail_msg("6.%d.%d.%d: patch month %s, expected %s", minor, build, rev,
				 bct_fact(&v, BC_FACT_PATCH_MONTH), month);
		assert_string_equal(v.patch_month, month);
		assert_int_equal(v.facts[BC_FACT_PATCH_MONTH].approximate, approx);
		assert_true(bct_cited(&v, BC_FACT_PATCH_MONTH, BC_SRC_FILE_VERSION, "revision"));
	}
	buildcheck_verdict_clear(&v);
}

/* Each anchor maps to its own month (approximate only for L / L-M rows). */
static void test_revision_rows(void **state)
{
	for (size_t i = 0; i < facts_revisions_len; i++) {
		const FactsRevision *r = &facts_revisions[i];
		assert_non_null(r->src);
		assert_true(facts_month_index(r->month) > 0);
		check_month(r->minor, r->build, r->revision, r->month, facts_conf_weak(r->conf));
	}
}

/* Within a build, anchors rise in revision and month together (the preview excepted), and the
 * first ESU month is where the reference says. */
static void test_table_order(void **state)
{
	for (size_t i = 0; i < facts_revisions_len; i++) {
		const FactsRevision *a = &facts_revisions[i];
		for (size_t j = 0; j < facts_revisions_len && !a->exact_only; j++) {
			const FactsRevision *b = &facts_revisions[j];
			if (b->exact_only || b == a || b->minor != a->minor || b->build != a->build)
				continue;
			assert_int_equal(a->revision < b->revision,
					 facts_month_index(a->month) < facts_month_index(b->month));
			assert_int_not_equal(a->revision, b->revision);
		}
	}
	assert_int_equal(facts_revision_first(0, 6003, "2020-02")->revision, 20731);
	assert_int_equal(facts_revision_first(1, 7601, "2020-02")->revision, 24548);
	assert_null(facts_revision_first(0, 6002, "2019-04"));
	assert_string_equal(facts_date(FACTS_D_ESU_FIRST)->date, "2020-02");
}

/* One below the next anchor still belongs to this row's month; one below the first anchor of
 * a build has no month. */
static void test_revision_boundaries(void **state)
{
	for (size_t i = 0; i < facts_revisions_len; i++) {
		const FactsRevision *r = &facts_revisions[i], *next = NULL;
		if (r->exact_only)
			continue;
		facts_revision_lookup(r->minor, r->build, r->revision, &next);
		if (next && next->revision - 1 != r->revision) {
			bool consecutive =
			    facts_month_index(next->month) - facts_month_index(r->month) == 1;
			int below = next->revision - 1;
			/* the March 2019 preview (20491) sits inside April's range */
			if (below == 20491)
				continue;
			check_month(r->minor, r->build, below, r->month,
				    facts_conf_weak(r->conf) || !consecutive);
		}
		if (facts_revision_first(r->minor, r->build, "0000") == r)
			check_month(r->minor, r->build, r->revision - 1, NULL, false);
	}
	/* between April (20489) and May (20512), next to the preview */
	check_month(0, 6003, 20490, "2019-04", false);
	check_month(0, 6003, 20492, "2019-04", false);
	/* after the last anchor of a build: still its month (the end of its line) */
	check_month(0, 6003, 23800, "2026-01", false);
	/* the last 6002 kernel 24566 (0x5FF6) and 24565 are March 2019 */
	check_month(0, 6002, 24565, "2019-03", false);
	check_month(0, 6002, 24566, "2019-03", false);
}

/* First ESU month: 6.0.6003.20731 and 6.1.7601.24548 (February 2020). */
static void test_esu_era_boundary(void **state)
{
	static const struct {
		int minor, build, rev;
		BcTri era;
	} cases[] = {{0, 6003, 20730, BC_TRI_NO},  {0, 6003, 20731, BC_TRI_YES},
		     {0, 6003, 20705, BC_TRI_NO},  {1, 7601, 24547, BC_TRI_NO},
		     {1, 7601, 24548, BC_TRI_YES}, {0, 6002, 24566, BC_TRI_NO}};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		BcVerdict v;
		server_product(cases[i].minor, cases[i].build, cases[i].rev, &v);
		assert_int_equal(v.esu_era, cases[i].era);
		buildcheck_verdict_clear(&v);
	}
}

static void test_build_rows(void **state)
{
	for (size_t i = 0; i < facts_builds_len; i++) {
		const FactsBuild *b = &facts_builds[i];
		BcVerdict v;
		assert_non_null(b->src);
		assert_int_equal(server_product(b->minor, b->build, -1, &v), b->server);
		assert_int_equal(v.build, b->build);
		assert_int_equal(v.esu_eligible, b->esu_capable ? BC_TRI_YES : BC_TRI_NO);
		if (!b->esu_capable)
			assert_int_equal(v.status, BC_STATUS_CRITICAL); /* RTM: no updates */
		buildcheck_verdict_clear(&v);
		g_autofree char *ws = g_strdup_printf(
		    "{'sources':[{'source':'hyperv-kvp','major':6,'minor':%d,'build':%d,"
		    "'role':'workstation'}]}",
		    b->minor, b->build);
		bct_classify(ws, NOW, &v);
		assert_int_equal(v.product, b->workstation);
		buildcheck_verdict_clear(&v);
		if (b->rev_min > 0) {
			server_product(b->minor, b->build, b->rev_min - 1, &v);
			assert_true(bct_any(v.contradictions, "outside the range"));
			buildcheck_verdict_clear(&v);
		}
		if (b->rev_max > 0) {
			server_product(b->minor, b->build, b->rev_max + 1, &v);
			assert_true(bct_any(v.contradictions, "outside the range"));
			buildcheck_verdict_clear(&v);
		}
	}
}

/* Each prerequisite update is recognised, as "KB..." and as a bare number. */
static void test_kb_rows(void **state)
{
	static const BcFactId kind_fact[] = {BC_FACT_PREREQ_SHA2, BC_FACT_PREREQ_SSU,
					     BC_FACT_PREREQ_LICPREP};
	for (size_t i = 0; i < facts_kbs_len; i++) {
		const FactsKb *k = &facts_kbs[i];
		if (k->kind == FACTS_KB_ROLLUP)
			continue;
		for (int bare = 0; bare < 2; bare++) {
			BcVerdict v;
			int minor = k->minor < 0 ? 0 : k->minor;
			g_autofree char *list = g_strdup_printf(
			    ",{'source':'update-list','updates':['KB1','%s']}", k->kb + 2 * bare);
			g_autofree char *e =
			    bct_server(minor, minor ? 7601 : 6003, minor ? 24548 : 20731,
				       "ServerStandard", list);
			bct_classify(e, NOW, &v);
			const char *want = k->esu_prereq ? "present" : "missing";
			assert_string_equal(bct_fact(&v, kind_fact[k->kind]), want);
			assert_true(
			    bct_cited(&v, kind_fact[k->kind], BC_SRC_UPDATE_LIST, "updates"));
			buildcheck_verdict_clear(&v);
		}
	}
}

static void test_activation_rows(void **state)
{
	for (size_t i = 0; i < facts_activations_len; i++) {
		const FactsActivation *a = &facts_activations[i];
		BcVerdict v;
		g_autofree char *lic = g_strdup_printf(
		    ",{'source':'licence-query','licences':[{'id':'%s','status':1}]}", a->id);
		g_autofree char *e = bct_server(0, 6003, 20731, "ServerStandard", lic);
		bct_classify(e, NOW, &v);
		assert_int_equal(v.licence_active, BC_TRI_YES);
		assert_int_equal(v.licence_year, a->year);
		assert_string_equal(buildcheck_esu_activation_id(a->year), a->id);
		buildcheck_verdict_clear(&v);
	}
	assert_null(buildcheck_esu_activation_id(4)); /* no Microsoft source for year 4 */
}

/* ESU year N covers updates up to its end; newer updates with only year N are flagged. */
static void test_date_rows(void **state)
{
	static const struct {
		const char *id;
		int rev;
		bool flagged;
	} cases[] = {
	    {ESU_Y1, 21026, false}, /* 2021-01: within year 1 (approximately mid-January) */
	    {ESU_Y1, 21045, true},  /* 2021-02 */
	    {ESU_Y2, 21163, false},
	    {ESU_Y3, 21481, false},
	};
	for (int d = 0; d < FACTS_D_COUNT; d++) {
		assert_int_equal(facts_dates[d].id, d);
		assert_true(facts_month_index(facts_dates[d].date) > 0);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		BcVerdict v;
		g_autofree char *lic = g_strdup_printf(
		    ",{'source':'licence-query','licences':[{'id':'%s','status':1}]}", cases[i].id);
		g_autofree char *e = bct_server(0, 6003, cases[i].rev, "ServerStandard", lic);
		bct_classify(e, NOW, &v);
		assert_int_equal(bct_any(v.contradictions, "newer than ESU year"),
				 cases[i].flagged);
		buildcheck_verdict_clear(&v);
	}
}

static void test_edition_rows(void **state)
{
	for (size_t i = 0; i < facts_editions_len; i++) {
		const FactsEdition *e = &facts_editions[i];
		BcVerdict v;
		assert_ptr_equal(facts_edition_lookup(e->by_name ? NULL : e->match,
						      e->by_name ? e->match : NULL),
				 e);
		g_autofree char *ev =
		    e->by_name ? g_strdup_printf("{'sources':[{'source':'hyperv-kvp','major':6,"
						 "'minor':0,'build':6003,'role':'server',"
						 "'product-name':'Windows %s 2008'}]}",
						 e->match)
			       : bct_server(0, 6003, -1, e->match, "");
		bct_classify(ev, NOW, &v);
		assert_int_equal(v.esu_eligible, e->eligible ? BC_TRI_YES : BC_TRI_NO);
		if (!e->by_name)
			assert_int_equal(v.server_core, e->core);
		buildcheck_verdict_clear(&v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_revision_rows),	cmocka_unit_test(test_table_order),
	    cmocka_unit_test(test_revision_boundaries), cmocka_unit_test(test_esu_era_boundary),
	    cmocka_unit_test(test_build_rows),		cmocka_unit_test(test_kb_rows),
	    cmocka_unit_test(test_activation_rows),	cmocka_unit_test(test_date_rows),
	    cmocka_unit_test(test_edition_rows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
