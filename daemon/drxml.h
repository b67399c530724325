/* drxml.h - rewriting a restore point's domain XML (manifest "domain_xml") for a guest made
 * from the point: a restore (new guest or in place), a test boot, a failover. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "error.h"

typedef struct {
	const char *name;  /* the guest's name (<name>) */
	GHashTable *files; /* disk target -> the image the guest uses (every disk/lun needs one) */
	bool keep_uuid;	   /* in place / failover: keep <uuid>, <mac>s and log paths */
	bool isolate;	   /* test boot: every <interface> removed (no network) */
	const char *nvram; /* NVRAM file for the guest; NULL: <nvram> dropped (libvirt makes one) */
} DrXmlOpts;

/* Every disk of device disk/lun becomes a qcow2 file at files[TARGET] (a disk without one
 * fails: it would share the source guest's image); unless keep_uuid: no <uuid> (libvirt makes
 * one), no <mac> (new ones), serial/console file logs renamed to DIR/NAME-FILE. A new string,
 * or NULL with err. */
char *drxml_restore(const char *xml, const DrXmlOpts *o, HfError *err);
