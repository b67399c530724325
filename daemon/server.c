/* server.c - Unix socket server: accept, frame, authorize, dispatch. */
#include "server.h"

#include <errno.h>
#include <stdint.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "log.h"
#include "proto.h"

#define SERVER_READ_CHUNK 65536
#define SERVER_OUT_MAX (256u * 1024 * 1024) /* a client that does not read is dropped */
#define NO_GID ((gid_t)-1)

typedef struct {
	guint id;
	ClientGoneFn fn;
	void *opaque;
} OnClose;

struct Client {
	gint ref;
	Server *s;
	int fd;
	guint in_src, out_src;
	ProtoFramer fr;
	GByteArray *out;
	bool closed;
	uid_t uid;
	pid_t pid;
	GArray *gids; /* gid_t: primary and supplementary */
	GArray *on_close;
	guint next_id;
};

struct Server {
	Daemon *d;
	int lfd;
	guint lsrc;
	char *path;
	gid_t admin_gid, readonly_gid;
	GList *clients;
	unsigned pending;
};

static Client *client_ref(Client *c)
{
	g_atomic_int_inc(&c->ref);
	return c;
}

static void client_unref(Client *c)
{
	if (!g_atomic_int_dec_and_test(&c->ref))
		return;
	proto_framer_clear(&c->fr);
	g_byte_array_unref(c->out);
	g_array_unref(c->gids);
	g_array_unref(c->on_close);
	g_free(c);
}

bool client_closed(Client *c)
{
	return c->closed;
}

static void client_close(Client *c, const char *why)
{
	if (c->closed)
		return;
	c->closed = true;
	if (why)
		hf_log("hf-server", LOG_LVL_WARNING, "dropping client pid %d uid %u: %s",
		       (int)c->pid, (unsigned)c->uid, why);
	if (c->in_src)
		g_source_remove(c->in_src);
	if (c->out_src)
		g_source_remove(c->out_src);
	c->in_src = c->out_src = 0;
	close(c->fd);
	c->fd = -1;
	g_autoptr(GArray) cbs = g_array_copy(c->on_close);
	for (guint i = 0; i < cbs->len; i++) {
		OnClose *o = &g_array_index(cbs, OnClose, i);
		o->fn(o->opaque);
	}
	g_array_set_size(c->on_close, 0);
	c->s->clients = g_list_remove(c->s->clients, c);
	client_unref(c);
}

guint client_on_close(Client *c, ClientGoneFn fn, void *opaque)
{
	OnClose o = {++c->next_id, fn, opaque};
	g_array_append_val(c->on_close, o);
	return o.id;
}

void client_cancel_on_close(Client *c, guint id)
{
	for (guint i = 0; i < c->on_close->len; i++)
		if (g_array_index(c->on_close, OnClose, i).id == id) {
			g_array_remove_index(c->on_close, i);
			return;
		}
}

/* ---- output ---- */

static gboolean client_out_cb(gint fd, GIOCondition cond, gpointer data);

static void client_flush(Client *c)
{
	while (c->out->len) {
		ssize_t w = send(c->fd, c->out->data, c->out->len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w <= 0) {
			client_close(c, NULL); /* peer went away */
			return;
		}
		g_byte_array_remove_range(c->out, 0, (guint)w);
	}
	if (c->out->len && !c->out_src)
		c->out_src = g_unix_fd_add(c->fd, G_IO_OUT, client_out_cb, c);
	else if (!c->out->len && c->out_src) {
		g_source_remove(c->out_src);
		c->out_src = 0;
	}
}

static gboolean client_out_cb(gint fd, GIOCondition cond, gpointer data)
{
	Client *c = data;
	c->out_src = 0;
	client_flush(c);
	return G_SOURCE_REMOVE;
}

static void client_send(Client *c, char *frame)
{
	if (!c->closed) {
		if (c->out->len + strlen(frame) > SERVER_OUT_MAX)
			client_close(c, "it does not read its replies");
		else {
			g_byte_array_append(c->out, (guint8 *)frame, (guint)strlen(frame));
			client_flush(c);
		}
	}
	g_free(frame);
}

/* ---- calls ---- */

static void call_free(Call *call)
{
	call->client->s->pending--;
	client_unref(call->client);
	cJSON_Delete(call->params);
	if (call->data_free)
		call->data_free(call->data);
	g_free(call);
}

void call_reply_result(Call *call, cJSON *result)
{
	client_send(call->client, proto_reply_result(call->id, result));
	call_free(call);
}

void call_reply_error(Call *call, const HfError *err)
{
	client_send(call->client, proto_reply_error(call->id, err));
	call_free(call);
}

bool call_event(Call *call, cJSON *event)
{
	client_send(call->client, proto_event(call->id, event));
	return !call->client->closed;
}

typedef struct {
	Call *call;
	CallThreadFn fn;
	cJSON *result;
	HfError err;
} ThreadCall;

static void thread_run(GTask *t, gpointer src, gpointer data, GCancellable *c)
{
	ThreadCall *tc = data;
	tc->result = tc->fn(tc->call, &tc->err);
	if (!tc->result && !tc->err.code[0])
		error_set(&tc->err, HF_ERR_INTERNAL, "%s returned nothing", tc->call->method->name);
}

static void thread_done(GObject *src, GAsyncResult *res, gpointer data)
{
	ThreadCall *tc = g_task_get_task_data(G_TASK(res));
	if (tc->result)
		call_reply_result(tc->call, g_steal_pointer(&tc->result));
	else
		call_reply_error(tc->call, &tc->err);
}

void call_in_thread(Call *call, CallThreadFn fn)
{
	ThreadCall *tc = g_new0(ThreadCall, 1);
	tc->call = call;
	tc->fn = fn;
	GTask *t = g_task_new(NULL, NULL, thread_done, NULL);
	g_task_set_task_data(t, tc, g_free);
	g_task_run_in_thread(t, thread_run);
	g_object_unref(t);
}

/* ---- input ---- */

static bool in_group(const Client *c, gid_t g)
{
	for (guint i = 0; g != NO_GID && i < c->gids->len; i++)
		if (g_array_index(c->gids, gid_t, i) == g)
			return true;
	return false;
}

static int authorize(Server *s, const Client *c, const HfMethod *m, HfError *err)
{
	bool admin = c->uid == 0 || in_group(c, s->admin_gid);
	if (admin || (m->role == HF_ROLE_READ && in_group(c, s->readonly_gid)))
		return 0;
	return error_set(err, HF_ERR_PERMISSION,
			 "%s needs the %s role: uid %u is not root%s; ask an administrator to add "
			 "you to the right group",
			 m->name, m->role == HF_ROLE_ADMIN ? "admin" : "read-only",
			 (unsigned)c->uid,
			 m->role == HF_ROLE_ADMIN ? " nor in the admin group"
						  : " nor in the admin or read-only group");
}

/* Returns false when the connection was dropped. */
static bool handle_frame(Client *c, const char *line)
{
	ProtoRequest req;
	HfError err = {0};
	const HfMethod *m = NULL;
	HandlerFn fn = NULL;

	if (proto_request_parse(line, &req, &err) == 0) {
		m = methods_find(req.method);
		fn = m ? handlers_find(m->name) : NULL;
		if (!fn)
			error_set(&err, HF_ERR_INVALID_PARAMS,
				  "unknown method '%s' (see `holdfast help`)", req.method);
		else if (authorize(c->s, c, m, &err) == 0)
			methods_validate(m, req.params, &err);
	}
	if (err.code[0]) {
		bool drop = !strcmp(err.code, HF_ERR_PROTOCOL);
		client_send(c, proto_reply_error(req.id, &err));
		proto_request_clear(&req);
		if (drop)
			client_close(c, err.message);
		return !drop;
	}
	Call *call = g_new0(Call, 1);
	call->d = c->s->d;
	call->client = client_ref(c);
	call->id = req.id;
	call->method = m;
	call->params =
	    req.params ? cJSON_DetachItemViaPointer(req.root, req.params) : cJSON_CreateObject();
	call->uid = c->uid;
	c->s->pending++;
	proto_request_clear(&req);
	hf_log("hf-server", LOG_LVL_DEBUG, "uid %u: %s", (unsigned)c->uid, m->name);
	fn(call);
	return !c->closed;
}

static gboolean client_in_cb(gint fd, GIOCondition cond, gpointer data)
{
	Client *c = data;
	char buf[SERVER_READ_CHUNK];
	HfError err = {0};
	char *line;
	ssize_t n = recv(fd, buf, sizeof buf, 0);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return G_SOURCE_CONTINUE;
	if (n <= 0) {
		c->in_src = 0;
		client_close(c, NULL);
		return G_SOURCE_REMOVE;
	}
	client_ref(c);
	int r = proto_framer_feed(&c->fr, buf, (size_t)n, &err);
	while (r == 0 && !c->closed && (r = proto_framer_next(&c->fr, &line, &err)) == 1) {
		handle_frame(c, line);
		g_free(line);
		r = 0;
	}
	if (r < 0 && !c->closed) {
		client_send(c, proto_reply_error(-1, &err));
		client_close(c, err.message);
	}
	bool closed = c->closed;
	client_unref(c);
	return closed ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

static void peer_groups(Client *c)
{
	gid_t buf[256];
	socklen_t len = sizeof buf;
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, buf, &len) == 0)
		g_array_append_vals(c->gids, buf, len / sizeof(gid_t));
}

static gboolean accept_cb(gint lfd, GIOCondition cond, gpointer data)
{
	Server *s = data;
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				hf_log("hf-server", LOG_LVL_WARNING, "accept: %s",
				       g_strerror(errno));
			return G_SOURCE_CONTINUE;
		}
		struct ucred cred;
		socklen_t len = sizeof cred;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			close(fd);
			continue;
		}
		Client *c = g_new0(Client, 1);
		c->ref = 1;
		c->s = s;
		c->fd = fd;
		c->uid = cred.uid;
		c->pid = cred.pid;
		c->gids = g_array_new(FALSE, FALSE, sizeof(gid_t));
		g_array_append_val(c->gids, cred.gid);
		peer_groups(c);
		c->on_close = g_array_new(FALSE, FALSE, sizeof(OnClose));
		c->out = g_byte_array_new();
		proto_framer_init(&c->fr, HF_REQUEST_FRAME_MAX);
		c->in_src = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, client_in_cb, c);
		s->clients = g_list_prepend(s->clients, c);
	}
}

static int listen_on(const char *path, HfError *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	g_autofree char *dir = g_path_get_dirname(path);
	int fd;

	if (strlen(path) >= sizeof sa.sun_path)
		return error_set(err, HF_ERR_CONFIG, "socket path %s is too long (max %zu bytes)",
				 path, sizeof sa.sun_path - 1);
	strcpy(sa.sun_path, path);
	if (g_mkdir_with_parents(dir, 0755) < 0)
		return error_set(err, HF_ERR_FAILED, "cannot create socket directory %s: %s", dir,
				 g_strerror(errno));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return error_set(err, HF_ERR_FAILED, "socket: %s", g_strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
		close(fd);
		return error_set(err, HF_ERR_CONFLICT,
				 "another holdfastd is already listening on %s; stop it first",
				 path);
	}
	unlink(path); /* a stale socket from a daemon that died */
	mode_t old = umask(0117);
	int r = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (r < 0 || listen(fd, 128) < 0) {
		int e = errno;
		close(fd);
		return error_set(err, HF_ERR_FAILED, "cannot listen on %s: %s", path,
				 g_strerror(e));
	}
	return fd;
}

/* The admin group's access to a socket whose group is the read-only group: a POSIX ACL
 * entry (system.posix_acl_access, the kernel's xattr format), so admins need not also be
 * members of the read-only group. */
static int socket_acl(const char *path, gid_t admin_gid)
{
	enum { USER_OBJ = 0x01, GROUP_OBJ = 0x04, GROUP = 0x08, MASK = 0x10, OTHER = 0x20 };
	struct {
		uint32_t version;
		struct {
			uint16_t tag, perm;
			uint32_t id;
		} e[5];
	} acl = {GUINT32_TO_LE(2),
		 {{GUINT16_TO_LE(USER_OBJ), GUINT16_TO_LE(6), GUINT32_TO_LE(UINT32_MAX)},
		  {GUINT16_TO_LE(GROUP_OBJ), GUINT16_TO_LE(6), GUINT32_TO_LE(UINT32_MAX)},
		  {GUINT16_TO_LE(GROUP), GUINT16_TO_LE(6), GUINT32_TO_LE((uint32_t)admin_gid)},
		  {GUINT16_TO_LE(MASK), GUINT16_TO_LE(6), GUINT32_TO_LE(UINT32_MAX)},
		  {GUINT16_TO_LE(OTHER), 0, GUINT32_TO_LE(UINT32_MAX)}}};
	return setxattr(path, "system.posix_acl_access", &acl, sizeof(acl), 0);
}

/* Mode 0660, group sock_gid; with two different groups the admin group gets an ACL entry. */
static int socket_perms(const char *path, gid_t sock_gid, gid_t admin_gid, HfError *err)
{
	if (chmod(path, 0660) < 0 || (sock_gid != NO_GID && chown(path, (uid_t)-1, sock_gid) < 0))
		return error_set(err, HF_ERR_FAILED, "cannot set owner/mode of %s: %s", path,
				 g_strerror(errno));
	if (admin_gid != NO_GID && sock_gid != NO_GID && admin_gid != sock_gid &&
	    socket_acl(path, admin_gid) < 0)
		hf_log("hf-server", LOG_LVL_WARNING,
		       "cannot give admin-group access to %s with an ACL (%s): admins must also "
		       "be members of readonly-group to reach the socket",
		       path, g_strerror(errno));
	return 0;
}

Server *server_new(Daemon *d, const char *path, gid_t sock_gid, gid_t admin_gid, gid_t readonly_gid,
		   HfError *err)
{
	g_return_val_if_fail(path != NULL, NULL); /* also tells the compiler path is never NULL */
	int fd = listen_on(path, err);
	if (fd < 0)
		return NULL;
	if (socket_perms(path, sock_gid, admin_gid, err) < 0) {
		close(fd);
		unlink(path);
		return NULL;
	}
	Server *s = g_new0(Server, 1);
	s->d = d;
	s->lfd = fd;
	s->path = g_strdup(path);
	s->admin_gid = admin_gid;
	s->readonly_gid = readonly_gid;
	s->lsrc = g_unix_fd_add(fd, G_IO_IN, accept_cb, s);
	hf_log("hf-server", LOG_LVL_INFO, "listening on %s", path);
	return s;
}

void server_set_groups(Server *s, gid_t admin_gid, gid_t readonly_gid)
{
	HfError err = {0};
	bool changed = s->admin_gid != admin_gid || s->readonly_gid != readonly_gid;
	s->admin_gid = admin_gid;
	s->readonly_gid = readonly_gid;
	if (changed && socket_perms(s->path, readonly_gid != NO_GID ? readonly_gid : admin_gid,
				    admin_gid, &err) < 0)
		hf_log("hf-server", LOG_LVL_WARNING, "after reload: %s", err.message);
}

unsigned server_pending_calls(Server *s)
{
	return s->pending;
}

void server_stop_accepting(Server *s)
{
	if (s->lfd < 0)
		return;
	g_source_remove(s->lsrc);
	close(s->lfd);
	unlink(s->path);
	s->lfd = -1;
}

void server_free(Server *s)
{
	if (!s)
		return;
	server_stop_accepting(s);
	while (s->clients)
		client_close(s->clients->data, NULL);
	g_free(s->path);
	g_free(s);
}
