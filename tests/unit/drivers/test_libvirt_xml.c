/* test_libvirt_xml.c - the libvirt driver's XML parsing and URI probe, no hypervisor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/libvirt_priv.h"

#define META_LIBOSINFO(id)                                                                         \
	"<libosinfo:libosinfo xmlns:libosinfo='" LV_NS_LIBOSINFO "'><libosinfo:os id='" id         \
	"'/></libosinfo:libosinfo>"
#define META_HF(attrs) "<hf:guest xmlns:hf='" LV_NS_HOLDFAST "' " attrs "/>"
#define DOMAIN(meta, devices)                                                                      \
	"<domain type='kvm'><name>g1</name><uuid>00000000-0000-4000-8000-000000000001</uuid>"      \
	"<memory unit='KiB'>4194304</memory><vcpu>2</vcpu><metadata>" meta "</metadata>"           \
	"<devices>" devices "</devices></domain>"

static DrvGuest *parse_ok(const char *xml)
{
	HfError err = {0};
	DrvGuest *g = drv_guest_new();
	assert_int_equal(lv_xml_guest_parse(xml, "guest 'g1'", g, &err), 0);
	assert_false(error_is_set(&err));
	return g;
}

static const DrvDisk *disk(const DrvGuest *g, guint i)
{
	assert_true(i < g->disks->len);
	return g->disks->pdata[i];
}

static void t_domain_basics(void **state)
{
	g_autoptr(DrvGuest) g =
	    parse_ok("<domain type='kvm'><name>dc &amp; co</name>"
		     "<uuid>2008d7e5-0000-4000-8000-000000000001</uuid><title>DC</title>"
		     "<description>two\nlines</description><memory unit='GiB'>4</memory>"
		     "<currentMemory unit='MiB'>2048</currentMemory><vcpu current='2'>8</vcpu>"
		     "<devices/></domain>");
	assert_string_equal(g->name, "dc & co");
	assert_string_equal(g->uuid, "2008d7e5-0000-4000-8000-000000000001");
	assert_string_equal(g->title, "DC");
	assert_string_equal(g->description, "two\nlines");
	assert_int_equal(g->memory_kib, 2048 * 1024);
	assert_int_equal(g->vcpus, 2);
	assert_int_equal(g->disks->len, 0);
	assert_null(g->os_id);
	assert_null(g->nvram);
	g_autoptr(DrvGuest) u = parse_ok("<domain type='kvm'><name>u</name><os><type>hvm</type>"
					 "<nvram template='/usr/share/OVMF/OVMF_VARS.fd'>/var/lib/"
					 "libvirt/qemu/nvram/u_VARS.fd</nvram></os><devices/></domain>");
	assert_string_equal(u->nvram, "/var/lib/libvirt/qemu/nvram/u_VARS.fd");
	assert_null(g->os_source);
	assert_false(g->win2008);
	assert_null(g->tags);
}

static void t_memory_units(void **state)
{
	static const struct {
		const char *xml;
		uint64_t kib;
	} cases[] = {
	    {"<memory>1024</memory>", 1024},
	    {"<memory unit='bytes'>1048576</memory>", 1024},
	    {"<memory unit='b'>2048</memory>", 2},
	    {"<memory unit='KB'>1024</memory>", 1000},
	    {"<memory unit='k'>7</memory>", 7},
	    {"<memory unit='M'>3</memory>", 3072},
	    {"<memory unit='MB'>1</memory>", 976},
	    {"<memory unit='G'>1</memory>", 1048576},
	    {"<memory unit='TiB'>1</memory>", 1073741824},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *xml =
		    g_strdup_printf("<domain><name>m</name>%s</domain>", cases[i].xml);
		g_autoptr(DrvGuest) g = parse_ok(xml);
		assert_int_equal(g->memory_kib, cases[i].kib);
		assert_int_equal(g->vcpus, 0);
	}
}

static void t_disks(void **state)
{
	g_autoptr(DrvGuest) g = parse_ok(DOMAIN(
	    "", "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
		"<source file='/img/a.qcow2'/><target dev='vda' bus='virtio'/></disk>"
		"<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
		"<target dev='hdc' bus='ide'/><readonly/></disk>"
		"<disk type='block' device='lun'><source dev='/dev/sdb'/><target dev='sda'/></disk>"
		"<disk type='network' device='disk'><driver name='qemu' type='raw'/>"
		"<source protocol='rbd' name='vms/app'><host name='mon1' port='6789'/>"
		"<host name='mon2'/></source><target dev='vdb'/></disk>"
		"<disk type='network'><source protocol='nbd' name='exp'/><target dev='vdc'/></disk>"
		"<disk type='volume' device='disk'><driver type='qcow2'/>"
		"<source pool='default' volume='d.qcow2'/><target dev='vdd'/></disk>"
		"<disk type='dir' device='floppy'><source dir='/srv/fd'/><target dev='fda'/></disk>"
		"<disk type='network' device='cdrom'><target dev='hdd'/></disk>"));
	static const char *const want[][4] = {
	    {"vda", "disk", "/img/a.qcow2", "qcow2"},
	    {"hdc", "cdrom", NULL, "raw"},
	    {"sda", "lun", "/dev/sdb", NULL},
	    {"vdb", "disk", "rbd://mon1:6789/vms/app", "raw"},
	    {"vdc", "disk", "nbd:exp", NULL},
	    {"vdd", "disk", "default/d.qcow2", "qcow2"},
	    {"fda", "floppy", "/srv/fd", NULL},
	    {"hdd", "cdrom", NULL, NULL},
	};
	assert_int_equal(g->disks->len, G_N_ELEMENTS(want));
	for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
		const DrvDisk *d = disk(g, i);
		assert_string_equal(d->target, want[i][0]);
		assert_string_equal(d->device, want[i][1]);
		if (want[i][2])
			assert_string_equal(d->path, want[i][2]);
		else
			assert_null(d->path);
		if (want[i][3])
			assert_string_equal(d->format, want[i][3]);
		else
			assert_null(d->format);
		assert_int_equal(d->capacity, 0);
		assert_int_equal(d->allocation, 0);
	}
}

static void t_os_libosinfo(void **state)
{
	g_autoptr(DrvGuest) g =
	    parse_ok(DOMAIN(META_LIBOSINFO("http://microsoft.com/win/2k8r2"), ""));
	assert_string_equal(g->os_id, "http://microsoft.com/win/2k8r2");
	assert_string_equal(g->os_source, "libosinfo");
	assert_true(g->win2008);
	assert_null(g->tags);

	g_autoptr(DrvGuest) deb =
	    parse_ok(DOMAIN(META_LIBOSINFO("http://debian.org/debian/12"), ""));
	assert_string_equal(deb->os_source, "libosinfo");
	assert_false(deb->win2008);
}

static void t_os_holdfast(void **state)
{
	g_autoptr(DrvGuest) g = parse_ok(DOMAIN(META_HF("os='win2k8' tags=' sql, prod,,'"), ""));
	assert_string_equal(g->os_id, "win2k8");
	assert_string_equal(g->os_source, "holdfast");
	assert_true(g->win2008);
	assert_non_null(g->tags);
	assert_int_equal(g_strv_length(g->tags), 2);
	assert_string_equal(g->tags[0], "sql");
	assert_string_equal(g->tags[1], "prod");
}

static void t_os_both(void **state)
{
	/* holdfast's element wins over libosinfo, in either order. */
	g_autoptr(DrvGuest) g = parse_ok(DOMAIN(
	    META_LIBOSINFO("http://microsoft.com/win/2k8") META_HF("os='win2k8r2' tags='x'"), ""));
	assert_string_equal(g->os_id, "win2k8r2");
	assert_string_equal(g->os_source, "holdfast");
	assert_true(g->win2008);
	assert_string_equal(g->tags[0], "x");
	assert_null(g->tags[1]);

	/* holdfast's element with tags only: the OS comes from libosinfo, tags from holdfast. */
	g_autoptr(DrvGuest) t = parse_ok(
	    DOMAIN(META_HF("tags='legacy'") META_LIBOSINFO("http://microsoft.com/win/2k8"), ""));
	assert_string_equal(t->os_source, "libosinfo");
	assert_true(t->win2008);
	assert_string_equal(t->tags[0], "legacy");
}

static void t_os_other_namespaces(void **state)
{
	/* Same local names in foreign namespaces, and an unknown OS of holdfast's own. */
	g_autoptr(DrvGuest) g = parse_ok(
	    DOMAIN("<x:guest xmlns:x='https://example.org/x' os='win2k8' tags='no'/>"
		   "<y:libosinfo xmlns:y='https://example.org/y'><y:os id='http://microsoft.com/"
		   "win/2k8'/></y:libosinfo>",
		   ""));
	assert_null(g->os_id);
	assert_false(g->win2008);
	assert_null(g->tags);

	g_autoptr(DrvGuest) u = parse_ok(DOMAIN(META_HF("os='win2012' tags=''"), ""));
	assert_string_equal(u->os_id, "win2012");
	assert_string_equal(u->os_source, "holdfast");
	assert_false(u->win2008);
	assert_null(u->tags);
}

static void t_malformed(void **state)
{
	static const char *const bad[] = {"", "<domain><name>x</name>", "not xml at all",
					  "<domain/>", "<domain><uuid>u</uuid></domain>"};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		HfError err = {0};
		g_autoptr(DrvGuest) g = drv_guest_new();
		assert_int_equal(lv_xml_guest_parse(bad[i], "guest 'g1' on host h", g, &err), -1);
		assert_string_equal(err.code, HF_ERR_INTERNAL);
		assert_non_null(strstr(err.message, "guest 'g1' on host h"));
	}
	HfError err = {0};
	g_autoptr(DrvGuest) g = drv_guest_new();
	assert_int_equal(lv_xml_guest_parse(NULL, "guest 'g1'", g, &err), -1);
	g_autoptr(DrvSnapshot) s = drv_snapshot_new();
	error_clear(&err);
	assert_int_equal(lv_xml_snapshot_parse("<domainsnapshot>", "snap", s, &err), -1);
	assert_string_equal(err.code, HF_ERR_INTERNAL);
}

#define SNAP(body)                                                                                 \
	"<domainsnapshot>" body "<domain type='kvm'><name>inner</name><description>inner-d"        \
	"</description><devices/></domain></domainsnapshot>"

static DrvSnapshot *snap_ok(const char *xml)
{
	HfError err = {0};
	DrvSnapshot *s = drv_snapshot_new();
	assert_int_equal(lv_xml_snapshot_parse(xml, "snapshot", s, &err), 0);
	return s;
}

static void t_snap_internal(void **state)
{
	g_autoptr(DrvSnapshot) s = snap_ok(
	    SNAP("<name>after-sp2</name><description>SP2</description><state>running</state>"
		 "<parent><name>baseline</name></parent><creationTime>1700003600</creationTime>"
		 "<memory snapshot='internal'/><disks><disk name='vda' snapshot='internal'/>"
		 "<disk name='hdc' snapshot='no'/></disks>"));
	assert_string_equal(s->name, "after-sp2");
	assert_string_equal(s->description, "SP2");
	assert_string_equal(s->parent, "baseline");
	assert_int_equal(s->creation_time, 1700003600);
	assert_string_equal(s->state, "running");
	assert_int_equal(s->kind, DRV_SNAP_INTERNAL);
	assert_true(s->has_memory);
	assert_false(s->current);

	g_autoptr(DrvSnapshot) off = snap_ok(
	    SNAP("<name>off</name><state>shutoff</state><creationTime>1</creationTime>"
		 "<memory snapshot='no'/><disks><disk name='vda' snapshot='internal'/></disks>"));
	assert_null(off->description); /* not the embedded domain's */
	assert_null(off->parent);
	assert_int_equal(off->kind, DRV_SNAP_INTERNAL);
	assert_false(off->has_memory);

	/* Older XML without <memory>/<disks>: a running state means memory. */
	g_autoptr(DrvSnapshot) old = snap_ok(SNAP("<name>old</name><state>paused</state>"));
	assert_int_equal(old->kind, DRV_SNAP_INTERNAL);
	assert_true(old->has_memory);
	assert_int_equal(old->creation_time, 0);
}

static void t_snap_external(void **state)
{
	g_autoptr(DrvSnapshot) d =
	    snap_ok(SNAP("<name>pre-patch</name><state>disk-snapshot</state><memory snapshot='no'/>"
			 "<disks><disk name='vda' snapshot='external' type='file'>"
			 "<source file='/img/a.pre-patch'/></disk></disks>"));
	assert_int_equal(d->kind, DRV_SNAP_EXTERNAL);
	assert_false(d->has_memory);

	g_autoptr(DrvSnapshot) m =
	    snap_ok(SNAP("<name>full</name><state>running</state>"
			 "<memory snapshot='external' file='/img/full.mem'/>"
			 "<disks><disk name='vda' snapshot='external'/></disks>"));
	assert_int_equal(m->kind, DRV_SNAP_EXTERNAL);
	assert_true(m->has_memory);

	g_autoptr(DrvSnapshot) none =
	    snap_ok(SNAP("<name>none</name><state>shutoff</state><memory snapshot='no'/>"
			 "<disks><disk name='vda' snapshot='no'/></disks>"));
	assert_int_equal(none->kind, DRV_SNAP_OTHER);
	assert_false(none->has_memory);
}

static void t_snap_spec_escaped(void **state)
{
	const char *name = "a<b>&\"c'd";
	const char *desc = "]]> <!-- & --> \"quoted\" 'single' \xc3\xa9";
	DrvSnapshotSpec spec = {name, desc, NULL};
	g_autofree char *xml = lv_xml_snapshot_spec(&spec);
	assert_null(strstr(xml, "<b>"));
	g_autoptr(DrvSnapshot) s = snap_ok(xml);
	assert_string_equal(s->name, name);
	assert_string_equal(s->description, desc);

	DrvSnapshotSpec bare = {"n", NULL, NULL};
	g_autofree char *xml2 = lv_xml_snapshot_spec(&bare);
	assert_null(strstr(xml2, "description"));
}

static void t_internal_blocker(void **state)
{
	g_autofree char *raw = lv_xml_internal_blocker(DOMAIN(
	    "", "<disk type='file' device='disk'><driver type='qcow2'/><source file='/a'/>"
		"<target dev='vda'/></disk><disk type='file' device='disk'>"
		"<driver type='raw'/><source file='/img/b.img'/><target dev='vdb'/></disk>"));
	assert_non_null(raw);
	assert_non_null(strstr(raw, "'vdb'"));
	assert_non_null(strstr(raw, "/img/b.img"));
	assert_non_null(strstr(raw, "raw"));

	static const char *const fine[] = {
	    DOMAIN("", "<disk type='file'><driver type='qcow2'/><target dev='vda'/></disk>"),
	    DOMAIN("",
		   "<disk type='file' device='cdrom'><driver type='raw'/><source file='/i.iso'/>"
		   "<target dev='hdc'/><readonly/></disk>"),
	    DOMAIN(
		"",
		"<disk type='file' snapshot='no'><driver type='raw'/><target dev='vdb'/></disk>"),
	    DOMAIN("",
		   "<disk type='file'><driver type='raw'/><readonly/><target dev='vdb'/></disk>"),
	    DOMAIN("", "<disk type='network'><driver type='raw'/><source protocol='rbd' name='x'/>"
		       "<target dev='vdb'/></disk>"),
	    DOMAIN("",
		   "<disk type='file'><source file='/unknown-format'/><target dev='vdb'/></disk>"),
	    "garbage",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(fine); i++) {
		g_autofree char *why = lv_xml_internal_blocker(fine[i]);
		assert_null(why);
	}
}

static void t_probe(void **state)
{
	static const char *const yes[] = {
	    "qemu:///system",	      "qemu:///session",	"qemu+ssh://root@kvm1/system",
	    "qemu+tcp://kvm1/system", "qemu+tls://kvm1/system", "test:///default",
	    "test:///srv/fleet.xml",  "QEMU:///system",		"xen:///system",
	};
	static const char *const no[] = {"hyperv://hv1/?transport=http",
					 "hyperv+ssh://x/",
					 "https://hv1:5986/wsman",
					 "/var/run/libvirt",
					 "qemu:system",
					 "",
					 "bogus:///system"};
	for (size_t i = 0; i < G_N_ELEMENTS(yes); i++)
		assert_true(drv_libvirt.probe(yes[i]));
	for (size_t i = 0; i < G_N_ELEMENTS(no); i++)
		assert_false(drv_libvirt.probe(no[i]));
	assert_false(drv_libvirt.probe(NULL));
}

/* libvirt 9.0's own errors (codes and texts as measured in the lab) -> holdfast's codes. */
static void t_error_codes(void **state)
{
	static const struct {
		int code, domain, int1;
		const char *msg, *want, *hint;
	} cases[] = {
	    {VIR_ERR_NO_DOMAIN, VIR_FROM_QEMU, -1, "Domain not found", HF_ERR_NOT_FOUND, ""},
	    {VIR_ERR_NO_DOMAIN_SNAPSHOT, VIR_FROM_DOMAIN_SNAPSHOT, -1, "no snapshot",
	     HF_ERR_NOT_FOUND, ""},
	    {VIR_ERR_AGENT_UNRESPONSIVE, VIR_FROM_QEMU, -1,
	     "Guest agent is not responding: QEMU guest agent is not connected",
	     HF_ERR_AGENT_UNAVAILABLE, "org.qemu.guest_agent.0"},
	    {VIR_ERR_ARGUMENT_UNSUPPORTED, VIR_FROM_QEMU, -1,
	     "argument unsupported: QEMU guest agent is not configured", HF_ERR_AGENT_UNAVAILABLE,
	     "install and start"},
	    {VIR_ERR_AGENT_UNRESPONSIVE, VIR_FROM_QEMU, -1,
	     "Guest agent is not responding: Guest agent not available for now",
	     HF_ERR_AGENT_TIMEOUT, "did not answer in time"},
	    {VIR_ERR_AGENT_UNSYNCED, VIR_FROM_QEMU, -1, "guest agent replied with wrong id",
	     HF_ERR_AGENT_TIMEOUT, "not hung"},
	    {VIR_ERR_NO_SUPPORT, VIR_FROM_NONE, -1,
	     "this function is not supported by the connection driver", HF_ERR_UNSUPPORTED, ""},
	    {VIR_ERR_OPERATION_UNSUPPORTED, VIR_FROM_QEMU, -1,
	     "internal snapshot for disk vda unsupported for storage type raw", HF_ERR_UNSUPPORTED,
	     ""},
	    {VIR_ERR_INVALID_ARG, VIR_FROM_DOMAIN, -1, "unsupported flags (0x10) in function x",
	     HF_ERR_UNSUPPORTED, ""},
	    {VIR_ERR_INVALID_ARG, VIR_FROM_DOMAIN, -1, "invalid argument: name",
	     HF_ERR_INVALID_PARAMS, ""},
	    {VIR_ERR_OPERATION_INVALID, VIR_FROM_QEMU, -1, "domain is not running", HF_ERR_CONFLICT,
	     ""},
	    {VIR_ERR_OPERATION_FAILED, VIR_FROM_QEMU, -1, "domain moment s1 already exists",
	     HF_ERR_CONFLICT, ""},
	    {VIR_ERR_OPERATION_TIMEOUT, VIR_FROM_QEMU, -1,
	     "Timed out during operation: cannot acquire state change lock", HF_ERR_TIMEOUT,
	     "retry later"},
	    {VIR_ERR_SYSTEM_ERROR, VIR_FROM_QEMU, 28, "cannot write: No space left on device",
	     HF_ERR_NO_SPACE, "free space"},
	    {VIR_ERR_OPERATION_FAILED, VIR_FROM_QEMU, -1,
	     "operation failed: Error while writing VM state: No space left on device",
	     HF_ERR_NO_SPACE, "free space"},
	    {VIR_ERR_XML_DETAIL, VIR_FROM_DOMAIN, 28, "line 28: bad", HF_ERR_INVALID_PARAMS, ""},
	    {VIR_ERR_SYSTEM_ERROR, VIR_FROM_RPC, 104, "Cannot recv data: Connection reset",
	     HF_ERR_HOST_UNREACHABLE, ""},
	    {VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC, -1, "client socket is closed",
	     HF_ERR_HOST_UNREACHABLE, ""},
	    {VIR_ERR_SYSTEM_ERROR, VIR_FROM_STORAGE, 2, "cannot open /img/x: No such file",
	     HF_ERR_FAILED, ""},
	    {VIR_ERR_INTERNAL_ERROR, VIR_FROM_QEMU, -1, "qemu unexpectedly closed the monitor",
	     HF_ERR_FAILED, ""},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		virError e = {.code = cases[i].code,
			      .domain = cases[i].domain,
			      .int1 = cases[i].int1,
			      .message = (char *)cases[i].msg};
		const char *hint = NULL;
		const char *got = lv_error_code(&e, NULL, &hint);
		if (strcmp(got, cases[i].want) || !strstr(hint, cases[i].hint))
			fail_msg("case %zu (%s): got %s hint '%s', want %s", i, cases[i].msg, got,
				 hint, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_domain_basics),
	    cmocka_unit_test(t_memory_units),
	    cmocka_unit_test(t_disks),
	    cmocka_unit_test(t_os_libosinfo),
	    cmocka_unit_test(t_os_holdfast),
	    cmocka_unit_test(t_os_both),
	    cmocka_unit_test(t_os_other_namespaces),
	    cmocka_unit_test(t_malformed),
	    cmocka_unit_test(t_snap_internal),
	    cmocka_unit_test(t_snap_external),
	    cmocka_unit_test(t_snap_spec_escaped),
	    cmocka_unit_test(t_internal_blocker),
	    cmocka_unit_test(t_probe),
	    cmocka_unit_test(t_error_codes),
	};
	return cmocka_run_group_tests_name("libvirt driver XML", tests, NULL, NULL);
}
