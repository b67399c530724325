/* bcparse.c - parsers for BuildLab(Ex), reg query, ver, systeminfo, slmgr /dli, guest-get-osinfo
 * and Hyper-V KVP values. Input is OEM code page bytes (pointer + length, no terminator);
 * formats are as Windows Server 2008 / 2008 R2 print them through qemu-ga (windows-builds.md,
 * last section). Every function bounds its input and fails with a clear HfError. */
#include "bcutil.h"

#include <string.h>

/* Reject a NUL byte where the format has none (everything but wmic). */
static int no_nul(const char *buf, size_t len, const char *what, HfError *err)
{
	const char *z = len ? memchr(buf, '\0', len) : NULL;
	if (z)
		return error_set(err, HF_ERR_INVALID_PARAMS, "%s: NUL byte at offset %td", what,
				 z - buf);
	return 0;
}

static int lab_field(const char *f, size_t n, bool (*ok)(int c), size_t max, char *dst)
{
	if (!n || n >= max)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!ok((unsigned char)f[i]))
			return -1;
	memcpy(dst, f, n);
	dst[n] = '\0';
	return 0;
}

static bool branch_char(int c)
{
	return g_ascii_isalnum(c) || c == '_';
}

static bool stamp_char(int c)
{
	return g_ascii_isdigit(c) || c == '-';
}

/* BuildLabEx "<build>.<revision>.<arch><fre|chk>.<branch>.<yymmdd-hhmm>", e.g.
 * "6003.20489.amd64fre.vistasp2_ldr_escrow.190320-1700", arch x86 / amd64 / ia64;
 * BuildLab "<build>.<branch>.<yymmdd-hhmm>", e.g. "6001.longhorn_rtm.080118-1840". */
static int parse_lab(const char *s, size_t len, bool ex, BcBuildLab *out, HfError *err)
{
	const char *what = ex ? "BuildLabEx" : "BuildLab";
	const char *f[6];
	size_t n[6], nf = 0, want = ex ? 5 : 3;

	memset(out, 0, sizeof *out);
	out->revision = -1;
	if (!s || len > BC_STR_MAX)
		return error_set(err, HF_ERR_INVALID_PARAMS, "%s: missing or over %d bytes", what,
				 BC_STR_MAX);
	for (size_t i = 0, start = 0; i <= len && nf < G_N_ELEMENTS(f); i++) {
		if (i < len && s[i] != '.')
			continue;
		f[nf] = s + start;
		n[nf++] = i - start;
		start = i + 1;
	}
	size_t b = nf - 2, st = nf - 1;
	if (nf != want || bcutil_uint(f[0], n[0], 65535, &out->build) < 0 ||
	    (ex && bcutil_uint(f[1], n[1], 65535, &out->revision) < 0) ||
	    lab_field(f[b], n[b], branch_char, sizeof out->branch, out->branch) < 0 ||
	    lab_field(f[st], n[st], stamp_char, sizeof out->stamp, out->stamp) < 0 ||
	    strlen(out->stamp) != 11 || out->stamp[6] != '-')
		goto bad;
	if (ex) {
		if (n[2] < 4 || (memcmp(f[2] + n[2] - 3, "fre", 3) != 0 &&
				 memcmp(f[2] + n[2] - 3, "chk", 3) != 0))
			goto bad;
		out->arch = bcutil_arch(f[2], n[2] - 3);
		if (out->arch == BC_ARCH_UNKNOWN || n[2] - 3 > 5)
			goto bad;
	}
	return 0;
bad:
	return error_set(
	    err, HF_ERR_INVALID_PARAMS, "%s '%.*s' is not in the form %s", what, (int)MIN(len, 80),
	    s, ex ? "build.revision.archfre.branch.yymmdd-hhmm" : "build.branch.yymmdd-hhmm");
}

int bcparse_buildlabex(const char *s, size_t len, BcBuildLab *out, HfError *err)
{
	return parse_lab(s, len, true, out, err);
}

int bcparse_buildlab(const char *s, size_t len, BcBuildLab *out, HfError *err)
{
	return parse_lab(s, len, false, out, err);
}

static const char *const reg_types[] = {"REG_SZ",    "REG_EXPAND_SZ", "REG_MULTI_SZ", "REG_DWORD",
					"REG_QWORD", "REG_BINARY",    "REG_NONE"};

/* One registry value as text; the item field it goes to. */
static int reg_value(BcItem *it, const char *name, const char *type, const char *d, size_t dn,
		     HfError *err)
{
	BcBuildLab lab;
	int v;
	if (strcmp(type, "REG_DWORD") == 0) {
		if (dn < 3 || dn > 10 || memcmp(d, "0x", 2) != 0 ||
		    bcutil_span(d + 2, dn - 2, "0123456789abcdef") < dn - 2)
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "reg query: %s: REG_DWORD data '%.*s' is not 0x + hex",
					 name, (int)MIN(dn, 32), d);
		return 0;
	}
	if (strcmp(type, "REG_SZ") != 0)
		return 0;
	if (g_ascii_strcasecmp(name, "CurrentVersion") == 0)
		return bcutil_set_version(it, d, dn, 2, "reg query: CurrentVersion", err);
	if (g_ascii_strcasecmp(name, "CurrentBuildNumber") == 0 ||
	    g_ascii_strcasecmp(name, "CurrentBuild") == 0) {
		if (bcutil_uint(d, dn, 65535, &v) < 0)
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "reg query: %s '%.*s' is not a build number", name,
					 (int)MIN(dn, 32), d);
		return bcutil_set_int(&it->build, v, "reg query: CurrentBuild(Number)", err);
	}
	if (g_ascii_strcasecmp(name, "CSDVersion") == 0) {
		it->service_pack = bcutil_service_pack(d, dn);
		return bcutil_set_str(&it->csd_version, d, dn, "reg query: CSDVersion", err);
	}
	if (g_ascii_strcasecmp(name, "BuildLabEx") == 0 ||
	    g_ascii_strcasecmp(name, "BuildLab") == 0) {
		bool ex = g_ascii_strcasecmp(name, "BuildLabEx") == 0;
		if (parse_lab(d, dn, ex, &lab, err) < 0)
			return -1;
		return bcutil_set_str(ex ? &it->buildlabex : &it->buildlab, d, dn, name, err);
	}
	if (g_ascii_strcasecmp(name, "ProductType") == 0) {
		static const char *const pt[] = {NULL, "WinNT", "LanmanNT", "ServerNT"};
		for (BcRole r = BC_ROLE_WORKSTATION; r <= BC_ROLE_SERVER; r++)
			if (strlen(pt[r]) == dn && g_ascii_strncasecmp(pt[r], d, dn) == 0)
				it->role = r;
		if (it->role == BC_ROLE_UNKNOWN)
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "reg query: ProductType '%.*s' is not WinNT, LanmanNT or "
					 "ServerNT",
					 (int)MIN(dn, 32), d);
		return 0;
	}
	static const struct {
		const char *name;
		size_t off;
	} strs[] = {{"ProductName", offsetof(BcItem, product_name)},
		    {"EditionID", offsetof(BcItem, edition_id)},
		    {"InstallationType", offsetof(BcItem, installation_type)}};
	for (size_t i = 0; i < G_N_ELEMENTS(strs); i++)
		if (g_ascii_strcasecmp(name, strs[i].name) == 0)
			return bcutil_set_str((char **)((char *)it + strs[i].off), d, dn, name,
					      err);
	return 0;
}

/* A value line: 4 spaces, name, 4 spaces, type, 4 spaces, data (may hold spaces; may be
 * empty). The name may hold spaces too, so the type is found as "    REG_<known>". */
static int reg_line(BcItem *it, const char *l, size_t n, HfError *err)
{
	for (size_t i = 4; i + 4 < n; i++) {
		if (memcmp(l + i, "    REG_", 8) != 0)
			continue;
		const char *t = l + i + 4;
		size_t rest = n - (size_t)(t - l);
		const char *sp = memchr(t, ' ', rest);
		size_t tn = sp ? (size_t)(sp - t) : rest;
		for (size_t k = 0; k < G_N_ELEMENTS(reg_types); k++) {
			if (strlen(reg_types[k]) != tn || memcmp(t, reg_types[k], tn) != 0)
				continue;
			const char *d = t + tn;
			size_t dn = rest - tn;
			if (dn && (dn < 4 || memcmp(d, "    ", 4) != 0))
				break;
			char name[BC_STR_MAX + 1];
			size_t nn = i - 4;
			if (nn > BC_STR_MAX)
				return error_set(err, HF_ERR_INVALID_PARAMS,
						 "reg query: value name over %d bytes", BC_STR_MAX);
			memcpy(name, l + 4, nn);
			name[nn] = '\0';
			return reg_value(it, name, reg_types[k], d + MIN(dn, 4), dn - MIN(dn, 4),
					 err);
		}
	}
	if (memchr(l, '\t', n))
		return error_set(err, HF_ERR_UNSUPPORTED,
				 "reg query: tab-separated columns (the XP / Server 2003 reg.exe "
				 "format) are not supported");
	return error_set(err, HF_ERR_INVALID_PARAMS,
			 "reg query: '%.*s' is not 'name    REG_type    data'", (int)MIN(n, 80), l);
}

/* reg query KEY [/v NAME], reg.exe of Vista / 2008 and later: a blank line, the full key name
 * (HKEY_LOCAL_MACHINE\...), one line per value (see reg_line), CRLF line ends, a blank line at
 * the end; without /v the subkeys follow as further key lines (ignored, as are their values).
 * REG_DWORD data is "0x" + lower-case hex. A missing key or value prints "ERROR: ..." (text
 * localised, exit code 1): HF_ERR_NOT_FOUND. The XP / 2003 format ("! REG.EXE VERSION 3.0"
 * header, tab columns): HF_ERR_UNSUPPORTED. With CurrentVersion but no CSDVersion value the
 * machine has no service pack (2008 RTM). */
int bcparse_reg_query(const char *buf, size_t len, BcItem *it, HfError *err)
{
	const char *p = buf, *end = buf + len, *l;
	size_t n;
	int keys = 0;
	bool csd = false, cv = false; /* this output listed CSDVersion / CurrentVersion */

	if (bcutil_check_output(buf, len, "reg query", err) < 0 ||
	    no_nul(buf, len, "reg query", err) < 0)
		return -1;
	while (bcutil_next_line(&p, end, &l, &n)) {
		if (bcutil_starts(l, n, "! REG.EXE"))
			return error_set(
			    err, HF_ERR_UNSUPPORTED,
			    "reg query: the XP / Server 2003 reg.exe format "
			    "('! REG.EXE VERSION' header, tab columns) is not supported");
		if (bcutil_starts(l, n, "ERROR:"))
			return error_set(err, HF_ERR_NOT_FOUND, "reg query: %.*s", (int)MIN(n, 200),
					 l);
		if (bcutil_starts(l, n, "HKEY_") || bcutil_starts(l, n, "HKLM\\")) {
			keys++;
			continue;
		}
		if (!n || keys > 1)
			continue;
		if (!keys || !bcutil_starts(l, n, "    "))
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "reg query: unexpected line '%.*s'", (int)MIN(n, 80), l);
		csd = csd || bcutil_starts(l, n, "    CSDVersion    ");
		cv = cv || bcutil_starts(l, n, "    CurrentVersion    ");
		if (reg_line(it, l, n, err) < 0)
			return -1;
	}
	if (!keys)
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "reg query: no key name in the output");
	if (cv && !csd)
		it->service_pack = 0;
	return 0;
}

/* cmd.exe /c ver: "\r\nMicrosoft Windows [Version 6.0.6003]\r\n". The words are localised
 * ("[Versión 6.0.6003]"): the version is the number inside the brackets. 6.0 / 6.1 never show a
 * revision; a fourth part (later Windows) is taken when present. */
int bcparse_ver(const char *buf, size_t len, BcItem *it, HfError *err)
{
	if (bcutil_check_output(buf, len, "ver", err) < 0 || no_nul(buf, len, "ver", err) < 0)
		return -1;
	const char *o = len ? memchr(buf, '[', len) : NULL;
	const char *c = o ? memchr(o, ']', (size_t)(buf + len - o)) : NULL;
	if (!c || c - o > 64)
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "ver: no '[Version N.N.N]' in the output");
	const char *v = c;
	while (v > o + 1 && (g_ascii_isdigit(v[-1]) || v[-1] == '.'))
		v--;
	return bcutil_set_version(it, v, (size_t)(c - v), 3, "ver", err);
}

/* "6.0.6002 Service Pack 2 Build 6002" (no "Service Pack" part = none). The last number must
 * repeat the build. */
static int sysinfo_version(BcItem *it, const char *v, size_t n, HfError *err)
{
	const char *sp = memchr(v, ' ', n);
	size_t vn = sp ? (size_t)(sp - v) : n;
	size_t b = n;
	while (b && g_ascii_isdigit(v[b - 1]))
		b--;
	int build;
	if (b <= vn || bcutil_uint(v + b, n - b, 65535, &build) < 0)
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "systeminfo: OS Version '%.*s' does not end in the build number",
				 (int)MIN(n, 80), v);
	if (bcutil_set_version(it, v, vn, 3, "systeminfo: OS Version", err) < 0 ||
	    bcutil_set_int(&it->build, build, "systeminfo: OS Version build", err) < 0)
		return -1;
	const char *pack = g_strstr_len(v, (gssize)n, "Service Pack ");
	it->service_pack = pack ? bcutil_service_pack(pack, (size_t)(v + n - pack)) : 0;
	return 0;
}

/* systeminfo: CRLF lines "Label:<padding to column 27>value"; English labels "OS Name:",
 * "OS Version:" ("6.0.6002 Service Pack 2 Build 6002"), "System Type:" ("x64-based PC");
 * updates as indented "[01]: KB956250" lines (network cards use the same "[01]:" form, so only
 * KB numbers count). (R) and (TM) come out as "r" and "T". With localised labels the OS Version
 * is the first value that starts with a dotted version and ends in the same build number. */
int bcparse_systeminfo(const char *buf, size_t len, BcItem *it, HfError *err)
{
	const char *p = buf, *end = buf + len, *l;
	size_t n;
	bool version = false;

	if (bcutil_check_output(buf, len, "systeminfo", err) < 0 ||
	    no_nul(buf, len, "systeminfo", err) < 0)
		return -1;
	while (bcutil_next_line(&p, end, &l, &n)) {
		const char *colon = memchr(l, ':', n);
		if (!colon)
			continue;
		const char *v = colon + 1;
		size_t vn = n - (size_t)(v - l), ln = (size_t)(colon - l);
		bcutil_trim(&v, &vn);
		bcutil_trim(&l, &ln);
		if (ln > 2 && l[0] == '[' && l[ln - 1] == ']') {
			if (vn > 2 && bcutil_starts(v, vn, "KB") &&
			    bcutil_span(v + 2, vn - 2, "0123456789") == vn - 2 &&
			    bcutil_add_update(it, v, vn, err) < 0)
				return -1;
			continue;
		}
		if (ln == 7 && bcutil_starts(l, ln, "OS Name")) {
			if (bcutil_set_str(&it->product_name, v, vn, "systeminfo: OS Name", err) <
			    0)
				return -1;
		} else if (ln == 11 && bcutil_starts(l, ln, "System Type")) {
			it->arch = bcutil_arch(v, vn);
		} else if (!version && ((ln == 10 && bcutil_starts(l, ln, "OS Version")) ||
					(vn && g_ascii_isdigit(v[0]) && memchr(v, '.', vn) &&
					 g_ascii_isdigit(v[vn - 1]) && memchr(v, ' ', vn)))) {
			if (sysinfo_version(it, v, vn, err) < 0)
				return -1;
			version = true;
		}
	}
	if (!version)
		return error_set(err, HF_ERR_INVALID_PARAMS, "systeminfo: no OS Version line");
	if (!it->updates)
		it->updates = g_ptr_array_new_with_free_func(g_free);
	return 0;
}

/* cscript //nologo slmgr.vbs /dli <id>: a blank line, "Name: ...", "Description: ...",
 * "Partial Product Key: XXXXX" (or "This license is not in use."), "License Status: Licensed",
 * an empty line; exit code always 0. Without //nologo a Windows Script Host banner comes first
 * (skipped). "Error: product key not found." = the id is not installed; any other "Error:" line
 * is HF_ERR_FAILED. English status words only. */
int bcparse_slmgr_dli(const char *buf, size_t len, const char *activation_id, BcItem *it,
		      HfError *err)
{
	static const char *const words[] = {"Unlicensed",
					    "Licensed",
					    "Initial grace period",
					    "Additional grace period",
					    "Non-genuine grace period",
					    "Notification",
					    "Extended grace period"};
	const char *p = buf, *end = buf + len, *l;
	size_t n;

	if (!activation_id)
		return error_set(err, HF_ERR_INVALID_PARAMS, "slmgr /dli: no activation id");
	if (bcutil_check_output(buf, len, "slmgr /dli", err) < 0 ||
	    no_nul(buf, len, "slmgr /dli", err) < 0)
		return -1;
	while (bcutil_next_line(&p, end, &l, &n)) {
		bcutil_trim(&l, &n);
		if (bcutil_starts(l, n, "Error: product key not found"))
			return bcutil_add_licence(it, activation_id, strlen(activation_id),
						  BC_LIC_NOT_INSTALLED, err);
		if (bcutil_starts(l, n, "Error:"))
			return error_set(err, HF_ERR_FAILED, "slmgr /dli: %.*s", (int)MIN(n, 200),
					 l);
		if (!bcutil_starts(l, n, "License Status:"))
			continue;
		const char *w = l + 15;
		size_t wn = n - 15;
		bcutil_trim(&w, &wn);
		for (int s = 0; s < (int)G_N_ELEMENTS(words); s++)
			if (strlen(words[s]) == wn && g_ascii_strncasecmp(words[s], w, wn) == 0)
				return bcutil_add_licence(it, activation_id, strlen(activation_id),
							  s, err);
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "slmgr /dli: unknown License Status '%.*s'", (int)MIN(wn, 80), w);
	}
	return error_set(err, HF_ERR_INVALID_PARAMS, "slmgr /dli: no 'License Status:' line");
}

static int kv_check(const char *what, const char *key, const char *value, HfError *err)
{
	if (!key || !value)
		return error_set(err, HF_ERR_INVALID_PARAMS, "%s: missing name or value", what);
	size_t n = strnlen(value, BC_STR_MAX + 1);
	if (n > BC_STR_MAX)
		return error_set(err, HF_ERR_INVALID_PARAMS, "%s %s: value over %d bytes", what,
				 key, BC_STR_MAX);
	return 0;
}

static int kv_uint(const char *what, const char *key, const char *value, int max, int *out,
		   HfError *err)
{
	int v;
	if (bcutil_uint(value, strlen(value), max, &v) < 0)
		return error_set(err, HF_ERR_INVALID_PARAMS, "%s %s: '%.40s' is not a number 0-%d",
				 what, key, value, max);
	return bcutil_set_int(out, v, key, err);
}

/* qemu-ga guest-get-osinfo on Windows, as libvirt's "os.<key>" typed parameters (the "os."
 * prefix is optional): kernel-version "6.0", kernel-release "6003" (build only: no revision,
 * no service pack), pretty-name (registry ProductName), version-id "2008" / "2008r2" / "vista",
 * variant-id "server" / "client", machine "x86_64" / "x86" / "ia64". Other keys are ignored. */
int bcparse_osinfo(const char *key, const char *value, BcItem *it, HfError *err)
{
	if (kv_check("guest-get-osinfo", key, value, err) < 0)
		return -1;
	if (g_str_has_prefix(key, "os."))
		key += 3;
	size_t n = strlen(value);
	if (strcmp(key, "kernel-version") == 0)
		return bcutil_set_version(it, value, n, 2, "guest-get-osinfo kernel-version", err);
	if (strcmp(key, "kernel-release") == 0)
		return kv_uint("guest-get-osinfo", key, value, 65535, &it->build, err);
	if (strcmp(key, "pretty-name") == 0)
		return bcutil_set_str(&it->product_name, value, n, key, err);
	if (strcmp(key, "version-id") == 0)
		return bcutil_set_str(&it->os_version_id, value, n, key, err);
	if (strcmp(key, "machine") == 0)
		it->arch = bcutil_arch(value, n);
	else if (strcmp(key, "variant-id") == 0)
		it->role = strcmp(value, "client") == 0	  ? BC_ROLE_WORKSTATION
			   : strcmp(value, "server") == 0 ? BC_ROLE_SERVER
							  : BC_ROLE_UNKNOWN;
	return 0;
}

/* Hyper-V KVP GuestIntrinsicExchangeItems (2008 guests): OSVersion "6.0.6003", OSBuildNumber,
 * OSMajorVersion, OSMinorVersion, CSDVersion "Service Pack 2", ServicePackMajor, ProductType
 * (1 workstation, 2 domain controller, 3 server), ProcessorArchitecture (0 x86, 6 ia64,
 * 9 amd64), OSName. No revision in KVP. Other names are ignored. */
int bcparse_kvp(const char *name, const char *value, BcItem *it, HfError *err)
{
	int v = -1;
	if (kv_check("Hyper-V KVP", name, value, err) < 0)
		return -1;
	size_t n = strlen(value);
	if (strcmp(name, "OSVersion") == 0)
		return bcutil_set_version(it, value, n, 3, "Hyper-V KVP OSVersion", err);
	if (strcmp(name, "OSBuildNumber") == 0)
		return kv_uint("Hyper-V KVP", name, value, 65535, &it->build, err);
	if (strcmp(name, "OSMajorVersion") == 0)
		return kv_uint("Hyper-V KVP", name, value, 255, &it->major, err);
	if (strcmp(name, "OSMinorVersion") == 0)
		return kv_uint("Hyper-V KVP", name, value, 255, &it->minor, err);
	if (strcmp(name, "ServicePackMajor") == 0)
		return kv_uint("Hyper-V KVP", name, value, 99, &it->service_pack, err);
	if (strcmp(name, "OSName") == 0)
		return bcutil_set_str(&it->product_name, value, n, "Hyper-V KVP OSName", err);
	if (strcmp(name, "CSDVersion") == 0) {
		if (bcutil_set_str(&it->csd_version, value, n, "Hyper-V KVP CSDVersion", err) < 0)
			return -1;
		int sp = bcutil_service_pack(value, n);
		return bcutil_set_int(&it->service_pack, sp < 0 ? 0 : sp, "CSDVersion", err);
	}
	if (strcmp(name, "ProductType") == 0) {
		if (kv_uint("Hyper-V KVP", name, value, 3, &v, err) < 0 || v == 0)
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "Hyper-V KVP ProductType '%.20s' is not 1, 2 or 3", value);
		it->role = v == 1 ? BC_ROLE_WORKSTATION : v == 2 ? BC_ROLE_DC : BC_ROLE_SERVER;
	} else if (strcmp(name, "ProcessorArchitecture") == 0) {
		if (kv_uint("Hyper-V KVP", name, value, 65535, &v, err) < 0)
			return -1;
		it->arch = v == 0   ? BC_ARCH_X86
			   : v == 9 ? BC_ARCH_AMD64
			   : v == 6 ? BC_ARCH_IA64
				    : BC_ARCH_UNKNOWN;
	}
	return 0;
}
