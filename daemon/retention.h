/* retention.h - which snapshots a policy keeps: Proxmox Backup Server prune semantics.
 *
 * Pure: the caller passes the snapshots, the rules and the time zone; nothing is deleted here.
 *
 * Rules: keep-last, keep-hourly, keep-daily, keep-weekly, keep-monthly, keep-yearly, applied
 * in that order (as PBS does, pbs-datastore prune.rs). Periods are local to the policy's zone:
 * hour, day, ISO week (Monday..Sunday, ISO week-numbering year), month, year. Every rule walks
 * the policy's snapshots newest first:
 *   1. Periods of snapshots KEPT by an earlier rule are covered: this rule skips every snapshot
 *      in them ("backups already kept by a previous rule are not counted").
 *   2. A snapshot already decided (kept, or marked by an earlier rule as superseded) is skipped.
 *   3. A pinned snapshot is skipped: it is always kept and neither counts nor covers a period.
 *   4. The first (newest) snapshot of a new period is kept, when the rule has kept fewer than
 *      its count of periods; otherwise the rule stops.
 *   5. Any later snapshot of a period this rule kept is marked superseded (pruned); later rules
 *      no longer see it.
 * Whatever no rule kept is pruned. keep-last treats every snapshot as its own period.
 *
 * Hard guarantees, whatever the rules:
 *   - all rules 0 (absent) keeps everything: never an accidental "prune all";
 *   - a pinned snapshot is never pruned;
 *   - a snapshot not owned by this policy is never touched and plays no part in the rules;
 *   - the newest snapshot of the policy is never pruned.
 *
 * Worked example (the PBS test suite's, zone UTC, each at 11:59:15): snapshots on 2018-11-15,
 * 2019-11-15, 11-21, 11-22, 11-29 (Fri), 12-01 (Sun), 12-02, 12-03, 12-04 (Wed); rules
 * keep-daily 1, keep-weekly 1, keep-monthly 1:
 *   keep-daily 1   keeps 12-04 "keep-daily (2019-12-04)".
 *   keep-weekly 1  skips 12-03 and 12-02 (week 2019-W49 is covered by 12-04), keeps 12-01
 *                  "keep-weekly (2019-W48)", marks 11-29 superseded (same week), stops at
 *                  11-22 (a new week, count reached).
 *   keep-monthly 1 skips December (covered by 12-04), no longer sees 11-29, keeps 11-22
 *                  "keep-monthly (2019-11)", marks 11-21 and 11-15 superseded, stops at 2018.
 *   Result: keep 12-04, 12-01, 11-22; prune the other six. Note that the newest November
 *   snapshot (11-29) is NOT the one kept for November: keep-weekly claimed its week first.
 * Second example, same snapshots, keep-monthly 1, keep-yearly 1: keep 2019-12-04 (monthly)
 * and 2018-11-15 (yearly; 2019 is covered by 12-04); prune the rest.
 * Third example, a nightly policy with keep-daily 7, keep-weekly 4 after 40 nights ending on
 * a Sunday: the 7 newest nights (daily), then the Sundays of the 4 weeks before the newest
 * week (weekly: the newest week is covered by the daily ones): 11 snapshots.
 *
 * The share check: retention_plan_share() is the fraction of the policy's snapshots (owned,
 * including pinned) the plan would prune. A config change whose first plan exceeds the site's
 * limit is held back until `holdfast policy apply`. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "error.h"

typedef enum {
	RETENTION_LAST,
	RETENTION_HOURLY,
	RETENTION_DAILY,
	RETENTION_WEEKLY,
	RETENTION_MONTHLY,
	RETENTION_YEARLY,
	RETENTION_N_RULES,
} RetentionRule;

enum { RETENTION_KEEP_MAX = 100000 };

typedef struct {
	unsigned keep[RETENTION_N_RULES]; /* count per rule; 0 = rule absent */
} RetentionRules;

typedef struct {
	const char *name; /* borrowed */
	int64_t created;  /* UTC seconds */
	bool pinned;	  /* `holdfast snapshot pin` */
	bool owned;	  /* made by holdfast for THIS policy */
} RetentionSnapshot;

typedef enum {
	RETENTION_WHY_RULE,	  /* kept by rule (in .rule) for a period */
	RETENTION_WHY_PINNED,	  /* kept: pinned */
	RETENTION_WHY_NEWEST,	  /* kept: the newest is never pruned (safety net) */
	RETENTION_WHY_FOREIGN,	  /* kept: not owned by this policy, never touched */
	RETENTION_WHY_KEEP_ALL,	  /* kept: no keep rule is set */
	RETENTION_WHY_SUPERSEDED, /* pruned: .rule keeps a newer snapshot of the same period */
	RETENTION_WHY_EXPIRED,	  /* pruned: beyond every rule's count */
} RetentionWhy;

typedef struct {
	bool keep;
	RetentionWhy why;
	int rule;	  /* a RetentionRule for WHY_RULE and WHY_SUPERSEDED, else -1 */
	char reason[128]; /* "keep-last 3", "keep-daily (2026-11-20)", "pinned", "newest", ... */
} RetentionDecision;

typedef struct {
	size_t n;
	RetentionDecision *decisions; /* parallel to the input array */
	size_t owned;		      /* snapshots owned by the policy (pinned included) */
	size_t pruned;
} RetentionPlan;

/* Decide keep or prune for each of snaps[0..n). tz buckets the periods (NULL = UTC).
 * -1 with HF_ERR_INVALID_PARAMS on bad input (a snapshot without a name). */
int retention_plan(const RetentionSnapshot *snaps, size_t n, const RetentionRules *rules,
		   GTimeZone *tz, RetentionPlan **out, HfError *err);
void retention_plan_free(RetentionPlan *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RetentionPlan, retention_plan_free)

/* pruned / owned (0 when the policy owns nothing). */
double retention_plan_share(const RetentionPlan *p);

const char *retention_rule_name(RetentionRule r); /* "keep-daily" */
bool retention_rules_keep_all(const RetentionRules *r);
/* "keep-daily 7, keep-weekly 4" or "keep-all". Caller frees. */
char *retention_rules_format(const RetentionRules *r);
/* Set one rule from config text: key "keep-daily", value "0".."100000". */
int retention_rules_set(RetentionRules *r, const char *key, const char *value, HfError *err);

/* ---- simulator for `holdfast policy simulate NAME --days N` ---- */

typedef struct {
	char *name;
	int64_t created;
	char *reason; /* why it was pruned (pruned lists only), else NULL */
} RetentionSimEntry;

typedef struct {
	int year, month, day; /* local date in the policy's zone */
	GPtrArray *created;   /* RetentionSimEntry*: taken this day */
	GPtrArray *pruned;    /* RetentionSimEntry*: pruned this day, with the reason */
	GPtrArray *existing;  /* RetentionSimEntry*: present at the end of the day */
} RetentionSimDay;

typedef struct {
	GPtrArray *days; /* RetentionSimDay*, one per local day, in order */
} RetentionSim;

/* Run the schedule from start_utc for `days` local days (the first is the day containing
 * start_utc; slots strictly after start_utc). Every slot takes a snapshot named
 * name_prefix + "YYYYMMDDTHHMMSSZ" (UTC) and then prunes by rules in tz (NULL = the
 * calendar's zone). initial: the guest's snapshots now (copied; may be NULL when n_initial
 * is 0). 1 <= days <= 36600. */
int retention_simulate(const Calendar *cal, const RetentionRules *rules, GTimeZone *tz,
		       const RetentionSnapshot *initial, size_t n_initial, const char *name_prefix,
		       int64_t start_utc, int days, RetentionSim **out, HfError *err);
void retention_sim_free(RetentionSim *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RetentionSim, retention_sim_free)
