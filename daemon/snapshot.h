/* snapshot.h - snapshot jobs: create (with optional quiesce), revert, delete; and the JSON of
 * guests and snapshots that the method layer returns. */
#pragma once

#include <cjson/cJSON.h>
#include <glib.h>

#include "drivers/driver.h"
#include "error.h"
#include "hosts.h"
#include "jobs.h"

/* What a snapshot job needs, copied at submit time (the config may be reloaded meanwhile). */
typedef struct {
	Host *host; /* referenced */
	char *state_dir;
	int agent_timeout;
} SnapCtx;

SnapCtx *snapshot_ctx_new(Host *h, const char *state_dir, int agent_timeout);
void snapshot_ctx_free(void *ctx);

int snapshot_job_create(Job *job, HfError *err);
int snapshot_job_revert(Job *job, HfError *err);
int snapshot_job_delete(Job *job, HfError *err);

/* Snapshot names: 1-128 printable characters, no '/', not starting with '.' or '-'. */
int snapshot_name_check(const char *name, HfError *err);
/* hf-YYYYMMDDTHHMMSSZ for the given time (UTC). */
char *snapshot_default_name(int64_t unix_seconds);

cJSON *snapshot_to_json(const DrvSnapshot *s, const cJSON *own);
/* List a guest's snapshots with ownership (worker thread). */
cJSON *snapshot_list_json(HostConn *hc, const char *state_dir, const char *host,
			  const char *guest, HfError *err);
cJSON *guest_to_json(const DrvGuest *g, const char *host, bool host_unreachable);
