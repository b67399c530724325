/* drckpt.h - what marks a checkpoint as one of holdfast's DR checkpoints.
 *
 * The daemon names the checkpoint of each DR copy hf-dr-STORE-POINT (daemon/drrecover.h: the
 * store's name, then the point id); copies made before stores were part of the name left
 * hf-dr-POINT. Both start with DRCKPT_PREFIX, which is all that the libvirt driver needs (it
 * drops holdfast's DR checkpoints of every store before a snapshot operation, and refuses
 * when any other checkpoint exists) and all that says "holdfast's, any store" in the daemon. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#define DRCKPT_PREFIX "hf-dr-"

static inline bool drckpt_ours(const char *name)
{
	return name && g_str_has_prefix(name, DRCKPT_PREFIX);
}
