/* Unit tests: OnCalendar parsing, normalized forms, rejections, next elapse (daemon/calendar.c).
 * DST cases are in test_calendar_dst.c. */
#include "schedtest.h"

static void test_shorthands(void **state)
{
	static const char *const cases[][2] = {
	    {"minutely", "*-*-* *:*:00"},
	    {"hourly", "*-*-* *:00:00"},
	    {"daily", "*-*-* 00:00:00"},
	    {"weekly", "Mon *-*-* 00:00:00"},
	    {"monthly", "*-*-01 00:00:00"},
	    {"yearly", "*-01-01 00:00:00"},
	    {"annually", "*-01-01 00:00:00"},
	    {"quarterly", "*-01,04,07,10-01 00:00:00"},
	    {"semiannually", "*-01,07-01 00:00:00"},
	    {"Daily", "*-*-* 00:00:00"},
	    {"daily UTC", "*-*-* 00:00:00 UTC"},
	    {"  weekly   Europe/Berlin ", "Mon *-*-* 00:00:00 Europe/Berlin"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(Calendar) c = cal_ok(cases[i][0], NULL);
		assert_string_equal(calendar_normalized(c), cases[i][1]);
		assert_string_equal(calendar_spec(c), cases[i][0]);
	}
}

/* Expected forms checked against `systemd-analyze calendar` (systemd 252). */
static void test_full_forms(void **state)
{
	static const char *const cases[][2] = {
	    {"Mon..Fri 02:00", "Mon..Fri *-*-* 02:00:00"},
	    {"*-*-* 02:30:00", "*-*-* 02:30:00"},
	    {"*-*-* 02:30", "*-*-* 02:30:00"},
	    {"02:30", "*-*-* 02:30:00"},
	    {"*:0/15", "*-*-* *:00/15:00"},
	    {"*-*-* *:00/15", "*-*-* *:00/15:00"},
	    {"Sat,Sun 10:00", "Sat,Sun *-*-* 10:00:00"},
	    {"mon 10:00", "Mon *-*-* 10:00:00"},
	    {"Monday 10:00", "Mon *-*-* 10:00:00"},
	    {"Mon-Fri 02:00", "Mon..Fri *-*-* 02:00:00"},
	    {"Mon,Tue,Wed 1:00", "Mon..Wed *-*-* 01:00:00"},
	    {"Sun,Mon 1:00", "Mon,Sun *-*-* 01:00:00"},
	    {"Fri,Mon..Wed 1:2:3", "Mon..Wed,Fri *-*-* 01:02:03"},
	    {"Mon", "Mon *-*-* 00:00:00"},
	    {"2026-01-01", "2026-01-01 00:00:00"},
	    {"02-29 03:00", "*-02-29 03:00:00"},
	    {"*-02-29 03:00", "*-02-29 03:00:00"},
	    {"*-1..12/3-1 00:00", "*-01..10/3-01 00:00:00"},
	    {"*-*-* 3,1:00", "*-*-* 01,03:00:00"},
	    {"*-*-* 1,1,1..3:00", "*-*-* 01,01..03:00:00"},
	    {"*-*-* 0..23/6:00", "*-*-* 00..18/6:00:00"},
	    {"*-*-* 1..5/2:00", "*-*-* 01..05/2:00:00"},
	    {"2026..2028-*-* 00:00", "2026..2028-*-* 00:00:00"},
	    {"*-*-* 02:30 CET", "*-*-* 02:30:00 CET"},
	    {"Mon..Fri 02:00 Europe/Berlin", "Mon..Fri *-*-* 02:00:00 Europe/Berlin"},
	    {"Mon Europe/Berlin", "Mon *-*-* 00:00:00 Europe/Berlin"},
	    {"*-*-* 02:30:00 America/New_York", "*-*-* 02:30:00 America/New_York"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(Calendar) c = cal_ok(cases[i][0], "Europe/Berlin");
		if (strcmp(calendar_normalized(c), cases[i][1]) != 0)
			fail_msg("'%s' -> '%s', expected '%s'", cases[i][0], calendar_normalized(c),
				 cases[i][1]);
	}
}

static void test_rejections(void **state)
{
	static const char *const cases[][2] = {
	    {"Mon..Fry 02:00", "'Mon..Fry': unknown weekday 'Fry'"},
	    {"Mun 02:00", "'Mun': unknown weekday 'Mun'"},
	    {"dialy", "'dialy': unknown shorthand or weekday"},
	    {"", "empty schedule"},
	    {"   ", "empty schedule"},
	    {"*-02-30", "never elapses"},
	    {"*-04-31 02:00", "never elapses"},
	    {"2100-02-29", "never elapses"},
	    {"2026-*-* 24:00", "'24': hour out of range 0..23"},
	    {"*-*-* 02:60", "'60': minute out of range 0..59"},
	    {"*-13-01", "'13': month out of range 1..12"},
	    {"*-*-32", "'32': day out of range 1..31"},
	    {"*-*-0", "'0': day out of range 1..31"},
	    {"70-01-01", "'70': year out of range 1970..2199"},
	    {"2200-01-01", "'2200': year out of range"},
	    {"*-*-* 02:30:00.5", "'00.5': fractional seconds are not supported"},
	    {"*-*~1", "'~' (days from the month's end) is not supported"},
	    {"*-*-* 02:30 Europe/Nowhere", "'Europe/Nowhere': unknown time zone"},
	    {"*-*-* 02:30 ../../etc/passwd", "'../../etc/passwd': expected a date"},
	    {"*-*-* 02:30 Europe/../../etc/passwd", "'Europe/../../etc/passwd': unknown time"},
	    {"*-*-* 02:30 Europe/Berlin\n", "unknown time zone"},
	    {"12:00 Mon", "'Mon': unknown time zone"},
	    {"Sat..Mon 1:00", "'Sat..Mon': weekday range runs backwards"},
	    {"*:*/15", "'*/15': '*' cannot be combined"},
	    {"*-*-* 1,*:00", "'1,*': '*' cannot be combined"},
	    {"Mon 1:00 2:00", "'2:00': expected a date"},
	    {"*-*-* 1:2:3:4", "'1:2:3:4': a time is HH:MM[:SS]"},
	    {"1-2-3-4", "'1-2-3-4': a date is [YYYY-]MM-DD"},
	    {"*-*-* 5/30:00", "'5/30': step larger than the hour range"},
	    {"*-*-* 2/0:00", "'2/0': bad hour value"},
	    {"*-*-* 5..2:00", "'5..2': hour out of range"},
	    {"*-*-* 0a:00", "'0a': bad hour value"},
	    {"*-*-* 12345:00", "'12345': bad hour value"},
	    {"*-*-* :00", "'': bad hour value"},
	    {"Mon *-*-* 02:00 UTC extra", "too many words"},
	    {"2026-01-01 00:00 UTC", NULL}, /* accepted: in the past but a real date */
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		Calendar *c = NULL;
		HfError err = {0};
		int rc = calendar_parse(cases[i][0], NULL, &c, &err);
		if (!cases[i][1]) {
			assert_int_equal(rc, 0);
			calendar_free(c);
			continue;
		}
		if (rc != -1 || c)
			fail_msg("'%s' was accepted", cases[i][0]);
		assert_string_equal(err.code, HF_ERR_INVALID_PARAMS);
		if (!strstr(err.message, cases[i][1]))
			fail_msg("'%s': message '%s' lacks '%s'", cases[i][0], err.message,
				 cases[i][1]);
	}
	Calendar *c = NULL;
	HfError err = {0};
	assert_int_equal(calendar_parse(NULL, NULL, &c, &err), -1);
}

static void test_next_basic(void **state)
{
	int64_t now = T("2026-11-21T05:17:00Z"); /* a Saturday */
	g_autoptr(Calendar) daily = cal_ok("daily", "UTC");
	assert_int_equal(next_of(daily, now), T("2026-11-22T00:00:00Z"));
	/* strictly after: at a slot, the next one is a day later */
	assert_int_equal(next_of(daily, T("2026-11-22T00:00:00Z")), T("2026-11-23T00:00:00Z"));
	assert_int_equal(next_of(daily, T("2026-11-21T23:59:59Z")), T("2026-11-22T00:00:00Z"));

	g_autoptr(Calendar) weekly = cal_ok("weekly", "UTC");
	assert_int_equal(next_of(weekly, now), T("2026-11-23T00:00:00Z"));
	assert_int_equal(next_of(weekly, T("2026-11-23T00:00:00Z")), T("2026-11-30T00:00:00Z"));

	g_autoptr(Calendar) wd = cal_ok("Mon..Fri 02:00", "UTC");
	assert_int_equal(next_of(wd, T("2026-11-20T01:00:00Z")), T("2026-11-20T02:00:00Z"));
	assert_int_equal(next_of(wd, T("2026-11-20T02:00:00Z")), T("2026-11-23T02:00:00Z"));
	assert_int_equal(next_of(wd, now), T("2026-11-23T02:00:00Z"));

	g_autoptr(Calendar) n230 = cal_ok("*-*-* 02:30:00", "UTC");
	assert_int_equal(next_of(n230, now), T("2026-11-22T02:30:00Z"));
	assert_int_equal(next_of(n230, T("2026-11-21T02:29:59Z")), T("2026-11-21T02:30:00Z"));

	g_autoptr(Calendar) hourly = cal_ok("hourly", "UTC");
	assert_int_equal(next_of(hourly, now), T("2026-11-21T06:00:00Z"));
	assert_int_equal(next_of(hourly, T("2026-12-31T23:00:00Z")), T("2027-01-01T00:00:00Z"));

	g_autoptr(Calendar) q = cal_ok("*:0/15", "UTC");
	int64_t t = now;
	static const char *const seq[] = {"2026-11-21T05:30:00Z", "2026-11-21T05:45:00Z",
					  "2026-11-21T06:00:00Z", "2026-11-21T06:15:00Z"};
	for (size_t i = 0; i < G_N_ELEMENTS(seq); i++)
		assert_int_equal(t = next_of(q, t), T(seq[i]));

	g_autoptr(Calendar) minutely = cal_ok("minutely", "UTC");
	assert_int_equal(next_of(minutely, now), T("2026-11-21T05:18:00Z"));
	g_autoptr(Calendar) monthly = cal_ok("monthly", "UTC");
	assert_int_equal(next_of(monthly, now), T("2026-12-01T00:00:00Z"));
	g_autoptr(Calendar) yearly = cal_ok("yearly", "UTC");
	assert_int_equal(next_of(yearly, now), T("2027-01-01T00:00:00Z"));
	g_autoptr(Calendar) quarterly = cal_ok("quarterly", "UTC");
	assert_int_equal(next_of(quarterly, T("2027-01-01T00:00:00Z")), T("2027-04-01T00:00:00Z"));
	g_autoptr(Calendar) semi = cal_ok("semiannually", "UTC");
	assert_int_equal(next_of(semi, T("2027-01-01T00:00:00Z")), T("2027-07-01T00:00:00Z"));
	g_autoptr(Calendar) secs = cal_ok("*-*-* 10:00:05,10", "UTC");
	assert_int_equal(next_of(secs, T("2026-11-21T10:00:05Z")), T("2026-11-21T10:00:10Z"));
	assert_int_equal(next_of(secs, T("2026-11-21T10:00:10Z")), T("2026-11-22T10:00:05Z"));
}

static void test_month_ends_and_leap(void **state)
{
	g_autoptr(Calendar) d31 = cal_ok("*-*-31 12:00", "UTC");
	assert_int_equal(next_of(d31, T("2026-01-31T13:00:00Z")), T("2026-03-31T12:00:00Z"));
	assert_int_equal(next_of(d31, T("2026-03-31T12:00:00Z")), T("2026-05-31T12:00:00Z"));
	assert_int_equal(next_of(d31, T("2026-07-31T12:00:00Z")), T("2026-08-31T12:00:00Z"));
	g_autoptr(Calendar) d30 = cal_ok("*-*-30", "UTC");
	assert_int_equal(next_of(d30, T("2028-01-30T00:00:00Z")), T("2028-03-30T00:00:00Z"));

	/* *-02-29 elapses only in leap years (2100 is not one) */
	g_autoptr(Calendar) leap = cal_ok("*-02-29 03:00", "UTC");
	int64_t t = T("2025-01-01T00:00:00Z");
	static const char *const leaps[] = {"2028-02-29T03:00:00Z", "2032-02-29T03:00:00Z",
					    "2036-02-29T03:00:00Z"};
	for (size_t i = 0; i < G_N_ELEMENTS(leaps); i++)
		assert_int_equal(t = next_of(leap, t), T(leaps[i]));
	assert_int_equal(next_of(leap, T("2096-03-01T00:00:00Z")), T("2104-02-29T03:00:00Z"));

	/* a daily schedule walks through 2024-02-29 */
	g_autoptr(Calendar) daily = cal_ok("*-*-* 03:00", "UTC");
	t = T("2024-02-28T03:00:00Z");
	assert_int_equal(t = next_of(daily, t), T("2024-02-29T03:00:00Z"));
	assert_int_equal(t = next_of(daily, t), T("2024-03-01T03:00:00Z"));
	t = T("2023-02-28T03:00:00Z");
	assert_int_equal(next_of(daily, t), T("2023-03-01T03:00:00Z"));
	/* year end */
	assert_int_equal(next_of(daily, T("2026-12-31T03:00:00Z")), T("2027-01-01T03:00:00Z"));

	/* Friday the 13th: weekday AND day must match */
	g_autoptr(Calendar) f13 = cal_ok("Fri *-*-13 00:00", "UTC");
	t = T("2026-01-01T00:00:00Z");
	assert_int_equal(t = next_of(f13, t), T("2026-02-13T00:00:00Z"));
	assert_int_equal(t = next_of(f13, t), T("2026-03-13T00:00:00Z"));
	assert_int_equal(t = next_of(f13, t), T("2026-11-13T00:00:00Z"));
}

static void test_never_elapses(void **state)
{
	g_autoptr(Calendar) past = cal_ok("2026-01-01 00:00", "UTC");
	int64_t n = 0;
	HfError err = {0};
	assert_int_equal(next_of(past, T("2025-06-01T00:00:00Z")), T("2026-01-01T00:00:00Z"));
	assert_int_equal(calendar_next(past, T("2026-01-01T00:00:00Z"), &n, &err), -1);
	assert_string_equal(err.code, HF_ERR_NOT_FOUND);
	assert_non_null(strstr(err.message, "never elapses after 2026-01-01 00:00:00 UTC"));
	/* the end of the supported range */
	g_autoptr(Calendar) leap = cal_ok("*-02-29", "UTC");
	error_clear(&err);
	assert_int_equal(calendar_next(leap, T("2196-03-01T00:00:00Z"), &n, &err), -1);
	assert_string_equal(err.code, HF_ERR_NOT_FOUND);

	/* impossible specs are rejected fast (the whole 1970..2199 range is walked) */
	gint64 t0 = g_get_monotonic_time();
	for (int i = 0; i < 20; i++) {
		Calendar *c = NULL;
		error_clear(&err);
		assert_int_equal(calendar_parse("Mon *-02-30 02:00", NULL, &c, &err), -1);
		assert_int_equal(calendar_parse("*-*-31 Europe/Berlin", NULL, &c, &err), 0);
		calendar_free(c);
	}
	print_message("20 impossible specs rejected in %" G_GINT64_FORMAT " us\n",
		      g_get_monotonic_time() - t0);
}

static void test_zone_vs_utc(void **state)
{
	/* no zone in the spec: the caller's default zone; a zone in the spec wins */
	g_autoptr(Calendar) zoned = cal_ok("*-*-* 02:30", "Europe/Berlin");
	g_autoptr(Calendar) utc = cal_ok("*-*-* 02:30 UTC", "Europe/Berlin");
	g_autoptr(Calendar) ny = cal_ok("*-*-* 02:30 America/New_York", "Europe/Berlin");
	assert_string_equal(calendar_normalized(zoned), "*-*-* 02:30:00");
	assert_string_equal(g_time_zone_get_identifier(calendar_zone(zoned)), "Europe/Berlin");
	assert_string_equal(g_time_zone_get_identifier(calendar_zone(utc)), "UTC");
	int64_t winter = T("2026-01-10T12:00:00Z"), summer = T("2026-07-10T12:00:00Z");
	assert_int_equal(next_of(zoned, winter), T("2026-01-11T01:30:00Z"));
	assert_int_equal(next_of(zoned, summer), T("2026-07-11T00:30:00Z"));
	assert_int_equal(next_of(utc, winter), T("2026-01-11T02:30:00Z"));
	assert_int_equal(next_of(utc, summer), T("2026-07-11T02:30:00Z"));
	assert_int_equal(next_of(ny, winter), T("2026-01-11T07:30:00Z"));
	assert_int_equal(next_of(ny, summer), T("2026-07-11T06:30:00Z"));
	/* no default zone: UTC */
	g_autoptr(Calendar) nodef = cal_ok("*-*-* 02:30", NULL);
	assert_int_equal(next_of(nodef, winter), T("2026-01-11T02:30:00Z"));
	/* the weekday is the zone's: Mon 00:30 Berlin is Sunday 23:30 UTC */
	g_autoptr(Calendar) mon = cal_ok("Mon 00:30 Europe/Berlin", NULL);
	assert_int_equal(next_of(mon, T("2026-11-21T00:00:00Z")), T("2026-11-22T23:30:00Z"));
}

static void test_last_before(void **state)
{
	g_autoptr(Calendar) c = cal_ok("*-*-* 02:30", "Europe/Berlin");
	int64_t slot = 0;
	HfError err = {0};
	/* down from 06-10 12:00 to 06-13 12:00 local: three slots missed, the latest runs */
	int64_t last_run = T("2026-06-10T00:30:00Z");
	assert_int_equal(calendar_last_before(c, T("2026-06-13T10:00:00Z"), last_run, &slot, &err),
			 1);
	assert_int_equal(slot, T("2026-06-13T00:30:00Z"));
	/* the window is (not_before, before]: a slot at before counts, one at not_before not */
	assert_int_equal(calendar_last_before(c, T("2026-06-13T00:30:00Z"), last_run, &slot, &err),
			 1);
	assert_int_equal(slot, T("2026-06-13T00:30:00Z"));
	assert_int_equal(calendar_last_before(c, T("2026-06-10T10:00:00Z"), last_run, &slot, &err),
			 0);
	assert_int_equal(calendar_last_before(c, last_run, last_run, &slot, &err), 0);
	/* nothing missed when the daemon was down between two slots */
	assert_int_equal(calendar_last_before(c, T("2026-06-10T23:00:00Z"),
					      T("2026-06-10T01:00:00Z"), &slot, &err),
			 0);
	/* a long downtime still yields one slot, found fast */
	assert_int_equal(calendar_last_before(c, T("2030-01-01T00:00:00Z"),
					      T("2026-01-01T00:00:00Z"), &slot, &err),
			 1);
	assert_int_equal(slot, T("2029-12-31T01:30:00Z"));
	/* a schedule that stopped elapsing */
	g_autoptr(Calendar) once = cal_ok("2026-01-01 00:00", "UTC");
	assert_int_equal(calendar_last_before(once, T("2030-01-01T00:00:00Z"),
					      T("2025-12-01T00:00:00Z"), &slot, &err),
			 1);
	assert_int_equal(slot, T("2026-01-01T00:00:00Z"));
	assert_int_equal(calendar_last_before(once, T("2030-01-01T00:00:00Z"),
					      T("2026-01-01T00:00:00Z"), &slot, &err),
			 0);
	/* a seconds-fine schedule over a year of downtime */
	g_autoptr(Calendar) fine = cal_ok("*:*:0/5", "UTC");
	assert_int_equal(calendar_last_before(fine, T("2027-01-01T00:00:03Z"),
					      T("2026-01-01T00:00:00Z"), &slot, &err),
			 1);
	assert_int_equal(slot, T("2027-01-01T00:00:00Z"));
	/* bad window */
	assert_int_equal(calendar_last_before(c, 10, 20, &slot, &err), -1);
	assert_string_equal(err.code, HF_ERR_INVALID_PARAMS);
}

static void test_local_time(void **state)
{
	g_autoptr(GTimeZone) berlin = g_time_zone_new_identifier("Europe/Berlin");
	CalendarLocal l;
	calendar_local_time(berlin, T("2026-12-31T12:00:00Z"), &l);
	assert_int_equal(l.iso_year, 2026);
	assert_int_equal(l.iso_week, 53);
	assert_int_equal(l.wday, 4);
	calendar_local_time(berlin, T("2027-01-01T12:00:00Z"), &l);
	assert_int_equal(l.iso_year, 2026);
	assert_int_equal(l.iso_week, 53);
	calendar_local_time(berlin, T("2024-12-30T12:00:00Z"), &l);
	assert_int_equal(l.iso_year, 2025);
	assert_int_equal(l.iso_week, 1);
	/* 23:30 UTC on New Year's Eve is already the next year in Berlin */
	calendar_local_time(berlin, T("2026-12-31T23:30:00Z"), &l);
	assert_int_equal(l.year, 2027);
	assert_int_equal(l.month, 1);
	assert_int_equal(l.day, 1);
	assert_int_equal(l.hour, 0);
	assert_int_equal(l.minute, 30);
	assert_int_equal(l.utc_offset, 3600);
	/* cross-check against GLib over a range of instants */
	for (int64_t t = T("2026-01-01T00:00:00Z"); t < T("2029-01-01T00:00:00Z"); t += 7919 * 7) {
		g_autoptr(GDateTime) u = g_date_time_new_from_unix_utc(t);
		g_autoptr(GDateTime) dt = g_date_time_to_timezone(u, berlin);
		calendar_local_time(berlin, t, &l);
		assert_int_equal(l.year, g_date_time_get_year(dt));
		assert_int_equal(l.month, g_date_time_get_month(dt));
		assert_int_equal(l.day, g_date_time_get_day_of_month(dt));
		assert_int_equal(l.hour, g_date_time_get_hour(dt));
		assert_int_equal(l.wday, g_date_time_get_day_of_week(dt));
		assert_int_equal(l.iso_year, g_date_time_get_week_numbering_year(dt));
		assert_int_equal(l.iso_week, g_date_time_get_week_of_year(dt));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shorthands),		cmocka_unit_test(test_full_forms),
	    cmocka_unit_test(test_rejections),		cmocka_unit_test(test_next_basic),
	    cmocka_unit_test(test_month_ends_and_leap), cmocka_unit_test(test_never_elapses),
	    cmocka_unit_test(test_zone_vs_utc),		cmocka_unit_test(test_last_before),
	    cmocka_unit_test(test_local_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
