/* methods.c - the method table and parameter validation shared by holdfastd and holdfast. */
#include "methods.h"

#include <string.h>

#define END {0}
#define P_GUEST                                                                                    \
	{"guest", HF_PT_STRING, HF_P_REQUIRED | HF_P_POSITIONAL, NULL, 0, 0, "GUEST",             \
	 "the guest, as NAME or HOST/NAME"}
#define P_JOB                                                                                      \
	{"job", HF_PT_INT, HF_P_REQUIRED | HF_P_POSITIONAL, NULL, 1, 1LL << 53, "JOB", "job id"}

static const HfParam p_none[] = {END};
static const HfParam p_guests[] = {
	{"host", HF_PT_STRING, 0, NULL, 0, 0, "HOST", "only guests of this host"},
	{"all", HF_PT_BOOL, 0, NULL, 0, 0, NULL,
	 "include guests that are not Windows Server 2008 / 2008 R2"},
	END};
static const HfParam p_guest[] = {P_GUEST, END};
static const HfParam p_snap_create[] = {
	P_GUEST,
	{"name", HF_PT_STRING, 0, NULL, 0, 0, "NAME",
	 "snapshot name (default hf-YYYYMMDDTHHMMSSZ, UTC)"},
	{"description", HF_PT_STRING, 0, NULL, 0, 0, "TEXT", "free text stored with the snapshot"},
	{"quiesce", HF_PT_ENUM, 0, "no|yes|try", 0, 0, "MODE",
	 "freeze the guest's filesystems through its agent first: no (crash-consistent), yes "
	 "(fail if the freeze fails), try (fall back to crash-consistent, recorded with the reason)"},
	{"timeout", HF_PT_INT, 0, NULL, 1, 600, "SECONDS",
	 "bound for each guest-agent call of the quiesce (default 10)"},
	END};
static const HfParam p_snap_one[] = {
	P_GUEST,
	{"snapshot", HF_PT_STRING, HF_P_REQUIRED | HF_P_POSITIONAL, NULL, 0, 0, "SNAPSHOT",
	 "snapshot name"},
	END};
static const HfParam p_snap_delete[] = {
	P_GUEST,
	{"snapshot", HF_PT_STRING, HF_P_REQUIRED | HF_P_POSITIONAL, NULL, 0, 0, "SNAPSHOT",
	 "snapshot name"},
	{"force", HF_PT_BOOL, 0, NULL, 0, 0, NULL, "also delete a snapshot holdfast did not make"},
	END};
static const HfParam p_jobs_list[] = {
	{"state", HF_PT_ENUM, 0, "queued|running|succeeded|failed|cancelled|interrupted", 0, 0,
	 "STATE", "only jobs in this state"},
	{"guest", HF_PT_STRING, 0, NULL, 0, 0, "GUEST", "only jobs of this guest"},
	END};
static const HfParam p_job[] = {P_JOB, END};
/* check.run and check.classify share the policy options (BcPolicy, buildcheck.h) */
#define P_CHECK_POLICY \
	{"require_build", HF_PT_INT, 0, NULL, 0, 65535, "BUILD", \
	 "policy: require this build (e.g. 6003); 0 = no requirement (default: " \
	 "check-require-build)"}, \
	{"min_esu_year", HF_PT_INT, 0, NULL, 0, 3, "YEAR", \
	 "policy: require an active ESU licence of this year or later (1-3; default: " \
	 "check-min-esu-year)"}, \
	{"max_patch_age", HF_PT_INT, 0, NULL, -1, 1200, "MONTHS", \
	 "policy: at most this many months behind the newest update; -1 = no limit (default: " \
	 "check-max-patch-age)"}, \
	{"fail_on", HF_PT_ENUM, 0, "none|attention|critical", 0, 0, "STATUS", \
	 "policy: fail on this verdict or worse (default: check-fail-on)"},
static const HfParam p_check_run[] = {
	{"guests", HF_PT_STRINGS, HF_P_POSITIONAL, NULL, 0, 0, "GUEST",
	 "guests to check, as NAME or HOST/NAME (default: every guest of every host)"},
	{"refresh", HF_PT_BOOL, 0, NULL, 0, 0, NULL,
	 "collect fresh evidence from the guests instead of using the cache"},
	P_CHECK_POLICY
	END};
static const HfParam p_check_classify[] = {
	{"evidence", HF_PT_OBJECT, 0, NULL, 0, 0, "JSON",
	 "the evidence (the \"evidence\" of `holdfast --json check`); the CLI reads it from "
	 "stdin when not given"},
	P_CHECK_POLICY
	END};

#define P_DRY_RUN                                                                                  \
	{"dry_run", HF_PT_BOOL, 0, NULL, 0, 0, NULL, "show the plan and its checks, change nothing"}
static const HfParam p_dr_copy[] = {
	P_GUEST,
	{"full", HF_PT_BOOL, 0, NULL, 0, 0, NULL,
	 "a full copy (libvirt: default incremental when possible; Hyper-V: required)"},
	{"dest", HF_PT_STRING, 0, NULL, 0, 0, "DIR",
	 "Hyper-V: destination directory on the host (default: the host's export-path)"},
	{"store", HF_PT_STRING, 0, NULL, 0, 0, "NAME",
	 "libvirt: the [drstore NAME] to copy into (default: the first one)"},
	{"quiesce", HF_PT_ENUM, 0, "no|try", 0, 0, "MODE",
	 "libvirt: fs-freeze through the guest agent around the start (default try)"},
	P_DRY_RUN,
	END};
#define P_DRSTORE                                                                                  \
	{"store", HF_PT_STRING, 0, NULL, 0, 0, "NAME", "the [drstore NAME] (default: the first one)"}
static const HfParam p_dr_list[] = {
	{"guest", HF_PT_STRING, HF_P_POSITIONAL, NULL, 0, 0, "GUEST",
	 "only this guest (NAME or HOST/NAME)"},
	P_DRSTORE,
	END};
static const HfParam p_dr_verify[] = {
	P_GUEST,
	{"point", HF_PT_STRING, HF_P_POSITIONAL, NULL, 0, 0, "POINT",
	 "this restore point and its chain (default: every point)"},
	{"compare", HF_PT_BOOL, 0, NULL, 0, 0, NULL,
	 "take a new copy now (pull mode) and compare the disks its chain rebuilds with a fresh "
	 "full read of the guest at the same instant, byte for byte"},
	P_DRSTORE,
	END};
static const HfParam p_dr_restore[] = {
	P_GUEST,
	{"point", HF_PT_STRING, HF_P_REQUIRED | HF_P_POSITIONAL, NULL, 0, 0, "POINT",
	 "the restore point (dr list)"},
	{"as", HF_PT_STRING, 0, NULL, 0, 0, "NAME",
	 "name of the new guest (must not exist, unless restored from this point already)"},
	{"host", HF_PT_STRING, 0, NULL, 0, 0, "HOST",
	 "define the new guest on this [host] (the DR host; default: the guest's own)"},
	{"dir", HF_PT_STRING, 0, NULL, 0, 0, "DIR",
	 "directory for the new disk images (default: that of the guest's original disks)"},
	{"in_place", HF_PT_BOOL, 0, NULL, 0, 0, NULL,
	 "replace the disks of the (shut off) guest itself; it keeps its UUID and MACs"},
	{"keep_old", HF_PT_BOOL, 0, NULL, 0, 0, NULL,
	 "--in-place: keep the replaced images as IMAGE.hf-before-restore-POINT"},
	P_DRY_RUN,
	P_DRSTORE,
	END};
static const HfParam p_dr_failover[] = {
	P_GUEST,
	{"planned", HF_PT_BOOL, 0, NULL, 0, 0, NULL,
	 "stop the source, take a final copy, restore and start it at the DR host"},
	{"emergency", HF_PT_BOOL, 0, NULL, 0, 0, NULL,
	 "the source is lost: restore the newest verified point at the DR host and start it"},
	{"to", HF_PT_STRING, 0, NULL, 0, 0, "HOST",
	 "the DR [host] (default: the guest's own host)"},
	{"as", HF_PT_STRING, 0, NULL, 0, 0, "NAME", "name at the DR host (default: the guest's)"},
	{"dir", HF_PT_STRING, 0, NULL, 0, 0, "DIR",
	 "directory for the DR guest's disk images (default: that of the source's disks)"},
	{"force_off", HF_PT_BOOL, 0, NULL, 0, 0, NULL,
	 "--planned: power the source off when it does not shut down in time"},
	{"timeout", HF_PT_INT, 0, NULL, 10, 3600, "SECONDS",
	 "bound of the source's shutdown and of the DR guest's agent start (default 300)"},
	P_DRY_RUN,
	P_DRSTORE,
	END};
static const HfParam p_dr_test[] = {
	P_GUEST,
	{"point", HF_PT_STRING, HF_P_POSITIONAL, NULL, 0, 0, "POINT",
	 "the restore point (default: the newest verified one)"},
	{"port", HF_PT_STRINGS, 0, NULL, 0, 0, "N",
	 "a TCP port that must be LISTENING in the booted guest (netstat -an)"},
	{"timeout", HF_PT_INT, 0, NULL, 10, 86400, "SECONDS",
	 "bound from start to agent-ready and listening ports (default 600)"},
	{"keep", HF_PT_BOOL, 0, NULL, 0, 0, NULL,
	 "leave the test guest running and its overlays in place (remove them yourself)"},
	{"dry_run", HF_PT_BOOL, 0, NULL, 0, 0, NULL,
	 "show the point, overlays, domain name and host without doing anything"},
	P_DRSTORE,
	P_CHECK_POLICY
	END};
static const HfParam p_dr_status[] = {
	{"guest", HF_PT_STRING, HF_P_POSITIONAL, NULL, 0, 0, "GUEST",
	 "only this guest (NAME or HOST/NAME)"},
	P_DRSTORE,
	END};

#define P_POLICY                                                                                   \
	{"name", HF_PT_STRING, HF_P_REQUIRED | HF_P_POSITIONAL, NULL, 0, 0, "NAME",               \
	 "policy name ([policy NAME] in holdfastd.conf)"}
static const HfParam p_policy[] = {P_POLICY, END};
static const HfParam p_policy_sim[] = {
	P_POLICY,
	{"days", HF_PT_INT, 0, NULL, 1, 3660, "N", "days to simulate from now (default 30)"},
	END};
static const HfParam p_debug_clock[] = {
	{"set", HF_PT_STRING, 0, NULL, 0, 0, "TIME", "set the test clock (2027-05-10T00:00:00Z)"},
	{"advance", HF_PT_INT, 0, NULL, 0, 1LL << 40, "SECONDS", "move the test clock forward"},
	END};

const HfMethod methods_table[] = {
	{"daemon.version", "version", HF_ROLE_READ, false,
	 "show holdfast and library versions of the CLI and the daemon", p_none},
	{"guests.list", "guests", HF_ROLE_READ, false,
	 "list the Windows Server 2008 guests on every host", p_guests},
	{"guest.show", "guest show", HF_ROLE_READ, false, "show one guest in detail", p_guest},
	{"snapshot.create", "snapshot create", HF_ROLE_ADMIN, true,
	 "take a snapshot (optionally quiesced through the guest agent)", p_snap_create},
	{"snapshot.list", "snapshot list", HF_ROLE_READ, false,
	 "list a guest's snapshots, holdfast-owned and foreign", p_guest},
	{"snapshot.revert", "snapshot revert", HF_ROLE_ADMIN, true,
	 "revert a guest to a snapshot", p_snap_one},
	{"snapshot.delete", "snapshot delete", HF_ROLE_ADMIN, true,
	 "delete a snapshot holdfast made (--force for foreign ones)", p_snap_delete},
	{"dr.copy", "dr copy", HF_ROLE_ADMIN, true,
	 "DR copy of a guest (libvirt: into a DR store; Hyper-V: export)", p_dr_copy},
	{"dr.list", "dr list", HF_ROLE_READ, false,
	 "restore points in the DR store", p_dr_list},
	{"dr.verify", "dr verify", HF_ROLE_ADMIN, true,
	 "check restore points: checksums, qemu-img check, --compare", p_dr_verify},
	{"dr.restore", "dr restore", HF_ROLE_ADMIN, true,
	 "restore a point as a new guest, or in place (verified first)", p_dr_restore},
	{"dr.failover", "dr failover", HF_ROLE_ADMIN, true,
	 "run a guest at the DR host (--planned or --emergency)",
	 p_dr_failover},
	{"dr.test", "dr test", HF_ROLE_ADMIN, true,
	 "boot a restore point in isolation: RTO, build check, ports", p_dr_test},
	{"dr.status", "dr status", HF_ROLE_READ, false,
	 "RPO per guest: age of the newest verified restore point", p_dr_status},
	{"jobs.list", "jobs list", HF_ROLE_READ, false, "list jobs", p_jobs_list},
	{"jobs.get", "jobs show", HF_ROLE_READ, false, "show one job", p_job},
	{"jobs.watch", "jobs watch", HF_ROLE_READ, false,
	 "follow a job's progress until it ends", p_job},
	{"jobs.cancel", "jobs cancel", HF_ROLE_ADMIN, false, "cancel a queued or running job",
	 p_job},
	{"daemon.reload", "reload", HF_ROLE_ADMIN, false,
	 "re-read the configuration (kept unchanged when it does not parse)", p_none},
	{"check.run", "check", HF_ROLE_READ, true,
	 "Windows build, patches and ESU licence of guests (or --csv)", p_check_run},
	{"check.classify", "classify", HF_ROLE_READ, false,
	 "classify build-check evidence JSON given on stdin", p_check_classify},
	{"policy.list", "policy list", HF_ROLE_READ, false,
	 "list snapshot policies with their next run and held-back changes", p_none},
	{"policy.show", "policy show", HF_ROLE_READ, false,
	 "show a policy: settings, guests, the run in progress, the last run", p_policy},
	{"policy.simulate", "policy simulate", HF_ROLE_READ, false,
	 "day by day, what the policy would take and prune (dry run)",
	 p_policy_sim},
	{"policy.run", "policy run", HF_ROLE_ADMIN, true,
	 "run a policy now on all its guests (snapshot, then prune)", p_policy},
	{"policy.apply", "policy apply", HF_ROLE_ADMIN, false,
	 "approve a held-back retention change and prune by it now", p_policy},
	{"schedule.list", "schedule", HF_ROLE_READ, false,
	 "next scheduled snapshot per policy and guest", p_none},
	{"snapshot.pin", "snapshot pin", HF_ROLE_ADMIN, false,
	 "pin a holdfast snapshot: retention never prunes it", p_snap_one},
	{"snapshot.unpin", "snapshot unpin", HF_ROLE_ADMIN, false,
	 "unpin a snapshot: retention rules apply to it again", p_snap_one},
	{"debug.clock", "debug clock", HF_ROLE_ADMIN, false,
	 "tests only: set or advance the test clock (HOLDFAST_TEST_CLOCK=1)",
	 p_debug_clock},
};
const size_t methods_count = sizeof methods_table / sizeof methods_table[0];

const HfMethod *methods_find(const char *name)
{
	for (size_t i = 0; name && i < methods_count; i++)
		if (strcmp(methods_table[i].name, name) == 0)
			return &methods_table[i];
	return NULL;
}

/* Longest match of the leading CLI words against the rows' command words. */
const HfMethod *methods_find_command(const char *const *words, int nwords, int *used)
{
	const HfMethod *best = NULL;
	int best_n = 0;

	for (size_t i = 0; i < methods_count; i++) {
		const char *c = methods_table[i].command;
		int n = 0;
		while (n < nwords) {
			size_t len = strlen(words[n]);
			if (strncmp(c, words[n], len) != 0 || (c[len] != ' ' && c[len] != '\0'))
				break;
			n++;
			c += len;
			if (*c == '\0')
				break;
			c++;
		}
		if (*c == '\0' && n > best_n) {
			best = &methods_table[i];
			best_n = n;
		}
	}
	if (used)
		*used = best_n;
	return best;
}

const HfParam *methods_param(const HfMethod *m, const char *name)
{
	for (const HfParam *p = m->params; p->name; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

static bool choice_ok(const char *choices, const char *v)
{
	size_t len = strlen(v);
	for (const char *c = choices; *c;) {
		const char *bar = strchr(c, '|');
		size_t n = bar ? (size_t)(bar - c) : strlen(c);
		if (n == len && strncmp(c, v, n) == 0)
			return true;
		c += n + (bar ? 1 : 0);
	}
	return false;
}

static int check_string(const HfMethod *m, const HfParam *p, const cJSON *v, HfError *err)
{
	if (!cJSON_IsString(v))
		return error_set(err, HF_ERR_INVALID_PARAMS, "%s: parameter '%s' must be a string",
				 m->name, p->name);
	if (strlen(v->valuestring) > HF_STRING_PARAM_MAX)
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "%s: parameter '%s' is longer than %d bytes", m->name, p->name,
				 HF_STRING_PARAM_MAX);
	return 0;
}

/* Nesting depth of a JSON value (cJSON's parser already caps it at 1000). */
static int json_depth(const cJSON *v)
{
	int d = 0;
	const cJSON *c;
	cJSON_ArrayForEach(c, v)
	{
		int cd = json_depth(c);
		d = cd > d ? cd : d;
	}
	return (cJSON_IsObject(v) || cJSON_IsArray(v)) ? d + 1 : 0;
}

static int check_one(const HfMethod *m, const HfParam *p, const cJSON *v, HfError *err)
{
	switch (p->type) {
	case HF_PT_STRING:
		if (check_string(m, p, v, err) < 0)
			return -1;
		if ((p->flags & HF_P_REQUIRED) && !v->valuestring[0])
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "%s: parameter '%s' must not be empty", m->name, p->name);
		return 0;
	case HF_PT_ENUM:
		if (check_string(m, p, v, err) < 0)
			return -1;
		if (!choice_ok(p->choices, v->valuestring))
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "%s: parameter '%s' is '%s'; expected one of %s", m->name,
					 p->name, v->valuestring, p->choices);
		return 0;
	case HF_PT_BOOL:
		if (!cJSON_IsBool(v))
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "%s: parameter '%s' must be true or false", m->name, p->name);
		return 0;
	case HF_PT_INT: {
		double d = cJSON_IsNumber(v) ? v->valuedouble : 0.5;
		if (!cJSON_IsNumber(v) || d != (double)(long long)d)
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "%s: parameter '%s' must be an integer", m->name, p->name);
		if ((p->min || p->max) && (d < (double)p->min || d > (double)p->max))
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "%s: parameter '%s' is %.0f; allowed %lld..%lld", m->name,
					 p->name, d, p->min, p->max);
		return 0;
	}
	case HF_PT_OBJECT:
		if (!cJSON_IsObject(v))
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "%s: parameter '%s' must be a JSON object", m->name, p->name);
		if (json_depth(v) > HF_OBJECT_PARAM_DEPTH)
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "%s: parameter '%s' is nested deeper than %d levels", m->name,
					 p->name, HF_OBJECT_PARAM_DEPTH);
		return 0;
	case HF_PT_STRINGS: {
		const cJSON *e;
		if (!cJSON_IsArray(v))
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "%s: parameter '%s' must be an array of strings", m->name,
					 p->name);
		cJSON_ArrayForEach(e, v) if (check_string(m, p, e, err) < 0) return -1;
		return 0;
	}
	}
	return error_set(err, HF_ERR_INTERNAL, "%s: bad parameter type", m->name);
}

int methods_validate(const HfMethod *m, const cJSON *params, HfError *err)
{
	const cJSON *v;

	if (params && !cJSON_IsObject(params))
		return error_set(err, HF_ERR_INVALID_PARAMS, "%s: params must be a JSON object",
				 m->name);
	cJSON_ArrayForEach(v, params)
	{
		const HfParam *p = methods_param(m, v->string);
		if (!p)
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "%s: unknown parameter '%s'", m->name, v->string);
		if (check_one(m, p, v, err) < 0)
			return -1;
	}
	for (const HfParam *p = m->params; p->name; p++)
		if ((p->flags & HF_P_REQUIRED) && !cJSON_GetObjectItemCaseSensitive(params, p->name))
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "%s: missing parameter '%s' (%s)", m->name, p->name,
					 p->help);
	return 0;
}
