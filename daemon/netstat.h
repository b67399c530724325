/* netstat.h - Windows `netstat -an` output parsed into the TCP ports something listens on (the
 * port checks of a test boot, drtest.c).
 *
 * NETSTAT.EXE through a pipe prints (CRLF line ends, OEM code page):
 *
 *   Active Connections
 *
 *     Proto  Local Address          Foreign Address        State
 *     TCP    0.0.0.0:135            0.0.0.0:0              LISTENING
 *     TCP    10.0.0.5:49158         10.0.0.1:445           ESTABLISHED
 *     TCP    [::]:445               [::]:0                 LISTENING
 *     UDP    0.0.0.0:123            *:*
 *
 * The header words and the state names are localised on non-English Windows ("ABHÖREN"), the
 * "Proto" column title and the addresses are not: a TCP row counts as listening when its state
 * is LISTENING or its foreign address is the unspecified one with port 0 (0.0.0.0:0, [::]:0),
 * which only a listening socket has. */
#pragma once

#include <glib.h>
#include <stddef.h>

#include "error.h"

/* *ports: the listening TCP ports (guint16 in a new GArray), sorted, each once. -1 with err
 * when the text is not netstat output (no "Proto" header line), quoting its start. */
int netstat_listening(const char *text, size_t len, GArray **ports, HfError *err);
/* Is port in ports (from netstat_listening)? */
gboolean netstat_has(const GArray *ports, guint port);
