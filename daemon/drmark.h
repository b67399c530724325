/* drmark.h - the failover mark: <hffo:failover time= point= host= name= mode=/> in a source
 * guest's metadata (drxml.h), set by dr failover; holdfast neither copies nor snapshots a
 * marked guest. */
#pragma once

#include "drivers/driver.h"
#include "error.h"

/* The mark of a guest: the element as XML (new string), or NULL (none, or unreadable). */
char *drmark_get(DrvConn *c, const char *guest);
/* -1 with HF_ERR_CONFLICT naming the failover and the way back when guest carries the mark
 * ("what": "DR copy", "snapshots"), else 0. A guest whose mark cannot be read is not refused. */
int drmark_refuse(DrvConn *c, const char *guest, const char *what, HfError *err);
