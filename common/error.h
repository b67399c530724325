/* error.h - the one error type of holdfast: a stable code and a message a person can act on.
 *
 * Rule (design.md, house style 3): functions return int (0 ok, negative on failure) and fill a
 * caller-provided HfError once, where the failure happens. Callers pass it up unchanged. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>

/* Stable error codes: scripts switch on these strings; never rename one. */
#define HF_ERR_NOT_FOUND "not-found"
#define HF_ERR_PERMISSION "permission-denied"
#define HF_ERR_INVALID_PARAMS "invalid-params"
#define HF_ERR_HOST_UNREACHABLE "host-unreachable"
#define HF_ERR_AGENT_UNAVAILABLE "agent-unavailable"
#define HF_ERR_AGENT_TIMEOUT "agent-timeout"
#define HF_ERR_UNSUPPORTED "unsupported"
#define HF_ERR_CONFLICT "conflict"
#define HF_ERR_NO_SPACE "no-space"
#define HF_ERR_CANCELLED "cancelled"
#define HF_ERR_INTERRUPTED "interrupted"
#define HF_ERR_TIMEOUT "timeout"
#define HF_ERR_CONFIG "config"
#define HF_ERR_PROTOCOL "protocol"
#define HF_ERR_FAILED "failed"
#define HF_ERR_INTERNAL "internal"
#define HF_ERR_DAEMON_UNREACHABLE "daemon-unreachable" /* CLI side: no answer on the socket */

#define HF_ERROR_CODE_MAX 32
#define HF_ERROR_MSG_MAX 1024

typedef struct {
	char code[HF_ERROR_CODE_MAX]; /* empty when no error was set */
	char message[HF_ERROR_MSG_MAX];
} HfError;

/* Set err (if not NULL and not already set) and return -1, so callers can write
 * `return error_set(err, HF_ERR_NOT_FOUND, "guest '%s' ...", name);`. The first error wins:
 * a later error_set on an already-set HfError is ignored. */
int error_set(HfError *err, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int error_setv(HfError *err, const char *code, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* Prefix an already-set message with context ("guest 'x': ..."). No-op if unset. */
void error_prefix(HfError *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void error_clear(HfError *err);
bool error_is_set(const HfError *err);

/* CLI exit codes (documented in README.md; scripts rely on them). */
enum {
	HF_EXIT_OK = 0,
	HF_EXIT_FAILED = 1,      /* the operation or job failed */
	HF_EXIT_USAGE = 2,       /* bad command line or parameters */
	HF_EXIT_UNREACHABLE = 3, /* holdfastd is not reachable on its socket */
	HF_EXIT_NOT_FOUND = 4,   /* guest, snapshot or job does not exist */
	HF_EXIT_PERMISSION = 5,  /* not allowed for this user */
};
int error_exit_code(const char *code);
