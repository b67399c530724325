/* output.c - tables, human sizes, the generic key: value printer and --json documents. */
#include "output.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

char *output_human_size(uint64_t bytes)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double v = (double)bytes;
	unsigned u = 0;

	if (bytes < 1024)
		return g_strdup_printf("%u B", (unsigned)bytes);
	while (v >= 1024 && u + 1 < G_N_ELEMENTS(units)) {
		v /= 1024;
		u++;
	}
	/* Round first so 1023.96 MiB does not print as "1024 MiB". */
	if (v < 10 && round(v * 10) / 10 < 10) {
		double r = round(v * 10) / 10;
		if (r == floor(r))
			return g_strdup_printf("%.0f %s", r, units[u]);
		return g_strdup_printf("%.1f %s", r, units[u]);
	}
	if (round(v) >= 1024 && u + 1 < G_N_ELEMENTS(units))
		return g_strdup_printf("1 %s", units[u + 1]);
	return g_strdup_printf("%.0f %s", round(v), units[u]);
}

static bool is_scalar(const cJSON *v)
{
	return !cJSON_IsObject(v) && !cJSON_IsArray(v);
}

static bool is_scalar_array(const cJSON *v)
{
	const cJSON *e;
	if (!cJSON_IsArray(v))
		return false;
	cJSON_ArrayForEach(e, v) if (!is_scalar(e)) return false;
	return true;
}

char *output_scalar(const cJSON *v)
{
	if (!v || cJSON_IsNull(v))
		return g_strdup("-");
	if (cJSON_IsString(v))
		return g_strdup(v->valuestring);
	if (cJSON_IsBool(v))
		return g_strdup(cJSON_IsTrue(v) ? "yes" : "no");
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		if (d == floor(d) && fabs(d) < 9007199254740992.0)
			return g_strdup_printf("%.0f", d);
		return g_strdup_printf("%g", d);
	}
	if (is_scalar_array(v)) {
		GString *s = g_string_new(NULL);
		const cJSON *e;
		cJSON_ArrayForEach(e, v)
		{
			g_autofree char *t = output_scalar(e);
			if (s->len)
				g_string_append(s, ", ");
			g_string_append(s, t);
		}
		if (!s->len)
			g_string_append(s, "-");
		return g_string_free(s, FALSE);
	}
	char *j = cJSON_PrintUnformatted(v);
	char *r = g_strdup(j);
	cJSON_free(j);
	return r;
}

char *output_field(const cJSON *obj, const char *key)
{
	return output_scalar(cJSON_GetObjectItemCaseSensitive(obj, key));
}

/* ---- tables ---- */

struct OutputTable {
	unsigned ncols;
	GPtrArray *headers; /* char* */
	GPtrArray *rows;    /* char** (ncols strings each) */
	bool *right;
};

OutputTable *output_table_new(const char *const *headers)
{
	OutputTable *t = g_new0(OutputTable, 1);
	t->headers = g_ptr_array_new_with_free_func(g_free);
	t->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
	for (; *headers; headers++, t->ncols++)
		g_ptr_array_add(t->headers, g_strdup(*headers));
	t->right = g_new0(bool, t->ncols);
	return t;
}

void output_table_free(OutputTable *t)
{
	if (!t)
		return;
	g_ptr_array_unref(t->headers);
	g_ptr_array_unref(t->rows);
	g_free(t->right);
	g_free(t);
}

void output_table_align_right(OutputTable *t, unsigned col)
{
	if (col < t->ncols)
		t->right[col] = true;
}

void output_table_add(OutputTable *t, ...)
{
	char **cells = g_new0(char *, t->ncols + 1);
	va_list ap;
	va_start(ap, t);
	for (unsigned i = 0; i < t->ncols; i++) {
		const char *c = va_arg(ap, const char *);
		cells[i] = g_strdup(c ? c : "-");
	}
	va_end(ap);
	g_ptr_array_add(t->rows, cells);
}

void output_table_add_owned(OutputTable *t, char **cells)
{
	char **row = g_new0(char *, t->ncols + 1);
	for (unsigned i = 0; i < t->ncols; i++)
		row[i] = cells[i] ? cells[i] : g_strdup("-");
	g_ptr_array_add(t->rows, row);
}

unsigned output_table_rows(const OutputTable *t)
{
	return t->rows->len;
}

/* Display width: characters, not bytes (names and descriptions may be UTF-8). */
static size_t text_width(const char *s)
{
	return g_utf8_validate(s, -1, NULL) ? (size_t)g_utf8_strlen(s, -1) : strlen(s);
}

static void render_row(const OutputTable *t, char **cells, const size_t *w, unsigned indent,
		       GString *out)
{
	unsigned last = t->ncols;
	/* trailing empty cells are dropped so no line ends in blanks */
	while (last > 0 && !cells[last - 1][0])
		last--;
	g_string_append_printf(out, "%*s", (int)indent, "");
	for (unsigned i = 0; i < last; i++) {
		size_t pad = w[i] - text_width(cells[i]);
		if (i)
			g_string_append(out, "  ");
		if (t->right[i])
			g_string_append_printf(out, "%*s", (int)pad, "");
		g_string_append(out, cells[i]);
		if (!t->right[i] && i + 1 < last)
			g_string_append_printf(out, "%*s", (int)pad, "");
	}
	g_string_append_c(out, '\n');
}

void output_table_render(const OutputTable *t, unsigned indent, GString *out)
{
	g_autofree size_t *w = g_new0(size_t, t->ncols);

	for (unsigned i = 0; i < t->ncols; i++)
		w[i] = text_width(t->headers->pdata[i]);
	for (guint r = 0; r < t->rows->len; r++) {
		char **cells = t->rows->pdata[r];
		for (unsigned i = 0; i < t->ncols; i++)
			w[i] = MAX(w[i], text_width(cells[i]));
	}
	render_row(t, (char **)t->headers->pdata, w, indent, out);
	for (guint r = 0; r < t->rows->len; r++)
		render_row(t, t->rows->pdata[r], w, indent, out);
}

/* ---- key: value ---- */

void output_kv_line(GString *out, unsigned indent, unsigned w, const char *key, const char *value)
{
	size_t klen = text_width(key) + 1;
	g_string_append_printf(out, "%*s%s:", (int)indent, "", key);
	if (!value) {
		g_string_append_c(out, '\n');
		return;
	}
	g_string_append_printf(out, "%*s %s\n", (int)(w > klen ? w - klen : 0), "", value);
}

static bool skipped(const char *key, const char *const *skip)
{
	for (; skip && *skip; skip++)
		if (!strcmp(*skip, key))
			return true;
	return false;
}

static bool inline_value(const cJSON *v)
{
	if (is_scalar(v) || is_scalar_array(v))
		return true;
	return cJSON_GetArraySize(v) == 0; /* {} and [] */
}

static void kv_array(GString *out, const cJSON *arr, unsigned indent);

void output_kv(GString *out, const cJSON *obj, unsigned indent, unsigned width,
	       const char *const *skip)
{
	const cJSON *v;
	unsigned w = width;

	if (!cJSON_IsObject(obj)) {
		g_autofree char *s = output_scalar(obj);
		g_string_append_printf(out, "%*s%s\n", (int)indent, "", s);
		return;
	}
	cJSON_ArrayForEach(v, obj) if (v->string && !skipped(v->string, skip) && inline_value(v))
	    w = MAX(w, (unsigned)text_width(v->string) + 1);
	cJSON_ArrayForEach(v, obj)
	{
		if (!v->string || skipped(v->string, skip))
			continue;
		if (inline_value(v)) {
			g_autofree char *s = cJSON_IsObject(v) ? g_strdup("-") : output_scalar(v);
			output_kv_line(out, indent, w, v->string, s);
		} else if (cJSON_IsObject(v)) {
			output_kv_line(out, indent, 0, v->string, NULL);
			output_kv(out, v, indent + 2, 0, NULL);
		} else {
			output_kv_line(out, indent, 0, v->string, NULL);
			kv_array(out, v, indent + 2);
		}
	}
}

/* Items of an array that holds objects: YAML-like "- key: value" blocks. */
static void kv_array(GString *out, const cJSON *arr, unsigned indent)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, arr)
	{
		gsize at = out->len;
		if (cJSON_IsObject(e) && cJSON_GetArraySize(e) > 0) {
			output_kv(out, e, indent + 2, 0, NULL);
			out->str[at + indent] =
			    '-'; /* the first line starts with indent+2 blanks */
		} else if (cJSON_IsArray(e) && !is_scalar_array(e)) {
			g_string_append_printf(out, "%*s-\n", (int)indent, "");
			kv_array(out, e, indent + 2);
		} else {
			g_autofree char *s = cJSON_IsObject(e) ? g_strdup("{}") : output_scalar(e);
			g_string_append_printf(out, "%*s- %s\n", (int)indent, "", s);
		}
	}
}

char *output_json(const cJSON *doc)
{
	char *j = cJSON_Print(doc);
	char *r = g_strconcat(j, "\n", NULL);
	cJSON_free(j);
	return r;
}
