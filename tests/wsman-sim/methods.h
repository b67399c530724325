/* methods.h - WS-Man Invoke of Msvm_* methods (state change, checkpoints, rename, export). */
#pragma once

#include "soapreq.h"

/* Handle an Invoke (action = RESOURCE_URI/METHOD); returns the HTTP status, *OUT the envelope. */
int methods_invoke(SimState *st, SoapReq *rq, GString **out, GString *log);
