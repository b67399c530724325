/* server.h - the local API: a Unix socket, JSON lines, SO_PEERCRED authorization.
 *
 * The server frames requests, drops connections that send malformed or oversized frames,
 * authorizes each method by the peer's uid and groups, validates params against the method
 * table, and hands the call to its handler (daemon/handlers.c). */
#pragma once

#include <cjson/cJSON.h>
#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "methods.h"

typedef struct Server Server;
typedef struct Client Client;
typedef struct Daemon Daemon;

/* One request in flight. Handlers must end every call with exactly one call_reply_*(). */
typedef struct Call {
	Daemon *d;
	Client *client; /* referenced */
	double id;
	const HfMethod *method;
	cJSON *params; /* owned; an empty object when none were sent */
	uid_t uid;
	void *data; /* a handler's own state, freed with the call */
	GDestroyNotify data_free;
} Call;

typedef void (*HandlerFn)(Call *call);
/* Look up the handler of a method; provided by handlers.c. */
HandlerFn handlers_find(const char *method);

Server *server_new(Daemon *d, const char *path, gid_t sock_gid, gid_t admin_gid,
		   gid_t readonly_gid, HfError *err);
void server_set_groups(Server *s, gid_t admin_gid, gid_t readonly_gid);
void server_stop_accepting(Server *s);
void server_free(Server *s);
unsigned server_pending_calls(Server *s);

void call_reply_result(Call *call, cJSON *result);
void call_reply_error(Call *call, const HfError *err);
/* Send an event line for this call; false when the client is gone. */
bool call_event(Call *call, cJSON *event);
/* Register a function run when the client disconnects (streaming calls); returns an id. */
typedef void (*ClientGoneFn)(void *opaque);
guint client_on_close(Client *c, ClientGoneFn fn, void *opaque);
void client_cancel_on_close(Client *c, guint id);
bool client_closed(Client *c);

/* Run fn on a worker thread; its result (or error) becomes the reply on the main thread. */
typedef cJSON *(*CallThreadFn)(Call *call, HfError *err);
void call_in_thread(Call *call, CallThreadFn fn);
