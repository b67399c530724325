/* test_winqga_local.c - winqga over a socketpair, no QEMU: the QGA protocol answers and the
 * Windows programs' output, byte for byte.
 *   test_winqga_local WINQGA IDENTITY_DIR     (WINQGA_WRAPPER="valgrind -q ..." wraps winqga) */
#include "test_winqga.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *agent_bin, *id_dir;
static int failures, checks;

void start(struct peer *p, const char *identity, const char *set1, const char *set2)
{
	int sv[2];
	char idpath[512];
	snprintf(idpath, sizeof(idpath), "%s/%s", id_dir, identity);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	memset(p, 0, sizeof(*p));
	p->pid = fork();
	if (p->pid == 0) {
		char *argv[32], *wrap = getenv("WINQGA_WRAPPER"), *save = NULL;
		int n = 0;
		if (wrap && *wrap)
			for (char *w = strtok_r(strdup(wrap), " ", &save); w && n < 20;
			     w = strtok_r(NULL, " ", &save))
				argv[n++] = w;
		argv[n++] = (char *)agent_bin;
		argv[n++] = "--stdio";
		argv[n++] = "--identity";
		argv[n++] = idpath;
		argv[n++] = "--set";
		argv[n++] = "exec-ms=0";
		if (set1) {
			argv[n++] = "--set";
			argv[n++] = (char *)set1;
		}
		if (set2) {
			argv[n++] = "--set";
			argv[n++] = (char *)set2;
		}
		argv[n] = NULL;
		dup2(sv[1], 0);
		dup2(sv[1], 1);
		if (!getenv("WINQGA_LOG")) /* its request log; WINQGA_LOG=1 shows it */
			freopen("/dev/null", "w", stderr);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(sv[1]);
	p->fd = sv[0];
}

int stop(struct peer *p)
{
	int st = 0;
	close(p->fd);
	waitpid(p->pid, &st, 0);
	sb_free(&p->in);
	st = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	ok(st == 0, "winqga ends cleanly at EOF (under WINQGA_WRAPPER: no memory errors)");
	return st;
}

void send_raw(struct peer *p, const char *s, size_t n)
{
	if (write(p->fd, s, n) != (ssize_t)n)
		abort();
}

/* next reply line (without "\n"), malloc'd; NULL when none came within timeout_ms */
char *reply(struct peer *p, int timeout_ms, size_t *len)
{
	for (;;) {
		char *nl = p->in.len ? memchr(p->in.p, '\n', p->in.len) : NULL;
		if (nl) {
			size_t n = (size_t)(nl - p->in.p);
			char *r = malloc(n + 1);
			memcpy(r, p->in.p, n);
			r[n] = 0;
			memmove(p->in.p, nl + 1, p->in.len - n - 1);
			p->in.len -= n + 1;
			if (len)
				*len = n;
			return r;
		}
		struct pollfd pf = {.fd = p->fd, .events = POLLIN};
		if (poll(&pf, 1, timeout_ms) <= 0)
			return NULL;
		char buf[65536];
		ssize_t r = read(p->fd, buf, sizeof(buf));
		if (r <= 0)
			return NULL;
		sb_add(&p->in, buf, (size_t)r);
	}
}

char *call(struct peer *p, const char *req)
{
	send_raw(p, req, strlen(req));
	send_raw(p, "\n", 1);
	return reply(p, 5000, NULL);
}

static void show(const char *what, const char *s, size_t n)
{
	fprintf(stderr, "    %s: \"", what);
	for (size_t i = 0; s && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r')
			fputs("\\r", stderr);
		else if (c == '\n')
			fputs("\\n", stderr);
		else if (c < 0x20 || c > 0x7e)
			fprintf(stderr, "\\x%02x", c);
		else
			fputc(c, stderr);
	}
	fputs("\"\n", stderr);
}

void ok(int cond, const char *name)
{
	checks++;
	if (!cond)
		failures++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", checks, name);
}

void same(const char *name, const char *got, size_t glen, const char *want)
{
	int eq = got && glen == strlen(want) && !memcmp(got, want, glen);
	ok(eq, name);
	if (!eq) {
		show("want", want, strlen(want));
		show("got ", got, got ? glen : 0);
	}
}

void same_str(const char *name, char *got, const char *want)
{
	same(name, got, got ? strlen(got) : 0, want);
	free(got);
}

int contains(const char *hay, size_t n, const char *needle)
{
	return hay && memmem(hay, n, needle, strlen(needle)) != NULL;
}

void result_free(struct result *r)
{
	free(r->out);
	free(r->err);
	free(r->error);
	memset(r, 0, sizeof(*r));
}

static unsigned char *field_b64(const struct jval *ret, const char *k, size_t *len)
{
	const char *s = json_get_str(ret, k);
	*len = 0;
	return s ? b64_decode(s, strlen(s), len) : NULL;
}

/* guest-exec PATH ARGS... (NULL-terminated), then guest-exec-status until exited */
void run(struct peer *p, struct result *r, const char *path, ...)
{
	struct sbuf req = {0};
	va_list ap;
	const char *a;
	char *line;
	struct jval *v;
	long long pid = 0;
	memset(r, 0, sizeof(*r));
	sb_puts(&req, "{\"execute\": \"guest-exec\", \"arguments\": {\"path\": ");
	sb_json_str(&req, path, strlen(path));
	sb_puts(&req, ", \"arg\": [");
	va_start(ap, path);
	for (int i = 0; (a = va_arg(ap, const char *)); i++) {
		if (i)
			sb_puts(&req, ", ");
		sb_json_str(&req, a, strlen(a));
	}
	va_end(ap);
	sb_puts(&req, "], \"capture-output\": true}}");
	line = call(p, req.p);
	sb_free(&req);
	v = line ? json_parse(line, strlen(line), NULL) : NULL;
	if (!v || json_get_int(json_get(v, "return"), "pid", &pid) != 1) {
		r->error = line;
		json_free(v);
		return;
	}
	free(line);
	json_free(v);
	for (int tries = 0; tries < 500 && !r->exited; tries++) {
		char q[128];
		snprintf(q, sizeof(q),
			 "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":%lld}}", pid);
		line = call(p, q);
		v = line ? json_parse(line, strlen(line), NULL) : NULL;
		const struct jval *ret = json_get(v, "return");
		const struct jval *ex = json_get(ret, "exited");
		if (ex && ex->type == J_BOOL && ex->boolean) {
			r->exited = 1;
			json_get_int(ret, "exitcode", &r->code);
			r->out = field_b64(ret, "out-data", &r->olen);
			r->err = field_b64(ret, "err-data", &r->elen);
		} else if (!ex) {
			r->error = line;
			line = NULL;
			tries = 500;
		} else {
			usleep(10000);
		}
		free(line);
		json_free(v);
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: test_winqga_local WINQGA IDENTITY_DIR\n");
		return 2;
	}
	agent_bin = argv[1];
	id_dir = argv[2];
	signal(SIGPIPE, SIG_IGN);
	test_protocol();
	test_registry_and_ver();
	test_wmic();
	test_licence_and_systeminfo();
	test_exec_semantics();
	test_freeze_and_misbehaviour();
	test_netstat();
	printf("1..%d\n", checks);
	if (failures)
		fprintf(stderr, "%d of %d checks failed\n", failures, checks);
	return failures ? 1 : 0;
}
