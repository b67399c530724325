/* enumeration.h - WS-Enumeration (Enumerate, Pull, Release) and WS-Transfer Get. */
#pragma once

#include "soapreq.h"

/* Each handler returns the HTTP status and sets *OUT to the envelope; LOG gets " key=value"s. */
int enum_enumerate(SimState *st, SoapReq *rq, GString **out, GString *log);
int enum_pull(SimState *st, SoapReq *rq, GString **out, GString *log);
int enum_release(SimState *st, SoapReq *rq, GString **out, GString *log);
int enum_get(SimState *st, SoapReq *rq, GString **out, GString *log);
/* Destroy notifier for st->enums values. */
void enum_free(gpointer p);
