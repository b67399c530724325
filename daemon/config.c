/* config.c - the holdfastd.conf parser and validator. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <string.h>

#include "drivers/driver.h"
#include "drstore.h"
#include "log.h"
#include "policy.h"

#define CONFIG_MAX_BYTES (1024 * 1024)

typedef struct {
	const char *file;
	int line;
	const char *section; /* "daemon" or "host NAME" */
	GHashTable *seen;    /* "section\nkey" of keys already given */
	Policy *policy;      /* the [policy NAME] being read, else NULL */
	DrStore *drstore;    /* the [drstore NAME] being read, else NULL */
	HfError *err;
} Ctx;

static int fail(Ctx *c, const char *key, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static int fail(Ctx *c, const char *key, const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (key)
		return error_set(c->err, HF_ERR_CONFIG, "%s:%d: [%s] %s: %s", c->file, c->line,
				 c->section, key, msg);
	return error_set(c->err, HF_ERR_CONFIG, "%s:%d: %s", c->file, c->line, msg);
}

static int parse_int(Ctx *c, const char *key, const char *v, int lo, int hi, int *out)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi)
		return fail(c, key, "'%s' is not a whole number in %d..%d", v, lo, hi);
	*out = (int)n;
	return 0;
}

static int parse_group(Ctx *c, const char *key, const char *v, char **name, gid_t *gid)
{
	struct group gr, *res = NULL;
	char buf[16384];
	if (!*v) {
		g_clear_pointer(name, g_free);
		return 0;
	}
	if (getgrnam_r(v, &gr, buf, sizeof buf, &res) != 0 || !res)
		return fail(c, key,
			    "group '%s' does not exist; create it (groupadd %s) or change the "
			    "setting",
			    v, v);
	g_free(*name);
	*name = g_strdup(v);
	*gid = res->gr_gid;
	return 0;
}

/* The build check's keys (daemon/checks.c) and its default policy. */
static int check_key(Ctx *c, HfConfig *cfg, const char *key, const char *v)
{
	if (!strcmp(key, "check-interval"))
		return parse_int(c, key, v, 0, 30 * 86400, &cfg->check_interval);
	if (!strcmp(key, "check-timeout"))
		return parse_int(c, key, v, 1, 600, &cfg->check_timeout);
	if (!strcmp(key, "check-parallel"))
		return parse_int(c, key, v, 1, 64, &cfg->check_parallel);
	if (!strcmp(key, "check-require-build"))
		return parse_int(c, key, v, 0, 65535, &cfg->check_require_build);
	if (!strcmp(key, "check-min-esu-year"))
		return parse_int(c, key, v, 0, 3, &cfg->check_min_esu_year);
	if (!strcmp(key, "check-max-patch-age"))
		return parse_int(c, key, v, -1, 1200, &cfg->check_max_patch_age);
	if (!strcmp(key, "check-fail-on")) {
		static const char *const names[] = {"none", "attention", "critical"};
		for (int i = 0; i < 3; i++)
			if (!strcmp(v, names[i])) {
				cfg->check_fail_on = i == 0 ? -1 : i; /* BcStatus 1, 2 */
				return 0;
			}
		return fail(c, key, "'%s' is not one of none, attention, critical", v);
	}
	return fail(c, key,
		    "unknown build-check key (known: check-interval, check-timeout, "
		    "check-parallel, check-require-build, check-min-esu-year, "
		    "check-max-patch-age, check-fail-on)");
}

static int daemon_key(Ctx *c, HfConfig *cfg, const char *key, const char *v)
{
	if (!strcmp(key, "socket") || !strcmp(key, "state-dir")) {
		if (v[0] != '/')
			return fail(c, key, "'%s' must be an absolute path", v);
		char **dst = !strcmp(key, "socket") ? &cfg->socket : &cfg->state_dir;
		g_free(*dst);
		*dst = g_strdup(v);
		return 0;
	}
	if (!strcmp(key, "log-level")) {
		cfg->log_level = log_level_parse(v);
		return cfg->log_level < 0 ? fail(c, key, "'%s' is not one of error, warning, "
							 "info, debug", v)
					  : 0;
	}
	if (!strcmp(key, "admin-group"))
		return parse_group(c, key, v, &cfg->admin_group, &cfg->admin_gid);
	if (!strcmp(key, "readonly-group"))
		return parse_group(c, key, v, &cfg->readonly_group, &cfg->readonly_gid);
	if (!strcmp(key, "max-jobs-per-host"))
		return parse_int(c, key, v, 1, 64, &cfg->max_jobs_per_host);
	if (!strcmp(key, "shutdown-timeout"))
		return parse_int(c, key, v, 0, 3600, &cfg->shutdown_timeout);
	if (!strcmp(key, "agent-timeout"))
		return parse_int(c, key, v, 1, 600, &cfg->agent_timeout);
	if (g_str_has_prefix(key, "check-"))
		return check_key(c, cfg, key, v);
	return fail(c, key, "unknown key (known: socket, state-dir, log-level, admin-group, "
			    "readonly-group, max-jobs-per-host, shutdown-timeout, agent-timeout, "
			    "check-interval, check-timeout, check-parallel, check-require-build, "
			    "check-min-esu-year, check-max-patch-age, check-fail-on)");
}

static int host_key(Ctx *c, CfgHost *h, const char *key, const char *v)
{
	if (!strcmp(key, "uri")) {
		bool ok = false;
		for (size_t i = 0; drv_all[i]; i++)
			ok = ok || drv_all[i]->probe(v);
		if (!*v || !ok)
			return fail(c, key, "'%s' is not a hypervisor URI this build can open", v);
		if (g_str_has_prefix(v, "test:///") && strcmp(v, "test:///default") &&
		    !g_file_test(v + 7, G_FILE_TEST_IS_REGULAR))
			return fail(c, key, "test driver file '%s' does not exist", v + 7);
		g_free(h->uri);
		h->uri = g_strdup(v);
		return 0;
	}
	if (!strcmp(key, "guests")) {
		g_clear_pointer(&h->globs, g_strfreev);
		g_clear_pointer(&h->tag, g_free);
		if (!strcmp(v, "all") || !*v)
			return 0;
		if (g_str_has_prefix(v, "tag:")) {
			if (!v[4])
				return fail(c, key, "tag: needs a tag name (guests = tag:NAME)");
			h->tag = g_strdup(v + 4);
			return 0;
		}
		h->globs = g_strsplit_set(v, ", ", -1);
		/* drop empty words from repeated separators */
		char **o = h->globs;
		for (char **p = h->globs; *p; p++)
			if (**p)
				*o++ = *p;
			else
				g_free(*p);
		*o = NULL;
		return 0;
	}
	if (!strcmp(key, "max-jobs"))
		return parse_int(c, key, v, 1, 64, &h->max_jobs);
	/* Anything else belongs to the driver; checked once the uri is known. */
	g_hash_table_replace(h->options, g_strdup(key), g_strdup(v));
	g_ptr_array_add(h->option_keys, g_strdup(key));
	g_array_append_val(h->option_lines, c->line);
	return 0;
}

static int host_check_options(const char *path, CfgHost *h, HfError *err)
{
	const DrvDriver *d = drv_for_uri(h->uri);
	for (guint i = 0; i < h->option_keys->len; i++) {
		const char *k = h->option_keys->pdata[i];
		int line = g_array_index(h->option_lines, int, i);
		HfError e = {0};
		if (!d->config_key)
			return error_set(err, HF_ERR_CONFIG,
					 "%s:%d: [host %s] %s: unknown key (known: uri, guests, "
					 "max-jobs)",
					 path, line, h->name, k);
		if (d->config_key(k, g_hash_table_lookup(h->options, k), &e) < 0)
			return error_set(err, HF_ERR_CONFIG, "%s:%d: [host %s] %s: %s", path, line,
					 h->name, k, e.message);
	}
	return 0;
}

static void host_free(CfgHost *h)
{
	g_free(h->name);
	g_free(h->uri);
	g_strfreev(h->globs);
	g_free(h->tag);
	g_hash_table_unref(h->options);
	g_array_unref(h->option_lines);
	g_ptr_array_unref(h->option_keys);
	g_free(h);
}

void config_free(HfConfig *cfg)
{
	if (!cfg)
		return;
	g_free(cfg->path);
	g_free(cfg->socket);
	g_free(cfg->state_dir);
	g_free(cfg->admin_group);
	g_free(cfg->readonly_group);
	g_ptr_array_unref(cfg->hosts);
	if (cfg->policies)
		g_ptr_array_unref(cfg->policies);
	if (cfg->drstores)
		g_ptr_array_unref(cfg->drstores);
	g_free(cfg);
}

static bool valid_name(const char *s)
{
	if (!*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!g_ascii_isalnum(*s) && *s != '-' && *s != '_' && *s != '.')
			return false;
	return true;
}

static int policy_section(Ctx *c, HfConfig *cfg, const char *name)
{
	if (!valid_name(name))
		return fail(c, NULL, "[policy %s]: policy name must be 1-64 letters, digits, '-', '_' "
				     "or '.'", name);
	for (guint i = 0; i < cfg->policies->len; i++)
		if (!strcmp(((Policy *)cfg->policies->pdata[i])->name, name))
			return fail(c, NULL, "[policy %s] is defined twice", name);
	c->policy = policy_new(name, c->line);
	g_ptr_array_add(cfg->policies, c->policy);
	return 0;
}

static int policy_key(Ctx *c, const char *key, const char *v)
{
	HfError e = {0};
	if (policy_set(c->policy, key, v, c->line, &e) < 0)
		return fail(c, key, "%s", e.message);
	return 0;
}

static int drstore_section(Ctx *c, HfConfig *cfg, const char *name)
{
	if (!valid_name(name))
		return fail(c, NULL, "[drstore %s]: store name must be 1-64 letters, digits, '-', "
				     "'_' or '.'", name);
	for (guint i = 0; i < cfg->drstores->len; i++)
		if (!strcmp(((DrStore *)cfg->drstores->pdata[i])->name, name))
			return fail(c, NULL, "[drstore %s] is defined twice", name);
	c->drstore = drstore_new(name, c->line);
	g_ptr_array_add(cfg->drstores, c->drstore);
	return 0;
}

static int section_line(Ctx *c, HfConfig *cfg, char *line, CfgHost **host, char **sect)
{
	char *end = strchr(line, ']');
	if (!end || end[1])
		return fail(c, NULL, "malformed section header '%s'", line);
	*end = '\0';
	g_free(*sect);
	*sect = g_strdup(g_strstrip(line + 1));
	c->section = *sect;
	*host = NULL;
	c->policy = NULL;
	c->drstore = NULL;
	if (!strcmp(*sect, "daemon"))
		return 0;
	if (g_str_has_prefix(*sect, "host ")) {
		const char *name = g_strstrip(*sect + 5);
		if (!valid_name(name))
			return fail(c, NULL,
				    "[%s]: host name must be 1-64 letters, digits, '-', '_' or '.'",
				    *sect);
		if (config_host(cfg, name))
			return fail(c, NULL, "[host %s] is defined twice", name);
		CfgHost *h = g_new0(CfgHost, 1);
		h->name = g_strdup(name);
		h->line = c->line;
		h->options = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
		h->option_lines = g_array_new(FALSE, FALSE, sizeof(int));
		h->option_keys = g_ptr_array_new_with_free_func(g_free);
		g_ptr_array_add(cfg->hosts, h);
		*host = h;
		return 0;
	}
	if (g_str_has_prefix(*sect, "policy "))
		return policy_section(c, cfg, g_strstrip(*sect + 7));
	if (g_str_has_prefix(*sect, "drstore "))
		return drstore_section(c, cfg, g_strstrip(*sect + 8));
	return fail(c, NULL, "unknown section [%s] (known: [daemon], [host NAME], [policy NAME], "
			     "[drstore NAME])", *sect);
}

static int parse_line(Ctx *c, HfConfig *cfg, char *line, CfgHost **host, char **sect)
{
	g_strstrip(line);
	if (!*line || *line == '#' || *line == ';')
		return 0;
	if (*line == '[')
		return section_line(c, cfg, line, host, sect);
	char *eq = strchr(line, '=');
	if (!eq)
		return fail(c, NULL, "'%s' is not 'key = value', a [section] or a comment", line);
	*eq = '\0';
	char *key = g_strstrip(line), *val = g_strstrip(eq + 1);
	if (!*sect)
		return fail(c, NULL, "key '%s' outside any section; put it under [daemon]", key);
	g_autofree char *id = g_strdup_printf("%s\n%s", *sect, key);
	if (g_hash_table_contains(c->seen, id))
		return fail(c, key, "given twice in this section");
	g_hash_table_add(c->seen, g_steal_pointer(&id));
	if (c->policy)
		return policy_key(c, key, val);
	if (c->drstore) {
		HfError e = {0};
		return drstore_set(c->drstore, key, val, &e) < 0 ? fail(c, key, "%s", e.message) : 0;
	}
	return *host ? host_key(c, *host, key, val) : daemon_key(c, cfg, key, val);
}

static int parse_text(Ctx *c, HfConfig *cfg, char *text)
{
	g_autofree char *sect = NULL;
	CfgHost *host = NULL;
	char *line = text;

	for (c->line = 1; line; c->line++) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (parse_line(c, cfg, line, &host, &sect) < 0)
			return -1;
		line = nl ? nl + 1 : NULL;
	}
	return 0;
}

int config_load(const char *path, HfConfig **out, HfError *err)
{
	g_autoptr(HfConfig) cfg = g_new0(HfConfig, 1);
	g_autoptr(GError) gerr = NULL;
	g_autofree char *text = NULL;
	gsize len = 0;
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	Ctx c = {.file = path, .section = "daemon", .seen = seen, .err = err};

	cfg->path = g_strdup(path);
	cfg->socket = g_strdup(CONFIG_DEFAULT_SOCKET);
	cfg->state_dir = g_strdup(CONFIG_DEFAULT_STATE_DIR);
	cfg->log_level = LOG_LVL_INFO;
	cfg->max_jobs_per_host = 2;
	cfg->shutdown_timeout = 30;
	cfg->agent_timeout = 10;
	cfg->check_interval = 21600;
	cfg->check_timeout = 10;
	cfg->check_parallel = 8;
	cfg->check_max_patch_age = -1;
	cfg->check_fail_on = -1;
	cfg->hosts = g_ptr_array_new_with_free_func((GDestroyNotify)host_free);
	cfg->policies = g_ptr_array_new_with_free_func((GDestroyNotify)policy_free);
	cfg->drstores = g_ptr_array_new_with_free_func((GDestroyNotify)drstore_free);

	if (!g_file_get_contents(path, &text, &len, &gerr))
		return error_set(err, HF_ERR_CONFIG, "%s: cannot read the configuration: %s", path,
				 gerr->message);
	if (len > CONFIG_MAX_BYTES || memchr(text, '\0', len) || !g_utf8_validate(text, -1, NULL))
		return error_set(err, HF_ERR_CONFIG,
				 "%s: not a text file of at most 1 MiB in UTF-8", path);
	if (parse_text(&c, cfg, text) < 0)
		return -1;
	for (guint i = 0; i < cfg->hosts->len; i++) {
		CfgHost *h = cfg->hosts->pdata[i];
		if (!h->uri) {
			c.line = h->line;
			c.section = "host";
			return error_set(err, HF_ERR_CONFIG, "%s:%d: [host %s] uri: missing (e.g. uri "
					 "= qemu:///system)", path, h->line, h->name);
		}
		if (!h->max_jobs)
			h->max_jobs = cfg->max_jobs_per_host;
		if (host_check_options(path, h, err) < 0)
			return -1;
	}
	for (guint i = 0; i < cfg->policies->len; i++)
		if (policy_finish(cfg->policies->pdata[i], path, cfg->drstores, err) < 0)
			return -1;
	for (guint i = 0; i < cfg->drstores->len; i++)
		if (drstore_finish(cfg->drstores->pdata[i], path, err) < 0)
			return -1;
	*out = g_steal_pointer(&cfg);
	return 0;
}

const CfgHost *config_host(const HfConfig *cfg, const char *name)
{
	for (guint i = 0; i < cfg->hosts->len; i++) {
		const CfgHost *h = cfg->hosts->pdata[i];
		if (!strcmp(h->name, name))
			return h;
	}
	return NULL;
}

bool config_host_selects(const CfgHost *h, const char *name, char *const *tags)
{
	if (h->tag)
		return tags && g_strv_contains((const char *const *)tags, h->tag);
	if (!h->globs)
		return true;
	for (char **g = h->globs; *g; g++)
		if (g_pattern_match_simple(*g, name))
			return true;
	return false;
}
