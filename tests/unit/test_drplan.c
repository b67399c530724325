/* Unit tests: the planner's parent in a guest directory that two guests with one UUID share
 * (a clone, a failed-over copy beside its source): only points of the same host and guest name
 * (daemon/drplan.c). The hypervisor is a test double at the driver boundary (fakedrv.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <string.h>

#include "daemon/drplan.h"
#include "fakedrv.h"

static DrvGuest *guest(const char *name)
{
	DrvGuest *g = g_new0(DrvGuest, 1);
	g->name = g_strdup(name);
	g->uuid = g_strdup(UUID);
	g->disks = g_ptr_array_new_with_free_func((GDestroyNotify)drv_disk_free);
	DrvDisk *d = g_new0(DrvDisk, 1);
	d->target = g_strdup("vda");
	d->device = g_strdup("disk");
	d->path = g_strdup("/img/vda.qcow2");
	d->capacity = 1 << 20;
	g_ptr_array_add(g->disks, d);
	return g;
}

static void test_plan_same_origin(void **state)
{
	g_autofree char *root = tmpdir();
	g_autofree char *gdir = g_build_filename(root, UUID, NULL);
	point(root, "20261120T000000Z", "h1", "web", "hf-dr-local-20261120T000000Z");
	point(root, "20261121T000000Z", "h2", "web", "hf-dr-local-20261121T000000Z"); /* clone */
	const char *const cks[] = {"hf-dr-local-20261120T000000Z", "hf-dr-local-20261121T000000Z",
				   NULL};
	g_autoptr(FakeConn) f = fake_new(cks);
	g_autoptr(GPtrArray) pts = NULL;
	HfError e = {0};
	assert_int_equal(drstore_points(gdir, &pts, &e), 0);
	assert_int_equal(pts->len, 2);

	g_autoptr(DrvGuest) g = guest("web");
	g_auto(DrPlan) p1 = {0};
	assert_int_equal(drplan_make(&f->base, g, "h1", pts, false, 14, &p1, &e), 0);
	assert_null(p1.why_full);
	assert_string_equal(p1.parent, "20261120T000000Z"); /* not h2's newer point */
	assert_string_equal(p1.incremental, "hf-dr-local-20261120T000000Z");

	g_auto(DrPlan) p3 = {0};
	assert_int_equal(drplan_make(&f->base, g, "h3", pts, false, 14, &p3, &e), 0);
	assert_non_null(p3.why_full);
	assert_null(p3.parent);
	assert_non_null(strstr(p3.why_full, "h2/web"));

	g_autoptr(DrvGuest) other = guest("web-clone");
	g_auto(DrPlan) p4 = {0};
	assert_int_equal(drplan_make(&f->base, other, "h1", pts, false, 14, &p4, &e), 0);
	assert_non_null(p4.why_full);
	assert_null(drplan_last(pts, "h1", "web-clone"));
	rm_rf(root);
}

/* A point dr verify --compare found wrong (compare_failed in its manifest) is never a parent,
 * even while its checkpoint still exists: a full, saying why. */
static void test_plan_compare_failed(void **state)
{
	g_autofree char *root = tmpdir();
	g_autofree char *gdir = g_build_filename(root, UUID, NULL);
	point(root, "20261120T000000Z", "h1", "web", "hf-dr-local-20261120T000000Z");
	const char *const cks[] = {"hf-dr-local-20261120T000000Z", NULL};
	g_autoptr(FakeConn) f = fake_new(cks);
	g_autoptr(GPtrArray) pts = NULL;
	HfError e = {0};
	assert_int_equal(drstore_points(gdir, &pts, &e), 0);
	g_autoptr(DrvGuest) g = guest("web");
	g_auto(DrPlan) ok = {0};
	assert_int_equal(drplan_make(&f->base, g, "h1", pts, false, 14, &ok, &e), 0);
	assert_null(ok.why_full);
	cJSON *bad = cJSON_AddObjectToObject(pts->pdata[0], "compare_failed");
	cJSON_AddStringToObject(bad, "target", "vda");
	cJSON_AddNumberToObject(bad, "offset", 65536);
	cJSON_AddStringToObject(bad, "time", "2026-11-21T00:00:00Z");
	g_auto(DrPlan) p = {0};
	assert_int_equal(drplan_make(&f->base, g, "h1", pts, false, 14, &p, &e), 0);
	assert_null(p.parent);
	assert_non_null(p.why_full);
	assert_non_null(strstr(p.why_full, "rebuilds disk vda wrong (first at offset 65536"));
	rm_rf(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plan_same_origin),
	    cmocka_unit_test(test_plan_compare_failed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
