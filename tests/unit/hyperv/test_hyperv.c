/* test_hyperv.c - the Hyper-V driver without a host: URI probe, [host] keys, the credentials
 * file rules, open failures that name the reason (never the password), KVP items, datetimes
 * and states. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "drivers/hyperv.h"

static void t_probe(void **state)
{
	assert_true(drv_hyperv.probe("hyperv://hv1"));
	assert_true(drv_hyperv.probe("hyperv://hv1:5986"));
	assert_false(drv_hyperv.probe("qemu:///system"));
	assert_ptr_equal(drv_for_uri("hyperv://x"), &drv_hyperv);
	assert_true(drv_hyperv.caps & DRV_CAP_SELF_QUIESCE);
}

static void t_config_keys(void **state)
{
	static const struct {
		const char *k, *v;
		bool ok;
	} cases[] = {
	    {"auth", "basic", true},
	    {"auth", "negotiate", true},
	    {"auth", "digest", false},
	    {"credentials", "/etc/holdfast/hv.cred", true},
	    {"credentials", "hv.cred", false},
	    {"ca-file", "/etc/ssl/hv.pem", true},
	    {"pinned-key", "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", true},
	    {"pinned-key", "sha256//short", false},
	    {"pinned-key", "md5//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", false},
	    {"allow-unencrypted", "true", true},
	    {"allow-unencrypted", "yes", false},
	    {"job-timeout", "600", true},
	    {"job-timeout", "0", false},
	    {"job-timeout", "10s", false},
	    {"batch", "0", true},
	    {"batch", "5000", false},
	    {"export-path", "D:\\DR", true},
	    {"export-path", "", false},
	    {"password", "x", false},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		HfError err = {0};
		int rc = drv_hyperv.config_key(cases[i].k, cases[i].v, &err);
		if (cases[i].ok)
			assert_int_equal(rc, 0);
		else
			assert_int_equal(rc, -1);
		assert_true(cases[i].ok || !strcmp(err.code, HF_ERR_CONFIG));
	}
	HfError err = {0};
	drv_hyperv.config_key("passwd", "x", &err);
	assert_non_null(strstr(err.message, "known: uri, guests, max-jobs, auth, credentials"));
}

static int open_with(const char *uri, const char *creds_text, int mode, HfError *err)
{
	g_autofree char *dir = g_dir_make_tmp("hfhv.XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "hv.cred", NULL);
	g_autoptr(GHashTable) o = g_hash_table_new(g_str_hash, g_str_equal);
	DrvConn *c = NULL;
	g_file_set_contents(path, creds_text, -1, NULL);
	chmod(path, (mode_t)mode);
	g_hash_table_insert(o, "credentials", path);
	g_hash_table_insert(o, "allow-unencrypted", "true");
	int rc = drv_open(uri, o, NULL, 0, &c, err);
	if (c)
		drv_close(c);
	unlink(path);
	rmdir(dir);
	return rc;
}

static void t_credentials(void **state)
{
	HfError err = {0};
	assert_int_equal(open_with("hyperv://127.0.0.1:1", "u:topsecret\n", 0644, &err), -1);
	assert_string_equal(err.code, HF_ERR_CONFIG);
	assert_non_null(strstr(err.message, "chmod 600"));
	assert_non_null(strstr(err.message, "hv.cred"));
	assert_null(strstr(err.message, "topsecret"));

	HfError e2 = {0};
	assert_int_equal(open_with("hyperv://127.0.0.1:1", "no-colon-here\n", 0600, &e2), -1);
	assert_non_null(strstr(e2.message, "expected `user:password`"));

	/* a good file (both forms): the failure is the unreachable host, without the password */
	const char *forms[] = {"hfadmin:top:secret\n", "hfadmin\r\ntop:secret\r\n"};
	for (size_t i = 0; i < G_N_ELEMENTS(forms); i++) {
		HfError e = {0};
		assert_int_equal(open_with("hyperv://127.0.0.1:1", forms[i], 0600, &e), -1);
		assert_string_equal(e.code, HF_ERR_HOST_UNREACHABLE);
		assert_non_null(strstr(e.message, "cannot reach Hyper-V host 127.0.0.1"));
		assert_null(strstr(e.message, "secret"));
	}
}

static void t_bad_uri(void **state)
{
	const char *bad[] = {"hyperv://", "hyperv://h:0", "hyperv://h:99999", "hyperv://u:p@h",
			     "hyperv://h:12x"};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		HfError err = {0};
		DrvConn *c = NULL;
		assert_int_equal(drv_open(bad[i], NULL, NULL, 0, &c, &err), -1);
		assert_string_equal(err.code, HF_ERR_CONFIG);
		assert_null(c);
	}
}

static void t_kvp_items(void **state)
{
	g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(items,
			g_strdup("<INSTANCE CLASSNAME=\"Msvm_KvpExchangeDataItem\"><PROPERTY "
				 "NAME=\"Data\" TYPE=\"string\"><VALUE>6.0.6003</VALUE>"
				 "</PROPERTY><PROPERTY NAME=\"Name\" TYPE=\"string\"><VALUE>"
				 "OSVersion</VALUE></PROPERTY></INSTANCE>"));
	g_ptr_array_add(items, NULL); /* xsi:nil entry */
	g_ptr_array_add(items, g_strdup("<broken"));
	g_autoptr(GHashTable) t = hyperv_kvp_items(items);
	assert_int_equal(g_hash_table_size(t), 1);
	assert_string_equal(g_hash_table_lookup(t, "OSVersion"), "6.0.6003");
}

static void t_datetime_state(void **state)
{
	assert_int_equal(hyperv_datetime("2020-01-20T22:00:00.000000Z"), 1579557600);
	assert_int_equal(hyperv_datetime("20200120220000.000000+000"), 1579557600);
	assert_int_equal(hyperv_datetime("garbage"), 0);
	assert_int_equal(hyperv_datetime(NULL), 0);
	assert_int_equal(hyperv_state(2), DRV_STATE_RUNNING);
	assert_int_equal(hyperv_state(3), DRV_STATE_SHUTOFF);
	assert_int_equal(hyperv_state(6), DRV_STATE_SAVED);
	assert_int_equal(hyperv_state(9), DRV_STATE_PAUSED);
	assert_int_equal(hyperv_state(4), DRV_STATE_SHUTDOWN);
	assert_int_equal(hyperv_state(32768), DRV_STATE_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_probe),	     cmocka_unit_test(t_config_keys),
	    cmocka_unit_test(t_credentials), cmocka_unit_test(t_bad_uri),
	    cmocka_unit_test(t_kvp_items),   cmocka_unit_test(t_datetime_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
