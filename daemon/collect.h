/* collect.h - the build check's collector: what one guest's QEMU guest agent can tell about
 * its Windows build, patches and ESU licence, as buildcheck evidence (daemon/buildcheck/).
 *
 * Runs on a worker thread and blocks on the agent: guest-info (which commands the agent
 * has), guest-get-osinfo, then guest-exec + guest-exec-status of reg.exe and wmic.exe (the
 * exact commands and output formats are documented in collect.c). Every agent call and every
 * guest program is bounded by timeout_s. What could not be learned is marked unavailable in
 * the evidence with the reason (old agent, non-zero exit code, unparsable output, timeout). */
#pragma once

#include <cjson/cJSON.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "buildcheck.h"
#include "drivers/driver.h"
#include "error.h"

typedef struct {
	char *agent_version; /* guest-info "version"; NULL when not learned */
	GPtrArray *missing;  /* char *: agent commands the check needs that the agent lacks */
	bool windows;	     /* false only when guest-get-osinfo names another OS */
	char *os_id;	     /* guest-get-osinfo "id" ("mswindows", "debian"); NULL when unknown */
	char *os_name;	     /* guest-get-osinfo "pretty-name" (or "name") */
	int agent_calls;     /* agent round trips made */
	int64_t elapsed_us;  /* wall time of the whole collection */
} CollectInfo;

void collect_info_init(CollectInfo *ci);
void collect_info_clear(CollectInfo *ci);
/* {"version":..|null,"missing":[..],"calls":N,"ms":N} and {"windows":bool,"id":..,"name":..} */
cJSON *collect_info_agent_json(const CollectInfo *ci);
cJSON *collect_info_os_json(const CollectInfo *ci);

/* Collect the evidence of one running guest into ev (initialised by the caller). Returns 0
 * when the agent answered (sources it could not give are marked unavailable), -1 with err
 * when nothing could be learned: no agent (agent-unavailable), a silent agent
 * (agent-timeout), a backend without agent commands (unsupported), the guest gone
 * (not-found) or not running (conflict), the host gone (host-unreachable). */
int collect_guest(DrvConn *conn, const char *guest, int timeout_s, BcEvidence *ev, CollectInfo *ci,
		  HfError *err);
/* Run one program in the guest with the collector's guest-exec / guest-exec-status loop
 * (bounded by timeout_s in all); *out: its stdout bytes (NUL-terminated copy, *out_len
 * bytes), *code: its exit code. A program killed by a signal fails. Errors as collect_guest. */
int collect_program(DrvConn *conn, const char *guest, int timeout_s, const char *path,
		    const char *const *argv, char **out, gsize *out_len, int *code, HfError *err);
