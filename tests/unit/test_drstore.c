/* test_drstore.c - DR store layout, manifests, sealing, publishing, checksums, [drstore]. */
#include <glib.h>
#include <glib/gstdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/config.h"
#include "daemon/drstore.h"
#include "daemon/drxml.h"
#include "daemon/policy.h" /* g_autoptr(cJSON) */

#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static char *tmpdir(void)
{
	return g_dir_make_tmp("hfdrstore.XXXXXX", NULL);
}

static void rm_rf(const char *dir)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_point_ids(void **state)
{
	g_autofree char *root = tmpdir();
	g_autofree char *a = drstore_point_id(root, 1795241700); /* 2026-11-21T06:15:00Z */
	assert_string_equal(a, "20261121T061500Z");
	assert_true(drstore_point_id_valid(a));
	g_autofree char *p = g_build_filename(root, a, NULL);
	assert_int_equal(g_mkdir(p, 0755), 0);
	g_autofree char *b = drstore_point_id(root, 1795241700);
	assert_string_equal(b, "20261121T061500Z-2");
	assert_true(drstore_point_id_valid(b));
	assert_false(drstore_point_id_valid("20261121T061500Z.partial"));
	assert_false(drstore_point_id_valid("manifest.json"));
	assert_false(drstore_point_id_valid("2026112XT061500Z"));
	assert_false(drstore_point_id_valid(NULL));
	rm_rf(root);
}

static cJSON *manifest(const char *point, const char *parent)
{
	DrPointInfo i = {.point = point,
			 .guest = "w1",
			 .uuid = "u-1",
			 .host = "lab",
			 .kind = parent ? "incremental" : "full",
			 .checkpoint = "hf-dr-x",
			 .parent = parent,
			 .consistency = "filesystem",
			 .consistency_reason = "1 filesystem(s) frozen",
			 .domain_xml = "<domain/>",
			 .time = 1795241700,
			 .duration_s = 1.5,
			 .frozen_s = 0.17,
			 .processed = 3};
	cJSON *m = drstore_manifest_new(&i);
	drstore_manifest_add_disk(m, "vda", "vda.qcow2", "/var/lib/x.qcow2", 67108864, parent);
	return m;
}

static void test_manifest_json(void **state)
{
	g_autoptr(cJSON) m = manifest("20261121T061500Z", NULL);
	assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(m, "format")), DRSTORE_FORMAT);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(m, "time")),
			    "2026-11-21T06:15:00Z");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(m, "kind")), "full");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(m, "parent")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(m, "full_reason")));
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(m, "verified")));
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(m, "domain_xml")),
			    "<domain/>");
	const cJSON *d = cJSON_GetArrayItem(cJSON_GetObjectItem(m, "disks"), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(d, "target")), "vda");
	assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(d, "virtual_size")), 67108864);
}

/* begin -> files -> seal -> publish; partials are never listed and go with the next begin. */
static void test_layout(void **state)
{
	g_autofree char *root = tmpdir();
	g_autofree char *gdir = drstore_guest_dir(root, "u-1");
	g_autofree char *partial = NULL;
	HfError err = {0};
	g_autoptr(GPtrArray) pts = NULL;

	assert_int_equal(drstore_begin(gdir, "20261121T061500Z", &partial, &err), 0);
	assert_true(g_str_has_suffix(partial, "/u-1/20261121T061500Z.partial"));
	g_autofree char *img = g_build_filename(partial, "vda.qcow2", NULL);
	assert_true(g_file_set_contents(img, "abc", 3, NULL));
	g_autoptr(cJSON) m = manifest("20261121T061500Z", NULL);
	assert_int_equal(drstore_seal(partial, m, &err), 0);
	/* sealed but not published: not a point */
	assert_int_equal(drstore_points(gdir, &pts, &err), 0);
	assert_int_equal(pts->len, 0);
	g_clear_pointer(&pts, g_ptr_array_unref);
	assert_int_equal(drstore_publish(gdir, "20261121T061500Z", &err), 0);
	assert_int_equal(drstore_points(gdir, &pts, &err), 0);
	assert_int_equal(pts->len, 1);
	const cJSON *p = pts->pdata[0];
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(p, "verified")));
	const cJSON *f = cJSON_GetArrayItem(cJSON_GetObjectItem(p, "files"), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(f, "sha256")), SHA_ABC);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(f, "name")), "vda.qcow2");
	const cJSON *d = cJSON_GetArrayItem(cJSON_GetObjectItem(p, "disks"), 0);
	assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(d, "stored_size")), 3);
	g_autofree char *found = drstore_find_guest(root, "w1");
	assert_string_equal(found, gdir);
	g_autofree char *found2 = drstore_find_guest(root, "lab/w1");
	assert_string_equal(found2, gdir);
	assert_null(drstore_find_guest(root, "w2"));

	/* a second point whose copy died: listed never, discarded by the next begin */
	g_autofree char *dead = NULL, *next = NULL;
	assert_int_equal(drstore_begin(gdir, "20261122T000000Z", &dead, &err), 0);
	g_clear_pointer(&pts, g_ptr_array_unref);
	assert_int_equal(drstore_points(gdir, &pts, &err), 0);
	assert_int_equal(pts->len, 1);
	assert_int_equal(drstore_begin(gdir, "20261123T000000Z", &next, &err), 0);
	assert_false(g_file_test(dead, G_FILE_TEST_EXISTS));
	assert_true(g_file_test(next, G_FILE_TEST_IS_DIR));

	/* a point whose manifest cannot be read: skipped by drstore_points, named here */
	assert_null(drstore_unreadable_point(gdir));
	g_autofree char *bad = g_build_filename(gdir, "20261120T000000Z", NULL);
	g_autofree char *badm = g_build_filename(bad, DRSTORE_MANIFEST, NULL);
	assert_int_equal(g_mkdir(bad, 0700), 0);
	assert_true(g_file_set_contents(badm, "{not json", -1, NULL));
	g_autofree char *hidden = drstore_unreadable_point(gdir);
	assert_string_equal(hidden, "20261120T000000Z");
	rm_rf(root);
}

/* path = /srv/dr/ is stored without the trailing slash (recovery compares paths with it) */
static void test_path_slash(void **state)
{
	HfError err = {0};
	g_autoptr(DrStore) s = drstore_new("main", 1);
	assert_int_equal(drstore_set(s, "path", "/srv/dr//", &err), 0);
	assert_string_equal(s->path, "/srv/dr");
	assert_int_equal(drstore_set(s, "path", "/", &err), 0);
	assert_string_equal(s->path, "/");
}

static void test_checksum_mismatch(void **state)
{
	g_autofree char *root = tmpdir();
	g_autofree char *gdir = drstore_guest_dir(root, "u-1");
	g_autofree char *partial = NULL;
	HfError err = {0};

	assert_int_equal(drstore_begin(gdir, "20261121T061500Z", &partial, &err), 0);
	g_autofree char *img = g_build_filename(partial, "vda.qcow2", NULL);
	assert_true(g_file_set_contents(img, "abc", 3, NULL));
	g_autoptr(cJSON) m = manifest("20261121T061500Z", NULL);
	assert_int_equal(drstore_seal(partial, m, &err), 0);
	assert_int_equal(drstore_check_files(partial, m, &err), 0);
	assert_true(g_file_set_contents(img, "abd", 3, NULL));
	assert_int_equal(drstore_check_files(partial, m, &err), -1);
	assert_string_equal(err.code, HF_ERR_FAILED);
	assert_non_null(strstr(err.message, "restore point 20261121T061500Z"));
	assert_non_null(strstr(err.message, img));
	rm_rf(root);
}

static void test_chain_missing_parent(void **state)
{
	g_autoptr(GPtrArray) pts = g_ptr_array_new_with_free_func((GDestroyNotify)cJSON_Delete);
	g_ptr_array_add(pts, manifest("20261122T000000Z", "20261121T000000Z"));
	g_autoptr(cJSON) report = cJSON_CreateArray();
	HfError err = {0};
	assert_int_equal(drstore_verify_chain(pts, "20261101T000000Z", report, &err), -1);
	assert_string_equal(err.code, HF_ERR_NOT_FOUND);
}

static int load(const char *text, HfError *err)
{
	g_autofree char *root = tmpdir();
	g_autofree char *p = g_build_filename(root, "h.conf", NULL);
	assert_true(g_file_set_contents(p, text, -1, NULL));
	HfConfig *cfg = NULL;
	int rc = config_load(p, &cfg, err);
	if (rc == 0) {
		assert_int_equal(cfg->drstores->len, 1);
		assert_string_equal(((DrStore *)cfg->drstores->pdata[0])->path, "/srv/dr");
	}
	config_free(cfg);
	rm_rf(root);
	return rc;
}

static void test_config(void **state)
{
	HfError err = {0};
	assert_int_equal(load("[drstore main]\npath = /srv/dr\n", &err), 0);
	assert_int_equal(load("[daemon]\n[drstore main]\n", &err), -1);
	assert_non_null(strstr(err.message, ":2: [drstore main] path: missing"));
	error_clear(&err);
	assert_int_equal(load("[drstore main]\npath = rel/dir\n", &err), -1);
	assert_non_null(
	    strstr(err.message, ":2: [drstore main] path: 'rel/dir' is not an absolute"));
	error_clear(&err);
	assert_int_equal(load("[drstore main]\nsize = 3\n", &err), -1);
	assert_non_null(strstr(err.message, "size: unknown key"));
	error_clear(&err);
	assert_int_equal(load("[drstore a]\npath=/x\n[drstore a]\npath=/y\n", &err), -1);
	assert_non_null(strstr(err.message, ":3: [drstore a] is defined twice"));
}

static void test_rpo_config(void **state)
{
	HfError err = {0};
	g_autoptr(DrStore) s = drstore_new("main", 1);
	assert_int_equal(s->rpo_warn, 26 * 3600);
	assert_int_equal(s->rpo_critical, 50 * 3600);
	assert_int_equal(drstore_set(s, "rpo-warn", "60", &err), 0);
	assert_int_equal(drstore_set(s, "rpo-critical", "120", &err), 0);
	assert_int_equal(s->rpo_warn, 60);
	assert_int_equal(s->rpo_critical, 120);
	assert_int_equal(drstore_set(s, "rpo-warn", "1h", &err), -1);
	assert_non_null(strstr(err.message, "'1h' is not a number of seconds"));
	error_clear(&err);
	assert_int_equal(load("[drstore m]\npath=/x\nrpo-warn=100\nrpo-critical=50\n", &err), -1);
	assert_non_null(strstr(err.message, "rpo-warn (100 s) is above rpo-critical (50 s)"));
}

#define SRC_XML                                                                                    \
	"<domain type='kvm'><name>w1</name><uuid>0b5d3a6e-8d51-4a58-9f51-1c2a3b4c5d6e</uuid>"      \
	"<metadata><hf:guest xmlns:hf='https://holdfast.dev/xmlns/guest/1' "                       \
	"os='win2k8'/></metadata>"                                                                 \
	"<os><type>hvm</type><loader type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>"          \
	"<nvram>/var/lib/libvirt/qemu/nvram/w1_VARS.fd</nvram></os><devices>"                      \
	"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"                       \
	"<source file='/vm/w1.qcow2'/><target dev='vda' bus='virtio'/></disk>"                     \
	"<disk type='block' device='disk'><driver name='qemu' type='raw'/>"                        \
	"<source dev='/dev/vg/w1-data'/><backingStore/><target dev='vdb' bus='virtio'/></disk>"    \
	"<disk type='file' device='cdrom'><source file='/iso/x.iso'/><target dev='hda'/></disk>"   \
	"<interface type='network'><mac address='52:54:00:12:34:56'/><source network='lan'/>"      \
	"</interface><serial type='file'><source path='/log/w1.console' append='on'/></serial>"    \
	"</devices></domain>"

static char *restore_xml(const char *xml, const char *name, GHashTable *files, HfError *err)
{
	DrXmlOpts o = {.name = name, .files = files};
	return drxml_restore(xml, &o, err);
}

/* A test boot: no network; in place: the source's identity; a point's NVRAM copy. */
static void test_restore_xml_opts(void **state)
{
	HfError err = {0};
	g_autoptr(GHashTable) files = g_hash_table_new(g_str_hash, g_str_equal);
	g_hash_table_insert(files, "vda", "/t/vda.qcow2");
	g_hash_table_insert(files, "vdb", "/t/vdb.qcow2");
	DrXmlOpts iso = {
	    .name = "hf-test-w1", .files = files, .isolate = true, .nvram = "/t/VARS.fd"};
	g_autofree char *x = drxml_restore(SRC_XML, &iso, &err);
	assert_non_null(x);
	assert_null(strstr(x, "<interface"));
	assert_null(strstr(x, "<uuid>"));
	assert_non_null(strstr(x, "<nvram>/t/VARS.fd</nvram>"));
	assert_non_null(strstr(x, "<source path=\"/log/hf-test-w1-w1.console\""));
	DrXmlOpts inplace = {.name = "w1", .files = files, .keep_uuid = true};
	g_autofree char *y = drxml_restore(SRC_XML, &inplace, &err);
	assert_non_null(y);
	assert_non_null(strstr(y, "<uuid>0b5d3a6e-8d51-4a58-9f51-1c2a3b4c5d6e</uuid>"));
	assert_non_null(strstr(y, "52:54:00:12:34:56"));
	assert_non_null(strstr(y, "/log/w1.console"));
	assert_non_null(strstr(y, "<source file=\"/t/vdb.qcow2\"/>"));
	assert_null(strstr(y, "<nvram"));
}

static void test_restore_xml(void **state)
{
	HfError err = {0};
	g_autoptr(GHashTable) files = g_hash_table_new(g_str_hash, g_str_equal);
	g_hash_table_insert(files, "vda", "/vm/w1-r-vda.qcow2");
	g_hash_table_insert(files, "vdb", "/vm/w1-r & <x>-vdb.qcow2");
	g_autofree char *x = restore_xml(SRC_XML, "w1-r&d", files, &err);
	assert_non_null(x);
	assert_non_null(strstr(x, "<name>w1-r&amp;d</name>"));
	assert_null(strstr(x, "<uuid>"));
	assert_null(strstr(x, "<mac"));
	assert_null(strstr(x, "52:54:00"));
	assert_null(strstr(x, "<nvram"));
	assert_null(strstr(x, "/vm/w1.qcow2"));
	assert_null(strstr(x, "/dev/vg/w1-data"));
	assert_null(strstr(x, "backingStore"));
	assert_null(strstr(x, "type='raw'"));
	assert_null(strstr(x, "type=\"raw\""));
	assert_non_null(strstr(x, "<source file=\"/vm/w1-r-vda.qcow2\"/>"));
	assert_non_null(strstr(x, "<source file=\"/vm/w1-r &amp; &lt;x&gt;-vdb.qcow2\"/>"));
	assert_non_null(strstr(x, "/iso/x.iso"));      /* a cdrom is left alone */
	assert_non_null(strstr(x, "network=\"lan\"")); /* the interface stays, without MAC */
	assert_non_null(strstr(x, "os=\"win2k8\""));
	assert_non_null(strstr(x, "<source path=\"/log/w1-r&amp;d-w1.console\" append=\"on\"/>"));
	/* the block disk became a qcow2 file */
	const char *vdb = strstr(x, "-vdb.qcow2");
	assert_non_null(vdb);
	assert_non_null(strstr(x, "<disk type=\"file\" device=\"disk\"><driver name=\"qemu\" "
				  "type=\"qcow2\"/><target dev=\"vdb\""));

	/* a disk without a new image would share the source's disk: refused */
	g_hash_table_remove(files, "vdb");
	assert_null(restore_xml(SRC_XML, "w1-r", files, &err));
	assert_non_null(strstr(err.message, "disk vdb of the restore point's domain XML"));
	error_clear(&err);
	assert_null(restore_xml("<network/>", "w1-r", files, &err));
	assert_non_null(strstr(err.message, "not a <domain>"));
	error_clear(&err);
	assert_null(restore_xml(NULL, "w1-r", files, &err));
}

/* ---- per-disk chains ---- */

/* A point with disks "T:PARENT" ("vda:-" = a full image; "vda:?" = an old manifest without
 * disks[].parent: the point's parent counts). */
static cJSON *point_disks(const char *id, const char *parent, const char *const *disks)
{
	cJSON *m = manifest(id, parent);
	cJSON_DeleteItemFromObject(m, "disks");
	cJSON_AddArrayToObject(m, "disks");
	for (const char *const *d = disks; *d; d++) {
		g_auto(GStrv) tp = g_strsplit(*d, ":", 2);
		g_autofree char *f = g_strconcat(tp[0], ".qcow2", NULL);
		drstore_manifest_add_disk(m, tp[0], f, NULL, 1048576,
					  strcmp(tp[1], "-") ? tp[1] : NULL);
		if (!strcmp(tp[1], "?"))
			cJSON_DeleteItemFromObject(
			    cJSON_GetArrayItem(cJSON_GetObjectItem(m, "disks"),
					       cJSON_GetArraySize(cJSON_GetObjectItem(m, "disks")) -
						   1),
			    "parent");
	}
	return m;
}

#define P1 "20261101T000000Z"
#define P2 "20261102T000000Z"
#define P3 "20261103T000000Z"
#define P4 "20261104T000000Z"

/* P1 full (vda); P2 incremental, vdb added (full); P3 incremental of both; P4: vda resized
 * (full), vdb incremental. */
static GPtrArray *chain_points(void)
{
	GPtrArray *pts = g_ptr_array_new_with_free_func((GDestroyNotify)cJSON_Delete);
	g_ptr_array_add(pts, point_disks(P1, NULL, (const char *const[]){"vda:-", NULL}));
	g_ptr_array_add(pts, point_disks(P2, P1, (const char *const[]){"vda:" P1, "vdb:-", NULL}));
	g_ptr_array_add(pts,
			point_disks(P3, P2, (const char *const[]){"vda:" P2, "vdb:" P2, NULL}));
	g_ptr_array_add(pts, point_disks(P4, P3, (const char *const[]){"vda:-", "vdb:" P3, NULL}));
	return pts;
}

static void test_chain_per_disk(void **state)
{
	g_autoptr(GPtrArray) pts = chain_points();
	assert_int_equal(drstore_chain_length(pts, P1, "vda"), 0);
	assert_int_equal(drstore_chain_length(pts, P3, "vda"), 2);
	assert_int_equal(drstore_chain_length(pts, P3, "vdb"), 1);
	assert_int_equal(drstore_chain_length(pts, P4, "vda"), 0);
	assert_int_equal(drstore_chain_length(pts, P4, "vdb"), 2);
	assert_int_equal(drstore_chain_length(pts, P1, "vdb"), -1); /* not in P1 */
	assert_int_equal(drstore_chain_length(pts, "20260101T000000Z", "vda"), -1);
	g_auto(GStrv) d4 = drstore_point_deps(pts->pdata[3]);
	assert_int_equal(g_strv_length(d4), 1);
	assert_string_equal(d4[0], P3);
	g_auto(GStrv) d1 = drstore_point_deps(pts->pdata[0]);
	assert_int_equal(g_strv_length(d1), 0);
	assert_null(drstore_disk(pts->pdata[0], "vdb"));
	assert_string_equal(drstore_disk_parent(pts->pdata[3], drstore_disk(pts->pdata[3], "vdb")),
			    P3);
	assert_null(drstore_disk_parent(pts->pdata[3], drstore_disk(pts->pdata[3], "vda")));
}

static void test_chain_old_manifest(void **state)
{
	/* no disks[].parent: the point's parent is every disk's parent */
	g_autoptr(GPtrArray) pts = g_ptr_array_new_with_free_func((GDestroyNotify)cJSON_Delete);
	g_ptr_array_add(pts, point_disks(P1, NULL, (const char *const[]){"vda:?", NULL}));
	g_ptr_array_add(pts, point_disks(P2, P1, (const char *const[]){"vda:?", NULL}));
	g_ptr_array_add(pts, point_disks(P3, P2, (const char *const[]){"vda:?", NULL}));
	assert_null(cJSON_GetObjectItem(drstore_disk(pts->pdata[2], "vda"), "parent"));
	assert_int_equal(drstore_chain_length(pts, P3, "vda"), 2);
	assert_int_equal(drstore_chain_length(pts, P1, "vda"), 0);
	g_auto(GStrv) d = drstore_point_deps(pts->pdata[2]);
	assert_int_equal(g_strv_length(d), 1);
	assert_string_equal(d[0], P2);
}

/* Real qcow2 images in a store laid out like chain_points(), for drstore_verify_chain. */
static bool qemu_img(const char *const *argv)
{
	g_autoptr(GPtrArray) a = g_ptr_array_new();
	g_ptr_array_add(a, (char *)"qemu-img");
	for (const char *const *p = argv; *p; p++)
		g_ptr_array_add(a, (char *)*p);
	g_ptr_array_add(a, NULL);
	int st = 0;
	return g_spawn_sync(NULL, (char **)a->pdata, NULL,
			    G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
				G_SPAWN_STDERR_TO_DEV_NULL,
			    NULL, NULL, NULL, NULL, &st, NULL) &&
	       g_spawn_check_wait_status(st, NULL);
}

static void store_point(const char *gdir, cJSON *m)
{
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(m, "point"));
	g_autofree char *partial = NULL;
	HfError err = {0};
	assert_int_equal(drstore_begin(gdir, id, &partial, &err), 0);
	const cJSON *d;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(m, "disks"))
	{
		const char *f = cJSON_GetStringValue(cJSON_GetObjectItem(d, "file"));
		const char *parent = drstore_disk_parent(m, d);
		g_autofree char *img = g_build_filename(partial, f, NULL);
		g_autofree char *back = parent ? g_strdup_printf("../%s/%s", parent, f) : NULL;
		if (parent) {
			/* qemu-img resolves the relative name from the image's directory: create
			 * it where the point will be published */
			g_autofree char *pub = g_build_filename(gdir, id, NULL);
			assert_int_equal(g_rename(partial, pub), 0);
			g_autofree char *pimg = g_build_filename(pub, f, NULL);
			assert_true(qemu_img((const char *const[]){
			    "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", back, pimg, NULL}));
			assert_int_equal(g_rename(pub, partial), 0);
		} else {
			assert_true(qemu_img(
			    (const char *const[]){"create", "-q", "-f", "qcow2", img, "1M", NULL}));
		}
	}
	assert_int_equal(drstore_seal(partial, m, &err), 0);
	assert_int_equal(drstore_publish(gdir, id, &err), 0);
}

static void test_verify_per_disk(void **state)
{
	if (!qemu_img((const char *const[]){"--version", NULL}))
		skip();
	g_autofree char *root = tmpdir();
	g_autofree char *gdir = drstore_guest_dir(root, "u-1");
	g_autoptr(GPtrArray) made = chain_points();
	for (guint i = 0; i < made->len; i++)
		store_point(gdir, made->pdata[i]);
	g_autoptr(GPtrArray) pts = NULL;
	HfError err = {0};
	assert_int_equal(drstore_points(gdir, &pts, &err), 0);
	assert_int_equal(pts->len, 4);
	/* P4 needs P3 and P2 (vdb's chain) but not P1 (its vda is full): P1 may go */
	g_autofree char *p1 = g_build_filename(gdir, P1, NULL);
	rm_rf(p1);
	g_clear_pointer(&pts, g_ptr_array_unref);
	assert_int_equal(drstore_points(gdir, &pts, &err), 0);
	g_autoptr(cJSON) report = cJSON_CreateArray();
	assert_int_equal(drstore_verify_chain(pts, P4, report, &err), 0);
	g_autofree char *r = cJSON_PrintUnformatted(report);
	assert_string_equal(r, "[\"" P4 "\",\"" P3 "\",\"" P2 "\"]");
	/* P3 needs P1 through vda: named */
	g_autoptr(cJSON) report2 = cJSON_CreateArray();
	assert_int_equal(drstore_verify_chain(pts, P3, report2, &err), -1);
	assert_non_null(strstr(err.message, "parent point " P1 " (disk vda) is missing"));
	rm_rf(root);
}

static void test_max_chain_config(void **state)
{
	HfError err = {0};
	g_autoptr(DrStore) s = drstore_new("main", 1);
	assert_int_equal(s->max_chain, 14);
	assert_int_equal(drstore_set(s, "max-chain", "0", &err), 0);
	assert_int_equal(s->max_chain, 0);
	assert_int_equal(drstore_set(s, "max-chain", "6", &err), 0);
	assert_int_equal(s->max_chain, 6);
	assert_int_equal(drstore_set(s, "max-chain", "-1", &err), -1);
	assert_non_null(strstr(err.message, "'-1' is not a number of incrementals"));
	error_clear(&err);
	assert_int_equal(drstore_set(s, "max-chain", "x", &err), -1);
	error_clear(&err);
	assert_int_equal(load("[drstore m]\npath=/srv/dr\nmax-chain = lots\n", &err), -1);
	assert_non_null(strstr(err.message, ":3:"));
	assert_non_null(strstr(err.message, "max-chain"));
	error_clear(&err);
	assert_int_equal(load("[drstore m]\npath=/srv/dr\nmax-chain = 3\n", &err), 0);
}

/* [drstore] mode and pull-port, and which copies pull (mode auto: remote hosts only). */
static void test_copy_mode(void **state)
{
	g_autoptr(DrStore) s = drstore_new("m", 1);
	HfError err = {0};
	assert_int_equal(s->mode, DRSTORE_MODE_AUTO);
	assert_int_equal(s->pull_port, DRSTORE_PULL_PORT);
	assert_int_equal(drstore_set(s, "mode", "pull", &err), 0);
	assert_int_equal(s->mode, DRSTORE_MODE_PULL);
	assert_int_equal(drstore_set(s, "mode", "sideways", &err), -1);
	assert_non_null(strstr(err.message, "auto"));
	error_clear(&err);
	assert_int_equal(drstore_set(s, "pull-port", "0", &err), -1);
	error_clear(&err);
	assert_int_equal(drstore_set(s, "pull-port", "10810", &err), 0);
	assert_int_equal(s->pull_port, 10810);
	/* auto: pull a running guest; push a stopped one of this host; pull from a remote host */
	assert_true(drstore_pulls(DRSTORE_MODE_AUTO, "qemu:///system", true));
	assert_false(drstore_pulls(DRSTORE_MODE_AUTO, "qemu:///system", false));
	assert_false(drstore_pulls(DRSTORE_MODE_AUTO, "qemu:///session", false));
	assert_true(drstore_pulls(DRSTORE_MODE_AUTO, "qemu+ssh://root@kvm2.example/system", false));
	assert_true(drstore_pulls(DRSTORE_MODE_PULL, "qemu:///system", false));
	assert_false(drstore_pulls(DRSTORE_MODE_PUSH, "qemu+ssh://kvm2/system", true));
}

/* [drstore] pull-tls and pull-tls-dir: values, defaults, errors naming file, line and key. */
static void test_pull_tls(void **state)
{
	g_autoptr(DrStore) s = drstore_new("m", 1);
	HfError err = {0};
	assert_int_equal(s->pull_tls, DRSTORE_TLS_AUTO);
	assert_null(s->pull_tls_dir); /* DRSTORE_PULL_TLS_DIR */
	assert_int_equal(drstore_set(s, "pull-tls", "no", &err), 0);
	assert_int_equal(s->pull_tls, DRSTORE_TLS_NO);
	assert_int_equal(drstore_set(s, "pull-tls", "yes", &err), 0);
	assert_int_equal(s->pull_tls, DRSTORE_TLS_YES);
	assert_int_equal(drstore_set(s, "pull-tls", "auto", &err), 0);
	assert_int_equal(s->pull_tls, DRSTORE_TLS_AUTO);
	assert_int_equal(drstore_set(s, "pull-tls", "true", &err), -1);
	assert_non_null(strstr(err.message, "'true' is not auto"));
	error_clear(&err);
	assert_int_equal(drstore_set(s, "pull-tls-dir", "/etc/pki/hf", &err), 0);
	assert_string_equal(s->pull_tls_dir, "/etc/pki/hf");
	assert_int_equal(drstore_set(s, "pull-tls-dir", "/etc/pki/other", &err), 0);
	assert_string_equal(s->pull_tls_dir, "/etc/pki/other");
	assert_int_equal(drstore_set(s, "pull-tls-dir", "pki/hf", &err), -1);
	assert_non_null(strstr(err.message, "not an absolute directory path"));
	assert_non_null(strstr(err.message, DRSTORE_PULL_TLS_DIR));
	error_clear(&err);
	assert_int_equal(drstore_set(s, "pull-tlz", "yes", &err), -1);
	assert_non_null(strstr(err.message, "pull-tls-dir"));
	error_clear(&err);
	assert_int_equal(
	    load("[drstore m]\npath=/srv/dr\npull-tls = no\npull-tls-dir = /x\n", &err), 0);
	assert_int_equal(load("[drstore m]\npath=/srv/dr\n\npull-tls = maybe\n", &err), -1);
	assert_non_null(strstr(err.message, ".conf:4:"));
	assert_non_null(strstr(err.message, "pull-tls"));
	assert_non_null(strstr(err.message, "'maybe'"));
	error_clear(&err);
	assert_int_equal(load("[drstore m]\npath=/srv/dr\npull-tls-dir = relative\n", &err), -1);
	assert_non_null(strstr(err.message, ":3:"));
	assert_non_null(strstr(err.message, "pull-tls-dir"));
	error_clear(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_point_ids),
	    cmocka_unit_test(test_manifest_json),
	    cmocka_unit_test(test_layout),
	    cmocka_unit_test(test_checksum_mismatch),
	    cmocka_unit_test(test_chain_missing_parent),
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_pull_tls),
	    cmocka_unit_test(test_rpo_config),
	    cmocka_unit_test(test_restore_xml),
	    cmocka_unit_test(test_restore_xml_opts),
	    cmocka_unit_test(test_chain_per_disk),
	    cmocka_unit_test(test_chain_old_manifest),
	    cmocka_unit_test(test_verify_per_disk),
	    cmocka_unit_test(test_max_chain_config),
	    cmocka_unit_test(test_copy_mode),
	    cmocka_unit_test(test_path_slash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
