/* drapi.h - DR copies of libvirt guests into a DR store (drstore.h), and dr.list / dr.verify.
 *
 * Push mode only: the hypervisor writes the images straight into the store, which must be a
 * path on (or mounted at) the hypervisor host. Pull mode (NBD read by holdfastd, for a store
 * somewhere else) is not done yet. */
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
/* dr.list [GUEST]: restore points of one guest or of all guests in the store. */
void drapi_list(Call *call);
/* dr.verify GUEST [POINT]: a job: checksums and qemu-img check of the point's chain. */
void drapi_verify(Call *call);
