/* control.h - misbehaviour switches and the text command language of POST /control. */
#pragma once

#include "sim.h"

/* Does CD fire for operation OP? Consumes one count when it does. Caller holds st->lock. */
bool ctl_fire(SimCountdown *cd, const char *op);
/* Run the commands in TEXT (one a line, '#' comments); replies go to REPLY.
 * Returns 0, or -1 at the first bad command (REPLY says which). Caller holds st->lock. */
int ctl_apply(SimState *st, const char *text, GString *reply);
