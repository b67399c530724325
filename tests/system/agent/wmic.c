/* wmic.c - wmic.exe as Windows Server 2008 prints it through a pipe: OEM code page, every line
 * ending in "\r\r\n", table columns sorted by name and padded to the widest value + 2,
 * /value as two empty lines, Name=Value lines, three empty lines. Classes: qfe, datafile, os,
 * path SoftwareLicensingProduct (the ESU licence). */
#include "winprog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WMIC_MAX_PROPS 12
#define WMIC_MAX_ROWS (WQ_MAX_KBS + 4)
#define WBEM_E_INVALID_QUERY ((int32_t)0x80041017u)

static const char *const ESU_IDS[4] = {NULL, "553673ed-6ddf-419c-a153-b760283472fd",
				       "04fa0286-fa74-401e-bbe9-fbfbb158010d",
				       "16c08c85-0c8b-4009-9b2b-f1f7319e45f9"};

const char *esu_activation_id(int year)
{
	return year >= 1 && year <= 3 ? ESU_IDS[year] : NULL;
}

static int esu_prepared(const struct identity *id)
{
	/* licensing preparation packages: KB4538484 / KB4575904 (2008), KB4538483 / KB4575903 (R2)
	 */
	return identity_has_kb(id, "KB4538484") || identity_has_kb(id, "KB4575904") ||
	       identity_has_kb(id, "KB4538483") || identity_has_kb(id, "KB4575903");
}

int esu_year_of(const struct identity *id, const char *activation_id)
{
	if (!esu_prepared(id))
		return 0;
	for (int y = 1; y <= 3; y++)
		if (!strcasecmp(activation_id, ESU_IDS[y]))
			return y;
	return 0;
}

const char *esu_name(int year)
{
	static const char *const names[4] = {
	    "", "Windows(R), Server-ESU-Year1 add-on for 2008R2, 2008",
	    "Windows(R), Server-ESU-Year2 add-on for 2008R2, 2008",
	    "Windows(R), Server-ESU-Year3 add-on for 2008R2, 2008"};
	return names[year >= 1 && year <= 3 ? year : 0];
}

const char *esu_partial_key(int year)
{
	static const char *const keys[4] = {"", "K4G7T", "3BVHW", "QJ9PM"};
	return keys[year >= 1 && year <= 3 ? year : 0];
}

struct wrow {
	int n;
	const char *name[WMIC_MAX_PROPS];
	char val[WMIC_MAX_PROPS][128];
};

struct wtable {
	int nrows;
	struct wrow rows[WMIC_MAX_ROWS];
};

static void put(struct wrow *w, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void put(struct wrow *w, const char *name, const char *fmt, ...)
{
	va_list ap;
	if (w->n >= WMIC_MAX_PROPS)
		return;
	w->name[w->n] = name;
	va_start(ap, fmt);
	vsnprintf(w->val[w->n], sizeof(w->val[0]), fmt, ap);
	va_end(ap);
	w->n++;
}

static const char *update_kind(const char *kb)
{
	static const char *const updates[] = {"KB4538484", "KB4575904", "KB4538483", "KB4575903",
					      "KB4493730", "KB4550737", "KB4474419", NULL};
	for (int i = 0; updates[i]; i++)
		if (!strcasecmp(kb, updates[i]))
			return "Update";
	return "Security Update";
}

static void class_qfe(const struct identity *id, struct wtable *t)
{
	for (int i = 0; i < id->nkbs && t->nrows < WMIC_MAX_ROWS; i++) {
		struct wrow *w = &t->rows[t->nrows++];
		const char *kb = id->kbs[i];
		unsigned long long ft = ((unsigned long long)id->install_date +
					 (unsigned long long)(i + 1) * 1728000ull) *
					    10000000ull +
					116444736000000000ull;
		int plain = !strncasecmp(kb, "KB", 2);
		put(w, "Caption", "%s%s", plain ? "http://support.microsoft.com/?kbid=" : "",
		    plain ? kb + 2 : "");
		put(w, "CSName", "%s", id->hostname);
		put(w, "Description", "%s", plain ? update_kind(kb) : "Update");
		put(w, "FixComments", "%s", "");
		put(w, "HotFixID", "%s", kb);
		put(w, "InstallDate", "%s", "");
		put(w, "InstalledBy", "%s", plain ? "S-1-5-18" : "");
		put(w, "InstalledOn", "%016llx", ft);
		put(w, "Name", "%s", "");
		put(w, "ServicePackInEffect", "%s", plain ? "" : "SP3");
		put(w, "Status", "%s", "");
	}
}

static void class_datafile(const struct identity *id, struct wtable *t)
{
	struct wrow *w = &t->rows[t->nrows++];
	put(w, "Drive", "c:");
	put(w, "Extension", "exe");
	put(w, "FileName", "ntoskrnl");
	put(w, "FileSize", "%s", !strcmp(id->arch, "amd64") ? "4691368" : "3600888");
	put(w, "Manufacturer", "Microsoft Corporation");
	put(w, "Name", "c:\\windows\\system32\\ntoskrnl.exe");
	put(w, "Path", "\\windows\\system32\\");
	put(w, "Version", "%s.%d.%d", identity_version(id), id->build, id->revision);
}

static int sku_of(const char *edition)
{
	static const struct {
		const char *ed;
		int sku;
	} skus[] = {{"ServerStandard", 7},	{"ServerDatacenter", 8},
		    {"ServerEnterprise", 10},	{"ServerDatacenterCore", 12},
		    {"ServerStandardCore", 13}, {"ServerEnterpriseCore", 14},
		    {"ServerWeb", 17},		{"ServerStandardV", 36},
		    {"ServerDatacenterV", 37},	{"ServerEnterpriseV", 38}};
	for (size_t i = 0; i < sizeof(skus) / sizeof(skus[0]); i++)
		if (!strcmp(edition, skus[i].ed))
			return skus[i].sku;
	return 0;
}

static void class_os(const struct identity *id, struct wtable *t)
{
	struct wrow *w = &t->rows[t->nrows++];
	const char *p = id->product_name;
	if (!strncmp(p, "Windows Server (R) ", 19))
		p += 19;
	put(w, "BuildNumber", "%d", id->build);
	put(w, "Caption", "Microsoftr Windows Serverr %s ", p);
	put(w, "CSDVersion", "%s", id->csd_version);
	put(w, "CSName", "%s", id->hostname);
	put(w, "OperatingSystemSKU", "%d", sku_of(id->edition_id));
	put(w, "OSArchitecture", "%s", !strcmp(id->arch, "x86") ? "32-bit" : "64-bit");
	put(w, "ProductType", "%d", id->product_type);
	put(w, "ServicePackMajorVersion", "%d", id->csd_version[0] ? id->csd_version[13] - '0' : 0);
	put(w, "Version", "%s.%d", identity_version(id), id->build);
}

static void class_licensing(const struct identity *id, struct wtable *t)
{
	if (!esu_year_of(id, ESU_IDS[1]))
		return;
	for (int y = 1; y <= 3; y++) {
		struct wrow *w = &t->rows[t->nrows++];
		int lic = !!(id->esu_years & (1u << y));
		put(w, "Description", "%s", ESU_DESCRIPTION);
		put(w, "ID", "%s", ESU_IDS[y]);
		put(w, "LicenseStatus", "%d", lic);
		put(w, "Name", "%s", esu_name(y));
		put(w, "PartialProductKey", "%s", lic ? esu_partial_key(y) : "");
	}
}

static int find_prop(const struct wrow *w, const char *name)
{
	for (int i = 0; i < w->n; i++)
		if (!strcasecmp(w->name[i], name))
			return i;
	return -1;
}

/* WQL "Prop='value'" (backslashes doubled); returns -1 when it does not parse */
static int parse_where(char *clause, char *prop, size_t plen, char *val, size_t vlen)
{
	char *p = clause, *eq, *o = val;
	size_t n;
	while (*p == '(' || *p == ' ')
		p++;
	n = strlen(p);
	while (n && (p[n - 1] == ')' || p[n - 1] == ' '))
		p[--n] = 0;
	if (!(eq = strchr(p, '=')))
		return -1;
	*eq = 0;
	snprintf(prop, plen, "%s", p);
	for (n = strlen(prop); n && prop[n - 1] == ' '; n--)
		prop[n - 1] = 0;
	p = eq + 1;
	while (*p == ' ')
		p++;
	if (*p != '\'' && *p != '"') {
		snprintf(val, vlen, "%s", p);
		return *val ? 0 : -1;
	}
	char q = *p++;
	for (; *p && *p != q; p++) {
		if (*p == '\\') {
			if (p[1] != '\\' && p[1] != '\'' && p[1] != '"')
				return -1;
			p++;
		}
		if ((size_t)(o - val) + 1 < vlen)
			*o++ = *p;
	}
	*o = 0;
	return *p == q && p[1] == 0 ? 0 : -1;
}

static void invalid_query(const struct identity *id, struct winprog_result *r)
{
	sb_printf(&r->err, "Node - %s\r\r\nERROR:\r\r\nDescription = Invalid query\r\r\n\r\r\n",
		  id->hostname);
	r->exitcode = WBEM_E_INVALID_QUERY;
}

static int cmp_names(const void *a, const void *b)
{
	return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

static void render(const struct wtable *t, const char **props, int np, int list,
		   struct winprog_result *r)
{
	size_t width[WMIC_MAX_PROPS];
	qsort(props, (size_t)np, sizeof(props[0]), cmp_names);
	if (list) {
		for (int i = 0; i < t->nrows; i++) {
			sb_puts(&r->out, "\r\r\n\r\r\n");
			for (int c = 0; c < np; c++) {
				int k = find_prop(&t->rows[i], props[c]);
				sb_printf(&r->out, "%s=%s\r\r\n", t->rows[i].name[k],
					  t->rows[i].val[k]);
			}
		}
		sb_puts(&r->out, "\r\r\n\r\r\n\r\r\n");
		return;
	}
	for (int c = 0; c < np; c++) {
		int k = find_prop(&t->rows[0], props[c]);
		width[c] = strlen(t->rows[0].name[k]);
		for (int i = 0; i < t->nrows; i++)
			if (strlen(t->rows[i].val[k]) > width[c])
				width[c] = strlen(t->rows[i].val[k]);
		width[c] += 2;
	}
	for (int i = -1; i < t->nrows; i++) {
		for (int c = 0; c < np; c++) {
			const struct wrow *w = &t->rows[i < 0 ? 0 : i];
			int k = find_prop(w, props[c]);
			sb_printf(&r->out, "%-*s", (int)width[c], i < 0 ? w->name[k] : w->val[k]);
		}
		sb_puts(&r->out, "\r\r\n");
	}
	sb_puts(&r->out, "\r\r\n");
}

void run_wmic(const struct identity *id, char *const *args, int nargs, struct winprog_result *r)
{
	static struct wtable t; /* single-threaded agent; too big for the stack */
	const char *props[WMIC_MAX_PROPS];
	char propbuf[512] = "", wprop[64], wval[256], clause[512] = "";
	int i = 0, np = 0, list = 0, have_where = 0;
	const char *cls;
	memset(&t, 0, sizeof(t));
	while (i < nargs && args[i][0] == '/')
		i++;
	if (i >= nargs) {
		sb_puts(&r->out, "wmic:root\\cli>");
		return;
	}
	cls = args[i++];
	if (!strcasecmp(cls, "path")) {
		if (i >= nargs)
			goto bad;
		cls = args[i++];
	}
	if (!strcasecmp(cls, "qfe") || !strcasecmp(cls, "Win32_QuickFixEngineering"))
		class_qfe(id, &t);
	else if (!strcasecmp(cls, "datafile") || !strcasecmp(cls, "CIM_DataFile"))
		class_datafile(id, &t);
	else if (!strcasecmp(cls, "os") || !strcasecmp(cls, "Win32_OperatingSystem"))
		class_os(id, &t);
	else if (!strcasecmp(cls, "SoftwareLicensingProduct"))
		class_licensing(id, &t);
	else {
		sb_printf(&r->err, "%s - Alias not found.\r\r\n", cls);
		r->exitcode = 44135;
		return;
	}
	if (i < nargs && !strcasecmp(args[i], "where")) {
		have_where = 1;
		for (i++; i < nargs && strcasecmp(args[i], "get") && strcasecmp(args[i], "list");
		     i++) {
			if (clause[0])
				strncat(clause, " ", sizeof(clause) - strlen(clause) - 1);
			strncat(clause, args[i], sizeof(clause) - strlen(clause) - 1);
		}
	}
	if (i < nargs && !strcasecmp(args[i], "list")) {
		list = 1;
		i = nargs;
	} else if (i < nargs && !strcasecmp(args[i], "get")) {
		for (i++; i < nargs && args[i][0] != '/'; i++) {
			if (propbuf[0])
				strncat(propbuf, ",", sizeof(propbuf) - strlen(propbuf) - 1);
			strncat(propbuf, args[i], sizeof(propbuf) - strlen(propbuf) - 1);
		}
	} else if (i < nargs && args[i][0] != '/') {
		goto bad;
	}
	for (; i < nargs; i++) {
		if (!strcasecmp(args[i], "/value") || !strcasecmp(args[i], "/format:list"))
			list = 1;
		else
			goto bad;
	}
	if (have_where) {
		if (parse_where(clause, wprop, sizeof(wprop), wval, sizeof(wval)) < 0 ||
		    (t.nrows && find_prop(&t.rows[0], wprop) < 0))
			goto bad;
		int k = 0;
		for (int j = 0; j < t.nrows; j++) {
			int c = find_prop(&t.rows[j], wprop);
			if (!strcasecmp(t.rows[j].val[c], wval))
				t.rows[k++] = t.rows[j];
		}
		t.nrows = k;
	}
	char *save = NULL;
	for (char *p = strtok_r(propbuf, ", ", &save); p && np < WMIC_MAX_PROPS;
	     p = strtok_r(NULL, ", ", &save)) {
		if (t.nrows && find_prop(&t.rows[0], p) < 0)
			goto bad;
		props[np++] = p;
	}
	if (!t.nrows) {
		sb_puts(&r->err, "No Instance(s) Available.\r\r\n");
		return;
	}
	if (!np)
		for (; np < t.rows[0].n; np++)
			props[np] = t.rows[0].name[np];
	render(&t, props, np, list, r);
	return;
bad:
	invalid_query(id, r);
}
