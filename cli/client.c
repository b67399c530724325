/* client.c - connect to holdfastd, send a request, read the reply and the job events. */
#include "client.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "methods.h"

static volatile sig_atomic_t interrupted;

void client_interrupt(void)
{
	interrupted = 1;
}

bool client_interrupted(void)
{
	return interrupted != 0;
}

int client_exit_code(const char *code)
{
	if (code && !strcmp(code, CLIENT_ERR_UNREACHABLE))
		return HF_EXIT_UNREACHABLE;
	return error_exit_code(code);
}

static const char *const advice =
    "is holdfastd running? start it with `holdfastd --config /etc/holdfast/holdfastd.conf` "
    "(or `systemctl start holdfastd`), or point holdfast at its socket with --socket PATH / "
    "HOLDFAST_SOCKET";

int client_connect(Client *c, const char *path, HfError *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->next_id = 1;
	c->path = g_strdup(path);
	proto_framer_init(&c->framer, HF_REPLY_FRAME_MAX);
	if (strlen(path) >= sizeof sa.sun_path)
		return error_set(err, CLIENT_ERR_UNREACHABLE,
				 "cannot reach holdfastd at %s: the path is longer than %zu bytes",
				 path, sizeof sa.sun_path - 1);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return error_set(err, HF_ERR_INTERNAL, "socket: %s", g_strerror(errno));
	int rc;
	do
		rc = connect(c->fd, (struct sockaddr *)&sa, sizeof sa);
	while (rc < 0 && errno == EINTR);
	if (rc == 0)
		return 0;
	int e = errno;
	if (e == EACCES || e == EPERM)
		return error_set(err, HF_ERR_PERMISSION,
				 "cannot reach holdfastd at %s: %s; you need to be root or in the "
				 "admin or read-only group of holdfastd (admin-group= / "
				 "readonly-group= in its config)",
				 path, g_strerror(e));
	return error_set(err, CLIENT_ERR_UNREACHABLE, "cannot reach holdfastd at %s: %s; %s", path,
			 g_strerror(e), advice);
}

void client_close(Client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	proto_framer_clear(&c->framer);
	g_clear_pointer(&c->path, g_free);
}

static int gone(Client *c, const char *what, int e, HfError *err)
{
	if (e)
		return error_set(err, CLIENT_ERR_UNREACHABLE,
				 "holdfastd at %s: %s failed: %s (did the daemon stop or restart?)",
				 c->path, what, g_strerror(e));
	return error_set(err, CLIENT_ERR_UNREACHABLE,
			 "holdfastd at %s closed the connection unexpectedly (did the daemon stop "
			 "or restart? see its log)",
			 c->path);
}

static int send_all(Client *c, const char *buf, size_t len, HfError *err)
{
	while (len) {
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR && !interrupted)
			continue;
		if (n < 0 && errno == EINTR)
			return error_set(err, HF_ERR_CANCELLED, "interrupted");
		if (n < 0)
			return gone(c, "sending the request", errno, err);
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The next frame as JSON; blocks. */
static int read_frame(Client *c, cJSON **out, HfError *err)
{
	char buf[65536];

	for (;;) {
		g_autofree char *line = NULL;
		int rc = proto_framer_next(&c->framer, &line, err);
		if (rc < 0) {
			error_prefix(err, "bad reply from holdfastd");
			return -1;
		}
		if (rc == 1) {
			*out = cJSON_ParseWithOpts(line, NULL, 1);
			if (!cJSON_IsObject(*out)) {
				cJSON_Delete(*out);
				*out = NULL;
				return error_set(err, HF_ERR_PROTOCOL,
						 "bad reply from holdfastd: not a JSON object");
			}
			return 0;
		}
		if (interrupted)
			return error_set(err, HF_ERR_CANCELLED, "interrupted");
		ssize_t n = read(c->fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return gone(c, "reading the reply", errno, err);
		if (n == 0)
			return gone(c, NULL, 0, err);
		if (proto_framer_feed(&c->framer, buf, (size_t)n, err) < 0) {
			error_prefix(err, "bad reply from holdfastd");
			return -1;
		}
	}
}

static int reply_error(const cJSON *e, HfError *err)
{
	const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code"));
	const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
	return error_set(err, code && code[0] ? code : HF_ERR_INTERNAL, "%s",
			 msg ? msg : "holdfastd gave an error without a message");
}

int client_call(Client *c, const char *method, cJSON *params, ClientEventFn on_event, void *opaque,
		cJSON **result, HfError *err)
{
	double id = c->next_id++;
	g_autofree char *req = proto_request_build(id, method, params);

	*result = NULL;
	if (send_all(c, req, strlen(req), err) < 0)
		return -1;
	for (;;) {
		cJSON *f = NULL;
		if (read_frame(c, &f, err) < 0)
			return -1;
		const cJSON *rid = cJSON_GetObjectItemCaseSensitive(f, "id");
		cJSON *v;
		int rc = 1;
		if (cJSON_IsNumber(rid) && rid->valuedouble == id) {
			if ((v = cJSON_GetObjectItemCaseSensitive(f, "event"))) {
				if (on_event)
					on_event(v, opaque);
			} else if ((v = cJSON_GetObjectItemCaseSensitive(f, "result"))) {
				*result = cJSON_DetachItemViaPointer(f, v);
				rc = 0;
			} else if ((v = cJSON_GetObjectItemCaseSensitive(f, "error")))
				rc = reply_error(v, err);
			else
				rc = error_set(
				    err, HF_ERR_PROTOCOL,
				    "bad reply from holdfastd: no result, error or event");
		} else if (cJSON_IsNull(rid) &&
			   (v = cJSON_GetObjectItemCaseSensitive(f, "error"))) {
			rc = reply_error(v, err); /* the daemon could not read our request */
		}
		/* frames for other ids (none are expected) are ignored */
		cJSON_Delete(f);
		if (rc <= 0)
			return rc;
	}
}
