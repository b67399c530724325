/* Unit tests: config parsing and validation (daemon/config.c) and snapshot naming. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/config.h"
#include "daemon/snapshot.h"

static char *write_conf(const char *text)
{
	char *path = NULL;
	GError *e = NULL;
	int fd = g_file_open_tmp("hfconf-XXXXXX.conf", &path, &e);
	assert_true(fd >= 0);
	assert_true(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* Load text; expect failure whose message contains every given fragment. */
static void expect_error(const char *text, const char *frag1, const char *frag2)
{
	g_autofree char *path = write_conf(text);
	HfConfig *cfg = NULL;
	HfError err = {0};
	assert_int_equal(config_load(path, &cfg, &err), -1);
	assert_null(cfg);
	assert_string_equal(err.code, HF_ERR_CONFIG);
	assert_non_null(strstr(err.message, path)); /* names the file */
	if (!strstr(err.message, frag1) || (frag2 && !strstr(err.message, frag2)))
		fail_msg("message '%s' lacks '%s' / '%s'", err.message, frag1, frag2 ? frag2 : "");
	g_unlink(path);
}

static void test_good(void **state)
{
	g_autofree char *path = write_conf("# comment\n"
					   "[daemon]\n"
					   "socket = /tmp/x.sock\n"
					   "log-level = debug\n"
					   "max-jobs-per-host = 3\n"
					   "\n"
					   "[host a]\n"
					   "uri = test:///default\n"
					   "guests = w2k8-*, sql??\n"
					   "[host b]\n"
					   "uri = qemu+ssh://root@kvm2/system\n"
					   "guests = tag:prod\n"
					   "max-jobs = 1\n");
	HfConfig *cfg = NULL;
	HfError err = {0};
	assert_int_equal(config_load(path, &cfg, &err), 0);
	assert_string_equal(cfg->socket, "/tmp/x.sock");
	assert_string_equal(cfg->state_dir, CONFIG_DEFAULT_STATE_DIR);
	assert_int_equal(cfg->hosts->len, 2);
	const CfgHost *a = config_host(cfg, "a"), *b = config_host(cfg, "b");
	assert_int_equal(a->max_jobs, 3);
	assert_int_equal(b->max_jobs, 1);
	assert_true(config_host_selects(a, "w2k8-dc01", NULL));
	assert_true(config_host_selects(a, "sql01", NULL));
	assert_false(config_host_selects(a, "sql001", NULL));
	char *tags[] = {"files", "prod", NULL};
	assert_true(config_host_selects(b, "anything", tags));
	assert_false(config_host_selects(b, "anything", NULL));
	config_free(cfg);
	g_unlink(path);
}

static void test_errors(void **state)
{
	expect_error("[daemon]\nbogus = 1\n", ":2:", "bogus");
	expect_error("[daemon]\nlog-level = loud\n", ":2:", "log-level");
	expect_error("[daemon]\nsocket = relative.sock\n", ":2:", "absolute");
	expect_error("[daemon]\nmax-jobs-per-host = 0\n", ":2:", "max-jobs-per-host");
	expect_error("[daemon]\nmax-jobs-per-host = 2x\n", ":2:", "whole number");
	expect_error("[daemon]\nadmin-group = no-such-group-hf\n", ":2:", "does not exist");
	expect_error("log-level = info\n", ":1:", "outside any section");
	expect_error("[daemon]\n[weird]\n", ":2:", "unknown section");
	expect_error("[daemon\n", ":1:", "malformed section");
	expect_error("[daemon]\njust words\n", ":2:", "not 'key = value'");
	expect_error("[daemon]\nlog-level = info\nlog-level = debug\n", ":3:", "twice");
	expect_error("[host a]\nuri = test:///default\n[host a]\nuri = test:///default\n", ":3:",
		     "defined twice");
	expect_error("[host bad/name]\n", ":1:", "host name");
	expect_error("\n\n[host a]\nguests = all\n", ":3:", "uri: missing");
	expect_error("[host a]\nuri = hyperv-nope\n", ":2:", "uri");
	expect_error("[host a]\nuri = test:///nonexistent/fleet.xml\n", ":2:", "does not exist");
	expect_error("[host a]\nuri = test:///default\nguests = tag:\n", ":3:", "tag");
	expect_error("[host a]\nuri = test:///default\ncolour = blue\n", ":3:", "colour");
}

static void test_unreadable(void **state)
{
	HfConfig *cfg = NULL;
	HfError err = {0};
	assert_int_equal(config_load("/nonexistent/holdfastd.conf", &cfg, &err), -1);
	assert_non_null(strstr(err.message, "/nonexistent/holdfastd.conf"));
	g_autofree char *path = write_conf("[daemon]\nsocket = /tmp/\xff\xfe\n");
	error_clear(&err);
	assert_int_equal(config_load(path, &cfg, &err), -1);
	assert_non_null(strstr(err.message, "UTF-8"));
	g_unlink(path);
}

static void test_snapshot_names(void **state)
{
	HfError err = {0};
	g_autofree char *n = snapshot_default_name(1700000000);
	assert_string_equal(n, "hf-20231114T221320Z");
	g_autofree char *leap = snapshot_default_name(1709164800); /* 2024-02-29 00:00:00 UTC */
	assert_string_equal(leap, "hf-20240229T000000Z");
	assert_int_equal(snapshot_name_check("nightly-1", &err), 0);
	assert_int_equal(snapshot_name_check("before SP2 patch", &err), 0);
	assert_int_equal(snapshot_name_check("", &err), -1);
	assert_string_equal(err.code, HF_ERR_INVALID_PARAMS);
	error_clear(&err);
	assert_int_equal(snapshot_name_check("a/b", &err), -1);
	error_clear(&err);
	assert_int_equal(snapshot_name_check(".hidden", &err), -1);
	error_clear(&err);
	assert_int_equal(snapshot_name_check("-rf", &err), -1);
	error_clear(&err);
	assert_int_equal(snapshot_name_check("tab\there", &err), -1);
	char longname[200];
	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	error_clear(&err);
	assert_int_equal(snapshot_name_check(longname, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_snapshot_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
