/* log.h - logging by category and level. Categories are GLib log domains ("hf-server",
 * "hf-jobs", ...); the level threshold comes from the config (log-level=). In the foreground
 * lines go to stderr; as a service GLib's structured writer sends them to the journal. */
#pragma once

#include <glib.h>

typedef enum { LOG_LVL_ERROR, LOG_LVL_WARNING, LOG_LVL_INFO, LOG_LVL_DEBUG } LogLevel;

/* Parse "error|warning|info|debug"; -1 when unknown. */
int log_level_parse(const char *s);
void log_setup(LogLevel threshold, gboolean foreground);
void log_set_level(LogLevel threshold);

#define hf_log(cat, lvl, ...) log_write(cat, lvl, __VA_ARGS__)
void log_write(const char *category, LogLevel lvl, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
