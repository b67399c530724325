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

/* A background writer for one state file that the event loop updates often (jobs.json,
 * checks.json, schedule.json): the loop hands over the serialized document and goes on; one
 * thread per file writes it (temp + fsync + rename), at most one write in flight, and a
 * document handed over while a write runs replaces any older one still waiting (each is a
 * full snapshot). Write failures are logged under `category`. */
typedef struct StateWriter StateWriter;

StateWriter *statewriter_new(const char *path, const char *category, const char *what);
/* Queue doc's text for writing (doc is not taken). Any thread. */
void statewriter_put_json(StateWriter *w, const cJSON *doc);
/* Block until every document handed over so far is written (or failed): shutdown. */
void statewriter_sync(StateWriter *w);
/* Sync, stop the thread, free. NULL is fine. */
void statewriter_free(StateWriter *w);
