/* test_wsman.c - the WS-Man client's pure parts: envelopes and escaping, response parsing on
 * recorded-shape fixtures, fault / return-code / job mapping, embedded instances. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/wsman.h"

static WsmanResponse *fixture(const char *name)
{
	g_autofree char *path = g_build_filename(HV_FIXTURES, name, NULL);
	g_autofree char *text = NULL;
	gsize len = 0;
	HfError err = {0};
	WsmanResponse *r = NULL;
	assert_true(g_file_get_contents(path, &text, &len, NULL));
	assert_int_equal(wsman_parse_response(text, len, &r, &err), 0);
	assert_non_null(r);
	return r;
}

static void t_escape(void **state)
{
	g_autofree char *x = wsman_xml_escape("a<b>&\"c'\x01\td");
	assert_string_equal(x, "a&lt;b&gt;&amp;&quot;c&apos;\td");
	g_autofree char *q = wsman_wql_quote("O'Brien \\ co");
	assert_string_equal(q, "'O\\'Brien \\\\ co'");
	g_autofree char *e = wsman_wql_quote("");
	assert_string_equal(e, "''");
}

static void t_envelope(void **state)
{
	g_autoptr(WsmanRef) sel = wsman_ref_new("u", "Name", "a&b", NULL);
	g_autofree char *body = wsman_body_enumerate("SELECT * FROM X WHERE N='<&>'", 100, false);
	g_autofree char *env = wsman_envelope("https://h:5986/wsman", WSMAN_V2 "*", "http://act",
					      "uuid:1", sel->selectors, 60, body);
	assert_non_null(strstr(env, "<a:To>https://h:5986/wsman</a:To>"));
	assert_non_null(
	    strstr(env, "<w:ResourceURI s:mustUnderstand=\"true\">" WSMAN_V2 "*</w:ResourceURI>"));
	assert_non_null(strstr(env, "<a:MessageID>uuid:1</a:MessageID>"));
	assert_non_null(strstr(env, "<w:OperationTimeout>PT60S</w:OperationTimeout>"));
	assert_non_null(strstr(env, "<w:Selector Name=\"Name\">a&amp;b</w:Selector>"));
	assert_non_null(strstr(env, "<w:OptimizeEnumeration/><w:MaxElements>100</w:MaxElements>"));
	assert_non_null(
	    strstr(env, "WQL\">SELECT * FROM X WHERE N=&apos;&lt;&amp;&gt;&apos;</w:Filter>"));
	/* the envelope is well-formed: our own parser reads it back */
	g_autoptr(WsmanResponse) r = NULL;
	HfError err = {0};
	assert_int_equal(wsman_parse_response(env, strlen(env), &r, &err), 0);
	assert_string_equal(r->action, "http://act");

	g_autofree char *plain = wsman_body_enumerate("Q", 0, true);
	assert_null(strstr(plain, "MaxElements"));
	assert_non_null(strstr(plain, "<w:EnumerationMode>EnumerateEPR</w:EnumerationMode>"));
	g_autofree char *pull = wsman_body_pull("ctx&1", 0);
	assert_string_equal(
	    pull, "<n:Pull><n:EnumerationContext>ctx&amp;1</n:EnumerationContext></n:Pull>");
	g_autofree char *pull2 = wsman_body_pull("c", 50);
	assert_non_null(strstr(pull2, "<n:MaxElements>50</n:MaxElements>"));
}

static void t_invoke_body(void **state)
{
	g_autoptr(WsmanRef) vm = wsman_ref_new(WSMAN_V2 "Msvm_ComputerSystem", "CreationClassName",
					       "Msvm_ComputerSystem", "Name", "G-1", NULL);
	const char *props[] = {"ConsistencyLevel", "uint8",   "1", "ElementName",
			       "string",	   "a & <b>", NULL};
	g_autofree char *inst =
	    wsman_embedded_instance("Msvm_VirtualSystemSnapshotSettingData", props);
	assert_string_equal(inst,
			    "<INSTANCE CLASSNAME=\"Msvm_VirtualSystemSnapshotSettingData\">"
			    "<PROPERTY NAME=\"ConsistencyLevel\" TYPE=\"uint8\"><VALUE>1</VALUE>"
			    "</PROPERTY><PROPERTY NAME=\"ElementName\" TYPE=\"string\"><VALUE>a "
			    "&amp; &lt;b&gt;</VALUE></PROPERTY></INSTANCE>");
	WsmanParam p[] = {{"AffectedSystem", WSMAN_P_REF, NULL, vm},
			  {"SnapshotSettings", WSMAN_P_TEXT, inst, NULL},
			  {"SnapshotType", WSMAN_P_TEXT, "2", NULL},
			  {"Nothing", WSMAN_P_NIL, NULL, NULL}};
	g_autofree char *b =
	    wsman_body_invoke(WSMAN_V2 "Msvm_VirtualSystemSnapshotService", "CreateSnapshot", p, 4);
	assert_true(g_str_has_prefix(b, "<p:CreateSnapshot_INPUT xmlns:p=\"" WSMAN_V2
					"Msvm_VirtualSystemSnapshotService\">"));
	assert_non_null(strstr(b, "<p:AffectedSystem><a:Address>" WSMAN_ANONYMOUS
				  "</a:Address><a:ReferenceParameters><w:ResourceURI>" WSMAN_V2
				  "Msvm_ComputerSystem</w:ResourceURI><w:SelectorSet><w:Selector "
				  "Name=\"CreationClassName\">Msvm_ComputerSystem</w:Selector>"));
	/* embedded instance escaped once more as text; its own escapes twice */
	assert_non_null(strstr(b, "<p:SnapshotSettings>&lt;INSTANCE CLASSNAME=&quot;Msvm_"));
	assert_non_null(strstr(b, "a &amp;amp; &amp;lt;b&amp;gt;"));
	assert_non_null(strstr(b, "<p:SnapshotType>2</p:SnapshotType>"));
	assert_non_null(strstr(b, "xsi:nil=\"true\"/>"));
	g_autofree char *path = wsman_object_path("HV1", "Msvm_VirtualSystemSettingData",
						  "InstanceID", "Microsoft:ABC");
	assert_string_equal(path, "\\\\HV1\\root\\virtualization\\v2:Msvm_VirtualSystemSettingData."
				  "InstanceID=\"Microsoft:ABC\"");
}

static void t_parse_enumerate(void **state)
{
	g_autoptr(WsmanResponse) r = fixture("enumerate-vms-batch.xml");
	assert_int_equal(r->items->len, 2);
	assert_non_null(r->context);
	assert_false(r->end);
	const WsmanInst *vm = r->items->pdata[0];
	assert_string_equal(vm->cls, "Msvm_ComputerSystem");
	assert_string_equal(wsman_inst_get(vm, "ElementName"), "web01");
	assert_string_equal(wsman_inst_get(vm, "elementname"), "web01"); /* case-insensitive */
	long long st = 0;
	assert_true(wsman_inst_int(vm, "EnabledState", &st));
	assert_int_equal(st, 2);
	assert_null(wsman_inst_get(vm, "NameFormat")); /* xsi:nil */
	assert_non_null(wsman_inst_values(vm, "NameFormat"));
	assert_string_equal(wsman_inst_get(vm, "InstallDate"), "2019-04-09T10:00:00.000000Z");

	g_autoptr(WsmanResponse) e = fixture("pull-vms-end.xml");
	assert_int_equal(e->items->len, 4);
	assert_null(e->context);
	assert_true(e->end);
}

static void t_parse_refs(void **state)
{
	g_autoptr(WsmanResponse) a = fixture("invoke-job.xml");
	g_autoptr(WsmanResponse) b = fixture("invoke-job-wrapped.xml");
	long long rv = 0;
	for (int i = 0; i < 2; i++) {
		WsmanResponse *r = i ? b : a;
		assert_non_null(r->output);
		assert_true(wsman_inst_int(r->output, "ReturnValue", &rv));
		assert_int_equal(rv, 4096);
		const WsmanRef *job = wsman_inst_ref(r->output, "Job");
		assert_non_null(job);
		assert_string_equal(job->resource_uri, WSMAN_V2 "Msvm_ConcreteJob");
		assert_non_null(wsman_ref_selector(job, "instanceid"));
		assert_int_equal(strlen(wsman_ref_selector(job, "InstanceID")), 36);
		assert_null(wsman_inst_get(r->output, "ResultingSnapshot"));
	}
	g_autoptr(WsmanResponse) e = fixture("epr-web01.xml");
	assert_int_equal(e->eprs->len, 1);
	assert_string_equal(wsman_ref_selector(e->eprs->pdata[0], "Name"),
			    "6A7C3E1F-2B4D-4E8F-9A0B-1C2D3E4F5A61");
}

static void t_parse_checkpoints(void **state)
{
	g_autoptr(WsmanResponse) r = fixture("checkpoints-web01.xml");
	assert_int_equal(r->items->len, 2);
	const WsmanInst *s = r->items->pdata[1];
	g_autofree char *parent = wsman_path_guid(wsman_inst_get(s, "Parent"));
	assert_string_equal(parent, "0B1C2D3E-4F5A-4B6C-8D7E-8F9A0B1C2D31");
	g_autofree char *id = wsman_path_guid(wsman_inst_get(s, "InstanceID"));
	assert_string_equal(id, "0B1C2D3E-4F5A-4B6C-8D7E-8F9A0B1C2D32");
	assert_null(wsman_path_guid(NULL));
}

static void t_parse_kvp(void **state)
{
	g_autoptr(WsmanResponse) r = fixture("kvp-prod01.xml");
	assert_int_equal(r->items->len, 1);
	GPtrArray *items = wsman_inst_values(r->items->pdata[0], "GuestIntrinsicExchangeItems");
	assert_non_null(items);
	assert_true(items->len >= 10);
	bool fqdn = false;
	for (guint i = 0; i < items->len; i++) {
		g_autofree char *cls = NULL;
		HfError err = {0};
		g_autoptr(GHashTable) p = wsman_embedded_parse(items->pdata[i], &cls, &err);
		assert_non_null(p);
		assert_string_equal(cls, "Msvm_KvpExchangeDataItem");
		if (!g_strcmp0(g_hash_table_lookup(p, "name"), "FullyQualifiedDomainName")) {
			assert_string_equal(g_hash_table_lookup(p, "data"),
					    "prod01.corp.example & <lab>");
			fqdn = true;
		}
	}
	assert_true(fqdn);
	HfError err = {0};
	assert_null(wsman_embedded_parse("<NOT/>", NULL, &err));
	assert_string_equal(err.code, HF_ERR_PROTOCOL);
}

static void t_faults(void **state)
{
	static const struct {
		const char *file, *code, *text;
	} cases[] = {
	    {"fault-invalid-selectors.xml", HF_ERR_NOT_FOUND, "InvalidSelectors 2150858843"},
	    {"fault-quota.xml", HF_ERR_FAILED, "quota"},
	    {"fault-no-class.xml", HF_ERR_UNSUPPORTED, "root/virtualization/v2"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(WsmanResponse) r = fixture(cases[i].file);
		HfError err = {0};
		assert_non_null(r->fault);
		assert_int_equal(wsman_fault_error(r->fault, "hv1", "listing", &err), -1);
		assert_string_equal(err.code, cases[i].code);
		assert_non_null(strstr(err.message, cases[i].text));
		assert_true(g_str_has_prefix(err.message, "listing on Hyper-V host hv1: "));
	}
}

static void t_return_codes(void **state)
{
	g_autoptr(WsmanResponse) r = fixture("invoke-32773.xml");
	long long rv = 0;
	HfError err = {0};
	assert_true(wsman_inst_int(r->output, "ReturnValue", &rv));
	assert_int_equal(wsman_return_error(rv, "hv1", "CreateSnapshot", "snap", &err), -1);
	assert_string_equal(err.code, HF_ERR_INVALID_PARAMS);
	assert_non_null(strstr(err.message, "CreateSnapshot returned 32773 (invalid parameter)"));
	HfError e2 = {0};
	wsman_return_error(32775, "hv1", "ApplySnapshot", "revert", &e2);
	assert_string_equal(e2.code, HF_ERR_CONFLICT);
	assert_non_null(strstr(e2.message, "invalid state"));
	assert_string_equal(wsman_return_meaning(12345), "unknown WMI error");
}

static void t_job_failed(void **state)
{
	g_autoptr(WsmanResponse) r = fixture("job-failed.xml");
	HfError err = {0};
	assert_int_equal(r->items->len, 1);
	wsman_job_error(r->items->pdata[0], "hv1", "creating", &err);
	assert_string_equal(err.code, HF_ERR_FAILED);
	assert_non_null(
	    strstr(err.message, "(JobState 10): 'web01' could not create a checkpoint"));
	assert_non_null(strstr(err.message, "(ErrorCode 32768)"));
}

static void t_malformed(void **state)
{
	static const char *const bad[] = {
	    "",
	    "<s:Envelope",
	    "<x/>",
	    "not xml at all",
	    "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body><n:Pull",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		WsmanResponse *r = NULL;
		HfError err = {0};
		assert_int_equal(wsman_parse_response(bad[i], strlen(bad[i]), &r, &err), -1);
		assert_null(r);
		assert_string_equal(err.code, HF_ERR_PROTOCOL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_escape),	      cmocka_unit_test(t_envelope),
	    cmocka_unit_test(t_invoke_body),  cmocka_unit_test(t_parse_enumerate),
	    cmocka_unit_test(t_parse_refs),   cmocka_unit_test(t_parse_checkpoints),
	    cmocka_unit_test(t_parse_kvp),    cmocka_unit_test(t_faults),
	    cmocka_unit_test(t_return_codes), cmocka_unit_test(t_job_failed),
	    cmocka_unit_test(t_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
