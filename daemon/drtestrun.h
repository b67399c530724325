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

/* Start the defined test domain and run the checks; res gets rto_s, agent_ready, check,
 * ports, ok, error; the outcome is appended to the manifest's "tests". 0 when every check
 * passed, else -1 with err naming what failed. */
int drtestrun_boot(Job *job, DrvConn *c, DrTestCtx *t, const cJSON *m, cJSON *res, HfError *err);
/* Every disk of g (device disk) an overlay directly in dir, and at least one? */
bool drtestrun_disks_in(const char *dir, const DrvGuest *g);
