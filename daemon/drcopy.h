/* drcopy.h - dr.copy: a full DR copy of one guest, run as a job. */
#pragma once

#include "server.h"

/* The dr.copy handler (bound in handlers.c). */
void drcopy_handle(Call *call);
