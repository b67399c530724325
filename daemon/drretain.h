/* drretain.h - which DR restore points a dr-copy policy keeps: retention tiers made chain aware.
 *
 * Pure: the caller passes the guest's points (oldest first), the rules, the zone and which
 * points are leased; nothing on disk is touched here (drprune.h carries the plan out).
 *
 * Points form SERIES: the points of one host and guest name (the manifest's "host" and
 * "guest"; a guest directory is per UUID and may hold a clone's or a failed-over copy's points
 * beside the source's, and copies take their parents only in their own series, drplan.h).
 * 1. The keep-* tiers (retention.h, PBS semantics) choose among the points of each series by
 *    their time, each series on its own (keep-last 2: the two newest of every series).
 * 2. Always kept, whatever the tiers say: each series' newest VERIFIED point ("newest
 *    verified"); a leased point (a running restore, test boot or failover uses it) and every
 *    point any of its disks' images is backed by ("ancestor of leased P"): these are
 *    "protected", never deleted and never rewritten.
 * 3. A point that a kept point depends on is never deleted, whatever series either is in
 *    (points copied by older versions may be backed by another series' points). Dependencies
 *    are per disk: disk T of point X is backed by disk T of disks[].parent (NULL = a full
 *    image of that disk).
 *    When the tiers drop a base of a kept, unprotected point X, X is CONSOLIDATED for that
 *    disk: its new parent is the nearest kept ancestor on that disk's chain (a rebase) or
 *    none (a self-contained image). A protected point is never rewritten: its bases are kept
 *    instead ("base of protected P").
 * 4. A chain that names a point missing from the store ("broken") is never rewritten either:
 *    the point and what remains of its chain are kept, and the plan says why.
 * Every point not kept is deleted, with the tier's reason. An internal check refuses a plan
 * in which a kept point would still depend on a deleted one (HF_ERR_INTERNAL).
 *
 * full-every: drretain_copies_since_full() counts the copies since the last full one from
 * the store, newest first: a point copied as full counts 1 and ends the walk; a consolidated
 * point carries the count it had before ("since_full") and ends the walk; any other counts 1.
 * The next copy is full when there is no point or the count reached full-every. */
#pragma once

#include <cjson/cJSON.h>
#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "error.h"
#include "retention.h"

#ifndef HF_CJSON_AUTOPTR
#define HF_CJSON_AUTOPTR
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cJSON, cJSON_Delete)
#endif

typedef struct {
	const char *target;
	const char *parent; /* point id backing this disk's image; NULL = full image */
} DrRetainDisk;

typedef struct {
	const char *id;
	const char *host, *guest; /* the series (either may be NULL: an old manifest) */
	int64_t time;
	bool verified;
	bool leased;
	bool full_copy; /* copied as a full (manifest kind "full", not consolidated into one) */
	int since_full; /* > 0: recorded by a consolidation; 0 = none */
	const DrRetainDisk *disks;
	size_t n_disks;
	/* another guest's series (drretain_set_own): kept whatever the rules say, its own
	 * retention decides; it still counts for the chain rules */
	bool other;
} DrRetainPoint;

typedef struct {
	bool keep;
	bool protect; /* leased or an ancestor of a leased point: never rewritten */
	bool broken;  /* a disk chain names a point missing from the store */
	char reason[192];
	bool rewrite;		 /* some disk gets a new parent (consolidation) */
	const char **new_parent; /* n_disks entries (ids borrowed from the input, or NULL) */
	char rewrite_reason[256];
} DrRetainDecision;

typedef struct {
	size_t n;
	DrRetainDecision *d; /* parallel to the input */
	size_t kept, deleted, rewritten;
	size_t tier_pruned; /* points the tiers alone would drop (for the prune-limit share) */
} DrRetainPlan;

int drretain_plan(const DrRetainPoint *pts, size_t n, const RetentionRules *rules, GTimeZone *tz,
		  DrRetainPlan **out, HfError *err);
void drretain_plan_free(DrRetainPlan *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DrRetainPlan, drretain_plan_free)

/* Are points a and b of one series (the same host and guest name)? */
bool drretain_same_series(const DrRetainPoint *a, const DrRetainPoint *b);
/* The newest verified point of point i's series, or -1. */
ssize_t drretain_newest_verified(const DrRetainPoint *pts, size_t n, size_t i);
/* Index of the point with this id, or -1. */
ssize_t drretain_find(const DrRetainPoint *pts, size_t n, const char *id);
/* The parent of disk `target` of point i (NULL = full, or no such disk). */
const char *drretain_disk_parent(const DrRetainPoint *p, const char *target);
/* Copies since the last full, counted from the newest of pts[0..n) (see above; the caller
 * passes one series: scheddr.c). */
int drretain_copies_since_full(const DrRetainPoint *pts, size_t n);
/* Should the next copy be full? *why gets the reason (caller frees) when it should. */
bool drretain_next_full(const DrRetainPoint *pts, size_t n, int full_every, char **why);

/* ---- points from manifests ---- */

/* The guest's points as DrRetainPoint over manifests (cJSON, oldest first, as drstore_points
 * gives them; borrowed: keep them alive). Old manifests without disks[].parent: a disk's
 * parent is the point's. leased may be NULL. */
typedef struct {
	size_t n;
	DrRetainPoint *pts;
	DrRetainDisk *disks;
} DrRetainSet;

DrRetainSet *drretain_set_new(GPtrArray *manifests, char *const *leased);
void drretain_set_free(DrRetainSet *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DrRetainSet, drretain_set_free)
/* A retention run of guest NAME (or HOST/NAME) decides its own series only: every point
 * of another host and guest name is marked other. Points without host/guest (old manifests)
 * count as its own. */
void drretain_set_own(DrRetainSet *s, const char *addr);

/* ---- `holdfast policy simulate` of a dr-copy policy ---- */

/* Run the schedule from start_utc for `days` days (1..3660) on a copy of the guest's points
 * (may be empty): each slot adds a point (full or incremental by full_every, the disks of the
 * newest point, or one disk "vda"), then applies the plan. The result: {"days":[{"date",
 * "created":[{"name","kind"}],"pruned":[{"name","reason"}],"consolidated":[{"name",
 * "reason"}],"existing":[ids]}]}: one entry per local day with a slot. */
cJSON *drretain_simulate(const DrRetainPoint *pts, size_t n, const Calendar *cal,
			 const RetentionRules *rules, GTimeZone *tz, int full_every,
			 int64_t start_utc, int days, HfError *err);
