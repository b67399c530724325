/* daemon.h - the daemon's top-level state, shared by main, handlers and jobs. Main-thread only,
 * except the immutable strings that jobs copy at submit time. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "config.h"
#include "hosts.h"
#include "jobs.h"
#include "server.h"

struct Daemon {
	HfConfig *cfg;
	char *config_path;
	char *socket_override; /* --socket */
	char *libvirt_version;
	GMainLoop *loop;
	Hosts *hosts;
	Jobs *jobs;
	Server *server;
	bool stopping;
};

/* Re-read the configuration; the old one stays in force when the new one does not parse. */
int daemon_reload(Daemon *d, HfError *err);
