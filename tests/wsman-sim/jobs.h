/* jobs.h - Msvm_ConcreteJob: jobs that take simulated time, then change the state or fail. */
#pragma once

#include "inst.h"

/* Start a job of KIND for METHOD on VM_ID; it runs for knobs.job_ms and may be set to fail. */
SimJob *job_start(SimState *st, SimJobKind kind, const char *method, const char *vm_id);
/* Advance every running job to the current time; finished ones apply their effect. */
void job_tick(SimState *st);
/* The Msvm_ConcreteJob instance of J. */
SimInst *job_instance(SimState *st, const SimJob *j);
