/* drrplan.h - what a restore writes, and its journal (files and JSON only, no hypervisor).
 *
 * A restore of point POINT as guest NAME writes, per disk of the point, the flattened image
 * under a temporary name TO.hf-partial, checks it and renames it to TO:
 *   new guest (--as):  TO = DIR/NAME-TARGET.qcow2 (DIR: --dir, else the directory of the
 *                      source guest's disk), and NVRAM as NVDIR/NAME_VARS.fd
 *   in place:          TO = the guest's current image of that target; the current image is
 *                      kept as TO.hf-before-restore-POINT until the new definition is in place
 * A journal (STATE_DIR/drrestore/HOST-NAME.json, written before the first file) lists every
 * file the restore makes and its step, so a restore that died (kill -9, power loss) is undone
 * by the next restore on that host (drrun.c; journals of restores running now are left
 * alone): nothing named like a finished disk is left behind and an in-place restore puts the
 * guest's own images back. */
#pragma once

#include <cjson/cJSON.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

#define DRRPLAN_PARTIAL ".hf-partial"
#define DRRPLAN_BEFORE ".hf-before-restore-"

typedef struct {
	char *target;
	char *from;   /* the point's image (qemu-img reads through its chain) */
	char *to;     /* the finished image */
	char *tmp;    /* to + DRRPLAN_PARTIAL */
	char *before; /* in place: where the guest's current image is kept; else NULL */
	uint64_t virtual_size;
} DrRestoreDisk;

typedef struct {
	char *point, *name;
	bool in_place;
	GPtrArray *disks; /* DrRestoreDisk* in the manifest's order */
	/* NVRAM of the point (manifest "nvram"), or all NULL */
	char *nvram_from, *nvram_to, *nvram_tmp, *nvram_before;
} DrRestorePlan;

void drrplan_free(DrRestorePlan *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DrRestorePlan, drrplan_free)

/* The plan for manifest m (with "dir" as drstore_points adds it). In place: current maps each
 * disk target of the guest to its image now (every disk of the point needs one); else current
 * is NULL and dir is --dir or NULL. NULL with err when a disk has nowhere to go. */
DrRestorePlan *drrplan_new(const cJSON *m, const char *name, const char *dir, GHashTable *current,
			   HfError *err);
/* target -> finished image, for drxml_restore (a new table). */
GHashTable *drrplan_files(const DrRestorePlan *p);
/* The plan as the result shows it: [{target, from, to, virtual_size, keep_as}]. */
cJSON *drrplan_disks_json(const DrRestorePlan *p);

/* The journal of a plan at `step` ("writing", "swapping", "defined"). */
cJSON *drrplan_journal(const DrRestorePlan *p, const char *host, const char *step, bool keep_old);
char *drrplan_journal_path(const char *state_dir, const char *host, const char *name);
/* Undo (or finish) what a journal says. New guest: the temporary files go, and the finished
 * ones too unless guest_defined (the define went through: the restore is complete). In place:
 * writing -> the temporary files go (the guest's images were not touched); swapping -> every
 * kept image is put back; defined -> the kept images go unless keep_old. Only names the
 * journal made are touched. *note (may be NULL): what was done, "" when nothing. */
int drrplan_recover(const cJSON *journal, bool guest_defined, char **note, HfError *err);
