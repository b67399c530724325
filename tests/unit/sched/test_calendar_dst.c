/* Unit tests: DST rules of calendar_next / calendar_last_before (daemon/calendar.h):
 * a wall time in a spring-forward gap runs once at the transition, one in a fall-back overlap
 * runs once at its first occurrence; never twice, never skipped. Europe/Berlin and
 * America/New_York, 2026-2027. */
#include "schedtest.h"

static void test_berlin_spring(void **state)
{
	/* 2026-03-29: 02:00 CET -> 03:00 CEST at 01:00 UTC; 02:30 does not exist */
	g_autoptr(Calendar) c = cal_ok("*-*-* 02:30", "Europe/Berlin");
	int64_t t = next_of(c, T("2026-03-28T12:00:00Z"));
	assert_int_equal(t, T("2026-03-29T01:00:00Z"));
	assert_string_equal(L(t, "Europe/Berlin"), "2026-03-29 03:00:00 +0200");
	assert_int_equal(next_of(c, t), T("2026-03-30T00:30:00Z"));
	/* the day before runs as usual */
	assert_int_equal(next_of(c, T("2026-03-27T12:00:00Z")), T("2026-03-28T01:30:00Z"));
	/* 02:00 is in the gap too ([02:00, 03:00) is missing); 03:00 is the same instant */
	g_autoptr(Calendar) two = cal_ok("*-*-* 02:00", "Europe/Berlin");
	assert_int_equal(next_of(two, T("2026-03-28T12:00:00Z")), T("2026-03-29T01:00:00Z"));
	g_autoptr(Calendar) three = cal_ok("*-*-* 03:00", "Europe/Berlin");
	assert_int_equal(next_of(three, T("2026-03-28T12:00:00Z")), T("2026-03-29T01:00:00Z"));
	assert_int_equal(calendar_utc_from_local(calendar_zone(c), 2026, 3, 29, 2, 30, 0),
			 T("2026-03-29T01:00:00Z"));
}

static void test_berlin_fall(void **state)
{
	/* 2026-10-25: 03:00 CEST -> 02:00 CET at 01:00 UTC; 02:30 exists twice */
	g_autoptr(Calendar) c = cal_ok("*-*-* 02:30", "Europe/Berlin");
	int64_t t = next_of(c, T("2026-10-24T12:00:00Z"));
	assert_int_equal(t, T("2026-10-25T00:30:00Z"));
	assert_string_equal(L(t, "Europe/Berlin"), "2026-10-25 02:30:00 +0200");
	assert_int_equal(next_of(c, t), T("2026-10-26T01:30:00Z"));
	/* asked from inside the repeated hour (02:15 CET, second time): no second run */
	assert_int_equal(next_of(c, T("2026-10-25T01:15:00Z")), T("2026-10-26T01:30:00Z"));
	assert_int_equal(next_of(c, T("2026-10-25T00:45:00Z")), T("2026-10-26T01:30:00Z"));
	assert_int_equal(calendar_utc_from_local(calendar_zone(c), 2026, 10, 25, 2, 30, 0),
			 T("2026-10-25T00:30:00Z"));
}

static void test_new_york(void **state)
{
	/* 2026-03-08: 02:00 EST -> 03:00 EDT at 07:00 UTC */
	g_autoptr(Calendar) spring = cal_ok("*-*-* 02:30 America/New_York", "Europe/Berlin");
	int64_t t = next_of(spring, T("2026-03-07T12:00:00Z"));
	assert_int_equal(t, T("2026-03-08T07:00:00Z"));
	assert_string_equal(L(t, "America/New_York"), "2026-03-08 03:00:00 -0400");
	assert_int_equal(next_of(spring, t), T("2026-03-09T06:30:00Z"));
	/* 2026-11-01: 02:00 EDT -> 01:00 EST at 06:00 UTC; 01:30 exists twice */
	g_autoptr(Calendar) fall = cal_ok("*-*-* 01:30 America/New_York", NULL);
	t = next_of(fall, T("2026-10-31T12:00:00Z"));
	assert_int_equal(t, T("2026-11-01T05:30:00Z"));
	assert_string_equal(L(t, "America/New_York"), "2026-11-01 01:30:00 -0400");
	assert_int_equal(next_of(fall, t), T("2026-11-02T06:30:00Z"));
	assert_int_equal(next_of(fall, T("2026-11-01T06:15:00Z")), T("2026-11-02T06:30:00Z"));
	/* 02:30 is unambiguous on the fall-back day in New York */
	assert_int_equal(next_of(spring, T("2026-10-31T12:00:00Z")), T("2026-11-01T07:30:00Z"));
}

static void test_quarter_hours_and_hourly(void **state)
{
	g_autoptr(Calendar) q = cal_ok("*:0/15", "Europe/Berlin");
	/* spring: 02:00..02:45 collapse into the 03:00 CEST slot, run once */
	int64_t t = T("2026-03-29T00:40:00Z");
	static const char *const spring[] = {"2026-03-29T00:45:00Z", "2026-03-29T01:00:00Z",
					     "2026-03-29T01:15:00Z", "2026-03-29T01:30:00Z"};
	for (size_t i = 0; i < G_N_ELEMENTS(spring); i++)
		assert_int_equal(t = next_of(q, t), T(spring[i]));
	/* fall: the repeated hour 02:00..02:59 CET holds no slot */
	t = T("2026-10-25T00:40:00Z");
	static const char *const fall[] = {"2026-10-25T00:45:00Z", "2026-10-25T02:00:00Z",
					   "2026-10-25T02:15:00Z"};
	for (size_t i = 0; i < G_N_ELEMENTS(fall); i++)
		assert_int_equal(t = next_of(q, t), T(fall[i]));

	g_autoptr(Calendar) h = cal_ok("hourly", "Europe/Berlin");
	t = T("2026-10-24T23:30:00Z");
	static const char *const hfall[] = {"2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z",
					    "2026-10-25T03:00:00Z"};
	for (size_t i = 0; i < G_N_ELEMENTS(hfall); i++)
		assert_int_equal(t = next_of(h, t), T(hfall[i]));
	t = T("2026-03-29T00:30:00Z");
	static const char *const hspring[] = {"2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"};
	for (size_t i = 0; i < G_N_ELEMENTS(hspring); i++)
		assert_int_equal(t = next_of(h, t), T(hspring[i]));
}

/* Two years of a nightly schedule: exactly one slot per local day, in order. */
static void sweep(const char *spec, const char *zone, int hour, int minute, int expect_moved,
		  int expect_first_of_two)
{
	g_autoptr(Calendar) c = cal_ok(spec, zone);
	GTimeZone *tz = calendar_zone(c);
	int64_t t = calendar_utc_from_local(tz, 2026, 1, 1, 0, 0, 0);
	int64_t end = calendar_utc_from_local(tz, 2028, 1, 1, 0, 0, 0);
	CalendarLocal l, prev = {0};
	int n = 0, moved = 0, first_of_two = 0;
	while ((t = next_of(c, t)) < end) {
		calendar_local_time(tz, t, &l);
		if (n > 0) {
			/* never twice, never skipped: consecutive local days */
			if (l.day_number != prev.day_number + 1)
				fail_msg("%s: %s follows %s", spec, L(t, zone), L(t - 86400, zone));
		}
		if (l.hour != hour || l.minute != minute) {
			/* only in a spring gap, and then at the transition (the hour after) */
			assert_int_equal(l.hour, hour + 1);
			assert_int_equal(l.minute, 0);
			moved++;
		}
		/* a wall time that exists twice ran at its first occurrence */
		CalendarLocal later;
		calendar_local_time(tz, t + 3600, &later);
		if (later.hour == l.hour && later.minute == l.minute)
			first_of_two++;
		prev = l;
		n++;
	}
	assert_int_equal(n, 730);
	assert_int_equal(moved, expect_moved);
	assert_int_equal(first_of_two, expect_first_of_two);
}

static void test_two_years(void **state)
{
	sweep("*-*-* 02:30:00", "Europe/Berlin", 2, 30, 2, 2);
	sweep("*-*-* 02:00:00", "Europe/Berlin", 2, 0, 2, 2);
	sweep("*-*-* 01:30:00", "Europe/Berlin", 1, 30, 0, 0);
	sweep("*-*-* 02:30:00", "America/New_York", 2, 30, 2, 0);
	sweep("*-*-* 01:30:00", "America/New_York", 1, 30, 0, 2);
	sweep("*-*-* 02:30:00 UTC", "Europe/Berlin", 2, 30, 0, 0);
}

static void test_last_before_dst(void **state)
{
	int64_t slot = 0;
	HfError err = {0};
	g_autoptr(Calendar) c = cal_ok("*-*-* 02:30", "Europe/Berlin");
	/* asked at 02:40 CET (the second 02:40): the slot was the first 02:30 */
	assert_int_equal(calendar_last_before(c, T("2026-10-25T01:40:00Z"),
					      T("2026-10-24T12:00:00Z"), &slot, &err),
			 1);
	assert_int_equal(slot, T("2026-10-25T00:30:00Z"));
	/* 02:45 CEST is later on the wall than 02:40 CET, but earlier in time */
	g_autoptr(Calendar) c45 = cal_ok("*-*-* 02:45", "Europe/Berlin");
	assert_int_equal(calendar_last_before(c45, T("2026-10-25T01:40:00Z"),
					      T("2026-10-24T12:00:00Z"), &slot, &err),
			 1);
	assert_int_equal(slot, T("2026-10-25T00:45:00Z"));
	/* spring: the moved slot is found exactly at the transition */
	assert_int_equal(calendar_last_before(c, T("2026-03-29T01:00:00Z"),
					      T("2026-03-28T12:00:00Z"), &slot, &err),
			 1);
	assert_int_equal(slot, T("2026-03-29T01:00:00Z"));
	assert_int_equal(calendar_last_before(c, T("2026-03-29T00:59:59Z"),
					      T("2026-03-27T12:00:00Z"), &slot, &err),
			 1);
	assert_int_equal(slot, T("2026-03-28T01:30:00Z"));
}

/* calendar_last_before agrees with iterating calendar_next, around both transitions. */
static void test_last_before_matches_next(void **state)
{
	static const char *const specs[] = {"*:0/15", "*-*-* 02:30", "hourly", "*-*-* 02:10,50"};
	static const char *const days[][2] = {{"2026-03-28T20:00:00Z", "2026-03-29T06:00:00Z"},
					      {"2026-10-24T20:00:00Z", "2026-10-25T06:00:00Z"}};
	for (size_t s = 0; s < G_N_ELEMENTS(specs); s++) {
		g_autoptr(Calendar) c = cal_ok(specs[s], "Europe/Berlin");
		for (size_t d = 0; d < G_N_ELEMENTS(days); d++) {
			int64_t from = T(days[d][0]), to = T(days[d][1]);
			g_autoptr(GArray) slots = g_array_new(FALSE, FALSE, sizeof(int64_t));
			int64_t t = from - 2 * 86400;
			while ((t = next_of(c, t)) <= to + 86400)
				g_array_append_val(slots, t);
			for (int64_t b = from; b <= to; b += 300) {
				int64_t want = -1, got = -1;
				for (guint i = 0; i < slots->len; i++)
					if (g_array_index(slots, int64_t, i) <= b)
						want = g_array_index(slots, int64_t, i);
				HfError err = {0};
				int rc = calendar_last_before(c, b, b - 86400, &got, &err);
				assert_int_equal(rc, want > b - 86400 ? 1 : 0);
				if (rc == 1 && got != want)
					fail_msg("%s before %s: got %s, want %s", specs[s],
						 L(b, "Europe/Berlin"), L(got, "Europe/Berlin"),
						 L(want, "Europe/Berlin"));
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_berlin_spring),
	    cmocka_unit_test(test_berlin_fall),
	    cmocka_unit_test(test_new_york),
	    cmocka_unit_test(test_quarter_hours_and_hourly),
	    cmocka_unit_test(test_two_years),
	    cmocka_unit_test(test_last_before_dst),
	    cmocka_unit_test(test_last_before_matches_next),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
