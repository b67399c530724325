/* test_drtest.c - the pure parts of dr test (daemon/drtest*.c): the test domain's name, the
 * dr.list members taken from a manifest's test boots, and which leftovers of a dead holdfastd a
 * test boot may sweep (never anything else). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "daemon/drstore.h"
#include "daemon/drtest.h"
#include "daemon/drxml.h"
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

static DrvGuest *guest(const char *name, const char *disk0, const char *disk1)
{
	DrvGuest *g = drv_guest_new();
	const char *paths[] = {disk0, disk1};
	g->name = g_strdup(name);
	for (size_t i = 0; i < G_N_ELEMENTS(paths); i++) {
		if (!paths[i])
			continue;
		DrvDisk *d = drv_disk_new();
		d->target = g_strdup(i ? "vdb" : "vda");
		d->device = g_strdup("disk");
		d->path = g_strdup(paths[i]);
		g_ptr_array_add(g->disks, d);
	}
	return g;
}

#define TD "hf-test-w1-20261121T061500Z"
#define ROOT "/store/.hf-test"

/* Name prefix, holdfast's test record (not kept) and overlays in ROOT/NAME: all three. */
static void stale_domain(void **state)
{
	g_autofree char *rec = drxml_element("hfdr", DRXML_NS_RESTORE, "restore", "point", "P",
					     "mode", "test", NULL);
	g_autofree char *kept = drxml_element("hfdr", DRXML_NS_RESTORE, "restore", "point", "P",
					      "mode", "test", "kept", "yes", NULL);
	g_autofree char *restore = drxml_element("hfdr", DRXML_NS_RESTORE, "restore", "point",
						 "P", "mode", "restore", NULL);
	g_autoptr(DrvGuest) ok = guest(TD, ROOT "/" TD "/vda.qcow2", ROOT "/" TD "/vdb.qcow2");
	g_autoptr(DrvGuest) foreign = guest("hf-test-mine", ROOT "/hf-test-mine/vda.qcow2", NULL);
	g_autoptr(DrvGuest) name = guest("w1", ROOT "/w1/vda.qcow2", NULL);
	g_autoptr(DrvGuest) disk = guest(TD, ROOT "/" TD "/vda.qcow2", "/var/lib/img/w1.qcow2");
	g_autoptr(DrvGuest) deeper = guest(TD, ROOT "/" TD "/x/vda.qcow2", NULL);
	g_autoptr(DrvGuest) none = guest(TD, NULL, NULL);
	assert_true(drtest_stale(ok, rec, ROOT));
	assert_false(drtest_stale(ok, kept, ROOT));    /* --keep: the admin's to remove */
	assert_false(drtest_stale(ok, restore, ROOT)); /* a restored guest, not a test */
	assert_false(drtest_stale(ok, NULL, ROOT));    /* no record: not provably ours */
	assert_false(drtest_stale(ok, rec, "/other/root"));
	assert_false(drtest_stale(foreign, NULL, ROOT));
	assert_false(drtest_stale(name, rec, ROOT)); /* not named hf-test-* */
	assert_false(drtest_stale(disk, rec, ROOT)); /* one disk is a real image */
	assert_false(drtest_stale(deeper, rec, ROOT));
	assert_false(drtest_stale(none, rec, ROOT)); /* no disk at all */
}

static void put_mark(const char *root, const char *dir, const char *json)
{
	g_autofree char *d = g_build_filename(root, dir, NULL);
	g_autofree char *p = g_build_filename(d, "hf-test.json", NULL);
	assert_int_equal(g_mkdir_with_parents(d, 0755), 0);
	if (json)
		assert_true(g_file_set_contents(p, json, -1, NULL));
}

/* A directory without its domain: only with holdfast's mark naming this host and itself. */
static void stale_dir(void **state)
{
	g_autofree char *root = g_dir_make_tmp("hf-drtest-XXXXXX", NULL);
	g_autoptr(GHashTable) defined = g_hash_table_new(g_str_hash, g_str_equal);
	put_mark(root, TD, "{\"host\":\"lab\",\"domain\":\"" TD "\"}");
	put_mark(root, "hf-test-other", "{\"host\":\"dr\",\"domain\":\"hf-test-other\"}");
	put_mark(root, "hf-test-nomark", NULL);
	put_mark(root, "hf-test-moved", "{\"host\":\"lab\",\"domain\":\"" TD "\"}");
	put_mark(root, "keepme", "{\"host\":\"lab\",\"domain\":\"keepme\"}");
	assert_true(drtest_dir_stale(root, TD, "lab", defined));
	assert_false(drtest_dir_stale(root, "hf-test-other", "lab", defined)); /* another host */
	assert_false(drtest_dir_stale(root, "hf-test-nomark", "lab", defined));
	assert_false(drtest_dir_stale(root, "hf-test-moved", "lab", defined));
	assert_false(drtest_dir_stale(root, "keepme", "lab", defined));
	g_hash_table_add(defined, TD); /* its domain exists (a kept test): not without one */
	assert_false(drtest_dir_stale(root, TD, "lab", defined));
	const char *dirs[] = {TD, "hf-test-other", "hf-test-nomark", "hf-test-moved", "keepme"};
	for (size_t i = 0; i < G_N_ELEMENTS(dirs); i++) {
		g_autofree char *d = g_build_filename(root, dirs[i], NULL);
		drstore_discard(d);
	}
	drstore_discard(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(domain_name),
	    cmocka_unit_test(list_row),
	    cmocka_unit_test(status_row),
	    cmocka_unit_test(stale_domain),
	    cmocka_unit_test(stale_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
