/* server.c - libmicrohttpd front end: routing, Basic auth, body collection, replies. */
#include "server.h"
#include "control.h"
#include "dispatch.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MAX_BODY (4 * 1024 * 1024)
#define SOAP_TYPE "application/soap+xml;charset=UTF-8"

struct Server {
	struct MHD_Daemon *d;
	SimState *st;
	char *credentials; /* "user:password" */
	guint16 port;
};

typedef struct {
	GString *body;
	bool too_big;
} Upload;

static void upload_done(void *cls, struct MHD_Connection *c, void **con_cls,
			enum MHD_RequestTerminationCode toe)
{
	Upload *u = *con_cls;
	if (!u)
		return;
	g_string_free(u->body, TRUE);
	g_free(u);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	g_autofree char *msg = g_strdup_vprintf(fmt, ap);
	fprintf(stderr, "hf-wsman-sim: libmicrohttpd: %s", msg);
}

static enum MHD_Result send_reply(struct MHD_Connection *c, unsigned status, const char *type,
				  const char *body, size_t len)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(r, "Server", "Microsoft-HTTPAPI/2.0");
	if (type)
		MHD_add_response_header(r, "Content-Type", type);
	if (status == MHD_HTTP_UNAUTHORIZED) {
		MHD_add_response_header(r, "WWW-Authenticate", "Negotiate");
		MHD_add_response_header(r, "WWW-Authenticate", "Basic realm=\"WSMAN\"");
	}
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, "Allow", "POST");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* "missing", "bad" or NULL when the Basic credentials match. */
static const char *auth_problem(const Server *s, struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (!h)
		return "missing";
	if (g_ascii_strncasecmp(h, "Basic ", 6) != 0)
		return "unsupported-scheme";
	gsize n = 0;
	g_autofree guchar *raw = g_base64_decode(h + 6, &n);
	g_autofree char *got = g_strndup((const char *)raw, n);
	return strcmp(got, s->credentials) == 0 ? NULL : "bad";
}

static enum MHD_Result handle_wsman(Server *s, struct MHD_Connection *c, const char *method,
				    Upload *u)
{
	if (strcmp(method, "POST") != 0) {
		dispatch_log(s->st, "method-not-allowed", 405);
		return send_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, NULL, "", 0);
	}
	const char *problem = auth_problem(s, c);
	if (problem) {
		g_autofree char *what = g_strdup_printf("auth=%s", problem);
		dispatch_log(s->st, what, 401);
		return send_reply(c, MHD_HTTP_UNAUTHORIZED, NULL, "", 0);
	}
	const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	if (!type || g_ascii_strncasecmp(type, "application/soap+xml", 20) != 0) {
		dispatch_log(s->st, "content-type", 415);
		return send_reply(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, NULL, "", 0);
	}
	DispatchOut out;
	dispatch_wsman(s->st, u->body->str, u->body->len, &out);
	if (out.drop)
		return MHD_NO; /* libmicrohttpd closes the connection without a reply */
	enum MHD_Result ret =
	    send_reply(c, (unsigned)out.status, SOAP_TYPE, out.body ? out.body->str : "",
		       out.body ? out.body->len : 0);
	if (out.body)
		g_string_free(out.body, TRUE);
	return ret;
}

static enum MHD_Result handle_control(Server *s, struct MHD_Connection *c, const char *method,
				      Upload *u)
{
	if (strcmp(method, "POST") != 0)
		return send_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, NULL, "", 0);
	g_autoptr(GString) reply = g_string_new(NULL);
	g_mutex_lock(&s->st->lock);
	int rc = ctl_apply(s->st, u->body->str, reply);
	g_mutex_unlock(&s->st->lock);
	return send_reply(c, rc < 0 ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_OK, "text/plain", reply->str,
			  reply->len);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_size, void **con_cls)
{
	Server *s = cls;
	Upload *u = *con_cls;
	if (!u) {
		u = g_new0(Upload, 1);
		u->body = g_string_new(NULL);
		*con_cls = u;
		return MHD_YES;
	}
	if (*data_size) {
		if (u->body->len + *data_size > MAX_BODY)
			u->too_big = true;
		else
			g_string_append_len(u->body, data, (gssize)*data_size);
		*data_size = 0;
		return MHD_YES;
	}
	if (u->too_big)
		return send_reply(c, MHD_HTTP_CONTENT_TOO_LARGE, NULL, "", 0);
	if (strcmp(url, "/wsman") == 0)
		return handle_wsman(s, c, method, u);
	if (strcmp(url, "/control") == 0)
		return handle_control(s, c, method, u);
	return send_reply(c, MHD_HTTP_NOT_FOUND, NULL, "", 0);
}

Server *server_start(SimState *st, const ServerOpts *o, GError **err)
{
	g_autofree Server *s = g_new0(Server, 1);
	s->st = st;
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)o->port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	unsigned flags =
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
	bool tls = o->cert_pem && o->key_pem;
	if (tls)
		flags |= MHD_USE_TLS;
	s->d = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED, upload_done, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, 60u, tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END,
	    o->key_pem, MHD_OPTION_HTTPS_MEM_CERT, o->cert_pem, MHD_OPTION_END);
	if (!s->d) {
		g_set_error(err, SIM_ERROR, 1, "cannot listen on 127.0.0.1:%d (%s)", o->port,
			    tls ? "https" : "http");
		return NULL;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : (guint16)o->port;
	s->credentials = g_strdup_printf("%s:%s", o->user, o->password);
	return g_steal_pointer(&s);
}

guint16 server_port(const Server *s)
{
	return s->port;
}

void server_stop(Server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	g_free(s->credentials);
	g_free(s);
}
