/* Unit tests: DR checkpoint names per store (daemon/drrecover.c), dropping one store's
 * checkpoints and orphans, and the guest directory's lock (daemon/drstore.c). The hypervisor
 * is a test double at the driver boundary (fakedrv.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "daemon/drretain.h" /* g_autoptr(cJSON) */
#include "daemon/drrecover.h"
#include "daemon/drstore.h"
#include "daemon/statefile.h"
#include "fakedrv.h"

/* ---- names ---- */

static void parse_is(const char *name, const char *tag, const char *point)
{
	g_autofree char *t = NULL, *p = NULL;
	assert_true(drrecover_ck_parse(name, &t, &p));
	assert_string_equal(p, point);
	if (tag)
		assert_string_equal(t, tag);
	else
		assert_null(t);
}

static void test_names(void **state)
{
	g_autofree char *a = drrecover_ck_name("offsite", "20261121T061500Z");
	assert_string_equal(a, "hf-dr-offsite-20261121T061500Z");
	g_autofree char *b = drrecover_ck_name("dr-2.b_x", "20261121T061500Z-3");
	assert_string_equal(b, "hf-dr-dr-2.b_x-20261121T061500Z-3");
	g_autofree char *c = drrecover_ck_name("a b/c", "20261121T061500Z");
	assert_string_equal(c, "hf-dr-a_b_c-20261121T061500Z"); /* sanitized */
	g_autofree char *l = drrecover_ck_name(NULL, "20261121T061500Z");
	assert_string_equal(l, "hf-dr-20261121T061500Z");

	parse_is(a, "offsite", "20261121T061500Z");
	parse_is(b, "dr-2.b_x", "20261121T061500Z-3");
	parse_is("hf-dr-20261121T061500Z", NULL, "20261121T061500Z");	  /* legacy */
	parse_is("hf-dr-20261121T061500Z-2", NULL, "20261121T061500Z-2"); /* legacy, -N */
	/* a store named like a point id */
	parse_is("hf-dr-20261121T061500Z-20261122T000000Z", "20261121T061500Z", "20261122T000000Z");
	parse_is("hf-dr-s-20261121T061500Z-2-20261122T000000Z-4", "s-20261121T061500Z-2",
		 "20261122T000000Z-4");
	assert_false(drrecover_ck_parse("hf-dr-", NULL, NULL));
	assert_false(drrecover_ck_parse("hf-dr-local", NULL, NULL));
	assert_false(drrecover_ck_parse("backup-20261121T061500Z", NULL, NULL));
	assert_false(drrecover_ck_parse("hf-dr--20261121T061500Z", NULL, NULL));
	assert_false(drrecover_ck_parse(NULL, NULL, NULL));
	assert_true(drckpt_ours(a) && drckpt_ours(l) && !drckpt_ours("vircpt-1"));
}

static void test_of_store(void **state)
{
	g_autofree char *root = tmpdir();
	g_autofree char *gdir = g_build_filename(root, UUID, NULL);
	point(root, "20261120T000000Z", "h1", "web", "hf-dr-20261120T000000Z");
	assert_true(drrecover_ck_of_store("hf-dr-local-20261121T000000Z", "local", gdir));
	assert_false(drrecover_ck_of_store("hf-dr-local-20261121T000000Z", "offsite", gdir));
	assert_false(drrecover_ck_of_store("hf-dr-local-20261121T000000Z", "loc", gdir));
	/* legacy: the store whose directory holds the point */
	assert_true(drrecover_ck_of_store("hf-dr-20261120T000000Z", "local", gdir));
	assert_false(drrecover_ck_of_store("hf-dr-20261119T000000Z", "local", gdir));
	assert_false(drrecover_ck_of_store("mine", "local", gdir));
	rm_rf(root);
}

/* After a copy into "local": only local's older checkpoints go (the drapi.c rule), legacy ones
 * by where their point is; an in-place restore drops every store's (drrecover_ck_any). */
static void test_drop_one_store(void **state)
{
	g_autofree char *root = tmpdir();
	g_autofree char *gdir = g_build_filename(root, UUID, NULL);
	point(root, "20261120T000000Z", "h1", "web", "hf-dr-20261120T000000Z");
	const char *const cks[] = {
	    "hf-dr-20261120T000000Z", /* legacy, local's point */
	    "hf-dr-20261119T000000Z", /* legacy, another store's */
	    "hf-dr-offsite-20261121T000000Z", "hf-dr-local-20261121T000001Z", "foreign",
	    "hf-dr-offsite-20261122T000000Z", "hf-dr-local-20261122T000001Z", NULL};
	g_autoptr(FakeConn) f = fake_new(cks);
	DrCkStore k = {"local", gdir, "hf-dr-local-20261122T000001Z"};
	g_autoptr(cJSON) dropped = cJSON_CreateArray();
	g_autoptr(cJSON) failed = cJSON_CreateArray();
	HfError e = {0};
	assert_int_equal(
	    drrecover_ck_drop(&f->base, "web", drrecover_ck_store_but, &k, dropped, failed, &e), 2);
	assert_int_equal(cJSON_GetArraySize(failed), 0);
	g_autofree char *left = fake_names(f);
	assert_string_equal(left, "hf-dr-20261119T000000Z,hf-dr-offsite-20261121T000000Z,foreign,"
				  "hf-dr-offsite-20261122T000000Z,hf-dr-local-20261122T000001Z");
	g_autofree char *d = cJSON_PrintUnformatted(dropped);
	assert_string_equal(d, "[\"hf-dr-20261120T000000Z\",\"hf-dr-local-20261121T000001Z\"]");

	assert_int_equal(drrecover_ck_drop(&f->base, "web", drrecover_ck_any, NULL, NULL, NULL, &e),
			 4);
	g_autofree char *left2 = fake_names(f);
	assert_string_equal(left2, "foreign");
	rm_rf(root);
}

/* Orphans of a copy into "local": local's checkpoints without a published point there, and
 * legacy ones whose point no store holds; offsite's are offsite's business. */
static void test_orphans(void **state)
{
	g_autofree char *a = tmpdir(), *b = tmpdir();
	g_autoptr(GPtrArray) stores = g_ptr_array_new_with_free_func((GDestroyNotify)drstore_free);
	DrStore *sa = drstore_new("local", 1), *sb = drstore_new("offsite", 2);
	sa->path = g_strdup(a);
	sb->path = g_strdup(b);
	g_ptr_array_add(stores, sa);
	g_ptr_array_add(stores, sb);
	drrecover_configure(stores);
	point(a, "20261121T000000Z", "h1", "web", "hf-dr-local-20261121T000000Z");
	point(b, "20261120T000000Z", "h1", "web", "hf-dr-20261120T000000Z");
	const char *const cks[] = {"hf-dr-20261120T000000Z", /* legacy, offsite holds it: kept */
				   "hf-dr-20261118T000000Z", /* legacy, nobody's: orphan */
				   "hf-dr-local-20261121T000000Z",   /* published: kept */
				   "hf-dr-local-20261121T000500Z",   /* local, died: orphan */
				   "hf-dr-offsite-20261121T000500Z", /* offsite's: kept */
				   NULL};
	g_autoptr(FakeConn) f = fake_new(cks);
	g_autofree char *gdir = g_build_filename(a, UUID, NULL);
	g_autoptr(cJSON) report = cJSON_CreateArray();
	drrecover_orphans(&f->base, "web", gdir, report);
	g_autofree char *left = fake_names(f);
	assert_string_equal(left, "hf-dr-20261120T000000Z,hf-dr-local-20261121T000000Z,"
				  "hf-dr-offsite-20261121T000500Z");
	assert_int_equal(cJSON_GetArraySize(report), 2);
	drrecover_configure(NULL);
	rm_rf(a);
	rm_rf(b);
}

/* ---- the guest directory's lock ---- */

static void test_lock(void **state)
{
	g_autofree char *root = tmpdir();
	g_autofree char *gdir = g_build_filename(root, UUID, NULL);
	g_auto(DrStoreLock) a = DRSTORE_LOCK_INIT;
	HfError e = {0};
	assert_int_equal(
	    drstore_lock(gdir, "dr.copy of h1/web into DR store 'local'", 0, NULL, NULL, &a, &e),
	    0);
	/* a second holder (another open file: flock conflicts within one process too) */
	DrStoreLock b = DRSTORE_LOCK_INIT;
	gint64 t0 = g_get_monotonic_time();
	assert_int_equal(drstore_lock(gdir, "retention", 1, NULL, NULL, &b, &e), -1);
	assert_true(g_get_monotonic_time() - t0 >= G_USEC_PER_SEC);
	assert_string_equal(e.code, HF_ERR_CONFLICT);
	assert_non_null(strstr(e.message, gdir));
	assert_non_null(strstr(e.message, "dr.copy of h1/web into DR store 'local'"));
	assert_int_equal(b.fd, -1);
	/* the lock file is never a point */
	point(root, "20261120T000000Z", "h1", "web", "hf-dr-local-20261120T000000Z");
	g_autoptr(GPtrArray) pts = NULL;
	assert_int_equal(drstore_points(gdir, &pts, &e), 0);
	assert_int_equal(pts->len, 1);
	assert_null(drstore_unreadable_point(gdir));
	drstore_unlock(&a);
	error_clear(&e);
	assert_int_equal(drstore_lock(gdir, "retention", 0, NULL, NULL, &b, &e), 0);
	drstore_unlock(&b);
	drstore_unlock(&b); /* twice is harmless */
	rm_rf(root);
}

static bool yes(void *opaque)
{
	return true;
}

static void test_lock_cancelled(void **state)
{
	g_autofree char *root = tmpdir();
	g_autofree char *gdir = g_build_filename(root, UUID, NULL);
	g_auto(DrStoreLock) a = DRSTORE_LOCK_INIT;
	g_auto(DrStoreLock) b = DRSTORE_LOCK_INIT;
	HfError e = {0};
	assert_int_equal(drstore_lock(gdir, "one", 0, NULL, NULL, &a, &e), 0);
	assert_int_equal(drstore_lock(gdir, "two", 600, yes, NULL, &b, &e), -1);
	assert_string_equal(e.code, HF_ERR_CANCELLED);
	rm_rf(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),	   cmocka_unit_test(test_of_store),
	    cmocka_unit_test(test_drop_one_store), cmocka_unit_test(test_orphans),
	    cmocka_unit_test(test_lock),	   cmocka_unit_test(test_lock_cancelled),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
