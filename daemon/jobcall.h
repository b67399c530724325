/* jobcall.h - the two steps every job-starting handler shares: refuse at once when the guest's
 * host is unreachable, and submit the job replying {"job": ...} immediately. */
#pragma once

#include "hosts.h"
#include "jobs.h"
#include "server.h"

/* 0 when h is connected; else -1 with err set to the host's unreachable message. */
int jobcall_host_check(Host *h, HfError *err);
/* jobs_submit(spec), then reply to call with {"job": the new job}. Takes spec->params/ctx. */
void jobcall_submit(Call *call, JobSpec *spec);
