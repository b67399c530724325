/* jobcall.c - shared steps of the handlers that start jobs. */
#include "jobcall.h"

#include "daemon.h"

int jobcall_host_check(Host *h, HfError *err)
{
	if (host_state(h, NULL) == HOST_CONNECTED)
		return 0;
	host_conn_put(host_conn_get(h, err)); /* fills the unreachable message */
	return -1;
}

void jobcall_submit(Call *call, JobSpec *spec)
{
	Job *job = jobs_submit(call->d->jobs, spec);
	cJSON *r = cJSON_CreateObject();
	cJSON_AddItemToObject(r, "job", job_to_json(job));
	call_reply_result(call, r);
}
