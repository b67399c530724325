/* retention.c - PBS-style prune plans and the policy simulator. Semantics: retention.h. */
#include "retention.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const rule_names[RETENTION_N_RULES] = {
    "keep-last", "keep-hourly", "keep-daily", "keep-weekly", "keep-monthly", "keep-yearly",
};

const char *retention_rule_name(RetentionRule r)
{
	return r >= 0 && r < RETENTION_N_RULES ? rule_names[r] : "?";
}

bool retention_rules_keep_all(const RetentionRules *r)
{
	for (int i = 0; i < RETENTION_N_RULES; i++)
		if (r->keep[i] > 0)
			return false;
	return true;
}

char *retention_rules_format(const RetentionRules *r)
{
	if (retention_rules_keep_all(r))
		return g_strdup("keep-all");
	GString *s = g_string_new(NULL);
	for (int i = 0; i < RETENTION_N_RULES; i++)
		if (r->keep[i] > 0)
			g_string_append_printf(s, "%s%s %u", s->len ? ", " : "", rule_names[i],
					       r->keep[i]);
	return g_string_free(s, FALSE);
}

int retention_rules_set(RetentionRules *r, const char *key, const char *value, HfError *err)
{
	for (int i = 0; i < RETENTION_N_RULES; i++) {
		if (strcmp(key, rule_names[i]) != 0)
			continue;
		guint64 v = 0;
		if (!value ||
		    !g_ascii_string_to_unsigned(value, 10, 0, RETENTION_KEEP_MAX, &v, NULL))
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "%s = '%s': expected a count 0..%d", key,
					 value ? value : "", RETENTION_KEEP_MAX);
		r->keep[i] = (unsigned)v;
		return 0;
	}
	return error_set(err, HF_ERR_INVALID_PARAMS,
			 "'%s': unknown retention rule (keep-last, keep-hourly, keep-daily, "
			 "keep-weekly, keep-monthly, keep-yearly)",
			 key);
}

/* ---- the plan ---- */

enum { MARK_NONE, MARK_KEEP, MARK_SUPERSEDED, MARK_PINNED };

typedef struct {
	const RetentionSnapshot *snaps;
	size_t *order; /* owned snapshots, newest first */
	size_t n_order;
	CalendarLocal *local; /* per order position */
	int *mark;	      /* per order position */
	gint64 *key;	      /* per order position, for the current rule */
	RetentionDecision *dec;
} Planner;

static int newest_first(const void *a, const void *b)
{
	const RetentionSnapshot *x = *(const RetentionSnapshot *const *)a;
	const RetentionSnapshot *y = *(const RetentionSnapshot *const *)b;
	if (x->created != y->created)
		return x->created < y->created ? 1 : -1;
	return -strcmp(x->name, y->name); /* ties: deterministic */
}

static gint64 period_key(RetentionRule r, const CalendarLocal *l, size_t pos)
{
	switch (r) {
	case RETENTION_LAST:
		return (gint64)pos;
	case RETENTION_HOURLY:
		return l->day_number * 24 + l->hour;
	case RETENTION_DAILY:
		return l->day_number;
	case RETENTION_WEEKLY:
		return (gint64)l->iso_year * 100 + l->iso_week;
	case RETENTION_MONTHLY:
		return (gint64)l->year * 12 + l->month;
	default:
		return l->year;
	}
}

static void period_label(RetentionRule r, const CalendarLocal *l, char *buf, size_t len)
{
	switch (r) {
	case RETENTION_HOURLY:
		snprintf(buf, len, "%04d-%02d-%02d %02d:00", l->year, l->month, l->day, l->hour);
		break;
	case RETENTION_DAILY:
		snprintf(buf, len, "%04d-%02d-%02d", l->year, l->month, l->day);
		break;
	case RETENTION_WEEKLY:
		snprintf(buf, len, "%04d-W%02d", l->iso_year, l->iso_week);
		break;
	case RETENTION_MONTHLY:
		snprintf(buf, len, "%04d-%02d", l->year, l->month);
		break;
	default:
		snprintf(buf, len, "%04d", l->year);
		break;
	}
}

/* One rule over the owned snapshots (retention.h, steps 1-5). */
static void apply_rule(Planner *p, RetentionRule r, unsigned count)
{
	g_autoptr(GHashTable) covered = g_hash_table_new(g_int64_hash, g_int64_equal);
	g_autoptr(GHashTable) kept = g_hash_table_new(g_int64_hash, g_int64_equal);
	for (size_t i = 0; i < p->n_order; i++) {
		p->key[i] = period_key(r, &p->local[i], i);
		if (p->mark[i] == MARK_KEEP)
			g_hash_table_add(covered, &p->key[i]);
	}
	char label[32];
	for (size_t i = 0; i < p->n_order; i++) {
		RetentionDecision *d = &p->dec[p->order[i]];
		if (p->mark[i] != MARK_NONE)
			continue;
		if (p->snaps[p->order[i]].pinned) {
			p->mark[i] = MARK_PINNED;
			continue;
		}
		if (g_hash_table_contains(covered, &p->key[i]))
			continue;
		if (!g_hash_table_contains(kept, &p->key[i])) {
			if (g_hash_table_size(kept) >= count)
				break;
			g_hash_table_add(kept, &p->key[i]);
			p->mark[i] = MARK_KEEP;
			d->keep = true;
			d->why = RETENTION_WHY_RULE;
			d->rule = r;
			if (r == RETENTION_LAST) {
				snprintf(d->reason, sizeof(d->reason), "keep-last %u", count);
			} else {
				period_label(r, &p->local[i], label, sizeof(label));
				snprintf(d->reason, sizeof(d->reason), "%s (%s)", rule_names[r],
					 label);
			}
		} else {
			p->mark[i] = MARK_SUPERSEDED;
			d->keep = false;
			d->why = RETENTION_WHY_SUPERSEDED;
			d->rule = r;
			period_label(r, &p->local[i], label, sizeof(label));
			snprintf(d->reason, sizeof(d->reason), "%s keeps a newer snapshot of %s",
				 rule_names[r], label);
		}
	}
}

static void set_decision(RetentionDecision *d, bool keep, RetentionWhy why, const char *reason)
{
	d->keep = keep;
	d->why = why;
	d->rule = -1;
	g_strlcpy(d->reason, reason, sizeof(d->reason));
}

int retention_plan(const RetentionSnapshot *snaps, size_t n, const RetentionRules *rules,
		   GTimeZone *tz, RetentionPlan **out, HfError *err)
{
	*out = NULL;
	if (n > 0 && !snaps)
		return error_set(err, HF_ERR_INVALID_PARAMS, "retention: no snapshot list");
	for (size_t i = 0; i < n; i++)
		if (!snaps[i].name)
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "retention: snapshot %zu has no name", i);
	g_autoptr(GTimeZone) utc = tz ? NULL : g_time_zone_new_utc();
	if (!tz)
		tz = utc;

	g_autoptr(RetentionPlan) plan = g_new0(RetentionPlan, 1);
	plan->n = n;
	plan->decisions = g_new0(RetentionDecision, n ? n : 1);
	g_autofree const RetentionSnapshot **sorted = g_new(const RetentionSnapshot *, n ? n : 1);
	g_autofree size_t *order = g_new(size_t, n ? n : 1);
	size_t n_order = 0;
	for (size_t i = 0; i < n; i++) {
		if (snaps[i].owned)
			sorted[n_order++] = &snaps[i];
		else
			set_decision(&plan->decisions[i], true, RETENTION_WHY_FOREIGN,
				     "not owned by this policy");
	}
	plan->owned = n_order;
	qsort(sorted, n_order, sizeof(*sorted), newest_first);
	for (size_t i = 0; i < n_order; i++)
		order[i] = (size_t)(sorted[i] - snaps);

	g_autofree CalendarLocal *local = g_new0(CalendarLocal, n_order ? n_order : 1);
	g_autofree int *mark = g_new0(int, n_order ? n_order : 1);
	g_autofree gint64 *key = g_new0(gint64, n_order ? n_order : 1);
	Planner p = {snaps, order, n_order, local, mark, key, plan->decisions};
	for (size_t i = 0; i < n_order; i++)
		calendar_local_time(tz, snaps[order[i]].created, &local[i]);

	bool keep_all = retention_rules_keep_all(rules);
	for (int r = 0; r < RETENTION_N_RULES && !keep_all; r++)
		if (rules->keep[r] > 0)
			apply_rule(&p, (RetentionRule)r, rules->keep[r]);

	g_autofree char *ruletext = retention_rules_format(rules);
	for (size_t i = 0; i < n_order; i++) {
		RetentionDecision *d = &plan->decisions[order[i]];
		if (snaps[order[i]].pinned)
			set_decision(d, true, RETENTION_WHY_PINNED, "pinned");
		else if (keep_all)
			set_decision(d, true, RETENTION_WHY_KEEP_ALL,
				     "keep-all (no keep rule set)");
		else if (mark[i] == MARK_NONE) {
			set_decision(d, false, RETENTION_WHY_EXPIRED, "");
			snprintf(d->reason, sizeof(d->reason), "beyond %s", ruletext);
		}
	}
	/* safety net: the rules above always keep the newest unpinned snapshot, but the
	 * guarantee must not depend on that */
	if (n_order > 0 && !plan->decisions[order[0]].keep)
		set_decision(&plan->decisions[order[0]], true, RETENTION_WHY_NEWEST, "newest");
	for (size_t i = 0; i < n_order; i++)
		plan->pruned += !plan->decisions[order[i]].keep;
	*out = g_steal_pointer(&plan);
	return 0;
}

void retention_plan_free(RetentionPlan *p)
{
	if (!p)
		return;
	g_free(p->decisions);
	g_free(p);
}

double retention_plan_share(const RetentionPlan *p)
{
	return p->owned ? (double)p->pruned / (double)p->owned : 0.0;
}

/* ---- simulator ---- */

typedef struct {
	char *name;
	int64_t created;
	bool pinned, owned;
} SimSnap;

static RetentionSimEntry *entry_new(const char *name, int64_t created, const char *reason)
{
	RetentionSimEntry *e = g_new0(RetentionSimEntry, 1);
	e->name = g_strdup(name);
	e->created = created;
	e->reason = g_strdup(reason);
	return e;
}

static void entry_free(gpointer p)
{
	RetentionSimEntry *e = p;
	g_free(e->name);
	g_free(e->reason);
	g_free(e);
}

static void day_free(gpointer p)
{
	RetentionSimDay *d = p;
	g_ptr_array_unref(d->created);
	g_ptr_array_unref(d->pruned);
	g_ptr_array_unref(d->existing);
	g_free(d);
}

void retention_sim_free(RetentionSim *s)
{
	if (!s)
		return;
	if (s->days)
		g_ptr_array_unref(s->days);
	g_free(s);
}

static void sim_snap_clear(gpointer p)
{
	g_free(((SimSnap *)p)->name);
}

static void fill_existing(RetentionSimDay *d, GArray *state)
{
	for (guint i = 0; i < state->len; i++) {
		SimSnap *s = &g_array_index(state, SimSnap, i);
		g_ptr_array_add(d->existing, entry_new(s->name, s->created, NULL));
	}
}

/* Prune state by the plan; record the pruned ones in day. */
static int sim_prune(GArray *state, const RetentionRules *rules, GTimeZone *tz,
		     RetentionSimDay *day, HfError *err)
{
	g_autofree RetentionSnapshot *rs = g_new0(RetentionSnapshot, state->len ? state->len : 1);
	for (guint i = 0; i < state->len; i++) {
		SimSnap *s = &g_array_index(state, SimSnap, i);
		rs[i] = (RetentionSnapshot){s->name, s->created, s->pinned, s->owned};
	}
	g_autoptr(RetentionPlan) plan = NULL;
	if (retention_plan(rs, state->len, rules, tz, &plan, err) < 0)
		return -1;
	for (guint i = 0; i < state->len; i++) {
		SimSnap *s = &g_array_index(state, SimSnap, i);
		if (!plan->decisions[i].keep)
			g_ptr_array_add(day->pruned,
					entry_new(s->name, s->created, plan->decisions[i].reason));
	}
	for (guint i = state->len; i-- > 0;)
		if (!plan->decisions[i].keep)
			g_array_remove_index(state, i); /* clears the name */
	return 0;
}

int retention_simulate(const Calendar *cal, const RetentionRules *rules, GTimeZone *tz,
		       const RetentionSnapshot *initial, size_t n_initial, const char *name_prefix,
		       int64_t start_utc, int days, RetentionSim **out, HfError *err)
{
	*out = NULL;
	if (days < 1 || days > 36600)
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "simulate: --days %d out of range 1..36600", days);
	if (n_initial > 0 && !initial)
		return error_set(err, HF_ERR_INVALID_PARAMS, "simulate: no snapshot list");
	if (!tz)
		tz = calendar_zone(cal);
	g_autoptr(GArray) state = g_array_new(FALSE, TRUE, sizeof(SimSnap));
	g_array_set_clear_func(state, sim_snap_clear);
	for (size_t i = 0; i < n_initial; i++) {
		if (!initial[i].name)
			return error_set(err, HF_ERR_INVALID_PARAMS,
					 "simulate: snapshot %zu has no name", i);
		SimSnap s = {g_strdup(initial[i].name), initial[i].created, initial[i].pinned,
			     initial[i].owned};
		g_array_append_val(state, s);
	}

	g_autoptr(RetentionSim) sim = g_new0(RetentionSim, 1);
	sim->days = g_ptr_array_new_with_free_func(day_free);
	CalendarLocal l0;
	calendar_local_time(tz, start_utc, &l0);
	for (int i = 0; i < days; i++) {
		RetentionSimDay *d = g_new0(RetentionSimDay, 1);
		g_autoptr(GDate) date =
		    g_date_new_dmy((GDateDay)l0.day, (GDateMonth)l0.month, (GDateYear)l0.year);
		g_date_add_days(date, (guint)i);
		d->year = g_date_get_year(date);
		d->month = g_date_get_month(date);
		d->day = g_date_get_day(date);
		d->created = g_ptr_array_new_with_free_func(entry_free);
		d->pruned = g_ptr_array_new_with_free_func(entry_free);
		d->existing = g_ptr_array_new_with_free_func(entry_free);
		g_ptr_array_add(sim->days, d);
	}
	RetentionSimDay *last = g_ptr_array_index(sim->days, days - 1);
	g_autoptr(GDate) end =
	    g_date_new_dmy((GDateDay)last->day, (GDateMonth)last->month, (GDateYear)last->year);
	g_date_add_days(end, 1);
	int64_t end_utc = calendar_utc_from_local(tz, g_date_get_year(end), g_date_get_month(end),
						  g_date_get_day(end), 0, 0, 0);

	int filled = 0; /* days whose end-of-day state is recorded */
	int64_t t = start_utc, slot;
	HfError next_err = {0};
	while (calendar_next(cal, t, &slot, &next_err) == 0 && slot < end_utc) {
		CalendarLocal l;
		calendar_local_time(tz, slot, &l);
		int idx = (int)(l.day_number - l0.day_number);
		for (; filled < idx; filled++)
			fill_existing(g_ptr_array_index(sim->days, filled), state);
		RetentionSimDay *day = g_ptr_array_index(sim->days, idx);
		g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(slot);
		g_autofree char *stamp = g_date_time_format(dt, "%Y%m%dT%H%M%SZ");
		SimSnap s = {g_strconcat(name_prefix ? name_prefix : "", stamp, NULL), slot, false,
			     true};
		g_array_append_val(state, s);
		g_ptr_array_add(day->created, entry_new(s.name, slot, NULL));
		if (sim_prune(state, rules, tz, day, err) < 0)
			return -1;
		t = slot;
	}
	for (; filled < days; filled++)
		fill_existing(g_ptr_array_index(sim->days, filled), state);
	*out = g_steal_pointer(&sim);
	return 0;
}
