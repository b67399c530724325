/* dispatch.h - one WS-Man request in, one reply (or a misbehaviour) out, logged. */
#pragma once

#include "sim.h"

typedef struct {
	int status;    /* HTTP status */
	GString *body; /* the envelope; NULL for none */
	bool drop;     /* close the connection without a reply */
} DispatchOut;

void dispatch_wsman(SimState *st, const char *buf, size_t len, DispatchOut *out);
/* Log one line for a request that never reached dispatch (401, 415, ...). */
void dispatch_log(SimState *st, const char *what, int status);
