/* drlease.h - restore points in use by a running restore, test boot or failover.
 *
 * A lease on (guest dir, point) protects that point AND every point its disks' images are
 * backed by (its chain): retention and consolidation must not delete, merge or rewrite a
 * leased point or an ancestor of one. Leases live in holdfastd's memory only (a job that dies
 * with the daemon holds nothing after a restart). Thread-safe: job threads take and release,
 * the scheduler's retention asks. Taking the same point twice needs two releases. */
#pragma once

#include <stdbool.h>

void drlease_take(const char *gdir, const char *point);
void drlease_release(const char *gdir, const char *point);
/* Is this exact point leased (not: is it an ancestor of a leased point; drchain answers that)? */
bool drlease_held(const char *gdir, const char *point);
/* The leased points of a guest dir (a new NULL-terminated array; g_strfreev). */
char **drlease_points(const char *gdir);
