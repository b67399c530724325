/* main.c - holdfast: the command line of holdfastd. Parse, call, follow jobs, print.
 *
 * Exit codes (README.md): 0 ok, 1 the operation or its job failed, 2 usage, 3 holdfastd not
 * reachable (or gone mid-call), 4 not found, 5 permission denied. `check` and `classify` also
 * exit 1 when a guest fails the policy or (check) could not be checked; dr status exits 1 when
 * a guest's RPO is critical. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "args.h"
#include "client.h"
#include "help.h"
#include "output.h"
#include "render.h"

#define EXIT_DETACHED 130 /* Ctrl-C while following a job: the job goes on in holdfastd */

static void print_json(const cJSON *doc)
{
	g_autofree char *s = output_json(doc);
	fputs(s, stdout);
	fflush(stdout);
}

/* "holdfast: <message> (<code>)" on stderr; with --json also {"error":{...}} on stdout. */
static int report(const Args *a, const HfError *err, bool json_doc)
{
	fflush(stdout);
	fprintf(stderr, "holdfast: %s (%s)\n", err->message, err->code);
	if (a->json && json_doc) {
		g_autoptr(cJSON) doc = cJSON_CreateObject();
		cJSON *e = cJSON_AddObjectToObject(doc, "error");
		cJSON_AddStringToObject(e, "code", err->code);
		cJSON_AddStringToObject(e, "message", err->message);
		print_json(doc);
	}
	return client_exit_code(err->code);
}

static int usage_failure(const Args *a, const HfError *err)
{
	report(a, err, true);
	if (a->method) {
		g_autofree char *u = help_usage(a->method);
		fputs(u, stderr);
	} else if (a->group) {
		g_autofree char *g = help_general(a->group);
		fputs(g, stderr);
	} else
		fputs("usage: holdfast [--socket PATH] [--json] [--no-wait] COMMAND [ARGS]\n"
		      "(`holdfast help` lists the commands)\n",
		      stderr);
	return HF_EXIT_USAGE;
}

/* ---- following a job ---- */

typedef struct {
	bool tty;
	gint64 start;
	size_t shown; /* characters of the progress line on screen */
} Follow;

static void progress_clear(Follow *f)
{
	if (!f->shown)
		return;
	fprintf(stderr, "\r%*s\r", (int)f->shown, "");
	fflush(stderr);
	f->shown = 0;
}

static void progress_show(Follow *f, const cJSON *job)
{
	struct winsize ws = {0};
	size_t cols = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col ? ws.ws_col : 80;
	double elapsed = (double)(g_get_monotonic_time() - f->start) / G_USEC_PER_SEC;
	g_autofree char *line = render_progress(job, elapsed);
	size_t n = (size_t)g_utf8_strlen(line, -1);

	if (!f->tty || !job)
		return;
	if (n >= cols) { /* a wrapped line could not be redrawn with \r */
		char *cut = g_utf8_offset_to_pointer(line, (glong)cols - 1);
		*cut = '\0';
		n = cols - 1;
	}
	fprintf(stderr, "\r%s%*s", line, f->shown > n ? (int)(f->shown - n) : 0, "");
	fflush(stderr);
	f->shown = n;
}

static void on_event(const cJSON *event, void *opaque)
{
	progress_show(opaque, cJSON_GetObjectItemCaseSensitive(event, "job"));
}

static void on_signal(int sig)
{
	client_interrupt();
}

/* The end of a job: its outcome on stdout (or the {"job":J} document); exit 0 or 1. */
static int job_finished(const Args *a, const cJSON *doc)
{
	const cJSON *job = cJSON_GetObjectItemCaseSensitive(doc, "job");
	const char *state = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(job, "state"));
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GString) warn = g_string_new(NULL);

	if (state && !strcmp(state, "succeeded") && !strcmp(a->method->name, "check.run")) {
		const cJSON *res = cJSON_GetObjectItemCaseSensitive(job, "result");
		if (a->json)
			print_json(res); /* the check document itself, for scripts */
		else if (a->csv)
			render_check_csv(res, out);
		else
			render_check(res, out, warn);
		fputs(out->str, stdout);
		fflush(stdout);
		fputs(warn->str, stderr);
		return render_check_exit(res);
	}
	if (a->json)
		print_json(doc);
	if (state && !strcmp(state, "succeeded")) {
		if (!a->json) {
			render_job_outcome(job, out, warn);
			fputs(out->str, stdout);
			fflush(stdout);
			fputs(warn->str, stderr);
		}
		return HF_EXIT_OK;
	}
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(job, "error");
	const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code"));
	const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
	g_autofree char *label = render_job_label(job);
	if (!state)
		state = "unknown";
	if (!a->json) { /* how far a failover got before it stopped */
		renderfo_steps(cJSON_GetObjectItemCaseSensitive(job, "result"), out);
		fputs(out->str, stderr);
	}
	fprintf(stderr, "holdfast: %s %s: %s (%s)\n", label,
		!strcmp(state, "failed") ? "failed" : state, msg ? msg : "no reason given",
		code ? code : state);
	return HF_EXIT_FAILED;
}

/* Follow job `id` with jobs.watch on the same connection until it ends. `now` is the job as
 * last seen (may be NULL). */
static int follow(const Args *a, Client *c, double id, const cJSON *now)
{
	Follow f = {.tty = !a->json && isatty(STDERR_FILENO), .start = g_get_monotonic_time()};
	struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
	g_autoptr(cJSON) res = NULL;
	HfError err = {0};
	cJSON *params = cJSON_CreateObject();

	cJSON_AddNumberToObject(params, "job", id);
	sigemptyset(&sa.sa_mask); /* no SA_RESTART: the blocking read must return */
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	progress_show(&f, now);
	int rc = client_call(c, "jobs.watch", params, on_event, &f, &res, &err);
	progress_clear(&f);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (rc < 0 && client_interrupted()) {
		fprintf(
		    stderr,
		    "holdfast: stopped following job %.0f; it goes on in holdfastd (`holdfast "
		    "jobs watch %.0f` follows it again, `holdfast jobs cancel %.0f` stops it)\n",
		    id, id, id);
		return EXIT_DETACHED;
	}
	if (rc < 0) {
		if (!strcmp(err.code, CLIENT_ERR_UNREACHABLE))
			error_prefix(
			    &err,
			    "following job %.0f (it may still be running; see `holdfast jobs "
			    "show %.0f` when holdfastd is back)",
			    id, id);
		return report(a, &err, true);
	}
	return job_finished(a, res);
}

/* ---- one command ---- */

/* classify without --evidence: the evidence JSON comes on stdin (at most one request frame). */
static int read_evidence(Args *a, HfError *err)
{
	g_autoptr(GString) buf = g_string_new(NULL);
	char chunk[8192];
	size_t n;

	if (cJSON_GetObjectItemCaseSensitive(a->params, "evidence"))
		return 0;
	if (isatty(STDIN_FILENO))
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "give the evidence JSON on stdin (holdfast classify < "
				 "evidence.json) or with --evidence JSON");
	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
		g_string_append_len(buf, chunk, (gssize)n);
		if (buf->len > HF_REQUEST_FRAME_MAX)
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "the evidence on stdin is larger than %d bytes",
					 HF_REQUEST_FRAME_MAX);
	}
	if (ferror(stdin))
		return error_set(err, HF_ERR_INVALID_PARAMS, "cannot read stdin: %s",
				 g_strerror(errno));
	const char *end = NULL;
	cJSON *ev = cJSON_ParseWithLengthOpts(buf->str, buf->len, &end, false);
	if (!ev)
		return error_set(
		    err, HF_ERR_INVALID_PARAMS,
		    "stdin is not valid JSON (malformed near byte %zu); classify takes "
		    "the \"evidence\" object of `holdfast --json check`",
		    end ? (size_t)(end - buf->str) : 0);
	if (!cJSON_IsObject(ev)) {
		cJSON_Delete(ev);
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "stdin is not a JSON object; classify takes the \"evidence\" "
				 "object of `holdfast --json check`");
	}
	cJSON_AddItemToObject(a->params, "evidence", ev);
	return 0;
}

static void print_result(const Args *a, cJSON *result)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GString) warn = g_string_new(NULL);

	if (a->json) {
		if (!strcmp(a->method->name, "daemon.version") && cJSON_IsObject(result)) {
			cJSON *cli = cJSON_AddObjectToObject(result, "cli");
			cJSON_AddStringToObject(cli, "version", HF_VERSION);
			cJSON_AddNumberToObject(cli, "protocol", HF_PROTOCOL_VERSION);
		}
		print_json(result);
		return;
	}
	render_result(a->method, result, out, warn);
	fputs(out->str, stdout);
	fflush(stdout);
	fputs(warn->str, stderr);
}

static int run(Args *a)
{
	const HfMethod *m = a->method;
	Client c;
	HfError err = {0};
	g_autoptr(cJSON) result = NULL;
	int rc;

	if (!strcmp(m->name, "check.classify") && read_evidence(a, &err) < 0)
		return report(a, &err, true);
	if (client_connect(&c, args_socket_path(a), &err) < 0) {
		if (!strcmp(m->name, "daemon.version") && !a->json)
			printf("holdfast:   %s (protocol %d)\n", HF_VERSION, HF_PROTOCOL_VERSION);
		rc = report(a, &err, true);
		client_close(&c);
		return rc;
	}
	if (!strcmp(m->name, "jobs.watch")) {
		cJSON *id = cJSON_GetObjectItemCaseSensitive(a->params, "job");
		rc = follow(a, &c, id->valuedouble, NULL);
		client_close(&c);
		return rc;
	}
	rc = client_call(&c, m->name, g_steal_pointer(&a->params), NULL, NULL, &result, &err);
	if (rc < 0) {
		rc = report(a, &err, true);
	} else if (m->job) {
		const cJSON *job = cJSON_GetObjectItemCaseSensitive(result, "job");
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(job, "id");
		const char *st =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(job, "state"));
		if (!cJSON_IsNumber(id)) {
			error_set(&err, HF_ERR_PROTOCOL, "holdfastd's reply to %s has no job id",
				  m->name);
			rc = report(a, &err, true);
		} else if (a->no_wait) {
			if (a->json)
				print_json(result);
			else
				printf("%.0f\n", id->valuedouble);
			rc = HF_EXIT_OK;
		} else if (st && strcmp(st, "queued") && strcmp(st, "running"))
			rc = job_finished(a, result);
		else
			rc = follow(a, &c, id->valuedouble, job);
	} else {
		print_result(a, result);
		const cJSON *pol = cJSON_GetObjectItemCaseSensitive(result, "policy");
		const char *st =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(result, "state"));
		rc = (!strcmp(m->name, "check.classify") &&
		      cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(pol, "pass"))) ||
			     (!strcmp(m->name, "dr.status") && !g_strcmp0(st, "critical"))
			 ? HF_EXIT_FAILED
			 : HF_EXIT_OK;
	}
	client_close(&c);
	return rc;
}

int main(int argc, char **argv)
{
	Args a;
	HfError err = {0};
	int rc = HF_EXIT_OK;

	if (args_parse(argc, argv, &a, &err) < 0) {
		rc = usage_failure(&a, &err);
		args_clear(&a);
		return rc;
	}
	switch (a.action) {
	case ARGS_HELP: {
		g_autofree char *h = a.method ? help_command(a.method) : help_general(a.group);
		fputs(h, stdout);
		break;
	}
	case ARGS_VERSION:
		printf("holdfast %s (protocol %d)\n", HF_VERSION, HF_PROTOCOL_VERSION);
		break;
	case ARGS_COMPLETION: {
		g_autofree char *s = help_completion_bash();
		fputs(s, stdout);
		break;
	}
	case ARGS_RUN:
		rc = run(&a);
		break;
	}
	args_clear(&a);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "holdfast: cannot write the output: %s\n", g_strerror(errno));
		return rc ? rc : HF_EXIT_FAILED;
	}
	return rc;
}
