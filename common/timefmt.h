/* timefmt.h - times on the wire and in state files: ISO 8601, UTC, seconds ("...Z"). */
#pragma once

#include <stdint.h>

/* A new string; "1970-01-01T00:00:00Z" style. */
char *timefmt_iso(int64_t unix_seconds);
/* Parse the same form; -1 when malformed. */
int64_t timefmt_parse(const char *s);
