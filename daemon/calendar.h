/* calendar.h - systemd OnCalendar-style schedules and their next elapse, DST-safe.
 *
 * Pure: no I/O, no clock. Every function takes the time it works from as a parameter.
 *
 * Accepted forms (a subset of systemd.time(7), CALENDAR EVENTS):
 *   shorthands  minutely hourly daily weekly monthly yearly (annually) quarterly semiannually
 *   full form   [WEEKDAYS] [[YYYY-]MM-DD] [HH:MM[:SS]] [TIMEZONE]
 *     each of year, month, day, hour, minute, second: '*', a value, a list 'a,b', a range
 *     'a..b', a repetition 'a/step' (a, a+step, ... up to the field's maximum) or 'a..b/step';
 *     weekdays: names (Mon or Monday, any case), lists 'Sat,Sun', ranges 'Mon..Fri';
 *     date absent -> *-*-*, time absent -> 00:00:00, seconds absent -> 00;
 *     TIMEZONE: an IANA name ('Europe/Berlin') or 'UTC'; absent -> the caller's default zone.
 *   A weekday list and a date must BOTH match (as in systemd). Years 1970..2199.
 *   Not accepted: fractional seconds, '~' (last days of a month), '*' inside a list,
 *   '*' with a step, wrap-around weekday ranges (Sat..Mon).
 * The normalized form is what `systemd-analyze calendar` prints ("Mon..Fri *-*-* 02:00:00",
 * "*-*-* *:00/15:00", "*-*-* 02:30:00 Europe/Berlin"); the zone appears only when the spec
 * named one.
 *
 * Slots. A slot is named by its UTC instant (int64 seconds since the epoch). Slots are
 * deduplicated in UTC: whatever wall-clock times map to the same instant are ONE slot, and
 * calendar_next() is strictly increasing, so iterating it never yields a slot twice.
 *
 * DST rules (wall-clock time -> UTC instant, in the spec's zone):
 *   - A wall time that does not exist (spring-forward gap: 02:30 on the last Sunday of March
 *     in Europe/Berlin) elapses once, at the first valid instant after the gap: the
 *     transition itself (03:00 CEST = 01:00 UTC). It is never skipped. Several wall times in
 *     the same gap (*:0/15 -> 02:00, 02:15, 02:30, 02:45) collapse into that one slot.
 *     (systemd itself skips such a time for the day; holdfast runs it, since a skipped
 *     nightly snapshot is a lost restore point.)
 *   - A wall time that exists twice (fall-back overlap: 02:30 on the last Sunday of October)
 *     elapses once, at its FIRST occurrence (02:30 CEST = 00:30 UTC); the repeated hour
 *     (02:00-02:59 CET) holds no slot of that wall time. This is what systemd does.
 * The mapping is monotonic in wall time, so slots come in the order of their wall times.
 *
 * Bounded work: every search walks days and skips whole months and years that cannot
 * match; a spec that matches no date in 1970..2199 (*-02-30) is rejected at parse time. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

typedef struct Calendar Calendar;

/* Parse spec. default_tz (may be NULL = UTC) is used when the spec names no zone; it is
 * referenced, not copied. Errors (HF_ERR_INVALID_PARAMS) name the offending token:
 * "calendar 'Mon..Fry 02:00': 'Mon..Fry': unknown weekday 'Fry'". */
int calendar_parse(const char *spec, GTimeZone *default_tz, Calendar **out, HfError *err);
void calendar_free(Calendar *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Calendar, calendar_free)

const char *calendar_spec(const Calendar *c);	    /* as given */
const char *calendar_normalized(const Calendar *c); /* systemd-analyze style */
GTimeZone *calendar_zone(const Calendar *c);	    /* borrowed */

/* The first slot strictly after after_utc. -1 with HF_ERR_NOT_FOUND when the schedule never
 * elapses again (a fixed date in the past, or beyond 2199). */
int calendar_next(const Calendar *c, int64_t after_utc, int64_t *next_utc, HfError *err);

/* The latest slot s with not_before_utc < s <= before_utc, for runs missed while the daemon
 * was down (Persistent=true: run the latest missed slot once at start). Returns 1 and sets
 * *slot when there is one, 0 when there is none, -1 on bad arguments. */
int calendar_last_before(const Calendar *c, int64_t before_utc, int64_t not_before_utc,
			 int64_t *slot, HfError *err);

/* Civil time helpers shared with retention (same DST rules as above). */
typedef struct {
	int year, month, day;	  /* local date */
	int hour, minute, second; /* local time */
	int wday;		  /* 1 = Monday .. 7 = Sunday */
	int iso_year, iso_week;	  /* ISO 8601 week date (weeks start on Monday) */
	int64_t day_number;	  /* days since 1970-01-01 of the local date */
	int32_t utc_offset;	  /* seconds east of UTC */
} CalendarLocal;

void calendar_local_time(GTimeZone *tz, int64_t utc, CalendarLocal *out);
/* The UTC instant of a local wall time (gap -> the transition, overlap -> first occurrence). */
int64_t calendar_utc_from_local(GTimeZone *tz, int year, int month, int day, int hour, int minute,
				int second);
