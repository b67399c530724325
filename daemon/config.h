/* config.h - holdfastd.conf: parsed completely and validated before use.
 *
 * INI syntax (GKeyFile-compatible subset): [daemon], one [host NAME] section per hypervisor and
 * [policy NAME] sections (policy.h), [drstore NAME] sections (drstore.h);
 * `key = value`; comments start with # or ;. GKeyFile itself is not used because it cannot say
 * on which line a problem is, and every config error must name file, line and key. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

#define CONFIG_DEFAULT_PATH "/etc/holdfast/holdfastd.conf"
#define CONFIG_DEFAULT_SOCKET "/run/holdfast/holdfastd.sock"
#define CONFIG_DEFAULT_STATE_DIR "/var/lib/holdfast"

typedef struct {
	char *name;
	char *uri;
	char **globs; /* guest name globs; NULL = all guests */
	char *tag;    /* guests=tag:NAME; NULL = no tag filter */
	int max_jobs; /* concurrent jobs on this host */
	int line;
	/* Driver-specific keys (e.g. the Hyper-V driver's auth=, credentials=), validated by the
	 * driver that the uri selects; string -> string. */
	GHashTable *options;
	GArray *option_lines; /* int line per key, in the order given (config-time messages) */
	GPtrArray *option_keys;
} CfgHost;

typedef struct {
	char *path;
	char *socket;
	char *state_dir;
	int log_level;
	char *admin_group, *readonly_group; /* NULL when unset */
	gid_t admin_gid, readonly_gid;
	int max_jobs_per_host; /* default for hosts without max-jobs= */
	int shutdown_timeout;  /* seconds SIGTERM waits for running jobs */
	int agent_timeout;     /* default bound of one guest-agent call, seconds */
	/* build checks (daemon/checks.c) */
	int check_interval;	 /* seconds between background refreshes; 0 = only on demand */
	int check_timeout;	 /* bound of each agent call / guest program of a check, seconds */
	int check_parallel;	 /* concurrent guest checks per host */
	int check_require_build; /* default policy: 0 = no requirement */
	int check_min_esu_year;	 /* default policy: 0 = no requirement */
	int check_max_patch_age; /* default policy: months; -1 = no limit */
	int check_fail_on;	 /* default policy: a BcStatus that fails; -1 = none */
	GPtrArray *hosts;      /* CfgHost* */
	GPtrArray *policies;   /* Policy* (policy.h): [policy NAME] sections */
	GPtrArray *drstores;   /* DrStore* (drstore.h): [drstore NAME] sections */
} HfConfig;

int config_load(const char *path, HfConfig **out, HfError *err);
void config_free(HfConfig *cfg);
/* Does this host's guests= filter select a guest with this name and these tags? */
bool config_host_selects(const CfgHost *h, const char *name, char *const *tags);
const CfgHost *config_host(const HfConfig *cfg, const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(HfConfig, config_free)
