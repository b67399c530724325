/* Unit tests: wmic output through a pipe ("\r\r\n" line ends, padded alphabetical columns,
 * /value form, NUL bytes, the first-run line, "No Instance(s) Available.", errors). */
#include "bctest.h"

#define S(lit) lit, sizeof(lit) - 1
#define E "\r\r\n"

typedef int (*Parser)(const char *, size_t, BcItem *, HfError *);

static int run(Parser p, const char *buf, size_t len, BcEvidence *ev, HfError *err)
{
	buildcheck_evidence_init(ev);
	return p(buf, len, buildcheck_evidence_item(ev, BC_SRC_WMI, 1), err);
}

static void expect_error(Parser p, const char *buf, size_t len, const char *code, const char *msg)
{
	BcEvidence ev;
	HfError err = {0};
	assert_int_equal(run(p, buf, len, &ev, &err), -1);
	if (strcmp(err.code, code) != 0 || !strstr(err.message, msg))
		fail_msg("expected %s '%s', got %s '%s'", code, msg, err.code, err.message);
	buildcheck_evidence_clear(&ev);
}

static void check_os(const char *buf, size_t len)
{
	BcEvidence ev;
	HfError err = {0};
	assert_int_equal(run(bcwmic_os, buf, len, &ev, &err), 0);
	const BcItem *it = &ev.items[BC_SRC_WMI];
	assert_int_equal(it->major, 6);
	assert_int_equal(it->minor, 0);
	assert_int_equal(it->build, 6003);
	assert_int_equal(it->service_pack, 2);
	assert_string_equal(it->csd_version, "Service Pack 2");
	assert_int_equal(it->role, BC_ROLE_SERVER);
	assert_int_equal(it->arch, BC_ARCH_AMD64);
	buildcheck_evidence_clear(&ev);
}

static void test_os_forms(void **state)
{
	check_os(
	    S("BuildNumber  CSDVersion      OSArchitecture  ProductType  ServicePackMajorVersion  "
	      "Version   " E "6003         Service Pack 2  64-bit          3            2       "
	      "                 6.0.6003  " E E));
	check_os(S(E E "BuildNumber=6003" E "CSDVersion=Service Pack 2" E "OSArchitecture=64-bit" E
		       "ProductType=3" E "ServicePackMajorVersion=2" E "Version=6.0.6003" E E E E));
	/* first-run line and NUL bytes are tolerated */
	check_os(S("Please wait while WMIC is being installed." E E E "Build\0Number=6003" E
		   "CSDVersion=Service Pack 2" E "OSArchitecture=64-bit\0" E "ProductType=3" E
		   "ServicePackMajorVersion=2" E "Version=6.0.6003" E E E E));
}

static void test_os_errors(void **state)
{
	expect_error(bcwmic_os, S(E E "BuildNumber=6002" E "Version=6.0.6003" E E E E),
		     HF_ERR_INVALID_PARAMS, "BuildNumber");
	expect_error(bcwmic_os, S(E E "BuildNumber=60x3" E "Version=6.0.6003" E E E E),
		     HF_ERR_INVALID_PARAMS, "BuildNumber");
	expect_error(bcwmic_os, S(E E "BuildNumber=6003" E E E E), HF_ERR_INVALID_PARAMS,
		     "no Version");
	expect_error(bcwmic_os, S("No Instance(s) Available." E), HF_ERR_NOT_FOUND, "instances");
	expect_error(bcwmic_os, S("Node - WIN2008" E "ERROR:" E "Description = Invalid query" E),
		     HF_ERR_FAILED, "wmic reported an error");
	/* a value running into the next column */
	expect_error(bcwmic_os, S("BuildNumber  Version   " E "6003xxxxxxxxx6.0.6003  " E),
		     HF_ERR_INVALID_PARAMS, "runs into column");
	expect_error(bcwmic_os, S(E E "BuildNumber=6003" E "garbage" E), HF_ERR_INVALID_PARAMS,
		     "Name=Value");
	g_autofree char *huge = g_strnfill(100000, 'x');
	g_autofree char *out = g_strconcat("Version=6.0.6003" E "CSDVersion=", huge, E, NULL);
	expect_error(bcwmic_os, out, strlen(out), HF_ERR_INVALID_PARAMS, "over");
	expect_error(bcwmic_os, out, BC_OUTPUT_MAX + 1u, HF_ERR_INVALID_PARAMS, "limit");
}

static void test_qfe(void **state)
{
	BcEvidence ev;
	HfError err = {0};
	assert_int_equal(run(bcwmic_qfe,
			     S("HotFixID                                " E
			       "KB956250                                " E
			       "{A0B1C2D3-E4F5-4711-8899-AABBCCDDEEFF}  " E
			       "982018                                  " E
			       "KB4474419                               " E E),
			     &ev, &err),
			 0);
	const GPtrArray *u = ev.items[BC_SRC_WMI].updates;
	assert_int_equal(u->len, 4);
	assert_string_equal(u->pdata[1], "{A0B1C2D3-E4F5-4711-8899-AABBCCDDEEFF}");
	assert_string_equal(u->pdata[2], "982018");
	assert_string_equal(u->pdata[3], "KB4474419");
	buildcheck_evidence_clear(&ev);
	assert_int_equal(run(bcwmic_qfe, S("No Instance(s) Available." E), &ev, &err), 0);
	assert_int_equal(ev.items[BC_SRC_WMI].updates->len, 0);
	buildcheck_evidence_clear(&ev);
	expect_error(bcwmic_qfe, S("Caption  " E "x        " E), HF_ERR_INVALID_PARAMS, "HotFixID");
	/* more updates than the limit */
	GString *many = g_string_new("HotFixID   " E);
	for (int i = 0; i <= BC_UPDATES_MAX; i++)
		g_string_append_printf(many, "KB%07d  " E, i);
	expect_error(bcwmic_qfe, many->str, many->len, HF_ERR_INVALID_PARAMS, "more than");
	g_string_free(many, TRUE);
}

static void test_datafile(void **state)
{
	BcEvidence ev;
	HfError err = {0};
	assert_int_equal(run(bcwmic_datafile, S(E E "Version=6.0.6003.20705" E E E E), &ev, &err),
			 0);
	assert_int_equal(ev.items[BC_SRC_WMI].build, 6003);
	assert_int_equal(ev.items[BC_SRC_WMI].revision, 20705);
	buildcheck_evidence_clear(&ev);
	expect_error(bcwmic_datafile, S(E E "Version=6.0.6003" E E E E), HF_ERR_INVALID_PARAMS,
		     "not a version");
	expect_error(bcwmic_datafile, S(E E "Version=6.0.6003.2070S" E E E E),
		     HF_ERR_INVALID_PARAMS, "not a version");
	expect_error(bcwmic_datafile, S("No Instance(s) Available." E), HF_ERR_NOT_FOUND,
		     "not found");
}

static void test_licence(void **state)
{
	BcEvidence ev;
	HfError err = {0};
	buildcheck_evidence_init(&ev);
	BcItem *it = buildcheck_evidence_item(&ev, BC_SRC_LICENCE_QUERY, 1);
	assert_int_equal(
	    bcwmic_licence(S(E E "ID=" ESU_Y3 E "LicenseStatus=1" E E E E), ESU_Y3, it, &err), 0);
	assert_int_equal(bcwmic_licence(S("No Instance(s) Available." E), ESU_Y2, it, &err), 0);
	assert_int_equal(
	    bcwmic_licence(S("LicenseStatus  " E "6              " E), ESU_Y1, it, &err), 0);
	assert_int_equal(it->licences->len, 3);
	assert_int_equal(g_array_index(it->licences, BcLicence, 0).status, 1);
	assert_int_equal(g_array_index(it->licences, BcLicence, 1).status, BC_LIC_NOT_INSTALLED);
	assert_string_equal(g_array_index(it->licences, BcLicence, 1).id, ESU_Y2);
	assert_int_equal(g_array_index(it->licences, BcLicence, 2).status, 6);
	BcVerdict v;
	assert_int_equal(buildcheck_classify(&ev, 1700000000, &v, &err), 0);
	assert_int_equal(v.licence_year, 3);
	assert_int_equal(v.facts[BC_FACT_ESU_LICENCE].cites->len, 3);
	buildcheck_verdict_clear(&v);
	buildcheck_evidence_clear(&ev);

	/* several instances, ids from the output */
	it = buildcheck_evidence_item(&ev, BC_SRC_LICENCE_QUERY, 1);
	assert_int_equal(
	    bcwmic_licence(S("ID                                    LicenseStatus  " E
			     "553673ed-6ddf-419c-a153-b760283472fd  0              " E
			     "16c08c85-0c8b-4009-9b2b-f1f7319e45f9  1              " E E),
			   NULL, it, &err),
	    0);
	assert_int_equal(it->licences->len, 2);
	assert_int_equal(g_array_index(it->licences, BcLicence, 1).status, 1);
	assert_int_equal(bcwmic_licence(S(E E "LicenseStatus=9" E E), ESU_Y1, it, &err), -1);
	assert_non_null(strstr(err.message, "0-6"));
	error_clear(&err);
	assert_int_equal(bcwmic_licence(S(E E "LicenseStatus=1" E E), NULL, it, &err), -1);
	buildcheck_evidence_clear(&ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_os_forms), cmocka_unit_test(test_os_errors),
	    cmocka_unit_test(test_qfe),	     cmocka_unit_test(test_datafile),
	    cmocka_unit_test(test_licence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
