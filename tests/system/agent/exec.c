/* exec.c - guest-exec and guest-exec-status as qemu's qga/commands.c implements them:
 * a pid at once, exited:false until the process ended and its pipes are at EOF, out-data /
 * err-data (base64) only when non-empty, the record dropped after the first exited:true.
 * Windows program paths run the simulated programs (winprog.c); absolute POSIX paths run
 * real processes, an escape hatch the test bed uses to read and write the data disk. */
#include "winqga.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { CAP_NONE, CAP_STDOUT, CAP_STDERR, CAP_SEPARATED, CAP_MERGED };

static struct proc *proc_alloc(struct agent *a)
{
	for (int i = 0; i < WQ_MAX_PROCS; i++)
		if (!a->procs[i].pid) {
			memset(&a->procs[i], 0, sizeof(a->procs[i]));
			a->procs[i].out_fd = a->procs[i].err_fd = -1;
			return &a->procs[i];
		}
	return NULL;
}

static void proc_free(struct proc *p)
{
	if (p->out_fd >= 0)
		close(p->out_fd);
	if (p->err_fd >= 0)
		close(p->err_fd);
	sb_free(&p->out);
	sb_free(&p->err);
	memset(p, 0, sizeof(*p));
	p->out_fd = p->err_fd = -1;
}

static int capture_mode(const struct jval *args, int *mode)
{
	const struct jval *c = json_get(args, "capture-output");
	*mode = CAP_NONE;
	if (!c)
		return 0;
	if (c->type == J_BOOL) {
		*mode = c->boolean ? CAP_SEPARATED : CAP_NONE;
		return 0;
	}
	if (c->type != J_STR)
		return -1;
	static const char *const names[] = {"none", "stdout", "stderr", "separated", "merged"};
	for (int i = 0; i < 5; i++)
		if (!strcmp(c->str, names[i])) {
			*mode = i;
			return 0;
		}
	return -1;
}

/* starts a real process; on failure fills out with qemu-ga's error and returns -1 */
static int spawn_real(struct proc *p, char **argv, const unsigned char *in, size_t inlen, int mode,
		      struct sbuf *out)
{
	int op[2] = {-1, -1}, ep[2] = {-1, -1}, errp[2], infd = -1;
	char tmpl[] = "/tmp/winqga-in.XXXXXX";
	int e = 0;
	pid_t pid;
	if (in) {
		if ((infd = mkstemp(tmpl)) < 0 || write(infd, in, inlen) != (ssize_t)inlen) {
			cmd_error(out, "GenericError", "cannot stage input-data: %s",
				  strerror(errno));
			if (infd >= 0)
				close(infd);
			return -1;
		}
		unlink(tmpl);
		lseek(infd, 0, SEEK_SET);
	}
	if (pipe2(errp, O_CLOEXEC) < 0 || (mode != CAP_NONE && (pipe(op) < 0 || pipe(ep) < 0))) {
		cmd_error(out, "GenericError", "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);
		dup2(infd >= 0 ? infd : nul, 0);
		dup2(mode == CAP_STDOUT || mode == CAP_SEPARATED || mode == CAP_MERGED ? op[1]
										       : nul,
		     1);
		dup2(mode == CAP_STDERR || mode == CAP_SEPARATED ? ep[1]
		     : mode == CAP_MERGED			 ? op[1]
								 : nul,
		     2);
		for (int fd = 3; fd < 256; fd++)
			if (fd != errp[1])
				close(fd);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		e = errno;
		if (write(errp[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(errp[1]);
	if (infd >= 0)
		close(infd);
	if (op[1] >= 0)
		close(op[1]);
	if (ep[1] >= 0)
		close(ep[1]);
	if (pid > 0 && read(errp[0], &e, sizeof(e)) == (ssize_t)sizeof(e)) {
		waitpid(pid, NULL, 0);
		pid = -1;
	} else if (pid < 0) {
		e = errno;
	}
	close(errp[0]);
	if (pid < 0) {
		if (op[0] >= 0)
			close(op[0]);
		if (ep[0] >= 0)
			close(ep[0]);
		cmd_error(out, "GenericError",
			  "Guest agent command failed, error was 'Failed to execute child process "
			  "\xe2\x80\x9c%s\xe2\x80\x9d (%s)'",
			  argv[0], strerror(e));
		return -1;
	}
	p->pid = pid;
	p->real = 1;
	p->capture = mode != CAP_NONE;
	p->out_fd = op[0];
	p->err_fd = ep[0];
	if (p->out_fd >= 0)
		fcntl(p->out_fd, F_SETFL, O_NONBLOCK);
	if (p->err_fd >= 0)
		fcntl(p->err_fd, F_SETFL, O_NONBLOCK);
	return 0;
}

void exec_start(struct agent *a, const struct jval *args, struct sbuf *out)
{
	const char *path = json_get_str(args, "path"), *inb64 = json_get_str(args, "input-data");
	const struct jval *arg = json_get(args, "arg");
	unsigned char *in = NULL;
	size_t inlen = 0;
	char *argv[130];
	int argc = 0, mode;
	struct proc *p;
	if (!path) {
		cmd_error(out, "GenericError", "Parameter 'path' is missing");
		return;
	}
	if (capture_mode(args, &mode) < 0) {
		cmd_error(out, "GenericError", "Invalid parameter type for 'capture-output'");
		return;
	}
	argv[argc++] = (char *)path;
	for (const struct jval *v = arg && arg->type == J_ARR ? arg->child : NULL; v; v = v->next) {
		if (v->type != J_STR || argc >= 128) {
			cmd_error(out, "GenericError",
				  "Invalid parameter type for 'arg', expected: array of strings");
			return;
		}
		argv[argc++] = v->str;
	}
	argv[argc] = NULL;
	if (inb64 && !(in = b64_decode(inb64, strlen(inb64), &inlen))) {
		cmd_error(out, "GenericError",
			  "Guest agent command failed, error was 'Invalid base64 data'");
		return;
	}
	if (!(p = proc_alloc(a))) {
		free(in);
		cmd_error(out, "GenericError",
			  "Guest agent command failed, error was 'too many processes'");
		return;
	}
	if (path[0] == '/' && a->escape_hatch) {
		if (spawn_real(p, argv, in, inlen, mode, out) < 0) {
			proc_free(p);
			free(in);
			return;
		}
	} else {
		struct winprog_result r = {0};
		if (winprog_run(&a->id, path, argv + 1, argc - 1, &r) < 0) {
			proc_free(p);
			free(in);
			cmd_error(out, "GenericError",
				  "Guest agent command failed, error was 'Failed to execute child "
				  "process (No such file or directory)'");
			return;
		}
		p->pid = a->next_pid;
		a->next_pid += 4; /* Windows process ids are multiples of 4 */
		p->done_at_ms = wq_now_ms() + a->id.exec_ms;
		p->exitcode = r.exitcode;
		p->capture = mode != CAP_NONE;
		if (mode == CAP_STDOUT || mode == CAP_SEPARATED || mode == CAP_MERGED)
			sb_add(&p->out, r.out.p, r.out.len);
		if (mode == CAP_STDERR || mode == CAP_SEPARATED)
			sb_add(&p->err, r.err.p, r.err.len);
		if (mode == CAP_MERGED)
			sb_add(&p->out, r.err.p, r.err.len);
		sb_free(&r.out);
		sb_free(&r.err);
	}
	free(in);
	sb_printf(out, "{\"return\": {\"pid\": %lld}}", (long long)p->pid);
}

static void drain(int *fd, struct sbuf *b)
{
	char buf[8192];
	ssize_t n;
	while (*fd >= 0) {
		n = read(*fd, buf, sizeof(buf));
		if (n > 0) {
			sb_add(b, buf, (size_t)n);
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			close(*fd);
			*fd = -1;
		} else {
			break;
		}
	}
}

void exec_service(struct agent *a)
{
	for (int i = 0; i < WQ_MAX_PROCS; i++) {
		struct proc *p = &a->procs[i];
		if (!p->pid || !p->real)
			continue;
		drain(&p->out_fd, &p->out);
		drain(&p->err_fd, &p->err);
		if (!p->reaped && waitpid((pid_t)p->pid, &p->status, WNOHANG) == (pid_t)p->pid)
			p->reaped = 1;
	}
}

void exec_poll_fds(struct agent *a, int *fds, int *nfds, int max)
{
	for (int i = 0; i < WQ_MAX_PROCS; i++) {
		struct proc *p = &a->procs[i];
		if (p->pid && p->out_fd >= 0 && *nfds < max)
			fds[(*nfds)++] = p->out_fd;
		if (p->pid && p->err_fd >= 0 && *nfds < max)
			fds[(*nfds)++] = p->err_fd;
	}
}

void exec_status(struct agent *a, const struct jval *args, struct sbuf *out)
{
	long long pid = 0;
	struct proc *p = NULL;
	int r = json_get_int(args, "pid", &pid), exited;
	if (r == 0) {
		cmd_error(out, "GenericError", "Parameter 'pid' is missing");
		return;
	}
	for (int i = 0; r > 0 && i < WQ_MAX_PROCS; i++)
		if (a->procs[i].pid && a->procs[i].pid == pid)
			p = &a->procs[i];
	if (!p) {
		cmd_error(out, "GenericError", "Invalid parameter 'pid'");
		return;
	}
	exec_service(a);
	exited =
	    p->real ? p->reaped && p->out_fd < 0 && p->err_fd < 0 : wq_now_ms() >= p->done_at_ms;
	if (!exited) {
		sb_puts(out, "{\"return\": {\"exited\": false}}");
		return;
	}
	sb_puts(out, "{\"return\": {\"exited\": true");
	if (p->real && WIFSIGNALED(p->status))
		sb_printf(out, ", \"signal\": %d", WTERMSIG(p->status));
	else
		sb_printf(out, ", \"exitcode\": %d",
			  p->real ? WEXITSTATUS(p->status) : (int)p->exitcode);
	if (p->capture && p->out.len) {
		sb_puts(out, ", \"out-data\": \"");
		b64_encode(out, (const unsigned char *)p->out.p, p->out.len);
		sb_puts(out, "\"");
	}
	if (p->capture && p->err.len) {
		sb_puts(out, ", \"err-data\": \"");
		b64_encode(out, (const unsigned char *)p->err.p, p->err.len);
		sb_puts(out, "\"");
	}
	sb_puts(out, "}}");
	proc_free(p);
}
