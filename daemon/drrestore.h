/* drrestore.h - dr.restore (a restore point as a new guest, or in place) and dr.status (RPO).
 *
 * The handler checks the parameters and picks the host (--host, else the guest's own, else the
 * host the point was copied from); the job is drrun_restore (drrun.h): verify the point's
 * chain, flatten every disk into a temporary file, check, rename, define; --dry-run reports
 * the plan and its checks only. Push-mode stores: the store and the image directory are paths
 * on holdfastd's machine, which must be (or share storage with) the hypervisor host. */
#pragma once

#include <glib.h>

#include "error.h"
#include "server.h"

/* dr.restore GUEST POINT (--as NAME [--host H] [--dir DIR] | --in-place [--keep-old])
 * [--dry-run] [--store S]: a job. */
void drrestore_handle(Call *call);
/* dr.status [GUEST] [--store S]: per guest the newest verified point, its age, ok/warn/critical
 * against the store's rpo-warn / rpo-critical, and the number of points. */
void drrestore_status(Call *call);
