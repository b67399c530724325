/* Unit tests: the DR renderers (cli/renderdr.c) on canned daemon results: dr list, dr status,
 * the outcomes of dr verify and dr test jobs (ok, failed, dry run). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "output.h"
#include "render.h"

static GString *render(const char *method, const char *json)
{
	g_autoptr(cJSON) r = cJSON_Parse(json);
	GString *out = g_string_new(NULL);
	g_autoptr(GString) warn = g_string_new(NULL);
	assert_non_null(r);
	render_result(methods_find(method), r, out, warn);
	return out;
}

static void test_list(void **state)
{
	g_autoptr(GString) one = render(
	    "dr.list",
	    "{\"path\":\"/srv/dr\",\"points\":["
	    "{\"guest\":\"w1\",\"point\":\"20261121T061500Z\",\"kind\":\"full\",\"parent\":null,"
	    "\"consistency\":\"application\",\"stored\":1610612736,\"verified\":true,"
	    "\"rto_s\":null},"
	    "{\"guest\":\"w1\",\"point\":\"20261122T061500Z\",\"kind\":\"incremental\","
	    "\"parent\":\"20261121T061500Z\",\"consistency\":\"crash\",\"stored\":67436544,"
	    "\"verified\":true,\"rto_s\":42.25}]}");
	assert_string_equal(
	    one->str, "restore points of w1 in /srv/dr\n"
		      "POINT             KIND         PARENT            CONSISTENCY   STORED  "
		      "VERIFIED    RTO\n"
		      "20261121T061500Z  full         -                 application  1.5 GiB  "
		      "yes           -\n"
		      "20261122T061500Z  incremental  20261121T061500Z  crash         64 MiB  "
		      "yes       42.2s\n");
	g_autoptr(GString) two = render(
	    "dr.list", "{\"path\":\"/srv/dr\",\"points\":[{\"guest\":\"w1\",\"point\":\"P1\","
		       "\"stored\":1024},{\"guest\":\"w2\",\"point\":\"P2\",\"stored\":0}]}");
	assert_true(g_str_has_prefix(two->str, "GUEST  POINT"));
	assert_non_null(strstr(two->str, "\nw2     P2"));
	g_autoptr(GString) none = render("dr.list", "{\"path\":\"/srv/dr\",\"points\":[]}");
	assert_string_equal(none->str, "no restore points in /srv/dr\n");
}

static void test_status(void **state)
{
	g_autoptr(GString) s = render(
	    "dr.status",
	    "{\"path\":\"/srv/dr\",\"rpo_warn_s\":93600,\"rpo_critical_s\":180000,\"state\":"
	    "\"critical\",\"guests\":[{\"guest\":\"w1\",\"host\":\"lab\",\"point\":\"P1\","
	    "\"time\":\"2000-01-01T00:00:00Z\",\"age_s\":9,\"state\":\"critical\",\"points\":3},"
	    "{\"guest\":\"w2\",\"host\":\"lab\",\"point\":null,\"time\":null,\"state\":"
	    "\"critical\",\"points\":1}]}");
	assert_true(g_str_has_prefix(s->str, "GUEST   NEWEST POINT"));
	assert_non_null(strstr(s->str, "lab/w1  P1"));
	assert_non_null(strstr(s->str, "h ago "));
	assert_null(strstr(s->str, "0000h")); /* years old: in days, not hours */
	assert_non_null(strstr(s->str, "CRITICAL"));
	assert_non_null(strstr(s->str, "lab/w2  none verified"));
	assert_non_null(strstr(
	    s->str, "RPO: critical (warn after 26h00m, critical after 50h00m) in /srv/dr\n"));
}

static GString *outcome(const char *job_json)
{
	g_autoptr(cJSON) j = cJSON_Parse(job_json);
	GString *out = g_string_new(NULL);
	g_autoptr(GString) warn = g_string_new(NULL);
	assert_non_null(j);
	render_job_outcome(j, out, warn);
	return out;
}

static void test_test_and_verify(void **state)
{
	g_autoptr(GString) ok = outcome(
	    "{\"id\":7,\"kind\":\"dr.test\",\"state\":\"succeeded\",\"result\":{\"guest\":\"w1\","
	    "\"point\":\"P2\",\"domain\":\"hf-test-w1-P2\",\"host\":\"lab\",\"dir\":\"/t\","
	    "\"rto_s\":4.31,\"ok\":true,\"kept\":false,\"check\":{\"status\":\"critical\","
	    "\"product\":\"server2008-sp2-6003\",\"build\":\"6003\",\"revision\":\"20705\","
	    "\"patch_month\":\"2020-01\",\"months_behind\":\"82\",\"esu_licence\":\"no\","
	    "\"policy_pass\":null,\"error\":null},\"ports\":[{\"port\":3389,\"listening\":true},"
	    "{\"port\":8080,\"listening\":false}]}}");
	assert_string_equal(
	    ok->str,
	    "test boot of w1 point P2 (hf-test-w1-P2 on host lab): ok\n"
	    "  RTO:           4.3s from start to the guest agent's answer\n"
	    "  build check:   critical, server2008-sp2-6003 6003.20705, patched 2020-01 (82 months "
	    "behind), ESU licence no\n"
	    "  ports:         3389 listening, 8080 NOT listening\n"
	    "  torn down:     test guest removed, overlays deleted\n");
	g_autoptr(GString) dry = outcome(
	    "{\"kind\":\"dr.test\",\"result\":{\"guest\":\"w1\",\"point\":\"P2\",\"domain\":\"D\","
	    "\"host\":\"lab\",\"dry_run\":true,\"disks\":{\"vda\":{\"overlay\":\"/t/D/vda.qcow2\","
	    "\"backing\":\"/srv/dr/u/P2/vda.qcow2\"}}}}");
	assert_string_equal(dry->str,
			    "dr test of w1 point P2 (dry run, nothing done): would define D on "
			    "host lab with no network, overlays:\n"
			    "  vda  /t/D/vda.qcow2 over /srv/dr/u/P2/vda.qcow2\n");
	g_autoptr(GString) v =
	    outcome("{\"kind\":\"dr.verify\",\"guest\":\"w1\",\"result\":{"
		    "\"guest\":\"w1\",\"ok\":true,\"verified\":[\"P1\",\"P2\"]}}");
	assert_true(g_str_has_prefix(v->str, "verified 2 restore point(s) of w1: P1, P2\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_list),
	    cmocka_unit_test(test_status),
	    cmocka_unit_test(test_test_and_verify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
