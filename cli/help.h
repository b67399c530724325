/* help.h - usage lines, help texts and the bash completion script, all built from the method
 * table so a new row documents and completes itself. Each returns a new string. */
#pragma once

#include "methods.h"

/* "usage: holdfast snapshot create GUEST [--name NAME] ... [--no-wait] [--json]" + "\n" */
char *help_usage(const HfMethod *m);
/* Usage line, summary, arguments and options with their help, choices and bounds. */
char *help_command(const HfMethod *m);
/* The commands whose words start with `group` ("snapshot"), or all commands for NULL, with
 * the global options and exit codes. */
char *help_general(const char *group);
/* A bash completion script: commands, options, enum choices. */
char *help_completion_bash(void);
