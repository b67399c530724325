/* drrplan.h - what a restore writes, and its journal (files and JSON only, no hypervisor).
 *
 * A restore of point POINT as guest NAME writes, per disk of the point, the flattened image
 * under a temporary name TO.hf-partial, checks it and renames it to TO:
 *   new guest (--as):  TO = DIR/NAME-TARGET.qcow2 (DIR: --dir, else the directory of the
 *                      source guest's disk), and NVRAM as NVDIR/NAME_VARS.fd (drrplan_nvram_path:
 *                      never the source's own NVRAM file)
 *   in place:          TO = the guest's current image of that target; the current image is
 *                      kept as TO.hf-before-restore-POINT until the new definition is in place;
 *                      NVRAM: the guest's current NVRAM file
 * Files are moved into place with drrplan_rename: nothing that exists is ever replaced.
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
	/* the <nvram> of the guest defined: nvram_to; a point whose NVRAM was not captured: a
	 * path for libvirt to make a fresh store at (or, in place, the guest's own), or NULL
	 * (no <nvram>: libvirt's default for the name, which is not the source's file) */
	char *nvram_path;
} DrRestorePlan;

void drrplan_free(DrRestorePlan *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DrRestorePlan, drrplan_free)

/* The plan for manifest m (with "dir" as drstore_points adds it). In place: current maps each
 * disk target of the guest to its image now (every disk of the point needs one); else current
 * is NULL and dir is --dir or NULL. nvram_now: drrplan_nvram_path's `now`. NULL with err when
 * a disk has nowhere to go. */
DrRestorePlan *drrplan_new(const cJSON *m, const char *name, const char *dir, GHashTable *current,
			   const char *nvram_now, HfError *err);
/* The NVRAM file of guest `name` restored from `point`, whose source's NVRAM was `src` (the
 * manifest's "nvram" "source"; NULL: none). In place: `now`, the guest's NVRAM path in its
 * current definition, else (unknown, or it has none) NVDIR/NAME_VARS.fd, NVDIR being src's
 * directory; never src just because the manifest says so. New guest: NVDIR/NAME_VARS.fd (what
 * libvirt names it), or NVDIR/NAME-POINT_VARS.fd when that is src or `now` (a file of the
 * source guest, known on its host: the DR guest takes the source's name on the same host). A
 * new string, or NULL when src is NULL or not absolute. */
char *drrplan_nvram_path(const char *src, const char *name, const char *point, bool in_place,
			 const char *now);
/* rename(2) that never replaces: renameat2 RENAME_NOREPLACE, or link + unlink where the
 * filesystem has no RENAME_NOREPLACE. 0, or -1 with err naming both paths (and saying that
 * `to` exists already when it does). */
int drrplan_rename(const char *from, const char *to, HfError *err);
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
