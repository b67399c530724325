/* drxml.h - rewriting a restore point's domain XML (manifest "domain_xml") for a guest made
 * from the point: a restore (new guest or in place), a test boot, a failover. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include <cjson/cJSON.h>

#include "error.h"

/* holdfast's metadata elements on guests made from or failed over by DR (one per namespace):
 *   <hfdr:restore point= guest= uuid= time= mode=/> a guest restored from restore point `point`
 *   <hffo:failover time= point= host= name= mode=/> a source guest that was failed over: never
 *                                                   started, copied or snapshotted again */
#define DRXML_NS_RESTORE "https://holdfast.dev/xmlns/dr-restore/1"
#define DRXML_NS_FAILOVER "https://holdfast.dev/xmlns/dr-failover/1"

typedef struct {
	const char *point, *guest, *uuid; /* the point and the guest it was copied from */
	const char *time;		  /* ISO 8601 UTC */
	const char *mode;		  /* "restore", "in-place" or "failover" */
} DrXmlRecord;

typedef struct {
	const char *name;  /* the guest's name (<name>) */
	GHashTable *files; /* disk target -> the image the guest uses (every disk/lun needs one) */
	bool keep_uuid;	   /* in place / failover: keep <uuid>, <mac>s and log paths */
	bool keep_mac;	   /* keep the <mac>s even without keep_uuid (failover on one host) */
	bool isolate;	   /* test boot: every <interface> removed (no network) */
	const char *nvram; /* NVRAM file for the guest; NULL: <nvram> dropped (libvirt makes one) */
	const DrXmlRecord *record; /* NULL: none; else <hfdr:restore> in <metadata> */
	/* passthrough LUNs (device='lun') are never in a point: in place they stay the guest's
	 * (keep_luns); otherwise left out of the new guest (a test boot or a restore beside the
	 * source must not share the source's LUN), each noted in left_out when given */
	bool keep_luns;
	GPtrArray *left_out; /* out, optional: "TARGET (lun SOURCE): why" (char*, g_free) */
} DrXmlOpts;

/* Every disk of device disk becomes a qcow2 file at files[TARGET] (a disk without one
 * fails: it would share the source guest's image); a LUN without one: see keep_luns; unless keep_uuid: no <uuid> (libvirt makes
 * one), no <mac> (new ones), serial/console file logs renamed to DIR/NAME-FILE. A new string,
 * or NULL with err. */
char *drxml_restore(const char *xml, const DrXmlOpts *o, HfError *err);

/* left_out (taken, may be NULL) as the array "left_out" of result when not empty. */
void drxml_left_out(GPtrArray *left_out, cJSON *result);

/* An element <PREFIX:ELEM xmlns:PREFIX="NS" k="v".../> (ns NULL: <ELEM k="v".../>) from
 * NULL-terminated key, value pairs (values escaped; NULL values skipped). */
char *drxml_element(const char *prefix, const char *ns, const char *elem,
		    ...) G_GNUC_NULL_TERMINATED;
/* The attributes of a metadata element (as libvirt returns it): a new table, or NULL when xml
 * is NULL or does not parse. */
GHashTable *drxml_attrs(const char *xml);
/* The failover mark <failover time= point= host= name= mode=/> for drv_metadata_set with
 * DRXML_NS_FAILOVER and key "hffo" (a new string). */
char *drxml_failover_mark(const char *time, const char *point, const char *host, const char *name,
			  const char *mode);
/* <os><nvram> of a domain XML (a new string), or NULL. */
char *drxml_nvram(const char *xml);
