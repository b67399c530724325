/* test_libvirt_testdrv.c - the libvirt driver against libvirt's test driver (in-process):
 * guests, 2008 recognition, snapshots, agent operations, events, errors, a 1,000-guest fleet.
 * Every test opens its own connection: the test driver gives each open a fresh world. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib/gstdio.h>

#include "drivers/libvirt_priv.h"

typedef struct {
	DrvConn *conn;
	char *uri;
	GPtrArray *changed; /* guest names from guest_changed */
	int closed;
} Fix;

static void on_changed(void *opaque, const char *guest)
{
	Fix *f = opaque;
	g_ptr_array_add(f->changed, g_strdup(guest));
}

static void on_closed(void *opaque, const char *reason)
{
	Fix *f = opaque;
	f->closed++;
}

static int setup(void **state)
{
	Fix *f = g_new0(Fix, 1);
	HfError err = {0};
	f->uri = g_strdup_printf("test://%s", g_getenv("HF_TEST_FLEET"));
	f->changed = g_ptr_array_new_with_free_func(g_free);
	DrvCallbacks cb = {on_changed, on_closed, f};
	if (drv_open(f->uri, NULL, &cb, 0, &f->conn, &err) < 0) {
		fprintf(stderr, "open %s: %s\n", f->uri, err.message);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	Fix *f = *state;
	drv_close(f->conn);
	g_ptr_array_unref(f->changed);
	g_free(f->uri);
	g_free(f);
	return 0;
}

static void expect_err(int rc, const HfError *err, const char *code, const char *part)
{
	assert_int_equal(rc, -1);
	if (strcmp(err->code, code) || !strstr(err->message, part))
		fail_msg("want [%s] containing \"%s\", got [%s] %s", code, part, err->code,
			 err->message);
}

static const DrvGuest *find_guest(GPtrArray *gs, const char *name)
{
	for (guint i = 0; i < gs->len; i++)
		if (!strcmp(((DrvGuest *)gs->pdata[i])->name, name))
			return gs->pdata[i];
	fail_msg("guest %s not listed", name);
	return NULL;
}

static const DrvSnapshot *find_snap(GPtrArray *ss, const char *name)
{
	for (guint i = 0; i < ss->len; i++)
		if (!strcmp(((DrvSnapshot *)ss->pdata[i])->name, name))
			return ss->pdata[i];
	return NULL;
}

/* A temporary file holding text; the caller unlinks it. */
static char *write_tmp(const char *text)
{
	char *path = NULL;
	int fd = g_file_open_tmp("hf-fleet-XXXXXX.xml", &path, NULL);
	assert_true(fd >= 0);
	close(fd);
	assert_true(g_file_set_contents(path, text, -1, NULL));
	return path;
}

static void t_open_errors(void **state)
{
	HfError err = {0};
	DrvConn *c = NULL;
	g_autofree char *broken = write_tmp("<node><domain/></node>");
	g_autofree char *bad = g_strdup_printf("test://%s", broken);

	expect_err(drv_open("test:///nonexistent/fleet.xml", NULL, NULL, 0, &c, &err), &err,
		   HF_ERR_HOST_UNREACHABLE, "fleet file /nonexistent/fleet.xml does not exist");
	assert_null(c);
	/* A fleet file libvirt refuses: libvirt's reason and what to check. */
	error_clear(&err);
	expect_err(drv_open(bad, NULL, NULL, 0, &c, &err), &err, HF_ERR_HOST_UNREACHABLE, "version`");
	assert_non_null(strstr(err.message, "cannot connect to libvirt at test:///"));
	g_unlink(broken);
	assert_null(c);
}

static void t_guest_list(void **state)
{
	Fix *f = *state;
	HfError err = {0};
	g_autoptr(GPtrArray) gs = NULL;
	assert_int_equal(drv_guest_list(f->conn, 0, &gs, &err), 0);
	assert_int_equal(gs->len, 5);
	assert_string_equal(((DrvGuest *)gs->pdata[0])->name, "deb12-app01"); /* sorted */

	const DrvGuest *dc = find_guest(gs, "w2k8-dc01");
	assert_string_equal(dc->uuid, "2008d7e5-0000-4000-8000-000000000001");
	assert_string_equal(dc->title, "Domain controller");
	assert_string_equal(dc->description, "Server 2008 SP2 & AD");
	assert_int_equal(dc->state, DRV_STATE_RUNNING);
	assert_int_equal(dc->vcpus, 2);
	assert_int_equal(dc->memory_kib, 2 * 1024 * 1024);
	assert_true(dc->persistent);
	assert_int_equal(dc->disks->len, 2);
	const DrvDisk *vda = dc->disks->pdata[0], *cd = dc->disks->pdata[1];
	assert_string_equal(vda->path, "/var/lib/libvirt/images/dc01.qcow2");
	assert_string_equal(vda->format, "qcow2");
	assert_true(vda->capacity > 0); /* the test driver's fake block info */
	assert_string_equal(cd->device, "cdrom");
	assert_null(cd->path);
	assert_int_equal(cd->capacity, 0);

	assert_int_equal(find_guest(gs, "w2k8r2-sql01")->state, DRV_STATE_SHUTOFF);
	assert_int_equal(find_guest(gs, "w2k8r2-sql01")->vcpus, 2);
	assert_int_equal(find_guest(gs, "deb12-app01")->state, DRV_STATE_PAUSED);
	const DrvGuest *deb = find_guest(gs, "deb12-app01");
	assert_string_equal(((DrvDisk *)deb->disks->pdata[0])->path,
			    "rbd://ceph-mon1:6789/vms/app01");
	const DrvGuest *sql = find_guest(gs, "w2k8r2-sql01");
	assert_string_equal(((DrvDisk *)sql->disks->pdata[1])->path, "default/sql01-data.qcow2");
}

static void t_recognise_2008(void **state)
{
	Fix *f = *state;
	HfError err = {0};
	static const struct {
		const char *name, *os_id, *source, *tag;
		bool win;
	} want[] = {
	    {"w2k8-dc01", "http://microsoft.com/win/2k8", "libosinfo", NULL, true},
	    {"w2k8r2-sql01", "win2k8r2", "holdfast", "prod", true},
	    {"w2k8-raw01", "http://microsoft.com/win/2k8r2", "libosinfo", "legacy", true},
	    {"w2k8-ext01", "win2k8", "holdfast", NULL, true},
	    {"deb12-app01", "http://debian.org/debian/12", "libosinfo", NULL, false},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
		g_autoptr(DrvGuest) g = NULL;
		assert_int_equal(drv_guest_get(f->conn, want[i].name, 0, &g, &err), 0);
		assert_string_equal(g->os_id, want[i].os_id);
		assert_string_equal(g->os_source, want[i].source);
		assert_int_equal(g->win2008, want[i].win);
		if (want[i].tag)
			assert_true(g_strv_contains((const char *const *)g->tags, want[i].tag));
		else
			assert_null(g->tags);
	}
}

static void t_not_found(void **state)
{
	Fix *f = *state;
	HfError err = {0};
	g_autoptr(DrvGuest) g = NULL;
	g_autoptr(GPtrArray) ss = NULL;
	g_autofree char *msg = g_strdup_printf("guest 'nope' not found on host %s", f->uri);

	expect_err(drv_guest_get(f->conn, "nope", 0, &g, &err), &err, HF_ERR_NOT_FOUND, msg);
	assert_string_equal(err.message, msg);
	error_clear(&err);
	expect_err(drv_snapshot_list(f->conn, "nope", 0, &ss, &err), &err, HF_ERR_NOT_FOUND, msg);
	error_clear(&err);
	expect_err(drv_snapshot_revert(f->conn, "w2k8-dc01", "nope", 0, &err), &err,
		   HF_ERR_NOT_FOUND, "snapshot 'nope' of guest 'w2k8-dc01' not found on host");
	error_clear(&err);
	expect_err(drv_snapshot_delete(f->conn, "w2k8-dc01", "nope", 0, &err), &err,
		   HF_ERR_NOT_FOUND, "snapshot 'nope' of guest 'w2k8-dc01' not found");
	error_clear(&err);
	expect_err(drv_fs_freeze(f->conn, "nope", 5, 0, NULL, &err), &err, HF_ERR_NOT_FOUND, msg);
}

static void t_snapshot_list(void **state)
{
	Fix *f = *state;
	HfError err = {0};
	g_autoptr(GPtrArray) ss = NULL;
	assert_int_equal(drv_snapshot_list(f->conn, "w2k8-dc01", 0, &ss, &err), 0);
	assert_int_equal(ss->len, 2);
	const DrvSnapshot *base = ss->pdata[0], *sp2 = ss->pdata[1]; /* oldest first */
	assert_string_equal(base->name, "baseline");
	assert_string_equal(base->description, "clean install");
	assert_null(base->parent);
	assert_int_equal(base->creation_time, 1700000000);
	assert_false(base->current);
	assert_string_equal(sp2->name, "after-sp2");
	assert_string_equal(sp2->parent, "baseline");
	assert_true(sp2->current);
	assert_int_equal(sp2->kind, DRV_SNAP_INTERNAL);
	assert_true(sp2->has_memory);
	assert_string_equal(sp2->state, "running");

	g_autoptr(GPtrArray) ext = NULL;
	assert_int_equal(drv_snapshot_list(f->conn, "w2k8-ext01", 0, &ext, &err), 0);
	assert_int_equal(ext->len, 1);
	assert_int_equal(((DrvSnapshot *)ext->pdata[0])->kind, DRV_SNAP_EXTERNAL);
	assert_false(((DrvSnapshot *)ext->pdata[0])->has_memory);

	g_autoptr(GPtrArray) none = NULL;
	assert_int_equal(drv_snapshot_list(f->conn, "w2k8r2-sql01", 0, &none, &err), 0);
	assert_int_equal(none->len, 0);
}

static void t_snapshot_cycle(void **state)
{
	Fix *f = *state;
	HfError err = {0};
	const char *name = "hf-20240101T000000Z <&>";
	const char *desc = "before \"patch\" & <reboot>";
	DrvSnapshotSpec spec = {name, desc, NULL};
	g_autoptr(DrvSnapshot) s = NULL;

	assert_int_equal(drv_snapshot_create(f->conn, "w2k8-dc01", &spec, 0, &s, &err), 0);
	assert_string_equal(s->name, name);
	assert_string_equal(s->description, desc);
	assert_string_equal(s->parent, "after-sp2");
	assert_true(s->current);
	assert_true(s->has_memory); /* running guest: memory too */
	assert_int_equal(s->kind, DRV_SNAP_INTERNAL);
	assert_true(s->creation_time > 1700000000);

	g_autoptr(DrvSnapshot) dup = NULL;
	expect_err(drv_snapshot_create(f->conn, "w2k8-dc01", &spec, 0, &dup, &err), &err,
		   HF_ERR_CONFLICT, "already exists");
	assert_null(dup);

	/* Revert to the older one: the guest stays running, as the snapshot recorded. */
	error_clear(&err);
	assert_int_equal(drv_snapshot_revert(f->conn, "w2k8-dc01", "baseline", 0, &err), 0);
	g_autoptr(DrvGuest) g = NULL;
	assert_int_equal(drv_guest_get(f->conn, "w2k8-dc01", 0, &g, &err), 0);
	assert_int_equal(g->state, DRV_STATE_RUNNING);
	g_autoptr(GPtrArray) ss = NULL;
	assert_int_equal(drv_snapshot_list(f->conn, "w2k8-dc01", 0, &ss, &err), 0);
	assert_int_equal(ss->len, 3);
	assert_true(find_snap(ss, "baseline")->current);

	/* Deleting a parent keeps its children. */
	assert_int_equal(drv_snapshot_delete(f->conn, "w2k8-dc01", "after-sp2", 0, &err), 0);
	g_autoptr(GPtrArray) after = NULL;
	assert_int_equal(drv_snapshot_list(f->conn, "w2k8-dc01", 0, &after, &err), 0);
	assert_int_equal(after->len, 2);
	assert_null(find_snap(after, "after-sp2"));
	assert_string_equal(find_snap(after, name)->parent, "baseline");
	/* The test driver has no metadata-only delete (QEMU has). */
	expect_err(
	    drv_snapshot_delete(f->conn, "w2k8-dc01", name, DRV_SNAP_DELETE_METADATA_ONLY, &err),
	    &err, HF_ERR_UNSUPPORTED, "unsupported flags");
	error_clear(&err);
	assert_int_equal(drv_snapshot_delete(f->conn, "w2k8-dc01", name, 0, &err), 0);
	assert_false(error_is_set(&err));
}

static void t_snapshot_refusals(void **state)
{
	Fix *f = *state;
	HfError err = {0};
	g_autoptr(DrvSnapshot) s = NULL;
	DrvSnapshotSpec spec = {"hf-x", NULL, NULL};

	expect_err(drv_snapshot_create(f->conn, "w2k8-raw01", &spec, 0, &s, &err), &err,
		   HF_ERR_UNSUPPORTED, "disk 'vda' (/var/lib/libvirt/images/raw01.img) is raw");
	error_clear(&err);
	expect_err(drv_snapshot_revert(f->conn, "w2k8-ext01", "pre-patch", 0, &err), &err,
		   HF_ERR_UNSUPPORTED, "external snapshot");
	assert_non_null(strstr(err.message, "libvirt 9.0"));
	/* The test driver has no disk-only (external) snapshots of a running guest... */
	error_clear(&err);
	expect_err(
	    drv_snapshot_create(f->conn, "w2k8-dc01", &spec, DRV_SNAP_CREATE_DISK_ONLY, &s, &err),
	    &err, HF_ERR_UNSUPPORTED, "guest 'w2k8-dc01'");
	/* ...while a shut-off guest's snapshot is internal and disk-only already. */
	error_clear(&err);
	assert_int_equal(drv_snapshot_create(f->conn, "w2k8r2-sql01", &spec,
					     DRV_SNAP_CREATE_DISK_ONLY, &s, &err),
			 0);
	assert_int_equal(s->kind, DRV_SNAP_INTERNAL);
	assert_false(s->has_memory);
	assert_string_equal(s->state, "shutoff");
	g_clear_pointer(&s, drv_snapshot_free);
	spec.name = "";
	expect_err(drv_snapshot_create(f->conn, "w2k8r2-sql01", &spec, 0, &s, &err), &err,
		   HF_ERR_INVALID_PARAMS, "needs a name");
}

static void t_agent(void **state)
{
	Fix *f = *state;
	HfError err = {0};
	int n = -1;
	g_autofree char *reply = NULL;

	/* The test driver fakes freeze/thaw for a running guest. */
	assert_int_equal(drv_fs_freeze(f->conn, "w2k8-dc01", 5, 0, &n, &err), 0);
	assert_true(n >= 0);
	assert_int_equal(drv_fs_thaw(f->conn, "w2k8-dc01", 5, 0, &n, &err), 0);
	expect_err(drv_fs_freeze(f->conn, "w2k8r2-sql01", 5, 0, &n, &err), &err, HF_ERR_CONFLICT,
		   "cannot freeze the filesystems of guest 'w2k8r2-sql01'");
	error_clear(&err);
	expect_err(drv_agent_command(f->conn, "w2k8-dc01", "{\"execute\":\"guest-ping\"}", 5, 0,
				     &reply, &err),
		   &err, HF_ERR_UNSUPPORTED, "guest 'w2k8-dc01'");
	error_clear(&err);
	expect_err(
	    drv_agent_command(f->conn, "w2k8-dc01",
			      "{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":1}}", 5,
			      0, &reply, &err),
	    &err, HF_ERR_INVALID_PARAMS, "guest-sync-delimited");
	error_clear(&err);
	expect_err(drv_agent_command(f->conn, "w2k8-dc01",
				     "{\"execute\":\"guest-sync\\u002ddelimited\"}", 5, 0, &reply,
				     &err),
		   &err, HF_ERR_INVALID_PARAMS, "guest-sync-delimited");
	error_clear(&err);
	expect_err(drv_agent_command(f->conn, "w2k8-dc01", "not json", 5, 0, &reply, &err), &err,
		   HF_ERR_INVALID_PARAMS, "\"execute\"");
	assert_null(reply);
}

static bool wait_for(Fix *f, guint n)
{
	gint64 end = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
	while (f->changed->len < n && g_get_monotonic_time() < end)
		g_main_context_iteration(NULL, FALSE);
	return f->changed->len >= n;
}

static void t_events(void **state)
{
	Fix *f = *state;
	virConnectPtr raw = lv_conn(f->conn)->conn;
	g_autoptr(virDomain) d = virDomainLookupByName(raw, "w2k8-raw01");

	assert_non_null(d);
	assert_int_equal(virDomainSuspend(d), 0);
	assert_true(wait_for(f, 1));
	assert_string_equal(f->changed->pdata[0], "w2k8-raw01");
	assert_int_equal(virDomainSetMetadata(d, VIR_DOMAIN_METADATA_DESCRIPTION, "new", NULL, NULL,
					      VIR_DOMAIN_AFFECT_CONFIG),
			 0);
	assert_true(wait_for(f, 2));
	assert_int_equal(f->closed, 0); /* no spurious close */

	/* After close no callback reaches us, even for events already queued. */
	assert_int_equal(virDomainResume(d), 0);
	g_clear_pointer(&d, virDomainFree);
	drv_close(f->conn);
	f->conn = NULL;
	guint seen = f->changed->len;
	for (int i = 0; i < 50; i++)
		g_main_context_iteration(NULL, FALSE);
	assert_int_equal(f->changed->len, seen);
	assert_int_equal(f->closed, 0);
}

static void *worker(void *conn)
{
	for (int i = 0; i < 20; i++) {
		HfError err = {0};
		g_autoptr(GPtrArray) gs = NULL, ss = NULL;
		g_autoptr(DrvGuest) g = NULL;
		if (drv_guest_list(conn, 0, &gs, &err) < 0 || gs->len != 5 ||
		    drv_snapshot_list(conn, "w2k8-dc01", 0, &ss, &err) < 0 ||
		    drv_guest_get(conn, "nope", 0, &g, &err) == 0 ||
		    strcmp(err.code, HF_ERR_NOT_FOUND))
			return GINT_TO_POINTER(1);
	}
	return NULL;
}

/* One connection, several worker threads (as the daemon uses it); errors stay per thread. */
static void t_concurrent(void **state)
{
	Fix *f = *state;
	GThread *t[8];
	for (size_t i = 0; i < G_N_ELEMENTS(t); i++)
		t[i] = g_thread_new("drv", worker, f->conn);
	for (size_t i = 0; i < G_N_ELEMENTS(t); i++)
		assert_null(g_thread_join(t[i]));
}

static void t_alive(void **state)
{
	Fix *f = *state;
	assert_true(drv_alive(f->conn));
}

/* A generated fleet of n guests, each with a disk and 2008 metadata. */
static char *write_fleet(int n)
{
	GString *s = g_string_new("<node><cpu><nodes>1</nodes><sockets>1</sockets><cores>2</cores>"
				  "<threads>1</threads><mhz>2400</mhz><model>x86_64</model></cpu>"
				  "<memory>25165824</memory>");
	for (int i = 0; i < n; i++)
		g_string_append_printf(
		    s,
		    "<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
		    "<name>w2k8-%04d</name><memory unit='GiB'>2</memory><vcpu>1</vcpu>"
		    "<metadata><hf:guest xmlns:hf='" LV_NS_HOLDFAST "' os='win2k8' tags='t%d'/>"
		    "</metadata><os><type arch='x86_64'>hvm</type></os><devices><disk "
		    "type='file' device='disk'><driver name='qemu' type='qcow2'/><source "
		    "file='/img/%04d.qcow2'/><target dev='vda'/></disk></devices>"
		    "<test:runstate>%d</test:runstate></domain>",
		    i, i % 10, i, i % 2 ? 1 : 5);
	g_string_append(s, "</node>");
	char *path = write_tmp(s->str);
	g_string_free(s, TRUE);
	return path;
}

/* define and undefine: the test driver, like a libvirt before 8.9 for TPM, rejects some of
 * the undefine flags (NVRAM): the driver drops them and the guest goes */
static void t_define_undefine(void **state)
{
	Fix *f = *state;
	HfError err = {0};
	g_autoptr(DrvGuest) g = NULL;
	const char *xml = "<domain type='test'><name>hf-undef</name><memory>65536</memory>"
			  "<os><type>hvm</type></os></domain>";
	assert_int_equal(drv_domain_define(f->conn, xml, 0, &err), 0);
	assert_int_equal(drv_guest_get(f->conn, "hf-undef", 0, &g, &err), 0);
	assert_int_equal(drv_domain_undefine(f->conn, "hf-undef", 0, &err), 0);
	assert_false(error_is_set(&err));
	g_clear_pointer(&g, drv_guest_free);
	expect_err(drv_guest_get(f->conn, "hf-undef", 0, &g, &err), &err, HF_ERR_NOT_FOUND,
		   "hf-undef");
}

static void t_thousand_guests(void **state)
{
	g_autofree char *path = write_fleet(1000);
	g_autofree char *uri = g_strdup_printf("test://%s", path);
	HfError err = {0};
	DrvConn *c = NULL;
	g_autoptr(GPtrArray) gs = NULL;

	assert_int_equal(drv_open(uri, NULL, NULL, 0, &c, &err), 0);
	gint64 t0 = g_get_monotonic_time();
	assert_int_equal(drv_guest_list(c, 0, &gs, &err), 0);
	gint64 t1 = g_get_monotonic_time();
	printf("# guest_list of 1000 test-driver guests: %.1f ms\n", (double)(t1 - t0) / 1000.0);
	assert_int_equal(gs->len, 1000);
	const DrvGuest *g = gs->pdata[999];
	assert_string_equal(g->name, "w2k8-0999");
	assert_true(g->win2008);
	assert_string_equal(g->tags[0], "t9");
	assert_int_equal(g->state, DRV_STATE_RUNNING);
	drv_close(c);
	g_unlink(path);
}

int main(void)
{
	if (!g_getenv("HF_TEST_FLEET")) {
		fprintf(stderr, "HF_TEST_FLEET must name the test fleet XML (absolute path)\n");
		return 1;
	}
	if (virEventRegisterDefaultImpl() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_open_errors),
	    cmocka_unit_test_setup_teardown(t_guest_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_recognise_2008, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_not_found, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_snapshot_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_snapshot_cycle, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_snapshot_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_agent, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_alive, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_concurrent, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_define_undefine, setup, teardown),
	    cmocka_unit_test(t_thousand_guests),
	};
	return cmocka_run_group_tests_name("libvirt driver on the test driver", tests, NULL, NULL);
}
