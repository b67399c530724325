/* error.c - HfError helpers. */
#include "error.h"

#include <stdio.h>
#include <glib.h>
#include <string.h>

int error_setv(HfError *err, const char *code, const char *fmt, va_list ap)
{
	if (!err || err->code[0])
		return -1;
	snprintf(err->code, sizeof err->code, "%s", code);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	return -1;
}

int error_set(HfError *err, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	error_setv(err, code, fmt, ap);
	va_end(ap);
	return -1;
}

void error_prefix(HfError *err, const char *fmt, ...)
{
	char pre[HF_ERROR_MSG_MAX / 2];
	char old[HF_ERROR_MSG_MAX];
	va_list ap;

	if (!err || !err->code[0])
		return;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof pre, fmt, ap);
	va_end(ap);
	memcpy(old, err->message, sizeof old);
	int n = snprintf(err->message, sizeof err->message, "%s: ", pre);
	if (n > 0 && (size_t)n < sizeof err->message)
		g_strlcpy(err->message + n, old, sizeof err->message - (size_t)n);
}

void error_clear(HfError *err)
{
	if (err)
		memset(err, 0, sizeof *err);
}

bool error_is_set(const HfError *err)
{
	return err && err->code[0];
}

int error_exit_code(const char *code)
{
	if (!code || !code[0])
		return HF_EXIT_OK;
	if (!strcmp(code, HF_ERR_INVALID_PARAMS))
		return HF_EXIT_USAGE;
	if (!strcmp(code, HF_ERR_NOT_FOUND))
		return HF_EXIT_NOT_FOUND;
	if (!strcmp(code, HF_ERR_PERMISSION))
		return HF_EXIT_PERMISSION;
	if (!strcmp(code, HF_ERR_DAEMON_UNREACHABLE))
		return HF_EXIT_UNREACHABLE;
	return HF_EXIT_FAILED;
}
