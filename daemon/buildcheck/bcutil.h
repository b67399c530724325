/* bcutil.h - byte-level helpers shared by the buildcheck parsers and the evidence JSON.
 * Guest output is OEM code page bytes: nothing here assumes UTF-8 or NUL termination. */
#pragma once

#include <cjson/cJSON.h>
#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "buildcheck.h"

typedef cJSON BcJson;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BcJson, cJSON_Delete)

/* Check a whole output: not NULL, at most BC_OUTPUT_MAX bytes. */
int bcutil_check_output(const char *buf, size_t len, const char *what, HfError *err);
/* Next line of [*p, end): split on LF, every trailing CR dropped ("\r\n" and wmic's "\r\r\n").
 * Returns false at the end. */
bool bcutil_next_line(const char **p, const char *end, const char **line, size_t *len);
/* Drop leading and trailing blanks (space, tab). */
void bcutil_trim(const char **s, size_t *len);
/* How many leading bytes of s[0..n) are in accept (strspn without a terminator). */
size_t bcutil_span(const char *s, size_t n, const char *accept);
bool bcutil_starts(const char *s, size_t len, const char *prefix); /* case-insensitive */
/* Decimal digits only, value <= max; -1 otherwise. */
int bcutil_uint(const char *s, size_t len, int max, int *out);
/* "6.0.6003" or "6.0.6003.20705": between min and max dot-separated numbers, each 0-65535.
 * Returns how many, or -1 when malformed. */
int bcutil_version(const char *s, size_t len, int min, int max, int parts[4]);
/* Store a trimmed copy of one value in *dst (replacing it): at most BC_STR_MAX bytes, no NUL or
 * other control bytes. what names the value in the error message. */
int bcutil_set_str(char **dst, const char *s, size_t len, const char *what, HfError *err);
/* Store major.minor[.build[.revision]] (at least min parts) from a version string; each part
 * must agree with what the item already has. what names it in errors. */
int bcutil_set_version(BcItem *it, const char *s, size_t len, int min, const char *what,
		       HfError *err);
int bcutil_add_update(BcItem *it, const char *s, size_t len, HfError *err);
int bcutil_add_licence(BcItem *it, const char *id, size_t len, int status, HfError *err);
/* "x86", "amd64", "x86_64", "x64-based PC", "AMD64", "ia64", "Itanium", "64-bit", "32-bit" */
BcArch bcutil_arch(const char *s, size_t len);
const char *bcutil_arch_name(BcArch a);
const char *bcutil_role_name(BcRole r);
/* "Service Pack 2" -> 2 (the first number of the text); -1 when there is none. */
int bcutil_service_pack(const char *s, size_t len);
/* Set *dst = v; an error when *dst was already set to another value (two fields of one output
 * that must agree, e.g. Version and BuildNumber). */
int bcutil_set_int(int *dst, int v, const char *what, HfError *err);
