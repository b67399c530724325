/* timefmt.c - ISO 8601 UTC times. */
#include "timefmt.h"

#include <glib.h>

char *timefmt_iso(int64_t t)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
	return dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("invalid");
}

int64_t timefmt_parse(const char *s)
{
	g_autoptr(GDateTime) dt = s ? g_date_time_new_from_iso8601(s, NULL) : NULL;
	return dt ? g_date_time_to_unix(dt) : -1;
}
