/* export.h - ExportSystemDefinition: host paths under --export-root and the files written. */
#pragma once

#include "sim.h"

/* Map the Windows-style host path PATH (under export_host_path) to a local directory under
 * export_root; NULL with *ERR set when export is not configured or PATH lies outside. */
char *export_map_dir(const SimState *st, const char *path, char **err);
/* Write J's export of VM (config, runtime state, checkpoints, a deterministic VHDX);
 * returns an error description or NULL. */
char *export_write(SimState *st, const SimJob *j, const SimVm *vm);
