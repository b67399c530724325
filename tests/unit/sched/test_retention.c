/* Unit tests: PBS prune semantics, hard guarantees, share check, rules text, simulator
 * (daemon/retention.c). The PBS cases are those of proxmox-backup's tests/prune.rs. */
#include "schedtest.h"

#define MAXS 64

typedef struct {
	RetentionSnapshot s[MAXS];
	char names[MAXS][40];
	size_t n;
} Set;

/* "2019-12-04T11:59:15Z" [+ "!" pinned] [+ "?" foreign]; the name is the time. */
static void set_add(Set *set, const char *spec)
{
	char iso[40];
	g_strlcpy(iso, spec, sizeof(iso));
	bool pinned = strchr(iso, '!') != NULL, foreign = strchr(iso, '?') != NULL;
	iso[strcspn(iso, "!?")] = '\0';
	g_strlcpy(set->names[set->n], iso, sizeof(set->names[0]));
	set->s[set->n] = (RetentionSnapshot){set->names[set->n], T(iso), pinned, !foreign};
	set->n++;
}

static Set *set_of(const char *const *specs, size_t n)
{
	Set *set = g_new0(Set, 1);
	for (size_t i = 0; i < n; i++)
		set_add(set, specs[i]);
	return set;
}

static RetentionPlan *plan_of(const Set *set, RetentionRules r, const char *zone)
{
	g_autoptr(GTimeZone) tz = zone ? g_time_zone_new_identifier(zone) : NULL;
	RetentionPlan *p = NULL;
	HfError err = {0};
	if (retention_plan(set->s, set->n, &r, tz, &p, &err) != 0)
		fail_msg("retention_plan: %s", err.message);
	return p;
}

/* The names kept (or pruned), in input order, joined by spaces, times shortened to the date
 * (or date and hour:minute when the set has several per day). */
static char *names_where(const Set *set, const RetentionPlan *p, bool keep)
{
	GString *s = g_string_new(NULL);
	for (size_t i = 0; i < set->n; i++)
		if (p->decisions[i].keep == keep)
			g_string_append_printf(s, "%s%s", s->len ? " " : "", set->names[i]);
	return g_string_free(s, FALSE);
}

static void expect(const Set *set, RetentionRules r, bool keep, const char *want)
{
	g_autoptr(RetentionPlan) p = plan_of(set, r, "UTC");
	g_autofree char *got = names_where(set, p, keep);
	if (strcmp(got, want) != 0) {
		g_autofree char *rt = retention_rules_format(&r);
		fail_msg("%s: %s '%s', expected '%s'", rt, keep ? "kept" : "pruned", got, want);
	}
}

#define R(last, hourly, daily, weekly, monthly, yearly)                                            \
	((RetentionRules){{last, hourly, daily, weekly, monthly, yearly}})

static const char *const simple[] = {"2019-12-02T11:59:15Z", "2019-12-03T11:59:15Z",
				     "2019-12-04T11:59:15Z", "2019-12-04T12:59:15Z"};
#define D2 "2019-12-02T11:59:15Z"
#define D3 "2019-12-03T11:59:15Z"
#define D4 "2019-12-04T11:59:15Z"
#define D4B "2019-12-04T12:59:15Z"

static void test_pbs_simple(void **state)
{
	g_autofree Set *set = set_of(simple, G_N_ELEMENTS(simple));
	expect(set, R(4, 0, 0, 0, 0, 0), false, "");
	expect(set, R(3, 0, 0, 0, 0, 0), false, D2);
	expect(set, R(2, 0, 0, 0, 0, 0), false, D2 " " D3);
	expect(set, R(1, 0, 0, 0, 0, 0), false, D2 " " D3 " " D4);
	/* PBS prunes everything for keep-last 0 alone; holdfast keeps everything (no rule) */
	expect(set, R(0, 0, 0, 0, 0, 0), false, "");
	expect(set, R(2, 0, 2, 0, 0, 0), false, "");
	expect(set, R(0, 0, 3, 0, 0, 0), false, D4);
	expect(set, R(0, 0, 2, 0, 0, 0), false, D2 " " D4);
	/* all in one week / month / year: only the newest is kept */
	expect(set, R(0, 0, 0, 5, 0, 0), false, D2 " " D3 " " D4);
	expect(set, R(0, 0, 1, 5, 0, 0), false, D2 " " D3 " " D4);
	expect(set, R(0, 0, 0, 0, 6, 0), false, D2 " " D3 " " D4);
	expect(set, R(0, 0, 0, 0, 0, 7), false, D2 " " D3 " " D4);
	expect(set, R(0, 0, 0, 5, 6, 7), false, D2 " " D3 " " D4);
}

static const char *const simple2[] = {
    "2018-11-15T11:59:15Z", "2019-11-15T11:59:15Z", "2019-11-21T11:59:15Z",
    "2019-11-22T11:59:15Z", "2019-11-29T11:59:15Z", "2019-12-01T11:59:15Z",
    "2019-12-02T11:59:15Z", "2019-12-03T11:59:15Z", "2019-12-04T11:59:15Z",
};

static void test_pbs_simple2(void **state)
{
	g_autofree Set *set = set_of(simple2, G_N_ELEMENTS(simple2));
	expect(set, R(0, 0, 1, 0, 0, 0), true, "2019-12-04T11:59:15Z");
	expect(set, R(1, 0, 1, 0, 0, 0), true, "2019-12-03T11:59:15Z 2019-12-04T11:59:15Z");
	expect(set, R(0, 0, 1, 1, 0, 0), true, "2019-12-01T11:59:15Z 2019-12-04T11:59:15Z");
	expect(set, R(0, 0, 1, 1, 1, 0), true,
	       "2019-11-22T11:59:15Z 2019-12-01T11:59:15Z 2019-12-04T11:59:15Z");
	expect(set, R(0, 0, 0, 0, 1, 1), true, "2018-11-15T11:59:15Z 2019-12-04T11:59:15Z");
}

/* The worked example of retention.h, with every reason. */
static void test_worked_example_reasons(void **state)
{
	g_autofree Set *set = set_of(simple2, G_N_ELEMENTS(simple2));
	g_autoptr(RetentionPlan) p = plan_of(set, R(0, 0, 1, 1, 1, 0), "UTC");
	static const char *const reasons[] = {
	    "beyond keep-daily 1, keep-weekly 1, keep-monthly 1", /* 2018-11-15 */
	    "keep-monthly keeps a newer snapshot of 2019-11",	  /* 2019-11-15 */
	    "keep-monthly keeps a newer snapshot of 2019-11",	  /* 11-21 */
	    "keep-monthly (2019-11)",				  /* 11-22 */
	    "keep-weekly keeps a newer snapshot of 2019-W48",	  /* 11-29 */
	    "keep-weekly (2019-W48)",				  /* 12-01 */
	    "beyond keep-daily 1, keep-weekly 1, keep-monthly 1", /* 12-02 */
	    "beyond keep-daily 1, keep-weekly 1, keep-monthly 1", /* 12-03 */
	    "keep-daily (2019-12-04)",				  /* 12-04 */
	};
	static const RetentionWhy whys[] = {
	    RETENTION_WHY_EXPIRED, RETENTION_WHY_SUPERSEDED, RETENTION_WHY_SUPERSEDED,
	    RETENTION_WHY_RULE,	   RETENTION_WHY_SUPERSEDED, RETENTION_WHY_RULE,
	    RETENTION_WHY_EXPIRED, RETENTION_WHY_EXPIRED,    RETENTION_WHY_RULE,
	};
	for (size_t i = 0; i < set->n; i++) {
		assert_string_equal(p->decisions[i].reason, reasons[i]);
		assert_int_equal(p->decisions[i].why, whys[i]);
	}
	assert_int_equal(p->decisions[3].rule, RETENTION_MONTHLY);
	assert_int_equal(p->decisions[4].rule, RETENTION_WEEKLY);
	assert_int_equal(p->decisions[0].rule, -1);
	assert_int_equal(p->owned, 9);
	assert_int_equal(p->pruned, 6);

	g_autoptr(RetentionPlan) q = plan_of(set, R(3, 0, 0, 0, 0, 0), "UTC");
	assert_string_equal(q->decisions[8].reason, "keep-last 3");
	assert_string_equal(q->decisions[5].reason, "beyond keep-last 3");
}

static void test_pbs_hourly(void **state)
{
	static const char *const list[] = {"2019-11-15T09:39:15Z", "2019-11-15T10:49:15Z",
					   "2019-11-15T10:59:15Z", "2019-11-15T11:39:15Z",
					   "2019-11-15T11:49:15Z", "2019-11-15T11:59:15Z"};
	g_autofree Set *set = set_of(list, G_N_ELEMENTS(list));
	expect(set, R(0, 3, 0, 0, 0, 0), false,
	       "2019-11-15T10:49:15Z 2019-11-15T11:39:15Z 2019-11-15T11:49:15Z");
	expect(set, R(0, 2, 0, 0, 0, 0), true, "2019-11-15T10:59:15Z 2019-11-15T11:59:15Z");
	g_autoptr(RetentionPlan) p = plan_of(set, R(0, 2, 0, 0, 0, 0), "UTC");
	assert_string_equal(p->decisions[5].reason, "keep-hourly (2019-11-15 11:00)");
	/* hours are the zone's: in Berlin the same instants are 10:39 .. 12:59 CET */
	g_autoptr(RetentionPlan) b = plan_of(set, R(0, 2, 0, 0, 0, 0), "Europe/Berlin");
	assert_string_equal(b->decisions[5].reason, "keep-hourly (2019-11-15 12:00)");
}

static void test_pinned(void **state)
{
	/* PBS test_prune_protected: protected snapshots are kept and do not count */
	static const char *const list[] = {"2019-11-15T09:39:15Z!", "2019-11-15T10:39:15Z",
					   "2019-11-15T10:49:15Z", "2019-11-15T10:59:15Z!"};
	g_autofree Set *set = set_of(list, G_N_ELEMENTS(list));
	expect(set, R(1, 0, 0, 0, 0, 0), false, "2019-11-15T10:39:15Z");
	expect(set, R(0, 1, 0, 0, 0, 0), false, "2019-11-15T10:39:15Z");
	g_autoptr(RetentionPlan) p = plan_of(set, R(1, 0, 0, 0, 0, 0), "UTC");
	assert_string_equal(p->decisions[0].reason, "pinned");
	assert_int_equal(p->decisions[0].why, RETENTION_WHY_PINNED);
	assert_int_equal(p->decisions[3].why, RETENTION_WHY_PINNED);
	assert_int_equal(p->owned, 4);
	assert_int_equal(p->pruned, 1);
	/* pinned and the only one of its day: still kept with keep-daily 1 elsewhere */
	static const char *const list2[] = {"2026-01-01T02:30:00Z!", "2026-01-05T02:30:00Z",
					    "2026-01-06T02:30:00Z"};
	g_autofree Set *set2 = set_of(list2, G_N_ELEMENTS(list2));
	expect(set2, R(0, 0, 1, 0, 0, 0), true, "2026-01-01T02:30:00Z 2026-01-06T02:30:00Z");
}

static void test_foreign_and_keep_all(void **state)
{
	static const char *const list[] = {"2026-01-01T02:30:00Z?", "2026-01-02T02:30:00Z",
					   "2026-01-03T02:30:00Z", "2026-01-04T02:30:00Z?",
					   "2026-01-05T02:30:00Z"};
	g_autofree Set *set = set_of(list, G_N_ELEMENTS(list));
	/* the foreign snapshots neither count nor get pruned */
	expect(set, R(1, 0, 0, 0, 0, 0), true,
	       "2026-01-01T02:30:00Z 2026-01-04T02:30:00Z 2026-01-05T02:30:00Z");
	g_autoptr(RetentionPlan) p = plan_of(set, R(1, 0, 0, 0, 0, 0), "UTC");
	assert_string_equal(p->decisions[0].reason, "not owned by this policy");
	assert_int_equal(p->decisions[3].why, RETENTION_WHY_FOREIGN);
	assert_int_equal(p->owned, 3);
	assert_int_equal(p->pruned, 2);
	/* no rule: everything is kept, nothing is pruned */
	g_autoptr(RetentionPlan) all = plan_of(set, R(0, 0, 0, 0, 0, 0), "UTC");
	assert_int_equal(all->pruned, 0);
	assert_string_equal(all->decisions[1].reason, "keep-all (no keep rule set)");
	assert_int_equal(all->decisions[1].why, RETENTION_WHY_KEEP_ALL);
	assert_true(retention_plan_share(all) == 0.0);
	/* only foreign snapshots, or none at all */
	static const char *const foreign[] = {"2026-01-01T02:30:00Z?"};
	g_autofree Set *f = set_of(foreign, 1);
	g_autoptr(RetentionPlan) fp = plan_of(f, R(1, 0, 0, 0, 0, 0), "UTC");
	assert_int_equal(fp->owned, 0);
	assert_true(fp->decisions[0].keep);
	assert_true(retention_plan_share(fp) == 0.0);
	RetentionRules r = R(1, 0, 0, 0, 0, 0);
	RetentionPlan *empty = NULL;
	HfError err = {0};
	assert_int_equal(retention_plan(NULL, 0, &r, NULL, &empty, &err), 0);
	assert_int_equal(empty->n, 0);
	retention_plan_free(empty);
	RetentionSnapshot noname = {NULL, 0, false, true};
	assert_int_equal(retention_plan(&noname, 1, &r, NULL, &empty, &err), -1);
	assert_null(empty);
	assert_string_equal(err.code, HF_ERR_INVALID_PARAMS);
}

/* Random sets and rules: the hard guarantees hold and a second plan prunes nothing. */
static void test_guarantees_random(void **state)
{
	g_autoptr(GRand) rnd = g_rand_new_with_seed(20261121);
	g_autoptr(GTimeZone) tz = g_time_zone_new_identifier("Europe/Berlin");
	for (int round = 0; round < 2000; round++) {
		Set set = {0};
		set.n = (size_t)g_rand_int_range(rnd, 1, MAXS);
		int64_t t = T("2026-01-01T00:00:00Z");
		for (size_t i = 0; i < set.n; i++) {
			t += g_rand_int_range(rnd, 1, 5 * 86400);
			snprintf(set.names[i], sizeof(set.names[i]), "s%zu", i);
			set.s[i] =
			    (RetentionSnapshot){set.names[i], t, g_rand_int_range(rnd, 0, 8) == 0,
						g_rand_int_range(rnd, 0, 6) != 0};
		}
		RetentionRules r = {{0}};
		for (int k = 0; k < RETENTION_N_RULES; k++)
			r.keep[k] =
			    g_rand_int_range(rnd, 0, 3) == 0 ? 0 : g_rand_int_range(rnd, 0, 5);
		g_autoptr(RetentionPlan) p = NULL;
		HfError err = {0};
		assert_int_equal(retention_plan(set.s, set.n, &r, tz, &p, &err), 0);
		size_t newest = SIZE_MAX, owned = 0, pruned = 0;
		for (size_t i = 0; i < set.n; i++) {
			const RetentionDecision *d = &p->decisions[i];
			if (!set.s[i].owned) {
				assert_true(d->keep);
				assert_int_equal(d->why, RETENTION_WHY_FOREIGN);
				continue;
			}
			owned++;
			pruned += !d->keep;
			if (set.s[i].pinned)
				assert_int_equal(d->why, RETENTION_WHY_PINNED);
			if (retention_rules_keep_all(&r))
				assert_true(d->keep);
			if (newest == SIZE_MAX || set.s[i].created >= set.s[newest].created)
				newest = i;
			assert_true(d->reason[0] != '\0');
		}
		if (newest != SIZE_MAX)
			assert_true(p->decisions[newest].keep);
		assert_int_equal(p->owned, owned);
		assert_int_equal(p->pruned, pruned);
		/* per rule, at most its count */
		for (int k = 0; k < RETENTION_N_RULES; k++) {
			unsigned by_rule = 0;
			for (size_t i = 0; i < set.n; i++)
				by_rule += p->decisions[i].why == RETENTION_WHY_RULE &&
					   p->decisions[i].rule == k;
			assert_true(by_rule <= r.keep[k]);
		}
		/* the foreign snapshots change nothing for the owned ones */
		Set own = {0};
		for (size_t i = 0; i < set.n; i++)
			if (set.s[i].owned)
				own.s[own.n++] = set.s[i];
		g_autoptr(RetentionPlan) po = NULL;
		assert_int_equal(retention_plan(own.s, own.n, &r, tz, &po, &err), 0);
		for (size_t i = 0, j = 0; i < set.n; i++)
			if (set.s[i].owned)
				assert_string_equal(po->decisions[j++].reason,
						    p->decisions[i].reason);
		/* stable: planning the kept set again prunes nothing */
		Set kept = {0};
		for (size_t i = 0; i < set.n; i++)
			if (p->decisions[i].keep)
				kept.s[kept.n++] = set.s[i];
		g_autoptr(RetentionPlan) again = NULL;
		assert_int_equal(retention_plan(kept.s, kept.n, &r, tz, &again, &err), 0);
		assert_int_equal(again->pruned, 0);
	}
}

/* A retention change: same snapshots, lower counts; the share check reports the fraction. */
static void test_share_check(void **state)
{
	Set set = {0};
	char iso[32];
	for (int d = 1; d <= 20; d++) {
		snprintf(iso, sizeof(iso), "2026-11-%02dT02:30:00Z", d);
		set_add(&set, iso);
	}
	g_autoptr(RetentionPlan) p14 = plan_of(&set, R(0, 0, 14, 0, 0, 0), "UTC");
	assert_int_equal(p14->pruned, 6);
	assert_true(retention_plan_share(p14) == 6.0 / 20.0);
	/* apply it: 14 left (11-07 .. 11-20), one of them pinned */
	Set after = {0};
	for (size_t i = 0; i < set.n; i++)
		if (p14->decisions[i].keep)
			after.s[after.n++] = set.s[i];
	assert_int_equal(after.n, 14);
	after.s[3].pinned = true; /* 11-10 */
	/* lowering keep-daily 14 -> 7 would prune 6 of the 14 (11-10 is pinned) */
	g_autoptr(RetentionPlan) p7 = plan_of(&after, R(0, 0, 7, 0, 0, 0), "UTC");
	assert_int_equal(p7->owned, 14);
	assert_int_equal(p7->pruned, 6);
	assert_true(retention_plan_share(p7) == 6.0 / 14.0);
	assert_true(retention_plan_share(p7) > 0.25); /* held back until `policy apply` */
	/* the next nightly run under unchanged rules prunes one: below the limit */
	g_autoptr(RetentionPlan) same = plan_of(&after, R(0, 0, 12, 0, 0, 0), "UTC");
	assert_int_equal(same->pruned, 1);
	assert_true(retention_plan_share(same) < 0.25);
}

static void test_rules_text(void **state)
{
	RetentionRules r = {{0}};
	HfError err = {0};
	g_autofree char *none = retention_rules_format(&r);
	assert_string_equal(none, "keep-all");
	assert_int_equal(retention_rules_set(&r, "keep-daily", "7", &err), 0);
	assert_int_equal(retention_rules_set(&r, "keep-weekly", "4", &err), 0);
	assert_int_equal(retention_rules_set(&r, "keep-yearly", "0", &err), 0);
	g_autofree char *s = retention_rules_format(&r);
	assert_string_equal(s, "keep-daily 7, keep-weekly 4");
	static const char *const bad[][3] = {
	    {"keep-daily", "-1", "keep-daily = '-1': expected a count 0..100000"},
	    {"keep-daily", "seven", "expected a count"},
	    {"keep-daily", "100001", "expected a count"},
	    {"keep-daily", "", "expected a count"},
	    {"keep-minutely", "1", "'keep-minutely': unknown retention rule"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		error_clear(&err);
		assert_int_equal(retention_rules_set(&r, bad[i][0], bad[i][1], &err), -1);
		assert_string_equal(err.code, HF_ERR_INVALID_PARAMS);
		assert_non_null(strstr(err.message, bad[i][2]));
	}
	assert_int_equal(r.keep[RETENTION_DAILY], 7);
	assert_string_equal(retention_rule_name(RETENTION_MONTHLY), "keep-monthly");
}

/* retention.h's third example: 40 nights ending on a Sunday, keep-daily 7, keep-weekly 4. */
static void test_nightly_example(void **state)
{
	Set set = {0};
	g_autoptr(GDateTime) end = g_date_time_new_utc(2026, 11, 22, 2, 30, 0); /* a Sunday */
	for (int i = 39; i >= 0; i--) {
		g_autoptr(GDateTime) d = g_date_time_add_days(end, -i);
		g_autofree char *iso = g_date_time_format(d, "%Y-%m-%dT%H:%M:%SZ");
		set_add(&set, iso);
	}
	g_autoptr(RetentionPlan) p = plan_of(&set, R(0, 0, 7, 4, 0, 0), "UTC");
	g_autofree char *kept = names_where(&set, p, true);
	assert_string_equal(kept, "2026-10-25T02:30:00Z 2026-11-01T02:30:00Z 2026-11-08T02:30:00Z "
				  "2026-11-15T02:30:00Z 2026-11-16T02:30:00Z 2026-11-17T02:30:00Z "
				  "2026-11-18T02:30:00Z 2026-11-19T02:30:00Z 2026-11-20T02:30:00Z "
				  "2026-11-21T02:30:00Z 2026-11-22T02:30:00Z");
}

static const char *entry_names(GPtrArray *a, GString *s)
{
	g_string_truncate(s, 0);
	for (guint i = 0; i < a->len; i++) {
		RetentionSimEntry *e = g_ptr_array_index(a, i);
		g_string_append_printf(s, "%s%s", i ? " " : "", e->name);
	}
	return s->str;
}

static void test_simulator(void **state)
{
	g_autoptr(Calendar) cal = cal_ok("*-*-* 02:30", "Europe/Berlin");
	RetentionRules r = R(0, 0, 3, 0, 0, 0);
	RetentionSnapshot initial[] = {
	    {"manual-before-patch", T("2026-03-01T10:00:00Z"), false, false},
	    {"hf-pinned", T("2026-03-10T01:30:00Z"), true, true},
	};
	g_autoptr(RetentionSim) sim = NULL;
	HfError err = {0};
	assert_int_equal(retention_simulate(cal, &r, NULL, initial, 2, "hf-",
					    T("2026-03-24T23:00:00Z"), 7, &sim, &err),
			 0);
	assert_int_equal(sim->days->len, 7);
	static const char *const want[7][4] = {
	    {"2026-03-25", "hf-20260325T013000Z", "",
	     "manual-before-patch hf-pinned hf-20260325T013000Z"},
	    {"2026-03-26", "hf-20260326T013000Z", "", NULL},
	    {"2026-03-27", "hf-20260327T013000Z", "", NULL},
	    {"2026-03-28", "hf-20260328T013000Z", "hf-20260325T013000Z", NULL},
	    /* DST: 02:30 does not exist, the snapshot is taken at 03:00 CEST */
	    {"2026-03-29", "hf-20260329T010000Z", "hf-20260326T013000Z", NULL},
	    {"2026-03-30", "hf-20260330T003000Z", "hf-20260327T013000Z", NULL},
	    {"2026-03-31", "hf-20260331T003000Z", "hf-20260328T013000Z",
	     "manual-before-patch hf-pinned hf-20260329T010000Z hf-20260330T003000Z "
	     "hf-20260331T003000Z"},
	};
	g_autoptr(GString) s = g_string_new(NULL);
	for (guint i = 0; i < 7; i++) {
		RetentionSimDay *d = g_ptr_array_index(sim->days, i);
		char date[16];
		snprintf(date, sizeof(date), "%04d-%02d-%02d", d->year, d->month, d->day);
		assert_string_equal(date, want[i][0]);
		assert_string_equal(entry_names(d->created, s), want[i][1]);
		assert_string_equal(entry_names(d->pruned, s), want[i][2]);
		if (want[i][3])
			assert_string_equal(entry_names(d->existing, s), want[i][3]);
		assert_int_equal(d->existing->len, i < 2 ? i + 3 : 5);
	}
	RetentionSimDay *d3 = g_ptr_array_index(sim->days, 3);
	RetentionSimEntry *e = g_ptr_array_index(d3->pruned, 0);
	assert_string_equal(e->reason, "beyond keep-daily 3");

	/* started after the day's slot: the first day takes nothing */
	g_autoptr(RetentionSim) late = NULL;
	assert_int_equal(retention_simulate(cal, &r, NULL, NULL, 0, "x-", T("2026-03-25T12:00:00Z"),
					    2, &late, &err),
			 0);
	RetentionSimDay *first = g_ptr_array_index(late->days, 0);
	RetentionSimDay *second = g_ptr_array_index(late->days, 1);
	assert_int_equal(first->created->len, 0);
	assert_int_equal(first->existing->len, 0);
	assert_string_equal(entry_names(second->created, s), "x-20260326T013000Z");

	RetentionSim *bad = NULL;
	assert_int_equal(retention_simulate(cal, &r, NULL, NULL, 0, "x-", 0, 0, &bad, &err), -1);
	assert_string_equal(err.code, HF_ERR_INVALID_PARAMS);
	assert_null(bad);
	/* a schedule that ends: the remaining days just show what exists */
	g_autoptr(Calendar) once = cal_ok("2026-03-26 02:30", "Europe/Berlin");
	g_autoptr(RetentionSim) o = NULL;
	assert_int_equal(retention_simulate(once, &r, NULL, NULL, 0, "o-",
					    T("2026-03-24T23:00:00Z"), 5, &o, &err),
			 0);
	RetentionSimDay *last = g_ptr_array_index(o->days, 4);
	assert_string_equal(entry_names(last->existing, s), "o-20260326T013000Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pbs_simple),
	    cmocka_unit_test(test_pbs_simple2),
	    cmocka_unit_test(test_worked_example_reasons),
	    cmocka_unit_test(test_pbs_hourly),
	    cmocka_unit_test(test_pinned),
	    cmocka_unit_test(test_foreign_and_keep_all),
	    cmocka_unit_test(test_guarantees_random),
	    cmocka_unit_test(test_share_check),
	    cmocka_unit_test(test_rules_text),
	    cmocka_unit_test(test_nightly_example),
	    cmocka_unit_test(test_simulator),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
