/* test_drrestore.c - the pure parts of restores and failover: the restore plan, its journal's
 * recovery on real files, the failover mark, the restore record in the domain XML, the NVRAM
 * capture. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "daemon/drmark.h"
#include "daemon/drnvram.h"
#include "daemon/drrplan.h"
#include "daemon/drstore.h"
#include "daemon/drxml.h"
#include "daemon/policy.h" /* g_autoptr(cJSON) */

static char *tmpdir(void)
{
	return g_dir_make_tmp("hf-drrestore-XXXXXX", NULL);
}

static void put(const char *dir, const char *name, const char *data)
{
	g_autofree char *p = g_build_filename(dir, name, NULL);
	assert_true(g_file_set_contents(p, data, -1, NULL));
}

static char *get(const char *dir, const char *name)
{
	g_autofree char *p = g_build_filename(dir, name, NULL);
	char *data = NULL;
	return g_file_get_contents(p, &data, NULL, NULL) ? data : NULL;
}

static bool exists(const char *dir, const char *name)
{
	g_autofree char *p = g_build_filename(dir, name, NULL);
	return g_file_test(p, G_FILE_TEST_EXISTS);
}

static void rmtree(const char *dir)
{
	drstore_discard(dir); /* its files, then the directory */
}

/* A manifest of a two-disk point in pdir; disks were at sdir. */
static cJSON *manifest(const char *pdir, const char *sdir, const char *nvram)
{
	g_autofree char *json = g_strdup_printf(
	    "{\"point\":\"20261121T061500Z\",\"guest\":\"w1\",\"uuid\":\"u-1\",\"dir\":\"%s\","
	    "\"disks\":[{\"target\":\"vda\",\"file\":\"vda.qcow2\",\"source\":\"%s/w1.qcow2\","
	    "\"virtual_size\":67108864},{\"target\":\"vdb\",\"file\":\"vdb.qcow2\",\"source\":"
	    "\"%s/w1-b.qcow2\",\"virtual_size\":33554432}]%s%s%s}",
	    pdir, sdir, sdir, nvram ? ",\"nvram\":{\"file\":\"nvram.fd\",\"source\":\"" : "",
	    nvram ? nvram : "", nvram ? "\"}" : "");
	return cJSON_Parse(json);
}

static void test_plan_new_guest(void **state)
{
	g_autoptr(cJSON) m = manifest("/store/u-1/P", "/var/lib/img", "/var/nv/w1_VARS.fd");
	HfError err = {0};
	g_autoptr(DrRestorePlan) p = drrplan_new(m, "r1", NULL, NULL, NULL, &err);
	assert_non_null(p);
	assert_int_equal(p->disks->len, 2);
	const DrRestoreDisk *a = p->disks->pdata[0], *b = p->disks->pdata[1];
	assert_string_equal(a->from, "/store/u-1/P/vda.qcow2");
	assert_string_equal(a->to, "/var/lib/img/r1-vda.qcow2");
	assert_string_equal(a->tmp, "/var/lib/img/r1-vda.qcow2.hf-partial");
	assert_null(a->before);
	assert_string_equal(b->to, "/var/lib/img/r1-vdb.qcow2");
	assert_string_equal(p->nvram_to, "/var/nv/r1_VARS.fd");
	assert_string_equal(p->nvram_tmp, "/var/nv/r1_VARS.fd.hf-partial");
	g_autoptr(DrRestorePlan) q = drrplan_new(m, "r1", "/elsewhere", NULL, NULL, &err);
	assert_string_equal(((DrRestoreDisk *)q->disks->pdata[1])->to, "/elsewhere/r1-vdb.qcow2");
	g_autoptr(GHashTable) files = drrplan_files(q);
	assert_string_equal(g_hash_table_lookup(files, "vda"), "/elsewhere/r1-vda.qcow2");
}

static void test_plan_in_place(void **state)
{
	g_autoptr(cJSON) m = manifest("/store/u-1/P", "/var/lib/img", NULL);
	g_autoptr(GHashTable) cur = g_hash_table_new(g_str_hash, g_str_equal);
	HfError err = {0};
	g_hash_table_insert(cur, "vda", "/now/w1.qcow2");
	assert_null(drrplan_new(m, "w1", NULL, cur, NULL, &err));
	assert_string_equal(err.code, HF_ERR_CONFLICT);
	assert_non_null(strstr(err.message, "no disk image file for target vdb"));
	g_hash_table_insert(cur, "vdb", "/now/w1-b.qcow2");
	error_clear(&err);
	g_autoptr(DrRestorePlan) p = drrplan_new(m, "w1", NULL, cur, NULL, &err);
	assert_non_null(p);
	const DrRestoreDisk *b = p->disks->pdata[1];
	assert_string_equal(b->to, "/now/w1-b.qcow2");
	assert_string_equal(b->before, "/now/w1-b.qcow2.hf-before-restore-20261121T061500Z");
	assert_null(p->nvram_to);
}

static DrRestorePlan *plan_in(const char *dir, bool in_place)
{
	g_autoptr(cJSON) m = manifest("/store/u-1/P", dir, NULL);
	g_autoptr(GHashTable) cur = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	g_hash_table_insert(cur, "vda", g_build_filename(dir, "w1.qcow2", NULL));
	g_hash_table_insert(cur, "vdb", g_build_filename(dir, "w1-b.qcow2", NULL));
	HfError err = {0};
	DrRestorePlan *p =
	    drrplan_new(m, in_place ? "w1" : "r1", NULL, in_place ? cur : NULL, NULL, &err);
	assert_non_null(p);
	return p;
}

#define PT "20261121T061500Z"

/* UEFI guests: never the source's NVRAM file; in place, the guest's file now. */
static void test_nvram_path(void **state)
{
	const char *src = "/nv/w1_VARS.fd";
	g_autofree char *a = drrplan_nvram_path(src, "r1", PT, false, NULL);
	g_autofree char *b = drrplan_nvram_path(src, "w1", PT, false, NULL);
	g_autofree char *c = drrplan_nvram_path(src, "r1", PT, false, "/nv/r1_VARS.fd");
	g_autofree char *d = drrplan_nvram_path(src, "w1", PT, true, "/other/w1.fd");
	g_autofree char *e = drrplan_nvram_path("/nv/old_VARS.fd", "w1", PT, true, NULL);
	g_autofree char *f = drrplan_nvram_path("/nv/custom.fd", "w1", PT, false, NULL);
	assert_string_equal(a, "/nv/r1_VARS.fd"); /* like libvirt's NAME_VARS.fd */
	/* the DR guest takes the source's name on its host (failover): not the source's file */
	assert_string_equal(b, "/nv/w1-" PT "_VARS.fd");
	assert_string_equal(c, "/nv/r1-" PT "_VARS.fd"); /* the source's file now, known */
	assert_string_equal(d, "/other/w1.fd");		  /* in place: the live path */
	assert_string_equal(e, "/nv/w1_VARS.fd");	  /* not the manifest's path */
	assert_string_equal(f, "/nv/w1_VARS.fd");
	assert_null(drrplan_nvram_path(NULL, "w1", PT, false, NULL));
	assert_null(drrplan_nvram_path("rel.fd", "w1", PT, false, NULL));
}

/* The plan's NVRAM: captured (a file written), or not (libvirt makes one; an explicit path only
 * where libvirt's default would be the source's file). */
static void test_plan_nvram(void **state)
{
	HfError err = {0};
	g_autoptr(cJSON) m = manifest("/store/u-1/P", "/var/lib/img", "/nv/w1_VARS.fd");
	g_autoptr(DrRestorePlan) same = drrplan_new(m, "w1", NULL, NULL, NULL, &err);
	assert_string_equal(same->nvram_to, "/nv/w1-" PT "_VARS.fd");
	assert_string_equal(same->nvram_path, same->nvram_to);
	assert_null(same->nvram_before);
	g_autoptr(GHashTable) cur = g_hash_table_new(g_str_hash, g_str_equal);
	g_hash_table_insert(cur, "vda", "/now/w1.qcow2");
	g_hash_table_insert(cur, "vdb", "/now/w1-b.qcow2");
	g_autoptr(DrRestorePlan) ip = drrplan_new(m, "w1", NULL, cur, "/live/w1.fd", &err);
	assert_string_equal(ip->nvram_to, "/live/w1.fd");
	assert_string_equal(ip->nvram_before, "/live/w1.fd.hf-before-restore-" PT);
	/* not captured (a remote host): nothing written */
	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(m, "nvram"), "file");
	g_autoptr(DrRestorePlan) nc = drrplan_new(m, "w1", NULL, NULL, NULL, &err);
	assert_null(nc->nvram_to);
	assert_null(nc->nvram_from);
	assert_string_equal(nc->nvram_path, "/nv/w1-" PT "_VARS.fd");
	g_autoptr(DrRestorePlan) other = drrplan_new(m, "r1", NULL, NULL, NULL, &err);
	assert_null(other->nvram_path); /* libvirt's r1_VARS.fd is not the source's */
	g_autoptr(DrRestorePlan) ipn = drrplan_new(m, "w1", NULL, cur, "/live/w1.fd", &err);
	assert_null(ipn->nvram_to);
	assert_string_equal(ipn->nvram_path, "/live/w1.fd"); /* keeps its own */
}

/* A restore moves files into place without ever replacing one, also without
 * RENAME_NOREPLACE (link + unlink). */
static void test_rename_noreplace(void **state)
{
	g_autofree char *dir = tmpdir();
	g_autofree char *a = g_build_filename(dir, "a.qcow2.hf-partial", NULL);
	g_autofree char *b = g_build_filename(dir, "a.qcow2", NULL);
	for (int fallback = 0; fallback < 2; fallback++) {
		if (fallback)
			g_setenv("HOLDFAST_TEST_NO_RENAME_NOREPLACE", "1", TRUE);
		HfError err = {0};
		put(dir, "a.qcow2.hf-partial", "new");
		put(dir, "a.qcow2", "theirs");
		assert_int_equal(drrplan_rename(a, b, &err), -1);
		assert_string_equal(err.code, HF_ERR_CONFLICT);
		g_autofree char *want = g_strdup_printf("%s exists already", b);
		assert_non_null(strstr(err.message, want));
		g_autofree char *kept = get(dir, "a.qcow2"), *src = get(dir, "a.qcow2.hf-partial");
		assert_string_equal(kept, "theirs");
		assert_string_equal(src, "new");
		g_unlink(b);
		error_clear(&err);
		assert_int_equal(drrplan_rename(a, b, &err), 0);
		g_autofree char *moved = get(dir, "a.qcow2");
		assert_string_equal(moved, "new");
		assert_false(exists(dir, "a.qcow2.hf-partial"));
		g_unlink(b);
	}
	g_unsetenv("HOLDFAST_TEST_NO_RENAME_NOREPLACE");
	rmtree(dir);
}

/* A new-guest restore that died: its files go, unless the guest got defined. */
static void test_recover_new_guest(void **state)
{
	g_autofree char *dir = tmpdir();
	g_autoptr(DrRestorePlan) p = plan_in(dir, false);
	g_autoptr(cJSON) j = drrplan_journal(p, "lab", "writing", false);
	put(dir, "r1-vda.qcow2", "done");
	put(dir, "r1-vdb.qcow2.hf-partial", "half");
	put(dir, "r1-other.qcow2", "not ours");
	HfError err = {0};
	g_autofree char *note = NULL;
	assert_int_equal(drrplan_recover(j, false, &note, &err), 0);
	assert_false(exists(dir, "r1-vda.qcow2"));
	assert_false(exists(dir, "r1-vdb.qcow2.hf-partial"));
	assert_true(exists(dir, "r1-other.qcow2"));
	assert_non_null(strstr(note, "r1-vdb.qcow2.hf-partial"));
	put(dir, "r1-vda.qcow2", "done");
	assert_int_equal(drrplan_recover(j, true, NULL, &err), 0);
	assert_true(exists(dir, "r1-vda.qcow2")); /* defined: complete */
	rmtree(dir);
}

/* An in-place restore that died while swapping: the guest's own images go back. */
static void test_recover_in_place(void **state)
{
	g_autofree char *dir = tmpdir();
	g_autoptr(DrRestorePlan) p = plan_in(dir, true);
	const char *bef = ".hf-before-restore-20261121T061500Z";
	g_autofree char *ba = g_strconcat("w1.qcow2", bef, NULL);
	g_autofree char *bb = g_strconcat("w1-b.qcow2", bef, NULL);
	HfError err = {0};
	/* vda swapped (new in place, old kept), vdb only moved aside */
	put(dir, "w1.qcow2", "new-a");
	put(dir, ba, "old-a");
	put(dir, bb, "old-b");
	put(dir, "w1-b.qcow2.hf-partial", "new-b");
	g_autoptr(cJSON) js = drrplan_journal(p, "lab", "swapping", false);
	assert_int_equal(drrplan_recover(js, true, NULL, &err), 0);
	g_autofree char *a = get(dir, "w1.qcow2"), *b = get(dir, "w1-b.qcow2");
	assert_string_equal(a, "old-a");
	assert_string_equal(b, "old-b");
	assert_false(exists(dir, ba));
	assert_false(exists(dir, "w1-b.qcow2.hf-partial"));
	/* died while writing: a kept image of an earlier restore (--keep-old) stays untouched */
	put(dir, ba, "kept-earlier");
	put(dir, "w1.qcow2.hf-partial", "half");
	g_autoptr(cJSON) jw = drrplan_journal(p, "lab", "writing", false);
	assert_int_equal(drrplan_recover(jw, true, NULL, &err), 0);
	g_autofree char *a2 = get(dir, "w1.qcow2"), *k = get(dir, ba);
	assert_string_equal(a2, "old-a");
	assert_string_equal(k, "kept-earlier");
	assert_false(exists(dir, "w1.qcow2.hf-partial"));
	/* defined: the kept images go, unless keep_old */
	g_autoptr(cJSON) jk = drrplan_journal(p, "lab", "defined", true);
	assert_int_equal(drrplan_recover(jk, true, NULL, &err), 0);
	assert_true(exists(dir, ba));
	g_autoptr(cJSON) jd = drrplan_journal(p, "lab", "defined", false);
	assert_int_equal(drrplan_recover(jd, true, NULL, &err), 0);
	assert_false(exists(dir, ba));
	assert_true(exists(dir, "w1.qcow2"));
	rmtree(dir);
}

/* A journal naming files that are not a restore's temporary names touches nothing. */
static void test_recover_foreign_names(void **state)
{
	g_autofree char *dir = tmpdir();
	g_autofree char *to = g_build_filename(dir, "data.qcow2", NULL);
	g_autofree char *tmp = g_build_filename(dir, "other.img", NULL);
	put(dir, "data.qcow2", "x");
	put(dir, "other.img", "y");
	g_autofree char *json = g_strdup_printf(
	    "{\"step\":\"writing\",\"in_place\":false,\"files\":[{\"to\":\"%s\",\"tmp\":\"%s\"}]}",
	    to, tmp);
	g_autoptr(cJSON) j = cJSON_Parse(json);
	HfError err = {0};
	assert_int_equal(drrplan_recover(j, false, NULL, &err), 0);
	assert_true(exists(dir, "data.qcow2"));
	assert_true(exists(dir, "other.img"));
	rmtree(dir);
}

static void test_journal_path(void **state)
{
	g_autofree char *p = drrplan_journal_path("/var/lib/holdfast", "lab", "a b/c");
	assert_string_equal(p, "/var/lib/holdfast/drrestore/lab-a%20b%2Fc.json");
}

static void test_mark(void **state)
{
	g_autofree char *x = drxml_failover_mark("2026-11-21T07:00:00Z", "20261121T065900Z", "dr",
						 "w<1>", "planned");
	assert_non_null(strstr(x, "<failover "));
	assert_non_null(strstr(x, "name=\"w&lt;1&gt;\""));
	g_autoptr(GHashTable) a = drxml_attrs(x);
	assert_non_null(a);
	assert_string_equal(g_hash_table_lookup(a, "name"), "w<1>");
	assert_string_equal(g_hash_table_lookup(a, "point"), "20261121T065900Z");
	assert_string_equal(g_hash_table_lookup(a, "mode"), "planned");
	assert_null(drxml_attrs(NULL));
	assert_null(drxml_attrs("<not"));
}

static const char *SRC =
    "<domain type='kvm'><name>w1</name><uuid>u-1</uuid><metadata>"
    "<hffo:failover xmlns:hffo='" DRXML_NS_FAILOVER "' point='P0'/>"
    "<x:other xmlns:x='urn:x'/></metadata><os><type>hvm</type><nvram>/nv/w1_VARS.fd</nvram>"
    "</os><devices><disk type='file' device='disk'><source file='/i/w1.qcow2'/>"
    "<target dev='vda'/></disk><interface type='network'><mac address='52:54:00:00:00:01'/>"
    "</interface></devices></domain>";

static void test_xml_record(void **state)
{
	g_autoptr(GHashTable) files = g_hash_table_new(g_str_hash, g_str_equal);
	g_hash_table_insert(files, "vda", "/i/r1-vda.qcow2");
	DrXmlRecord rec = {.point = "P2", .guest = "w1", .uuid = "u-1", .time = "T"};
	DrXmlOpts o = {.name = "r1", .files = files, .keep_mac = true, .record = &rec};
	HfError err = {0};
	g_autofree char *x = drxml_restore(SRC, &o, &err);
	assert_non_null(x);
	assert_null(strstr(x, "<uuid>"));		 /* a new UUID */
	assert_non_null(strstr(x, "52:54:00:00:00:01")); /* MAC kept (keep_mac) */
	assert_null(strstr(x, DRXML_NS_FAILOVER));	 /* never the source's mark */
	assert_non_null(strstr(x, "urn:x"));		 /* other metadata stays */
	assert_non_null(strstr(x, DRXML_NS_RESTORE));
	assert_non_null(strstr(x, "point=\"P2\""));
	g_autofree char *nv = drxml_nvram(SRC);
	assert_string_equal(nv, "/nv/w1_VARS.fd");
	assert_null(drxml_nvram("<domain><os/></domain>"));
}

/* The store's failover mark applies until a newer point lands in the directory. */
/* A passthrough LUN is never in a point: left out of a new or test guest (noted), kept in
 * place; a disk without an image still fails. */
static void test_xml_lun(void **state)
{
	(void)state;
	const char *xml =
	    "<domain type='kvm'><name>w1</name><devices>"
	    "<disk type='file' device='disk'><source file='/vm/w1.qcow2'/><target dev='vda'/></disk>"
	    "<disk type='block' device='lun'><source dev='/dev/sdq'/><target dev='sdb' "
	    "bus='scsi'/></disk></devices></domain>";
	g_autoptr(GHashTable) files = g_hash_table_new(g_str_hash, g_str_equal);
	g_hash_table_insert(files, "vda", "/t/vda.qcow2");
	HfError err = {0};
	g_autoptr(cJSON) res = cJSON_CreateObject();
	DrXmlOpts o = {
	    .name = "hf-test-w1", .files = files, .left_out = g_ptr_array_new_with_free_func(g_free)};
	g_autofree char *x = drxml_restore(xml, &o, &err);
	drxml_left_out(o.left_out, res);
	assert_non_null(x);
	assert_null(strstr(x, "/dev/sdq"));
	assert_non_null(strstr(x, "/t/vda.qcow2"));
	const char *note = cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(res, "left_out"), 0));
	assert_non_null(note);
	assert_non_null(strstr(note, "sdb (lun /dev/sdq)"));
	DrXmlOpts inplace = {.name = "w1", .files = files, .keep_uuid = true, .keep_luns = true};
	g_autofree char *y = drxml_restore(xml, &inplace, &err);
	assert_non_null(y);
	assert_non_null(strstr(y, "/dev/sdq"));
	g_hash_table_remove(files, "vda");
	DrXmlOpts missing = {.name = "w2", .files = files};
	assert_null(drxml_restore(xml, &missing, &err));
	assert_non_null(strstr(err.message, "disk vda of the restore point's domain XML has no image"));
}

static void test_store_mark(void **state)
{
	g_autofree char *dir = tmpdir();
	g_autoptr(cJSON) m = cJSON_Parse("{\"point\":\"P5\",\"mode\":\"planned\"}");
	HfError err = {0};
	assert_null(drmark_store_get(dir, "P5"));
	assert_int_equal(drmark_store(dir, m, &err), 0);
	g_autoptr(cJSON) got = drmark_store_get(dir, "P5");
	assert_non_null(got);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(got, "mode")), "planned");
	assert_null(drmark_store_get(dir, "P6")); /* copies went on after it */
	rmtree(dir);
}

static void test_nvram_capture(void **state)
{
	g_autofree char *dir = tmpdir();
	put(dir, "w1_VARS.fd", "uefi-vars");
	g_autofree char *nvp = g_build_filename(dir, "w1_VARS.fd", NULL);
	g_autofree char *xml = g_strdup_printf("<domain><os><nvram>%s</nvram></os></domain>", nvp);
	g_autoptr(cJSON) m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "domain_xml", xml);
	cJSON_AddArrayToObject(m, "files");
	g_autofree char *part = g_build_filename(dir, "P.partial", NULL);
	g_mkdir(part, 0755);
	HfError err = {0};
	assert_int_equal(drnvram_capture(part, m, &err), 0);
	g_autofree char *copy = get(part, "nvram.fd");
	assert_string_equal(copy, "uefi-vars");
	const cJSON *nv = cJSON_GetObjectItem(m, "nvram");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(nv, "file")), "nvram.fd");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(m, "files")), 1);
	/* unreadable (e.g. a remote host's path): recorded, no file, no failure */
	g_autoptr(cJSON) m2 = cJSON_CreateObject();
	cJSON_AddStringToObject(m2, "domain_xml",
				"<domain><os><nvram>/nonexistent/x.fd</nvram></os></domain>");
	cJSON_AddArrayToObject(m2, "files");
	assert_int_equal(drnvram_capture(part, m2, &err), 0);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(m2, "nvram"), "file")));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(m2, "files")), 0);
	rmtree(part);
	rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plan_new_guest),
	    cmocka_unit_test(test_xml_lun),
	    cmocka_unit_test(test_plan_in_place),
	    cmocka_unit_test(test_nvram_path),
	    cmocka_unit_test(test_plan_nvram),
	    cmocka_unit_test(test_rename_noreplace),
	    cmocka_unit_test(test_recover_new_guest),
	    cmocka_unit_test(test_recover_in_place),
	    cmocka_unit_test(test_recover_foreign_names),
	    cmocka_unit_test(test_journal_path),
	    cmocka_unit_test(test_mark),
	    cmocka_unit_test(test_xml_record),
	    cmocka_unit_test(test_nvram_capture),
	    cmocka_unit_test(test_store_mark),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
