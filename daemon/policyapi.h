/* policyapi.h - the methods of policies and schedules (common/methods.c rows):
 *   policy.list     {"policies":[{name,schedule,timezone,guests,rules,next,last_slot,running,
 *                     held,last_run}]}
 *   policy.show     {"policy":{..policy_to_json.., next, last_slot, guests:[addr..],
 *                     held:{addr:{rules,owned,would_prune,share}}, approved, run, last_run}}
 *   policy.simulate {"policy","rules","start","days":[{"date","created":[..],
 *                     "pruned":[{"name","reason"}],"existing":[..]}]}  (nothing is touched)
 *   policy.run      a manual run now; {"job": the run's "policy.run" job}
 *   policy.apply    approve the current rules of a policy whose change was held back and
 *                   prune the held guests now: {"policy","rules","held_guests":N,"job":J|null}
 *   schedule.list   {"schedule":[{"policy","guest","slot","next","state"}]}
 *   debug.clock     the test clock (clock.h) */
#pragma once

#include "daemon.h"

void policyapi_list(Call *call);
void policyapi_show(Call *call);
void policyapi_simulate(Call *call);
void policyapi_run(Call *call);
void policyapi_apply(Call *call);
void policyapi_schedule(Call *call);
void policyapi_clock(Call *call);
