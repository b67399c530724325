/* main.c - winqga: transports (virtio-serial port, stdio, unix socket), request framing,
 * logging of every request and reply, delayed and hung replies.
 *
 *   winqga [--port DEV | --stdio | --listen PATH] [--identity FILE] [--set key=value]...
 *          [--freeze MOUNTPOINT]... [--no-escape-hatch]
 *   winqga --check-identity FILE    parse an identity file, print it, exit 0/1
 */
#include "winqga.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_PORT "/dev/virtio-ports/org.qemu.guest_agent.0"

int64_t wq_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void log_prefix(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	fprintf(stderr, "winqga[%ld.%03ld]: ", (long)ts.tv_sec, ts.tv_nsec / 1000000);
}

void wq_log(const char *fmt, ...)
{
	va_list ap;
	log_prefix();
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void wq_log_bytes(const char *dir, const char *s, size_t n)
{
	log_prefix();
	fprintf(stderr, "%s ", dir);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n' && i + 1 == n)
			break;
		if (c < 0x20 || c > 0x7e)
			fprintf(stderr, "<%02x>", c);
		else
			fputc(c, stderr);
	}
	fputc('\n', stderr);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && (errno == EINTR || errno == EAGAIN)) {
			if (errno == EAGAIN)
				poll(&(struct pollfd){.fd = fd, .events = POLLOUT}, 1, 100);
			continue;
		}
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void send_reply(struct agent *a, struct sbuf *r)
{
	if (!r->len)
		return;
	if (a->id.delay_ms > 0) {
		wq_log("DELAY %d ms", a->id.delay_ms);
		usleep((useconds_t)a->id.delay_ms * 1000);
	}
	sb_add(r, "\n", 1);
	wq_log_bytes("<-", r->p, r->len);
	if (write_all(a->out_fd, r->p, r->len) < 0)
		wq_log("write: %s", strerror(errno));
}

/* splits the byte stream into JSON objects; 0xFF resets the parser as in qemu-ga */
struct framer {
	struct sbuf obj;
	int depth, instr, esc, overflow;
};

static void feed(struct agent *a, struct framer *f, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c == 0xff) {
			f->obj.len = 0;
			f->depth = f->instr = f->esc = f->overflow = 0;
			continue;
		}
		if (!f->depth && c != '{')
			continue; /* whitespace or junk between objects */
		if (f->obj.len < WQ_FRAME_MAX)
			sb_add(&f->obj, &buf[i], 1);
		else
			f->overflow = 1;
		if (f->instr) {
			if (f->esc)
				f->esc = 0;
			else if (c == '\\')
				f->esc = 1;
			else if (c == '"')
				f->instr = 0;
			continue;
		}
		if (c == '"') {
			f->instr = 1;
		} else if (c == '{') {
			f->depth++;
		} else if (c == '}' && --f->depth == 0) {
			struct sbuf reply = {0};
			if (f->overflow) {
				wq_log("request larger than %u bytes dropped", WQ_FRAME_MAX);
				cmd_error(&reply, "GenericError",
					  "JSON parse error, request too large");
			} else {
				wq_log_bytes("->", f->obj.p, f->obj.len);
				cmd_dispatch(a, f->obj.p, f->obj.len, &reply);
			}
			send_reply(a, &reply);
			sb_free(&reply);
			f->obj.len = 0;
			f->overflow = 0;
		}
	}
}

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

enum mode { M_PORT, M_STDIO, M_LISTEN };

/* serves one connection (or the port, forever); returns when the peer went away */
static void serve(struct agent *a, enum mode mode)
{
	struct framer f = {0};
	for (;;) {
		struct pollfd pf[WQ_MAX_PROCS * 2 + 1];
		int fds[WQ_MAX_PROCS * 2], nfds = 0, timeout = 1000;
		char buf[8192];
		exec_poll_fds(a, fds, &nfds, WQ_MAX_PROCS * 2);
		pf[0] = (struct pollfd){.fd = a->in_fd, .events = POLLIN};
		for (int i = 0; i < nfds; i++)
			pf[i + 1] = (struct pollfd){.fd = fds[i], .events = POLLIN};
		if (a->hang_until_ms >= 0) {
			int64_t left = a->hang_until_ms - wq_now_ms();
			timeout = left < 0 ? 0 : left < timeout ? (int)left : timeout;
		}
		if (poll(pf, (nfds_t)nfds + 1, timeout) < 0 && errno != EINTR)
			break;
		exec_service(a);
		if (a->hang_until_ms >= 0 && wq_now_ms() >= a->hang_until_ms) {
			struct sbuf r = {0};
			sb_puts(&r, a->hang_reply);
			wq_log("FREEZE-HANG over: answering the freeze late");
			send_reply(a, &r);
			sb_free(&r);
			a->hang_until_ms = -1;
		}
		if (!(pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ssize_t n = read(a->in_fd, buf, sizeof(buf));
		if (n > 0) {
			feed(a, &f, buf, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (mode != M_PORT)
			break;
		/* virtio-serial: host side not connected (yet, or any more): drop a half request */
		f.obj.len = 0;
		f.depth = f.instr = f.esc = f.overflow = 0;
		usleep(100000);
	}
	sb_free(&f.obj);
}

static int usage(void)
{
	fprintf(stderr, "usage: winqga [--port DEV | --stdio | --listen PATH] [--identity FILE] "
			"[--set key=value]... [--freeze MOUNTPOINT]... [--no-escape-hatch]\n"
			"       winqga --check-identity FILE\n");
	return 2;
}

int main(int argc, char **argv)
{
	static struct agent a;
	enum mode mode = M_PORT;
	const char *port = DEFAULT_PORT, *sock = NULL;
	char err[256];
	setvbuf(stderr, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	identity_defaults(&a.id);
	identity_finish(&a.id);
	a.escape_hatch = 1;
	a.next_pid = 1412;
	a.hang_until_ms = -1;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(o, "--stdio")) {
			mode = M_STDIO;
		} else if (!strcmp(o, "--no-escape-hatch")) {
			a.escape_hatch = 0;
		} else if (!v) {
			return usage();
		} else if (!strcmp(o, "--port")) {
			mode = M_PORT, port = v, i++;
		} else if (!strcmp(o, "--listen")) {
			mode = M_LISTEN, sock = v, i++;
		} else if (!strcmp(o, "--freeze") && a.nfreeze < WQ_MAX_FREEZE) {
			a.freeze[a.nfreeze++] = argv[++i];
		} else if (!strcmp(o, "--identity") || !strcmp(o, "--check-identity")) {
			identity_defaults(&a.id);
			if (identity_load(&a.id, v, err, sizeof(err)) < 0) {
				fprintf(stderr, "winqga: %s\n", err);
				return 1;
			}
			if (!strcmp(o, "--check-identity")) {
				printf(
				    "%s: build %d.%d %s %s, %d KBs, ESU years mask 0x%x, agent %s, "
				    "misbehave 0x%x\n",
				    a.id.name, a.id.build, a.id.revision, a.id.edition_id,
				    a.id.arch, a.id.nkbs, a.id.esu_years, a.id.agent_version,
				    a.id.misbehave);
				return 0;
			}
			i++;
		} else if (!strcmp(o, "--set")) {
			if (identity_set(&a.id, v, err, sizeof(err)) < 0) {
				fprintf(stderr, "winqga: %s\n", err);
				return 1;
			}
			i++;
		} else {
			return usage();
		}
	}
	wq_log("identity %s: %s build %d.%d (%s), agent %s, %d KBs, esu 0x%x, misbehave 0x%x",
	       a.id.name, a.id.product_name, a.id.build, a.id.revision, a.id.buildlabex,
	       a.id.agent_version, a.id.nkbs, a.id.esu_years, a.id.misbehave);
	identity_listen(&a.id);
	if (mode == M_STDIO) {
		a.in_fd = 0;
		a.out_fd = 1;
		serve(&a, mode);
		return 0;
	}
	if (mode == M_LISTEN) {
		int lfd = listen_unix(sock);
		if (lfd < 0) {
			fprintf(stderr, "winqga: listen %s: %s\n", sock, strerror(errno));
			return 1;
		}
		for (;;) {
			int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (c < 0)
				continue;
			a.in_fd = a.out_fd = c;
			serve(&a, mode);
			close(c);
		}
	}
	wq_allow_power = 1;
	while ((a.in_fd = open(port, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		wq_log("open %s: %s", port, strerror(errno));
		sleep(1);
	}
	a.out_fd = a.in_fd;
	wq_log("listening on %s", port);
	serve(&a, mode);
	return 0;
}
