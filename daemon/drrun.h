/* drrun.h - carrying out a restore (dr restore, dr failover): verify the point's chain, flatten
 * every disk into a temporary file, check it, rename it, define the guest (drplan.h has the
 * files and the journal). A lease on the point (drlease.h) is held throughout.
 *
 * New guest: the point's XML with a new name (and, unless keep_uuid/keep_mac, a new UUID and
 * MACs), the restore recorded in its <metadata> (<hfdr:restore point=...>); a guest of that name
 * that records the same point and source is "already restored" (success, nothing done).
 * In place: only a shut-off guest that is the point's own guest (same UUID); its images are
 * swapped for the point's, its old images kept as IMAGE.hf-before-restore-POINT until the new
 * definition (same UUID and MACs) is in place, then removed (or kept: keep_old). Any failure
 * puts the guest's own images back. */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "error.h"
#include "hosts.h"
#include "jobs.h"

typedef struct {
	Host *host;	       /* where the guest is (to be) defined */
	const char *gdir;      /* the source guest's directory in the DR store */
	const char *point;     /* restore point id */
	const char *name;      /* the new guest, or the guest restored in place */
	const char *dir;       /* --dir, or NULL */
	const char *state_dir; /* holdfastd's state directory (journals) */
	bool in_place, keep_old, dry_run;
	bool keep_uuid, keep_mac; /* new guest: keep the point's UUID / MACs (failover) */
	const char *record_mode;  /* the record's mode; NULL: "restore" or "in-place" */
	bool verified;	 /* the caller verified the point's chain just now and leases the point */
	bool name_freed; /* dry_run: the guest of that name is renamed first (failover) */
	int pct0, pct1;	 /* the job progress range of this step */
} DrRunSpec;

/* --as NAME and --dir DIR of a restore or failover (either may be NULL): 0, or -1 with err. */
int drrun_check_names(const char *as, const char *dir, HfError *err);
/* *result: what was (or, dry_run, would be) done. */
int drrun_restore(Job *job, const DrRunSpec *s, cJSON **result, HfError *err);
/* The attributes of guest `name`'s restore record (point, guest, uuid, time), or NULL. */
GHashTable *drrun_record(DrvConn *c, const char *name);
/* The restore record of guest `name` on a connection's host: the point id (new string) when
 * the guest carries <hfdr:restore> of a point of source uuid, else NULL. */
char *drrun_restored_point(DrvConn *c, const char *name, const char *uuid);
/* "; host H is not this machine: ..." advice when h is not this machine and why (the error)
 * is about a path that is not there or not readable (holdfastd writes restored images here:
 * the store and --dir must be shared storage), else "" (a new string). */
char *drrun_remote_note(Host *h, const char *why);
