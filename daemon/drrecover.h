/* drrecover.h - leftovers of DR copies that died with holdfastd (kill -9, a crash, a power cut).
 *
 * A libvirt backup job whose target files lie in a DR store's POINT.partial directory is one
 * holdfast started: it is aborted, its half-made checkpoint hf-dr-POINT deleted and the
 * .partial directory discarded. A backup job with any target elsewhere is not holdfast's and is
 * never touched. Runs when a host connects for the first time after the daemon started (no
 * copy can run on it before; then also every leftover .partial of its guests goes, with its
 * checkpoint), and at the start of every copy of a guest. */
#pragma once

#include <cjson/cJSON.h>
#include <glib.h>

#include "drivers/driver.h"
#include "error.h"

#define DRRECOVER_CK_PREFIX "hf-dr-"

/* The stores' paths to recognise holdfast's targets by (on start and on every reload). */
void drrecover_configure(const GPtrArray *drstores /* DrStore* */);
/* A copy of the configured stores' paths (NULL-terminated). */
char **drrecover_roots(void);
/* Clean up the guest's leftover backup job (see above); what was done goes to report (an
 * array of strings; may be NULL). */
int drrecover_guest(DrvConn *c, const char *guest, char **roots, cJSON *report, HfError *err);
/* Delete the guest's hf-dr-* checkpoints that no published point of guest_dir names (left by
 * a copy that died after its backup began); flags for drv_checkpoint_delete. */
void drrecover_orphans(DrvConn *c, const char *guest, const char *guest_dir, cJSON *report);
