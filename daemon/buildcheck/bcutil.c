/* bcutil.c - byte-level helpers for the buildcheck parsers. */
#include "bcutil.h"

#include <string.h>

int bcutil_check_output(const char *buf, size_t len, const char *what, HfError *err)
{
	if (!buf && len)
		return error_set(err, HF_ERR_INVALID_PARAMS, "%s: no output buffer", what);
	if (len > BC_OUTPUT_MAX)
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "%s: output of %zu bytes is over the %u byte limit", what, len,
				 BC_OUTPUT_MAX);
	return 0;
}

bool bcutil_next_line(const char **p, const char *end, const char **line, size_t *len)
{
	if (*p >= end)
		return false;
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	const char *stop = nl ? nl : end;
	*line = *p;
	*len = (size_t)(stop - *p);
	while (*len && (*line)[*len - 1] == '\r')
		(*len)--;
	*p = nl ? nl + 1 : end;
	return true;
}

void bcutil_trim(const char **s, size_t *len)
{
	while (*len && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

size_t bcutil_span(const char *s, size_t n, const char *accept)
{
	size_t i = 0;
	while (i < n && s[i] && strchr(accept, s[i]))
		i++;
	return i;
}

bool bcutil_starts(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && g_ascii_strncasecmp(s, prefix, n) == 0;
}

int bcutil_uint(const char *s, size_t len, int max, int *out)
{
	long v = 0;
	if (!len || len > 10)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = (int)v;
	return 0;
}

int bcutil_version(const char *s, size_t len, int min, int max, int parts[4])
{
	int n = 0;
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		if (n == max || bcutil_uint(s + start, i - start, 65535, &parts[n]) < 0)
			return -1;
		n++;
		start = i + 1;
	}
	return n >= min ? n : -1;
}

int bcutil_set_str(char **dst, const char *s, size_t len, const char *what, HfError *err)
{
	bcutil_trim(&s, &len);
	if (len > BC_STR_MAX)
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "%s: value of %zu bytes is over the %d byte limit", what, len,
				 BC_STR_MAX);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "%s: control byte 0x%02x at offset %zu", what,
					 (unsigned char)s[i], i);
	g_free(*dst);
	*dst = g_strndup(s, len);
	return 0;
}

int bcutil_set_version(BcItem *it, const char *s, size_t len, int min, const char *what,
		       HfError *err)
{
	int p[4];
	bcutil_trim(&s, &len);
	int n = bcutil_version(s, len, min, 4, p);
	if (n < 0 || p[0] > 255 || p[1] > 255)
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "%s: '%.*s' is not a version (like 6.0.6003)", what,
				 (int)MIN(len, 64), s);
	if (bcutil_set_int(&it->major, p[0], what, err) < 0 ||
	    bcutil_set_int(&it->minor, p[1], what, err) < 0 ||
	    (n > 2 && bcutil_set_int(&it->build, p[2], what, err) < 0) ||
	    (n > 3 && bcutil_set_int(&it->revision, p[3], what, err) < 0))
		return -1;
	return 0;
}

int bcutil_add_update(BcItem *it, const char *s, size_t len, HfError *err)
{
	char *id = NULL;
	if (!it->updates)
		it->updates = g_ptr_array_new_with_free_func(g_free);
	if (it->updates->len >= BC_UPDATES_MAX)
		return error_set(err, HF_ERR_INVALID_PARAMS, "more than %d installed updates",
				 BC_UPDATES_MAX);
	if (bcutil_set_str(&id, s, len, "update id", err) < 0)
		return -1;
	if (!*id) {
		g_free(id);
		return 0;
	}
	g_ptr_array_add(it->updates, id);
	return 0;
}

int bcutil_add_licence(BcItem *it, const char *id, size_t len, int status, HfError *err)
{
	BcLicence l = {.status = status};
	bcutil_trim(&id, &len);
	if (!len || len >= sizeof l.id)
		return error_set(err, HF_ERR_INVALID_PARAMS, "activation id '%.*s' is not a GUID",
				 (int)MIN(len, 64), id);
	for (size_t i = 0; i < len; i++) {
		if (!g_ascii_isxdigit(id[i]) && id[i] != '-')
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "activation id '%.*s' is not a GUID", (int)len, id);
		l.id[i] = g_ascii_tolower(id[i]);
	}
	if (status < BC_LIC_NOT_INSTALLED || status > 6)
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "licence status %d is not -1 (not installed) to 6", status);
	if (!it->licences)
		it->licences = g_array_new(FALSE, TRUE, sizeof(BcLicence));
	if (it->licences->len >= BC_LICENCES_MAX)
		return error_set(err, HF_ERR_INVALID_PARAMS, "more than %d licence states",
				 BC_LICENCES_MAX);
	g_array_append_val(it->licences, l);
	return 0;
}

static const struct {
	const char *name;
	BcArch arch;
} arch_names[] = {
    {"x86", BC_ARCH_X86},      {"amd64", BC_ARCH_AMD64},	{"ia64", BC_ARCH_IA64},
    {"x86_64", BC_ARCH_AMD64}, {"x64-based PC", BC_ARCH_AMD64}, {"X86-based PC", BC_ARCH_X86},
    {"64-bit", BC_ARCH_AMD64}, {"32-bit", BC_ARCH_X86},		{"Itanium-based PC", BC_ARCH_IA64},
    {"i686", BC_ARCH_X86},     {"i386", BC_ARCH_X86},
};

BcArch bcutil_arch(const char *s, size_t len)
{
	bcutil_trim(&s, &len);
	for (size_t i = 0; i < G_N_ELEMENTS(arch_names); i++)
		if (strlen(arch_names[i].name) == len &&
		    g_ascii_strncasecmp(arch_names[i].name, s, len) == 0)
			return arch_names[i].arch;
	return BC_ARCH_UNKNOWN;
}

const char *bcutil_arch_name(BcArch a)
{
	return a == BC_ARCH_UNKNOWN ? NULL : arch_names[a - 1].name;
}

const char *bcutil_role_name(BcRole r)
{
	static const char *const names[] = {NULL, "workstation", "domain-controller", "server"};
	return names[r];
}

int bcutil_service_pack(const char *s, size_t len)
{
	size_t start = 0;
	while (start < len && (s[start] < '0' || s[start] > '9'))
		start++;
	size_t end = start;
	while (end < len && s[end] >= '0' && s[end] <= '9')
		end++;
	int sp;
	return bcutil_uint(s + start, end - start, 99, &sp) < 0 ? -1 : sp;
}

int bcutil_set_int(int *dst, int v, const char *what, HfError *err)
{
	if (*dst >= 0 && *dst != v)
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "%s: %d disagrees with %d given earlier in the same output", what,
				 v, *dst);
	*dst = v;
	return 0;
}
