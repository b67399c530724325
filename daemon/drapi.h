/* drapi.h - DR copies of libvirt guests into a DR store (drstore.h), and dr.list / dr.verify.
 *
 * Push or pull mode (drpull.h); dr verify --compare is a pull-mode copy whose rebuilt disks
 * are compared with the guest's at the same instant. */
#pragma once

#include "drstore.h"
#include "hosts.h"
#include "server.h"

/* The [drstore] a request's "store" names, or the first one; NULL with err. */
const DrStore *drapi_store(Call *call, HfError *err);
/* dr.copy of a guest whose driver has backup_push (called by drcopy_handle). */
void drapi_copy(Call *call, Host *h, const char *guest);
/* The dr.copy job without a client call (the scheduler's dr-copy policies): the same job as
 * `holdfast dr copy`; params (taken): {"guest","store","full","quiesce"}. Main thread. */
Job *drapi_copy_submit(Daemon *d, Host *h, const char *guest, const DrStore *s, cJSON *params);
/* The guest's directory in store s: by its UUID from the inventory when the guest (NAME or
 * HOST/NAME) is known there and the directory exists (no manifest read), else the directory
 * whose newest manifest names it (drstore_find_guest). NULL when there is none. Main thread. */
char *drapi_guest_dir(Daemon *d, const DrStore *s, const char *addr);
/* The configured host the newest point in gdir was copied from, or NULL; *name (new, may be
 * NULL when no point names one): that host's name from the manifest. Reads one manifest. */
Host *drapi_point_host(Daemon *d, const char *gdir, char **name);
/* dr.list [GUEST]: restore points of one guest or of all guests in the store. */
void drapi_list(Call *call);
/* dr.verify GUEST [POINT]: a job: checksums and qemu-img check of the point's chain. */
void drapi_verify(Call *call);
