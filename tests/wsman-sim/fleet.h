/* fleet.h - fill the simulated host from a fleet file (INI) or generate a large fleet. */
#pragma once

#include "sim.h"

/* Load PATH into ST (host settings, VMs, checkpoints); on error sets ERR naming group and key. */
int fleet_load(SimState *st, const char *path, GError **err);
/* Add N generated VMs (gen-vm-0001 ...) with a mix of 2008 guests, states and checkpoints. */
void fleet_generate(SimState *st, guint n);
/* Fill in host captions for st->lang where the fleet file did not set them. */
void fleet_finish(SimState *st);
