/* Unit tests: holdfast's output (cli/output.c, cli/render.c): tables, human sizes, the generic
 * key: value printer and the per-method renderers on canned daemon results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <inttypes.h>
#include <string.h>

#include "output.h"
#include "render.h"

#define GIB "1073741824"

static void test_human_size(void **state)
{
	struct {
		uint64_t n;
		const char *s;
	} c[] = {
	    {0, "0 B"},
	    {1023, "1023 B"},
	    {1024, "1 KiB"},
	    {1536, "1.5 KiB"},
	    {10 * 1024 - 1, "10 KiB"},
	    {1048576ULL * 1023 + 1048000, "1 GiB"}, /* rounds up across a unit */
	    {4ULL << 30, "4 GiB"},
	    {(40ULL << 30) + (300ULL << 20), "40 GiB"},
	    {(1ULL << 40) + (200ULL << 30), "1.2 TiB"},
	    {UINT64_MAX, "16 EiB"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(c); i++) {
		g_autofree char *s = output_human_size(c[i].n);
		if (strcmp(s, c[i].s))
			fail_msg("%" PRIu64 ": '%s', wanted '%s'", c[i].n, s, c[i].s);
	}
}

static void test_scalar(void **state)
{
	g_autoptr(cJSON) o = cJSON_Parse("{\"s\":\"x\",\"i\":42,\"f\":1.5,\"t\":true,\"n\":null,"
					 "\"a\":[\"p\",1,false],\"e\":[],\"o\":{\"k\":1}}");
	const char *want[][2] = {{"s", "x"},   {"i", "42"},	   {"f", "1.5"},
				 {"t", "yes"}, {"n", "-"},	   {"a", "p, 1, no"},
				 {"e", "-"},   {"o", "{\"k\":1}"}, {"missing", "-"}};
	for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
		g_autofree char *s = output_field(o, want[i][0]);
		assert_string_equal(s, want[i][1]);
	}
}

static void test_table(void **state)
{
	static const char *const hdr[] = {"NAME", "N", "NOTE", NULL};
	g_autoptr(OutputTable) t = output_table_new(hdr);
	g_autoptr(GString) out = g_string_new(NULL);

	output_table_align_right(t, 1);
	output_table_add(t, "a", "1", "first");
	output_table_add(t, "längerer", "100", "");
	output_table_add(t, NULL, "7", "x");
	assert_int_equal(output_table_rows(t), 3);
	output_table_render(t, 2, out);
	/* widths count characters, not bytes; no trailing blanks; NULL shows as "-" */
	assert_string_equal(out->str, "  NAME        N  NOTE\n"
				      "  a           1  first\n"
				      "  längerer  100\n"
				      "  -           7  x\n");
}

static const char *guests_json =
    "{\"guests\":["
    "{\"address\":\"lab/w2k8-sql01\",\"host\":\"lab\",\"name\":\"w2k8-sql01\",\"uuid\":\"u1\","
    "\"title\":\"SQL 2008\",\"description\":null,\"state\":\"running\","
    "\"os\":{\"id\":\"http://microsoft.com/win/2k8\",\"source\":\"libosinfo\",\"win2008\":true},"
    "\"vcpus\":4,\"memory_mib\":8192,\"disks\":["
    "{\"target\":\"vda\",\"device\":\"disk\",\"path\":\"/i/a.qcow2\",\"format\":\"qcow2\","
    "\"capacity\":64424509440,\"allocation\":1},"
    "{\"target\":\"vdb\",\"device\":\"disk\",\"path\":\"/i/b.qcow2\",\"format\":\"qcow2\","
    "\"capacity\":214748364800,\"allocation\":1},"
    "{\"target\":\"hdc\",\"device\":\"cdrom\",\"path\":null,\"format\":\"raw\","
    "\"capacity\":700000000,\"allocation\":0}],\"tags\":[\"sql\"]},"
    "{\"address\":\"lab/w2k8r2-app01\",\"host\":\"lab\",\"name\":\"w2k8r2-app01\","
    "\"uuid\":\"u2\",\"title\":null,\"description\":null,\"state\":\"shutoff\","
    "\"os\":{\"id\":\"http://microsoft.com/win/2k8r2\",\"source\":\"libosinfo\","
    "\"win2008\":true},\"vcpus\":2,\"memory_mib\":1536,\"disks\":[],\"tags\":[]},"
    "{\"address\":\"dr-site/debian-tools\",\"host\":\"dr-site\",\"name\":\"debian-tools\","
    "\"uuid\":\"u3\",\"title\":null,\"description\":null,\"state\":\"host-unreachable\","
    "\"os\":{\"id\":null,\"source\":null,\"win2008\":false},\"vcpus\":1,\"memory_mib\":512,"
    "\"disks\":[{\"target\":\"vda\",\"capacity\":1073741824}],\"tags\":[]}],"
    "\"hosts\":[{\"name\":\"lab\",\"uri\":\"qemu:///system\",\"state\":\"connected\","
    "\"error\":null,\"guests\":2},"
    "{\"name\":\"dr-site\",\"uri\":\"qemu+ssh://dr/system\",\"state\":\"unreachable\","
    "\"error\":\"Cannot recv data\",\"guests\":1}]}";

static void test_guests_table(void **state)
{
	g_autoptr(cJSON) r = cJSON_Parse(guests_json);
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GString) warn = g_string_new(NULL);

	assert_non_null(r);
	render_result(methods_find("guests.list"), r, out, warn);
	assert_string_equal(
	    out->str,
	    "HOST     NAME          STATE             OS       VCPU   MEMORY  DISKS        TITLE\n"
	    "lab      w2k8-sql01    running           2008        4    8 GiB  2 (260 GiB)  SQL "
	    "2008\n"
	    "lab      w2k8r2-app01  shutoff           2008 R2     2  1.5 GiB  0\n"
	    "dr-site  debian-tools  host-unreachable  other       1  512 MiB  1 (1 GiB)\n");
	assert_string_equal(warn->str,
			    "holdfast: warning: host dr-site (qemu+ssh://dr/system) is "
			    "unreachable: Cannot recv data; its guests may be missing or "
			    "stale\n");

	g_autoptr(cJSON) none = cJSON_Parse("{\"guests\":[],\"hosts\":[]}");
	g_string_truncate(out, 0);
	g_string_truncate(warn, 0);
	render_guests(none, out, warn);
	assert_non_null(strstr(out->str, "no guests"));
	assert_string_equal(warn->str, "");
}

static void test_guest_show(void **state)
{
	g_autoptr(cJSON) all = cJSON_Parse(guests_json);
	cJSON *g = cJSON_DetachItemFromArray(cJSON_GetObjectItem(all, "guests"), 0);
	g_autoptr(cJSON) r = cJSON_CreateObject();
	g_autoptr(GString) out = g_string_new(NULL);

	cJSON_AddItemToObject(r, "guest", g);
	cJSON_AddNumberToObject(r, "snapshots", 3);
	cJSON_AddStringToObject(g, "firmware", "bios"); /* a field this CLI does not know */
	render_guest(r, out);
	assert_non_null(strstr(out->str, "address:     lab/w2k8-sql01\n"));
	assert_non_null(strstr(out->str, "description: -\n"));
	assert_non_null(strstr(out->str, "os:          Windows Server 2008 "
					 "(http://microsoft.com/win/2k8, from libosinfo)\n"));
	assert_non_null(strstr(out->str, "memory:      8 GiB\n"));
	assert_non_null(strstr(out->str, "snapshots:   3\n"));
	assert_non_null(strstr(out->str, "firmware:    bios\n"));
	assert_non_null(strstr(out->str,
			       "disks:\n  TARGET  DEVICE  FORMAT  CAPACITY  ALLOCATED  PATH\n"
			       "  vda     disk    qcow2     60 GiB        1 B  /i/a.qcow2\n"));
	assert_non_null(strstr(out->str, "  hdc     cdrom   raw      668 MiB        0 B  -\n"));
}

static void test_snapshots_table(void **state)
{
	g_autoptr(cJSON) r = cJSON_Parse(
	    "{\"guest\":\"lab/w2k8-sql01\",\"snapshots\":["
	    "{\"name\":\"before-sp4\",\"description\":null,\"created\":\"2025-01-02T03:04:05Z\","
	    "\"kind\":\"internal\",\"current\":false,\"owner\":\"foreign\",\"consistency\":null},"
	    "{\"name\":\"q1\",\"description\":\"before KB\",\"created\":\"2026-11-21T10:00:00Z\","
	    "\"kind\":\"external\",\"current\":true,\"owner\":\"holdfast\","
	    "\"consistency\":\"filesystem\"}]}");
	g_autoptr(GString) out = g_string_new(NULL);
	render_snapshots(r, out);
	assert_string_equal(out->str,
			    "NAME        CREATED               OWNER     CONSISTENCY  KIND      "
			    "CURRENT  DESCRIPTION\n"
			    "before-sp4  2025-01-02T03:04:05Z  foreign   -            internal\n"
			    "q1          2026-11-21T10:00:00Z  holdfast  filesystem   external  "
			    "*        before KB\n");
	g_autoptr(cJSON) none = cJSON_Parse("{\"guest\":\"lab/x\",\"snapshots\":[]}");
	g_string_truncate(out, 0);
	render_snapshots(none, out);
	assert_string_equal(out->str, "lab/x has no snapshots\n");
}

static const char *job_ok =
    "{\"id\":7,\"kind\":\"snapshot.create\",\"host\":\"lab\",\"guest\":\"lab/w2k8-sql01\","
    "\"state\":\"succeeded\",\"progress\":100,\"message\":\"done\","
    "\"created\":\"2026-11-21T10:00:00Z\",\"started\":\"2026-11-21T10:00:01Z\","
    "\"finished\":\"2026-11-21T10:01:06Z\",\"result\":{\"snapshot\":{\"name\":\"before\","
    "\"consistency\":\"crash\",\"consistency_reason\":\"no guest agent\"}},\"error\":null}";

static void test_jobs(void **state)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GString) warn = g_string_new(NULL);
	g_autofree char *list =
	    g_strdup_printf("{\"jobs\":[%s,{\"id\":12,\"kind\":\"snapshot.delete\",\"guest\":null,"
			    "\"state\":\"failed\",\"progress\":40,\"message\":\"deleting\","
			    "\"created\":\"2026-11-21T11:00:00Z\",\"error\":{\"code\":\"conflict\","
			    "\"message\":\"in use\"}}]}",
			    job_ok);
	g_autoptr(cJSON) r = cJSON_Parse(list);
	render_jobs(r, out);
	assert_string_equal(
	    out->str, "ID  KIND             GUEST           STATE      PROGRESS  CREATED        "
		      "       MESSAGE\n"
		      " 7  snapshot.create  lab/w2k8-sql01  succeeded      100%  "
		      "2026-11-21T10:00:00Z  done\n"
		      "12  snapshot.delete  -               failed          40%  "
		      "2026-11-21T11:00:00Z  conflict: in use\n");

	g_autoptr(cJSON) j = cJSON_Parse(job_ok);
	g_string_truncate(out, 0);
	render_job(j, out);
	assert_non_null(strstr(out->str, "id:       7\n"));
	assert_non_null(strstr(out->str, "progress: 100%\n"));
	assert_non_null(strstr(out->str, "result:\n  snapshot:\n    name:               before\n"));
	assert_non_null(strstr(out->str, "error:    -\n"));

	g_string_truncate(out, 0);
	render_job_outcome(j, out, warn);
	assert_string_equal(out->str, "created snapshot before of lab/w2k8-sql01 (job 7, 1m05s)\n"
				      "consistency: crash (no guest agent)\n");
	assert_string_equal(warn->str, "");

	g_autofree char *p = render_progress(j, 3.2);
	assert_string_equal(p, "job 7 succeeded 100%  done  3s");
	g_autofree char *label = render_job_label(j);
	assert_string_equal(label, "job 7 (snapshot.create of lab/w2k8-sql01)");

	/* a kind this CLI does not know: the generic printer shows the result */
	g_autoptr(cJSON) other = cJSON_Parse(
	    "{\"id\":9,\"kind\":\"dr.copy\",\"guest\":\"lab/x\",\"state\":\"succeeded\","
	    "\"started\":null,\"result\":{\"bytes\":10,\"target\":\"nas\"}}");
	g_string_truncate(out, 0);
	render_job_outcome(other, out, warn);
	assert_string_equal(out->str, "job 9 (dr.copy of lab/x) succeeded (?)\n"
				      "  bytes:  10\n"
				      "  target: nas\n");
}

static void test_generic_printer(void **state)
{
	g_autoptr(cJSON) r = cJSON_Parse(
	    "{\"verdict\":\"ok\",\"build\":7601,\"esu\":true,\"kbs\":[\"KB1\",\"KB2\"],"
	    "\"empty\":{},\"none\":[],\"agent\":{\"version\":\"1.2\",\"ok\":null},"
	    "\"checks\":[{\"name\":\"a\",\"pass\":true},{\"name\":\"bb\",\"detail\":{\"x\":1}}],"
	    "\"matrix\":[[1,2],[3]]}");
	g_autoptr(GString) out = g_string_new(NULL);
	static const HfMethod future = {"check.run", "check run", HF_ROLE_READ, false, "x", NULL};

	render_result(&future, r, out, NULL);
	assert_string_equal(out->str, "verdict: ok\n"
				      "build:   7601\n"
				      "esu:     yes\n"
				      "kbs:     KB1, KB2\n"
				      "empty:   -\n"
				      "none:    -\n"
				      "agent:\n"
				      "  version: 1.2\n"
				      "  ok:      -\n"
				      "checks:\n"
				      "  - name: a\n"
				      "    pass: yes\n"
				      "  - name: bb\n"
				      "    detail:\n"
				      "      x: 1\n"
				      "matrix:\n"
				      "  - 1, 2\n"
				      "  - 3\n");

	g_autoptr(cJSON) empty = cJSON_CreateObject();
	g_string_truncate(out, 0);
	render_result(&future, empty, out, NULL);
	assert_string_equal(out->str, "ok\n");

	/* skip list and minimum width */
	static const char *const skip[] = {"agent", "checks", "matrix", "kbs",
					   "empty", "none",   NULL};
	g_string_truncate(out, 0);
	output_kv(out, r, 2, 12, skip);
	assert_string_equal(out->str,
			    "  verdict:     ok\n  build:       7601\n  esu:         yes\n");
}

static void test_version_reload(void **state)
{
	g_autoptr(cJSON) v = cJSON_Parse("{\"version\":\"0.1.0\",\"protocol\":1,\"libvirt\":"
					 "\"9.0.0\",\"glib\":\"2.74.6\"}");
	g_autoptr(GString) out = g_string_new(NULL);
	render_result(methods_find("daemon.version"), v, out, NULL);
	assert_string_equal(out->str, "holdfast:   " HF_VERSION " (protocol 1)\n"
				      "holdfastd:  0.1.0 (protocol 1)\n"
				      "libvirt:    9.0.0\n"
				      "glib:       2.74.6\n");
	g_autoptr(cJSON) r = cJSON_Parse("{\"reloaded\":true,\"hosts\":2,\"note\":\"x\"}");
	g_string_truncate(out, 0);
	render_result(methods_find("daemon.reload"), r, out, NULL);
	assert_string_equal(out->str, "configuration reloaded: 2 hosts\nnote: x\n");
}

static void test_os_and_duration(void **state)
{
	const char *c[][2] = {
	    {"{\"id\":\"http://microsoft.com/win/2k8\",\"win2008\":true}", "2008"},
	    {"{\"id\":\"http://microsoft.com/win/2k8r2\",\"win2008\":true}", "2008 R2"},
	    {"{\"id\":\"win2k8r2\",\"source\":\"holdfast\"}", "2008 R2"},
	    {"{\"id\":null,\"win2008\":true}", "2008"},
	    {"{\"id\":\"http://debian.org/debian/12\",\"win2008\":false}", "other"},
	    {"null", "other"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(c); i++) {
		g_autoptr(cJSON) os = cJSON_Parse(c[i][0]);
		assert_string_equal(render_os_short(os), c[i][1]);
	}
	g_autofree char *a = render_duration(0.4), *b = render_duration(59.6),
			*d = render_duration(3725);
	assert_string_equal(a, "0s");
	assert_string_equal(b, "1m00s");
	assert_string_equal(d, "1h02m");
}

static void test_json_doc(void **state)
{
	g_autoptr(cJSON) r = cJSON_Parse("{\"a\":[1,{\"b\":null}]}");
	g_autofree char *s = output_json(r);
	g_autoptr(cJSON) back = cJSON_Parse(s);
	assert_true(cJSON_Compare(r, back, 1));
	assert_true(g_str_has_suffix(s, "}\n"));
	assert_non_null(strchr(s, '\n'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_human_size),	   cmocka_unit_test(test_scalar),
	    cmocka_unit_test(test_table),	   cmocka_unit_test(test_guests_table),
	    cmocka_unit_test(test_guest_show),	   cmocka_unit_test(test_snapshots_table),
	    cmocka_unit_test(test_jobs),	   cmocka_unit_test(test_generic_printer),
	    cmocka_unit_test(test_version_reload), cmocka_unit_test(test_os_and_duration),
	    cmocka_unit_test(test_json_doc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
