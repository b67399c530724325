/* drcopy.c - dr.copy: a full DR copy of one guest as a job with progress.
 *
 * Hyper-V guests: the driver's export_full (a recovery checkpoint, ExportSystemDefinition of it
 * to a path on the Hyper-V host, then the checkpoint is deleted); only full copies: --full is
 * required, so that a later incremental default cannot change what an existing script does.
 * libvirt guests (drivers with backup_push): full or incremental copies into a DR store,
 * drapi.c. */
#include "jobcall.h"
#include "drcopy.h"

#include <string.h>

#include "daemon.h"
#include "drapi.h"
#include "log.h"

typedef struct {
	Host *host; /* referenced */
} DrCtx;

static void ctx_free(void *p)
{
	DrCtx *c = p;
	host_unref(c->host);
	g_free(c);
}

static void on_progress(void *opaque, int pct, const char *msg)
{
	job_progress(opaque, pct, "%s", msg);
}

static bool on_cancelled(void *opaque)
{
	return job_cancelled(opaque);
}

static int unsupported(const char *host, const char *guest, const char *drv, HfError *err)
{
	return error_set(err, HF_ERR_UNSUPPORTED,
			 "dr copy of %s/%s: unsupported by this backend yet (%s); full DR copies "
			 "work for Hyper-V guests",
			 host, guest, drv);
}

static int drcopy_job(Job *job, HfError *err)
{
	DrCtx *ctx = job_ctx(job);
	const cJSON *p = job_params(job);
	const char *guest = job_guest(job);
	const char *dest = cJSON_GetStringValue(cJSON_GetObjectItem(p, "dest"));
	g_autoptr(HostConn) hc = host_conn_get(ctx->host, err);
	DrvExportSpec spec = {
	    .dest_dir = dest, .progress = on_progress, .opaque = job, .cancelled = on_cancelled};

	if (!hc)
		return -1;
	DrvConn *c = host_conn_drv(hc);
	if (!c->drv->export_full)
		return unsupported(host_name(ctx->host), guest, c->drv->name, err);
	bool dry = cJSON_IsTrue(cJSON_GetObjectItem(p, "dry_run"));
	g_autoptr(DrvGuest) g = NULL;
	if (dry && drv_guest_get(c, guest, 0, &g, err) < 0) /* the guest must exist */
		return -1;
	job_progress(job, 1, "full DR copy of %s/%s%s", host_name(ctx->host), guest,
		     dry ? " (dry run: nothing done)" : "");
	if (!dry && drv_export_full(c, guest, &spec, 0, err) < 0) {
		host_report(ctx->host, guest, err);
		return -1;
	}
	g_autofree char *addr = g_strdup_printf("%s/%s", host_name(ctx->host), guest);
	cJSON *res = cJSON_CreateObject();
	cJSON_AddStringToObject(res, "guest", addr);
	cJSON_AddStringToObject(res, "kind", "full");
	if (dry)
		cJSON_AddBoolToObject(res, "dry_run", 1);
	if (spec.exported || dest)
		cJSON_AddStringToObject(res, "dest", spec.exported ? spec.exported : dest);
	else
		cJSON_AddNullToObject(res, "dest");
	cJSON_AddStringToObject(res, "backend", c->drv->name);
	job_set_result(job, res);
	if (!dry)
		hf_log("hf-dr", LOG_LVL_INFO, "full DR copy of %s done (%s)", addr,
		       spec.exported ? spec.exported : "driver default");
	g_free(spec.exported);
	return 0;
}

void drcopy_handle(Call *call)
{
	HfError err = {0};
	Host *h = NULL;
	g_autofree char *guest = NULL;
	const char *addr = cJSON_GetStringValue(cJSON_GetObjectItem(call->params, "guest"));

	if (hosts_resolve(call->d->hosts, addr, &h, &guest, &err) < 0) {
		call_reply_error(call, &err);
		return;
	}
	const DrvDriver *drv = drv_for_uri(host_uri(h));
	/* libvirt: full/incremental into a DR store; libvirt's test driver has no backups */
	if (drv && drv->backup_push && !g_str_has_prefix(host_uri(h), "test:")) {
		drapi_copy(call, h, guest);
		return;
	}
	if (!drv || !drv->export_full) {
		unsupported(host_name(h), guest, drv ? drv->name : "no driver", &err);
		call_reply_error(call, &err);
		return;
	}
	if (!cJSON_IsTrue(cJSON_GetObjectItem(call->params, "full"))) {
		error_set(&err, HF_ERR_UNSUPPORTED,
			  "dr copy of %s/%s: only full copies exist yet: add --full", host_name(h),
			  guest);
		call_reply_error(call, &err);
		return;
	}
	if (jobcall_host_check(h, &err) < 0) {
		call_reply_error(call, &err);
		return;
	}
	DrCtx *ctx = g_new0(DrCtx, 1);
	ctx->host = host_ref(h);
	JobSpec spec = {
	    .kind = call->method->name,
	    .host = host_name(h),
	    .guest = guest,
	    .params = cJSON_Duplicate(call->params, 1),
	    .run = drcopy_job,
	    .ctx = ctx,
	    .ctx_free = ctx_free,
	};
	jobcall_submit(call, &spec);
}
