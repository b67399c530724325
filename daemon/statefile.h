/* statefile.h - crash-safe state files under the state directory: write a temp file, fsync it,
 * rename it over the old one, fsync the directory. A reader sees the old or the new file,
 * never a torn one. */
#pragma once

#include <cjson/cJSON.h>

#include "error.h"

int statefile_write(const char *path, const char *data, size_t len, HfError *err);
/* Write a JSON document (does not take ownership). */
int statefile_write_json(const char *path, const cJSON *doc, HfError *err);
/* Read a JSON document; *out = NULL (and 0 returned) when the file does not exist. */
int statefile_read_json(const char *path, cJSON **out, HfError *err);
int statefile_mkdirs(const char *dir, HfError *err);
