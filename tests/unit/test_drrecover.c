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
	    drrecover_ck_drop(&f->base, "web", drrecover_ck_store_but, &k, 0, dropped, failed, &e), 2);
	assert_int_equal(cJSON_GetArraySize(failed), 0);
	g_autofree char *left = fake_names(f);
	assert_string_equal(left, "hf-dr-20261119T000000Z,hf-dr-offsite-20261121T000000Z,foreign,"
				  "hf-dr-offsite-20261122T000000Z,hf-dr-local-20261122T000001Z");
	g_autofree char *d = cJSON_PrintUnformatted(dropped);
	assert_string_equal(d, "[\"hf-dr-20261120T000000Z\",\"hf-dr-local-20261121T000001Z\"]");

	assert_int_equal(drrecover_ck_drop(&f->base, "web", drrecover_ck_any, NULL, 0, NULL, NULL, &e),
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

/* ---- a backup job left by a copy that died ---- */

/* The fake driver plus one backup job: its files, aborted or not. */
static GPtrArray *job_files; /* char*; empty: no job */
static int aborts;

static int job_targets(DrvConn *c, const char *guest, unsigned flags, char ***out, HfError *err)
{
	GStrvBuilder *b = g_strv_builder_new();
	for (guint i = 0; i < job_files->len; i++)
		g_strv_builder_add(b, job_files->pdata[i]);
	*out = g_strv_builder_end(b);
	g_strv_builder_unref(b);
	return 0;
}

static int job_abort(DrvConn *c, const char *guest, unsigned flags, HfError *err)
{
	if (!(flags & DRV_BACKUP_ABORT_MARKED_ONLY) && job_files->len) {
		aborts++;
		g_ptr_array_set_size(job_files, 0);
	}
	return 0;
}

static const DrvDriver job_drv = {
    .name = "fake-job",
    .checkpoint_list = fake_list,
    .checkpoint_delete = fake_delete,
    .checkpoint_check = fake_check,
    .backup_job_targets = job_targets,
    .backup_abort = job_abort,
};

/* A job with these files (NULL-terminated) on a guest with these checkpoints: recovered? */
static bool recovered(const char *const *files, const char *const *cks, char **roots, char **left,
		      cJSON *report)
{
	g_autoptr(FakeConn) f = fake_new(cks);
	f->base.drv = &job_drv;
	job_files = g_ptr_array_new_with_free_func(g_free);
	for (; *files; files++)
		g_ptr_array_add(job_files, g_strdup(*files));
	aborts = 0;
	HfError e = {0};
	assert_int_equal(drrecover_guest(&f->base, "web", roots, report, &e), 0);
	*left = fake_names(f);
	g_ptr_array_unref(job_files);
	return aborts == 1;
}

static void touch(const char *path)
{
	assert_true(g_file_set_contents(path, "x", 1, NULL));
}

static void test_dead_pull(void **state)
{
	g_autofree char *store = tmpdir(), *scr = tmpdir();
	g_autoptr(GPtrArray) stores = g_ptr_array_new_with_free_func((GDestroyNotify)drstore_free);
	DrStore *sa = drstore_new("local", 1);
	sa->path = g_strdup(store);
	g_ptr_array_add(stores, sa);
	drrecover_configure(stores);
	char *roots[] = {store, NULL};
	const char *cks[] = {"hf-dr-local-20261120T000000Z", "hf-dr-local-20261121T000000Z-2",
			     "foreign", NULL};
	g_autofree char *left = NULL;

	/* scratch files in scratch-dir (or /var/tmp of a remote host): found by their names,
	 * the job aborted, its checkpoint deleted (not the published point's), the files gone */
	g_autofree char *a =
	    g_build_filename(scr, "hf-dr-local-20261121T000000Z-2-vda.scratch", NULL);
	g_autofree char *b = g_build_filename(
	    scr, "hf-dr-local-20261121T000000Z-2-0b5d3a6e-8d51-4a58-9f51-1c2a3b4c5d6e-vdb.scratch",
	    NULL);
	touch(a);
	touch(b);
	g_autoptr(cJSON) report = cJSON_CreateArray();
	assert_true(recovered((const char *const[]){a, b, NULL}, cks, roots, &left, report));
	assert_string_equal(left, "hf-dr-local-20261120T000000Z,foreign");
	assert_false(g_file_test(a, G_FILE_TEST_EXISTS) || g_file_test(b, G_FILE_TEST_EXISTS));
	g_autofree char *r = cJSON_PrintUnformatted(report);
	assert_non_null(strstr(r, "aborted the backup job"));
	assert_non_null(strstr(r, "removed scratch file"));
	g_clear_pointer(&left, g_free);

	/* legacy names (hf-dr-POINT-TARGET.scratch in /var/tmp): recognised too */
	const char *legacy[] = {"/var/tmp/hf-dr-20261121T000000Z-vda.scratch", NULL};
	const char *lcks[] = {"hf-dr-20261121T000000Z", NULL};
	assert_true(recovered(legacy, lcks, roots, &left, NULL));
	assert_string_equal(left, "");
	g_clear_pointer(&left, g_free);

	/* the .partial rule (push targets, scratch files there) still holds, with the scratch
	 * name agreeing */
	g_autofree char *part = g_build_filename(store, UUID, "20261121T000000Z-2.partial", NULL);
	assert_int_equal(g_mkdir_with_parents(part, 0755), 0);
	g_autofree char *pa = g_build_filename(part, "vda.qcow2", NULL);
	g_autofree char *ps =
	    g_build_filename(part, "hf-dr-local-20261121T000000Z-2-vda.scratch", NULL);
	assert_true(recovered((const char *const[]){pa, ps, NULL}, cks, roots, &left, NULL));
	assert_string_equal(left, "hf-dr-local-20261120T000000Z,foreign");
	assert_false(g_file_test(part, G_FILE_TEST_EXISTS));
	g_clear_pointer(&left, g_free);

	/* never touched: a file that is not holdfast's, names of two points, a name that only
	 * looks alike, a store this holdfastd does not have (another holdfastd's copy) */
	const char *const not_ours[][3] = {
	    {"/var/tmp/hf-dr-local-20261121T000000Z-2-vda.scratch", "/var/tmp/vdb.scratch", NULL},
	    {"/var/tmp/hf-dr-local-20261121T000000Z-2-vda.scratch",
	     "/var/tmp/hf-dr-local-20261122T000000Z-vdb.scratch", NULL},
	    {"/var/tmp/hf-dr-local-20261121T000000Z-2-vda.qcow2", NULL, NULL},
	    {"/var/tmp/hf-dr-local-vda.scratch", NULL, NULL},
	    {"/var/tmp/backup-20261121T000000Z-vda.scratch", NULL, NULL},
	    {"/var/tmp/hf-dr-local-20261121T000000Z-2-v.d/a.scratch", NULL, NULL},
	    {"/var/tmp/hf-dr-elsewhere-20261121T000000Z-2-vda.scratch", NULL, NULL},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(not_ours); i++) {
		g_autoptr(cJSON) rep = cJSON_CreateArray();
		assert_false(recovered(not_ours[i], cks, roots, &left, rep));
		assert_string_equal(left, "hf-dr-local-20261120T000000Z,"
					  "hf-dr-local-20261121T000000Z-2,foreign");
		g_clear_pointer(&left, g_free);
		if (i == G_N_ELEMENTS(not_ours) - 1) {
			g_autofree char *t = cJSON_PrintUnformatted(rep);
			assert_non_null(
			    strstr(t, "DR store 'elsewhere', which this holdfastd does not "
				      "have, is left alone"));
		}
	}
	drrecover_configure(NULL);
	rm_rf(store);
	rm_rf(scr);
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
	    cmocka_unit_test(test_dead_pull),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
