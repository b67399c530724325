/* test_libvirt_remote.c - the libvirt driver through a private libvirtd (session mode, its own
 * sockets in a temp dir, libvirt's test driver behind it): events over RPC, the close
 * callback when libvirtd dies, and host-unreachable errors afterwards. Skipped (77) where
 * libvirtd is not installed. As root the daemon runs as nobody, so it never touches the
 * system daemon's /run/libvirt. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "drivers/libvirt_priv.h"

typedef struct {
	char *dir;
	GPid pid;
	char *uri;
	int changed, closed;
	char *why;
} Remote;

static void on_changed(void *opaque, const char *guest)
{
	((Remote *)opaque)->changed++;
}

static void on_closed(void *opaque, const char *reason)
{
	Remote *r = opaque;
	r->closed++;
	g_free(r->why);
	r->why = g_strdup(reason);
}

static bool spin_until(const int *counter, int seconds)
{
	gint64 end = g_get_monotonic_time() + seconds * G_USEC_PER_SEC;
	while (!*counter && g_get_monotonic_time() < end)
		g_main_context_iteration(NULL, FALSE), g_usleep(1000);
	return *counter > 0;
}

static int start_libvirtd(void **state)
{
	Remote *r = g_new0(Remote, 1);
	r->dir = g_dir_make_tmp("hf-libvirtd-XXXXXX", NULL);
	g_autofree char *home = g_build_filename(r->dir, "home", NULL);
	g_autofree char *xdg = g_build_filename(r->dir, "xdg", NULL);
	g_autofree char *sock = g_build_filename(xdg, "libvirt", "libvirt-sock", NULL);
	g_autofree char *log = g_build_filename(r->dir, "libvirtd.log", NULL);
	g_mkdir_with_parents(home, 0700);
	g_mkdir_with_parents(xdg, 0700);
	bool root = geteuid() == 0;
	if (root &&
	    (chown(r->dir, 65534, 65534) || chown(home, 65534, 65534) || chown(xdg, 65534, 65534)))
		return -1;
	g_autofree char *e_home = g_strconcat("HOME=", home, NULL);
	g_autofree char *e_xdg = g_strconcat("XDG_RUNTIME_DIR=", xdg, NULL);
	g_autofree char *cmd = g_strdup_printf(
	    "%s env -i PATH=/usr/sbin:/usr/bin %s %s XDG_CONFIG_HOME=%s/.config "
	    "XDG_CACHE_HOME=%s/.cache libvirtd >%s 2>&1",
	    root ? "exec setpriv --reuid=65534 --regid=65534 --clear-groups" : "exec", e_home,
	    e_xdg, home, home, log);
	const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	if (!g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
			   &r->pid, NULL))
		return -1;
	for (int i = 0; i < 200 && !g_file_test(sock, G_FILE_TEST_EXISTS); i++)
		g_usleep(50000);
	r->uri = g_strdup_printf("test+unix:///default?socket=%s", sock);
	*state = r;
	if (g_file_test(sock, G_FILE_TEST_EXISTS))
		return 0;
	fprintf(stderr, "libvirtd did not start; see %s\n", log);
	kill(r->pid, SIGKILL);
	waitpid(r->pid, NULL, 0);
	r->pid = 0;
	return -1;
}

static int stop_libvirtd(void **state)
{
	Remote *r = *state;
	if (r->pid > 0) {
		kill(r->pid, SIGKILL);
		waitpid(r->pid, NULL, 0);
	}
	const char *argv[] = {"rm", "-rf", r->dir, NULL};
	g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
		     NULL);
	g_free(r->dir);
	g_free(r->uri);
	g_free(r->why);
	g_free(r);
	return 0;
}

static void t_remote_close(void **state)
{
	Remote *r = *state;
	HfError err = {0};
	DrvConn *c = NULL;
	DrvCallbacks cb = {on_changed, on_closed, r};
	g_autoptr(GPtrArray) gs = NULL;

	assert_true(drv_libvirt.probe(r->uri));
	assert_int_equal(drv_open(r->uri, NULL, &cb, 0, &c, &err), 0);
	assert_int_equal(drv_guest_list(c, 0, &gs, &err), 0);
	assert_int_equal(gs->len, 1); /* test:///default has one guest, "test" */

	/* A lifecycle event travels over RPC to our main loop. */
	g_autoptr(virDomain) d = virDomainLookupByName(lv_conn(c)->conn, "test");
	assert_int_equal(virDomainSuspend(d), 0);
	assert_true(spin_until(&r->changed, 5));
	assert_int_equal(r->closed, 0);

	/* libvirtd dies: the close callback reaches us from the main loop, calls fail cleanly. */
	kill(r->pid, SIGKILL);
	waitpid(r->pid, NULL, 0);
	r->pid = 0;
	assert_true(spin_until(&r->closed, 15));
	assert_non_null(strstr(r->why, "libvirtd closed the connection"));
	assert_non_null(strstr(r->why, "virsh -c test+unix:///default"));
	assert_false(drv_alive(c));
	g_autoptr(DrvGuest) g = NULL;
	assert_int_equal(drv_guest_get(c, "test", 0, &g, &err), -1);
	assert_string_equal(err.code, HF_ERR_HOST_UNREACHABLE);
	g_clear_pointer(&d, virDomainFree);
	drv_close(c);

	/* Reconnecting while it is down: host-unreachable with the advice. */
	error_clear(&err);
	assert_int_equal(drv_open(r->uri, NULL, &cb, 0, &c, &err), -1);
	assert_string_equal(err.code, HF_ERR_HOST_UNREACHABLE);
	assert_non_null(strstr(err.message, "is libvirtd running?"));
	assert_int_equal(r->closed, 1);
}

int main(void)
{
	g_autofree char *libvirtd = g_find_program_in_path("libvirtd");
	if (!libvirtd && !g_file_test("/usr/sbin/libvirtd", G_FILE_TEST_IS_EXECUTABLE)) {
		fprintf(stderr, "libvirtd is not installed: skipped\n");
		return 77;
	}
	if (virEventRegisterDefaultImpl() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_remote_close, start_libvirtd, stop_libvirtd),
	};
	return cmocka_run_group_tests_name("libvirt driver through libvirtd", tests, NULL, NULL);
}
