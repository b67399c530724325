/* test_drtest.c - the pure parts of dr test (daemon/drtest*.c): the test domain's name and the
 * dr.list members taken from a manifest's test boots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "daemon/drtest.h"
#include "daemon/policy.h" /* g_autoptr(cJSON) */

static void domain_name(void **state)
{
	g_autofree char *a = drtest_domain_name("w2k8-dc01", "20261121T061500Z");
	g_autofree char *b = drtest_domain_name("lab/w2k8-dc01", "20261121T061500Z-2");
	assert_string_equal(a, "hf-test-w2k8-dc01-20261121T061500Z");
	assert_string_equal(b, "hf-test-w2k8-dc01-20261121T061500Z-2");
}

static cJSON *row_of(const char *manifest)
{
	g_autoptr(cJSON) m = cJSON_Parse(manifest);
	cJSON *row = cJSON_CreateObject();
	assert_non_null(m);
	drtest_list_row(m, row);
	return row;
}

static void list_row(void **state)
{
	g_autoptr(cJSON) never = row_of("{\"point\":\"P\"}");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(never, "rto_s")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(never, "last_test")));
	/* the newest test failed before agent-ready: rto_s is the newest one measured */
	g_autoptr(cJSON) two =
	    row_of("{\"tests\":[{\"time\":\"T1\",\"ok\":true,\"rto_s\":4.5},{\"time\":\"T2\","
		   "\"ok\":false,\"rto_s\":null,\"agent_ready\":false}]}");
	assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(two, "rto_s")) == 4.5);
	const cJSON *last = cJSON_GetObjectItem(two, "last_test");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(last, "time")), "T2");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(last, "ok")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(last, "rto_s")));
	assert_null(cJSON_GetObjectItem(last, "agent_ready"));
	g_autoptr(cJSON) bad = row_of("{\"tests\":\"not an array\"}");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(bad, "last_test")));
}

static void status_row(void **state)
{
	g_autoptr(GPtrArray) pts = g_ptr_array_new_with_free_func((GDestroyNotify)cJSON_Delete);
	g_autoptr(cJSON) none = cJSON_CreateObject();
	drtest_status_row(pts, none);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(none, "rto_s")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(none, "rto_point")));
	/* the newest test that measured an RTO, whichever point it booted */
	g_ptr_array_add(pts, cJSON_Parse("{\"point\":\"P1\",\"tests\":[{\"time\":"
					 "\"2026-11-23T00:00:00Z\",\"rto_s\":9}]}"));
	g_ptr_array_add(pts, cJSON_Parse("{\"point\":\"P2\",\"tests\":[{\"time\":"
					 "\"2026-11-22T00:00:00Z\",\"rto_s\":5},{\"time\":"
					 "\"2026-11-24T00:00:00Z\",\"rto_s\":null}]}"));
	g_autoptr(cJSON) r = cJSON_CreateObject();
	drtest_status_row(pts, r);
	assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(r, "rto_s")) == 9);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(r, "rto_point")), "P1");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(r, "rto_time")),
			    "2026-11-23T00:00:00Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(domain_name),
	    cmocka_unit_test(list_row),
	    cmocka_unit_test(status_row),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
