/* jobs.c - simulated asynchronous WMI jobs: progress over time, effects, failures. */
#include "jobs.h"
#include "control.h"
#include "export.h"

#include <string.h>

static const struct {
	const char *caption;
	const char *failure; /* printf: VM name, VM GUID */
} kinds[] = {
    [SIM_JOB_STATE_CHANGE] = {"Changing the state of the virtual machine",
			      "'%s' failed to change state. (Virtual machine ID %s)"},
    [SIM_JOB_CREATE_SNAPSHOT] = {"Creating a checkpoint",
				 "'%s' could not create a checkpoint. (Virtual machine ID %s)"},
    [SIM_JOB_APPLY_SNAPSHOT] = {"Applying a checkpoint",
				"'%s' failed to apply the checkpoint. (Virtual machine ID %s)"},
    [SIM_JOB_DESTROY_SNAPSHOT] = {"Deleting a checkpoint",
				  "'%s' failed to delete the checkpoint. (Virtual machine ID %s)"},
    [SIM_JOB_EXPORT] = {"Exporting the virtual machine",
			"'%s' failed to export. (Virtual machine ID %s)"},
};

SimJob *job_start(SimState *st, SimJobKind kind, const char *method, const char *vm_id)
{
	SimJob *j = g_new0(SimJob, 1);
	j->id = sim_new_guid();
	j->kind = kind;
	j->method = g_strdup(method);
	j->vm_id = g_strdup(vm_id);
	j->submitted = sim_now();
	j->duration = (gint64)st->knobs.job_ms * 1000;
	j->job_state = 4;
	j->will_fail = ctl_fire(&st->knobs.fail_jobs, method);
	g_ptr_array_add(st->jobs, j);
	return j;
}

/* "web01 - (12/17/2025 - 9:55:22 AM)", the name Hyper-V gives a new checkpoint. */
static char *default_snap_name(const SimVm *vm, gint64 now)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(now / G_USEC_PER_SEC);
	g_autofree char *when = g_date_time_format(dt, "%-m/%-d/%Y - %-I:%M:%S %p");
	return g_strdup_printf("%s - (%s)", vm->name, when);
}

static void destroy_snapshot(SimState *st, SimSnap *s)
{
	SimVm *vm = sim_vm_find(st, s->vm_id);
	for (guint i = 0; i < st->snaps->len; i++) {
		SimSnap *c = g_ptr_array_index(st->snaps, i);
		if (c->parent_id && g_ascii_strcasecmp(c->parent_id, s->id) == 0) {
			g_free(c->parent_id);
			c->parent_id = g_strdup(s->parent_id);
		}
	}
	if (vm && vm->current_snap && g_ascii_strcasecmp(vm->current_snap, s->id) == 0) {
		g_free(vm->current_snap);
		vm->current_snap = g_strdup(s->parent_id);
	}
	g_ptr_array_remove(st->snaps, s);
}

/* Apply J's effect; returns an error description when the job must end in an exception. */
static char *job_apply(SimState *st, SimJob *j, SimVm *vm, gint64 now)
{
	SimSnap *s = sim_snap_find(st, j->snap_id);
	switch (j->kind) {
	case SIM_JOB_STATE_CHANGE:
		vm->state =
		    j->requested_state == 10 || j->requested_state == 11 ? 2 : j->requested_state;
		vm->last_change = now;
		return NULL;
	case SIM_JOB_CREATE_SNAPSHOT:
		if (vm->user_snapshot_type == 2 && !vm->vss && vm->state == 2)
			return g_strdup_printf("Production checkpoints cannot be created for '%s'. "
					       "(Virtual machine ID %s)",
					       vm->name, vm->id);
		s = g_new0(SimSnap, 1);
		s->id = sim_new_guid();
		s->vm_id = g_strdup(vm->id);
		s->name = default_snap_name(vm, now);
		s->parent_id = g_strdup(vm->current_snap);
		s->created = now;
		s->type = j->snap_type;
		s->vm_state = vm->state;
		g_ptr_array_add(st->snaps, s);
		if (s->type == SIM_SNAP_STANDARD) {
			g_free(vm->current_snap);
			vm->current_snap = g_strdup(s->id);
		}
		j->snap_id = g_strdup(s->id);
		return NULL;
	case SIM_JOB_APPLY_SNAPSHOT:
		if (!s)
			return g_strdup("The checkpoint no longer exists.");
		g_free(vm->current_snap);
		vm->current_snap = g_strdup(s->id);
		vm->state = s->vm_state == 3 ? 3 : 6;
		vm->last_change = now;
		return NULL;
	case SIM_JOB_DESTROY_SNAPSHOT:
		if (!s)
			return g_strdup("The checkpoint no longer exists.");
		destroy_snapshot(st, s);
		return NULL;
	case SIM_JOB_EXPORT:
		return export_write(st, j, vm);
	}
	return NULL;
}

static void job_finish(SimState *st, SimJob *j, gint64 now)
{
	SimVm *vm = sim_vm_find(st, j->vm_id);
	g_autofree char *why = NULL;
	if (j->will_fail)
		why = g_strdup_printf(kinds[j->kind].failure, vm->name, vm->id);
	else
		why = job_apply(st, j, vm, now);
	j->finished = now;
	if (why) {
		j->job_state = 10;
		j->error_code = 32768;
		j->error_desc = g_steal_pointer(&why);
		if (j->kind == SIM_JOB_STATE_CHANGE)
			vm->state = j->prev_state;
	} else {
		j->job_state = 7;
		j->percent = 100;
	}
}

void job_tick(SimState *st)
{
	gint64 now = sim_now();
	for (guint i = 0; i < st->jobs->len; i++) {
		SimJob *j = g_ptr_array_index(st->jobs, i);
		if (j->job_state != 4)
			continue;
		gint64 elapsed = now - j->submitted;
		if (elapsed >= j->duration)
			job_finish(st, j, now);
		else
			j->percent = (int)MIN(99, elapsed * 100 / MAX(j->duration, 1));
	}
}

SimInst *job_instance(SimState *st, const SimJob *j)
{
	static const struct {
		int state;
		const char *status;
	} statuses[] = {{4, "Job is running"},
			{7, "Job completed successfully"},
			{8, "Job was terminated"},
			{9, "Job was killed"},
			{10, "Job failed"}};
	const char *status = "";
	for (size_t i = 0; i < G_N_ELEMENTS(statuses); i++)
		if (statuses[i].state == j->job_state)
			status = statuses[i].status;
	SimInst *in = inst_new("Msvm_ConcreteJob");
	inst_set(in, "Cancellable", "True");
	inst_set(in, "Caption", kinds[j->kind].caption);
	inst_set(in, "DeleteOnCompletion", "False");
	inst_set(in, "Description", kinds[j->kind].caption);
	inst_set(in, "ElementName", kinds[j->kind].caption);
	inst_set_int(in, "ErrorCode", j->error_code);
	inst_set(in, "ErrorDescription", j->error_desc);
	inst_set(in, "ErrorSummaryDescription", j->error_desc ? j->error_desc : NULL);
	inst_set(in, "InstanceID", j->id);
	inst_set_int(in, "JobRunTimes", 1);
	inst_set_int(in, "JobState", j->job_state);
	inst_set(in, "JobStatus", status);
	inst_set(in, "Name", j->method);
	inst_set(in, "Owner", "HOLDFAST\\hfsvc");
	inst_set_int(in, "PercentComplete", j->percent);
	inst_set_time(in, "StartTime", j->submitted);
	inst_set_time(in, "TimeOfLastStateChange", j->finished ? j->finished : j->submitted);
	inst_set_time(in, "TimeSubmitted", j->submitted);
	return in;
}
