/* bcwmic.c - parsers for wmic output read through a pipe (qemu-ga guest-exec).
 *
 * The format, as wmic of Vista / 2008 writes it to a pipe: OEM code page bytes, no BOM, every
 * line ends in "\r\r\n" (only a FILE gets UTF-16LE with a BOM). NUL bytes are tolerated and
 * dropped, as is a first-run line "Please wait while WMIC is being installed.".
 *  - table form ("get A,B"): a header line of column names, sorted alphabetically whatever order
 *    was asked, each column padded to its widest value + 2 (the last one too); one line per
 *    instance; values may contain single spaces, so they are cut at the header's columns.
 *  - /value form: two empty lines, "Name=Value" lines, three empty lines; instances are
 *    separated by empty lines.
 *  - "No Instance(s) Available." when nothing matches (zero rows).
 *  - errors: "Node - HOST" / "ERROR:" / "Description = ..." lines: HF_ERR_FAILED.
 * Never parse Caption: its (R) symbols come out as "Serverr"; use Version and BuildNumber. */
#include "bcutil.h"

#include <string.h>

#define WMIC_ROWS_MAX (BC_UPDATES_MAX + 64)

/* Rows of name/value pairs: each row a GPtrArray of char *, name and value alternating. */
typedef struct {
	GPtrArray *rows;
} WmicOut;

static void wmic_out_clear(WmicOut *o)
{
	g_clear_pointer(&o->rows, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(WmicOut, wmic_out_clear)

static GPtrArray *new_row(WmicOut *o, HfError *err)
{
	if (o->rows->len >= WMIC_ROWS_MAX) {
		error_set(err, HF_ERR_INVALID_PARAMS, "wmic: more than %d instances",
			  WMIC_ROWS_MAX);
		return NULL;
	}
	GPtrArray *row = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(o->rows, row);
	return row;
}

static int add_pair(GPtrArray *row, const char *k, size_t kn, const char *v, size_t vn,
		    HfError *err)
{
	bcutil_trim(&k, &kn);
	bcutil_trim(&v, &vn);
	if (kn > 64 || vn > BC_STR_MAX)
		return error_set(err, HF_ERR_INVALID_PARAMS, "wmic: '%.*s' value over %d bytes",
				 (int)MIN(kn, 64), k, BC_STR_MAX);
	g_ptr_array_add(row, g_strndup(k, kn));
	g_ptr_array_add(row, g_strndup(v, vn));
	return 0;
}

static const char *row_get(GPtrArray *row, const char *name)
{
	for (guint i = 0; i + 1 < row->len; i += 2)
		if (g_ascii_strcasecmp(row->pdata[i], name) == 0)
			return row->pdata[i + 1];
	return NULL;
}

/* Column start offsets of a table header: names separated by two or more spaces. */
static int header_columns(const char *l, size_t n, GArray *cols, HfError *err)
{
	for (size_t i = 0; i < n; i++) {
		if (l[i] == ' ' || (i && l[i - 1] != ' '))
			continue;
		if (i && (i < 2 || l[i - 2] != ' '))
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "wmic: header '%.*s' is not padded columns",
					 (int)MIN(n, 80), l);
		if (cols->len >= 32)
			return error_set(err, HF_ERR_INVALID_PARAMS, "wmic: more than 32 columns");
		g_array_append_val(cols, i);
	}
	return 0;
}

static int table_row(WmicOut *o, const char *hdr, size_t hn, GArray *cols, const char *l, size_t n,
		     HfError *err)
{
	GPtrArray *row = new_row(o, err);
	if (!row)
		return -1;
	for (guint c = 0; c < cols->len; c++) {
		size_t s = g_array_index(cols, size_t, c);
		size_t e = c + 1 < cols->len ? g_array_index(cols, size_t, c + 1) : G_MAXSIZE;
		size_t he = c + 1 < cols->len ? e : hn;
		if (s < n && c + 1 < cols->len && e <= n && l[e - 1] != ' ')
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "wmic: value runs into column %u in '%.*s'", c + 1,
					 (int)MIN(n, 80), l);
		if (add_pair(row, hdr + s, he - s, s < n ? l + s : "", s < n ? MIN(e, n) - s : 0,
			     err) < 0)
			return -1;
	}
	return 0;
}

/* Read wmic output (either form) into rows. */
static int wmic_read(const char *buf, size_t len, WmicOut *o, HfError *err)
{
	if (bcutil_check_output(buf, len, "wmic", err) < 0)
		return -1;
	g_autofree char *clean = g_malloc(len + 1);
	size_t cn = 0;
	for (size_t i = 0; i < len; i++)
		if (buf[i])
			clean[cn++] = buf[i];
	clean[cn] = '\0';

	g_autoptr(GArray) cols = g_array_new(FALSE, FALSE, sizeof(size_t));
	const char *p = clean, *end = clean + cn, *l, *hdr = NULL;
	size_t n, hn = 0;
	GPtrArray *row = NULL; /* current /value instance */
	bool value_form = false;
	o->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
	while (bcutil_next_line(&p, end, &l, &n)) {
		const char *t = l;
		size_t tn = n;
		bcutil_trim(&t, &tn);
		if (!tn) {
			row = NULL;
			continue;
		}
		if (bcutil_starts(t, tn, "Please wait while WMIC is being installed"))
			continue;
		if (bcutil_starts(t, tn, "No Instance(s) Available"))
			return 0;
		if (bcutil_starts(t, tn, "Node -") || bcutil_starts(t, tn, "ERROR:") ||
		    bcutil_starts(t, tn, "Description ="))
			return error_set(err, HF_ERR_FAILED, "wmic reported an error: %.*s",
					 (int)MIN(end - t, 200), t);
		if (!hdr && !value_form) {
			value_form = memchr(t, '=', tn) != NULL;
			if (!value_form) {
				hdr = l;
				hn = n;
				if (header_columns(l, n, cols, err) < 0)
					return -1;
				continue;
			}
		}
		if (value_form) {
			const char *eq = memchr(t, '=', tn);
			if (!eq)
				return error_set(err, HF_ERR_INVALID_PARAMS,
						 "wmic: '%.*s' is not Name=Value", (int)MIN(tn, 80),
						 t);
			if (!row && !(row = new_row(o, err)))
				return -1;
			if (add_pair(row, t, (size_t)(eq - t), eq + 1, tn - (size_t)(eq - t) - 1,
				     err) < 0)
				return -1;
			continue;
		}
		if (table_row(o, hdr, hn, cols, l, n, err) < 0)
			return -1;
	}
	return 0;
}

/* One instance of Win32_OperatingSystem: Version "6.0.6003", BuildNumber "6003",
 * CSDVersion "Service Pack 2", ServicePackMajorVersion "2", ProductType "3", OSArchitecture
 * "64-bit". Version and BuildNumber must agree. */
int bcwmic_os(const char *buf, size_t len, BcItem *it, HfError *err)
{
	g_auto(WmicOut) o = {0};
	const char *v;
	int n;
	if (wmic_read(buf, len, &o, err) < 0)
		return -1;
	if (o.rows->len != 1)
		return error_set(err, o.rows->len ? HF_ERR_INVALID_PARAMS : HF_ERR_NOT_FOUND,
				 "wmic os: %u instances of Win32_OperatingSystem, expected one",
				 o.rows->len);
	GPtrArray *row = o.rows->pdata[0];
	if (!(v = row_get(row, "Version")))
		return error_set(err, HF_ERR_INVALID_PARAMS, "wmic os: no Version in the output");
	if (bcutil_set_version(it, v, strlen(v), 3, "wmic os Version", err) < 0)
		return -1;
	if ((v = row_get(row, "BuildNumber")) &&
	    (bcutil_uint(v, strlen(v), 65535, &n) < 0 ||
	     bcutil_set_int(&it->build, n, "wmic os BuildNumber", err) < 0))
		return error_set(err, HF_ERR_INVALID_PARAMS, "wmic os: BuildNumber '%.20s'", v);
	if ((v = row_get(row, "ServicePackMajorVersion")) &&
	    bcutil_uint(v, strlen(v), 99, &it->service_pack) < 0)
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "wmic os: ServicePackMajorVersion '%.20s' is not a number", v);
	if ((v = row_get(row, "CSDVersion")) && *v &&
	    bcutil_set_str(&it->csd_version, v, strlen(v), "wmic os CSDVersion", err) < 0)
		return -1;
	if ((v = row_get(row, "ProductType"))) {
		if (bcutil_uint(v, strlen(v), 3, &n) < 0 || n == 0)
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "wmic os: ProductType '%.20s' is not 1, 2 or 3", v);
		it->role = n == 1 ? BC_ROLE_WORKSTATION : n == 2 ? BC_ROLE_DC : BC_ROLE_SERVER;
	}
	if ((v = row_get(row, "OSArchitecture")))
		it->arch = bcutil_arch(v, strlen(v));
	return 0;
}

/* wmic qfe get HotFixID: one id per instance. On 2008 some ids are GUIDs or bare numbers
 * without "KB": kept as listed. "No Instance(s) Available." = an empty list. */
int bcwmic_qfe(const char *buf, size_t len, BcItem *it, HfError *err)
{
	g_auto(WmicOut) o = {0};
	if (wmic_read(buf, len, &o, err) < 0)
		return -1;
	if (!it->updates)
		it->updates = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < o.rows->len; i++) {
		const char *id = row_get(o.rows->pdata[i], "HotFixID");
		if (!id)
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "wmic qfe: no HotFixID column");
		if (bcutil_add_update(it, id, strlen(id), err) < 0)
			return -1;
	}
	return 0;
}

/* wmic datafile where name='C:\\Windows\\System32\\ntoskrnl.exe' get Version /value:
 * "Version=6.0.6003.20705" - four numbers, the revision being the last. */
int bcwmic_datafile(const char *buf, size_t len, BcItem *it, HfError *err)
{
	g_auto(WmicOut) o = {0};
	if (wmic_read(buf, len, &o, err) < 0)
		return -1;
	if (!o.rows->len)
		return error_set(err, HF_ERR_NOT_FOUND, "wmic datafile: the file was not found");
	const char *v = row_get(o.rows->pdata[0], "Version");
	if (o.rows->len != 1 || !v)
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "wmic datafile: expected one instance with a Version");
	return bcutil_set_version(it, v, strlen(v), 4, "wmic datafile Version", err);
}

/* wmic path SoftwareLicensingProduct where ID='<id>' get ID,LicenseStatus [/value]:
 * LicenseStatus 0 unlicensed, 1 licensed, 2-6 grace / notification. "No Instance(s)
 * Available." = activation_id not installed. Rows without an ID column take activation_id. */
int bcwmic_licence(const char *buf, size_t len, const char *activation_id, BcItem *it, HfError *err)
{
	g_auto(WmicOut) o = {0};
	int status;
	if (wmic_read(buf, len, &o, err) < 0)
		return -1;
	if (!it->licences)
		it->licences = g_array_new(FALSE, TRUE, sizeof(BcLicence));
	if (!o.rows->len && activation_id)
		return bcutil_add_licence(it, activation_id, strlen(activation_id),
					  BC_LIC_NOT_INSTALLED, err);
	for (guint i = 0; i < o.rows->len; i++) {
		const char *id = row_get(o.rows->pdata[i], "ID");
		const char *st = row_get(o.rows->pdata[i], "LicenseStatus");
		id = id ? id : activation_id;
		if (!id || !st)
			return error_set(
			    err, HF_ERR_INVALID_PARAMS,
			    "wmic SoftwareLicensingProduct: need ID and LicenseStatus");
		if (bcutil_uint(st, strlen(st), 6, &status) < 0)
			return error_set(
			    err, HF_ERR_INVALID_PARAMS,
			    "wmic SoftwareLicensingProduct: LicenseStatus '%.20s' is not "
			    "0-6",
			    st);
		if (bcutil_add_licence(it, id, strlen(id), status, err) < 0)
			return -1;
	}
	return 0;
}
