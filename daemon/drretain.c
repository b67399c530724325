/* drretain.c - chain-aware retention of DR restore points (drretain.h). Pure. */
#include "drretain.h"
#include "drstore.h"

#include <stdio.h>
#include <string.h>

ssize_t drretain_find(const DrRetainPoint *pts, size_t n, const char *id)
{
	for (size_t i = 0; id && i < n; i++)
		if (!strcmp(pts[i].id, id))
			return (ssize_t)i;
	return -1;
}

bool drretain_same_series(const DrRetainPoint *a, const DrRetainPoint *b)
{
	return !g_strcmp0(a->host, b->host) && !g_strcmp0(a->guest, b->guest);
}

ssize_t drretain_newest_verified(const DrRetainPoint *pts, size_t n, size_t i)
{
	for (size_t j = n; j-- > 0;)
		if (pts[j].verified && drretain_same_series(&pts[j], &pts[i]))
			return (ssize_t)j;
	return -1;
}

const char *drretain_disk_parent(const DrRetainPoint *p, const char *target)
{
	for (size_t k = 0; k < p->n_disks; k++)
		if (!strcmp(p->disks[k].target, target))
			return p->disks[k].parent;
	return NULL;
}

static bool has_disk(const DrRetainPoint *p, const char *target)
{
	for (size_t k = 0; k < p->n_disks; k++)
		if (!strcmp(p->disks[k].target, target))
			return true;
	return false;
}

/* Does every disk chain of point i reach a full image through points of the store? */
static bool chain_whole(const DrRetainPoint *pts, size_t n, size_t i)
{
	for (size_t k = 0; k < pts[i].n_disks; k++) {
		const char *t = pts[i].disks[k].target, *par = pts[i].disks[k].parent;
		for (size_t guard = 0; par; guard++) {
			ssize_t j = drretain_find(pts, n, par);
			if (j < 0 || !has_disk(&pts[j], t) || guard > n)
				return false;
			par = drretain_disk_parent(&pts[j], t);
		}
	}
	return true;
}

/* Keep every point the disks of point i are backed by (not i itself), protect them when
 * `protect`; the reason of a point newly kept is "WHAT ID-of-i". Stops at a break. */
static void mark_ancestors(const DrRetainPoint *pts, size_t n, DrRetainDecision *d, size_t i,
			   bool protect, const char *what)
{
	for (size_t k = 0; k < pts[i].n_disks; k++) {
		const char *t = pts[i].disks[k].target, *par = pts[i].disks[k].parent;
		for (size_t guard = 0; par && guard <= n; guard++) {
			ssize_t j = drretain_find(pts, n, par);
			if (j < 0 || !has_disk(&pts[j], t))
				break;
			if (!d[j].keep)
				snprintf(d[j].reason, sizeof d[j].reason, "%s %s", what, pts[i].id);
			d[j].keep = true;
			d[j].protect = d[j].protect || protect;
			par = drretain_disk_parent(&pts[j], t);
		}
	}
}

/* The nearest kept ancestor of disk k of point i (NULL = none): its new parent. */
static const char *kept_base(const DrRetainPoint *pts, size_t n, const DrRetainDecision *d,
			     size_t i, size_t k, GString *skipped)
{
	const char *t = pts[i].disks[k].target, *par = pts[i].disks[k].parent;
	for (size_t guard = 0; par && guard <= n; guard++) {
		ssize_t j = drretain_find(pts, n, par);
		if (j < 0)
			return par; /* broken: never reached, broken chains are not rewritten */
		if (d[j].keep)
			return pts[j].id;
		g_string_append_printf(skipped, "%s%s", skipped->len ? ", " : "", pts[j].id);
		par = drretain_disk_parent(&pts[j], t);
	}
	return NULL;
}

static void plan_rewrites(const DrRetainPoint *pts, size_t n, DrRetainPlan *p)
{
	for (size_t i = 0; i < n; i++) {
		DrRetainDecision *d = &p->d[i];
		if (!d->keep || d->protect || d->broken)
			continue;
		g_autoptr(GString) why = g_string_new(NULL);
		for (size_t k = 0; k < pts[i].n_disks; k++) {
			g_autoptr(GString) gone = g_string_new(NULL);
			const char *np = kept_base(pts, n, p->d, i, k, gone);
			d->new_parent[k] = np;
			if (g_strcmp0(np, pts[i].disks[k].parent) == 0)
				continue;
			d->rewrite = true;
			g_string_append_printf(why, "%s%s: ", why->len ? "; " : "",
					       pts[i].disks[k].target);
			if (np)
				g_string_append_printf(why, "rebased onto %s", np);
			else
				g_string_append(why, "made self-contained");
			g_string_append_printf(why, " (base %s deleted)", gone->str);
		}
		if (d->rewrite) {
			g_strlcpy(d->rewrite_reason, why->str, sizeof d->rewrite_reason);
			p->rewritten++;
		}
	}
}

/* The internal check: no kept point depends on a deleted one after the rewrites. */
static int plan_check(const DrRetainPoint *pts, size_t n, const DrRetainPlan *p, HfError *err)
{
	for (size_t i = 0; i < n; i++) {
		if (!p->d[i].keep)
			continue;
		for (size_t k = 0; k < pts[i].n_disks; k++) {
			const char *par =
			    p->d[i].rewrite ? p->d[i].new_parent[k] : pts[i].disks[k].parent;
			ssize_t j = drretain_find(pts, n, par);
			if (par && j >= 0 && !p->d[j].keep)
				return error_set(
				    err, HF_ERR_INTERNAL,
				    "retention plan would delete point %s, which disk "
				    "%s of kept point %s depends on; nothing was deleted",
				    par, pts[i].disks[k].target, pts[i].id);
		}
	}
	return 0;
}

/* The tiers over the points of point first's series (first: its oldest), and its newest
 * verified point; each point of it is marked in done. */
static int plan_series(const DrRetainPoint *pts, size_t n, size_t first,
		       const RetentionRules *rules, GTimeZone *tz, bool *done, DrRetainPlan *p,
		       HfError *err)
{
	g_autofree RetentionSnapshot *rs = g_new0(RetentionSnapshot, n + 1);
	g_autofree size_t *at = g_new0(size_t, n + 1);
	g_autoptr(RetentionPlan) tiers = NULL;
	size_t m = 0;
	for (size_t i = first; i < n; i++)
		if (!done[i] && drretain_same_series(&pts[i], &pts[first])) {
			done[i] = true;
			at[m] = i;
			rs[m++] = (RetentionSnapshot){
			    .name = pts[i].id, .created = pts[i].time, .owned = true};
		}
	if (pts[first].other) { /* another guest's points: its own retention decides */
		for (size_t k = 0; k < m; k++) {
			p->d[at[k]].keep = true;
			g_snprintf(p->d[at[k]].reason, sizeof p->d[0].reason,
				   "a point of %s/%s, which its own retention decides",
				   pts[first].host ? pts[first].host : "?",
				   pts[first].guest ? pts[first].guest : "?");
		}
		return 0;
	}
	if (retention_plan(rs, m, rules, tz, &tiers, err) < 0)
		return -1;
	p->tier_pruned += tiers->pruned;
	for (size_t k = 0; k < m; k++) {
		p->d[at[k]].keep = tiers->decisions[k].keep;
		g_strlcpy(p->d[at[k]].reason, tiers->decisions[k].reason, sizeof p->d[0].reason);
	}
	ssize_t v = drretain_newest_verified(pts, n, first);
	if (v >= 0 && !p->d[v].keep)
		g_strlcpy(p->d[v].reason, "newest verified point", sizeof p->d[v].reason);
	if (v >= 0)
		p->d[v].keep = true;
	return 0;
}

int drretain_plan(const DrRetainPoint *pts, size_t n, const RetentionRules *rules, GTimeZone *tz,
		  DrRetainPlan **out, HfError *err)
{
	g_autoptr(DrRetainPlan) p = g_new0(DrRetainPlan, 1);
	g_autofree bool *done = g_new0(bool, n + 1);

	p->n = n;
	p->d = g_new0(DrRetainDecision, n + 1);
	for (size_t i = 0; i < n; i++) {
		if (!pts[i].id)
			return error_set(err, HF_ERR_INVALID_PARAMS, "a restore point without id");
		p->d[i].new_parent = g_new0(const char *, pts[i].n_disks + 1);
	}
	for (size_t i = 0; i < n; i++) /* the tiers per series */
		if (!done[i] && plan_series(pts, n, i, rules, tz, done, p, err) < 0)
			return -1;
	for (size_t i = 0; i < n; i++)
		if (pts[i].leased) {
			if (!p->d[i].protect)
				g_strlcpy(p->d[i].reason,
					  "leased (a restore, test or failover uses it)",
					  sizeof p->d[i].reason);
			p->d[i].keep = p->d[i].protect = true;
			mark_ancestors(pts, n, p->d, i, true, "ancestor of leased point");
		}
	/* broken chains: keep what remains of them, never rewrite them */
	for (size_t i = 0; i < n; i++)
		if (p->d[i].keep && !chain_whole(pts, n, i)) {
			p->d[i].broken = true;
			mark_ancestors(pts, n, p->d, i, false, "base of a broken chain, at");
		}
	/* protected points keep their bases */
	for (size_t i = 0; i < n; i++)
		if (p->d[i].keep && p->d[i].protect)
			mark_ancestors(pts, n, p->d, i, true, "base of protected point");
	plan_rewrites(pts, n, p);
	for (size_t i = 0; i < n; i++) {
		p->kept += p->d[i].keep;
		p->deleted += !p->d[i].keep;
	}
	if (plan_check(pts, n, p, err) < 0)
		return -1;
	*out = g_steal_pointer(&p);
	return 0;
}

void drretain_plan_free(DrRetainPlan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		g_free(p->d[i].new_parent);
	g_free(p->d);
	g_free(p);
}

/* ---- full-every ---- */

int drretain_copies_since_full(const DrRetainPoint *pts, size_t n)
{
	int count = 0;
	for (size_t i = n; i-- > 0;) {
		if (pts[i].since_full > 0)
			return count + pts[i].since_full;
		count++;
		if (pts[i].full_copy)
			return count;
	}
	return count;
}

bool drretain_next_full(const DrRetainPoint *pts, size_t n, int full_every, char **why)
{
	int c = drretain_copies_since_full(pts, n);
	*why = NULL;
	if (!n)
		*why = g_strdup("no restore point of this guest in the store yet");
	else if (c >= full_every)
		*why = g_strdup_printf("full-every %d: %d cop%s since the last full", full_every, c,
				       c == 1 ? "y" : "ies");
	return *why != NULL;
}

/* ---- points from manifests ---- */

static const char *str_of(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItem(o, k));
}

static int64_t time_of(const cJSON *m)
{
	g_autoptr(GDateTime) dt = NULL;
	const char *t = str_of(m, "time");
	dt = t ? g_date_time_new_from_iso8601(t, NULL) : NULL;
	return dt ? g_date_time_to_unix(dt) : 0;
}

void drretain_set_own(DrRetainSet *s, const char *addr)
{
	const char *slash = addr ? strchr(addr, '/') : NULL;
	g_autofree char *host = slash ? g_strndup(addr, (gsize)(slash - addr)) : NULL;
	const char *name = slash ? slash + 1 : addr;
	for (size_t i = 0; name && i < s->n; i++) {
		DrRetainPoint *p = &s->pts[i];
		p->other = p->host && p->guest &&
			   (strcmp(p->guest, name) || (host && strcmp(p->host, host)));
	}
}

DrRetainSet *drretain_set_new(GPtrArray *manifests, char *const *leased)
{
	DrRetainSet *s = g_new0(DrRetainSet, 1);
	size_t nd = 0, k = 0;
	for (guint i = 0; i < manifests->len; i++)
		nd += (size_t)cJSON_GetArraySize(cJSON_GetObjectItem(manifests->pdata[i], "disks"));
	s->n = manifests->len;
	s->pts = g_new0(DrRetainPoint, s->n + 1);
	s->disks = g_new0(DrRetainDisk, nd + 1);
	for (guint i = 0; i < manifests->len; i++) {
		const cJSON *m = manifests->pdata[i], *d;
		DrRetainPoint *p = &s->pts[i];
		const cJSON *cons = cJSON_GetObjectItem(m, "consolidated");
		p->id = str_of(m, "point");
		p->host = str_of(m, "host");
		p->guest = str_of(m, "guest");
		p->time = time_of(m);
		p->verified = cJSON_IsTrue(cJSON_GetObjectItem(m, "verified"));
		p->leased = leased && g_strv_contains((const char *const *)leased, p->id);
		p->full_copy = !g_strcmp0(str_of(m, "kind"), "full") && !cons;
		p->since_full = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(cons, "since_full"));
		if (p->since_full < 0)
			p->since_full = 0;
		p->disks = &s->disks[k];
		cJSON_ArrayForEach(d, cJSON_GetObjectItem(m, "disks"))
		{
			const char *t = str_of(d, "target");
			if (!t)
				continue;
			s->disks[k].target = t;
			s->disks[k].parent = drstore_disk_parent(m, d);
			k++;
			p->n_disks++;
		}
	}
	return s;
}

void drretain_set_free(DrRetainSet *s)
{
	if (!s)
		return;
	g_free(s->pts);
	g_free(s->disks);
	g_free(s);
}

/* ---- simulation ---- */

typedef struct {
	char *id;
	int64_t time;
	bool full_copy;
	int since_full;
	GPtrArray *targets, *parents; /* char*; parents[k] may be NULL */
} SimPoint;

static void sim_point_free(void *v)
{
	SimPoint *p = v;
	g_free(p->id);
	g_ptr_array_unref(p->targets);
	g_ptr_array_unref(p->parents);
	g_free(p);
}

static SimPoint *sim_point_new(const char *id, int64_t t, bool full, int since)
{
	SimPoint *p = g_new0(SimPoint, 1);
	p->id = g_strdup(id);
	p->time = t;
	p->full_copy = full;
	p->since_full = since;
	p->targets = g_ptr_array_new_with_free_func(g_free);
	p->parents = g_ptr_array_new_with_free_func(g_free);
	return p;
}

/* DrRetainPoint views of the simulated points (valid until they change). */
static DrRetainSet *sim_view(GPtrArray *sp)
{
	DrRetainSet *s = g_new0(DrRetainSet, 1);
	size_t nd = 0, k = 0;
	for (guint i = 0; i < sp->len; i++)
		nd += ((SimPoint *)sp->pdata[i])->targets->len;
	s->n = sp->len;
	s->pts = g_new0(DrRetainPoint, s->n + 1);
	s->disks = g_new0(DrRetainDisk, nd + 1);
	for (guint i = 0; i < sp->len; i++) {
		const SimPoint *x = sp->pdata[i];
		s->pts[i] = (DrRetainPoint){.id = x->id,
					    .time = x->time,
					    .verified = true,
					    .full_copy = x->full_copy,
					    .since_full = x->since_full,
					    .disks = &s->disks[k],
					    .n_disks = x->targets->len};
		for (guint j = 0; j < x->targets->len; j++, k++)
			s->disks[k] = (DrRetainDisk){x->targets->pdata[j], x->parents->pdata[j]};
	}
	return s;
}

static cJSON *sim_entry(const char *id, const char *key, const char *val)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", id);
	cJSON_AddStringToObject(o, key, val);
	return o;
}

/* One slot: a new point, then the plan applied to the simulated store. */
static int sim_slot(GPtrArray *sp, int64_t slot, const RetentionRules *rules, GTimeZone *tz,
		    int full_every, cJSON *day, HfError *err)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(slot);
	g_autofree char *id = g_date_time_format(dt, "%Y%m%dT%H%M%SZ");
	g_autofree char *why = NULL;
	{
		g_autoptr(DrRetainSet) v = sim_view(sp);
		bool full = drretain_next_full(v->pts, v->n, full_every, &why);
		SimPoint *last = sp->len ? sp->pdata[sp->len - 1] : NULL, *np;
		np = sim_point_new(id, slot, full, 0);
		for (guint j = 0; last && j < last->targets->len; j++) {
			g_ptr_array_add(np->targets, g_strdup(last->targets->pdata[j]));
			g_ptr_array_add(np->parents, full ? NULL : g_strdup(last->id));
		}
		if (!last) {
			g_ptr_array_add(np->targets, g_strdup("vda"));
			g_ptr_array_add(np->parents, NULL);
		}
		g_ptr_array_add(sp, np);
		cJSON_AddItemToArray(cJSON_GetObjectItem(day, "created"),
				     sim_entry(id, "kind", full ? "full" : "incremental"));
	}
	g_autoptr(DrRetainSet) v = sim_view(sp);
	g_autoptr(DrRetainPlan) plan = NULL;
	if (drretain_plan(v->pts, v->n, rules, tz, &plan, err) < 0)
		return -1;
	int *since = g_new0(int, v->n + 1);
	for (size_t i = 0; i < v->n; i++)
		since[i] = drretain_copies_since_full(v->pts, i + 1);
	for (size_t i = v->n; i-- > 0;) {
		SimPoint *x = sp->pdata[i];
		const DrRetainDecision *d = &plan->d[i];
		if (d->rewrite) {
			cJSON_AddItemToArray(cJSON_GetObjectItem(day, "consolidated"),
					     sim_entry(x->id, "reason", d->rewrite_reason));
			for (guint j = 0; j < x->targets->len; j++) {
				g_free(x->parents->pdata[j]);
				x->parents->pdata[j] = g_strdup(d->new_parent[j]);
			}
			x->since_full = since[i];
			x->full_copy = false;
		}
	}
	for (size_t i = v->n; i-- > 0;)
		if (!plan->d[i].keep) {
			cJSON_AddItemToArray(cJSON_GetObjectItem(day, "pruned"),
					     sim_entry(v->pts[i].id, "reason", plan->d[i].reason));
			g_ptr_array_remove_index(sp, (guint)i);
		}
	g_free(since);
	return 0;
}

cJSON *drretain_simulate(const DrRetainPoint *pts, size_t n, const Calendar *cal,
			 const RetentionRules *rules, GTimeZone *tz, int full_every,
			 int64_t start_utc, int days, HfError *err)
{
	g_autoptr(GPtrArray) sp = g_ptr_array_new_with_free_func(sim_point_free);
	g_autoptr(cJSON) res = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(res, "days"), *day = NULL;
	g_autofree char *date = NULL;
	int64_t t = start_utc, end = start_utc + (int64_t)days * 86400;

	if (days < 1 || days > 3660)
		return error_set(err, HF_ERR_INVALID_PARAMS, "days must be 1..3660"), NULL;
	if (!tz)
		tz = calendar_zone(cal);
	for (size_t i = 0; i < n; i++) {
		SimPoint *x =
		    sim_point_new(pts[i].id, pts[i].time, pts[i].full_copy, pts[i].since_full);
		for (size_t k = 0; k < pts[i].n_disks; k++) {
			g_ptr_array_add(x->targets, g_strdup(pts[i].disks[k].target));
			g_ptr_array_add(x->parents, g_strdup(pts[i].disks[k].parent));
		}
		g_ptr_array_add(sp, x);
	}
	HfError next_err = {0}; /* the schedule ends: the simulation ends */
	while (calendar_next(cal, t, &t, &next_err) == 0 && t <= end) {
		g_autoptr(GDateTime) u = g_date_time_new_from_unix_utc(t);
		g_autoptr(GDateTime) l = g_date_time_to_timezone(u, tz);
		g_autofree char *d = g_date_time_format(l, "%Y-%m-%d");
		if (!day || strcmp(d, date)) {
			g_free(date);
			date = g_strdup(d);
			day = cJSON_CreateObject();
			cJSON_AddStringToObject(day, "date", d);
			cJSON_AddArrayToObject(day, "created");
			cJSON_AddArrayToObject(day, "pruned");
			cJSON_AddArrayToObject(day, "consolidated");
			cJSON_AddItemToArray(arr, day);
		}
		if (sim_slot(sp, t, rules, tz, full_every, day, err) < 0)
			return NULL;
		cJSON_DeleteItemFromObject(day, "existing");
		cJSON *ex = cJSON_AddArrayToObject(day, "existing");
		for (guint i = 0; i < sp->len; i++)
			cJSON_AddItemToArray(ex,
					     cJSON_CreateString(((SimPoint *)sp->pdata[i])->id));
	}
	return g_steal_pointer(&res);
}
