/* Unit tests: holdfast's command line (cli/args.c) and its help and completion (cli/help.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "client.h"
#include "help.h"

/* argv of the last parse: Args.socket points into it, so it lives until the next parse. */
static GStrv last_argv;

/* Parse a shell-quoted command line (without the program name). */
static int parse(const char *line, Args *a, HfError *err)
{
	g_autofree char *full = g_strconcat("holdfast ", line, NULL);
	int argc = 0;
	g_clear_pointer(&last_argv, g_strfreev);
	assert_true(g_shell_parse_argv(full, &argc, &last_argv, NULL));
	error_clear(err);
	return args_parse(argc, last_argv, a, err);
}

/* Parse and compare the params with a JSON text; returns the action. */
static void expect_params(const char *line, const char *method, const char *json)
{
	Args a;
	HfError err = {0};
	g_autofree char *full = g_strconcat("holdfast ", line, NULL);
	g_auto(GStrv) argv = NULL;
	int argc = 0;
	assert_true(g_shell_parse_argv(full, &argc, &argv, NULL));
	if (args_parse(argc, argv, &a, &err) < 0)
		fail_msg("'%s': %s", line, err.message);
	assert_int_equal(a.action, ARGS_RUN);
	assert_non_null(a.method);
	assert_string_equal(a.method->name, method);
	cJSON *want = cJSON_Parse(json);
	assert_non_null(want);
	if (!cJSON_Compare(a.params, want, 1)) {
		char *got = cJSON_PrintUnformatted(a.params);
		fail_msg("'%s': params %s, wanted %s", line, got, json);
	}
	cJSON_Delete(want);
	args_clear(&a);
}

/* Expect a usage error whose message contains `needle`. */
static void expect_usage(const char *line, const char *needle)
{
	Args a;
	HfError err = {0};
	if (parse(line, &a, &err) == 0)
		fail_msg("'%s' parsed; wanted a usage error", line);
	assert_string_equal(err.code, HF_ERR_INVALID_PARAMS);
	assert_int_equal(client_exit_code(err.code), HF_EXIT_USAGE);
	if (!strstr(err.message, needle))
		fail_msg("'%s': message '%s' lacks '%s'", line, err.message, needle);
	args_clear(&a);
}

/* A sample value for a parameter, and its JSON. */
static const char *sample(const HfParam *p, const char **json)
{
	static char buf[64];
	switch (p->type) {
	case HF_PT_INT:
		snprintf(buf, sizeof buf, "%lld", p->min ? p->min : 1);
		*json = buf;
		return buf;
	case HF_PT_ENUM: {
		static char v[64], j[70];
		snprintf(v, sizeof v, "%.*s", (int)strcspn(p->choices, "|"), p->choices);
		snprintf(j, sizeof j, "\"%s\"", v);
		*json = j;
		return v;
	}
	case HF_PT_BOOL:
		*json = "true";
		return NULL;
	case HF_PT_STRINGS:
		*json = "[\"a b\",\"c\"]";
		return "'a b' c";
	case HF_PT_STRING:
		*json = "\"x y\"";
		return "'x y'";
	case HF_PT_OBJECT:
		*json = "{\"a\":[1]}";
		return "'{\"a\":[1]}'";
	}
	return NULL;
}

/* Every row of the table: all positionals and all options, --json before and after. */
static void test_every_command(void **state)
{
	for (size_t i = 0; i < methods_count; i++) {
		const HfMethod *m = &methods_table[i];
		GString *line = g_string_new(m->command);
		GString *json = g_string_new("{");
		for (const HfParam *p = m->params; p->name; p++) {
			const char *j = NULL;
			const char *v = sample(p, &j);
			if (p->flags & HF_P_POSITIONAL)
				g_string_append_printf(line, " %s", v);
			else if (p->type == HF_PT_BOOL)
				g_string_append_printf(line, " --%s", p->name);
			else if (p->type == HF_PT_STRINGS)
				g_string_append_printf(line, " --%s 'a b' --%s=c", p->name,
						       p->name);
			else
				g_string_append_printf(line, " --%s=%s", p->name, v);
			g_string_append_printf(json, "%s\"%s\":%s", json->len > 1 ? "," : "",
					       p->name, j);
		}
		g_string_append_c(json, '}');
		expect_params(line->str, m->name, json->str);

		/* global options before and after the command words */
		g_autofree char *before = g_strdup_printf("--json --no-wait %s", line->str);
		g_autofree char *after = g_strdup_printf("%s --json --no-wait", line->str);
		const char *forms[] = {before, after};
		for (int f = 0; f < 2; f++) {
			Args a;
			HfError err = {0};
			assert_int_equal(parse(forms[f], &a, &err), 0);
			assert_true(a.json);
			assert_true(a.no_wait);
			assert_ptr_equal(a.method, m);
			args_clear(&a);
		}
		/* a missing required positional is a usage error naming it */
		for (const HfParam *p = m->params; p->name; p++)
			if ((p->flags & HF_P_POSITIONAL) && (p->flags & HF_P_REQUIRED)) {
				expect_usage(m->command, p->metavar ? p->metavar : p->name);
				break;
			}
		g_string_free(line, TRUE);
		g_string_free(json, TRUE);
	}
}

static void test_snapshot_create(void **state)
{
	expect_params("snapshot create lab/w2k8-dc01", "snapshot.create",
		      "{\"guest\":\"lab/w2k8-dc01\"}");
	expect_params(
	    "snapshot create w2k8-dc01 --name=before --description 'before KB 1' "
	    "--quiesce try --timeout 30",
	    "snapshot.create",
	    "{\"guest\":\"w2k8-dc01\",\"name\":\"before\",\"description\":\"before KB 1\","
	    "\"quiesce\":\"try\",\"timeout\":30}");
	/* options before positionals, and "=" inside a value */
	expect_params("snapshot create --name a=b w2k8", "snapshot.create",
		      "{\"name\":\"a=b\",\"guest\":\"w2k8\"}");
	/* a value may start with a dash when given with = or after the option */
	expect_params("snapshot create w --description=-x", "snapshot.create",
		      "{\"guest\":\"w\",\"description\":\"-x\"}");
	/* -- ends the options */
	expect_params("guest show -- -odd-name", "guest.show", "{\"guest\":\"-odd-name\"}");
}

static void test_bools(void **state)
{
	expect_params("guests", "guests.list", "{}");
	expect_params("guests --all", "guests.list", "{\"all\":true}");
	expect_params("guests --no-all", "guests.list", "{\"all\":false}");
	expect_params("guests --all=false --host lab", "guests.list",
		      "{\"all\":false,\"host\":\"lab\"}");
	expect_params("snapshot delete g s --force", "snapshot.delete",
		      "{\"guest\":\"g\",\"snapshot\":\"s\",\"force\":true}");
	expect_usage("guests --all=perhaps", "--all: 'perhaps' is not a boolean");
	expect_usage("guests --all --all", "--all given twice");
	expect_usage("guests --no-all=1", "takes no value");
}

static void test_ints(void **state)
{
	expect_params("jobs show 7", "jobs.get", "{\"job\":7}");
	expect_params("jobs watch 9007199254740992", "jobs.watch", "{\"job\":9007199254740992}");
	expect_usage("jobs show 7x", "JOB: '7x' is not an integer");
	expect_usage("jobs show ' 7'", "is not an integer");
	expect_usage("jobs show +7", "is not an integer");
	expect_usage("jobs show 0", "JOB: 0 is out of range (1..");
	expect_usage("jobs show -5", "JOB: -5 is out of range");
	expect_usage("jobs show 99999999999999999999", "is not an integer");
	expect_usage("snapshot create g --timeout 601", "--timeout: 601 is out of range (1..600)");
	expect_usage("snapshot create g --timeout=", "--timeout: '' is not an integer");
}

static void test_usage_errors(void **state)
{
	expect_usage("", "no command given");
	expect_usage("frobnicate", "unknown command 'frobnicate'");
	expect_usage("snapshot", "'snapshot' needs a subcommand");
	expect_usage("snapshot frob g", "unknown command 'snapshot frob'");
	expect_usage("guests --bogus", "unknown option '--bogus' for `holdfast guests`");
	expect_usage("guests -x", "unknown option '-x'");
	expect_usage("--all guests", "unknown option '--all'");
	expect_usage("guest show", "missing GUEST");
	expect_usage("snapshot revert g", "missing SNAPSHOT");
	expect_usage("guests extra", "unexpected argument 'extra'");
	expect_usage("guest show a b", "unexpected argument 'b'");
	expect_usage("snapshot create g --quiesce maybe",
		     "--quiesce: 'maybe' is not one of: no, yes, try");
	expect_usage("jobs list --state=done", "--state: 'done' is not one of");
	expect_usage("snapshot create g --name", "--name needs a value (NAME)");
	expect_usage("snapshot create g --name a --name b", "--name given twice");
	expect_usage("guests --socket", "--socket needs a value");
	expect_usage("--socket= guests", "non-empty");
	expect_usage("--version guests", "--version takes no command");
	expect_usage("completion zsh", "only bash");
	expect_usage("help nope", "no command 'nope'");
	/* methods_validate() is the last word: over-long strings */
	g_autofree char *big = g_strnfill(HF_STRING_PARAM_MAX + 1, 'a');
	g_autofree char *line = g_strdup_printf("guest show %s", big);
	expect_usage(line, "longer than");

	/* the usage error still names the command, so its usage line can be shown */
	Args a;
	HfError err = {0};
	assert_int_equal(parse("snapshot create g --quiesce maybe", &a, &err), -1);
	assert_non_null(a.method);
	assert_string_equal(a.method->name, "snapshot.create");
	args_clear(&a);
	assert_int_equal(parse("snapshot frob", &a, &err), -1);
	assert_null(a.method);
	assert_string_equal(a.group, "snapshot");
	args_clear(&a);
}

static void test_socket(void **state)
{
	Args a;
	HfError err = {0};

	unsetenv(ARGS_SOCKET_ENV);
	assert_int_equal(parse("guests", &a, &err), 0);
	assert_string_equal(args_socket_path(&a), ARGS_DEFAULT_SOCKET);
	setenv(ARGS_SOCKET_ENV, "/tmp/env.sock", 1);
	assert_string_equal(args_socket_path(&a), "/tmp/env.sock");
	args_clear(&a);
	assert_int_equal(parse("--socket /tmp/a.sock guests", &a, &err), 0);
	assert_string_equal(args_socket_path(&a), "/tmp/a.sock");
	args_clear(&a);
	assert_int_equal(parse("guests --socket=/tmp/b.sock --json", &a, &err), 0);
	assert_string_equal(args_socket_path(&a), "/tmp/b.sock");
	assert_true(a.json);
	args_clear(&a);
	setenv(ARGS_SOCKET_ENV, "", 1);
	assert_int_equal(parse("guests", &a, &err), 0);
	assert_string_equal(args_socket_path(&a), ARGS_DEFAULT_SOCKET);
	args_clear(&a);
	unsetenv(ARGS_SOCKET_ENV);
}

static void test_help_forms(void **state)
{
	Args a;
	HfError err = {0};
	struct {
		const char *line;
		const char *method; /* NULL: general or group help */
		const char *group;
	} cases[] = {
	    {"help", NULL, NULL},
	    {"--help", NULL, NULL},
	    {"-h", NULL, NULL},
	    {"help snapshot create", "snapshot.create", NULL},
	    {"snapshot create --help", "snapshot.create", NULL},
	    {"snapshot create -h g --quiesce maybe", "snapshot.create", NULL},
	    {"--json guests -h", "guests.list", NULL},
	    {"help snapshot", NULL, "snapshot"},
	    {"snapshot --help", NULL, "snapshot"},
	    {"help jobs show", "jobs.get", NULL},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		if (parse(cases[i].line, &a, &err) < 0)
			fail_msg("'%s': %s", cases[i].line, err.message);
		assert_int_equal(a.action, ARGS_HELP);
		if (cases[i].method)
			assert_string_equal(a.method->name, cases[i].method);
		else
			assert_null(a.method);
		if (cases[i].group)
			assert_string_equal(a.group, cases[i].group);
		else
			assert_null(a.group);
		args_clear(&a);
	}
	assert_int_equal(parse("--version", &a, &err), 0);
	assert_int_equal(a.action, ARGS_VERSION);
	args_clear(&a);
	assert_int_equal(parse("completion bash", &a, &err), 0);
	assert_int_equal(a.action, ARGS_COMPLETION);
	args_clear(&a);
}

static void test_usage_text(void **state)
{
	const HfMethod *m = methods_find("snapshot.create");
	g_autofree char *u = help_usage(m);
	assert_non_null(strstr(u, "usage: holdfast snapshot create GUEST [--name NAME]"));
	assert_non_null(strstr(u, "[--quiesce no|yes|try]"));
	assert_non_null(strstr(u, "[--no-wait] [--json]\n"));
	g_autofree char *h = help_command(m);
	assert_non_null(strstr(h, "take a snapshot"));
	assert_non_null(strstr(h, "  GUEST "));
	assert_non_null(strstr(h, "one of: no, yes, try"));
	assert_non_null(strstr(h, "1..600"));
	assert_non_null(strstr(h, "admin group"));
	g_autofree char *d = help_command(methods_find("snapshot.delete"));
	assert_non_null(strstr(d, "  --force "));
	g_autofree char *l = help_usage(methods_find("guests.list"));
	assert_string_equal(l, "usage: holdfast guests [--host HOST] [--all] [--json]\n");

	/* general help lists every command with its summary; no line passes 100 columns */
	g_autofree char *g = help_general(NULL);
	for (size_t i = 0; i < methods_count; i++) {
		g_autofree char *needle = g_strdup_printf("  %s", methods_table[i].command);
		assert_non_null(strstr(g, needle));
		assert_non_null(strstr(g, methods_table[i].summary));
	}
	assert_non_null(strstr(g, "3  holdfastd is not reachable"));
	g_auto(GStrv) lines = g_strsplit(g, "\n", -1);
	for (char **ln = lines; *ln; ln++)
		assert_true(g_utf8_strlen(*ln, -1) <= 100);
	g_autofree char *grp = help_general("jobs");
	assert_non_null(strstr(grp, "jobs watch JOB"));
	assert_null(strstr(grp, "snapshot create"));
}

static void test_completion(void **state)
{
	g_autofree char *s = help_completion_bash();
	assert_non_null(strstr(s, "complete -F _holdfast holdfast"));
	for (size_t i = 0; i < methods_count; i++) {
		const HfMethod *m = &methods_table[i];
		g_autofree char *quoted = g_strdup_printf("\"%s\"", m->command);
		assert_non_null(strstr(s, quoted));
		for (const HfParam *p = m->params; p->name; p++) {
			if (p->flags & HF_P_POSITIONAL)
				continue;
			g_autofree char *opt = args_option_name(p);
			assert_non_null(strstr(s, opt));
		}
	}
	assert_non_null(strstr(s, "compgen -W \"no yes try\""));
}

/* Run the script in bash and ask it for completions. */
static char *complete(const char *script_path, const char *words, int cword)
{
	g_autofree char *cmd = g_strdup_printf(
	    "source %s; COMP_WORDS=(%s); COMP_CWORD=%d; _holdfast; echo \"${COMPREPLY[*]}\"",
	    script_path, words, cword);
	const char *argv[] = {"/bin/bash", "--norc", "-c", cmd, NULL};
	char *out = NULL;
	int status = 0;
	assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL,
				 &status, NULL));
	assert_int_equal(status, 0);
	g_strstrip(out);
	return out;
}

static void test_completion_runs(void **state)
{
	if (!g_file_test("/bin/bash", G_FILE_TEST_IS_EXECUTABLE))
		skip();
	g_autofree char *s = help_completion_bash();
	g_autofree char *path = NULL;
	int fd = g_file_open_tmp("hfcomp.XXXXXX", &path, NULL);
	assert_true(fd >= 0);
	close(fd);
	assert_true(g_file_set_contents(path, s, -1, NULL));

	g_autofree char *a = complete(path, "holdfast snapshot cr", 2);
	assert_string_equal(a, "create");
	g_autofree char *b = complete(path, "holdfast snapshot create g --quiesce ''", 5);
	assert_string_equal(b, "no yes try");
	g_autofree char *c = complete(path, "holdfast --json jobs ''", 3);
	assert_string_equal(c, "list show watch cancel");
	g_autofree char *d = complete(path, "holdfast guests --a", 2);
	assert_string_equal(d, "--all");
	g_autofree char *e = complete(path, "holdfast gu", 1);
	assert_string_equal(e, "guests guest");
	g_autofree char *f = complete(path, "holdfast help snapshot d", 3);
	assert_string_equal(f, "delete");
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_command), cmocka_unit_test(test_snapshot_create),
	    cmocka_unit_test(test_bools),	  cmocka_unit_test(test_ints),
	    cmocka_unit_test(test_usage_errors),  cmocka_unit_test(test_socket),
	    cmocka_unit_test(test_help_forms),	  cmocka_unit_test(test_usage_text),
	    cmocka_unit_test(test_completion),	  cmocka_unit_test(test_completion_runs),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	g_clear_pointer(&last_argv, g_strfreev);
	return rc;
}
