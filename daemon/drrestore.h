/* drrestore.h - dr.restore (a restore point as a new, shut-off guest) and dr.status (RPO).
 *
 * A restore verifies the point's chain (checksums, qemu-img check), flattens each disk's chain
 * (qemu-img convert of the point's top image, which reads through the rebased backing files)
 * into DIR/NAME-TARGET.qcow2 (DIR: --dir, else the directory of the guest's original disk),
 * rewrites the point's domain XML (drstore_restore_xml) and defines it. The source guest and the
 * store are only read. Push-mode stores only: the store and DIR are paths on this host, which
 * is the hypervisor host. */
#pragma once

#include <glib.h>

#include "error.h"
#include "server.h"

/* dr.restore GUEST POINT --as NAME [--dir DIR] [--store S]: a job. */
void drrestore_handle(Call *call);
/* dr.status [GUEST] [--store S]: per guest the newest verified point, its age, ok/warn/critical
 * against the store's rpo-warn / rpo-critical, and the number of points. */
void drrestore_status(Call *call);
