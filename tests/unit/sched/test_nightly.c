/* Acceptance (pure part of issue 5): 400 simulated nights of a daily 02:30 Europe/Berlin
 * policy, driven the way holdfastd drives it: calendar_next for the next slot, a missed slot
 * run once at restart (calendar_last_before), retention_plan after every snapshot, a share
 * check holding back a retention change until `policy apply`. The clock is a parameter.
 *
 * Timeline (local Europe/Berlin):
 *   2027-05-10 00:00  daemon starts; rules R1 = keep-daily 7, keep-weekly 4, keep-monthly 6,
 *                     keep-yearly 1; a foreign snapshot "pre-migration-manual" exists
 *   2027-07-05 12:00  the admin pins the snapshot of 2027-07-04
 *   2027-10-31        fall back: 02:30 exists twice, the slot runs at the first (00:30Z)
 *   2027-12-01 12:00  config changed to R2 = keep-daily 5, keep-weekly 2, keep-monthly 3,
 *                     keep-yearly 1; it would prune 6 of 17 (> 25%): held back
 *   2027-12-03 12:00  `holdfast policy apply`: R2 takes effect, prunes those 6
 *   2028-02-29        leap day: one snapshot, like any day
 *   2028-03-26        spring forward: 02:30 does not exist, the slot runs at 03:00 CEST
 *   2028-06-08 12:00  daemon down; slots of 06-09, 06-10, 06-11 missed
 *   2028-06-11 12:00  daemon up: the latest missed slot (06-11) runs once, now
 *   2028-06-12        last night; the simulation ends 2028-06-13 00:00 (400 local days)
 *
 * Hand computation of the end state (retention.h semantics). With one snapshot a night, in
 * steady state a night leaving keep-daily is pruned unless it is a Sunday (its week is
 * covered by the next day otherwise); a Sunday is then kept by keep-weekly; when it leaves
 * keep-weekly it is pruned unless it is the LAST Sunday of its month (a newer weekly
 * Sunday covers the month otherwise) -- so each month is represented by its last Sunday,
 * not by its last day (month-end weekdays are pruned while that Sunday covers the month).
 * The year 2027 is represented by the last Sunday of December 2027, 12-26.
 *   At 2028-06-08 (before the downtime): daily 06-04..06-08; weekly 05-28, 05-21;
 *   monthly 04-30, 03-26, 02-27; yearly 2027-12-26; pinned 2027-07-04; foreign.
 *   06-11 (missed slot, run at 12:00): daily 06-11, 06-08..06-05 (days without a
 *   snapshot do not count); weekly: the week 06-05..06-11 is covered, so 06-04, 05-28;
 *   05-21 is pruned.
 *   06-12: daily 06-12, 06-11, 06-08, 06-07, 06-06; weekly 06-04 (W22), 05-28 (W21);
 *   06-05 is pruned (its week and month are covered by daily ones).
 *   Monthly 04-30, 03-26 (taken at 03:00 CEST), 02-27 (the leap day 02-29 is not February's
 *   last Sunday, so it was pruned when it left keep-daily); yearly 2027-12-26. */
#include "schedtest.h"

typedef struct {
	char name[40];
	int64_t slot, created;
	bool pinned, owned;
} Snap;

typedef struct {
	Calendar *cal;
	GTimeZone *tz;
	GArray *snaps; /* Snap */
	RetentionRules active;
	int64_t day0;
	int per_day[402];
	int created;
	int64_t last_slot;
	double max_normal_share;
	GHashTable *pruned; /* name -> reason */
} World;

static const RetentionRules R1 = {{0, 0, 7, 4, 6, 1}};
static const RetentionRules R2 = {{0, 0, 5, 2, 3, 1}};
static const double SHARE_LIMIT = 0.25;

static int64_t local(World *w, int y, int m, int d, int h)
{
	return calendar_utc_from_local(w->tz, y, m, d, h, 0, 0);
}

static RetentionPlan *plan(World *w, const RetentionRules *r)
{
	g_autofree RetentionSnapshot *rs = g_new0(RetentionSnapshot, w->snaps->len + 1);
	for (guint i = 0; i < w->snaps->len; i++) {
		Snap *s = &g_array_index(w->snaps, Snap, i);
		rs[i] = (RetentionSnapshot){s->name, s->created, s->pinned, s->owned};
	}
	RetentionPlan *p = NULL;
	HfError err = {0};
	if (retention_plan(rs, w->snaps->len, r, w->tz, &p, &err) != 0)
		fail_msg("retention_plan: %s", err.message);
	return p;
}

/* Apply the active rules; returns the pruned names, oldest first. */
static char *prune(World *w, bool nightly)
{
	g_autoptr(RetentionPlan) p = plan(w, &w->active);
	if (nightly) {
		w->max_normal_share = MAX(w->max_normal_share, retention_plan_share(p));
		assert_true(retention_plan_share(p) <= SHARE_LIMIT); /* never held back */
	}
	GString *names = g_string_new(NULL);
	for (guint i = 0; i < w->snaps->len; i++) {
		Snap *s = &g_array_index(w->snaps, Snap, i);
		const RetentionDecision *d = &p->decisions[i];
		if (d->keep)
			continue;
		assert_true(s->owned && !s->pinned);
		g_hash_table_insert(w->pruned, g_strdup(s->name), g_strdup(d->reason));
		g_string_append_printf(names, "%s%s", names->len ? " " : "", s->name);
	}
	for (guint i = w->snaps->len; i-- > 0;)
		if (!p->decisions[i].keep)
			g_array_remove_index(w->snaps, i);
	return g_string_free(names, FALSE);
}

static void take(World *w, int64_t slot, int64_t now)
{
	Snap s = {.slot = slot, .created = now, .owned = true};
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(slot);
	g_autofree char *stamp = g_date_time_format(dt, "hf-%Y%m%dT%H%M%SZ");
	g_strlcpy(s.name, stamp, sizeof(s.name));
	assert_true(slot > w->last_slot); /* slots strictly increase: none runs twice */
	w->last_slot = slot;
	assert_null(g_hash_table_lookup(w->pruned, s.name));
	CalendarLocal l;
	calendar_local_time(w->tz, slot, &l);
	int64_t day = l.day_number - w->day0;
	assert_true(day >= 0 && day < 400);
	w->per_day[day]++;
	w->created++;
	g_array_append_val(w->snaps, s);
	g_free(prune(w, true));
}

static Snap *find(World *w, const char *name)
{
	for (guint i = 0; i < w->snaps->len; i++)
		if (strcmp(g_array_index(w->snaps, Snap, i).name, name) == 0)
			return &g_array_index(w->snaps, Snap, i);
	return NULL;
}

static void test_400_nights(void **state)
{
	gint64 t0 = g_get_monotonic_time();
	World w = {0};
	w.cal = cal_ok("*-*-* 02:30:00", "Europe/Berlin");
	w.tz = calendar_zone(w.cal);
	w.snaps = g_array_new(FALSE, TRUE, sizeof(Snap));
	w.pruned = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	w.active = R1;
	Snap foreign = {"pre-migration-manual", 0, T("2027-05-09T08:00:00Z"), false, false};
	g_array_append_val(w.snaps, foreign);

	int64_t start = local(&w, 2027, 5, 10, 0), end = local(&w, 2028, 6, 13, 0);
	CalendarLocal l;
	calendar_local_time(w.tz, start, &l);
	w.day0 = l.day_number;
	int64_t pin_at = local(&w, 2027, 7, 5, 12), change_at = local(&w, 2027, 12, 1, 12);
	int64_t apply_at = local(&w, 2027, 12, 3, 12);
	int64_t down_at = local(&w, 2028, 6, 8, 12), up_at = local(&w, 2028, 6, 11, 12);
	bool pinned = false, requested = false, applied = false, restarted = false;

	int64_t last_slot = start, slot;
	while ((slot = next_of(w.cal, last_slot)) < end) {
		if (!pinned && pin_at < slot) {
			Snap *s = find(&w, "hf-20270704T003000Z");
			assert_non_null(s);
			s->pinned = pinned = true;
		}
		if (!requested && change_at < slot) {
			/* the share check: 17 owned (16 + the pinned one), 6 would go */
			g_autoptr(RetentionPlan) p = plan(&w, &R2);
			assert_int_equal(p->owned, 17);
			assert_int_equal(p->pruned, 6);
			assert_true(retention_plan_share(p) > SHARE_LIMIT);
			requested = true; /* held back: the old rules stay active */
		}
		if (!applied && apply_at < slot) {
			w.active = R2;
			g_autofree char *gone = prune(&w, false);
			assert_string_equal(gone, "hf-20270530T003000Z hf-20270627T003000Z "
						  "hf-20270725T003000Z hf-20271107T013000Z "
						  "hf-20271114T013000Z hf-20271127T013000Z");
			applied = true;
		}
		if (slot >= down_at && slot < up_at) {
			/* down: nothing runs; at restart the latest missed slot runs once */
			int64_t missed = 0;
			HfError err = {0};
			assert_int_equal(
			    calendar_last_before(w.cal, up_at, last_slot, &missed, &err), 1);
			assert_int_equal(missed, T("2028-06-11T00:30:00Z"));
			take(&w, missed, up_at);
			last_slot = missed;
			restarted = true;
			continue;
		}
		take(&w, slot, slot);
		last_slot = slot;
	}
	assert_true(pinned && requested && applied && restarted);

	/* a slot per local day, never two; none on the two days lost to the downtime */
	for (int d = 0; d < 400; d++)
		assert_int_equal(w.per_day[d], d == 396 || d == 397 ? 0 : 1);
	assert_int_equal(w.created, 398);
	/* DST and leap days: taken once, at the documented instants */
	assert_non_null(g_hash_table_lookup(w.pruned, "hf-20271031T003000Z")); /* first 02:30 */
	assert_non_null(g_hash_table_lookup(w.pruned, "hf-20280229T013000Z"));
	assert_string_equal(g_hash_table_lookup(w.pruned, "hf-20280229T013000Z"),
			    "beyond keep-daily 5, keep-weekly 2, keep-monthly 3, keep-yearly 1");

	static const char *const expect[][2] = {
	    {"pre-migration-manual", "not owned by this policy"},
	    {"hf-20270704T003000Z", "pinned"},
	    {"hf-20271226T013000Z", "keep-yearly (2027)"},
	    {"hf-20280227T013000Z", "keep-monthly (2028-02)"},
	    {"hf-20280326T010000Z", "keep-monthly (2028-03)"},
	    {"hf-20280430T003000Z", "keep-monthly (2028-04)"},
	    {"hf-20280528T003000Z", "keep-weekly (2028-W21)"},
	    {"hf-20280604T003000Z", "keep-weekly (2028-W22)"},
	    {"hf-20280606T003000Z", "keep-daily (2028-06-06)"},
	    {"hf-20280607T003000Z", "keep-daily (2028-06-07)"},
	    {"hf-20280608T003000Z", "keep-daily (2028-06-08)"},
	    {"hf-20280611T003000Z", "keep-daily (2028-06-11)"},
	    {"hf-20280612T003000Z", "keep-daily (2028-06-12)"},
	};
	g_autoptr(RetentionPlan) fin = plan(&w, &w.active);
	assert_int_equal(fin->pruned, 0);
	assert_int_equal(w.snaps->len, G_N_ELEMENTS(expect));
	for (guint i = 0; i < w.snaps->len; i++) {
		Snap *s = &g_array_index(w.snaps, Snap, i);
		assert_string_equal(s->name, expect[i][0]);
		assert_string_equal(fin->decisions[i].reason, expect[i][1]);
	}
	/* the missed slot is named by its slot and was taken at the restart */
	assert_int_equal(find(&w, "hf-20280611T003000Z")->created, up_at);
	assert_int_equal(find(&w, "hf-20280326T010000Z")->created, T("2028-03-26T03:00:00+02:00"));

	print_message(
	    "400 nights: %d snapshots, %u pruned, max nightly share %.3f, %" G_GINT64_FORMAT
	    " us\n",
	    w.created, g_hash_table_size(w.pruned), w.max_normal_share,
	    g_get_monotonic_time() - t0);
	g_hash_table_unref(w.pruned);
	g_array_unref(w.snaps);
	calendar_free(w.cal);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_400_nights),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
