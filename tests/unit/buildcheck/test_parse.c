/* Unit tests: BuildLab(Ex), reg query, ver, systeminfo, slmgr /dli, osinfo and KVP parsers on
 * output as Windows Server 2008 prints it through qemu-ga, and on malformed / hostile input. */
#include "bctest.h"

#define S(lit) lit, sizeof(lit) - 1

static BcItem *fresh(BcEvidence *ev, BcSource s)
{
	buildcheck_evidence_init(ev);
	return buildcheck_evidence_item(ev, s, 1);
}

/* Parse with a fresh item; expect code (NULL = success). */
typedef int (*Parser)(const char *, size_t, BcItem *, HfError *);
static void expect(Parser p, const char *buf, size_t len, const char *code, const char *msg)
{
	BcEvidence ev;
	HfError err = {0};
	int rc = p(buf, len, fresh(&ev, BC_SRC_REGISTRY), &err);
	if (!code)
		assert_int_equal(rc, 0);
	else if (rc != -1 || strcmp(err.code, code) != 0 || !strstr(err.message, msg))
		fail_msg("expected %s '%s', got %d %s '%s'", code, msg, rc, err.code, err.message);
	buildcheck_evidence_clear(&ev);
}

static void test_buildlabex(void **state)
{
	BcBuildLab b;
	HfError err = {0};
	assert_int_equal(
	    bcparse_buildlabex(S("6003.20489.amd64fre.vistasp2_ldr_escrow.190320-1700"), &b, &err),
	    0);
	assert_int_equal(b.build, 6003);
	assert_int_equal(b.revision, 20489);
	assert_int_equal(b.arch, BC_ARCH_AMD64);
	assert_string_equal(b.branch, "vistasp2_ldr_escrow");
	assert_string_equal(b.stamp, "190320-1700");
	assert_int_equal(
	    bcparse_buildlabex(S("6001.18000.x86fre.longhorn_rtm.080118-1840"), &b, &err), 0);
	assert_int_equal(b.arch, BC_ARCH_X86);
	assert_int_equal(
	    bcparse_buildlabex(S("7601.17514.amd64fre.win7sp1_rtm.101119-1850"), &b, &err), 0);
	assert_int_equal(b.revision, 17514);
	assert_int_equal(
	    bcparse_buildlabex(S("6002.18005.ia64chk.lh_sp2rtm.090410-1830"), &b, &err), 0);
	assert_int_equal(b.arch, BC_ARCH_IA64);
	assert_int_equal(bcparse_buildlab(S("6001.longhorn_rtm.080118-1840"), &b, &err), 0);
	assert_int_equal(b.build, 6001);
	assert_int_equal(b.revision, -1);
	static const char *const bad[] = {
	    "6003.20489.amd64fre.vistasp2_ldr_escrow",		   /* no stamp */
	    "6003.2O489.amd64fre.vistasp2_ldr_escrow.190320-1700", /* letter O */
	    "6003.20489.arm64fre.vistasp2_ldr_escrow.190320-1700", /* arch */
	    "6003.20489.amd64.vistasp2_ldr_escrow.190320-1700",	   /* no fre/chk */
	    "6003.20489.amd64fre.vista sp2.190320-1700",	   /* space in branch */
	    "6003.20489.amd64fre.b.1903201700",			   /* stamp form */
	    "99999.1.x86fre.b.190320-1700",			   /* build > 65535 */
	    "6003.20489.amd64fre.b.190320-1700.extra",
	    "",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		error_clear(&err);
		assert_int_equal(bcparse_buildlabex(bad[i], strlen(bad[i]), &b, &err), -1);
		assert_string_equal(err.code, HF_ERR_INVALID_PARAMS);
	}
	error_clear(&err);
	assert_int_equal(bcparse_buildlab(S("6003.20489.amd64fre.b.190320-1700"), &b, &err), -1);
	char huge[4096];
	memset(huge, '6', sizeof huge);
	assert_int_equal(bcparse_buildlabex(huge, sizeof huge, &b, &err), -1);
}

static const char reg_6003[] =
    "\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\r\n"
    "    CurrentVersion    REG_SZ    6.0\r\n"
    "    CurrentBuildNumber    REG_SZ    6003\r\n"
    "    CurrentBuild    REG_SZ    6003\r\n"
    "    CurrentType    REG_SZ    Multiprocessor Free\r\n"
    "    InstallDate    REG_DWORD    0x5e1f4a2b\r\n"
    "    RegisteredOrganization    REG_SZ    \r\n"
    "    SystemRoot    REG_SZ    C:\\Windows\r\n"
    "    ProductName    REG_SZ    Windows Server (R) 2008 Standard\r\n"
    "    DigitalProductId    REG_BINARY    A40000000300000030303030\r\n"
    "    EditionID    REG_SZ    ServerStandardCore\r\n"
    "    BuildLab    REG_SZ    6003.vistasp2_ldr_escrow.200103-1700\r\n"
    "    BuildLabEx    REG_SZ    6003.20705.amd64fre.vistasp2_ldr_escrow.200103-1700\r\n"
    "    CSDVersion    REG_SZ    Service Pack 2\r\n"
    "\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Accessibility\r\n"
    "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\AeDebug\r\n"
    "    Auto    REG_SZ    1\r\n\r\n";

static void test_reg_query(void **state)
{
	BcEvidence ev;
	HfError err = {0};
	BcItem *it = fresh(&ev, BC_SRC_REGISTRY);
	assert_int_equal(bcparse_reg_query(S(reg_6003), it, &err), 0);
	assert_int_equal(it->major, 6);
	assert_int_equal(it->minor, 0);
	assert_int_equal(it->build, 6003);
	assert_int_equal(it->revision, -1); /* the classifier takes it from BuildLabEx */
	assert_int_equal(it->service_pack, 2);
	assert_string_equal(it->product_name, "Windows Server (R) 2008 Standard");
	assert_string_equal(it->edition_id, "ServerStandardCore");
	assert_string_equal(it->buildlabex, "6003.20705.amd64fre.vistasp2_ldr_escrow.200103-1700");
	/* the collector's second query (ProductOptions) goes into the same item */
	assert_int_equal(bcparse_reg_query(S("\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\"
					     "Control\\ProductOptions\r\n    ProductType    REG_SZ"
					     "    ServerNT\r\n\r\n"),
					   it, &err),
			 0);
	assert_int_equal(it->role, BC_ROLE_SERVER);
	assert_int_equal(it->service_pack, 2);
	BcVerdict v;
	assert_int_equal(buildcheck_classify(&ev, 1700000000, &v, &err), 0);
	assert_int_equal(v.revision, 20705);
	assert_int_equal(v.server_core, BC_TRI_YES);
	assert_string_equal(v.patch_month, "2020-01");
	buildcheck_verdict_clear(&v);
	buildcheck_evidence_clear(&ev);

	/* 2008 RTM x86 (values from a real machine): no CSDVersion value = no service pack */
	it = fresh(&ev, BC_SRC_REGISTRY);
	assert_int_equal(
	    bcparse_reg_query(S("\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\"
				"CurrentVersion\r\n    CurrentVersion    REG_SZ    6.0\r\n"
				"    CurrentBuildNumber    REG_SZ    6001\r\n"
				"    BuildLab    REG_SZ    6001.longhorn_rtm.080118-1840\r\n"
				"    BuildLabEx    REG_SZ    "
				"6001.18000.x86fre.longhorn_rtm.080118-1840\r\n\r\n"),
			      it, &err),
	    0);
	assert_int_equal(it->service_pack, 0);
	buildcheck_evidence_clear(&ev);

	/* ProductOptions: the role; a single /v query */
	it = fresh(&ev, BC_SRC_REGISTRY);
	assert_int_equal(bcparse_reg_query(S("\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\"
					     "Control\\ProductOptions\r\n    ProductType    REG_SZ"
					     "    LanmanNT\r\n\r\n"),
					   it, &err),
			 0);
	assert_int_equal(it->role, BC_ROLE_DC);
	assert_int_equal(it->service_pack, -1);
	buildcheck_evidence_clear(&ev);
}

static void test_reg_query_errors(void **state)
{
	expect(bcparse_reg_query,
	       S("ERROR: The system was unable to find the specified registry key or value.\r\n"),
	       HF_ERR_NOT_FOUND, "unable to find");
	expect(bcparse_reg_query,
	       S("! REG.EXE VERSION 3.0\r\n\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT"
		 "\\CurrentVersion\r\n    CurrentBuildNumber\tREG_SZ\t2600\r\n"),
	       HF_ERR_UNSUPPORTED, "XP");
	expect(bcparse_reg_query,
	       S("\r\nHKEY_LOCAL_MACHINE\\X\r\n    CurrentBuild\tREG_SZ\t6003\r\n"),
	       HF_ERR_UNSUPPORTED, "tab");
	expect(bcparse_reg_query,
	       S("\r\nHKEY_LOCAL_MACHINE\\X\r\n    InstallDate    REG_DWORD    "
		 "0x5E1F\r\n"),
	       HF_ERR_INVALID_PARAMS, "REG_DWORD");
	expect(bcparse_reg_query,
	       S("\r\nHKEY_LOCAL_MACHINE\\X\r\n    CurrentBuild    REG_SZ    "
		 "60O3\r\n"),
	       HF_ERR_INVALID_PARAMS, "not a build number");
	expect(bcparse_reg_query,
	       S("\r\nHKEY_LOCAL_MACHINE\\X\r\n    CurrentBuild    REG_SZ    "
		 "6003\r\n    CurrentBuildNumber    REG_SZ    6002\r\n"),
	       HF_ERR_INVALID_PARAMS, "disagrees");
	expect(bcparse_reg_query,
	       S("\r\nHKEY_LOCAL_MACHINE\\X\r\n    CurrentBuild    REG_SZ    "
		 "60\00003\r\n"),
	       HF_ERR_INVALID_PARAMS, "NUL byte");
	expect(bcparse_reg_query,
	       S("\r\nHKEY_LOCAL_MACHINE\\X\r\n    CurrentVersion    REG_SZ    "
		 "six\r\n"),
	       HF_ERR_INVALID_PARAMS, "not a version");
	expect(bcparse_reg_query, S("\r\nHKEY_LOCAL_MACHINE\\X\r\ngarbage\r\n"),
	       HF_ERR_INVALID_PARAMS, "unexpected line");
	expect(bcparse_reg_query, S("    CurrentBuild    REG_SZ    6003\r\n"),
	       HF_ERR_INVALID_PARAMS, "unexpected line");
	expect(bcparse_reg_query, S(""), HF_ERR_INVALID_PARAMS, "no key name");
	expect(bcparse_reg_query,
	       S("\r\nHKEY_LOCAL_MACHINE\\X\r\n    EditionID    REG_SZ    A\x01"
		 "B\r\n"),
	       HF_ERR_INVALID_PARAMS, "control byte");
	/* huge: one value over BC_STR_MAX, and a whole output over BC_OUTPUT_MAX */
	GString *big = g_string_new("\r\nHKEY_LOCAL_MACHINE\\X\r\n    ProductName    REG_SZ    ");
	for (int i = 0; i < 1000; i++)
		g_string_append(big, "Windows ");
	expect(bcparse_reg_query, big->str, big->len, HF_ERR_INVALID_PARAMS, "limit");
	g_string_free(big, TRUE);
	expect(bcparse_reg_query, reg_6003, BC_OUTPUT_MAX + 1, HF_ERR_INVALID_PARAMS, "limit");
	expect(bcparse_reg_query, NULL, 10, HF_ERR_INVALID_PARAMS, "no output");
}

static void test_ver(void **state)
{
	BcEvidence ev;
	HfError err = {0};
	BcItem *it = fresh(&ev, BC_SRC_VER);
	assert_int_equal(bcparse_ver(S("\r\nMicrosoft Windows [Version 6.0.6003]\r\n"), it, &err),
			 0);
	assert_int_equal(it->build, 6003);
	assert_int_equal(it->revision, -1);
	buildcheck_evidence_clear(&ev);
	it = fresh(&ev, BC_SRC_VER); /* localised, CP850 byte for the accent */
	assert_int_equal(
	    bcparse_ver(S("\r\nMicrosoft Windows [Versi\xa2n 6.1.7601]\r\n"), it, &err), 0);
	assert_int_equal(it->minor, 1);
	assert_int_equal(it->build, 7601);
	buildcheck_evidence_clear(&ev);
	expect(bcparse_ver, S("\r\nMicrosoft Windows [Version 6.0.x]\r\n"), HF_ERR_INVALID_PARAMS,
	       "not a version");
	expect(bcparse_ver, S("'ver' is not recognized\r\n"), HF_ERR_INVALID_PARAMS,
	       "no '[Version");
	expect(bcparse_ver, S("[Version 6.0.6003\r\n"), HF_ERR_INVALID_PARAMS, "no '[Version");
	expect(bcparse_ver, S("[Version 6.0\0.6003]"), HF_ERR_INVALID_PARAMS, "NUL");
	expect(bcparse_ver, S("[Version 6.0.99999999999]"), HF_ERR_INVALID_PARAMS, "not a version");
}

static const char sysinfo_en[] =
    "\r\nHost Name:                 WIN2008\r\n"
    "OS Name:                   Microsoftr Windows Serverr 2008 Standard \r\n"
    "OS Version:                6.0.6002 Service Pack 2 Build 6002\r\n"
    "OS Manufacturer:           Microsoft Corporation\r\n"
    "Original Install Date:     1/2/2020, 10:00:00 AM\r\n"
    "System Type:               x64-based PC\r\n"
    "BIOS Version:              SeaBIOS rel-1.16.0, 4/1/2014\r\n"
    "Hotfix(s):                 3 Hotfix(s) Installed.\r\n"
    "                           [01]: KB956250\r\n"
    "                           [02]: KB4474419\r\n"
    "                           [03]: File 1\r\n"
    "Network Card(s):           1 NIC(s) Installed.\r\n"
    "                           [01]: Red Hat VirtIO Ethernet Adapter\r\n"
    "                                 Connection Name: Local Area Connection\r\n"
    "                                 [01]: 10.0.0.5\r\n";

static void test_systeminfo(void **state)
{
	BcEvidence ev;
	HfError err = {0};
	BcItem *it = fresh(&ev, BC_SRC_SYSTEMINFO);
	assert_int_equal(bcparse_systeminfo(S(sysinfo_en), it, &err), 0);
	assert_int_equal(it->build, 6002);
	assert_int_equal(it->service_pack, 2);
	assert_int_equal(it->arch, BC_ARCH_AMD64);
	assert_string_equal(it->product_name, "Microsoftr Windows Serverr 2008 Standard");
	assert_int_equal(it->updates->len, 2);
	assert_string_equal(it->updates->pdata[1], "KB4474419");
	buildcheck_evidence_clear(&ev);
	/* German labels: the version line is found by its shape, the date line is not taken */
	it = fresh(&ev, BC_SRC_SYSTEMINFO);
	assert_int_equal(bcparse_systeminfo(S("Betriebssystemversion:     6.0.6003 Service Pack 2 "
					      "Build 6003\r\nUrspr\x81ngliches Installationsdatum: "
					      "02.01.2020, 10:00:00\r\n"),
					    it, &err),
			 0);
	assert_int_equal(it->build, 6003);
	buildcheck_evidence_clear(&ev);
	expect(bcparse_systeminfo,
	       S("OS Version:                6.0.6003 Service Pack 2 Build 6002"
		 "\r\n"),
	       HF_ERR_INVALID_PARAMS, "disagrees");
	expect(bcparse_systeminfo, S("Host Name:    X\r\n"), HF_ERR_INVALID_PARAMS,
	       "no OS Version");
	expect(bcparse_systeminfo, S("OS Version:   6.0.6003 Build 6003\r\n\0"),
	       HF_ERR_INVALID_PARAMS, "NUL");
}

static void test_slmgr(void **state)
{
	static const char banner[] =
	    "Microsoft (R) Windows Script Host Version 5.7\r\n"
	    "Copyright (C) Microsoft Corporation. All rights reserved.\r\n\r\n\r\n"
	    "Name: Windows(R), Server-ESU-Year3 add-on for ServerStandard\r\n"
	    "Description: Windows(R) Operating System, VOLUME_MAK channel\r\n"
	    "Partial Product Key: ABCDE\r\n"
	    "License Status: Licensed\r\n\r\n";
	static const struct {
		const char *out;
		int status;
	} ok[] = {
	    {banner, 1},
	    {"\r\nName: x\r\nDescription: y\r\nThis license is not in use.\r\n"
	     "License Status: Unlicensed\r\n\r\n",
	     0},
	    {"\r\nLicense Status: Notification\r\n", 5},
	    {"\r\nError: product key not found.\r\n", BC_LIC_NOT_INSTALLED},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(ok); i++) {
		BcEvidence ev;
		HfError err = {0};
		BcItem *it = fresh(&ev, BC_SRC_LICENCE_QUERY);
		assert_int_equal(bcparse_slmgr_dli(ok[i].out, strlen(ok[i].out), ESU_Y3, it, &err),
				 0);
		assert_int_equal(it->licences->len, 1);
		assert_int_equal(g_array_index(it->licences, BcLicence, 0).status, ok[i].status);
		assert_string_equal(g_array_index(it->licences, BcLicence, 0).id, ESU_Y3);
		buildcheck_evidence_clear(&ev);
	}
	BcEvidence ev;
	HfError err = {0};
	BcItem *it = fresh(&ev, BC_SRC_LICENCE_QUERY);
	assert_int_equal(bcparse_slmgr_dli(S("\r\nLicense Status: Sleepy\r\n"), ESU_Y3, it, &err),
			 -1);
	assert_non_null(strstr(err.message, "Sleepy"));
	error_clear(&err);
	assert_int_equal(
	    bcparse_slmgr_dli(S("Error: 0xC004F012 the value was not found\r\n"), ESU_Y3, it, &err),
	    -1);
	assert_string_equal(err.code, HF_ERR_FAILED);
	error_clear(&err);
	assert_int_equal(bcparse_slmgr_dli(S("\r\nName: x\r\n"), ESU_Y3, it, &err), -1);
	error_clear(&err);
	assert_int_equal(bcparse_slmgr_dli(S("License Status: Licensed"), "not-a-guid!", it, &err),
			 -1);
	assert_non_null(strstr(err.message, "GUID"));
	buildcheck_evidence_clear(&ev);
}

static void test_osinfo_kvp(void **state)
{
	BcEvidence ev;
	HfError err = {0};
	BcItem *it = fresh(&ev, BC_SRC_AGENT_OSINFO);
	static const char *const os[][2] = {
	    {"os.id", "mswindows"},	   {"os.kernel-version", "6.0"},
	    {"os.kernel-release", "6003"}, {"os.pretty-name", "Windows Server (R) 2008 Enterprise"},
	    {"os.version-id", "2008"},	   {"os.variant-id", "server"},
	    {"os.machine", "x86_64"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(os); i++)
		assert_int_equal(bcparse_osinfo(os[i][0], os[i][1], it, &err), 0);
	assert_int_equal(it->build, 6003);
	assert_int_equal(it->revision, -1);
	assert_int_equal(it->arch, BC_ARCH_AMD64);
	assert_int_equal(it->role, BC_ROLE_SERVER);
	assert_int_equal(bcparse_osinfo("kernel-release", "6003a", it, &err), -1);
	assert_non_null(strstr(err.message, "not a number"));
	error_clear(&err);
	buildcheck_evidence_clear(&ev);

	it = fresh(&ev, BC_SRC_HYPERV_KVP);
	static const char *const kvp[][2] = {
	    {"OSName", "Windows Server (R) 2008 Datacenter"},
	    {"OSVersion", "6.0.6003"},
	    {"OSBuildNumber", "6003"},
	    {"OSMajorVersion", "6"},
	    {"OSMinorVersion", "0"},
	    {"CSDVersion", "Service Pack 2"},
	    {"ServicePackMajor", "2"},
	    {"ProductType", "3"},
	    {"ProcessorArchitecture", "9"},
	    {"FullyQualifiedDomainName", "win2008.example.com"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(kvp); i++)
		assert_int_equal(bcparse_kvp(kvp[i][0], kvp[i][1], it, &err), 0);
	assert_int_equal(it->build, 6003);
	assert_int_equal(it->service_pack, 2);
	assert_int_equal(it->role, BC_ROLE_SERVER);
	assert_int_equal(it->arch, BC_ARCH_AMD64);
	assert_int_equal(bcparse_kvp("OSBuildNumber", "6002", it, &err), -1);
	assert_non_null(strstr(err.message, "disagrees"));
	error_clear(&err);
	assert_int_equal(bcparse_kvp("ProductType", "7", it, &err), -1);
	error_clear(&err);
	assert_int_equal(bcparse_kvp("OSVersion", NULL, it, &err), -1);
	error_clear(&err);
	g_autofree char *huge = g_strnfill(100000, 'x');
	assert_int_equal(bcparse_kvp("OSName", huge, it, &err), -1);
	assert_non_null(strstr(err.message, "over"));
	buildcheck_evidence_clear(&ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buildlabex),	     cmocka_unit_test(test_reg_query),
	    cmocka_unit_test(test_reg_query_errors), cmocka_unit_test(test_ver),
	    cmocka_unit_test(test_systeminfo),	     cmocka_unit_test(test_slmgr),
	    cmocka_unit_test(test_osinfo_kvp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
