/* drtestrun.h - what a test boot (drtest.c) does with the booted guest: start it, wait for its
 * agent (the measured RTO), run the build check inside, check TCP ports, and record the outcome
 * in the point's manifest. Internal to drtest.c. */
#pragma once

#include <cjson/cJSON.h>
#include <glib.h>
#include <stdbool.h>

#include "buildcheck.h"
#include "drivers/driver.h"
#include "hosts.h"
#include "jobs.h"

#define DRTEST_PREFIX "hf-test-"    /* every test domain's name: hf-test-GUEST-POINT */
#define DRTEST_MARK "hf-test.json" /* in a test's directory: {"host", "domain"} */

typedef struct {
	Host *host;	   /* referenced */
	char *gdir;	   /* the guest's directory in the store */
	char *point;	   /* the point under test */
	char *name;	   /* the test domain: hf-test-GUEST-POINT */
	char *dir;	   /* its scratch directory (overlays) */
	GArray *ports;	   /* guint: TCP ports that must be listening */
	int timeout_s;	   /* start to agent-ready and ports, in all */
	int check_timeout; /* each agent call / guest program of the build check */
	bool keep, dry_run;
	bool leased; /* holds a drlease on (gdir, point) */
	BcPolicy policy;
} DrTestCtx;

/* How waiting for a booted guest's agent ended (drtestrun_wait_agent). */
typedef enum {
	DRTEST_AGENT_READY,
	DRTEST_AGENT_CANCELLED,
	DRTEST_AGENT_STOPPED, /* the guest left the running state (*state says how) */
	DRTEST_AGENT_TIMEOUT,
} DrTestAgentWait;

/* Until guest-ping of `name` answers, the guest stops, the job is cancelled or `deadline`
 * (monotonic microseconds) passes; a "waiting" progress line at pct every few seconds. *last:
 * the last ping's error; *state: the guest's state when it stopped. Used by test boots and by
 * failover (the DR guest's start). */
DrTestAgentWait drtestrun_wait_agent(Job *job, DrvConn *c, const char *name, gint64 deadline,
				     int pct, HfError *last, DrvGuestState *state);

/* Start the defined test domain and run the checks; res gets rto_s, agent_ready, check,
 * ports, ok, error; the outcome is appended to the manifest's "tests". 0 when every check
 * passed, else -1 with err naming what failed. */
int drtestrun_boot(Job *job, DrvConn *c, DrTestCtx *t, const cJSON *m, cJSON *res, HfError *err);
/* Every disk of g (device disk) an overlay directly in dir, and at least one? */
bool drtestrun_disks_in(const char *dir, const DrvGuest *g);
