/* schedtest.h - helpers shared by the scheduling unit tests (header-only, static). */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <glib.h>
#include <string.h>

#include "daemon/calendar.h"
#include "daemon/retention.h"

/* "2026-03-29T01:00:00Z" (or with an offset) -> UTC seconds */
static inline int64_t T(const char *iso)
{
	GDateTime *dt = g_date_time_new_from_iso8601(iso, NULL);
	if (!dt)
		fail_msg("bad ISO time '%s'", iso);
	int64_t t = g_date_time_to_unix(dt);
	g_date_time_unref(dt);
	return t;
}

/* UTC seconds -> "2026-03-29 03:00:00 +02" in zone (NULL = UTC); static buffer per call
 * site is enough for the tests (two rotating buffers). */
static inline const char *L(int64_t t, const char *zone)
{
	static char buf[4][48];
	static int k;
	GTimeZone *tz = zone ? g_time_zone_new_identifier(zone) : g_time_zone_new_utc();
	GDateTime *u = g_date_time_new_from_unix_utc(t);
	GDateTime *dt = g_date_time_to_timezone(u, tz);
	char *s = g_date_time_format(dt, "%Y-%m-%d %H:%M:%S %z");
	k = (k + 1) % 4;
	g_strlcpy(buf[k], s, sizeof(buf[k]));
	g_free(s);
	g_date_time_unref(dt);
	g_date_time_unref(u);
	g_time_zone_unref(tz);
	return buf[k];
}

static inline Calendar *cal_ok(const char *spec, const char *default_zone)
{
	GTimeZone *tz = default_zone ? g_time_zone_new_identifier(default_zone) : NULL;
	Calendar *c = NULL;
	HfError err = {0};
	if (calendar_parse(spec, tz, &c, &err) != 0)
		fail_msg("calendar_parse('%s'): %s", spec, err.message);
	if (tz)
		g_time_zone_unref(tz);
	return c;
}

static inline int64_t next_of(const Calendar *c, int64_t after)
{
	int64_t n = 0;
	HfError err = {0};
	if (calendar_next(c, after, &n, &err) != 0)
		fail_msg("calendar_next: %s", err.message);
	assert_true(n > after);
	return n;
}
