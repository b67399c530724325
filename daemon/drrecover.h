/* drrecover.h - leftovers of DR copies that died with holdfastd (kill -9, a crash, a power cut).
 *
 * A libvirt backup job is one holdfast started when every file it names (its targets and
 * scratch files) is either in a DR store's POINT.partial directory or a pull's scratch file
 * named after the copy's checkpoint, DIR/hf-dr-STORE-POINT-TARGET.scratch (any DIR: [drstore]
 * scratch-dir, /var/tmp on a remote hypervisor host, the .partial), and all of them name the
 * same point. Such a job is aborted, the guest's filesystems thawed (the copy may have died
 * between its fs-freeze and the thaw), its half-made checkpoint hf-dr-STORE-POINT (or a legacy
 * hf-dr-POINT, below) deleted, the .partial directory discarded and its scratch files that
 * are left removed when the hypervisor is this machine (libvirt removes the ones it made when
 * the job ends; on a remote host one that remains is named in the report). A backup job with
 * any other file is not holdfast's and is never touched; neither is one whose scratch files
 * name a store this holdfastd has not had since it started (another holdfastd's copy may
 * run: reported with how to end it). Runs when a host connects for the first time after the
 * daemon started (no copy can run on it before; then also every leftover .partial of its
 * guests goes, with its checkpoint; a guest directory whose lock another copy holds is left
 * alone), and at the start of every copy of a guest (no other job of the guest runs in this
 * holdfastd then: jobs.c runs one job per guest at once). */
#pragma once

#include <cjson/cJSON.h>
#include <glib.h>

#include "drivers/driver.h"
#include "drivers/drckpt.h"
#include "error.h"

/* Checkpoint names. A copy into store S at point P makes checkpoint hf-dr-S-P (S with every
 * byte but letters, digits, '.', '_' and '-' made '_': the config allows no others anyway;
 * libvirt keeps a checkpoint as the file NAME.xml and QEMU names its bitmaps after it), so a
 * guest copied into two stores (3-2-1) keeps one checkpoint per store and each store's copies
 * stay incremental. Copies made before the store was in the name left hf-dr-P ("legacy"): such
 * a checkpoint belongs to the store whose directory of the guest holds point P (it is that
 * store's parent until its next copy replaces it), and is an orphan when no configured store
 * holds P. Everything that means "holdfast's DR checkpoints, of any store" tests the prefix
 * (drckpt_ours): in-place restore, snapshot revert, the refusal of foreign checkpoints. */
#define DRRECOVER_CK_PREFIX DRCKPT_PREFIX
/* The end of a pull's scratch file name, DIR/CHECKPOINT-TARGET.scratch (libvirt_pull.c). */
#define DRRECOVER_SCRATCH_SUFFIX ".scratch"

/* hf-dr-STORE-POINT. */
char *drrecover_ck_name(const char *store, const char *point);
/* Split a DR checkpoint name: *tag is the store part (NULL for a legacy hf-dr-POINT), *point
 * the point id (either may be NULL to skip). false: not a DR checkpoint name. */
bool drrecover_ck_parse(const char *name, char **tag, char **point);
/* Does checkpoint name belong to store `store`, whose directory of this guest is guest_dir
 * (see above)? */
bool drrecover_ck_of_store(const char *name, const char *store, const char *guest_dir);

/* Which checkpoints drrecover_ck_drop deletes. */
typedef bool (*DrCkWhich)(const char *name, void *opaque);
/* Delete the guest's checkpoints `which` says yes to, in libvirt's list order, with
 * DRV_CHECKPOINT_DELETE_BROKEN | flags (only libvirt's record goes when the bitmap is gone
 * already; DRV_CHECKPOINT_DELETE_IMAGES_GONE: only the record, the images were replaced).
 * The names deleted are appended to dropped, the failures' messages to failed (arrays of
 * strings; either may be NULL); returns how many were deleted, or -1 with err when the
 * checkpoints cannot be listed. */
int drrecover_ck_drop(DrvConn *c, const char *guest, DrCkWhich which, void *opaque,
		      unsigned flags, cJSON *dropped, cJSON *failed, HfError *err);
/* For drrecover_ck_drop: every DR checkpoint, of any store (opaque unused). */
bool drrecover_ck_any(const char *name, void *opaque);
/* For drrecover_ck_drop: the checkpoints of one store (drrecover_ck_of_store) but `keep`. */
typedef struct {
	const char *store, *guest_dir, *keep; /* keep may be NULL */
} DrCkStore;
bool drrecover_ck_store_but(const char *name, void *opaque /* DrCkStore* */);

/* The stores to recognise holdfast's targets by (on start and on every reload). */
void drrecover_configure(const GPtrArray *drstores /* DrStore* */);
/* A copy of the configured stores' paths (NULL-terminated). */
char **drrecover_roots(void);
/* Clean up the guest's leftover backup job (see above); what was done goes to report (an
 * array of strings; may be NULL). */
int drrecover_guest(DrvConn *c, const char *guest, char **roots, cJSON *report, HfError *err);
/* Delete the guest's DR checkpoints that nothing published needs (left by a copy that died
 * after its backup began): those of guest_dir's store whose point is not published there, and
 * legacy ones whose point no configured store holds. Other stores' checkpoints are theirs. */
void drrecover_orphans(DrvConn *c, const char *guest, const char *guest_dir, cJSON *report);
