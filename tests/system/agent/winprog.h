/* winprog.h - internals shared by the simulated Windows programs (winprog.c, wmic.c) */
#ifndef WINQGA_WINPROG_H
#define WINQGA_WINPROG_H

#include <strings.h>

#include "winqga.h"

#define ESU_DESCRIPTION "Windows(R) Operating System, VOLUME_MAK channel"

/* ESU year (1-3) whose activation id this is, when the licensing preparation package is
 * installed (without it the ids are not in the licence store); 0 otherwise */
int esu_year_of(const struct identity *id, const char *activation_id);
const char *esu_activation_id(int year);
const char *esu_name(int year);
const char *esu_partial_key(int year);

void run_wmic(const struct identity *id, char *const *args, int nargs, struct winprog_result *r);
/* netstat.c: NETSTAT.EXE from the stand-in's real /proc/net sockets */
void run_netstat(char *const *args, int nargs, struct winprog_result *r);

#endif
