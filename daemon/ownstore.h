/* ownstore.h - which snapshots holdfast made, and how consistent they are.
 *
 * One file per guest: STATE_DIR/snapshots/HOST/UUID.json, written atomically. A snapshot is
 * holdfast's when a record with its name AND its creation time exists: a foreign snapshot made
 * later under the same name is not mistaken for ours. Before a snapshot is created an intent
 * record (pending) is written, so a crash between create and commit leaves evidence, and the
 * pending record matches a snapshot of that name created after the intent. */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

typedef struct {
	const char *state_dir;
	const char *host;
	const char *uuid;
} OwnKey;

int ownstore_intent(const OwnKey *k, const char *guest, const char *name, int64_t job,
		    HfError *err);
int ownstore_commit(const OwnKey *k, const char *name, int64_t created, const char *consistency,
		    const char *reason, const char *quiesce, HfError *err);
/* Remove the record of name (pending or committed). Missing is not an error. */
int ownstore_drop(const OwnKey *k, const char *name, HfError *err);
/* The record of the snapshot (name, created) when holdfast made it, else NULL. Caller frees. */
cJSON *ownstore_lookup(const OwnKey *k, const char *name, int64_t created);

/* Nightly snapshots (scheduler): the policy that made the snapshot, its slot (UTC) and the time
 * it was taken by the daemon's clock (clock.h); kept through commit. Call after the intent. */
int ownstore_set_policy(const OwnKey *k, const char *name, const char *policy, int64_t slot,
			int64_t taken, HfError *err);
/* Pin or unpin the record of (name, created); HF_ERR_NOT_FOUND when holdfast did not make it. */
int ownstore_pin(const OwnKey *k, const char *name, int64_t created, bool pinned, HfError *err);
/* A copy of every record of the guest (array; empty when none). Caller frees. */
cJSON *ownstore_records(const OwnKey *k, HfError *err);
