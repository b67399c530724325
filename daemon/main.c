/* main.c - holdfastd: options, start-up, signals, reload, shutdown. */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/xmlversion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "checks.h"
#include "clock.h"
#include "daemon.h"
#include "drrecover.h"
#include "log.h"
#include "scheduler.h"
#include "statefile.h"

#define NO_GID ((gid_t)-1)
#define DRAIN_MAX_MS 5000

/* systemd readiness (Type=notify) without linking libsystemd. */
static void notify(const char *state)
{
	const char *path = g_getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (!path || !*path || strlen(path) >= sizeof sa.sun_path)
		return;
	strcpy(sa.sun_path, path);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
		hf_log("hf-main", LOG_LVL_DEBUG, "sd_notify: %s", g_strerror(errno));
	close(fd);
}

static void silent_virterror(void *opaque, virErrorPtr e)
{
	/* Drivers report libvirt errors through HfError; keep libvirt from printing them. */
}

static gid_t socket_gid(const HfConfig *cfg)
{
	return cfg->readonly_group ? cfg->readonly_gid : cfg->admin_group ? cfg->admin_gid : NO_GID;
}

static int host_limit(void *ctx, const char *host)
{
	Daemon *d = ctx;
	Host *h = hosts_find(d->hosts, host);
	return h ? host_max_jobs(h) : 1;
}

int daemon_reload(Daemon *d, HfError *err)
{
	HfConfig *cfg = NULL;
	if (config_load(d->config_path, &cfg, err) < 0) {
		error_prefix(err, "reload refused, the running configuration stays");
		hf_log("hf-main", LOG_LVL_ERROR, "%s", err->message);
		return -1;
	}
	const char *sock = d->socket_override ? d->socket_override : d->cfg->socket;
	if (!d->socket_override && strcmp(cfg->socket, sock))
		hf_log("hf-main", LOG_LVL_WARNING, "socket= changed: takes effect at restart");
	if (strcmp(cfg->state_dir, d->cfg->state_dir))
		hf_log("hf-main", LOG_LVL_WARNING, "state-dir= changed: takes effect at restart");
	g_free(cfg->socket);
	cfg->socket = g_strdup(d->cfg->socket);
	g_free(cfg->state_dir);
	cfg->state_dir = g_strdup(d->cfg->state_dir);
	log_set_level((LogLevel)cfg->log_level);
	server_set_groups(d->server, cfg->admin_group ? cfg->admin_gid : NO_GID,
			  cfg->readonly_group ? cfg->readonly_gid : NO_GID);
	config_free(d->cfg);
	d->cfg = cfg;
	drrecover_configure(cfg->drstores);
	hosts_apply(d->hosts, cfg);
	scheduler_reload(d);
	hf_log("hf-main", LOG_LVL_INFO, "configuration reloaded from %s (%u hosts)", cfg->path,
	       cfg->hosts->len);
	return 0;
}

static gboolean on_hup(gpointer data)
{
	HfError err = {0};
	daemon_reload(data, &err);
	return G_SOURCE_CONTINUE;
}

static gboolean jobs_stopped(gpointer data)
{
	Daemon *d = data;
	g_main_loop_quit(d->loop);
	return G_SOURCE_REMOVE;
}

static gboolean on_term(gpointer data)
{
	Daemon *d = data;
	if (d->stopping) {
		hf_log("hf-main", LOG_LVL_WARNING, "second stop signal: exiting now");
		_exit(0);
	}
	d->stopping = true;
	notify("STOPPING=1");
	hf_log("hf-main", LOG_LVL_INFO, "stopping: no new connections, %u job(s) running",
	       jobs_running(d->jobs));
	server_stop_accepting(d->server);
	scheduler_stop();
	jobs_shutdown(d->jobs, d->cfg->shutdown_timeout, jobs_stopped, d);
	return G_SOURCE_CONTINUE;
}

static void log_versions(void)
{
	unsigned long lv = 0;
	virGetVersion(&lv, NULL, NULL);
	hf_log("hf-main", LOG_LVL_INFO,
	       "holdfastd %s starting: libvirt %lu.%lu.%lu, glib %u.%u.%u, cJSON %s, libxml2 %s",
	       HF_VERSION, lv / 1000000, lv / 1000 % 1000, lv % 1000, glib_major_version,
	       glib_minor_version, glib_micro_version, cJSON_Version(), LIBXML_DOTTED_VERSION);
}

/* Fork into the background; the parent exits 0 once the child says it is ready (or 1). */
static int daemonize(int *ready_fd)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		char c = 1;
		close(p[1]);
		ssize_t n = read(p[0], &c, 1);
		_exit(n == 1 && c == 0 ? 0 : 1);
	}
	close(p[0]);
	setsid();
	*ready_fd = p[1];
	return 0;
}

static int run(Daemon *d, gboolean foreground)
{
	HfError err = {0};
	int ready_fd = -1;
	const char *sock = d->socket_override ? d->socket_override : d->cfg->socket;

	log_setup((LogLevel)d->cfg->log_level, foreground);
	if (!foreground && daemonize(&ready_fd) < 0) {
		fprintf(stderr, "holdfastd: cannot go to the background: %s\n", g_strerror(errno));
		return 1;
	}
	log_versions();
	clock_init();
	virSetErrorFunc(NULL, silent_virterror);
	if (virEventRegisterDefaultImpl() < 0) {
		hf_log("hf-main", LOG_LVL_ERROR, "cannot start libvirt's event loop");
		return 1;
	}
	if (statefile_mkdirs(d->cfg->state_dir, &err) < 0 ||
	    !(d->jobs = jobs_new(d->cfg->state_dir, host_limit, d, &err))) {
		hf_log("hf-main", LOG_LVL_ERROR, "%s", err.message);
		return 1;
	}
	d->loop = g_main_loop_new(NULL, FALSE);
	d->hosts = hosts_new();
	d->server = server_new(d, sock, socket_gid(d->cfg),
			       d->cfg->admin_group ? d->cfg->admin_gid : NO_GID,
			       d->cfg->readonly_group ? d->cfg->readonly_gid : NO_GID, &err);
	if (!d->server) {
		hf_log("hf-main", LOG_LVL_ERROR, "%s", err.message);
		return 1;
	}
	drrecover_configure(d->cfg->drstores);
	hosts_apply(d->hosts, d->cfg);
	checks_start(d);
	scheduler_start(d);
	g_unix_signal_add(SIGTERM, on_term, d);
	g_unix_signal_add(SIGINT, on_term, d);
	g_unix_signal_add(SIGHUP, on_hup, d);
	notify("READY=1");
	if (ready_fd >= 0) {
		char ok = 0;
		if (write(ready_fd, &ok, 1) < 0)
			hf_log("hf-main", LOG_LVL_DEBUG, "readiness pipe: %s", g_strerror(errno));
		close(ready_fd);
		int nfd = open("/dev/null", O_RDWR);
		dup2(nfd, 0), dup2(nfd, 1), dup2(nfd, 2);
		close(nfd);
	}
	g_main_loop_run(d->loop);
	checks_stop();

	/* Drain replies and host tasks still in flight, bounded. */
	server_stop_accepting(d->server);
	gint64 until = g_get_monotonic_time() + DRAIN_MAX_MS * 1000;
	while (server_pending_calls(d->server) && g_get_monotonic_time() < until)
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(1000);
	hf_log("hf-main", LOG_LVL_INFO, "stopped");
	return 0;
}

int main(int argc, char **argv)
{
	g_autofree char *config = NULL, *socket = NULL;
	gboolean foreground = FALSE, check = FALSE, version = FALSE;
	GOptionEntry entries[] = {
		{"config", 'c', 0, G_OPTION_ARG_FILENAME, &config,
		 "configuration file (default " CONFIG_DEFAULT_PATH ")", "FILE"},
		{"socket", 's', 0, G_OPTION_ARG_FILENAME, &socket,
		 "listen on this socket instead of the config's socket=", "PATH"},
		{"foreground", 'f', 0, G_OPTION_ARG_NONE, &foreground,
		 "stay in the foreground and log to stderr", NULL},
		{"check-config", 0, 0, G_OPTION_ARG_NONE, &check,
		 "parse and validate the configuration, then exit", NULL},
		{"version", 'V', 0, G_OPTION_ARG_NONE, &version, "print the version", NULL},
		{NULL}};
	g_autoptr(GOptionContext) ctx = g_option_context_new("- the holdfast daemon");
	g_autoptr(GError) gerr = NULL;
	HfError err = {0};
	Daemon d = {0};

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &gerr)) {
		fprintf(stderr, "holdfastd: %s (see holdfastd --help)\n", gerr->message);
		return 2;
	}
	if (version) {
		printf("holdfastd %s\n", HF_VERSION);
		return 0;
	}
	d.config_path = g_strdup(config ? config : CONFIG_DEFAULT_PATH);
	if (config_load(d.config_path, &d.cfg, &err) < 0) {
		fprintf(stderr, "holdfastd: %s\n", err.message);
		g_free(d.config_path);
		return check ? 1 : 2;
	}
	if (check) {
		printf("OK: %s (%u host%s)\n", d.config_path, d.cfg->hosts->len,
		       d.cfg->hosts->len == 1 ? "" : "s");
		config_free(d.cfg);
		g_free(d.config_path);
		return 0;
	}
	d.socket_override = g_steal_pointer(&socket);
	unsigned long lv = 0;
	virGetVersion(&lv, NULL, NULL);
	d.libvirt_version = g_strdup_printf("%lu.%lu.%lu", lv / 1000000, lv / 1000 % 1000, lv % 1000);
	int rc = run(&d, foreground);
	if (d.jobs && jobs_running(d.jobs) == 0) {
		/* Only free what no worker thread still uses. */
		scheduler_free();
		hosts_free(d.hosts);
		server_free(d.server);
		jobs_free(d.jobs);
		if (d.loop)
			g_main_loop_unref(d.loop);
		config_free(d.cfg);
		g_free(d.config_path);
		g_free(d.socket_override);
		g_free(d.libvirt_version);
	}
	return rc;
}
