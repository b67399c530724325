/* Unit tests: ownership records of holdfast-made snapshots (daemon/ownstore.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <string.h>

#include "daemon/ownstore.h"
#include "daemon/statefile.h"

static char *dir;

static int setup(void **state)
{
	dir = g_dir_make_tmp("hfown-XXXXXX", NULL);
	return dir ? 0 : -1;
}

static int teardown(void **state)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	g_free(dir);
	return 0;
}

static void test_commit_and_match(void **state)
{
	OwnKey k = {dir, "lab", "uuid-1"};
	HfError err = {0};
	assert_int_equal(ownstore_intent(&k, "w2k8", "nightly", 7, &err), 0);
	int64_t now = g_get_real_time() / G_USEC_PER_SEC;
	/* pending: matches a snapshot of that name created after the intent */
	cJSON *r = ownstore_lookup(&k, "nightly", now + 1);
	assert_non_null(r);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "pending")));
	cJSON_Delete(r);
	/* ... but not one created long before (a foreign snapshot of the same name) */
	assert_null(ownstore_lookup(&k, "nightly", now - 3600));
	assert_int_equal(ownstore_commit(&k, "nightly", 1700000000, "application", "VSS", "yes", &err), 0);
	r = ownstore_lookup(&k, "nightly", 1700000000);
	assert_non_null(r);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(r, "consistency")), "application");
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(r, "pending")));
	cJSON_Delete(r);
	/* same name, other creation time: a foreign snapshot made later under our name */
	assert_null(ownstore_lookup(&k, "nightly", 1700000001));
	assert_null(ownstore_lookup(&k, "other", 1700000000));
	/* other guest / host: separate records */
	OwnKey k2 = {dir, "lab", "uuid-2"}, k3 = {dir, "dr", "uuid-1"};
	assert_null(ownstore_lookup(&k2, "nightly", 1700000000));
	assert_null(ownstore_lookup(&k3, "nightly", 1700000000));
	assert_int_equal(ownstore_drop(&k, "nightly", &err), 0);
	assert_null(ownstore_lookup(&k, "nightly", 1700000000));
	assert_int_equal(ownstore_drop(&k, "never-there", &err), 0);
}

static void test_damaged_file(void **state)
{
	OwnKey k = {dir, "lab", "uuid-bad"};
	HfError err = {0};
	g_autofree char *path = g_strdup_printf("%s/snapshots/lab/uuid-bad.json", dir);
	assert_int_equal(statefile_write(path, "{not json", 9, &err), 0);
	/* a damaged record never makes a snapshot look like holdfast's */
	assert_null(ownstore_lookup(&k, "x", 1));
	assert_int_equal(ownstore_intent(&k, "g", "x", 1, &err), -1);
	assert_non_null(strstr(err.message, "damaged"));
	assert_non_null(strstr(err.message, path));
}

static void test_statefile_atomic(void **state)
{
	HfError err = {0};
	g_autofree char *path = g_strdup_printf("%s/a/b/c.json", dir);
	assert_int_equal(statefile_write(path, "{\"x\":1}", 7, &err), 0);
	cJSON *doc = NULL;
	assert_int_equal(statefile_read_json(path, &doc, &err), 0);
	assert_int_equal(cJSON_GetObjectItem(doc, "x")->valueint, 1);
	cJSON_Delete(doc);
	g_autofree char *missing = g_strdup_printf("%s/none.json", dir);
	assert_int_equal(statefile_read_json(missing, &doc, &err), 0);
	assert_null(doc);
	/* no temp files left behind */
	g_autofree char *d = g_strdup_printf("%s/a/b", dir);
	GDir *gd = g_dir_open(d, 0, NULL);
	int n = 0;
	while (g_dir_read_name(gd))
		n++;
	g_dir_close(gd);
	assert_int_equal(n, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commit_and_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_statefile_atomic, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
