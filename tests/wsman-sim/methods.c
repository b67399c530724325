/* methods.c - Invoke: WMI methods with ReturnValue 0 / 4096 + Job / WMI error codes. */
#include "methods.h"
#include "classes.h"
#include "export.h"
#include "jobs.h"
#include "reply.h"

#include <stdlib.h>
#include <string.h>

enum {
	RV_OK = 0,
	RV_JOB = 4096,
	RV_INVALID_TRANSITION = 4097, /* CIM_ConcreteJob.RequestStateChange: job not running */
	RV_FAILED = 32768,
	RV_NOT_SUPPORTED = 32770,
	RV_INVALID_PARAMETER = 32773,
	RV_INVALID_STATE = 32775,
};

typedef int (*MethodFn)(SimState *st, SoapReq *rq, SimInst *target, SimInst *outp, GString *log);

static GPtrArray *job_sel(const SimJob *j)
{
	GPtrArray *sel = g_ptr_array_new_with_free_func(sim_pair_free);
	g_ptr_array_add(sel, sim_pair_new("InstanceID", j->id));
	return sel;
}

static int started(SimInst *outp, const SimJob *j, GString *log)
{
	inst_set_ref(outp, "Job", "Msvm_ConcreteJob", job_sel(j));
	g_string_append_printf(log, " job=%s%s", j->id, j->will_fail ? " (will fail)" : "");
	return RV_JOB;
}

static bool int_param(SoapReq *rq, const char *name, int *value)
{
	bool present;
	g_autofree char *s = soapreq_param(rq, name, &present);
	char *end = NULL;
	long v = s ? strtol(s, &end, 10) : 0;
	if (!s || !*s || *end)
		return false;
	*value = (int)v;
	return true;
}

static SimVm *ref_vm(SimState *st, SoapReq *rq, const char *param)
{
	g_autofree char *cls = NULL;
	g_autoptr(GPtrArray) sel = NULL;
	if (soapreq_param_ref(rq, param, &cls, &sel) < 0 ||
	    g_ascii_strcasecmp(cls, "Msvm_ComputerSystem") != 0)
		return NULL;
	return sim_vm_find(st, sim_pairs_get(sel, "Name"));
}

static SimSnap *ref_snap(SimState *st, SoapReq *rq, const char *param)
{
	g_autofree char *cls = NULL;
	g_autoptr(GPtrArray) sel = NULL;
	if (soapreq_param_ref(rq, param, &cls, &sel) < 0 ||
	    g_ascii_strcasecmp(cls, "Msvm_VirtualSystemSettingData") != 0)
		return NULL;
	g_autofree char *guid = sim_vssd_path_guid(sim_pairs_get(sel, "InstanceID"));
	return sim_snap_find(st, guid);
}

/* An embedded-instance parameter of class CLS; NULL when absent, empty or malformed
 * (*BAD true for malformed or of another class). */
static GPtrArray *embedded_param(SoapReq *rq, const char *name, const char *cls, bool *bad)
{
	bool present;
	g_autofree char *text = soapreq_param(rq, name, &present);
	g_autofree char *got_cls = NULL, *err = NULL;
	*bad = false;
	if (!text || !*text)
		return NULL;
	GPtrArray *props = soapreq_embedded(text, &got_cls, &err);
	if (!props || !got_cls || g_ascii_strcasecmp(got_cls, cls) != 0) {
		*bad = true;
		if (props)
			g_ptr_array_unref(props);
		return NULL;
	}
	return props;
}

static int request_state_change(SimState *st, SoapReq *rq, SimInst *target, SimInst *outp,
				GString *log)
{
	SimVm *vm = sim_vm_find(st, inst_get(target, "Name"));
	int want;
	if (!vm)
		return RV_NOT_SUPPORTED; /* the host itself */
	if (!int_param(rq, "RequestedState", &want))
		return RV_INVALID_PARAMETER;
	g_string_append_printf(log, " vm=%s from=%d to=%d", vm->name, vm->state, want);
	static const struct {
		int want;
		const char *from; /* states allowed before, as ",2,3," */
	} moves[] = {{2, ",3,6,9,"}, {3, ",2,6,9,"}, {4, ",2,"}, {6, ",2,9,"},
		     {9, ",2,"},     {10, ",2,"},    {11, ",2,"}};
	g_autofree char *from = g_strdup_printf(",%d,", vm->state);
	for (size_t i = 0; i < G_N_ELEMENTS(moves); i++) {
		if (moves[i].want != want)
			continue;
		if (!strstr(moves[i].from, from) || (want == 4 && vm->kvp->len == 0))
			return RV_INVALID_STATE;
		SimJob *j = job_start(st, SIM_JOB_STATE_CHANGE, "RequestStateChange", vm->id);
		j->requested_state = want == 4 ? 3 : want;
		j->prev_state = vm->state;
		if (want == 2 && vm->state != 9)
			vm->state = 10;
		else if (want == 3 || want == 4)
			vm->state = 4;
		return started(outp, j, log);
	}
	return RV_INVALID_PARAMETER;
}

static int create_snapshot(SimState *st, SoapReq *rq, SimInst *target, SimInst *outp, GString *log)
{
	SimVm *vm = ref_vm(st, rq, "AffectedSystem");
	int type = SIM_SNAP_STANDARD;
	bool bad;
	inst_set(outp, "ResultingSnapshot", NULL);
	if (!vm)
		return RV_INVALID_PARAMETER;
	g_autoptr(GPtrArray) settings =
	    embedded_param(rq, "SnapshotSettings", "Msvm_VirtualSystemSnapshotSettingData", &bad);
	const char *level = settings ? sim_pairs_get(settings, "ConsistencyLevel") : NULL;
	bool present = false;
	g_free(soapreq_param(rq, "SnapshotType", &present));
	if (bad || (level && strcmp(level, "1") != 0 && strcmp(level, "2") != 0) ||
	    (present && !int_param(rq, "SnapshotType", &type)) ||
	    (type != SIM_SNAP_STANDARD && type != SIM_SNAP_RECOVERY))
		return RV_INVALID_PARAMETER;
	g_string_append_printf(log, " vm=%s type=%d consistency=%s", vm->name, type,
			       level ? level : "-");
	if (vm->state != 2 && vm->state != 3 && vm->state != 6 && vm->state != 9)
		return RV_INVALID_STATE;
	SimJob *j = job_start(st, SIM_JOB_CREATE_SNAPSHOT, "CreateSnapshot", vm->id);
	j->snap_type = type;
	return started(outp, j, log);
}

static int apply_snapshot(SimState *st, SoapReq *rq, SimInst *target, SimInst *outp, GString *log)
{
	SimSnap *s = ref_snap(st, rq, "Snapshot");
	SimVm *vm = s ? sim_vm_find(st, s->vm_id) : NULL;
	if (!vm)
		return RV_INVALID_PARAMETER;
	g_string_append_printf(log, " vm=%s snapshot=%s", vm->name, s->id);
	if (vm->state != 3 && vm->state != 6)
		return RV_INVALID_STATE;
	SimJob *j = job_start(st, SIM_JOB_APPLY_SNAPSHOT, "ApplySnapshot", vm->id);
	j->snap_id = g_strdup(s->id);
	return started(outp, j, log);
}

static int destroy_snapshot(SimState *st, SoapReq *rq, SimInst *target, SimInst *outp, GString *log)
{
	SimSnap *s = ref_snap(st, rq, "AffectedSnapshot");
	if (!s)
		return RV_INVALID_PARAMETER;
	g_string_append_printf(log, " snapshot=%s", s->id);
	SimJob *j = job_start(st, SIM_JOB_DESTROY_SNAPSHOT, "DestroySnapshot", s->vm_id);
	j->snap_id = g_strdup(s->id);
	return started(outp, j, log);
}

static int modify_system_settings(SimState *st, SoapReq *rq, SimInst *target, SimInst *outp,
				  GString *log)
{
	bool bad;
	inst_set(outp, "Job", NULL);
	g_autoptr(GPtrArray) p =
	    embedded_param(rq, "SystemSettings", "Msvm_VirtualSystemSettingData", &bad);
	g_autofree char *guid = p ? sim_vssd_path_guid(sim_pairs_get(p, "InstanceID")) : NULL;
	SimVm *vm = sim_vm_find(st, guid);
	SimSnap *s = vm ? NULL : sim_snap_find(st, guid);
	const char *name = p ? sim_pairs_get(p, "ElementName") : NULL;
	const char *ust = p ? sim_pairs_get(p, "UserSnapshotType") : NULL;
	if (!vm && !s)
		return RV_INVALID_PARAMETER;
	if ((name && !*name) || (ust && (!vm || (strcmp(ust, "2") != 0 && strcmp(ust, "3") != 0 &&
						 strcmp(ust, "5") != 0))))
		return RV_INVALID_PARAMETER;
	g_string_append_printf(log, " settings=%s name=%s", guid, name ? name : "-");
	char **slot = vm ? &vm->name : &s->name;
	if (name) {
		g_free(*slot);
		*slot = g_strdup(name);
	}
	if (ust)
		vm->user_snapshot_type = atoi(ust);
	return RV_OK;
}

static int export_system_definition(SimState *st, SoapReq *rq, SimInst *target, SimInst *outp,
				    GString *log)
{
	SimVm *vm = ref_vm(st, rq, "ComputerSystem");
	bool bad, present;
	g_autofree char *dir = soapreq_param(rq, "ExportDirectory", &present);
	g_autoptr(GPtrArray) settings =
	    embedded_param(rq, "ExportSettingData", "Msvm_VirtualSystemExportSettingData", &bad);
	if (!vm || !dir || bad)
		return RV_INVALID_PARAMETER;
	g_autofree char *err = NULL;
	g_autofree char *local = export_map_dir(st, dir, &err);
	g_string_append_printf(log, " vm=%s dir=\"%s\"", vm->name, dir);
	if (!local) {
		g_string_append_printf(log, " refused=\"%s\"", err);
		return RV_INVALID_PARAMETER;
	}
	const char *snap_path = settings ? sim_pairs_get(settings, "SnapshotVirtualSystem") : NULL;
	const char *copy = settings ? sim_pairs_get(settings, "CopySnapshotConfiguration") : NULL;
	g_autofree char *guid = sim_vssd_path_guid(snap_path);
	SimSnap *s = sim_snap_find(st, guid);
	if ((snap_path && *snap_path && (!s || g_ascii_strcasecmp(s->vm_id, vm->id) != 0)) ||
	    (copy && (atoi(copy) == 2 || atoi(copy) == 3) && !s))
		return RV_INVALID_PARAMETER;
	SimJob *j = job_start(st, SIM_JOB_EXPORT, "ExportSystemDefinition", vm->id);
	j->export_dir = g_steal_pointer(&local);
	j->export_settings = settings ? g_ptr_array_ref(settings) : NULL;
	j->snap_id = s ? g_strdup(s->id) : NULL;
	return started(outp, j, log);
}

/* Msvm_ConcreteJob.RequestStateChange: 4 terminate, 5 kill a running job (nothing of its
 * effect is applied: an export writes nothing, a state change is undone). */
static int job_request_state_change(SimState *st, SoapReq *rq, SimInst *target, SimInst *outp,
				    GString *log)
{
	int want;
	job_tick(st);
	SimJob *j = sim_job_find(st, inst_get(target, "InstanceID"));
	if (!j || !int_param(rq, "RequestedState", &want))
		return RV_INVALID_PARAMETER;
	g_string_append_printf(log, " job=%s state=%d to=%d", j->id, j->job_state, want);
	if (want != 4 && want != 5)
		return RV_NOT_SUPPORTED;
	if (j->job_state != 4)
		return RV_INVALID_TRANSITION;
	j->job_state = want == 4 ? 8 : 9;
	j->finished = sim_now();
	g_free(j->error_desc);
	j->error_desc = g_strdup("The operation was cancelled.");
	j->error_code = 32768;
	SimVm *vm = j->kind == SIM_JOB_STATE_CHANGE ? sim_vm_find(st, j->vm_id) : NULL;
	if (vm)
		vm->state = j->prev_state;
	return RV_OK;
}

static const struct {
	const char *cls;
	const char *method;
	MethodFn fn;
} methods[] = {
    {"Msvm_ConcreteJob", "RequestStateChange", job_request_state_change},
    {"Msvm_ComputerSystem", "RequestStateChange", request_state_change},
    {"Msvm_VirtualSystemSnapshotService", "CreateSnapshot", create_snapshot},
    {"Msvm_VirtualSystemSnapshotService", "ApplySnapshot", apply_snapshot},
    {"Msvm_VirtualSystemSnapshotService", "DestroySnapshot", destroy_snapshot},
    {"Msvm_VirtualSystemManagementService", "ModifySystemSettings", modify_system_settings},
    {"Msvm_VirtualSystemManagementService", "ExportSystemDefinition", export_system_definition},
};

int methods_invoke(SimState *st, SoapReq *rq, GString **out, GString *log)
{
	const char *uri = rq->resource_uri ? rq->resource_uri : "";
	const char *method = soapreq_op(rq);
	const char *cls = g_str_has_prefix(uri, SIM_V2) ? uri + strlen(SIM_V2) : NULL;
	g_string_append_printf(log, " resource=%s", uri);
	if (!cls || !cls_find(cls)) {
		*out = reply_fault(st, rq->message_id, FAULT_DEST_UNREACHABLE,
				   "The resource URI does not name a class of " SIM_NAMESPACE ".");
		return 500;
	}
	MethodFn fn = NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(methods); i++)
		if (g_ascii_strcasecmp(methods[i].cls, cls) == 0 &&
		    strcmp(methods[i].method, method) == 0)
			fn = methods[i].fn;
	g_autofree char *input = g_strdup_printf("%s_INPUT", method);
	if (!fn || !rq->body || strcmp((const char *)rq->body->name, input) != 0) {
		*out =
		    reply_fault(st, rq->message_id, fn ? FAULT_SCHEMA : FAULT_ACTION_NOT_SUPPORTED,
				fn ? "The body must be the method's _INPUT element." : NULL);
		return 500;
	}
	g_autofree char *err = NULL;
	g_autoptr(SimInst) target = cls_lookup(st, cls, rq->selectors, &err);
	if (!target) {
		*out = reply_fault(st, rq->message_id, FAULT_INVALID_SELECTORS, err);
		return 500;
	}
	g_autoptr(SimInst) outp = inst_new(method);
	int rv = fn(st, rq, target, outp, log);
	inst_set_int(outp, "ReturnValue", rv);
	if (!inst_prop(outp, "Job"))
		inst_set(outp, "Job", NULL);
	g_string_append_printf(log, " return=%d", rv);

	g_autofree char *action = g_strdup_printf("%s/%sResponse", uri, method);
	*out = reply_begin(st, action, rq->message_id);
	g_string_append_printf(*out,
			       "<p:%s_OUTPUT xmlns:p=\"%s\" xmlns:cim=\"http://schemas.dmtf.org/"
			       "wbem/wscim/1/common\" xmlns:xsi=\"http://www.w3.org/2001/"
			       "XMLSchema-instance\">",
			       method, uri);
	reply_props(*out, outp, st->knobs.epr_wrapper);
	g_string_append_printf(*out, "</p:%s_OUTPUT>", method);
	reply_finish(*out);
	return 200;
}
