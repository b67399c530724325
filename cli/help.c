/* help.c - usage, help and bash completion generated from the method table. */
#include "help.h"

#include <glib.h>
#include <string.h>

#include "args.h"

#define HELP_WIDTH 100
#define HELP_COL 24
#define HELP_COL_COMMANDS 34

/* Append `text` word-wrapped to HELP_WIDTH, continuation lines indented by `indent`; the first
 * line starts at column `col` (already written). */
static void wrap(GString *out, const char *text, size_t col, size_t indent)
{
	g_auto(GStrv) words = g_strsplit(text, " ", -1);
	size_t at = col;
	bool first = true;

	for (char **w = words; *w; w++) {
		size_t len = strlen(*w);
		if (!len)
			continue;
		if (!first && at + 1 + len > HELP_WIDTH) {
			g_string_append_c(out, '\n');
			for (size_t i = 0; i < indent; i++)
				g_string_append_c(out, ' ');
			at = indent;
		} else if (!first) {
			g_string_append_c(out, ' ');
			at++;
		}
		g_string_append(out, *w);
		at += len;
		first = false;
	}
	g_string_append_c(out, '\n');
}

/* "  TERM<pad>help text" with the help wrapped in a second column starting at `col`. */
static void item_at(GString *out, size_t col, const char *term, const char *text)
{
	size_t n = strlen(term) + 2;
	g_string_append_printf(out, "  %s", term);
	if (n + 2 > col)
		g_string_append_printf(out, "\n%*s", (int)col, "");
	else
		g_string_append_printf(out, "%*s", (int)(col - n), "");
	wrap(out, text, col, col);
}

static void item(GString *out, const char *term, const char *text)
{
	item_at(out, HELP_COL, term, text);
}

static char *choices_list(const char *choices, const char *sep)
{
	g_auto(GStrv) c = g_strsplit(choices, "|", -1);
	return g_strjoinv(sep, c);
}

/* The option form of a parameter: "--force", "--quiesce no|yes|try", "--name NAME". */
static char *option_form(const HfParam *p)
{
	g_autofree char *opt = args_option_name(p);
	g_autofree char *mv = args_metavar(p);
	if (p->type == HF_PT_BOOL)
		return g_strdup(opt);
	if (p->type == HF_PT_ENUM && p->choices)
		return g_strdup_printf("%s %s", opt, p->choices);
	return g_strdup_printf("%s %s", opt, mv);
}

/* The usage words of a method: positionals, then options, then the global ones. */
static GPtrArray *usage_tokens(const HfMethod *m)
{
	GPtrArray *t = g_ptr_array_new_with_free_func(g_free);
	for (const HfParam *p = m->params; p->name; p++) {
		if (!(p->flags & HF_P_POSITIONAL))
			continue;
		g_autofree char *mv = args_metavar(p);
		const char *more = p->type == HF_PT_STRINGS ? "..." : "";
		if (p->flags & HF_P_REQUIRED)
			g_ptr_array_add(t, g_strdup_printf("%s%s", mv, more));
		else
			g_ptr_array_add(t, g_strdup_printf("[%s%s]", mv, more));
	}
	for (const HfParam *p = m->params; p->name; p++) {
		if (p->flags & HF_P_POSITIONAL)
			continue;
		g_autofree char *f = option_form(p);
		const char *more = p->type == HF_PT_STRINGS ? "..." : "";
		if (p->flags & HF_P_REQUIRED)
			g_ptr_array_add(t, g_strdup_printf("%s%s", f, more));
		else
			g_ptr_array_add(t, g_strdup_printf("[%s]%s", f, more));
	}
	if (m->job)
		g_ptr_array_add(t, g_strdup("[--no-wait]"));
	g_ptr_array_add(t, g_strdup("[--json]"));
	return t;
}

char *help_usage(const HfMethod *m)
{
	GString *s = g_string_new("usage: holdfast ");
	g_autoptr(GPtrArray) t = usage_tokens(m);
	size_t indent, at;

	g_string_append(s, m->command);
	indent = at = s->len;
	for (guint i = 0; i < t->len; i++) {
		size_t len = strlen(t->pdata[i]);
		if (at > indent && at + 1 + len > HELP_WIDTH) {
			g_string_append_printf(s, "\n%*s", (int)indent, "");
			at = indent;
		}
		g_string_append_printf(s, " %s", (const char *)t->pdata[i]);
		at += len + 1;
	}
	g_string_append_c(s, '\n');
	return g_string_free(s, FALSE);
}

static char *param_text(const HfParam *p)
{
	GString *t = g_string_new(p->help);
	if (p->type == HF_PT_ENUM && p->choices) {
		g_autofree char *c = choices_list(p->choices, ", ");
		g_string_append_printf(t, "; one of: %s", c);
	}
	if (p->type == HF_PT_INT && p->max >= (1LL << 53))
		g_string_append_printf(t, "; an integer from %lld", p->min);
	else if (p->type == HF_PT_INT && (p->min || p->max))
		g_string_append_printf(t, "; an integer %lld..%lld", p->min, p->max);
	else if (p->type == HF_PT_INT)
		g_string_append(t, "; an integer");
	if (p->type == HF_PT_STRINGS && !(p->flags & HF_P_POSITIONAL))
		g_string_append(t, "; may be repeated");
	if ((p->flags & HF_P_REQUIRED) && !(p->flags & HF_P_POSITIONAL))
		g_string_append(t, " (required)");
	return g_string_free(t, FALSE);
}

char *help_command(const HfMethod *m)
{
	GString *s = g_string_new(NULL);
	g_autofree char *usage = help_usage(m);
	bool any = false;

	g_string_append(s, usage);
	g_string_append_c(s, '\n');
	wrap(s, m->summary, 0, 0);
	for (const HfParam *p = m->params; p->name; p++) {
		if (!(p->flags & HF_P_POSITIONAL))
			continue;
		if (!any)
			g_string_append(s, "\narguments:\n");
		any = true;
		g_autofree char *mv = args_metavar(p);
		g_autofree char *t = param_text(p);
		item(s, mv, t);
	}
	g_string_append(s, "\noptions:\n");
	for (const HfParam *p = m->params; p->name; p++) {
		if (p->flags & HF_P_POSITIONAL)
			continue;
		g_autofree char *opt = args_option_name(p);
		g_autofree char *mv = args_metavar(p);
		g_autofree char *term =
		    p->type == HF_PT_BOOL ? g_strdup(opt) : g_strdup_printf("%s %s", opt, mv);
		g_autofree char *t = param_text(p);
		item(s, term, t);
	}
	if (m->job)
		item(s, "--no-wait",
		     "print the job id and return at once instead of following the job");
	item(s, "--json", "print the result as one JSON document");
	if (!strcmp(m->name, "check.run"))
		item(s, "--csv", "print RFC 4180 CSV with a header row (asset inventories)");
	item(s, "--socket PATH", "holdfastd's socket (also $" ARGS_SOCKET_ENV ")");
	g_autofree char *role = g_strdup_printf(
	    "API method %s; allowed for %s%s.", m->name,
	    m->role == HF_ROLE_ADMIN ? "root and holdfastd's admin group"
				     : "root and holdfastd's admin and read-only groups",
	    m->job ? "; runs as a job, which holdfast follows to its end unless --no-wait" : "");
	g_string_append_c(s, '\n');
	wrap(s, role, 0, 0);
	return g_string_free(s, FALSE);
}

char *help_general(const char *group)
{
	GString *s = g_string_new(NULL);
	size_t glen = group ? strlen(group) : 0;

	if (group)
		g_string_append_printf(s, "usage: holdfast %s COMMAND [ARGS]\n\n%s commands:\n",
				       group, group);
	else
		g_string_append(
		    s, "usage: holdfast [--socket PATH] [--json | --csv] [--no-wait] COMMAND [ARGS]\n\n"
		       "holdfast drives holdfastd, which keeps legacy Windows Server 2008 "
		       "guests safe:\nsnapshots, jobs and inventory on KVM and Hyper-V "
		       "hosts.\n\ncommands:\n");
	for (size_t i = 0; i < methods_count; i++) {
		const HfMethod *m = &methods_table[i];
		if (group && (strncmp(m->command, group, glen) || m->command[glen] != ' '))
			continue;
		GString *term = g_string_new(m->command);
		for (const HfParam *p = m->params; p->name; p++)
			if ((p->flags & HF_P_POSITIONAL) && (p->flags & HF_P_REQUIRED)) {
				g_autofree char *mv = args_metavar(p);
				g_string_append_printf(term, " %s", mv);
			}
		item_at(s, HELP_COL_COMMANDS, term->str, m->summary);
		g_string_free(term, TRUE);
	}
	if (group) {
		g_string_append_printf(s, "\nSee `holdfast help %s COMMAND` for one command.\n",
				       group);
		return g_string_free(s, FALSE);
	}
	item_at(s, HELP_COL_COMMANDS, "help [COMMAND]", "this text, or the usage of one command");
	item_at(s, HELP_COL_COMMANDS, "completion bash",
		"print a bash completion script (e.g. holdfast completion bash > "
		"/etc/bash_completion.d/holdfast)");
	g_string_append(s, "\nglobal options (before or after the command):\n");
	item(s, "--socket PATH",
	     "holdfastd's socket (default: $" ARGS_SOCKET_ENV ", else " ARGS_DEFAULT_SOCKET ")");
	item(s, "--json",
	     "print one JSON document for scripts: the result, the final job, or the error");
	item(s, "--no-wait", "for commands that start a job: print the job id and return");
	item(s, "--csv", "check only: RFC 4180 CSV with a header row, for asset inventories");
	item(s, "-h, --help", "help for holdfast or for one command");
	item(s, "--version", "print the version of this holdfast");
	g_string_append(s, "\nexit codes:\n");
	item_at(s, 5, "0", "ok");
	item_at(s, 5, "1", "the operation or its job failed");
	item_at(s, 5, "2", "usage: bad command line or parameters");
	item_at(s, 5, "3", "holdfastd is not reachable on its socket");
	item_at(s, 5, "4", "guest, snapshot or job not found");
	item_at(s, 5, "5", "permission denied");
	g_string_append(s,
			"\nSee `holdfast help COMMAND` for a command's arguments and options.\n");
	return g_string_free(s, FALSE);
}

char *help_completion_bash(void)
{
	GString *s = g_string_new(NULL);
	GString *valopts = g_string_new(" --socket ");

	g_string_append(s,
			"# bash completion for holdfast (generated by `holdfast completion bash`)\n"
			"_holdfast()\n{\n"
			"\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
			"\tlocal globals=\"--socket --json --no-wait --help --version\"\n"
			"\tlocal cmds=(");
	for (size_t i = 0; i < methods_count; i++)
		g_string_append_printf(s, "%s\"%s\"", i ? " " : "", methods_table[i].command);
	g_string_append(s, ")\n");

	/* options that take a value, to skip their values when finding the command */
	for (size_t i = 0; i < methods_count; i++)
		for (const HfParam *p = methods_table[i].params; p->name; p++) {
			if (p->type == HF_PT_BOOL || (p->flags & HF_P_POSITIONAL))
				continue;
			g_autofree char *opt = args_option_name(p);
			g_autofree char *pat = g_strdup_printf(" %s ", opt);
			if (!strstr(valopts->str, pat))
				g_string_append_printf(valopts, "%s ", opt);
		}
	g_string_append_printf(s, "\tlocal valopts=\"%s\"\n", valopts->str);
	g_string_free(valopts, TRUE);

	g_string_append(
	    s,
	    "\tlocal words=\"\" i w\n"
	    "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	    "\t\tw=${COMP_WORDS[i]}\n"
	    "\t\tif [[ $valopts == *\" $w \"* ]]; then ((i++)); continue; fi\n"
	    "\t\t[[ $w == -* ]] && continue\n"
	    "\t\twords=\"${words:+$words }$w\"\n"
	    "\tdone\n"
	    "\tif [[ $prev == --socket ]]; then COMPREPLY=($(compgen -f -- \"$cur\")); return; fi\n"
	    "\tif [[ $words == help || $words == \"help \"* ]]; then words=${words#help}; "
	    "words=${words# }; fi\n"
	    "\tlocal c found=\"\"\n"
	    "\tfor c in \"${cmds[@]}\"; do\n"
	    "\t\tif [[ \"$words \" == \"$c \"* && ${#c} -gt ${#found} ]]; then found=$c; fi\n"
	    "\tdone\n"
	    "\tif [[ -z $found ]]; then\n"
	    "\t\tlocal cands=\"\" rest\n"
	    "\t\t[[ -z $words ]] && cands=\"help completion\"\n"
	    "\t\t[[ $words == completion ]] && cands=\"bash\"\n"
	    "\t\tfor c in \"${cmds[@]}\"; do\n"
	    "\t\t\tif [[ -z $words ]]; then rest=$c\n"
	    "\t\t\telif [[ $c == \"$words \"* ]]; then rest=${c#\"$words \"}\n"
	    "\t\t\telse continue; fi\n"
	    "\t\t\tcands=\"$cands ${rest%% *}\"\n"
	    "\t\tdone\n"
	    "\t\t[[ $cur == -* ]] && cands=$globals\n"
	    "\t\tCOMPREPLY=($(compgen -W \"$cands\" -- \"$cur\"))\n"
	    "\t\treturn\n"
	    "\tfi\n"
	    "\tlocal opts=\"\"\n"
	    "\tcase \"$found:$prev\" in\n");
	for (size_t i = 0; i < methods_count; i++)
		for (const HfParam *p = methods_table[i].params; p->name; p++) {
			if (p->type != HF_PT_ENUM || !p->choices || (p->flags & HF_P_POSITIONAL))
				continue;
			g_autofree char *opt = args_option_name(p);
			g_autofree char *c = choices_list(p->choices, " ");
			g_string_append_printf(s,
					       "\t\"%s:%s\") COMPREPLY=($(compgen -W \"%s\" -- "
					       "\"$cur\")); return;;\n",
					       methods_table[i].command, opt, c);
		}
	g_string_append(s, "\tesac\n"
			   "\t[[ $valopts == *\" $prev \"* ]] && return\n"
			   "\tcase $found in\n");
	for (size_t i = 0; i < methods_count; i++) {
		const HfMethod *m = &methods_table[i];
		g_string_append_printf(s, "\t\"%s\") opts=\"", m->command);
		bool first = true;
		for (const HfParam *p = m->params; p->name; p++) {
			if (p->flags & HF_P_POSITIONAL)
				continue;
			g_autofree char *opt = args_option_name(p);
			g_string_append_printf(s, "%s%s", first ? "" : " ", opt);
			if (p->type == HF_PT_BOOL)
				g_string_append_printf(s, " --no-%s", opt + 2);
			first = false;
		}
		g_string_append(s, "\";;\n");
	}
	g_string_append(s, "\tesac\n"
			   "\tif [[ $cur == -* ]]; then\n"
			   "\t\tCOMPREPLY=($(compgen -W \"$opts $globals\" -- \"$cur\"))\n"
			   "\tfi\n"
			   "}\n"
			   "complete -F _holdfast holdfast\n");
	return g_string_free(s, FALSE);
}
