/* drtest.h - dr.test: boot a restore point without touching it (SureBackup for KVM).
 *
 * A job: every disk of the point gets a qcow2 overlay in a scratch directory
 * (TEST-DIR/hf-test-GUEST-POINT/TARGET.qcow2, backed by the point's image by absolute path; the
 * chain below stays the store's, opened read only), a domain hf-test-GUEST-POINT is defined
 * from the point's XML with every network interface removed and started on the guest's host,
 * the time from start to the first guest-ping answer is the measured RTO, the build check runs
 * inside (the collector and classifier of check.run), optional TCP ports must be LISTENING in
 * the guest's netstat -an (polled until the timeout), the outcome is appended to the point's
 * manifest ("tests"), and everything is torn down (unless --keep). The point is leased for the
 * whole test (drlease.h): retention keeps it and its chain.
 * The test domain carries holdfast's record (<hfdr:restore mode="test">, kept="yes" once kept)
 * and its directory a mark (hf-test.json: host, domain); a test boot first sweeps what an
 * earlier holdfastd left on its host (drtest_stale, drtest_dir_stale). A teardown that leaves
 * anything says what and how to remove it ("teardown_error"); a test domain still defined
 * fails the job. */
#pragma once

#include <cjson/cJSON.h>
#include <glib.h>
#include <stdbool.h>

#include "drivers/driver.h"
#include "server.h"

void drtest_handle(Call *call);
/* The test domain's name: hf-test-GUEST-POINT (GUEST without a HOST/ part). */
char *drtest_domain_name(const char *guest, const char *point);
/* dr.list row members from a manifest's test boots: "last_test" {"time","ok","rto_s"} of the
 * newest one (null when never tested) and "rto_s", the newest measured RTO (null when none). */
void drtest_list_row(const cJSON *manifest, cJSON *row);
/* dr.status row members from a guest's points (manifests, oldest first): "rto_s" of its newest
 * test boot that measured one, with "rto_point" and "rto_time" (all null when none did). */
void drtest_status_row(GPtrArray *points, cJSON *row);
/* A test boot an earlier holdfastd left (it died mid-test), safe to remove: named hf-test-*,
 * carrying holdfast's test record (record: its <hfdr:restore> element, mode "test", not
 * kept="yes"), every disk an overlay directly in ROOT/NAME/ (root: the store's test-dir). */
bool drtest_stale(const DrvGuest *g, const char *record, const char *root);
/* A test directory ROOT/ENTRY left without its domain: named hf-test-*, its hf-test.json names
 * this host and the directory's own name, and no guest of that name is defined on the host
 * (defined: the host's guest names). */
bool drtest_dir_stale(const char *root, const char *entry, const char *host, GHashTable *defined);
