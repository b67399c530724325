/* control.c - runtime switches: drop, malformed, quota, timeout, failing and slow jobs. */
#include "control.h"

#include <stdlib.h>
#include <string.h>

bool ctl_fire(SimCountdown *cd, const char *op)
{
	if (cd->count == 0 || (cd->op && (!op || g_ascii_strcasecmp(cd->op, op) != 0)))
		return false;
	if (cd->count > 0)
		cd->count--;
	return true;
}

static bool parse_uint(const char *s, int *out)
{
	char *end = NULL;
	long v = s ? strtol(s, &end, 10) : -1;
	if (!s || !*s || *end || v < 0 || v > G_MAXINT)
		return false;
	*out = (int)v;
	return true;
}

static void countdown_set(SimCountdown *cd, int count, const char *op)
{
	cd->count = count;
	g_free(cd->op);
	cd->op = g_strdup(op);
}

static SimCountdown *countdown_named(SimKnobs *k, const char *name)
{
	static const struct {
		const char *name;
		size_t off;
	} names[] = {
	    {"drop", G_STRUCT_OFFSET(SimKnobs, drop)},
	    {"malformed", G_STRUCT_OFFSET(SimKnobs, malformed)},
	    {"quota", G_STRUCT_OFFSET(SimKnobs, quota)},
	    {"timeout", G_STRUCT_OFFSET(SimKnobs, timeout)},
	    {"fail-jobs", G_STRUCT_OFFSET(SimKnobs, fail_jobs)},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		if (strcmp(names[i].name, name) == 0)
			return G_STRUCT_MEMBER_P(k, names[i].off);
	return NULL;
}

static int *number_named(SimKnobs *k, const char *name)
{
	if (strcmp(name, "job-ms") == 0)
		return &k->job_ms;
	if (strcmp(name, "delay-ms") == 0)
		return &k->delay_ms;
	if (strcmp(name, "enum-expiry-ms") == 0)
		return &k->enum_expiry_ms;
	return NULL;
}

static void stats(SimState *st, GString *reply)
{
	g_string_append_printf(reply, "requests %u\njobs %u\nenumerations %u\n", st->requests,
			       st->jobs->len, g_hash_table_size(st->enums));
	g_autoptr(GList) ops = g_hash_table_get_keys(st->op_counts);
	ops = g_list_sort(ops, (GCompareFunc)g_strcmp0);
	for (GList *l = ops; l; l = l->next)
		g_string_append_printf(
		    reply, "op %s %u\n", (char *)l->data,
		    GPOINTER_TO_UINT(g_hash_table_lookup(st->op_counts, l->data)));
}

static const char help[] = "drop|malformed|quota|timeout|fail-jobs N|always|off [OPERATION]\n"
			   "job-ms MS | delay-ms MS | enum-expiry-ms MS\n"
			   "epr-wrapper on|off\n"
			   "vm-state VMNAME running|off|saved|paused\n"
			   "reset | stats | reset-stats | help\n";

static int vm_state(SimState *st, char **argv, GString *reply)
{
	static const char *const names[] = {"running", "off", "saved", "paused"};
	static const int values[] = {2, 3, 6, 9};
	SimVm *vm = argv[1] ? sim_vm_find_name(st, argv[1]) : NULL;
	for (size_t i = 0; vm && argv[2] && i < G_N_ELEMENTS(names); i++) {
		if (strcmp(argv[2], names[i]) == 0) {
			vm->state = values[i];
			vm->last_change = sim_now();
			return 0;
		}
	}
	g_string_append_printf(reply, "error: vm-state: unknown VM or state\n");
	return -1;
}

static int apply_line(SimState *st, char **argv, GString *reply)
{
	SimKnobs *k = &st->knobs;
	const char *cmd = argv[0];
	guint argc = g_strv_length(argv);
	SimCountdown *cd = countdown_named(k, cmd);
	int *num = number_named(k, cmd);
	int n = 0;

	if (cd && argc >= 2 && argc <= 3) {
		if (strcmp(argv[1], "always") == 0)
			n = -1;
		else if (strcmp(argv[1], "off") != 0 && !parse_uint(argv[1], &n))
			goto bad;
		countdown_set(cd, n, argc == 3 ? argv[2] : NULL);
	} else if (num && argc == 2 && parse_uint(argv[1], &n)) {
		*num = n;
	} else if (strcmp(cmd, "epr-wrapper") == 0 && argc == 2) {
		k->epr_wrapper = strcmp(argv[1], "on") == 0;
	} else if (strcmp(cmd, "vm-state") == 0 && argc == 3) {
		return vm_state(st, argv, reply);
	} else if (strcmp(cmd, "reset") == 0 && argc == 1) {
		for (const char *const *c = (const char *const[]){"drop", "malformed", "quota",
								  "timeout", "fail-jobs", NULL};
		     *c; c++)
			countdown_set(countdown_named(k, *c), 0, NULL);
		k->delay_ms = 0;
		k->epr_wrapper = false;
	} else if (strcmp(cmd, "stats") == 0 && argc == 1) {
		stats(st, reply);
		return 0;
	} else if (strcmp(cmd, "reset-stats") == 0 && argc == 1) {
		g_hash_table_remove_all(st->op_counts);
		st->requests = 0;
	} else if (strcmp(cmd, "help") == 0) {
		g_string_append(reply, help);
		return 0;
	} else {
		goto bad;
	}
	g_string_append(reply, "ok\n");
	return 0;
bad:
	g_string_append_printf(reply, "error: bad command '%s'; commands:\n%s", cmd, help);
	return -1;
}

int ctl_apply(SimState *st, const char *text, GString *reply)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		g_strstrip(lines[i]);
		if (!*lines[i] || lines[i][0] == '#')
			continue;
		g_auto(GStrv) argv = g_strsplit_set(lines[i], " \t", -1);
		/* squeeze empty fields from repeated blanks */
		guint w = 0;
		for (guint r = 0; argv[r]; r++) {
			if (*argv[r])
				argv[w++] = argv[r];
			else
				g_free(argv[r]);
		}
		argv[w] = NULL;
		if (apply_line(st, argv, reply) < 0)
			return -1;
	}
	return 0;
}
