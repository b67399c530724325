/* args.c - argv -> method + params JSON, driven by the method table (common/methods.c). */
#include "args.h"

#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

static int usage_error(HfError *err, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static int usage_error(HfError *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	error_setv(err, HF_ERR_INVALID_PARAMS, fmt, ap);
	va_end(ap);
	return -1;
}

char *args_option_name(const HfParam *p)
{
	char *s = g_strconcat("--", p->name, NULL);
	g_strdelimit(s + 2, "_", '-');
	return s;
}

char *args_metavar(const HfParam *p)
{
	return p->metavar ? g_strdup(p->metavar) : g_ascii_strup(p->name, -1);
}

const char *args_socket_path(const Args *a)
{
	const char *env = getenv(ARGS_SOCKET_ENV);
	if (a->socket)
		return a->socket;
	return env && env[0] ? env : ARGS_DEFAULT_SOCKET;
}

void args_clear(Args *a)
{
	cJSON_Delete(a->params);
	g_free(a->group);
	memset(a, 0, sizeof *a);
}

/* An option word: "--x", "-x"; not "-", not "--" and not a negative number. */
static bool is_option(const char *s)
{
	if (s[0] != '-' || s[1] == '\0')
		return false;
	if (g_ascii_isdigit(s[1]))
		return false;
	return strcmp(s, "--") != 0;
}

/* The global options, accepted anywhere. Returns 1 when argv[*i] was one (*i advanced past
 * a separate value), 0 when not, -1 on error. */
static int global_option(int argc, char **argv, int *i, Args *a, HfError *err)
{
	const char *s = argv[*i];

	if (!strcmp(s, "--json"))
		a->json = true;
	else if (!strcmp(s, "--csv"))
		a->csv = true;
	else if (!strcmp(s, "--no-wait"))
		a->no_wait = true;
	else if (!strcmp(s, "-h") || !strcmp(s, "--help"))
		a->action = ARGS_HELP;
	else if (!strncmp(s, "--socket=", 9))
		a->socket = s + 9;
	else if (!strcmp(s, "--socket")) {
		if (*i + 1 >= argc)
			return usage_error(err, "--socket needs a value (PATH)");
		a->socket = argv[++*i];
	} else
		return 0;
	if (a->socket && !a->socket[0])
		return usage_error(err, "--socket needs a non-empty PATH");
	return 1;
}

/* Does `prefix` (whole words) start at least one command? */
static bool is_group(const char *prefix)
{
	size_t n = strlen(prefix);
	for (size_t i = 0; i < methods_count; i++)
		if (!strncmp(methods_table[i].command, prefix, n) &&
		    methods_table[i].command[n] == ' ')
			return true;
	return false;
}

/* The longest run of leading words that starts one or more commands ("snapshot"). */
static char *longest_group(char **words, int n)
{
	char *best = NULL;
	GString *g = g_string_new(NULL);
	for (int i = 0; i < n; i++) {
		if (i)
			g_string_append_c(g, ' ');
		g_string_append(g, words[i]);
		if (!is_group(g->str))
			break;
		g_free(best);
		best = g_strdup(g->str);
	}
	g_string_free(g, TRUE);
	return best;
}

static int parse_bool(const char *opt, const char *v, bool *out, HfError *err)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
		if (!g_ascii_strcasecmp(v, yes[i]))
			return *out = true, 0;
		if (!g_ascii_strcasecmp(v, no[i]))
			return *out = false, 0;
	}
	return usage_error(err, "%s: '%s' is not a boolean (true or false)", opt, v);
}

static bool choice_ok(const char *choices, const char *v)
{
	g_auto(GStrv) c = g_strsplit(choices, "|", -1);
	return g_strv_contains((const char *const *)c, v);
}

/* Convert one value to JSON by the parameter's type (strict integers, enum choices). */
static cJSON *param_value(const HfParam *p, const char *label, const char *v, HfError *err)
{
	switch (p->type) {
	case HF_PT_INT: {
		char *end = NULL;
		errno = 0;
		long long n = strtoll(v, &end, 10);
		if (!v[0] || g_ascii_isspace(v[0]) || v[0] == '+' || *end || errno) {
			usage_error(err, "%s: '%s' is not an integer", label, v);
			return NULL;
		}
		if ((p->min || p->max) && (n < p->min || n > p->max)) {
			usage_error(err, "%s: %lld is out of range (%lld..%lld)", label, n, p->min,
				    p->max);
			return NULL;
		}
		return cJSON_CreateNumber((double)n);
	}
	case HF_PT_ENUM:
		if (!choice_ok(p->choices, v)) {
			g_auto(GStrv) parts = g_strsplit(p->choices, "|", -1);
			g_autofree char *pretty = g_strjoinv(", ", parts);
			usage_error(err, "%s: '%s' is not one of: %s", label, v, pretty);
			return NULL;
		}
		return cJSON_CreateString(v);
	case HF_PT_BOOL: {
		bool b = false;
		if (parse_bool(label, v, &b, err) < 0)
			return NULL;
		return cJSON_CreateBool(b);
	}
	case HF_PT_STRING:
	case HF_PT_STRINGS:
		return cJSON_CreateString(v);
	case HF_PT_OBJECT: {
		cJSON *o = cJSON_Parse(v);
		if (!cJSON_IsObject(o)) {
			cJSON_Delete(o);
			usage_error(err, "%s: not a JSON object", label);
			return NULL;
		}
		return o;
	}
	}
	return NULL;
}

/* Set params[p->name] = v (arrays for HF_PT_STRINGS accumulate). */
static int set_param(Args *a, const HfParam *p, const char *label, const char *v, HfError *err)
{
	cJSON *item = param_value(p, label, v, err);
	cJSON *old = cJSON_GetObjectItemCaseSensitive(a->params, p->name);

	if (!item)
		return -1;
	if (p->type == HF_PT_STRINGS) {
		if (!old)
			old = cJSON_AddArrayToObject(a->params, p->name);
		cJSON_AddItemToArray(old, item);
		return 0;
	}
	if (old) {
		cJSON_Delete(item);
		return usage_error(err, "%s given twice", label);
	}
	cJSON_AddItemToObject(a->params, p->name, item);
	return 0;
}

/* Find a method parameter from an option name without dashes; "no-x" for a bool x. */
static const HfParam *find_option(const HfMethod *m, const char *name, bool *negated)
{
	g_autofree char *key = g_strdelimit(g_strdup(name), "-", '_');
	const HfParam *p = methods_param(m, key);

	*negated = false;
	if (p || strncmp(key, "no_", 3))
		return p;
	p = methods_param(m, key + 3);
	if (p && p->type == HF_PT_BOOL) {
		*negated = true;
		return p;
	}
	return NULL;
}

static int method_option(int argc, char **argv, int *i, Args *a, HfError *err)
{
	const char *s = argv[*i];
	const char *eq = strchr(s, '=');
	g_autofree char *name = eq ? g_strndup(s + 2, (gsize)(eq - s - 2)) : g_strdup(s + 2);
	bool negated = false;
	const HfParam *p = s[1] == '-' ? find_option(a->method, name, &negated) : NULL;

	if (!p) {
		int rc = global_option(argc, argv, i, a, err);
		if (rc != 0)
			return rc;
		return usage_error(err,
				   "unknown option '%s' for `holdfast %s` (see `holdfast help %s`)",
				   s, a->method->command, a->method->command);
	}
	g_autofree char *label = args_option_name(p);
	if (p->type == HF_PT_BOOL && !eq) {
		if (cJSON_GetObjectItemCaseSensitive(a->params, p->name))
			return usage_error(err, "%s given twice", label);
		cJSON_AddBoolToObject(a->params, p->name, !negated);
		return 0;
	}
	if (negated)
		return usage_error(err, "--%s takes no value", name);
	if (eq)
		return set_param(a, p, label, eq + 1, err);
	if (*i + 1 >= argc) {
		g_autofree char *mv = args_metavar(p);
		return usage_error(err, "%s needs a value (%s)", label, mv);
	}
	return set_param(a, p, label, argv[++*i], err);
}

/* Assign positionals to the HF_P_POSITIONAL params in table order; a HF_PT_STRINGS one takes
 * what the positionals after it leave over. */
static int assign_positionals(Args *a, GPtrArray *pos, HfError *err)
{
	const HfParam *ps[64];
	guint np = 0, k = 0;

	for (const HfParam *p = a->method->params; p->name && np < G_N_ELEMENTS(ps); p++)
		if (p->flags & HF_P_POSITIONAL)
			ps[np++] = p;
	for (guint j = 0; j < np; j++) {
		const HfParam *p = ps[j];
		g_autofree char *label = args_metavar(p);
		if (p->type == HF_PT_STRINGS) {
			guint after = np - j - 1;
			while (k < pos->len && pos->len - k > after)
				if (set_param(a, p, label, pos->pdata[k++], err) < 0)
					return -1;
			continue;
		}
		if (k >= pos->len)
			break;
		if (set_param(a, p, label, pos->pdata[k++], err) < 0)
			return -1;
	}
	if (k < pos->len)
		return usage_error(err, "unexpected argument '%s'", (const char *)pos->pdata[k]);
	return 0;
}

static int check_required(const Args *a, HfError *err)
{
	for (const HfParam *p = a->method->params; p->name; p++) {
		if (!(p->flags & HF_P_REQUIRED) ||
		    cJSON_GetObjectItemCaseSensitive(a->params, p->name))
			continue;
		g_autofree char *mv = args_metavar(p);
		if (p->flags & HF_P_POSITIONAL)
			return usage_error(err, "missing %s (%s)", mv, p->help);
		g_autofree char *opt = args_option_name(p);
		return usage_error(err, "missing %s %s (%s)", opt, mv, p->help);
	}
	return 0;
}

/* The words after the command: its options and positionals, and global options. */
static int parse_method_args(int argc, char **argv, int i, Args *a, HfError *err)
{
	g_autoptr(GPtrArray) pos = g_ptr_array_new();
	bool dashdash = false;

	a->params = cJSON_CreateObject();
	for (; i < argc; i++) {
		if (!dashdash && !strcmp(argv[i], "--"))
			dashdash = true;
		else if (!dashdash && is_option(argv[i])) {
			if (method_option(argc, argv, &i, a, err) < 0)
				return -1;
		} else
			g_ptr_array_add(pos, argv[i]);
	}
	if (a->action == ARGS_HELP)
		return 0;
	if (a->csv && a->json)
		return usage_error(err, "--csv and --json exclude each other");
	if (a->csv && strcmp(a->method->name, ARGS_CSV_METHOD))
		return usage_error(err, "--csv is only for `holdfast %s`",
				   methods_find(ARGS_CSV_METHOD)->command);
	if (assign_positionals(a, pos, err) < 0 || check_required(a, err) < 0)
		return -1;
	return methods_validate(a->method, a->params, err);
}

/* Words after `help` or `completion`, with global options allowed among them. */
static int collect_words(int argc, char **argv, int i, Args *a, GPtrArray *words, HfError *err)
{
	for (; i < argc; i++) {
		if (is_option(argv[i])) {
			int rc = global_option(argc, argv, &i, a, err);
			if (rc < 0)
				return -1;
			if (rc == 0)
				return usage_error(err, "unknown option '%s'", argv[i]);
		} else
			g_ptr_array_add(words, argv[i]);
	}
	return 0;
}

static int parse_help(int argc, char **argv, int i, Args *a, HfError *err)
{
	g_autoptr(GPtrArray) w = g_ptr_array_new();
	int used = 0;

	a->action = ARGS_HELP;
	if (collect_words(argc, argv, i, a, w, err) < 0)
		return -1;
	a->action = ARGS_HELP; /* `help --help` is still help */
	if (!w->len)
		return 0;
	a->method = methods_find_command((const char *const *)w->pdata, (int)w->len, &used);
	if (a->method && used == (int)w->len)
		return 0;
	a->method = NULL;
	g_ptr_array_add(w, NULL);
	g_autofree char *words = g_strjoinv(" ", (char **)w->pdata);
	if (is_group(words)) {
		a->group = g_steal_pointer(&words);
		return 0;
	}
	return usage_error(err, "no command '%s' (see `holdfast help`)", words);
}

static int parse_completion(int argc, char **argv, int i, Args *a, HfError *err)
{
	g_autoptr(GPtrArray) w = g_ptr_array_new();

	a->action = ARGS_COMPLETION;
	if (collect_words(argc, argv, i, a, w, err) < 0)
		return -1;
	if (a->action == ARGS_HELP)
		return 0;
	if (w->len != 1 || strcmp(w->pdata[0], "bash"))
		return usage_error(err, "usage: holdfast completion bash (only bash is supported)");
	return 0;
}

int args_parse(int argc, char **argv, Args *a, HfError *err)
{
	int i = 1, n = 0, used = 0;

	memset(a, 0, sizeof *a);
	a->action = ARGS_RUN;
	/* global options before the command */
	for (; i < argc && is_option(argv[i]); i++) {
		if (!strcmp(argv[i], "--version")) {
			a->action = ARGS_VERSION;
			continue;
		}
		int rc = global_option(argc, argv, &i, a, err);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return usage_error(err,
					   "unknown option '%s' (a command's options go after it; "
					   "see `holdfast help`)",
					   argv[i]);
	}
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	if (i >= argc) {
		if (a->action == ARGS_RUN)
			return usage_error(err, "no command given (see `holdfast help`)");
		return 0;
	}
	if (a->action == ARGS_VERSION)
		return usage_error(err, "--version takes no command");
	if (!strcmp(argv[i], "help"))
		return parse_help(argc, argv, i + 1, a, err);
	if (!strcmp(argv[i], "completion"))
		return parse_completion(argc, argv, i + 1, a, err);

	while (i + n < argc && !is_option(argv[i + n]) && strcmp(argv[i + n], "--"))
		n++;
	a->method = methods_find_command((const char *const *)argv + i, n, &used);
	if (!a->method) {
		a->group = longest_group(argv + i, n);
		/* `holdfast snapshot --help` asks for the group's help */
		for (int j = i; j < argc; j++)
			if (!strcmp(argv[j], "-h") || !strcmp(argv[j], "--help"))
				a->action = ARGS_HELP;
		if (a->group && a->action == ARGS_HELP)
			return 0;
		if (a->group) {
			int gw = 1;
			for (const char *c = a->group; *c; c++)
				gw += *c == ' ';
			if (gw < n)
				return usage_error(
				    err, "unknown command '%s %s' (see `holdfast help %s`)",
				    a->group, argv[i + gw], a->group);
			return usage_error(err, "'%s' needs a subcommand (see `holdfast help %s`)",
					   a->group, a->group);
		}
		return usage_error(err, "unknown command '%s' (see `holdfast help`)", argv[i]);
	}
	/* -h/--help after the command words wins over any error in the other words */
	for (int j = i + used; j < argc && strcmp(argv[j], "--"); j++)
		if (!strcmp(argv[j], "-h") || !strcmp(argv[j], "--help")) {
			a->action = ARGS_HELP;
			return 0;
		}
	return parse_method_args(argc, argv, i + used, a, err);
}
