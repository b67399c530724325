/* methods.h - the one method table: every API method declared once.
 *
 * The daemon binds a handler to each row (daemon/handlers*.c); the CLI builds its commands,
 * usage, help and shell completion from the same rows (cli/). Adding a command is one row here
 * plus one handler in the daemon. */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "error.h"

typedef enum {
	HF_PT_STRING,
	HF_PT_INT,
	HF_PT_BOOL,
	HF_PT_ENUM,    /* a string from `choices` ("a|b|c") */
	HF_PT_STRINGS, /* an array of strings; on the CLI: the remaining positionals */
	HF_PT_OBJECT,  /* a JSON object, HF_OBJECT_PARAM_DEPTH deep at most; CLI: JSON text */
} HfParamType;

enum {
	HF_P_REQUIRED = 1 << 0,
	HF_P_POSITIONAL = 1 << 1, /* CLI: given without --name, in table order */
};

typedef struct {
	const char *name; /* JSON key; CLI option --name */
	HfParamType type;
	unsigned flags;
	const char *choices; /* HF_PT_ENUM: "no|yes|try" */
	long long min, max;  /* HF_PT_INT bounds (inclusive); ignored when min == max == 0 */
	const char *metavar; /* CLI usage placeholder (GUEST, NAME, ...) */
	const char *help;
} HfParam;

typedef enum {
	HF_ROLE_READ,  /* root, the admin group and the read-only group */
	HF_ROLE_ADMIN, /* root and the admin group */
} HfRole;

typedef struct {
	const char *name;    /* noun.verb on the wire */
	const char *command; /* CLI words ("snapshot create", "guests") */
	HfRole role;
	bool job;            /* replies with a job at once; the work runs as a job */
	const char *summary; /* one line for help */
	const HfParam *params; /* terminated by a row with name == NULL */
} HfMethod;

#define HF_PROTOCOL_VERSION 1
/* Hard limit of one request frame (daemon side) and of one reply/event frame (CLI side). */
#define HF_REQUEST_FRAME_MAX (64 * 1024)
#define HF_REPLY_FRAME_MAX (64 * 1024 * 1024)
#define HF_STRING_PARAM_MAX 4096
#define HF_OBJECT_PARAM_DEPTH 16

extern const HfMethod methods_table[];
extern const size_t methods_count;

const HfMethod *methods_find(const char *name);
const HfMethod *methods_find_command(const char *const *words, int nwords, int *used);
const HfParam *methods_param(const HfMethod *m, const char *name);
/* Check params (an object or NULL) against the method's declaration: unknown keys, types,
 * required keys, enum choices, integer bounds, string sizes. */
int methods_validate(const HfMethod *m, const cJSON *params, HfError *err);
