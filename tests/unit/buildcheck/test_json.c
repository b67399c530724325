/* Unit tests: evidence JSON both ways (round trip, strictness, hostile input), the verdict's
 * JSON (every fact with its evidence) and the policy's JSON. */
#include "bctest.h"

static const char full[] =
    "{'sources':[{'source':'file-version','collected-at':'2024-05-01T10:00:00Z','major':6,"
    "'minor':0,'build':6003,'revision':21481},"
    "{'source':'registry','collected-at':'2024-05-01T10:00:01Z','major':6,'minor':0,"
    "'build':6003,'service-pack':2,'role':'server','arch':'amd64',"
    "'product-name':'Windows Server (R) 2008 Standard','edition-id':'ServerStandard',"
    "'csd-version':'Service Pack 2','buildlab':'6003.vistasp2_ldr_escrow.220406-1700',"
    "'buildlabex':'6003.21481.amd64fre.vistasp2_ldr_escrow.220406-1700'},"
    "{'source':'agent-osinfo','os-version-id':'2008','build':6003},"
    "{'source':'hyperv-kvp','unavailable':'guest runs on KVM'},"
    "{'source':'update-list','updates':['KB4474419','{A0B1C2D3-E4F5-4711-8899-AABBCCDDEEFF}']},"
    "{'source':'licence-query','licences':[{'id':'" ESU_Y3 "','status':1},"
    "{'id':'" ESU_Y1 "','status':-1}]}]}";

static void test_round_trip(void **state)
{
	BcEvidence ev, ev2;
	HfError err = {0};
	bct_load(full, &ev);
	assert_int_equal(ev.items[BC_SRC_REGISTRY].role, BC_ROLE_SERVER);
	assert_int_equal(ev.items[BC_SRC_FILE_VERSION].collected_at, 1714557600);
	assert_string_equal(ev.items[BC_SRC_HYPERV_KVP].unavailable, "guest runs on KVM");
	cJSON *out = buildcheck_evidence_to_json(&ev);
	assert_int_equal(buildcheck_evidence_from_json(out, &ev2, &err), 0);
	cJSON *out2 = buildcheck_evidence_to_json(&ev2);
	assert_true(cJSON_Compare(out, out2, true));
	g_autoptr(BcJson) expect = bct_json(full);
	assert_true(cJSON_Compare(out, expect, true)); /* same order of sources and keys */
	cJSON_Delete(out);
	cJSON_Delete(out2);
	buildcheck_evidence_clear(&ev);
	buildcheck_evidence_clear(&ev2);
}

/* OEM bytes from a guest become valid UTF-8 in JSON. */
static void test_oem_bytes(void **state)
{
	BcEvidence ev;
	buildcheck_evidence_init(&ev);
	BcItem *it = buildcheck_evidence_item(&ev, BC_SRC_SYSTEMINFO, 0);
	it->product_name = g_strdup("Microsoft\xae Windows Server\xae 2008");
	cJSON *j = buildcheck_evidence_to_json(&ev);
	char *s = cJSON_PrintUnformatted(j);
	assert_true(g_utf8_validate(s, -1, NULL));
	free(s);
	cJSON_Delete(j);
	buildcheck_evidence_clear(&ev);
}

static void test_rejects(void **state)
{
	static const struct {
		const char *json, *msg;
	} bad[] = {
	    {"[]", "sources"},
	    {"{'sources':{}}", "sources"},
	    {"{'sources':[1]}", "not an object"},
	    {"{'sources':[{'major':6}]}", "source"},
	    {"{'sources':[{'source':'registy'}]}", "source"},
	    {"{'sources':[{'source':'ver','build':'6003'}]}", "sources[0].build"},
	    {"{'sources':[{'source':'ver','build':6003.5}]}", "integer"},
	    {"{'sources':[{'source':'ver','build':-1}]}", "integer"},
	    {"{'sources':[{'source':'ver','build':1e300}]}", "integer"},
	    {"{'sources':[{'source':'ver','revision':70000}]}", "0-65535"},
	    {"{'sources':[{'source':'ver'},{'source':'registry'},{'source':'ver'}]}", "twice"},
	    {"{'sources':[{'source':'ver','bulid':6003}]}", "unknown key"},
	    {"{'sources':[{'source':'ver','arch':'arm64'}]}", "x86, amd64 or ia64"},
	    {"{'sources':[{'source':'ver','role':3}]}", "workstation"},
	    {"{'sources':[{'source':'ver','product-name':7}]}", "a string"},
	    {"{'sources':[{'source':'ver','product-name':'a\\u0001b'}]}", "control byte"},
	    {"{'sources':[{'source':'ver','collected-at':'yesterday'}]}", "collected-at"},
	    {"{'sources':[{'source':'ver','updates':'KB1'}]}", "updates"},
	    {"{'sources':[{'source':'ver','updates':[1]}]}", "updates"},
	    {"{'sources':[{'source':'ver','licences':[{'id':'x'}]}]}", "licences"},
	    {"{'sources':[{'source':'ver','licences':[{'id':'" ESU_Y1 "','status':7}]}]}",
	     "licences.status"},
	    {"{'sources':[{'source':'ver','licences':[{'id':'zz','status':1}]}]}", "GUID"},
	    {"{'sources':[{'source':'registry','buildlabex':'6003.20489'}]}", "BuildLabEx"},
	    {"{'sources':[{'source':'registry','buildlab':'6003.20489.x86fre.a.190320-1700'}]}",
	     "BuildLab"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		BcEvidence ev;
		HfError err = {0};
		g_autoptr(BcJson) j = bct_json(bad[i].json);
		if (buildcheck_evidence_from_json(j, &ev, &err) != -1)
			fail_msg("accepted: %s", bad[i].json);
		if (strcmp(err.code, HF_ERR_INVALID_PARAMS) || !strstr(err.message, bad[i].msg))
			fail_msg("%s: got '%s'", bad[i].json, err.message);
		/* nothing leaks or stays behind on failure */
		for (int s = 0; s < BC_SRC_COUNT; s++)
			assert_false(ev.items[s].present);
	}
}

static void test_huge(void **state)
{
	BcEvidence ev;
	HfError err = {0};
	g_autofree char *huge = g_strnfill(1 << 20, 'A');
	g_autoptr(BcJson) j = bct_json("{'sources':[{'source':'registry'}]}");
	cJSON_AddStringToObject(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "sources"), 0),
				"product-name", huge);
	assert_int_equal(buildcheck_evidence_from_json(j, &ev, &err), -1);
	assert_non_null(strstr(err.message, "limit"));
	g_autoptr(BcJson) many = bct_json("{'sources':[{'source':'update-list','updates':[]}]}");
	cJSON *arr = cJSON_GetObjectItem(
	    cJSON_GetArrayItem(cJSON_GetObjectItem(many, "sources"), 0), "updates");
	for (int i = 0; i <= BC_UPDATES_MAX; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString("KB1"));
	error_clear(&err);
	assert_int_equal(buildcheck_evidence_from_json(many, &ev, &err), -1);
	assert_non_null(strstr(err.message, "more than"));
}

static void test_verdict_json(void **state)
{
	BcVerdict v;
	bct_classify(full, "2024-05-20T00:00:00Z", &v);
	g_autoptr(BcJson) j = buildcheck_verdict_to_json(&v);
	cJSON *facts = cJSON_GetObjectItem(j, "facts");
	assert_int_equal(cJSON_GetArraySize(facts), BC_FACT_COUNT);
	assert_string_equal(cJSON_GetObjectItem(j, "product")->valuestring, "server2008-sp2-6003");
	cJSON *pm = cJSON_GetObjectItem(facts, "patch-month");
	assert_string_equal(cJSON_GetObjectItem(pm, "value")->valuestring, "2022-05");
	/* the revision came from the file version and from BuildLabEx */
	cJSON *rev = cJSON_GetObjectItem(cJSON_GetObjectItem(facts, "revision"), "evidence");
	assert_int_equal(cJSON_GetArraySize(rev), 2);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(rev, 1), "field")->valuestring,
			    "buildlabex");
	cJSON *lic = cJSON_GetObjectItem(facts, "esu-licence-active");
	assert_string_equal(cJSON_GetObjectItem(lic, "value")->valuestring, "year 3");
	cJSON *ssu = cJSON_GetObjectItem(facts, "prereq-servicing-stack");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(ssu, "value")) == false);
	assert_string_equal(cJSON_GetObjectItem(ssu, "value")->valuestring, "missing");
	cJSON *old = cJSON_GetObjectItem(facts, "oldest-evidence");
	assert_string_equal(cJSON_GetObjectItem(old, "value")->valuestring, "1714557600");
	/* an unknown fact carries its reason */
	buildcheck_verdict_clear(&v);
	bct_classify("{'sources':[]}", "2024-05-20T00:00:00Z", &v);
	g_autoptr(BcJson) u = buildcheck_verdict_to_json(&v);
	cJSON *b = cJSON_GetObjectItem(cJSON_GetObjectItem(u, "facts"), "build");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(b, "value")));
	assert_non_null(
	    strstr(cJSON_GetObjectItem(b, "unknown")->valuestring, "registry not asked"));
	assert_string_equal(cJSON_GetObjectItem(u, "status")->valuestring, "attention");
	buildcheck_verdict_clear(&v);
}

static void test_policy_json(void **state)
{
	BcPolicy p;
	HfError err = {0};
	g_autoptr(BcJson) ok = bct_json("{'require-build':6003,'min-esu-licence-year':3,"
					"'max-patch-age-months':2,'fail-on':'critical'}");
	assert_int_equal(buildcheck_policy_from_json(ok, &p, &err), 0);
	assert_int_equal(p.require_build, 6003);
	assert_int_equal(p.min_licence_year, 3);
	assert_int_equal(p.max_patch_age, 2);
	assert_int_equal(p.fail_on, BC_STATUS_CRITICAL);
	static const char *const bad[] = {"{'require-build':'6003'}", "{'min-esu-licence-year':4}",
					  "{'fail-on':'ok'}", "{'max-age':1}", "[]"};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(BcJson) j = bct_json(bad[i]);
		error_clear(&err);
		assert_int_equal(buildcheck_policy_from_json(j, &p, &err), -1);
		assert_string_equal(err.code, HF_ERR_INVALID_PARAMS);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),	 cmocka_unit_test(test_oem_bytes),
	    cmocka_unit_test(test_rejects),	 cmocka_unit_test(test_huge),
	    cmocka_unit_test(test_verdict_json), cmocka_unit_test(test_policy_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
