/* args.h - the holdfast command line: argv -> one method and its params, from the method table.
 *
 *   holdfast [--socket PATH] [--json | --csv] [--no-wait] COMMAND [ARGS]
 *
 * COMMAND is a row's CLI words (methods_find_command()); its parameters are positionals in table
 * order (HF_P_POSITIONAL) and --name VALUE / --name=VALUE options; bools are --name / --no-name;
 * an HF_PT_STRINGS parameter takes the remaining positionals. --json, --no-wait, --socket and
 * -h/--help are accepted before or after the command words. --csv (a table as RFC 4180 CSV with
 * a header row) is valid only for the commands in ARGS_CSV_COMMANDS. An HF_PT_OBJECT parameter
 * takes JSON text. CLI-local commands: help [COMMAND],
 * completion bash, and the global --version. */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "error.h"
#include "methods.h"

#define ARGS_DEFAULT_SOCKET "/run/holdfast/holdfastd.sock"
#define ARGS_SOCKET_ENV "HOLDFAST_SOCKET"
#define ARGS_CSV_METHOD "check.run" /* the one method with a --csv form */

typedef enum {
	ARGS_RUN,	 /* call `method` with `params` */
	ARGS_HELP,	 /* help for `method`, for the commands under `group`, or general help */
	ARGS_VERSION,	 /* --version: the CLI's own version, no daemon */
	ARGS_COMPLETION, /* completion bash */
} ArgsAction;

typedef struct {
	ArgsAction action;
	const char *socket; /* --socket PATH (points into argv); NULL when not given */
	bool json, csv, no_wait;
	const HfMethod *method; /* set as soon as the command words are known (also on errors) */
	char *group;		/* leading words naming several commands ("snapshot"); owned */
	cJSON *params;		/* ARGS_RUN: the request params (an object); owned */
} Args;

/* Parse argv. On a usage error returns -1 with err (HF_ERR_INVALID_PARAMS); a->method or
 * a->group say which usage to show with it. Always call args_clear() afterwards. */
int args_parse(int argc, char **argv, Args *a, HfError *err);
void args_clear(Args *a);
/* --socket, else $HOLDFAST_SOCKET (when not empty), else ARGS_DEFAULT_SOCKET. */
const char *args_socket_path(const Args *a);
/* "--name" for a parameter (underscores become dashes); a new string. */
char *args_option_name(const HfParam *p);
/* The placeholder shown for a parameter's value: its metavar, else its name in capitals. */
char *args_metavar(const HfParam *p);
