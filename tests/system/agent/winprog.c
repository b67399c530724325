/* winprog.c - the Windows programs holdfast's build check runs through guest-exec, printing
 * byte for byte what Windows Server 2008 prints through a pipe (OEM code page, CRLF):
 * reg.exe, cmd.exe (/c ver, /c <program>), cscript.exe slmgr.vbs, systeminfo.exe; wmic.exe
 * lives in wmic.c, netstat.exe in netstat.c. Program names match case-insensitively, with or
 * without directory and ".exe", as CreateProcess with a PATH search would find them. */
#include "winprog.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char CURVER_KEY[] =
    "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion";
static const char PRODOPT_KEY[] =
    "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\ProductOptions";
static const char *const CURVER_SUBKEYS[] = {
    "Accessibility",   "AeDebug", "AppCompatFlags",
    "Compatibility32", "Console", "Drivers32",
    "Fonts",	       "HotFix",  "Image File Execution Options",
    "ProfileList",     "SvcHost", "Windows",
    "Winlogon",	       NULL};

struct regval {
	char name[32];
	const char *type;
	char data[160];
};

static int reg_values(const struct identity *id, const char *key, struct regval *v, int max)
{
	int n = 0;
#define ADD(nm, ty, ...)                                                                           \
	do {                                                                                       \
		if (n < max) {                                                                     \
			snprintf(v[n].name, sizeof(v[n].name), "%s", nm);                          \
			v[n].type = ty;                                                            \
			snprintf(v[n].data, sizeof(v[n].data), __VA_ARGS__);                       \
			n++;                                                                       \
		}                                                                                  \
	} while (0)
	if (!strcasecmp(key, PRODOPT_KEY)) {
		ADD("ProductType", "REG_SZ", "%s",
		    id->product_type == 1   ? "WinNT"
		    : id->product_type == 2 ? "LanmanNT"
					    : "ServerNT");
		ADD("ProductSuite", "REG_MULTI_SZ", "%s", "Terminal Server");
		return n;
	}
	if (strcasecmp(key, CURVER_KEY))
		return -1;
	ADD("CurrentVersion", "REG_SZ", "%s", identity_version(id));
	ADD("CurrentBuildNumber", "REG_SZ", "%d", id->build);
	ADD("SoftwareType", "REG_SZ", "System");
	ADD("CurrentType", "REG_SZ", "Multiprocessor Free");
	ADD("InstallDate", "REG_DWORD", "0x%x", (unsigned)id->install_date);
	ADD("RegisteredOrganization", "REG_SZ", "%s", "");
	ADD("RegisteredOwner", "REG_SZ", "%s", id->registered_owner);
	ADD("SystemRoot", "REG_SZ", "C:\\Windows");
	ADD("ProductName", "REG_SZ", "%s", id->product_name);
	ADD("ProductId", "REG_SZ", "%s", id->product_id);
	ADD("DigitalProductId", "REG_BINARY",
	    "A40000000300000039323537332D3038322D323530303131352D3736323538000000");
	ADD("EditionID", "REG_SZ", "%s", id->edition_id);
	ADD("BuildLab", "REG_SZ", "%s", id->buildlab);
	ADD("BuildLabEx", "REG_SZ", "%s", id->buildlabex);
	ADD("BuildGUID", "REG_SZ", "ffffffff-ffff-ffff-ffff-ffffffffffff");
	if (id->csd_version[0])
		ADD("CSDBuildNumber", "REG_SZ", "%s", id->build >= 7600 ? "1130" : "1621");
	ADD("PathName", "REG_SZ", "C:\\Windows");
	if (id->csd_version[0])
		ADD("CSDVersion", "REG_SZ", "%s", id->csd_version);
	ADD("CurrentBuild", "REG_SZ", "%d", id->build);
#undef ADD
	return n;
}

/* "HKLM\..." or "HKEY_LOCAL_MACHINE\..." -> canonical full name; NULL when not HKLM */
static int canon_key(const char *in, char *out, size_t len)
{
	const char *rest;
	size_t n;
	if (!strncasecmp(in, "HKLM\\", 5))
		rest = in + 5;
	else if (!strncasecmp(in, "HKEY_LOCAL_MACHINE\\", 19))
		rest = in + 19;
	else
		return -1;
	snprintf(out, len, "HKEY_LOCAL_MACHINE\\%s", rest);
	n = strlen(out);
	while (n && out[n - 1] == '\\')
		out[--n] = 0;
	return 0;
}

static void reg_line(struct sbuf *o, const struct regval *v)
{
	sb_printf(o, "    %s    %s    %s\r\n", v->name, v->type, v->data);
}

static int run_reg(const struct identity *id, char *const *args, int nargs,
		   struct winprog_result *r)
{
	struct regval vals[32];
	char key[256];
	const char *want = NULL;
	int n, i;
	if (nargs < 1 || strcasecmp(args[0], "query")) {
		sb_puts(&r->err, "ERROR: Invalid syntax.\r\nType \"REG /?\" for usage.\r\n");
		return r->exitcode = 1;
	}
	if (nargs < 2 || (nargs > 2 && (strcasecmp(args[2], "/v") || nargs != 4))) {
		sb_puts(&r->err, "ERROR: Invalid syntax.\r\nType \"REG QUERY /?\" for usage.\r\n");
		return r->exitcode = 1;
	}
	if (nargs == 4)
		want = args[3];
	if (canon_key(args[1], key, sizeof(key)) < 0 || (n = reg_values(id, key, vals, 32)) < 0)
		goto notfound;
	/* reg prints the canonical case of the key */
	snprintf(key, sizeof(key), "%s", !strcasecmp(key, CURVER_KEY) ? CURVER_KEY : PRODOPT_KEY);
	if (want) {
		for (i = 0; i < n; i++)
			if (!strcasecmp(vals[i].name, want))
				break;
		if (i == n)
			goto notfound;
		sb_printf(&r->out, "\r\n%s\r\n", key);
		reg_line(&r->out, &vals[i]);
		sb_puts(&r->out, "\r\n");
		return r->exitcode = 0;
	}
	sb_printf(&r->out, "\r\n%s\r\n", key);
	for (i = 0; i < n; i++)
		reg_line(&r->out, &vals[i]);
	sb_puts(&r->out, "\r\n");
	if (!strcmp(key, CURVER_KEY))
		for (i = 0; CURVER_SUBKEYS[i]; i++)
			sb_printf(&r->out, "%s\\%s\r\n", key, CURVER_SUBKEYS[i]);
	return r->exitcode = 0;
notfound:
	sb_puts(&r->err,
		"ERROR: The system was unable to find the specified registry key or value.\r\n");
	return r->exitcode = 1;
}

static int run_ver(const struct identity *id, struct winprog_result *r)
{
	sb_printf(&r->out, "\r\nMicrosoft Windows [Version %s.%d]\r\n", identity_version(id),
		  id->build);
	return r->exitcode = 0;
}

/* cmd.exe splits its command line itself: words, "quoted words" kept together */
static int split_cmdline(char *line, char **argv, int max)
{
	int n = 0;
	char *p = line;
	while (*p && n < max) {
		char *w;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		w = p;
		argv[n++] = w;
		for (int q = 0; *p && (q || (*p != ' ' && *p != '\t')); p++) {
			if (*p == '"') {
				q = !q;
				memmove(p, p + 1, strlen(p));
				p--;
			}
		}
		if (*p)
			*p++ = 0;
	}
	return n;
}

static int run_cmd(const struct identity *id, char *const *args, int nargs,
		   struct winprog_result *r)
{
	struct sbuf line = {0};
	char *argv[32];
	int n;
	if (nargs < 1 || (strcasecmp(args[0], "/c") && strcasecmp(args[0], "/k"))) {
		sb_printf(&r->out,
			  "Microsoft Windows [Version %s.%d]\r\nCopyright (c) 2006 Microsoft "
			  "Corporation.  All rights reserved.\r\n\r\nC:\\Windows\\system32>",
			  identity_version(id), id->build);
		return r->exitcode = 0;
	}
	for (int i = 1; i < nargs; i++) {
		if (i > 1)
			sb_puts(&line, " ");
		sb_puts(&line, args[i]);
	}
	sb_add(&line, "", 0);
	n = split_cmdline(line.p ? line.p : (char *)"", argv, 32);
	if (n == 0) {
		sb_free(&line);
		return r->exitcode = 0;
	}
	if (n == 1 && !strcasecmp(argv[0], "ver")) {
		sb_free(&line);
		return run_ver(id, r);
	}
	if (strcasecmp(argv[0], "cmd") && strcasecmp(argv[0], "cmd.exe") &&
	    winprog_run(id, argv[0], argv + 1, n - 1, r) == 0) {
		sb_free(&line);
		return r->exitcode;
	}
	sb_printf(&r->err,
		  "'%s' is not recognized as an internal or external command,\r\noperable "
		  "program or batch file.\r\n",
		  argv[0]);
	sb_free(&line);
	return r->exitcode = 1;
}

static int run_cscript(const struct identity *id, char *const *args, int nargs,
		       struct winprog_result *r)
{
	int i = 0, nologo = 0;
	for (; i < nargs && !strncmp(args[i], "//", 2); i++)
		if (!strcasecmp(args[i], "//nologo"))
			nologo = 1;
	if (!nologo)
		sb_puts(&r->out, "Microsoft (R) Windows Script Host Version 5.7\r\nCopyright (C) "
				 "Microsoft Corporation. All rights reserved.\r\n\r\n");
	if (i >= nargs) {
		sb_puts(&r->out,
			"Usage: CScript scriptname.extension [option...] [arguments...]\r\n");
		return r->exitcode = 0;
	}
	if (strcasecmp(args[i], "C:\\Windows\\System32\\slmgr.vbs") &&
	    strcasecmp(args[i], "slmgr.vbs")) {
		sb_printf(&r->err, "Input Error: Can not find script file \"%s\".\r\n", args[i]);
		return r->exitcode = 1;
	}
	i++;
	if (i >= nargs || strcasecmp(args[i], "/dli")) {
		sb_puts(&r->out, "Windows Software Licensing Management Tool\r\nUsage: slmgr.vbs "
				 "[MachineName [User Password]] [<Option>]\r\n");
		return r->exitcode = 0;
	}
	if (i + 1 >= nargs) { /* the operating system's own licence */
		sb_printf(
		    &r->out,
		    "\r\nName: Windows Server(R), %s edition\r\nDescription: Windows Operating "
		    "System - Windows Server(R), VOLUME_MAK channel\r\nPartial Product Key: "
		    "7H3QX\r\nLicense Status: Licensed\r\n\r\n",
		    id->edition_id);
		return r->exitcode = 0;
	}
	int year = esu_year_of(id, args[i + 1]);
	if (year <= 0) {
		sb_puts(&r->out, "Error: product key not found.\r\n");
		return r->exitcode = 0;
	}
	sb_printf(&r->out, "\r\nName: %s\r\nDescription: %s\r\n", esu_name(year), ESU_DESCRIPTION);
	if (id->esu_years & (1u << year))
		sb_printf(&r->out, "Partial Product Key: %s\r\nLicense Status: Licensed\r\n\r\n",
			  esu_partial_key(year));
	else
		sb_puts(&r->out,
			"This license is not in use.\r\nLicense Status: Unlicensed\r\n\r\n");
	return r->exitcode = 0;
}

static void si_line(struct sbuf *o, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void si_line(struct sbuf *o, const char *label, const char *fmt, ...)
{
	va_list ap;
	sb_printf(o, "%-27s", label);
	va_start(ap, fmt);
	sb_vprintf(o, fmt, ap);
	va_end(ap);
	sb_puts(o, "\r\n");
}

static int run_systeminfo(const struct identity *id, struct winprog_result *r)
{
	struct sbuf *o = &r->out;
	char date[64], name[128];
	time_t t = id->install_date;
	struct tm tm;
	const char *p = id->product_name;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%m/%d/%Y, %I:%M:%S %p", &tm);
	/* WMI's Caption: "Microsoft(R) Windows(R) Server 2008 Standard", (R) -> "r" via cp437 */
	if (!strncmp(p, "Windows Server (R) ", 19))
		snprintf(name, sizeof(name), "Microsoftr Windows Serverr %s ", p + 19);
	else if (!strncmp(p, "Windows Server ", 15))
		snprintf(name, sizeof(name), "Microsoftr Windows Serverr %s ", p + 15);
	else
		snprintf(name, sizeof(name), "Microsoftr %s ", p);
	sb_puts(o, "\r\n");
	si_line(o, "Host Name:", "%s", id->hostname);
	si_line(o, "OS Name:", "%s", name);
	if (id->csd_version[0])
		si_line(o, "OS Version:", "%s.%d %s Build %d", identity_version(id), id->build,
			id->csd_version, id->build);
	else
		si_line(o, "OS Version:", "%s.%d N/A Build %d", identity_version(id), id->build,
			id->build);
	si_line(o, "OS Manufacturer:", "Microsoft Corporation");
	si_line(o, "OS Configuration:", "%s",
		id->product_type == 2 ? "Primary Domain Controller" : "Standalone Server");
	si_line(o, "OS Build Type:", "Multiprocessor Free");
	si_line(o, "Registered Owner:", "%s", id->registered_owner);
	si_line(o, "Registered Organization:", "%s", "");
	si_line(o, "Product ID:", "%s", id->product_id);
	si_line(o, "Original Install Date:", "%s", date);
	si_line(o, "System Boot Time:", "%s", date);
	si_line(o, "System Manufacturer:", "QEMU");
	si_line(o, "System Model:", "Standard PC (i440FX + PIIX, 1996)");
	si_line(o, "System Type:", "%s",
		!strcmp(id->arch, "amd64")  ? "x64-based PC"
		: !strcmp(id->arch, "ia64") ? "Itanium-based PC"
					    : "X86-based PC");
	si_line(o, "Processor(s):", "1 Processor(s) Installed.");
	si_line(o, "", "[01]: Intel64 Family 6 Model 85 Stepping 7 GenuineIntel ~2095 Mhz");
	si_line(o,
		"BIOS Version:", "SeaBIOS rel-1.16.0-0-gd239552ce722-prebuilt.qemu.org, 4/1/2014");
	si_line(o, "Windows Directory:", "C:\\Windows");
	si_line(o, "System Directory:", "C:\\Windows\\system32");
	si_line(o, "Boot Device:", "\\Device\\HarddiskVolume1");
	si_line(o, "System Locale:", "en-us;English (United States)");
	si_line(o, "Input Locale:", "en-us;English (United States)");
	si_line(o, "Time Zone:", "(GMT) Greenwich Mean Time : Dublin, Edinburgh, Lisbon, London");
	si_line(o, "Total Physical Memory:", "4,095 MB");
	si_line(o, "Available Physical Memory:", "2,869 MB");
	si_line(o, "Page File: Max Size:", "8,422 MB");
	si_line(o, "Page File: Available:", "7,263 MB");
	si_line(o, "Page File: In Use:", "1,159 MB");
	si_line(o, "Page File Location(s):", "C:\\pagefile.sys");
	si_line(o, "Domain:", "WORKGROUP");
	si_line(o, "Logon Server:", "\\\\%s", id->hostname);
	si_line(o, "Hotfix(s):", "%d Hotfix(s) Installed.", id->nkbs);
	for (int i = 0; i < id->nkbs; i++)
		si_line(o, "", "[%02d]: %s", i + 1, id->kbs[i]);
	si_line(o, "Network Card(s):", "1 NIC(s) Installed.");
	si_line(o, "", "[01]: Red Hat VirtIO Ethernet Adapter");
	si_line(o, "", "      Connection Name: Local Area Connection");
	si_line(o, "", "      DHCP Enabled:    Yes");
	si_line(o, "", "      DHCP Server:     10.0.2.2");
	si_line(o, "", "      IP address(es)");
	si_line(o, "", "      [01]: 10.0.2.15");
	return r->exitcode = 0;
}

/* lower-case, '/' -> '\', split off the directory, drop ".exe" */
static int program_name(const char *path, char *dir, size_t dlen, char *base, size_t blen)
{
	char buf[512];
	char *slash, *b;
	size_t n;
	if (strlen(path) >= sizeof(buf) || !*path)
		return -1;
	for (n = 0; path[n]; n++)
		buf[n] = path[n] == '/' ? '\\' : (char)tolower((unsigned char)path[n]);
	buf[n] = 0;
	slash = strrchr(buf, '\\');
	b = slash ? slash + 1 : buf;
	if (slash)
		*slash = 0;
	snprintf(dir, dlen, "%s", slash ? buf : "");
	n = strlen(b);
	if (n > 4 && !strcmp(b + n - 4, ".exe"))
		b[n - 4] = 0;
	else if (strchr(b, '.'))
		return -1;
	snprintf(base, blen, "%s", b);
	return 0;
}

int winprog_run(const struct identity *id, const char *path, char *const *args, int nargs,
		struct winprog_result *r)
{
	static const struct {
		const char *name, *dir;
	} progs[] = {
	    {"reg", "c:\\windows\\system32"},	     {"cmd", "c:\\windows\\system32"},
	    {"cscript", "c:\\windows\\system32"},    {"systeminfo", "c:\\windows\\system32"},
	    {"wmic", "c:\\windows\\system32\\wbem"}, {"netstat", "c:\\windows\\system32"},
	};
	char dir[512], base[64];
	size_t i;
	if (program_name(path, dir, sizeof(dir), base, sizeof(base)) < 0)
		return -1;
	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		if (!strcmp(base, progs[i].name) && (!dir[0] || !strcmp(dir, progs[i].dir)))
			break;
	if (i == sizeof(progs) / sizeof(progs[0]))
		return -1;
	r->exitcode = 0;
	switch (base[0]) {
	case 'r':
		run_reg(id, args, nargs, r);
		break;
	case 'c':
		if (base[1] == 'm')
			run_cmd(id, args, nargs, r);
		else
			run_cscript(id, args, nargs, r);
		break;
	case 's':
		run_systeminfo(id, r);
		break;
	case 'n':
		run_netstat(args, nargs, r);
		break;
	default:
		run_wmic(id, args, nargs, r);
	}
	return 0;
}
