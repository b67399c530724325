/* it_protocol.c - the daemon under bad clients: garbage, oversized and half-sent frames,
 * invalid UTF-8, abrupt disconnects, then 50 concurrent clients. Usage: it_protocol SOCKET.
 * Prints one "ok"/"not ok" line per check and "N passed, N failed". */
#include <errno.h>
#include <glib.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char *sock_path;
static int passed, failed;

static void result(bool ok, const char *what)
{
	printf("%s - %s\n", ok ? "ok" : "not ok", what);
	ok ? passed++ : failed++;
}

static int dial(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	g_strlcpy(sa.sun_path, sock_path, sizeof sa.sun_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static bool send_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Read one line (up to 4 MiB) with a timeout; NULL on EOF/timeout. */
static char *read_line(int fd, int timeout_ms)
{
	GString *s = g_string_new(NULL);
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		char c;
		if (poll(&p, 1, timeout_ms) <= 0 || recv(fd, &c, 1, 0) != 1 || s->len > (4 << 20)) {
			g_string_free(s, TRUE);
			return NULL;
		}
		if (c == '\n')
			return g_string_free(s, FALSE);
		g_string_append_c(s, c);
	}
}

/* Wait until the daemon closes fd (EOF), bounded. */
static bool closed_by_peer(int fd, int timeout_ms)
{
	char buf[4096];
	gint64 until = g_get_monotonic_time() + timeout_ms * 1000;
	while (g_get_monotonic_time() < until) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 100) > 0) {
			ssize_t n = recv(fd, buf, sizeof buf, 0);
			if (n <= 0)
				return true;
		}
	}
	return false;
}

static char *call(int fd, const char *req)
{
	if (!send_all(fd, req, strlen(req)))
		return NULL;
	return read_line(fd, 10000);
}

static bool serving(void)
{
	int fd = dial();
	if (fd < 0)
		return false;
	g_autofree char *r = call(fd, "{\"v\":1,\"id\":1,\"method\":\"daemon.version\"}\n");
	close(fd);
	return r && strstr(r, "\"result\"") && strstr(r, "\"version\"");
}

static bool send_str(int fd, const char *s)
{
	return send_all(fd, s, strlen(s));
}

static void expect_dropped(const char *what, const void *data, size_t len)
{
	int fd = dial();
	bool sent = fd >= 0 && send_all(fd, data, len);
	bool dropped = sent && closed_by_peer(fd, 5000);
	if (fd >= 0)
		close(fd);
	g_autofree char *msg = g_strdup_printf("%s: connection dropped", what);
	result(dropped, msg);
	g_autofree char *msg2 = g_strdup_printf("%s: daemon still serves others", what);
	result(serving(), msg2);
}

static void expect_error_reply(const char *what, const char *req, const char *code)
{
	int fd = dial();
	g_autofree char *r = fd >= 0 ? call(fd, req) : NULL;
	g_autofree char *want = g_strdup_printf("\"code\":\"%s\"", code);
	g_autofree char *msg = g_strdup_printf("%s: error %s", what, code);
	result(r && strstr(r, want), msg);
	/* the connection stays usable after a bad parameter */
	g_autofree char *r2 = fd >= 0 ? call(fd, "{\"v\":1,\"id\":2,\"method\":\"daemon.version\"}\n") : NULL;
	g_autofree char *msg2 = g_strdup_printf("%s: same connection still answers", what);
	result(r2 && strstr(r2, "\"id\":2"), msg2);
	if (fd >= 0)
		close(fd);
}

static gpointer client_thread(gpointer data)
{
	int ok = 0;
	int fd = dial();
	for (int i = 0; fd >= 0 && i < 10; i++) {
		g_autofree char *req = g_strdup_printf(
			"{\"v\":1,\"id\":%d,\"method\":\"%s\",\"params\":{}}\n", i,
			i % 2 ? "daemon.version" : "guests.list");
		g_autofree char *r = call(fd, req);
		g_autofree char *want = g_strdup_printf("{\"id\":%d,\"result\":", i);
		ok += r && g_str_has_prefix(r, want);
	}
	if (fd >= 0)
		close(fd);
	return GINT_TO_POINTER(ok);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: it_protocol SOCKET\n");
		return 2;
	}
	sock_path = argv[1];
	result(serving(), "daemon answers daemon.version");

	const char garbage[] = "this is not json at all\n";
	expect_dropped("garbage", garbage, sizeof garbage - 1);
	const char array[] = "[1,2,3]\n";
	expect_dropped("a JSON array", array, sizeof array - 1);
	const char noid[] = "{\"v\":1,\"method\":\"daemon.version\"}\n";
	expect_dropped("a request without id", noid, sizeof noid - 1);
	const char badutf[] = "{\"v\":1,\"id\":1,\"method\":\"\xc3\x28\"}\n";
	expect_dropped("invalid UTF-8", badutf, sizeof badutf - 1);
	char *big = g_malloc(200 * 1024);
	memset(big, ' ', 200 * 1024);
	memcpy(big, "{\"v\":1,\"id\":1,\"method\":\"", 24);
	expect_dropped("an oversized frame (200 KiB, no newline)", big, 200 * 1024);
	big[200 * 1024 - 1] = '\n';
	expect_dropped("an oversized frame (200 KiB line)", big, 200 * 1024);
	g_free(big);

	expect_error_reply("wrong protocol version", "{\"v\":9,\"id\":1,\"method\":\"daemon.version\"}\n",
			   "invalid-params");
	expect_error_reply("unknown method", "{\"v\":1,\"id\":1,\"method\":\"guests.delete\"}\n",
			   "invalid-params");
	expect_error_reply("unknown parameter",
			   "{\"v\":1,\"id\":1,\"method\":\"guests.list\",\"params\":{\"x\":1}}\n",
			   "invalid-params");
	expect_error_reply("wrong parameter type",
			   "{\"v\":1,\"id\":1,\"method\":\"guest.show\",\"params\":{\"guest\":[]}}\n",
			   "invalid-params");
	expect_error_reply("params not an object",
			   "{\"v\":1,\"id\":1,\"method\":\"guests.list\",\"params\":5}\n",
			   "invalid-params");
	expect_error_reply("unknown guest",
			   "{\"v\":1,\"id\":1,\"method\":\"guest.show\",\"params\":{\"guest\":\"zz\"}}\n",
			   "not-found");

	/* half-sent frame, then the client vanishes */
	int fd = dial();
	send_str(fd, "{\"v\":1,\"id\":1,\"met");
	close(fd);
	result(serving(), "half-sent frame then disconnect: daemon still serves");
	/* a request then an abrupt disconnect before the reply is read */
	fd = dial();
	send_str(fd, "{\"v\":1,\"id\":1,\"method\":\"guest.show\",\"params\":{\"guest\":\"w2k8-dc01\"}}\n");
	close(fd);
	result(serving(), "disconnect before the reply: daemon still serves");
	/* a job watcher that vanishes */
	fd = dial();
	g_autofree char *job = call(fd, "{\"v\":1,\"id\":1,\"method\":\"snapshot.create\",\"params\":{\"guest\":\"w2k8-web01\"}}\n");
	result(job && strstr(job, "\"job\""), "snapshot.create returns a job at once");
	send_str(fd, "{\"v\":1,\"id\":2,\"method\":\"jobs.watch\",\"params\":{\"job\":1}}\n");
	close(fd);
	result(serving(), "watcher disconnect: daemon still serves");
	/* several frames in one write, answered in order by id */
	fd = dial();
	const char three[] = "{\"v\":1,\"id\":10,\"method\":\"daemon.version\"}\n"
			     "{\"v\":1,\"id\":11,\"method\":\"jobs.list\"}\n"
			     "{\"v\":1,\"id\":12,\"method\":\"daemon.version\"}\n";
	send_all(fd, three, sizeof three - 1);
	int got = 0;
	for (int i = 0; i < 3; i++) {
		g_autofree char *r = read_line(fd, 5000);
		got += r && (strstr(r, "\"id\":10") || strstr(r, "\"id\":11") || strstr(r, "\"id\":12"));
	}
	close(fd);
	result(got == 3, "three frames in one write: three replies");

	/* 50 concurrent clients, 10 requests each */
	GThread *t[50];
	int total = 0;
	for (int i = 0; i < 50; i++)
		t[i] = g_thread_new("client", client_thread, NULL);
	for (int i = 0; i < 50; i++)
		total += GPOINTER_TO_INT(g_thread_join(t[i]));
	g_autofree char *m = g_strdup_printf("50 concurrent clients: %d/500 replies correct", total);
	result(total == 500, m);
	result(serving(), "daemon serves after the crowd");
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
