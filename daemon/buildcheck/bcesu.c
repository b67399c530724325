/* bcesu.c - how current a guest is and what it has of ESU: patch month (revision -> month of
 * the newest rollup, by range), months behind, "ESU-era updates installed", "ESU licence active
 * (year N)" as two separate facts, the ESU prerequisites, and the contradictions between them.
 * Build 6003 alone proves "patched after March 2019", never "has ESU". */
#include "bcclassify.h"

#include <string.h>

static const char *const status_names[] = {"not installed", "unlicensed",    "licensed",
					   "OOB grace",	    "OOT grace",     "non-genuine grace",
					   "notification",  "extended grace"};

char *bcesu_why_unknown(const BcCtx *c, const BcSource *srcs, size_t n)
{
	GString *s = g_string_new(NULL);
	for (size_t i = 0; i < n; i++) {
		const BcItem *it = &c->ev->items[srcs[i]];
		const char *name = buildcheck_source_name(srcs[i]);
		if (s->len)
			g_string_append(s, "; ");
		if (!it->present)
			g_string_append_printf(s, "%s not asked", name);
		else if (it->unavailable)
			g_string_append_printf(s, "%s unavailable: %s", name, it->unavailable);
		else
			g_string_append_printf(s, "%s gave none", name);
	}
	return g_string_free(s, FALSE);
}

static bool usable(const BcItem *it)
{
	return it->present && !it->unavailable;
}

static bool updates_known(const BcCtx *c)
{
	for (int s = 0; s < BC_SRC_COUNT; s++)
		if (usable(&c->ev->items[s]) && c->ev->items[s].updates)
			return true;
	return false;
}

bool bcesu_has_update(const BcCtx *c, const char *kb, BcFactId cite_to)
{
	bool found = false;
	for (int s = 0; s < BC_SRC_COUNT; s++) {
		const BcItem *it = &c->ev->items[s];
		for (guint i = 0; usable(it) && it->updates && i < it->updates->len; i++) {
			const char *id = it->updates->pdata[i];
			if (g_ascii_strcasecmp(id, kb) && strcmp(id, kb + 2))
				continue;
			buildcheck_verdict_cite(c->v, cite_to, (BcSource)s, "updates", "%s", id);
			found = true;
		}
	}
	return found;
}

static int month_of(FactsDateId d)
{
	return facts_month_index(facts_date(d)->date);
}

/* Sets the patch month; returns its month index (the oldest it can be when approximate), or
 * -1 with *upper = the newest it can be when only that is known. */
static int patch_month(BcCtx *c, int *upper)
{
	BcVerdict *v = c->v;
	BcFact *f = &v->facts[BC_FACT_PATCH_MONTH];
	const FactsRevision *next, *row, *first, *last = NULL;
	first = c->brow ? facts_revision_first(c->minor, v->build, "0000") : NULL;
	*upper = -1;
	for (size_t i = 0; first && i < facts_revisions_len; i++)
		if (facts_revisions[i].minor == c->minor && facts_revisions[i].build == v->build)
			last = &facts_revisions[i];
	if (!first) {
		buildcheck_verdict_note(v, BC_FACT_PATCH_MONTH,
					c->brow
					    ? "no revision anchors for build %d in the fact table"
					    : "build %d is unknown or not in the fact table",
					v->build);
		return -1;
	}
	buildcheck_verdict_copy_cites(v, BC_FACT_PATCH_MONTH, BC_FACT_REVISION);
	if (v->revision < 0) {
		if (c->brow->last_update &&
		    facts_month_index(last->month) < facts_month_index(c->brow->last_update)) {
			*upper = facts_month_index(last->month);
			buildcheck_verdict_note(v, BC_FACT_PATCH_MONTH,
						"revision unknown; build %d "
						"was not patched past %s [%s]",
						v->build, last->month, last->src);
		} else {
			buildcheck_verdict_note(v, BC_FACT_PATCH_MONTH, "revision unknown");
		}
		return -1;
	}
	if (!(row = facts_revision_lookup(c->minor, v->build, v->revision, &next))) {
		*upper = facts_month_index(first->month) - 1;
		buildcheck_verdict_note(v, BC_FACT_PATCH_MONTH,
					"revision %d is older than the first anchor of build %d "
					"(%s, revision %d) [%s]",
					v->revision, v->build, first->month, first->revision,
					first->src);
		return -1;
	}
	int pm = facts_month_index(row->month);
	/* past the last anchor of a build is still its month: each build's last anchor is the
	 * end of its line (6002: the build bump; 6003, 7601: the end of Premium Assurance) */
	bool between =
	    v->revision != row->revision && next && facts_month_index(next->month) - pm > 1;
	f->approximate = facts_conf_weak(row->conf) || between;
	memcpy(v->patch_month, row->month, 8);
	buildcheck_verdict_set(v, BC_FACT_PATCH_MONTH, "%s", row->month);
	buildcheck_verdict_note(v, BC_FACT_PATCH_MONTH, "anchor: revision %d = %s%s%s%s [%s, %s]",
				row->revision, row->month, row->kb ? " " : "",
				row->kb ? row->kb : "", row->exact_only ? " (preview)" : "",
				facts_conf_name(row->conf), row->src);
	if (row->note)
		buildcheck_verdict_note(v, BC_FACT_PATCH_MONTH, "%s", row->note);
	if (between && next)
		buildcheck_verdict_note(
		    v, BC_FACT_PATCH_MONTH,
		    "revision %d lies between the anchors %s and %s (revision %d)"
		    ": %s or later, before %s",
		    v->revision, row->month, next->month, next->revision, row->month, next->month);
	else if (!next && v->revision != row->revision)
		buildcheck_verdict_note(v, BC_FACT_PATCH_MONTH,
					"newer than the last anchor of build %d", v->build);
	return pm;
}

static void months_behind(BcCtx *c, int pm, int upper)
{
	BcVerdict *v = c->v;
	const FactsBuild *b = c->brow;
	if (!b || v->product != b->server || !b->last_update) {
		buildcheck_verdict_note(v, BC_FACT_MONTHS_BEHIND,
					"the fact table has no last-update month for %s",
					buildcheck_product_name(v->product));
		return;
	}
	if (pm < 0 && upper < 0) {
		buildcheck_verdict_note(v, BC_FACT_MONTHS_BEHIND, "the patch month is unknown");
		buildcheck_verdict_reason(v, BC_STATUS_ATTENTION, "patch level unknown: %s",
					  v->facts[BC_FACT_PATCH_MONTH].note);
		return;
	}
	int last = MIN(facts_month_index(b->last_update), c->released);
	char lm[8];
	buildcheck_verdict_month(last, lm);
	v->months_behind = MAX(0, last - (pm >= 0 ? pm : upper));
	buildcheck_verdict_set(v, BC_FACT_MONTHS_BEHIND, "%d", v->months_behind);
	buildcheck_verdict_copy_cites(v, BC_FACT_MONTHS_BEHIND, BC_FACT_PATCH_MONTH);
	const char *qual = pm < 0				       ? "at least "
			   : v->facts[BC_FACT_PATCH_MONTH].approximate ? "at most "
								       : "";
	const FactsDate *pa = facts_date(FACTS_D_PREMIUM_END);
	buildcheck_verdict_note(v, BC_FACT_MONTHS_BEHIND,
				"%s%d months behind %s, the newest update for %s (updates end %s "
				"with Premium Assurance, %s [%s, %s])",
				qual, v->months_behind, lm, buildcheck_product_name(v->product),
				b->last_update, pa->date, facts_conf_name(pa->conf), pa->src);
	v->facts[BC_FACT_MONTHS_BEHIND].approximate = v->facts[BC_FACT_PATCH_MONTH].approximate;
	if (v->months_behind >= BC_BEHIND_ATTENTION)
		buildcheck_verdict_reason(
		    v,
		    v->months_behind >= BC_BEHIND_CRITICAL ? BC_STATUS_CRITICAL
							   : BC_STATUS_ATTENTION,
		    "%s%d months behind the newest update (%s)", qual, v->months_behind, lm);
}

/* ESU-era updates: by revision against the first ESU month's anchor; else by a known
 * ESU-era rollup in the update list. */
static void esu_era(BcCtx *c, int pm, int upper)
{
	BcVerdict *v = c->v;
	int first = month_of(FACTS_D_ESU_FIRST);
	const FactsRevision *esu =
	    c->brow ? facts_revision_first(c->minor, v->build, "2020-02") : NULL;
	buildcheck_verdict_copy_cites(v, BC_FACT_ESU_ERA, BC_FACT_PATCH_MONTH);
	if (esu && v->revision >= 0) {
		v->esu_era = v->revision >= esu->revision;
		buildcheck_verdict_note(v, BC_FACT_ESU_ERA,
					"revision %d %s %d, the first ESU "
					"month's (%s) [%s]",
					v->revision, v->esu_era ? ">=" : "<", esu->revision,
					esu->month, esu->src);
	} else if ((pm >= 0 && pm < first) || (upper >= 0 && upper < first)) {
		v->esu_era = BC_TRI_NO;
		buildcheck_verdict_note(v, BC_FACT_ESU_ERA, "patched no later than before %s",
					facts_date(FACTS_D_ESU_FIRST)->date);
	} else if (c->brow && !c->brow->esu_capable) {
		v->esu_era = BC_TRI_NO;
		buildcheck_verdict_note(v, BC_FACT_ESU_ERA,
					"ESU-era rollups do not install on RTM");
	} else {
		for (size_t i = 0; i < facts_revisions_len && v->esu_era != BC_TRI_YES; i++) {
			const FactsRevision *r = &facts_revisions[i];
			if (r->kb && r->minor == c->minor && facts_month_index(r->month) >= first &&
			    bcesu_has_update(c, r->kb, BC_FACT_ESU_ERA))
				v->esu_era = BC_TRI_YES;
		}
		if (v->esu_era == BC_TRI_UNKNOWN)
			buildcheck_verdict_note(v, BC_FACT_ESU_ERA,
						"revision unknown and no known "
						"ESU-era rollup in an update list");
		else
			buildcheck_verdict_note(v, BC_FACT_ESU_ERA,
						"an ESU-era rollup is installed");
	}
	if (v->esu_era != BC_TRI_UNKNOWN)
		buildcheck_verdict_set(v, BC_FACT_ESU_ERA, "%s", v->esu_era ? "yes" : "no");
}

static void licence(BcCtx *c)
{
	BcVerdict *v = c->v;
	bool data = false;
	for (int s = 0; s < BC_SRC_COUNT; s++) {
		const BcItem *it = &c->ev->items[s];
		for (guint i = 0; usable(it) && it->licences && i < it->licences->len; i++) {
			const BcLicence *l = &g_array_index(it->licences, BcLicence, i);
			int year = facts_activation_year(l->id);
			if (!year)
				continue;
			buildcheck_verdict_cite(v, BC_FACT_ESU_LICENCE, (BcSource)s, "licences",
						"year %d %s: %s", year, l->id,
						status_names[l->status + 1]);
			if (l->status == BC_LIC_LICENSED && year > v->licence_year)
				v->licence_year = year;
		}
		data = data || (usable(it) && it->licences);
	}
	if (!data) {
		static const BcSource srcs[] = {BC_SRC_LICENCE_QUERY};
		g_autofree char *why = bcesu_why_unknown(c, srcs, 1);
		buildcheck_verdict_note(v, BC_FACT_ESU_LICENCE, "%s", why);
		return;
	}
	v->licence_active = v->licence_year > 0;
	if (v->licence_year)
		buildcheck_verdict_set(v, BC_FACT_ESU_LICENCE, "year %d", v->licence_year);
	else
		buildcheck_verdict_set(v, BC_FACT_ESU_LICENCE, "no");
	buildcheck_verdict_note(
	    v, BC_FACT_ESU_LICENCE,
	    "LicenseStatus 1 (licensed) of an ESU year's activation id [%s, %s]",
	    facts_conf_name(facts_activations[0].conf), facts_activations[0].src);
}

/* The checks between the ESU facts: each stays a separate fact, the conflicts are reported. */
static void esu_checks(BcCtx *c, int pm)
{
	BcVerdict *v = c->v;
	static const FactsDateId ends[] = {FACTS_D_ESU_Y1_END, FACTS_D_ESU_Y2_END,
					   FACTS_D_ESU_Y3_END};
	if (v->esu_era == BC_TRI_YES && v->licence_active == BC_TRI_NO)
		buildcheck_verdict_contradiction(v,
						 "ESU-era updates installed (patch month %s) "
						 "without an active ESU licence: an ESU bypass "
						 "tool or a removed licence",
						 v->patch_month[0] ? v->patch_month : "unknown");
	if (v->esu_era == BC_TRI_YES && v->licence_year && pm >= 0) {
		const FactsDate *end = facts_date(ends[v->licence_year - 1]);
		if (pm > month_of(FACTS_D_ESU_Y3_END))
			buildcheck_verdict_reason(
			    v, BC_STATUS_ATTENTION,
			    "updates from %s come after ESU year 3 (%s): only "
			    "Azure year 4 or Premium Assurance deliver them, "
			    "which have no activation id to check",
			    v->patch_month, facts_date(FACTS_D_ESU_Y3_END)->date);
		else if (pm > facts_month_index(end->date))
			buildcheck_verdict_contradiction(
			    v,
			    "updates from %s are newer than ESU year %d "
			    "covers (to %s%s)",
			    v->patch_month, v->licence_year, end->approximate ? "about " : "",
			    end->date);
	}
	if (v->licence_active == BC_TRI_YES && v->esu_era == BC_TRI_NO)
		buildcheck_verdict_reason(v, BC_STATUS_ATTENTION,
					  "an ESU licence (year %d) is "
					  "active but no ESU-era update is installed",
					  v->licence_year);
	if (v->licence_active == BC_TRI_YES && v->esu_eligible == BC_TRI_NO)
		buildcheck_verdict_reason(
		    v, BC_STATUS_ATTENTION,
		    "an ESU licence is active on a product or edition that is "
		    "not eligible for ESU");
	if (v->esu_eligible == BC_TRI_YES && c->released >= month_of(FACTS_D_ESU_FIRST) &&
	    v->licence_active != BC_TRI_YES)
		buildcheck_verdict_reason(v, BC_STATUS_ATTENTION,
					  "%s: no updates after %s "
					  "without one",
					  v->licence_active == BC_TRI_NO
					      ? "no active ESU licence"
					      : "ESU licence state unknown",
					  facts_date(FACTS_D_EXTENDED_END)->date);
}

static void prereq_kb(BcCtx *c, BcFactId f, FactsKbKind kind, bool known)
{
	BcVerdict *v = c->v;
	bool any = false, found = false;
	for (size_t i = 0; i < facts_kbs_len; i++) {
		const FactsKb *k = &facts_kbs[i];
		if (k->kind != kind || (k->minor >= 0 && k->minor != c->minor))
			continue;
		bool has = bcesu_has_update(c, k->kb, f);
		if (!k->esu_prereq) {
			if (has)
				buildcheck_verdict_note(v, f,
							"%s (%s) is installed, but ESU needs a "
							"later one",
							k->kb, k->month);
			continue;
		}
		any = true;
		found = found || has;
		buildcheck_verdict_note(v, f, "%s [%s, %s]", k->kb, facts_conf_name(k->conf),
					k->src);
	}
	if (!any) {
		buildcheck_verdict_note(v, f, "the fact table has no such update for NT 6.%d",
					c->minor);
	} else if (!known) {
		static const BcSource srcs[] = {BC_SRC_UPDATE_LIST, BC_SRC_SYSTEMINFO};
		g_autofree char *why = bcesu_why_unknown(c, srcs, G_N_ELEMENTS(srcs));
		buildcheck_verdict_note(v, f, "no update list: %s", why);
		if (v->esu_eligible == BC_TRI_YES)
			buildcheck_verdict_reason(v, BC_STATUS_ATTENTION,
						  "ESU prerequisite unknown: %s (%s)",
						  buildcheck_fact_name(f), why);
	} else {
		buildcheck_verdict_set(v, f, "%s", found ? "present" : "missing");
		if (!found && v->esu_eligible != BC_TRI_NO)
			buildcheck_verdict_reason(v, BC_STATUS_ATTENTION,
						  "ESU prerequisite missing: %s",
						  buildcheck_fact_name(f));
	}
}

static void prereqs(BcCtx *c, int pm)
{
	BcVerdict *v = c->v;
	if (!c->esu_product) {
		for (BcFactId f = BC_FACT_PREREQ_SHA2; f <= BC_FACT_PREREQ_ROLLUP; f++)
			buildcheck_verdict_note(v, f,
						"not applicable: ESU prerequisites apply to "
						"Server 2008 SP2 and 2008 R2 SP1");
		return;
	}
	bool known = updates_known(c);
	prereq_kb(c, BC_FACT_PREREQ_SHA2, FACTS_KB_SHA2, known);
	prereq_kb(c, BC_FACT_PREREQ_SSU, FACTS_KB_SSU, known);
	prereq_kb(c, BC_FACT_PREREQ_LICPREP, FACTS_KB_LICPREP, known);
	int oct = facts_month_index("2019-10");
	buildcheck_verdict_copy_cites(v, BC_FACT_PREREQ_ROLLUP, BC_FACT_PATCH_MONTH);
	buildcheck_verdict_note(v, BC_FACT_PREREQ_ROLLUP,
				"the October 2019 rollup or later [M, "
				"windows-builds.md 'ESU packages and licence']");
	if (pm < 0 && v->esu_era != BC_TRI_NO) {
		buildcheck_verdict_note(v, BC_FACT_PREREQ_ROLLUP, "the patch month is unknown");
		return;
	}
	bool ok = pm >= oct;
	if (!ok && v->facts[BC_FACT_PATCH_MONTH].approximate) {
		buildcheck_verdict_note(v, BC_FACT_PREREQ_ROLLUP, "the patch month is approximate");
		return;
	}
	buildcheck_verdict_set(v, BC_FACT_PREREQ_ROLLUP, "%s", ok ? "present" : "missing");
	if (!ok && v->esu_eligible != BC_TRI_NO)
		buildcheck_verdict_reason(v, BC_STATUS_ATTENTION, "ESU prerequisite missing: %s",
					  buildcheck_fact_name(BC_FACT_PREREQ_ROLLUP));
}

void bcesu_classify(BcCtx *c)
{
	int upper;
	int pm = patch_month(c, &upper);
	months_behind(c, pm, upper);
	esu_era(c, pm, upper);
	licence(c);
	esu_checks(c, pm);
	prereqs(c, pm);
}
