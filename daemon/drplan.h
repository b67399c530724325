/* drplan.h - what the next DR copy of a libvirt guest must be, per disk.
 *
 * Incremental from the guest's newest point (from this host and guest name) when its checkpoint
 * is still known to libvirt
 * with usable bitmaps; within an incremental, a disk added or resized since that point, or
 * whose chain would pass the store's max-chain, is copied in full (libvirt's per-disk
 * backupmode). Every full disk carries its reason; when every disk is full the point is a
 * full. */
#pragma once

#include <cjson/cJSON.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "drivers/driver.h"
#include "error.h"

typedef struct {
	char *why_full;		 /* the whole copy is a full: why; NULL = an incremental */
	const char *incremental; /* the newest point's checkpoint (borrowed from points) */
	const char *parent;	 /* the newest point's id (borrowed) when incremental */
	bool drop_checkpoints;	 /* the guest's hf-dr-* checkpoints are unusable: drop first */
	cJSON *full_disks;	 /* [{target, reason}] of the disks copied in full */
	char **full_targets;	 /* their targets (NULL-terminated) for DrvBackupSpec */
} DrPlan;

/* Decide the next copy of guest g of host `host` from the published points of its directory
 * (oldest first). The parent is the newest point copied from this host and guest name
 * (manifest "host" and "guest"): two guests with the same UUID (a clone, a failed-over copy
 * beside its source) share the directory, and one's point is never the other's parent. */
int drplan_make(DrvConn *c, const DrvGuest *g, const char *host, GPtrArray *points, bool forced,
		int max_chain, DrPlan *plan, HfError *err);
/* The newest of points copied from guest (name) of host, or NULL. */
const cJSON *drplan_last(GPtrArray *points, const char *host, const char *guest);
/* Make it a full (every disk) for this reason. */
void drplan_set_full(DrPlan *plan, const DrvGuest *g, const char *why);
void drplan_clear(DrPlan *plan);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(DrPlan, drplan_clear)
/* The store has room for the disks the copy takes in full (their allocation); else
 * HF_ERR_NO_SPACE naming the store, the path, free and needed bytes. */
int drplan_space(const DrPlan *plan, const DrvGuest *g, const char *store, const char *path,
		 HfError *err);
