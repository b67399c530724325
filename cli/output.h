/* output.h - the building blocks of holdfast's output: aligned tables, human sizes, a generic
 * key: value printer for any JSON result, and the --json document. Everything appends to a
 * GString so the renderers can be tested without a terminal. */
#pragma once

#include <cjson/cJSON.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(cJSON, cJSON_Delete)

/* 0 B, 512 B, 1.5 KiB, 40 GiB, 1.2 TiB: binary units, one decimal below 10 unless whole. */
char *output_human_size(uint64_t bytes);
/* A scalar as text: strings as they are, integers without decimals, yes/no, "-" for null,
 * arrays of scalars joined with ", ". Objects and other arrays: compact JSON. */
char *output_scalar(const cJSON *v);
/* The value of key in obj as text (output_scalar), "-" when missing. */
char *output_field(const cJSON *obj, const char *key);

typedef struct OutputTable OutputTable;
/* Columns named by a NULL-terminated list of headers. */
OutputTable *output_table_new(const char *const *headers);
void output_table_free(OutputTable *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OutputTable, output_table_free)
/* Right-align a column (numbers). */
void output_table_align_right(OutputTable *t, unsigned col);
/* A row of as many strings as there are columns (copied; NULL shows as "-"). */
void output_table_add(OutputTable *t, ...);
/* Same, taking ownership of the strings (g_free'd). */
void output_table_add_owned(OutputTable *t, char **cells);
unsigned output_table_rows(const OutputTable *t);
/* Aligned columns separated by two spaces; no trailing blanks; indent each line by `indent`. */
void output_table_render(const OutputTable *t, unsigned indent, GString *out);

/* Any JSON object as "key: value" lines (aligned per level), nested objects indented, arrays
 * of objects as "- " items. `skip` lists keys to leave out (NULL-terminated, may be NULL).
 * Values start at least `width` columns after the indent (0: as the keys need). */
void output_kv(GString *out, const cJSON *obj, unsigned indent, unsigned width,
	       const char *const *skip);
/* One "key: value" line with the key padded to `width`. */
void output_kv_line(GString *out, unsigned indent, unsigned width, const char *key,
		    const char *value);
/* Pretty JSON with a trailing newline, as printed by --json. */
char *output_json(const cJSON *doc);
