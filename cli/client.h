/* client.h - the CLI's end of the socket: connect, send one request, read its reply and events.
 *
 * Blocking and timeout-free by design: a job may run for a long time, and the daemon never
 * stays silent on a live connection without a reason the user can see (Ctrl-C detaches). */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "error.h"
#include "proto.h"

/* CLI-local error code: holdfastd cannot be reached or went away (exit HF_EXIT_UNREACHABLE). */
#define CLIENT_ERR_UNREACHABLE "daemon-unreachable"

typedef struct {
	int fd;
	char *path;
	double next_id;
	ProtoFramer framer;
} Client;

/* Called for each {"id":N,"event":E} of the current request; E stays owned by the client. */
typedef void (*ClientEventFn)(const cJSON *event, void *opaque);

/* Connect to holdfastd. Unreachable -> CLIENT_ERR_UNREACHABLE with a message naming the path,
 * the errno text and what to do; EACCES -> HF_ERR_PERMISSION. */
int client_connect(Client *c, const char *path, HfError *err);
void client_close(Client *c);
/* Send method(params) (params is taken over; NULL for none) and wait for its reply. Events
 * for the request go to on_event. On success *result holds the result (caller owns it). A
 * daemon error reply fills err with the daemon's code and message. */
int client_call(Client *c, const char *method, cJSON *params, ClientEventFn on_event, void *opaque,
		cJSON **result, HfError *err);
/* Exit code for an error code: error_exit_code(), plus CLIENT_ERR_UNREACHABLE -> 3. */
int client_exit_code(const char *code);
/* Called from a SIGINT/SIGTERM handler: the blocking read gives up with HF_ERR_CANCELLED. */
void client_interrupt(void);
/* Whether client_interrupt() was called. */
bool client_interrupted(void);
