/* drmark.h - the failover mark: <hffo:failover time= point= host= name= mode=/> in a source
 * guest's metadata (drxml.h), set by dr failover; holdfast neither copies nor snapshots a
 * marked guest. */
#pragma once

#include <cjson/cJSON.h>

#include "drivers/driver.h"
#include "error.h"

/* The mark of a guest: the element as XML (new string), or NULL (none, or unreadable). */
char *drmark_get(DrvConn *c, const char *guest);
/* -1 with HF_ERR_CONFLICT naming the failover and the way back when guest carries the mark
 * ("what": "DR copy", "snapshots"), else 0. A guest whose mark cannot be read is not refused. */
int drmark_refuse(DrvConn *c, const char *guest, const char *what, HfError *err);

/* The store's side: GUEST-DIR/failed-over.json {time, point, host, name, mode} once a failover
 * of the guest brought it up at the DR host, so dr status says "failed-over" for that guest
 * instead of an RPO that only grows (until a newer point is copied into the directory). */
int drmark_store(const char *gdir, const cJSON *mark, HfError *err);
/* The store's mark when it still applies (the directory's newest point is the mark's), else
 * NULL. newest: the directory's newest point id. */
cJSON *drmark_store_get(const char *gdir, const char *newest);
