/* drnvram.h - the NVRAM (UEFI variable store) of a guest in its restore point.
 *
 * At copy time the domain XML's <os><nvram>PATH</nvram>, when PATH is readable on holdfastd's
 * machine, is copied into the point as nvram.fd (fsynced) and listed in the manifest: "nvram":
 * {"file": "nvram.fd", "source": PATH, "size", "sha256"} plus a files[] entry, so verify checks
 * it like the disks. Not readable (a remote host): "nvram": {"file": null, "source": PATH,
 * "note": why}; the restored guest then gets a fresh variable store from libvirt. */
#pragma once

#include <cjson/cJSON.h>

#include "error.h"

/* For the point being written in partial, with manifest m (its "domain_xml" is read). */
int drnvram_capture(const char *partial, cJSON *m, HfError *err);
