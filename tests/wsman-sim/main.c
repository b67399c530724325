/* main.c - hf-wsman-sim: a stateful simulator of a Hyper-V host's WS-Management endpoint. */
#include "control.h"
#include "fleet.h"
#include "server.h"

#include <glib-unix.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <string.h>

typedef struct {
	char *fleet;
	int generate;
	int port;
	int tls_port;
	char *tls_cert;
	char *tls_key;
	char *port_file;
	char *user;
	char *password;
	char *credentials_file;
	char *export_root;
	char *export_host_path;
	int vhdx_kib;
	char *log;
	int job_ms;
	gboolean epr_wrapper;
	char **control;
	char *control_file;
} Opts;

typedef struct {
	SimState *st;
	const char *control_file;
} SignalCtx;

static gboolean on_quit(gpointer loop)
{
	g_main_loop_quit(loop);
	return G_SOURCE_CONTINUE;
}

/* SIGUSR1: apply the commands in --control-file. */
static gboolean on_usr1(gpointer data)
{
	SignalCtx *sc = data;
	g_autofree char *text = NULL;
	g_autoptr(GString) reply = g_string_new(NULL);
	if (!sc->control_file || !g_file_get_contents(sc->control_file, &text, NULL, NULL)) {
		fprintf(stderr, "hf-wsman-sim: SIGUSR1 but no readable --control-file\n");
		return G_SOURCE_CONTINUE;
	}
	g_mutex_lock(&sc->st->lock);
	ctl_apply(sc->st, text, reply);
	g_mutex_unlock(&sc->st->lock);
	fprintf(stderr, "hf-wsman-sim: control: %s", reply->str);
	return G_SOURCE_CONTINUE;
}

static int load_credentials(Opts *o, GError **err)
{
	if (o->credentials_file) {
		g_autofree char *text = NULL;
		if (!g_file_get_contents(o->credentials_file, &text, NULL, err))
			return -1;
		g_strstrip(text);
		char *colon = strchr(text, ':');
		if (!colon || strchr(text, '\n')) {
			g_set_error(err, SIM_ERROR, 1, "%s: expected one line USER:PASSWORD",
				    o->credentials_file);
			return -1;
		}
		*colon = '\0';
		o->user = g_strdup(text);
		o->password = g_strdup(colon + 1);
	}
	if (!o->user || !o->password) {
		g_set_error(err, SIM_ERROR, 1, "give --user and --password, or --credentials-file");
		return -1;
	}
	return 0;
}

static int setup_state(SimState *st, Opts *o, GError **err)
{
	if (o->fleet && fleet_load(st, o->fleet, err) < 0)
		return -1;
	if (o->generate > 0)
		fleet_generate(st, (guint)o->generate);
	fleet_finish(st);
	st->export_root = g_steal_pointer(&o->export_root);
	st->export_host_path = g_steal_pointer(&o->export_host_path);
	if (o->vhdx_kib > 0)
		st->vhdx_kib = o->vhdx_kib;
	if (o->job_ms >= 0)
		st->knobs.job_ms = o->job_ms;
	st->knobs.epr_wrapper = o->epr_wrapper;
	if (o->log && !(st->log = fopen(o->log, "a"))) {
		g_set_error(err, SIM_ERROR, 1, "%s: cannot open the log", o->log);
		return -1;
	}
	for (guint i = 0; o->control && o->control[i]; i++) {
		g_autoptr(GString) reply = g_string_new(NULL);
		if (ctl_apply(st, o->control[i], reply) < 0) {
			g_set_error(err, SIM_ERROR, 1, "--control: %s", reply->str);
			return -1;
		}
	}
	return 0;
}

static Server *listen_one(SimState *st, const Opts *o, bool tls, GString *ports, GError **err)
{
	g_autofree char *cert = NULL, *key = NULL;
	if (tls && (!g_file_get_contents(o->tls_cert, &cert, NULL, err) ||
		    !g_file_get_contents(o->tls_key, &key, NULL, err)))
		return NULL;
	ServerOpts so = {.port = tls ? o->tls_port : o->port,
			 .cert_pem = cert,
			 .key_pem = key,
			 .user = o->user,
			 .password = o->password};
	Server *s = server_start(st, &so, err);
	if (s) {
		const char *scheme = tls ? "https" : "http";
		g_string_append_printf(ports, "%s=%u\n", scheme, server_port(s));
		printf("hf-wsman-sim: listening on %s://127.0.0.1:%u/wsman\n", scheme,
		       server_port(s));
	}
	return s;
}

static void opts_clear(Opts *o)
{
	char **strs[] = {
	    &o->fleet,	     &o->tls_cert,	   &o->tls_key,	    &o->port_file,	  &o->user,
	    &o->password,    &o->credentials_file, &o->export_root, &o->export_host_path, &o->log,
	    &o->control_file};
	for (size_t i = 0; i < G_N_ELEMENTS(strs); i++)
		g_clear_pointer(strs[i], g_free);
	g_strfreev(o->control);
}

/* Listen, write the port file, serve until SIGINT/SIGTERM. */
static int run(SimState *st, Opts *o, GError **err)
{
	if ((o->tls_cert != NULL) != (o->tls_key != NULL)) {
		g_set_error(err, SIM_ERROR, 1, "--tls-cert and --tls-key go together");
		return -1;
	}
	if (o->tls_cert && o->tls_port < 0)
		o->tls_port = 0;
	if (o->tls_port < 0 && o->port < 0)
		o->port = 0;

	g_autoptr(GString) ports = g_string_new(NULL);
	Server *http = NULL, *https = NULL;
	int rc = -1;
	if ((o->port < 0 || (http = listen_one(st, o, false, ports, err))) &&
	    (o->tls_port < 0 || (https = listen_one(st, o, true, ports, err)))) {
		fflush(stdout);
		if (!o->port_file || g_file_set_contents(o->port_file, ports->str, -1, err)) {
			g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
			SignalCtx sc = {st, o->control_file};
			guint sig[] = {g_unix_signal_add(SIGINT, on_quit, loop),
				       g_unix_signal_add(SIGTERM, on_quit, loop),
				       g_unix_signal_add(SIGUSR1, on_usr1, &sc)};
			g_main_loop_run(loop);
			for (size_t i = 0; i < G_N_ELEMENTS(sig); i++)
				g_source_remove(sig[i]);
			rc = 0;
		}
	}
	server_stop(http);
	server_stop(https);
	return rc;
}

int main(int argc, char **argv)
{
	Opts o = {.port = -1, .tls_port = -1, .job_ms = -1};
	GOptionEntry entries[] = {
	    {"fleet", 'f', 0, G_OPTION_ARG_FILENAME, &o.fleet, "Fleet file (INI)", "FILE"},
	    {"generate", 'g', 0, G_OPTION_ARG_INT, &o.generate, "Add N generated VMs", "N"},
	    {"port", 'p', 0, G_OPTION_ARG_INT, &o.port, "HTTP port (0 = any)", "PORT"},
	    {"tls-port", 0, 0, G_OPTION_ARG_INT, &o.tls_port, "HTTPS port (0 = any)", "PORT"},
	    {"tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &o.tls_cert, "PEM certificate", "FILE"},
	    {"tls-key", 0, 0, G_OPTION_ARG_FILENAME, &o.tls_key, "PEM private key", "FILE"},
	    {"port-file", 0, 0, G_OPTION_ARG_FILENAME, &o.port_file,
	     "Write http=PORT / https=PORT here once listening", "FILE"},
	    {"user", 'u', 0, G_OPTION_ARG_STRING, &o.user, "Basic auth user", "USER"},
	    {"password", 0, 0, G_OPTION_ARG_STRING, &o.password, "Basic auth password", "PW"},
	    {"credentials-file", 0, 0, G_OPTION_ARG_FILENAME, &o.credentials_file,
	     "File with one line USER:PASSWORD", "FILE"},
	    {"export-root", 0, 0, G_OPTION_ARG_FILENAME, &o.export_root,
	     "Local directory exports are written under", "DIR"},
	    {"export-host-path", 0, 0, G_OPTION_ARG_STRING, &o.export_host_path,
	     "Host path (e.g. D:\\Export) that maps onto --export-root", "PATH"},
	    {"vhdx-kib", 0, 0, G_OPTION_ARG_INT, &o.vhdx_kib, "Size of exported disks", "KIB"},
	    {"log", 'l', 0, G_OPTION_ARG_FILENAME, &o.log, "Request log (default stderr)", "FILE"},
	    {"job-ms", 0, 0, G_OPTION_ARG_INT, &o.job_ms, "Job duration (default 1500)", "MS"},
	    {"epr-wrapper", 0, 0, G_OPTION_ARG_NONE, &o.epr_wrapper,
	     "Wrap references in a:EndpointReference", NULL},
	    {"control", 'c', 0, G_OPTION_ARG_STRING_ARRAY, &o.control,
	     "A control command to apply at start (repeatable)", "CMD"},
	    {"control-file", 0, 0, G_OPTION_ARG_FILENAME, &o.control_file,
	     "Commands applied on SIGUSR1", "FILE"},
	    G_OPTION_ENTRY_NULL};
	g_autoptr(GOptionContext) ctx = g_option_context_new("- simulated Hyper-V WS-Man host");
	g_autoptr(GError) err = NULL;
	SimState st;

	g_option_context_add_main_entries(ctx, entries, NULL);
	xmlInitParser();
	sim_state_init(&st);
	int rc = g_option_context_parse(ctx, &argc, &argv, &err) &&
			 load_credentials(&o, &err) == 0 && setup_state(&st, &o, &err) == 0 &&
			 run(&st, &o, &err) == 0
		     ? 0
		     : 1;
	if (err)
		fprintf(stderr, "hf-wsman-sim: %s\n", err->message);
	if (st.log)
		fclose(st.log);
	sim_state_clear(&st);
	opts_clear(&o);
	xmlCleanupParser();
	return rc;
}
