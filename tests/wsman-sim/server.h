/* server.h - the HTTP(S) listener: loopback only, POST /wsman with Basic auth, POST /control. */
#pragma once

#include "sim.h"

typedef struct Server Server;

typedef struct {
	int port;	      /* 0 = any free port */
	const char *cert_pem; /* HTTPS when both are set (PEM text, not paths) */
	const char *key_pem;
	const char *user;
	const char *password;
} ServerOpts;

Server *server_start(SimState *st, const ServerOpts *o, GError **err);
guint16 server_port(const Server *s);
void server_stop(Server *s);
